//! examples/embed.c compiled with `cc` against the cdylib and the
//! checked-in header, run on the fixture lists.

use std::path::{Path, PathBuf};
use std::process::Command;

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// The directory holding libmailman_gate.so of this build profile
/// (`cargo test` builds only the rlib, so the cdylib is brought up to date
/// here; a no-op when it is).
fn lib_dir() -> PathBuf {
    // target/<profile>/deps/capi_embed-<hash> -> target/<profile>
    let exe = std::env::current_exe().unwrap();
    let dir = exe.parent().unwrap().parent().unwrap().to_path_buf();
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let mut cmd = Command::new(cargo);
    cmd.current_dir(root()).args(["build", "--quiet", "--lib"]);
    if dir.file_name().is_some_and(|n| n == "release") {
        cmd.arg("--release");
    }
    assert!(cmd.status().unwrap().success(), "cargo build --lib");
    assert!(
        dir.join("libmailman_gate.so").exists(),
        "no cdylib in {}",
        dir.display()
    );
    dir
}

fn build_embed() -> PathBuf {
    build_c(&root().join("examples/embed.c"), "embed")
}

fn build_c(src: &Path, name: &str) -> PathBuf {
    let lib = lib_dir();
    let out = Path::new(env!("CARGO_TARGET_TMPDIR")).join(name);
    let st = Command::new("cc")
        .args(["-std=c99", "-Wall", "-Wextra", "-Werror", "-o"])
        .arg(&out)
        .arg(src)
        .arg(format!("-I{}", root().join("include").display()))
        .arg(format!("-L{}", lib.display()))
        .arg("-lmailman_gate")
        .arg(format!("-Wl,-rpath,{}", lib.display()))
        .status()
        .expect("cc runs");
    assert!(st.success(), "{} compiles", src.display());
    out
}

fn run(exe: &Path, args: &[&str]) -> (i32, String, String) {
    let o = Command::new(exe).args(args).output().unwrap();
    (
        o.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&o.stdout).into_owned(),
        String::from_utf8_lossy(&o.stderr).into_owned(),
    )
}

#[test]
fn embed_example_routes_and_decides() {
    let exe = build_embed();
    let lists = root().join("tests/fixtures/lists");
    let lists = lists.to_str().unwrap();
    let tmp = Path::new(env!("CARGO_TARGET_TMPDIR"));

    // Usage error.
    let (code, _, err) = run(&exe, &[]);
    assert_eq!(code, 1);
    assert!(err.contains("usage"));

    // Routing.
    let (code, out, err) = run(&exe, &[lists, "Test-Request", "example.com"]);
    assert_eq!(code, 0, "{out}{err}");
    assert!(
        out.contains("route: list=test kind=request domain=example.com"),
        "{out}{err}"
    );
    let (code, out, _) = run(&exe, &[lists, "nosuchlist", "example.com"]);
    assert_eq!(code, 0);
    assert!(out.contains("is not a Mailman address"), "{out}");

    // A member's post is accepted; a moderated member's is held.
    let post = |from: &str| {
        format!("From: {from}\nTo: test@example.com\nSubject: hello\nMessage-ID: <1@x>\n\nHello.\n")
    };
    let m1 = tmp.join("embed-alice.eml");
    std::fs::write(&m1, post("alice@example.com")).unwrap();
    let (code, out, err) = run(
        &exe,
        &[
            lists,
            "test",
            "example.com",
            "alice@example.com",
            m1.to_str().unwrap(),
        ],
    );
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.contains("action: accept"), "{out}");
    assert!(out.contains("smtp: 250"), "{out}");
    assert!(out.contains("token: accept"), "{out}");

    let m2 = tmp.join("embed-bob.eml");
    std::fs::write(&m2, post("bob@example.com")).unwrap();
    let (code, out, err) = run(
        &exe,
        &[
            lists,
            "test",
            "example.com",
            "bob@example.com",
            m2.to_str().unwrap(),
        ],
    );
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.contains("action: hold"), "{out}");
    assert!(out.contains("step: Moderate"), "{out}");
    assert!(out.contains("token: hold"), "{out}");

    // The broken list: an error code with its text, not a crash.
    let (code, out, err) = run(
        &exe,
        &[
            lists,
            "broken",
            "example.com",
            "alice@example.com",
            m1.to_str().unwrap(),
        ],
    );
    assert_eq!(code, 1, "{out}{err}");
    assert!(err.contains("list files are corrupt (8)"), "{err}");
}

/// The functions that take a code from C answer every int, as the header
/// documents: out-of-range values give a fixed text, never a crash.
#[test]
fn codes_from_c_out_of_range() {
    let src = Path::new(env!("CARGO_TARGET_TMPDIR")).join("codes.c");
    std::fs::write(
        &src,
        r#"#include <limits.h>
#include <stdio.h>
#include "mailman_gate.h"
int main(void)
{
    const int codes[] = {-1, 10, 42, 100, INT_MIN, INT_MAX, MG_RESULT_PANIC};
    for (size_t i = 0; i < sizeof codes / sizeof codes[0]; i++) {
        printf("result %d: %s\n", codes[i], mg_result_text(codes[i]));
        printf("action %d: %s\n", codes[i], mg_action_name(codes[i]));
    }
    printf("action %d: %s\n", MG_ACTION_DISCARD, mg_action_name(MG_ACTION_DISCARD));
    return 0;
}
"#,
    )
    .unwrap();
    let exe = build_c(&src, "codes");
    let (code, out, err) = run(&exe, &[]);
    assert_eq!(code, 0, "{out}{err}");
    for c in ["-1", "10", "42", "100", "-2147483648", "2147483647"] {
        assert!(
            out.contains(&format!("result {c}: unknown result code\n")),
            "{out}"
        );
        assert!(out.contains(&format!("action {c}: unknown\n")), "{out}");
    }
    assert!(out.contains("result 9: internal error\n"), "{out}");
    assert!(out.contains("action 3: discard\n"), "{out}");
}
