//! Mailman's languages: its `LC_DESCRIPTIONS` (language → charset) and its
//! translation catalogs (`.mo` files), parsed the way Python 2.7's
//! `gettext` parses them so that texts are worded as the installed Mailman
//! words them. Pure: the decision finds translations through the
//! [`Translations`] trait; reading the installed files
//! (`messages/<lang>/LC_MESSAGES/mailman.mo`) is [`crate::catalogs`]'s.
//!
//! The `.mo` format is a header and two tables of (length, offset) pairs;
//! the reader below is the few lines it takes, and keeps Python's handling
//! of the catalog's charset (crates for gettext convert to UTF-8 on their
//! own terms).

use std::collections::HashMap;
use std::sync::Arc;

use crate::py;

/// Mailman 2.1.39's `LC_DESCRIPTIONS`: the charset of each language it ships.
#[cfg_attr(target_os = "linux", link_section = ".text.hot.mailman_gate_verdict")]
pub fn charset(lang: &str) -> Option<&'static str> {
    Some(match lang {
        "en" => "us-ascii",
        "ast" | "da" | "de" | "es" | "fi" | "fr" | "it" | "nl" | "no" | "pt" | "pt_BR" | "sv" => {
            "iso-8859-1"
        }
        "cs" | "hr" | "hu" | "pl" | "sl" => "iso-8859-2",
        "et" | "eu" | "ia" => "iso-8859-15",
        "el" => "iso-8859-7",
        "ja" => "euc-jp",
        "ko" => "euc-kr",
        "lt" => "iso-8859-13",
        "tr" => "iso-8859-9",
        "ar" | "ca" | "eo" | "fa" | "gl" | "he" | "ro" | "ru" | "sk" | "sr" | "uk" | "vi"
        | "zh_CN" | "zh_TW" => "utf-8",
        _ => return None,
    })
}

/// One language's catalog as Python's `GNUTranslations` holds it: msgid →
/// msgstr, both decoded with the charset its header names.
#[derive(Debug)]
pub struct Catalog {
    /// The header's charset; `None`: texts are kept as bytes (Latin-1 view).
    pub charset: Option<String>,
    entries: HashMap<String, String>,
}

impl Catalog {
    /// Parse a `.mo` file. `Err` where Python's `gettext` raises too.
    pub fn parse(mo: &[u8]) -> Result<Catalog, String> {
        let magic = mo.get(..4).ok_or("too short")?;
        let le = match magic {
            [0xde, 0x12, 0x04, 0x95] => true,
            [0x95, 0x04, 0x12, 0xde] => false,
            _ => return Err("bad magic number".into()),
        };
        let word = |at: usize| -> Result<usize, String> {
            let b: [u8; 4] = mo
                .get(at..at + 4)
                .ok_or("truncated")?
                .try_into()
                .expect("four bytes");
            Ok(if le {
                u32::from_le_bytes(b)
            } else {
                u32::from_be_bytes(b)
            } as usize)
        };
        let (n, ids, strs) = (word(8)?, word(12)?, word(16)?);
        let slice = |table: usize, i: usize| -> Result<&[u8], String> {
            let len = word(table + 8 * i)?;
            let off = word(table + 8 * i + 4)?;
            mo.get(off..off.checked_add(len).ok_or("overflow")?)
                .ok_or_else(|| "truncated".to_string())
        };
        let mut raw = Vec::with_capacity(n.min(100_000));
        let mut charset = None;
        for i in 0..n {
            let (id, s) = (slice(ids, i)?, slice(strs, i)?);
            if id.is_empty() {
                // The header: `Content-Type: text/plain; charset=...`.
                for line in s.split(|&b| b == b'\n') {
                    let line = py::latin1(line);
                    if line.to_ascii_lowercase().starts_with("content-type:") {
                        if let Some(cs) = line.split("charset=").nth(1) {
                            charset = Some(cs.trim().to_owned());
                        }
                    }
                }
            }
            raw.push((id, s));
        }
        let codec = match &charset {
            Some(cs) => Some(py::lookup(cs).map_err(|_| format!("unknown charset {cs}"))?),
            None => None,
        };
        let text = |b: &[u8]| -> Result<String, String> {
            match codec {
                Some(c) => py::codec::decode_strict(b, c)
                    .ok_or_else(|| format!("text not in {}", c.name())),
                None => Ok(py::latin1(b)),
            }
        };
        let mut entries = HashMap::with_capacity(raw.len());
        for (id, s) in raw {
            if id.contains(&0) {
                continue; // plural forms: not used by the texts decided here
            }
            entries.insert(text(id)?, text(s)?);
        }
        Ok(Catalog { charset, entries })
    }

