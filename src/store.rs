//! Where Mailman's lists live on disk, and reading them safely.
//!
//! - Names are checked before any path is built: only the site's
//!   `ACCEPTABLE_LISTNAME_CHARACTERS`, never `/`, NUL, `.` or `..`, at most
//!   255 bytes. Nothing outside the lists directory is ever opened.
//! - `config.pck` is read from one open file descriptor, and its identity
//!   (device, inode, size, mtime) taken from that descriptor: Mailman saves
//!   by writing a temporary file and renaming it over `config.pck`, so what
//!   is read is always one whole generation.
//! - A `config.pck` that cannot be unpickled falls back to
//!   `config.pck.last`, as Mailman's `Load` does, but read-only: Mailman
//!   would also rename the corrupt file; a reader never writes.
//! - Parsed policies are cached per list and revalidated by a `stat` of
//!   `config.pck`: on every lookup, or once per list in a *round* (see
//!   [`begin_round`]: one SMTP transaction, from its first list RCPT to
//!   DATA).
//! - [`Store::warm_from_snapshot`] fills the cache from fresh snapshots
//!   only (never parsing `config.pck`, never writing), for a process that
//!   builds the cache for others to inherit (the MTA's daemon before it
//!   forks).

use std::collections::HashMap;
use std::ffi::{CStr, CString};
use std::io::{ErrorKind, Read};
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::{MetadataExt, OpenOptionsExt};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicPtr, Ordering};
use std::sync::{Arc, OnceLock};

use parking_lot::RwLock;

use crate::pickle::{self, Limits};
use crate::policy::{ListPolicy, NotAListDict};
use crate::pyre::{Flags, PyRegex};
use crate::snapshot::FileId;

mod route;
pub use crate::address::Route;

/// Debian's `LIST_DATA_DIR`.
pub const DEBIAN_LISTS_DIR: &str = "/var/lib/mailman/lists";
/// cPanel's `LIST_DATA_DIR`.
pub const CPANEL_LISTS_DIR: &str = "/usr/local/cpanel/3rdparty/mailman/lists";
/// Mailman's default `ACCEPTABLE_LISTNAME_CHARACTERS`.
pub const DEFAULT_LISTNAME_CHARACTERS: &str = "[-+_.=a-z0-9]";

/// How list directories are named.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Layout {
    /// `lists/<name>/`, the list reachable at any local domain.
    Standard,
    /// cPanel: `lists/<list>_<domain>/`.
    Cpanel,
}

impl Layout {
    pub fn parse(s: &str) -> Option<Layout> {
        match s {
            "standard" => Some(Layout::Standard),
            "cpanel" => Some(Layout::Cpanel),
            _ => None,
        }
    }
    pub fn as_str(self) -> &'static str {
        match self {
            Layout::Standard => "standard",
            Layout::Cpanel => "cpanel",
        }
    }
    pub fn default_lists_dir(self) -> &'static str {
        match self {
            Layout::Standard => DEBIAN_LISTS_DIR,
            Layout::Cpanel => CPANEL_LISTS_DIR,
        }
    }
}

/// Why a list's state could not be had.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StoreError {
    /// The name is not one Mailman would accept (or could escape the dir).
    BadName(String),
    /// No `config.pck` and no `config.pck.last`.
    NoSuchList(String),
    /// A file exists but cannot be opened or read (e.g. EACCES).
    Unreadable { path: PathBuf, error: String },
    /// Neither `config.pck` nor `config.pck.last` holds a list.
    Corrupt { list: String, detail: String },
}

impl std::fmt::Display for StoreError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            StoreError::BadName(n) => write!(f, "not an acceptable list name: {n:?}"),
            StoreError::NoSuchList(n) => write!(f, "no such list: {n}"),
            StoreError::Unreadable { path, error } => {
                write!(f, "cannot read {}: {error}", path.display())
            }
            StoreError::Corrupt { list, detail } => {
                write!(
                    f,
                    "list {list}: config.pck and config.pck.last unreadable: {detail}"
                )
            }
        }
    }
}

impl std::error::Error for StoreError {}

