//! What the MTA answers: a verdict (or a routing result) mapped to an SMTP
//! outcome by the site's settings, and the short token an Exim ACL
//! branches on.
//!
//! | verdict / situation | default answer | setting |
//! | --- | --- | --- |
//! | accept | accept (250) | |
//! | hold | accept (250); Mailman holds it | `on_hold = accept \| defer \| reject` |
//! | reject | 550 with Mailman's text, wrapped, multi-line | |
//! | discard | accept and drop (Exim `discard`) | |
//! | no such list in a Mailman domain | 550 at RCPT | `on_unknown_list = reject \| accept` |
//! | a list address and any other recipient in one message | 451 for the later one | `separate_submissions = yes \| no` |
//! | the library cannot decide | accept (fail-open), logged | |

use crate::address::{Kind, Route};
use crate::decide::{Action, Verdict};

/// What the MTA answers for a held post.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OnHold {
    /// Accept and let Mailman hold it (the sender gets Mailman's notice).
    Accept,
    /// 451: try later.
    Defer,
    /// 550 with the hold reason.
    Reject,
}

/// What the MTA answers, beyond Mailman's own verdict: the site's
/// `on_hold`, `on_unknown_list` and `separate_submissions` (read by
/// [`crate::site`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AnswerPolicy {
    pub on_hold: OnHold,
    /// `on_unknown_list = reject`: an address in a Mailman domain that is
    /// no list is refused at RCPT.
    pub reject_unknown_list: bool,
    /// One Mailman recipient per message.
    pub separate_submissions: bool,
}

impl Default for AnswerPolicy {
    fn default() -> Self {
        AnswerPolicy {
            on_hold: OnHold::Accept,
            reject_unknown_list: true,
            separate_submissions: true,
        }
    }
}

/// Width of one line of a multi-line SMTP reply's text.
pub const WRAP_WIDTH: usize = 76;
/// At most this many lines of reply text.
pub const MAX_LINES: usize = 24;

/// The 451 text when a list recipient shares a message with another.
pub const SEPARATE_TEXT: &str = "Please make each Mailman delivery in a separate submission";
/// The 550 text for an unknown list in a Mailman domain.
pub const UNKNOWN_LIST_TEXT: &str = "No such mailing list";

/// What the MTA does with the message or recipient.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Answer {
    /// Accept (250).
    Accept,
    /// Accept (250): Mailman will hold the post for its moderators.
    Hold,
    /// Accept and drop: nothing is delivered.
    Discard,
    /// Permanent refusal (550) with this text (lines joined by `\n`).
    Reject(String),
    /// Temporary refusal (451) with this text.
    Defer(String),
    /// The library could not decide: the MTA accepts (fail-open). The text
    /// is for the log, never for the client.
    Error(String),
}

impl Answer {
    /// The SMTP code the client sees.
    pub fn code(&self) -> u16 {
        match self {
            Answer::Reject(_) => 550,
            Answer::Defer(_) => 451,
            _ => 250,
        }
    }

    /// The reply text (wrapped; empty for the accepting answers).
    pub fn text(&self) -> &str {
        match self {
            Answer::Reject(t) | Answer::Defer(t) => t,
            _ => "",
        }
    }

    /// The token word: accept, hold, discard, reject, defer, error.
    pub fn word(&self) -> &'static str {
        match self {
            Answer::Accept => "accept",
            Answer::Hold => "hold",
            Answer::Discard => "discard",
            Answer::Reject(_) => "reject",
            Answer::Defer(_) => "defer",
            Answer::Error(_) => "error",
        }
    }

    /// The token an ACL branches on: the word, then a space and the text
    /// for `reject`, `defer` and `error`.
    pub fn token(&self) -> String {
        let mut t = String::new();
        self.write_token(&mut t);
        t
    }

    /// [`Answer::token`], appended to `out`.
    #[cfg_attr(target_os = "linux", link_section = ".text.hot.mailman_gate")]
    pub fn write_token(&self, out: &mut String) {
        out.push_str(self.word());
        if let Answer::Reject(t) | Answer::Defer(t) | Answer::Error(t) = self {
            out.push(' ');
            out.push_str(t);
        }
    }
}

