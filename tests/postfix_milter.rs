//! End to end with a real Postfix (Debian's package, unpacked beside the
//! installed Exim) whose smtpd asks `mailman-gate-milter` over a UNIX
//! socket, driven by swaks through the scenarios of the Exim end-to-end
//! tests (`tests/exim_e2e.rs`), on copies of the same lists. Every
//! message is delivered to a recording pipe: nothing refused is
//! delivered, nothing accepted is lost.
//!
//! Needs root and swaks (and `apt-get download postfix` or an unpacked
//! package, see `tests/common/postfix.rs`); otherwise skipped with a note,
//! unless CI=true.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

#[path = "common/postfix.rs"]
mod postfix;

#[path = "common/exim.rs"]
mod exim;

use postfix::{
    available, data_reply, rcpt_replies, reply_text, root, swaks, Listener, Milter, Postfix,
};

const MILTER: &str = env!("CARGO_BIN_EXE_mailman-gate-milter");

/// Ports (25300-25399): smtpd with the milter, smtpd with a milter whose
/// message cap is small.
const PORT: u16 = 25310;
const PORT_SMALL: u16 = 25311;

/// A fresh work directory with copies of the fixture lists (those of the
/// Exim tests too) and a gate configuration reading them.
fn workdir(tag: &str) -> (PathBuf, PathBuf) {
    let dir = std::env::temp_dir().join(format!("mailman-gate-pf-{tag}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    // (MAILMAN_HOME/lists, where the Exim recipe looks too.)
    let lists = dir.join("mailman/lists");
    std::fs::create_dir_all(&lists).unwrap();
    for src in ["tests/fixtures/lists", "tests/exim/lists"] {
        for l in std::fs::read_dir(root().join(src)).unwrap() {
            let ok = Command::new("cp")
                .arg("-a")
                .arg(l.unwrap().path())
                .arg(&lists)
                .status()
                .unwrap()
                .success();
            assert!(ok);
        }
    }
    let conf = dir.join("mailman-gate.conf");
    std::fs::write(&conf, format!("lists_dir = {}\n", lists.display())).unwrap();
    (dir, conf)
}

/// A message file for swaks `--data`: headers, blank line, body.
fn message_file(dir: &Path, name: &str, headers: &str, body: &[u8]) -> PathBuf {
    let p = dir.join(name);
    let mut m = headers.replace('\n', "\r\n").into_bytes();
    m.extend_from_slice(b"\r\n");
    m.extend_from_slice(body);
    std::fs::write(&p, m).unwrap();
    p
}

struct Case<'a> {
    subject: &'a str,
    /// Envelope and header sender; empty: the null sender.
    from: &'a str,
    to: &'a [&'a str],
    /// Extra headers before From:, e.g. 70 KiB of filler.
    filler: usize,
    /// Body size (0: one line).
    body: usize,
    port: u16,
}

impl<'a> Case<'a> {
    const fn new(subject: &'a str, from: &'a str, to: &'a [&'a str]) -> Case<'a> {
        Case {
            subject,
            from,
            to,
            filler: 0,
            body: 0,
            port: PORT,
        }
    }

    fn headers(&self) -> String {
        let filler: String = (0..self.filler)
            .map(|i| format!("X-Filler-{i:04}: {}\n", "f".repeat(64)))
            .collect();
        format!(
            "{filler}From: {from}\nTo: {to}\nSubject: {s}\nMessage-ID: <{s}.{pid}@client.example>\n",
            from = if self.from.is_empty() {
                "MAILER-DAEMON@elsewhere.example"
            } else {
                self.from
            },
            to = self.to[0],
            s = self.subject,
            pid = std::process::id()
        )
    }

    fn send(&self, dir: &Path) -> String {
        self.send_to(dir, self.port)
    }

    fn send_to(&self, dir: &Path, port: u16) -> String {
        let headers = self.headers();
        let body = if self.body == 0 {
            b"Hello list.\r\n".to_vec()
        } else {
            // Lines of 76 characters.
            let line = format!("{}\r\n", "b".repeat(76));
            line.as_bytes()
                .iter()
                .copied()
                .cycle()
                .take(self.body / 78 * 78)
                .collect()
        };
        let f = message_file(dir, &format!("{}.eml", self.subject), &headers, &body);
        let t = swaks(
            port,
            &[
                "--from",
                if self.from.is_empty() {
                    "<>"
                } else {
                    self.from
                },
                "--suppress-data",
                "--to",
                &self.to.join(","),
                "--data",
                f.to_str().unwrap(),
            ],
        );
        std::fs::remove_file(&f).unwrap();
        t
    }
}

