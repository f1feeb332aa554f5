//! Compiled snapshots: per list, a small file holding only what decisions
//! need, written atomically and read with positioned reads, so a new
//! process answers its first member lookup without parsing `config.pck`.
//!
//! # Format
//!
//! A snapshot is a [cdb](crate::cdb) (readable with `cdbdump`, `cdbget`,
//! tinycdb's `cdb -d`/`cdb -q`) whose records are, in file order:
//!
//! 1. `\0meta` (always the first record, at offset 2048), [`META_LEN`]
//!    bytes, integers little-endian:
//!
//!    | offset | size | field |
//!    | --- | --- | --- |
//!    | 0 | 8 | magic `MMGSNAP\0` |
//!    | 8 | 4 | format version ([`FORMAT_VERSION`]) |
//!    | 12 | 4 | flags: bit 0 set when a source identity follows |
//!    | 16 | 8 | source `config.pck` device |
//!    | 24 | 8 | source inode |
//!    | 32 | 8 | source size |
//!    | 40 | 16 | source mtime, nanoseconds (signed) |
//!    | 56 | 8 | number of member records |
//!    | 64 | 8 | regular members (as counted in `config.pck`) |
//!    | 72 | 8 | digest members |
//!    | 80 | 8 | length of the whole file |
//!    | 88 | 4 | CRC-32 (zlib's) of the whole file with these 4 bytes left out |
//!    | 92 | 2 | length *n* of the list name |
//!    | 94 | *n* | the list's internal name (as in its `config.pck`) |
//!
//!    The meta record is [`META_LEN`] + *n* bytes long.
//!
//! 2. `\0policy`: every [`ListPolicy`] field but the members, in the
//!    versioned encoding described in [`codec`].
//! 3. `\0patterns` (optional, since this format version reads without
//!    it): the list's patterns compiled, see [`patterns`]; versioned on
//!    its own, and ignored by a reader of another version.
//! 4. One record per member, sorted: key `m:` + the address exactly as the
//!    policy's member map holds it (Mailman stores them lower-cased), value
//!    5 bytes: `user_options` (u32) and 1 for a digest member, else 0.
//!
//! Member passwords are never in a snapshot (a [`ListPolicy`] holds none);
//! the list's hashed `password`, `mod_password` and `post_password` are.
//!
//! Opening checks the cdb header, the magic, the format version, the file
//! length, the checksum, the list name and the policy record, and keeps
//! the file open; a member lookup then reads one cdb slot chain with
//! `pread` (usually two calls: the slots, the record). The checksum reads
//! the whole file, most of the cost of opening a large snapshot;
//! [`Verify::SkipChecksum`] leaves it out and keeps every other check.
//!
//! A snapshot is replaced by renaming a new file over it
//! ([`write_snapshot`] does): an open reader keeps the old file. Nothing
//! is mapped, so a snapshot truncated or rewritten in place (`cp` over it,
//! `rsync --inplace`, a shared file system changed from another host)
//! cannot fault a reader: after its reads a lookup checks that the file is
//! the one opened (`fstat`: size, mtime, inode) and otherwise fails with
//! [`SnapshotError::Changed`], which a verdict reports as undecided.

pub mod codec;
mod crc32;
pub mod patterns;

use std::ffi::OsString;
use std::fs::File;
use std::io::{self, Write};
use std::os::unix::fs::{MetadataExt, OpenOptionsExt};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use crate::cdb::{CdbError, CdbFile, CdbWriter, HEADER_LEN, MAX_LEN};
use crate::policy::{ListPolicy, Member, MemberSource, Members};

pub use crc32::{crc32, crc32_update};

/// Identity of one generation of a file: what a snapshot records of the
/// `config.pck` it was made from, and what the store compares to see a
/// file change.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FileId {
    pub dev: u64,
    pub ino: u64,
    pub size: u64,
    pub mtime_ns: i128,
}

impl FileId {
    /// The identity of a file from its metadata.
    pub fn of_metadata(m: &std::fs::Metadata) -> FileId {
        FileId::of(m)
    }

