//! Hostile input: the message view never panics and stays fast.

use mailman_gate::decide::administrivia::is_administrivia;
use mailman_gate::decide::approve::body_approval;
use mailman_gate::decide::hold::body_size;
use mailman_gate::decide::mimedel::{disposal, MimeFilter};
use mailman_gate::message::{getaddresses, parseaddr, Message};
use std::time::{Duration, Instant};

fn exercise(raw: &[u8]) -> Duration {
    let t = Instant::now();
    let m = Message::parse(raw);
    let _ = m.get_all("from");
    let _ = m.unixfrom_address();
    let _ = m.content_type();
    let _ = m.header_filter_text(mailman_gate::message::NormalForm::Nfkc);
    let _ = body_approval(&m);
    let _ = is_administrivia(&m, 25);
    let _ = body_size(&m);
    let (image, txt) = (["image".to_string()], ["txt".to_string()]);
    let f = MimeFilter {
        filter_mime_types: &image,
        pass_filename_extensions: &txt,
        ..MimeFilter::default()
    };
    let _ = disposal(&m, &f);
    for v in m.get_all("to") {
        let _ = getaddresses(&[v]);
        let _ = parseaddr(v);
    }
    t.elapsed()
}

fn limit() -> Duration {
    // Generous for unoptimised test builds on a shared machine.
    Duration::from_secs(10)
}

#[test]
fn deep_multipart_nesting() {
    let mut raw = b"From: a@x\n".to_vec();
    for i in 0..5000 {
        raw.extend_from_slice(
            format!("Content-Type: multipart/mixed; boundary=b{i}\n\n--b{i}\n").as_bytes(),
        );
    }
    raw.extend_from_slice(b"\nleaf\n");
    assert!(exercise(&raw) < limit());
    let mut raw = b"From: a@x\n".to_vec();
    for _ in 0..5000 {
        raw.extend_from_slice(b"Content-Type: message/rfc822\n\n");
    }
    assert!(exercise(&raw) < limit());
}

#[test]
fn many_addresses_and_comments() {
    let mut to = String::from("To: ");
    for i in 0..10000 {
        to.push_str(&format!("u{i}@example.com, \"N, {i}\" <n{i}@x>, "));
    }
    let raw = format!("From: a@x\n{to}\n\nbody\n");
    assert!(exercise(raw.as_bytes()) < limit());
    let deep = "(".repeat(100_000);
    assert!(exercise(format!("To: {deep}a@x\n\n").as_bytes()) < limit());
    let v = "g: ".repeat(20_000);
    let t = Instant::now();
    let _ = getaddresses(&[&v]);
    assert!(t.elapsed() < limit());
}

#[test]
fn nuls_invalid_utf8_and_big_bodies() {
    let mut raw = b"From: \x00\xff\xfe <a@x>\nSubject: =?utf-8?b?\xff\xff?= \x00\n".to_vec();
    raw.extend_from_slice(b"Content-Type: text/plain\nContent-Transfer-Encoding: base64\n\n");
    raw.extend(std::iter::repeat_n(b'A', 10 * 1024 * 1024));
    let m = Message::parse(&raw);
    assert_eq!(body_size(&m), 10 * 1024 * 1024);
    assert!(exercise(&raw) < limit());
    let mut qp = b"Content-Transfer-Encoding: quoted-printable\n\nApproved: ".to_vec();
    qp.extend(std::iter::repeat_n(b'=', 1024 * 1024));
    assert!(exercise(&qp) < limit());
}

#[test]
fn pathological_headers() {
    // Many ';' inside an open quote (quadratic in a naive parameter parser).
    let mut ct = b"Content-Type: multipart/mixed; boundary=\"".to_vec();
    ct.extend(std::iter::repeat_n(b';', 200_000));
    ct.extend_from_slice(b"\n\nx\n");
    assert!(exercise(&ct) < limit());
    // Many almost-encoded-words.
    let subj = format!("Subject: {}\n\n", "=?a?q?x".repeat(50_000));
    assert!(exercise(subj.as_bytes()) < limit());
    // Many boundary-like lines and CR-only line ends.
    let mut raw = b"Content-Type: multipart/mixed; boundary=b\n\n".to_vec();
    for _ in 0..100_000 {
        raw.extend_from_slice(b"--b\r");
    }
    assert!(exercise(&raw) < limit());
    let headers = "X-A: b\n".repeat(100_000);
    assert!(exercise(headers.as_bytes()) < limit());
    for raw in [
        &b""[..],
        b"\n",
        b"\r",
        b":",
        b" ",
        b"From ",
        b"From",
        b"--",
        b"\xff",
    ] {
        exercise(raw);
    }
}

