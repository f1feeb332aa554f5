//! One node of the MIME tree and its accessors (`email.message.Message`).

use std::borrow::Cow;

use super::codec::{self, Base64Error, NoMemory};
use super::params::*;
use super::text::*;
use super::{latin1, to_bytes};

/// One part: its headers and either sub-parts or a string payload.
#[derive(Debug, Clone, Default)]
pub struct Part<'a> {
    pub(super) unixfrom: Option<String>,
    pub(super) headers: Vec<(Cow<'a, str>, Cow<'a, str>)>,
    pub(super) default_type: &'static str,
    /// Sub-messages; non-empty exactly when Python's payload is a list.
    pub(super) children: Vec<Part<'a>>,
    /// The string payload when there are no children.
    pub(super) payload: Cow<'a, [u8]>,
    pub(super) preamble: Option<Cow<'a, [u8]>>,
    pub(super) epilogue: Option<Cow<'a, [u8]>>,
}

impl<'a> Part<'a> {
    /// The first value of a header (`part[name]`).
    pub fn get(&self, name: &str) -> Option<&str> {
        self.get_raw(name)
    }

    /// True when the payload is a list of sub-parts.
    pub fn is_multipart(&self) -> bool {
        !self.children.is_empty()
    }

    /// The sub-parts (empty unless [`Part::is_multipart`]).
    pub fn subparts(&self) -> &[Part<'a>] {
        &self.children
    }

    /// The string payload, undecoded (empty for a multipart).
    pub fn payload(&self) -> &[u8] {
        &self.payload
    }

    pub fn preamble(&self) -> Option<&[u8]> {
        self.preamble.as_deref()
    }

    pub fn epilogue(&self) -> Option<&[u8]> {
        self.epilogue.as_deref()
    }

    pub(super) fn get_raw(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_ref())
    }

    /// `get_content_type()`: lower-case, the default type when absent,
    /// text/plain when malformed.
    pub fn content_type(&self) -> String {
        self.content_type_cow().into_owned()
    }

    /// [`Part::content_type`], the default type not copied.
    #[cfg_attr(target_os = "linux", link_section = ".text.hot.mailman_gate_verdict")]
    pub(super) fn content_type_cow(&self) -> Cow<'static, str> {
        let Some(v) = self.get_raw("content-type") else {
            return Cow::Borrowed(self.default_type);
        };
        if v.is_ascii() {
            // The usual case: no copy to bytes, and the common types
            // without an allocation.
            let Some(ct) = main_type(v.as_bytes()) else {
                return Cow::Borrowed("text/plain");
            };
            for known in [
                "text/plain",
                "text/html",
                "multipart/mixed",
                "multipart/alternative",
            ] {
                if ct.eq_ignore_ascii_case(known.as_bytes()) {
                    return Cow::Borrowed(known);
                }
            }
            return Cow::Owned(String::from_utf8_lossy(ct).to_ascii_lowercase());
        }
        let b = to_bytes(v);
        match main_type(&b) {
            Some(ct) => Cow::Owned(latin1(&lower(ct))),
            None => Cow::Borrowed("text/plain"),
        }
    }

    /// `get_content_type() == want` for a lower-case `want`, without
    /// building the type.
    #[cfg_attr(target_os = "linux", link_section = ".text.hot.mailman_gate_verdict")]
    pub fn content_type_is(&self, want: &str) -> bool {
        match self.get_raw("content-type") {
            None => self.default_type == want,
            Some(v) if v.is_ascii() => match main_type(v.as_bytes()) {
                Some(ct) => ct.eq_ignore_ascii_case(want.as_bytes()),
                None => want == "text/plain",
            },
            Some(_) => self.content_type() == want,
        }
    }

    /// `get_content_maintype()`.
    pub fn maintype(&self) -> Cow<'static, str> {
        match self.content_type_cow() {
            Cow::Borrowed(ct) => Cow::Borrowed(ct.split('/').next().unwrap_or("")),
            Cow::Owned(ct) => Cow::Owned(ct.split('/').next().unwrap_or("").to_string()),
        }
    }

    pub(super) fn get_param(&self, name: &str, header: &str) -> Option<ParamVal> {
        let v = self.get_raw(header)?;
        get_params(&to_bytes(v))
            .into_iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name.as_bytes()))
            .map(|(_, v)| match v {
                ParamVal::Plain(v) => ParamVal::Plain(py_unquote(&v)),
                ParamVal::Ext(c, l, v) => ParamVal::Ext(c, l, py_unquote(&v)),
            })
    }

    pub(super) fn get_boundary(&self) -> Option<Vec<u8>> {
        let v = self.get_param("boundary", "content-type")?;
        Some(rstrip(&collapse(v)).to_vec())
    }

    /// `get_payload(decode=True)` of a non-multipart part (the payload
    /// itself, not a copy, when there is nothing to decode). The decoded
    /// copy is allocated fallibly.
    #[cfg_attr(target_os = "linux", link_section = ".text.hot.mailman_gate_verdict")]
    pub fn decoded(&self) -> Result<Cow<'_, [u8]>, NoMemory> {
        let cte = self
            .get_raw("content-transfer-encoding")
            .map(|v| v.to_ascii_lowercase())
            .unwrap_or_default();
        Ok(match cte.as_str() {
            "quoted-printable" => Cow::Owned(codec::a2b_qp(&self.payload)?),
            "base64" if self.payload.is_empty() => Cow::Borrowed(b""),
            "base64" => match codec::a2b_base64(&self.payload) {
                Ok(v) => Cow::Owned(v),
                // Python gives the payload undecoded.
                Err(Base64Error::Padding) => Cow::Borrowed(&self.payload[..]),
                Err(Base64Error::NoMemory) => return Err(NoMemory),
            },
            _ => Cow::Borrowed(&self.payload[..]),
        })
    }

    /// `get_filename()`: the `filename` parameter of Content-Disposition,
    /// else the `name` parameter of Content-Type, RFC 2231 collapsed and
    /// stripped.
    pub fn get_filename(&self) -> Option<Vec<u8>> {
        let v = self
            .get_param("filename", "content-disposition")
            .or_else(|| self.get_param("name", "content-type"))?;
        Some(strip(&collapse(v)).to_vec())
    }

    /// `get_param(name, header=header)`, unquoted; of an RFC 2231 value
    /// its text without charset and language.
    pub fn get_param_value(&self, name: &str, header: &str) -> Option<Vec<u8>> {
        match self.get_param(name, header)? {
            ParamVal::Plain(v) | ParamVal::Ext(_, _, v) => Some(v),
        }
    }
}

