//! `mailman-gate export`: bring every list's snapshot up to date.
//!
//! Run as Mailman's user (who can read `config.pck`), from cron or a
//! systemd path unit; the MTA then reads only the snapshots, which hold no
//! member passwords. A snapshot is rewritten when it is missing, damaged,
//! of another format version or list, or made from an older `config.pck`;
//! it is removed when its list is gone. Export owns only its own files: it
//! removes nothing that lacks the snapshot header, nothing when a list
//! directory cannot be read (an error naming the directory), and refuses a
//! snapshot directory that is the lists directory or a parent of it.

use std::io::ErrorKind;
use std::path::Path;

use crate::cdb::HEADER_LEN;
use crate::snapshot::FileId;
use crate::snapshot::{open_snapshot, write_snapshot, MAGIC, META_KEY};
use crate::store::Store;

/// What one export run did.
#[derive(Debug, Default)]
pub struct ExportReport {
    /// Lists whose snapshot was (re)written.
    pub written: Vec<String>,
    /// Lists whose snapshot was already current.
    pub fresh: Vec<String>,
    /// Snapshots removed because their list no longer exists.
    pub removed: Vec<String>,
    /// (list, why) for lists that could not be exported.
    pub failed: Vec<(String, String)>,
}

fn pck_id(store: &Store, name: &str) -> Option<FileId> {
    let dir = store.list_dir(name).ok()?;
    std::fs::metadata(dir.join("config.pck"))
        .ok()
        .map(|m| FileId::of_metadata(&m))
}

/// Whether list directory `dir` holds a `config.pck` or `config.pck.last`;
/// an error (naming the directory) when it cannot be looked into: that is
/// not an absent list.
fn has_config(dir: &Path) -> Result<bool, String> {
    for file in ["config.pck", "config.pck.last"] {
        match std::fs::symlink_metadata(dir.join(file)) {
            Ok(_) => return Ok(true),
            Err(e) if matches!(e.kind(), ErrorKind::NotFound | ErrorKind::NotADirectory) => {}
            Err(e) => return Err(format!("cannot read list directory {}: {e}", dir.display())),
        }
    }
    Ok(false)
}

/// (list, why) pairs.
type Failures = Vec<(String, String)>;

/// The lists of the lists directory (every entry whose directory holds a
/// `config.pck` or `.last`), and the directories that could not be read.
fn list_names(store: &Store) -> Result<(Vec<String>, Failures), String> {
    let lists = store.lists_dir();
    let cannot =
        |e: std::io::Error| format!("cannot read the lists directory {}: {e}", lists.display());
    let mut names = Vec::new();
    let mut unreadable = Vec::new();
    for entry in std::fs::read_dir(lists).map_err(cannot)? {
        let entry = entry.map_err(cannot)?;
        let Some(name) = entry.file_name().to_str().map(str::to_owned) else {
            continue;
        };
        let Ok(dir) = store.list_dir(&name) else {
            continue;
        };
        match has_config(&dir) {
            Ok(true) => names.push(name),
            Ok(false) => {}
            Err(why) => unreadable.push((name, why)),
        }
    }
    names.sort();
    Ok((names, unreadable))
}

/// Whether `path` is a regular file that starts as a snapshot does (the
/// cdb's first record is `\0meta` with the snapshot magic), of any format
/// version: only such files are export's to remove.
pub fn is_own_snapshot(path: &Path) -> bool {
    let Ok(meta) = std::fs::symlink_metadata(path) else {
        return false;
    };
    if !meta.file_type().is_file() {
        return false;
    }
    let Ok(f) = std::fs::File::open(path) else {
        return false;
    };
    let mut head = [0u8; 8 + META_KEY.len() + MAGIC.len()];
    if std::os::unix::fs::FileExt::read_exact_at(&f, &mut head, HEADER_LEN as u64).is_err() {
        return false;
    }
    let klen = u32::from_le_bytes([head[0], head[1], head[2], head[3]]) as usize;
    klen == META_KEY.len() && &head[8..8 + klen] == META_KEY && head[8 + klen..] == MAGIC
}

