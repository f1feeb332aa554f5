//! CPython 2.7's UTF-8, UTF-7 and UTF-16 codecs (`Objects/unicodeobject.c`),
//! with its error positions.

use super::binascii::b64val;
use super::codec::{Codec, DecodeError, Out};

/// `PyUnicode_DecodeUTF8`. Python 2 accepts encoded surrogates; they have
/// no `char` and become U+FFFD.
pub(crate) fn decode_utf8(b: &[u8], out: &mut Out) -> Result<(), DecodeError> {
    let n = b.len();
    let mut i = 0;
    let cont = |x: u8| x & 0xc0 == 0x80;
    while i < n {
        let c = b[i];
        if c < 0x80 {
            out.text.push(c as char);
            i += 1;
            continue;
        }
        let len = match c {
            0xc2..=0xdf => 2,
            0xe0..=0xef => 3,
            0xf0..=0xf4 => 4,
            _ => 0,
        };
        if len == 0 {
            out.bad(i, i + 1)?;
            i += 1;
            continue;
        }
        if i + len > n {
            // Unexpected end of data: the following continuation bytes go too.
            let mut k = 1;
            while i + k < n && cont(b[i + k]) {
                k += 1;
            }
            out.bad(i, i + k)?;
            i += k;
            continue;
        }
        let ok = match len {
            2 => cont(b[i + 1]),
            3 => cont(b[i + 1]) && cont(b[i + 2]) && !(c == 0xe0 && b[i + 1] < 0xa0),
            _ => {
                cont(b[i + 1])
                    && cont(b[i + 2])
                    && cont(b[i + 3])
                    && !(c == 0xf0 && b[i + 1] < 0x90)
                    && !(c == 0xf4 && b[i + 1] > 0x8f)
            }
        };
        if !ok {
            // The bad sequence spans the lead byte and the continuation
            // bytes before the offending one (at most two of them).
            let mut k = 1;
            if len >= 3 && cont(b[i + 1]) {
                k += 1;
                if len == 4 && cont(b[i + 2]) {
                    k += 1;
                }
            }
            out.bad(i, i + k)?;
            i += k;
            continue;
        }
        let cp = match len {
            2 => ((c as u32 & 0x1f) << 6) | (b[i + 1] as u32 & 0x3f),
            3 => {
                ((c as u32 & 0x0f) << 12)
                    | ((b[i + 1] as u32 & 0x3f) << 6)
                    | (b[i + 2] as u32 & 0x3f)
            }
            _ => {
                ((c as u32 & 0x07) << 18)
                    | ((b[i + 1] as u32 & 0x3f) << 12)
                    | ((b[i + 2] as u32 & 0x3f) << 6)
                    | (b[i + 3] as u32 & 0x3f)
            }
        };
        out.push_cp(cp);
        i += len;
    }
    Ok(())
}

/// `PyUnicode_DecodeUTF16` with byte order `big` (`None`: from a BOM at
/// the start, else little-endian).
pub(crate) fn decode_utf16(b: &[u8], big: Option<bool>, out: &mut Out) -> Result<(), DecodeError> {
    let mut i = 0;
    let big = match big {
        Some(x) => x,
        None => match b {
            [0xff, 0xfe, ..] => {
                i = 2;
                false
            }
            [0xfe, 0xff, ..] => {
                i = 2;
                true
            }
            _ => false,
        },
    };
    let unit = |j: usize| -> u32 {
        if big {
            (b[j] as u32) << 8 | b[j + 1] as u32
        } else {
            (b[j + 1] as u32) << 8 | b[j] as u32
        }
    };
    let n = b.len();
    while i < n {
        if n - i < 2 {
            out.bad(i, n)?; // truncated data
            break;
        }
        let ch = unit(i);
        i += 2;
        if !(0xd800..=0xdfff).contains(&ch) {
            out.push_cp(ch);
            continue;
        }
        if n - i < 2 {
            out.bad(i - 2, n)?; // unexpected end of data
            break;
        }
        if ch <= 0xdbff {
            let ch2 = unit(i);
            i += 2;
            if (0xdc00..=0xdfff).contains(&ch2) {
                out.push_cp((((ch & 0x3ff) << 10) | (ch2 & 0x3ff)) + 0x10000);
                continue;
            }
            // Illegal surrogate: the high one alone; go on at the second.
            i -= 2;
            out.bad(i - 2, i)?;
            continue;
        }
        out.bad(i - 2, i)?; // illegal encoding
    }
    Ok(())
}

