//! Warm verdicts: `Gate::check_with_trace(.., false)` (what the MTA calls) on a list already in the per-process cache,
//! as every message after the first one in an MTA process pays.
//!
//! ```text
//! cargo bench --bench verdict
//! ```
//!
//! Cases, on the `test` fixture list (`tests/fixtures/lists`):
//! * a member's post;
//! * a non-member matched by a `^regex` entry of `accept_these_nonmembers`
//!   (`y@trusted.org`);
//! * a post hitting the list's `header_filter_rules` (`X-Spam-Flag: YES`).
//!
//! and a member's post on a 100,000-member list (generated with
//! `tools/py2pickle.py synth --members 100000`), read from `config.pck`
//! and from a compiled snapshot (`mailman_gate::export::export`).
//!
//! Each check includes what the MTA pays per message: parsing the raw
//! message, the `stat` of `config.pck` that revalidates the cache, and the
//! decision. The allocations (and reallocations) of one check are counted
//! by a counting global allocator, in a separate untimed loop. Environment: `VERDICT_BENCH_BATCHES` (default 30) batches of
//! `VERDICT_BENCH_BATCH` (default 20000) checks; the median and the best
//! batch are reported.

use std::alloc::{GlobalAlloc, Layout, System};
use std::hint::black_box;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering::Relaxed};
use std::time::Instant;

use mailman_gate::address::Kind;
use mailman_gate::decide::Action;
use mailman_gate::gate::Gate;
use mailman_gate::site::Site;

