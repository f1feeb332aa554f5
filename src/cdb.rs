//! D. J. Bernstein's constant database (cdb): a writer that builds the file
//! in memory and a reader over any byte slice (e.g. a memory map).
//!
//! Layout, all integers unsigned 32-bit little-endian:
//! - a 2048-byte header: 256 pairs `(pos, slots)`, one per hash table;
//! - records `klen vlen key value`, from offset 2048;
//! - 256 hash tables of `slots` pairs `(hash, record pos)`; an empty slot
//!   has pos 0.
//!
//! The hash is `h = ((h << 5) + h) ^ c` from 5381; a key lives in table
//! `h & 255`, probed linearly from slot `(h >> 8) % slots`. This is the
//! format `cdbget`/`cdbdump`, tinycdb's `cdb`, Exim and Postfix read.
//!
//! The reader checks every offset against the slice: a truncated or hostile
//! file gives [`CdbError`], never a panic or a read out of bounds. Lookups
//! probe at most `slots` slots, so a table with no empty slot still ends.
//!
//! [`CdbFile`] reads the same format from an open file with positioned
//! reads (`pread`) instead of a memory map: a file truncated or rewritten
//! under the reader gives a short read, an error or stale bytes, never a
//! signal (a shrunk mapping faults with SIGBUS, fatal to the host process).

use std::ops::Range;

/// Size of the header of 256 `(pos, slots)` pairs.
pub const HEADER_LEN: usize = 2048;
/// The largest cdb: every position is a 32-bit offset.
pub const MAX_LEN: u64 = u32::MAX as u64;

/// Why a cdb could not be built or read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CdbError {
    /// The database would pass [`MAX_LEN`] bytes.
    TooLarge,
    /// An offset or length points outside the file, or the file is shorter
    /// than its header.
    Malformed(&'static str),
    /// Reading the file failed (e.g. it was truncated after opening).
    Io(String),
}

impl std::fmt::Display for CdbError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            CdbError::TooLarge => write!(f, "a cdb cannot exceed {MAX_LEN} bytes"),
            CdbError::Malformed(what) => write!(f, "malformed cdb: {what}"),
            CdbError::Io(what) => write!(f, "reading the cdb: {what}"),
        }
    }
}

impl std::error::Error for CdbError {}

impl From<CdbError> for std::io::Error {
    fn from(e: CdbError) -> Self {
        let kind = match e {
            CdbError::TooLarge => std::io::ErrorKind::InvalidInput,
            CdbError::Malformed(_) => std::io::ErrorKind::InvalidData,
            CdbError::Io(_) => std::io::ErrorKind::Other,
        };
        std::io::Error::new(kind, e)
    }
}

/// The cdb hash of a key.
pub fn hash(key: &[u8]) -> u32 {
    hash_from(5381, key)
}

fn hash_from(h: u32, bytes: &[u8]) -> u32 {
    bytes
        .iter()
        .fold(h, |h, &c| (h.wrapping_shl(5).wrapping_add(h)) ^ c as u32)
}

/// Builds a cdb in memory; [`CdbWriter::finish`] returns the whole file.
#[derive(Debug)]
pub struct CdbWriter {
    buf: Vec<u8>,
    /// `(hash, record position)` of every record, in insertion order.
    slots: Vec<(u32, u32)>,
}

impl Default for CdbWriter {
    fn default() -> Self {
        CdbWriter::new()
    }
}

impl CdbWriter {
    pub fn new() -> CdbWriter {
        CdbWriter {
            buf: vec![0; HEADER_LEN],
            slots: Vec::new(),
        }
    }

    /// Room for about `bytes` of records and `records` entries.
    pub fn with_capacity(bytes: usize, records: usize) -> CdbWriter {
        let mut buf = Vec::with_capacity(HEADER_LEN + bytes + records * 16);
        buf.resize(HEADER_LEN, 0);
        CdbWriter {
            buf,
            slots: Vec::with_capacity(records),
        }
    }

