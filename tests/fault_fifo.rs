//! A FIFO (or a directory) where `config.pck` or a snapshot should be is
//! refused at once: opening a FIFO for reading must not wait for a writer
//! (that would hang the SMTP session).

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use mailman_gate::address::Kind;
use mailman_gate::gate::Gate;
use mailman_gate::site::Site;
use mailman_gate::snapshot::open_snapshot;
use mailman_gate::store::StoreError;

const POST: &[u8] = b"From: alice@example.com\nTo: test@example.com\nSubject: hi\n\nHello.\n";

fn lists_with_test() -> PathBuf {
    let d =
        Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("fault-fifo-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    let lists = d.join("lists");
    std::fs::create_dir_all(lists.join("test")).unwrap();
    for f in ["config.pck", "config.pck.last"] {
        std::fs::copy(
            Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/lists/test/config.pck"),
            lists.join("test").join(f),
        )
        .unwrap();
    }
    lists
}

fn gate(lists: &Path) -> Gate {
    Gate::new(Site::for_lists(lists))
}

/// A FIFO (or a directory) where `config.pck` should be is refused at
/// once: opening a FIFO for reading must not wait for a writer.
#[test]
fn fifo_or_directory_as_config_pck_does_not_hang() {
    let lists = lists_with_test();
    let pck = lists.join("test/config.pck");
    std::fs::remove_file(&pck).unwrap();
    let c = std::ffi::CString::new(pck.to_str().unwrap()).unwrap();
    // SAFETY: mkfifo with a valid path.
    assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o644) }, 0);
    let started = Instant::now();
    let o = Command::new(env!("CARGO_BIN_EXE_mailman-gate"))
        .args(["check", "--lists", lists.to_str().unwrap()])
        .args(["--list", "test", "--sender", "a@b.example", "--json"])
        .stdin(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let mut child = o;
    let status = loop {
        if let Some(s) = child.try_wait().unwrap() {
            break s;
        }
        if started.elapsed() > Duration::from_secs(10) {
            let _ = child.kill();
            let _ = child.wait();
            panic!("check hung on a FIFO config.pck");
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    assert_eq!(status.code(), Some(3));
    let g = gate(&lists);
    match g.check("test", Kind::Post, None, POST) {
        Err(StoreError::Unreadable { error, .. }) => assert_eq!(error, "not a regular file"),
        other => panic!("{other:?}"),
    }
    std::fs::remove_file(&pck).unwrap();
    std::fs::create_dir(&pck).unwrap();
    match g.check("test", Kind::Post, None, POST) {
        Err(StoreError::Unreadable { error, .. }) => assert_eq!(error, "not a regular file"),
        other => panic!("{other:?}"),
    }
    // A FIFO where a snapshot should be: refused, not waited on.
    let snap = lists.join("test.snap");
    let c = std::ffi::CString::new(snap.to_str().unwrap()).unwrap();
    // SAFETY: mkfifo with a valid path.
    assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o644) }, 0);
    let Err(e) = open_snapshot(&snap) else {
        panic!("opened a snapshot that is not there");
    };
    assert!(e.to_string().contains("not a regular file"), "{e}");
    let _ = std::fs::remove_dir_all(lists.parent().unwrap());
}
