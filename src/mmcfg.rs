//! Mailman's site settings read from its own `mm_cfg.py`, without running
//! Python: a small tokenizer for Python 2 literals.
//!
//! Only the settings the decision uses ([`KNOWN`]) are read. For each, the
//! last top-level statement that sets it wins, as when Python runs the
//! file: `NAME = literal`, `NAME += literal`, `NAME.append(literal)`,
//! `NAME.extend(literal)`. A literal is a string (any prefix, quotes,
//! escapes, adjacent or `+` concatenation), a number (`-` included), a
//! tuple or list of literals, `True`/`False`/`None`, `Defaults`' `Yes`,
//! `No`, `On`, `Off` (any case as Defaults spells them), `seconds(N)` and
//! its siblings, or a name the file or `Defaults` gave such a value. A known
//! setting set any other way (an expression, a call, inside an `if`) is an
//! error naming the line: the administrator then sets it in
//! `mailman-gate.conf`, which overrides. Every other statement (imports,
//! `add_virtualhost(...)`, other settings) is ignored.

use crate::py::escape;
use std::collections::HashMap;

/// The `mm_cfg.py` names the decision reads, with their `Defaults.py` values.
pub const KNOWN: [&str; 12] = [
    "LIST_DATA_DIR",
    "ACCEPTABLE_LISTNAME_CHARACTERS",
    "SENDER_HEADERS",
    "USE_ENVELOPE_SENDER",
    "KNOWN_SPAMMERS",
    "DEFAULT_MAIL_COMMANDS_MAX_LINES",
    "ARCHIVE_HTML_SANITIZER",
    "NORMALIZE_FORM",
    "DEFAULT_SERVER_LANGUAGE",
    "DMARC_RESOLVER_TIMEOUT",
    "DMARC_RESOLVER_LIFETIME",
    "DMARC_ORGANIZATIONAL_DOMAIN_DATA_URL",
];

/// A Python 2 value as a literal gives it.
#[derive(Debug, Clone, PartialEq)]
pub enum PyValue {
    None,
    Bool(bool),
    Int(i64),
    Float(f64),
    /// A `str`: bytes.
    Bytes(Vec<u8>),
    /// A `unicode`.
    Text(String),
    Tuple(Vec<PyValue>),
    List(Vec<PyValue>),
}

impl PyValue {
    /// Python's truth value.
    pub fn truthy(&self) -> bool {
        match self {
            PyValue::None => false,
            PyValue::Bool(b) => *b,
            PyValue::Int(n) => *n != 0,
            PyValue::Float(f) => *f != 0.0,
            PyValue::Bytes(b) => !b.is_empty(),
            PyValue::Text(t) => !t.is_empty(),
            PyValue::Tuple(v) | PyValue::List(v) => !v.is_empty(),
        }
    }
    /// A `str` or `unicode` as text (a `str` is read as UTF-8, else Latin-1).
    pub fn as_text(&self) -> Option<String> {
        match self {
            PyValue::Bytes(b) => Some(crate::policy::bytes_to_text(b)),
            PyValue::Text(t) => Some(t.clone()),
            _ => None,
        }
    }
    /// An integer (a bool is one in Python).
    pub fn as_int(&self) -> Option<i64> {
        match self {
            PyValue::Int(n) => Some(*n),
            PyValue::Bool(b) => Some(*b as i64),
            _ => None,
        }
    }
    /// A number as seconds.
    pub fn as_f64(&self) -> Option<f64> {
        match self {
            PyValue::Float(f) => Some(*f),
            other => other.as_int().map(|n| n as f64),
        }
    }
    /// The items of a tuple or list.
    pub fn items(&self) -> Option<&[PyValue]> {
        match self {
            PyValue::Tuple(v) | PyValue::List(v) => Some(v),
            _ => None,
        }
    }
}

/// A setting as the file leaves it, with the line of its last statement.
#[derive(Debug, Clone, PartialEq)]
pub struct Setting {
    pub value: PyValue,
    pub line: usize,
}

/// Why a known setting cannot be read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MmCfgError {
    pub line: usize,
    pub reason: String,
}

impl std::fmt::Display for MmCfgError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "line {}: {}", self.line, self.reason)
    }
}

