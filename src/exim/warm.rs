//! Warm start: the library loaded, its configuration read and every list's
//! snapshot opened in the Exim daemon, before it forks a process for each
//! SMTP connection. Every connection inherits all of it copy-on-write: no
//! `dlopen`, no configuration parse, no snapshot open; it only revalidates
//! each list it uses (one `stat` per list per transaction, see
//! [`crate::store::begin_round`]).
//!
//! Two ways into the daemon:
//!
//! 1. `smtp_accept_max_per_host = ${dlfunc{LIB}{mailman_gate_daemon}{CONFIG}}`
//!    in Exim's main configuration. Exim expands that option in the daemon
//!    itself, for each incoming connection, before it forks (4.96
//!    `daemon.c`, `handle_smtp_call`), and keeps the `dlopen` handle in a
//!    tree its children inherit. [`daemon`] returns an empty string
//!    (no per-host limit; write a number after the `}` to keep one).
//!    The first connection builds the cache; later ones refresh it, at most
//!    once a second and within a small time budget.
//! 2. `LD_PRELOAD=LIB` with `MAILMAN_GATE_PRELOAD=CONFIG` in the daemon's
//!    environment (a systemd drop-in or `/etc/default/exim4`): a
//!    constructor builds the cache when the process is an Exim daemon
//!    (`-bd` among its arguments) and that variable is set, and does
//!    nothing in any other process. Nothing refreshes it later, and Exim
//!    clears its environment at start (`keep_environment`), so a `SIGHUP`
//!    re-exec comes back without it.
//!
//! Either way the daemon reads only snapshots that are current (made from
//! the `config.pck` there now), never parses `config.pck` and never writes
//! a file ([`Store::warm_from_snapshot`]): it runs as root while its
//! children run as Exim's user, and it must never stall. A list without a
//! current snapshot, or any error, leaves that list to the lazy path of
//! each connection, as without warm start. For each list loaded, one
//! verdict on a made-up non-member post is computed and thrown away, so
//! that the list's patterns are compiled in the daemon's process-wide
//! caches too.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, OnceLock};
use std::time::{Duration, Instant};

use crate::address::Kind;
use crate::decide::{decide, Delivery, Lookups, OtherLists};
use crate::gate::Gate;
use crate::message::Message;
use crate::store::{LoadedList, Store, Warmed};

/// Time the first pass may take in one call (the rest continues at the
/// next call).
pub const FIRST_PASS_BUDGET: Duration = Duration::from_millis(50);
/// Time a refresh may take in one call.
pub const REFRESH_BUDGET: Duration = Duration::from_millis(2);
/// A refresh pass starts at most this often.
pub const REFRESH_INTERVAL: Duration = Duration::from_secs(1);
/// Time the constructor may take (before Exim's `main`).
pub const PRELOAD_BUDGET: Duration = Duration::from_millis(500);

/// The environment variable that arms the constructor: the configuration
/// file (empty: the default path).
pub const PRELOAD_ENV: &str = "MAILMAN_GATE_PRELOAD";

/// Where a pass over the lists stands, per configuration file.
#[derive(Default)]
struct Pass {
    names: Vec<String>,
    next: usize,
    /// The first pass is done.
    warmed: bool,
    started: Option<Instant>,
}

fn passes() -> &'static Mutex<HashMap<Option<PathBuf>, Pass>> {
    static PASSES: OnceLock<Mutex<HashMap<Option<PathBuf>, Pass>>> = OnceLock::new();
    PASSES.get_or_init(|| Mutex::new(HashMap::new()))
}

/// When the daemon call has nothing to do: the pass over the lists of the
/// first configuration warmed is complete and no refresh is due. Exim
/// makes the call before every fork; [`quiet`] answers it with reads only,
/// no lock and no allocation, because a write there would copy a page
/// that the last connection's process still shares (and that process,
/// writing the page in turn, would copy it again). Calls for another
/// configuration take the slow path.
struct Quiet {
    /// The configuration file, as written in the call.
    config: OnceLock<Option<PathBuf>>,
    /// Until when (`CLOCK_MONOTONIC`, in ns).
    until_ns: AtomicU64,
}

impl Quiet {
    const fn new() -> Quiet {
        Quiet {
            config: OnceLock::new(),
            until_ns: AtomicU64::new(0),
        }
    }

