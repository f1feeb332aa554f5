//! `codecs.lookup`, `unicode(bytes, charset, errors)` and
//! `text.encode(charset, errors)` as CPython 2.7 does them for the codecs
//! mail uses: one [`Codec`] per Python codec module, with Python's error
//! positions (`strict`) and replacement (`replace`).

use super::{cjk, names, single_byte, utf};

/// One of Python 2.7's codecs.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Codec {
    Ascii,
    Latin1,
    Utf8,
    Utf7,
    /// `utf_16`: a byte order mark picks the order, else little-endian
    /// (the order of the machines Mailman runs on).
    Utf16,
    Utf16Le,
    Utf16Be,
    /// A charmap codec: each byte decodes on its own.
    Single(&'static SingleByte),
    /// A CJK multibyte codec, on top of encoding_rs.
    Multi(&'static cjk::Multi),
    Iso2022Jp,
}

/// A charmap codec's table (0xFFFD: the byte is undefined).
#[derive(PartialEq, Eq, Debug)]
pub struct SingleByte {
    pub name: &'static str,
    pub table: &'static [u16; 256],
}

/// How encoding errors are handled: Python's `errors` argument.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Errors {
    /// Raise: `UnicodeDecodeError`/`UnicodeEncodeError`.
    Strict,
    /// U+FFFD when decoding, `?` when encoding.
    Replace,
}

/// Python's `UnicodeDecodeError`: the bad bytes are `start..end` (`end`
/// may pass the end of the input, as in Python's multibyte codecs).
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct DecodeError {
    pub start: usize,
    pub end: usize,
}

/// Python's `UnicodeEncodeError`: the characters (not bytes) `start..end`.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct EncodeError {
    pub start: usize,
    pub end: usize,
}

/// Why [`lookup`] found no codec.
#[derive(Clone, PartialEq, Eq, Debug)]
pub enum LookupError {
    /// Python has no such codec: its `LookupError`.
    Unknown,
    /// Python has it (the module is named); this crate does not decode it.
    Unsupported(&'static str),
}

/// `encodings.normalize_encoding` after the registry's lower-casing: runs
/// of characters other than ASCII letters, digits and `.` become one `_`,
/// none at either end.
fn normalize(name: &str) -> String {
    let mut out = String::with_capacity(name.len());
    let mut gap = false;
    for c in name.chars() {
        if c.is_ascii_alphanumeric() || c == '.' {
            if gap && !out.is_empty() {
                out.push('_');
            }
            out.push(c.to_ascii_lowercase());
            gap = false;
        } else {
            gap = true;
        }
    }
    out
}

/// The codec module `encodings.search_function` imports for `name`.
fn module_of(table: &'static [(&'static str, &'static str)], name: &str) -> Option<&'static str> {
    let norm = normalize(name);
    let find = |k: &str| {
        table
            .binary_search_by(|(a, _)| (*a).cmp(k))
            .ok()
            .map(|i| table[i].1)
    };
    find(&norm).or_else(|| find(&norm.replace('.', "_")))
}

/// Python's `codecs.lookup(name)`, for decoding and encoding text.
pub fn lookup(name: &str) -> Result<Codec, LookupError> {
    let Some(module) = module_of(names::NAMES, name) else {
        return Err(match module_of(names::ELSEWHERE, name) {
            Some(m) => LookupError::Unsupported(m),
            None => LookupError::Unknown,
        });
    };
    Ok(match module {
        "ascii" => Codec::Ascii,
        "latin_1" => Codec::Latin1,
        "utf_8" => Codec::Utf8,
        "utf_7" => Codec::Utf7,
        "utf_16" => Codec::Utf16,
        "utf_16_le" => Codec::Utf16Le,
        "utf_16_be" => Codec::Utf16Be,
        "iso2022_jp" => Codec::Iso2022Jp,
        m => match cjk::multi(m) {
            Some(multi) => Codec::Multi(multi),
            None => Codec::Single(single(m).ok_or(LookupError::Unsupported(module))?),
        },
    })
}

fn single(module: &str) -> Option<&'static SingleByte> {
    static ALL: std::sync::LazyLock<Vec<SingleByte>> = std::sync::LazyLock::new(|| {
        single_byte::TABLES
            .iter()
            .map(|(name, table)| SingleByte { name, table })
            .collect()
    });
    ALL.iter().find(|s| s.name == module)
}

impl Codec {
    /// The Python codec module's name.
    pub fn name(self) -> &'static str {
        match self {
            Codec::Ascii => "ascii",
            Codec::Latin1 => "latin_1",
            Codec::Utf8 => "utf_8",
            Codec::Utf7 => "utf_7",
            Codec::Utf16 => "utf_16",
            Codec::Utf16Le => "utf_16_le",
            Codec::Utf16Be => "utf_16_be",
            Codec::Single(s) => s.name,
            Codec::Multi(m) => m.name,
            Codec::Iso2022Jp => "iso2022_jp",
        }
    }
}

