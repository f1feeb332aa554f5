//! End to end with the real Exim (Debian's exim4-daemon-heavy): the
//! shipped recipe `examples/exim/exim.conf`, with only its paths
//! substituted, driving the built cdylib on copies of the fixture lists.
//!
//! - `exim -bh` sessions: every SMTP outcome of the policy table.
//! - A real daemon on 127.0.0.1 driven by swaks, delivering to a pipe that
//!   records deliveries: nothing refused is delivered, nothing accepted
//!   is lost.
//! - The same verdicts from `local_scan()` through `local_scan_path`.
//! - The same `-bh` outcomes when the gate reads snapshots made by
//!   `mailman-gate export` and Exim cannot read the lists' `config.pck`.
//!
//! Needs root and exim4/swaks. Without them the tests are skipped with a
//! message, unless CI=true, where that is a failure.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;
use std::time::{Duration, Instant};

mod common;

use common::exim::{
    assert_second_deferred, available, bh, copy_dir, data_reply, msg, rcpt_replies, recipe, root,
    run, show, text, tree, Tree, DAEMON_CASES, EXIM,
};

/// The temp tree: lib, config files, lists, spool, log, recorder.
struct Env {
    dir: PathBuf,
    conf: PathBuf,
    ls_conf: PathBuf,
    /// The recipe on a copy of the lists whose `config.pck` files Exim
    /// cannot read, the gate reading exported snapshots.
    snap_conf: PathBuf,
}