    /// Append a record. Returns the file offset of its value. Keys may
    /// repeat (a lookup finds the first).
    pub fn add(&mut self, key: &[u8], value: &[u8]) -> Result<usize, CdbError> {
        let pos = self.buf.len();
        // Every record also costs one 8-byte slot pair at least twice over.
        let after = pos as u64 + 8 + key.len() as u64 + value.len() as u64;
        if after + 16 * (self.slots.len() as u64 + 1) > MAX_LEN {
            return Err(CdbError::TooLarge);
        }
        self.buf
            .extend_from_slice(&(key.len() as u32).to_le_bytes());
        self.buf
            .extend_from_slice(&(value.len() as u32).to_le_bytes());
        self.buf.extend_from_slice(key);
        let value_at = self.buf.len();
        self.buf.extend_from_slice(value);
        self.slots.push((hash(key), pos as u32));
        Ok(value_at)
    }

    /// [`CdbWriter::add`] of a value that `fill` appends to the file's
    /// buffer itself: a large value is written once, never copied. On
    /// an error from `fill` the record is taken out again.
    pub fn add_with<E: From<CdbError>>(
        &mut self,
        key: &[u8],
        fill: impl FnOnce(&mut Vec<u8>) -> Result<(), E>,
    ) -> Result<usize, E> {
        let pos = self.buf.len();
        self.buf
            .extend_from_slice(&(key.len() as u32).to_le_bytes());
        self.buf.extend_from_slice(&0u32.to_le_bytes());
        self.buf.extend_from_slice(key);
        let value_at = self.buf.len();
        if let Err(e) = fill(&mut self.buf) {
            self.buf.truncate(pos);
            return Err(e);
        }
        let len = self.buf.len() - value_at;
        if self.buf.len() as u64 + 16 * (self.slots.len() as u64 + 1) > MAX_LEN {
            self.buf.truncate(pos);
            return Err(CdbError::TooLarge.into());
        }
        self.buf[pos + 4..pos + 8].copy_from_slice(&(len as u32).to_le_bytes());
        self.slots.push((hash(key), pos as u32));
        Ok(value_at)
    }

    /// Records added so far.
    pub fn len(&self) -> usize {
        self.slots.len()
    }

    pub fn is_empty(&self) -> bool {
        self.slots.is_empty()
    }

    /// Write the hash tables and the header; the complete file.
    pub fn finish(self) -> Result<Vec<u8>, CdbError> {
        let CdbWriter { mut buf, slots } = self;
        let total = buf.len() as u64 + 16 * slots.len() as u64;
        if total > MAX_LEN {
            return Err(CdbError::TooLarge);
        }
        let mut counts = [0usize; 256];
        for &(h, _) in &slots {
            counts[(h & 255) as usize] += 1;
        }
        // Group records by table, keeping insertion order within each.
        let mut start = [0usize; 256];
        let mut acc = 0;
        for i in 0..256 {
            start[i] = acc;
            acc += counts[i];
        }
        let mut grouped = vec![(0u32, 0u32); slots.len()];
        let mut fill = start;
        for &(h, p) in &slots {
            let t = (h & 255) as usize;
            grouped[fill[t]] = (h, p);
            fill[t] += 1;
        }
        buf.reserve(16 * slots.len());
        let mut table: Vec<(u32, u32)> = Vec::new();
        for i in 0..256 {
            let n = counts[i] * 2;
            let table_pos = buf.len() as u32;
            buf[i * 8..i * 8 + 4].copy_from_slice(&table_pos.to_le_bytes());
            buf[i * 8 + 4..i * 8 + 8].copy_from_slice(&(n as u32).to_le_bytes());
            if n == 0 {
                continue;
            }
            table.clear();
            table.resize(n, (0, 0));
            for &(h, p) in &grouped[start[i]..start[i] + counts[i]] {
                let mut s = (h >> 8) as usize % n;
                while table[s].1 != 0 {
                    s = (s + 1) % n;
                }
                table[s] = (h, p);
            }
            for &(h, p) in &table {
                buf.extend_from_slice(&h.to_le_bytes());
                buf.extend_from_slice(&p.to_le_bytes());
            }
        }
        debug_assert_eq!(buf.len() as u64, total);
        Ok(buf)
    }
}

