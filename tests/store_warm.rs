//! The store's warm start and revalidation rounds: warming reads only
//! current snapshots (never `config.pck`, never writes), and within a
//! round a list is looked at once.

use std::path::{Path, PathBuf};

use mailman_gate::export::export;
use mailman_gate::store::{begin_round, end_round, Layout, NameRule, Source, Store, Warmed};

mod common;
use common::lists::{copy_list, fixtures};

fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("mmgate-warm-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(dir.join("lists")).unwrap();
    dir
}

/// Save `from`'s state over the list the way Mailman does (new file,
/// rename): a new identity.
fn mailman_save(from: &str, list_dir: &Path) {
    let tmp = list_dir.join("config.pck.tmp.host.99");
    std::fs::copy(fixtures().join(from).join("config.pck"), &tmp).unwrap();
    std::fs::rename(&tmp, list_dir.join("config.pck")).unwrap();
}

fn store(dir: &Path) -> Store {
    Store::new(dir.join("lists"), Layout::Standard, NameRule::default())
        .with_snapshots(Some(dir.join("snap")))
}

#[test]
fn warming_takes_current_snapshots_only_and_writes_nothing() {
    let dir = scratch("snap");
    copy_list("test", &dir.join("lists/test"));
    copy_list("other", &dir.join("lists/other"));
    let r = export(&store(&dir), None, false);
    assert_eq!(r.written.len(), 2);

    // `other` changes after its export: its snapshot is stale.
    mailman_save("test", &dir.join("lists/other"));
    let snap_other = dir.join("snap/other.cdb");
    let before = std::fs::metadata(&snap_other).unwrap().modified().unwrap();

    let s = store(&dir);
    assert_eq!(s.warm_from_snapshot("test"), Warmed::Loaded);
    assert_eq!(s.warm_from_snapshot("test"), Warmed::Current);
    assert_eq!(
        s.warm_from_snapshot("other"),
        Warmed::Skipped("snapshot older than config.pck")
    );
    assert_eq!(
        s.warm_from_snapshot("nosuchlist"),
        Warmed::Skipped("no usable snapshot")
    );
    assert_eq!(
        s.warm_from_snapshot("../etc"),
        Warmed::Skipped("not an acceptable list name")
    );
    assert!(
        s.cached("other").is_none(),
        "nothing parsed for a stale one"
    );
    assert_eq!(
        std::fs::metadata(&snap_other).unwrap().modified().unwrap(),
        before,
        "the stale snapshot was not rewritten"
    );

    // The warmed entry is what load() serves while config.pck is unchanged.
    let warmed = s.cached("test").unwrap();
    let loaded = s.load("test").unwrap();
    assert!(std::ptr::eq(&*warmed, &*loaded));
    assert_eq!(loaded.source, Source::Snapshot { stale: false });

    // Without a snapshot directory nothing is warmed.
    let plain = Store::new(dir.join("lists"), Layout::Standard, NameRule::default());
    assert_eq!(
        plain.warm_from_snapshot("test"),
        Warmed::Skipped("no snapshot directory")
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_round_looks_at_each_list_once() {
    let dir = scratch("round");
    let list = dir.join("lists/test");
    copy_list("test", &list);
    let s = Store::new(dir.join("lists"), Layout::Standard, NameRule::default());

    begin_round();
    assert!(s.probe("test").unwrap());
    let first = s.load("test").unwrap();
    // A save inside the round is not seen: the round already looked.
    mailman_save("other", &list);
    assert!(std::ptr::eq(&*first, &*s.load("test").unwrap()));
    assert!(s.probe("test").unwrap());
    end_round();

    // Outside a round (and in the next one) every lookup looks again.
    let after = s.load("test").unwrap();
    assert!(!std::ptr::eq(&*first, &*after), "the save is seen");
    assert!(after.policy.member("carol@other.org").is_some());

    // The next round revalidates with one stat in probe; a list removed
    // since is no longer served from the cache.
    begin_round();
    std::fs::remove_dir_all(&list).unwrap();
    assert!(!s.probe("test").unwrap());
    assert!(s.load("test").is_err());
    end_round();
    let _ = std::fs::remove_dir_all(&dir);
}