/// Which file a policy came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Source {
    ConfigPck,
    /// A compiled snapshot (see [`crate::snapshot`]). `stale`: it was made
    /// from an older `config.pck` this process cannot read.
    Snapshot {
        stale: bool,
    },
    /// `config.pck.last`, with why `config.pck` was not used.
    ConfigPckLast {
        why: String,
    },
}

/// A list's policy as loaded, shared by every caller until it changes.
#[derive(Debug)]
pub struct LoadedList {
    pub policy: ListPolicy,
    pub source: Source,
    /// Identity of `config.pck` when this was loaded (None: it was missing).
    pub pck_id: Option<FileId>,
    /// Identity of the snapshot file it came from, if it did.
    pub snapshot_id: Option<FileId>,
}

/// Checks list names the way Mailman's `Utils.list_exists` does.
#[derive(Debug, Clone)]
pub struct NameRule {
    /// The site's class; None: Mailman's default `[-+_.=a-z0-9]`.
    class: Option<PyRegex>,
}

impl NameRule {
    /// `chars` is the site's `ACCEPTABLE_LISTNAME_CHARACTERS` (a Python
    /// regex, normally a character class). One that does not compile falls
    /// back to Mailman's default.
    pub fn new(chars: &str) -> NameRule {
        let class = if chars == DEFAULT_LISTNAME_CHARACTERS {
            None
        } else {
            PyRegex::compile(chars, Flags::default()).ok()
        };
        NameRule { class }
    }

    /// Mailman removes every match of the class and calls the name hostile
    /// if anything is left; on top of that, names that could leave the
    /// lists directory are refused whatever the site allows.
    pub fn accepts(&self, name: &str) -> bool {
        if name.is_empty()
            || name.len() > 255
            || name == "."
            || name == ".."
            || name.contains('/')
            || name.contains('\0')
        {
            return false;
        }
        match &self.class {
            None => name
                .bytes()
                .all(|b| matches!(b, b'-' | b'+' | b'_' | b'.' | b'=' | b'a'..=b'z' | b'0'..=b'9')),
            Some(class) => name.chars().all(|c| {
                let mut buf = [0u8; 4];
                matches!(class.match_start(c.encode_utf8(&mut buf)), Ok(true))
            }),
        }
    }
}

impl Default for NameRule {
    fn default() -> Self {
        NameRule::new(DEFAULT_LISTNAME_CHARACTERS)
    }
}

use crate::round::current as current_round;
pub use crate::round::{begin_round, end_round};

/// Whether `list` was revalidated (or loaded) in `round` by this thread.
#[cfg_attr(target_os = "linux", link_section = ".text.hot.mailman_gate")]
fn validated(round: u64, list: &LoadedList) -> bool {
    crate::round::is_marked(round, list as *const LoadedList as usize)
}

/// Record that `list` is current in `round` (the round's marks are kept
/// per thread, not in the shared cache, so that a round writes no page a
/// process inherited from a warm daemon).
#[cfg_attr(target_os = "linux", link_section = ".text.hot.mailman_gate")]
fn mark_validated(round: u64, list: &LoadedList) {
    crate::round::mark(round, list as *const LoadedList as usize);
}

/// A cache entry.
struct Cached {
    list: Arc<LoadedList>,
    /// The files a revalidation looks at, built once at load rather than
    /// on each lookup.
    paths: ListPaths,
    /// Whether the list has an `extend.py`, looked at once per loaded
    /// generation.
    extend_py: OnceLock<bool>,
}

/// Where list `name`'s files are.
#[derive(Clone)]
struct ListPaths {
    config_pck: PathBuf,
    snapshot: Option<PathBuf>,
    /// Both as C strings (None: a path with a NUL), made once for the
    /// `stat` of each revalidation.
    config_pck_c: Option<CString>,
    snapshot_c: Option<CString>,
}

impl ListPaths {
    fn new(config_pck: PathBuf, snapshot: Option<PathBuf>) -> ListPaths {
        let c = |p: &Path| CString::new(p.as_os_str().as_bytes()).ok();
        ListPaths {
            config_pck_c: c(&config_pck),
            snapshot_c: snapshot.as_deref().and_then(c),
            config_pck,
            snapshot,
        }
    }
}

