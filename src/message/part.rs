//! One node of the MIME tree and its accessors (`email.message.Message`).

use std::borrow::Cow;

use super::codec;
use super::params::*;
use super::rfc2047::oneline_utf8;
use super::text::*;
use super::{latin1, to_bytes};

/// One part: its headers and either sub-parts or a string payload.
#[derive(Debug, Clone, Default)]
pub struct Part<'a> {
    pub(super) unixfrom: Option<String>,
    pub(super) headers: Vec<(String, String)>,
    pub(super) default_type: &'static str,
    /// Sub-messages; non-empty exactly when Python's payload is a list.
    pub(super) children: Vec<Part<'a>>,
    /// The string payload when there are no children.
    pub(super) payload: Cow<'a, [u8]>,
    pub(super) preamble: Option<Cow<'a, [u8]>>,
    pub(super) epilogue: Option<Cow<'a, [u8]>>,
}

impl<'a> Part<'a> {
    pub(super) fn get_raw(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    pub(super) fn content_type(&self) -> String {
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

    pub(super) fn maintype(&self) -> String {
        let ct = self.content_type();
        ct.split('/').next().unwrap_or("").to_string()
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

    pub(super) fn walk<'s>(&'s self, out: &mut Vec<&'s Part<'a>>) {
        out.push(self);
        for c in &self.children {
            c.walk(out);
        }
    }

    /// `get_payload(decode=True)` of a non-multipart part (the payload
    /// itself, not a copy, when there is nothing to decode).
    pub(super) fn decoded(&self) -> Cow<'_, [u8]> {
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
    pub(super) fn file_ext(&self) -> Vec<u8> {
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

pub(super) fn splitext(p: &[u8]) -> &[u8] {
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
