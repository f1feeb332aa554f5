//! Transfer decodings with the behaviour of CPython 2.7's `binascii`,
//! `quopri` and `email.quoprimime`.

fn b64val(c: u8) -> Option<u8> {
    match c {
        b'A'..=b'Z' => Some(c - b'A'),
        b'a'..=b'z' => Some(c - b'a' + 26),
        b'0'..=b'9' => Some(c - b'0' + 52),
        b'+' => Some(62),
        b'/' => Some(63),
        _ => None,
    }
}

/// `binascii.a2b_base64`: skips characters outside the alphabet, stops at a
/// valid pad sequence, fails ("Incorrect padding") on leftover bits.
pub(crate) fn a2b_base64(s: &[u8]) -> Result<Vec<u8>, ()> {
    let mut out = Vec::with_capacity(s.len() * 3 / 4);
    let mut quad = 0u8;
    let mut leftbits = 0u32;
    let mut leftchar = 0u32;
    let mut i = 0;
    while i < s.len() {
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
        return Err(());
    }
    Ok(out)
}

fn hexval(c: u8) -> Option<u8> {
    (c as char).to_digit(16).map(|d| d as u8)
}

/// `binascii.a2b_qp(s, header=False)` (what `quopri.decodestring` uses).
pub(crate) fn a2b_qp(s: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(s.len());
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
            out.push(s[i]);
            i += 1;
        }
    }
    out
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
