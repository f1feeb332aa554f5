//! DMARC lookups against a DNS server the test starts on 127.0.0.1
//! (ports 25654-25657): what is found, and that every failure is bounded
//! in time and reported, never guessed.

mod common;

use std::time::{Duration, Instant};

use common::dns_zone::{DnsServer, Zone};
use mailman_gate::dmarc::Found;
use mailman_gate::dmarc_lookup::{lookup, resolv_conf_server};
use mailman_gate::site::DmarcSettings;

const ZONE: &str = r#"
_dmarc.reject.example      TXT "v=DMARC1; p=reject"
_dmarc.two.example         TXT "v=DMARC1; p=none"
_dmarc.two.example         TXT "v=DMARC1; p=reject"
_dmarc.same.example        TXT "v=DMARC1; p=reject"
_dmarc.same.example        TXT "v=DMARC1; p=reject; pct=50"
_dmarc.mixed.example       TXT "v=spf1 -all"
_dmarc.mixed.example       TXT "v=DMARC1; p=reject"
_dmarc.org.example         TXT "v=DMARC1; p=none; sp=quarantine"
_dmarc.slow.example        TIMEOUT
_dmarc.fail.example        SERVFAIL
"#;

fn settings(port: u16) -> DmarcSettings {
    DmarcSettings {
        dns_server: Some(format!("127.0.0.1:{port}").parse().unwrap()),
        timeout: 0.3,
        org_domain_data_url: None,
        ..DmarcSettings::default()
    }
}

#[test]
fn policies_found_as_mailman_reads_them() {
    let _server = DnsServer::start(Zone::parse(ZONE), 25654);
    let s = settings(25654);
    let policy = |email: &str| match lookup(&s, email) {
        Ok(Found::Policy { policy, .. }) => policy,
        other => panic!("{email}: {other:?}"),
    };
    assert_eq!(policy("A@Reject.Example").as_deref(), Some("reject"));
    // The organizational domain's sp= for a subdomain.
    assert_eq!(policy("a@sub.org.example").as_deref(), Some("quarantine"));
    assert_eq!(policy("a@org.example").as_deref(), Some("none"));
    // Two records that say the same: whichever comes first, same answer.
    assert_eq!(policy("a@same.example").as_deref(), Some("reject"));
    assert_eq!(lookup(&s, "a@nowhere.example"), Ok(Found::NoRecord));
    assert_eq!(lookup(&s, "no-domain"), Ok(Found::NoRecord));
    // Records that disagree: Mailman reads whichever its server lists first.
    for email in ["a@two.example", "a@mixed.example"] {
        let e = lookup(&s, email).expect_err(email);
        assert!(e.contains("TXT records"), "{e}");
    }
    // A name that is not plain DNS text is not guessed at.
    assert!(lookup(&s, "a@exa mple.example").is_err());
}

#[test]
fn failures_are_reported_within_the_timeout() {
    let _server = DnsServer::start(Zone::parse(ZONE), 25655);
    let s = settings(25655);
    let t = Instant::now();
    let e = lookup(&s, "a@slow.example").expect_err("timeout");
    assert!(e.contains("no answer"), "{e}");
    assert!(t.elapsed() < Duration::from_secs(3), "{:?}", t.elapsed());
    let e = lookup(&s, "a@fail.example").expect_err("servfail");
    assert!(e.contains("ServerFailure"), "{e}");
    // Nobody listening: refused or timed out, never an answer.
    let t = Instant::now();
    assert!(lookup(&settings(25656), "a@reject.example").is_err());
    assert!(t.elapsed() < Duration::from_secs(3));
}

#[test]
fn resolv_conf_first_nameserver() {
    let dir = std::env::temp_dir().join(format!("mmgate-resolv-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("resolv.conf");
    std::fs::write(
        &path,
        "# comment\nsearch example.org\nnameserver fe80::1%eth0\nnameserver 192.0.2.53\n",
    )
    .unwrap();
    assert_eq!(
        resolv_conf_server(&path),
        Some("[fe80::1]:53".parse().unwrap())
    );
    std::fs::write(&path, "domain example.org\n").unwrap();
    assert_eq!(resolv_conf_server(&path), None);
    let _ = std::fs::remove_dir_all(&dir);
}

/// The whole path: the gate decides, finds that the From domain's DMARC
/// policy decides, looks it up once and decides again. The `dmarc` list is
/// the fixture `test` list with `dmarc_moderation_action` 3 (reject),
/// pickled as Mailman saves it.
#[test]
fn the_gate_looks_up_only_what_decides() {
    use mailman_gate::address::Kind;
    use mailman_gate::decide::Action;
    use mailman_gate::gate::Gate;
    use mailman_gate::site::Site;

    let _server = DnsServer::start(Zone::parse(ZONE), 25657);
    let lists = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/dmarc-lists");
    let conf = format!(
        "mailman_config = none\nlists_dir = {lists}\ndns_server = 127.0.0.1:25657\ndmarc_timeout = 0.3\ndmarc_organizational_domain_data_url = none\n"
    );
    let gate = Gate::new(Site::parse(&conf, "test.conf").expect("conf"));
    let post = |from: &str| {
        let msg = format!("From: {from}\nTo: dmarc@example.com\nSubject: hi\n\nhello\n");
        gate.check("dmarc", Kind::Post, Some(from), msg.as_bytes())
            .expect("verdict")
    };
    let v = post("someone@reject.example");
    assert_eq!((v.action, v.undecided.as_deref()), (Action::Reject, None));
    assert!(
        v.reason
            .as_deref()
            .unwrap_or("")
            .contains("DMARC policy of reject"),
        "{v:?}"
    );
    assert!(
        v.trace.iter().any(|l| l.contains("_dmarc.reject.example")),
        "{:?}",
        v.trace
    );
    // No record: the post goes on to the non-member policy (hold).
    let v = post("someone@nowhere.example");
    assert_eq!((v.action, v.undecided.as_deref()), (Action::Hold, None));
    // No answer: undecided, accepted, within the timeout.
    let t = Instant::now();
    let v = post("someone@slow.example");
    assert_eq!(v.action, Action::Accept);
    assert!(
        v.undecided.as_deref().unwrap_or("").contains("no answer"),
        "{v:?}"
    );
    assert!(t.elapsed() < Duration::from_secs(3));
    // Lookups off: undecided rather than a guess.
    let off = Gate::new(Site::parse(&format!("{conf}dmarc_lookup = no\n"), "t").expect("conf"));
    let msg = b"From: someone@reject.example\nSubject: hi\n\nhello\n";
    let v = off
        .check("dmarc", Kind::Post, Some("someone@reject.example"), msg)
        .expect("verdict");
    assert_eq!(v.action, Action::Accept);
    assert!(
        v.undecided
            .as_deref()
            .unwrap_or("")
            .contains("not looked up"),
        "{v:?}"
    );
}
