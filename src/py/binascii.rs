//! Transfer decodings with the behaviour of CPython 2.7's `binascii`,
//! `quopri` and `email.quoprimime`.

/// A base64 character's value (the UTF-7 codec reads the same alphabet).
pub(super) const fn b64val(c: u8) -> Option<u8> {
    match c {
        b'A'..=b'Z' => Some(c - b'A'),
        b'a'..=b'z' => Some(c - b'a' + 26),
        b'0'..=b'9' => Some(c - b'0' + 52),
        b'+' => Some(62),
        b'/' => Some(63),
        _ => None,
    }
}

/// [`b64val`] as a table; 0x80 marks a byte outside the alphabet.
const B64: [u8; 256] = {
    let mut t = [0x80u8; 256];
    let mut c = 0;
    while c < 256 {
        if let Some(v) = b64val(c as u8) {
            t[c] = v;
        }
        c += 1;
    }
    t
};

/// An allocation sized by the input was refused: the caller cannot tell
/// what Python would make of it (never an abort).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NoMemory;

/// Why [`a2b_base64`] gives no bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Base64Error {
    /// Python's "Incorrect padding".
    Padding,
    NoMemory,
}

/// An empty vector with room for `n` bytes, or [`NoMemory`].
fn buffer(n: usize) -> Result<Vec<u8>, NoMemory> {
    let mut v = Vec::new();
    v.try_reserve_exact(n).map_err(|_| NoMemory)?;
    Ok(v)
}

/// `binascii.a2b_base64`: skips characters outside the alphabet, stops at a
/// valid pad sequence, fails ("Incorrect padding") on leftover bits.
pub(crate) fn a2b_base64(s: &[u8]) -> Result<Vec<u8>, Base64Error> {
    // Four characters make at most three bytes: the output never grows
    // past this.
    let mut out = buffer(s.len() / 4 * 3 + 3).map_err(|_| Base64Error::NoMemory)?;
    let mut quad = 0u8;
    let mut leftbits = 0u32;
    let mut leftchar = 0u32;
    let mut i = 0;
    while i < s.len() {
        if quad == 0 {
            // Between quads (no bits left over), four alphabet characters
            // are three bytes: the common case, taken without the
            // character-by-character state below.
            while let Some(&[a, b, c, d]) = s.get(i..i + 4) {
                let (a, b, c, d) = (
                    B64[a as usize],
                    B64[b as usize],
                    B64[c as usize],
                    B64[d as usize],
                );
                if (a | b | c | d) & 0x80 != 0 {
                    break;
                }
                let v = (a as u32) << 18 | (b as u32) << 12 | (c as u32) << 6 | d as u32;
                out.extend_from_slice(&[(v >> 16) as u8, (v >> 8) as u8, v as u8]);
                i += 4;
            }
            if i == s.len() {
                break;
            }
        }
        let c = s[i];
        if c > 0x7f || c == b'\r' || c == b'\n' || c == b' ' {
            i += 1;
            continue;
        }
        if c == b'=' {
            // The pad ends the data only at quad position 3, or at 2 when
            // the next alphabet-or-pad character is another pad.
            let ends = if quad < 2 {
                false
            } else if quad == 2 {
                let mut next = None;
                for &d in &s[i + 1..] {
                    if d <= 0x7f && (d == b'=' || b64val(d).is_some()) {
                        next = Some(d);
                        break;
                    }
                }
                next == Some(b'=')
            } else {
                true
            };
            if ends {
                leftbits = 0;
                break;
            }
            i += 1;
            continue;
        }
        let v = match b64val(c) {
            Some(v) => v,
            None => {
                i += 1;
                continue;
            }
        };
        quad = (quad + 1) & 3;
        leftchar = (leftchar << 6) | v as u32;
        leftbits += 6;
        if leftbits >= 8 {
            leftbits -= 8;
            out.push(((leftchar >> leftbits) & 0xff) as u8);
            leftchar &= (1 << leftbits) - 1;
        }
        i += 1;
    }
    if leftbits != 0 {
        return Err(Base64Error::Padding);
    }
    Ok(out)
}

fn hexval(c: u8) -> Option<u8> {
    (c as char).to_digit(16).map(|d| d as u8)
}

/// `binascii.a2b_qp(s, header=False)` (what `quopri.decodestring` uses).
pub(crate) fn a2b_qp(s: &[u8]) -> Result<Vec<u8>, NoMemory> {
    // The output is never longer than the input.
    let mut out = buffer(s.len())?;
    let mut i = 0;
    let n = s.len();
    while i < n {
        if s[i] == b'=' {
            i += 1;
            if i >= n {
                break;
            }
            if s[i] == b'\n' || s[i] == b'\r' {
                if s[i] != b'\n' {
                    while i < n && s[i] != b'\n' {
                        i += 1;
                    }
                }
                if i < n {
                    i += 1;
                }
            } else if s[i] == b'=' {
                out.push(b'=');
                i += 1;
            } else if i + 1 < n && hexval(s[i]).is_some() && hexval(s[i + 1]).is_some() {
                out.push(hexval(s[i]).unwrap() << 4 | hexval(s[i + 1]).unwrap());
                i += 2;
            } else {
                out.push(b'=');
            }
        } else {
            // Up to the next escape at once.
            let end = super::str::find_byte(b'=', &s[i..]).map_or(n, |k| i + k);
            out.extend_from_slice(&s[i..end]);
            i = end;
        }
    }
    Ok(out)
}

/// `email.quoprimime.header_decode`: `_` is a space, `=XX` a byte.
pub(crate) fn q_header_decode(s: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(s.len());
    let mut i = 0;
    while i < s.len() {
        let c = s[i];
        if c == b'_' {
            out.push(b' ');
        } else if c == b'=' {
            match (
                s.get(i + 1).and_then(|&d| hexval(d)),
                s.get(i + 2).and_then(|&d| hexval(d)),
            ) {
                (Some(a), Some(b)) => {
                    out.push(a << 4 | b);
                    i += 3;
                    continue;
                }
                _ => out.push(b'='),
            }
        } else {
            out.push(c);
        }
        i += 1;
    }
    out
}