/// Refuse a snapshot directory that is the lists directory or holds it:
/// export would write its files among Mailman's and judge theirs.
fn check_snapshot_dir(store: &Store, dir: &Path) -> Result<(), String> {
    let (Ok(snap), Ok(lists)) = (
        std::fs::canonicalize(dir),
        std::fs::canonicalize(store.lists_dir()),
    ) else {
        return Ok(());
    };
    if lists.starts_with(&snap) {
        return Err(format!(
            "the snapshot directory {} is the lists directory {} or a parent of it",
            dir.display(),
            store.lists_dir().display()
        ));
    }
    Ok(())
}

/// Export `only` that list, or every list. `force` rewrites fresh ones too.
///
/// With every list: snapshots whose list is gone are removed, but only
/// files that carry the snapshot header, and nothing at all when the lists
/// directory or a list directory cannot be read (each such directory is a
/// failure, named in the report).
pub fn export(store: &Store, only: Option<&str>, force: bool) -> ExportReport {
    let mut report = ExportReport::default();
    let Some(dir) = store.snapshot_dir() else {
        report
            .failed
            .push(("*".into(), "no snapshot directory is configured".into()));
        return report;
    };
    if let Err(why) = check_snapshot_dir(store, dir) {
        report.failed.push(("*".into(), why));
        return report;
    }
    if let Err(e) = std::fs::create_dir_all(dir) {
        report
            .failed
            .push(("*".into(), format!("{}: {e}", dir.display())));
        return report;
    }
    let names = match only {
        Some(n) => vec![n.to_owned()],
        None => match list_names(store) {
            Ok((names, unreadable)) => {
                report.failed.extend(unreadable);
                names
            }
            Err(why) => {
                report.failed.push(("*".into(), why));
                return report;
            }
        },
    };
    for name in &names {
        let Some(path) = store.snapshot_path(name) else {
            report
                .failed
                .push((name.clone(), "not an acceptable list name".into()));
            continue;
        };
        let current = pck_id(store, name);
        if !force && current.is_some() {
            if let Ok(s) = open_snapshot(&path) {
                if s.source() == current && s.list_name() == name {
                    report.fresh.push(name.clone());
                    continue;
                }
            }
        }
        match store.load_from_config(name) {
            Ok(loaded) => match write_snapshot(&loaded.policy, loaded.pck_id, &path) {
                Ok(()) => report.written.push(name.clone()),
                Err(e) => report
                    .failed
                    .push((name.clone(), format!("{}: {e}", path.display()))),
            },
            Err(e) => report.failed.push((name.clone(), e.to_string())),
        }
    }
    if only.is_none() && report.failed.is_empty() {
        remove_orphans(store, dir, &mut report);
    }
    report
}

/// Remove snapshots (files with the snapshot header named `<list>.cdb`)
/// whose list has neither `config.pck` nor `config.pck.last` any more.
/// Nothing is removed if any list directory cannot be looked into.
fn remove_orphans(store: &Store, dir: &Path, report: &mut ExportReport) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    let mut orphans = Vec::new();
    for entry in entries.flatten() {
        let file = entry.file_name();
        let Some(name) = file.to_str().and_then(|f| f.strip_suffix(".cdb")) else {
            continue;
        };
        let Ok(list_dir) = store.list_dir(name) else {
            continue;
        };
        match has_config(&list_dir) {
            Ok(true) => {}
            Ok(false) => {
                if is_own_snapshot(&entry.path()) {
                    orphans.push((name.to_owned(), entry.path()));
                }
            }
            Err(why) => report.failed.push((name.to_owned(), why)),
        }
    }
    if !report.failed.is_empty() {
        return;
    }
    for (name, path) in orphans {
        if std::fs::remove_file(&path).is_ok() {
            report.removed.push(name);
        }
    }
}
