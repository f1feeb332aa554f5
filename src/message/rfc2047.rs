//! RFC 2047 encoded words (`email.header.decode_header`), `Utils.oneline`
//! and SpamDetect's decoded header text.

use super::part::Part;
use super::text::*;
use super::{codec, pycodec};
use super::{latin1, py_splitlines, to_bytes, HeaderTextError, NormalForm};

pub(super) struct Ew {
    start: usize,
    end: usize,
    charset: (usize, usize),
    enc: u8,
    text: (usize, usize),
}

/// The first position at or after a query position where a predicate
/// holds, for queries that never go backwards: each byte is tested at
/// most once over all queries.
struct NextFrom {
    /// The last answer (`usize::MAX`: none up to the end).
    at: usize,
    /// Bytes before this were tested.
    tested: usize,
}

impl NextFrom {
    fn new() -> NextFrom {
        NextFrom { at: 0, tested: 0 }
    }

    fn find(&mut self, k: usize, n: usize, holds: impl Fn(usize) -> bool) -> usize {
        if self.tested > k && (self.at == usize::MAX || self.at >= k) {
            return self.at;
        }
        let from = k.max(self.tested);
        self.at = (from..n).find(|&t| holds(t)).unwrap_or(usize::MAX);
        self.tested = if self.at == usize::MAX {
            n + 1
        } else {
            self.at + 1
        };
        self.at
    }
}

/// Successive matches of `email.header.ecre` in `s`, in one pass (no
/// table per byte: headers may be megabytes).
pub(super) fn ecre_all(s: &[u8]) -> Vec<Ew> {
    let n = s.len();
    // The first "?=" followed by space, tab, newline or the end; the next
    // '\n'; the next '?'.
    let term = |k: usize| {
        s[k] == b'?'
            && k + 1 < n
            && s[k + 1] == b'='
            && (k + 2 == n || matches!(s[k + 2], b' ' | b'\t' | b'\n'))
    };
    let (mut next_term, mut next_nl, mut next_q) =
        (NextFrom::new(), NextFrom::new(), NextFrom::new());
    let mut out = Vec::new();
    let mut i = 0;
    while i + 1 < n {
        let Some(k) = memchr::memmem::find(&s[i..], b"=?") else {
            break;
        };
        i += k;
        let j = next_q.find(i + 2, n, |t| s[t] == b'?');
        if j != usize::MAX
            && j + 2 < n
            && matches!(s[j + 1], b'q' | b'Q' | b'b' | b'B')
            && s[j + 2] == b'?'
        {
            let t = next_term.find(j + 3, n, term);
            if t != usize::MAX && t < next_nl.find(j + 3, n, |t| s[t] == b'\n') {
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
        i += 1;
    }
    out
}

pub(super) type Decoded = Vec<(Vec<u8>, Option<Vec<u8>>)>;

/// `email.header.decode_header`; `Err` is `HeaderParseError`.
pub(super) fn decode_header(h: &[u8]) -> Result<Decoded, ()> {
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
                    codec::a2b_base64(&t).map_err(|_| ())?
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
pub fn oneline_utf8(s: &[u8]) -> Vec<u8> {
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

pub(super) trait PyLines {
    fn lines_py(&self) -> Vec<&str>;
}

impl PyLines for String {
    /// `unicode.splitlines()` (line boundaries of Python 2's unicode type).
    fn lines_py(&self) -> Vec<&str> {
        py_splitlines(self, true)
    }
}

/// `h: v\n` for an ASCII `v` that holds no `=?` (no encoded word and
/// nothing to decode: the value as it is, unfolded; ASCII is in every
/// normal form), appended to `out` with its line starts; false, and
/// nothing appended, if `v` holds `=?`. One `memchr2` pass finds both the
/// line ends and the `?` (rare in headers, where `=` is common).
fn push_plain(
    h: &str,
    v: &str,
    out: &mut String,
    line_starts: &mut Vec<usize>,
) -> Result<bool, HeaderTextError> {
    let b = v.as_bytes();
    let begin = out.len();
    out.try_reserve(h.len() + v.len() + 3)
        .map_err(|_| HeaderTextError::NoMemory)?;
    out.push_str(h);
    out.push_str(": ");
    let at = out.len();
    // Runs between line ends copied whole; `\n` and the whitespace after
    // it become one space.
    let mut start = 0;
    let mut from = 0;
    let mut kept_nl = false;
    while let Some(j) = memchr::memchr2(b'\n', b'?', &b[from..]) {
        let i = from + j;
        if b[i] == b'?' {
            if i > 0 && b[i - 1] == b'=' {
                out.truncate(begin);
                return Ok(false);
            }
            from = i + 1;
        } else if i + 1 < b.len() && is_ws(b[i + 1]) {
            out.push_str(&v[start..i]);
            out.push(' ');
            start = i + 2;
            from = i + 2;
        } else {
            kept_nl = true;
            from = i + 1;
        }
    }
    out.push_str(&v[start..]);
    out.push('\n');
    // A line end the value keeps (not followed by whitespace) begins a
    // line.
    let more = if kept_nl {
        memchr::memchr_iter(b'\n', &out.as_bytes()[at..out.len() - 1]).count()
    } else {
        0
    };
    line_starts
        .try_reserve(more + 1)
        .map_err(|_| HeaderTextError::NoMemory)?;
    if kept_nl {
        let inner = &out.as_bytes()[at..out.len() - 1];
        line_starts.extend(memchr::memchr_iter(b'\n', inner).map(|j| at + j + 1));
    }
    line_starts.push(out.len());
    Ok(true)
}

/// SpamDetect's `getDecodedHeaders` for one part.
/// Appends to `out` and pushes onto `line_starts` where each line of what
/// it appends begins after the first (the position after each `\n`).
pub(super) fn decoded_headers(
    p: &Part<'_>,
    form: NormalForm,
    out: &mut String,
    line_starts: &mut Vec<usize>,
) -> Result<(), HeaderTextError> {
    // A line end the value itself keeps (one not followed by whitespace,
    // or one a decoded word holds) begins a line too.
    let inner_lines = |out: &str, from: usize, line_starts: &mut Vec<usize>| {
        let inner = &out.as_bytes()[from..out.len() - 1];
        line_starts
            .try_reserve(memchr::memchr_iter(b'\n', inner).count())
            .map_err(|_| HeaderTextError::NoMemory)?;
        line_starts.extend(memchr::memchr_iter(b'\n', inner).map(|j| from + j + 1));
        Ok(())
    };
    let line_room = |line_starts: &mut Vec<usize>| {
        line_starts
            .try_reserve(1)
            .map_err(|_| HeaderTextError::NoMemory)
    };
    let room =
        |out: &mut String, n: usize| out.try_reserve(n).map_err(|_| HeaderTextError::NoMemory);
    for (h, v) in &p.headers {
        if v.is_ascii() && push_plain(h, v, out, line_starts)? {
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
                Err(pycodec::LookupError::Unsupported(m)) => return Err(HeaderTextError::Codec(m)),
            };
            u.push_str(&pycodec::decode_replace(&frag, c));
        }
        let value = form.apply(&u);
        room(out, h.len() + value.len() + 3)?;
        let at = out.len();
        out.push_str(h);
        out.push_str(": ");
        out.push_str(&value);
        out.push('\n');
        inner_lines(out, at, line_starts)?;
        line_room(line_starts)?;
        line_starts.push(out.len());
    }
    Ok(())
}
