//! Python 2 `str` helpers on bytes: whitespace, strip, splitlines.

pub(super) fn is_ws(c: u8) -> bool {
    matches!(c, b' ' | b'\t' | b'\n' | b'\r' | 0x0b | 0x0c)
}

pub(super) fn strip(b: &[u8]) -> &[u8] {
    rstrip(lstrip(b))
}

pub(super) fn lstrip(b: &[u8]) -> &[u8] {
    let i = b.iter().position(|&c| !is_ws(c)).unwrap_or(b.len());
    &b[i..]
}

pub(super) fn rstrip(b: &[u8]) -> &[u8] {
    let i = b.iter().rposition(|&c| !is_ws(c)).map_or(0, |i| i + 1);
    &b[..i]
}

pub(super) fn rstrip_nl(b: &[u8]) -> &[u8] {
    let i = b
        .iter()
        .rposition(|&c| c != b'\r' && c != b'\n')
        .map_or(0, |i| i + 1);
    &b[..i]
}

/// `str.splitlines(True)`: line ends are `\n`, `\r\n` and `\r`.
pub(super) fn splitlines_keep(b: &[u8]) -> Vec<&[u8]> {
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
pub(super) fn splitlines(b: &[u8]) -> Vec<&[u8]> {
    splitlines_keep(b).into_iter().map(strip_eol).collect()
}

/// Remove one trailing `\r\n`, `\r` or `\n`.
pub(super) fn strip_eol(l: &[u8]) -> &[u8] {
    if l.ends_with(b"\r\n") {
        &l[..l.len() - 2]
    } else if l.ends_with(b"\n") || l.ends_with(b"\r") {
        &l[..l.len() - 1]
    } else {
        l
    }
}

pub(super) fn lower(b: &[u8]) -> Vec<u8> {
    b.to_ascii_lowercase()
}
