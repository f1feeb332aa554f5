//! Faults in the list store and the snapshot directory: each gives a clear
//! error (and at the SMTP edge an accept with a log line), never a panic,
//! a hang or a refusal.
//!
//! Permission faults need an unprivileged process (root reads anything):
//! the `mailman-gate` command is run as `nobody` through `setpriv`. The
//! full and read-only snapshot directories are small tmpfs mounts; both
//! are skipped with a note when not running as root or when `mount` is
//! refused.

use std::path::{Path, PathBuf};
use std::process::Command;

use mailman_gate::address::Kind;
use mailman_gate::answer::{Answer, RcptAnswer, RcptContext};
use mailman_gate::gate::Gate;
use mailman_gate::site::Site;
use mailman_gate::snapshot::{open_snapshot, write_snapshot};
use mailman_gate::store::StoreError;

const POST: &[u8] = b"From: alice@example.com\nTo: test@example.com\nSubject: hi\n\nHello.\n";

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// A scratch directory under /tmp (world-searchable, for `nobody`).
fn scratch(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("mg-fault-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    chmod(&d, 0o755);
    d
}

fn chmod(p: &Path, mode: u32) {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(p, std::fs::Permissions::from_mode(mode)).unwrap();
}

/// A lists directory holding a copy of the `test` fixture list.
fn lists_with_test(name: &str) -> PathBuf {
    let d = scratch(name);
    let lists = d.join("lists");
    std::fs::create_dir_all(lists.join("test")).unwrap();
    for f in ["config.pck", "config.pck.last"] {
        std::fs::copy(
            root().join("tests/fixtures/lists/test").join(f),
            lists.join("test").join(f),
        )
        .unwrap();
    }
    for p in [&lists, &lists.join("test")] {
        chmod(p, 0o755);
    }
    lists
}

fn gate(lists: &Path) -> Gate {
    Gate::new(Site::for_lists(lists))
}

fn is_root() -> bool {
    // SAFETY: geteuid has no preconditions.
    unsafe { libc::geteuid() == 0 }
}

/// Run the command as `nobody`; None when that is not possible here.
fn cli_as_nobody(args: &[&str]) -> Option<(i32, String, String)> {
    if !is_root() || Command::new("setpriv").arg("--version").output().is_err() {
        eprintln!("skipped: needs root and setpriv to run as nobody");
        return None;
    }
    let o = Command::new("setpriv")
        .args(["--reuid=nobody", "--regid=nogroup", "--clear-groups"])
        .arg(env!("CARGO_BIN_EXE_mailman-gate"))
        .args(args)
        .output()
        .unwrap();
    Some((
        o.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&o.stdout).into_owned(),
        String::from_utf8_lossy(&o.stderr).into_owned(),
    ))
}

const IN_MAILMAN_DOMAIN: RcptContext = RcptContext {
    mailman_domain: true,
    accepted_before: 0,
    list_before: false,
};

#[test]
fn unreadable_config_pck_is_exit_3_with_the_reason() {
    let lists = lists_with_test("eacces");
    for f in ["config.pck", "config.pck.last"] {
        chmod(&lists.join("test").join(f), 0o600);
    }
    let l = lists.to_str().unwrap();
    let Some((code, out, err)) = cli_as_nobody(&[
        "check",
        "--lists",
        l,
        "--list",
        "test",
        "--sender",
        "a@b.example",
        "--json",
    ]) else {
        return;
    };
    assert_eq!(code, 3, "{out}{err}");
    assert!(
        err.contains("cannot read") && err.contains("test/config.pck: Permission denied"),
        "{err}"
    );
    let (code, out, err) = cli_as_nobody(&["route", "--lists", l, "test", "example.com"]).unwrap();
    assert_eq!(code, 3, "{out}{err}");
    assert!(err.contains("Permission denied"), "{err}");
    let _ = std::fs::remove_dir_all(lists.parent().unwrap());
}

/// A list directory or lists directory that cannot be searched must not
/// make the list look absent: "no list" is a 550 in a Mailman domain.
#[test]
fn unsearchable_directories_are_errors_not_absent_lists() {
    let lists = lists_with_test("unsearchable");
    let l = lists.to_str().unwrap();
    chmod(&lists.join("test"), 0o700);
    let Some((code, out, err)) = cli_as_nobody(&["route", "--lists", l, "test", "example.com"])
    else {
        return;
    };
    assert_eq!(code, 3, "list dir 0700: {out}{err}");
    assert!(err.contains("test/config.pck: Permission denied"), "{err}");
    chmod(&lists.join("test"), 0o755);
    chmod(&lists, 0o700);
    let (code, out, err) = cli_as_nobody(&["route", "--lists", l, "test", "example.com"]).unwrap();
    assert_eq!(code, 3, "lists dir 0700: {out}{err}");
    assert!(err.contains("Permission denied"), "{err}");
    let _ = std::fs::remove_dir_all(lists.parent().unwrap());
}

