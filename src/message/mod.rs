//! A message as Mailman 2.1's Python `email` package sees it.
//!
//! The parser reproduces Python 2.7's `email.feedparser`: the same header
//! block splitting, the same MIME tree (boundaries, preamble, epilogue,
//! `message/*` and `message/delivery-status` sub-messages) and the same
//! header values. On top of it sit the few facts Mailman's handlers read.
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
mod text;

use crate::py::binascii as codec;
use crate::py::codec as pycodec;
pub use crate::py::{latin1, splitlines as py_splitlines};
use unicode_normalization::UnicodeNormalization;

use feed::Lines;
use part::Part;
use rfc2047::decoded_headers;
use text::*;

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
}

/// Parameters of MimeDel (`filter_content` and friends).
#[derive(Debug, Clone, Default)]
pub struct MimeFilter {
    pub filter_mime_types: Vec<String>,
    pub pass_mime_types: Vec<String>,
    pub filter_filename_extensions: Vec<String>,
    pub pass_filename_extensions: Vec<String>,
    pub collapse_alternatives: bool,
    pub convert_html_to_plaintext: bool,
}

/// What Approve.py finds in the body when no Approved-style header exists.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BodyApproval {
    /// The password on the first non-blank line of the first text/plain part.
    pub password: String,
    /// The same line survives in another text part only after stripping
    /// HTML: Mailman rejects the post.
    pub unsafe_html: bool,
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

/// Inverse of the Latin-1 mapping; characters above U+00FF become `?`.
pub fn to_bytes(s: &str) -> Vec<u8> {
    s.chars()
        .map(|c| if (c as u32) < 256 { c as u8 } else { b'?' })
        .collect()
}

// ---------------------------------------------------------------------------
// Approve helpers.

fn approve_name(name: &[u8]) -> bool {
    matches!(
        lower(name).as_slice(),
        b"approve" | b"approved" | b"x-approve" | b"x-approved"
    )
}

/// `re.search(name + ':(\xA0|\s|&nbsp;)*' + re.escape(pw), text)`.
fn approve_pattern_found(text: &[u8], name: &[u8], pw: &[u8]) -> bool {
    let mut head = name.to_vec();
    head.push(b':');
    // `name:` cannot overlap itself (its only ':' is the last byte).
    for p in memchr::memmem::find_iter(text, &head) {
        let mut k = p + head.len();
        loop {
            if text[k..].starts_with(pw) {
                return true;
            }
            if k < text.len() && (text[k] == 0xa0 || is_ws(text[k])) {
                k += 1;
            } else if text[k..].starts_with(b"&nbsp;") {
                k += 6;
            } else {
                break;
            }
        }
    }
    false
}

/// `re.sub('(?s)<.*?>', '', text)`.
fn strip_tags(text: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(text.len());
    let mut i = 0;
    while i < text.len() {
        if text[i] == b'<' {
            if let Some(j) = text[i + 1..].iter().position(|&c| c == b'>') {
                i += j + 2;
                continue;
            }
            out.extend_from_slice(&text[i..]);
            break;
        }
        out.push(text[i]);
        i += 1;
    }
    out
}

const ADMIN_COMMANDS: &[(&[u8], usize, usize)] = &[
    (b"confirm", 1, 1),
    (b"help", 0, 0),
    (b"info", 0, 0),
    (b"lists", 0, 0),
    (b"options", 0, 0),
    (b"password", 2, 2),
    (b"remove", 0, 0),
    (b"set", 3, 3),
    (b"subscribe", 0, 3),
    (b"unsubscribe", 0, 1),
    (b"who", 0, 1),
];

/// [`admin_args`] of `word` lowered (copied only when short enough to
/// be a command).
fn admin_word(word: &[u8]) -> Option<(usize, usize)> {
    if word.len() > 16 {
        return None;
    }
    admin_args(&lower(word))
}

fn admin_args(word: &[u8]) -> Option<(usize, usize)> {
    ADMIN_COMMANDS
        .iter()
        .find(|(w, _, _)| *w == word)
        .map(|&(_, a, b)| (a, b))
}

/// Lines as `StringIO(payload)` yields them (split after `\n` only).
fn stringio_lines(b: &[u8]) -> impl Iterator<Item = &[u8]> {
    b.split_inclusive(|&c| c == b'\n')
}

// ---------------------------------------------------------------------------

