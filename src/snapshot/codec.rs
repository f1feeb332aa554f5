//! The `\0policy` record: every field of [`ListPolicy`] but the members, in
//! a length-prefixed binary encoding (integers little-endian).
//!
//! | type | encoding |
//! | --- | --- |
//! | `bool` | one byte, 0 or 1 |
//! | `i64` | 8 bytes |
//! | count (`usize`) | 8 bytes, unsigned |
//! | `String` | u32 length + UTF-8 bytes |
//! | bytes | u32 length + bytes |
//! | `PyStr` | one byte, 0 `str` (bytes) or 1 `unicode` (UTF-8 text), then the bytes |
//! | `Option<bytes>` | one byte, 0 none or 1 some, then the bytes |
//! | `Vec<String>` | u32 count + strings |
//! | `Vec<HeaderFilterRule>` | u32 count + (`PyStr` patterns, `i64` action) |
//!
//! The value starts with [`POLICY_VERSION`] (u32); fields follow in the
//! order of [`encode_policy`]. Decoding consumes the value exactly.

use std::collections::HashMap;

use crate::policy::{HeaderFilterRule, ListPolicy, Members, PyStr};

/// Version of the policy encoding: bumped whenever a field is added,
/// removed, reordered or re-typed.
pub const POLICY_VERSION: u32 = 2;

#[derive(Default)]
struct Enc(Vec<u8>);

impl Enc {
    fn u8(&mut self, v: u8) {
        self.0.push(v);
    }
    fn u32(&mut self, v: u32) {
        self.0.extend_from_slice(&v.to_le_bytes());
    }
    fn len(&mut self, n: usize) -> Result<(), String> {
        let n = u32::try_from(n).map_err(|_| "a field longer than 4 GiB".to_owned())?;
        self.u32(n);
        Ok(())
    }
    fn bool(&mut self, v: bool) {
        self.u8(v as u8);
    }
    fn i64(&mut self, v: i64) {
        self.0.extend_from_slice(&v.to_le_bytes());
    }
    fn count(&mut self, v: usize) {
        self.0.extend_from_slice(&(v as u64).to_le_bytes());
    }
    fn bytes(&mut self, b: &[u8]) -> Result<(), String> {
        self.len(b.len())?;
        self.0.extend_from_slice(b);
        Ok(())
    }
    fn str(&mut self, s: &str) -> Result<(), String> {
        self.bytes(s.as_bytes())
    }
    fn pystr(&mut self, s: &PyStr) -> Result<(), String> {
        match s {
            PyStr::Bytes(b) => {
                self.u8(0);
                self.bytes(b)
            }
            PyStr::Text(t) => {
                self.u8(1);
                self.str(t)
            }
        }
    }
    fn opt_bytes(&mut self, b: &Option<Vec<u8>>) -> Result<(), String> {
        match b {
            None => {
                self.u8(0);
                Ok(())
            }
            Some(b) => {
                self.u8(1);
                self.bytes(b)
            }
        }
    }
    fn strings(&mut self, v: &[String]) -> Result<(), String> {
        self.len(v.len())?;
        v.iter().try_for_each(|s| self.str(s))
    }
    fn rules(&mut self, v: &[HeaderFilterRule]) -> Result<(), String> {
        self.len(v.len())?;
        for r in v {
            self.pystr(&r.patterns)?;
            self.i64(r.action);
        }
        Ok(())
    }
}

/// Encode every field but `members`. Fails only for a field over 4 GiB.
pub fn encode_policy(p: &ListPolicy) -> Result<Vec<u8>, String> {
    let mut out = Vec::new();
    encode_policy_into(p, &mut out)?;
    Ok(out)
}

/// [`encode_policy`] appended to `out` (a snapshot's buffer: no copy of
/// the record). On failure `out` holds part of a record.
pub fn encode_policy_into(p: &ListPolicy, out: &mut Vec<u8>) -> Result<(), String> {
    let mut e = Enc(std::mem::take(out));
    let r = encode_fields(p, &mut e);
    *out = e.0;
    r
}