/// Make `text` safe and readable as SMTP reply text: printable ASCII only
/// (anything else becomes `?`), paragraphs kept, each wrapped at
/// [`WRAP_WIDTH`], at most [`MAX_LINES`] lines, never empty.
pub fn wrap(text: &str) -> String {
    let mut lines: Vec<String> = Vec::new();
    let clean: String = text
        .replace("\r\n", "\n")
        .chars()
        .map(|c| match c {
            '\n' => '\n',
            '\t' | '\r' => ' ',
            c if (' '..='~').contains(&c) => c,
            _ => '?',
        })
        .collect();
    // Mailman's texts come pre-wrapped: a single newline is a soft break,
    // a blank line separates paragraphs (each starts a new reply line).
    let paras: Vec<String> = clean
        .split("\n\n")
        .map(|p| p.split('\n').collect::<Vec<_>>().join(" "))
        .collect();
    for para in &paras {
        let mut cur = String::new();
        for word in para.split(' ').filter(|w| !w.is_empty()) {
            let mut word = word;
            // A word longer than a line is cut.
            while word.len() > WRAP_WIDTH {
                if !cur.is_empty() {
                    lines.push(std::mem::take(&mut cur));
                }
                lines.push(word[..WRAP_WIDTH].to_owned());
                word = &word[WRAP_WIDTH..];
            }
            if !cur.is_empty() && cur.len() + 1 + word.len() > WRAP_WIDTH {
                lines.push(std::mem::take(&mut cur));
            }
            if !cur.is_empty() {
                cur.push(' ');
            }
            cur.push_str(word);
        }
        if !cur.is_empty() {
            lines.push(cur);
        }
    }
    if lines.len() > MAX_LINES {
        lines.truncate(MAX_LINES - 1);
        lines.push("[...]".into());
    }
    let joined = lines.join("\n");
    // Exim reads a leading "ddd " as a reply code: never start with one.
    let looks_like_code = joined.len() >= 4
        && joined.as_bytes()[..3].iter().all(u8::is_ascii_digit)
        && matches!(joined.as_bytes()[3], b' ' | b'-');
    if joined.is_empty() {
        "Refused".to_owned()
    } else if looks_like_code {
        format!("Refused: {joined}")
    } else {
        joined
    }
}

/// The answer for a verdict under the site's answer policy.
#[cfg_attr(target_os = "linux", link_section = ".text.hot.mailman_gate")]
pub fn verdict_answer(policy: &AnswerPolicy, v: &Verdict) -> Answer {
    let reason = v.reason.as_deref().unwrap_or("");
    match v.action {
        Action::Accept => Answer::Accept,
        Action::Discard => Answer::Discard,
        // The notice Mailman would mail the sender, reflowed for SMTP.
        Action::Reject => Answer::Reject(wrap(v.notice.as_deref().unwrap_or(reason))),
        // Mailman would fail on the post and keep it in its shunt queue:
        // neither a hold nor a refusal, so never a 4xx/5xx, whatever
        // `on_hold` says.
        Action::Hold if v.shunted => Answer::Hold,
        Action::Hold => match policy.on_hold {
            OnHold::Accept => Answer::Hold,
            OnHold::Defer => Answer::Defer(wrap(&format!(
                "Your message awaits moderator approval: {reason}. Please try again later"
            ))),
            OnHold::Reject => Answer::Reject(wrap(&format!(
                "Your message would be held for moderator approval: {reason}"
            ))),
        },
    }
}

/// What the RCPT stage makes of one recipient (`RcptAnswer<&str>`: with
/// the route's names borrowed).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RcptAnswer<S = String> {
    /// A Mailman address: accept it and remember it for DATA.
    List(Route<S>),
    /// Not a Mailman address: the library has nothing to say.
    NotList,
    /// Refuse this recipient (unknown list, or a later recipient that
    /// must come in its own submission).
    Refuse(Answer),
}

impl<S: AsRef<str>> RcptAnswer<S> {
    /// `list <name> <kind> <domain>`, `notlist`, or the refusal's token.
    pub fn token(&self) -> String {
        let mut t = String::new();
        self.write_token(&mut t);
        t
    }

    /// [`RcptAnswer::token`], appended to `out`.
    #[cfg_attr(target_os = "linux", link_section = ".text.hot.mailman_gate")]
    pub fn write_token(&self, out: &mut String) {
        match self {
            RcptAnswer::List(r) => {
                for part in ["list ", r.list.as_ref(), " ", r.kind.as_str(), " "] {
                    out.push_str(part);
                }
                out.push_str(r.domain.as_ref());
            }
            RcptAnswer::NotList => out.push_str("notlist"),
            RcptAnswer::Refuse(a) => a.write_token(out),
        }
    }
}

impl RcptAnswer<&str> {
    /// The answer with the route's names copied.
    pub fn to_owned_answer(self) -> RcptAnswer {
        match self {
            RcptAnswer::List(r) => RcptAnswer::List(r.to_owned_route()),
            RcptAnswer::NotList => RcptAnswer::NotList,
            RcptAnswer::Refuse(a) => RcptAnswer::Refuse(a),
        }
    }
}

