//! Agreement with real Mailman 2.1.39: every case in
//! `tests/oracle/cases.json` was run through Mailman's own incoming
//! pipeline (see `tools/oracle/README.md`); here the same list state,
//! envelope and message go through `decide` and must give the same
//! action, step and text.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

mod common;

use base64::engine::general_purpose::STANDARD as BASE64;
use base64::Engine as _;
use mailman_gate::address::Kind;
use mailman_gate::decide::{decide, Action, Delivery, Lookups, OtherLists, Verdict};
use mailman_gate::dmarc::{DmarcAnswer, Found};
use mailman_gate::message::Message;
use mailman_gate::policy::{HeaderFilterRule, ListPolicy, Member, Members, PyStr};
use mailman_gate::site::Site;
use mailman_gate::store::{Layout, NameRule, Store};
use serde_json::Value;

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).to_path_buf()
}

fn pystr(v: &Value) -> PyStr {
    match v {
        Value::String(s) => PyStr::Bytes(s.as_bytes().to_vec()),
        Value::Object(o) if o.contains_key("$unicode") => {
            PyStr::Text(o["$unicode"].as_str().unwrap_or_default().to_owned())
        }
        Value::Object(o) if o.contains_key("$hex") => {
            PyStr::Bytes(unhex(o["$hex"].as_str().unwrap_or_default()))
        }
        Value::Object(o) if o.contains_key("$latin1") => PyStr::Bytes(
            o["$latin1"]
                .as_str()
                .unwrap_or_default()
                .chars()
                .map(|c| c as u32 as u8)
                .collect(),
        ),
        other => panic!("not a string: {other}"),
    }
}

/// As the library reads matching attributes: a `str`'s bytes one char each.
fn text(v: &Value) -> String {
    match pystr(v) {
        PyStr::Bytes(b) => mailman_gate::message::latin1(&b),
        PyStr::Text(t) => t,
    }
}

fn int(v: &Value) -> i64 {
    match v {
        Value::Bool(b) => *b as i64,
        Value::Number(n) => n.as_i64().expect("integer"),
        other => panic!("not an int: {other}"),
    }
}

fn flag(v: &Value) -> bool {
    int(v) != 0
}

fn strings(v: &Value) -> Vec<String> {
    v.as_array().expect("a list").iter().map(text).collect()
}

fn unhex(h: &str) -> Vec<u8> {
    (0..h.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&h[i..i + 2], 16).expect("hex"))
        .collect()
}

/// A password attribute's bytes as Mailman holds them (a raw MD5 digest
/// is not text).
fn password(v: &Value) -> Option<Vec<u8>> {
    match v {
        Value::Null => None,
        other => match pystr(other) {
            PyStr::Bytes(b) => Some(b),
            PyStr::Text(t) => Some(t.into_bytes()),
        }
        .filter(|b| !b.is_empty()),
    }
}

