//! Hostile and broken inputs: every one must come back quickly as a value
//! or as a `PickleError` naming the offset and opcode, never as a panic.

use mailman_gate::pickle::{parse, Limits, Pickle, PickleError};
use std::time::{Duration, Instant};

fn fixture() -> Vec<u8> {
    let p = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/lists/test/config.pck");
    std::fs::read(p).unwrap()
}

fn run(data: Vec<u8>) -> Result<Pickle, PickleError> {
    parse(data, &Limits::default())
}

/// Parses `data`, which must fail at `offset` on opcode `op`.
fn fails_at(data: Vec<u8>, offset: usize, op: u8, why: &str) -> PickleError {
    let t = Instant::now();
    let e = run(data).expect_err(why);
    assert!(
        t.elapsed() < Duration::from_secs(5),
        "{why}: took {:?}",
        t.elapsed()
    );
    assert_eq!((e.offset, e.opcode), (offset, Some(op)), "{why}: {e}");
    let shown = e.to_string();
    assert!(shown.contains(&format!("offset {offset}")), "{shown}");
    assert!(
        shown.contains(&format!("{:?}", op as char)) || shown.contains(&format!("0x{op:02x}")),
        "{shown}"
    );
    e
}

#[test]
fn truncation_at_every_byte() {
    let data = fixture();
    for n in 0..data.len() {
        match run(data[..n].to_vec()) {
            Ok(_) => panic!("a prefix of {n} bytes parsed"),
            Err(e) => assert!(e.offset <= n, "prefix {n}: {e}"),
        }
    }
    assert!(run(data).is_ok());
}

#[test]
fn flipped_bytes() {
    let data = fixture();
    let mut ok = 0;
    for i in 0..data.len() {
        for mask in [0x01u8, 0x80, 0xff] {
            let mut d = data.clone();
            d[i] ^= mask;
            if let Ok(p) = run(d) {
                ok += 1;
                if ok % 16 == 0 {
                    let _ = p.to_canonical_json();
                }
            }
        }
    }
    // Many flips land in string payloads and still parse.
    assert!(ok > 0);
    // Random multi-byte damage (a fixed LCG, so the test is repeatable).
    let mut x: u64 = 0x2545_f491_4f6c_dd1d;
    for _ in 0..3000 {
        let mut d = data.clone();
        for _ in 0..4 {
            x = x
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            let i = (x >> 33) as usize % d.len();
            d[i] = (x >> 17) as u8;
        }
        if let Ok(p) = run(d) {
            let _ = p.to_canonical_json();
        }
    }
}

#[test]
fn a_million_marks() {
    let mut d = vec![b'('; 1_000_000];
    d.push(b'.');
    let e = fails_at(d, 200, b'(', "1e6 MARKs");
    assert!(e.reason.contains("MARK"), "{e}");
}

#[test]
fn nested_lists_beyond_the_depth_limit() {
    // ] ] ] ... a a a ... : a list inside a list, a million levels deep.
    let n = 1_000_000;
    let mut d = vec![b']'; n];
    d.extend(std::iter::repeat_n(b'a', n - 1));
    d.push(b'.');
    let stop = d.len() - 1;
    // Default limits: a node per input byte is past the memory budget
    // before the nesting is seen, and that is a limit, not corruption.
    let e = run(d.clone()).unwrap_err();
    assert!(e.limit && e.reason.contains("memory budget"), "{e}");
    // With room for it, the nesting check is what refuses it.
    let roomy = Limits {
        max_memory: 1 << 30,
        memory_per_byte: 64,
        ..Limits::default()
    };
    let e = parse(d, &roomy).unwrap_err();
    assert_eq!((e.offset, e.opcode), (stop, Some(b'.')), "{e}");
    assert!(e.reason.contains("nested deeper") && !e.limit, "{e}");

    // Within the limit it is fine.
    let n = 150;
    let mut d = vec![b']'; n];
    d.extend(std::iter::repeat_n(b'a', n - 1));
    d.push(b'.');
    assert!(run(d).is_ok());
    // And with a tighter limit it is not.
    let mut d = vec![b']'; 20];
    d.extend(std::iter::repeat_n(b'a', 19));
    d.push(b'.');
    let lim = Limits {
        max_depth: 10,
        ..Limits::default()
    };
    assert!(parse(d, &lim).is_err());
}

