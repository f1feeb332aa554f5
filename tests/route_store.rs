//! Address routing and the list store, on the Mailman-written fixtures.

use std::path::{Path, PathBuf};

use mailman_gate::address::Kind;
use mailman_gate::store::{Layout, NameRule, Source, Store, StoreError};

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/lists")
}

fn store(layout: Layout) -> Store {
    Store::new(fixtures(), layout, NameRule::default())
}

fn r(s: &Store, local: &str, domain: &str) -> Option<(String, &'static str, String)> {
    s.route(local, domain)
        .unwrap_or_else(|e| panic!("{local}@{domain}: {e}"))
        .map(|r| (r.list, r.kind.as_str(), r.domain))
}

fn is(list: &str, kind: &'static str) -> Option<(String, &'static str, String)> {
    Some((list.to_owned(), kind, "example.com".to_owned()))
}

#[test]
fn every_kind_of_list_address() {
    let s = store(Layout::Standard);
    let table: &[(&str, &str)] = &[
        ("test", "post"),
        ("test-admin", "admin"),
        ("test-bounces", "bounces"),
        ("test-bounces+alice=example.org", "bounces"),
        ("test-bounces+", "bounces"),
        ("test-confirm", "confirm"),
        (
            "test-confirm+0123456789abcdef0123456789abcdef01234567",
            "confirm",
        ),
        ("test-join", "join"),
        ("test-leave", "leave"),
        ("test-owner", "owner"),
        ("test-request", "request"),
        ("test-subscribe", "subscribe"),
        ("test-unsubscribe", "unsubscribe"),
    ];
    for (local, kind) in table {
        assert_eq!(r(&s, local, "example.com"), is("test", kind), "{local}");
        assert_eq!(Kind::parse(kind).map(|k| k.as_str()), Some(*kind));
    }
}

#[test]
fn local_part_case_is_ignored_and_domain_is_the_lists_own() {
    let s = store(Layout::Standard);
    assert_eq!(r(&s, "TEST", "EXAMPLE.COM"), is("test", "post"));
    assert_eq!(r(&s, "Test-Request", "example.com"), is("test", "request"));
    // The stock router does not check the domain: any local domain reaches
    // the list, and the answer names the list's own host_name.
    assert_eq!(r(&s, "test", "elsewhere.net"), is("test", "post"));
    let other = r(&s, "other", "example.com").expect("other is a list");
    assert_eq!((other.0.as_str(), other.1), ("other", "post"));
}

#[test]
fn wildcard_suffixes_match_at_their_leftmost_occurrence() {
    let s = store(Layout::Standard);
    assert_eq!(
        r(&s, "test-bounces+x-owner", "example.com"),
        is("test", "bounces")
    );
    assert_eq!(r(&s, "test-confirm+abc-bounces+x", "example.com"), None);
    assert_eq!(
        r(&s, "test-confirm+abc-owner", "example.com"),
        is("test", "confirm")
    );
}

#[test]
fn non_lists_and_path_tricks() {
    let s = store(Layout::Standard);
    for local in [
        "nosuch",
        "nosuch-request",
        "-request",
        "-owner",
        "",
        "..",
        ".",
        "../lists/test",
        "test/..",
        "te/st",
        "test\0",
        "test%",
        "test ",
        "tést",
        "../../etc/passwd",
        &"a".repeat(300),
    ] {
        assert_eq!(r(&s, local, "example.com"), None, "{local:?}");
    }
    let names = NameRule::default();
    assert!(names.accepts("test"));
    assert!(names.accepts("a.b-c_d+e=f"));
    for bad in ["Test", "..", ".", "a/b", "a\0b", "", "a b", "ü"] {
        assert!(!names.accepts(bad), "{bad:?}");
    }
    assert!(matches!(s.load("../test"), Err(StoreError::BadName(_))));
    assert!(matches!(s.load("Test"), Err(StoreError::BadName(_))));
    assert!(matches!(s.load("nosuch"), Err(StoreError::NoSuchList(_))));
}

