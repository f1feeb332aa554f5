//! The fuzz targets' bodies, as plain functions: called by the libFuzzer
//! targets in `fuzz_targets/` and by the stable driver `fuzz-fallback`.
//! Each must return for every input without panicking; a panic is a
//! finding.

use std::ffi::{c_char, c_int, CString};
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use mailman_gate::capi::*;
use mailman_gate::cdb::Cdb;
use mailman_gate::gate::Gate;
use mailman_gate::message::{getaddresses, Message, NormalForm};
use mailman_gate::pickle::{self, Limits};
use mailman_gate::policy::{ListPolicy, MemberTable};
use mailman_gate::address::Kind;
use mailman_gate::site::Site;
use mailman_gate::snapshot::{codec, open_snapshot_with, Verify};

/// The fixture lists of the main crate.
pub fn fixture_lists() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/fixtures/lists")
}

fn gate() -> &'static Gate {
    static G: OnceLock<Gate> = OnceLock::new();
    G.get_or_init(|| {
        Gate::new(Site::for_lists(fixture_lists()))
    })
}

/// Small limits, so that memo and nesting bombs stay cheap.
fn limits() -> Limits {
    Limits {
        max_bytes: 1 << 20,
        max_depth: 100,
        max_memo: 1 << 16,
        max_nodes: 1 << 18,
        ..Limits::default()
    }
}

/// The pickle reader and the policy built from what it reads.
pub fn pickle(data: &[u8]) {
    if let Ok(p) = pickle::parse(data.to_vec(), &limits()) {
        // The parse held no more than its budget.
        assert!(p.memory_charged() <= limits().memory_budget(data.len()));
        let _ = p.to_canonical_json();
        if let Ok(policy) = ListPolicy::from_pickle("test", &p) {
            // The first lookups scan the member table, later ones build
            // and use its index: both must agree.
            let scanned = policy.member("alice@example.com");
            for _ in 0..MemberTable::SCANS {
                let _ = policy.member("bob@example.com");
            }
            assert_eq!(policy.member("alice@example.com"), scanned);
            let _ = policy.members.entries();
            let _ = codec::encode_policy(&policy).map(|b| codec::decode_policy(&b));
        }
    }
}

fn snapshot_file() -> PathBuf {
    std::env::temp_dir().join(format!("mg-fuzz-snapshot-{}", std::process::id()))
}

/// The snapshot reader: the cdb layer and the policy codec on the bytes
/// themselves, then `open_snapshot` on them as a file (with and without
/// the checksum, so mutated files get past it).
pub fn snapshot(data: &[u8]) {
    if let Ok(c) = Cdb::new(data) {
        for r in c.records().take(10_000) {
            if r.is_err() {
                break;
            }
        }
        let _ = c.get(b"\0meta");
        let _ = c.get(b"m:alice@example.com");
    }
    let _ = codec::decode_policy(data);
    let path = snapshot_file();
    if std::fs::write(&path, data).is_err() {
        return;
    }
    // The pread reader answers as the slice reader does.
    if let (Ok(c), Ok(f)) = (Cdb::new(data), std::fs::File::open(&path)) {
        if let Ok(cf) = mailman_gate::cdb::CdbFile::open(f, data.len() as u64) {
            for key in [&b"\0meta"[..], b"\0policy", b"m:alice@example.com", b""] {
                let slice = c.get(key).map(|v| v.map(<[u8]>::to_vec));
                let file = cf.find_concat(key, b"", 5);
                match (slice, file) {
                    (Ok(a), Ok(b)) => assert_eq!(a, b),
                    (Err(_), Err(_)) => {}
                    // The slice reader stops at the first bad slot it
                    // reads; the file reader too, but may read a batch
                    // of slots first: both are errors or both answers.
                    (a, b) => assert!(a.is_err() || b.is_err(), "{a:?} {b:?}"),
                }
            }
        }
    }
    for verify in [Verify::Full, Verify::SkipChecksum] {
        if let Ok(s) = open_snapshot_with(&path, verify) {
            let _ = s.policy().member("alice@example.com");
            for a in ["alice@example.com", "bob@example.com", "", "m:"] {
                let _ = s.members().try_get(a);
            }
            let _ = s.members().len();
        }
    }
}