fn env() -> &'static Env {
    static ENV: OnceLock<Env> = OnceLock::new();
    ENV.get_or_init(|| {
        // Trees of earlier runs whose process is gone.
        for old in std::fs::read_dir(std::env::temp_dir()).unwrap().flatten() {
            let name = old.file_name().to_string_lossy().into_owned();
            if let Some(pid) = name.strip_prefix("mailman-gate-e2e-") {
                let pid: i32 = pid.parse().unwrap_or(0);
                // SAFETY: kill with signal 0 only checks the pid exists.
                if pid > 0 && unsafe { libc::kill(pid, 0) } != 0 {
                    let _ = std::fs::remove_dir_all(old.path());
                }
            }
        }
        let mut lists = Vec::new();
        for from in ["tests/fixtures/lists", "tests/exim/lists"] {
            for l in std::fs::read_dir(root().join(from)).unwrap() {
                lists.push(l.unwrap().path());
            }
        }
        let Tree { dir, lib } = tree("e2e", &lists);
        let gate_conf = dir.join("mailman-gate.conf");
        std::fs::write(
            &gate_conf,
            format!("lists_dir = {}\n", dir.join("mailman/lists").display()),
        )
        .unwrap();

        let conf = dir.join("exim.conf");
        std::fs::write(&conf, recipe(&dir, &lib, &gate_conf)).unwrap();

        // local_scan instead of the DATA ACL call: the two optional lines
        // of the recipe's macros enabled (MAILMAN_GATE_LOCAL_SCAN turns
        // the DATA call off).
        let macros =
            std::fs::read_to_string(root().join("examples/exim/mailman-gate/macros")).unwrap();
        let ls_lines: Vec<String> = macros
            .lines()
            .filter(|l| {
                l.starts_with("#MAILMAN_GATE_LOCAL_SCAN") || l.starts_with("#local_scan_path")
            })
            .map(|l| {
                l.trim_start_matches('#')
                    .replace("MAILMAN_GATE_LIB", &lib.display().to_string())
            })
            .collect();
        assert_eq!(ls_lines.len(), 2, "the recipe's local_scan lines");
        let base = std::fs::read_to_string(&conf).unwrap();
        let ls = format!("{}\n{base}", ls_lines.join("\n"));
        let ls_conf = dir.join("exim-local-scan.conf");
        std::fs::write(&ls_conf, ls).unwrap();

        // Snapshots: a copy of the lists, exported (as root, as Mailman's
        // user would), the snapshots readable by Exim's group, and every
        // config.pck(.last) 0600 root: Exim's receiving process (user
        // Debian-exim) can stat them but not read them.
        let snap_lists = dir.join("mailman-snap/lists");
        std::fs::create_dir_all(&snap_lists).unwrap();
        for l in std::fs::read_dir(dir.join("mailman/lists")).unwrap() {
            copy_dir(&l.unwrap().path(), &snap_lists);
        }
        let snapshots = dir.join("snapshots");
        let snap_gate_conf = dir.join("mailman-gate-snapshots.conf");
        std::fs::write(
            &snap_gate_conf,
            format!(
                "lists_dir = {}\nsnapshot_dir = {}\n",
                snap_lists.display(),
                snapshots.display()
            ),
        )
        .unwrap();
        // `broken` has no readable state: its export fails, as it should.
        let o = Command::new(env!("CARGO_BIN_EXE_mailman-gate"))
            .args(["export", "--config"])
            .arg(&snap_gate_conf)
            .output()
            .unwrap();
        let report = String::from_utf8_lossy(&o.stdout);
        assert!(
            report.contains("failed 1") && snapshots.join("test.cdb").is_file(),
            "export: {report}{}",
            String::from_utf8_lossy(&o.stderr)
        );
        run(Command::new("chown")
            .args(["-R", "root:Debian-exim"])
            .arg(&snapshots));
        run(Command::new("chmod").args(["-R", "g+rX"]).arg(&snapshots));
        for l in std::fs::read_dir(&snap_lists).unwrap() {
            let l = l.unwrap().path();
            for f in ["config.pck", "config.pck.last"] {
                let f = l.join(f);
                if f.exists() {
                    run(Command::new("chown").arg("root:root").arg(&f));
                    run(Command::new("chmod").arg("0600").arg(&f));
                }
            }
        }
        let mut snap_recipe = recipe(&dir, &lib, &snap_gate_conf);
        // The router's lists directory too (require_files only stats).
        snap_recipe = snap_recipe.replacen(
            &format!("MAILMAN_HOME = {}", dir.join("mailman").display()),
            &format!("MAILMAN_HOME = {}", dir.join("mailman-snap").display()),
            1,
        );
        assert!(snap_recipe.contains("mailman-snap"));
        let snap_conf = dir.join("exim-snapshots.conf");
        std::fs::write(&snap_conf, snap_recipe).unwrap();

        for c in [&conf, &ls_conf, &snap_conf] {
            run(Command::new(EXIM).arg("-C").arg(c).arg("-bV"));
        }
        Env {
            dir,
            conf,
            ls_conf,
            snap_conf,
        }
    })
}

#[test]
fn exim_bh_outcomes() {
    if !available() {
        return;
    }
    bh_outcomes(&env().conf);
}

/// The same outcomes from snapshots, with `config.pck` unreadable to Exim:
/// the 550s below can only come from the snapshots (an unreadable list
/// fails open).
#[test]
fn exim_bh_outcomes_from_snapshots() {
    if !available() {
        return;
    }
    bh_outcomes(&env().snap_conf);
}

