//! What a new MTA process pays for its first member lookup on a
//! 100,000-member list: open a compiled snapshot, or read and parse
//! `config.pck`; then warm lookups per second.
//!
//! ```text
//! cargo bench --bench snapshot_open
//! ```
//!
//! Environment: `SNAPSHOT_BENCH_ITERS` (default 20) runs per measure. The
//! list is generated with `tools/py2pickle.py synth --members 100000
//! --bounces 500 --digest 5000` in a temporary directory. Files are in the
//! page cache: "cold" means a fresh open and mapping in this process.

use std::hint::black_box;
use std::path::Path;
use std::process::Command;
use std::time::Instant;

use mailman_gate::snapshot::{crc32, open_snapshot, open_snapshot_with, write_snapshot, Verify};
use mailman_gate::store::{Layout, NameRule, Store};

fn stats(mut v: Vec<f64>) -> (f64, f64) {
    v.sort_by(f64::total_cmp);
    (v[0], v[v.len() / 2])
}

fn time_ms(iters: usize, mut f: impl FnMut()) -> (f64, f64) {
    let v = (0..iters)
        .map(|_| {
            let t = Instant::now();
            f();
            t.elapsed().as_secs_f64() * 1000.0
        })
        .collect();
    stats(v)
}

fn main() {
    let iters: usize = std::env::var("SNAPSHOT_BENCH_ITERS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(20)
        .max(1);
    let dir = std::env::temp_dir().join(format!("mailman-gate-snapbench-{}", std::process::id()));
    let list = dir.join("biglist");
    std::fs::create_dir_all(&list).expect("temp dir");
    let pck = list.join("config.pck");
    let tool = Path::new(env!("CARGO_MANIFEST_DIR")).join("tools/py2pickle.py");
    let st = Command::new("python3")
        .arg(tool)
        .args(["synth", "--members", "100000", "--bounces", "500"])
        .args(["--digest", "5000", "-o"])
        .arg(&pck)
        .stdout(std::process::Stdio::null())
        .status()
        .expect("python3 is needed to generate the benchmark list");
    assert!(st.success(), "py2pickle.py synth failed");

    let store = Store::new(&dir, Layout::Standard, NameRule::default());
    let loaded = store.load("biglist").expect("load");
    let members = loaded.policy.members.entries();
    let first = members[members.len() / 2].0.clone();
    let snap_path = dir.join("biglist.cdb");

    let (w_min, w_med) = time_ms(iters.min(5), || {
        write_snapshot(&loaded.policy, loaded.pck_id, &snap_path).expect("write");
    });
    let pck_len = std::fs::metadata(&pck).unwrap().len();
    let snap_len = std::fs::metadata(&snap_path).unwrap().len();
    println!(
        "list: {} members; config.pck {:.1} MiB, snapshot {:.1} MiB; {iters} runs each\n",
        members.len(),
        pck_len as f64 / 1048576.0,
        snap_len as f64 / 1048576.0
    );
    println!(
        "{:<46} {:>10} {:>10}",
        "cold, per new process", "min ms", "median ms"
    );

    let (p_min, p_med) = time_ms(iters, || {
        let s = Store::new(&dir, Layout::Standard, NameRule::default());
        let l = s.load("biglist").expect("load");
        black_box(l.policy.member(&first).expect("member"));
    });
    println!(
        "{:<46} {p_min:>10.3} {p_med:>10.3}",
        "config.pck: read + parse + first lookup"
    );

    let (o_min, o_med) = time_ms(iters, || {
        let s = open_snapshot(&snap_path).expect("open");
        black_box(s.policy().member(&first).expect("member"));
    });
    println!(
        "{:<46} {o_min:>10.3} {o_med:>10.3}",
        "snapshot: open + verify + first lookup"
    );
    let (u_min, u_med) = time_ms(iters, || {
        let s = open_snapshot_with(&snap_path, Verify::SkipChecksum).expect("open");
        black_box(s.policy().member(&first).expect("member"));
    });
    println!(
        "{:<46} {u_min:>10.3} {u_med:>10.3}",
        "snapshot: open (Verify::SkipChecksum) + lookup"
    );
    let bytes = std::fs::read(&snap_path).unwrap();
    let (c_min, c_med) = time_ms(iters, || {
        black_box(crc32(black_box(&bytes)));
    });
    println!(
        "{:<46} {c_min:>10.3} {c_med:>10.3}",
        "  of which CRC-32 of the whole file (in memory)"
    );
    println!(
        "{:<46} {w_min:>10.3} {w_med:>10.3}",
        "write_snapshot (encode, fsync, rename)"
    );
    println!(
        "\nfirst lookup: snapshot {:.1}x faster than parsing (by median)\n",
        p_med / o_med
    );

    // Warm lookups: a fixed pseudo-random order over the members, and
    // addresses that are not there.
    let snap = open_snapshot(&snap_path).expect("open");
    let policy = snap.policy();
    let mut order: Vec<usize> = (0..members.len()).collect();
    let mut x: u64 = 0x2545_f491_4f6c_dd1d;
    for i in (1..order.len()).rev() {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        order.swap(i, (x % (i as u64 + 1)) as usize);
    }
    let present: Vec<&str> = order.iter().map(|&i| members[i].0.as_str()).collect();
    let absent: Vec<String> = (0..100_000)
        .map(|i| format!("absent{i}@nowhere.invalid"))
        .collect();
    println!("{:<46} {:>21}", "warm lookups", "per second (best of 3)");
    let rate = |f: &dyn Fn() -> usize| {
        (0..3)
            .map(|_| {
                let t = Instant::now();
                let n = f();
                n as f64 / t.elapsed().as_secs_f64()
            })
            .fold(0.0, f64::max)
    };
    let r = rate(&|| {
        present
            .iter()
            .filter(|a| policy.member(a).is_some())
            .count()
    });
    println!("{:<46} {:>21.0}", "snapshot, present", r);
    let r = rate(&|| absent.iter().filter(|a| policy.member(a).is_none()).count());
    println!("{:<46} {:>21.0}", "snapshot, absent", r);
    let parsed = &loaded.policy;
    let r = rate(&|| {
        present
            .iter()
            .filter(|a| parsed.member(a).is_some())
            .count()
    });
    println!("{:<46} {:>21.0}", "parsed HashMap, present (for scale)", r);

    let _ = std::fs::remove_dir_all(&dir);
}