    pub(crate) fn of(m: &std::fs::Metadata) -> FileId {
        FileId {
            dev: m.dev(),
            ino: m.ino(),
            size: m.size(),
            mtime_ns: m.mtime() as i128 * 1_000_000_000 + m.mtime_nsec() as i128,
        }
    }

    /// The identity of the open file `f`: one `fstat(2)` (std's
    /// `metadata` probes `statx` first, more code on a verdict's path).
    #[cfg_attr(target_os = "linux", link_section = ".text.hot.mailman_gate_verdict")]
    pub(crate) fn of_fd(f: &std::fs::File) -> io::Result<FileId> {
        use std::os::fd::AsRawFd;
        let mut st = std::mem::MaybeUninit::<libc::stat>::uninit();
        // SAFETY: fstat(2) on an open descriptor, into a buffer we own.
        if unsafe { libc::fstat(f.as_raw_fd(), st.as_mut_ptr()) } != 0 {
            return Err(io::Error::last_os_error());
        }
        // SAFETY: fstat returned 0, so it filled the buffer.
        Ok(FileId::of_stat(unsafe { &st.assume_init() }))
    }

    /// The same identity from a `stat(2)` answer.
    // The field types of `struct stat` differ between targets.
    #[allow(clippy::unnecessary_cast)]
    pub(crate) fn of_stat(st: &libc::stat) -> FileId {
        FileId {
            dev: st.st_dev as u64,
            ino: st.st_ino as u64,
            size: st.st_size as u64,
            mtime_ns: st.st_mtime as i128 * 1_000_000_000 + st.st_mtime_nsec as i128,
        }
    }
}

/// First bytes of the `\0meta` value.
pub const MAGIC: [u8; 8] = *b"MMGSNAP\0";
/// Version of the file layout (records, keys, meta). The policy record has
/// its own, [`codec::POLICY_VERSION`]. Version 2 names the list in the
/// meta record; a version 1 snapshot is refused and rebuilt.
pub const FORMAT_VERSION: u32 = 2;
/// Key of the meta record.
pub const META_KEY: &[u8] = b"\0meta";
/// Key of the policy record.
pub const POLICY_KEY: &[u8] = b"\0policy";
/// Prefix of member keys.
pub const MEMBER_PREFIX: &[u8] = b"m:";
/// Length of the meta value before the list name.
pub const META_LEN: usize = 94;
/// The longest list name a snapshot records.
pub const MAX_NAME_LEN: usize = 255;
/// Offset of the checksum inside the meta value.
pub const CHECKSUM_AT: usize = 88;
/// Length of a member value.
pub const MEMBER_VALUE_LEN: usize = 5;
/// Mode of a new snapshot file (before the umask): it holds member
/// addresses and the list's password hashes.
pub const DEFAULT_MODE: u32 = 0o640;

const FLAG_SOURCE: u32 = 1;

/// Why a snapshot could not be opened.
#[derive(Debug)]
pub enum SnapshotError {
    /// Opening, `stat` or `mmap` failed (e.g. `NotFound`, `PermissionDenied`).
    Io(io::Error),
    /// Over the 4 GiB a cdb can address.
    TooLarge(u64),
    /// A file, but not a snapshot: no `\0meta` record with the magic first.
    NotASnapshot,
    /// A snapshot of another format or policy-encoding version: rebuild it.
    UnsupportedVersion { what: &'static str, found: u32 },
    /// The stored checksum does not match the contents.
    ChecksumMismatch { stored: u32, computed: u32 },
    /// Truncated, or an offset, length or field that does not hold.
    Corrupt(String),
    /// The snapshot of another list (its meta record names it).
    OtherList(String),
    /// The file was truncated or rewritten in place after it was opened.
    Changed(String),
}

impl std::fmt::Display for SnapshotError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            SnapshotError::Io(e) => write!(f, "snapshot: {e}"),
            SnapshotError::TooLarge(n) => {
                write!(f, "snapshot: {n} bytes is over the cdb limit of {MAX_LEN}")
            }
            SnapshotError::NotASnapshot => f.write_str("not a mailman-gate snapshot"),
            SnapshotError::UnsupportedVersion { what, found } => {
                write!(f, "snapshot: unsupported {what} version {found}")
            }
            SnapshotError::ChecksumMismatch { stored, computed } => write!(
                f,
                "snapshot: checksum mismatch (stored {stored:08x}, computed {computed:08x})"
            ),
            SnapshotError::Corrupt(what) => write!(f, "snapshot corrupt: {what}"),
            SnapshotError::OtherList(name) => write!(f, "snapshot of another list, {name:?}"),
            SnapshotError::Changed(what) => {
                write!(f, "snapshot changed in place since it was opened: {what}")
            }
        }
    }
}

