//! Compiled snapshots round trip: the fixture lists and a 100,000-member
//! list, atomic replacement, and what `cdb` tools see in a snapshot.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;

use mailman_gate::cdb::{Cdb, CdbWriter};
use mailman_gate::policy::{ListPolicy, Member, Members, PyStr};
use mailman_gate::snapshot::FileId;
use mailman_gate::snapshot::{
    encode_snapshot, open_snapshot, write_snapshot, Snapshot, SnapshotError,
};
use mailman_gate::store::{Layout, NameRule, Store};

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/lists")
}

/// A fresh directory under the system temp dir, removed on drop.
struct TempDir(PathBuf);

impl TempDir {
    fn new(tag: &str) -> TempDir {
        let p = std::env::temp_dir().join(format!(
            "mailman-gate-snapshot-{tag}-{}",
            std::process::id()
        ));
        let _ = std::fs::remove_dir_all(&p);
        std::fs::create_dir_all(&p).unwrap();
        TempDir(p)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// Every field but `members` (whose Debug form differs by kind), through
/// Debug: a field added to ListPolicy is compared without touching this.
fn fields(p: &ListPolicy) -> String {
    let mut p = p.clone();
    p.members = Members::Parsed(Default::default());
    format!("{p:#?}")
}

fn assert_same(original: &ListPolicy, snap: &Snapshot) {
    let got = snap.policy();
    assert_eq!(fields(original), fields(got));
    assert!(matches!(got.members, Members::External(_)));
    let want = original.members.entries();
    assert_eq!(want, got.members.entries(), "{}", original.internal_name);
    for (address, m) in &want {
        assert_eq!(got.member(address), Some(*m), "{address}");
    }
    assert_eq!(snap.members().len(), want.len() as u64);
}

#[test]
fn every_fixture_list_round_trips() {
    let tmp = TempDir::new("fixtures");
    let store = Store::new(fixtures(), Layout::Standard, NameRule::default());
    for name in ["test", "other", "foo_example.com"] {
        let loaded = store.load(name).unwrap();
        let path = tmp.0.join(format!("{name}.cdb"));
        write_snapshot(&loaded.policy, loaded.pck_id, &path).unwrap();
        let snap = open_snapshot(&path).unwrap();
        assert_same(&loaded.policy, &snap);
        assert_eq!(snap.source(), loaded.pck_id);
        assert!(snap.source().is_some());
        assert_eq!(
            snap.file_len(),
            std::fs::metadata(&path).unwrap().len(),
            "{name}"
        );
        // The same policy always gives the same bytes.
        assert_eq!(
            std::fs::read(&path).unwrap(),
            encode_snapshot(&loaded.policy, loaded.pck_id).unwrap()
        );
    }
    // No temporary file is left behind.
    let left: Vec<_> = std::fs::read_dir(&tmp.0)
        .unwrap()
        .filter_map(|e| e.ok()?.file_name().into_string().ok())
        .filter(|n| n.contains(".tmp."))
        .collect();
    assert!(left.is_empty(), "{left:?}");
}

#[test]
fn fixture_specifics_survive() {
    let tmp = TempDir::new("specifics");
    let store = Store::new(fixtures(), Layout::Standard, NameRule::default());
    let loaded = store.load("test").unwrap();
    let path = tmp.0.join("test.cdb");
    write_snapshot(&loaded.policy, loaded.pck_id, &path).unwrap();
    let p = open_snapshot(&path).unwrap().into_policy();
    // unicode vs str kept per rule.
    assert!(matches!(
        p.header_filter_rules[0].patterns,
        PyStr::Text(ref t) if t.contains('\u{e1}')
    ));
    assert!(matches!(p.header_filter_rules[1].patterns, PyStr::Bytes(_)));
    assert_eq!(p.header_filter_rules[0].action, 7);
    assert_eq!(
        p.member("bob@example.com"),
        Some(Member {
            digest: false,
            options: 384
        })
    );
    assert!(p.member("dig@example.com").unwrap().digest);
    assert_eq!(p.member("Bob@Example.com"), None);
    assert_eq!(p.member("nobody@example.com"), None);
    assert_eq!(p.member(""), None);
    // Hashed list passwords are kept; member passwords never reach a policy.
    assert_eq!(p.password.as_ref().map(|v| v.len()), Some(40));
    assert!(p.mod_password.is_some() && p.post_password.is_some());
    let bytes = std::fs::read(&path).unwrap();
    let pck = std::fs::read(fixtures().join("test/config.pck")).unwrap();
    // The members' clear-text passwords sit in config.pck next to their
    // addresses; none of the pickle's `passwords` values is in the snapshot.
    assert!(find(&pck, b"passwords").is_some());
    assert!(find(&bytes, b"passwords").is_none());
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

#[test]
fn defaults_and_no_source() {
    let tmp = TempDir::new("defaults");
    let mut p = ListPolicy::with_defaults("empty");
    p.password = Some(b"{SSHA}odd\xff".to_vec());
    p.member_moderation_notice = PyStr::Bytes(vec![0xe9, 0, 0xff]);
    p.dmarc_moderation_notice = PyStr::Text("caf\u{e9}".into());
    p.data_version = i64::MIN;
    p.max_message_size = -1;
    let path = tmp.0.join("empty.cdb");
    write_snapshot(&p, None, &path).unwrap();
    let snap = open_snapshot(&path).unwrap();
    assert_same(&p, &snap);
    assert_eq!(snap.source(), None);

    let id = FileId {
        dev: u64::MAX,
        ino: 1,
        size: 2,
        mtime_ns: -5,
    };
    write_snapshot(&p, Some(id), &path).unwrap();
    assert_eq!(open_snapshot(&path).unwrap().source(), Some(id));
}

#[test]
fn missing_file_is_an_io_error() {
    let tmp = TempDir::new("missing");
    match open_snapshot(&tmp.0.join("nope")) {
        Err(SnapshotError::Io(e)) => assert_eq!(e.kind(), std::io::ErrorKind::NotFound),
        other => panic!("{other:?}"),
    }
    assert!(matches!(open_snapshot(&tmp.0), Err(SnapshotError::Io(_))));
}

#[test]
fn writing_into_a_missing_directory_fails_cleanly() {
    let tmp = TempDir::new("nodir");
    let p = ListPolicy::with_defaults("x");
    let err = write_snapshot(&p, None, &tmp.0.join("no/such/dir.cdb")).unwrap_err();
    assert_eq!(err.kind(), std::io::ErrorKind::NotFound);
}

#[test]
fn a_reader_keeps_the_old_generation_after_a_rename() {
    let tmp = TempDir::new("atomic");
    let store = Store::new(fixtures(), Layout::Standard, NameRule::default());
    let test = store.load("test").unwrap();
    let other = store.load("other").unwrap();
    let path = tmp.0.join("list.cdb");
    write_snapshot(&test.policy, test.pck_id, &path).unwrap();
    let old = open_snapshot(&path).unwrap();
    let old_policy = old.policy().clone();

    write_snapshot(&other.policy, other.pck_id, &path).unwrap();
    // The open reader still shows the old file, whole.
    assert_same(&test.policy, &old);
    assert!(old_policy.member("alice@example.com").is_some());
    assert!(old_policy.member("carol@other.org").is_none());
    // A new open sees the new one.
    let new = open_snapshot(&path).unwrap();
    assert_same(&other.policy, &new);
    assert!(new.policy().member("alice@example.com").is_none());
    drop(old);
    // The members outlive the Snapshot they came from.
    assert!(old_policy.member("bob@example.com").is_some());
}

fn synth_list(dir: &Path, members: usize, digest: usize) -> Store {
    let list = dir.join("biglist");
    std::fs::create_dir_all(&list).unwrap();
    let tool = Path::new(env!("CARGO_MANIFEST_DIR")).join("tools/py2pickle.py");
    let st = Command::new("python3")
        .arg(tool)
        .args([
            "synth",
            "--members",
            &members.to_string(),
            "--digest",
            &digest.to_string(),
            "-o",
        ])
        .arg(list.join("config.pck"))
        .stdout(std::process::Stdio::null())
        .status()
        .expect("python3 runs tools/py2pickle.py");
    assert!(st.success());
    Store::new(dir, Layout::Standard, NameRule::default())
}

#[test]
fn hundred_thousand_members() {
    let tmp = TempDir::new("big");
    let store = synth_list(&tmp.0, 100_000, 5_000);
    let loaded = store.load("biglist").unwrap();
    assert_eq!(loaded.policy.regular_count, 95_000);
    assert_eq!(loaded.policy.digest_count, 5_000);
    let path = tmp.0.join("biglist.cdb");
    write_snapshot(&loaded.policy, loaded.pck_id, &path).unwrap();
    let snap = open_snapshot(&path).unwrap();
    assert_same(&loaded.policy, &snap);
    assert_eq!(snap.source(), loaded.pck_id);
    let size = snap.file_len();
    let pck = loaded.pck_id.unwrap().size;
    assert!(size < pck / 2, "snapshot {size} bytes, config.pck {pck}");

    let members = loaded.policy.members.entries();
    assert!(members.iter().any(|(_, m)| m.digest));
    assert!(members.iter().any(|(_, m)| m.options != 0));
    let p = Arc::new(snap.into_policy());
    // Absent: unknown addresses, and present ones in another case.
    for i in 0..2000 {
        assert_eq!(p.member(&format!("absent{i}@nowhere.invalid")), None);
    }
    for (a, _) in members.iter().step_by(97) {
        let upper = a.to_uppercase();
        if upper != *a {
            assert_eq!(p.member(&upper), None, "{upper}");
        }
    }
    // Lookups from several threads at once.
    let chunks: Vec<Vec<(String, Member)>> = members.chunks(25_000).map(|c| c.to_vec()).collect();
    let handles: Vec<_> = chunks
        .into_iter()
        .map(|chunk| {
            let p = p.clone();
            std::thread::spawn(move || {
                for (a, m) in chunk {
                    assert_eq!(p.member(&a), Some(m));
                }
            })
        })
        .collect();
    for h in handles {
        h.join().unwrap();
    }
}

/// tinycdb's `cdb`, when installed.
fn tinycdb() -> Option<&'static str> {
    let ok = Command::new("cdb")
        .arg("-h")
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).contains("cdb") || !o.stderr.is_empty())
        .unwrap_or(false);
    if ok {
        Some("cdb")
    } else {
        eprintln!("tinycdb's cdb is not installed: cross-check skipped");
        None
    }
}