/// A structural limit stops the tree and says so; the message is then one
/// the engine does not judge (tests/bounds_hostile.rs checks the verdict).
#[test]
fn structural_limits_are_reported() {
    use mailman_gate::message::limits::{MAX_DEPTH, MAX_HEADERS, MAX_HEADER_BYTES, MAX_PARTS};
    let parts = |n: usize| {
        let mut raw = b"From: a@x\nContent-Type: multipart/mixed; boundary=B\n\n".to_vec();
        for _ in 0..n {
            raw.extend_from_slice(b"--B\n\n");
        }
        raw.extend_from_slice(b"--B--\n");
        raw
    };
    let raw = parts(MAX_PARTS - 1);
    let m = Message::parse(&raw);
    assert_eq!(m.limit(), None);
    assert_eq!(m.structure().len(), MAX_PARTS);
    let raw = parts(MAX_PARTS);
    let m = Message::parse(&raw);
    assert!(m.limit().unwrap().contains("MIME parts"), "{:?}", m.limit());
    assert!(exercise(&raw) < limit());

    let mut raw = b"From: a@x\n".to_vec();
    for i in 0..=MAX_DEPTH {
        raw.extend_from_slice(
            format!("Content-Type: multipart/mixed; boundary=b{i}\n\n--b{i}\n").as_bytes(),
        );
    }
    assert!(Message::parse(&raw).limit().unwrap().contains("nesting"));
    let mut raw = b"From: a@x\n".to_vec();
    for _ in 0..MAX_DEPTH - 1 {
        raw.extend_from_slice(b"Content-Type: message/rfc822\n\n");
    }
    assert_eq!(Message::parse(&raw).limit(), None);

    let raw = "a: b\n".repeat(MAX_HEADERS + 1);
    assert!(Message::parse(raw.as_bytes())
        .limit()
        .unwrap()
        .contains("header"));
    let raw = "a: b\n".repeat(MAX_HEADERS);
    let m = Message::parse(raw.as_bytes());
    assert_eq!(m.limit(), None);
    assert_eq!(m.get_all("a").len(), MAX_HEADERS);
    let mut raw = b"Subject: ".to_vec();
    raw.extend(std::iter::repeat_n(b'\xe9', MAX_HEADER_BYTES));
    raw.extend_from_slice(b"\n\nbody\n");
    assert!(Message::parse(&raw)
        .limit()
        .unwrap()
        .contains("bytes of headers"));
}

/// The body's lines are never tabled: a body of millions of blank lines
/// is read in one pass.
#[test]
fn blank_line_floods() {
    let mut raw = b"From: a@x\nSubject: s\n\n".to_vec();
    raw.extend(std::iter::repeat_n(b'\n', 20 << 20));
    raw.extend_from_slice(b"subscribe\n");
    let m = Message::parse(&raw);
    assert_eq!(m.limit(), None);
    assert!(is_administrivia(&m, 25));
    assert_eq!(body_approval(&m), Ok(None));
    assert!(exercise(&raw) < limit());
    let mut raw = b"From: a@x\n\n".to_vec();
    raw.extend(std::iter::repeat_n(b'\n', 1 << 20));
    raw.extend_from_slice(b"Approved: pw\nrest\n");
    let a = body_approval(&Message::parse(&raw)).unwrap().unwrap();
    assert_eq!(a.password, "pw");
}

/// A decoded copy the allocator refuses makes the verdict undecided (the
/// post accepted for Mailman to decide), never an abort: a 49 MiB base64
/// body under an address-space limit that holds the message but not its
/// decoded copy. With room, the same post is held (too big).
#[test]
fn refused_decode_is_undecided() {
    let body = format!("Approved: secret\n{}", "hello world\n".repeat(3 << 20));
    let mut raw = b"From: alice@example.com\nTo: test@example.com\nSubject: x\n\
Content-Type: text/plain\nContent-Transfer-Encoding: base64\n\n"
        .to_vec();
    for line in body.as_bytes().chunks(57) {
        raw.extend_from_slice(base64_line(line).as_bytes());
    }
    let dir = std::env::temp_dir().join(format!("mg-refused-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("b64.eml");
    std::fs::write(&file, &raw).unwrap();
    let check = |limit_kib: usize| {
        let out = std::process::Command::new("sh")
            .arg("-c")
            .arg(format!("ulimit -v {limit_kib}; exec \"$0\" check --lists \"$1\" --list test --sender alice@example.com --message \"$2\" --json"))
            .arg(env!("CARGO_BIN_EXE_mailman-gate"))
            .arg(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/lists"))
            .arg(&file)
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(0), "{out:?}");
        let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        v
    };
    // The message (49 MiB) fits in 75 000 KiB; its 36 MiB decoded copy does not.
    let tight = check(75_000);
    assert_eq!(tight["action"], "accept", "{tight}");
    assert_eq!(
        tight["undecided"], "memory for Approve's body search was refused",
        "{tight}"
    );
    let roomy = check(400_000);
    assert_eq!(roomy["action"], "hold", "{roomy}");
    assert!(roomy["undecided"].is_null(), "{roomy}");
    std::fs::remove_dir_all(&dir).unwrap();
}

/// One line of `base64.encodestring`.
fn base64_line(b: &[u8]) -> String {
    const A: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut s = String::new();
    for c in b.chunks(3) {
        let v = (c[0] as u32) << 16
            | (*c.get(1).unwrap_or(&0) as u32) << 8
            | *c.get(2).unwrap_or(&0) as u32;
        for k in 0..4 {
            if k <= c.len() {
                s.push(A[(v >> (18 - 6 * k)) as usize & 63] as char);
            } else {
                s.push('=');
            }
        }
    }
    s.push('\n');
    s
}
