//! The message view against outputs of CPython 2.7's email package and the
//! Mailman 2.1.39 handler logic (tests/message/cases.json).

use mailman_gate::decide::administrivia::is_administrivia;
use mailman_gate::decide::approve::{body_approval, BodyApproval};
use mailman_gate::decide::hold::body_size;
use mailman_gate::decide::mimedel::{disposal, MimeFilter};
use mailman_gate::message::{getaddresses, parseaddr, HeaderTextError, Message};
use serde_json::Value;

fn bytes(v: &Value) -> Vec<u8> {
    v.as_str()
        .unwrap()
        .chars()
        .map(|c| c as u32 as u8)
        .collect()
}

fn s(v: &Value) -> String {
    v.as_str().unwrap().to_string()
}

fn opt(v: &Value) -> Option<String> {
    v.as_str().map(str::to_string)
}

fn cases() -> Value {
    let text = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/message/cases.json"
    ))
    .unwrap();
    serde_json::from_str(&text).unwrap()
}

fn list(v: &[&str]) -> Vec<String> {
    v.iter().map(|x| x.to_string()).collect()
}

/// MimeDel settings: filter_mime_types, pass_mime_types,
/// filter_filename_extensions, pass_filename_extensions.
fn filters() -> Vec<[Vec<String>; 4]> {
    let f = |a: &[&str], b: &[&str], c: &[&str], d: &[&str]| [list(a), list(b), list(c), list(d)];
    vec![
        f(&[], &[], &[], &[]),
        f(&["image"], &[], &[], &[]),
        f(&["text/html", "application/octet-stream"], &[], &[], &[]),
        f(&[], &["text/plain", "multipart"], &[], &[]),
        f(
            &[],
            &["text", "multipart/mixed", "message/rfc822"],
            &[],
            &[],
        ),
        f(&[], &[], &["exe", "bat", "zip"], &[]),
        f(&[], &[], &[], &["txt", "pdf"]),
        f(&["multipart/alternative"], &[], &[], &[]),
        f(&["text/plain"], &[], &["exe"], &[]),
        f(&[], &["multipart", "application/pdf"], &[], &["pdf"]),
    ]
}

#[test]
fn messages_match_python() {
    let c = cases();
    let filters = filters();
    let mut failures = Vec::new();
    let msgs = c["messages"].as_array().unwrap();
    assert!(msgs.len() >= 150);
    for (n, case) in msgs.iter().enumerate() {
        let raw = bytes(&case["raw"]);
        let m = Message::parse(&raw);
        let mut fail = |what: &str, got: String, want: String| {
            if got != want {
                failures.push(format!(
                    "case {n} {what}:\n  raw  {:?}\n  got  {got}\n  want {want}",
                    case["raw"].as_str().unwrap()
                ));
            }
        };
        let want_struct: Vec<(String, i64, Option<String>, Option<String>)> = case["structure"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| (s(&e[0]), e[1].as_i64().unwrap(), opt(&e[2]), opt(&e[3])))
            .collect();
        fail(
            "structure",
            format!("{:?}", m.structure()),
            format!("{want_struct:?}"),
        );
        let want_headers: Vec<(String, String)> = case["headers"]
            .as_array()
            .unwrap()
            .iter()
            .map(|h| (s(&h[0]), s(&h[1])))
            .collect();
        fail(
            "headers",
            format!("{:?}", m.headers()),
            format!("{want_headers:?}"),
        );
        for (name, _) in &want_headers {
            let want: Vec<&String> = want_headers
                .iter()
                .filter(|(k, _)| k.eq_ignore_ascii_case(name))
                .map(|(_, v)| v)
                .collect();
            fail(
                "get_all",
                format!("{:?}", m.get_all(&name.to_uppercase())),
                format!("{want:?}"),
            );
        }
        fail(
            "unixfrom_address",
            format!("{:?}", m.unixfrom_address()),
            format!("{:?}", opt(&case["unixfrom_address"])),
        );
        fail("content_type", m.content_type(), s(&case["content_type"]));
        // The comparison without building the type agrees with it, on
        // every part, for its own type and for the two types the
        // decision asks about.
        for p in m.walk() {
            let ct = p.content_type();
            for want in [ct.as_str(), "text/plain", "text/html"] {
                fail(
                    "content_type_is",
                    format!("{want}: {}", p.content_type_is(want)),
                    format!("{want}: {}", ct == want),
                );
            }
        }
        for (name, _) in &want_headers {
            fail(
                "values",
                format!("{:?}", m.values(name).collect::<Vec<_>>()),
                format!("{:?}", m.get_all(name)),
            );
        }
        fail(
            "header_filter_text",
            format!(
                "{:?}",
                m.header_filter_text(mailman_gate::message::NormalForm::Nfkc)
                    .unwrap_or_else(|e| match e {
                        HeaderTextError::Codec(codec) => format!("unsupported codec {codec}"),
                        HeaderTextError::NoMemory => "no memory".into(),
                    })
            ),
            format!("{:?}", s(&case["header_filter_text"])),
        );
        fail(
            "is_administrivia",
            is_administrivia(&m, 25).to_string(),
            case["is_administrivia"].as_bool().unwrap().to_string(),
        );
        fail(
            "body_size",
            body_size(&m).to_string(),
            case["body_size"].as_u64().unwrap().to_string(),
        );
        let want_ba = case["body_approval"].as_array().map(|a| BodyApproval {
            password: s(&a[0]),
            unsafe_html: a[1].as_bool().unwrap(),
        });
        fail(
            "body_approval",
            format!("{:?}", body_approval(&m).unwrap()),
            format!("{want_ba:?}"),
        );
        for (k, [a, b, c, d]) in filters.iter().enumerate() {
            let f = MimeFilter {
                filter_mime_types: a,
                pass_mime_types: b,
                filter_filename_extensions: c,
                pass_filename_extensions: d,
            };
            fail(
                &format!("mime[{k}]"),
                format!("{:?}", disposal(&m, &f)),
                format!("{:?}", opt(&case["mime"][k])),
            );
        }
    }
    if !failures.is_empty() {
        panic!("{} mismatches:\n{}", failures.len(), failures.join("\n"));
    }
}

#[test]
fn addresses_match_python() {
    let c = cases();
    let mut failures = Vec::new();
    for case in c["addresses"].as_array().unwrap() {
        let vals: Vec<String> = case["values"].as_array().unwrap().iter().map(s).collect();
        let refs: Vec<&str> = vals.iter().map(String::as_str).collect();
        let want: Vec<(String, String)> = case["getaddresses"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| (s(&p[0]), s(&p[1])))
            .collect();
        let got = getaddresses(&refs);
        if got != want {
            failures.push(format!(
                "getaddresses {:.200?}: got {:.300?} want {:.300?}",
                refs, got, want
            ));
        }
        let wp = (s(&case["parseaddr"][0]), s(&case["parseaddr"][1]));
        let gp = parseaddr(refs[0]);
        if gp != wp {
            failures.push(format!(
                "parseaddr {:.200?}: got {gp:?} want {wp:?}",
                refs[0]
            ));
        }
    }
    if !failures.is_empty() {
        panic!("{} mismatches:\n{}", failures.len(), failures.join("\n"));
    }
}
