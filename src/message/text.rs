//! Python 2 `str` helpers on bytes: whitespace, strip, splitlines.

pub(crate) fn is_ws(c: u8) -> bool {
    // ' ', or '\t' '\n' '\x0b' '\x0c' '\r' (9 to 13).
    c == b' ' || c.wrapping_sub(b'\t') < 5
}

/// The index of the first byte that is not whitespace. Whitespace floods
/// (millions of blank lines) are passed 32 bytes at a time.
#[cfg_attr(target_os = "linux", link_section = ".text.hot.mailman_gate_verdict")]
pub(crate) fn first_non_ws(b: &[u8]) -> Option<usize> {
    // Most calls stop within a few bytes (the space after a header's
    // colon): those need no chunk.
    let head = b.len().min(4);
    if let Some(k) = b[..head].iter().position(|&c| !is_ws(c)) {
        return Some(k);
    }
    let mut i = head;
    for chunk in b[head..].chunks_exact(32) {
        // No early exit inside a chunk: the test compiles to vector code.
        if !chunk.iter().fold(true, |all, &c| all & is_ws(c)) {
            break;
        }
        i += 32;
    }
    b[i..].iter().position(|&c| !is_ws(c)).map(|k| i + k)
}

#[cfg_attr(target_os = "linux", link_section = ".text.hot.mailman_gate_verdict")]
pub(crate) fn strip(b: &[u8]) -> &[u8] {
    rstrip(lstrip(b))
}

#[cfg_attr(target_os = "linux", link_section = ".text.hot.mailman_gate_verdict")]
pub(crate) fn lstrip(b: &[u8]) -> &[u8] {
    let i = first_non_ws(b).unwrap_or(b.len());
    &b[i..]
}

#[cfg_attr(target_os = "linux", link_section = ".text.hot.mailman_gate_verdict")]
pub(crate) fn rstrip(b: &[u8]) -> &[u8] {
    let i = b.iter().rposition(|&c| !is_ws(c)).map_or(0, |i| i + 1);
    &b[..i]
}

pub(crate) fn rstrip_nl(b: &[u8]) -> &[u8] {
    let i = b
        .iter()
        .rposition(|&c| c != b'\r' && c != b'\n')
        .map_or(0, |i| i + 1);
    &b[..i]
}

/// `str.splitlines(True)`: line ends are `\n`, `\r\n` and `\r`.
pub(crate) fn splitlines_keep(b: &[u8]) -> Vec<&[u8]> {
    let mut out = Vec::new();
    let mut start = 0;
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'\n' || b[i] == b'\r' {
            let end = if b[i] == b'\r' && b.get(i + 1) == Some(&b'\n') {
                i + 2
            } else {
                i + 1
            };
            out.push(&b[start..end]);
            start = end;
            i = end;
        } else {
            i += 1;
        }
    }
    if start < b.len() {
        out.push(&b[start..]);
    }
    out
}

/// `str.splitlines()` without the line ends.
pub(crate) fn splitlines(b: &[u8]) -> Vec<&[u8]> {
    splitlines_keep(b).into_iter().map(strip_eol).collect()
}

/// Remove one trailing `\r\n`, `\r` or `\n`.
pub(crate) fn strip_eol(l: &[u8]) -> &[u8] {
    if l.ends_with(b"\r\n") {
        &l[..l.len() - 2]
    } else if l.ends_with(b"\n") || l.ends_with(b"\r") {
        &l[..l.len() - 1]
    } else {
        l
    }
}

pub(crate) fn lower(b: &[u8]) -> Vec<u8> {
    b.to_ascii_lowercase()
}

/// The lines of the raw message, one at a time, as `splitlines(True)`
/// cuts them (`\n`, `\r\n`, `\r`): no table of lines is built.
pub(super) struct Lines<'a> {
    pub(super) raw: &'a [u8],
    pub(super) pos: usize,
}

impl<'a> Iterator for Lines<'a> {
    type Item = &'a [u8];

    fn next(&mut self) -> Option<&'a [u8]> {
        let rest = &self.raw[self.pos..];
        if rest.is_empty() {
            return None;
        }
        let end = match memchr::memchr2(b'\n', b'\r', rest) {
            Some(i) if rest[i] == b'\r' && rest.get(i + 1) == Some(&b'\n') => i + 2,
            Some(i) => i + 1,
            None => rest.len(),
        };
        self.pos += end;
        Some(&rest[..end])
    }
}