/// Set one attribute, as the harness's `setattr` did on Mailman's list.
fn apply(p: &mut ListPolicy, name: &str, v: &Value) {
    match name {
        "member_moderation_action" => p.member_moderation_action = int(v),
        "member_moderation_notice" => p.member_moderation_notice = pystr(v),
        "accept_these_nonmembers" => p.accept_these_nonmembers = strings(v),
        "hold_these_nonmembers" => p.hold_these_nonmembers = strings(v),
        "reject_these_nonmembers" => p.reject_these_nonmembers = strings(v),
        "discard_these_nonmembers" => p.discard_these_nonmembers = strings(v),
        "generic_nonmember_action" => p.generic_nonmember_action = int(v),
        "nonmember_rejection_notice" => p.nonmember_rejection_notice = pystr(v),
        "forward_auto_discards" => p.forward_auto_discards = flag(v),
        "equivalent_domains" => p.equivalent_domains = text(v),
        "member_verbosity_threshold" => p.member_verbosity_threshold = int(v),
        "member_verbosity_interval" => p.member_verbosity_interval = int(v),
        "emergency" => p.emergency = flag(v),
        "dmarc_moderation_action" => p.dmarc_moderation_action = int(v),
        "dmarc_quarantine_moderation_action" => p.dmarc_quarantine_moderation_action = flag(v),
        "dmarc_none_moderation_action" => p.dmarc_none_moderation_action = flag(v),
        "dmarc_moderation_notice" => p.dmarc_moderation_notice = pystr(v),
        "dmarc_moderation_addresses" => p.dmarc_moderation_addresses = strings(v),
        "administrivia" => p.administrivia = flag(v),
        "max_num_recipients" => p.max_num_recipients = int(v),
        "require_explicit_destination" => p.require_explicit_destination = flag(v),
        "acceptable_aliases" => p.acceptable_aliases = text(v),
        "bounce_matching_headers" => p.bounce_matching_headers = text(v),
        "max_message_size" => p.max_message_size = int(v),
        "gateway_to_news" => p.gateway_to_news = flag(v),
        "news_moderation" => p.news_moderation = int(v),
        "header_filter_rules" => {
            p.header_filter_rules = v
                .as_array()
                .expect("rules")
                .iter()
                .map(|r| HeaderFilterRule {
                    patterns: pystr(&r[0]),
                    action: int(&r[1]),
                })
                .collect()
        }
        "filter_content" => p.filter_content = flag(v),
        "filter_mime_types" => p.filter_mime_types = strings(v),
        "pass_mime_types" => p.pass_mime_types = strings(v),
        "filter_filename_extensions" => p.filter_filename_extensions = strings(v),
        "pass_filename_extensions" => p.pass_filename_extensions = strings(v),
        "filter_action" => p.filter_action = int(v),
        "collapse_alternatives" => p.collapse_alternatives = flag(v),
        "convert_html_to_plaintext" => p.convert_html_to_plaintext = flag(v),
        "scrub_nondigest" => p.scrub_nondigest = flag(v),
        "password" => p.password = password(v),
        "mod_password" => p.mod_password = password(v),
        "post_password" => p.post_password = password(v),
        "real_name" => p.real_name = pystr(v).to_text(),
        "host_name" => p.host_name = text(v),
        "preferred_language" => p.preferred_language = text(v),
        "available_languages" => {
            p.available_languages = v.as_array().expect("languages").iter().map(text).collect()
        }
        "language" => {
            p.member_languages = v
                .as_object()
                .expect("address: language")
                .iter()
                .map(|(a, l)| (a.to_lowercase(), text(l)))
                .collect()
        }
        "default_member_moderation" => p.default_member_moderation = flag(v),
        "members" => {
            // Regular members replaced; digest members stay, as with setattr.
            let mut map: HashMap<String, Member> = p
                .members
                .entries()
                .into_iter()
                .filter(|(_, m)| m.digest)
                .collect();
            for (addr, _) in v.as_object().expect("a dict") {
                map.insert(
                    addr.clone(),
                    Member {
                        digest: false,
                        options: 0,
                    },
                );
            }
            p.members = Members::Parsed(map);
        }
        "pipeline" => p.pipeline = Some(strings(v)),
        // Auto-responses never change the outcome.
        "autorespond_postings" | "autoresponse_postings_text" => {}
        other => panic!("the oracle test does not know attribute {other:?}"),
    }
}

