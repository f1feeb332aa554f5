//! `email.feedparser`: header blocks, the MIME tree, boundaries,
//! preambles and epilogues, within [`super::limits`].

use std::borrow::Cow;

use super::latin1;
use super::limits::*;
use super::part::Part;
use super::text::*;

/// The MIME tree of `raw` and the structural limit the parse stopped at.
#[cfg_attr(target_os = "linux", link_section = ".text.hot.mailman_gate_verdict")]
pub(super) fn parse(raw: &[u8]) -> (Part<'_>, Option<String>) {
    let mut feed = Feed {
        raw,
        lines: Lines { raw, pos: 0 },
        back: Vec::new(),
        eof: Vec::new(),
        header_lines: HeaderLines::new(),
        parts: 0,
        headers: 0,
        header_bytes: 0,
        limit: None,
    };
    let root = feed.parsegen(0, "text/plain");
    (root, feed.limit)
}

/// Consecutive lines read from the feed, as one slice of the raw bytes
/// while they are contiguous there (always, but after a line pushed back
/// past a consumed blank line: then a copy).
#[derive(Default)]
pub(super) enum Gather<'a> {
    #[default]
    Empty,
    Span(&'a [u8], &'a [u8]),
    Owned(Vec<u8>),
}

impl<'a> Gather<'a> {
    #[inline(always)]
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
pub(super) fn span<'a>(raw: &'a [u8], first: &[u8], last: &[u8]) -> &'a [u8] {
    let base = raw.as_ptr() as usize;
    let start = first.as_ptr() as usize - base;
    let end = last.as_ptr() as usize - base + last.len();
    &raw[start..end]
}

/// `f` (which returns a sub-slice) applied to borrowed or owned bytes.
fn map_cow<'a>(s: Cow<'a, [u8]>, f: impl Fn(&[u8]) -> &[u8]) -> Cow<'a, [u8]> {
    match s {
        Cow::Borrowed(b) => {
            let sub = f(b);
            let start = sub.as_ptr() as usize - b.as_ptr() as usize;
            Cow::Borrowed(&b[start..start + sub.len()])
        }
        Cow::Owned(v) => Cow::Owned(f(&v).to_vec()),
    }
}

