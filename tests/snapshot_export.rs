//! `export` owns only its own files: it removes only snapshots (files with
//! the snapshot header) of lists that are gone, nothing at all when a list
//! directory or the lists directory cannot be read (an error naming the
//! directory, non-zero exit), and refuses a snapshot directory that is the
//! lists directory or a parent of it.

use std::path::{Path, PathBuf};
use std::process::Command;

use mailman_gate::cdb::CdbWriter;
use mailman_gate::export::{export, is_own_snapshot};
use mailman_gate::store::{Layout, NameRule, Store};

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/lists")
}

fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("mmgate-export-{name}-{}", std::process::id()));
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
    dir
}

fn store(lists: &Path, snap: &Path) -> Store {
    Store::new(lists.to_path_buf(), Layout::Standard, NameRule::default())
        .with_snapshots(Some(snap.to_path_buf()))
}

/// Files another program keeps in the same directory: real cdbs, an
/// empty file and text, all named like snapshots of absent lists.
fn foreign_files(snap: &Path) -> Vec<PathBuf> {
    let mut w = CdbWriter::new();
    w.add(b"postmaster", b"root").unwrap();
    let cdb = w.finish().unwrap();
    let mut out = Vec::new();
    for (name, bytes) in [
        ("aliases.cdb", &cdb[..]),
        ("virtual_domains.cdb", &cdb[..]),
        ("empty.cdb", &b""[..]),
        ("notes.cdb", &b"not a database"[..]),
    ] {
        let p = snap.join(name);
        std::fs::write(&p, bytes).unwrap();
        out.push(p);
    }
    out
}

#[test]
fn only_own_snapshots_of_gone_lists_are_removed() {
    let dir = scratch("own");
    let snap = dir.join("snap");
    let r = export(&store(&dir.join("lists"), &snap), None, false);
    assert_eq!(r.written, ["other", "test"], "{r:?}");
    let foreign = foreign_files(&snap);
    for p in &foreign {
        assert!(!is_own_snapshot(p), "{}", p.display());
    }
    // A snapshot of a list that has gone since.
    std::fs::copy(snap.join("other.cdb"), snap.join("gone.cdb")).unwrap();
    assert!(is_own_snapshot(&snap.join("gone.cdb")));
    let r = export(&store(&dir.join("lists"), &snap), None, false);
    assert!(r.failed.is_empty(), "{r:?}");
    assert_eq!(r.removed, ["gone"]);
    for p in &foreign {
        assert!(p.exists(), "{} was removed", p.display());
    }
    assert!(snap.join("test.cdb").exists() && snap.join("other.cdb").exists());
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_snapshot_dir_that_holds_the_lists_is_refused() {
    let dir = scratch("holds");
    let lists = dir.join("lists");
    let before = |d: &Path| {
        let mut v: Vec<_> = walk(d);
        v.sort();
        v
    };
    let was = before(&dir);
    for snap in [lists.clone(), dir.clone(), lists.join("..")] {
        let r = export(&store(&lists, &snap), None, false);
        assert!(r.written.is_empty() && r.removed.is_empty(), "{r:?}");
        assert_eq!(r.failed.len(), 1, "{r:?}");
        assert!(r.failed[0].1.contains("lists directory"), "{r:?}");
    }
    assert_eq!(before(&dir), was, "nothing written or removed");
    let _ = std::fs::remove_dir_all(&dir);
}

fn walk(d: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(d).unwrap().flatten() {
        out.push(e.path());
        if e.file_type().unwrap().is_dir() {
            out.extend(walk(&e.path()));
        }
    }
    out
}

fn is_root() -> bool {
    // SAFETY: geteuid has no preconditions.
    unsafe { libc::geteuid() == 0 }
}

/// `mailman-gate export` as `nobody`, who cannot search what it must read.
fn export_as_nobody(lists: &Path, snap: &Path) -> (i32, String, String) {
    let o = Command::new("setpriv")
        .args(["--reuid=nobody", "--regid=nogroup", "--clear-groups", "--"])
        .arg(env!("CARGO_BIN_EXE_mailman-gate"))
        .arg("export")
        .arg("--lists")
        .arg(lists)
        .arg("--snapshots")
        .arg(snap)
        .output()
        .expect("setpriv runs");
    (
        o.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&o.stdout).into_owned(),
        String::from_utf8_lossy(&o.stderr).into_owned(),
    )
}

fn chmod(p: &Path, mode: u32) {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(p, std::fs::Permissions::from_mode(mode)).unwrap();
}

#[test]
fn unreadable_list_directories_delete_nothing_and_fail() {
    if !is_root() || Command::new("setpriv").arg("--version").output().is_err() {
        eprintln!("skipped: needs root and setpriv");
        return;
    }
    let dir = scratch("eacces");
    let lists = dir.join("lists");
    let snap = dir.join("snap");
    let r = export(&store(&lists, &snap), None, false);
    assert_eq!(r.written.len(), 2);
    chmod(&dir, 0o755);
    chmod(&snap, 0o777);
    chmod(&lists, 0o755);

    // One list directory cannot be searched.
    chmod(&lists.join("test"), 0o700);
    let (code, out, err) = export_as_nobody(&lists, &snap);
    assert_ne!(code, 0, "{out}{err}");
    assert!(
        err.contains(&lists.join("test").display().to_string()),
        "the message names the directory: {err}"
    );
    assert!(out.contains("removed 0"), "{out}");
    assert!(snap.join("test.cdb").exists() && snap.join("other.cdb").exists());

    // The lists directory itself cannot be read.
    chmod(&lists.join("test"), 0o755);
    chmod(&lists, 0o700);
    let (code, out, err) = export_as_nobody(&lists, &snap);
    assert_ne!(code, 0, "{out}{err}");
    assert!(err.contains(&lists.display().to_string()), "{err}");
    assert!(snap.join("test.cdb").exists() && snap.join("other.cdb").exists());
    chmod(&lists, 0o755);
    let _ = std::fs::remove_dir_all(&dir);
}