impl std::error::Error for SnapshotError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            SnapshotError::Io(e) => Some(e),
            _ => None,
        }
    }
}

impl From<io::Error> for SnapshotError {
    fn from(e: io::Error) -> Self {
        SnapshotError::Io(e)
    }
}

impl From<CdbError> for SnapshotError {
    fn from(e: CdbError) -> Self {
        match e {
            CdbError::TooLarge => SnapshotError::TooLarge(MAX_LEN + 1),
            CdbError::Malformed(what) => SnapshotError::Corrupt(what.to_owned()),
            CdbError::Io(what) => SnapshotError::Io(io::Error::other(what)),
        }
    }
}

fn invalid(what: String) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidInput, what)
}

/// The complete snapshot file for `policy`, as [`write_snapshot`] writes it.
/// Fails (`InvalidInput`) only past the 4 GiB cdb limit.
pub fn encode_snapshot(policy: &ListPolicy, source: Option<FileId>) -> io::Result<Vec<u8>> {
    let name = policy.internal_name.as_bytes();
    if name.len() > MAX_NAME_LEN {
        return Err(invalid(format!(
            "a list name of {} bytes is over {MAX_NAME_LEN}",
            name.len()
        )));
    }
    let members = policy.members.entries();
    let patterns_rec = patterns::encode_patterns(policy);
    let member_bytes: usize = members.iter().map(|(a, _)| a.len() + 15).sum();
    // The policy record is encoded straight into the file's buffer (the
    // buffer grows for it): a list of a million non-members is not held
    // twice over.
    let mut w = CdbWriter::with_capacity(
        META_LEN
            + name.len()
            + patterns_rec.as_ref().map_or(0, |r| r.len() + 17)
            + member_bytes
            + 32,
        members.len() + 3,
    );

    let mut meta = Vec::with_capacity(META_LEN);
    meta.extend_from_slice(&MAGIC);
    meta.extend_from_slice(&FORMAT_VERSION.to_le_bytes());
    let id = source.unwrap_or(FileId {
        dev: 0,
        ino: 0,
        size: 0,
        mtime_ns: 0,
    });
    let flags = if source.is_some() { FLAG_SOURCE } else { 0 };
    meta.extend_from_slice(&flags.to_le_bytes());
    meta.extend_from_slice(&id.dev.to_le_bytes());
    meta.extend_from_slice(&id.ino.to_le_bytes());
    meta.extend_from_slice(&id.size.to_le_bytes());
    meta.extend_from_slice(&id.mtime_ns.to_le_bytes());
    meta.extend_from_slice(&(members.len() as u64).to_le_bytes());
    meta.extend_from_slice(&(policy.regular_count as u64).to_le_bytes());
    meta.extend_from_slice(&(policy.digest_count as u64).to_le_bytes());
    let len_at = meta.len();
    meta.extend_from_slice(&0u64.to_le_bytes()); // file length, set below
    meta.extend_from_slice(&0u32.to_le_bytes()); // checksum, set below
    meta.extend_from_slice(&(name.len() as u16).to_le_bytes());
    debug_assert_eq!(meta.len(), META_LEN);
    meta.extend_from_slice(name);

    let meta_at = w.add(META_KEY, &meta)?;
    w.add_with(POLICY_KEY, |buf| {
        codec::encode_policy_into(policy, buf).map_err(invalid)
    })?;
    if let Some(rec) = &patterns_rec {
        w.add(patterns::PATTERNS_KEY, rec)?;
    }
    let mut value = [0u8; MEMBER_VALUE_LEN];
    let mut key = Vec::with_capacity(64);
    for (address, m) in &members {
        key.clear();
        key.extend_from_slice(MEMBER_PREFIX);
        key.extend_from_slice(address.as_bytes());
        value[..4].copy_from_slice(&m.options.to_le_bytes());
        value[4] = m.digest as u8;
        w.add(&key, &value)?;
    }
    let mut file = w.finish()?;

    let len = file.len() as u64;
    file[meta_at + len_at..meta_at + len_at + 8].copy_from_slice(&len.to_le_bytes());
    let sum_at = meta_at + CHECKSUM_AT;
    let sum = checksum(&file, sum_at);
    file[sum_at..sum_at + 4].copy_from_slice(&sum.to_le_bytes());
    Ok(file)
}

