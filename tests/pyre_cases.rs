//! Every (pattern, flags, subject) case recorded from CPython 2.7's `re`
//! by `tools/pyre_expect.py` must give the same compile result, `search`
//! and `match` here.

use mailman_gate::pyre::{CompileError, Flags, PyRegex};
use serde_json::Value;

fn flags(s: &str) -> Flags {
    Flags {
        ignorecase: s.contains('i'),
        multiline: s.contains('m'),
        unicode: s.contains('u'),
    }
}

#[test]
fn python_cases() {
    let data: Value =
        serde_json::from_str(include_str!("pyre/cases.json")).expect("cases.json parses");
    let lists = data["subjects"].as_object().expect("subject lists");
    let cases = data["cases"].as_array().expect("cases");
    let mut failures = Vec::new();
    let (mut checks, mut passed) = (0usize, 0usize);
    for case in cases {
        let pattern = case["pattern"].as_str().expect("pattern");
        let fl = case["flags"].as_str().expect("flags");
        let ok = case["ok"].as_bool().expect("ok");
        let compiled = PyRegex::compile(pattern, flags(fl));
        checks += 1;
        let error = case["error"].as_str().unwrap_or("");
        match (&compiled, ok) {
            (Ok(_), true) => passed += 1,
            // Only `re.error` is a bad pattern to Mailman; other exceptions
            // are patterns the engine refuses to judge.
            (Err(CompileError::Invalid(_)), false) if error.starts_with("error:") => passed += 1,
            (Err(CompileError::Unsupported(_)), false) if !error.starts_with("error:") => {
                passed += 1
            }
            (Err(e), false) => {
                failures.push(format!("{pattern:?} /{fl}: {e:?}, Python says {error}"));
                continue;
            }
            (Ok(_), false) => {
                failures.push(format!("{pattern:?} /{fl}: compiled, Python says {error}"));
                continue;
            }
            (Err(e), true) => {
                failures.push(format!("{pattern:?} /{fl}: {e}, Python compiles it"));
                continue;
            }
        }
        let Ok(re) = compiled else { continue };
        let subjects = lists[case["subjects"].as_str().expect("list name")]
            .as_array()
            .expect("subjects");
        let results = case["results"].as_str().expect("results").as_bytes();
        for (s, r) in subjects.iter().zip(results) {
            let s = s.as_str().expect("subject");
            let want = r - b'0';
            let (want_search, want_match) = (want & 1 != 0, want & 2 != 0);
            for (what, got, want) in [
                ("search", re.search(s), want_search),
                ("match", re.match_start(s), want_match),
            ] {
                checks += 1;
                if got == Ok(want) {
                    passed += 1;
                } else {
                    failures.push(format!(
                        "{pattern:?} /{fl} {what} {s:?}: got {got:?}, Python {want}"
                    ));
                }
            }
        }
    }
    eprintln!("pyre cases: {passed}/{checks} checks pass");
    if !failures.is_empty() {
        for f in failures.iter().take(200) {
            eprintln!("{f}");
        }
        panic!("{} of {checks} checks differ from Python", failures.len());
    }
}
