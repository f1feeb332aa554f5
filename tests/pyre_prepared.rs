//! Prepared patterns (`PyRegex::to_prepared` / `from_prepared`, what a
//! snapshot stores so that a new process does not compile its list's
//! patterns again): on the whole pattern corpus (`tests/pyre/cases.json`,
//! `tests/pyre/random.json`) the program read back is the compiled one
//! and answers the same; damaged bytes are refused or, when they still
//! form a program, never make the matcher panic or run past its budget.

use mailman_gate::pyre::{Budget, Flags, MatchError, PyRegex};
use serde_json::Value;

fn flags(s: &str) -> Flags {
    Flags {
        ignorecase: s.contains('i'),
        multiline: s.contains('m'),
        unicode: s.contains('u'),
    }
}

/// Every pattern of both corpora that compiles, with its subjects.
fn corpus() -> Vec<(String, Flags, PyRegex, Vec<String>)> {
    let mut out = Vec::new();
    let cases: Value = serde_json::from_str(include_str!("pyre/cases.json")).unwrap();
    let lists = cases["subjects"].as_object().unwrap();
    for case in cases["cases"].as_array().unwrap() {
        let pattern = case["pattern"].as_str().unwrap();
        let fl = flags(case["flags"].as_str().unwrap());
        let Ok(re) = PyRegex::compile(pattern, fl) else {
            continue;
        };
        let subjects = lists[case["subjects"].as_str().unwrap()]
            .as_array()
            .unwrap()
            .iter()
            .map(|s| s.as_str().unwrap().to_owned())
            .collect();
        out.push((pattern.to_owned(), fl, re, subjects));
    }
    let random: Value = serde_json::from_str(include_str!("pyre/random.json")).unwrap();
    for case in random["cases"].as_array().unwrap() {
        let pattern = case["pattern"].as_str().unwrap();
        let fl = flags(case["flags"].as_str().unwrap());
        let Ok(re) = PyRegex::compile(pattern, fl) else {
            continue;
        };
        let subjects = case["subjects"]
            .as_array()
            .map(|a| {
                a.iter()
                    .filter_map(|s| s.as_str().map(str::to_owned))
                    .collect()
            })
            .unwrap_or_default();
        out.push((pattern.to_owned(), fl, re, subjects));
    }
    out
}

#[test]
fn prepared_programs_equal_compiled_ones_on_the_corpus() {
    let corpus = corpus();
    assert!(corpus.len() > 3000, "{} patterns", corpus.len());
    let (mut programs, mut subjects) = (0, 0);
    for (pattern, fl, re, subs) in &corpus {
        let bytes = re.to_prepared();
        let back = PyRegex::from_prepared(&bytes)
            .unwrap_or_else(|| panic!("{pattern:?} {fl:?}: prepared bytes refused"));
        assert!(
            back.same_program(re),
            "{pattern:?} {fl:?}: not the same program"
        );
        assert_eq!(
            back.to_prepared(),
            bytes,
            "{pattern:?}: encoding not stable"
        );
        if format!("{re:?}").contains("Program") {
            programs += 1;
        }
        for s in subs {
            subjects += 1;
            assert_eq!(back.search(s), re.search(s), "{pattern:?} search {s:?}");
            assert_eq!(
                back.match_start(s),
                re.match_start(s),
                "{pattern:?} match {s:?}"
            );
        }
    }
    // Both forms are exercised.
    assert!(programs > 1000 && programs < corpus.len(), "{programs}");
    assert!(subjects > 10_000, "{subjects}");
}

#[test]
fn other_versions_and_trailing_bytes_are_refused() {
    let re = PyRegex::compile("(a|b)*c\\1", Flags::default()).unwrap();
    let bytes = re.to_prepared();
    let mut other = bytes.clone();
    other[0] = other[0].wrapping_add(1);
    assert!(PyRegex::from_prepared(&other).is_none());
    let mut longer = bytes.clone();
    longer.push(0);
    assert!(PyRegex::from_prepared(&longer).is_none());
    for n in 0..bytes.len() {
        assert!(PyRegex::from_prepared(&bytes[..n]).is_none(), "cut at {n}");
    }
    assert!(PyRegex::from_prepared(&[]).is_none());
}

#[test]
fn damaged_prepared_bytes_never_crash_the_matcher() {
    let corpus = corpus();
    // A fixed seed: the same damage on every run.
    let mut rng = fastrand::Rng::with_seed(0x9e37_79b9_7f4a_7c15);
    let texts = [
        "",
        "abc",
        "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaab",
        "Subject: hello\nX-Spam: yes\n",
        "caf\u{e9} \u{3a3}\u{3c3} \u{10000}x\n\n",
    ];
    let (mut tried, mut accepted) = (0usize, 0usize);
    for (i, (_, _, re, _)) in corpus.iter().enumerate().step_by(3) {
        let bytes = re.to_prepared();
        for round in 0..8 {
            let mut bad = bytes.clone();
            let hits = rng.usize(1..=3);
            for _ in 0..hits {
                let at = rng.usize(..bad.len());
                bad[at] = match (round + i) % 4 {
                    // Small values: plausible indices and tags.
                    0 => rng.u8(..8),
                    1 => 0xff,
                    _ => rng.u8(..),
                };
            }
            tried += 1;
            let Some(back) = PyRegex::from_prepared(&bad) else {
                continue;
            };
            accepted += 1;
            for t in texts {
                for anchored in [false, true] {
                    let budget = Budget::new(200_000);
                    let r = if anchored {
                        back.match_in(t, &budget)
                    } else {
                        back.search_in(t, &budget)
                    };
                    // Any answer, or a bounded failure: never a panic.
                    assert!(
                        matches!(
                            r,
                            Ok(_)
                                | Err(MatchError::Budget
                                    | MatchError::Memory
                                    | MatchError::Internal)
                        ),
                        "{r:?}"
                    );
                }
            }
        }
    }
    eprintln!("damaged prepared patterns: {accepted} of {tried} still well-formed, all ran");
    assert!(tried > 8000, "{tried}");
}