    fn is_quiet(&self, config: Option<&Path>, now_ns: u64) -> bool {
        let Some(warmed) = self.config.get() else {
            return false;
        };
        // As bytes: `Path`'s own equality walks components.
        warmed.as_deref().map(Path::as_os_str) == config.map(Path::as_os_str)
            && now_ns < self.until_ns.load(Ordering::Relaxed)
    }

    /// Nothing to do for `config` until `until_ns`, if it is the first
    /// configuration noted.
    fn note(&self, config: Option<&Path>, until_ns: u64) {
        let warmed = self.config.get_or_init(|| config.map(Path::to_path_buf));
        if warmed.as_deref() == config {
            self.until_ns.store(until_ns, Ordering::Relaxed);
        }
    }
}

static QUIET: Quiet = Quiet::new();

/// `CLOCK_MONOTONIC` in ns (the vDSO: no system call, no write).
fn monotonic_ns() -> Option<u64> {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: clock_gettime fills the timespec we own.
    if unsafe { libc::clock_gettime(libc::CLOCK_MONOTONIC, &mut ts) } != 0 {
        return None;
    }
    let s = u64::try_from(ts.tv_sec).ok()?;
    let ns = u64::try_from(ts.tv_nsec).ok()?;
    s.checked_mul(1_000_000_000)?.checked_add(ns)
}

/// Whether the daemon call for `config` (None: the default file) has
/// nothing to do now (see [`Quiet`]). Reads only; cannot panic.
pub fn quiet(config: Option<&Path>) -> bool {
    monotonic_ns().is_some_and(|now| QUIET.is_quiet(config, now))
}

/// The pass for `config`, started at `started`, is complete: nothing to do
/// until a refresh is due.
fn note_quiet(config: Option<&Path>, started: Instant) {
    let left = REFRESH_INTERVAL.saturating_sub(started.elapsed());
    if let (Some(now), Ok(left)) = (monotonic_ns(), u64::try_from(left.as_nanos())) {
        QUIET.note(config, now.saturating_add(left));
    }
}

/// What one call did.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Progress {
    pub loaded: usize,
    pub current: usize,
    pub skipped: usize,
    /// The pass over every list is complete.
    pub done: bool,
}

/// The lists to look at: acceptable names in the lists directory and in
/// the snapshot directory (`<name>.cdb`; a host without Mailman has only
/// those). No `stat` per name: a name that is no list has no snapshot and
/// is skipped when its snapshot fails to open.
fn list_names(store: &Store) -> Vec<String> {
    let mut names: Vec<String> = Vec::new();
    let dir_names = |dir: &Path| -> Vec<String> {
        std::fs::read_dir(dir)
            .into_iter()
            .flatten()
            .flatten()
            .filter_map(|e| e.file_name().into_string().ok())
            .collect()
    };
    names.extend(dir_names(store.lists_dir()));
    if let Some(snaps) = store.snapshot_dir() {
        names.extend(
            dir_names(snaps)
                .into_iter()
                .filter_map(|n| n.strip_suffix(".cdb").map(str::to_owned)),
        );
    }
    names.retain(|n| store.name_rule().accepts(n));
    names.sort();
    names.dedup();
    names
}

/// `@list` entries during the warm-up verdict: only lists already in the
/// cache are consulted (no file is read for them).
struct CachedOnly<'a>(&'a Store);

impl OtherLists for CachedOnly<'_> {
    fn is_member(&self, list: &str, address: &str) -> Result<Option<bool>, String> {
        match self.0.cached(list) {
            Some(l) => Ok(Some(l.policy.member(address).is_some())),
            None => Err("not loaded yet".into()),
        }
    }
}

/// The list's rules prepared ([`crate::decide::prepare`]), then one
/// verdict on a made-up non-member post, thrown away: it compiles the
/// patterns a post to this list consults (header filters, the non-member
/// lists) into the process-wide caches.
fn prepare_patterns(gate: &Gate, list: &LoadedList) {
    crate::decide::prepare(&list.policy, &gate.site.mailman);
    const SENDER: &str = "mailman-gate-warm-up@invalid";
    let raw = b"From: mailman-gate-warm-up@invalid\nTo: list@invalid\n\
        Subject: warm-up\nMessage-ID: <warm-up@invalid>\n\nwarm-up\n";
    let msg = Message::parse(raw);
    let _ = decide(
        &list.policy,
        &gate.site.mailman,
        &msg,
        Delivery {
            kind: Kind::Post,
            envelope_sender: Some(SENDER),
            trace: false,
        },
        Lookups {
            others: &CachedOnly(&gate.store),
            translations: &gate.catalogs,
            dmarc: None,
        },
    );
}