/// `PyUnicode_DecodeUTF7`.
pub(crate) fn decode_utf7(b: &[u8], out: &mut Out) -> Result<(), DecodeError> {
    let n = b.len();
    let mut i = 0;
    let mut in_shift = false;
    let mut bits = 0u32;
    let mut buffer = 0u32;
    let mut surrogate = 0u32;
    let mut start = 0;
    while i < n {
        let ch = b[i];
        if in_shift {
            if let Some(v) = b64val(ch) {
                buffer = (buffer << 6) | u32::from(v);
                bits += 6;
                i += 1;
                if bits >= 16 {
                    let out_ch = (buffer >> (bits - 16)) & 0xffff;
                    bits -= 16;
                    buffer &= (1 << bits) - 1;
                    if surrogate != 0 {
                        if (0xdc00..=0xdfff).contains(&out_ch) {
                            out.push_cp((((surrogate & 0x3ff) << 10) | (out_ch & 0x3ff)) + 0x10000);
                            surrogate = 0;
                            continue;
                        }
                        out.push_cp(surrogate);
                        surrogate = 0;
                    }
                    if (0xd800..=0xdbff).contains(&out_ch) {
                        surrogate = out_ch;
                    } else {
                        out.push_cp(out_ch);
                    }
                }
                continue;
            }
            // Leaving the shift: a '-' is absorbed, any other byte is read
            // again outside it.
            in_shift = false;
            if surrogate != 0 {
                out.push_cp(surrogate);
                surrogate = 0;
            }
            if bits >= 6 || (bits > 0 && buffer != 0) {
                // Partial character, or non-zero padding bits: the error
                // takes the terminating byte along.
                i += 1;
                out.bad(start, i)?;
                continue;
            }
            if ch == b'-' {
                i += 1;
            }
        } else if ch == b'+' {
            start = i;
            i += 1;
            if i < n && b[i] == b'-' {
                i += 1;
                out.text.push('+');
            } else {
                in_shift = true;
                bits = 0;
                buffer = 0;
            }
        } else if ch < 0x80 {
            out.text.push(ch as char);
            i += 1;
        } else {
            out.bad(i, i + 1)?; // unexpected special character
            i += 1;
        }
    }
    if in_shift && (surrogate != 0 || bits >= 6 || (bits > 0 && buffer != 0)) {
        out.bad(start, n)?; // unterminated shift sequence
    }
    Ok(())
}

/// `PyUnicode_EncodeUTF7(s, size, 0, 0)`: what `text.encode('utf-7')` gives.
pub(crate) fn encode_utf7(text: &str) -> Vec<u8> {
    const B64: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    // ENCODE_DIRECT: sets D and O and white space (encodeSetO and
    // encodeWhiteSpace are 0), not '+', '\\', '~' and other controls.
    let direct = |c: u32| {
        c < 128
            && c > 0
            && ((c as u8).is_ascii_alphanumeric()
                || b"'(),-./:?!\"#$%&*;<=>@[]^_`{|} \t\r\n".contains(&(c as u8)))
    };
    let mut out = Vec::with_capacity(text.len());
    let mut in_shift = false;
    let mut bits = 0u32;
    let mut buffer = 0u32;
    let mut units = Vec::new();
    for c in text.chars() {
        units.clear();
        let cp = c as u32;
        if cp >= 0x10000 {
            let v = cp - 0x10000;
            units.push(0xd800 | (v >> 10));
            units.push(0xdc00 | (v & 0x3ff));
        } else {
            units.push(cp);
        }
        for &u in &units {
            if in_shift {
                if direct(u) {
                    // Shifting out.
                    if bits > 0 {
                        out.push(B64[((buffer << (6 - bits)) & 0x3f) as usize]);
                        buffer = 0;
                        bits = 0;
                    }
                    in_shift = false;
                    if b64val(u as u8).is_some() || u == b'-' as u32 {
                        out.push(b'-');
                    }
                    out.push(u as u8);
                    continue;
                }
            } else if u == b'+' as u32 {
                out.extend_from_slice(b"+-");
                continue;
            } else if direct(u) {
                out.push(u as u8);
                continue;
            } else {
                out.push(b'+');
                in_shift = true;
            }
            bits += 16;
            buffer = (buffer << 16) | u;
            while bits >= 6 {
                out.push(B64[((buffer >> (bits - 6)) & 0x3f) as usize]);
                bits -= 6;
            }
            buffer &= (1 << bits) - 1;
        }
    }
    if bits > 0 {
        out.push(B64[((buffer << (6 - bits)) & 0x3f) as usize]);
    }
    if in_shift {
        out.push(b'-');
    }
    out
}

/// `text.encode('utf-16' | 'utf-16-le' | 'utf-16-be')`: `utf-16` writes a
/// little-endian BOM first.
pub(crate) fn encode_utf16(text: &str, codec: Codec) -> Vec<u8> {
    let big = codec == Codec::Utf16Be;
    let mut out = Vec::with_capacity(text.len() * 2 + 2);
    if codec == Codec::Utf16 {
        out.extend_from_slice(&[0xff, 0xfe]);
    }
    for u in text.encode_utf16() {
        if big {
            out.extend_from_slice(&u.to_be_bytes());
        } else {
            out.extend_from_slice(&u.to_le_bytes());
        }
    }
    out
}
