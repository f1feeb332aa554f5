//! Approve (password in a header or the first body line; X-BeenThere loop)
//! and CalcRecips' `Urgent:` check, which share the password test.

use md5::Md5;
use sha1::{Digest, Sha1};

use super::{text, Ctx, RejectText, Step, StepResult, Stop};
use crate::message::text::{first_non_ws, is_ws, lstrip};
use std::borrow::Cow;

use crate::message::{latin1, Message, NoMemory};
use crate::py::str::find_byte;

const APPROVAL_HEADERS: [&str; 4] = ["approved", "approve", "x-approved", "x-approve"];

/// Bytes of a header value as Mailman hashes them (Python 2 `str`): the
/// message view maps each byte to one character.
fn value_bytes(value: &str) -> Vec<u8> {
    crate::message::to_bytes(value)
}

/// Which of the list's passwords `password` is (poster, moderator, admin),
/// as `SecurityManager.Authenticate` checks them in that order. Mailman
/// deliberately does not accept the site password here.
pub(super) fn authenticate(ctx: &Ctx<'_>, password: &[u8]) -> Option<&'static str> {
    if password.is_empty() {
        return None;
    }
    let digest: String = Sha1::digest(password)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    let p = ctx.policy;
    let is = |stored: &Option<Vec<u8>>| stored.as_deref() == Some(digest.as_bytes());
    if is(&p.post_password) {
        Some("poster")
    } else if is(&p.mod_password) {
        Some("moderator")
    } else if is(&p.password)
        || p.password
            .as_deref()
            .is_some_and(|s| legacy_match(password, s))
    {
        Some("admin")
    } else {
        None
    }
}

/// The admin password of a list last saved before Mailman 2.1 re-hashed it:
/// `md5(response).digest()` (16 raw bytes) or `crypt(response, secret[:2])`.
/// Mailman still accepts both for the admin context (and upgrades them).
pub fn legacy_match(response: &[u8], secret: &[u8]) -> bool {
    Md5::digest(response).as_slice() == secret || crate::crypt::des_crypt_matches(response, secret)
}

#[cfg_attr(target_os = "linux", link_section = ".text.hot.mailman_gate_verdict")]
pub(super) fn process(ctx: &mut Ctx<'_>) -> StepResult {
    let header = APPROVAL_HEADERS
        .iter()
        .find_map(|h| ctx.msg.get(h).map(|v| (*h, v.to_owned())));
    let password: Option<Vec<u8>> = match header {
        Some((name, value)) => {
            ctx.note(Step::Approve, || {
                format!("password taken from the {name} header")
            });
            Some(value_bytes(&value))
        }
        None => match body_approval(ctx.msg).map_err(|NoMemory| {
            Stop::Undecided("memory for Approve's body search was refused".into())
        })? {
            Some(found) => {
                if found.unsafe_html {
                    ctx.note(Step::Approve, || {
                        "Approved line also in an HTML part: cannot be removed"
                    });
                    return Err(Stop::Reject(RejectText::plain(text::APPROVE_HTML_REJECT)));
                }
                ctx.note(Step::Approve, || "password taken from the first body line");
                Some(value_bytes(&found.password))
            }
            None => None,
        },
    };
    if let Some(pw) = password {
        match authenticate(ctx, &pw) {
            Some(who) => {
                ctx.note(Step::Approve, || format!("{who} password: approved"));
                ctx.approved = true;
            }
            None => ctx.note(Step::Approve, || "password does not match: ignored"),
        }
    }
    let beenthere = ctx.msg.get_all("x-beenthere");
    if beenthere.is_empty() {
        return Ok(());
    }
    let list_address = ctx.policy.posting_address().to_ascii_lowercase();
    let looped = beenthere
        .iter()
        .any(|v| v.trim().to_ascii_lowercase() == list_address);
    if looped {
        ctx.note(Step::Approve, || {
            format!("X-BeenThere: {list_address}: mail loop")
        });
        return Err(Stop::Discard);
    }
    Ok(())
}

/// CalcRecips: an `Urgent:` header must carry a list password.
#[cfg_attr(target_os = "linux", link_section = ".text.hot.mailman_gate_verdict")]
pub(super) fn urgent(ctx: &mut Ctx<'_>) -> StepResult {
    let Some(value) = ctx.msg.get("urgent").map(str::to_owned) else {
        return Ok(());
    };
    if authenticate(ctx, &value_bytes(&value)).is_some() {
        ctx.note(Step::CalcRecips, || "Urgent: password accepted");
        return Ok(());
    }
    ctx.note(Step::CalcRecips, || "Urgent: password not accepted");
    let realname = ctx.policy.real_name.clone();
    let lookup = |k: &str| (k == "realname").then(|| realname.clone());
    Err(Stop::Reject(RejectText::wrapped(
        ctx.lang.tr(text::URGENT_REJECT, &lookup),
    )))
}

/// What Approve.py finds in the body when no Approved-style header exists.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BodyApproval {
    /// The password on the first non-blank line of the first text/plain part.
    pub password: String,
    /// The same line survives in another text part only after stripping
    /// HTML: Mailman rejects the post.
    pub unsafe_html: bool,
}

