//! Header parameters: `email.message._parseparam`, `email.utils.decode_params`
//! and RFC 2231 continuations.

use super::pycodec;
use super::text::*;
use super::{latin1, to_bytes};

#[derive(Debug, Clone)]
pub(super) enum ParamVal {
    Plain(Vec<u8>),
    /// RFC 2231: (charset, language, value).
    Ext(Option<Vec<u8>>, Option<Vec<u8>>, Vec<u8>),
}

pub(super) fn py_unquote(s: &[u8]) -> Vec<u8> {
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

pub(super) fn py_quote(s: &[u8]) -> Vec<u8> {
    let a = replace(s, b"\\", b"\\\\");
    replace(&a, b"\"", b"\\\"")
}

pub(super) fn replace(s: &[u8], from: &[u8], to: &[u8]) -> Vec<u8> {
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

pub(super) fn parseparam(value: &[u8]) -> Vec<Vec<u8>> {
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

pub(super) fn is_word(c: u8) -> bool {
    c.is_ascii_alphanumeric() || c == b'_'
}

/// `^(\w+)\*((\d+)\*?)?$` → (name, number).
pub(super) fn rfc2231_name(name: &[u8]) -> Option<(Vec<u8>, Option<u64>)> {
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

pub(super) fn percent_decode(s: &[u8]) -> Vec<u8> {
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
pub(super) fn get_params(value: &[u8]) -> Vec<(Vec<u8>, ParamVal)> {
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
pub(super) fn collapse(v: ParamVal) -> Vec<u8> {
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
