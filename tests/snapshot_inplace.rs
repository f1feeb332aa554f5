//! A snapshot changed under a gate that holds it open: truncated or
//! rewritten in place (`cp` over it, `rsync --inplace`, a shared file
//! system written from another host) gives the old verdict, a fresh one or
//! an undecided one (accepted for Mailman), never a signal: snapshots are
//! read with `pread`, not mapped, so nothing can fault with SIGBUS. And a
//! snapshot under another list's name is refused.

use std::io::Write;
use std::path::{Path, PathBuf};

use mailman_gate::address::Kind;
use mailman_gate::decide::{Action, Verdict};
use mailman_gate::export::export;
use mailman_gate::gate::Gate;
use mailman_gate::site::Site;
use mailman_gate::snapshot::open_snapshot;
use mailman_gate::store::{Layout, NameRule, Store};

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/lists")
}

fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("mmgate-inplace-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    for list in ["test", "other"] {
        let to = dir.join("lists").join(list);
        std::fs::create_dir_all(&to).unwrap();
        std::fs::copy(
            fixtures().join(list).join("config.pck"),
            to.join("config.pck"),
        )
        .unwrap();
    }
    std::fs::create_dir_all(dir.join("snap")).unwrap();
    let store = Store::new(dir.join("lists"), Layout::Standard, NameRule::default())
        .with_snapshots(Some(dir.join("snap")));
    let r = export(&store, None, false);
    assert!(r.failed.is_empty(), "{r:?}");
    dir
}

fn site(dir: &Path, with_lists: bool) -> Site {
    let mut site = Site::for_lists(if with_lists {
        dir.join("lists")
    } else {
        dir.join("no-lists-here")
    });
    site.lists.snapshot_dir = Some(dir.join("snap"));
    site
}

fn post(from: &str) -> Vec<u8> {
    format!("From: {from}\nTo: test@example.com\nSubject: hello\nMessage-ID: <1@x>\n\nHello.\n")
        .into_bytes()
}

/// The verdicts for a member, a moderated member and a non-member.
fn verdicts(g: &Gate) -> Vec<Result<Verdict, String>> {
    [
        "alice@example.com",
        "bob@example.com",
        "out@elsewhere.example",
    ]
    .iter()
    .map(|from| {
        g.check("test", Kind::Post, Some(from), &post(from))
            .map_err(|e| e.to_string())
    })
    .collect()
}

/// Same verdict as before, or undecided (accepted), or an error the MTA
/// answers with 250: never a refusal the first gate did not give.
fn old_or_undecided(before: &[Result<Verdict, String>], after: &[Result<Verdict, String>]) {
    for (b, a) in before.iter().zip(after) {
        let b = b.as_ref().unwrap();
        match a {
            Ok(a) if a.undecided.is_some() => assert_eq!(a.action, Action::Accept, "{a:?}"),
            Ok(a) => assert_eq!((a.action, &a.reason), (b.action, &b.reason), "{a:?}"),
            Err(_) => {}
        }
    }
}

/// A change made to the snapshot file.
type Change<'a> = Box<dyn Fn(&Path) + 'a>;

/// Write `bytes` over `path` in place (same inode), as `cp` does.
fn overwrite_in_place(path: &Path, bytes: &[u8]) {
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .truncate(true)
        .open(path)
        .unwrap();
    f.write_all(bytes).unwrap();
}

