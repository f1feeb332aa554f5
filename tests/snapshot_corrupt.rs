//! Damaged and hostile snapshots: every one is an error, never a panic or a
//! read outside the file.

use std::path::{Path, PathBuf};

use mailman_gate::cdb::{hash, Cdb, CdbError, CdbWriter, HEADER_LEN};
use mailman_gate::policy::MemberSource;
use mailman_gate::snapshot::{
    crc32_update, encode_snapshot, open_snapshot, open_snapshot_with, SnapshotError, Verify,
    CHECKSUM_AT, META_KEY, META_LEN, POLICY_KEY,
};
use mailman_gate::store::{Layout, NameRule, Store};

struct TempDir(PathBuf);

impl TempDir {
    fn new(tag: &str) -> TempDir {
        let p = std::env::temp_dir().join(format!(
            "mailman-gate-snapcorrupt-{tag}-{}",
            std::process::id()
        ));
        let _ = std::fs::remove_dir_all(&p);
        std::fs::create_dir_all(&p).unwrap();
        TempDir(p)
    }
    fn file(&self, bytes: &[u8]) -> PathBuf {
        let p = self.0.join("s.cdb");
        std::fs::write(&p, bytes).unwrap();
        p
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// The `test` fixture list's snapshot bytes.
fn good() -> Vec<u8> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/lists");
    let store = Store::new(dir, Layout::Standard, NameRule::default());
    let l = store.load("test").unwrap();
    encode_snapshot(&l.policy, l.pck_id).unwrap()
}

/// Where the meta value starts: the first record, right after the header.
const META_AT: usize = HEADER_LEN + 8 + 5;

/// Recompute the checksum after a deliberate change, as a hostile writer
/// would.
fn reseal(b: &mut [u8]) {
    let at = META_AT + CHECKSUM_AT;
    let sum = crc32_update(crc32_update(0, &b[..at]), &b[at + 4..]);
    b[at..at + 4].copy_from_slice(&sum.to_le_bytes());
}

fn set_u32(b: &mut [u8], at: usize, v: u32) {
    b[at..at + 4].copy_from_slice(&v.to_le_bytes());
}

/// Open, and if that works, use everything: nothing may panic.
fn exercise(path: &Path) -> Result<(), SnapshotError> {
    let s = open_snapshot(path)?;
    let m = s.members();
    for a in ["alice@example.com", "bob@example.com", "x@y", ""] {
        let _ = m.try_get(a);
        let _ = s.policy().member(a);
    }
    let _ = m.entries();
    let _ = s.policy().members.entries();
    Ok(())
}

#[test]
fn the_good_file_opens() {
    let t = TempDir::new("good");
    let b = good();
    exercise(&t.file(&b)).unwrap();
    let mut resealed = b.clone();
    reseal(&mut resealed);
    assert_eq!(resealed, b);
}

#[test]
fn truncation_at_every_offset_is_an_error() {
    let t = TempDir::new("trunc");
    let b = good();
    let mut extended = b.clone();
    extended.push(0);
    for cut in (0..b.len()).chain([b.len() + 1]) {
        let bytes = if cut > b.len() {
            &extended[..]
        } else {
            &b[..cut]
        };
        let err = exercise(&t.file(bytes)).unwrap_err();
        assert!(
            matches!(err, SnapshotError::Corrupt(_) | SnapshotError::Io(_)),
            "cut at {cut}: {err:?}"
        );
    }
}

#[test]
fn every_flipped_byte_is_an_error() {
    let t = TempDir::new("flip");
    let b = good();
    for at in 0..b.len() {
        let mut bad = b.clone();
        bad[at] ^= 0x5a;
        let err = exercise(&t.file(&bad)).unwrap_err();
        if at >= META_AT + 16 {
            // Past the magic, version and flags: the checksum or the length.
            assert!(
                matches!(
                    err,
                    SnapshotError::ChecksumMismatch { .. } | SnapshotError::Corrupt(_)
                ),
                "byte {at}: {err:?}"
            );
        }
    }
}

#[test]
fn a_single_bit_anywhere_fails_the_checksum() {
    let t = TempDir::new("bit");
    let b = good();
    // Records and tables (not the header, the meta magic/version or the
    // length field, which fail earlier with their own errors).
    let policy_start = META_AT + META_LEN;
    for at in (policy_start..b.len()).step_by(7) {
        let mut bad = b.clone();
        bad[at] ^= 1 << (at % 8);
        match exercise(&t.file(&bad)) {
            Err(SnapshotError::ChecksumMismatch { stored, computed }) => {
                assert_ne!(stored, computed)
            }
            other => panic!("byte {at}: {other:?}"),
        }
    }
}

#[test]
fn skipping_the_checksum_still_checks_structure() {
    let t = TempDir::new("skip");
    let b = good();
    let mut flipped = b.clone();
    let last = flipped.len() - 1;
    flipped[last] ^= 0xff;
    let p = t.file(&flipped);
    assert!(matches!(
        open_snapshot(&p),
        Err(SnapshotError::ChecksumMismatch { .. })
    ));
    let s = open_snapshot_with(&p, Verify::SkipChecksum).unwrap();
    let _ = s.members().entries();
    for cut in [0, 100, HEADER_LEN, META_AT + 50, b.len() - 1] {
        assert!(open_snapshot_with(&t.file(&b[..cut]), Verify::SkipChecksum).is_err());
    }
    let mut bad = b.clone();
    let len = bad.len() as u32;
    set_u32(&mut bad, 0, len + 8);
    assert!(open_snapshot_with(&t.file(&bad), Verify::SkipChecksum).is_err());
    let mut bad = b.clone();
    set_u32(&mut bad, slot_of(&b, POLICY_KEY) + 4, u32::MAX);
    assert!(open_snapshot_with(&t.file(&bad), Verify::SkipChecksum).is_err());
}

#[test]
fn wrong_magic_and_versions() {
    let t = TempDir::new("magic");
    let b = good();

    let mut bad = b.clone();
    bad[META_AT] = b'X';
    assert!(matches!(
        exercise(&t.file(&bad)),
        Err(SnapshotError::NotASnapshot)
    ));
    reseal(&mut bad);
    assert!(matches!(
        exercise(&t.file(&bad)),
        Err(SnapshotError::NotASnapshot)
    ));

    let mut bad = b.clone();
    set_u32(&mut bad, META_AT + 8, 1);
    reseal(&mut bad);
    match exercise(&t.file(&bad)) {
        Err(SnapshotError::UnsupportedVersion { what, found }) => {
            assert_eq!((what, found), ("format", 1))
        }
        other => panic!("{other:?}"),
    }

    // The policy record's own version.
    let c = Cdb::new(&b).unwrap();
    let policy = c.find(POLICY_KEY).unwrap().unwrap();
    let mut bad = b.clone();
    set_u32(&mut bad, policy.start, 99);
    reseal(&mut bad);
    match exercise(&t.file(&bad)) {
        Err(SnapshotError::UnsupportedVersion { what, found }) => {
            assert_eq!((what, found), ("policy encoding", 99))
        }
        other => panic!("{other:?}"),
    }

    // Unknown flags.
    let mut bad = b.clone();
    set_u32(&mut bad, META_AT + 12, 6);
    reseal(&mut bad);
    assert!(matches!(
        exercise(&t.file(&bad)),
        Err(SnapshotError::Corrupt(_))
    ));

    // The meta record is not first.
    let mut bad = b.clone();
    bad[HEADER_LEN + 8] = b'x';
    assert!(matches!(
        exercise(&t.file(&bad)),
        Err(SnapshotError::NotASnapshot)
    ));
}

#[test]
fn not_a_snapshot_at_all() {
    let t = TempDir::new("other");
    assert!(matches!(
        exercise(&t.file(b"")),
        Err(SnapshotError::Corrupt(_))
    ));
    assert!(exercise(&t.file(&vec![0u8; 5000])).is_err());
    assert!(exercise(&t.file(&vec![0xffu8; 5000])).is_err());
    let pck = std::fs::read(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/lists/test/config.pck"),
    )
    .unwrap();
    assert!(exercise(&t.file(&pck)).is_err());
    // A good cdb with other records.
    let mut w = CdbWriter::new();
    w.add(b"key", b"value").unwrap();
    w.add(META_KEY, b"short").unwrap();
    let mut f = w.finish().unwrap();
    f.resize(f.len() + 200, 0);
    assert!(matches!(
        exercise(&t.file(&f)),
        Err(SnapshotError::NotASnapshot)
    ));
}

/// Position of the hash-table slot that points at the record with `key`.
fn slot_of(b: &[u8], key: &[u8]) -> usize {
    let c = Cdb::new(b).unwrap();
    let value = c.find(key).unwrap().unwrap();
    let rpos = (value.start - key.len() - 8) as u32;
    let h = hash(key);
    let t = (h & 255) as usize * 8;
    let tpos = u32::from_le_bytes(b[t..t + 4].try_into().unwrap()) as usize;
    let n = u32::from_le_bytes(b[t + 4..t + 8].try_into().unwrap()) as usize;
    (0..n)
        .map(|i| tpos + i * 8)
        .find(|&s| u32::from_le_bytes(b[s + 4..s + 8].try_into().unwrap()) == rpos)
        .unwrap()
}

#[test]
fn pointers_past_the_end_with_a_valid_checksum() {
    let t = TempDir::new("pointers");
    let b = good();
    let len = b.len() as u32;

    // A header table past the end; a table count that would overrun.
    let t0 = (hash(POLICY_KEY) & 255) as usize * 8;
    for (at, v) in [
        (0, len + 8),
        (t0, len),
        (t0, len - 8),
        (t0 + 4, u32::MAX),
        (t0 + 4, len / 8),
        (0, 10),
    ] {
        let mut bad = b.clone();
        set_u32(&mut bad, at, v);
        reseal(&mut bad);
        assert!(
            matches!(exercise(&t.file(&bad)), Err(SnapshotError::Corrupt(_))),
            "header word {at} = {v}"
        );
    }

    // The policy record's slot points past the end, or at its last bytes.
    for v in [len, len - 3, u32::MAX] {
        let mut bad = b.clone();
        set_u32(&mut bad, slot_of(&b, POLICY_KEY) + 4, v);
        reseal(&mut bad);
        assert!(
            matches!(exercise(&t.file(&bad)), Err(SnapshotError::Corrupt(_))),
            "policy slot -> {v}"
        );
    }

    // The policy record's lengths run past the end.
    let c = Cdb::new(&b).unwrap();
    let policy = c.find(POLICY_KEY).unwrap().unwrap();
    let rpos = policy.start - POLICY_KEY.len() - 8;
    for (at, v) in [(rpos + 4, u32::MAX), (rpos + 4, len), (rpos, u32::MAX - 3)] {
        let mut bad = b.clone();
        set_u32(&mut bad, at, v);
        reseal(&mut bad);
        assert!(
            matches!(exercise(&t.file(&bad)), Err(SnapshotError::Corrupt(_))),
            "{at} = {v}"
        );
    }

    // A member record's slot points past the end: the file opens (members
    // are not walked on open), and that lookup is an error, never a read
    // outside the mapping.
    let key = b"m:bob@example.com";
    for v in [len, len - 2, u32::MAX] {
        let mut bad = b.clone();
        set_u32(&mut bad, slot_of(&b, key) + 4, v);
        reseal(&mut bad);
        let s = open_snapshot(&t.file(&bad)).unwrap();
        assert!(s.members().try_get("bob@example.com").is_err());
        assert_eq!(s.policy().member("bob@example.com"), None);
        assert!(s.policy().member("alice@example.com").is_some());
        let _ = s.members().entries();
    }

    // A member's key length runs past the end: lookup errors, the walk of
    // entries stops there.
    let c = Cdb::new(&b).unwrap();
    let v = c.find(key).unwrap().unwrap();
    let rpos = v.start - key.len() - 8;
    let mut bad = b.clone();
    set_u32(&mut bad, rpos, u32::MAX - 4);
    reseal(&mut bad);
    let s = open_snapshot(&t.file(&bad)).unwrap();
    assert!(s.members().try_get("bob@example.com").is_err());
    assert!(s.members().entries().len() < 3);

    // A malformed member value.
    let mut bad = b.clone();
    bad[v.start + 4] = 7;
    reseal(&mut bad);
    let s = open_snapshot(&t.file(&bad)).unwrap();
    assert!(s.members().try_get("bob@example.com").is_err());
    assert_eq!(s.policy().member("bob@example.com"), None);
}

#[test]
fn a_table_with_no_empty_slot_still_ends() {
    let mut b = good();
    let c = Cdb::new(&b).unwrap();
    let eod = c.end_of_records();
    // Fill every slot of every table with a non-matching hash.
    for s in (eod..b.len()).step_by(8) {
        set_u32(&mut b, s, 0xdead_beef);
        set_u32(&mut b, s + 4, HEADER_LEN as u32);
    }
    let c = Cdb::new(&b).unwrap();
    assert_eq!(c.get(b"m:nobody").unwrap(), None);
    assert_eq!(c.get(POLICY_KEY).unwrap(), None);
}

#[test]
fn hostile_policy_records() {
    let t = TempDir::new("policy");
    let b = good();
    let c = Cdb::new(&b).unwrap();
    let policy = c.find(POLICY_KEY).unwrap().unwrap();
    // Every byte of the policy value changed in turn, resealed: an error
    // or a (different) policy, never a panic.
    let mut errors = 0;
    for at in policy.clone() {
        for x in [0x01u8, 0x80, 0xff] {
            let mut bad = b.clone();
            bad[at] ^= x;
            reseal(&mut bad);
            if exercise(&t.file(&bad)).is_err() {
                errors += 1;
            }
        }
    }
    assert!(errors > 0);
    // A string count far beyond the record.
    let mut bad = b.clone();
    set_u32(&mut bad, policy.start + 4, u32::MAX);
    reseal(&mut bad);
    assert!(matches!(
        exercise(&t.file(&bad)),
        Err(SnapshotError::Corrupt(_))
    ));
}

#[test]
fn pseudo_random_damage_never_panics() {
    let t = TempDir::new("random");
    let b = good();
    let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
    let mut next = move || {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        x
    };
    for round in 0..400 {
        let mut bad = b.clone();
        for _ in 0..1 + next() % 6 {
            let at = (next() as usize) % bad.len();
            bad[at] = next() as u8;
        }
        if round % 3 == 0 {
            let at = HEADER_LEN + (next() as usize) % (bad.len() - HEADER_LEN);
            bad.truncate(at.max(META_AT + 92));
        }
        if round % 2 == 0 && bad.len() >= META_AT + 92 {
            let len = bad.len() as u64;
            bad[META_AT + 80..META_AT + 88].copy_from_slice(&len.to_le_bytes());
            reseal(&mut bad);
        }
        let _ = exercise(&t.file(&bad));
    }
}

#[test]
fn cdb_reader_on_raw_hostile_bytes() {
    assert_eq!(
        Cdb::new(&[0u8; 100]).unwrap_err(),
        CdbError::Malformed("shorter than the 2048-byte header")
    );
    // All-zero header: table 0 ends the records at 0 < 2048.
    assert!(Cdb::new(&[0u8; 2048]).is_err());
    let mut h = vec![0u8; 2048];
    for i in 0..256 {
        set_u32(&mut h, i * 8, 2048);
    }
    let c = Cdb::new(&h).unwrap();
    assert_eq!(c.get(b"anything").unwrap(), None);
    assert!(c.record_at(2040).is_err());
    assert!(c.record_at(usize::MAX - 2).is_err());
    // Records region says more than there is.
    let mut r = h.clone();
    r.extend_from_slice(&[5, 0, 0, 0, 0xff, 0xff, 0xff, 0x7f, b'a']);
    let end = r.len() as u32;
    for i in 0..256 {
        set_u32(&mut r, i * 8, end);
    }
    let c = Cdb::new(&r).unwrap();
    let all: Vec<_> = c.records().collect();
    assert_eq!(all.len(), 1);
    assert!(all[0].is_err());
}