/// The system allocator, counting calls while `COUNTING` is set (the
/// timed loops run with it clear).
struct Counting;
static COUNTING: AtomicBool = AtomicBool::new(false);
static ALLOCS: AtomicUsize = AtomicUsize::new(0);
static REALLOCS: AtomicUsize = AtomicUsize::new(0);

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        if COUNTING.load(Relaxed) {
            ALLOCS.fetch_add(1, Relaxed);
        }
        unsafe { System.alloc(layout) }
    }
    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        if COUNTING.load(Relaxed) {
            ALLOCS.fetch_add(1, Relaxed);
        }
        unsafe { System.alloc_zeroed(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        unsafe { System.dealloc(ptr, layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        if COUNTING.load(Relaxed) {
            REALLOCS.fetch_add(1, Relaxed);
        }
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

/// (allocations, reallocations) per check, over 1000 checks.
fn count_allocs(g: &Gate, list: &str, sender: &str, raw: &[u8]) -> (f64, f64) {
    const N: usize = 1000;
    ALLOCS.store(0, Relaxed);
    REALLOCS.store(0, Relaxed);
    COUNTING.store(true, Relaxed);
    for _ in 0..N {
        black_box(
            g.check_with_trace(list, Kind::Post, Some(sender), raw, false)
                .expect("check"),
        );
    }
    COUNTING.store(false, Relaxed);
    (
        ALLOCS.load(Relaxed) as f64 / N as f64,
        REALLOCS.load(Relaxed) as f64 / N as f64,
    )
}

fn env_usize(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(default)
        .max(1)
}

fn gate(lists: &Path, snapshots: Option<&Path>) -> Gate {
    let mut conf = format!("lists_dir = {}\n", lists.display());
    if let Some(s) = snapshots {
        conf.push_str(&format!("snapshot_dir = {}\n", s.display()));
    }
    Gate::new(Site::parse(&conf, "bench").expect("site"))
}

/// Times `batches` batches of `batch` checks; returns (min, median) ns per
/// check.
fn time_checks(
    g: &Gate,
    list: &str,
    sender: &str,
    raw: &[u8],
    batches: usize,
    batch: usize,
) -> (f64, f64) {
    for _ in 0..batch / 4 {
        black_box(
            g.check_with_trace(list, Kind::Post, Some(sender), raw, false)
                .expect("check"),
        );
    }
    let mut per: Vec<f64> = (0..batches)
        .map(|_| {
            let t = Instant::now();
            for _ in 0..batch {
                black_box(
                    g.check_with_trace(
                        black_box(list),
                        Kind::Post,
                        Some(sender),
                        black_box(raw),
                        false,
                    )
                    .expect("check"),
                );
            }
            t.elapsed().as_nanos() as f64 / batch as f64
        })
        .collect();
    per.sort_by(f64::total_cmp);
    (per[0], per[per.len() / 2])
}

fn report(name: &str, action: Action, (min, med): (f64, f64), (allocs, reallocs): (f64, f64)) {
    println!(
        "{name:<52} {:>8} {min:>9.0} {med:>9.0} {:>12.0} {allocs:>7.1} + {reallocs:.1}",
        action.as_str(),
        1e9 / med
    );
}

fn make_biglist(dir: &Path) -> PathBuf {
    let lists = dir.join("lists");
    let list = lists.join("biglist");
    std::fs::create_dir_all(&list).expect("temp dir");
    let tool = Path::new(env!("CARGO_MANIFEST_DIR")).join("tools/py2pickle.py");
    let st = Command::new("python3")
        .arg(tool)
        .args(["synth", "--members", "100000", "-o"])
        .arg(list.join("config.pck"))
        .stdout(Stdio::null())
        .status()
        .expect("python3 is needed to generate the benchmark list");
    assert!(st.success(), "py2pickle.py synth failed");
    lists
}

fn main() {
    let batches = env_usize("VERDICT_BENCH_BATCHES", 30);
    let batch = env_usize("VERDICT_BENCH_BATCH", 20_000);
    let fixtures = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/lists");
    let g = gate(&fixtures, None);

    println!("{batches} batches of {batch} checks each; ns per verdict\n");
    println!(
        "{:<52} {:>8} {:>9} {:>9} {:>12} {:>7}",
        "warm verdict", "action", "min ns", "median ns", "verdicts/s", "allocs + reallocs"
    );

    let cases: [(&str, &str, &str, Action); 3] = [
        (
            "test: member post",
            "alice@example.com",
            "From: Alice <alice@example.com>\nTo: test@example.com\nSubject: hello list\n\
             Message-ID: <1@example.com>\n\nHello everyone.\n",
            Action::Accept,
        ),
        (
            "test: non-member, ^regex accept entry",
            "y@trusted.org",
            "From: y@trusted.org\nTo: test@example.com\nSubject: hello list\n\
             Message-ID: <2@trusted.org>\n\nHello everyone.\n",
            Action::Accept,
        ),
        (
            "test: header_filter_rules hit (X-Spam-Flag)",
            "alice@example.com",
            "From: alice@example.com\nTo: test@example.com\nSubject: flagged\n\
             X-Spam-Flag: YES\nMessage-ID: <3@example.com>\n\nFlagged by the spam filter.\n",
            Action::Discard,
        ),
    ];
    for (name, sender, raw, want) in cases {
        let v = g
            .check("test", Kind::Post, Some(sender), raw.as_bytes())
            .expect("check");
        assert_eq!(v.action, want, "{name}: {v:?}");
        let t = time_checks(&g, "test", sender, raw.as_bytes(), batches, batch);
        let a = count_allocs(&g, "test", sender, raw.as_bytes());
        report(name, v.action, t, a);
    }

    // The 100,000-member list.
    let dir = std::env::temp_dir().join(format!("mailman-gate-verdict-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let lists = make_biglist(&dir);
    let snapshots = dir.join("snapshots");
    let from_pck = gate(&lists, None);
    let from_snap = gate(&lists, Some(&snapshots));
    let rep = mailman_gate::export::export(&from_snap.store, None, true);
    assert!(rep.failed.is_empty(), "export: {:?}", rep.failed);
    let loaded = from_pck.store.load("biglist").expect("load");
    let entries = loaded.policy.members.entries();
    let member = entries[entries.len() / 2].0.clone();
    let raw = format!(
        "From: {member}\nTo: biglist@lists.example.org\nSubject: hello list\n\
         Message-ID: <4@example.net>\n\nHello everyone.\n"
    );
    let nonmember = "someone@elsewhere.example";
    let raw_non = raw.replace(&member, nonmember);
    for (name, g, source) in [
        (
            "biglist (100k): member post, config.pck",
            &from_pck,
            "config.pck",
        ),
        (
            "biglist (100k): member post, snapshot",
            &from_snap,
            "snapshot",
        ),
    ] {
        let v = g
            .check("biglist", Kind::Post, Some(&member), raw.as_bytes())
            .expect("check");
        assert_eq!(v.action, Action::Accept, "{name}: {v:?}");
        let l = g.store.load("biglist").expect("load");
        assert_eq!(
            matches!(l.source, mailman_gate::store::Source::Snapshot { .. }),
            source == "snapshot",
            "{name}: read from {:?}",
            l.source
        );
        let t = time_checks(g, "biglist", &member, raw.as_bytes(), batches, batch);
        let a = count_allocs(g, "biglist", &member, raw.as_bytes());
        report(name, v.action, t, a);
        let v = g
            .check("biglist", Kind::Post, Some(nonmember), raw_non.as_bytes())
            .expect("check");
        let t = time_checks(g, "biglist", nonmember, raw_non.as_bytes(), batches, batch);
        let a = count_allocs(g, "biglist", nonmember, raw_non.as_bytes());
        report(
            &format!("biglist (100k): non-member post, {source}"),
            v.action,
            t,
            a,
        );
    }
    let _ = std::fs::remove_dir_all(&dir);
}
