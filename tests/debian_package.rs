//! The Debian package's life on a host whose Exim has the gate enabled
//! (non-split configuration, made as in `tests/debian_exim.rs`): upgrade
//! (dpkg renames the new library over the old one: a running Exim process
//! keeps its copy and goes on answering), removal (Exim keeps working,
//! every post is accepted, the main log says the library is missing),
//! reinstallation, and purge (the `.include_if_exists` hooks leave the gate
//! and the package's Mailman router out). The package ends installed, as it started.
//!
//! Runs only with `MAILMAN_GATE_INSTALLED=1` (`.ci/run`, after `dpkg -i`)
//! and the built package in `target/debian/`; needs root.

use std::io::{BufRead, BufReader, Write};
use std::os::unix::fs::MetadataExt;
use std::path::PathBuf;
use std::process::{Command, Stdio};

mod common;

use common::debian::{in_ns, installed, setup, OUTSIDE};
use common::exim::{available, data_reply, msg, rcpt_replies, root, run, show};

const LIB: &str = "/usr/lib/exim4/libmailman_gate.so";

fn deb() -> Option<PathBuf> {
    let dir = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| root().join("target"))
        .join("debian");
    let mut debs: Vec<PathBuf> = std::fs::read_dir(dir)
        .ok()?
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == "deb"))
        .collect();
    debs.sort();
    debs.pop()
}

fn dpkg(args: &[&str]) {
    run(Command::new("dpkg")
        .args(args)
        .env("DEBIAN_FRONTEND", "noninteractive"));
}

#[test]
fn install_upgrade_remove_purge_leave_exim_working() {
    if !installed() {
        eprintln!("skipped: needs MAILMAN_GATE_INSTALLED=1 (the package installed by .ci/run)");
        return;
    }
    if !available() {
        return;
    }
    let deb = deb().expect("target/debian/*.deb (cargo deb)");
    let deb = deb.to_str().unwrap();
    // Installed (again: a reinstall is an upgrade to the same version).
    dpkg(&["-i", deb]);
    let s = setup(false, "package");
    let nonmember = msg(
        "out@elsewhere.example",
        &["strict@example.com"],
        "out@elsewhere.example",
        "pkg",
    );
    let role = msg(
        "out@elsewhere.example",
        &["abuse@example.com"],
        "out@elsewhere.example",
        "pkg-role",
    );
    let (r, l) = s.bh(OUTSIDE, &nonmember);
    assert!(data_reply(&r).starts_with("550"), "{}", show(&r, &l));

    // Upgrade while an Exim process has the library loaded.
    let mut old = Command::new("/usr/sbin/exim4")
        .arg("-be")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut to_old = old.stdin.take().unwrap();
    let mut from_old = BufReader::new(old.stdout.take().unwrap());
    let mut ask = || {
        writeln!(to_old, "${{dlfunc{{{LIB}}}{{mailman_gate_version}}}}").unwrap();
        let mut line = String::new();
        from_old.read_line(&mut line).unwrap();
        line
    };
    assert!(ask().contains(env!("CARGO_PKG_VERSION")));
    let inode = std::fs::metadata(LIB).unwrap().ino();
    dpkg(&["-i", deb]);
    assert_ne!(
        std::fs::metadata(LIB).unwrap().ino(),
        inode,
        "the library was replaced by a new file, not overwritten"
    );
    let maps = std::fs::read_to_string(format!("/proc/{}/maps", old.id())).unwrap();
    assert!(
        maps.contains("libmailman_gate.so (deleted)"),
        "the running process keeps the old mapping"
    );
    assert!(
        ask().contains(env!("CARGO_PKG_VERSION")),
        "and still answers"
    );
    let _ = old.kill();
    let _ = old.wait();
    let (r, l) = s.bh(OUTSIDE, &nonmember);
    assert!(data_reply(&r).starts_with("550"), "{}", show(&r, &l));

    // Removed: Exim's configuration still loads, every post is accepted,
    // and the log says why; other mail is routed as before.
    dpkg(&["-r", "mailman-gate"]);
    assert!(!std::path::Path::new(LIB).exists());
    assert!(std::path::Path::new("/etc/exim4/mailman-gate/macros").exists());
    run(s.exim().arg("-bV"));
    run(Command::new("/usr/sbin/exim4").arg("-bV"));
    let (r, l) = s.bh(OUTSIDE, &nonmember);
    assert!(data_reply(&r).starts_with("250 OK id="), "{}", show(&r, &l));
    assert!(
        l.iter()
            .any(|x| x.contains("libmailman_gate.so is missing (accepting)")),
        "{}",
        show(&r, &l)
    );
    let (r, l) = s.bh(OUTSIDE, &role);
    assert!(
        rcpt_replies(&r, 1)[0].starts_with("250"),
        "{}",
        show(&r, &l)
    );

    // Installed again: the gate answers again.
    dpkg(&["-i", deb]);
    let (r, l) = s.bh(OUTSIDE, &nonmember);
    assert!(data_reply(&r).starts_with("550"), "{}", show(&r, &l));

    // Purged: its files are gone; a configuration generated without them
    // (the hooks are `.include_if_exists`) is valid and has no gate
    // (nor the package's Mailman router).
    dpkg(&["--purge", "mailman-gate"]);
    assert!(!std::path::Path::new("/etc/exim4/mailman-gate").exists());
    assert!(!std::path::Path::new("/var/lib/mailman-gate").exists());
    run(Command::new("/usr/sbin/exim4").arg("-bV"));
    std::fs::remove_dir_all(s.etc.join("mailman-gate")).unwrap();
    run(in_ns(&s.etc, "update-exim4.conf").arg("-o").arg(&s.conf));
    run(s.exim().arg("-bV"));
    // The package's Mailman router went with it: Exim's own answer.
    let (r, l) = s.bh(OUTSIDE, &nonmember);
    assert!(
        rcpt_replies(&r, 1)[0].starts_with("550 Unrouteable address"),
        "{}",
        show(&r, &l)
    );
    assert!(
        !l.iter().any(|x| x.contains("mailman-gate")),
        "{}",
        show(&r, &l)
    );
    let (r, l) = s.bh(OUTSIDE, &role);
    assert!(
        rcpt_replies(&r, 1)[0].starts_with("250"),
        "{}",
        show(&r, &l)
    );

    dpkg(&["-i", deb]);
    assert!(std::path::Path::new(LIB).exists());
    assert!(std::path::Path::new("/var/lib/mailman-gate/snapshots").is_dir());
}