#[test]
fn memo_bomb() {
    // A list, memoized, fetched a million times into another list.
    let n = 1_000_000;
    let mut d = b"]q\x01U\x02abq\x02a(".to_vec();
    for _ in 0..n {
        d.extend_from_slice(b"h\x01");
    }
    d.extend_from_slice(b"l.");
    let t = Instant::now();
    let p = run(d).unwrap();
    assert!(t.elapsed() < Duration::from_secs(5));
    assert_eq!(p.root().len(), n);
    let first = p.root().elements().next().unwrap();
    assert!(
        p.root().elements().all(|v| v.id() == first.id()),
        "shared, not copied"
    );

    // Nested sharing: 2^40 leaves when expanded, a few hundred bytes here.
    let mut d = b"U\x02abq\x00".to_vec();
    for level in 0u32..40 {
        d.push(b'(');
        d.extend_from_slice(b"j");
        d.extend_from_slice(&level.to_le_bytes());
        d.extend_from_slice(b"j");
        d.extend_from_slice(&level.to_le_bytes());
        d.extend_from_slice(b"lr");
        d.extend_from_slice(&(level + 1).to_le_bytes());
    }
    d.push(b'.');
    let p = run(d).unwrap();
    assert_eq!(p.root().len(), 2);

    // GET of the same huge list many times, each O(1).
    let mut d = b"(".to_vec();
    d.extend(std::iter::repeat_n(b'N', 100_000));
    d.extend_from_slice(b"lq\x01(");
    for _ in 0..200_000 {
        d.extend_from_slice(b"h\x01");
    }
    d.extend_from_slice(b"t.");
    let t = Instant::now();
    assert_eq!(run(d).unwrap().root().len(), 200_000);
    assert!(t.elapsed() < Duration::from_secs(5));
}

#[test]
fn a_list_inside_itself() {
    let e = fails_at(b"]q\x01h\x01a.".to_vec(), 6, b'.', "recursive list");
    assert!(e.reason.contains("recursive"), "{e}");
    // Through DUP too.
    fails_at(b"]2]aa.".to_vec(), 5, b'.', "recursive via DUP");
}

#[test]
fn huge_length_fields() {
    // BINUNICODE claiming 4 GiB - 1.
    fails_at(
        b"X\xff\xff\xff\xffabc.".to_vec(),
        0,
        b'X',
        "BINUNICODE 4 GiB",
    );
    // BINSTRING claiming 2 GiB - 1, and a negative count.
    fails_at(
        b"N\x85T\xff\xff\xff\x7fabc.".to_vec(),
        2,
        b'T',
        "BINSTRING 2 GiB",
    );
    let e = fails_at(
        b"T\xfe\xff\xff\xffabc.".to_vec(),
        0,
        b'T',
        "negative BINSTRING",
    );
    assert!(e.reason.contains("negative"), "{e}");
    fails_at(b"\x8b\xff\xff\xff\xff.".to_vec(), 0, 0x8b, "negative LONG4");
    fails_at(b"\x8b\x00\x00\x00\x40.".to_vec(), 0, 0x8b, "LONG4 of 1 GiB");
    fails_at(
        b"\x80\x04\x8e\xff\xff\xff\xff\xff\xff\xff\xff.".to_vec(),
        2,
        0x8e,
        "BINBYTES8 2^64-1",
    );
    fails_at(
        b"U\xffab.".to_vec(),
        0,
        b'U',
        "SHORT_BINSTRING past the end",
    );
}

#[test]
fn bad_memo_references() {
    let e = fails_at(b"j\x00\x00\x01\x00.".to_vec(), 0, b'j', "LONG_BINGET unset");
    assert!(e.reason.contains("65536"), "{e}");
    fails_at(b"NN(h\x05.".to_vec(), 3, b'h', "BINGET unset");
    fails_at(b"g-1\n.".to_vec(), 0, b'g', "negative GET");
    fails_at(b"Np-3\n.".to_vec(), 1, b'p', "negative PUT");
    fails_at(b"q\x01N.".to_vec(), 0, b'q', "BINPUT on an empty stack");
    // A far memo key is fine (sparse).
    let p = run(b"Nr\xff\xff\xff\x7f0j\xff\xff\xff\x7f.".to_vec()).unwrap();
    assert!(p.root().is_none());
    // The memo limit.
    let lim = Limits {
        max_memo: 3,
        ..Limits::default()
    };
    let e = parse(b"Nq\x01q\x02q\x03q\x04.".to_vec(), &lim).unwrap_err();
    assert_eq!((e.offset, e.opcode), (7, Some(b'q')), "{e}");
}

