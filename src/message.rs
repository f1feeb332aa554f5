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

use std::borrow::Cow;

use crate::py::binascii as codec;
use crate::py::codec as pycodec;
pub use crate::py::{latin1, splitlines as py_splitlines};
use unicode_normalization::UnicodeNormalization;

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
use limits::*;

/// A parsed message, borrowing the raw bytes: payloads, preambles and
/// epilogues are slices of them. Parsing never fails: whatever Python's
/// parser would make of the bytes, this makes of them too, within
/// [`limits`].
#[derive(Debug, Clone, Default)]
pub struct Message<'a> {
    root: Part<'a>,
    limit: Option<String>,
}

#[derive(Debug, Clone, Default)]
struct Part<'a> {
    unixfrom: Option<String>,
    headers: Vec<(String, String)>,
    default_type: &'static str,
    /// Sub-messages; non-empty exactly when Python's payload is a list.
    children: Vec<Part<'a>>,
    /// The string payload when there are no children.
    payload: Cow<'a, [u8]>,
    preamble: Option<Cow<'a, [u8]>>,
    epilogue: Option<Cow<'a, [u8]>>,
}

/// Consecutive lines read from the feed, as one slice of the raw bytes
/// while they are contiguous there (always, but after a line pushed back
/// past a consumed blank line: then a copy).
#[derive(Default)]
enum Gather<'a> {
    #[default]
    Empty,
    Span(&'a [u8], &'a [u8]),
    Owned(Vec<u8>),
}

impl<'a> Gather<'a> {
    fn push(&mut self, raw: &'a [u8], line: &'a [u8]) {
        *self = match std::mem::take(self) {
            Gather::Empty => Gather::Span(line, line),
            Gather::Span(first, last) if last.as_ptr_range().end == line.as_ptr() => {
                Gather::Span(first, line)
            }
            Gather::Span(first, last) => {
                let mut v = span(raw, first, last).to_vec();
                v.extend_from_slice(line);
                Gather::Owned(v)
            }
            Gather::Owned(mut v) => {
                v.extend_from_slice(line);
                Gather::Owned(v)
            }
        }
    }

    fn finish(self, raw: &'a [u8]) -> Cow<'a, [u8]> {
        match self {
            Gather::Empty => Cow::Borrowed(b""),
            Gather::Span(first, last) => Cow::Borrowed(span(raw, first, last)),
            Gather::Owned(v) => Cow::Owned(v),
        }
    }
}

/// The bytes of `raw` from the start of `first` to the end of `last`,
/// both slices of it (`first` no later than `last`).
fn span<'a>(raw: &'a [u8], first: &[u8], last: &[u8]) -> &'a [u8] {
    let base = raw.as_ptr() as usize;
    let start = first.as_ptr() as usize - base;
    let end = last.as_ptr() as usize - base + last.len();
    &raw[start..end]
}

