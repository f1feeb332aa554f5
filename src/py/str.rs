//! `str` against `unicode`: a pickled Python 2 string, the Latin-1 view of
//! bytes that keeps a `str` byte-for-byte in a Rust `String`, and the two
//! `splitlines`.

/// A Python 2 string as pickled: `str` (bytes in the list's charset) or
/// `unicode`. Some steps treat the two differently (header filter rules).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum PyStr {
    Bytes(Vec<u8>),
    Text(String),
}

impl PyStr {
    /// The text, reading `str` bytes as UTF-8 when valid, else as Latin-1.
    pub fn to_text(&self) -> String {
        match self {
            PyStr::Text(t) => t.clone(),
            PyStr::Bytes(b) => bytes_to_text(b),
        }
    }
    pub fn is_empty(&self) -> bool {
        match self {
            PyStr::Text(t) => t.is_empty(),
            PyStr::Bytes(b) => b.is_empty(),
        }
    }
}

impl Default for PyStr {
    fn default() -> Self {
        PyStr::Bytes(Vec::new())
    }
}

/// UTF-8 when valid, else each byte as the Latin-1 character of that value.
pub fn bytes_to_text(b: &[u8]) -> String {
    match std::str::from_utf8(b) {
        Ok(s) => s.to_owned(),
        Err(_) => b.iter().map(|&c| c as char).collect(),
    }
}

/// Latin-1 view of bytes (one `char` per byte).
pub fn latin1(b: &[u8]) -> String {
    match std::str::from_utf8(b) {
        // ASCII is the same text either way: one copy.
        Ok(s) if b.is_ascii() => s.to_owned(),
        _ => b.iter().map(|&c| c as char).collect(),
    }
}

/// Python 2's `splitlines()`: of a `str` (`unicode` false: only `\n`,
/// `\r` and `\r\n` end a line) or of a `unicode` (also `\x0b`, `\x0c`,
/// `\x1c`-`\x1e`, U+0085, U+2028, U+2029).
pub fn splitlines(s: &str, unicode: bool) -> Vec<&str> {
    let is_break = |c: char| {
        matches!(c, '\n' | '\r')
            || (unicode
                && matches!(
                    c,
                    '\x0b' | '\x0c' | '\x1c' | '\x1d' | '\x1e' | '\u{85}' | '\u{2028}' | '\u{2029}'
                ))
    };
    let mut out = Vec::new();
    let mut start = 0;
    let mut it = s.char_indices().peekable();
    while let Some((i, c)) = it.next() {
        if is_break(c) {
            out.push(&s[start..i]);
            let mut end = i + c.len_utf8();
            if c == '\r' {
                if let Some(&(j, '\n')) = it.peek() {
                    it.next();
                    end = j + 1;
                }
            }
            start = end;
        }
    }
    if start < s.len() {
        out.push(&s[start..]);
    }
    out
}

/// `memchr`, quicker when the byte is a few places away (dense markup,
/// escapes): the first 16 bytes are looked at one by one.
pub(crate) fn find_byte(byte: u8, hay: &[u8]) -> Option<usize> {
    let near = hay.len().min(16);
    match hay[..near].iter().position(|&c| c == byte) {
        Some(k) => Some(k),
        None => memchr::memchr(byte, &hay[near..]).map(|k| near + k),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splitlines_like_python() {
        assert_eq!(splitlines("a\nb\r\nc\rd", false), vec!["a", "b", "c", "d"]);
        assert_eq!(splitlines("a\n", false), vec!["a"]);
        assert_eq!(splitlines("a\x0cb", false), vec!["a\x0cb"]);
        assert_eq!(splitlines("a\x0cb", true), vec!["a", "b"]);
    }

    #[test]
    fn find_byte_near_and_far() {
        let mut hay = vec![b'x'; 100];
        assert_eq!(find_byte(b'=', &hay), None);
        hay[3] = b'=';
        assert_eq!(find_byte(b'=', &hay), Some(3));
        hay[3] = b'x';
        hay[16] = b'=';
        assert_eq!(find_byte(b'=', &hay), Some(16));
        assert_eq!(find_byte(b'=', &[]), None);
    }
}
