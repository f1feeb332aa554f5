//! The command line's contract: JSON shapes, exit codes, no passwords.

use std::path::PathBuf;
use std::process::{Command, Output, Stdio};

fn lists() -> String {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/lists")
        .display()
        .to_string()
}

fn run(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_mailman-gate"))
        .args(args)
        .stdin(Stdio::null())
        .output()
        .expect("runs")
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

#[test]
fn route_prints_one_json_object_and_exits_zero() {
    let l = lists();
    let o = run(&[
        "route",
        "--lists",
        &l,
        "Test-Bounces+x=y.org",
        "Example.COM",
        "--json",
    ]);
    assert_eq!(o.status.code(), Some(0));
    assert_eq!(
        stdout(&o).trim(),
        r#"{"list": "test", "kind": "bounces", "domain": "example.com"}"#
    );
    let o = run(&["route", "--lists", &l, "nosuch", "example.com", "--json"]);
    assert_eq!(o.status.code(), Some(0));
    assert_eq!(
        stdout(&o).trim(),
        r#"{"list": null, "kind": null, "domain": null}"#
    );
    let o = run(&[
        "route",
        "--lists",
        &l,
        "--layout",
        "cpanel",
        "foo-owner",
        "example.com",
        "--json",
    ]);
    assert_eq!(
        stdout(&o).trim(),
        r#"{"list": "foo_example.com", "kind": "owner", "domain": "example.com"}"#
    );
}

#[test]
fn usage_errors_exit_two_and_unreadable_state_three() {
    let l = lists();
    for args in [
        vec!["route", "--lists", &l, "onlyone"],
        vec!["route", "--lists", &l, "a", "b", "--bogus"],
        vec!["check", "--lists", &l, "--sender", "a@b"],
        vec!["check", "--lists", &l, "--list", "test"],
        vec!["frobnicate"],
        vec![],
    ] {
        let o = run(&args);
        assert_eq!(o.status.code(), Some(2), "{args:?}");
    }
    let o = run(&["dump", "--lists", &l, "broken"]);
    assert_eq!(o.status.code(), Some(3));
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(err.lines().count(), 1, "one-line reason: {err}");
    assert!(err.contains("broken"));
    let o = run(&[
        "check", "--lists", &l, "--list", "broken", "--sender", "a@b.org", "--json",
    ]);
    assert_eq!(o.status.code(), Some(3));
    let o = run(&["route", "--lists", &l, "broken", "example.com", "--json"]);
    assert_eq!(o.status.code(), Some(3));
    let o = run(&[
        "route",
        "--config",
        "/nonexistent/mailman-gate.conf",
        "a",
        "b",
    ]);
    assert_eq!(o.status.code(), Some(3));
}

#[test]
fn dump_never_shows_member_passwords() {
    let l = lists();
    // The fixture's clear-text member passwords.
    let secrets = ["ugmiekux", "coxedead", "puakkeoz"];
    for extra in [
        vec![],
        vec!["--json"],
        vec!["--members"],
        vec!["--json", "--members"],
    ] {
        let mut args = vec!["dump", "--lists", &l, "test"];
        args.extend(extra.iter().copied());
        let o = run(&args);
        assert_eq!(o.status.code(), Some(0), "{args:?}");
        let out = stdout(&o);
        for s in secrets {
            assert!(!out.contains(s), "{args:?} shows a password");
        }
        assert!(
            !out.contains("289bed0325c26d04da9ba999fb6c4defd8ab76f6"),
            "admin hash shown"
        );
        if extra.contains(&"--members") {
            assert!(out.contains("bob@example.com"));
        } else {
            assert!(!out.contains("bob@example.com"));
        }
    }
    let o = run(&["dump", "--lists", &l, "test", "--json"]);
    let v: serde_json::Value = serde_json::from_str(&stdout(&o)).expect("valid JSON");
    assert_eq!(v["regular_members"], 2);
    assert_eq!(v["digest_members"], 1);
    assert_eq!(v["host_name"], "example.com");
    let o = run(&["dump", "--lists", &l, "corrupt", "--json"]);
    let v: serde_json::Value = serde_json::from_str(&stdout(&o)).expect("valid JSON");
    assert!(v["source"].as_str().unwrap().starts_with("config.pck.last"));
}

#[test]
fn check_prints_the_contract_object() {
    let l = lists();
    let o = run(&[
        "check",
        "--lists",
        &l,
        "--list",
        "test",
        "--sender",
        "alice@example.com",
        "--json",
    ]);
    assert_eq!(o.status.code(), Some(0));
    let v: serde_json::Value = serde_json::from_str(&stdout(&o)).expect("valid JSON");
    let keys: Vec<&String> = v.as_object().unwrap().keys().collect();
    assert_eq!(keys, ["action", "list", "reason", "step", "undecided"]);
    assert!(v["undecided"].is_null());
    assert_eq!(v["list"], "test");
    assert!(["accept", "hold", "reject", "discard"].contains(&v["action"].as_str().unwrap()));
}

#[test]
fn test_sender_exits_zero_for_accept_or_hold_and_one_for_reject_or_discard() {
    let l = lists();
    let code = |env: &str, from: &str, reply: &str| {
        run(&["test-sender", "--lists", &l, "test", env, from, reply])
            .status
            .code()
    };
    assert_eq!(
        code("alice@example.com", "alice@example.com", ""),
        Some(0),
        "member"
    );
    assert_eq!(
        code("x@foo.org", "x@foo.org", ""),
        Some(0),
        "held non-member"
    );
    assert_eq!(
        code("bob@example.com", "bob@example.com", ""),
        Some(0),
        "held moderated member"
    );
    assert_eq!(
        code("", "reject@foo.org", ""),
        Some(1),
        "reject_these_nonmembers"
    );
    assert_eq!(
        code("", "discard@foo.org", ""),
        Some(1),
        "discard_these_nonmembers"
    );
    // Reply-To is among the senders: a member there makes it a member post.
    assert_eq!(code("", "reject@foo.org", "alice@example.com"), Some(0));
    assert_eq!(
        run(&["test-sender", "--lists", &l, "test", "a@b"])
            .status
            .code(),
        Some(2)
    );
}

#[test]
fn help_and_version_on_the_command_and_every_subcommand() {
    let version = format!(" {}", env!("CARGO_PKG_VERSION"));
    for sub in [
        vec![],
        vec!["route"],
        vec!["dump"],
        vec!["check"],
        vec!["explain"],
        vec!["test-sender"],
        vec!["export"],
        vec!["doctor"],
    ] {
        for flag in ["--help", "-h"] {
            let mut args = sub.clone();
            args.push(flag);
            let o = run(&args);
            assert_eq!(o.status.code(), Some(0), "{args:?}");
            let out = stdout(&o);
            let usage = format!("Usage: mailman-gate {}", sub.join(" "));
            assert!(out.contains(usage.trim_end()), "{args:?}: {out}");
        }
        let mut args = sub.clone();
        args.push("--version");
        let o = run(&args);
        assert_eq!(o.status.code(), Some(0), "{args:?}");
        assert!(stdout(&o).contains(&version), "{args:?}");
    }
    // A subcommand's own options are in its help.
    let o = run(&["check", "--help"]);
    for opt in [
        "--list",
        "--sender",
        "--kind",
        "--message",
        "--json",
        "--lists",
    ] {
        assert!(stdout(&o).contains(opt), "check --help lacks {opt}");
    }
}
