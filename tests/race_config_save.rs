//! Readers against a writer that saves `config.pck` the way Mailman's
//! `MailList.__save` does, over and over:
//!
//! 1. write `config.pck.tmp.<host>.<pid>` (and fsync it),
//! 2. unlink `config.pck.last`,
//! 3. hard-link `config.pck` to `config.pck.last`,
//! 4. rename the temporary file over `config.pck`.
//!
//! The writer alternates between two states of the `test` fixture list
//! that differ only in `generic_nonmember_action` (1: hold, 2: reject), so
//! a non-member's post gets a different verdict from each. Threads sharing
//! one `Gate` and separate `mailman-gate check` processes decide the same
//! message all the while: every answer must be exactly one of the two
//! reference verdicts (never an error, a fallback to `config.pck.last`
//! text, or a mix), and once the writer stops every reader sees its last
//! state.
//!
//! Bounded: `RACE_SECONDS` (default 3) seconds of writing.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use mailman_gate::address::Kind;
use mailman_gate::gate::Gate;
use mailman_gate::site::Site;

const MESSAGE: &str = "From: out@elsewhere.example\nTo: test@example.com\nSubject: race\nMessage-ID: <race@elsewhere.example>\n\nHello.\n";
const SENDER: &str = "out@elsewhere.example";

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn scratch(name: &str) -> PathBuf {
    let d = Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

fn has_python() -> bool {
    Command::new("python3")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success())
}

/// The fixture's `config.pck` with `generic_nonmember_action` set to
/// `action`: rebuilt by `tools/py2pickle.py` from a dump of the fixture
/// when python3 is there (both states then come out of the same writer),
/// else the fixture's own bytes with the BININT1 value patched.
fn state(work: &Path, action: u8) -> Vec<u8> {
    let fixture = root().join("tests/fixtures/lists/test/config.pck");
    if has_python() {
        let tool = root().join("tools/py2pickle.py");
        let json = work.join("test.json");
        if !json.exists() {
            let o = Command::new("python3")
                .arg(&tool)
                .arg("dump")
                .arg(&fixture)
                .arg("-o")
                .arg(&json)
                .output()
                .unwrap();
            assert!(json.exists(), "{}", String::from_utf8_lossy(&o.stderr));
        }
        let text = std::fs::read_to_string(&json).unwrap();
        let needle = "\"generic_nonmember_action\": 1,";
        assert_eq!(text.matches(needle).count(), 1, "one setting in the dump");
        let desc = work.join(format!("state{action}.json"));
        std::fs::write(
            &desc,
            text.replace(needle, &format!("\"generic_nonmember_action\": {action},")),
        )
        .unwrap();
        let out = work.join(format!("state{action}.pck"));
        let o = Command::new("python3")
            .arg(&tool)
            .arg("build")
            .arg(&desc)
            .arg("-o")
            .arg(&out)
            .output()
            .unwrap();
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        return std::fs::read(&out).unwrap();
    }
    let mut data = std::fs::read(&fixture).unwrap();
    let key = b"generic_nonmember_action";
    let at = data.windows(key.len()).position(|w| w == key).unwrap() + key.len();
    // The key is followed by its memo PUT (BINPUT n) and the BININT1 value.
    let k = (at..at + 4).find(|&i| data[i] == b'K').unwrap();
    data[k + 1] = action;
    data
}

/// A verdict as a comparable string.
fn gate_answer(g: &Gate) -> String {
    match g.check("test", Kind::Post, Some(SENDER), MESSAGE.as_bytes()) {
        Ok(v) => format!(
            "{} {:?} {:?} trace0={:?}",
            v.action.as_str(),
            v.step.map(|s| s.as_str()),
            v.reason,
            v.trace.first().filter(|t| t.contains("config.pck.last"))
        ),
        Err(e) => format!("error: {e}"),
    }
}

fn gate(lists: &Path) -> Gate {
    Gate::new(Site::for_lists(lists))
}

fn cli_answer(lists: &Path, msg: &Path) -> String {
    let o = Command::new(env!("CARGO_BIN_EXE_mailman-gate"))
        .arg("check")
        .arg("--lists")
        .arg(lists)
        .args(["--list", "test", "--sender", SENDER, "--json", "--message"])
        .arg(msg)
        .output()
        .unwrap();
    format!(
        "exit={:?} out={} err={}",
        o.status.code(),
        String::from_utf8_lossy(&o.stdout).trim(),
        String::from_utf8_lossy(&o.stderr).trim()
    )
}

/// One save, step by step as Mailman's `MailList.__save`.
fn mailman_save(dir: &Path, data: &[u8], pid: u32) {
    use std::io::Write;
    let pck = dir.join("config.pck");
    let last = dir.join("config.pck.last");
    let tmp = dir.join(format!("config.pck.tmp.mx.test.example.{pid}"));
    let mut f = std::fs::File::create(&tmp).unwrap();
    f.write_all(data).unwrap();
    f.flush().unwrap();
    f.sync_all().unwrap();
    drop(f);
    match std::fs::remove_file(&last) {
        Err(e) if e.kind() != std::io::ErrorKind::NotFound => panic!("unlink: {e}"),
        _ => {}
    }
    std::fs::hard_link(&pck, &last).unwrap();
    std::fs::rename(&tmp, &pck).unwrap();
}