/// Message parsing and everything the decision asks of a message.
pub fn message(data: &[u8]) {
    let m = Message::parse(data);
    // The tree never passes the parser's limits.
    assert!(m.structure().len() <= mailman_gate::message::limits::MAX_PARTS);
    let _ = m.unixfrom_address();
    let _ = m.content_type();
    for form in [NormalForm::Nfc, NormalForm::Nfkc] {
        let _ = m.header_filter_text(form);
    }
    let _ = mailman_gate::decide::approve::body_approval(&m);
    let _ = mailman_gate::decide::administrivia::is_administrivia(&m, 25);
    let _ = mailman_gate::decide::hold::body_size(&m);
    let values: Vec<&str> = ["from", "to", "cc", "reply-to", "sender"]
        .iter()
        .flat_map(|h| m.get_all(h))
        .collect();
    let _ = getaddresses(&values);
}

const KINDS: [Kind; 4] = [Kind::Post, Kind::Owner, Kind::Request, Kind::Bounces];

/// The whole decision for an arbitrary message to the fixture lists. The
/// first byte picks the list, kind and envelope sender.
pub fn decide(data: &[u8]) {
    let (sel, raw) = match data.split_first() {
        Some((s, r)) => (*s, r),
        None => (0, data),
    };
    let list = ["test", "other", "foo_example.com"][(sel % 3) as usize];
    let kind = KINDS[((sel >> 2) % 4) as usize];
    let sender = match sel >> 4 {
        0 => None,
        1 => Some(""),
        2 => Some("alice@example.com"),
        _ => Some("out@elsewhere.example"),
    };
    if let Ok(v) = gate().check(list, kind, sender, raw) {
        let _ = mailman_gate::answer::verdict_answer(&gate().site.answers, &v);
    }
}

/// Split `data` at 0xff bytes into at most `n` fields.
fn fields(data: &[u8], n: usize) -> Vec<&[u8]> {
    data.splitn(n, |&b| b == 0xff).collect()
}

/// A C string from arbitrary bytes: cut at the first NUL, as C sees it.
fn cstr(b: &[u8]) -> CString {
    let end = b.iter().position(|&c| c == 0).unwrap_or(b.len());
    CString::new(&b[..end]).unwrap()
}

fn config_file() -> &'static CString {
    static C: OnceLock<CString> = OnceLock::new();
    C.get_or_init(|| {
        let p = std::env::temp_dir().join(format!("mg-fuzz-gate-{}.conf", std::process::id()));
        std::fs::write(&p, format!("lists_dir = {}\n", fixture_lists().display())).unwrap();
        CString::new(p.to_str().unwrap()).unwrap()
    })
}