impl Cached {
    fn new(list: Arc<LoadedList>, paths: ListPaths, round: u64) -> Cached {
        mark_validated(round, &list);
        Cached {
            list,
            paths,
            extend_py: OnceLock::new(),
        }
    }

    /// Whether the files found now are the ones this entry was loaded from.
    #[cfg_attr(target_os = "linux", link_section = ".text.hot.mailman_gate")]
    fn current(&self, now: &Identities) -> bool {
        loaded_from(&self.list, now)
    }
}

/// The identities of a list's files as found now.
struct Identities {
    pck: Option<FileId>,
    /// Only looked at when there is no `config.pck`.
    snapshot: Option<FileId>,
}

/// What [`Store::warm_from_snapshot`] did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Warmed {
    /// The cache already held the current state.
    Current,
    /// Loaded from its snapshot into the cache.
    Loaded,
    /// Left to the first lookup, for this reason.
    Skipped(&'static str),
}

/// A list of the cache as it stood when the cache was frozen (see
/// [`Store::freeze`]).
struct FrozenEntry {
    list: Arc<LoadedList>,
    paths: ListPaths,
    /// Whether the list has an `extend.py`, if it was looked at before
    /// the freeze.
    extend_py: Option<bool>,
}

/// The cache, frozen by a process that builds it before forking (the Exim
/// daemon with warm start), for the processes it forks: they look lists up
/// in it without taking the cache's lock or touching a reference count,
/// so they write none of the pages they inherited. Only ever read in a
/// forked process, and only replaced (and freed) in the process that froze
/// it, where nothing reads it.
type Frozen = HashMap<String, FrozenEntry, foldhash::fast::FixedState>;

/// Set in a child by the `fork` handler that [`Store::freeze`] registers:
/// this process is a copy of the one that froze its caches.
static FORKED: AtomicBool = AtomicBool::new(false);

extern "C" fn forked_child() {
    FORKED.store(true, Ordering::Relaxed);
}

/// Registers [`forked_child`] once per process.
fn watch_forks() -> bool {
    static REGISTERED: OnceLock<bool> = OnceLock::new();
    // SAFETY: the handler only stores to an atomic (async-signal-safe).
    *REGISTERED.get_or_init(|| unsafe { libc::pthread_atfork(None, None, Some(forked_child)) } == 0)
}

impl FrozenEntry {
    #[cfg_attr(target_os = "linux", link_section = ".text.hot.mailman_gate")]
    fn current(&self, now: &Identities) -> bool {
        loaded_from(&self.list, now)
    }
}

/// Whether the files found now are the ones `list` was loaded from.
#[cfg_attr(target_os = "linux", link_section = ".text.hot.mailman_gate")]
fn loaded_from(list: &LoadedList, now: &Identities) -> bool {
    let same_pck = now.pck.is_some() && list.pck_id == now.pck;
    let same_snap = now.pck.is_none() && now.snapshot.is_some() && list.snapshot_id == now.snapshot;
    same_pck || same_snap
}

/// A list from the cache: borrowed from the frozen cache in a forked
/// process, else shared.
#[derive(Debug)]
pub enum ListRef<'a> {
    Frozen(&'a LoadedList),
    Shared(Arc<LoadedList>),
}

impl std::ops::Deref for ListRef<'_> {
    type Target = LoadedList;
    fn deref(&self) -> &LoadedList {
        match self {
            ListRef::Frozen(l) => l,
            ListRef::Shared(l) => l,
        }
    }
}

/// The lists directory, its layout, and the cache of parsed lists.
pub struct Store {
    lists_dir: PathBuf,
    /// Where compiled snapshots live (`<dir>/<list>.cdb`), if anywhere.
    snapshot_dir: Option<PathBuf>,
    layout: Layout,
    names: NameRule,
    limits: Limits,
    cache: RwLock<HashMap<String, Cached, foldhash::fast::FixedState>>,
    /// See [`Frozen`]; null until [`Store::freeze`].
    frozen: AtomicPtr<Frozen>,
}

impl Drop for Store {
    fn drop(&mut self) {
        let f = *self.frozen.get_mut();
        if !f.is_null() {
            // SAFETY: made by Box::into_raw in `freeze`; no reader is left
            // (`&mut self`).
            drop(unsafe { Box::from_raw(f) });
        }
    }
}