fn bh_outcomes(c: &Path) {
    // A member's post: 250.
    let (r, l) = bh(
        c,
        &msg(
            "alice@example.com",
            &["test@example.com"],
            "alice@example.com",
            "member",
        ),
    );
    assert!(data_reply(&r).starts_with("250 OK id="), "{}", show(&r, &l));

    // A non-member on a list that rejects non-members: 550 after DATA with
    // Mailman's text.
    let (r, l) = bh(
        c,
        &msg(
            "out@elsewhere.example",
            &["strict@example.com"],
            "out@elsewhere.example",
            "nonmember",
        ),
    );
    let d = data_reply(&r);
    assert!(d.starts_with("550"), "{}", show(&r, &l));
    assert!(
        text(&d).contains("the list's policy is to prohibit non-members from posting to it"),
        "{}",
        show(&r, &l)
    );

    // A moderated member with the reject action: 550 with the list's notice.
    let (r, l) = bh(
        c,
        &msg(
            "bob@example.com",
            &["strict@example.com"],
            "bob@example.com",
            "moderated",
        ),
    );
    let d = data_reply(&r);
    assert!(d.starts_with("550"), "{}", show(&r, &l));
    assert!(
        text(&d).contains("Moderated members of the Strict list may not post"),
        "{}",
        show(&r, &l)
    );

    // A held post (non-member, hold policy): 250 by default, logged.
    let (r, l) = bh(
        c,
        &msg(
            "out@elsewhere.example",
            &["test@example.com"],
            "out@elsewhere.example",
            "held",
        ),
    );
    assert!(data_reply(&r).starts_with("250 OK id="), "{}", show(&r, &l));
    assert!(
        l.iter()
            .any(|x| x.contains("list=test kind=post answer=hold")),
        "{}",
        show(&r, &l)
    );

    // discard_these_nonmembers: 250 and Exim discards.
    let (r, l) = bh(
        c,
        &msg(
            "discard@foo.org",
            &["test@example.com"],
            "discard@foo.org",
            "discard",
        ),
    );
    assert!(data_reply(&r).starts_with("250"), "{}", show(&r, &l));
    assert!(
        l.iter().any(|x| x.contains("mailman-gate: discarded")),
        "{}",
        show(&r, &l)
    );

    // An unknown list in a Mailman domain: 550 at RCPT.
    let (r, l) = bh(
        c,
        &msg(
            "alice@example.com",
            &["nosuchlist@example.com"],
            "alice@example.com",
            "unknown",
        ),
    );
    let rc = rcpt_replies(&r, 1);
    assert!(
        rc[0].starts_with("550 No such mailing list"),
        "{}",
        show(&r, &l)
    );

    // -request: accepted without moderation, even from a non-member.
    let (r, l) = bh(
        c,
        &msg(
            "out@elsewhere.example",
            &["strict-request@example.com"],
            "out@elsewhere.example",
            "request",
        ),
    );
    assert!(data_reply(&r).starts_with("250 OK id="), "{}", show(&r, &l));
    assert!(
        !l.iter().any(|x| x.contains("mailman-gate")),
        "{}",
        show(&r, &l)
    );

    // A second recipient after a list recipient: 451.
    let (r, l) = bh(
        c,
        &msg(
            "alice@example.com",
            &["test@example.com", "other@example.com"],
            "alice@example.com",
            "two",
        ),
    );
    assert_second_deferred(&r, &l, "a list, then another list");

    // corrupt config.pck, good .last: decided from .last (bob is held).
    let (r, l) = bh(
        c,
        &msg(
            "bob@example.com",
            &["corrupt@example.com"],
            "bob@example.com",
            "corrupt",
        ),
    );
    assert!(data_reply(&r).starts_with("250 OK id="), "{}", show(&r, &l));
    assert!(
        l.iter()
            .any(|x| x.contains("list=corrupt kind=post answer=hold")),
        "{}",
        show(&r, &l)
    );

    // broken (both files corrupt): never a 5xx, and the log says why.
    let (r, l) = bh(
        c,
        &msg(
            "out@elsewhere.example",
            &["broken@example.com"],
            "out@elsewhere.example",
            "broken",
        ),
    );
    assert!(!r.iter().any(|x| x.starts_with('5')), "{}", show(&r, &l));
    assert!(
        l.iter()
            .any(|x| x.contains("mailman-gate") && x.contains("broken")),
        "{}",
        show(&r, &l)
    );

    // A header block over 64 KiB: the From: after 70 KiB of X- headers
    // decides (Exim's $message_headers would have cut it off).
    let mut big = msg("out@elsewhere.example", &["strict@example.com"], "x", "big");
    let filler: String = (0..900)
        .map(|i| format!("X-Filler-{i:04}: {}\n", "f".repeat(64)))
        .collect();
    assert!(filler.len() > 70 * 1024);
    big.headers =
        format!("{filler}From: alice@example.com\nTo: strict@example.com\nSubject: big\n");
    let (r, l) = bh(c, &big);
    assert!(data_reply(&r).starts_with("250 OK id="), "{}", show(&r, &l));
    // ...and the same with a non-member From is refused.
    big.headers = big
        .headers
        .replace("From: alice@example.com", "From: out@elsewhere.example");
    let (r, l) = bh(c, &big);
    assert!(data_reply(&r).starts_with("550"), "{}", show(&r, &l));
}