/// `s` without one trailing line end.
fn strip_eol_cow(s: Cow<'_, [u8]>) -> Cow<'_, [u8]> {
    match s {
        Cow::Borrowed(b) => Cow::Borrowed(strip_eol(b)),
        Cow::Owned(mut v) => {
            let n = strip_eol(&v).len();
            v.truncate(n);
            Cow::Owned(v)
        }
    }
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
// Python 2 `str` helpers.

fn is_ws(c: u8) -> bool {
    matches!(c, b' ' | b'\t' | b'\n' | b'\r' | 0x0b | 0x0c)
}

fn strip(b: &[u8]) -> &[u8] {
    rstrip(lstrip(b))
}

fn lstrip(b: &[u8]) -> &[u8] {
    let i = b.iter().position(|&c| !is_ws(c)).unwrap_or(b.len());
    &b[i..]
}

fn rstrip(b: &[u8]) -> &[u8] {
    let i = b.iter().rposition(|&c| !is_ws(c)).map_or(0, |i| i + 1);
    &b[..i]
}

fn rstrip_nl(b: &[u8]) -> &[u8] {
    let i = b
        .iter()
        .rposition(|&c| c != b'\r' && c != b'\n')
        .map_or(0, |i| i + 1);
    &b[..i]
}

/// `str.splitlines(True)`: line ends are `\n`, `\r\n` and `\r`.
fn splitlines_keep(b: &[u8]) -> Vec<&[u8]> {
    let mut out = Vec::new();
    let mut start = 0;
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'\n' || b[i] == b'\r' {
            let end = if b[i] == b'\r' && b.get(i + 1) == Some(&b'\n') {
                i + 2
            } else {
                i + 1
            };
            out.push(&b[start..end]);
            start = end;
            i = end;
        } else {
            i += 1;
        }
    }
    if start < b.len() {
        out.push(&b[start..]);
    }
    out
}

/// `str.splitlines()` without the line ends.
fn splitlines(b: &[u8]) -> Vec<&[u8]> {
    splitlines_keep(b).into_iter().map(strip_eol).collect()
}

/// Remove one trailing `\r\n`, `\r` or `\n`.
fn strip_eol(l: &[u8]) -> &[u8] {
    if l.ends_with(b"\r\n") {
        &l[..l.len() - 2]
    } else if l.ends_with(b"\n") || l.ends_with(b"\r") {
        &l[..l.len() - 1]
    } else {
        l
    }
}

fn lower(b: &[u8]) -> Vec<u8> {
    b.to_ascii_lowercase()
}

// ---------------------------------------------------------------------------
// Header parameters (`email.message._parseparam`, `utils.decode_params`).

#[derive(Debug, Clone)]
enum ParamVal {
    Plain(Vec<u8>),
    /// RFC 2231: (charset, language, value).
    Ext(Option<Vec<u8>>, Option<Vec<u8>>, Vec<u8>),
}

fn py_unquote(s: &[u8]) -> Vec<u8> {
    if s.len() > 1 {
        if s[0] == b'"' && s[s.len() - 1] == b'"' {
            let inner = &s[1..s.len() - 1];
            let a = replace(inner, b"\\\\", b"\\");
            return replace(&a, b"\\\"", b"\"");
        }
        if s[0] == b'<' && s[s.len() - 1] == b'>' {
            return s[1..s.len() - 1].to_vec();
        }
    }
    s.to_vec()
}

fn py_quote(s: &[u8]) -> Vec<u8> {
    let a = replace(s, b"\\", b"\\\\");
    replace(&a, b"\"", b"\\\"")
}

fn replace(s: &[u8], from: &[u8], to: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(s.len());
    let mut i = 0;
    while i < s.len() {
        if s[i..].starts_with(from) {
            out.extend_from_slice(to);
            i += from.len();
        } else {
            out.push(s[i]);
            i += 1;
        }
    }
    out
}

fn parseparam(value: &[u8]) -> Vec<Vec<u8>> {
    let mut s = Vec::with_capacity(value.len() + 1);
    s.push(b';');
    s.extend_from_slice(value);
    // Prefix counts of `"` and of `\"` pairs, for the quote-balance test.
    let n = s.len();
    let mut q = vec![0usize; n + 1];
    let mut bq = vec![0usize; n + 1];
    for i in 0..n {
        q[i + 1] = q[i] + (s[i] == b'"') as usize;
        bq[i + 1] = bq[i] + (i > 0 && s[i - 1] == b'\\' && s[i] == b'"') as usize;
    }
    let mut plist = Vec::new();
    let mut st = 0;
    while st < n && s[st] == b';' {
        st += 1;
        let next_semi = |from: usize| s[from..].iter().position(|&c| c == b';').map(|p| p + from);
        let mut end = next_semi(st);
        while let Some(e) = end {
            if e <= st {
                break;
            }
            // counts within s[st..e]; a `\"` pair must lie wholly inside.
            let quotes = q[e] - q[st];
            let pairs = bq[e] - bq[st + 1];
            if (quotes - pairs) % 2 == 0 {
                break;
            }
            end = next_semi(e + 1);
        }
        let end = end.unwrap_or(n);
        let f = &s[st..end];
        let item = if let Some(i) = f.iter().position(|&c| c == b'=') {
            let mut t = lower(strip(&f[..i]));
            t.push(b'=');
            t.extend_from_slice(strip(&f[i + 1..]));
            t
        } else {
            f.to_vec()
        };
        plist.push(strip(&item).to_vec());
        st = end;
    }
    plist
}

fn is_word(c: u8) -> bool {
    c.is_ascii_alphanumeric() || c == b'_'
}

/// `^(\w+)\*((\d+)\*?)?$` → (name, number).
fn rfc2231_name(name: &[u8]) -> Option<(Vec<u8>, Option<u64>)> {
    let star = name.iter().position(|&c| c == b'*')?;
    if star == 0 || !name[..star].iter().all(|&c| is_word(c)) {
        return None;
    }
    let rest = &name[star + 1..];
    if rest.is_empty() {
        return Some((name[..star].to_vec(), None));
    }
    let digits = rest.iter().take_while(|c| c.is_ascii_digit()).count();
    if digits == 0 {
        return None;
    }
    let tail = &rest[digits..];
    if !(tail.is_empty() || tail == b"*") {
        return None;
    }
    let num = std::str::from_utf8(&rest[..digits])
        .ok()?
        .parse::<u64>()
        .unwrap_or(u64::MAX);
    Some((name[..star].to_vec(), Some(num)))
}

fn percent_decode(s: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(s.len());
    let mut i = 0;
    while i < s.len() {
        if s[i] == b'%' && i + 2 < s.len() {
            if let (Some(a), Some(b)) = (
                (s[i + 1] as char).to_digit(16),
                (s[i + 2] as char).to_digit(16),
            ) {
                out.push((a * 16 + b) as u8);
                i += 3;
                continue;
            }
        }
        out.push(s[i]);
        i += 1;
    }
    out
}

/// `Message._get_params_preserve` on one header value.
fn get_params(value: &[u8]) -> Vec<(Vec<u8>, ParamVal)> {
    let mut params: Vec<(Vec<u8>, Vec<u8>)> = Vec::new();
    for p in parseparam(value) {
        if let Some(i) = p.iter().position(|&c| c == b'=') {
            params.push((strip(&p[..i]).to_vec(), strip(&p[i + 1..]).to_vec()));
        } else {
            params.push((strip(&p).to_vec(), Vec::new()));
        }
    }
    let mut out = Vec::new();
    let mut it = params.into_iter();
    if let Some((n, v)) = it.next() {
        out.push((n, ParamVal::Plain(v)));
    }
    type Cont = (Option<u64>, Vec<u8>, bool);
    let mut groups: Vec<(Vec<u8>, Vec<Cont>)> = Vec::new();
    for (name, value) in it {
        let encoded = name.ends_with(b"*");
        let value = py_unquote(&value);
        if let Some((base, num)) = rfc2231_name(&name) {
            match groups.iter_mut().find(|(n, _)| *n == base) {
                Some((_, g)) => g.push((num, value, encoded)),
                None => groups.push((base, vec![(num, value, encoded)])),
            }
        } else {
            let mut q = vec![b'"'];
            q.extend(py_quote(&value));
            q.push(b'"');
            out.push((name, ParamVal::Plain(q)));
        }
    }
    for (name, mut conts) in groups {
        conts.sort();
        let mut joined = Vec::new();
        let mut extended = false;
        for (_, s, enc) in conts {
            if enc {
                joined.extend(percent_decode(&s));
                extended = true;
            } else {
                joined.extend(s);
            }
        }
        let value = py_quote(&joined);
        if extended {
            let parts: Vec<&[u8]> = value.splitn(3, |&c| c == b'\'').collect();
            if parts.len() <= 2 {
                let mut q = vec![b'"'];
                q.extend(&value);
                q.push(b'"');
                out.push((name, ParamVal::Ext(None, None, q)));
            } else {
                let mut q = vec![b'"'];
                q.extend(parts[2]);
                q.push(b'"');
                out.push((
                    name,
                    ParamVal::Ext(Some(parts[0].to_vec()), Some(parts[1].to_vec()), q),
                ));
            }
        } else {
            let mut q = vec![b'"'];
            q.extend(value);
            q.push(b'"');
            out.push((name, ParamVal::Plain(q)));
        }
    }
    out
}

/// `utils.collapse_rfc2231_value(get_param(...))` as bytes.
fn collapse(v: ParamVal) -> Vec<u8> {
    match v {
        ParamVal::Plain(v) => py_unquote(&py_unquote(&v)),
        ParamVal::Ext(cs, _, v) => {
            let raw = py_unquote(&py_unquote(&v));
            let cs = cs
                .filter(|c| !c.is_empty())
                .map(|c| latin1(&c))
                .unwrap_or_else(|| "us-ascii".into());
            match pycodec::lookup(&cs) {
                Ok(c) => to_bytes(&pycodec::decode_replace(&raw, c)),
                Err(_) => py_unquote(&raw),
            }
        }
    }
}

// ---------------------------------------------------------------------------
// The feed parser.

enum Eof {
    Blank,
    Boundary(Vec<u8>),
}

/// `boundaryre.match(line)` → Some((is_end, has_linesep)).
fn boundary_match(line: &[u8], sep: &[u8]) -> Option<(bool, bool)> {
    let rest = line.strip_prefix(sep)?;
    let ws_eol = |r: &[u8]| -> Option<bool> {
        let r = &r[r.iter().take_while(|&&c| c == b' ' || c == b'\t').count()..];
        match r {
            b"" => Some(false),
            b"\n" | b"\r" | b"\r\n" => Some(true),
            _ => None,
        }
    };
    if let Some(r) = rest.strip_prefix(b"--") {
        if let Some(ls) = ws_eol(r) {
            return Some((true, ls));
        }
    }
    ws_eol(rest).map(|ls| (false, ls))
}

fn header_line(line: &[u8]) -> bool {
    if line.starts_with(b"From ") || line.starts_with(b" ") || line.starts_with(b"\t") {
        return true;
    }
    let n = line
        .iter()
        .take_while(|&&c| (0x21..=0x39).contains(&c) || (0x3b..=0x7e).contains(&c))
        .count();
    n > 0 && line.get(n) == Some(&b':')
}

fn starts_nl(line: &[u8]) -> bool {
    matches!(line.first(), Some(b'\r') | Some(b'\n'))
}

/// The lines of the raw message, one at a time, as `splitlines(True)`
/// cuts them (`\n`, `\r\n`, `\r`): no table of lines is built.
struct Lines<'a> {
    raw: &'a [u8],
    pos: usize,
}

