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
//!
//! One stage per file: `tokenize` (bytes to tokens and literals),
//! `statement` (a logical line to a setting, by evaluating its literal
//! expression); here the settings themselves and the state they build.

use std::collections::HashMap;

mod statement;
mod tokenize;

use statement::{logical_lines, statement};
use tokenize::{source_encoding, tokenize};

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