/// The `memchr` crate picks the routine for this CPU on first use and
/// keeps it in a static: picked here, so that a connection forked from
/// this process does not write (and copy) that page.
fn prime_memchr() {
    let hay = std::hint::black_box(b"warm-up\n=?x?".as_slice());
    let _ = memchr::memchr(b'\n', hay);
    let _ = memchr::memchr2(b'\n', b'?', hay);
    let _ = memchr::memchr3(b'\n', b'?', b'=', hay);
    let _ = memchr::memrchr(b'\n', hay);
    let _ = memchr::memmem::find(hay, b"=?");
}

/// Warm the cache of the gate for `config` for at most `budget`, going on
/// where the previous call stopped. A refresh pass (every list's snapshot
/// looked at again) starts at most once per [`REFRESH_INTERVAL`].
pub fn step(config: Option<&Path>, budget: Duration) -> Result<Progress, String> {
    let t0 = Instant::now();
    let gate = super::gate(config).map_err(|e| e.to_string())?;
    // This thread's round numbers and Exim's symbols, set up here once so
    // that connections forked from this process do not need to.
    crate::store::begin_round();
    crate::store::end_round();
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        super::sys::resolve_all();
        prime_memchr();
    });
    // Never wait: another thread warming the same process is enough.
    let Ok(mut all) = passes().try_lock() else {
        return Ok(Progress::default());
    };
    let pass = all.entry(config.map(Path::to_path_buf)).or_default();
    let mut progress = Progress::default();
    if pass.next >= pass.names.len() {
        if let Some(started) = pass.started.filter(|t| t.elapsed() < REFRESH_INTERVAL) {
            progress.done = pass.warmed;
            if pass.warmed {
                note_quiet(config, started);
            }
            return Ok(progress);
        }
        pass.names = list_names(&gate.store);
        pass.next = 0;
        pass.started = Some(Instant::now());
    }
    while pass.next < pass.names.len() && t0.elapsed() < budget {
        let name = &pass.names[pass.next];
        pass.next += 1;
        match gate.store.warm_from_snapshot(name) {
            Warmed::Loaded => {
                progress.loaded += 1;
                if let Some(l) = gate.store.cached(name) {
                    prepare_patterns(&gate, &l);
                }
                // Looked at once here rather than in every connection.
                gate.store.has_extend_py(name);
            }
            Warmed::Current => progress.current += 1,
            Warmed::Skipped(_) => progress.skipped += 1,
        }
    }
    if pass.next >= pass.names.len() {
        pass.warmed = true;
        progress.done = true;
        if let Some(started) = pass.started {
            note_quiet(config, started);
        }
    }
    // What the connections forked from now on read without writing.
    if progress.loaded > 0 {
        gate.store.freeze();
    }
    Ok(progress)
}

/// The body of `mailman_gate_daemon{CONFIG}`: warm or refresh; its token
/// is the empty string (nothing is written to `_out`). Errors are logged
/// once per call and otherwise ignored.
pub fn daemon(a: &[&str], _out: &mut String) {
    let config = super::config_path(a);
    let first = passes()
        .try_lock()
        .map(|p| {
            !p.get(&config.map(Path::to_path_buf))
                .is_some_and(|p| p.warmed)
        })
        .unwrap_or(false);
    let budget = if first {
        FIRST_PASS_BUDGET
    } else {
        REFRESH_BUDGET
    };
    if let Err(e) = step(config, budget) {
        super::sys::log(&format!("warm start: {e} (each connection loads lazily)"));
    }
}

/// Whether the arguments are those of an Exim daemon (`-bd`, possibly
/// with other `-b` letters after Exim's own parsing rules: `-bdf`).
pub fn is_daemon_args<S: AsRef<str>>(args: &[S]) -> bool {
    args.iter()
        .skip(1)
        .any(|a| matches!(a.as_ref(), "-bd" | "-bdf"))
}

/// The constructor's decision and work, apart from how it gets its
/// arguments: warm when `preload` (the variable's value) is set and the
/// arguments are a daemon's. Returns whether it warmed.
pub fn preload<S: AsRef<str>>(preload: Option<&str>, args: &[S]) -> bool {
    let Some(conf) = preload else {
        return false;
    };
    if !is_daemon_args(args) {
        return false;
    }
    let config = (!conf.is_empty()).then(|| PathBuf::from(conf));
    let t0 = Instant::now();
    while t0.elapsed() < PRELOAD_BUDGET {
        let left = PRELOAD_BUDGET.saturating_sub(t0.elapsed());
        match step(config.as_deref(), left) {
            Ok(p) if p.done => return true,
            Ok(_) => {}
            Err(_) => return false,
        }
    }
    true
}

