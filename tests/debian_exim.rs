//! Debian's two Exim configurations, made the way Debian makes them:
//! `update-exim4.conf` on a pristine copy of exim4-config's files (checked
//! against dpkg's checksums) with mailman-gate enabled as the README says,
//! split (`conf.d/` files) and non-split (`exim4.conf.localmacros` plus the
//! `add-to-template` edit of `exim4.conf.template`). The copy is
//! bind-mounted over `/etc/exim4` in a private mount namespace
//! (`unshare --mount`), for `update-exim4.conf` and for every Exim run, so
//! that the generated configuration reads the copy, never the system's.
//!
//! With `MAILMAN_GATE_INSTALLED=1` (set by `.ci/run` after `dpkg -i`) the
//! files come from the installed package: `/usr/lib/exim4/libmailman_gate.so`
//! as shipped in the macros, `/etc/exim4/mailman-gate/`,
//! `/usr/share/mailman-gate/exim4/`, `/usr/bin/mailman-gate`. Otherwise
//! from this tree and this build.
//!
//! Sessions come from an outside address (`exim -bh 192.0.2.1`; swaks bound
//! to 127.0.0.2, which is not in Debian's `relay_from_hosts`), except the
//! loopback case, which shows the bypass. Daemons listen on 127.0.0.1,
//! ports 25100-25199. Needs root, exim4, swaks and `unshare`.

use std::process::{Command, Output};

mod common;

use common::debian::{in_ns, installed, setup, Setup, OUTSIDE};
use common::exim::{
    assert_second_deferred, available, data_reply, msg, rcpt_replies, run, show, text, DAEMON_CASES,
};

/// A local user with a mailbox: the first ordinary account, else `mail`.
fn local_user() -> String {
    let passwd = std::fs::read_to_string("/etc/passwd").unwrap();
    passwd
        .lines()
        .filter_map(|l| {
            let f: Vec<&str> = l.split(':').collect();
            let uid: u32 = f.get(2)?.parse().ok()?;
            let name = f[0];
            let plain = name
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit());
            (plain && (1000..65534).contains(&uid)).then(|| name.to_owned())
        })
        .next()
        .unwrap_or_else(|| "mail".to_owned())
}