/// One record: the key and value as ranges of the file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecordAt {
    /// Offset of the record (its `klen`).
    pub pos: usize,
    pub key: Range<usize>,
    pub value: Range<usize>,
}

/// A cdb read from a byte slice.
#[derive(Debug, Clone, Copy)]
pub struct Cdb<'a> {
    data: &'a [u8],
    /// End of the records: the first table's position.
    eod: usize,
}

fn u32_at(data: &[u8], at: usize) -> Option<u32> {
    let b = data.get(at..at.checked_add(4)?)?;
    Some(u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
}

impl<'a> Cdb<'a> {
    /// Check the header: every table lies inside the file, and the records
    /// end (at table 0) between the header and the end of the file.
    pub fn new(data: &'a [u8]) -> Result<Cdb<'a>, CdbError> {
        if data.len() < HEADER_LEN {
            return Err(CdbError::Malformed("shorter than the 2048-byte header"));
        }
        if data.len() as u64 > MAX_LEN {
            return Err(CdbError::TooLarge);
        }
        for i in 0..256 {
            let pos = u32_at(data, i * 8).unwrap_or(0) as u64;
            let slots = u32_at(data, i * 8 + 4).unwrap_or(0) as u64;
            if slots > 0 && (pos < HEADER_LEN as u64 || pos + slots * 8 > data.len() as u64) {
                return Err(CdbError::Malformed("hash table outside the file"));
            }
        }
        let eod = u32_at(data, 0).unwrap_or(0) as usize;
        if eod < HEADER_LEN || eod > data.len() {
            return Err(CdbError::Malformed("end of records outside the file"));
        }
        Ok(Cdb { data, eod })
    }

    /// The whole file.
    pub fn bytes(&self) -> &'a [u8] {
        self.data
    }

    /// Where the records end and the hash tables begin.
    pub fn end_of_records(&self) -> usize {
        self.eod
    }

    /// The record at `pos`, which must lie wholly inside the file.
    pub fn record_at(&self, pos: usize) -> Result<RecordAt, CdbError> {
        let bad = CdbError::Malformed("record outside the file");
        let klen = u32_at(self.data, pos).ok_or(bad.clone())? as usize;
        let vlen = u32_at(self.data, pos + 4).ok_or(bad.clone())? as usize;
        let kstart = pos + 8;
        let vstart = kstart.checked_add(klen).ok_or(bad.clone())?;
        let vend = vstart.checked_add(vlen).ok_or(bad.clone())?;
        if vend > self.data.len() {
            return Err(bad);
        }
        Ok(RecordAt {
            pos,
            key: kstart..vstart,
            value: vstart..vend,
        })
    }

    /// The value range of the first record with this key.
    pub fn find(&self, key: &[u8]) -> Result<Option<Range<usize>>, CdbError> {
        self.find_concat(key, b"")
    }

    /// The value range of the first record whose key is `prefix` followed
    /// by `rest`, without building that key.
    #[cfg_attr(target_os = "linux", link_section = ".text.hot.mailman_gate_verdict")]
    pub fn find_concat(
        &self,
        prefix: &[u8],
        rest: &[u8],
    ) -> Result<Option<Range<usize>>, CdbError> {
        let h = hash_from(hash_from(5381, prefix), rest);
        let t = (h & 255) as usize * 8;
        let tpos = u32_at(self.data, t).unwrap_or(0) as usize;
        let slots = u32_at(self.data, t + 4).unwrap_or(0) as usize;
        if slots == 0 {
            return Ok(None);
        }
        let mut s = (h >> 8) as usize % slots;
        for _ in 0..slots {
            let at = tpos + s * 8;
            let (Some(sh), Some(rpos)) = (u32_at(self.data, at), u32_at(self.data, at + 4)) else {
                return Err(CdbError::Malformed("hash table outside the file"));
            };
            if rpos == 0 {
                return Ok(None);
            }
            if sh == h {
                let r = self.record_at(rpos as usize)?;
                let k = &self.data[r.key.clone()];
                if k.len() == prefix.len() + rest.len()
                    && k.starts_with(prefix)
                    && &k[prefix.len()..] == rest
                {
                    return Ok(Some(r.value));
                }
            }
            s += 1;
            if s == slots {
                s = 0;
            }
        }
        Ok(None)
    }

    /// The value of the first record with this key.
    pub fn get(&self, key: &[u8]) -> Result<Option<&'a [u8]>, CdbError> {
        Ok(self.find(key)?.map(|r| &self.data[r]))
    }

    /// Every record in file order, as `cdbdump` lists them.
    pub fn records(&self) -> Records<'a> {
        Records {
            cdb: *self,
            pos: HEADER_LEN,
            failed: false,
        }
    }
}

