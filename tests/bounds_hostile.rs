//! Bounded work under hostile input: every message of
//! `tools/hostile_corpus.py` (MIME bombs, deep nesting, header floods,
//! huge lines, blank-line floods, encoded bodies, huge address lists) and
//! a list of many members go through `mailman-gate check` in a process of
//! its own; its peak RSS must stay under 64 MiB + 2 x the message size and
//! its time under a generous bound, and the answer is never a refusal
//! Mailman would not give (here: never reject or discard; a hold only for
//! the reasons Mailman gives these messages). The precise figures are
//! `tools/bounds_measure.sh`'s (README, "Reliability").

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn python() -> Option<&'static str> {
    ["python3", "python"].into_iter().find(|p| {
        Command::new(p)
            .arg("--version")
            .output()
            .is_ok_and(|o| o.status.success())
    })
}

struct Run {
    json: serde_json::Value,
    rss_kib: i64,
    elapsed: Duration,
}

/// `mailman-gate check` on `message`, reaped with `wait4` for its rusage.
// The child is reaped by `wait4`, which clippy cannot see.
#[allow(clippy::zombie_processes)]
fn check(lists: &Path, list: &str, sender: &str, message: &Path) -> Run {
    let t = Instant::now();
    let mut child = Command::new(env!("CARGO_BIN_EXE_mailman-gate"))
        .args(["check", "--lists"])
        .arg(lists)
        .args(["--list", list, "--sender", sender, "--json", "--message"])
        .arg(message)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut out = String::new();
    std::io::Read::read_to_string(&mut child.stdout.take().unwrap(), &mut out).unwrap();
    let mut status = 0;
    // SAFETY: zeroed rusage is a valid out-parameter; the pid is our
    // child, not yet reaped.
    let mut ru: libc::rusage = unsafe { std::mem::zeroed() };
    let pid = unsafe { libc::wait4(child.id() as libc::pid_t, &mut status, 0, &mut ru) };
    assert!(pid > 0);
    let elapsed = t.elapsed();
    assert!(
        libc::WIFEXITED(status),
        "{}: killed by signal {}",
        message.display(),
        libc::WTERMSIG(status)
    );
    let json = serde_json::from_str(out.trim())
        .unwrap_or_else(|e| panic!("{}: {e}: {out:?}", message.display()));
    Run {
        json,
        rss_kib: ru.ru_maxrss,
        elapsed,
    }
}

fn corpus(size: usize) -> Option<(PathBuf, serde_json::Value)> {
    let py = python()?;
    let out = Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("hostile-{size}"));
    let st = Command::new(py)
        .arg(root().join("tools/hostile_corpus.py"))
        .args(["messages", "--size", &size.to_string(), "--out"])
        .arg(&out)
        .stdout(Stdio::null())
        .status()
        .unwrap();
    assert!(st.success(), "hostile_corpus.py messages");
    let manifest = std::fs::read_to_string(out.join("manifest.json")).unwrap();
    Some((out, serde_json::from_str(&manifest).unwrap()))
}

/// Generous: a shared 2-core machine, other builds running.
const TIME_LIMIT: Duration = Duration::from_secs(20);

#[test]
fn hostile_messages_are_bounded() {
    let Some((_, manifest)) = corpus(8 << 20) else {
        eprintln!("skipped: no python3");
        return;
    };
    let lists = root().join("tests/fixtures/lists");
    let mut undecided = 0;
    for m in manifest.as_array().unwrap() {
        let name = m["name"].as_str().unwrap();
        let file = Path::new(m["file"].as_str().unwrap());
        let bytes = m["bytes"].as_i64().unwrap();
        // A member and a non-member of `test` (whose max_message_size is
        // 40 KB: Mailman holds every big message of a member).
        for sender in ["alice@example.com", "out@elsewhere.example"] {
            let r = check(&lists, "test", sender, file);
            let bound_kib = (64 << 10) + 2 * bytes / 1024;
            eprintln!(
                "{name:24} {sender:22} {:>6} ms {:>7} KiB  {}",
                r.elapsed.as_millis(),
                r.rss_kib,
                r.json
            );
            assert!(
                r.rss_kib < bound_kib,
                "{name}: peak RSS {} KiB over {bound_kib} KiB",
                r.rss_kib
            );
            assert!(r.elapsed < TIME_LIMIT, "{name}: {:?}", r.elapsed);
            let action = r.json["action"].as_str().unwrap();
            let reason = r.json["reason"].as_str().unwrap_or("");
            if r.json["undecided"].is_string() {
                assert_eq!(action, "accept", "{name}: {}", r.json);
                undecided += 1;
                continue;
            }
            match (sender, action) {
                (_, "accept") => {}
                ("alice@example.com", "hold") => assert!(
                    reason.contains("too big")
                        || reason.contains("administrivia")
                        || reason.contains("Too many recipients"),
                    "{name}: {}",
                    r.json
                ),
                // test's generic_nonmember_action is hold.
                ("out@elsewhere.example", "hold") => {}
                _ => panic!("{name}: {}", r.json),
            }
        }
    }
    assert!(undecided > 0, "some attacks pass the parser's limits");
}

/// A list of 100 000 members (16 MiB config.pck), parsed and looked up:
/// bounded like any list state.
#[test]
fn a_large_member_list_is_bounded() {
    let Some(py) = python() else {
        eprintln!("skipped: no python3");
        return;
    };
    let out = Path::new(env!("CARGO_TARGET_TMPDIR")).join("hostile-lists");
    if !out.join("huge/config.pck").exists() {
        let st = Command::new(py)
            .arg(root().join("tools/hostile_corpus.py"))
            .args(["lists", "--members", "100000", "--out"])
            .arg(&out)
            .stdout(Stdio::null())
            .status()
            .unwrap();
        assert!(st.success());
    }
    let pck = std::fs::metadata(out.join("huge/config.pck"))
        .unwrap()
        .len() as i64;
    let msg = out.join("post.eml");
    std::fs::write(
        &msg,
        "From: nobody@elsewhere.example\nSubject: hi\n\nhello\n",
    )
    .unwrap();
    let r = check(&out, "huge", "nobody@elsewhere.example", &msg);
    eprintln!(
        "huge list: {} ms, {} KiB, {}",
        r.elapsed.as_millis(),
        r.rss_kib,
        r.json
    );
    // Parsing config.pck (members as a map) costs about 5 x its size
    // here; the bound is generous (the figures: tools/bounds_measure.sh).
    assert!(r.rss_kib < (64 << 10) + 8 * pck / 1024, "{} KiB", r.rss_kib);
    assert!(r.elapsed < TIME_LIMIT);
    assert!(r.json["action"].is_string());
}
