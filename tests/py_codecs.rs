//! Every codec of `mailman_gate::py` against CPython 2.7.18, byte for byte:
//! `tests/py/codecs.txt` (made by `tools/py_codecs.py corpus`) holds, per
//! codec, every single byte, sampled valid sequences, sampled invalid ones
//! and sampled characters to encode, with Python's `strict` and `replace`
//! answers.

use mailman_gate::py::codec::{decode, encode, Errors};
use mailman_gate::py::lookup;

fn hex_bytes(s: &str) -> Vec<u8> {
    if s == "-" {
        return Vec::new();
    }
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
        .collect()
}

/// Python's code points as a Rust string: a lone surrogate (which a Python
/// 2 `unicode` can hold) is U+FFFD here.
fn chars(s: &str) -> String {
    if s == "-" {
        return String::new();
    }
    s.split(' ')
        .map(|h| char::from_u32(u32::from_str_radix(h, 16).unwrap()).unwrap_or('\u{fffd}'))
        .collect()
}

#[test]
fn codecs_agree_with_python() {
    let corpus =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/py/codecs.txt"))
            .expect("tests/py/codecs.txt");
    let mut failures = Vec::new();
    let mut checked = 0;
    for line in corpus.lines().filter(|l| !l.starts_with('#')) {
        let parts: Vec<&str> = line.split(" | ").collect();
        let (head, strict, replace) = (parts[0], parts[1], parts[2]);
        let mut h = head.splitn(3, ' ');
        let (op, name, input) = (h.next().unwrap(), h.next().unwrap(), h.next().unwrap());
        let codec = lookup(name).unwrap_or_else(|e| panic!("{name}: {e:?}"));
        checked += 1;
        if op == "d" {
            let b = hex_bytes(input);
            let got_strict = match decode(&b, codec, Errors::Strict) {
                Ok(t) => format!("ok {t:?}"),
                Err(e) => format!("err {} {}", e.start, e.end),
            };
            let want_strict = match strict.strip_prefix("ok ") {
                Some(c) => format!("ok {:?}", chars(c)),
                None => strict.to_owned(),
            };
            let got_replace = decode(&b, codec, Errors::Replace).unwrap();
            if got_strict != want_strict || got_replace != chars(replace) {
                failures.push(format!(
                    "{line}\n    strict {got_strict} (want {want_strict}), replace {got_replace:?} (want {:?})",
                    chars(replace)
                ));
            }
        } else {
            let t = chars(input);
            let got_strict = match encode(&t, codec, Errors::Strict) {
                Ok(b) => format!("ok {b:02x?}"),
                Err(e) => format!("err {} {}", e.start, e.end),
            };
            let want_strict = match strict.strip_prefix("ok ") {
                Some(b) => format!("ok {:02x?}", hex_bytes(b)),
                None => strict.to_owned(),
            };
            let got_replace = encode(&t, codec, Errors::Replace).unwrap();
            if got_strict != want_strict || got_replace != hex_bytes(replace) {
                failures.push(format!(
                    "{line}\n    strict {got_strict} (want {want_strict}), replace {got_replace:02x?}"
                ));
            }
        }
    }
    assert!(checked > 30_000, "only {checked} cases");
    let mut by_codec = std::collections::BTreeMap::new();
    for f in &failures {
        *by_codec
            .entry(f.split(' ').nth(1).unwrap().to_owned())
            .or_insert(0) += 1;
    }
    assert!(
        failures.is_empty(),
        "{} of {checked} differ from Python ({by_codec:?}):\n{}",
        failures.len(),
        failures
            .iter()
            .take(40)
            .cloned()
            .collect::<Vec<_>>()
            .join("\n")
    );
}
