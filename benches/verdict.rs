//! Warm verdicts: `Gate::check_with_trace(.., false)` (what the MTA calls) on a list already in the per-process cache,
//! as every message after the first one in an MTA process pays.
//!
//! ```text
//! cargo bench --bench verdict
//! ```
//!
//! Every case posts the realistic message of `benches/post.eml` (~1.6 KB,
//! 17 headers including three `Received:` lines and a folded
//! `DKIM-Signature`, a few paragraphs of body; see `benches/post.rs`).
//!
//! Cases, on the `test` fixture list (`tests/fixtures/lists`):
//! * a member's post;
//! * a non-member matched by a `^regex` entry of `accept_these_nonmembers`
//!   (`y@trusted.org`);
//! * a post hitting the list's `header_filter_rules` (the same post with
//!   `X-Spam-Flag: YES` added).
//!
//! and a member's post on a 100,000-member list (generated with
//! `tools/py2pickle.py synth --members 100000`), read from `config.pck`
//! and from a compiled snapshot (`mailman_gate::export::export`).
//!
//! Each check includes parsing the raw message and the decision. Two rows
//! per member post tell the revalidation apart:
//! * `stand-alone`: each check `stat`s `config.pck` (or the snapshot) to
//!   revalidate the cache, as a caller outside a transaction pays (the C
//!   API, the CLI);
//! * `in round`: the batch runs inside one revalidation round
//!   (`mailman_gate::store::begin_round`, as Exim's RCPT call opens it), so
//!   the list is `stat`ed once for the whole batch, and each check runs in
//!   the allocator's scope (`mailman_gate::arena::scope`): what Exim's DATA
//!   call pays, the RCPT call having revalidated the list.
//!
//! The allocations (and reallocations) of one check are counted by the
//! library's own allocator (`mailman_gate::arena::counts`, inside a
//! scope as Exim's DATA call runs), in a separate untimed loop. Environment:
//! `VERDICT_BENCH_BATCHES` (default 30) batches of `VERDICT_BENCH_BATCH`
//! (default 20000) checks; the median and the best batch are reported.

use std::hint::black_box;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Instant;

use mailman_gate::address::Kind;
use mailman_gate::decide::Action;
use mailman_gate::gate::Gate;
use mailman_gate::site::Site;

#[path = "post.rs"]
mod post;

/// (allocations, reallocations) per check, over 1000 checks.
fn count_allocs(g: &Gate, list: &str, sender: &str, raw: &[u8], round: bool) -> (f64, f64) {
    const N: usize = 1000;
    if round {
        mailman_gate::store::begin_round();
    }
    let (a0, r0) = mailman_gate::arena::counts();
    for _ in 0..N {
        // Counted by the library's allocator inside a scope (as Exim's
        // DATA call runs): each check its own, so the region starts over.
        mailman_gate::arena::scope(|| {
            black_box(
                g.check_with_trace(list, Kind::Post, Some(sender), raw, false)
                    .expect("check"),
            );
        });
    }
    let (a1, r1) = mailman_gate::arena::counts();
    mailman_gate::store::end_round();
    ((a1 - a0) as f64 / N as f64, (r1 - r0) as f64 / N as f64)
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
/// check. `round`: each batch runs inside one revalidation round.
fn time_checks(
    g: &Gate,
    list: &str,
    sender: &str,
    raw: &[u8],
    round: bool,
    (batches, batch): (usize, usize),
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
            if round {
                mailman_gate::store::begin_round();
            }
            let check = || {
                black_box(
                    g.check_with_trace(
                        black_box(list),
                        Kind::Post,
                        Some(sender),
                        black_box(raw),
                        false,
                    )
                    .expect("check"),
                )
            };
            for _ in 0..batch {
                // In round, as Exim's DATA call: inside the allocator's
                // scope too (see `mailman_gate::arena`).
                if round {
                    mailman_gate::arena::scope(check);
                } else {
                    check();
                }
            }
            let ns = t.elapsed().as_nanos() as f64 / batch as f64;
            mailman_gate::store::end_round();
            ns
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

/// Checks that `sender`'s post `raw` gets `want` (any action if `None`),
/// then times it and counts its allocations, stand-alone and, if
/// `in_round`, inside a revalidation round too.
#[allow(clippy::too_many_arguments)]
fn case(
    name: &str,
    g: &Gate,
    list: &str,
    sender: &str,
    raw: &str,
    want: Option<Action>,
    in_round: bool,
    sizes: (usize, usize),
) {
    let v = g
        .check(list, Kind::Post, Some(sender), raw.as_bytes())
        .expect("check");
    if let Some(want) = want {
        assert_eq!(v.action, want, "{name}: {v:?}");
    }
    let rounds: &[bool] = if in_round { &[false, true] } else { &[false] };
    for &round in rounds {
        let t = time_checks(g, list, sender, raw.as_bytes(), round, sizes);
        let a = count_allocs(g, list, sender, raw.as_bytes(), round);
        let label = if !in_round {
            name.to_string()
        } else if round {
            format!("{name}, in round")
        } else {
            format!("{name}, stand-alone")
        };
        report(&label, v.action, t, a);
    }
}

fn main() {
    let sizes = (
        env_usize("VERDICT_BENCH_BATCHES", 30),
        env_usize("VERDICT_BENCH_BATCH", 20_000),
    );
    let fixtures = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/lists");
    let g = gate(&fixtures, None);

    println!(
        "{} batches of {} checks each; ns per verdict; the post: benches/post.eml\n",
        sizes.0, sizes.1
    );
    println!(
        "{:<52} {:>8} {:>9} {:>9} {:>12} {:>7}",
        "warm verdict", "action", "min ns", "median ns", "verdicts/s", "allocs + reallocs"
    );

    let list_addr = "test@example.com";
    let member = post::post("alice@example.com", list_addr, 1);
    let trusted = post::post("y@trusted.org", list_addr, 2);
    let flagged = post::with_header(&member, "X-Spam-Flag: YES");
    #[rustfmt::skip]
    let cases: [(&str, &str, &str, Action, bool); 3] = [
        ("test: member post", "alice@example.com", &member, Action::Accept, true),
        ("test: non-member, ^regex accept entry", "y@trusted.org", &trusted, Action::Accept, false),
        ("test: header_filter_rules hit (X-Spam-Flag)", "alice@example.com", &flagged, Action::Discard, false),
    ];
    for (name, sender, raw, want, in_round) in cases {
        case(name, &g, "test", sender, raw, Some(want), in_round, sizes);
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
    let raw = post::post(&member, "biglist@lists.example.org", 4);
    let nonmember = "someone@elsewhere.example";
    let raw_non = post::post(nonmember, "biglist@lists.example.org", 5);
    for (g, source) in [(&from_pck, "config.pck"), (&from_snap, "snapshot")] {
        let l = g.store.load("biglist").expect("load");
        assert_eq!(
            matches!(l.source, mailman_gate::store::Source::Snapshot { .. }),
            source == "snapshot",
            "{source}: read from {:?}",
            l.source
        );
        let name = format!("biglist (100k): member post, {source}");
        case(
            &name,
            g,
            "biglist",
            &member,
            &raw,
            Some(Action::Accept),
            true,
            sizes,
        );
        let name = format!("biglist (100k): non-member post, {source}");
        case(&name, g, "biglist", nonmember, &raw_non, None, false, sizes);
    }
    let _ = std::fs::remove_dir_all(&dir);
}