/// The constructor (see the module documentation). glibc calls
/// `.init_array` functions of a shared object with `argc`, `argv` and
/// `envp`. It runs inside the panic boundary, logs nothing (Exim's log is
/// not set up before its `main`) and does nothing unless
/// [`PRELOAD_ENV`] is set. Not under Miri, which runs `.init_array`
/// entries without glibc's arguments.
#[cfg(all(target_os = "linux", not(test), not(miri)))]
mod constructor {
    use std::ffi::{c_char, c_int, CStr};

    extern "C" fn init(argc: c_int, argv: *const *const c_char, _envp: *const *const c_char) {
        // Cheap test first: most processes that load the library (Exim's
        // receiving processes, the CLI, embedders) are not armed.
        let Some(value) = std::env::var_os(super::PRELOAD_ENV) else {
            return;
        };
        crate::ffi::boundary(|| {
            let value = value.to_string_lossy();
            let mut args = Vec::new();
            if !argv.is_null() {
                for i in 0..argc.max(0) as usize {
                    // SAFETY: glibc passes main's argv: argc valid
                    // NUL-terminated strings.
                    let p = unsafe { *argv.add(i) };
                    if p.is_null() {
                        break;
                    }
                    args.push(unsafe { CStr::from_ptr(p) }.to_string_lossy().into_owned());
                }
            }
            super::preload(Some(&value), &args);
        });
        let _ = crate::ffi::take_panic_message();
    }