/// Collects decoded text; a bad sequence either ends the decoding
/// (`strict`) or becomes U+FFFD.
pub(crate) struct Out {
    pub text: String,
    errors: Errors,
}

impl Out {
    pub fn new(capacity: usize, errors: Errors) -> Out {
        Out {
            text: String::with_capacity(capacity),
            errors,
        }
    }
    /// The bytes `start..end` are invalid.
    pub fn bad(&mut self, start: usize, end: usize) -> Result<(), DecodeError> {
        match self.errors {
            Errors::Strict => Err(DecodeError { start, end }),
            Errors::Replace => {
                self.text.push('\u{fffd}');
                Ok(())
            }
        }
    }
    /// A code point Python produces; a lone surrogate (which Python 2
    /// keeps in a `unicode`) has no `char` and becomes U+FFFD.
    pub fn push_cp(&mut self, cp: u32) {
        self.text.push(char::from_u32(cp).unwrap_or('\u{fffd}'));
    }
}

/// `unicode(b, codec, errors)`.
pub fn decode(b: &[u8], codec: Codec, errors: Errors) -> Result<String, DecodeError> {
    let mut out = Out::new(b.len(), errors);
    match codec {
        Codec::Ascii => {
            for (i, &c) in b.iter().enumerate() {
                if c < 0x80 {
                    out.text.push(c as char);
                } else {
                    out.bad(i, i + 1)?;
                }
            }
        }
        Codec::Latin1 => out.text.extend(b.iter().map(|&c| c as char)),
        Codec::Utf8 => utf::decode_utf8(b, &mut out)?,
        Codec::Utf7 => utf::decode_utf7(b, &mut out)?,
        Codec::Utf16 => utf::decode_utf16(b, None, &mut out)?,
        Codec::Utf16Le => utf::decode_utf16(b, Some(false), &mut out)?,
        Codec::Utf16Be => utf::decode_utf16(b, Some(true), &mut out)?,
        Codec::Single(s) => {
            for (i, &c) in b.iter().enumerate() {
                match s.table[c as usize] {
                    0xfffd => out.bad(i, i + 1)?,
                    u => out.push_cp(u as u32),
                }
            }
        }
        Codec::Multi(m) => cjk::decode(m, b, &mut out)?,
        Codec::Iso2022Jp => cjk::decode_iso2022_jp(b, &mut out)?,
    }
    Ok(out.text)
}

/// `unicode(b, codec, 'replace')`.
pub fn decode_replace(b: &[u8], codec: Codec) -> String {
    decode(b, codec, Errors::Replace).unwrap_or_default()
}

/// `unicode(b, codec)`; `None` where Python raises.
pub fn decode_strict(b: &[u8], codec: Codec) -> Option<String> {
    decode(b, codec, Errors::Strict).ok()
}

