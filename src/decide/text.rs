//! Mailman's texts, and its `_()`: the translation into the current
//! language (the sender's: their own as a member, else the list's) and the
//! Python `%` interpolation.

use crate::i18n::Translation;
use crate::py::{self, Codec};

/// The language `Runner._onefile` sets for a message, with its catalog.
#[derive(Debug, Clone)]
pub struct Lang {
    pub code: String,
    pub translation: Translation,
}

impl Lang {
    /// Untranslated English (`gettext.NullTranslations`).
    pub fn english() -> Lang {
        Lang {
            code: "en".into(),
            translation: Translation::English,
        }
    }

    /// `_translation.charset()`, `us-ascii` when there is none.
    pub fn charset(&self) -> &str {
        match &self.translation {
            Translation::Catalog(c) => c.charset.as_deref().unwrap_or("us-ascii"),
            _ => "us-ascii",
        }
    }

    fn codec(&self) -> Codec {
        py::lookup(self.charset()).unwrap_or(Codec::Ascii)
    }

    /// `_translation.gettext(s)`.
    pub fn gettext<'a>(&'a self, s: &'a str) -> &'a str {
        match &self.translation {
            Translation::Catalog(c) => c.gettext(s).unwrap_or(s),
            _ => s,
        }
    }

    /// A `unicode` value as `_()` puts it into the text: encoded to the
    /// catalog's charset with 'replace' (`?` for what does not fit).
    pub fn fit(&self, value: &str) -> String {
        let codec = self.codec();
        py::codec::decode_replace(&py::codec::encode_replace(value, codec), codec)
    }

    /// `_(s)` with the caller's names: the translation, interpolated; the
    /// translation as it is where Python's `%` fails.
    pub fn tr(&self, s: &str, lookup: &dyn Fn(&str) -> Option<String>) -> String {
        let tns = self.gettext(s);
        interpolate(tns, lookup).unwrap_or_else(|| tns.to_owned())
    }
}

/// Python's `text % SafeDict(names)` as Mailman's `i18n._` does it:
/// `%(key)s` takes a known name, an unknown key stays as written, `%%` is
/// `%`. `None` where Python would raise (a stray `%`, or an unknown key
/// with a conversion other than `s`): Mailman then fails on the message.
pub fn interpolate(text: &str, lookup: &dyn Fn(&str) -> Option<String>) -> Option<String> {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(i) = rest.find('%') {
        out.push_str(&rest[..i]);
        rest = &rest[i + 1..];
        if let Some(r) = rest.strip_prefix('%') {
            out.push('%');
            rest = r;
            continue;
        }
        let r = rest.strip_prefix('(')?;
        let close = r.find(')')?;
        let key = &r[..close];
        let after = &r[close + 1..];
        // Python allows flags, width and precision before the conversion.
        let spec_len = after
            .find(|c: char| !matches!(c, '-' | '+' | ' ' | '#' | '0'..='9' | '.'))
            .unwrap_or(after.len());
        let conv = after[spec_len..].chars().next()?;
        match (lookup(key), conv) {
            (Some(v), 's' | 'r') if spec_len == 0 => out.push_str(&v),
            (Some(v), 'd') if spec_len == 0 && v.parse::<i64>().is_ok() => out.push_str(&v),
            (None, 's') if spec_len == 0 => {
                out.push_str("%(");
                out.push_str(key);
                out.push_str(")s");
            }
            _ => return None,
        }
        rest = &after[spec_len + conv.len_utf8()..];
    }
    out.push_str(rest);
    Some(out)
}

pub const REJECTED: &str = "Your message was rejected";

pub const NONMEMBER_REJECT: &str =
    "Your message has been rejected, probably because you are not subscribed to the
mailing list and the list's policy is to prohibit non-members from posting to
it.  If you think that your messages are being rejected in error, contact the
mailing list owner at %(listowner)s.";

pub const DMARC_REJECT: &str =
    "You are not allowed to post to this mailing list From: a domain which
publishes a DMARC policy of reject or quarantine, and your message has been
automatically rejected.  If you think that your messages are being rejected in
error, contact the mailing list owner at %(listowner)s.";