/// Wait until every expected (recipient, subject) is recorded, then a
/// little longer; return all recorded (recipient, subject).
fn wait_deliveries(pf: &Postfix, expected: &[(String, String)]) -> Vec<(String, String)> {
    let got = || -> Vec<(String, String)> {
        pf.delivered()
            .into_iter()
            .map(|(r, text)| {
                let subject = text
                    .lines()
                    .take_while(|l| !l.is_empty())
                    .find_map(|l| l.strip_prefix("Subject: "))
                    .unwrap_or("")
                    .to_owned();
                (r, subject)
            })
            .collect()
    };
    let start = Instant::now();
    while !expected.iter().all(|e| got().contains(e)) && start.elapsed() < Duration::from_secs(60) {
        std::thread::sleep(Duration::from_millis(200));
    }
    std::thread::sleep(Duration::from_secs(1));
    let mut g = got();
    g.sort();
    g
}

#[test]
fn postfix_answers_as_exim_does() {
    if !available() {
        return;
    }
    let (dir, conf) = workdir("e2e");
    let mut milter = Milter::start(
        Path::new(MILTER),
        &dir.join("milter.sock"),
        &dir.join("milter.log"),
        &[
            "--config",
            conf.to_str().unwrap(),
            "--mailman-domain",
            "example.com,lists.example",
            // Room for the 50 MB body: judged, as Exim judges it.
            "--max-message-size",
            "64M",
        ],
    );
    let mut small = Milter::start(
        Path::new(MILTER),
        &dir.join("small.sock"),
        &dir.join("small.log"),
        &[
            "--config",
            conf.to_str().unwrap(),
            "--mailman-domain",
            "example.com",
            "--max-message-size",
            "1M",
        ],
    );
    let pf = Postfix::start(
        &dir.join("postfix"),
        &[
            Listener {
                port: PORT,
                milter: Some(format!("unix:{}", milter.socket.display())),
            },
            Listener {
                port: PORT_SMALL,
                milter: Some(format!("unix:{}", small.socket.display())),
            },
        ],
        "",
    );
    let show = |t: &str| {
        format!(
            "{t}\n--- milter log:\n{}\n--- maillog (tail):\n{}",
            milter.log_text(),
            pf.maillog()
                .lines()
                .rev()
                .take(20)
                .collect::<Vec<_>>()
                .join("\n")
        )
    };
    // (recipient, subject) that must be delivered.
    let mut expected: Vec<(String, String)> = Vec::new();
    let mut accepted = |to: &str, subject: &str| expected.push((to.into(), subject.into()));

    // A member's post: 250, delivered.
    let t = Case::new("pf-member", "alice@example.com", &["test@example.com"]).send(&dir);
    assert!(data_reply(&t).starts_with("250 "), "{}", show(&t));
    accepted("test@example.com", "pf-member");

    // A non-member on a list that rejects non-members: 550 after DATA with
    // Mailman's text over several reply lines.
    let t = Case::new(
        "pf-nonmember",
        "out@elsewhere.example",
        &["strict@example.com"],
    )
    .send(&dir);
    let d = data_reply(&t);
    assert!(d.starts_with("550-5.7.1 "), "{}", show(&t));
    assert!(d.lines().count() > 1, "{}", show(&t));
    assert!(
        reply_text(&d).contains("the list's policy is to prohibit non-members from posting to it"),
        "{}",
        show(&t)
    );

    // A moderated member with the reject action: 550 with the list's notice.
    let t = Case::new("pf-moderated", "bob@example.com", &["strict@example.com"]).send(&dir);
    let d = data_reply(&t);
    assert!(d.starts_with("550"), "{}", show(&t));
    assert!(
        reply_text(&d).contains("Moderated members of the Strict list may not post"),
        "{}",
        show(&t)
    );

    // Held (non-member, hold policy): 250, logged, delivered (Mailman holds it).
    let t = Case::new("pf-held", "out@elsewhere.example", &["test@example.com"]).send(&dir);
    assert!(data_reply(&t).starts_with("250 "), "{}", show(&t));
    accepted("test@example.com", "pf-held");

    // discard_these_nonmembers: 250, and nothing is delivered.
    let t = Case::new("pf-discard", "discard@foo.org", &["test@example.com"]).send(&dir);
    assert!(data_reply(&t).starts_with("250 "), "{}", show(&t));

    // An unknown list in a Mailman domain: 550 at RCPT.
    let t = Case::new(
        "pf-unknown",
        "alice@example.com",
        &["nosuchlist@example.com"],
    )
    .send(&dir);
    let r = rcpt_replies(&t);
    assert!(
        r[0].starts_with("550 5.1.1 No such mailing list"),
        "{}",
        show(&t)
    );

    // Role addresses: -request and -owner from a non-member, -bounces from
    // the null sender: accepted, never moderated.
    for (to, subject, from) in [
        (
            "strict-request@example.com",
            "pf-request",
            "out@elsewhere.example",
        ),
        (
            "strict-owner@example.com",
            "pf-owner",
            "out@elsewhere.example",
        ),
        ("strict-bounces@example.com", "pf-bounces", ""),
    ] {
        let t = Case {
            to: &[to],
            ..Case::new(subject, from, &[])
        }
        .send(&dir);
        assert!(data_reply(&t).starts_with("250 "), "{}", show(&t));
        accepted(to, subject);
    }

    // A second recipient after a list recipient: 451 for it; the message
    // goes to the list alone.
    let t = Case::new(
        "pf-two",
        "alice@example.com",
        &["test@example.com", "other@example.com"],
    )
    .send(&dir);
    let r = rcpt_replies(&t);
    assert!(r[0].starts_with("250"), "{}", show(&t));
    assert!(
        r[1].starts_with("451 4.5.3 Please make each Mailman delivery in a separate submission"),
        "{}",
        show(&t)
    );
    assert!(data_reply(&t).starts_with("250 "), "{}", show(&t));
    accepted("test@example.com", "pf-two");

    // Mail that is not for a list is never touched, even from a stranger.
    let t = Case::new(
        "pf-notlist",
        "out@elsewhere.example",
        &["someone@elsewhere.example"],
    )
    .send(&dir);
    assert!(data_reply(&t).starts_with("250 "), "{}", show(&t));
    accepted("someone@elsewhere.example", "pf-notlist");

    // A list's name in a domain that is not Mailman's (relayed): not a
    // list address, never judged.
    let t = Case::new(
        "pf-foreign",
        "out@elsewhere.example",
        &["strict@elsewhere.example"],
    )
    .send(&dir);
    assert!(data_reply(&t).starts_with("250 "), "{}", show(&t));
    accepted("strict@elsewhere.example", "pf-foreign");

    // corrupt config.pck, good .last: decided from .last (bob is held).
    let t = Case::new("pf-corrupt", "bob@example.com", &["corrupt@example.com"]).send(&dir);
    assert!(data_reply(&t).starts_with("250 "), "{}", show(&t));
    accepted("corrupt@example.com", "pf-corrupt");

    // broken (both files corrupt): never a 5xx, fails open, logged.
    let t = Case::new(
        "pf-broken",
        "out@elsewhere.example",
        &["broken@example.com"],
    )
    .send(&dir);
    assert!(
        !postfix::replies(&t).iter().any(|x| x.starts_with('5')),
        "{}",
        show(&t)
    );
    assert!(data_reply(&t).starts_with("250 "), "{}", show(&t));
    accepted("broken@example.com", "pf-broken");

    // A header block over 64 KiB: the From: after 70 KiB of X- headers
    // decides.
    let t = Case {
        filler: 900,
        ..Case::new(
            "pf-bighead-member",
            "alice@example.com",
            &["strict@example.com"],
        )
    }
    .send(&dir);
    assert!(data_reply(&t).starts_with("250 "), "{}", show(&t));
    accepted("strict@example.com", "pf-bighead-member");
    let t = Case {
        filler: 900,
        ..Case::new(
            "pf-bighead-nonmember",
            "out@elsewhere.example",
            &["strict@example.com"],
        )
    }
    .send(&dir);
    assert!(data_reply(&t).starts_with("550"), "{}", show(&t));

    // A 50 MB body: judged whole (the cap is 64M here): a member's post
    // goes through, a non-member's is refused as with a small body.
    let t = Case {
        body: 50 << 20,
        ..Case::new(
            "pf-huge-member",
            "alice@example.com",
            &["strict@example.com"],
        )
    }
    .send(&dir);
    assert!(data_reply(&t).starts_with("250 "), "{}", show(&t));
    accepted("strict@example.com", "pf-huge-member");
    let t = Case {
        body: 50 << 20,
        ..Case::new(
            "pf-huge-nonmember",
            "out@elsewhere.example",
            &["strict@example.com"],
        )
    }
    .send(&dir);
    assert!(data_reply(&t).starts_with("550"), "{}", show(&t));

    // Past the milter's message cap (1M on this listener) the post is not
    // judged: accepted, one log line says why; Mailman decides.
    let t = Case {
        body: 2 << 20,
        port: PORT_SMALL,
        ..Case::new(
            "pf-overcap",
            "out@elsewhere.example",
            &["strict@example.com"],
        )
    }
    .send(&dir);
    assert!(data_reply(&t).starts_with("250 "), "{}", show(&t));
    accepted("strict@example.com", "pf-overcap");
    // ...while under it the same listener refuses.
    let t = Case {
        port: PORT_SMALL,
        ..Case::new(
            "pf-undercap",
            "out@elsewhere.example",
            &["strict@example.com"],
        )
    }
    .send(&dir);
    assert!(data_reply(&t).starts_with("550"), "{}", show(&t));

    // Exactly the accepted, non-discarded posts were delivered, each once.
    expected.sort();
    let got = wait_deliveries(&pf, &expected);
    assert_eq!(got, expected, "{}", show(""));
    // The big one arrived whole.
    let huge = pf
        .delivered()
        .into_iter()
        .find(|(_, t)| t.contains("Subject: pf-huge-member"))
        .unwrap();
    let body_lines = huge
        .1
        .lines()
        .filter(|l| l.len() == 76 && l.bytes().all(|b| b == b'b'))
        .count();
    assert_eq!(body_lines, (50 << 20) / 78);

    // One log line per decision that is not a plain accept.
    let log = milter.log_text();
    for want in [
        "list=strict kind=post answer=reject action=reject step=Moderate",
        "list=test kind=post answer=hold",
        "list=test kind=post answer=discard",
        "list=corrupt kind=post answer=hold",
        "cannot route broken@example.com",
    ] {
        assert!(log.contains(want), "{want:?} not in:\n{log}");
    }
    assert!(
        !log.contains("pf-request") && !log.contains("kind=request"),
        "{log}"
    );
    let small_log = small.log_text();
    assert!(
        small_log.contains("answer=error")
            && small_log.contains("max_message_size (1048576 bytes)"),
        "{small_log}"
    );

    // Graceful shutdown: SIGTERM, exit 0, socket removed.
    drop(pf);
    for m in [&mut milter, &mut small] {
        let st = m.stop().expect("the milter exits on SIGTERM");
        assert!(st.success(), "{st:?}: {}", m.log_text());
        assert!(!m.socket.exists());
        assert!(m.log_text().contains("stopped"));
    }
    let _ = std::fs::remove_dir_all(&dir);
}