#[test]
fn readers_see_whole_generations_while_mailman_saves() {
    let work = scratch("race-save");
    let states = [state(&work, 1), state(&work, 2)];
    let msg = work.join("post.eml");
    std::fs::write(&msg, MESSAGE).unwrap();

    // Reference verdicts, each from a directory holding only that state.
    let mut refs_gate = Vec::new();
    let mut refs_cli = Vec::new();
    for (i, s) in states.iter().enumerate() {
        let lists = work.join(format!("ref{i}"));
        std::fs::create_dir_all(lists.join("test")).unwrap();
        std::fs::write(lists.join("test/config.pck"), s).unwrap();
        refs_gate.push(gate_answer(&gate(&lists)));
        refs_cli.push(cli_answer(&lists, &msg));
    }
    assert!(refs_gate[0].starts_with("hold "), "{}", refs_gate[0]);
    assert!(refs_gate[1].starts_with("reject "), "{}", refs_gate[1]);
    assert!(refs_cli[0].starts_with("exit=Some(0)"), "{}", refs_cli[0]);
    assert_ne!(refs_cli[0], refs_cli[1]);

    // The live list, first saved in state 0.
    let lists = work.join("lists");
    let dir = lists.join("test");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("config.pck"), &states[0]).unwrap();
    std::fs::write(dir.join("config.pck.last"), &states[0]).unwrap();

    let seconds: u64 = std::env::var("RACE_SECONDS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(3);
    let stop = Arc::new(AtomicBool::new(false));
    let saves = Arc::new(AtomicUsize::new(0));
    let shared = Arc::new(gate(&lists));

    let writer = {
        let (stop, saves, dir, states) = (stop.clone(), saves.clone(), dir.clone(), states.clone());
        std::thread::spawn(move || {
            let deadline = Instant::now() + Duration::from_secs(seconds);
            let mut n = 0usize;
            while Instant::now() < deadline {
                n += 1;
                mailman_save(&dir, &states[n % 2], 4242);
                saves.store(n, Ordering::SeqCst);
            }
            stop.store(true, Ordering::SeqCst);
            n % 2
        })
    };

    let mut readers = Vec::new();
    for _ in 0..3 {
        let (stop, g, refs) = (stop.clone(), shared.clone(), refs_gate.clone());
        readers.push(std::thread::spawn(move || {
            let mut seen = [0usize; 2];
            while !stop.load(Ordering::SeqCst) {
                let a = gate_answer(&g);
                let i = refs
                    .iter()
                    .position(|r| *r == a)
                    .unwrap_or_else(|| panic!("thread verdict {a:?} is neither {refs:?}"));
                seen[i] += 1;
            }
            seen
        }));
    }
    let mut spawners = Vec::new();
    for _ in 0..2 {
        let (stop, lists, msg, refs) = (stop.clone(), lists.clone(), msg.clone(), refs_cli.clone());
        spawners.push(std::thread::spawn(move || {
            let mut seen = [0usize; 2];
            while !stop.load(Ordering::SeqCst) {
                let a = cli_answer(&lists, &msg);
                let i = refs
                    .iter()
                    .position(|r| *r == a)
                    .unwrap_or_else(|| panic!("process verdict {a:?} is neither {refs:?}"));
                seen[i] += 1;
            }
            seen
        }));
    }

    let last = writer.join().unwrap();
    let mut threads = [0usize; 2];
    for r in readers {
        let s = r.join().unwrap();
        threads[0] += s[0];
        threads[1] += s[1];
    }
    let mut procs = [0usize; 2];
    for r in spawners {
        let s = r.join().unwrap();
        procs[0] += s[0];
        procs[1] += s[1];
    }
    eprintln!(
        "{} saves; thread verdicts hold/reject {:?}; process verdicts {:?}",
        saves.load(Ordering::SeqCst),
        threads,
        procs
    );
    assert!(saves.load(Ordering::SeqCst) > 10, "the writer ran");
    assert!(threads.iter().sum::<usize>() > 10, "the threads ran");
    assert!(procs.iter().sum::<usize>() > 2, "the processes ran");

    // Quiet again: the shared gate and a new process see the last save.
    assert_eq!(
        gate_answer(&shared),
        refs_gate[last],
        "shared gate is fresh"
    );
    assert_eq!(cli_answer(&lists, &msg), refs_cli[last]);
    let _ = std::fs::remove_dir_all(&work);
}

/// Save after save, each checked right away by one long-lived gate: a new
/// generation is seen even when it has the same size, lands in the same
/// timestamp tick as the one before and reuses a freed inode number (a
/// `(dev, inode, size, mtime)` match on another file's contents).
#[test]
fn every_save_is_seen_at_once() {
    let work = scratch("race-seq");
    let states = [state(&work, 1), state(&work, 2)];
    assert_eq!(states[0].len(), states[1].len(), "same size: the hard case");
    let lists = work.join("lists");
    let dir = lists.join("test");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("config.pck"), &states[0]).unwrap();
    let g = gate(&lists);
    let refs: Vec<String> = (0..2)
        .map(|i| {
            let l = work.join(format!("ref{i}"));
            std::fs::create_dir_all(l.join("test")).unwrap();
            std::fs::write(l.join("test/config.pck"), &states[i]).unwrap();
            gate_answer(&gate(&l))
        })
        .collect();
    let mut stale = Vec::new();
    for n in 1..=2000usize {
        mailman_save(&dir, &states[n % 2], 4242);
        if gate_answer(&g) != refs[n % 2] {
            stale.push(n);
        }
    }
    let _ = std::fs::remove_dir_all(&work);
    assert!(stale.is_empty(), "stale verdicts after saves {stale:?}");
}