/// A JSON case value as a Python 2 literal in an mm_cfg.py (a string is a
/// `str` of its UTF-8 bytes); `tuples` makes arrays tuples, as the harness
/// does for SENDER_HEADERS and KNOWN_SPAMMERS entries.
fn py_literal(v: &Value, tuples: bool) -> String {
    let bytes_lit = |b: &[u8]| {
        let mut out = String::from("'");
        for &c in b {
            match c {
                b'\\' => out.push_str("\\\\"),
                b'\'' => out.push_str("\\'"),
                0x20..=0x7e => out.push(c as char),
                _ => out.push_str(&format!("\\x{c:02x}")),
            }
        }
        out.push('\'');
        out
    };
    match v {
        Value::Null => "None".into(),
        Value::Bool(b) => if *b { "True" } else { "False" }.into(),
        Value::Number(n) => n.to_string(),
        Value::String(t) => bytes_lit(
            t.replace("@ROOT@", &root().display().to_string())
                .as_bytes(),
        ),
        Value::Object(o) if o.contains_key("$unicode") => {
            let t = o["$unicode"].as_str().unwrap_or_default();
            let mut out = String::from("u'");
            for c in t.chars() {
                match c {
                    ' '..='~' if c != '\\' && c != '\'' => out.push(c),
                    _ => out.push_str(&format!("\\U{:08x}", c as u32)),
                }
            }
            out + "'"
        }
        Value::Object(o) if o.contains_key("$hex") => {
            bytes_lit(&unhex(o["$hex"].as_str().unwrap_or_default()))
        }
        Value::Array(a) => {
            let items: Vec<String> = a.iter().map(|x| py_literal(x, true)).collect();
            if tuples {
                format!("({},)", items.join(", "))
            } else {
                format!("[{}]", items.join(", "))
            }
        }
        other => panic!("no Python literal for {other}"),
    }
}

/// The case's site settings as an administrator would write them in
/// mm_cfg.py, read the way the gate reads it.
fn site_for(case: &Value) -> Site {
    let mut mm_cfg =
        String::from("from Defaults import *\nadd_virtualhost('example.com', 'example.com')\n");
    if let Some(Value::Object(o)) = case.get("site") {
        for (k, v) in o {
            // KNOWN_SPAMMERS is a list of tuples, SENDER_HEADERS a tuple.
            let lit = match (k.as_str(), v) {
                ("KNOWN_SPAMMERS", Value::Array(a)) => format!(
                    "[{}]",
                    a.iter()
                        .map(|x| py_literal(x, true))
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
                (_, v) => py_literal(v, k == "SENDER_HEADERS"),
            };
            mm_cfg.push_str(&format!("{k} = {lit}\n"));
        }
    }
    // Unique per call: the two tests of this file run at the same time.
    static SEQ: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
    let dir = std::env::temp_dir().join(format!(
        "mmgate-oracle-{}-{}",
        std::process::id(),
        SEQ.fetch_add(1, std::sync::atomic::Ordering::Relaxed)
    ));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let path = dir.join("mm_cfg.py");
    std::fs::write(&path, &mm_cfg).expect("mm_cfg.py");
    let conf = format!(
        "mailman_config = {}\ndns_server = 127.0.0.1:{DNS_PORT}\ndmarc_timeout = 0.5\n",
        path.display()
    );
    let site = Site::parse(&conf, "oracle.conf")
        .unwrap_or_else(|e| panic!("{}: {e}\n{mm_cfg}", case["id"]));
    let _ = std::fs::remove_dir_all(&dir);
    site
}

/// The port of the tests' DNS server (the oracle's zone).
const DNS_PORT: u16 = 25653;

/// One DNS server for the whole test binary, serving the oracle's zone.
fn dns_server() -> &'static common::dns_zone::DnsServer {
    static SERVER: std::sync::OnceLock<common::dns_zone::DnsServer> = std::sync::OnceLock::new();
    SERVER.get_or_init(|| {
        let zone =
            std::fs::read_to_string(root().join("tests/oracle/dmarc_zone.txt")).expect("zone");
        common::dns_zone::DnsServer::start(common::dns_zone::Zone::parse(&zone), DNS_PORT)
    })
}

/// A Mailman installation with the catalogs the language cases need: the
/// committed excerpts of Mailman's `.po` files (`tests/oracle/catalogs`,
/// from `tools/oracle/cases_lang.py excerpt`) compiled to `.mo`.
fn test_catalogs() -> &'static Path {
    static DIR: std::sync::OnceLock<PathBuf> = std::sync::OnceLock::new();
    DIR.get_or_init(|| {
        let dir =
            std::env::temp_dir().join(format!("mailman-gate-catalogs-{}", std::process::id()));
        for entry in std::fs::read_dir(root().join("tests/oracle/catalogs")).expect("catalogs") {
            let path = entry.expect("entry").path();
            let lang = path.file_stem().unwrap().to_str().unwrap().to_owned();
            let po = std::fs::read(&path).expect("a .po file");
            let lc = dir.join("messages").join(&lang).join("LC_MESSAGES");
            std::fs::create_dir_all(&lc).expect("catalog directory");
            std::fs::write(lc.join("mailman.mo"), mo_from_po(&po)).expect("a .mo file");
        }
        dir
    })
}