/// `text.encode(codec, errors)`; `replace` puts `?` for each character the
/// codec cannot encode.
pub fn encode(text: &str, codec: Codec, errors: Errors) -> Result<Vec<u8>, EncodeError> {
    let mut out = Vec::with_capacity(text.len());
    for (i, c) in text.chars().enumerate() {
        let ok = match codec {
            Codec::Ascii => push_if(&mut out, c.is_ascii(), c as u8),
            Codec::Latin1 => push_if(&mut out, (c as u32) < 0x100, c as u32 as u8),
            Codec::Utf8 => {
                out.extend_from_slice(c.encode_utf8(&mut [0; 4]).as_bytes());
                true
            }
            Codec::Utf7 => {
                // Whole-string codec: not character by character.
                return Ok(utf::encode_utf7(text));
            }
            Codec::Utf16 | Codec::Utf16Le | Codec::Utf16Be => {
                return Ok(utf::encode_utf16(text, codec));
            }
            Codec::Single(s) => match single_encode(s, c) {
                Some(b) => {
                    out.push(b);
                    true
                }
                None => false,
            },
            Codec::Multi(m) => match cjk::encode_char(m, c) {
                Some(bytes) => {
                    out.extend_from_slice(&bytes);
                    true
                }
                None => false,
            },
            Codec::Iso2022Jp => {
                return cjk::encode_iso2022_jp(text, errors);
            }
        };
        if !ok {
            match errors {
                Errors::Strict => {
                    // The charmap encoders (ASCII and Latin-1 too) report
                    // the whole run of characters they cannot encode.
                    let run = match codec {
                        Codec::Ascii | Codec::Latin1 | Codec::Single(_) => text
                            .chars()
                            .skip(i)
                            .take_while(|&c| !charmap_encodes(codec, c))
                            .count(),
                        _ => 1,
                    };
                    return Err(EncodeError {
                        start: i,
                        end: i + run,
                    });
                }
                Errors::Replace => match codec {
                    // '?' as the codec writes it (not ASCII in EBCDIC).
                    Codec::Single(s) => out.push(single_encode(s, '?').unwrap_or(b'?')),
                    _ => out.push(b'?'),
                },
            }
        }
    }
    Ok(out)
}

fn charmap_encodes(codec: Codec, c: char) -> bool {
    match codec {
        Codec::Ascii => c.is_ascii(),
        Codec::Latin1 => (c as u32) < 0x100,
        Codec::Single(s) => single_encode(s, c).is_some(),
        _ => true,
    }
}

fn push_if(out: &mut Vec<u8>, ok: bool, b: u8) -> bool {
    if ok {
        out.push(b);
    }
    ok
}

/// `codecs.charmap_build`: where two bytes decode to one character, the
/// last one encodes it.
fn single_encode(s: &SingleByte, c: char) -> Option<u8> {
    let cp = c as u32;
    if cp == 0xfffd {
        return None;
    }
    s.table
        .iter()
        .rposition(|&u| u as u32 == cp)
        .map(|i| i as u8)
}

/// `text.encode(codec, 'replace')`.
pub fn encode_replace(text: &str, codec: Codec) -> Vec<u8> {
    encode(text, codec, Errors::Replace).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lookup_like_python() {
        assert_eq!(lookup("UTF-8"), Ok(Codec::Utf8));
        assert_eq!(lookup(" us-ascii "), Ok(Codec::Ascii));
        assert_eq!(lookup("ISO_8859-1:1987"), Ok(Codec::Latin1));
        assert_eq!(lookup("ks_c_5601-1987").map(Codec::name), Ok("euc_kr"));
        assert_eq!(lookup("x-sjis"), Err(LookupError::Unknown));
        assert_eq!(lookup("Shift_JIS").map(Codec::name), Ok("shift_jis"));
        assert_eq!(lookup("iso-8859-8-i"), Err(LookupError::Unknown));
        assert_eq!(lookup("windows-1251").map(Codec::name), Ok("cp1251"));
        assert_eq!(lookup("hz-gb-2312"), Err(LookupError::Unsupported("hz")));
        assert_eq!(lookup("aliases"), Err(LookupError::Unknown));
    }
}