/// `cdb -d`/`cdbdump` output for these records.
fn dump_format<'a>(records: impl Iterator<Item = (&'a [u8], &'a [u8])>) -> Vec<u8> {
    let mut out = Vec::new();
    for (k, v) in records {
        out.extend_from_slice(format!("+{},{}:", k.len(), v.len()).as_bytes());
        out.extend_from_slice(k);
        out.extend_from_slice(b"->");
        out.extend_from_slice(v);
        out.push(b'\n');
    }
    out.push(b'\n');
    out
}

#[test]
fn cdb_tools_read_a_snapshot_and_we_read_theirs() {
    let Some(cdb) = tinycdb() else { return };
    let tmp = TempDir::new("tinycdb");
    let store = Store::new(fixtures(), Layout::Standard, NameRule::default());
    let loaded = store.load("test").unwrap();
    let path = tmp.0.join("test.cdb");
    write_snapshot(&loaded.policy, loaded.pck_id, &path).unwrap();
    let bytes = std::fs::read(&path).unwrap();
    let ours = Cdb::new(&bytes).unwrap();

    let dump = Command::new(cdb).arg("-d").arg(&path).output().unwrap();
    assert!(dump.status.success());
    let records: Vec<_> = ours.records().map(|r| r.unwrap()).collect();
    assert_eq!(dump.stdout, dump_format(records.iter().copied()));

    let q = Command::new(cdb)
        .args(["-q"])
        .arg(&path)
        .arg("m:bob@example.com")
        .output()
        .unwrap();
    assert!(q.status.success());
    assert_eq!(q.stdout, [384u32.to_le_bytes().as_slice(), &[0]].concat());
    let q = Command::new(cdb)
        .arg("-q")
        .arg(&path)
        .arg("m:nobody@example.com")
        .output()
        .unwrap();
    assert!(!q.status.success());

    // A cdb made by tinycdb, with many records and a repeated key.
    let mut input: Vec<(Vec<u8>, Vec<u8>)> = (0..3000)
        .map(|i| {
            (
                format!("key{i}").into_bytes(),
                format!("v{}", i * 7).into_bytes(),
            )
        })
        .collect();
    input.push((b"key5".to_vec(), b"second".to_vec()));
    let src = tmp.0.join("in.txt");
    std::fs::write(
        &src,
        dump_format(input.iter().map(|(k, v)| (k.as_slice(), v.as_slice()))),
    )
    .unwrap();
    let made = tmp.0.join("theirs.cdb");
    let st = Command::new(cdb)
        .arg("-c")
        .arg(&made)
        .stdin(std::fs::File::open(&src).unwrap())
        .status()
        .unwrap();
    assert!(st.success(), "cdb -c failed");
    let theirs = std::fs::read(&made).unwrap();
    let c = Cdb::new(&theirs).unwrap();
    for (k, v) in &input[..3000] {
        assert_eq!(c.get(k).unwrap(), Some(v.as_slice()));
    }
    assert_eq!(c.get(b"key5").unwrap(), Some(&b"v35"[..]));
    assert_eq!(c.get(b"key3000").unwrap(), None);
    assert_eq!(c.records().count(), 3001);
    // Not a snapshot, though a good cdb.
    assert!(matches!(
        open_snapshot(&made),
        Err(SnapshotError::NotASnapshot)
    ));

    // Our writer's output equals tinycdb's for the same records.
    let mut w = CdbWriter::new();
    for (k, v) in &input {
        w.add(k, v).unwrap();
    }
    assert_eq!(w.finish().unwrap(), theirs);
}