/// Iterator over the records of a [`Cdb`]; yields one error and stops if a
/// record crosses the end of the records.
#[derive(Debug, Clone)]
pub struct Records<'a> {
    cdb: Cdb<'a>,
    pos: usize,
    failed: bool,
}

impl<'a> Iterator for Records<'a> {
    type Item = Result<(&'a [u8], &'a [u8]), CdbError>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.failed || self.pos >= self.cdb.eod {
            return None;
        }
        match self.cdb.record_at(self.pos) {
            Ok(r) if r.value.end <= self.cdb.eod => {
                self.pos = r.value.end;
                let d = self.cdb.data;
                Some(Ok((&d[r.key], &d[r.value])))
            }
            Ok(_) | Err(_) => {
                self.failed = true;
                Some(Err(CdbError::Malformed(
                    "record crosses the end of records",
                )))
            }
        }
    }
}

/// A cdb read from an open file with positioned reads: the 2 KiB header
/// is kept in memory, a lookup reads its slots and candidate records
/// (usually two `pread` calls). Thread-safe: `pread` has no file offset.
#[derive(Debug)]
pub struct CdbFile {
    file: std::fs::File,
    /// The file's length when opened; reads past it are refused.
    len: u64,
    /// `(pos, slots)` of the 256 tables.
    tables: Box<[(u32, u32); 256]>,
    eod: u64,
}

/// Slots read per `pread` while probing a table.
const SLOT_BATCH: usize = 16;

fn io_err(e: std::io::Error) -> CdbError {
    CdbError::Io(e.to_string())
}

impl CdbFile {
    /// Read and check the header of `file`, `len` bytes long (its size
    /// when opened): every table and the end of records inside it.
    pub fn open(file: std::fs::File, len: u64) -> Result<CdbFile, CdbError> {
        if len < HEADER_LEN as u64 {
            return Err(CdbError::Malformed("shorter than the 2048-byte header"));
        }
        if len > MAX_LEN {
            return Err(CdbError::TooLarge);
        }
        let mut head = [0u8; HEADER_LEN];
        std::os::unix::fs::FileExt::read_exact_at(&file, &mut head, 0).map_err(io_err)?;
        let mut tables = Box::new([(0u32, 0u32); 256]);
        for (i, t) in tables.iter_mut().enumerate() {
            let pos = u32_at(&head, i * 8).unwrap_or(0);
            let slots = u32_at(&head, i * 8 + 4).unwrap_or(0);
            if slots > 0 && (pos < HEADER_LEN as u32 || pos as u64 + slots as u64 * 8 > len) {
                return Err(CdbError::Malformed("hash table outside the file"));
            }
            *t = (pos, slots);
        }
        let eod = tables[0].0 as u64;
        if eod < HEADER_LEN as u64 || eod > len {
            return Err(CdbError::Malformed("end of records outside the file"));
        }
        Ok(CdbFile {
            file,
            len,
            tables,
            eod,
        })
    }

