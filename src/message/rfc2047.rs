//! RFC 2047 encoded words (`email.header.decode_header`), `Utils.oneline`
//! and SpamDetect's decoded header text.

use std::borrow::Cow;

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
/// nothing appended, if `v` holds `=?`.
fn push_plain(
    h: &str,
    v: &str,
    out: &mut String,
    line_starts: &mut Vec<usize>,
) -> Result<bool, HeaderTextError> {
    let begin = out.len();
    out.try_reserve(h.len() + 2)
        .map_err(|_| HeaderTextError::NoMemory)?;
    out.push_str(h);
    out.push_str(": ");
    if push_unfolded(v, out, line_starts)? {
        return Ok(true);
    }
    out.truncate(begin);
    Ok(false)
}

/// Where `s` lies in `raw`, if it is a non-empty slice of it.
fn offset_in(raw: &[u8], s: &str) -> Option<usize> {
    let off = (s.as_ptr() as usize).wrapping_sub(raw.as_ptr() as usize);
    (!s.is_empty() && off <= raw.len() && raw.len() - off >= s.len()).then_some(off)
}

/// How many fields from the first of `fields` are written in `raw` as
/// their lines of the header text are, `name: value\n` one after the
/// other (one space after the colon, LF line ends, both borrowed from
/// `raw`), and the span of `raw` they make without the last line end.
#[cfg_attr(target_os = "linux", link_section = ".text.hot.mailman_gate_verdict")]
fn raw_run(raw: &[u8], fields: &[(Cow<'_, str>, Cow<'_, str>)]) -> (usize, usize, usize) {
    let mut start = None;
    let mut end = 0;
    let mut n = 0;
    for (h, v) in fields {
        let (Some(name), Some(value)) = (offset_in(raw, h), offset_in(raw, v)) else {
            break;
        };
        let colon = name + h.len();
        let value_end = value + v.len();
        if start.is_some_and(|_| name != end + 1)
            || value != colon + 2
            || raw[colon + 1] != b' '
            || raw.get(value_end) != Some(&b'\n')
            || raw[value_end - 1] == b'\n'
        {
            break;
        }
        start.get_or_insert(name);
        end = value_end;
        n += 1;
    }
    (n, start.unwrap_or(0), end)
}

/// The header text of `span`, fields that [`raw_run`] found written as
/// their text is, if it is ASCII and holds no `=?`: as [`push_plain`]
/// writes each of them, in one pass over the span. False, and nothing
/// appended, otherwise.
#[cfg_attr(target_os = "linux", link_section = ".text.hot.mailman_gate_verdict")]
fn push_raw_run(
    span: &[u8],
    out: &mut String,
    line_starts: &mut Vec<usize>,
) -> Result<bool, HeaderTextError> {
    if !span.is_ascii() {
        return Ok(false);
    }
    // SAFETY: ASCII is UTF-8.
    push_unfolded(
        unsafe { std::str::from_utf8_unchecked(span) },
        out,
        line_starts,
    )
}

/// ASCII `text` appended to `out` as SpamDetect's header text has it
/// (`re.sub('\n\s', ' ', v)` and a line end), with the line starts: a
/// fold (`\n` and the whitespace after it) becomes a space, any other
/// `\n` stays and a line begins after it, and so after the `\n` added
/// at the end. False, and nothing appended, if `text` holds `=?` (an
/// encoded word may begin there: the caller decodes).
#[cfg_attr(target_os = "linux", link_section = ".text.hot.mailman_gate_verdict")]
fn push_unfolded(
    text: &str,
    out: &mut String,
    line_starts: &mut Vec<usize>,
) -> Result<bool, HeaderTextError> {
    let b = text.as_bytes();
    out.try_reserve(b.len() + 1)
        .map_err(|_| HeaderTextError::NoMemory)?;
    let (begin, lines_begin) = (out.len(), line_starts.len());
    // The bytes not yet copied begin here.
    let mut start = 0;
    // 32 bytes at a time, the line ends and question marks found as bit
    // masks (vector code).
    for (c, chunk) in b.chunks(32).enumerate() {
        let (nl, q) = match chunk.try_into() {
            Ok(block) => newlines_and_questions(block),
            Err(_) => {
                let mut block = [0u8; 32];
                block[..chunk.len()].copy_from_slice(chunk);
                newlines_and_questions(&block)
            }
        };
        let base = c * 32;
        if q != 0 && bits(q).any(|k| base + k > 0 && b[base + k - 1] == b'=') {
            out.truncate(begin);
            line_starts.truncate(lines_begin);
            return Ok(false);
        }
        for i in bits(nl).map(|k| base + k) {
            if i < start {
                continue;
            }
            if i + 1 < b.len() && is_ws(b[i + 1]) {
                out.push_str(&text[start..i]);
                out.push(' ');
                start = i + 2;
            } else {
                line_room(line_starts)?;
                line_starts.push(out.len() + (i + 1 - start));
            }
        }
    }
    out.push_str(&text[start..]);
    out.push('\n');
    line_room(line_starts)?;
    line_starts.push(out.len());
    Ok(true)
}

