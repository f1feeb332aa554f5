//! Byte-level decoders with the behaviour of CPython 2.7's `binascii`,
//! `quopri` and the `unicode(bytes, charset, 'replace')` codecs that matter
//! for Mailman's header and body handling.

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

fn normalize_name(name: &str) -> String {
    // encodings.normalize_encoding: runs of punctuation become one '_'.
    let mut out = String::new();
    let mut punct = false;
    for c in name.chars() {
        if c.is_ascii_alphanumeric() || c == '.' {
            if punct && !out.is_empty() {
                out.push('_');
            }
            out.push(c.to_ascii_lowercase());
            punct = false;
        } else {
            punct = true;
        }
    }
    out
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) enum Codec {
    Ascii,
    Latin1,
    Utf8,
    Table(&'static [u16; 128]),
}

/// Python's codec lookup for the charsets this crate can decode. `None`
/// means "unknown" (Python's `LookupError`); charsets Python knows but this
/// crate has no table for are also `None`.
pub(crate) fn lookup(name: &str) -> Option<Codec> {
    let n = normalize_name(name);
    let n = n.replace('.', "_");
    Some(match n.as_str() {
        "ascii" | "us_ascii" | "646" | "us" | "ansi_x3_4_1968" | "ansi_x3_4_1986" | "cp367"
        | "csascii" | "ibm367" | "iso646_us" | "iso_646_irv_1991" | "iso_ir_6" => Codec::Ascii,
        "latin_1" | "latin1" | "latin" | "l1" | "iso_8859_1" | "iso8859_1" | "8859" | "cp819"
        | "iso_ir_100" | "csisolatin1" | "iso_8859_1_1987" | "ibm819" => Codec::Latin1,
        "utf_8" | "utf8" | "u8" | "utf" | "utf8_ucs2" | "utf8_ucs4" => Codec::Utf8,
        other => {
            let (_, t) = super::charsets::TABLES
                .iter()
                .find(|(names, _)| names.contains(&other))?;
            Codec::Table(t)
        }
    })
}

/// `unicode(bytes, codec, 'replace')`.
pub(crate) fn decode_replace(b: &[u8], codec: Codec) -> String {
    match codec {
        Codec::Ascii => b
            .iter()
            .map(|&c| if c < 0x80 { c as char } else { '\u{fffd}' })
            .collect(),
        Codec::Latin1 => b.iter().map(|&c| c as char).collect(),
        Codec::Utf8 => utf8_replace(b),
        Codec::Table(t) => b
            .iter()
            .map(|&c| {
                if c < 0x80 {
                    c as char
                } else {
                    char::from_u32(t[(c - 0x80) as usize] as u32).unwrap_or('\u{fffd}')
                }
            })
            .collect(),
    }
}

/// Strict decoding; `None` on any invalid byte.
pub(crate) fn decode_strict(b: &[u8], codec: Codec) -> Option<String> {
    match codec {
        Codec::Ascii if !b.is_ascii() => None,
        Codec::Utf8 => std::str::from_utf8(b).ok().map(str::to_owned),
        Codec::Table(t) if b.iter().any(|&c| c >= 0x80 && t[(c - 0x80) as usize] == U) => None,
        _ => Some(decode_replace(b, codec)),
    }
}

/// CPython 2.7's UTF-8 decoder with the 'replace' handler. Encoded
/// surrogates, which it accepts, become U+FFFD here.
fn utf8_replace(b: &[u8]) -> String {
    let mut out = String::with_capacity(b.len());
    let n = b.len();
    let mut i = 0;
    let cont = |x: u8| x & 0xc0 == 0x80;
    while i < n {
        let c = b[i];
        if c < 0x80 {
            out.push(c as char);
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
            out.push('\u{fffd}');
            i += 1;
            continue;
        }
        if i + len > n {
            // Unexpected end of data: swallow the following continuation bytes.
            let mut k = 1;
            while i + k < n && cont(b[i + k]) {
                k += 1;
            }
            out.push('\u{fffd}');
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
            out.push('\u{fffd}');
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
        out.push(char::from_u32(cp).unwrap_or('\u{fffd}'));
        i += len;
    }
    out
}

const U: u16 = 0xfffd;
