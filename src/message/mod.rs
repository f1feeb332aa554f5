//! A message as Mailman 2.1's Python `email` package sees it.
//!
//! The parser reproduces Python 2.7's `email.feedparser`: the same header
//! block splitting, the same MIME tree (boundaries, preamble, epilogue,
//! `message/*` and `message/delivery-status` sub-messages) and the same
//! header values. Mailman's handlers that read it live in `decide`.
//!
//! **Byte mapping.** Python 2 handles message text as bytes. Every string
//! this module returns that comes from the raw message (header values, the
//! unixfrom address, a body password) maps each byte to the `char` with the
//! same number (Latin-1), so the mapping round-trips and a byte-oriented
//! pattern sees exactly what Python's `re` sees on a `str`. Use
//! [`to_bytes`] to get the bytes back. [`Message::header_filter_text`] is
//! the exception: it is real Unicode, as Mailman decodes it.

mod addr;
mod feed;
mod params;
mod part;
mod rfc2047;
pub(crate) mod text;

use crate::py::binascii as codec;
use crate::py::codec as pycodec;
pub use crate::py::{latin1, splitlines as py_splitlines};
use unicode_normalization::UnicodeNormalization;

use std::borrow::Cow;

pub use crate::py::binascii::NoMemory;
pub use part::{Part, Walk};
use rfc2047::decoded_headers;
pub use rfc2047::oneline_utf8;

/// Structural limits. Past any of them the parse stops building the tree
/// and [`Message::limit`] says why: the message is then one the engine
/// cannot judge (Mailman decides). They bound the memory of the tree
/// (about 300 bytes a part, 100 a header, at most twice the header
/// bytes) whatever the MIME structure: far more than real mail uses.
pub mod limits {
    /// MIME nesting deeper than this.
    pub const MAX_DEPTH: usize = 64;
    /// Parts (every node of the tree, the message itself included).
    pub const MAX_PARTS: usize = 100_000;
    /// Header fields over all parts.
    pub const MAX_HEADERS: usize = 100_000;
    /// Bytes of all header blocks together.
    pub const MAX_HEADER_BYTES: usize = 8 << 20;
    /// Bytes of one part's header block (Exim's default `header_maxsize`
    /// for the top level).
    pub const MAX_BLOCK_HEADER_BYTES: usize = 1 << 20;
}

/// A parsed message, borrowing the raw bytes: payloads, preambles and
/// epilogues are slices of them. Parsing never fails: whatever Python's
/// parser would make of the bytes, this makes of them too, within
/// [`limits`].
#[derive(Debug, Clone, Default)]
pub struct Message<'a> {
    root: Part<'a>,
    limit: Option<String>,
    /// The bytes parsed, which the tree's borrowed fields are slices of.
    raw: &'a [u8],
}

/// A Unicode normalisation form, Mailman's NORMALIZE_FORM.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum NormalForm {
    Nfc,
    #[default]
    Nfkc,
    Nfd,
    Nfkd,
}

impl NormalForm {
    pub fn parse(s: &str) -> Option<NormalForm> {
        match s.to_ascii_uppercase().as_str() {
            "NFC" => Some(NormalForm::Nfc),
            "NFKC" => Some(NormalForm::Nfkc),
            "NFD" => Some(NormalForm::Nfd),
            "NFKD" => Some(NormalForm::Nfkd),
            _ => None,
        }
    }
    /// `unicodedata.normalize(form, text)`.
    pub fn apply(self, text: &str) -> String {
        if text.is_ascii() {
            // ASCII text is already in every normal form.
            return text.to_owned();
        }
        match self {
            NormalForm::Nfc => text.nfc().collect(),
            NormalForm::Nfkc => text.nfkc().collect(),
            NormalForm::Nfd => text.nfd().collect(),
            NormalForm::Nfkd => text.nfkd().collect(),
        }
    }
}

/// Why [`Message::header_filter_text`] has no text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HeaderTextError {
    /// An encoded word is in this Python codec, which is not decoded here.
    Codec(&'static str),
    /// Memory for the text was refused.
    NoMemory,
}

/// Inverse of the Latin-1 mapping; characters above U+00FF become `?`.
pub fn to_bytes(s: &str) -> Vec<u8> {
    s.chars()
        .map(|c| if (c as u32) < 256 { c as u8 } else { b'?' })
        .collect()
}

// ---------------------------------------------------------------------------

impl<'a> Message<'a> {
    /// Parse raw message bytes (headers, blank line, body; the body may be absent).
    #[cfg_attr(target_os = "linux", link_section = ".text.hot.mailman_gate_verdict")]
    pub fn parse(raw: &'a [u8]) -> Message<'a> {
        let (root, limit) = feed::parse(raw);
        Message { root, limit, raw }
    }

    /// The structural limit the message passes, if any ([`limits`]): the
    /// tree then stops there, and no verdict should rest on it.
    pub fn limit(&self) -> Option<&str> {
        self.limit.as_deref()
    }

    /// The message itself as a part (its top-level headers and payload).
    pub fn root(&self) -> &Part<'a> {
        &self.root
    }

    /// `msg.walk()`: every part, depth first, the message itself first.
    pub fn walk(&self) -> Walk<'_, 'a> {
        Walk::new(&self.root)
    }