/// The outcomes of the policy table and of non-list mail, from `-bh`.
fn bh_outcomes(s: &Setup) {
    // A member's post: 250.
    let m = msg(
        "alice@example.com",
        &["test@example.com"],
        "alice@example.com",
        "member",
    );
    let (r, l) = s.bh(OUTSIDE, &m);
    assert!(data_reply(&r).starts_with("250 OK id="), "{}", show(&r, &l));

    // A non-member on a list that rejects non-members: 550 with Mailman's text.
    let m = msg(
        "out@elsewhere.example",
        &["strict@example.com"],
        "out@elsewhere.example",
        "nonmember",
    );
    let (r, l) = s.bh(OUTSIDE, &m);
    let d = data_reply(&r);
    assert!(d.starts_with("550"), "{}", show(&r, &l));
    assert!(
        text(&d).contains("the list's policy is to prohibit non-members from posting to it"),
        "{}",
        show(&r, &l)
    );

    // Held (non-member, hold policy): 250, logged.
    let m = msg(
        "out@elsewhere.example",
        &["test@example.com"],
        "out@elsewhere.example",
        "held",
    );
    let (r, l) = s.bh(OUTSIDE, &m);
    assert!(data_reply(&r).starts_with("250 OK id="), "{}", show(&r, &l));
    assert!(
        l.iter()
            .any(|x| x.contains("list=test kind=post answer=hold")),
        "{}",
        show(&r, &l)
    );

    // A moderated member, reject action: 550 with the list's notice.
    let m = msg(
        "bob@example.com",
        &["strict@example.com"],
        "bob@example.com",
        "moderated",
    );
    let (r, l) = s.bh(OUTSIDE, &m);
    let d = data_reply(&r);
    assert!(d.starts_with("550"), "{}", show(&r, &l));
    assert!(
        text(&d).contains("Moderated members of the Strict list may not post"),
        "{}",
        show(&r, &l)
    );

    // discard_these_nonmembers: 250, Exim discards.
    let m = msg(
        "discard@foo.org",
        &["test@example.com"],
        "discard@foo.org",
        "discard",
    );
    let (r, l) = s.bh(OUTSIDE, &m);
    assert!(data_reply(&r).starts_with("250"), "{}", show(&r, &l));
    assert!(
        l.iter().any(|x| x.contains("mailman-gate: discarded")),
        "{}",
        show(&r, &l)
    );

    // No such list and no such address: Debian's `verify = recipient`
    // answers (it runs before the included ACL).
    let m = msg(
        "alice@example.com",
        &["nosuchlist@example.com"],
        "alice@example.com",
        "unknown",
    );
    let (r, l) = s.bh(OUTSIDE, &m);
    let rc = rcpt_replies(&r, 1);
    assert!(rc[0].starts_with("550"), "{}", show(&r, &l));

    // -request from a non-member: accepted, never moderated.
    let m = msg(
        "out@elsewhere.example",
        &["strict-request@example.com"],
        "out@elsewhere.example",
        "request",
    );
    let (r, l) = s.bh(OUTSIDE, &m);
    assert!(data_reply(&r).starts_with("250 OK id="), "{}", show(&r, &l));

    // Two recipients, a list first: the second is deferred (451) and sent
    // again by the client; a list after another recipient likewise.
    for (to, second) in [
        (["test@example.com", "abuse@example.com"], "abuse"),
        (["abuse@example.com", "test@example.com"], "test"),
    ] {
        let m = msg("alice@example.com", &to, "alice@example.com", "two");
        let (r, l) = s.bh(OUTSIDE, &m);
        assert_second_deferred(&r, &l, second);
    }

    // Everything that is no list, in both Mailman domains: role addresses,
    // a local user, aliases of /etc/aliases. All accepted as without the
    // gate, and no gate decision logged.
    let user = local_user();
    let mut others: Vec<String> = Vec::new();
    for dom in ["example.com", "lists.example"] {
        for lp in [
            "root",
            "postmaster",
            "abuse",
            "mailer-daemon",
            "webmaster",
            &user,
        ] {
            others.push(format!("{lp}@{dom}"));
        }
    }
    for to in &others {
        let one = [to.as_str()];
        let m = msg(
            "out@elsewhere.example",
            &one,
            "out@elsewhere.example",
            "other",
        );
        let (r, l) = s.bh(OUTSIDE, &m);
        let rc = rcpt_replies(&r, 1);
        assert!(rc[0].starts_with("250"), "{to}: {}", show(&r, &l));
        assert!(
            data_reply(&r).starts_with("250 OK id="),
            "{to}: {}",
            show(&r, &l)
        );
        assert!(
            !l.iter().any(|x| x.contains("mailman-gate")),
            "{to}: {}",
            show(&r, &l)
        );
    }
    // All of them in one message (no list): accepted together.
    let all: Vec<&str> = others.iter().map(String::as_str).collect();
    let m = msg(
        "out@elsewhere.example",
        &all,
        "out@elsewhere.example",
        "others",
    );
    let (r, l) = s.bh(OUTSIDE, &m);
    assert!(
        rcpt_replies(&r, all.len())
            .iter()
            .all(|x| x.starts_with("250")),
        "{}",
        show(&r, &l)
    );

    // Loopback is in Debian's relay_from_hosts, accepted before the
    // included ACL: the gate is bypassed (why doctor warns about it).
    let m = msg(
        "out@elsewhere.example",
        &["strict@example.com"],
        "out@elsewhere.example",
        "loopback",
    );
    let (r, l) = s.bh("127.0.0.1", &m);
    assert!(data_reply(&r).starts_with("250 OK id="), "{}", show(&r, &l));
}

#[test]
fn split_configuration_bh() {
    if !available() {
        return;
    }
    bh_outcomes(&setup(true, "bh"));
}

#[test]
fn nonsplit_configuration_bh() {
    if !available() {
        return;
    }
    bh_outcomes(&setup(false, "bh"));
}

/// A daemon of the generated configuration, stopped on drop.
struct Daemon(i32);

impl Drop for Daemon {
    fn drop(&mut self) {
        // SAFETY: signalling the daemon this test started.
        unsafe { libc::kill(self.0, libc::SIGTERM) };
    }
}

fn start_daemon(s: &Setup, port: u16) -> Daemon {
    let pidfile = s.dir.join("exim.pid");
    run(s
        .exim()
        .args(["-bd", "-oX", &port.to_string(), "-oP"])
        .arg(&pidfile));
    let pid = common::exim::daemon_pid(&pidfile);
    Daemon(pid)
}

/// swaks from `local` (an address of this host) to the daemon; the
/// transcript and the message id if accepted.
fn swaks(port: u16, local: &str, from: &str, to: &str, subject: &str) -> (String, Option<String>) {
    let o = Command::new("swaks")
        .args(["--server", &format!("127.0.0.1:{port}")])
        .args(["--local-interface", local])
        .args(["--helo", "client.example", "--from", from, "--to", to])
        .args(["--header", &format!("From: {from}")])
        .args(["--header", &format!("Subject: {subject}")])
        .args(["--body", "Hello list."])
        .args(["--timeout", "20"])
        .output()
        .unwrap();
    let t = String::from_utf8_lossy(&o.stdout).into_owned();
    let id = t
        .lines()
        .find_map(|l| l.split("<-  250 OK id=").nth(1))
        .map(|s| s.trim().to_owned());
    (t, id)
}