/// Header bytes as text: borrowed when ASCII, else the Latin-1 mapping.
#[cfg_attr(target_os = "linux", link_section = ".text.hot.mailman_gate_verdict")]
fn text(b: Cow<'_, [u8]>) -> Cow<'_, str> {
    match b {
        // `from_utf8` costs about 100 instructions on a short header,
        // most of the check: ASCII is all this needs to know.
        Cow::Borrowed(b) if b.is_ascii() => {
            // SAFETY: ASCII bytes are UTF-8.
            Cow::Borrowed(unsafe { std::str::from_utf8_unchecked(b) })
        }
        Cow::Borrowed(b) => Cow::Owned(latin1(b)),
        Cow::Owned(b) => Cow::Owned(latin1(&b)),
    }
}

/// `s` without one trailing line end.
pub(super) fn strip_eol_cow(s: Cow<'_, [u8]>) -> Cow<'_, [u8]> {
    match s {
        Cow::Borrowed(b) => Cow::Borrowed(strip_eol(b)),
        Cow::Owned(mut v) => {
            let n = strip_eol(&v).len();
            v.truncate(n);
            Cow::Owned(v)
        }
    }
}

pub(super) enum Eof {
    Blank,
    Boundary(Vec<u8>),
}

/// `boundaryre.match(line)` → Some((is_end, has_linesep)).
pub(super) fn boundary_match(line: &[u8], sep: &[u8]) -> Option<(bool, bool)> {
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

/// Whether `line` belongs to a header block (`headerRE`, a `From ` line or
/// a continuation), and for a field line where its colon is (else 0).
pub(super) fn header_line(line: &[u8]) -> Option<usize> {
    if line.starts_with(b"From ") || line.starts_with(b" ") || line.starts_with(b"\t") {
        return Some(0);
    }
    let n = line
        .iter()
        .take_while(|&&c| (0x21..=0x39).contains(&c) || (0x3b..=0x7e).contains(&c))
        .count();
    (n > 0 && line.get(n) == Some(&b':')).then_some(n)
}

pub(super) fn starts_nl(line: &[u8]) -> bool {
    matches!(line.first(), Some(b'\r') | Some(b'\n'))
}

/// A header block's lines and where their colons are: room for a typical
/// block inline (no allocation, no doubling per few lines).
type HeaderLines<'a> = smallvec::SmallVec<[(&'a [u8], usize); 32]>;

pub(super) struct Feed<'a> {
    raw: &'a [u8],
    lines: Lines<'a>,
    back: Vec<&'a [u8]>,
    eof: Vec<Eof>,
    /// The header lines of the part being read with where their colon is
    /// ([`header_line`]), kept between parts.
    header_lines: HeaderLines<'a>,
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

    // Once per line of every header block: inlined, the call's register
    // saves and restores cost as much as its work.
    #[inline(always)]
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
    #[cfg_attr(target_os = "linux", link_section = ".text.hot.mailman_gate_verdict")]
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

    /// Push a header field, within the limits; false past them. Name and
    /// value borrow the raw bytes when they are ASCII and contiguous there.
    // Once per field: inlined for the same reason.
    #[inline(always)]
    fn push_header(&mut self, part: &mut Part<'a>, name: &'a [u8], value: Cow<'a, [u8]>) -> bool {
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
        part.headers.push((text(Cow::Borrowed(name)), text(value)));
        true
    }

    #[cfg_attr(target_os = "linux", link_section = ".text.hot.mailman_gate_verdict")]
    fn parse_headers(&mut self, part: &mut Part<'a>, lines: &[(&'a [u8], usize)]) {
        // At most one field per line that is not a continuation: one
        // allocation, not a doubling per few fields (a failure is met
        // again, per field, below).
        let fields = lines
            .iter()
            .filter(|(l, _)| !matches!(l.first(), Some(b' ' | b'\t')))
            .count();
        let _ = part.headers.try_reserve_exact(fields);
        let mut last: Option<&'a [u8]> = None;
        let mut value = Gather::Empty;
        for (lineno, &(line, colon)) in lines.iter().enumerate() {
            if line[0] == b' ' || line[0] == b'\t' {
                if last.is_some() {
                    value.push(self.raw, line);
                }
                continue;
            }
            if let Some(h) = last.take() {
                // The value without its last character, then its line ends.
                let v = map_cow(std::mem::take(&mut value).finish(self.raw), |v| {
                    rstrip_nl(&v[..v.len().saturating_sub(1)])
                });
                if !self.push_header(part, h, v) {
                    return;
                }
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
            // Every other line of the block is a field line.
            let i = colon;
            last = Some(&line[..i]);
            let first = lstrip(&line[i + 1..]);
            if !first.is_empty() {
                value.push(self.raw, first);
            }
        }
        if let Some(h) = last {
            let v = map_cow(value.finish(self.raw), rstrip_nl);
            self.push_header(part, h, v);
        }
    }

    #[cfg_attr(target_os = "linux", link_section = ".text.hot.mailman_gate_verdict")]
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
        let mut hl = std::mem::take(&mut self.header_lines);
        hl.clear();
        let mut block_bytes = 0;
        loop {
            let line = self.readline();
            if line.is_empty() {
                break;
            }
            let Some(colon) = header_line(line) else {
                if !starts_nl(line) {
                    self.unread(line);
                }
                break;
            };
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
            hl.push((line, colon));
        }
        if self.limit.is_some() {
            return part;
        }
        self.parse_headers(&mut part, &hl);
        self.header_lines = hl;
        let ctype = part.content_type_cow();
        let ctype = ctype.as_ref();
        let main = ctype.split('/').next().unwrap_or("");
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
            self.multipart(&mut part, depth, ctype);
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
pub(super) fn trim_last(p: &mut Part<'_>) {
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