/// `msgfmt` for the excerpts: one-line `msgid "..."` / `msgstr "..."`.
fn mo_from_po(po: &[u8]) -> Vec<u8> {
    let unquote = |s: &[u8]| -> Vec<u8> {
        let s = &s[s.iter().position(|&b| b == b'"').unwrap() + 1..s.len() - 1];
        let mut out = Vec::new();
        let mut i = 0;
        while i < s.len() {
            if s[i] == b'\\' {
                out.push(match s[i + 1] {
                    b'n' => b'\n',
                    b't' => b'\t',
                    other => other,
                });
                i += 2;
            } else {
                out.push(s[i]);
                i += 1;
            }
        }
        out
    };
    let mut entries: Vec<(Vec<u8>, Vec<u8>)> = Vec::new();
    let mut id = None;
    for line in po.split(|&b| b == b'\n') {
        if line.starts_with(b"msgid ") {
            id = Some(unquote(line));
        } else if line.starts_with(b"msgstr ") {
            entries.push((id.take().expect("msgid before msgstr"), unquote(line)));
        }
    }
    entries.sort();
    let n = entries.len();
    let (ids, strs) = (28, 28 + 8 * n);
    let base = strs + 8 * n;
    let mut data = Vec::new();
    let mut tables = Vec::new();
    for pick in [0, 1] {
        for e in &entries {
            let s = if pick == 0 { &e.0 } else { &e.1 };
            tables.push((s.len(), base + data.len()));
            data.extend_from_slice(s);
            data.push(0);
        }
    }
    let mut out = Vec::new();
    for w in [0x9504_12de_u32, 0, n as u32, ids as u32, strs as u32, 0, 0] {
        out.extend_from_slice(&w.to_le_bytes());
    }
    for (len, off) in tables {
        out.extend_from_slice(&(len as u32).to_le_bytes());
        out.extend_from_slice(&(off as u32).to_le_bytes());
    }
    out.extend_from_slice(&data);
    out
}

/// The fixture lists, with a case's overrides applied to other lists.
struct Others<'a> {
    store: &'a Store,
    overrides: HashMap<String, ListPolicy>,
}

impl OtherLists for Others<'_> {
    fn is_member(&self, list: &str, address: &str) -> Result<Option<bool>, String> {
        if let Some(p) = self.overrides.get(list) {
            return Ok(Some(p.member(address).is_some()));
        }
        self.store.is_member(list, address)
    }
}

fn load(store: &Store, name: &str, overrides: Option<&Value>) -> ListPolicy {
    let mut p = store
        .load(name)
        .unwrap_or_else(|e| panic!("{name}: {e}"))
        .policy
        .clone();
    if let Some(Value::Object(o)) = overrides {
        for (k, v) in o {
            apply(&mut p, k, v);
        }
    }
    p
}

