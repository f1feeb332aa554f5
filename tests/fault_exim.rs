//! Faults in the Exim end-to-end style (`tests/exim_e2e.rs`: the shipped
//! recipe with its paths substituted, `exim -bh` sessions): with the
//! gate's lists directory missing, a FIFO or garbage where the list's
//! `config.pck` should be, the lists directory unreadable, or a broken
//! configuration file, a post that a working gate refuses with 550 is
//! accepted (250) and the reason is logged; nothing yields a 5xx or a
//! hang. A control session with a working gate gets the 550.
//!
//! Needs root and exim4/swaks, like `tests/exim_e2e.rs`.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

mod common;

use common::exim::{available, bh, built_cdylib, copy_dir, recipe, root, run, Msg, EXIM};

/// The library, the recipe per scenario, the spool and log; built once.
struct Env {
    dir: PathBuf,
    lib: PathBuf,
}

fn setup() -> Env {
    let built = built_cdylib();
    let dir = std::env::temp_dir().join(format!("mailman-gate-fault-exim-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    for d in ["spool", "log", "out", "mailman/lists"] {
        std::fs::create_dir_all(dir.join(d)).unwrap();
    }
    let lib = dir.join("libmailman_gate.so");
    std::fs::copy(&built, &lib).unwrap();
    // Exim's own routers see the intact lists; each scenario points the
    // gate at its own (damaged) copy.
    for src in ["tests/fixtures/lists/test", "tests/exim/lists/strict"] {
        copy_dir(&root().join(src), &dir.join("mailman/lists"));
    }
    std::fs::copy(root().join("tests/exim/record.sh"), dir.join("record.sh")).unwrap();
    run(Command::new("chmod").args(["-R", "a+rX"]).arg(&dir));
    run(Command::new("chown")
        .args(["-R", "Debian-exim:Debian-exim"])
        .arg(dir.join("spool"))
        .arg(dir.join("log"))
        .arg(dir.join("out")));
    Env { dir, lib }
}

/// An Exim configuration whose gate reads `gate_conf`.
fn exim_conf(e: &Env, name: &str, gate_conf: &Path) -> PathBuf {
    let conf = e.dir.join(format!("exim-{name}.conf"));
    std::fs::write(&conf, recipe(&e.dir, &e.lib, gate_conf)).unwrap();
    run(Command::new(EXIM).arg("-C").arg(&conf).arg("-bV"));
    conf
}

/// A lists directory for the gate with `strict` (and `test`) copied in.
fn gate_lists(e: &Env, name: &str) -> PathBuf {
    let lists = e.dir.join(format!("gate-{name}"));
    std::fs::create_dir_all(&lists).unwrap();
    for l in ["test", "strict"] {
        copy_dir(&e.dir.join("mailman/lists").join(l), &lists);
    }
    lists
}

fn gate_conf(e: &Env, name: &str, text: &str) -> PathBuf {
    let p = e.dir.join(format!("gate-{name}.conf"));
    std::fs::write(&p, text).unwrap();
    p
}

fn nonmember_post() -> Msg<'static> {
    Msg {
        from: "out@elsewhere.example",
        to: &["strict@example.com"],
        headers: format!(
            "From: out@elsewhere.example\nTo: strict@example.com\nSubject: fault\nMessage-ID: <{}.fault@client.example>\n",
            std::process::id()
        ),
        body: "Hello list.\n",
    }
}

/// The RCPT reply and the DATA reply of one session.
fn session(conf: &Path) -> (String, String, Vec<String>, Vec<String>) {
    let t = Instant::now();
    let (r, l) = bh(conf, &nonmember_post());
    assert!(
        t.elapsed() < Duration::from_secs(60),
        "session took {:?}",
        t.elapsed()
    );
    let rcpt = r
        .iter()
        .skip_while(|x| !x.starts_with("250 ") || !(x.contains("Hello") || x.contains("HELP")))
        .nth(2)
        .cloned()
        .unwrap_or_default();
    let data = r
        .iter()
        .skip_while(|x| !x.starts_with("354"))
        .nth(1)
        .cloned()
        .unwrap_or_default();
    (rcpt, data, r, l)
}

#[test]
fn exim_faults_never_yield_a_5xx() {
    if !available() {
        return;
    }
    let e = setup();

    // Control: a working gate refuses the non-member's post.
    let lists = gate_lists(&e, "ok");
    let conf = exim_conf(
        &e,
        "ok",
        &gate_conf(&e, "ok", &format!("lists_dir = {}\n", lists.display())),
    );
    let (rcpt, data, r, l) = session(&conf);
    assert!(rcpt.starts_with("250"), "{r:?} {l:?}");
    assert!(data.starts_with("550"), "control: {r:?} {l:?}");

    let mut scenarios: Vec<(&str, PathBuf)> = Vec::new();
    // The gate's lists directory is missing.
    scenarios.push((
        "missing lists dir",
        gate_conf(&e, "missing", "lists_dir = /nonexistent/mailman/lists\n"),
    ));
    // A FIFO where config.pck should be (and no config.pck.last).
    let lists = gate_lists(&e, "fifo");
    let pck = lists.join("strict/config.pck");
    std::fs::remove_file(&pck).unwrap();
    let _ = std::fs::remove_file(lists.join("strict/config.pck.last"));
    run(Command::new("mkfifo").arg(&pck));
    scenarios.push((
        "FIFO config.pck",
        gate_conf(&e, "fifo", &format!("lists_dir = {}\n", lists.display())),
    ));
    // Garbage in both config.pck and config.pck.last.
    let lists = gate_lists(&e, "garbage");
    for f in ["config.pck", "config.pck.last"] {
        std::fs::write(lists.join("strict").join(f), b"\x80\x02garbage").unwrap();
    }
    scenarios.push((
        "corrupt config.pck and .last",
        gate_conf(&e, "garbage", &format!("lists_dir = {}\n", lists.display())),
    ));
    // The list's files unreadable for Exim's user.
    let lists = gate_lists(&e, "eacces");
    run(Command::new("chmod").arg("0700").arg(lists.join("strict")));
    run(Command::new("chown")
        .arg("nobody")
        .arg(lists.join("strict")));
    scenarios.push((
        "list directory not searchable",
        gate_conf(&e, "eacces", &format!("lists_dir = {}\n", lists.display())),
    ));
    // A configuration file with an error.
    scenarios.push((
        "invalid configuration",
        gate_conf(&e, "badconf", "lists_dir = /x\nno_such_key = 1\n"),
    ));

    for (i, (name, gconf)) in scenarios.iter().enumerate() {
        let conf = exim_conf(&e, &format!("s{i}"), gconf);
        let (rcpt, data, r, l) = session(&conf);
        let all = format!(
            "{name}:\nreplies:\n{}\nlog:\n{}",
            r.join("\n"),
            l.join("\n")
        );
        eprintln!("{name}: RCPT {rcpt:?}, DATA {data:?}");
        assert!(!r.iter().any(|x| x.starts_with('5')), "{all}");
        assert!(rcpt.starts_with("250"), "{all}");
        assert!(data.starts_with("250"), "{all}");
        assert!(
            l.iter()
                .any(|x| x.contains("mailman-gate:") && x.contains("accepting")),
            "the reason is logged: {all}"
        );
    }
    let _ = std::fs::remove_dir_all(&e.dir);
}