    /// The MIME tree in walk order: (content type, string payload length
    /// or -1 for a list payload, preamble, epilogue). For diagnostics.
    #[doc(hidden)]
    pub fn structure(&self) -> Vec<(String, i64, Option<String>, Option<String>)> {
        self.walk()
            .map(|p| {
                (
                    p.content_type(),
                    if p.children.is_empty() {
                        p.payload.len() as i64
                    } else {
                        -1
                    },
                    p.preamble.as_deref().map(latin1),
                    p.epilogue.as_deref().map(latin1),
                )
            })
            .collect()
    }

    /// The whole unixfrom line (without its line end), if any.
    pub fn unixfrom(&self) -> Option<&str> {
        self.root.unixfrom.as_deref()
    }

    /// The address on a leading `From ` (unixfrom) line, if any.
    pub fn unixfrom_address(&self) -> Option<&str> {
        let u = self.root.unixfrom.as_deref()?;
        u.split([' ', '\t', '\n', '\r', '\x0b', '\x0c'])
            .filter(|w| !w.is_empty())
            .nth(1)
    }

    /// All values of a top-level header, in order (case-insensitive name), as `msg.get_all` returns them.
    #[cfg_attr(target_os = "linux", link_section = ".text.hot.mailman_gate_verdict")]
    pub fn get_all(&self, name: &str) -> Vec<&str> {
        self.root
            .headers
            .iter()
            .filter(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_ref())
            .collect()
    }

    /// The values of a top-level header in order, as [`Message::get_all`]
    /// without the vector.
    pub fn values<'m, 'n>(
        &'m self,
        name: &'n str,
    ) -> impl Iterator<Item = &'m str> + use<'m, 'n, 'a> {
        self.root
            .headers
            .iter()
            .filter(move |(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_ref())
    }

    /// `msg.get_all(a) + msg.get_all(b) + ...` for each name in order, in
    /// one vector.
    pub fn get_all_of(&self, names: &[&str]) -> Vec<&str> {
        let mut out = Vec::new();
        for name in names {
            out.extend(
                self.root
                    .headers
                    .iter()
                    .filter(|(k, _)| k.eq_ignore_ascii_case(name))
                    .map(|(_, v)| v.as_ref()),
            );
        }
        out
    }

    /// The first value, as `msg.get` / `msg[name]` returns it.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.root
            .headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_ref())
    }

    /// All top-level headers (name, value) in order, as `msg.items()`.
    pub fn headers(&self) -> &[(Cow<'a, str>, Cow<'a, str>)] {
        &self.root.headers
    }

    /// `msg.get_content_type()` of the top level (lower-case, default text/plain).
    pub fn content_type(&self) -> String {
        self.root.content_type()
    }

    /// `get_content_type() == want` of the top level, for a lower-case `want`.
    pub fn content_type_is(&self, want: &str) -> bool {
        self.root.content_type_is(want)
    }

    /// SpamDetect's header text: every header of every part, decoded and
    /// normalised to the site's NORMALIZE_FORM (NFKC by default). Each line
    /// is `Name: value` followed by `\n`. The list charset does not
    /// influence it (Mailman passes it but does not use it). The text
    /// grows fallibly; the copies made per header are bounded by
    /// [`limits::MAX_HEADER_BYTES`].
    pub fn header_filter_text(&self, form: NormalForm) -> Result<String, HeaderTextError> {
        self.header_filter_lines(form).map(|h| h.text)
    }

    /// [`Message::header_filter_text`] and where its lines begin (what
    /// [`crate::pyre::PyRegex::search_lines_in`] takes): 0 and each
    /// position after a `\n`, the end included when the text ends in one.
    #[cfg_attr(target_os = "linux", link_section = ".text.hot.mailman_gate_verdict")]
    pub fn header_filter_lines(&self, form: NormalForm) -> Result<HeaderText, HeaderTextError> {
        // Sized for the undecoded headers at once (decoding rarely makes
        // them longer): one allocation, not a doubling per few headers.
        let (size, fields) = self
            .walk()
            .flat_map(|p| p.headers.iter())
            .fold((0, 0), |(size, n), (h, v)| {
                (size + h.len() + v.len() + 3, n + 1)
            });
        let mut out = String::new();
        out.try_reserve(size)
            .map_err(|_| HeaderTextError::NoMemory)?;
        // A line per field, and one start past the last.
        let mut line_starts = Vec::new();
        line_starts
            .try_reserve_exact(fields + 1)
            .map_err(|_| HeaderTextError::NoMemory)?;
        line_starts.push(0);
        for p in self.walk() {
            decoded_headers(p, self.raw, form, &mut out, &mut line_starts)?;
        }
        Ok(HeaderText {
            text: out,
            line_starts,
        })
    }
}

/// SpamDetect's decoded header text with the positions its lines begin at.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HeaderText {
    pub text: String,
    /// 0 and each position after a `\n` of `text`, ascending.
    pub line_starts: Vec<usize>,
}

/// `email.Utils.getaddresses(values)` of Python 2.7: (realname, address) pairs.
pub fn getaddresses(values: &[&str]) -> Vec<(String, String)> {
    match values {
        [one] => addr::address_list(one),
        _ => addr::address_list(&values.join(", ")),
    }
}

/// `email.Utils.parseaddr(value)` of Python 2.7.
pub fn parseaddr(value: &str) -> (String, String) {
    addr::address_list(value)
        .into_iter()
        .next()
        .unwrap_or_default()
}