pub const FILTER_RULE_REJECT: &str = "Message rejected by filter rule match";

pub const APPROVE_HTML_REJECT: &str = "Message rejected.
It appears that this message contains an HTML part with the
Approved: password line, but due to the way it is coded in the
HTML it can't be safely removed.
";

pub const URGENT_REJECT: &str =
    "Your urgent message to the %(realname)s mailing list was not authorized for
delivery.  The original message as received by Mailman is attached.
";

pub const HOLD_MODERATED: &str = "Post to moderated list";
pub const HOLD_NONMEMBER: &str = "Post by non-member to a members-only list";
pub const HOLD_TOO_MANY_RECIPIENTS: &str = "Too many recipients to the message";
pub const HOLD_IMPLICIT_DEST: &str = "Message has implicit destination";
pub const HOLD_ADMINISTRIVIA: &str = "Message may contain administrivia";
pub const HOLD_SUSPICIOUS: &str = "Message has a suspicious header";
pub const HOLD_NEWSGROUP: &str = "Posting to a moderated newsgroup";
pub const HOLD_EMERGENCY: &str = "Emergency hold on all list traffic is in effect";

pub const HOLD_TOO_BIG: &str = "Message body is too big: %(size)d bytes with a limit of
%(limit)d KB";

pub const HOLD_HEADER_MATCH: &str = "Header matched regexp: %(pattern)s";

#[cfg(test)]
mod tests {
    use super::*;

    fn owner(k: &str) -> Option<String> {
        (k == "listowner").then(|| "test-owner@example.com".to_owned())
    }

    #[test]
    fn interpolation_follows_python() {
        assert_eq!(
            interpolate("No %(listowner)s", &owner).unwrap(),
            "No test-owner@example.com"
        );
        assert_eq!(interpolate("Ask %(x)s", &owner).unwrap(), "Ask %(x)s");
        assert_eq!(interpolate("100%% sure", &owner).unwrap(), "100% sure");
        assert_eq!(interpolate("100% sure", &owner), None);
        assert_eq!(interpolate("%(x)d", &owner), None);
        assert_eq!(interpolate("trailing %", &owner), None);
        assert_eq!(interpolate("plain", &owner).unwrap(), "plain");
    }
}

/// Python's `string.whitespace`.
fn is_py_space(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\n' | b'\r' | 0x0b | 0x0c)
}

/// Mailman's `Utils.wrap(text, 70)`: fill each paragraph (lines starting
/// with whitespace are kept as they are) and break lines at 70 columns.
/// Works on bytes, as Python 2 does on a `str`, so UTF-8 stays intact
/// (breaks only happen at ASCII whitespace).
fn wrap_bytes(text: &[u8]) -> Vec<u8> {
    const COLUMN: usize = 70;
    let mut wrapped: Vec<u8> = Vec::with_capacity(text.len() + 16);
    for para in split_paragraphs(text) {
        let mut lines: Vec<Vec<u8>> = Vec::new();
        let mut fillprev = false;
        for line in para.split(|&b| b == b'\n') {
            if line.is_empty() {
                lines.push(Vec::new());
                continue;
            }
            let fillthis = !is_py_space(line[0]);
            match lines.last_mut() {
                Some(last) if fillprev && fillthis => {
                    while last.last().is_some_and(|&b| is_py_space(b)) {
                        last.pop();
                    }
                    last.push(b' ');
                    last.extend_from_slice(line);
                }
                _ => lines.push(line.to_vec()),
            }
            fillprev = fillthis;
        }
        for line in lines {
            let mut t: &[u8] = &line;
            while !t.is_empty() {
                if t.len() <= COLUMN {
                    wrapped.extend_from_slice(t);
                    t = &[];
                } else {
                    let mut bol = COLUMN;
                    while bol > 0 && !is_py_space(t[bol]) {
                        bol -= 1;
                    }
                    let mut eol = bol;
                    while eol > 0 && is_py_space(t[eol]) {
                        eol -= 1;
                    }
                    if eol == 0 {
                        eol = COLUMN;
                        while eol < t.len() && !is_py_space(t[eol]) {
                            eol += 1;
                        }
                        bol = eol;
                        while bol < t.len() && is_py_space(t[bol]) {
                            bol += 1;
                        }
                        bol -= 1;
                    }
                    let end = (eol + 1).min(t.len());
                    wrapped.extend_from_slice(&t[..end]);
                    wrapped.push(b'\n');
                    bol += 1;
                    while bol < t.len() && is_py_space(t[bol]) {
                        bol += 1;
                    }
                    t = &t[bol.min(t.len())..];
                }
            }
            wrapped.push(b'\n');
        }
        wrapped.push(b'\n');
    }
    wrapped.truncate(wrapped.len().saturating_sub(2));
    wrapped
}