impl<'a> Message<'a> {
    /// Parse raw message bytes (headers, blank line, body; the body may be absent).
    pub fn parse(raw: &'a [u8]) -> Message<'a> {
        let (root, limit) = feed::parse(raw);
        Message { root, limit }
    }

    /// The structural limit the message passes, if any ([`limits`]): the
    /// tree then stops there, and no verdict should rest on it.
    pub fn limit(&self) -> Option<&str> {
        self.limit.as_deref()
    }

    fn parts(&self) -> Vec<&Part<'a>> {
        let mut v = Vec::new();
        self.root.walk(&mut v);
        v
    }

    /// The MIME tree in walk order: (content type, string payload length
    /// or -1 for a list payload, preamble, epilogue). For diagnostics.
    #[doc(hidden)]
    pub fn structure(&self) -> Vec<(String, i64, Option<String>, Option<String>)> {
        self.parts()
            .iter()
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
    pub fn get_all(&self, name: &str) -> Vec<&str> {
        self.root
            .headers
            .iter()
            .filter(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
            .collect()
    }

    /// The first value, as `msg.get` / `msg[name]` returns it.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.root
            .headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// All top-level headers (name, value) in order, as `msg.items()`.
    pub fn headers(&self) -> &[(String, String)] {
        &self.root.headers
    }

    /// `msg.get_content_type()` of the top level (lower-case, default text/plain).
    pub fn content_type(&self) -> String {
        self.root.content_type()
    }

    /// SpamDetect's header text: every header of every part, decoded and
    /// normalised to the site's NORMALIZE_FORM (NFKC by default). Each line
    /// is `Name: value` followed by `\n`. The list charset does not
    /// influence it (Mailman passes it but does not use it). `Err` names a
    /// Python codec of an encoded word that this crate does not decode.
    pub fn header_filter_text(&self, form: NormalForm) -> Result<String, &'static str> {
        let mut out = String::new();
        for p in self.parts() {
            decoded_headers(p, form, &mut out)?;
        }
        Ok(out)
    }

    /// Approve.py's body password search. `None` when one of the headers
    /// Approved, Approve, X-Approved, X-Approve is present (Mailman then
    /// does not look at the body) or when the body has no password line.
    pub fn body_approval(&self) -> Option<BodyApproval> {
        if ["approved", "approve", "x-approved", "x-approve"]
            .iter()
            .any(|h| self.get(h).is_some())
        {
            return None;
        }
        let parts = self.parts();
        let (idx, first) = parts
            .iter()
            .enumerate()
            .find(|(_, p)| p.content_type() == "text/plain")?;
        if !first.children.is_empty() {
            return None;
        }
        // The first part's decoded text, its first non-blank line taken
        // out; the decoded body itself goes as soon as that is built (one
        // copy of the body at a time besides the raw message).
        let (name, pw, first_text) = {
            let body = first.decoded();
            let lines = || Lines::new(&body).map(strip_eol);
            // The first non-blank line (a blank one holds no ':').
            let (lineno, line) = lines().enumerate().find(|(_, l)| !strip(l).is_empty())?;
            let i = line.iter().position(|&c| c == b':')?;
            let name = line[..i].to_vec();
            if !approve_name(&name) {
                return None;
            }
            let pw = lstrip(&line[i + 1..]).to_vec();
            // The other lines joined by '\n', without a table of lines.
            let mut first_text = Vec::with_capacity(body.len());
            for (n, l) in lines().enumerate().filter(|(n, _)| *n != lineno) {
                if n > usize::from(lineno == 0) {
                    first_text.push(b'\n');
                }
                first_text.extend_from_slice(l);
            }
            (name, pw, first_text)
        };
        let mut unsafe_html = false;
        for (k, p) in parts.iter().enumerate() {
            if p.maintype() != "text" || !p.children.is_empty() {
                continue;
            }
            let decoded;
            let text: &[u8] = if k == idx {
                &first_text
            } else {
                decoded = p.decoded();
                &decoded
            };
            if approve_pattern_found(text, &name, &pw) {
                continue;
            }
            if approve_pattern_found(&strip_tags(text), &name, &pw) {
                unsafe_html = true;
                break;
            }
        }
        Some(BodyApproval {
            password: latin1(&pw),
            unsafe_html,
        })
    }

    /// `Utils.is_administrivia(msg)` with DEFAULT_MAIL_COMMANDS_MAX_LINES = `max_lines`.
    pub fn is_administrivia(&self, max_lines: usize) -> bool {
        let mut linecnt = 0;
        // Only what the checks below read: the first five lines and the
        // non-blank ones (at most max_lines), not every line of the body.
        let mut head: Vec<&[u8]> = Vec::new();
        let mut nonblank: Vec<&[u8]> = Vec::new();
        'walk: for p in self.parts() {
            if !p.children.is_empty() {
                continue;
            }
            for line in stringio_lines(&p.payload) {
                if line == b"-- " {
                    break 'walk;
                }
                if !strip(line).is_empty() {
                    linecnt += 1;
                    nonblank.push(line);
                }
                if linecnt > max_lines {
                    return false;
                }
                if head.len() < 5 {
                    head.push(line);
                }
            }
        }
        // `NL.join(lines).strip().lower()` is one command word only when a
        // single line is not blank (a command word holds no whitespace).
        if let [only] = nonblank[..] {
            if admin_word(strip(only)).is_some() {
                return true;
            }
        }
        let subject = self.get("subject").map(to_bytes).unwrap_or_default();
        let mut check: Vec<&[u8]> = head;
        check.push(&subject);
        for line in check {
            if strip(line).is_empty() {
                continue;
            }
            // `line.split()` lowered, read only as far as the test needs:
            // a command word and at most `hi` + 1 more (a line may be
            // one huge word or millions of them).
            let mut words = line.split(|&c| is_ws(c)).filter(|w| !w.is_empty());
            let Some(first) = words.next() else { continue };
            let Some((lo, hi)) = admin_word(first) else {
                continue;
            };
            let rest: Vec<&[u8]> = words.take(hi + 1).collect();
            let n = rest.len();
            if lo <= n && n <= hi {
                let on_off =
                    |w: &[u8]| w.eq_ignore_ascii_case(b"on") || w.eq_ignore_ascii_case(b"off");
                if first.eq_ignore_ascii_case(b"set") && !on_off(rest[1]) {
                    continue;
                }
                return true;
            }
        }
        false
    }