/// CRC-32 of `file` without the 4 bytes at `sum_at`.
fn checksum(file: &[u8], sum_at: usize) -> u32 {
    crc32_update(crc32(&file[..sum_at]), &file[sum_at + 4..])
}

/// `path` + `.tmp.<pid>`.
fn temp_path(path: &Path) -> PathBuf {
    let mut s = OsString::from(path.as_os_str());
    s.push(format!(".tmp.{}", std::process::id()));
    PathBuf::from(s)
}

/// Write a snapshot of `policy` to `path` atomically: a temporary
/// `path.tmp.<pid>` (mode [`DEFAULT_MODE`] less the umask), `fsync`, then
/// `rename` over `path`, and an `fsync` of the directory. A reader sees the
/// old file or the new one, never a mixture.
pub fn write_snapshot(policy: &ListPolicy, source: Option<FileId>, path: &Path) -> io::Result<()> {
    write_snapshot_with_mode(policy, source, path, DEFAULT_MODE)
}

/// [`write_snapshot`] with the new file's mode (before the umask).
pub fn write_snapshot_with_mode(
    policy: &ListPolicy,
    source: Option<FileId>,
    path: &Path,
    mode: u32,
) -> io::Result<()> {
    let bytes = encode_snapshot(policy, source)?;
    let tmp = temp_path(path);
    let written = (|| {
        // A leftover from a crashed writer of the same pid goes; then
        // O_EXCL: never write through a file or link found in its place.
        match std::fs::remove_file(&tmp) {
            Err(e) if e.kind() != io::ErrorKind::NotFound => return Err(e),
            _ => {}
        }
        let mut f = std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(mode)
            .open(&tmp)?;
        f.write_all(&bytes)?;
        f.sync_all()?;
        drop(f);
        std::fs::rename(&tmp, path)
    })();
    if let Err(e) = written {
        let _ = std::fs::remove_file(&tmp);
        return Err(e);
    }
    // Make the rename itself durable; some filesystems refuse to sync a
    // directory, and the new file is in place either way.
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    if let Ok(d) = File::open(dir) {
        let _ = d.sync_all();
    }
    Ok(())
}

/// The members of an open snapshot, looked up in the file with `pread`.
pub struct SnapshotMembers {
    cdb: CdbFile,
    records: u64,
    /// What `fstat` said of the file when it was opened; a lookup's
    /// answer is believed only while it says the same. Not the ctime:
    /// renaming a new snapshot over the path unlinks the old file, which
    /// changes its ctime but not its contents (a reader keeps the old
    /// generation).
    stamp: FileId,
}

impl SnapshotMembers {
    /// Number of member records.
    pub fn len(&self) -> u64 {
        self.records
    }

    pub fn is_empty(&self) -> bool {
        self.records == 0
    }

    /// Ok when the open file is still as it was when opened.
    fn unchanged(&self) -> Result<(), SnapshotError> {
        let now = FileId::of_fd(self.cdb.file())?;
        if now == self.stamp {
            Ok(())
        } else if now.size != self.stamp.size {
            Err(SnapshotError::Changed(format!(
                "{} bytes when opened, {} now",
                self.stamp.size, now.size
            )))
        } else {
            Err(SnapshotError::Changed("modified".into()))
        }
    }