fn run_case(store: &Store, case: &Value) -> Verdict {
    let list = case["list"].as_str().expect("list");
    let policy = load(store, list, case.get("overrides"));
    let mut others = Others {
        store,
        overrides: HashMap::new(),
    };
    if let Some(Value::Object(o)) = case.get("other_overrides") {
        for (name, ov) in o {
            others
                .overrides
                .insert(name.clone(), load(store, name, Some(ov)));
        }
    }
    let mut site = site_for(case);
    if case["site"].get("MESSAGES_DIR").is_some() {
        // cases_lang.py: Mailman's catalogs for the case's languages.
        site.mailman_dir = test_catalogs().to_path_buf();
    }
    let catalogs = mailman_gate::catalogs::Catalogs::new(&site.mailman_dir);
    let dns = case["dns"].as_bool().unwrap_or(false);
    let kind = Kind::parse(case["recipient"].as_str().unwrap_or("post")).expect("recipient kind");
    let raw: Vec<u8> = match (case.get("message"), case.get("message_b64")) {
        (Some(Value::String(m)), _) => m.as_bytes().to_vec(),
        (_, Some(Value::String(b))) => BASE64.decode(b).expect("message_b64"),
        _ => panic!("case without a message"),
    };
    // The harness wrote the unixfrom line as Exim's pipe does.
    let mut full = Vec::new();
    if let Some(env) = case["envelope"].as_str() {
        full.extend_from_slice(format!("From {env} Mon Nov 23 19:00:00 2026\n").as_bytes());
    }
    full.extend_from_slice(&raw);
    let msg = Message::parse(&full);
    let delivery = |trace| Delivery {
        kind,
        envelope_sender: None,
        trace,
    };
    // As the gate does: decide; where the DMARC policy in DNS decides, look
    // it up and decide again. Cases without `dns` had Mailman's lookup
    // stubbed to "not prohibited".
    let run = |trace: bool| {
        let lookups = Lookups {
            others: &others,
            translations: &catalogs,
            dmarc: None,
        };
        let (v, needs) = decide(&policy, &site.mailman, &msg, delivery(trace), lookups);
        let Some(email) = needs else { return v };
        let result = if dns {
            dns_server();
            mailman_gate::dmarc_lookup::lookup(&site.dmarc, &email)
        } else {
            Ok(Found::NoRecord)
        };
        let answer = DmarcAnswer { email, result };
        let lookups = Lookups {
            dmarc: Some(&answer),
            ..lookups
        };
        decide(&policy, &site.mailman, &msg, delivery(trace), lookups).0
    };
    let traced = run(true);
    // Without the trace (the MTA's path) the answer is the same.
    let quiet = run(false);
    assert_eq!(
        (
            quiet.action,
            quiet.step,
            &quiet.reason,
            &quiet.notice,
            quiet.shunted
        ),
        (
            traced.action,
            traced.step,
            &traced.reason,
            &traced.notice,
            traced.shunted
        ),
        "{}: tracing changed the verdict",
        case["id"]
    );
    assert!(
        quiet.trace.len() <= 1,
        "{}: untraced verdict has a trace",
        case["id"]
    );
    traced
}

fn action_name(v: &Verdict) -> &'static str {
    if v.shunted {
        "shunt"
    } else if v.undecided.is_some() {
        // Not a wrong answer, but not Mailman's either: shown as a mismatch.
        "undecided"
    } else {
        match v.action {
            Action::Accept => "accept",
            Action::Hold => "hold",
            Action::Reject => "reject",
            Action::Discard => "discard",
        }
    }
}

/// Mailman's mailed notice with each paragraph on one line (the lines
/// `Utils.wrap` broke joined by a space), paragraphs apart by a blank line.
fn paragraphs(mailed: &str) -> String {
    let mut out: Vec<String> = Vec::new();
    let mut cur: Vec<&str> = Vec::new();
    for line in mailed.lines().chain(std::iter::once("")) {
        let line = line.trim_end();
        if line.is_empty() {
            if !cur.is_empty() {
                out.push(cur.join(" "));
                cur.clear();
            }
        } else {
            cur.push(line);
        }
    }
    out.join("\n\n")
}