    /// The open file.
    pub fn file(&self) -> &std::fs::File {
        &self.file
    }

    /// The file's length when opened.
    pub fn len(&self) -> u64 {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Where the records end and the hash tables begin.
    pub fn end_of_records(&self) -> u64 {
        self.eod
    }

    /// Fill `buf` from `pos`, which must lie inside the file as opened.
    #[cfg_attr(target_os = "linux", link_section = ".text.hot.mailman_gate_verdict")]
    pub fn read_at(&self, pos: u64, buf: &mut [u8]) -> Result<(), CdbError> {
        if pos
            .checked_add(buf.len() as u64)
            .is_none_or(|end| end > self.len)
        {
            return Err(CdbError::Malformed("record outside the file"));
        }
        std::os::unix::fs::FileExt::read_exact_at(&self.file, buf, pos).map_err(io_err)
    }

    /// `(klen, vlen)` of the record at `pos`, checked against the file.
    fn lengths_at(&self, head: &[u8; 8], pos: u64) -> Result<(u64, u64), CdbError> {
        let klen = u32::from_le_bytes([head[0], head[1], head[2], head[3]]) as u64;
        let vlen = u32::from_le_bytes([head[4], head[5], head[6], head[7]]) as u64;
        if pos + 8 + klen + vlen > self.len {
            return Err(CdbError::Malformed("record outside the file"));
        }
        Ok((klen, vlen))
    }

    /// The record at `pos`: its key and value, read in full.
    pub fn record_at(&self, pos: u64) -> Result<(Vec<u8>, Vec<u8>), CdbError> {
        let mut head = [0u8; 8];
        self.read_at(pos, &mut head)?;
        let (klen, vlen) = self.lengths_at(&head, pos)?;
        let mut kv = Vec::new();
        kv.try_reserve_exact((klen + vlen) as usize)
            .map_err(|_| CdbError::Io("out of memory for a record".into()))?;
        kv.resize((klen + vlen) as usize, 0);
        self.read_at(pos + 8, &mut kv)?;
        let value = kv.split_off(klen as usize);
        Ok((kv, value))
    }

    /// The value of the first record whose key is `prefix` followed by
    /// `rest`. A candidate record is read with room for a value of
    /// `value_hint` bytes: one `pread` when the value is no longer.
    #[cfg_attr(target_os = "linux", link_section = ".text.hot.mailman_gate_verdict")]
    pub fn find_concat(
        &self,
        prefix: &[u8],
        rest: &[u8],
        value_hint: usize,
    ) -> Result<Option<Vec<u8>>, CdbError> {
        let h = hash_from(hash_from(5381, prefix), rest);
        let (tpos, slots) = self.tables[(h & 255) as usize];
        let (tpos, slots) = (tpos as u64, slots as u64);
        if slots == 0 {
            return Ok(None);
        }
        let klen = (prefix.len() + rest.len()) as u64;
        let mut s = (h >> 8) as u64 % slots;
        let mut probed = 0u64;
        let mut batch = [0u8; SLOT_BATCH * 8];
        let mut rec = Vec::new();
        while probed < slots {
            let n = (SLOT_BATCH as u64).min(slots - s).min(slots - probed) as usize;
            let buf = &mut batch[..n * 8];
            self.read_at(tpos + s * 8, buf)?;
            for slot in buf.chunks_exact(8) {
                let sh = u32::from_le_bytes([slot[0], slot[1], slot[2], slot[3]]);
                let rpos = u32::from_le_bytes([slot[4], slot[5], slot[6], slot[7]]) as u64;
                if rpos == 0 {
                    return Ok(None);
                }
                if sh != h {
                    continue;
                }
                // Header, key and (probably) the whole value in one read.
                let want = (8 + klen + value_hint as u64).min(self.len.saturating_sub(rpos));
                if want < 8 {
                    return Err(CdbError::Malformed("record outside the file"));
                }
                rec.clear();
                rec.resize(want as usize, 0);
                self.read_at(rpos, &mut rec)?;
                let head: [u8; 8] = rec[..8].try_into().expect("8 bytes");
                let (k, vlen) = self.lengths_at(&head, rpos)?;
                if k != klen {
                    continue;
                }
                let key = &rec[8..rec.len().min(8 + klen as usize)];
                if key.len() as u64 != klen
                    || !key.starts_with(prefix)
                    || &key[prefix.len()..] != rest
                {
                    continue;
                }
                let vstart = 8 + klen;
                let mut value = Vec::new();
                value
                    .try_reserve_exact(vlen as usize)
                    .map_err(|_| CdbError::Io("out of memory for a record".into()))?;
                let have = (rec.len() as u64 - vstart).min(vlen);
                value.extend_from_slice(&rec[vstart as usize..(vstart + have) as usize]);
                if have < vlen {
                    value.resize(vlen as usize, 0);
                    self.read_at(rpos + vstart + have, &mut value[have as usize..])?;
                }
                return Ok(Some(value));
            }
            probed += n as u64;
            s += n as u64;
            if s == slots {
                s = 0;
            }
        }
        Ok(None)
    }

    /// Every record in file order, read through a buffer.
    pub fn records(&self) -> FileRecords<'_> {
        FileRecords {
            cdb: self,
            pos: HEADER_LEN as u64,
            buf: Vec::new(),
            buf_at: 0,
            failed: false,
        }
    }
}

