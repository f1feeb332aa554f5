//! What a new process pays for a list's patterns: compiling them from
//! source (`PyRegex::compile`) against reading them prepared from the
//! snapshot (`PyRegex::from_prepared`, checks included).
//!
//! ```text
//! cargo bench --bench prepared_patterns
//! ```
//!
//! The patterns: those of a list with typical settings (non-member
//! `^regex` entries, `header_filter_rules`, `bounce_matching_headers`)
//! and, separately, every pattern of `tests/pyre/cases.json` that
//! compiles. `PREPARED_BENCH_ROUNDS` (default 200) rounds; min and median
//! per round.

use std::hint::black_box;
use std::time::Instant;

use mailman_gate::pyre::{Flags, PyRegex};

const I: Flags = Flags {
    ignorecase: true,
    multiline: false,
    unicode: false,
};
const IMU: Flags = Flags {
    ignorecase: true,
    multiline: true,
    unicode: true,
};

fn typical() -> Vec<(String, Flags)> {
    [
        ("^.*@trusted\\.org$", I),
        ("^[^@]+@(lists\\.)?example\\.org", I),
        ("^(ann|bob|carol)@partner\\.net$", I),
        ("^.*@(mail\\.)?spam(mer)?s?\\.(com|net|biz)$", I),
        ("^subject:.*\\bviagra\\b", IMU),
        ("^x-spam-flag: yes", IMU),
        ("^subject:.*(casino|lottery|winner){1,3}", IMU),
        ("^from:.*@.*\\.(ru|cn)\\b", IMU),
        ("(bulk|mass) ?mail", I),
        ("^x-spam-score: \\*{5,}", IMU),
    ]
    .iter()
    .map(|(p, f)| (p.to_string(), *f))
    .collect()
}

fn corpus() -> Vec<(String, Flags)> {
    let text = std::fs::read_to_string(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/pyre/cases.json"),
    )
    .expect("cases.json");
    let v: serde_json::Value = serde_json::from_str(&text).expect("json");
    v["cases"]
        .as_array()
        .expect("cases")
        .iter()
        .filter_map(|c| {
            let p = c["pattern"].as_str()?.to_owned();
            let fl = c["flags"].as_str()?;
            let f = Flags {
                ignorecase: fl.contains('i'),
                multiline: fl.contains('m'),
                unicode: fl.contains('u'),
            };
            PyRegex::compile(&p, f).ok().map(|_| (p, f))
        })
        .collect()
}

fn time(rounds: usize, mut f: impl FnMut()) -> (f64, f64) {
    let mut per: Vec<f64> = (0..rounds)
        .map(|_| {
            let t = Instant::now();
            f();
            t.elapsed().as_nanos() as f64 / 1e3
        })
        .collect();
    per.sort_by(f64::total_cmp);
    (per[0], per[per.len() / 2])
}

fn main() {
    let rounds = std::env::var("PREPARED_BENCH_ROUNDS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(200usize)
        .max(1);
    println!("{rounds} rounds; µs per round (min / median)\n");
    for (name, set) in [
        ("typical list (10 patterns)", typical()),
        ("pyre corpus", corpus()),
    ] {
        let prepared: Vec<Vec<u8>> = set
            .iter()
            .map(|(p, f)| PyRegex::compile(p, *f).expect("compiles").to_prepared())
            .collect();
        let bytes: usize = prepared.iter().map(Vec::len).sum();
        // Interleaved, so that both see the same machine load.
        let (mut c, mut r) = (Vec::new(), Vec::new());
        for _ in 0..rounds {
            c.push(time(1, || {
                for (p, f) in &set {
                    black_box(PyRegex::compile(black_box(p), *f).expect("compiles"));
                }
            }));
            r.push(time(1, || {
                for b in &prepared {
                    black_box(PyRegex::from_prepared(black_box(b)).expect("reads"));
                }
            }));
        }
        let stat = |v: &mut Vec<(f64, f64)>| {
            v.sort_by(|a, b| a.0.total_cmp(&b.0));
            (v[0].0, v[v.len() / 2].0)
        };
        let (cm, cmed) = stat(&mut c);
        let (rm, rmed) = stat(&mut r);
        println!(
            "{name}: {} patterns, {bytes} prepared bytes\n  compile from source  {cm:>9.1} {cmed:>9.1}\n  read prepared        {rm:>9.1} {rmed:>9.1}   ({:.1}x faster, median)",
            set.len(),
            cmed / rmed
        );
    }
}
