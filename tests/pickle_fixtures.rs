//! The pickle reader on the real Mailman 2.1.39 list files, the `Val`
//! accessors, the Python 3 dialect, and why serde-pickle is not enough.

use mailman_gate::pickle::{parse, Limits, Node, Pickle};
use std::path::PathBuf;

fn fixture(list: &str, file: &str) -> Vec<u8> {
    let p = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/lists")
        .join(list)
        .join(file);
    std::fs::read(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display()))
}

fn load(list: &str, file: &str) -> Pickle {
    parse(fixture(list, file), &Limits::default()).unwrap_or_else(|e| panic!("{list}/{file}: {e}"))
}

fn p(bytes: &[u8]) -> Pickle {
    parse(bytes.to_vec(), &Limits::default()).unwrap_or_else(|e| panic!("{e}"))
}

#[test]
fn every_fixture_parses_to_a_dict() {
    for (list, file) in [
        ("test", "config.pck"),
        ("test", "config.pck.last"),
        ("other", "config.pck"),
        ("foo_example.com", "config.pck"),
        ("foo_example.com", "config.pck.last"),
    ] {
        let pk = load(list, file);
        let root = pk.root();
        assert!(root.is_dict(), "{list}/{file}");
        assert!(root.len() > 100, "{list}/{file}: {} attributes", root.len());
        assert_eq!(
            root.get("data_version").and_then(|v| v.as_int()),
            Some(112),
            "{list}/{file}"
        );
    }
}

#[test]
fn test_list_values() {
    let pk = load("test", "config.pck");
    let r = pk.root();
    assert_eq!(
        r.get("host_name").unwrap().as_bytes(),
        Some(&b"example.com"[..])
    );
    assert_eq!(r.get("real_name").unwrap().as_str_lossy().unwrap(), "Test");
    assert!(
        !r.get("real_name").unwrap().is_text(),
        "a Python 2 str stays bytes"
    );

    // Members: lowercased key -> 0, or the case-preserved address.
    let members = r.get("members").unwrap();
    assert_eq!(members.len(), 2);
    assert_eq!(members.get("alice@example.com").unwrap().as_int(), Some(0));
    assert!(!members.get("alice@example.com").unwrap().truthy());
    let bob = members.get("bob@example.com").unwrap();
    assert_eq!(bob.as_bytes(), Some(&b"Bob@Example.com"[..]));
    assert!(bob.truthy());
    assert!(members.get("carol@example.com").is_none());
    let keys: Vec<_> = members
        .items()
        .map(|(k, _)| k.as_str_lossy().unwrap().into_owned())
        .collect();
    assert_eq!(
        keys,
        ["bob@example.com", "alice@example.com"],
        "pickle order"
    );

    let digest = r.get("digest_members").unwrap();
    assert_eq!(digest.get("dig@example.com").unwrap().as_int(), Some(0));
    assert_eq!(
        r.get("user_options")
            .unwrap()
            .get("bob@example.com")
            .unwrap()
            .as_int(),
        Some(384)
    );
    assert_eq!(
        r.get("language")
            .unwrap()
            .get("bob@example.com")
            .unwrap()
            .as_bytes(),
        Some(&b"en"[..])
    );

    // A unicode username.
    let alice = r
        .get("usernames")
        .unwrap()
        .get("alice@example.com")
        .unwrap();
    assert!(alice.is_text());
    assert_eq!(alice.as_str_lossy().unwrap(), "Al\u{ef}ce");

    // header_filter_rules: [(u'^subject:.*vi\xe1gra', 7, False), ('^x-spam-flag: yes', 3, False)]
    let rules: Vec<_> = r.get("header_filter_rules").unwrap().elements().collect();
    assert_eq!(rules.len(), 2);
    let r0: Vec<_> = rules[0].elements().collect();
    assert!(matches!(rules[0].node(), Node::Tuple(_)));
    assert!(r0[0].is_text());
    assert_eq!(r0[0].as_str_lossy().unwrap(), "^subject:.*vi\u{e1}gra");
    assert_eq!(r0[0].as_bytes(), Some("^subject:.*vi\u{e1}gra".as_bytes()));
    assert_eq!(r0[1].as_int(), Some(7));
    assert!(matches!(r0[2].node(), Node::Bool(false)));
    let r1: Vec<_> = rules[1].elements().collect();
    assert!(!r1[0].is_text());
    assert_eq!(r1[0].as_bytes(), Some(&b"^x-spam-flag: yes"[..]));
    assert_eq!(r1[1].as_int(), Some(3));

    let accept: Vec<_> = r
        .get("accept_these_nonmembers")
        .unwrap()
        .elements()
        .map(|v| v.as_str_lossy().unwrap().into_owned())
        .collect();
    assert_eq!(accept, ["ok@foo.org", "^.*@trusted\\.org$", "@other"]);
    let eq = r.get("equivalent_domains").unwrap().as_str_lossy().unwrap();
    assert!(eq.contains("mail.example.com"), "{eq}");

    // Flags and numbers.
    assert!(matches!(
        r.get("require_explicit_destination").unwrap().node(),
        Node::Bool(true)
    ));
    assert!(r.get("require_explicit_destination").unwrap().truthy());
    assert_eq!(
        r.get("require_explicit_destination").unwrap().as_int(),
        Some(1)
    );
    assert_eq!(r.get("max_num_recipients").unwrap().as_int(), Some(10));
    assert_eq!(r.get("max_message_size").unwrap().as_int(), Some(40));
    assert_eq!(r.get("generic_nonmember_action").unwrap().as_int(), Some(1));
    assert!(r.get("administrivia").unwrap().truthy());
}

