//! The mm_cfg.py reader against Python's own evaluation: every file of
//! `tests/fixtures/mmcfg/` was run by Python 2.7.18 with Mailman 2.1.39's
//! `Defaults` (`tools/oracle/mmcfg_eval.py`), which wrote the final values
//! of the settings read here to `NAME.expected.json`.

use std::path::Path;

use mailman_gate::mmcfg::{default_value, read, PyValue, KNOWN};
use serde_json::Value;

fn from_json(v: &Value) -> PyValue {
    match v {
        Value::Null => PyValue::None,
        Value::Bool(b) => PyValue::Bool(*b),
        Value::Number(n) => PyValue::Int(n.as_i64().expect("an int")),
        Value::Array(a) => PyValue::List(a.iter().map(from_json).collect()),
        Value::Object(o) => {
            if let Some(Value::String(h)) = o.get("$hex") {
                PyValue::Bytes(
                    (0..h.len())
                        .step_by(2)
                        .map(|i| u8::from_str_radix(&h[i..i + 2], 16).expect("hex"))
                        .collect(),
                )
            } else if let Some(Value::String(t)) = o.get("$unicode") {
                PyValue::Text(t.clone())
            } else if let Some(Value::String(f)) = o.get("$float") {
                PyValue::Float(f.parse().expect("a float"))
            } else if let Some(Value::Array(a)) = o.get("$tuple") {
                PyValue::Tuple(a.iter().map(from_json).collect())
            } else {
                panic!("unknown value {o:?}")
            }
        }
        Value::String(s) => panic!("untagged string {s:?}"),
    }
}

#[test]
fn corpus_agrees_with_python() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/mmcfg");
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .expect("corpus")
        .map(|e| e.expect("entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "py"))
        .collect();
    files.sort();
    let (mut good, mut refused) = (0, 0);
    for path in files {
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        let src = std::fs::read(&path).expect("read");
        let got = read(&src);
        if name.starts_with("error-") {
            let first = String::from_utf8_lossy(&src)
                .lines()
                .next()
                .unwrap_or("")
                .to_owned();
            let line: usize = first
                .strip_prefix("# expect error at line ")
                .and_then(|n| n.trim().parse().ok())
                .unwrap_or_else(|| panic!("{name}: no expected line"));
            let cfg = got.unwrap_or_else(|e| panic!("{name}: {e}"));
            assert_eq!(cfg.errors.len(), 1, "{name}: {cfg:?}");
            let e = cfg.errors.values().next().expect("an error");
            assert_eq!(e.line, line, "{name}: {e}");
            refused += 1;
            continue;
        }
        let got = got.unwrap_or_else(|e| panic!("{name}: {e}"));
        assert!(got.errors.is_empty(), "{name}: {:?}", got.errors);
        let got = got.settings;
        let expected: serde_json::Map<String, Value> = serde_json::from_str(
            &std::fs::read_to_string(path.with_extension("expected.json")).expect("expected"),
        )
        .expect("json");
        for key in KNOWN {
            let ours = match got.get(key) {
                Some(s) => Some(s.value.clone()),
                None => default_value(key),
            };
            let python = expected.get(key).map(from_json);
            assert_eq!(ours, python, "{name}: {key}");
        }
        good += 1;
    }
    assert_eq!((good, refused), (4, 4));
}

/// 400 random literals (every string prefix and quote, escapes, numbers in
/// every base, nested tuples and lists, concatenation), each with the value
/// Python 2.7 gave it (`tools/oracle/mmcfg_literals.py`).
#[test]
fn random_literals_agree_with_python() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/mmcfg/literals.jsonl");
    let text = std::fs::read_to_string(path).expect("literals");
    let mut n = 0;
    for line in text.lines() {
        let case: Value = serde_json::from_str(line).expect("json");
        let src = case["src"].as_str().expect("src");
        let file = format!("# -*- coding: utf-8 -*-\nKNOWN_SPAMMERS = ({src}\n)\n");
        let cfg = read(file.as_bytes()).unwrap_or_else(|e| panic!("{src:?}: {e}"));
        let got = cfg
            .settings
            .get("KNOWN_SPAMMERS")
            .map(|s| s.value.clone())
            .unwrap_or_else(|| panic!("{src:?}: {:?}", cfg.errors));
        assert_eq!(got, from_json(&case["value"]), "{src:?}");
        n += 1;
    }
    assert_eq!(n, 400);
}