/// With the milter down, Postfix's `milter_default_action = accept` lets
/// list mail through (the recipe's fail-open half).
#[test]
fn postfix_without_the_milter_accepts() {
    if !available() {
        return;
    }
    let (dir, _conf) = workdir("down");
    let pf = Postfix::start(
        &dir.join("postfix"),
        &[Listener {
            port: 25312,
            milter: Some(format!("unix:{}", dir.join("absent.sock").display())),
        }],
        "",
    );
    let t = Case {
        port: 25312,
        ..Case::new("pf-down", "out@elsewhere.example", &["strict@example.com"])
    }
    .send(&dir);
    assert!(data_reply(&t).starts_with("250 "), "{t}");
    let got = wait_deliveries(&pf, &[("strict@example.com".into(), "pf-down".into())]);
    assert_eq!(got, [("strict@example.com".into(), "pf-down".into())]);
    drop(pf);
    let _ = std::fs::remove_dir_all(&dir);
}

/// A configuration error stops the start (exit 3) with one line saying
/// why; no socket is left.
#[test]
fn milter_refuses_a_bad_configuration() {
    let dir = std::env::temp_dir().join(format!("mailman-gate-pf-conf-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let conf = dir.join("bad.conf");
    std::fs::write(&conf, "on_hold = sometimes\n").unwrap();
    let sock = dir.join("m.sock");
    let o = Command::new(MILTER)
        .arg("--config")
        .arg(&conf)
        .arg("--socket")
        .arg(format!("unix:{}", sock.display()))
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(3));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("bad.conf:1"), "{err}");
    assert!(!sock.exists());
    let o = Command::new(MILTER).arg("--bogus").output().unwrap();
    assert_eq!(o.status.code(), Some(2));
    let _ = std::fs::remove_dir_all(&dir);
}