impl Store {
    pub fn new(lists_dir: impl Into<PathBuf>, layout: Layout, names: NameRule) -> Store {
        Store {
            lists_dir: lists_dir.into(),
            snapshot_dir: None,
            layout,
            names,
            limits: Limits::default(),
            cache: RwLock::new(HashMap::default()),
            frozen: AtomicPtr::new(std::ptr::null_mut()),
        }
    }

    /// Use compiled snapshots in `dir`.
    pub fn with_snapshots(mut self, dir: Option<PathBuf>) -> Store {
        self.snapshot_dir = dir;
        self
    }

    pub fn snapshot_dir(&self) -> Option<&Path> {
        self.snapshot_dir.as_deref()
    }

    /// The snapshot file of list `name` (its name already checked).
    pub fn snapshot_path(&self, name: &str) -> Option<PathBuf> {
        let dir = self.snapshot_dir.as_ref()?;
        self.names
            .accepts(name)
            .then(|| dir.join(format!("{name}.cdb")))
    }

    pub fn lists_dir(&self) -> &Path {
        &self.lists_dir
    }
    #[cfg_attr(target_os = "linux", link_section = ".text.hot.mailman_gate")]
    pub fn layout(&self) -> Layout {
        self.layout
    }
    pub fn name_rule(&self) -> &NameRule {
        &self.names
    }

    /// The directory of list `name`, or an error if the name is not acceptable.
    pub fn list_dir(&self, name: &str) -> Result<PathBuf, StoreError> {
        if !self.names.accepts(name) {
            return Err(StoreError::BadName(name.to_owned()));
        }
        Ok(self.lists_dir.join(name))
    }

    /// Mailman's `list_exists`: an acceptable name with a `config.pck` or
    /// `config.pck.last` (the pre-2.1 `config.db` files are not read).
    ///
    /// With snapshots, a list whose snapshot exists exists too (a mail host
    /// without Mailman has only the snapshots).
    pub fn exists(&self, name: &str) -> bool {
        self.probe(name).unwrap_or(false)
    }

    /// [`Store::exists`], but "no" only when nothing is there: a lists
    /// directory that is missing or cannot be searched, or a list file that
    /// cannot be looked at, is an error rather than an absent list (an
    /// unknown list can be refused with a 550; an error is accepted).
    #[cfg_attr(target_os = "linux", link_section = ".text.hot.mailman_gate")]
    pub fn probe(&self, name: &str) -> Result<bool, StoreError> {
        // In a round, a cached list is revalidated here, by the one stat
        // that also tells it exists; the load that follows needs none.
        let round = current_round();
        if round != 0 {
            if let Some(hit) = self.frozen_entry(name) {
                if validated(round, &hit.list) || hit.current(&identities_at(&hit.paths)) {
                    mark_validated(round, &hit.list);
                    return Ok(true);
                }
            }
            if let Some(hit) = self.cache.read().get(name) {
                if validated(round, &hit.list) || hit.current(&identities_at(&hit.paths)) {
                    mark_validated(round, &hit.list);
                    return Ok(true);
                }
            }
        }
        let unreadable = |path: PathBuf, e: std::io::Error| StoreError::Unreadable {
            path,
            error: e.to_string(),
        };
        let mut failure = None;
        if let Ok(dir) = self.list_dir(name) {
            for file in ["config.pck", "config.pck.last"] {
                let path = dir.join(file);
                match std::fs::symlink_metadata(&path) {
                    Ok(_) => return Ok(true),
                    // Absent, or a stray file where a list directory would be.
                    Err(e)
                        if matches!(e.kind(), ErrorKind::NotFound | ErrorKind::NotADirectory) => {}
                    Err(e) => failure = failure.or(Some(unreadable(path, e))),
                }
            }
            if self.snapshot_path(name).is_some_and(|p| p.is_file()) {
                return Ok(true);
            }
        }
        // `lists/.` resolves only through a directory that exists and can
        // be searched.
        let dir = &self.lists_dir;
        std::fs::metadata(dir.join(".")).map_err(|e| unreadable(dir.clone(), e))?;
        failure.map_or(Ok(false), Err)
    }