/// Deliver one queued message now (`exim -M`).
fn deliver(s: &Setup, id: &str) -> Output {
    s.exim().args(["-M", id]).output().unwrap()
}

fn queued(s: &Setup, id: &str) -> bool {
    let o = run(s.exim().arg("-bp"));
    String::from_utf8_lossy(&o.stdout).contains(id)
}

fn recorded(s: &Setup, subject: &str) -> usize {
    std::fs::read_dir(s.dir.join("out"))
        .unwrap()
        .flatten()
        .filter(|f| {
            f.path().extension().is_none_or(|x| x != "tmp")
                && std::fs::read_to_string(f.path())
                    .is_ok_and(|t| t.lines().any(|l| l == format!("Subject: {subject}")))
        })
        .count()
}

fn daemon_outcomes(s: &Setup, port: u16) {
    let _d = start_daemon(s, port);
    let out = "127.0.0.2";
    let cases = DAEMON_CASES;
    for (to, from, subject, accepted, delivered) in cases {
        let (t, id) = swaks(port, out, from, to, subject);
        assert_eq!(id.is_some(), accepted, "{subject}: {t}");
        if !accepted {
            assert!(t.contains("<** 550"), "{subject}: {t}");
        }
        if let Some(id) = id {
            if delivered {
                let o = deliver(s, &id);
                assert!(o.status.success(), "{subject}: {o:?}");
                assert_eq!(recorded(s, subject), 1, "{subject} reached Mailman");
                assert!(!queued(s, &id), "{subject} left the queue");
            } else {
                assert!(!queued(s, &id), "{subject}: discarded, nothing queued");
            }
        }
    }

    // Non-list addresses in the Mailman domains: accepted and queued for
    // Exim's own routers (removed unsent: no system mailbox is touched).
    let user = local_user();
    for lp in ["root", "abuse", "mailer-daemon", "webmaster", user.as_str()] {
        let to = format!("{lp}@lists.example");
        let (t, id) = swaks(port, out, "out@elsewhere.example", &to, "d-other");
        let id = id.unwrap_or_else(|| panic!("{to}: {t}"));
        let o = s.exim().args(["-bt", &to]).output().unwrap();
        let route = String::from_utf8_lossy(&o.stdout);
        assert!(!route.contains("mailman_router"), "{to}: {route}");
        assert!(!route.contains("Unrouteable"), "{to}: {route}");
        run(s.exim().args(["-Mrm", &id]));
    }

    // Loopback bypasses the gate (relay_from_hosts): the non-member's post
    // is accepted.
    let (t, id) = swaks(
        port,
        "127.0.0.1",
        "out@elsewhere.example",
        "strict@example.com",
        "d-loopback",
    );
    let id = id.unwrap_or_else(|| panic!("loopback: {t}"));
    run(s.exim().args(["-Mrm", &id]));

    // Mailman's wrapper failing: missing, EX_TEMPFAIL, any other status.
    // Each time the delivery is deferred (the message stays queued, no
    // bounce); with the wrapper back it is delivered.
    let wrap = s.dir.join("record.sh");
    let good = std::fs::read(&wrap).unwrap();
    let (t, id) = swaks(
        port,
        out,
        "alice@example.com",
        "test@example.com",
        "d-wrapper",
    );
    let id = id.unwrap_or_else(|| panic!("wrapper: {t}"));
    for failing in [None, Some("exit 75"), Some("exit 1"), Some("exit 127")] {
        match failing {
            None => std::fs::remove_file(&wrap).unwrap(),
            Some(body) => {
                std::fs::write(&wrap, format!("#!/bin/sh\ncat >/dev/null\n{body}\n")).unwrap();
                run(Command::new("chmod").arg("0755").arg(&wrap));
            }
        }
        deliver(s, &id);
        assert!(queued(s, &id), "{failing:?}: still queued");
        let log = s.mainlog();
        let mine: Vec<&str> = log.lines().filter(|l| l.contains(&id)).collect();
        assert!(
            mine.iter().any(|l| l.contains(" == test@example.com")),
            "{failing:?}: deferred\n{}",
            mine.join("\n")
        );
        assert!(
            !mine.iter().any(|l| l.contains(" ** ")),
            "{failing:?}: never bounced\n{}",
            mine.join("\n")
        );
    }
    std::fs::write(&wrap, good).unwrap();
    run(Command::new("chmod").arg("0755").arg(&wrap));
    let o = deliver(s, &id);
    assert!(o.status.success(), "{o:?}");
    assert!(!queued(s, &id));
    assert_eq!(recorded(s, "d-wrapper"), 1);
}

