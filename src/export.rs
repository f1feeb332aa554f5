//! `mailman-gate export`: bring every list's snapshot up to date.
//!
//! Run as Mailman's user (who can read `config.pck`), from cron or a
//! systemd path unit; the MTA then reads only the snapshots, which hold no
//! member passwords. A snapshot is rewritten when it is missing, damaged,
//! of another format version, or made from an older `config.pck`; it is
//! removed when its list is gone.

use std::path::Path;

use crate::snapshot::{open_snapshot, write_snapshot};
use crate::store::{FileId, Store};

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

/// Export `only` that list, or every list. `force` rewrites fresh ones too.
pub fn export(store: &Store, only: Option<&str>, force: bool) -> ExportReport {
    let mut report = ExportReport::default();
    let Some(dir) = store.snapshot_dir() else {
        report
            .failed
            .push(("*".into(), "no snapshot directory is configured".into()));
        return report;
    };
    if let Err(e) = std::fs::create_dir_all(dir) {
        report
            .failed
            .push(("*".into(), format!("{}: {e}", dir.display())));
        return report;
    }
    let names = match only {
        Some(n) => vec![n.to_owned()],
        None => store.list_names(),
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
                if s.source() == current {
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
    if only.is_none() {
        remove_orphans(store, dir, &mut report);
    }
    report
}

/// Remove `<name>.cdb` files whose list has neither `config.pck` nor
/// `config.pck.last` any more; never when the lists directory itself is
/// missing (a host that only receives snapshots).
fn remove_orphans(store: &Store, dir: &Path, report: &mut ExportReport) {
    if !store.lists_dir().is_dir() {
        return;
    }
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let file = entry.file_name();
        let Some(name) = file.to_str().and_then(|f| f.strip_suffix(".cdb")) else {
            continue;
        };
        let Ok(list_dir) = store.list_dir(name) else {
            continue;
        };
        let has_config =
            list_dir.join("config.pck").exists() || list_dir.join("config.pck.last").exists();
        if !has_config && std::fs::remove_file(entry.path()).is_ok() {
            report.removed.push(name.to_owned());
        }
    }
}