#[test]
fn bounce_info_instance() {
    let pk = load("test", "config.pck");
    let info = pk
        .root()
        .get("bounce_info")
        .unwrap()
        .get("alice@example.com")
        .unwrap();
    let Node::Instance(inst) = info.node() else {
        panic!("not an instance: {info:?}");
    };
    assert_eq!(
        (inst.module.as_str(), inst.name.as_str()),
        ("Mailman.Bouncer", "_BounceInfo")
    );
    assert!(inst.args.is_empty());
    assert!(inst.state.is_some());
    assert_eq!(info.class(), Some(("Mailman.Bouncer", "_BounceInfo")));
    assert!(info.truthy());
    assert_eq!(
        info.attr("member").unwrap().as_bytes(),
        Some(&b"alice@example.com"[..])
    );
    assert_eq!(info.attr("score").unwrap().as_f64(), Some(1.0));
    assert!(matches!(info.attr("score").unwrap().node(), Node::Float(_)));
    assert!(info.attr("cookie").unwrap().is_none());
    assert_eq!(info.attr("noticesleft").unwrap().as_int(), Some(3));
    let date: Vec<_> = info
        .attr("date")
        .unwrap()
        .elements()
        .map(|v| v.as_int().unwrap())
        .collect();
    assert_eq!(date, [2024, 1, 1]);
    let last: Vec<_> = info
        .attr("lastnotice")
        .unwrap()
        .elements()
        .map(|v| v.as_int().unwrap())
        .collect();
    assert_eq!(last, [1970, 1, 2]);
}

#[test]
fn last_generation_is_identical() {
    let a = load("test", "config.pck").to_canonical_json();
    let b = load("test", "config.pck.last").to_canonical_json();
    assert_eq!(a, b);
}