    /// All acceptable list names in the lists directory, sorted.
    pub fn list_names(&self) -> Vec<String> {
        let mut names: Vec<String> = std::fs::read_dir(&self.lists_dir)
            .into_iter()
            .flatten()
            .flatten()
            .filter_map(|e| e.file_name().into_string().ok())
            .filter(|n| self.exists(n))
            .collect();
        names.sort();
        names
    }

    /// The current policy of list `name`, from the cache when `config.pck`
    /// has not changed since it was parsed.
    ///
    /// With a snapshot directory: a snapshot made from the current
    /// `config.pck` (same identity) is used as it is; a stale one is
    /// rebuilt from `config.pck` when this process can read it (and write
    /// the snapshot directory), else used with `stale` set; when there is
    /// no `config.pck` to compare with (a host without Mailman), the
    /// snapshot is the list.
    #[cfg_attr(target_os = "linux", link_section = ".text.hot.mailman_gate")]
    pub fn load(&self, name: &str) -> Result<ListRef<'_>, StoreError> {
        let round = current_round();
        if let Some(hit) = self.frozen_entry(name) {
            if (round != 0 && validated(round, &hit.list))
                || hit.current(&identities_at(&hit.paths))
            {
                mark_validated(round, &hit.list);
                return Ok(ListRef::Frozen(&hit.list));
            }
        }
        // A cached list: one stat of the paths kept with it (none again
        // in the same round), no path built.
        if let Some(hit) = self.cache.read().get(name) {
            if (round != 0 && validated(round, &hit.list))
                || hit.current(&identities_at(&hit.paths))
            {
                mark_validated(round, &hit.list);
                return Ok(ListRef::Shared(hit.list.clone()));
            }
        }
        self.load_from_disk(name, round)
    }

    /// [`Store::load`] past the cache: read the list and cache it. Apart,
    /// so that its large stack frame is not set up (and its stack pages
    /// touched) on each cached lookup.
    #[cold]
    #[inline(never)]
    fn load_from_disk(&self, name: &str, round: u64) -> Result<ListRef<'_>, StoreError> {
        let dir = self.list_dir(name)?;
        let paths = self.paths(name, &dir);
        let now = identities_at(&paths);
        let loaded = match &paths.snapshot {
            Some(p) => self.read_with_snapshot(name, &dir, p, now.pck)?,
            None => self.read_list(name, &dir)?,
        };
        let loaded = Arc::new(loaded);
        self.cache
            .write()
            .insert(name.to_owned(), Cached::new(loaded.clone(), paths, round));
        Ok(ListRef::Shared(loaded))
    }

    /// List `name` in the frozen cache, in a process forked from the one
    /// that froze it (elsewhere: None).
    #[cfg_attr(target_os = "linux", link_section = ".text.hot.mailman_gate")]
    fn frozen_entry(&self, name: &str) -> Option<&FrozenEntry> {
        if !FORKED.load(Ordering::Relaxed) {
            return None;
        }
        let f = self.frozen.load(Ordering::Acquire);
        // SAFETY: in a forked process the frozen cache is never replaced
        // or freed (`freeze` does nothing there) while the store lives.
        unsafe { f.as_ref() }?.get(name)
    }

    /// Freeze the cache as it is now for the processes this one forks from
    /// now on (see [`Frozen`]), replacing the previous frozen cache. Does
    /// nothing in a forked process (whose frozen cache may be in use), or
    /// if fork handlers cannot be registered. Returns whether it froze.
    pub fn freeze(&self) -> bool {
        if FORKED.load(Ordering::Relaxed) || !watch_forks() {
            return false;
        }
        let frozen: Frozen = self
            .cache
            .read()
            .iter()
            .map(|(name, c)| {
                let entry = FrozenEntry {
                    list: c.list.clone(),
                    paths: c.paths.clone(),
                    extend_py: c.extend_py.get().copied(),
                };
                (name.clone(), entry)
            })
            .collect();
        let old = self
            .frozen
            .swap(Box::into_raw(Box::new(frozen)), Ordering::AcqRel);
        if !old.is_null() {
            // SAFETY: made by Box::into_raw here; this process is not a
            // forked one, so nothing in it reads a frozen cache.
            drop(unsafe { Box::from_raw(old) });
        }
        true
    }

    /// The files of list `name` (in `dir`) a revalidation looks at.
    fn paths(&self, name: &str, dir: &Path) -> ListPaths {
        ListPaths::new(dir.join("config.pck"), self.snapshot_path(name))
    }

    /// Load list `name` into the cache from its snapshot if that snapshot
    /// is current (made from the `config.pck` there now, or there is no
    /// `config.pck`); anything else is left to the first [`Store::load`].
    /// Never parses `config.pck`, never writes a file: for a process that
    /// builds the cache for its children (which may run as another user)
    /// and must not stall.
    pub fn warm_from_snapshot(&self, name: &str) -> Warmed {
        let Ok(dir) = self.list_dir(name) else {
            return Warmed::Skipped("not an acceptable list name");
        };
        let Some(snap_path) = self.snapshot_path(name) else {
            return Warmed::Skipped("no snapshot directory");
        };
        let paths = self.paths(name, &dir);
        let now = identities_at(&paths);
        if self.cache.read().get(name).is_some_and(|h| h.current(&now)) {
            return Warmed::Current;
        }
        use crate::snapshot::{open_snapshot_with, Verify};
        let Ok(snap) = open_snapshot_with(&snap_path, Verify::SkipChecksum) else {
            return Warmed::Skipped("no usable snapshot");
        };
        if now.pck.is_some() && snap.source() != now.pck {
            return Warmed::Skipped("snapshot older than config.pck");
        }
        let snapshot_id = std::fs::metadata(&snap_path).ok().map(|m| FileId::of(&m));
        let loaded = Arc::new(LoadedList {
            policy: snap.into_policy(),
            source: Source::Snapshot { stale: false },
            pck_id: now.pck,
            snapshot_id,
        });
        self.cache
            .write()
            .insert(name.to_owned(), Cached::new(loaded, paths, 0));
        Warmed::Loaded
    }

    /// The policy of list `name` if the cache holds it, without looking at
    /// any file.
    pub fn cached(&self, name: &str) -> Option<Arc<LoadedList>> {
        self.cache.read().get(name).map(|h| h.list.clone())
    }

    /// Whether list `name` has an `extend.py`: looked at once per loaded
    /// generation of the list (a `stat` per call when it is not cached).
    #[cfg_attr(target_os = "linux", link_section = ".text.hot.mailman_gate")]
    pub fn has_extend_py(&self, name: &str) -> bool {
        // The frozen answer, when this round found the frozen list current
        // (no lock taken: see `Frozen`).
        if let Some(hit) = self.frozen_entry(name) {
            if let Some(known) = hit
                .extend_py
                .filter(|_| validated(current_round(), &hit.list))
            {
                return known;
            }
        }
        let look = || {
            self.list_dir(name)
                .is_ok_and(|d| d.join("extend.py").exists())
        };
        match self.cache.read().get(name) {
            Some(hit) => *hit.extend_py.get_or_init(look),
            None => look(),
        }
    }

    fn read_with_snapshot(
        &self,
        name: &str,
        dir: &Path,
        snap_path: &Path,
        current: Option<FileId>,
    ) -> Result<LoadedList, StoreError> {
        use crate::snapshot::{open_snapshot_with, write_snapshot, SnapshotError, Verify};
        // Every structural check, but not the whole-file checksum: that
        // would read every page of a large list on each new connection.
        let snap = open_snapshot_with(snap_path, Verify::SkipChecksum).and_then(|s| {
            // A snapshot copied over another list's is not this list.
            if s.list_name().eq_ignore_ascii_case(name) {
                Ok(s)
            } else {
                Err(SnapshotError::OtherList(s.list_name().to_owned()))
            }
        });
        let snap_id = std::fs::metadata(snap_path).ok().map(|m| FileId::of(&m));
        if let Ok(s) = &snap {
            if current.is_none() || s.source() == current {
                let snap = snap.expect("checked Ok");
                return Ok(LoadedList {
                    policy: snap.into_policy(),
                    source: Source::Snapshot { stale: false },
                    pck_id: current,
                    snapshot_id: snap_id,
                });
            }
        }
        // Missing, damaged or stale: config.pck decides, if it can be read.
        match self.read_list(name, dir) {
            Ok(fresh) => {
                if matches!(fresh.source, Source::ConfigPck) {
                    // Best effort: a read-only snapshot directory just
                    // means parsing again next time.
                    let _ = write_snapshot(&fresh.policy, fresh.pck_id, snap_path);
                }
                Ok(fresh)
            }
            Err(StoreError::Unreadable { path, error }) => match snap {
                Ok(s) => Ok(LoadedList {
                    policy: s.into_policy(),
                    source: Source::Snapshot { stale: true },
                    pck_id: current,
                    snapshot_id: snap_id,
                }),
                Err(e) => Err(StoreError::Unreadable {
                    path,
                    error: format!("{error}; snapshot {}: {e}", snap_path.display()),
                }),
            },
            // No config.pck to rebuild from (a host with snapshots only),
            // and a snapshot that is there but unusable: the list cannot
            // be read, which fails open, rather than "no such list".
            Err(StoreError::NoSuchList(_)) if snap_path.exists() => {
                let why = snap.err().map_or_else(String::new, |e| e.to_string());
                Err(StoreError::Unreadable {
                    path: snap_path.to_path_buf(),
                    error: why,
                })
            }
            Err(other) => Err(other),
        }
    }

    /// Parse the list from `config.pck` (or `.last`), ignoring the cache and
    /// any snapshot.
    pub fn load_from_config(&self, name: &str) -> Result<LoadedList, StoreError> {
        let dir = self.list_dir(name)?;
        self.read_list(name, &dir)
    }

    /// Drop every cached list (the next lookups re-read the files).
    pub fn clear_cache(&self) {
        self.cache.write().clear();
    }

    fn read_list(&self, name: &str, dir: &Path) -> Result<LoadedList, StoreError> {
        let pck = dir.join("config.pck");
        let (why, pck_id) = match read_whole(&pck, self.limits.max_bytes)? {
            Some((data, id)) => match self.parse_policy(name, data) {
                Ok(policy) => {
                    return Ok(LoadedList {
                        policy,
                        source: Source::ConfigPck,
                        pck_id: Some(id),
                        snapshot_id: None,
                    })
                }
                // A list past a limit may be good: Mailman reads it, so
                // config.pck.last (an older state) would not do either.
                Err(Unparsed::Limit(detail)) => {
                    return Err(StoreError::Unreadable {
                        path: pck,
                        error: detail,
                    })
                }
                Err(Unparsed::Bad(detail)) => (format!("config.pck: {detail}"), Some(id)),
            },
            None => ("config.pck is missing".to_owned(), None),
        };
        // Mailman's Load moves on to config.pck.last.
        let last = dir.join("config.pck.last");
        let corrupt = |detail: String| StoreError::Corrupt {
            list: name.to_owned(),
            detail,
        };
        match read_whole(&last, self.limits.max_bytes)? {
            Some((data, _)) => match self.parse_policy(name, data) {
                Ok(policy) => Ok(LoadedList {
                    policy,
                    source: Source::ConfigPckLast { why },
                    pck_id,
                    snapshot_id: None,
                }),
                Err(Unparsed::Limit(detail)) => Err(StoreError::Unreadable {
                    path: last,
                    error: detail,
                }),
                Err(Unparsed::Bad(detail)) => {
                    Err(corrupt(format!("{why}; config.pck.last: {detail}")))
                }
            },
            None if pck_id.is_none() => Err(StoreError::NoSuchList(name.to_owned())),
            None => Err(corrupt(format!("{why}; config.pck.last is missing"))),
        }
    }

    fn parse_policy(&self, name: &str, data: Vec<u8>) -> Result<ListPolicy, Unparsed> {
        let parsed = pickle::parse(data, &self.limits).map_err(|e| {
            if e.limit {
                Unparsed::Limit(format!("past a limit of the list reader: {e}"))
            } else {
                Unparsed::Bad(e.to_string())
            }
        })?;
        ListPolicy::from_pickle(name, &parsed).map_err(|e| match e {
            NotAListDict::NotADict => Unparsed::Bad(e.to_string()),
            NotAListDict::OverBudget { .. } => {
                Unparsed::Limit(format!("past a limit of the list reader: {e}"))
            }
        })
    }
}