fn encode_fields(p: &ListPolicy, e: &mut Enc) -> Result<(), String> {
    // No `..`: a field added to ListPolicy must be added here too.
    let ListPolicy {
        internal_name,
        real_name,
        host_name,
        preferred_language,
        available_languages,
        member_languages,
        member_language_default,
        data_version,
        members: _,
        regular_count,
        digest_count,
        default_member_moderation,
        member_moderation_action,
        member_moderation_notice,
        accept_these_nonmembers,
        hold_these_nonmembers,
        reject_these_nonmembers,
        discard_these_nonmembers,
        generic_nonmember_action,
        nonmember_rejection_notice,
        forward_auto_discards,
        equivalent_domains,
        member_verbosity_threshold,
        member_verbosity_interval,
        emergency,
        dmarc_moderation_action,
        dmarc_quarantine_moderation_action,
        dmarc_none_moderation_action,
        dmarc_moderation_notice,
        dmarc_moderation_addresses,
        administrivia,
        max_num_recipients,
        require_explicit_destination,
        acceptable_aliases,
        bounce_matching_headers,
        max_message_size,
        gateway_to_news,
        news_moderation,
        header_filter_rules,
        filter_content,
        filter_mime_types,
        pass_mime_types,
        filter_filename_extensions,
        pass_filename_extensions,
        filter_action,
        collapse_alternatives,
        convert_html_to_plaintext,
        scrub_nondigest,
        password,
        mod_password,
        post_password,
        owner,
        moderator,
        pipeline,
    } = p;
    e.u32(POLICY_VERSION);
    e.str(internal_name)?;
    e.str(real_name)?;
    e.str(host_name)?;
    e.str(preferred_language)?;
    e.strings(available_languages)?;
    // Members' own languages as address, language, address, language, ...
    let flat: Vec<String> = member_languages
        .iter()
        .flat_map(|(a, l)| [a.clone(), l.clone()])
        .collect();
    e.strings(&flat)?;
    e.str(member_language_default)?;
    e.i64(*data_version);
    e.count(*regular_count);
    e.count(*digest_count);

    e.bool(*default_member_moderation);
    e.i64(*member_moderation_action);
    e.pystr(member_moderation_notice)?;
    e.strings(accept_these_nonmembers)?;
    e.strings(hold_these_nonmembers)?;
    e.strings(reject_these_nonmembers)?;
    e.strings(discard_these_nonmembers)?;
    e.i64(*generic_nonmember_action);
    e.pystr(nonmember_rejection_notice)?;
    e.bool(*forward_auto_discards);
    e.str(equivalent_domains)?;
    e.i64(*member_verbosity_threshold);
    e.i64(*member_verbosity_interval);
    e.bool(*emergency);
    e.i64(*dmarc_moderation_action);
    e.bool(*dmarc_quarantine_moderation_action);
    e.bool(*dmarc_none_moderation_action);
    e.pystr(dmarc_moderation_notice)?;
    e.strings(dmarc_moderation_addresses)?;

    e.bool(*administrivia);
    e.i64(*max_num_recipients);
    e.bool(*require_explicit_destination);
    e.str(acceptable_aliases)?;
    e.str(bounce_matching_headers)?;
    e.i64(*max_message_size);
    e.bool(*gateway_to_news);
    e.i64(*news_moderation);
    e.rules(header_filter_rules)?;
    e.bool(*filter_content);
    e.strings(filter_mime_types)?;
    e.strings(pass_mime_types)?;
    e.strings(filter_filename_extensions)?;
    e.strings(pass_filename_extensions)?;
    e.i64(*filter_action);
    e.bool(*collapse_alternatives);
    e.bool(*convert_html_to_plaintext);
    e.bool(*scrub_nondigest);

    e.opt_bytes(password)?;
    e.opt_bytes(mod_password)?;
    e.opt_bytes(post_password)?;
    e.strings(owner)?;
    e.strings(moderator)?;
    match pipeline {
        None => e.u8(0),
        Some(names) => {
            e.u8(1);
            e.strings(names)?;
        }
    }
    Ok(())
}

/// Why a policy record does not decode.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DecodeError {
    /// Written by another version of the encoding.
    Version(u32),
    /// Too short, a bad tag or boolean, invalid UTF-8, or bytes left over.
    Malformed(String),
}

struct Dec<'a> {
    data: &'a [u8],
    at: usize,
}

