//! Lists made for a test: the `test` fixture with some settings replaced,
//! written as Python 2's cPickle writes them (`tools/py2pickle.py`).

#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// Whether `python3` runs (it writes the lists). Without it a test is
/// skipped with a note, except in CI, where it must be there.
pub fn python() -> bool {
    let ok = Command::new("python3")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success());
    if !ok {
        assert!(
            std::env::var("CI").map_or(true, |v| v != "true"),
            "python3 is required when CI=true"
        );
        eprintln!("skipped: python3 is needed to build the lists");
    }
    ok
}

/// `work/lists/test/config.pck`: the fixture list `test` with `settings`
/// (py2pickle JSON values) in place of its own. `work` is made anew;
/// returns `work/lists`.
pub fn fixture_with(work: &Path, settings: &[(&str, Value)]) -> PathBuf {
    let _ = std::fs::remove_dir_all(work);
    std::fs::create_dir_all(work.join("lists/test")).unwrap();
    let tool = root().join("tools/py2pickle.py");
    let dump = work.join("test.json");
    let o = Command::new("python3")
        .arg(&tool)
        .arg("dump")
        .arg(root().join("tests/fixtures/lists/test/config.pck"))
        .arg("-o")
        .arg(&dump)
        .output()
        .unwrap();
    assert!(dump.exists(), "{}", String::from_utf8_lossy(&o.stderr));
    let mut desc: Value = serde_json::from_str(&std::fs::read_to_string(&dump).unwrap()).unwrap();
    for (k, v) in settings {
        desc["root"][*k] = v.clone();
    }
    std::fs::write(&dump, desc.to_string()).unwrap();
    let o = Command::new("python3")
        .arg(&tool)
        .arg("build")
        .arg(&dump)
        .arg("-o")
        .arg(work.join("lists/test/config.pck"))
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    work.join("lists")
}

/// The bundled Mailman-written lists.
pub fn fixtures() -> PathBuf {
    root().join("tests/fixtures/lists")
}

/// Copy the fixture list `from` (its `config.pck` and `.last`) into `to`.
pub fn copy_list(from: &str, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for f in ["config.pck", "config.pck.last"] {
        let src = fixtures().join(from).join(f);
        if src.exists() {
            std::fs::copy(&src, to.join(f)).unwrap();
        }
    }
}
