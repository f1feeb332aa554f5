//! Random patterns x random subjects (`tools/pyre_random.py`, answers from
//! CPython 2.7's `re`): the same compile outcome, `search` and `match`.

use mailman_gate::pyre::{Budget, CompileError, Flags, PyRegex};
use serde_json::Value;

#[test]
fn random_patterns_match_python() {
    let data: Value =
        serde_json::from_str(include_str!("pyre/random.json")).expect("random.json parses");
    let cases = data["cases"].as_array().expect("cases");
    assert!(cases.len() > 3000);
    let mut failures = Vec::new();
    let mut checks = 0usize;
    for case in cases {
        let pattern = case["pattern"].as_str().expect("pattern");
        let fl = case["flags"].as_str().expect("flags");
        let flags = Flags {
            ignorecase: fl.contains('i'),
            multiline: fl.contains('m'),
            unicode: fl.contains('u'),
        };
        checks += 1;
        let compiled = PyRegex::compile(pattern, flags);
        if let Some(error) = case["error"].as_str() {
            let invalid = error.starts_with("error:");
            match compiled {
                Err(CompileError::Invalid(_)) if invalid => {}
                Err(CompileError::Unsupported(_)) if !invalid => {}
                other => failures.push(format!("{pattern:?} /{fl}: {other:?}, Python: {error}")),
            }
            continue;
        }
        let re = match compiled {
            Ok(re) => re,
            Err(e) => {
                failures.push(format!("{pattern:?} /{fl}: {e}, Python compiles it"));
                continue;
            }
        };
        let results = case["results"].as_str().expect("results").as_bytes();
        let subjects = case["subjects"].as_array().expect("subjects");
        for (s, r) in subjects.iter().zip(results) {
            let s = s.as_str().expect("subject");
            let want = r - b'0';
            let budget = Budget::verdict();
            for (what, got, want) in [
                ("search", re.search_in(s, &budget), want & 1 != 0),
                ("match", re.match_in(s, &budget), want & 2 != 0),
            ] {
                checks += 1;
                if got != Ok(want) {
                    failures.push(format!(
                        "{pattern:?} /{fl} {what} {s:?}: got {got:?}, Python {want}"
                    ));
                }
            }
        }
    }
    eprintln!(
        "random pyre cases: {} of {checks} checks differ",
        failures.len()
    );
    if !failures.is_empty() {
        for f in failures.iter().take(100) {
            eprintln!("{f}");
        }
        panic!("{} of {checks} checks differ from Python", failures.len());
    }
}