    /// The member with exactly this key, or why the snapshot cannot say.
    /// The answer is believed only of the file as it was opened: after the
    /// reads, `fstat` must find it unchanged (a file truncated in place
    /// reads as empty tables, one rewritten in place as another list).
    ///
    /// Within one revalidation round ([`crate::round::begin_round`]) the
    /// last answer of the thread is reused for the same address: a verdict
    /// asks for an address more than once, and the file was found
    /// unchanged when it was answered.
    #[cfg_attr(target_os = "linux", link_section = ".text.hot.mailman_gate_verdict")]
    pub fn try_get(&self, lower_address: &str) -> Result<Option<Member>, SnapshotError> {
        let round = crate::round::current();
        let key = (self as *const SnapshotMembers as usize, self.records);
        if let Some(hit) = LAST_LOOKUP.with(|l| l.get().answer(round, key, lower_address)) {
            return Ok(hit);
        }
        let found = self
            .cdb
            .find_concat(MEMBER_PREFIX, lower_address.as_bytes(), MEMBER_VALUE_LEN);
        self.unchanged()?;
        let member = match found? {
            Some(v) => decode_member(&v).map(Some),
            None => Ok(None),
        }?;
        if round != 0 && lower_address.len() <= LAST_LOOKUP_MAX {
            let mut address = [0; LAST_LOOKUP_MAX];
            address[..lower_address.len()].copy_from_slice(lower_address.as_bytes());
            LAST_LOOKUP.with(|l| {
                l.set(LastLookup {
                    round,
                    key,
                    len: lower_address.len(),
                    address,
                    member,
                })
            });
        }
        Ok(member)
    }
}

/// Longest address [`LAST_LOOKUP`] keeps.
const LAST_LOOKUP_MAX: usize = 120;

/// A thread's last member lookup (see [`SnapshotMembers::try_get`]): in a
/// fixed array, so that keeping it allocates nothing.
#[derive(Clone, Copy)]
struct LastLookup {
    /// The round it was made in (0: none).
    round: u64,
    /// The members' address and record count.
    key: (usize, u64),
    len: usize,
    address: [u8; LAST_LOOKUP_MAX],
    member: Option<Member>,
}

impl LastLookup {
    fn answer(&self, round: u64, key: (usize, u64), address: &str) -> Option<Option<Member>> {
        (round != 0
            && self.round == round
            && self.key == key
            && self.address.get(..self.len) == Some(address.as_bytes()))
        .then_some(self.member)
    }
}

thread_local! {
    static LAST_LOOKUP: std::cell::Cell<LastLookup> = const {
        std::cell::Cell::new(LastLookup {
            round: 0,
            key: (0, 0),
            len: 0,
            address: [0; LAST_LOOKUP_MAX],
            member: None,
        })
    };
}

fn decode_member(v: &[u8]) -> Result<Member, SnapshotError> {
    match v {
        [a, b, c, d, digest @ (0 | 1)] => Ok(Member {
            options: u32::from_le_bytes([*a, *b, *c, *d]),
            digest: *digest == 1,
        }),
        _ => Err(SnapshotError::Corrupt("malformed member record".into())),
    }
}

impl MemberSource for SnapshotMembers {
    /// A lookup that cannot be answered counts as absent here; verdicts
    /// use [`MemberSource::try_get`], which says why.
    #[cfg_attr(target_os = "linux", link_section = ".text.hot.mailman_gate_verdict")]
    fn get(&self, lower_address: &str) -> Option<Member> {
        self.try_get(lower_address).ok().flatten()
    }

    #[cfg_attr(target_os = "linux", link_section = ".text.hot.mailman_gate_verdict")]
    fn try_get(&self, lower_address: &str) -> Result<Option<Member>, String> {
        SnapshotMembers::try_get(self, lower_address).map_err(|e| e.to_string())
    }

    fn entries(&self) -> Vec<(String, Member)> {
        // Each member record takes at least 15 bytes: a hostile count
        // cannot reserve more than the file could hold.
        let most = self.cdb.len() / (8 + MEMBER_PREFIX.len() + MEMBER_VALUE_LEN) as u64;
        let mut out = Vec::new();
        let _ = out.try_reserve(self.records.min(most) as usize);
        for rec in self.cdb.records() {
            let Ok((key, value)) = rec else { break };
            let Some(address) = key.strip_prefix(MEMBER_PREFIX) else {
                continue;
            };
            if let Ok(m) = decode_member(&value) {
                out.push((String::from_utf8_lossy(address).into_owned(), m));
            }
        }
        out
    }
}