fn port(split: bool) -> u16 {
    25100 + (std::process::id() % 50) as u16 * 2 + u16::from(!split)
}

#[test]
fn split_configuration_daemon() {
    if !available() {
        return;
    }
    let s = setup(true, "daemon");
    daemon_outcomes(&s, port(true));
    doctor_sees_the_gate(&s, true);
}

#[test]
fn nonsplit_configuration_daemon() {
    if !available() {
        return;
    }
    let s = setup(false, "daemon");
    daemon_outcomes(&s, port(false));
    doctor_sees_the_gate(&s, false);
}

/// `mailman-gate doctor` on the generated configuration, as root in the
/// same namespace: what it finds, and its exit status.
fn doctor_sees_the_gate(s: &Setup, split: bool) {
    let doctor = || {
        let o = in_ns(&s.etc, s.cli.to_str().unwrap())
            .arg("doctor")
            .arg("--exim-config")
            .arg(&s.conf)
            .output()
            .unwrap();
        (
            o.status.code(),
            String::from_utf8_lossy(&o.stdout).into_owned(),
        )
    };
    let (code, out) = doctor();
    let mode = if split { "split" } else { "non-split" };
    for want in [
        format!("ok    Debian {mode} configuration"),
        "has ${dlfunc}".into(),
        "ok    the RCPT check is in".into(),
        "ok    the DATA check is there too".into(),
        "ok    Mailman router: mailman_router".into(),
        format!(
            "ok    library {}",
            if installed() {
                "/usr/lib/exim4/libmailman_gate.so"
            } else {
                ""
            }
        ),
        "ok    list test: Debian-exim reads its config.pck".into(),
        "warn  list corrupt: Debian-exim reads config.pck.last".into(),
        "FAIL  list broken".into(),
        "ok    Mailman domain lists.example is a local domain".into(),
        "warn  relay_from_hosts = 127.0.0.1".into(),
    ] {
        assert!(out.contains(&want), "doctor lacks {want:?}:\n{out}");
    }
    assert_eq!(code, Some(1), "{out}");

    // The broken list repaired (removed), strict unreadable to Exim's user.
    let lists = s.dir.join("mailman/lists");
    std::fs::remove_dir_all(lists.join("broken")).unwrap();
    for f in ["config.pck", "config.pck.last"] {
        let f = lists.join("strict").join(f);
        if f.exists() {
            run(Command::new("chmod").arg("0600").arg(&f));
        }
    }
    let (code, out) = doctor();
    assert!(
        out.contains("FAIL  list strict: Debian-exim cannot read it")
            && out.contains("setfacl -m u:Debian-exim:r"),
        "{out}"
    );
    assert_eq!(code, Some(1), "{out}");
    // Granted as the fix says: all is well, exit 0.
    run(Command::new("setfacl")
        .args(["-m", "u:Debian-exim:r"])
        .arg(lists.join("strict/config.pck")));
    let (code, out) = doctor();
    assert!(
        out.contains("ok    list strict: Debian-exim reads its config.pck"),
        "{out}"
    );
    assert!(out.contains("\n0 problem(s)"), "{out}");
    assert_eq!(code, Some(0), "{out}");

    // Snapshots: current after an export; a config.pck saved later than
    // the allowed lag is a problem, with the export units as the fix.
    let snaps = s.dir.join("snapshots");
    let gate_conf = s.dir.join("mailman-gate.conf");
    std::fs::write(
        &gate_conf,
        format!(
            "lists_dir = {}\nsnapshot_dir = {}\n",
            lists.display(),
            snaps.display()
        ),
    )
    .unwrap();
    run(Command::new(&s.cli)
        .args(["export", "--config"])
        .arg(&gate_conf));
    run(Command::new("chmod").args(["-R", "a+rX"]).arg(&snaps));
    let (code, out) = doctor();
    assert!(
        out.contains("ok    list test: snapshot is current"),
        "{out}"
    );
    assert_eq!(code, Some(0), "{out}");
    run(Command::new("touch")
        .args(["-d", "+1 hour"])
        .arg(lists.join("test/config.pck")));
    let (code, out) = doctor();
    assert!(
        out.contains("FAIL  list test: snapshot 3600 s older than config.pck")
            || out.contains("FAIL  list test: snapshot 3599 s older than config.pck"),
        "{out}"
    );
    assert!(out.contains("mailman-gate-export.timer"), "{out}");
    assert_eq!(code, Some(1), "{out}");
}
