//! A message as Mailman 2.1's Python `email` package sees it.
//!
//! API CONTRACT (implementation pending).

/// A parsed message. Parsing never fails: whatever Python's parser would
/// make of the bytes, this makes of them too.
#[derive(Debug, Clone, Default)]
pub struct Message {}

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

impl Message {
    /// Parse raw message bytes (headers, blank line, body; the body may be absent).
    pub fn parse(raw: &[u8]) -> Message {
        let _ = raw;
        Message {}
    }
    /// The address on a leading `From ` (unixfrom) line, if any.
    pub fn unixfrom_address(&self) -> Option<&str> {
        None
    }
    /// All values of a top-level header, in order (case-insensitive name), as `msg.get_all` returns them.
    pub fn get_all(&self, name: &str) -> Vec<&str> {
        let _ = name;
        Vec::new()
    }
    /// The first value, as `msg.get` / `msg[name]` returns it.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.get_all(name).into_iter().next()
    }
    /// `msg.get_content_type()` of the top level (lower-case, default text/plain).
    pub fn content_type(&self) -> String {
        "text/plain".into()
    }
    /// SpamDetect's header text: every header of every part, decoded and NFKC-normalised.
    pub fn header_filter_text(&self, list_charset: &str) -> String {
        let _ = list_charset;
        String::new()
    }
    /// Approve.py's body password search.
    pub fn body_approval(&self) -> Option<BodyApproval> {
        None
    }
    /// `Utils.is_administrivia(msg)` with DEFAULT_MAIL_COMMANDS_MAX_LINES = `max_lines`.
    pub fn is_administrivia(&self, max_lines: usize) -> bool {
        let _ = max_lines;
        false
    }
    /// Hold.py's body size measure, in bytes.
    pub fn body_size(&self) -> usize {
        0
    }
    /// MimeDel: `Some(reason)` when Mailman would dispose of the message.
    pub fn mime_filter_disposal(&self, filter: &MimeFilter) -> Option<&'static str> {
        let _ = filter;
        None
    }
}

/// `email.Utils.getaddresses(values)` of Python 2.7: (realname, address) pairs.
pub fn getaddresses(values: &[&str]) -> Vec<(String, String)> {
    let _ = values;
    Vec::new()
}

/// `email.Utils.parseaddr(value)` of Python 2.7.
pub fn parseaddr(value: &str) -> (String, String) {
    let _ = value;
    (String::new(), String::new())
}
