//! DMARC lookups against a DNS server the test starts on 127.0.0.1
//! (ports 25654-25656): what is found, and that every failure is bounded
//! in time and reported, never guessed.

mod common;

use std::time::{Duration, Instant};

use common::dns_zone::{DnsServer, Zone};
use mailman_gate::dmarc::{lookup, resolv_conf_server, Found};
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
