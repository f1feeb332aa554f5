//! The `\0patterns` record: the list's patterns compiled, so that a new
//! process takes them from the snapshot instead of compiling them.
//!
//! Layout, integers little-endian:
//!
//! | size | field |
//! | --- | --- |
//! | 4 | [`PATTERNS_VERSION`] |
//! | 4 | CRC-32 of everything after this field |
//! | 4 | number of entries |
//!
//! then per entry: flags (1 byte: bit 0 `re.I`, 1 `re.M`, 2 `re.U`), the
//! pattern (4-byte length, UTF-8), the outcome (1 byte: 0 compiled, 1
//! `re.error`, 2 an exception Mailman does not expect, 3 past the
//! engine's limits) and its bytes (4-byte length: the
//! [prepared](crate::pyre::prepared) program, or the error text).
//!
//! The record is optional: a snapshot without it (older ones), or with
//! another version or a bad checksum, is read as before and its patterns
//! are compiled at first use. An entry is read only when the process does
//! not hold that pattern already, and one whose program does not pass the
//! checks of [`PyRegex::from_prepared`] is left to be compiled.

use crate::decide::patterns::{list_patterns, preload};
use crate::policy::ListPolicy;
use crate::pyre::{Budget, CompileError, Flags, PyRegex};

use super::crc32::{crc32, crc32_update};

/// Version of the record's layout.
pub const PATTERNS_VERSION: u32 = 1;
/// Key of the record.
pub const PATTERNS_KEY: &[u8] = b"\0patterns";
/// The record stops growing past this many bytes (the rest of the
/// patterns are compiled at first use).
pub const MAX_RECORD: usize = 4 << 20;

fn flag_byte(f: Flags) -> u8 {
    f.ignorecase as u8 | (f.multiline as u8) << 1 | (f.unicode as u8) << 2
}

fn put_bytes(w: &mut Vec<u8>, b: &[u8]) {
    w.extend_from_slice(&(b.len() as u32).to_le_bytes());
    w.extend_from_slice(b);
}

/// The record for `policy`; None when the list has no patterns. Compiling
/// spends from one verdict's budget: patterns past it are left out.
pub fn encode_patterns(policy: &ListPolicy) -> Option<Vec<u8>> {
    let patterns = list_patterns(policy);
    if patterns.is_empty() {
        return None;
    }
    let budget = Budget::verdict();
    let mut body = Vec::new();
    let mut count = 0u32;
    for (pattern, flags) in &patterns {
        let (kind, bytes) = match PyRegex::compile_in(pattern, *flags, &budget) {
            Ok(re) => (0u8, re.to_prepared()),
            Err(CompileError::Invalid(m)) => (1, m.into_bytes()),
            Err(CompileError::Unsupported(m)) => (2, m.into_bytes()),
            Err(CompileError::TooLarge(m)) => (3, m.into_bytes()),
            Err(CompileError::Budget) => break,
        };
        if body.len() + pattern.len() + bytes.len() + 10 > MAX_RECORD {
            break;
        }
        body.push(flag_byte(*flags));
        put_bytes(&mut body, pattern.as_bytes());
        body.push(kind);
        put_bytes(&mut body, &bytes);
        count += 1;
    }
    let mut rec = Vec::with_capacity(body.len() + 12);
    rec.extend_from_slice(&PATTERNS_VERSION.to_le_bytes());
    let crc = crc32_update(crc32(&count.to_le_bytes()), &body);
    rec.extend_from_slice(&crc.to_le_bytes());
    rec.extend_from_slice(&count.to_le_bytes());
    rec.extend_from_slice(&body);
    Some(rec)
}

/// Put the record's patterns into the process's pattern cache. Returns
/// how many entries were usable (already cached or read), or None when
/// the record as a whole is not (another version, a bad checksum, or
/// malformed).
pub fn load_patterns(rec: &[u8]) -> Option<usize> {
    let word = |at: usize| -> Option<u32> {
        Some(u32::from_le_bytes(rec.get(at..at + 4)?.try_into().ok()?))
    };
    if word(0)? != PATTERNS_VERSION {
        return None;
    }
    let crc = word(4)?;
    if crc32(&rec[8..]) != crc {
        return None;
    }
    let count = word(8)?;
    let mut at = 12;
    let mut used = 0;
    for _ in 0..count {
        let flags = *rec.get(at)?;
        if flags >= 8 {
            return None;
        }
        let flags = Flags {
            ignorecase: flags & 1 != 0,
            multiline: flags & 2 != 0,
            unicode: flags & 4 != 0,
        };
        let plen = word(at + 1)? as usize;
        let pattern = std::str::from_utf8(rec.get(at + 5..(at + 5).checked_add(plen)?)?).ok()?;
        at += 5 + plen;
        let kind = *rec.get(at)?;
        let blen = word(at + 1)? as usize;
        let bytes = rec.get(at + 5..(at + 5).checked_add(blen)?)?;
        at += 5 + blen;
        let text = || String::from_utf8_lossy(bytes).into_owned();
        let mut ok = true;
        preload(pattern, flags, || match kind {
            0 => {
                let re = PyRegex::from_prepared(bytes);
                ok = re.is_some();
                re.map(Ok)
            }
            1 => Some(Err(CompileError::Invalid(text()))),
            2 => Some(Err(CompileError::Unsupported(text()))),
            3 => Some(Err(CompileError::TooLarge(text()))),
            _ => {
                ok = false;
                None
            }
        });
        used += ok as usize;
    }
    (at == rec.len()).then_some(used)
}