fn check_all(store: &Store) {
    let path = root().join("tests/oracle/cases.json");
    let Ok(data) = std::fs::read_to_string(&path) else {
        panic!("{} is missing", path.display());
    };
    let cases: Vec<Value> = serde_json::from_str(&data).expect("cases.json parses");
    let mut failures = Vec::new();
    for case in &cases {
        let id = case["id"].as_str().unwrap_or("?");
        let expect = &case["expect"];
        let v = run_case(store, case);
        let mut want_action = expect["action"].as_str().unwrap_or("?");
        // Mailman concluded from a DNS failure (or an order the server
        // chose) that the gate must not repeat: it says undecided.
        if case["gate_undecided"].as_bool().unwrap_or(false) {
            want_action = "undecided";
        }
        let got_action = action_name(&v);
        let mut problems = Vec::new();
        if got_action != want_action {
            problems.push(format!("action {got_action}, Mailman {want_action}"));
        }
        if !matches!(want_action, "shunt" | "undecided") {
            let want_step = expect["step"].as_str();
            let got_step = v
                .step
                .map(|s| s.as_str())
                .filter(|_| got_action != "accept");
            if got_step != want_step {
                problems.push(format!("step {got_step:?}, Mailman {want_step:?}"));
            }
            if want_action == "reject" {
                // What the poster gets: the mailed notice exactly, and as
                // `reason` the same text one line per paragraph.
                let mailed = expect["mailed"].as_str().expect("a reject's mailed notice");
                if v.notice.as_deref() != Some(mailed) {
                    problems.push(format!("mailed notice {:?}, Mailman {mailed:?}", v.notice));
                }
                let want_reason = paragraphs(mailed);
                if v.reason.as_deref() != Some(want_reason.as_str()) {
                    problems.push(format!("reason {:?}, Mailman {want_reason:?}", v.reason));
                }
                // The 550 says the same words as `reason` (what the CLI and
                // the C API give).
                let smtp = mailman_gate::answer::verdict_answer(&Default::default(), &v);
                let from_reason = mailman_gate::answer::wrap(&want_reason);
                if smtp != mailman_gate::answer::Answer::Reject(from_reason.clone()) {
                    problems.push(format!("550 {smtp:?}, reason reflowed {from_reason:?}"));
                }
                // The handler's own wording, before wrapping and the second
                // interpolation, as the trace shows it.
                let handler = expect["reason"].as_str().unwrap_or_default();
                let line = format!(
                    "{}: the handler's text: {handler}",
                    expect["step"].as_str().unwrap_or("?")
                );
                if !v.trace.contains(&line) {
                    problems.push(format!("trace lacks {line:?}"));
                }
            }
            if want_action == "hold" {
                let want_reason = expect["reason"].as_str();
                if v.reason.as_deref() != want_reason {
                    problems.push(format!("reason {:?}, Mailman {:?}", v.reason, want_reason));
                }
            }
        }
        if !problems.is_empty() {
            failures.push(format!(
                "{id}: {}\n    trace: {:?}",
                problems.join("; "),
                v.trace
            ));
        }
    }
    eprintln!(
        "{} of {} oracle cases agree",
        cases.len() - failures.len(),
        cases.len()
    );
    assert!(
        failures.is_empty(),
        "{} disagreements:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

#[test]
fn verdicts_agree_with_mailman() {
    check_all(&Store::new(
        root().join("tests/fixtures/lists"),
        Layout::Standard,
        NameRule::default(),
    ));
}

/// The same cases with every list read from its compiled snapshot, on a
/// host that has no Mailman lists directory at all.
#[test]
fn verdicts_from_snapshots_agree_with_mailman() {
    let snaps = std::env::temp_dir().join(format!("mmgate-oracle-snaps-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&snaps);
    let source = Store::new(
        root().join("tests/fixtures/lists"),
        Layout::Standard,
        NameRule::default(),
    )
    .with_snapshots(Some(snaps.clone()));
    let report = mailman_gate::export::export(&source, None, false);
    assert!(report.written.contains(&"test".to_owned()), "{report:?}");
    let only_snapshots = Store::new(
        snaps.join("no-lists-here"),
        Layout::Standard,
        NameRule::default(),
    )
    .with_snapshots(Some(snaps.clone()));
    let loaded = only_snapshots.load("test").expect("test from its snapshot");
    assert_eq!(
        loaded.source,
        mailman_gate::store::Source::Snapshot { stale: false }
    );
    check_all(&only_snapshots);
    let _ = std::fs::remove_dir_all(&snaps);
}