impl<'a> Iterator for Lines<'a> {
    type Item = &'a [u8];

    fn next(&mut self) -> Option<&'a [u8]> {
        let rest = &self.raw[self.pos..];
        if rest.is_empty() {
            return None;
        }
        let end = match rest.iter().position(|&c| c == b'\n' || c == b'\r') {
            Some(i) if rest[i] == b'\r' && rest.get(i + 1) == Some(&b'\n') => i + 2,
            Some(i) => i + 1,
            None => rest.len(),
        };
        self.pos += end;
        Some(&rest[..end])
    }
}

struct Feed<'a> {
    raw: &'a [u8],
    lines: Lines<'a>,
    back: Vec<&'a [u8]>,
    eof: Vec<Eof>,
    parts: usize,
    headers: usize,
    header_bytes: usize,
    /// The first limit passed (the tree is no longer built).
    limit: Option<String>,
}

impl<'a> Feed<'a> {
    fn over(&mut self, why: impl FnOnce() -> String) {
        if self.limit.is_none() {
            self.limit = Some(why());
        }
    }

    fn readline(&mut self) -> &'a [u8] {
        if self.limit.is_some() {
            // Past a limit nothing more is read: every loop of the parse
            // ends as at the end of the input.
            return b"";
        }
        let line = if let Some(l) = self.back.pop() {
            l
        } else if let Some(l) = self.lines.next() {
            l
        } else {
            return b"";
        };
        for m in self.eof.iter().rev() {
            let hit = match m {
                Eof::Blank => starts_nl(line),
                Eof::Boundary(sep) => boundary_match(line, sep).is_some(),
            };
            if hit {
                self.back.push(line);
                return b"";
            }
        }
        line
    }

    fn unread(&mut self, l: &'a [u8]) {
        self.back.push(l);
    }

    /// Every line up to the next end marker.
    fn rest(&mut self) -> Cow<'a, [u8]> {
        if self.eof.is_empty() && self.back.is_empty() && self.limit.is_none() {
            // No end marker can stop it: the rest is the rest of the input.
            let all = &self.raw[self.lines.pos..];
            self.lines.pos = self.raw.len();
            return Cow::Borrowed(all);
        }
        let mut g = Gather::Empty;
        loop {
            let l = self.readline();
            if l.is_empty() {
                return g.finish(self.raw);
            }
            g.push(self.raw, l);
        }
    }

    /// Push a header field, within the limits; false past them.
    fn push_header(&mut self, part: &mut Part<'a>, name: &[u8], value: &[u8]) -> bool {
        if self.limit.is_some() {
            return false;
        }
        self.headers += 1;
        if self.headers > MAX_HEADERS {
            self.over(|| format!("more than {MAX_HEADERS} header fields"));
            return false;
        }
        if part.headers.try_reserve(1).is_err() {
            self.over(|| "out of memory for the header fields".into());
            return false;
        }
        part.headers.push((latin1(name), latin1(value)));
        true
    }

    fn parse_headers(&mut self, part: &mut Part<'a>, lines: &[&'a [u8]]) {
        let mut last: Option<&[u8]> = None;
        let mut value: Vec<u8> = Vec::new();
        for (lineno, &line) in lines.iter().enumerate() {
            if line[0] == b' ' || line[0] == b'\t' {
                if last.is_some() {
                    value.extend_from_slice(line);
                }
                continue;
            }
            if let Some(h) = last.take() {
                let v = &value[..value.len().saturating_sub(1)];
                if !self.push_header(part, h, rstrip_nl(v)) {
                    return;
                }
                value.clear();
            }
            if line.starts_with(b"From ") {
                if lineno == 0 {
                    part.unixfrom = Some(latin1(strip_eol(line)));
                    continue;
                } else if lineno == lines.len() - 1 {
                    self.unread(line);
                    return;
                } else {
                    continue;
                }
            }
            let Some(i) = line.iter().position(|&c| c == b':') else {
                continue;
            };
            last = Some(&line[..i]);
            value = lstrip(&line[i + 1..]).to_vec();
        }
        if let Some(h) = last {
            self.push_header(part, h, rstrip_nl(&value));
        }
    }

    fn parsegen(&mut self, depth: usize, default_type: &'static str) -> Part<'a> {
        let mut part = Part {
            default_type,
            ..Part::default()
        };
        self.parts += 1;
        if self.parts > MAX_PARTS {
            self.over(|| format!("more than {MAX_PARTS} MIME parts"));
        }
        if depth >= MAX_DEPTH {
            self.over(|| format!("MIME nesting deeper than {MAX_DEPTH}"));
        }
        let mut hl = Vec::new();
        let mut block_bytes = 0;
        loop {
            let line = self.readline();
            if line.is_empty() {
                break;
            }
            if !header_line(line) {
                if !starts_nl(line) {
                    self.unread(line);
                }
                break;
            }
            block_bytes += line.len();
            if block_bytes > MAX_BLOCK_HEADER_BYTES {
                self.over(|| {
                    format!("more than {MAX_BLOCK_HEADER_BYTES} bytes of headers in a part")
                });
                break;
            }
            self.header_bytes += line.len();
            if self.header_bytes > MAX_HEADER_BYTES {
                self.over(|| format!("more than {MAX_HEADER_BYTES} bytes of headers"));
                break;
            }
            if hl.len() == MAX_HEADERS {
                self.over(|| format!("more than {MAX_HEADERS} header lines in a part"));
                break;
            }
            if hl.try_reserve(1).is_err() {
                self.over(|| "out of memory for the header lines".into());
                break;
            }
            hl.push(line);
        }
        if self.limit.is_some() {
            return part;
        }
        self.parse_headers(&mut part, &hl);
        drop(hl);
        let ctype = part.content_type();
        let main = ctype.split('/').next().unwrap_or("").to_string();
        if ctype == "message/delivery-status" {
            loop {
                self.eof.push(Eof::Blank);
                let child = self.parsegen(depth + 1, "text/plain");
                self.adopt(&mut part, child);
                self.eof.pop();
                self.readline();
                let line = self.readline();
                if line.is_empty() {
                    break;
                }
                self.unread(line);
            }
            return part;
        }
        if main == "message" {
            let child = self.parsegen(depth + 1, "text/plain");
            self.adopt(&mut part, child);
            return part;
        }
        if main == "multipart" {
            self.multipart(&mut part, depth, &ctype);
            return part;
        }
        part.payload = self.rest();
        part
    }

    /// Add a sub-part, unless a limit has been passed (or memory fails).
    fn adopt(&mut self, part: &mut Part<'a>, child: Part<'a>) {
        if self.limit.is_some() {
            return;
        }
        if part.children.try_reserve(1).is_err() {
            self.over(|| "out of memory for the MIME parts".into());
            return;
        }
        part.children.push(child);
    }

    fn multipart(&mut self, part: &mut Part<'a>, depth: usize, ctype: &str) {
        let Some(boundary) = part.get_boundary() else {
            part.payload = self.rest();
            return;
        };
        let child_default = if ctype == "multipart/digest" {
            "message/rfc822"
        } else {
            "text/plain"
        };
        let mut sep = b"--".to_vec();
        sep.extend_from_slice(&boundary);
        let mut capturing = true;
        let mut preamble = Gather::Empty;
        let mut linesep = false;
        loop {
            let line = self.readline();
            if line.is_empty() {
                break;
            }
            match boundary_match(line, &sep) {
                Some((true, ls)) => {
                    linesep = ls;
                    break;
                }
                Some((false, _)) => {
                    if capturing {
                        if !matches!(preamble, Gather::Empty) {
                            let all = std::mem::take(&mut preamble).finish(self.raw);
                            part.preamble = Some(strip_eol_cow(all));
                        }
                        capturing = false;
                        self.unread(line);
                        continue;
                    }
                    loop {
                        let l = self.readline();
                        if boundary_match(l, &sep).is_none() {
                            self.unread(l);
                            break;
                        }
                    }
                    self.eof.push(Eof::Boundary(sep.clone()));
                    let mut child = self.parsegen(depth + 1, child_default);
                    trim_last(&mut child);
                    self.eof.pop();
                    self.adopt(part, child);
                }
                None => preamble.push(self.raw, line),
            }
        }
        if capturing {
            part.payload = preamble.finish(self.raw);
            part.epilogue = Some(Cow::Borrowed(b""));
            self.rest();
            return;
        }
        let rest = self.rest();
        // After a close delimiter without its line end, the next line end
        // belongs to it.
        let k = if linesep {
            0
        } else if rest.starts_with(b"\r\n") {
            2
        } else if starts_nl(&rest) {
            1
        } else {
            0
        };
        part.epilogue = Some(match rest {
            Cow::Borrowed(b) => Cow::Borrowed(&b[k..]),
            Cow::Owned(mut v) => {
                v.drain(..k);
                Cow::Owned(v)
            }
        });
    }
}