impl std::fmt::Debug for SnapshotMembers {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SnapshotMembers")
            .field("records", &self.records)
            .field("len", &self.cdb.len())
            .finish()
    }
}

/// An open, verified snapshot.
#[derive(Debug)]
pub struct Snapshot {
    policy: ListPolicy,
    source: Option<FileId>,
    members: Arc<SnapshotMembers>,
    len: u64,
}

impl Snapshot {
    /// The list the snapshot was made of (its internal name).
    pub fn list_name(&self) -> &str {
        &self.policy.internal_name
    }

    /// The list's policy; `members` looks up the open file.
    pub fn policy(&self) -> &ListPolicy {
        &self.policy
    }

    /// The policy, keeping the file open as long as its members are.
    pub fn into_policy(self) -> ListPolicy {
        self.policy
    }

    /// Identity of the `config.pck` this was compiled from, if recorded.
    pub fn source(&self) -> Option<FileId> {
        self.source
    }

    /// The member table.
    pub fn members(&self) -> &Arc<SnapshotMembers> {
        &self.members
    }

    /// Size of the snapshot file in bytes.
    pub fn file_len(&self) -> u64 {
        self.len
    }
}

/// How much [`open_snapshot_with`] checks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Verify {
    /// Everything, including the checksum of the whole file (which reads
    /// every page: most of the cost of opening a large snapshot).
    #[default]
    Full,
    /// Everything but the checksum: the header, magic, versions, length and
    /// policy record. Reads stay bounds-checked; damage to a member record
    /// then shows only as that member being absent.
    SkipChecksum,
}

/// Open and verify the snapshot at `path`: check the cdb header, magic,
/// versions, length, checksum and list name, and decode the policy.
pub fn open_snapshot(path: &Path) -> Result<Snapshot, SnapshotError> {
    open_snapshot_with(path, Verify::Full)
}

/// [`open_snapshot`], choosing whether to verify the checksum.
pub fn open_snapshot_with(path: &Path, verify: Verify) -> Result<Snapshot, SnapshotError> {
    // O_NONBLOCK: a FIFO in its place must not wait for a writer.
    let file = std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NONBLOCK)
        .open(path)?;
    let meta = file.metadata()?;
    if !meta.is_file() {
        return Err(SnapshotError::Io(io::Error::new(
            io::ErrorKind::InvalidInput,
            "not a regular file",
        )));
    }
    let stamp = FileId::of(&meta);
    let len = meta.len();
    if len > MAX_LEN {
        return Err(SnapshotError::TooLarge(len));
    }
    if len < (HEADER_LEN + 8 + META_KEY.len() + META_LEN) as u64 {
        return Err(SnapshotError::Corrupt(format!(
            "{len} bytes is too short for a snapshot"
        )));
    }
    let cdb = CdbFile::open(file, len)?;
    let (policy, source, records) = check(&cdb, verify)?;
    // The list's compiled patterns, into this process's pattern cache;
    // a record that cannot be read only means compiling them at first use.
    if let Ok(Some(rec)) = cdb.find_concat(patterns::PATTERNS_KEY, b"", 4096) {
        let _ = patterns::load_patterns(&rec);
    }
    let members = Arc::new(SnapshotMembers {
        cdb,
        records,
        stamp,
    });
    let mut policy = policy;
    policy.members = Members::External(members.clone());
    Ok(Snapshot {
        policy,
        source,
        members,
        len,
    })
}

fn u32_le(b: &[u8], at: usize) -> u32 {
    u32::from_le_bytes([b[at], b[at + 1], b[at + 2], b[at + 3]])
}

fn u64_le(b: &[u8], at: usize) -> u64 {
    let mut a = [0u8; 8];
    a.copy_from_slice(&b[at..at + 8]);
    u64::from_le_bytes(a)
}

type Verified = (ListPolicy, Option<FileId>, u64);

/// CRC-32 of the file without the 4 bytes at `sum_at`, read in chunks.
fn checksum_file(cdb: &CdbFile, sum_at: u64) -> Result<u32, SnapshotError> {
    let mut buf = vec![0u8; (cdb.len() as usize).min(256 << 10)];
    let mut crc = crc32(b"");
    for (mut pos, end) in [(0, sum_at), (sum_at + 4, cdb.len())] {
        while pos < end {
            let n = (end - pos).min(buf.len() as u64) as usize;
            cdb.read_at(pos, &mut buf[..n])?;
            crc = crc32_update(crc, &buf[..n]);
            pos += n as u64;
        }
    }
    Ok(crc)
}

