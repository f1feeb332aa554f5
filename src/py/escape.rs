//! The backslash escapes of Python 2 string literals, as `string-escape`
//! (a pickle's `STRING` argument) and the tokenizer (`mm_cfg.py`) decode
//! them: one reader for the whole crate.

/// Why a `str` literal's escapes cannot be decoded (Python raises
/// `ValueError` for both).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EscapeError {
    /// The text ends with a single backslash.
    TrailingBackslash,
    /// `\x` not followed by two hex digits.
    BadHex,
}

impl std::fmt::Display for EscapeError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            EscapeError::TrailingBackslash => "trailing \\ in string",
            EscapeError::BadHex => "invalid \\x escape",
        })
    }
}

/// What a one-letter escape (`\n`, `\'`, `\a`, ...) stands for; `None` for
/// a letter that is no escape (Python then keeps the backslash).
pub fn simple_escape(e: u8) -> Option<u8> {
    Some(match e {
        b'\\' => b'\\',
        b'\'' => b'\'',
        b'"' => b'"',
        b'a' => 7,
        b'b' => 8,
        b'f' => 12,
        b'n' => b'\n',
        b'r' => b'\r',
        b't' => b'\t',
        b'v' => 11,
        _ => return None,
    })
}

/// An octal escape: one to three octal digits taken from the start of
/// `digits` (code points; the first must be an octal digit). Returns the
/// value (up to 0o777) and the number of digits used.
pub fn octal_escape(digits: impl IntoIterator<Item = u32>) -> (u32, usize) {
    let mut v = 0;
    let mut n = 0;
    for d in digits.into_iter().take(3) {
        if !(u32::from(b'0')..=u32::from(b'7')).contains(&d) {
            break;
        }
        v = v * 8 + (d - u32::from(b'0'));
        n += 1;
    }
    (v, n)
}

/// The value of two hex digits.
pub fn hex_byte(h: &[u8]) -> Option<u8> {
    let [hi, lo] = h else { return None };
    let hi = char::from(*hi).to_digit(16)?;
    let lo = char::from(*lo).to_digit(16)?;
    Some((hi * 16 + lo) as u8)
}

/// Decodes the escapes of a Python 2 `str` literal body (no quotes), as
/// `s.decode('string-escape')` does: an octal escape keeps its low 8 bits,
/// an unknown escape keeps its backslash, a backslash-newline vanishes.
pub fn string_escape(s: &[u8]) -> Result<Vec<u8>, EscapeError> {
    let mut out = Vec::with_capacity(s.len());
    let mut i = 0;
    while i < s.len() {
        let c = s[i];
        i += 1;
        if c != b'\\' {
            out.push(c);
            continue;
        }
        let Some(&e) = s.get(i) else {
            return Err(EscapeError::TrailingBackslash);
        };
        match e {
            b'\n' => i += 1,
            b'0'..=b'7' => {
                let (v, n) = octal_escape(s[i..].iter().map(|&b| u32::from(b)));
                out.push((v & 0xff) as u8);
                i += n;
            }
            b'x' => {
                let h = s.get(i + 1..i + 3).ok_or(EscapeError::BadHex)?;
                out.push(hex_byte(h).ok_or(EscapeError::BadHex)?);
                i += 3;
            }
            _ => {
                match simple_escape(e) {
                    Some(b) => out.push(b),
                    None => out.extend_from_slice(&[b'\\', e]),
                }
                i += 1;
            }
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_as_python_decodes_them() {
        assert_eq!(
            string_escape(b"a\\'b\\\\c\\x41\\101\\n\\q\\\nz\\0\\777\\18").unwrap(),
            b"a'b\\cAA\n\\qz\0\xff\x018"
        );
        assert_eq!(string_escape(b"ab\\"), Err(EscapeError::TrailingBackslash));
        assert_eq!(string_escape(b"\\x4"), Err(EscapeError::BadHex));
        assert_eq!(string_escape(b"\\x+1"), Err(EscapeError::BadHex));
        assert_eq!(octal_escape("1234".chars().map(u32::from)), (0o123, 3));
        assert_eq!(octal_escape("78".chars().map(u32::from)), (7, 1));
    }
}