#[test]
fn stack_and_opcode_misuse() {
    fails_at(b"(.".to_vec(), 1, b'.', "STOP on an empty frame");
    fails_at(b".".to_vec(), 0, b'.', "STOP on an empty stack");
    fails_at(b"1.".to_vec(), 0, b'1', "POP_MARK without MARK");
    fails_at(b"0.".to_vec(), 0, b'0', "POP on an empty stack");
    fails_at(b"Na.".to_vec(), 1, b'a', "APPEND without a list");
    fails_at(b"NNNa.".to_vec(), 3, b'a', "APPEND to None");
    fails_at(b"NNNs.".to_vec(), 3, b's', "SETITEM on None");
    fails_at(b"}(Nu.".to_vec(), 3, b'u', "SETITEMS with an odd count");
    fails_at(b"}]Ns.".to_vec(), 3, b's', "unhashable key");
    fails_at(
        b"(]Ne.".to_vec(),
        3,
        b'e',
        "APPENDS whose list is inside its own frame",
    );
    fails_at(
        b"(K\x01\x86.".to_vec(),
        3,
        0x86,
        "TUPLE2 reaching below a MARK",
    );
}

#[test]
fn unsupported_opcodes() {
    fails_at(b"Pid\n.".to_vec(), 0, b'P', "PERSID");
    fails_at(b"NQ.".to_vec(), 1, b'Q', "BINPERSID");
    fails_at(b"\x82\x01.".to_vec(), 0, 0x82, "EXT1");
    fails_at(b"\x80\x09N.".to_vec(), 0, 0x80, "protocol 9");
    fails_at(b"\x00.".to_vec(), 0, 0x00, "unknown opcode");
    fails_at(b"I12x\n.".to_vec(), 0, b'I', "bad INT");
    fails_at(b"I010\n.".to_vec(), 0, b'I', "leading zero");
    fails_at(b"Fxyz\n.".to_vec(), 0, b'F', "bad FLOAT");
    fails_at(b"S'abc\n.".to_vec(), 0, b'S', "unterminated STRING");
    fails_at(b"S'\\x4'\n.".to_vec(), 0, b'S', "bad \\x escape");
    fails_at(b"V\\u12\n.".to_vec(), 0, b'V', "short \\u escape");
    fails_at(
        b"X\x02\x00\x00\x00\xff\xfe.".to_vec(),
        0,
        b'X',
        "invalid UTF-8",
    );
    fails_at(b"(o.".to_vec(), 1, b'o', "OBJ without a class");
    fails_at(b"NN\x81.".to_vec(), 2, 0x81, "NEWOBJ with non-tuple args");
    let e = run(Vec::new()).unwrap_err();
    assert_eq!((e.offset, e.opcode), (0, None));
}

#[test]
fn limits() {
    let lim = Limits {
        max_bytes: 10,
        ..Limits::default()
    };
    let e = parse(vec![b'N'; 11], &lim).unwrap_err();
    assert_eq!(e.offset, 0);
    let lim = Limits {
        max_nodes: 4,
        ..Limits::default()
    };
    let e = parse(b"(U\x01aU\x01bU\x01cU\x01dU\x01el.".to_vec(), &lim).unwrap_err();
    assert_eq!((e.offset, e.opcode), (13, Some(b'U')), "{e}");
    // The fixture fits comfortably in the defaults.
    assert!(run(fixture()).is_ok());
}