#[test]
fn missing_lists_dir_is_an_error_and_never_a_refusal() {
    let g = gate(Path::new("/nonexistent/mailman/lists"));
    match g.route("test", "example.com") {
        Err(StoreError::Unreadable { path, error }) => {
            assert_eq!(path, Path::new("/nonexistent/mailman/lists"));
            assert!(error.contains("No such file or directory"), "{error}");
        }
        other => panic!("{other:?}"),
    }
    match g.rcpt_answer("test", "example.com", IN_MAILMAN_DOMAIN) {
        RcptAnswer::Refuse(Answer::Error(t)) => {
            assert!(t.contains("cannot route test@example.com"), "{t}")
        }
        other => panic!("{other:?}"),
    }
    let err = g.check("test", Kind::Post, None, POST).unwrap_err();
    assert_eq!(err.to_string(), "no such list: test");
    let (a, _) = g.data_answer("test", Kind::Post, Some("a@b.example"), POST, 1);
    assert!(matches!(a, Answer::Error(_)), "{a:?}");

    // A lists "directory" that is a file.
    let d = scratch("notadir");
    std::fs::write(d.join("lists"), "x").unwrap();
    let g = gate(&d.join("lists"));
    assert!(matches!(
        g.route("test", "example.com"),
        Err(StoreError::Unreadable { .. })
    ));
    let _ = std::fs::remove_dir_all(&d);

    // The command says so too.
    let o = Command::new(env!("CARGO_BIN_EXE_mailman-gate"))
        .args([
            "route",
            "--lists",
            "/nonexistent/mailman/lists",
            "test",
            "x.example",
        ])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(3));
    assert!(String::from_utf8_lossy(&o.stderr).contains("/nonexistent/mailman/lists"));
}

#[test]
fn unknown_list_in_a_present_lists_dir_is_still_no_list() {
    let lists = lists_with_test("unknown");
    // A stray file in the lists directory is no list, and no error.
    std::fs::write(lists.join("README"), "x").unwrap();
    let g = gate(&lists);
    assert_eq!(g.route("nosuch", "example.com").unwrap(), None);
    assert_eq!(g.route("readme", "example.com").unwrap(), None);
    assert!(matches!(
        g.rcpt_answer("nosuch", "example.com", IN_MAILMAN_DOMAIN),
        RcptAnswer::Refuse(Answer::Reject(_))
    ));
    let _ = std::fs::remove_dir_all(lists.parent().unwrap());
}

#[test]
fn list_deleted_and_restored_mid_session() {
    let lists = lists_with_test("deleted");
    let g = gate(&lists);
    let v = g.check("test", Kind::Post, None, POST).unwrap();
    assert_eq!(v.action.as_str(), "accept");

    let saved = lists.parent().unwrap().join("saved");
    std::fs::rename(lists.join("test"), &saved).unwrap();
    let e = g.check("test", Kind::Post, None, POST).unwrap_err();
    assert_eq!(e, StoreError::NoSuchList("test".into()));
    assert_eq!(g.route("test", "example.com").unwrap(), None);
    let (a, _) = g.data_answer("test", Kind::Post, Some("a@b.example"), POST, 1);
    assert!(
        matches!(&a, Answer::Error(t) if t == "list test: no such list: test"),
        "{a:?}"
    );

    // Only config.pck.last left (Mailman between unlink and rename would
    // never leave this, a crash might): read from it, and said so.
    std::fs::create_dir(lists.join("test")).unwrap();
    std::fs::copy(saved.join("config.pck"), lists.join("test/config.pck.last")).unwrap();
    let v = g.check("test", Kind::Post, None, POST).unwrap();
    assert_eq!(v.action.as_str(), "accept");
    assert!(
        v.trace[0].contains("config.pck.last (config.pck is missing)"),
        "{:?}",
        v.trace
    );

    // config.pck back, then emptied in place: the .last fallback again.
    std::fs::copy(saved.join("config.pck"), lists.join("test/config.pck")).unwrap();
    let v = g.check("test", Kind::Post, None, POST).unwrap();
    assert!(!v.trace[0].contains("config.pck.last"), "{:?}", v.trace);
    std::fs::write(lists.join("test/config.pck"), b"").unwrap();
    let v = g.check("test", Kind::Post, None, POST).unwrap();
    assert!(
        v.trace[0].contains("config.pck.last (config.pck:"),
        "{:?}",
        v.trace
    );

    // Both unusable: Corrupt, with both reasons (a new gate: the cache
    // follows config.pck, which Mailman always writes with .last).
    std::fs::write(lists.join("test/config.pck.last"), b"\x80\x02}q").unwrap();
    let g = gate(&lists);
    let e = g.check("test", Kind::Post, None, POST).unwrap_err();
    assert!(
        matches!(&e, StoreError::Corrupt { list, detail } if list == "test" && detail.contains("config.pck.last")),
        "{e}"
    );
    let _ = std::fs::remove_dir_all(lists.parent().unwrap());
}

