//! Approve (password in a header or the first body line; X-BeenThere loop)
//! and CalcRecips' `Urgent:` check, which share the password test.

use md5::Md5;
use sha1::{Digest, Sha1};

use super::{text, Ctx, RejectText, Step, StepResult, Stop};
use crate::message::text::{is_ws, lstrip, strip, strip_eol, Lines};
use crate::message::{latin1, Message};

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
        None => match body_approval(ctx.msg) {
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
    let list_address = ctx.policy.posting_address().to_ascii_lowercase();
    let looped = ctx
        .msg
        .get_all("x-beenthere")
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
pub fn body_approval(msg: &Message<'_>) -> Option<BodyApproval> {
    if APPROVAL_HEADERS.iter().any(|h| msg.get(h).is_some()) {
        return None;
    }
    let parts = msg.walk();
    let (idx, first) = parts
        .iter()
        .enumerate()
        .find(|(_, p)| p.content_type() == "text/plain")?;
    if first.is_multipart() {
        return None;
    }
    // The first part's decoded text, its first non-blank line taken
    // out; the decoded body itself goes as soon as that is built (one
    // copy of the body at a time besides the raw message).
    let (name, pw, first_text) = {
        let body = first.decoded();
        let lines = || Lines::new(&body).map(strip_eol);
        // The first non-blank line (a blank one holds no ':').
        let (lineno, line) = lines().enumerate().find(|(_, l)| !strip(l).is_empty())?;
        let i = line.iter().position(|&c| c == b':')?;
        let name = line[..i].to_vec();
        if !approve_name(&name) {
            return None;
        }
        let pw = lstrip(&line[i + 1..]).to_vec();
        // The other lines joined by '\n', without a table of lines.
        let mut first_text = Vec::with_capacity(body.len());
        for (n, l) in lines().enumerate().filter(|(n, _)| *n != lineno) {
            if n > usize::from(lineno == 0) {
                first_text.push(b'\n');
            }
            first_text.extend_from_slice(l);
        }
        (name, pw, first_text)
    };
    let mut unsafe_html = false;
    for (k, p) in parts.iter().enumerate() {
        if p.maintype() != "text" || p.is_multipart() {
            continue;
        }
        let decoded;
        let text: &[u8] = if k == idx {
            &first_text
        } else {
            decoded = p.decoded();
            &decoded
        };
        if approve_pattern_found(text, &name, &pw) {
            continue;
        }
        if approve_pattern_found(&strip_tags(text), &name, &pw) {
            unsafe_html = true;
            break;
        }
    }
    Some(BodyApproval {
        password: latin1(&pw),
        unsafe_html,
    })
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

/// `re.sub('(?s)<.*?>', '', text)`.
fn strip_tags(text: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(text.len());
    let mut i = 0;
    while i < text.len() {
        if text[i] == b'<' {
            if let Some(j) = text[i + 1..].iter().position(|&c| c == b'>') {
                i += j + 2;
                continue;
            }
            out.extend_from_slice(&text[i..]);
            break;
        }
        out.push(text[i]);
        i += 1;
    }
    out
}