#[test]
fn a_snapshot_changed_in_place_under_an_open_gate() {
    for with_lists in [true, false] {
        let dir = scratch(&format!("change-{with_lists}"));
        let snap = dir.join("snap/test.cdb");
        let original = std::fs::read(&snap).unwrap();
        let other = std::fs::read(dir.join("snap/other.cdb")).unwrap();
        let mut flipped = original.clone();
        let n = flipped.len();
        for b in &mut flipped[n / 2..] {
            *b ^= 0x55;
        }
        let changes: Vec<(&str, Change)> = vec![
            ("truncated to 0", Box::new(|p| overwrite_in_place(p, b""))),
            (
                "truncated to 3000 bytes",
                Box::new(|p| {
                    std::fs::OpenOptions::new()
                        .write(true)
                        .open(p)
                        .unwrap()
                        .set_len(3000)
                        .unwrap()
                }),
            ),
            (
                "cut in half",
                Box::new(|p| overwrite_in_place(p, &original[..original.len() / 2])),
            ),
            (
                "another list's snapshot copied over it",
                Box::new(|p| overwrite_in_place(p, &other)),
            ),
            (
                "same size, second half changed",
                Box::new(|p| {
                    std::thread::sleep(std::time::Duration::from_millis(20));
                    overwrite_in_place(p, &flipped)
                }),
            ),
        ];
        for (what, change) in &changes {
            overwrite_in_place(&snap, &original);
            let g = Gate::new(site(&dir, with_lists));
            let before = verdicts(&g);
            assert!(before.iter().all(Result::is_ok), "{what}: {before:?}");
            let held = before[1].as_ref().unwrap();
            assert_eq!(held.action, Action::Hold, "{what}: the moderated member");
            change(&snap);
            let after = verdicts(&g);
            old_or_undecided(&before, &after);
            // The changed file is noticed: not every answer is the old one.
            assert!(
                after
                    .iter()
                    .any(|a| a.as_ref().map_or(true, |v| v.undecided.is_some())),
                "{what} (lists {with_lists}): {after:?}"
            );
            // A new gate (a new connection) gets a fresh verdict or fails
            // open, never a refusal it should not give.
            let fresh = verdicts(&Gate::new(site(&dir, with_lists)));
            old_or_undecided(&before, &fresh);
            if with_lists {
                // config.pck is readable: the snapshot is rebuilt.
                assert!(fresh
                    .iter()
                    .all(|v| v.as_ref().is_ok_and(|v| v.undecided.is_none())));
                assert_eq!(open_snapshot(&snap).unwrap().list_name(), "test");
            }
        }
        let _ = std::fs::remove_dir_all(&dir);
    }
}

#[test]
fn a_snapshot_under_another_lists_name_is_refused() {
    let dir = scratch("other");
    let snap = dir.join("snap/test.cdb");
    // Replaced by renaming, as a copy tool does.
    let tmp = dir.join("snap/.test.cdb.tmp");
    std::fs::copy(dir.join("snap/other.cdb"), &tmp).unwrap();
    std::fs::rename(&tmp, &snap).unwrap();
    assert_eq!(open_snapshot(&snap).unwrap().list_name(), "other");

    // Only snapshots on this host: the list cannot be read (fails open);
    // never decided with the other list's policy.
    let g = Gate::new(site(&dir, false));
    for v in verdicts(&g) {
        let e = v.unwrap_err();
        assert!(e.contains("another list") && e.contains("other"), "{e}");
    }

    // config.pck is readable: the snapshot is rebuilt for the right list.
    let g = Gate::new(site(&dir, true));
    let v = verdicts(&g);
    assert_eq!(v[0].as_ref().unwrap().action, Action::Accept);
    assert_eq!(v[1].as_ref().unwrap().action, Action::Hold);
    assert_eq!(open_snapshot(&snap).unwrap().list_name(), "test");
    let _ = std::fs::remove_dir_all(&dir);
}

/// Within one revalidation round a member lookup answered once is reused
/// for the same address (a verdict asks more than once); another address,
/// or the same one after the round, reads the file again and sees that it
/// changed.
#[test]
fn a_lookup_is_reused_within_its_round_only() {
    let dir = scratch("round");
    let path = dir.join("snap").join("test.cdb");
    let snap = open_snapshot(&path).unwrap();
    let policy = snap.into_policy();
    mailman_gate::store::begin_round();
    assert!(policy.try_member("alice@example.com").unwrap().is_some());
    std::fs::OpenOptions::new()
        .write(true)
        .open(&path)
        .unwrap()
        .set_len(2100)
        .unwrap();
    assert!(policy.try_member("alice@example.com").unwrap().is_some());
    assert!(policy.try_member("bob@example.com").is_err());
    mailman_gate::store::end_round();
    assert!(policy.try_member("alice@example.com").is_err());
    std::fs::remove_dir_all(&dir).unwrap();
}