#[test]
fn exim_local_scan_outcomes() {
    if !available() {
        return;
    }
    let e = env();
    let c = &e.ls_conf;
    let (r, l) = bh(
        c,
        &msg(
            "alice@example.com",
            &["strict@example.com"],
            "alice@example.com",
            "ls-member",
        ),
    );
    assert!(data_reply(&r).starts_with("250 OK id="), "{}", show(&r, &l));
    let (r, l) = bh(
        c,
        &msg(
            "out@elsewhere.example",
            &["strict@example.com"],
            "out@elsewhere.example",
            "ls-nonmember",
        ),
    );
    let d = data_reply(&r);
    assert!(d.starts_with("550"), "{}", show(&r, &l));
    assert!(
        text(&d).contains("the list's policy is to prohibit non-members from posting to it"),
        "{}",
        show(&r, &l)
    );
    assert!(
        l.iter().any(|x| x.contains("rejected by local_scan()")),
        "{}",
        show(&r, &l)
    );
    let (r, l) = bh(
        c,
        &msg(
            "out@elsewhere.example",
            &["test@example.com"],
            "out@elsewhere.example",
            "ls-held",
        ),
    );
    assert!(data_reply(&r).starts_with("250 OK id="), "{}", show(&r, &l));
    let (r, l) = bh(
        c,
        &msg(
            "bob@example.com",
            &["strict@example.com"],
            "bob@example.com",
            "ls-moderated",
        ),
    );
    let d = data_reply(&r);
    assert!(d.starts_with("550"), "{}", show(&r, &l));
    assert!(
        text(&d).contains("Moderated members of the Strict list may not post"),
        "{}",
        show(&r, &l)
    );
    // discard: local_scan removes every recipient; Exim accepts and drops.
    let (r, l) = bh(
        c,
        &msg(
            "discard@foo.org",
            &["test@example.com"],
            "discard@foo.org",
            "ls-discard",
        ),
    );
    assert!(data_reply(&r).starts_with("250"), "{}", show(&r, &l));
    assert!(
        l.iter()
            .any(|x| x.contains("local_scan: list=test kind=post answer=discard")),
        "{}",
        show(&r, &l)
    );
    let (r, l) = bh(
        c,
        &msg(
            "out@elsewhere.example",
            &["broken@example.com"],
            "out@elsewhere.example",
            "ls-broken",
        ),
    );
    assert!(!r.iter().any(|x| x.starts_with('5')), "{}", show(&r, &l));
}

/// swaks against a daemon; returns its transcript.
fn swaks(port: u16, from: &str, to: &str, header_from: &str, subject: &str) -> String {
    let o = Command::new("swaks")
        .args(["--server", &format!("127.0.0.1:{port}")])
        .args(["--helo", "client.example", "--from", from, "--to", to])
        .args(["--header", &format!("From: {header_from}")])
        .args(["--header", &format!("Subject: {subject}")])
        .args(["--body", "Hello list."])
        .args(["--timeout", "20"])
        .output()
        .unwrap();
    String::from_utf8_lossy(&o.stdout).into_owned()
}