/// `text.split('\n\n')` on bytes.
fn split_paragraphs(text: &[u8]) -> Vec<&[u8]> {
    let mut out = Vec::new();
    let mut rest = text;
    while let Some(i) = rest.windows(2).position(|w| w == b"\n\n") {
        out.push(&rest[..i]);
        rest = &rest[i + 2..];
    }
    out.push(rest);
    out
}

/// `Utils.wrap` of a UTF-8 `str`.
pub fn wrap(text: &str) -> String {
    let wrapped = wrap_bytes(text.as_bytes());
    String::from_utf8(wrapped)
        .unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned())
}

impl Lang {
    /// `Utils.wrap` of the text as `_()` leaves it: a `str` in the
    /// language's charset, whose bytes (not characters) count to 70.
    pub fn wrap(&self, text: &str) -> String {
        let codec = match py::lookup(self.charset()) {
            Ok(c) if !matches!(c, Codec::Ascii | Codec::Utf8) => c,
            _ => return wrap(text),
        };
        match py::codec::encode(text, codec, py::Errors::Strict) {
            Ok(bytes) => py::codec::decode_replace(&wrap_bytes(&bytes), codec),
            Err(_) => wrap(text),
        }
    }
}

/// `Errors.RejectMessage`'s notice: the text ends with a blank line.
pub fn reject_notice(wrapped: &str) -> String {
    if wrapped.ends_with("\n\n") {
        wrapped.to_owned()
    } else if wrapped.ends_with('\n') {
        format!("{wrapped}\n")
    } else {
        format!("{wrapped}\n\n")
    }
}

/// Whether a `unicode` text can be encoded in `charset` (Python's codec
/// of that name, strict); `None` when Python has no such codec.
pub fn encodable(text: &str, charset: &str) -> Option<bool> {
    let codec = py::lookup(charset).ok()?;
    Some(py::codec::encode(text, codec, py::Errors::Strict).is_ok())
}

#[cfg(test)]
mod wrap_tests {
    use super::*;

    #[test]
    fn wraps_like_mailman() {
        let long = "Your message has been rejected, probably because you are not subscribed to the\nmailing list and the list's policy is to prohibit non-members from posting to\nit.  If you think that your messages are being rejected in error, contact the\nmailing list owner at test-owner@example.com.";
        let w = wrap(long);
        assert!(w.lines().all(|l| l.len() <= 70), "{w}");
        assert_eq!(
            w.lines().next().unwrap(),
            "Your message has been rejected, probably because you are not"
        );
        assert_eq!(
            wrap("Message body is too big: 40961 bytes with a limit of\n40 KB"),
            "Message body is too big: 40961 bytes with a limit of 40 KB"
        );
        assert_eq!(wrap("short"), "short");
        assert_eq!(wrap("a\n\nb"), "a\n\nb");
        // As in Python: an unbreakable over-long line keeps a newline.
        assert_eq!(wrap(&"x".repeat(80)), format!("{}\n", "x".repeat(80)));
        assert_eq!(reject_notice("x"), "x\n\n");
        assert_eq!(Lang::english().fit("viágra"), "vi?gra");
        assert_eq!(encodable("viágra", "iso-8859-1"), Some(true));
        assert_eq!(encodable("ви", "iso-2022-jp"), Some(true));
        assert_eq!(encodable("ก", "iso-2022-jp"), Some(false));
    }
}