#[test]
fn other_lists() {
    let other = load("other", "config.pck");
    let r = other.root();
    assert_eq!(
        r.get("members")
            .unwrap()
            .get("carol@other.org")
            .unwrap()
            .as_int(),
        Some(0)
    );
    assert!(r
        .get("digest_members")
        .unwrap()
        .get("dan@other.org")
        .is_some());
    assert_eq!(r.get("real_name").unwrap().as_str_lossy().unwrap(), "Other");
    assert!(
        !r.get("bounce_info").unwrap().truthy(),
        "an empty dict is false"
    );

    let foo = load("foo_example.com", "config.pck");
    let r = foo.root();
    assert_eq!(r.get("real_name").unwrap().as_str_lossy().unwrap(), "Foo");
    assert_eq!(
        r.get("host_name").unwrap().as_str_lossy().unwrap(),
        "example.com"
    );
    assert_eq!(r.get("members").unwrap().len(), 1);
    assert!(r.get("members").unwrap().get("alice@example.com").is_some());
}

/// serde-pickle 1.2 pops one item too many after `OBJ` (it takes the dict
/// key written before the instance as the class), so any `config.pck` with
/// a `bounce_info` entry fails. That is why this crate has its own reader.
#[test]
fn serde_pickle_fails_on_obj() {
    let data = fixture("test", "config.pck");
    let theirs = serde_pickle::value_from_slice(&data, serde_pickle::DeOptions::new());
    assert!(
        theirs.is_err(),
        "serde-pickle now reads OBJ correctly: {:?}",
        theirs.map(|_| ())
    );
    eprintln!("serde-pickle on test/config.pck: {}", theirs.unwrap_err());
    // The same file without a _BounceInfo instance is fine for it.
    let other = fixture("other", "config.pck");
    assert!(serde_pickle::value_from_slice(&other, serde_pickle::DeOptions::new()).is_ok());
    // Ours reads both.
    assert!(parse(data, &Limits::default()).is_ok());
    assert!(parse(other, &Limits::default()).is_ok());
}

#[test]
fn truthiness_and_accessors() {
    let falsy: [&[u8]; 11] = [
        b"N.",
        b"I00\n.",
        b"\x89.",
        b"K\x00.",
        b"G\x00\x00\x00\x00\x00\x00\x00\x00.",
        b"U\x00.",
        b"X\x00\x00\x00\x00.",
        b").",
        b"].",
        b"}.",
        b"L0L\n.",
    ];
    for f in falsy {
        assert!(!p(f).root().truthy(), "{f:?}");
    }
    let truthy: [&[u8]; 12] = [
        b"I01\n.",
        b"\x88.",
        b"J\xff\xff\xff\xff.",
        b"L99999999999999999999999L\n.",
        b"F0.5\n.",
        b"Fnan\n.",
        b"U\x01a.",
        b"X\x01\x00\x00\x00a.",
        b"N\x85.",
        b"]N\x61.",
        b"}NNs.",
        b"cmod\nname\n.",
    ];
    for t in truthy {
        assert!(p(t).root().truthy(), "{t:?}");
    }
    assert_eq!(p(b"\x88.").root().as_int(), Some(1));
    assert_eq!(p(b"I00\n.").root().as_int(), Some(0));
    assert_eq!(p(b"L99999999999999999999999L\n.").root().as_int(), None);
    assert_eq!(p(b"U\x01a.").root().as_int(), None);
    // Latin-1 fallback for a str that is not UTF-8.
    assert_eq!(
        p(b"U\x04caf\xe9.").root().as_str_lossy().unwrap(),
        "caf\u{e9}"
    );
    assert_eq!(
        p(b"U\x05caf\xc3\xa9.").root().as_str_lossy().unwrap(),
        "caf\u{e9}"
    );
    // get: str or unicode keys, the last duplicate wins.
    let d = p(b"}(U\x01aK\x01X\x01\x00\x00\x00bK\x02U\x01aK\x03K\x07K\x08u.");
    let r = d.root();
    assert_eq!(r.get("a").unwrap().as_int(), Some(3));
    assert_eq!(r.get("b").unwrap().as_int(), Some(2));
    assert!(r.get("c").is_none());
    assert_eq!(r.len(), 4);
    assert_eq!(r.items().count(), 4);
    assert_eq!(r.elements().count(), 0);
    // elements and len of tuples and lists; nothing for scalars.
    let t = p(b"(K\x01K\x02K\x03K\x04t.");
    assert_eq!(
        t.root()
            .elements()
            .map(|v| v.as_int().unwrap())
            .collect::<Vec<_>>(),
        [1, 2, 3, 4]
    );
    assert_eq!(t.root().len(), 4);
    assert_eq!(p(b"K\x05.").root().len(), 0);
    assert!(p(b"K\x05.").root().get("a").is_none());
}