/// Approve.py's body password search. `None` when one of the headers
/// Approved, Approve, X-Approved, X-Approve is present (Mailman then
/// does not look at the body) or when the body has no password line.
/// The copies it makes (decoded parts, the text without the password
/// line, the text without tags) are allocated fallibly, one part at a
/// time, and rewritten in place where they are owned.
#[cfg_attr(target_os = "linux", link_section = ".text.hot.mailman_gate_verdict")]
pub fn body_approval(msg: &Message<'_>) -> Result<Option<BodyApproval>, NoMemory> {
    if APPROVAL_HEADERS.iter().any(|h| msg.get(h).is_some()) {
        return Ok(None);
    }
    let Some((idx, first)) = msg
        .walk()
        .enumerate()
        .find(|(_, p)| p.content_type_is("text/plain"))
    else {
        return Ok(None);
    };
    if first.is_multipart() {
        return Ok(None);
    }
    // The first part's decoded text, its first non-blank line taken out
    // (copied only then: a body without a password line is not).
    let body = first.decoded()?;
    // The first non-blank line (a blank one holds no ':'): the line, as
    // `splitlines()` cuts them, of the first non-blank byte.
    let Some(q) = first_non_ws(&body) else {
        return Ok(None);
    };
    let start = memchr::memrchr2(b'\n', b'\r', &body[..q]).map_or(0, |j| j + 1);
    let line_end = memchr::memchr2(b'\n', b'\r', &body[q..]).map_or(body.len(), |j| q + j);
    let line = &body[start..line_end];
    let Some(i) = line.iter().position(|&c| c == b':') else {
        return Ok(None);
    };
    let name = line[..i].to_vec();
    if !approve_name(&name) {
        return Ok(None);
    }
    let pw = lstrip(&line[i + 1..]).to_vec();
    let after = match body.get(line_end..line_end + 2) {
        Some(b"\r\n") => line_end + 2,
        _ => (line_end + 1).min(body.len()),
    };
    let mut first_text = owned(body)?;
    join_lines_without(&mut first_text, start, after);
    let mut unsafe_html = false;
    for (k, p) in msg.walk().enumerate() {
        if p.maintype() != "text" || p.is_multipart() {
            continue;
        }
        // The text, searched as it is, then without its tags (in place:
        // the first part's text and a decoded part are owned already).
        let mut stripped = if k == idx {
            if approve_pattern_found(&first_text, &name, &pw) {
                continue;
            }
            std::mem::take(&mut first_text)
        } else {
            let decoded = p.decoded()?;
            if approve_pattern_found(&decoded, &name, &pw) {
                continue;
            }
            owned(decoded)?
        };
        strip_tags(&mut stripped);
        if approve_pattern_found(&stripped, &name, &pw) {
            unsafe_html = true;
            break;
        }
    }
    Ok(Some(BodyApproval {
        password: latin1(&pw),
        unsafe_html,
    }))
}

/// The bytes as a vector of their own, copied fallibly when borrowed.
fn owned(b: Cow<'_, [u8]>) -> Result<Vec<u8>, NoMemory> {
    match b {
        Cow::Owned(v) => Ok(v),
        Cow::Borrowed(b) => {
            let mut v = Vec::new();
            v.try_reserve_exact(b.len()).map_err(|_| NoMemory)?;
            v.extend_from_slice(b);
            Ok(v)
        }
    }
}

/// Rewrites `buf` in place as `'\n'.join(lines)` of the lines of
/// `buf[..start]` and `buf[after..]` (`splitlines()`: line ends `\n`,
/// `\r\n`, `\r`), the line between left out. The text only shrinks:
/// each write lands at or before the byte it replaces.
fn join_lines_without(buf: &mut Vec<u8>, start: usize, after: usize) {
    let mut w = 0;
    let mut started = false;
    for (from, to) in [(0, start), (after, buf.len())] {
        if from == to {
            continue;
        }
        if started {
            // The first segment ended with a line end, not copied.
            buf[w] = b'\n';
            w += 1;
        }
        started = true;
        let mut i = from;
        while let Some(k) = memchr::memchr2(b'\r', b'\n', &buf[i..to]) {
            let e = i + k;
            buf.copy_within(i..e, w);
            w += e - i;
            i = if buf[e] == b'\r' && e + 1 < to && buf[e + 1] == b'\n' {
                e + 2
            } else {
                e + 1
            };
            if i < to {
                buf[w] = b'\n';
                w += 1;
            }
        }
        buf.copy_within(i..to, w);
        w += to - i;
    }
    buf.truncate(w);
}

fn approve_name(name: &[u8]) -> bool {
    matches!(
        name.to_ascii_lowercase().as_slice(),
        b"approve" | b"approved" | b"x-approve" | b"x-approved"
    )
}

/// `re.search(name + ':(\xA0|\s|&nbsp;)*' + re.escape(pw), text)`.
fn approve_pattern_found(text: &[u8], name: &[u8], pw: &[u8]) -> bool {
    let mut head = name.to_vec();
    head.push(b':');
    // `name:` cannot overlap itself (its only ':' is the last byte).
    for p in memchr::memmem::find_iter(text, &head) {
        let mut k = p + head.len();
        loop {
            if text[k..].starts_with(pw) {
                return true;
            }
            if k < text.len() && (text[k] == 0xa0 || is_ws(text[k])) {
                k += 1;
            } else if text[k..].starts_with(b"&nbsp;") {
                k += 6;
            } else {
                break;
            }
        }
    }
    false
}

/// `re.sub('(?s)<.*?>', '', text)`, in place.
fn strip_tags(buf: &mut Vec<u8>) {
    let mut w = 0;
    let mut i = 0;
    while let Some(k) = find_byte(b'<', &buf[i..]) {
        let lt = i + k;
        match find_byte(b'>', &buf[lt + 1..]) {
            Some(j) => {
                buf.copy_within(i..lt, w);
                w += lt - i;
                i = lt + j + 2;
            }
            // An unclosed '<' stays, with the rest of the text.
            None => break,
        }
    }
    let n = buf.len();
    buf.copy_within(i..n, w);
    buf.truncate(w + n - i);
}