/// Iterator over the records of a [`CdbFile`]; yields one error and stops
/// at a record that crosses the end of the records or cannot be read.
#[derive(Debug)]
pub struct FileRecords<'a> {
    cdb: &'a CdbFile,
    pos: u64,
    buf: Vec<u8>,
    /// File offset of `buf[0]`.
    buf_at: u64,
    failed: bool,
}

impl FileRecords<'_> {
    /// `n` bytes at `pos`, from the buffer (refilled by 64 KiB reads).
    fn bytes(&mut self, pos: u64, n: u64) -> Result<&[u8], CdbError> {
        let end = pos + n;
        if pos < self.buf_at || end > self.buf_at + self.buf.len() as u64 {
            let len = n
                .max(64 << 10)
                .min(self.cdb.eod - pos.min(self.cdb.eod))
                .max(n);
            self.buf.clear();
            self.buf
                .try_reserve_exact(len as usize)
                .map_err(|_| CdbError::Io("out of memory for a record".into()))?;
            self.buf.resize(len as usize, 0);
            self.cdb.read_at(pos, &mut self.buf)?;
            self.buf_at = pos;
        }
        let at = (pos - self.buf_at) as usize;
        Ok(&self.buf[at..at + n as usize])
    }

    fn next_record(&mut self) -> Result<(Vec<u8>, Vec<u8>), CdbError> {
        let pos = self.pos;
        let head: [u8; 8] = self.bytes(pos, 8)?.try_into().expect("8 bytes");
        let (klen, vlen) = self.cdb.lengths_at(&head, pos)?;
        if pos + 8 + klen + vlen > self.cdb.eod {
            return Err(CdbError::Malformed("record crosses the end of records"));
        }
        let kv = self.bytes(pos + 8, klen + vlen)?;
        let (k, v) = kv.split_at(klen as usize);
        let out = (k.to_vec(), v.to_vec());
        self.pos = pos + 8 + klen + vlen;
        Ok(out)
    }
}