/// Bit masks of the `\n` and the `?` of `block`: four SSE2 compares (a
/// byte loop costs more than `memchr` called at each line end).
#[cfg(target_arch = "x86_64")]
fn newlines_and_questions(block: &[u8; 32]) -> (u32, u32) {
    use std::arch::x86_64::*;
    // SAFETY: SSE2 is part of every x86_64; the two unaligned loads read
    // the 32 bytes of `block`.
    unsafe {
        let lo = _mm_loadu_si128(block.as_ptr().cast());
        let hi = _mm_loadu_si128(block.as_ptr().add(16).cast());
        let mask = |v: __m128i, c: u8| {
            _mm_movemask_epi8(_mm_cmpeq_epi8(v, _mm_set1_epi8(c as i8))) as u32 & 0xffff
        };
        (
            mask(lo, b'\n') | mask(hi, b'\n') << 16,
            mask(lo, b'?') | mask(hi, b'?') << 16,
        )
    }
}

#[cfg(not(target_arch = "x86_64"))]
fn newlines_and_questions(block: &[u8; 32]) -> (u32, u32) {
    let (mut nl, mut q) = (0u32, 0u32);
    for (k, &b) in block.iter().enumerate() {
        nl |= u32::from(b == b'\n') << k;
        q |= u32::from(b == b'?') << k;
    }
    (nl, q)
}

/// The positions of the bits set in `m`, lowest first.
fn bits(mut m: u32) -> impl Iterator<Item = usize> {
    std::iter::from_fn(move || {
        let k = m.trailing_zeros() as usize;
        m &= m.wrapping_sub(1);
        (k < 32).then_some(k)
    })
}

fn line_room(line_starts: &mut Vec<usize>) -> Result<(), HeaderTextError> {
    if line_starts.len() < line_starts.capacity() {
        return Ok(());
    }
    line_starts
        .try_reserve(1)
        .map_err(|_| HeaderTextError::NoMemory)
}

/// SpamDetect's `getDecodedHeaders` for one part (whose fields borrow
/// from `raw`). Appends to `out` and pushes onto `line_starts` where each
/// line of what it appends begins after the first (the position after
/// each `\n`).
#[cfg_attr(target_os = "linux", link_section = ".text.hot.mailman_gate_verdict")]
pub(super) fn decoded_headers(
    p: &Part<'_>,
    raw: &[u8],
    form: NormalForm,
    out: &mut String,
    line_starts: &mut Vec<usize>,
) -> Result<(), HeaderTextError> {
    let mut k = 0;
    while k < p.headers.len() {
        // Fields written in the message as the text has them are copied
        // from it whole; the others one by one.
        let (n, start, end) = raw_run(raw, &p.headers[k..]);
        if n > 0 && push_raw_run(&raw[start..end], out, line_starts)? {
            k += n;
            continue;
        }
        for field in &p.headers[k..k + n.max(1)] {
            decoded_field(field, form, out, line_starts)?;
        }
        k += n.max(1);
    }
    Ok(())
}