/// Why a list file gave no policy.
enum Unparsed {
    /// Not a list as Mailman writes it.
    Bad(String),
    /// Past a size or memory limit of the reader (or an allocation refused).
    Limit(String),
}

/// The identities of a list's `config.pck` and, when there is none, of
/// its snapshot: one `stat`, two without `config.pck`.
#[cfg_attr(target_os = "linux", link_section = ".text.hot.mailman_gate")]
fn identities_at(paths: &ListPaths) -> Identities {
    let pck = file_id(&paths.config_pck, paths.config_pck_c.as_deref());
    let snapshot = match (&pck, &paths.snapshot) {
        (None, Some(p)) => file_id(p, paths.snapshot_c.as_deref()),
        _ => None,
    };
    Identities { pck, snapshot }
}

/// The identity of the file at `path` (`c_path`: the same as a C string),
/// None if it cannot be `stat`ed. One `stat(2)` on the prepared C string:
/// the same identity as [`FileId::of`] `std::fs::metadata`, without
/// copying the path or running std's `statx` probing on each lookup.
#[cfg_attr(target_os = "linux", link_section = ".text.hot.mailman_gate")]
fn file_id(path: &Path, c_path: Option<&CStr>) -> Option<FileId> {
    let Some(c) = c_path else {
        return std::fs::metadata(path).ok().map(|m| FileId::of(&m));
    };
    let mut st = std::mem::MaybeUninit::<libc::stat>::uninit();
    // SAFETY: stat(2) on a NUL-terminated path, into a buffer we own.
    if unsafe { libc::stat(c.as_ptr(), st.as_mut_ptr()) } != 0 {
        return None;
    }
    // SAFETY: stat returned 0, so it filled the buffer.
    Some(FileId::of_stat(unsafe { &st.assume_init() }))
}