/// Everything [`open_snapshot`] checks, read from the file.
fn check(cdb: &CdbFile, verify: Verify) -> Result<Verified, SnapshotError> {
    // The meta record comes first; its lengths are checked before reading.
    let at = HEADER_LEN as u64;
    let mut head = [0u8; 8];
    cdb.read_at(at, &mut head)?;
    let klen = u32_le(&head, 0) as usize;
    let vlen = u32_le(&head, 4) as usize;
    if klen != META_KEY.len() || !(12..=META_LEN + MAX_NAME_LEN).contains(&vlen) {
        return Err(SnapshotError::NotASnapshot);
    }
    let mut rec = vec![0u8; klen + vlen];
    cdb.read_at(at + 8, &mut rec)?;
    let (key, meta) = rec.split_at(klen);
    if key != META_KEY || meta[..8] != MAGIC {
        return Err(SnapshotError::NotASnapshot);
    }
    let version = u32_le(meta, 8);
    if version != FORMAT_VERSION {
        return Err(SnapshotError::UnsupportedVersion {
            what: "format",
            found: version,
        });
    }
    let value_end = at + 8 + (klen + vlen) as u64;
    if meta.len() < META_LEN
        || meta.len() != META_LEN + u16::from_le_bytes([meta[92], meta[93]]) as usize
        || value_end > cdb.end_of_records()
    {
        return Err(SnapshotError::Corrupt(
            "meta record of the wrong size".into(),
        ));
    }
    let recorded_len = u64_le(meta, 80);
    if recorded_len != cdb.len() {
        return Err(SnapshotError::Corrupt(format!(
            "file is {} bytes, written as {recorded_len}",
            cdb.len()
        )));
    }
    let sum_at = at + 8 + klen as u64 + CHECKSUM_AT as u64;
    let stored = u32_le(meta, CHECKSUM_AT);
    if verify == Verify::Full {
        let computed = checksum_file(cdb, sum_at)?;
        if stored != computed {
            return Err(SnapshotError::ChecksumMismatch { stored, computed });
        }
    }

    let flags = u32_le(meta, 12);
    if flags & !FLAG_SOURCE != 0 {
        return Err(SnapshotError::Corrupt(format!("unknown flags {flags:#x}")));
    }
    let source = (flags & FLAG_SOURCE != 0).then(|| {
        let mut t = [0u8; 16];
        t.copy_from_slice(&meta[40..56]);
        FileId {
            dev: u64_le(meta, 16),
            ino: u64_le(meta, 24),
            size: u64_le(meta, 32),
            mtime_ns: i128::from_le_bytes(t),
        }
    });
    let records = u64_le(meta, 56);
    let name = &meta[META_LEN..];

    let Some(rec) = cdb.find_concat(POLICY_KEY, b"", 0)? else {
        return Err(SnapshotError::Corrupt("no policy record".into()));
    };
    let policy = codec::decode_policy(&rec).map_err(|e| match e {
        codec::DecodeError::Version(found) => SnapshotError::UnsupportedVersion {
            what: "policy encoding",
            found,
        },
        codec::DecodeError::Malformed(what) => SnapshotError::Corrupt(what),
    })?;
    if policy.regular_count as u64 != u64_le(meta, 64)
        || policy.digest_count as u64 != u64_le(meta, 72)
    {
        return Err(SnapshotError::Corrupt(
            "member counts differ between meta and policy".into(),
        ));
    }
    if policy.internal_name.as_bytes() != name {
        return Err(SnapshotError::Corrupt(
            "list name differs between meta and policy".into(),
        ));
    }
    Ok((policy, source, records))
}

/// Snapshot writing and opening on one machine: `Send + Sync` as promised.
#[allow(dead_code)]
fn assert_send_sync() {
    fn is<T: Send + Sync>() {}
    is::<Snapshot>();
    is::<SnapshotMembers>();
}
