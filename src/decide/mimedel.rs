//! MimeDel: content filtering (`filter_content`), which applies to
//! approved posts too. Only the checks that dispose of a message are
//! modelled; the rewriting that follows them never does.

use super::{Ctx, RejectText, Step, StepResult, Stop};
use crate::message::{latin1, oneline_utf8, Message, Part};
use crate::policy::ListPolicy;

/// The list settings MimeDel reads, borrowed from the policy.
#[derive(Debug, Clone, Copy, Default)]
pub struct MimeFilter<'p> {
    pub filter_mime_types: &'p [String],
    pub pass_mime_types: &'p [String],
    pub filter_filename_extensions: &'p [String],
    pub pass_filename_extensions: &'p [String],
}

impl<'p> MimeFilter<'p> {
    pub fn of(p: &'p ListPolicy) -> MimeFilter<'p> {
        MimeFilter {
            filter_mime_types: &p.filter_mime_types,
            pass_mime_types: &p.pass_mime_types,
            filter_filename_extensions: &p.filter_filename_extensions,
            pass_filename_extensions: &p.pass_filename_extensions,
        }
    }
}

#[cfg_attr(target_os = "linux", link_section = ".text.hot.mailman_gate_verdict")]
pub(super) fn process(ctx: &mut Ctx<'_>) -> StepResult {
    let p = ctx.policy;
    if !p.filter_content {
        return Ok(());
    }
    match disposal(ctx.msg, &MimeFilter::of(p)) {
        None => {
            ctx.note(Step::MimeDel, || "content filter keeps the message");
            Ok(())
        }
        Some(reason) if p.filter_action == 1 => {
            ctx.note(Step::MimeDel, || {
                format!("disposed ({reason}), filter_action 1: reject")
            });
            Err(Stop::Reject(RejectText::plain(reason)))
        }
        Some(reason) => {
            ctx.note(Step::MimeDel, || {
                format!(
                    "disposed ({reason}), filter_action {}: discard",
                    p.filter_action
                )
            });
            Err(Stop::Discard)
        }
    }
}

/// `Some(reason)` when MimeDel would dispose of the message. Type and
/// extension lists are compared exactly (Mailman compares them as stored).
pub fn disposal(msg: &Message<'_>, filter: &MimeFilter<'_>) -> Option<&'static str> {
    let root = msg.root();
    if let Some(reason) = filter_reason(root, filter) {
        return Some(reason);
    }
    if root.is_multipart() && !keep_after_filter(root, filter) {
        return Some("After content filtering, the message was empty");
    }
    None
}

/// MimeDel's type and file-extension tests on one part, in Mailman's order.
fn filter_reason(p: &Part<'_>, f: &MimeFilter<'_>) -> Option<&'static str> {
    let ctype = p.content_type();
    let mtype = p.maintype();
    let has = |l: &[String], s: &str| l.iter().any(|x| x == s);
    if has(f.filter_mime_types, &ctype) || has(f.filter_mime_types, &mtype) {
        return Some("The message's content type was explicitly disallowed");
    }
    let passes = has(f.pass_mime_types, &ctype) || has(f.pass_mime_types, &mtype);
    if !f.pass_mime_types.is_empty() && !passes {
        return Some("The message's content type was not explicitly allowed");
    }
    let fext = latin1(&file_ext(p));
    if !fext.is_empty() {
        if has(f.filter_filename_extensions, &fext) {
            return Some("The message's file extension was explicitly disallowed");
        }
        if !f.pass_filename_extensions.is_empty() && !has(f.pass_filename_extensions, &fext) {
            return Some("The message's file extension was not explicitly allowed");
        }
    }
    None
}

/// MimeDel's `filter_parts`: false when every sub-part was thrown away.
fn keep_after_filter(p: &Part<'_>, f: &MimeFilter<'_>) -> bool {
    if !p.is_multipart() {
        return true;
    }
    p.subparts()
        .iter()
        .any(|sub| keep_after_filter(sub, f) && filter_reason(sub, f).is_none())
}

/// MimeDel's `get_file_ext`: `m.get_filename('') or m.get_param('name', '')`,
/// through `Utils.oneline(_, 'utf-8')`, its `os.path.splitext` extension
/// without the dot, lowered.
fn file_ext(p: &Part<'_>) -> Vec<u8> {
    let filename = p
        .get_filename()
        .filter(|f| !f.is_empty())
        .or_else(|| p.get_param_value("name", "content-type"))
        .unwrap_or_default();
    if filename.is_empty() {
        return Vec::new();
    }
    let one = oneline_utf8(&filename);
    let ext = splitext(&one);
    if ext.len() > 1 {
        ext[1..].to_ascii_lowercase()
    } else {
        Vec::new()
    }
}

/// The extension `os.path.splitext` (posixpath) returns, dot included.
fn splitext(p: &[u8]) -> &[u8] {
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
