//! Mailman's texts, and the Python `%` interpolation its `_()` applies.

/// Python's `text % SafeDict(names)` as Mailman's `i18n._` does it:
/// `%(key)s` takes a known name, an unknown key stays as written, `%%` is
/// `%`. `None` where Python would raise (a stray `%`, or an unknown key
/// with a conversion other than `s`): Mailman then fails on the message.
pub fn interpolate(text: &str, lookup: &dyn Fn(&str) -> Option<String>) -> Option<String> {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(i) = rest.find('%') {
        out.push_str(&rest[..i]);
        rest = &rest[i + 1..];
        if let Some(r) = rest.strip_prefix('%') {
            out.push('%');
            rest = r;
            continue;
        }
        let r = rest.strip_prefix('(')?;
        let close = r.find(')')?;
        let key = &r[..close];
        let after = &r[close + 1..];
        // Python allows flags, width and precision before the conversion.
        let spec_len = after
            .find(|c: char| !matches!(c, '-' | '+' | ' ' | '#' | '0'..='9' | '.'))
            .unwrap_or(after.len());
        let conv = after[spec_len..].chars().next()?;
        match (lookup(key), conv) {
            (Some(v), 's' | 'r') if spec_len == 0 => out.push_str(&v),
            (None, 's') if spec_len == 0 => {
                out.push_str("%(");
                out.push_str(key);
                out.push_str(")s");
            }
            _ => return None,
        }
        rest = &after[spec_len + conv.len_utf8()..];
    }
    out.push_str(rest);
    Some(out)
}

pub const REJECTED: &str = "Your message was rejected";

pub const NONMEMBER_REJECT: &str =
    "Your message has been rejected, probably because you are not subscribed to the
mailing list and the list's policy is to prohibit non-members from posting to
it.  If you think that your messages are being rejected in error, contact the
mailing list owner at %(listowner)s.";

pub const DMARC_REJECT: &str =
    "You are not allowed to post to this mailing list From: a domain which
publishes a DMARC policy of reject or quarantine, and your message has been
automatically rejected.  If you think that your messages are being rejected in
error, contact the mailing list owner at %(listowner)s.";

pub const FILTER_RULE_REJECT: &str = "Message rejected by filter rule match";

pub const APPROVE_HTML_REJECT: &str = "Message rejected.
It appears that this message contains an HTML part with the
Approved: password line, but due to the way it is coded in the
HTML it can't be safely removed.
";

pub const URGENT_REJECT: &str =
    "Your urgent message to the %(realname)s mailing list was not authorized for
delivery.  The original message as received by Mailman is attached.
";

pub const HOLD_MODERATED: &str = "Post to moderated list";
pub const HOLD_NONMEMBER: &str = "Post by non-member to a members-only list";
pub const HOLD_TOO_MANY_RECIPIENTS: &str = "Too many recipients to the message";
pub const HOLD_IMPLICIT_DEST: &str = "Message has implicit destination";
pub const HOLD_ADMINISTRIVIA: &str = "Message may contain administrivia";
pub const HOLD_SUSPICIOUS: &str = "Message has a suspicious header";
pub const HOLD_NEWSGROUP: &str = "Posting to a moderated newsgroup";
pub const HOLD_EMERGENCY: &str = "Emergency hold on all list traffic is in effect";

pub fn hold_too_big(size: usize, limit: i64) -> String {
    format!("Message body is too big: {size} bytes with a limit of\n{limit} KB")
}

pub fn hold_header_match(pattern: &str) -> String {
    format!("Header matched regexp: {pattern}")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn owner(k: &str) -> Option<String> {
        (k == "listowner").then(|| "test-owner@example.com".to_owned())
    }

    #[test]
    fn interpolation_follows_python() {
        assert_eq!(
            interpolate("No %(listowner)s", &owner).unwrap(),
            "No test-owner@example.com"
        );
        assert_eq!(interpolate("Ask %(x)s", &owner).unwrap(), "Ask %(x)s");
        assert_eq!(interpolate("100%% sure", &owner).unwrap(), "100% sure");
        assert_eq!(interpolate("100% sure", &owner), None);
        assert_eq!(interpolate("%(x)d", &owner), None);
        assert_eq!(interpolate("trailing %", &owner), None);
        assert_eq!(interpolate("plain", &owner).unwrap(), "plain");
    }
}