#[test]
fn exim_daemon_delivers_only_accepted_posts() {
    if !available() {
        return;
    }
    let e = env();
    let port = 20000 + (std::process::id() % 20000) as u16;
    let pidfile = e.dir.join("exim.pid");
    run(Command::new(EXIM)
        .arg("-C")
        .arg(&e.conf)
        .args(["-bd", "-oX", &port.to_string(), "-oP"])
        .arg(&pidfile));
    let pid: i32 = common::exim::daemon_pid(&pidfile);
    struct Kill(i32);
    impl Drop for Kill {
        fn drop(&mut self) {
            // SAFETY: signalling the daemon this test started.
            unsafe { libc::kill(self.0, libc::SIGTERM) };
        }
    }
    let _kill = Kill(pid);

    let cases = DAEMON_CASES;
    for (to, from, subject, accepted, _) in cases {
        let t = swaks(port, from, to, from, subject);
        let ok = t.contains("<-  250 OK id=");
        assert_eq!(ok, accepted, "{subject}: {t}");
        if !accepted {
            assert!(t.contains("<** 550"), "{subject}: {t}");
        }
    }
    // Deliveries happen in the background: wait for the expected ones.
    let expected: Vec<&str> = cases.iter().filter(|c| c.4).map(|c| c.2).collect();
    let out = e.dir.join("out");
    let delivered = || -> Vec<String> {
        std::fs::read_dir(&out)
            .unwrap()
            .filter_map(|f| {
                let p = f.ok()?.path();
                if p.extension().is_some_and(|x| x == "tmp") {
                    return None;
                }
                let t = std::fs::read_to_string(&p).ok()?;
                t.lines()
                    .find_map(|l| l.strip_prefix("Subject: "))
                    .map(str::to_owned)
            })
            .collect()
    };
    let start = Instant::now();
    while delivered()
        .iter()
        .filter(|s| expected.contains(&s.as_str()))
        .count()
        < expected.len()
        && start.elapsed() < Duration::from_secs(30)
    {
        std::thread::sleep(Duration::from_millis(200));
    }
    std::thread::sleep(Duration::from_millis(500));
    let mut got = delivered();
    got.sort();
    let mut want: Vec<String> = expected.iter().map(|s| s.to_string()).collect();
    want.sort();
    assert_eq!(
        got, want,
        "exactly the accepted, non-discarded posts were delivered"
    );
}

#[test]
fn recipe_blocks_match_the_debian_snippets() {
    let conf = std::fs::read_to_string(root().join("examples/exim/exim.conf")).unwrap();
    for f in [
        "mailman-gate/rcpt.acl",
        "mailman-gate/data.acl",
        "mailman-gate/router",
        "mailman-gate/transport",
    ] {
        let snippet = std::fs::read_to_string(root().join("examples/exim").join(f)).unwrap();
        assert!(
            conf.contains(&snippet),
            "exim.conf does not contain {f} verbatim"
        );
    }
    // Never 8 dlfunc arguments (Exim 4.96 crashes).
    for f in [
        "exim.conf",
        "mailman-gate/rcpt.acl",
        "mailman-gate/data.acl",
    ] {
        let t = std::fs::read_to_string(root().join("examples/exim").join(f)).unwrap();
        for call in t.split("${dlfunc").skip(1) {
            if !call.starts_with('{') {
                continue; // "${dlfunc}" in a comment
            }
            // Depth 1 is inside `${dlfunc ... }`; each `{` there opens a group.
            let mut depth = 1;
            let mut groups = 0;
            for ch in call.chars() {
                match ch {
                    '{' => {
                        if depth == 1 {
                            groups += 1;
                        }
                        depth += 1;
                    }
                    '}' => {
                        depth -= 1;
                        if depth == 0 {
                            break;
                        }
                    }
                    _ => {}
                }
            }
            // file, function, then the arguments.
            assert!(
                groups - 2 <= 7,
                "a dlfunc call with {} arguments in {f}",
                groups - 2
            );
            assert!(groups >= 2, "a malformed dlfunc call in {f}");
        }
    }
}
