//! Snapshots in the store: freshness by config.pck identity, rebuild of a
//! stale snapshot, use of a stale one when config.pck cannot be read, and
//! a host that has only the snapshots.

use std::path::{Path, PathBuf};

use mailman_gate::export::export;
use mailman_gate::snapshot::open_snapshot;
use mailman_gate::snapshot::FileId;
use mailman_gate::store::{Layout, NameRule, Source, Store};

mod common;
use common::lists::{copy_list, fixtures};

fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("mmgate-snapstore-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(dir.join("lists")).unwrap();
    dir
}

/// Save `from`'s state over list `to` the way Mailman does.
fn mailman_save(from: &str, list_dir: &Path) {
    let tmp = list_dir.join("config.pck.tmp.host.99");
    std::fs::copy(fixtures().join(from).join("config.pck"), &tmp).unwrap();
    let _ = std::fs::remove_file(list_dir.join("config.pck.last"));
    std::fs::hard_link(
        list_dir.join("config.pck"),
        list_dir.join("config.pck.last"),
    )
    .unwrap();
    std::fs::rename(&tmp, list_dir.join("config.pck")).unwrap();
}

fn pck_id(list_dir: &Path) -> Option<FileId> {
    std::fs::metadata(list_dir.join("config.pck"))
        .ok()
        .map(|m| FileId::of_metadata(&m))
}

fn store(dir: &Path) -> Store {
    Store::new(dir.join("lists"), Layout::Standard, NameRule::default())
        .with_snapshots(Some(dir.join("snap")))
}

#[test]
fn a_snapshot_of_a_changed_config_pck_is_stale_and_rebuilt() {
    let dir = scratch("stale");
    let list = dir.join("lists/test");
    copy_list("test", &list);
    let r = export(&store(&dir), None, false);
    assert_eq!(r.written, ["test"]);
    let snap_path = dir.join("snap/test.cdb");
    assert_eq!(open_snapshot(&snap_path).unwrap().source(), pck_id(&list));

    let s = store(&dir);
    let l = s.load("test").unwrap();
    assert_eq!(l.source, Source::Snapshot { stale: false });
    assert!(l.policy.member("carol@other.org").is_none());

    // Mailman saves a new state: the snapshot no longer matches.
    mailman_save("other", &list);
    let snap = open_snapshot(&snap_path).unwrap();
    assert_ne!(
        snap.source(),
        pck_id(&list),
        "the snapshot is detected as stale"
    );
    drop(snap);

    // A reader that can read config.pck parses it and rebuilds the snapshot.
    let l = s.load("test").unwrap();
    assert_eq!(l.source, Source::ConfigPck);
    assert!(l.policy.member("carol@other.org").is_some());
    assert_eq!(
        open_snapshot(&snap_path).unwrap().source(),
        pck_id(&list),
        "rebuilt"
    );

    // And export agrees it is fresh now; after another save it rewrites it.
    let r = export(&store(&dir), None, false);
    assert_eq!(r.fresh, ["test"]);
    mailman_save("test", &list);
    let r = export(&store(&dir), None, false);
    assert_eq!(r.written, ["test"]);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_stale_snapshot_serves_when_config_pck_cannot_be_read() {
    let dir = scratch("unreadable");
    let list = dir.join("lists/test");
    copy_list("test", &list);
    export(&store(&dir), None, false);
    // config.pck changes into something this process cannot read (a
    // directory stands in for a file without read permission: tests run
    // as root, who may read any file).
    std::fs::remove_file(list.join("config.pck")).unwrap();
    std::fs::create_dir(list.join("config.pck")).unwrap();
    let s = store(&dir);
    let l = s.load("test").unwrap();
    assert_eq!(l.source, Source::Snapshot { stale: true });
    assert!(l.policy.member("alice@example.com").is_some());
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn snapshots_alone_serve_a_host_without_mailman() {
    let dir = scratch("mx");
    for l in ["test", "other"] {
        copy_list(l, &dir.join("lists").join(l));
    }
    let r = export(&store(&dir), None, false);
    assert_eq!(r.written.len(), 2, "{r:?}");
    std::fs::remove_dir_all(dir.join("lists")).unwrap();
    let s = store(&dir);
    assert!(s.exists("test"));
    assert!(!s.exists("nosuch"));
    let l = s.load("test").unwrap();
    assert_eq!(l.source, Source::Snapshot { stale: false });
    // @other in test's accept list resolves through other's snapshot.
    let gate = mailman_gate::gate::Gate::with_store(Default::default(), s);
    let raw = b"From: carol@other.org\nTo: test@example.com\nSubject: hi\n\nhello\n";
    let v = gate
        .check("test", mailman_gate::address::Kind::Post, None, raw)
        .unwrap();
    assert_eq!(
        v.action,
        mailman_gate::decide::Action::Accept,
        "{:?}",
        v.trace
    );
    // export on this host never deletes snapshots for want of a lists dir.
    let r = export(&gate.store, None, false);
    assert!(r.removed.is_empty());
    assert!(dir.join("snap/test.cdb").exists());
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn export_removes_snapshots_of_deleted_lists() {
    let dir = scratch("orphan");
    copy_list("test", &dir.join("lists/test"));
    copy_list("other", &dir.join("lists/other"));
    export(&store(&dir), None, false);
    std::fs::remove_dir_all(dir.join("lists/other")).unwrap();
    let r = export(&store(&dir), None, false);
    assert_eq!(r.removed, ["other"]);
    assert!(!dir.join("snap/other.cdb").exists());
    let _ = std::fs::remove_dir_all(&dir);
}