#[test]
fn protocol_zero_strings() {
    // Python 2 repr escapes, including an escaped quote.
    let s = p(b"S'it\\'s \"q\" \\\\ \\x41\\101\\t\\n\\r\\0\\a'\n.");
    assert_eq!(
        s.root().as_bytes(),
        Some(&b"it's \"q\" \\ AA\t\n\r\0\x07"[..])
    );
    let s = p(b"S\"it's\"\n.");
    assert_eq!(s.root().as_bytes(), Some(&b"it's"[..]));
    // raw-unicode-escape: \uXXXX, \UXXXXXXXX, Latin-1 bytes, escaped backslash.
    let u = p(b"Vx\\u005c\\u000a\xe9\\U0001f600\n.");
    assert_eq!(u.root().as_str_lossy().unwrap(), "x\\\n\u{e9}\u{1f600}");
    // Lone surrogates become U+FFFD, a pair becomes its character.
    assert_eq!(
        p(b"V\\ud800x\n.").root().as_str_lossy().unwrap(),
        "\u{fffd}x"
    );
    assert_eq!(
        p(b"V\\ud83d\\ude00\n.").root().as_str_lossy().unwrap(),
        "\u{1f600}"
    );
    assert_eq!(
        p(b"X\x03\x00\x00\x00\xed\xb0\x80.")
            .root()
            .as_str_lossy()
            .unwrap(),
        "\u{fffd}"
    );
    // Protocol-0 containers and memo.
    let l = p(b"(lp1\nS'ab'\np2\nag2\na.");
    let items: Vec<_> = l.root().elements().collect();
    assert_eq!(items.len(), 2);
    assert_eq!(items[0].id(), items[1].id(), "a memo GET shares the node");
}

#[test]
fn python3_dialect() {
    // _codecs.encode(u'\xe9a', 'latin1') -> the bytes e9 61.
    let b = p(b"c_codecs\nencode\nq\x00(X\x03\x00\x00\x00\xc3\xa9aq\x01X\x06\x00\x00\x00latin1q\x02tq\x03Rq\x04.");
    assert!(matches!(b.root().node(), Node::Bytes(_)));
    assert_eq!(b.root().as_bytes(), Some(&b"\xe9a"[..]));
    // bytes() -> empty bytes.
    let e = p(b"c__builtin__\nbytes\n)R.");
    assert_eq!(e.root().as_bytes(), Some(&b""[..]));
    // copy_reg._reconstructor(cls, object, None) + BUILD -> an instance.
    let i = p(b"ccopy_reg\n_reconstructor\n(cMailman.Bouncer\n_BounceInfo\nc__builtin__\nobject\nNtR}X\x06\x00\x00\x00memberX\x01\x00\x00\x00asb.");
    assert_eq!(i.root().class(), Some(("Mailman.Bouncer", "_BounceInfo")));
    assert_eq!(
        i.root().attr("member").unwrap().as_str_lossy().unwrap(),
        "a"
    );
    // Protocol 2 NEWOBJ.
    let n = p(b"\x80\x02cmod\nC\n)\x81}b.");
    assert_eq!(n.root().class(), Some(("mod", "C")));
    // Any other call stays opaque.
    let r = p(b"cos\nsystem\nX\x02\x00\x00\x00lsR.");
    assert!(matches!(r.root().node(), Node::Reduced { .. }));
}