/// The newline before a boundary belongs to the boundary: strip it from the
/// last message the sub-parse created.
fn trim_last(p: &mut Part<'_>) {
    let mut cur = p;
    loop {
        if cur.maintype() != "multipart" && !cur.children.is_empty() {
            cur = cur.children.last_mut().unwrap();
        } else {
            break;
        }
    }
    if cur.maintype() == "multipart" {
        // An empty epilogue goes; another loses its last line end.
        cur.epilogue = cur
            .epilogue
            .take()
            .filter(|e| !e.is_empty())
            .map(strip_eol_cow);
    } else if cur.children.is_empty() {
        cur.payload = strip_eol_cow(std::mem::take(&mut cur.payload));
    }
}

// ---------------------------------------------------------------------------
// Part accessors.

impl<'a> Part<'a> {
    fn get_raw(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    fn content_type(&self) -> String {
        let Some(v) = self.get_raw("content-type") else {
            return self.default_type.to_string();
        };
        let b = to_bytes(v);
        let main = match b.iter().position(|&c| c == b';') {
            Some(i) => &b[..i],
            None => &b[..],
        };
        let ct = lower(strip(main));
        if ct.iter().filter(|&&c| c == b'/').count() != 1 {
            return "text/plain".into();
        }
        latin1(&ct)
    }

    fn maintype(&self) -> String {
        let ct = self.content_type();
        ct.split('/').next().unwrap_or("").to_string()
    }

    fn get_param(&self, name: &str, header: &str) -> Option<ParamVal> {
        let v = self.get_raw(header)?;
        get_params(&to_bytes(v))
            .into_iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name.as_bytes()))
            .map(|(_, v)| match v {
                ParamVal::Plain(v) => ParamVal::Plain(py_unquote(&v)),
                ParamVal::Ext(c, l, v) => ParamVal::Ext(c, l, py_unquote(&v)),
            })
    }

    fn get_boundary(&self) -> Option<Vec<u8>> {
        let v = self.get_param("boundary", "content-type")?;
        Some(rstrip(&collapse(v)).to_vec())
    }

    fn walk<'s>(&'s self, out: &mut Vec<&'s Part<'a>>) {
        out.push(self);
        for c in &self.children {
            c.walk(out);
        }
    }

    /// `get_payload(decode=True)` of a non-multipart part (the payload
    /// itself, not a copy, when there is nothing to decode).
    fn decoded(&self) -> Cow<'_, [u8]> {
        let cte = self
            .get_raw("content-transfer-encoding")
            .map(|v| v.to_ascii_lowercase())
            .unwrap_or_default();
        match cte.as_str() {
            "quoted-printable" => Cow::Owned(codec::a2b_qp(&self.payload)),
            "base64" => {
                if self.payload.is_empty() {
                    Cow::Borrowed(b"")
                } else {
                    codec::a2b_base64(&self.payload)
                        .map_or(Cow::Borrowed(&self.payload[..]), Cow::Owned)
                }
            }
            _ => Cow::Borrowed(&self.payload[..]),
        }
    }

    /// MimeDel's `get_file_ext`.
    fn file_ext(&self) -> Vec<u8> {
        let mut filename = match self.get_param("filename", "content-disposition") {
            Some(v) => strip(&collapse(v)).to_vec(),
            None => match self.get_param("name", "content-type") {
                Some(v) => strip(&collapse(v)).to_vec(),
                None => Vec::new(),
            },
        };
        if filename.is_empty() {
            filename = match self.get_param("name", "content-type") {
                Some(ParamVal::Plain(v)) => v,
                Some(ParamVal::Ext(_, _, v)) => v,
                None => Vec::new(),
            };
        }
        if filename.is_empty() {
            return Vec::new();
        }
        let one = oneline_utf8(&filename);
        let ext = splitext(&one);
        if ext.len() > 1 {
            lower(&ext[1..])
        } else {
            Vec::new()
        }
    }
}