/// The C API and the Exim dlfunc entry points with arbitrary arguments:
/// NULLs (per bit of the first byte), non-UTF-8, empty, long and
/// NUL-containing strings, every getter with in- and out-of-range indexes.
pub fn capi(data: &[u8]) {
    let (flags, rest) = match data.split_first() {
        Some((f, r)) => (*f, r),
        None => (0, data),
    };
    let f = fields(rest, 6);
    let get = |i: usize| f.get(i).copied().unwrap_or(b"");
    let (local, domain, list, kind, sender, msg) = (
        cstr(get(0)),
        cstr(get(1)),
        cstr(get(2)),
        cstr(get(3)),
        cstr(get(4)),
        get(5),
    );
    let ptr = |bit: u8, c: &CString| -> *const c_char {
        if flags & bit != 0 {
            std::ptr::null()
        } else {
            c.as_ptr()
        }
    };
    unsafe {
        // Any int is a valid code argument.
        let code = i32::from_le_bytes([get(0).len() as u8, flags, 0, 0]) - 300;
        assert!(!mg_result_text(code).is_null());
        assert!(!mg_action_name(code).is_null());
        let _ = mg_last_error();
        let lists = CString::new(fixture_lists().to_str().unwrap()).unwrap();
        let layout = if flags & 0x80 != 0 {
            cstr(get(3))
        } else {
            CString::new("standard").unwrap()
        };
        let mut g: *mut mg_gate = std::ptr::null_mut();
        let rc = mg_gate_open_lists(lists.as_ptr(), layout.as_ptr(), &mut g);
        if rc != mg_result::Ok {
            assert!(g.is_null());
            return;
        }
        let mut r: *mut mg_route = std::ptr::null_mut();
        if mg_gate_route(g, ptr(1, &local), ptr(2, &domain), &mut r) == mg_result::Ok {
            let _ = (mg_route_list(r), mg_route_kind(r), mg_route_domain(r));
        }
        mg_route_free(r);
        let mut v: *mut mg_verdict = std::ptr::null_mut();
        let (dp, dl) = if flags & 0x40 != 0 {
            (
                std::ptr::null(),
                if flags & 0x20 != 0 { msg.len() } else { 0 },
            )
        } else {
            (msg.as_ptr(), msg.len())
        };
        let rc = mg_gate_check(
            g,
            ptr(4, &list),
            ptr(8, &kind),
            ptr(16, &sender),
            dp,
            dl,
            &mut v,
        );
        if rc == mg_result::Ok {
            let _ = mg_action_name(mg_verdict_action(v) as c_int);
            let _ = (mg_verdict_step(v), mg_verdict_reason(v));
            let _ = (mg_verdict_shunted(v), mg_verdict_smtp_code(v));
            let _ = (mg_verdict_smtp_text(v), mg_verdict_token(v));
            let n = mg_verdict_trace_len(v);
            for i in [0, n.saturating_sub(1), n, usize::MAX] {
                let _ = mg_verdict_trace(v, i);
            }
            let n = mg_verdict_caveats_len(v);
            for i in [0, n, usize::MAX] {
                let _ = mg_verdict_caveat(v, i);
            }
        } else {
            let _ = mg_last_error();
        }
        mg_verdict_free(v);
        mg_gate_free(g);

        // Exim's dlfunc calls: argv[0] is the configuration file.
        let conf = if flags & 1 != 0 {
            CString::new("").unwrap()
        } else {
            config_file().clone()
        };
        let argv: Vec<*const u8> = [conf.as_ptr(), local.as_ptr(), domain.as_ptr()]
            .into_iter()
            .chain([list.as_ptr(), kind.as_ptr(), sender.as_ptr()])
            .map(|p| p as *const u8)
            .collect();
        let argc = (flags as usize % (argv.len() + 1)) as c_int;
        let mut y: *mut u8 = std::ptr::null_mut();
        let _ = mailman_gate::exim::mailman_gate_rcpt(&mut y, argc, argv.as_ptr());
        let _ = mailman_gate::exim::mailman_gate_data(&mut y, argc, argv.as_ptr());
        let _ = mailman_gate::exim::mailman_gate_version(&mut y, argc, argv.as_ptr());
    }
}

/// Every target by name.
/// Steps each `pyre` input may spend.
const PYRE_BUDGET: u64 = 200_000;

/// Python patterns: a flags byte, the pattern, 0xff, the subject.  Compiling
/// and matching must stay within the step budget (never more steps than
/// given) and within a time that budget explains: no unbounded work
/// outside the count.
pub fn pyre(data: &[u8]) {
    use mailman_gate::pyre::{Budget, Flags, MatchError, PyRegex};
    let (flags, rest) = match data.split_first() {
        Some((f, r)) => (*f, r),
        None => (0, data),
    };
    let f = fields(rest, 2);
    let pattern = String::from_utf8_lossy(f.first().copied().unwrap_or(b""));
    let subject = String::from_utf8_lossy(f.get(1).copied().unwrap_or(b""));
    let flags = Flags {
        ignorecase: flags & 1 != 0,
        multiline: flags & 2 != 0,
        unicode: flags & 4 != 0,
    };
    let budget = Budget::new(PYRE_BUDGET);
    let t = std::time::Instant::now();
    if let Ok(re) = PyRegex::compile_in(&pattern, flags, &budget) {
        for anchored in [false, true] {
            let r = if anchored {
                re.match_in(&subject, &budget)
            } else {
                re.search_in(&subject, &budget)
            };
            if r == Err(MatchError::Internal) {
                panic!("engine error on {pattern:?}");
            }
        }
    }
    assert!(budget.spent() <= PYRE_BUDGET);
    // 200 000 steps take a few ms; a second means work the budget missed.
    let took = t.elapsed();
    assert!(took < std::time::Duration::from_secs(1), "{pattern:?}: {took:?}");
}

pub const TARGETS: [(&str, fn(&[u8])); 6] = [
    ("pickle", pickle),
    ("snapshot", snapshot),
    ("message", message),
    ("decide", decide),
    ("capi", capi),
    ("pyre", pyre),
];
