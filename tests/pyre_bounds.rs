//! Pathological patterns must finish quickly: either with the right answer
//! or with `MatchError::Budget` (or, for huge programs, a compile error),
//! within one verdict's budget.  Timings are printed (`--nocapture`); only
//! a generous bound is asserted.

use std::time::{Duration, Instant};

use mailman_gate::pyre::{Budget, Flags, MatchError, PyRegex};

struct Case {
    pattern: String,
    flags: Flags,
    subject: String,
    /// What Python answers for `search`, when it finishes at all.
    python: Option<bool>,
}

fn case(pattern: &str, subject: String, python: Option<bool>) -> Case {
    Case {
        pattern: pattern.to_string(),
        flags: Flags::default(),
        subject,
        python,
    }
}

fn cases() -> Vec<Case> {
    let a30b = format!("{}b", "a".repeat(30));
    let a30bn = format!("{}b\n", "a".repeat(30));
    let long = "ab ".repeat(20_000);
    let mut v = vec![
        case("(a+)+$", a30b.clone(), Some(false)),
        case("(a+)+$", a30bn.clone(), Some(false)),
        case("^(a+)+$", a30bn.clone(), Some(false)),
        case("(a|aa)+$", a30bn.clone(), Some(false)),
        case("(a*)*b\\1c", a30b.clone(), Some(false)),
        case("(a+)+\\1$", a30b.clone(), Some(false)),
        case("((a)\\2)*\\1x", a30b.clone(), Some(false)),
        case("(.*a){20}", "a".repeat(25) + "b", Some(true)),
        case("(.*a){20}\\1", "a".repeat(40) + "b", None),
        case("(.*a){20}$", format!("{}\n", "a".repeat(19)), Some(false)),
        case("\\b(x+x+)+y", "x".repeat(5000), Some(false)),
        case(
            "^(\\w+\\s?)*$",
            format!("{} !", "aaaa ".repeat(20)),
            Some(false),
        ),
        case(
            "^(\\w+\\s?)*\\1$",
            format!("{} !", "aaaa ".repeat(20)),
            Some(false),
        ),
        case("\\b(\\w+)\\s+\\1\\b", long.clone(), Some(true)),
        case("(?i)^x-spam-flag: yes", long.clone(), Some(false)),
        case("^.*@example\\.com$", long.clone() + "\n", Some(false)),
        case(
            ".*.*.*@example\\.com$",
            "a".repeat(2000) + "\n",
            Some(false),
        ),
        case("(?=(a+))*\\1b", "a".repeat(2000), Some(false)),
        case("(a|b|ab)*c\\1", "ab".repeat(5000), None),
        case("(?<=x)(x+x+)+y", "x".repeat(2 * 1024), Some(false)),
        case("\\bfoo.*bar\\b", "foo ".repeat(16 * 1024), Some(false)),
        case("(?<=a)b.*c$", "ab".repeat(32 * 1024) + "\n", Some(false)),
        case("(?:a{50}){50}", "a".repeat(3_000), Some(true)),
        case("a{1000}{1000}", "a".to_string(), None),
        case("(?:a{1000}){1000}", "a".to_string(), None),
        case(".{1,10000}x", "y".repeat(50_000), Some(false)),
        case("\\w{1,300}@", "w".repeat(50_000), Some(false)),
    ];
    for c in &mut v[..3] {
        c.flags.multiline = false;
    }
    let mut u = case("(?u)\\b(\\w+)\\W+\\1\\b", "é ".repeat(20_000), Some(true));
    u.flags.unicode = true;
    v.push(u);
    v
}

/// Subjects of 64 KiB against patterns whose cost grows with the square
/// of the subject or with program size; run with
/// `cargo test --release --test pyre_bounds -- --ignored --nocapture`.
fn large_cases() -> Vec<Case> {
    let n = 64 * 1024;
    vec![
        case("(?<=x)(x+x+)+y", "x".repeat(n), Some(false)),
        case("(?=(a+))*\\1b", "a".repeat(n), Some(false)),
        case("(?:a{100}){100}", "a".repeat(n), Some(true)),
        case("(?:a{100}){100}b", "a".repeat(n), Some(false)),
        case("\\bfoo.*bar\\b", "foo ".repeat(n / 4), Some(false)),
        case(
            "^.*@example\\.com$",
            "ab ".repeat(n / 3) + "\n",
            Some(false),
        ),
        case("(a|aa)+$", "a".repeat(n) + "b\n", Some(false)),
    ]
}

#[test]
fn bounded_work() {
    run(cases());
}

#[test]
#[ignore]
fn bounded_work_large() {
    run(large_cases());
}

fn run(cases: Vec<Case>) {
    let mut worst = Duration::ZERO;
    for c in cases {
        let t0 = Instant::now();
        let re = PyRegex::compile(&c.pattern, c.flags);
        let compile = t0.elapsed();
        let re = match re {
            Ok(re) => re,
            Err(e) => {
                eprintln!("{:<28} compile error in {compile:?}: {e}", c.pattern);
                continue;
            }
        };
        let t1 = Instant::now();
        let budget = Budget::verdict();
        let search = re.search_in(&c.subject, &budget);
        let ts = t1.elapsed();
        let t2 = Instant::now();
        let matched = re.match_in(&c.subject, &Budget::verdict());
        let tm = t2.elapsed();
        eprintln!(
            "{:<28} len {:>6}: compile {compile:?}, search {search:?} in {ts:?}, \
             match {matched:?} in {tm:?}",
            c.pattern,
            c.subject.len()
        );
        worst = worst.max(ts).max(tm).max(compile);
        if let (Ok(got), Some(want)) = (&search, c.python) {
            assert_eq!(*got, want, "{}", c.pattern);
        }
        assert!(matches!(search, Ok(_) | Err(MatchError::Budget)));
        assert!(budget.spent() <= mailman_gate::pyre::VERDICT_BUDGET);
    }
    eprintln!("worst single call: {worst:?}");
    // Generous: the README's bound is 250 ms of CPU for a whole verdict.
    assert!(worst < Duration::from_secs(5), "{worst:?}");
}