fn splitext(p: &[u8]) -> &[u8] {
    let sep = p
        .iter()
        .rposition(|&c| c == b'/')
        .map_or(-1, |i| i as isize);
    let dot = match p.iter().rposition(|&c| c == b'.') {
        Some(d) => d as isize,
        None => return b"",
    };
    if dot > sep {
        let mut i = (sep + 1) as usize;
        while (i as isize) < dot {
            if p[i] != b'.' {
                return &p[dot as usize..];
            }
            i += 1;
        }
    }
    b""
}

// ---------------------------------------------------------------------------
// RFC 2047 (`email.header.decode_header`).

struct Ew {
    start: usize,
    end: usize,
    charset: (usize, usize),
    enc: u8,
    text: (usize, usize),
}

/// Successive matches of `email.header.ecre` in `s`.
fn ecre_all(s: &[u8]) -> Vec<Ew> {
    let n = s.len();
    // next_term[k]: smallest t >= k where "?=" starts and is followed by
    // space, tab, newline or the end; next_nl[k]: next '\n' at or after k.
    let mut next_term = vec![usize::MAX; n + 1];
    let mut next_nl = vec![usize::MAX; n + 1];
    for k in (0..n).rev() {
        next_nl[k] = if s[k] == b'\n' { k } else { next_nl[k + 1] };
        let term = s[k] == b'?'
            && k + 1 < n
            && s[k + 1] == b'='
            && (k + 2 == n || matches!(s[k + 2], b' ' | b'\t' | b'\n'));
        next_term[k] = if term { k } else { next_term[k + 1] };
    }
    let mut next_q = vec![usize::MAX; n + 1];
    for k in (0..n).rev() {
        next_q[k] = if s[k] == b'?' { k } else { next_q[k + 1] };
    }
    let mut out = Vec::new();
    let mut i = 0;
    while i + 1 < n {
        if s[i] == b'=' && s[i + 1] == b'?' {
            let j = next_q[i + 2];
            if j != usize::MAX
                && j + 2 < n
                && matches!(s[j + 1], b'q' | b'Q' | b'b' | b'B')
                && s[j + 2] == b'?'
            {
                let t = next_term[j + 3];
                if t != usize::MAX && t < next_nl[j + 3] {
                    out.push(Ew {
                        start: i,
                        end: t + 2,
                        charset: (i + 2, j),
                        enc: s[j + 1].to_ascii_lowercase(),
                        text: (j + 3, t),
                    });
                    i = t + 2;
                    continue;
                }
            }
        }
        i += 1;
    }
    out
}