    /// Hold.py's body size measure, in bytes.
    pub fn body_size(&self) -> usize {
        self.parts()
            .iter()
            .map(|p| {
                let body = if p.children.is_empty() {
                    p.payload.len()
                } else {
                    0
                };
                body + p.preamble.as_ref().map_or(0, |b| b.len())
                    + p.epilogue.as_ref().map_or(0, |b| b.len())
            })
            .sum()
    }

    /// MimeDel: `Some(reason)` when Mailman would dispose of the message.
    /// Type and extension lists are compared exactly (Mailman compares them
    /// as stored); content rewriting after the checks never disposes.
    pub fn mime_filter_disposal(&self, filter: &MimeFilter) -> Option<&'static str> {
        if let Some(reason) = filter_reason(&self.root, filter) {
            return Some(reason);
        }
        if !self.root.children.is_empty() && !keep_after_filter(&self.root, filter) {
            return Some("After content filtering, the message was empty");
        }
        None
    }
}

/// MimeDel's type and file-extension tests on one part, in Mailman's order.
fn filter_reason(p: &Part<'_>, f: &MimeFilter) -> Option<&'static str> {
    let ctype = p.content_type();
    let mtype = p.maintype();
    let has = |l: &[String], s: &str| l.iter().any(|x| x == s);
    if has(&f.filter_mime_types, &ctype) || has(&f.filter_mime_types, &mtype) {
        return Some("The message's content type was explicitly disallowed");
    }
    let passes = has(&f.pass_mime_types, &ctype) || has(&f.pass_mime_types, &mtype);
    if !f.pass_mime_types.is_empty() && !passes {
        return Some("The message's content type was not explicitly allowed");
    }
    let fext = latin1(&p.file_ext());
    if !fext.is_empty() {
        if has(&f.filter_filename_extensions, &fext) {
            return Some("The message's file extension was explicitly disallowed");
        }
        if !f.pass_filename_extensions.is_empty() && !has(&f.pass_filename_extensions, &fext) {
            return Some("The message's file extension was not explicitly allowed");
        }
    }
    None
}

/// MimeDel's `filter_parts`: false when every sub-part was thrown away.
fn keep_after_filter(p: &Part<'_>, f: &MimeFilter) -> bool {
    if p.children.is_empty() {
        return true;
    }
    p.children
        .iter()
        .any(|sub| keep_after_filter(sub, f) && filter_reason(sub, f).is_none())
}

/// `email.Utils.getaddresses(values)` of Python 2.7: (realname, address) pairs.
pub fn getaddresses(values: &[&str]) -> Vec<(String, String)> {
    addr::address_list(&values.join(", "))
}

/// `email.Utils.parseaddr(value)` of Python 2.7.
pub fn parseaddr(value: &str) -> (String, String) {
    addr::address_list(value)
        .into_iter()
        .next()
        .unwrap_or_default()
}
