//! The tokenizer: `mm_cfg.py`'s bytes (in its declared source encoding)
//! to Python 2 tokens, with string and number literals already read.

use super::{MmCfgError, PyValue};
use crate::py::escape;

#[derive(Debug, Clone, PartialEq)]
pub(super) enum Tok {
    Name(String),
    Num(PyValue),
    Str(PyValue),
    Op(&'static str),
    /// End of a logical line.
    Newline,
}

#[derive(Debug, Clone)]
pub(super) struct Token {
    pub(super) tok: Tok,
    pub(super) line: usize,
    /// The first token of a logical line that starts with whitespace.
    pub(super) indented: bool,
}

#[derive(Debug, Clone, Copy, PartialEq)]
pub(super) enum Encoding {
    Ascii,
    Utf8,
    Latin1,
    /// Declared, but not one this reader decodes.
    Other,
}

/// PEP 263: a `coding[:=]` comment on line 1 or 2.
pub(super) fn source_encoding(source: &[u8]) -> Encoding {
    if source.starts_with(b"\xef\xbb\xbf") {
        return Encoding::Utf8;
    }
    for line in source.split(|&b| b == b'\n').take(2) {
        let line = String::from_utf8_lossy(line);
        let t = line.trim_start();
        if !t.starts_with('#') {
            continue;
        }
        if let Some(pos) = t.find("coding") {
            let rest = &t[pos + 6..];
            if let Some(rest) = rest.strip_prefix([':', '=']) {
                let name: String = rest
                    .trim_start()
                    .chars()
                    .take_while(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
                    .collect::<String>()
                    .to_ascii_lowercase()
                    .replace('_', "-");
                return match name.as_str() {
                    "utf-8" | "utf8" => Encoding::Utf8,
                    "latin-1" | "iso-8859-1" | "iso8859-1" | "latin1" => Encoding::Latin1,
                    "ascii" | "us-ascii" => Encoding::Ascii,
                    _ => Encoding::Other,
                };
            }
        }
    }
    Encoding::Ascii
}

const OPS: [&str; 24] = [
    "**=", ">>=", "<<=", "//=", "+=", "-=", "*=", "/=", "%=", "&=", "|=", "^=", "==", "!=", "<=",
    ">=", "<>", "**", "//", "<<", ">>", "->", "(", ")",
];
/// Keywords that open a block: what follows their `:` is conditional.
const COMPOUND: [&str; 10] = [
    "if", "elif", "else", "for", "while", "with", "try", "except", "finally", "def",
];
const SINGLE_OPS: &str = "[]{},:.;@=+-*/%&|^~<>`";

fn err<T>(line: usize, reason: impl Into<String>) -> Result<T, MmCfgError> {
    Err(MmCfgError {
        line,
        reason: reason.into(),
    })
}

/// Python 2's tokenizer, as far as literals and statement boundaries go.
pub(super) fn tokenize(src: &[u8], encoding: Encoding) -> Result<Vec<Token>, MmCfgError> {
    let mut out: Vec<Token> = Vec::new();
    let mut i = 0;
    let mut line = 1;
    let mut depth = 0usize;
    let mut at_line_start = true;
    let mut indented = false;
    while i < src.len() {
        let c = src[i];
        if at_line_start {
            // Leading whitespace of a physical line that starts a logical one.
            let start = i;
            while i < src.len() && matches!(src[i], b' ' | b'\t' | b'\x0c') {
                i += 1;
            }
            if i >= src.len() {
                break;
            }
            if matches!(src[i], b'#' | b'\n' | b'\r') {
                // Blank or comment-only line: no logical line.
                while i < src.len() && src[i] != b'\n' {
                    i += 1;
                }
                if i < src.len() {
                    i += 1;
                    line += 1;
                }
                continue;
            }
            indented = i > start;
            at_line_start = false;
            continue;
        }
        match c {
            b' ' | b'\t' | b'\x0c' | b'\r' => i += 1,
            b'#' => {
                while i < src.len() && src[i] != b'\n' {
                    i += 1;
                }
            }
            b'\\' if src.get(i + 1) == Some(&b'\n') => {
                i += 2;
                line += 1;
            }
            b'\\' if src.get(i + 1) == Some(&b'\r') && src.get(i + 2) == Some(&b'\n') => {
                i += 3;
                line += 1;
            }
            b'\n' => {
                i += 1;
                if depth == 0 {
                    if out.last().is_some_and(|t| t.tok != Tok::Newline) {
                        out.push(Token {
                            tok: Tok::Newline,
                            line,
                            indented: false,
                        });
                    }
                    at_line_start = true;
                }
                line += 1;
            }
            _ => {
                let first = out.last().is_none_or(|t| t.tok == Tok::Newline);
                let tok_line = line;
                let tok = if c.is_ascii_alphabetic() || c == b'_' || c >= 0x80 {
                    let start = i;
                    while i < src.len() && (src[i].is_ascii_alphanumeric() || src[i] == b'_') {
                        i += 1;
                    }
                    if i == start {
                        return err(line, "a character Python does not allow here");
                    }
                    let word = std::str::from_utf8(&src[start..i]).unwrap_or("").to_owned();
                    let lower = word.to_ascii_lowercase();
                    if matches!(lower.as_str(), "r" | "u" | "b" | "ur" | "br")
                        && matches!(src.get(i), Some(b'\'' | b'"'))
                    {
                        let (v, lines) = string(src, &mut i, &lower, encoding, line)?;
                        line += lines;
                        Tok::Str(v)
                    } else {
                        Tok::Name(word)
                    }
                } else if c.is_ascii_digit()
                    || (c == b'.' && src.get(i + 1).is_some_and(u8::is_ascii_digit))
                {
                    Tok::Num(number(src, &mut i, line)?)
                } else if c == b'\'' || c == b'"' {
                    let (v, lines) = string(src, &mut i, "", encoding, line)?;
                    line += lines;
                    Tok::Str(v)
                } else {
                    let rest = &src[i..];
                    if let Some(op) = OPS.iter().find(|op| rest.starts_with(op.as_bytes())) {
                        i += op.len();
                        Tok::Op(op)
                    } else if let Some(pos) = SINGLE_OPS.bytes().position(|b| b == c) {
                        i += 1;
                        Tok::Op(&SINGLE_OPS[pos..pos + 1])
                    } else {
                        return err(line, format!("unexpected character {:?}", c as char));
                    }
                };
                if tok == Tok::Op(";") && depth == 0 {
                    // `a; b` are two statements; after `if x: a;` both
                    // belong to the block.
                    let head = out
                        .iter()
                        .rposition(|t| t.tok == Tok::Newline)
                        .map_or(0, |p| p + 1);
                    let block = out.get(head).is_some_and(|t| {
                        t.indented
                            || matches!(&t.tok, Tok::Name(n) if COMPOUND.contains(&n.as_str()))
                    });
                    out.push(Token {
                        tok: Tok::Newline,
                        line,
                        indented: false,
                    });
                    indented = block;
                    continue;
                }
                match &tok {
                    Tok::Op("(" | "[" | "{") => depth += 1,
                    Tok::Op(")" | "]" | "}") => depth = depth.saturating_sub(1),
                    _ => {}
                }
                out.push(Token {
                    tok,
                    line: tok_line,
                    indented: first && indented,
                });
            }
        }
    }
    if out.last().is_some_and(|t| t.tok != Tok::Newline) {
        out.push(Token {
            tok: Tok::Newline,
            line,
            indented: false,
        });
    }
    Ok(out)
}

fn number(src: &[u8], i: &mut usize, line: usize) -> Result<PyValue, MmCfgError> {
    let start = *i;
    while *i < src.len()
        && (src[*i].is_ascii_alphanumeric()
            || src[*i] == b'.'
            || (matches!(src[*i], b'+' | b'-') && matches!(src[*i - 1], b'e' | b'E')))
    {
        *i += 1;
    }
    let text = std::str::from_utf8(&src[start..*i]).unwrap_or("");
    let t = text.trim_end_matches(['l', 'L']);
    let bad = || MmCfgError {
        line,
        reason: format!("cannot read the number {text}"),
    };
    if t.len() < text.len().saturating_sub(1) {
        return Err(bad());
    }
    let lower = t.to_ascii_lowercase();
    let int = if let Some(h) = lower.strip_prefix("0x") {
        i64::from_str_radix(h, 16).ok()
    } else if let Some(o) = lower.strip_prefix("0o") {
        i64::from_str_radix(o, 8).ok()
    } else if let Some(b) = lower.strip_prefix("0b") {
        i64::from_str_radix(b, 2).ok()
    } else if lower.len() > 1 && lower.starts_with('0') && lower.bytes().all(|b| b.is_ascii_digit())
    {
        // Python 2: a leading zero means octal.
        i64::from_str_radix(&lower[1..], 8).ok()
    } else if lower.bytes().all(|b| b.is_ascii_digit()) {
        lower.parse().ok()
    } else {
        if t.len() != text.len() || lower.ends_with('j') {
            return Err(bad());
        }
        return lower.parse::<f64>().map(PyValue::Float).map_err(|_| bad());
    };
    int.map(PyValue::Int).ok_or_else(bad)
}

/// A string literal at `src[*i]` (the quote), with its prefix (lower-cased);
/// returns the value and how many newlines it spans.
fn string(
    src: &[u8],
    i: &mut usize,
    prefix: &str,
    encoding: Encoding,
    line: usize,
) -> Result<(PyValue, usize), MmCfgError> {
    let raw = prefix.contains('r');
    let unicode = prefix.contains('u');
    let q = src[*i];
    let triple = src.get(*i + 1) == Some(&q) && src.get(*i + 2) == Some(&q);
    *i += if triple { 3 } else { 1 };
    let mut body: Vec<u8> = Vec::new();
    let mut newlines = 0;
    loop {
        let Some(&c) = src.get(*i) else {
            return err(line, "unterminated string");
        };
        if c == q && (!triple || (src.get(*i + 1) == Some(&q) && src.get(*i + 2) == Some(&q))) {
            *i += if triple { 3 } else { 1 };
            break;
        }
        if c == b'\n' {
            if !triple {
                return err(line, "unterminated string");
            }
            newlines += 1;
        }
        if c == b'\\' && *i + 1 < src.len() {
            if src[*i + 1] == b'\n' {
                newlines += 1;
            }
            body.push(c);
            body.push(src[*i + 1]);
            *i += 2;
            continue;
        }
        body.push(c);
        *i += 1;
    }
    let line_end = line + newlines;
    if !body.is_ascii() && encoding == Encoding::Ascii {
        return err(
            line_end,
            "non-ASCII character and no coding declaration (Python refuses the file)",
        );
    }
    if !body.is_ascii() && encoding == Encoding::Other {
        return err(line_end, "a source encoding this reader does not decode");
    }
    if unicode {
        let text: String = match encoding {
            Encoding::Latin1 => body.iter().map(|&b| b as char).collect(),
            _ => String::from_utf8(body.clone()).map_err(|_| MmCfgError {
                line: line_end,
                reason: "not valid UTF-8".into(),
            })?,
        };
        Ok((
            PyValue::Text(unescape_unicode(&text, raw).ok_or_else(|| MmCfgError {
                line: line_end,
                reason: "an escape this reader does not decode".into(),
            })?),
            newlines,
        ))
    } else {
        let bytes = if raw {
            body
        } else {
            escape::string_escape(&body).map_err(|e| MmCfgError {
                line: line_end,
                reason: e.to_string(),
            })?
        };
        Ok((PyValue::Bytes(bytes), newlines))
    }
}

/// The escapes of a `unicode` literal; a raw one keeps all but `\uXXXX` and
/// `\UXXXXXXXX` (Python 2's raw-unicode-escape).
fn unescape_unicode(s: &str, raw: bool) -> Option<String> {
    let chars: Vec<char> = s.chars().collect();
    let mut out = String::with_capacity(s.len());
    let mut i = 0;
    let hex = |from: usize, n: usize| -> Option<char> {
        let t: String = chars.get(from..from + n)?.iter().collect();
        char::from_u32(u32::from_str_radix(&t, 16).ok()?)
    };
    while i < chars.len() {
        let c = chars[i];
        if c != '\\' || i + 1 >= chars.len() {
            out.push(c);
            i += 1;
            continue;
        }
        if raw {
            // An odd run of backslashes before u/U starts an escape.
            let run = chars[i..].iter().take_while(|&&c| c == '\\').count();
            let next = chars.get(i + run).copied();
            if run % 2 == 1 && matches!(next, Some('u' | 'U')) {
                out.extend(std::iter::repeat_n('\\', run - 1));
                let n = if next == Some('u') { 4 } else { 8 };
                out.push(hex(i + run + 1, n)?);
                i += run + 1 + n;
            } else {
                out.extend(std::iter::repeat_n('\\', run));
                i += run;
            }
            continue;
        }
        let e = chars[i + 1];
        i += 2;
        match e {
            '\n' => {}
            '0'..='7' => {
                let (n, used) = escape::octal_escape(chars[i - 1..].iter().map(|&c| u32::from(c)));
                out.push(char::from_u32(n)?);
                i += used - 1;
            }
            'x' => {
                out.push(hex(i, 2)?);
                i += 2;
            }
            'u' => {
                out.push(hex(i, 4)?);
                i += 4;
            }
            'U' => {
                out.push(hex(i, 8)?);
                i += 8;
            }
            'N' => return None,
            other => match u8::try_from(other).ok().and_then(escape::simple_escape) {
                Some(b) => out.push(char::from(b)),
                None => {
                    out.push('\\');
                    out.push(other);
                }
            },
        }
    }
    Some(out)
}