/// The envelope facts the RCPT stage knows besides the address.
#[derive(Debug, Clone, Copy, Default)]
pub struct RcptContext {
    /// The domain is one where Mailman's lists live (an address there
    /// that is no list is refused under `on_unknown_list = reject`).
    pub mailman_domain: bool,
    /// Recipients already accepted for this message.
    pub accepted_before: usize,
    /// One of those is a list address.
    pub list_before: bool,
}

/// What to answer for RCPT `local_part@domain`, given what routing it
/// found (`Err`: why it could not be routed).
#[cfg_attr(target_os = "linux", link_section = ".text.hot.mailman_gate")]
pub fn rcpt_answer<S>(
    policy: &AnswerPolicy,
    local_part: &str,
    domain: &str,
    routed: Result<Option<Route<S>>, String>,
    cx: RcptContext,
) -> RcptAnswer<S> {
    let separate = policy.separate_submissions;
    match routed {
        Ok(Some(route)) => {
            if separate && cx.accepted_before > 0 {
                RcptAnswer::Refuse(Answer::Defer(SEPARATE_TEXT.into()))
            } else {
                RcptAnswer::List(route)
            }
        }
        Ok(None) => {
            // The deferral first: the recipe lets an address Exim can
            // route pass a `reject` (it may be an alias or a local user),
            // but a second recipient beside a list one still waits.
            if separate && cx.list_before {
                RcptAnswer::Refuse(Answer::Defer(SEPARATE_TEXT.into()))
            } else if cx.mailman_domain && policy.reject_unknown_list {
                RcptAnswer::Refuse(Answer::Reject(UNKNOWN_LIST_TEXT.into()))
            } else {
                RcptAnswer::NotList
            }
        }
        Err(e) => RcptAnswer::Refuse(Answer::Error(format!(
            "cannot route {local_part}@{domain}: {e}"
        ))),
    }
}

/// Parse the RCPT stage's `list <name> <kind> <domain>` token back.
#[cfg_attr(target_os = "linux", link_section = ".text.hot.mailman_gate")]
pub fn parse_list_token(token: &str) -> Option<(&str, Kind)> {
    let mut it = token.split_ascii_whitespace();
    if it.next()? != "list" {
        return None;
    }
    let name = it.next()?;
    let kind = Kind::parse(it.next()?)?;
    Some((name, kind))
}

/// The DATA stage's answer before the list is consulted: a deferral
/// when a list recipient shares the message with others and the site
/// wants separate submissions.
#[cfg_attr(target_os = "linux", link_section = ".text.hot.mailman_gate")]
pub fn data_refusal(policy: &AnswerPolicy, recipients: usize) -> Option<Answer> {
    (policy.separate_submissions && recipients > 1).then(|| Answer::Defer(SEPARATE_TEXT.into()))
}

/// The DATA stage's answer for one list recipient from the list's verdict
/// (`Err`: why the list could not be consulted), and the verdict.
#[cfg_attr(target_os = "linux", link_section = ".text.hot.mailman_gate")]
pub fn data_answer(
    policy: &AnswerPolicy,
    list: &str,
    recipients: usize,
    checked: Result<Verdict, String>,
) -> (Answer, Option<Verdict>) {
    match checked {
        Err(e) => (Answer::Error(format!("list {list}: {e}")), None),
        Ok(v) => {
            let mut a = verdict_answer(policy, &v);
            // With several recipients a refusal would also refuse the
            // others: accept, and let Mailman apply its verdict itself.
            if recipients > 1 && !matches!(a, Answer::Accept | Answer::Hold) {
                a = Answer::Accept;
            }
            (a, Some(v))
        }
    }
}

/// The log line for a DATA-stage answer, when it deserves one: anything
/// but a plain accept, and an accept the engine could not decide.
#[cfg_attr(target_os = "linux", link_section = ".text.hot.mailman_gate")]
pub fn data_log_line(list: &str, kind: Kind, a: &Answer, v: Option<&Verdict>) -> Option<String> {
    let undecided = v.is_some_and(|v| v.undecided.is_some());
    (*a != Answer::Accept || undecided).then(|| log_line(list, kind, a, v))
}

/// A text for the log: one line, at most 300 bytes.
fn clip(text: &str) -> String {
    let mut r = text.split_whitespace().collect::<Vec<_>>().join(" ");
    if r.len() > 300 {
        let mut cut = 300;
        while !r.is_char_boundary(cut) {
            cut -= 1;
        }
        r.truncate(cut);
        r.push_str("...");
    }
    r
}