/// SMTP replies grouped per command: a group ends with a line whose
/// fourth character is not `-`.
fn groups(lines: &[String]) -> Vec<Vec<String>> {
    let mut out = Vec::new();
    let mut cur = Vec::new();
    for l in lines {
        cur.push(l.clone());
        if l.as_bytes().get(3) != Some(&b'-') {
            out.push(std::mem::take(&mut cur));
        }
    }
    out
}

/// What a session answered, MTA-neutral: per RCPT (code, text), and for
/// the message, if DATA was reached, (code, text). Texts without enhanced
/// status codes, lines joined by spaces.
#[derive(Debug, PartialEq, Eq)]
struct Outcome {
    rcpt: Vec<(String, String)>,
    data: Option<(String, String)>,
}

fn outcome(lines: &[String], n_rcpt: usize) -> Outcome {
    let g = groups(lines);
    let code_text = |grp: &[String]| {
        let code = grp[0][..3].to_owned();
        // Accepting replies differ by MTA ("250 OK id=…", "250 2.0.0 Ok:
        // queued as …"): only refusals are compared by text.
        let text = if code.starts_with('2') {
            String::new()
        } else {
            reply_text(&grp.join("\n"))
        };
        (code, text)
    };
    // banner, EHLO, MAIL, then the RCPTs.
    let rcpt = g[3..3 + n_rcpt].iter().map(|x| code_text(x)).collect();
    let data = g
        .iter()
        .position(|x| x[0].starts_with("354"))
        .map(|p| code_text(&g[p + 1]));
    Outcome { rcpt, data }
}

