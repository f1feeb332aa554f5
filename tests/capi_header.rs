//! `include/mailman_gate.h` is what cbindgen makes of the crate with
//! `cbindgen.toml`. Regenerate it with
//! `MAILMAN_GATE_BLESS=1 cargo test --test capi_header`.

use std::path::Path;

#[test]
fn header_is_up_to_date() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let config = cbindgen::Config::from_file(root.join("cbindgen.toml")).expect("cbindgen.toml");
    let bindings = cbindgen::Builder::new()
        .with_crate(root)
        .with_config(config)
        .generate()
        .expect("cbindgen generates the header");
    let mut fresh = Vec::new();
    bindings.write(&mut fresh);
    let fresh = String::from_utf8(fresh).unwrap();
    let path = root.join("include/mailman_gate.h");
    if std::env::var_os("MAILMAN_GATE_BLESS").is_some() {
        std::fs::write(&path, &fresh).unwrap();
        return;
    }
    let current = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        current == fresh,
        "include/mailman_gate.h is out of date; regenerate it with \
         `MAILMAN_GATE_BLESS=1 cargo test --test capi_header`"
    );
    for f in [
        "mg_gate_open",
        "mg_gate_open_lists",
        "mg_gate_route",
        "mg_gate_check",
        "mg_verdict_action",
        "mg_last_error",
        "MG_RESULT_OK = 0",
    ] {
        assert!(fresh.contains(f), "{f} missing from the header");
    }
    for f in ["mailman_gate_rcpt", "local_scan("] {
        assert!(!fresh.contains(f), "{f} must not be in the C API header");
    }
}
