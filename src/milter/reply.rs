//! The SMTP answers of [`crate::answer`] (the policy the Exim front end
//! also uses) as milter replies: a refusal carries its code, an enhanced
//! status code and the text as reply lines; everything that is not a
//! refusal or a discard lets the message through.

use crate::answer::{Answer, RcptAnswer};

/// What the milter tells the MTA.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reply {
    /// Go on (accept, hold with `on_hold = accept`, not a list, undecided).
    Continue,
    /// Accept the message and drop it: Mailman would discard it.
    Discard,
    /// A permanent refusal (5xx).
    Reject {
        code: &'static str,
        xcode: &'static str,
        lines: Vec<String>,
    },
    /// A temporary refusal (4xx).
    Tempfail {
        code: &'static str,
        xcode: &'static str,
        lines: Vec<String>,
    },
}

/// Enhanced status codes (RFC 3463): the refusals at RCPT are about the
/// address (no such mailbox; too many recipients), those at end of
/// message about the content's policy.
const RCPT_REJECT: &str = "5.1.1";
const RCPT_DEFER: &str = "4.5.3";
const DATA_REJECT: &str = "5.7.1";
const DATA_DEFER: &str = "4.7.1";

fn reply(a: &Answer, reject_x: &'static str, defer_x: &'static str) -> Reply {
    // By code, so that any accepting answer (including ones added later)
    // lets the message through.
    let lines = || a.text().split('\n').map(str::to_owned).collect();
    match a.code() {
        550 => Reply::Reject {
            code: "550",
            xcode: reject_x,
            lines: lines(),
        },
        451 => Reply::Tempfail {
            code: "451",
            xcode: defer_x,
            lines: lines(),
        },
        _ if matches!(a, Answer::Discard) => Reply::Discard,
        _ => Reply::Continue,
    }
}

/// The reply to one RCPT.
pub fn rcpt_reply(a: &RcptAnswer) -> Reply {
    match a {
        RcptAnswer::Refuse(a) => reply(a, RCPT_REJECT, RCPT_DEFER),
        RcptAnswer::List(_) | RcptAnswer::NotList => Reply::Continue,
    }
}

/// The reply at end of message.
pub fn data_reply(a: &Answer) -> Reply {
    reply(a, DATA_REJECT, DATA_DEFER)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn answers_map_to_replies() {
        assert_eq!(data_reply(&Answer::Accept), Reply::Continue);
        assert_eq!(data_reply(&Answer::Hold), Reply::Continue);
        assert_eq!(data_reply(&Answer::Error("x".into())), Reply::Continue);
        assert_eq!(data_reply(&Answer::Discard), Reply::Discard);
        assert_eq!(
            data_reply(&Answer::Reject("one\ntwo".into())),
            Reply::Reject {
                code: "550",
                xcode: "5.7.1",
                lines: vec!["one".into(), "two".into()]
            }
        );
        assert_eq!(
            rcpt_reply(&RcptAnswer::Refuse(Answer::Defer("later".into()))),
            Reply::Tempfail {
                code: "451",
                xcode: "4.5.3",
                lines: vec!["later".into()]
            }
        );
        assert_eq!(
            rcpt_reply(&RcptAnswer::Refuse(Answer::Error("x".into()))),
            Reply::Continue
        );
        assert_eq!(rcpt_reply(&RcptAnswer::NotList), Reply::Continue);
    }
}