/// The same sessions through Exim (the shipped recipe, `exim -bh`) and
/// through Postfix with the milter give the same codes and the same
/// refusal texts.
#[test]
fn postfix_and_exim_answer_alike() {
    if !available() || !exim::available() {
        return;
    }
    let (dir, conf) = workdir("same");
    // Exim's side, as tests/exim_e2e.rs lays it out.
    for d in ["spool", "log", "out"] {
        std::fs::create_dir_all(dir.join(d)).unwrap();
    }
    let lib = dir.join("libmailman_gate.so");
    std::fs::copy(exim::built_cdylib(), &lib).unwrap();
    std::fs::copy(root().join("tests/exim/record.sh"), dir.join("record.sh")).unwrap();
    exim::run(Command::new("chmod").args(["-R", "a+rX"]).arg(&dir));
    exim::run(
        Command::new("chown")
            .args(["-R", "Debian-exim:Debian-exim"])
            .arg(dir.join("spool"))
            .arg(dir.join("log"))
            .arg(dir.join("out")),
    );
    let exim_conf = dir.join("exim.conf");
    std::fs::write(&exim_conf, exim::recipe(&dir, &lib, &conf)).unwrap();

    let milter = Milter::start(
        Path::new(MILTER),
        &dir.join("milter.sock"),
        &dir.join("milter.log"),
        &[
            "--config",
            conf.to_str().unwrap(),
            // As the recipe's `domainlist mailman_domains`.
            "--mailman-domain",
            "example.com,lists.example",
        ],
    );
    let port = 25313;
    let pf = Postfix::start(
        &dir.join("postfix"),
        &[Listener {
            port,
            milter: Some(format!("unix:{}", milter.socket.display())),
        }],
        "",
    );
    let cases = [
        Case::new("s-member", "alice@example.com", &["test@example.com"]),
        Case::new(
            "s-nonmember",
            "out@elsewhere.example",
            &["strict@example.com"],
        ),
        Case::new("s-moderated", "bob@example.com", &["strict@example.com"]),
        Case::new("s-held", "out@elsewhere.example", &["test@example.com"]),
        Case::new("s-discard", "discard@foo.org", &["test@example.com"]),
        Case::new(
            "s-unknown",
            "alice@example.com",
            &["nosuchlist@example.com"],
        ),
        Case::new(
            "s-request",
            "out@elsewhere.example",
            &["strict-request@example.com"],
        ),
        Case::new(
            "s-owner",
            "out@elsewhere.example",
            &["strict-owner@example.com"],
        ),
        Case::new(
            "s-two",
            "alice@example.com",
            &["test@example.com", "other@example.com"],
        ),
        Case::new(
            "s-postmaster-first",
            "alice@example.com",
            &["postmaster@example.com", "test@example.com"],
        ),
        Case::new(
            "s-postmaster",
            "out@elsewhere.example",
            &["postmaster@lists.example"],
        ),
        Case::new("s-corrupt", "bob@example.com", &["corrupt@example.com"]),
        Case::new("s-broken", "out@elsewhere.example", &["broken@example.com"]),
        Case {
            filler: 900,
            ..Case::new(
                "s-bighead",
                "out@elsewhere.example",
                &["strict@example.com"],
            )
        },
    ];
    let mut refusals = 0;
    for c in &cases {
        let (er, el) = exim::bh(
            &exim_conf,
            &exim::Msg {
                from: c.from,
                to: c.to,
                headers: c.headers(),
                body: "Hello list.\n",
            },
        );
        let e = outcome(&er, c.to.len());
        let t = c.send_to(&dir, port);
        let p = outcome(&postfix::replies(&t), c.to.len());
        // swaks sends no DATA once every recipient is refused; Exim -bh
        // gets its 503 for it.
        let e = if p.data.is_none() && e.rcpt.iter().all(|r| !r.0.starts_with('2')) {
            Outcome { data: None, ..e }
        } else {
            e
        };
        assert_eq!(
            p,
            e,
            "{}: Postfix+milter differs from Exim\n--- Exim:\n{}\n{}\n--- Postfix:\n{t}\n--- milter:\n{}",
            c.subject,
            er.join("\n"),
            el.join("\n"),
            milter.log_text()
        );
        refusals += p
            .rcpt
            .iter()
            .chain(p.data.iter())
            .filter(|r| !r.0.starts_with('2'))
            .count();
    }
    // The table exercises refusals at RCPT and after DATA, not only 250s.
    assert!(refusals >= 6, "{refusals}");
    drop(pf);
    drop(milter);
    let _ = std::fs::remove_dir_all(&dir);
}