/// `Defaults.py`'s value of a known setting (the one not built from other
/// paths: `LIST_DATA_DIR` depends on the installation and has none here).
pub fn default_value(name: &str) -> Option<PyValue> {
    let s = |t: &str| PyValue::Bytes(t.as_bytes().to_vec());
    Some(match name {
        "ACCEPTABLE_LISTNAME_CHARACTERS" => s("[-+_.=a-z0-9]"),
        "SENDER_HEADERS" => {
            PyValue::Tuple(vec![s("from"), PyValue::None, s("reply-to"), s("sender")])
        }
        "USE_ENVELOPE_SENDER" => PyValue::Bool(false),
        "KNOWN_SPAMMERS" => PyValue::List(Vec::new()),
        "DEFAULT_MAIL_COMMANDS_MAX_LINES" => PyValue::Int(25),
        "ARCHIVE_HTML_SANITIZER" => PyValue::Int(1),
        "NORMALIZE_FORM" => s("NFKC"),
        "DEFAULT_SERVER_LANGUAGE" => s("en"),
        "DMARC_RESOLVER_TIMEOUT" => PyValue::Int(3),
        "DMARC_RESOLVER_LIFETIME" => PyValue::Int(5),
        "DMARC_ORGANIZATIONAL_DOMAIN_DATA_URL" => {
            s("https://publicsuffix.org/list/public_suffix_list.dat")
        }
        _ => return None,
    })
}

/// What an `mm_cfg.py` leaves the known settings at.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct MmCfg {
    /// Settings the file sets to a value read here.
    pub settings: HashMap<&'static str, Setting>,
    /// Settings whose last change this reader cannot follow.
    pub errors: HashMap<&'static str, MmCfgError>,
}

/// Read the known settings an `mm_cfg.py` sets. Settings it leaves alone
/// are in neither map. `Err` when the file is not Python this reader can
/// tokenize at all.
pub fn read(source: &[u8]) -> Result<MmCfg, MmCfgError> {
    let encoding = source_encoding(source);
    let tokens = tokenize(source, encoding)?;
    let mut st = State {
        env: HashMap::new(),
        cfg: MmCfg::default(),
    };
    for (name, v) in [
        ("True", true),
        ("False", false),
        ("Yes", true),
        ("yes", true),
        ("On", true),
        ("on", true),
        ("No", false),
        ("no", false),
        ("Off", false),
        ("off", false),
    ] {
        st.env.insert(name.to_owned(), PyValue::Bool(v));
    }
    st.env.insert("None".into(), PyValue::None);
    for name in KNOWN {
        if let Some(v) = default_value(name) {
            st.env.insert(name.to_owned(), v);
        }
    }
    for stmt in logical_lines(&tokens) {
        statement(stmt, &mut st);
    }
    Ok(st.cfg)
}

struct State {
    /// Names bound to a literal so far (Defaults' and the file's).
    env: HashMap<String, PyValue>,
    cfg: MmCfg,
}

impl State {
    fn set(&mut self, name: &str, value: PyValue, line: usize) {
        if let Some(k) = known(name) {
            self.cfg.errors.remove(k);
            self.cfg.settings.insert(
                k,
                Setting {
                    value: value.clone(),
                    line,
                },
            );
        }
        self.env.insert(name.to_owned(), value);
    }
    /// `name` now has a value this reader does not know.
    fn lose(&mut self, name: &str, line: usize, why: &str) {
        self.env.remove(name);
        if let Some(k) = known(name) {
            self.cfg.settings.remove(k);
            self.cfg.errors.insert(
                k,
                MmCfgError {
                    line,
                    reason: format!("{k}: {why}"),
                },
            );
        }
    }
}

fn known(name: &str) -> Option<&'static str> {
    KNOWN.iter().copied().find(|k| *k == name)
}

