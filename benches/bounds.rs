//! The regex bounds: CPU time and steps of one verdict's pattern work for
//! hostile patterns and subjects, and the steps typical list settings
//! spend.
//!
//! ```text
//! cargo bench --bench bounds
//! ```
//!
//! Each attack compiles its pattern and searches its subject with a fresh
//! verdict budget ([`mailman_gate::pyre::VERDICT_BUDGET`] steps); the
//! thread's CPU time (`CLOCK_THREAD_CPUTIME_ID`, so other load on the
//! machine counts less) is the worst of `BOUNDS_RUNS` (default 3) runs.

use std::time::Duration;

use mailman_gate::pyre::{Budget, Flags, PyRegex, VERDICT_BUDGET};

fn cpu_now() -> Duration {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: a valid timespec pointer for the duration of the call.
    unsafe { libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &mut ts) };
    Duration::new(ts.tv_sec as u64, ts.tv_nsec as u32)
}

const IMU: Flags = Flags {
    ignorecase: true,
    multiline: true,
    unicode: true,
};
const I: Flags = Flags {
    ignorecase: true,
    multiline: false,
    unicode: false,
};

struct Attack {
    name: &'static str,
    patterns: Vec<String>,
    flags: Flags,
    subject: String,
}

fn attacks() -> Vec<Attack> {
    let mib = 1 << 20;
    let mut v = vec![
        Attack {
            name: "\\bviagra.*cialis on 'viagra 'x128k",
            patterns: vec!["\\bviagra.*cialis".into()],
            flags: IMU,
            subject: format!("subject: {}\n", "viagra ".repeat(128 * 1024)),
        },
        Attack {
            name: "(?=.*zzz)q on a 200 KB subject",
            patterns: vec!["(?=.*zzz)q".into()],
            flags: IMU,
            subject: format!("subject: {}\n", "q".repeat(200 * 1024)),
        },
        Attack {
            name: "(a+)+$ on a*30 b",
            patterns: vec!["(a+)+$".into()],
            flags: IMU,
            subject: format!("{}b", "a".repeat(30)),
        },
        Attack {
            name: "(a|aa)+$ on 64 KiB",
            patterns: vec!["(a|aa)+$".into()],
            flags: IMU,
            subject: format!("{}b\n", "a".repeat(64 * 1024)),
        },
        Attack {
            name: "^(\\w+\\s?)*$ on words !",
            patterns: vec!["^(\\w+\\s?)*$".into()],
            flags: IMU,
            subject: format!("{} !", "aaaa ".repeat(20)),
        },
        Attack {
            name: "(a|b|ab)*c\\1 on 'ab'x5000",
            patterns: vec!["(a|b|ab)*c\\1".into()],
            flags: IMU,
            subject: "ab".repeat(5000),
        },
        Attack {
            name: "500 rules ^subject:.*\\w{2,60}zq<N>, 64 KiB",
            patterns: (0..500)
                .map(|i| format!("^subject:.*\\w{{2,60}}zq{i}"))
                .collect(),
            flags: IMU,
            subject: format!("subject: {}\n", "word ".repeat(64 * 1024 / 5)),
        },
        Attack {
            name: "3000-way alternation under re.I",
            patterns: vec![(0..3000)
                .map(|i| format!("spamword{i}"))
                .collect::<Vec<_>>()
                .join("|")],
            flags: IMU,
            subject: format!("subject: {}\n", "hello ".repeat(10_000)),
        },
        Attack {
            name: "one 256 K-char pattern of classes",
            patterns: vec!["[\\wa-\u{ffff}]".repeat(256 * 1024 / 9)],
            flags: IMU,
            subject: "x".repeat(1000),
        },
        Attack {
            name: "distinct classes, 256 K chars",
            patterns: vec![(0..256 * 1024 / 9)
                .map(|i| format!("[\\w{}-\u{ffff}]", char::from_u32(0x100 + i).unwrap_or('a')))
                .collect()],
            flags: IMU,
            subject: "x".repeat(1000),
        },
        Attack {
            name: "literal search in 64 MiB",
            patterns: vec!["^x-spam-flag: yes".into()],
            flags: IMU,
            subject: "subject: a\n".repeat(64 * mib / 11),
        },
        Attack {
            name: "\\bfoo\\b in 64 MiB",
            patterns: vec!["\\bfoo\\b".into()],
            flags: IMU,
            subject: "subject: a\n".repeat(64 * mib / 11),
        },
    ];
    v.push(Attack {
        name: "200 000 distinct ^regex entries, one sender",
        patterns: (0..200_000)
            .map(|i| format!("^nobody{i}@(?:\\w+\\.)?example\\.net$"))
            .collect(),
        flags: I,
        subject: "x@foo.org".into(),
    });
    // The most work per position the first-char shortcut does: eight
    // alternatives, each a Unicode class tested on the lowered char.
    v.push(Attack {
        name: "8 alternatives of classes under re.IU, 64 MiB",
        patterns: vec![
            "(?:[\\d\u{e9}]q|[\\s\u{3c3}]q|[^\\w\\s]q|[\u{17f}\u{212a}]q|\\dz|\\sz|[\u{3bc}-\u{3c9}]z|[\u{100}-\u{17f}]z)".into(),
        ],
        flags: IMU,
        subject: "\u{e0}".repeat(32 << 20),
    });
    v.push(Attack {
        name: "<\\w{30,80}@ on 'w'x50k",
        patterns: vec!["<\\w{30,80}@".into()],
        flags: I,
        subject: format!("<{}", "w".repeat(50_000)),
    });
    v
}