/// Read a whole file through one descriptor; its identity comes from that
/// descriptor. `Ok(None)` if it does not exist.
fn read_whole(path: &Path, max: usize) -> Result<Option<(Vec<u8>, FileId)>, StoreError> {
    let unreadable = |e: std::io::Error| StoreError::Unreadable {
        path: path.to_owned(),
        error: e.to_string(),
    };
    // O_NONBLOCK: a FIFO in its place must not wait for a writer (it is
    // then refused below); no effect on a regular file.
    let opened = std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NONBLOCK)
        .open(path);
    let mut f = match opened {
        Ok(f) => f,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(unreadable(e)),
    };
    let meta = f.metadata().map_err(unreadable)?;
    if !meta.is_file() {
        return Err(StoreError::Unreadable {
            path: path.to_owned(),
            error: "not a regular file".into(),
        });
    }
    if meta.size() > max as u64 {
        return Err(StoreError::Unreadable {
            path: path.to_owned(),
            error: format!("{} bytes is over the {} byte limit", meta.size(), max),
        });
    }
    let Some(mut data) = crate::pickle::input_buffer(meta.size() as usize + 1) else {
        return Err(StoreError::Unreadable {
            path: path.to_owned(),
            error: format!(
                "past a limit of the list reader: a buffer of {} bytes was refused",
                meta.size()
            ),
        });
    };
    f.by_ref()
        .take(max as u64 + 1)
        .read_to_end(&mut data)
        .map_err(unreadable)?;
    Ok(Some((data, FileId::of(&meta))))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_stat_identity_is_std_metadata_s() {
        let dir = std::env::temp_dir().join(format!("mg-store-id-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let pck = dir.join("config.pck");
        std::fs::write(&pck, b"some bytes").unwrap();
        let paths = ListPaths::new(pck.clone(), Some(dir.join("absent.cdb")));
        let std_id = FileId::of(&std::fs::metadata(&pck).unwrap());
        assert_eq!(file_id(&pck, paths.config_pck_c.as_deref()), Some(std_id));
        assert_eq!(file_id(&pck, None), Some(std_id));
        let ids = identities_at(&paths);
        assert_eq!((ids.pck, ids.snapshot), (Some(std_id), None));
        // Without config.pck the snapshot is looked at; neither is there.
        std::fs::remove_file(&pck).unwrap();
        let ids = identities_at(&paths);
        assert_eq!((ids.pck, ids.snapshot), (None, None));
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