    #[used]
    #[link_section = ".init_array"]
    static INIT: extern "C" fn(c_int, *const *const c_char, *const *const c_char) = init;
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `step` never waits for a pass another thread holds (it returns
    /// at once): tests that look at a pass's progress take turns.
    static TURNS: Mutex<()> = Mutex::new(());

    /// The fixture list `test` in a fresh lists directory, a configuration
    /// naming it and a snapshot directory, and its snapshot exported.
    fn exported_fixture(tag: &str) -> (PathBuf, PathBuf, std::sync::Arc<crate::gate::Gate>) {
        let dir = std::env::temp_dir().join(format!("mg-warm-{tag}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let lists = dir.join("lists");
        std::fs::create_dir_all(lists.join("test")).unwrap();
        let fixture = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/lists/test");
        std::fs::copy(fixture.join("config.pck"), lists.join("test/config.pck")).unwrap();
        let conf = dir.join("gate.conf");
        let snap = dir.join("snap");
        let text = format!(
            "lists_dir = {}\nsnapshot_dir = {}\n",
            lists.display(),
            snap.display()
        );
        std::fs::write(&conf, text).unwrap();
        let gate = crate::ffi::gates(Some(&conf)).unwrap();
        crate::export::export(&gate.store, None, false);
        (dir, conf, gate)
    }

    #[test]
    fn only_a_daemon_is_warmed_by_the_constructor() {
        assert!(is_daemon_args(&["exim4", "-bd", "-q30m"]));
        assert!(is_daemon_args(&["/usr/sbin/exim4", "-oX", "25", "-bdf"]));
        assert!(!is_daemon_args(&["exim4", "-bV"]));
        assert!(!is_daemon_args(&["exim4", "-bh", "127.0.0.1"]));
        assert!(!is_daemon_args(&["mailman-gate", "check", "-bd"][..1]));
        // Not armed: nothing happens whatever the arguments.
        assert!(!preload(None, &["exim4", "-bd"]));
        // Armed but not a daemon.
        assert!(!preload(Some(""), &["exim4", "-bV"]));
    }

    #[test]
    fn the_call_before_each_fork_is_quiet_only_for_the_first_configuration_until_the_refresh() {
        let q = Quiet::new();
        let (a, b) = (Path::new("/etc/a.conf"), Path::new("/etc/b.conf"));
        assert!(!q.is_quiet(Some(Path::new("/etc/a.conf")), 0));
        q.note(Some(a), 100);
        assert!(q.is_quiet(Some(Path::new("/etc/a.conf")), 99));
        assert!(!q.is_quiet(Some(Path::new("/etc/a.conf")), 100));
        assert!(!q.is_quiet(Some(Path::new("/etc/b.conf")), 50));
        assert!(!q.is_quiet(None, 50));
        // Another configuration never makes the call quiet.
        q.note(Some(b), 200);
        assert!(!q.is_quiet(Some(Path::new("/etc/b.conf")), 150));
        assert!(!q.is_quiet(Some(Path::new("/etc/a.conf")), 150));
        q.note(Some(a), 300);
        assert!(q.is_quiet(Some(Path::new("/etc/a.conf")), 250));
        // The default file (no argument) is a configuration too.
        let d = Quiet::new();
        d.note(None, 100);
        assert!(d.is_quiet(None, 50));
        assert!(!d.is_quiet(Some(Path::new("/etc/a.conf")), 50));
    }

    #[test]
    fn a_bad_configuration_never_fails_the_daemon() {
        let _turn = TURNS.lock().unwrap_or_else(|e| e.into_inner());
        let a = ["/nonexistent/mailman-gate.conf"];
        let mut token = String::new();
        daemon(&a, &mut token);
        assert_eq!(token, "");
        assert!(step(Some(Path::new(a[0])), REFRESH_BUDGET).is_err());
    }

    #[test]
    fn a_pass_warms_the_snapshots_and_then_waits_for_the_interval() {
        let _turn = TURNS.lock().unwrap_or_else(|e| e.into_inner());
        let (dir, conf, gate) = exported_fixture("pass");
        std::fs::create_dir_all(dir.join("lists/stray")).unwrap();

        let p = step(Some(&conf), Duration::from_secs(5)).unwrap();
        assert_eq!((p.loaded, p.skipped, p.done), (1, 1, true), "{p:?}");
        assert!(gate.store.cached("test").is_some());
        // Within the interval nothing is looked at again.
        let p = step(Some(&conf), Duration::from_secs(5)).unwrap();
        assert_eq!((p.loaded, p.current, p.done), (0, 0, true), "{p:?}");
        // Nor, then, by the call before each fork, when this is the
        // configuration it keeps (the first one warmed in this process).
        let kept = QUIET
            .config
            .get()
            .is_some_and(|c| c.as_deref() == Some(&*conf));
        assert_eq!(quiet(Some(&conf)), kept);
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn a_forked_process_reads_the_frozen_cache_until_the_list_changes() {
        let _turn = TURNS.lock().unwrap_or_else(|e| e.into_inner());
        use crate::store::ListRef;
        let (dir, conf, gate) = exported_fixture("frozen");
        let pck = dir.join("lists/test/config.pck");
        // Another test's step may hold the pass table for a moment: a step
        // then does nothing, and the next one goes on.
        for _ in 0..1000 {
            if step(Some(&conf), Duration::from_secs(5)).unwrap().done {
                break;
            }
            std::thread::sleep(Duration::from_millis(1));
        }
        assert!(gate.store.cached("test").is_some());
        // The process that froze the cache never reads the frozen copy.
        assert!(matches!(gate.store.load("test"), Ok(ListRef::Shared(_))));

        // SAFETY: the child only runs this test's code and leaves by _exit.
        let pid = unsafe { libc::fork() };
        assert!(pid >= 0);
        if pid == 0 {
            let ok = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                crate::store::begin_round();
                let frozen = matches!(gate.store.load("test"), Ok(ListRef::Frozen(_)));
                let again = matches!(gate.store.load("test"), Ok(ListRef::Frozen(_)));
                crate::store::end_round();
                // A new config.pck (another file in its place): the frozen
                // entry is stale and the list is read again.
                let tmp = dir.join("lists/test/config.pck.tmp");
                std::fs::copy(&pck, &tmp).unwrap();
                std::fs::rename(&tmp, &pck).unwrap();
                let reread = matches!(gate.store.load("test"), Ok(ListRef::Shared(_)));
                u8::from(!frozen) | u8::from(!again) << 1 | u8::from(!reread) << 2
            }))
            .unwrap_or(8);
            // SAFETY: ends the child without running the parent's exit code.
            unsafe { libc::_exit(ok as i32) };
        }
        let mut status = 0;
        // SAFETY: waits for the child forked above.
        assert_eq!(unsafe { libc::waitpid(pid, &mut status, 0) }, pid);
        assert!(libc::WIFEXITED(status), "{status}");
        assert_eq!(libc::WEXITSTATUS(status), 0, "bits: frozen, again, reread");
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