fn run(a: &Attack) -> (Duration, u64, String) {
    let budget = Budget::verdict();
    let t0 = cpu_now();
    let mut outcome = String::from("no match");
    for p in &a.patterns {
        let re = match PyRegex::compile_in(p, a.flags, &budget) {
            Ok(re) => re,
            Err(e) => {
                outcome = format!("compile: {e}");
                break;
            }
        };
        match re.search_in(&a.subject, &budget) {
            Ok(true) => {
                outcome = "match".into();
                break;
            }
            Ok(false) => {}
            Err(e) => {
                outcome = e.to_string();
                break;
            }
        }
    }
    (cpu_now() - t0, budget.spent(), outcome)
}

/// Typical settings: what a legitimate list spends.
fn typical() {
    let headers = "from: Alice Example <alice@example.org>\nto: list@lists.example.org\n\
                   subject: Re: meeting notes for next week\ndate: Mon, 30 Nov 2026 10:00:00 +0000\n\
                   message-id: <abc123@example.org>\nmime-version: 1.0\n\
                   content-type: text/plain; charset=utf-8\nx-mailer: Thunderbird\n"
        .repeat(4);
    let rules = [
        "^subject:.*\\bviagra\\b",
        "^from:.*@(?:\\w{1,100}\\.)?example\\.com",
        "^x-spam-flag: yes",
        "^subject:.*\\[spam\\]",
        "^x-spam-score: \\+{5,}",
        "^content-type:.*(?:application/x-msdownload|\\.exe)",
        "^(to|cc):.*undisclosed-recipients",
        "^subject:\\s*$",
    ];
    let budget = Budget::verdict();
    for r in rules {
        let re = PyRegex::compile_in(r, IMU, &budget).expect("compiles");
        re.search_in(&headers, &budget).expect("within budget");
    }
    for (p, s) in [
        ("^.*@example\\.(com|org)$", "alice@example.org"),
        ("^[^@]+@(lists\\.)?example\\.org", "bob@lists.example.org"),
        ("^bounce-.*@", "bob@example.org"),
    ] {
        let re = PyRegex::compile_in(p, I, &budget).expect("compiles");
        re.search_in(s, &budget).expect("within budget");
    }
    println!(
        "typical list (8 header rules on {} bytes of headers, 3 sender patterns): {} steps ({:.3}% of the budget)",
        headers.len(),
        budget.spent(),
        budget.spent() as f64 * 100.0 / VERDICT_BUDGET as f64
    );
}

fn main() {
    let runs: usize = std::env::var("BOUNDS_RUNS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(3)
        .max(1);
    println!("budget: {VERDICT_BUDGET} steps per verdict");
    typical();
    println!(
        "{:<44} {:>10} {:>12} {:>8}  outcome",
        "attack", "cpu ms", "steps", "ns/step"
    );
    let mut worst = Duration::ZERO;
    for a in attacks() {
        let mut t = Duration::ZERO;
        let (mut steps, mut outcome) = (0, String::new());
        for _ in 0..runs {
            let (d, s, o) = run(&a);
            t = t.max(d);
            steps = s;
            outcome = o;
        }
        worst = worst.max(t);
        println!(
            "{:<44} {:>10.1} {:>12} {:>8.1}  {outcome}",
            a.name,
            t.as_secs_f64() * 1e3,
            steps,
            t.as_nanos() as f64 / steps.max(1) as f64
        );
    }
    println!("worst: {:.1} ms CPU", worst.as_secs_f64() * 1e3);
}