impl<'a> Dec<'a> {
    fn fail<T>(&self, what: &str) -> Result<T, DecodeError> {
        Err(DecodeError::Malformed(format!(
            "{what} at byte {} of the policy record",
            self.at
        )))
    }
    fn take(&mut self, n: usize) -> Result<&'a [u8], DecodeError> {
        match self.at.checked_add(n) {
            Some(end) if end <= self.data.len() => {
                let s = &self.data[self.at..end];
                self.at = end;
                Ok(s)
            }
            _ => self.fail("truncated field"),
        }
    }
    fn u8(&mut self) -> Result<u8, DecodeError> {
        Ok(self.take(1)?[0])
    }
    fn u32(&mut self) -> Result<u32, DecodeError> {
        let b = self.take(4)?;
        Ok(u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
    }
    fn u64(&mut self) -> Result<u64, DecodeError> {
        let b = self.take(8)?;
        let mut a = [0u8; 8];
        a.copy_from_slice(b);
        Ok(u64::from_le_bytes(a))
    }
    fn i64(&mut self) -> Result<i64, DecodeError> {
        Ok(self.u64()? as i64)
    }
    fn count(&mut self) -> Result<usize, DecodeError> {
        let n = self.u64()?;
        match usize::try_from(n) {
            Ok(n) => Ok(n),
            Err(_) => self.fail("count too large"),
        }
    }
    fn bool(&mut self) -> Result<bool, DecodeError> {
        match self.u8()? {
            0 => Ok(false),
            1 => Ok(true),
            _ => self.fail("boolean not 0 or 1"),
        }
    }
    fn bytes(&mut self) -> Result<&'a [u8], DecodeError> {
        let n = self.u32()? as usize;
        self.take(n)
    }
    fn string(&mut self) -> Result<String, DecodeError> {
        let b = self.bytes()?;
        match std::str::from_utf8(b) {
            Ok(s) => Ok(s.to_owned()),
            Err(_) => self.fail("invalid UTF-8"),
        }
    }
    fn pystr(&mut self) -> Result<PyStr, DecodeError> {
        match self.u8()? {
            0 => Ok(PyStr::Bytes(self.bytes()?.to_vec())),
            1 => Ok(PyStr::Text(self.string()?)),
            _ => self.fail("string tag not 0 or 1"),
        }
    }
    fn opt_bytes(&mut self) -> Result<Option<Vec<u8>>, DecodeError> {
        match self.u8()? {
            0 => Ok(None),
            1 => Ok(Some(self.bytes()?.to_vec())),
            _ => self.fail("option tag not 0 or 1"),
        }
    }
    fn strings(&mut self) -> Result<Vec<String>, DecodeError> {
        let n = self.u32()? as usize;
        // Each string takes at least its 4-byte length: no huge reservation
        // from a hostile count.
        let mut v = Vec::with_capacity(n.min((self.data.len() - self.at) / 4));
        for _ in 0..n {
            v.push(self.string()?);
        }
        Ok(v)
    }
    fn rules(&mut self) -> Result<Vec<HeaderFilterRule>, DecodeError> {
        let n = self.u32()? as usize;
        let mut v = Vec::with_capacity(n.min((self.data.len() - self.at) / 13));
        for _ in 0..n {
            let patterns = self.pystr()?;
            let action = self.i64()?;
            v.push(HeaderFilterRule { patterns, action });
        }
        Ok(v)
    }
}

/// Decode a policy record; `members` is left empty for the caller to set.
pub fn decode_policy(data: &[u8]) -> Result<ListPolicy, DecodeError> {
    let mut d = Dec { data, at: 0 };
    let version = d.u32()?;
    if version != POLICY_VERSION {
        return Err(DecodeError::Version(version));
    }
    let p = ListPolicy {
        internal_name: d.string()?,
        real_name: d.string()?,
        host_name: d.string()?,
        preferred_language: d.string()?,
        available_languages: d.strings()?,
        member_languages: {
            let flat = d.strings()?;
            if flat.len() % 2 != 0 {
                return Err(DecodeError::Malformed("member languages".into()));
            }
            flat.chunks(2)
                .map(|p| (p[0].clone(), p[1].clone()))
                .collect()
        },
        member_language_default: d.string()?,
        data_version: d.i64()?,
        members: Members::Parsed(HashMap::new()),
        regular_count: d.count()?,
        digest_count: d.count()?,

        default_member_moderation: d.bool()?,
        member_moderation_action: d.i64()?,
        member_moderation_notice: d.pystr()?,
        accept_these_nonmembers: d.strings()?,
        hold_these_nonmembers: d.strings()?,
        reject_these_nonmembers: d.strings()?,
        discard_these_nonmembers: d.strings()?,
        generic_nonmember_action: d.i64()?,
        nonmember_rejection_notice: d.pystr()?,
        forward_auto_discards: d.bool()?,
        equivalent_domains: d.string()?,
        member_verbosity_threshold: d.i64()?,
        member_verbosity_interval: d.i64()?,
        emergency: d.bool()?,
        dmarc_moderation_action: d.i64()?,
        dmarc_quarantine_moderation_action: d.bool()?,
        dmarc_none_moderation_action: d.bool()?,
        dmarc_moderation_notice: d.pystr()?,
        dmarc_moderation_addresses: d.strings()?,

        administrivia: d.bool()?,
        max_num_recipients: d.i64()?,
        require_explicit_destination: d.bool()?,
        acceptable_aliases: d.string()?,
        bounce_matching_headers: d.string()?,
        max_message_size: d.i64()?,
        gateway_to_news: d.bool()?,
        news_moderation: d.i64()?,
        header_filter_rules: d.rules()?,
        filter_content: d.bool()?,
        filter_mime_types: d.strings()?,
        pass_mime_types: d.strings()?,
        filter_filename_extensions: d.strings()?,
        pass_filename_extensions: d.strings()?,
        filter_action: d.i64()?,
        collapse_alternatives: d.bool()?,
        convert_html_to_plaintext: d.bool()?,
        scrub_nondigest: d.bool()?,

        password: d.opt_bytes()?,
        mod_password: d.opt_bytes()?,
        post_password: d.opt_bytes()?,
        owner: d.strings()?,
        moderator: d.strings()?,
        pipeline: match d.u8()? {
            0 => None,
            1 => Some(d.strings()?),
            _ => return d.fail("pipeline tag not 0 or 1"),
        },
    };
    if d.at != data.len() {
        return d.fail("bytes left over");
    }
    Ok(p)
}