/// `msg.walk()`: the parts depth first, the message itself first. The
/// stack grows only for multiparts (a plain message walks without
/// allocating).
pub struct Walk<'m, 'a> {
    first: Option<&'m Part<'a>>,
    stack: Vec<std::slice::Iter<'m, Part<'a>>>,
}

impl<'m, 'a> Walk<'m, 'a> {
    pub(super) fn new(root: &'m Part<'a>) -> Walk<'m, 'a> {
        Walk {
            first: Some(root),
            stack: Vec::new(),
        }
    }

    fn enter(&mut self, p: &'m Part<'a>) -> &'m Part<'a> {
        if !p.children.is_empty() {
            self.stack.push(p.children.iter());
        }
        p
    }
}

impl<'m, 'a> Iterator for Walk<'m, 'a> {
    type Item = &'m Part<'a>;

    #[cfg_attr(target_os = "linux", link_section = ".text.hot.mailman_gate_verdict")]
    fn next(&mut self) -> Option<&'m Part<'a>> {
        if let Some(root) = self.first.take() {
            return Some(self.enter(root));
        }
        loop {
            match self.stack.last_mut()?.next() {
                Some(c) => return Some(self.enter(c)),
                None => {
                    self.stack.pop();
                }
            }
        }
    }
}

/// The type in a `Content-Type` value's bytes: before any `;`, stripped;
/// `None` unless it has exactly one `/` (Python's email then says
/// `text/plain`). Not lowered.
#[cfg_attr(target_os = "linux", link_section = ".text.hot.mailman_gate_verdict")]
fn main_type(b: &[u8]) -> Option<&[u8]> {
    let main = match memchr::memchr(b';', b) {
        Some(i) => &b[..i],
        None => b,
    };
    let ct = strip(main);
    (ct.iter().filter(|&&c| c == b'/').count() == 1).then_some(ct)
}