impl Iterator for FileRecords<'_> {
    type Item = Result<(Vec<u8>, Vec<u8>), CdbError>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.failed || self.pos >= self.cdb.eod {
            return None;
        }
        let r = self.next_record();
        self.failed = r.is_err();
        Some(r)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_value_written_in_place_is_the_same_file() {
        let mut a = CdbWriter::new();
        let mut b = CdbWriter::new();
        a.add(b"one", b"first").unwrap();
        a.add(b"two", &[7u8; 300]).unwrap();
        b.add(b"one", b"first").unwrap();
        // A failed fill leaves nothing behind.
        let failed = b.add_with(b"bad", |buf: &mut Vec<u8>| {
            buf.extend_from_slice(b"partial");
            Err(CdbError::TooLarge)
        });
        assert!(failed.is_err());
        let at = b
            .add_with(b"two", |buf: &mut Vec<u8>| {
                buf.extend_from_slice(&[7u8; 300]);
                Ok::<(), CdbError>(())
            })
            .unwrap();
        let (a, b) = (a.finish().unwrap(), b.finish().unwrap());
        assert_eq!(a, b);
        assert_eq!(&b[at..at + 300], &[7u8; 300][..]);
        assert!(Cdb::new(&b).unwrap().get(b"bad").unwrap().is_none());
    }

    #[test]
    fn round_trip_and_absent_keys() {
        let mut w = CdbWriter::new();
        for i in 0..1000u32 {
            w.add(format!("k{i}").as_bytes(), &i.to_le_bytes()).unwrap();
        }
        w.add(b"", b"empty key").unwrap();
        let file = w.finish().unwrap();
        let c = Cdb::new(&file).unwrap();
        for i in 0..1000u32 {
            let v = c.get(format!("k{i}").as_bytes()).unwrap().unwrap();
            assert_eq!(v, i.to_le_bytes());
        }
        assert_eq!(c.get(b"").unwrap(), Some(&b"empty key"[..]));
        assert_eq!(c.get(b"k1000").unwrap(), None);
        assert_eq!(c.records().count(), 1001);
    }

    #[test]
    fn empty_database() {
        let file = CdbWriter::new().finish().unwrap();
        assert_eq!(file.len(), HEADER_LEN);
        let c = Cdb::new(&file).unwrap();
        assert_eq!(c.get(b"x").unwrap(), None);
        assert_eq!(c.records().count(), 0);
    }

    #[test]
    fn known_hash() {
        // Values from the reference implementation.
        assert_eq!(hash(b""), 5381);
        assert_eq!(hash(b"a"), (5381u32 * 33) ^ 97);
    }

    #[test]
    fn file_reader_agrees_with_the_slice_reader() {
        let mut w = CdbWriter::new();
        for i in 0..5000u32 {
            w.add(
                format!("k{i}").as_bytes(),
                &i.to_le_bytes().repeat(i as usize % 40),
            )
            .unwrap();
        }
        let file = w.finish().unwrap();
        let dir = std::env::temp_dir().join(format!("cdb-file-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("t.cdb");
        std::fs::write(&path, &file).unwrap();
        let c = Cdb::new(&file).unwrap();
        let f = CdbFile::open(std::fs::File::open(&path).unwrap(), file.len() as u64).unwrap();
        for i in (0..5200u32).step_by(7) {
            let key = format!("k{i}");
            let want = c.get(key.as_bytes()).unwrap().map(<[u8]>::to_vec);
            for hint in [0, 5, 1000] {
                let got = f.find_concat(b"k", &key.as_bytes()[1..], hint).unwrap();
                assert_eq!(got, want, "{key}");
            }
        }
        let all: Vec<_> = f.records().map(Result::unwrap).collect();
        let want: Vec<_> = c
            .records()
            .map(|r| r.map(|(k, v)| (k.to_vec(), v.to_vec())).unwrap())
            .collect();
        assert_eq!(all, want);
        // Truncated under the reader: errors, never a fault.
        std::fs::OpenOptions::new()
            .write(true)
            .open(&path)
            .unwrap()
            .set_len(3000)
            .unwrap();
        let mut errors = 0;
        for i in 0..5000u32 {
            let key = format!("k{i}");
            errors += f.find_concat(b"", key.as_bytes(), 8).is_err() as u32;
        }
        assert!(errors > 4000, "{errors}");
        assert!(f.records().any(|r| r.is_err()));
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