#[test]
fn cpanel_layout_names_lists_by_domain() {
    let s = store(Layout::Cpanel);
    assert_eq!(r(&s, "foo", "example.com"), is("foo_example.com", "post"));
    assert_eq!(r(&s, "FOO", "Example.COM"), is("foo_example.com", "post"));
    assert_eq!(
        r(&s, "foo-request", "example.com"),
        is("foo_example.com", "request")
    );
    assert_eq!(
        r(&s, "foo-bounces+a=b.org", "example.com"),
        is("foo_example.com", "bounces")
    );
    assert_eq!(r(&s, "foo", "other.org"), None);
    // A bare internal name holding '_' is taken as is.
    assert_eq!(
        r(&s, "foo_example.com", "anything.org"),
        is("foo_example.com", "post")
    );
    // In the standard layout the cPanel directory is just a list name.
    let std = store(Layout::Standard);
    assert_eq!(r(&std, "foo", "example.com"), None);
    assert_eq!(
        r(&std, "foo_example.com", "example.com"),
        is("foo_example.com", "post")
    );
}

#[test]
fn corrupt_config_pck_falls_back_to_last() {
    let s = store(Layout::Standard);
    let loaded = s.load("corrupt").expect("decided from .last");
    assert!(matches!(&loaded.source, Source::ConfigPckLast { why } if why.contains("config.pck")));
    assert_eq!(loaded.policy.host_name, "example.com");
    assert!(loaded.policy.member("alice@example.com").is_some());
    match s.load("broken") {
        Err(StoreError::Corrupt { list, detail }) => {
            assert_eq!(list, "broken");
            assert!(detail.contains("config.pck.last"), "{detail}");
        }
        other => panic!("expected Corrupt, got {other:?}"),
    }
    // Routing still knows "broken" is a list, and says its state is unreadable.
    assert!(s.route("broken", "example.com").is_err());
}

fn copy_list(from: &str, to_dir: &Path) {
    std::fs::create_dir_all(to_dir).unwrap();
    for f in ["config.pck", "config.pck.last"] {
        let src = fixtures().join(from).join(f);
        if src.exists() {
            std::fs::copy(&src, to_dir.join(f)).unwrap();
        }
    }
}

fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("mmgate-store-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

#[test]
fn cache_is_reused_until_mailman_saves_again() {
    let dir = scratch("cache");
    copy_list("test", &dir.join("test"));
    let s = Store::new(&dir, Layout::Standard, NameRule::default());
    let a = s.load("test").unwrap();
    let b = s.load("test").unwrap();
    assert!(std::ptr::eq(&*a, &*b), "unchanged file: same cached policy");
    assert!(a.policy.member("carol@other.org").is_none());

    // Save the way Mailman does: write a tmp file, link the old one to
    // .last, rename the tmp file over config.pck.
    let list = dir.join("test");
    let tmp = list.join("config.pck.tmp.host.1234");
    std::fs::copy(fixtures().join("other/config.pck"), &tmp).unwrap();
    let _ = std::fs::remove_file(list.join("config.pck.last"));
    std::fs::hard_link(list.join("config.pck"), list.join("config.pck.last")).unwrap();
    std::fs::rename(&tmp, list.join("config.pck")).unwrap();

    let c = s.load("test").unwrap();
    assert!(!std::ptr::eq(&*a, &*c), "a new generation is re-read");
    assert!(c.policy.member("carol@other.org").is_some());
    assert_eq!(c.source, Source::ConfigPck);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn missing_config_pck_uses_last_and_unreadable_is_an_error() {
    let dir = scratch("missing");
    copy_list("test", &dir.join("test"));
    std::fs::remove_file(dir.join("test/config.pck")).unwrap();
    // A directory where config.pck should be cannot be read.
    copy_list("test", &dir.join("weird"));
    std::fs::remove_file(dir.join("weird/config.pck")).unwrap();
    std::fs::create_dir(dir.join("weird/config.pck")).unwrap();
    let s = Store::new(&dir, Layout::Standard, NameRule::default());
    let l = s.load("test").unwrap();
    assert!(matches!(&l.source, Source::ConfigPckLast { why } if why.contains("missing")));
    assert!(matches!(
        s.load("weird"),
        Err(StoreError::Unreadable { .. })
    ));
    let _ = std::fs::remove_dir_all(&dir);
}
