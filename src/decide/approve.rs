//! Approve (password in a header or the first body line; X-BeenThere loop)
//! and CalcRecips' `Urgent:` check, which share the password test.

use md5::Md5;
use sha1::{Digest, Sha1};

use super::{text, Ctx, RejectText, Step, StepResult, Stop};

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
        None => match ctx.msg.body_approval() {
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