    /// `gettext(msgid)`: the translation, if the catalog has one.
    pub fn gettext(&self, msgid: &str) -> Option<&str> {
        self.entries.get(msgid).map(String::as_str)
    }
}

/// What `i18n.set_language(lang)` finds.
#[derive(Debug, Clone)]
pub enum Translation {
    Catalog(Arc<Catalog>),
    /// No catalog for the language: untranslated English, as Mailman does.
    English,
    /// The catalogs are not installed where `mailman_dir` says: the
    /// installation directory, for the caveat.
    Missing(String),
    /// A catalog Python's `gettext` would fail on: why.
    Broken(String),
}

/// Where the decision finds Mailman's translations: a lookup by language
/// code that answers with a [`Translation`] (no path, no error to handle):
/// whatever reading it takes is the implementor's, done before or
/// beside the decision.
pub trait Translations {
    /// What `i18n.set_language(lang)` finds.
    fn translation(&self, lang: &str) -> Translation;
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A `.mo` file as `msgfmt` writes it (little-endian, no hash table).
    pub(crate) fn mo(entries: &[(&[u8], &[u8])]) -> Vec<u8> {
        let mut e: Vec<(&[u8], &[u8])> = entries.to_vec();
        e.sort();
        let n = e.len();
        let ids = 28;
        let strs = ids + 8 * n;
        let mut data = Vec::new();
        let mut idt = Vec::new();
        let mut st = Vec::new();
        let base = strs + 8 * n;
        for (id, _) in &e {
            idt.push((id.len(), base + data.len()));
            data.extend_from_slice(id);
            data.push(0);
        }
        for (_, s) in &e {
            st.push((s.len(), base + data.len()));
            data.extend_from_slice(s);
            data.push(0);
        }
        let mut out = Vec::new();
        for w in [0x950412de_u32, 0, n as u32, ids as u32, strs as u32, 0, 0] {
            out.extend_from_slice(&w.to_le_bytes());
        }
        for (l, o) in idt.iter().chain(st.iter()) {
            out.extend_from_slice(&(*l as u32).to_le_bytes());
            out.extend_from_slice(&(*o as u32).to_le_bytes());
        }
        out.extend_from_slice(&data);
        out
    }

    #[test]
    fn reads_a_catalog_in_its_charset() {
        let file = mo(&[
            (b"", b"Content-Type: text/plain; charset=euc-jp\n"),
            (b"Post to moderated list", b"\xa5\xc6\xa5\xb9\xa5\xc8"),
        ]);
        let c = Catalog::parse(&file).unwrap();
        assert_eq!(c.charset.as_deref(), Some("euc-jp"));
        assert_eq!(c.gettext("Post to moderated list"), Some("テスト"));
        assert_eq!(c.gettext("missing"), None);
        assert!(Catalog::parse(b"\x00\x01\x02\x03").is_err());
        let bad = mo(&[
            (b"", b"Content-Type: text/plain; charset=utf-8\n"),
            (b"x", b"\xff"),
        ]);
        assert!(Catalog::parse(&bad).is_err());
    }

    #[test]
    fn charsets_as_mailman() {
        assert_eq!(charset("ja"), Some("euc-jp"));
        assert_eq!(charset("ru"), Some("utf-8"));
        assert_eq!(charset("xx"), None);
    }
}