#[derive(Debug, Clone, PartialEq)]
enum Tok {
    Name(String),
    Num(PyValue),
    Str(PyValue),
    Op(&'static str),
    /// End of a logical line.
    Newline,
}

#[derive(Debug, Clone)]
struct Token {
    tok: Tok,
    line: usize,
    /// The first token of a logical line that starts with whitespace.
    indented: bool,
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum Encoding {
    Ascii,
    Utf8,
    Latin1,
    /// Declared, but not one this reader decodes.
    Other,
}

/// PEP 263: a `coding[:=]` comment on line 1 or 2.
fn source_encoding(source: &[u8]) -> Encoding {
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
fn tokenize(src: &[u8], encoding: Encoding) -> Result<Vec<Token>, MmCfgError> {
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

fn logical_lines(tokens: &[Token]) -> Vec<&[Token]> {
    tokens
        .split(|t| t.tok == Tok::Newline)
        .filter(|s| !s.is_empty())
        .collect()
}

/// One top-level statement: read it if it sets a known setting in a way
/// this reader understands; record an error if it sets one another way.
fn statement(stmt: &[Token], st: &mut State) {
    let line = stmt[0].line;
    let name_at = |k: usize| match stmt.get(k).map(|t| &t.tok) {
        Some(Tok::Name(n)) => Some(n.as_str()),
        _ => None,
    };
    let op_at = |k: usize| match stmt.get(k).map(|t| &t.tok) {
        Some(Tok::Op(o)) => Some(*o),
        _ => None,
    };
    // `A = B = literal`: every target a plain name.
    let mut targets: Vec<&str> = Vec::new();
    let mut k = 0;
    while let (Some(n), Some("=")) = (name_at(k), op_at(k + 1)) {
        targets.push(n);
        k += 2;
    }
    // Names as the target of an assignment, a method call (`.insert`) or a
    // `del`.
    let touched: Vec<&str> = {
        let del = name_at(0) == Some("del");
        stmt.iter()
            .enumerate()
            .filter_map(|(j, t)| match &t.tok {
                Tok::Name(n) => {
                    let changed = del
                        || matches!(stmt.get(j + 1).map(|t| &t.tok),
                            Some(Tok::Op(o)) if *o == "." || (o.ends_with('=') && !matches!(*o, "==" | "<=" | ">=" | "!=")));
                    changed.then_some(n.as_str())
                }
                _ => None,
            })
            .collect()
    };
    if stmt[0].indented {
        for n in touched {
            st.lose(n, line, "set inside a block");
        }
        return;
    }
    if !targets.is_empty() && k < stmt.len() {
        match eval(&stmt[k..], &st.env) {
            Ok(v) => {
                for t in targets {
                    st.set(t, v.clone(), line);
                }
            }
            Err(why) => {
                for t in targets {
                    st.lose(t, line, &why);
                }
            }
        }
        return;
    }
    // `NAME += literal`, `NAME.append(literal)`, `NAME.extend(literal)`.
    if let Some(name) = name_at(0) {
        let grow = match (op_at(1), name_at(2), op_at(3), stmt.last().map(|t| &t.tok)) {
            (Some("+="), ..) => Some((&stmt[2..], "+=")),
            (Some("."), Some(m @ ("append" | "extend")), Some("("), Some(Tok::Op(")"))) => {
                Some((&stmt[4..stmt.len() - 1], m))
            }
            _ => None,
        };
        if let Some((expr, how)) = grow {
            let current = st.env.get(name).cloned();
            let result = match (current, eval(expr, &st.env)) {
                (Some(cur), Ok(arg)) => match how {
                    "append" => match cur {
                        PyValue::List(mut v) => {
                            v.push(arg);
                            Ok(PyValue::List(v))
                        }
                        _ => Err("append to something not a list".to_owned()),
                    },
                    "extend" => match (cur, arg.items()) {
                        (PyValue::List(mut v), Some(more)) => {
                            v.extend_from_slice(more);
                            Ok(PyValue::List(v))
                        }
                        _ => Err("extend of something not a list".to_owned()),
                    },
                    _ => match (cur, &arg) {
                        // `list += iterable` extends in place.
                        (PyValue::List(mut v), PyValue::List(more) | PyValue::Tuple(more)) => {
                            v.extend_from_slice(more);
                            Ok(PyValue::List(v))
                        }
                        (cur, _) => add(cur, arg),
                    },
                },
                (None, _) => Err(format!("{name} has no value this reader knows")),
                (_, Err(why)) => Err(why),
            };
            match result {
                Ok(v) => st.set(name, v, line),
                Err(why) => st.lose(name, line, &why),
            }
            return;
        }
    }
    for n in touched {
        st.lose(
            n,
            line,
            "changed by a statement this reader does not follow",
        );
    }
}

/// Python's `a + b` for the literal types.
fn add(a: PyValue, b: PyValue) -> Result<PyValue, String> {
    Ok(match (a, b) {
        (PyValue::Bytes(mut x), PyValue::Bytes(y)) => {
            x.extend(y);
            PyValue::Bytes(x)
        }
        (PyValue::Text(x), PyValue::Text(y)) => PyValue::Text(x + &y),
        (PyValue::Bytes(x), PyValue::Text(y)) if x.is_ascii() => {
            PyValue::Text(String::from_utf8(x).unwrap_or_default() + &y)
        }
        (PyValue::Text(x), PyValue::Bytes(y)) if y.is_ascii() => {
            PyValue::Text(x + std::str::from_utf8(&y).unwrap_or_default())
        }
        (PyValue::List(mut x), PyValue::List(y)) => {
            x.extend(y);
            PyValue::List(x)
        }
        (PyValue::Tuple(mut x), PyValue::Tuple(y)) => {
            x.extend(y);
            PyValue::Tuple(x)
        }
        (a @ (PyValue::Int(_) | PyValue::Bool(_)), b @ (PyValue::Int(_) | PyValue::Bool(_))) => {
            PyValue::Int(
                a.as_int()
                    .unwrap_or(0)
                    .checked_add(b.as_int().unwrap_or(0))
                    .ok_or("integer overflow")?,
            )
        }
        (a, b) if a.as_f64().is_some() && b.as_f64().is_some() => {
            PyValue::Float(a.as_f64().unwrap_or(0.0) + b.as_f64().unwrap_or(0.0))
        }
        _ => return Err("an addition this reader does not evaluate".into()),
    })
}

/// Evaluate a whole token slice as one literal expression.
fn eval(expr: &[Token], env: &HashMap<String, PyValue>) -> Result<PyValue, String> {
    let mut p = Parser { t: expr, i: 0, env };
    let v = p.tuple_or_expr()?;
    if p.i != expr.len() {
        return Err("not a plain literal".into());
    }
    Ok(v)
}

struct Parser<'a> {
    t: &'a [Token],
    i: usize,
    env: &'a HashMap<String, PyValue>,
}

impl Parser<'_> {
    fn peek(&self) -> Option<&Tok> {
        self.t.get(self.i).map(|t| &t.tok)
    }
    fn is_op(&self, op: &str) -> bool {
        matches!(self.peek(), Some(Tok::Op(o)) if *o == op)
    }
    /// `a, b` at the top level is a tuple.
    fn tuple_or_expr(&mut self) -> Result<PyValue, String> {
        let first = self.expr()?;
        if !self.is_op(",") {
            return Ok(first);
        }
        let mut items = vec![first];
        while self.is_op(",") {
            self.i += 1;
            if self.i >= self.t.len() {
                break;
            }
            items.push(self.expr()?);
        }
        Ok(PyValue::Tuple(items))
    }
    fn expr(&mut self) -> Result<PyValue, String> {
        let mut v = self.unary()?;
        while self.is_op("+") {
            self.i += 1;
            let rhs = self.unary()?;
            v = add(v, rhs)?;
        }
        Ok(v)
    }
    fn unary(&mut self) -> Result<PyValue, String> {
        if self.is_op("-") || self.is_op("+") {
            let neg = self.is_op("-");
            self.i += 1;
            return match self.unary()? {
                PyValue::Int(n) if neg => Ok(PyValue::Int(-n)),
                PyValue::Float(f) if neg => Ok(PyValue::Float(-f)),
                v @ (PyValue::Int(_) | PyValue::Float(_)) => Ok(v),
                PyValue::Bool(b) => Ok(PyValue::Int(if neg { -(b as i64) } else { b as i64 })),
                _ => Err("a sign on something not a number".into()),
            };
        }
        self.atom()
    }
    fn atom(&mut self) -> Result<PyValue, String> {
        let Some(tok) = self.peek().cloned() else {
            return Err("an expression is missing".into());
        };
        self.i += 1;
        match tok {
            Tok::Num(v) => Ok(v),
            Tok::Str(first) => {
                // Adjacent literals are one string.
                let mut v = first;
                while let Some(Tok::Str(next)) = self.peek().cloned() {
                    self.i += 1;
                    v = add(v, next)?;
                }
                Ok(v)
            }
            Tok::Name(n) => {
                if self.is_op("(") {
                    let factor = match n.as_str() {
                        "seconds" => 1,
                        "minutes" => 60,
                        "hours" => 3600,
                        "days" => 86400,
                        _ => return Err(format!("a call of {n}()")),
                    };
                    self.i += 1;
                    let arg = self.expr()?;
                    if !self.is_op(")") {
                        return Err(format!("{n}() with other than one number"));
                    }
                    self.i += 1;
                    return match arg {
                        PyValue::Int(x) => Ok(PyValue::Int(x * factor)),
                        PyValue::Float(x) => Ok(PyValue::Float(x * factor as f64)),
                        _ => Err(format!("{n}() of something not a number")),
                    };
                }
                self.env
                    .get(&n)
                    .cloned()
                    .ok_or_else(|| format!("the name {n}, whose value is not a literal here"))
            }
            Tok::Op(open @ ("(" | "[")) => {
                let close = if open == "(" { ")" } else { "]" };
                let mut items = Vec::new();
                let mut comma = false;
                while !self.is_op(close) {
                    items.push(self.expr()?);
                    if self.is_op(",") {
                        comma = true;
                        self.i += 1;
                    } else if !self.is_op(close) {
                        return Err("not a plain literal".into());
                    }
                }
                self.i += 1;
                if open == "[" {
                    Ok(PyValue::List(items))
                } else if items.len() == 1 && !comma {
                    Ok(items.pop().unwrap_or(PyValue::None))
                } else {
                    Ok(PyValue::Tuple(items))
                }
            }
            _ => Err("not a plain literal".into()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn one(src: &str, name: &str) -> PyValue {
        read(src.as_bytes()).expect("reads").settings[name]
            .value
            .clone()
    }

    #[test]
    fn literals() {
        assert_eq!(
            one("USE_ENVELOPE_SENDER = Yes\n", "USE_ENVELOPE_SENDER"),
            PyValue::Bool(true)
        );
        assert_eq!(
            one("NORMALIZE_FORM = 'N' \\\n  \"FC\"\n", "NORMALIZE_FORM"),
            PyValue::Bytes(b"NFC".to_vec())
        );
        assert_eq!(
            one(
                "KNOWN_SPAMMERS = [('X-Spam', r'^\\s*yes'),\n ]\n",
                "KNOWN_SPAMMERS"
            ),
            PyValue::List(vec![PyValue::Tuple(vec![
                PyValue::Bytes(b"X-Spam".to_vec()),
                PyValue::Bytes(b"^\\s*yes".to_vec())
            ])])
        );
        assert_eq!(
            one(
                "DMARC_RESOLVER_TIMEOUT = seconds(2)\n",
                "DMARC_RESOLVER_TIMEOUT"
            ),
            PyValue::Int(2)
        );
    }

    #[test]
    fn append_and_errors() {
        let m = read(b"KNOWN_SPAMMERS.append(('a', 'b'))\nKNOWN_SPAMMERS += [('c', 'd')]\n")
            .expect("reads");
        let s = &m.settings["KNOWN_SPAMMERS"];
        assert_eq!(s.value.items().map(|v| v.len()), Some(2));
        assert_eq!(s.line, 2);
        let e = read(b"import os\nLIST_DATA_DIR = os.path.join('/x', 'lists')\n").expect("reads");
        assert_eq!(e.errors["LIST_DATA_DIR"].line, 2);
        assert!(e.settings.is_empty());
        let e = read(b"if 1:\n    USE_ENVELOPE_SENDER = 1\n").expect("reads");
        assert_eq!(e.errors["USE_ENVELOPE_SENDER"].line, 2);
        // A later plain assignment is what Python ends with.
        let m =
            read(b"import os\nLIST_DATA_DIR = os.getcwd()\nLIST_DATA_DIR = '/l'\n").expect("reads");
        assert!(m.errors.is_empty());
        assert_eq!(m.settings["LIST_DATA_DIR"].line, 3);
        assert_eq!(
            read(b"add_virtualhost('a', 'b')\nfrom Defaults import *\nMTA = None\n")
                .expect("reads"),
            MmCfg::default()
        );
        assert!(read(b"X = 'unterminated\n").is_err());
    }
}