/// [`decoded_headers`] for one field.
fn decoded_field(
    (h, v): &(Cow<'_, str>, Cow<'_, str>),
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
    let room =
        |out: &mut String, n: usize| out.try_reserve(n).map_err(|_| HeaderTextError::NoMemory);
    if v.is_ascii() && push_plain(h, v, out, line_starts)? {
        return Ok(());
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
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::message::Message;

    /// The header text written field by field, as before runs were copied.
    fn field_by_field(m: &Message<'_>) -> (String, Vec<usize>) {
        let (mut text, mut starts) = (String::new(), vec![0]);
        for p in m.walk() {
            for f in &p.headers {
                decoded_field(f, NormalForm::Nfkc, &mut text, &mut starts).expect("decoded");
            }
        }
        (text, starts)
    }

    fn same_text(raw: &[u8]) {
        let m = Message::parse(raw);
        let got = m.header_filter_lines(NormalForm::Nfkc).expect("text");
        let (text, starts) = field_by_field(&m);
        assert_eq!(got.text, text, "{:?}", String::from_utf8_lossy(raw));
        assert_eq!(
            got.line_starts,
            starts,
            "{:?}",
            String::from_utf8_lossy(raw)
        );
    }

    #[test]
    fn raw_runs_write_what_each_field_writes() {
        let post = include_str!("../../benches/post.eml");
        same_text(post.as_bytes());
        same_text(post.replace('\n', "\r\n").as_bytes());
        for case in [
            &b"Subject:\tx\nTo: a\n\nbody"[..],
            b"Subject:x\nTo:  a\n\n",
            b"X-E:\nX-F: \nSubject: why?\nX-A=?b: c\n\n",
            b"Subject: =?utf-8?q?caf=C3=A9?=\nTo: a\nCc: b\n\n",
            b"Subject: x =?y\nTo: a\n\n",
            b"From a@b Mon Nov 30 10:00:00 2026\nSubject: s\n\tt\n  \n\tu\nTo: t  \n\n",
            b"Subject: caf\xe9\nTo: a\n\n",
            b"Subject: a\rb\nTo: c\r\n\n",
            b"Subject: no line end",
            b"Subject: a\nTo: b",
            b"Content-Type: multipart/mixed; boundary=b\nSubject: m\n\n--b\nContent-Type: text/plain\nX-P: q\n\tr\n\nbody\n--b--\n",
        ] {
            same_text(case);
        }
    }

    /// `re.sub('\n\s', ' ', text) + '\n'` byte by byte, with the
    /// positions after each `\n` it keeps; None if `text` holds `=?`.
    fn unfolded_by_hand(text: &str) -> Option<(String, Vec<usize>)> {
        if text.contains("=?") {
            return None;
        }
        let b = text.as_bytes();
        let (mut out, mut starts, mut i) = (String::new(), Vec::new(), 0);
        while i < b.len() {
            if b[i] == b'\n' && i + 1 < b.len() && is_ws(b[i + 1]) {
                out.push(' ');
                i += 2;
            } else {
                out.push(b[i] as char);
                if b[i] == b'\n' {
                    starts.push(out.len());
                }
                i += 1;
            }
        }
        out.push('\n');
        starts.push(out.len());
        Some((out, starts))
    }

    #[test]
    fn unfolding_is_python_s_substitution() {
        let pieces = ["a", "\n", " ", "\t", "\r", "=", "?", "\n\n", "xyz ", "=?"];
        let mut rng = fastrand::Rng::with_seed(11);
        for _ in 0..20_000 {
            let text: String = (0..rng.usize(0..80))
                .map(|_| pieces[rng.usize(..pieces.len())])
                .collect();
            let (mut out, mut starts) = (String::from("H: "), vec![0]);
            let kept = push_unfolded(&text, &mut out, &mut starts).expect("memory");
            match unfolded_by_hand(&text) {
                Some((want, want_starts)) => {
                    assert!(kept, "{text:?}");
                    assert_eq!(out, format!("H: {want}"), "{text:?}");
                    let shifted: Vec<usize> = want_starts.iter().map(|p| p + 3).collect();
                    assert_eq!(starts[1..], shifted[..], "{text:?}");
                }
                None => {
                    assert!(!kept, "{text:?}");
                    assert_eq!((out.as_str(), &starts[..]), ("H: ", &[0][..]));
                }
            }
        }
    }

    #[test]
    fn raw_runs_on_random_header_blocks() {
        let alphabet: &[&[u8]] = &[
            b"Subject",
            b"X",
            b":",
            b" ",
            b"\t",
            b"\n",
            b"\r",
            b"=",
            b"?",
            b"=?utf-8?q?a?=",
            b"a",
            b"\xe9",
            b"\n\t",
            b"\n ",
            b"long value of some words ",
        ];
        let mut rng = fastrand::Rng::with_seed(7);
        for _ in 0..20_000 {
            let mut raw = Vec::new();
            for _ in 0..rng.usize(1..12) {
                raw.extend_from_slice(b"H");
                for _ in 0..rng.usize(0..8) {
                    raw.extend_from_slice(alphabet[rng.usize(..alphabet.len())]);
                }
                raw.extend_from_slice(b": v");
                for _ in 0..rng.usize(0..12) {
                    raw.extend_from_slice(alphabet[rng.usize(..alphabet.len())]);
                }
                raw.push(b'\n');
            }
            same_text(&raw);
        }
    }
}