/// A tmpfs mounted at `dir` with `opts`, unmounted on drop.
struct Mount(PathBuf);

impl Mount {
    fn new(dir: &Path, opts: &str) -> Option<Mount> {
        if !is_root() {
            eprintln!("skipped: mounting a tmpfs needs root");
            return None;
        }
        std::fs::create_dir_all(dir).unwrap();
        let o = Command::new("mount")
            .args(["-t", "tmpfs", "-o", opts, "tmpfs"])
            .arg(dir)
            .output()
            .ok()?;
        if !o.status.success() {
            eprintln!(
                "skipped: mount -t tmpfs refused: {}",
                String::from_utf8_lossy(&o.stderr)
            );
            return None;
        }
        Some(Mount(dir.to_owned()))
    }
}

impl Drop for Mount {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg(&self.0).status();
    }
}

#[test]
fn snapshot_dir_full_or_read_only_is_a_clear_error() {
    let d = scratch("snapdir");
    let g = gate(&root().join("tests/fixtures/lists"));
    let loaded = g.store.load("test").unwrap();

    // Not a directory: works without privileges.
    std::fs::write(d.join("file"), "x").unwrap();
    let e = write_snapshot(&loaded.policy, loaded.pck_id, &d.join("file/test.snap")).unwrap_err();
    assert_eq!(e.kind(), std::io::ErrorKind::NotADirectory, "{e}");

    // Full: a 64 KiB tmpfs filled up to its last block.
    if let Some(m) = Mount::new(&d.join("full"), "size=64k,mode=755") {
        let mut filler = std::fs::File::create(m.0.join("filler")).unwrap();
        let _ = std::io::Write::write_all(&mut filler, &vec![0u8; 1 << 20]);
        drop(filler);
        let path = m.0.join("test.snap");
        let e = write_snapshot(&loaded.policy, loaded.pck_id, &path).unwrap_err();
        assert_eq!(e.kind(), std::io::ErrorKind::StorageFull, "{e}");
        assert!(e.to_string().contains("No space left on device"), "{e}");
        let left: Vec<_> = std::fs::read_dir(&m.0)
            .unwrap()
            .flatten()
            .map(|e| e.file_name())
            .collect();
        assert_eq!(
            left,
            vec![std::ffi::OsString::from("filler")],
            "no temporary left"
        );
        // Room again: the same call succeeds and the snapshot opens.
        // (tmpfs may give the space back a moment after the unlink.)
        std::fs::remove_file(m.0.join("filler")).unwrap();
        let mut tries = 0;
        while let Err(e) = write_snapshot(&loaded.policy, loaded.pck_id, &path) {
            tries += 1;
            assert!(tries < 50, "{e}");
            std::thread::sleep(std::time::Duration::from_millis(20));
        }
        let s = open_snapshot(&path).unwrap();
        assert_eq!(s.policy().internal_name, "test");
    }
    // Read-only.
    if let Some(m) = Mount::new(&d.join("ro"), "size=64k,ro") {
        let e = write_snapshot(&loaded.policy, loaded.pck_id, &m.0.join("test.snap")).unwrap_err();
        assert_eq!(e.kind(), std::io::ErrorKind::ReadOnlyFilesystem, "{e}");
        assert!(e.to_string().contains("Read-only file system"), "{e}");
        let Err(e) = open_snapshot(&m.0.join("test.snap")) else {
            panic!("opened a snapshot that is not there");
        };
        assert!(e.to_string().starts_with("snapshot: No such file"), "{e}");
    }
    let _ = std::fs::remove_dir_all(&d);
}