/// Socket activation: the milter serves the socket systemd hands over
/// (`systemd-socket-activate` stands in for systemd's .socket unit), and
/// speaks the protocol on it: negotiation, then a refusal at RCPT.
#[test]
fn milter_takes_the_socket_from_systemd() {
    use std::io::{Read, Write};
    let activate = "/usr/bin/systemd-socket-activate";
    if !Path::new(activate).exists() {
        eprintln!("skipped: needs {activate} (package systemd)");
        return;
    }
    let dir = std::env::temp_dir().join(format!("mailman-gate-pf-sd-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let conf = dir.join("gate.conf");
    std::fs::write(
        &conf,
        format!(
            "lists_dir = {}\n",
            root().join("tests/fixtures/lists").display()
        ),
    )
    .unwrap();
    let sock = dir.join("activated.sock");
    let log = std::fs::File::create(dir.join("milter.log")).unwrap();
    let mut child = Command::new(activate)
        .arg("-l")
        .arg(&sock)
        .arg(MILTER)
        .arg("--config")
        .arg(&conf)
        .args(["--mailman-domain", "example.com"])
        .stderr(log)
        .spawn()
        .unwrap();
    let start = Instant::now();
    while !sock.exists() {
        assert!(start.elapsed() < Duration::from_secs(10), "no socket");
        std::thread::sleep(Duration::from_millis(20));
    }
    let mut s = std::os::unix::net::UnixStream::connect(&sock).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    let send = |s: &mut std::os::unix::net::UnixStream, cmd: u8, data: &[u8]| {
        let mut p = ((data.len() + 1) as u32).to_be_bytes().to_vec();
        p.push(cmd);
        p.extend_from_slice(data);
        s.write_all(&p).unwrap();
    };
    let recv = |s: &mut std::os::unix::net::UnixStream| {
        let mut len = [0u8; 4];
        s.read_exact(&mut len).unwrap();
        let mut b = vec![0u8; u32::from_be_bytes(len) as usize];
        s.read_exact(&mut b).unwrap();
        b
    };
    // Version 6, no actions, every protocol option offered.
    let mut neg = 6u32.to_be_bytes().to_vec();
    neg.extend_from_slice(&0u32.to_be_bytes());
    neg.extend_from_slice(&0x1f_ffffu32.to_be_bytes());
    send(&mut s, b'O', &neg);
    let r = recv(&mut s);
    assert_eq!(r[0], b'O');
    let opts = u32::from_be_bytes(r[9..13].try_into().unwrap());
    assert!(opts & 0x10_0000 != 0, "header values as sent: {opts:#x}");
    assert!(opts & 0x4000 != 0, "no reply to MAIL: {opts:#x}");
    send(&mut s, b'M', b"<alice@example.com>\0");
    send(&mut s, b'R', b"<nosuchlist@example.com>\0");
    let r = recv(&mut s);
    assert_eq!(r[0], b'y', "{:?}", String::from_utf8_lossy(&r));
    assert!(String::from_utf8_lossy(&r[1..]).starts_with("550 5.1.1 No such mailing list"));
    drop(s);
    // SIGTERM: a clean exit.
    // SAFETY: signalling the child this test started.
    unsafe { libc::kill(child.id() as i32, libc::SIGTERM) };
    let start = Instant::now();
    let status = loop {
        if let Some(st) = child.try_wait().unwrap() {
            break st;
        }
        assert!(
            start.elapsed() < Duration::from_secs(10),
            "no exit on SIGTERM"
        );
        std::thread::sleep(Duration::from_millis(20));
    };
    let text = std::fs::read_to_string(dir.join("milter.log")).unwrap();
    assert!(status.success(), "{status:?}: {text}");
    assert!(text.contains("socket from systemd"), "{text}");
    let _ = std::fs::remove_dir_all(&dir);
}