/// One log line for a decision: `list=<l> kind=<k> answer=<word> ...`.
pub fn log_line(list: &str, kind: Kind, a: &Answer, v: Option<&Verdict>) -> String {
    let mut s = format!("list={list} kind={} answer={}", kind.as_str(), a.word());
    if let Some(v) = v {
        s.push_str(&format!(" action={}", v.action.as_str()));
        if let Some(step) = v.step {
            s.push_str(&format!(" step={}", step.as_str()));
        }
        if v.shunted {
            s.push_str(" shunted");
        }
        if let Some(why) = &v.undecided {
            s.push_str(&format!(" undecided={:?}", clip(why)));
        }
        if let Some(r) = &v.reason {
            s.push_str(&format!(" reason={:?}", clip(r)));
        }
    }
    if let Answer::Error(t) = a {
        s.push_str(&format!(" error={t:?}"));
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::decide::Step;

    fn verdict(action: Action, reason: Option<&str>) -> Verdict {
        Verdict {
            action,
            step: Some(Step::Moderate),
            reason: reason.map(str::to_owned),
            notice: None,
            shunted: false,
            undecided: None,
            trace: vec![],
            caveats: vec![],
        }
    }

    #[test]
    fn wrap_reflows_and_keeps_paragraphs() {
        let w = wrap(
            "Your message has been rejected, probably\nbecause you are not subscribed.\n\nSecond.",
        );
        assert_eq!(
            w,
            "Your message has been rejected, probably because you are not subscribed.\nSecond."
        );
        let long = "word ".repeat(40);
        let w = wrap(&format!("First line.\n\n{long}"));
        let lines: Vec<&str> = w.split('\n').collect();
        assert_eq!(lines[0], "First line.");
        assert!(lines.iter().all(|l| l.len() <= WRAP_WIDTH));
        assert!(lines.len() >= 4);
        assert!(!w.contains("\n\n"), "blank lines are dropped: {w:?}");
    }

    #[test]
    fn wrap_is_ascii_and_never_a_code() {
        assert_eq!(wrap("Nachricht \u{e4}\t\u{7}x"), "Nachricht ? ?x");
        assert_eq!(wrap("550 no"), "Refused: 550 no");
        assert_eq!(wrap(""), "Refused");
        let long = "x".repeat(200);
        assert!(wrap(&long).split('\n').all(|l| l.len() <= WRAP_WIDTH));
        let many = "line\n\n".repeat(100);
        assert_eq!(wrap(&many).split('\n').count(), MAX_LINES);
    }

    #[test]
    fn verdicts_map_by_site() {
        let mut policy = AnswerPolicy::default();
        let held = verdict(
            Action::Hold,
            Some("Post by non-member to a members-only list"),
        );
        assert_eq!(verdict_answer(&policy, &held), Answer::Hold);
        policy.on_hold = OnHold::Defer;
        let a = verdict_answer(&policy, &held);
        assert_eq!(a.code(), 451);
        assert!(a.token().starts_with("defer Your message awaits"));
        policy.on_hold = OnHold::Reject;
        assert_eq!(verdict_answer(&policy, &held).code(), 550);
        // A post Mailman would shunt (an invalid header_filter_rules
        // pattern makes SpamDetect raise) is not refused under any on_hold.
        let mut shunted = verdict(
            Action::Hold,
            Some("Mailman would shunt this message: invalid pattern"),
        );
        shunted.shunted = true;
        for on_hold in [OnHold::Accept, OnHold::Defer, OnHold::Reject] {
            policy.on_hold = on_hold;
            assert_eq!(verdict_answer(&policy, &shunted), Answer::Hold);
        }
        policy.on_hold = OnHold::Reject;
        let rej = verdict(Action::Reject, Some("You are not allowed to post."));
        assert_eq!(
            verdict_answer(&policy, &rej).token(),
            "reject You are not allowed to post."
        );
        assert_eq!(
            verdict_answer(&policy, &verdict(Action::Discard, None)).token(),
            "discard"
        );
        assert_eq!(
            verdict_answer(&policy, &verdict(Action::Accept, None)).token(),
            "accept"
        );
    }

    #[test]
    fn list_tokens_round_trip() {
        let r = RcptAnswer::List(Route::<String> {
            list: "test".into(),
            kind: Kind::Request,
            domain: "example.com".into(),
        });
        assert_eq!(r.token(), "list test request example.com");
        assert_eq!(parse_list_token(&r.token()), Some(("test", Kind::Request)));
        assert_eq!(parse_list_token("notlist"), None);
        assert_eq!(parse_list_token("list test bogus x"), None);
        assert_eq!(parse_list_token(""), None);
    }

    #[test]
    fn data_log_lines_for_what_is_not_a_plain_accept() {
        let accept = verdict(Action::Accept, None);
        assert_eq!(
            data_log_line("l", Kind::Post, &Answer::Accept, Some(&accept)),
            None
        );
        let mut undecided = verdict(Action::Accept, None);
        undecided.undecided = Some("budget".into());
        let line = data_log_line("l", Kind::Post, &Answer::Accept, Some(&undecided)).unwrap();
        assert!(line.contains("undecided=\"budget\""), "{line}");
        let held = data_log_line("l", Kind::Post, &Answer::Hold, None).unwrap();
        assert_eq!(held, "list=l kind=post answer=hold");
    }

    fn route(list: &str) -> Option<Route> {
        Some(Route {
            list: list.into(),
            kind: Kind::Post,
            domain: "lists.example".into(),
        })
    }

    #[test]
    fn rcpt_rules() {
        let p = AnswerPolicy::default();
        let md = RcptContext {
            mailman_domain: true,
            ..Default::default()
        };
        let none = || Ok(None::<Route>);
        assert_eq!(
            rcpt_answer(&p, "dev", "lists.example", Ok(route("dev")), md).token(),
            "list dev post lists.example"
        );
        assert_eq!(
            rcpt_answer(&p, "nosuch", "lists.example", none(), md).token(),
            "reject No such mailing list"
        );
        assert_eq!(
            rcpt_answer(
                &p,
                "nosuch",
                "other.example",
                none(),
                RcptContext::default()
            )
            .token(),
            "notlist"
        );
        let failed = rcpt_answer::<String>(&p, "x", "y", Err("unreadable".into()), md).token();
        assert_eq!(failed, "error cannot route x@y: unreadable");
        let after_list = RcptContext {
            accepted_before: 1,
            list_before: true,
            ..Default::default()
        };
        let defer = format!("defer {SEPARATE_TEXT}");
        assert_eq!(
            rcpt_answer(&p, "someone", "other.example", none(), after_list).token(),
            defer
        );
        let in_mailman_domain_after_list = RcptContext {
            mailman_domain: true,
            ..after_list
        };
        assert_eq!(
            rcpt_answer(
                &p,
                "abuse",
                "lists.example",
                none(),
                in_mailman_domain_after_list
            )
            .token(),
            defer
        );
        let after_other = RcptContext {
            accepted_before: 1,
            ..Default::default()
        };
        assert_eq!(
            rcpt_answer(&p, "dev", "lists.example", Ok(route("dev")), after_other).token(),
            defer
        );
        let lax = AnswerPolicy {
            separate_submissions: false,
            reject_unknown_list: false,
            ..p
        };
        assert_eq!(
            rcpt_answer(&lax, "someone", "x.example", none(), after_list).token(),
            "notlist"
        );
        assert_eq!(
            rcpt_answer(&lax, "nosuch", "lists.example", none(), md).token(),
            "notlist"
        );
        assert_eq!(
            rcpt_answer(&lax, "dev", "lists.example", Ok(route("dev")), after_other).token(),
            "list dev post lists.example"
        );
    }

    #[test]
    fn data_rules() {
        let p = AnswerPolicy::default();
        assert_eq!(data_refusal(&p, 1), None);
        assert_eq!(
            data_refusal(&p, 2),
            Some(Answer::Defer(SEPARATE_TEXT.into()))
        );
        let lax = AnswerPolicy {
            separate_submissions: false,
            ..p
        };
        assert_eq!(data_refusal(&lax, 2), None);
        let rej = verdict(Action::Reject, Some("You are not allowed to post."));
        let (a, v) = data_answer(&p, "dev", 1, Ok(rej.clone()));
        assert_eq!(a.token(), "reject You are not allowed to post.");
        assert_eq!(v, Some(rej.clone()));
        // Several recipients: a refusal would refuse the others too.
        assert_eq!(data_answer(&lax, "dev", 2, Ok(rej)).0, Answer::Accept);
        let held = verdict(Action::Hold, Some("Post to moderated list"));
        assert_eq!(data_answer(&lax, "dev", 2, Ok(held)).0, Answer::Hold);
        let (a, v) = data_answer(&p, "dev", 1, Err("unreadable".into()));
        assert_eq!(a, Answer::Error("list dev: unreadable".into()));
        assert_eq!(v, None);
    }
}