type Decoded = Vec<(Vec<u8>, Option<Vec<u8>>)>;

/// `email.header.decode_header`; `Err` is `HeaderParseError`.
fn decode_header(h: &[u8]) -> Result<Decoded, ()> {
    if ecre_all(h).is_empty() {
        return Ok(vec![(h.to_vec(), None)]);
    }
    let mut out: Decoded = Vec::new();
    for line in splitlines(h) {
        let ms = ecre_all(line);
        if ms.is_empty() {
            out.push((line.to_vec(), None));
            continue;
        }
        let mut pos = 0;
        let mut it = ms.into_iter();
        loop {
            let m = it.next();
            let un_end = m.as_ref().map_or(line.len(), |m| m.start);
            let unenc = strip(&line[pos..un_end]);
            if !unenc.is_empty() {
                match out.last_mut() {
                    Some((t, None)) => {
                        t.push(b' ');
                        t.extend_from_slice(unenc);
                    }
                    _ => out.push((unenc.to_vec(), None)),
                }
            }
            let Some(m) = m else { break };
            let cs = lower(&line[m.charset.0..m.charset.1]);
            let text = &line[m.text.0..m.text.1];
            let dec = if m.enc == b'q' {
                codec::q_header_decode(text)
            } else {
                let mut t = text.to_vec();
                let pad = t.len() % 4;
                if pad != 0 {
                    t.extend_from_slice(&b"==="[..4 - pad]);
                }
                if t.is_empty() {
                    t
                } else {
                    codec::a2b_base64(&t)?
                }
            };
            match out.last_mut() {
                Some((t, Some(c))) if *c == cs => t.extend_from_slice(&dec),
                _ => out.push((dec, Some(cs))),
            }
            pos = m.end;
        }
    }
    Ok(out)
}

