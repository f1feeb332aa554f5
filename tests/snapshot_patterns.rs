//! A snapshot carries its list's patterns compiled (`\0patterns`): a new
//! process that opens it holds every pattern its verdicts compile, so
//! verdicts compile nothing, and answer as from `config.pck`. One test in
//! this binary: the pattern cache is the process's.

use mailman_gate::address::Kind;
use mailman_gate::decide::patterns::{cached_bytes, list_patterns, NoOtherLists};
use mailman_gate::decide::{decide, Action, Delivery, Lookups};
use mailman_gate::message::Message;
use mailman_gate::policy::{HeaderFilterRule, PyStr};
use mailman_gate::site::Site;
use mailman_gate::snapshot::patterns::{load_patterns, PATTERNS_KEY};
use mailman_gate::snapshot::{encode_snapshot, open_snapshot, write_snapshot};
use mailman_gate::store::{Layout, NameRule, Store};

mod common;

fn post(from: &str, subject: &str) -> Vec<u8> {
    format!("From: {from}\nTo: test@example.com\nSubject: {subject}\nMessage-ID: <p@x>\n\nhello\n")
        .into_bytes()
}

#[test]
fn a_new_process_takes_the_patterns_from_the_snapshot() {
    let dir = std::env::temp_dir().join(format!("mmgate-snappat-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let lists = common::lists::fixtures();
    let store = Store::new(&lists, Layout::Standard, NameRule::default());
    let mut policy = store.load_from_config("test").unwrap().policy;
    policy.accept_these_nonmembers = vec![
        "^.*@trusted\\.org$".into(),
        "^(ann|bob)+@(lists\\.)?partner\\.net".into(),
        "^bad(".into(),
    ];
    policy.hold_these_nonmembers = vec!["^[^@]+@hold\\.example$".into()];
    policy.discard_these_nonmembers = vec!["^spam\\w*@.*".into()];
    policy.generic_nonmember_action = 1;
    policy.header_filter_rules = vec![
        HeaderFilterRule {
            patterns: PyStr::Text("^subject:.*\\bviagra\\b\n^x-spam-flag: yes".into()),
            action: 3,
        },
        HeaderFilterRule {
            patterns: PyStr::Bytes(b"^subject:.*(casino|lottery){1,3}".to_vec()),
            action: 7,
        },
    ];
    policy.bounce_matching_headers = "X-Mailer: (bulk|mass) ?mail".into();
    let wanted = list_patterns(&policy);
    assert!(wanted.len() >= 8, "{wanted:?}");

    // Writing compiles outside the process's cache.
    let path = dir.join("test.cdb");
    write_snapshot(&policy, None, &path).unwrap();
    assert_eq!(cached_bytes(), 0, "writing a snapshot filled the cache");
    let file = encode_snapshot(&policy, None).unwrap();
    assert!(
        file.windows(PATTERNS_KEY.len()).any(|w| w == PATTERNS_KEY),
        "no patterns record"
    );

    let snap = open_snapshot(&path).unwrap();
    let held = cached_bytes();
    assert!(held > 0, "opening the snapshot cached no pattern");

    let site = Site::default();
    let catalogs = mailman_gate::catalogs::Catalogs::new(&site.mailman_dir);
    let lookups = || Lookups {
        others: &NoOtherLists,
        translations: &catalogs,
        dmarc: None,
    };
    let cases: [(&str, &str, Action); 7] = [
        ("x@trusted.org", "hi", Action::Accept),
        ("annbob@lists.partner.net", "hi", Action::Accept),
        ("q@hold.example", "hi", Action::Hold),
        ("spammer@anywhere.com", "hi", Action::Discard),
        ("nobody@else.com", "hi", Action::Hold),
        ("x@trusted.org", "cheap viagra now", Action::Discard),
        ("x@trusted.org", "casino lottery", Action::Hold),
    ];
    let delivery = Delivery {
        kind: Kind::Post,
        envelope_sender: None,
        trace: false,
    };
    for (from, subject, want) in cases {
        let raw = post(from, subject);
        let msg = Message::parse(&raw);
        let (from_snap, _) = decide(snap.policy(), &site.mailman, &msg, delivery, lookups());
        assert_eq!(from_snap.action, want, "{from} {subject:?}: {from_snap:?}");
        let (from_pck, _) = decide(&policy, &site.mailman, &msg, delivery, lookups());
        assert_eq!(from_snap.action, from_pck.action, "{from}");
        assert_eq!(from_snap.reason, from_pck.reason, "{from}");
    }
    // Every verdict found its patterns in the cache: nothing compiled.
    assert_eq!(cached_bytes(), held, "a verdict compiled a pattern");

    // A record of another version is ignored (patterns then compile at
    // first use); the record read back is whole.
    let rec = mailman_gate::snapshot::patterns::encode_patterns(&policy).unwrap();
    assert_eq!(load_patterns(&rec), Some(wanted.len()));
    let mut other = rec.clone();
    other[0] ^= 0x80;
    assert_eq!(load_patterns(&other), None);
    let mut damaged = rec.clone();
    let last = damaged.len() - 1;
    damaged[last] ^= 1;
    assert_eq!(load_patterns(&damaged), None, "checksum not checked");
    let _ = std::fs::remove_dir_all(&dir);
}