/// Every way of making the parse hold more than the input: stopped by the
/// memory budget (a limit), whatever the opcodes, at a few times the input.
#[test]
fn memory_budget() {
    let lim = Limits {
        memory_floor: 1 << 20,
        ..Limits::default()
    };
    let budget = lim.memory_budget(4 << 20);
    assert_eq!(
        budget,
        (1 << 20) + mailman_gate::pickle::MEMORY_PER_BYTE * (4 << 20)
    );
    let body = |unit: &[u8], n: usize| -> Vec<u8> {
        let mut d = b"(".to_vec();
        d.extend(std::iter::repeat_n(unit, n).flatten());
        d.extend_from_slice(b"l.");
        d
    };
    let n = 4 << 20;
    let cases: [(&str, Vec<u8>); 5] = [
        ("a node per byte", body(b"]", n)),
        ("a reference per two bytes", {
            let mut d = b"U\x02abq\x010".to_vec();
            d.extend(body(b"h\x01", n / 2));
            d
        }),
        ("an owned string per six bytes", body(b"S'\\n'\n", n / 6)),
        ("sparse memo keys", {
            let mut d = b"N".to_vec();
            for i in 0..(n / 5) as u32 {
                d.push(b'r');
                d.extend_from_slice(&i.wrapping_mul(65537).to_le_bytes());
            }
            d.push(b'.');
            d
        }),
        ("a memoized text encoded again and again", {
            // _codecs.encode(<64 KiB text>, 'latin1'), the text fetched
            // from the memo each time: a copy per 8 input bytes.
            let mut d = b"c_codecs\nencode\nq\x01X\x00\x00\x01\x00".to_vec();
            d.extend(std::iter::repeat_n(b'x', 1 << 16));
            d.extend_from_slice(b"q\x02X\x06\x00\x00\x00latin1q\x030(");
            d.extend(std::iter::repeat_n(*b"h\x01h\x02h\x03\x86R", 1 << 12).flatten());
            d.extend_from_slice(b"l.");
            d
        }),
    ];
    for (what, d) in cases {
        let e = parse(d, &lim).expect_err(what);
        // Sparse memo keys have a count of their own, below the budget.
        assert!(
            e.limit && (e.reason.contains("memory budget") || e.reason.contains("sparse memo")),
            "{what}: {e}"
        );
    }
    // A copy of at most the input (a long's digits) fits.
    let mut d = b"L".to_vec();
    d.extend(std::iter::repeat_n(b'9', n));
    d.extend_from_slice(b"L\n.");
    assert!(parse(d, &lim).is_ok());
    // Strings the input holds are spans, not charged: a 4 MiB one is fine.
    let mut d = b"T".to_vec();
    d.extend_from_slice(&(n as u32).to_le_bytes());
    d.extend(std::iter::repeat_n(b'x', n));
    d.push(b'.');
    assert_eq!(parse(d, &lim).unwrap().root().as_bytes().unwrap().len(), n);
    // An input past max_bytes is a limit too.
    let small = Limits {
        max_bytes: 10,
        ..Limits::default()
    };
    assert!(parse(vec![b'N'; 11], &small).unwrap_err().limit);
}

#[test]
fn odd_but_valid() {
    // Items after STOP are ignored; BUILD on a non-instance is tolerated.
    assert!(run(b"N.garbage".to_vec()).unwrap().root().is_none());
    assert!(run(b"]Nb.".to_vec()).unwrap().root().is_empty());
    // POP of a MARK (cPickle's behaviour), DUP, POP_MARK.
    assert!(run(b"N(0.".to_vec()).unwrap().root().is_none());
    assert_eq!(
        run(b"K\x012t.".to_vec())
            .map(|p| p.root().len())
            .unwrap_or(0),
        0
    );
    assert_eq!(run(b"(K\x012t.".to_vec()).unwrap().root().len(), 2);
    assert!(run(b"N(K\x01K\x021.".to_vec()).unwrap().root().is_none());
    // An unknown global kept as a value, and an instance of it.
    let p = run(b"cno.such\nthing\n.".to_vec()).unwrap();
    assert_eq!(p.root().class(), Some(("no.such", "thing")));
    let p = run(b"(K\x01ino.such\nthing\n}b.".to_vec()).unwrap();
    assert_eq!(p.root().class(), Some(("no.such", "thing")));
}

#[test]
fn random_opcode_soup() {
    // Short programs drawn from the opcode alphabet plus a few argument
    // bytes: none may panic, and any value must render.
    const ALPHABET: &[u8] = b"(.0123FIJKLMNRSTUVXabcdeghijlopqrstu})]G\x80\x81\x85\x86\x87\x88\x89\x8a\x8b\x94\x95\n\x00\x01\x02\xff'";
    let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
    let mut parsed = 0;
    for _ in 0..40_000 {
        x = x
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        let len = 1 + (x >> 58) as usize;
        let mut d = Vec::with_capacity(len + 1);
        for _ in 0..len {
            x = x
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            d.push(ALPHABET[(x >> 33) as usize % ALPHABET.len()]);
        }
        d.push(b'.');
        if let Ok(p) = run(d) {
            parsed += 1;
            let _ = p.to_canonical_json();
            let r = p.root();
            let _ = (
                r.truthy(),
                r.as_int(),
                r.as_str_lossy(),
                r.len(),
                r.get("a"),
            );
        }
    }
    assert!(parsed > 100, "{parsed}");
}