/// Mailman's `Utils.oneline(s, 'utf-8')` as bytes.
fn oneline_utf8(s: &[u8]) -> Vec<u8> {
    let raw = || splitlines(s).concat();
    let Ok(chunks) = decode_header(s) else {
        return raw();
    };
    let mut u = String::new();
    let mut lastcs: Option<Vec<u8>> = None;
    let mut first = true;
    for (bytes, cs) in chunks {
        let cs = cs.unwrap_or_else(|| b"us-ascii".to_vec());
        let ascii_like = |c: &Option<Vec<u8>>| c.as_deref().is_none_or(|c| c == b"us-ascii");
        let mut nextcs = Some(cs.clone());
        if !first {
            if !ascii_like(&lastcs) {
                if ascii_like(&nextcs) {
                    u.push(' ');
                    nextcs = None;
                }
            } else if !ascii_like(&nextcs) {
                u.push(' ');
            }
        }
        first = false;
        lastcs = nextcs;
        let Ok(c) = pycodec::lookup(&latin1(&cs)) else {
            return raw();
        };
        match pycodec::decode_strict(&bytes, c) {
            Some(t) => u.push_str(&t),
            None => return raw(),
        }
    }
    let joined: String = u.lines_py().concat();
    joined.into_bytes()
}

trait PyLines {
    fn lines_py(&self) -> Vec<&str>;
}

impl PyLines for String {
    /// `unicode.splitlines()` (line boundaries of Python 2's unicode type).
    fn lines_py(&self) -> Vec<&str> {
        py_splitlines(self, true)
    }
}

/// SpamDetect's `getDecodedHeaders` for one part.
fn decoded_headers(p: &Part<'_>, form: NormalForm, out: &mut String) -> Result<(), &'static str> {
    for (h, v) in &p.headers {
        if v.is_ascii() && !v.contains("=?") {
            // No encoded word and nothing to decode: the value as it is,
            // unfolded (ASCII is in every normal form).
            out.push_str(h);
            out.push_str(": ");
            let b = v.as_bytes();
            let mut i = 0;
            while i < b.len() {
                if b[i] == b'\n' && i + 1 < b.len() && is_ws(b[i + 1]) {
                    out.push(' ');
                    i += 2;
                } else {
                    out.push(b[i] as char);
                    i += 1;
                }
            }
            out.push('\n');
            continue;
        }
        let raw = to_bytes(v);
        // re.sub('\n\s', ' ', v)
        let mut unf = Vec::with_capacity(raw.len());
        let mut i = 0;
        while i < raw.len() {
            if raw[i] == b'\n' && i + 1 < raw.len() && is_ws(raw[i + 1]) {
                unf.push(b' ');
                i += 2;
            } else {
                unf.push(raw[i]);
                i += 1;
            }
        }
        let frags = decode_header(&unf).unwrap_or_else(|_| vec![(raw.clone(), None)]);
        let mut u = String::new();
        for (frag, cs) in frags {
            let cs = cs
                .filter(|c| !c.is_empty())
                .map(|c| latin1(&c))
                .unwrap_or_else(|| "us-ascii".into());
            // An unknown charset is read as Latin-1, as Mailman does.
            let c = match pycodec::lookup(&cs) {
                Ok(c) => c,
                Err(pycodec::LookupError::Unknown) => pycodec::Codec::Latin1,
                Err(pycodec::LookupError::Unsupported(m)) => return Err(m),
            };
            u.push_str(&pycodec::decode_replace(&frag, c));
        }
        out.push_str(h);
        out.push_str(": ");
        out.push_str(&form.apply(&u));
        out.push('\n');
    }
    Ok(())
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
        let mut feed = Feed {
            raw,
            lines: Lines { raw, pos: 0 },
            back: Vec::new(),
            eof: Vec::new(),
            parts: 0,
            headers: 0,
            header_bytes: 0,
            limit: None,
        };
        let root = feed.parsegen(0, "text/plain");
        Message {
            root,
            limit: feed.limit,
        }
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
            let lines = || Lines { raw: &body, pos: 0 }.map(strip_eol);
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
