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

use crate::address::Kind;
use crate::decide::{Action, Verdict};
use crate::gate::Gate;
use crate::site::{AnswerPolicy, OnHold};
use crate::store::Route;

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
        match self {
            Answer::Reject(t) | Answer::Defer(t) | Answer::Error(t) => {
                format!("{} {}", self.word(), t)
            }
            _ => self.word().to_owned(),
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
pub fn verdict_answer(policy: &AnswerPolicy, v: &Verdict) -> Answer {
    let reason = v.reason.as_deref().unwrap_or("");
    match v.action {
        Action::Accept => Answer::Accept,
        Action::Discard => Answer::Discard,
        // The notice Mailman would mail the sender, reflowed for SMTP.
        Action::Reject => Answer::Reject(wrap(v.notice.as_deref().unwrap_or(reason))),
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

/// What the RCPT stage makes of one recipient.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RcptAnswer {
    /// A Mailman address: accept it and remember it for DATA.
    List(Route),
    /// Not a Mailman address: the library has nothing to say.
    NotList,
    /// Refuse this recipient (unknown list, or a later recipient that
    /// must come in its own submission).
    Refuse(Answer),
}

impl RcptAnswer {
    /// `list <name> <kind> <domain>`, `notlist`, or the refusal's token.
    pub fn token(&self) -> String {
        match self {
            RcptAnswer::List(r) => format!("list {} {} {}", r.list, r.kind.as_str(), r.domain),
            RcptAnswer::NotList => "notlist".to_owned(),
            RcptAnswer::Refuse(a) => a.token(),
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

/// Decide what to answer for RCPT `local_part@domain`.
pub fn rcpt_answer(gate: &Gate, local_part: &str, domain: &str, cx: RcptContext) -> RcptAnswer {
    let separate = gate.site.answers.separate_submissions;
    match gate.route(local_part, domain) {
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
            } else if cx.mailman_domain && gate.site.answers.reject_unknown_list {
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
pub fn parse_list_token(token: &str) -> Option<(String, Kind)> {
    let mut it = token.split_ascii_whitespace();
    if it.next()? != "list" {
        return None;
    }
    let name = it.next()?.to_owned();
    let kind = Kind::parse(it.next()?)?;
    Some((name, kind))
}

/// The DATA stage's decision for one list recipient: the answer and, when
/// the list was consulted, its verdict.
pub fn data_answer(
    gate: &Gate,
    list: &str,
    kind: Kind,
    envelope_sender: Option<&str>,
    raw: &[u8],
    recipients: usize,
) -> (Answer, Option<Verdict>) {
    let separate = gate.site.answers.separate_submissions;
    if separate && recipients > 1 {
        return (Answer::Defer(SEPARATE_TEXT.into()), None);
    }
    match gate.check_untraced(list, kind, envelope_sender, raw) {
        Err(e) => (Answer::Error(format!("list {list}: {e}")), None),
        Ok(v) => {
            let mut a = verdict_answer(&gate.site.answers, &v);
            // With several recipients a refusal would also refuse the
            // others: accept, and let Mailman apply its verdict itself.
            if recipients > 1 && !matches!(a, Answer::Accept | Answer::Hold) {
                a = Answer::Accept;
            }
            (a, Some(v))
        }
    }
}

/// `local_part@domain` split at the last `@` (no `@`: no domain).
pub fn split_address(addr: &str) -> (&str, &str) {
    match addr.rfind('@') {
        Some(i) => (&addr[..i], &addr[i + 1..]),
        None => (addr, ""),
    }
}

/// The list a whole message is decided for, after the fact (Exim's
/// `local_scan`): the first recipient that is a Mailman address, if any.
/// A recipient that cannot be routed is an error answer (accept).
pub fn list_recipient(gate: &Gate, recipients: &[String]) -> Result<Option<Route>, Answer> {
    for r in recipients {
        let (local_part, domain) = split_address(r);
        match gate.route(local_part, domain) {
            Ok(Some(route)) => return Ok(Some(route)),
            Ok(None) => {}
            Err(e) => return Err(Answer::Error(format!("cannot route {r}: {e}"))),
        }
    }
    Ok(None)
}

/// The log line for a DATA-stage answer, when it deserves one: anything
/// but a plain accept, and an accept the engine could not decide.
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
        let r = RcptAnswer::List(Route {
            list: "test".into(),
            kind: Kind::Request,
            domain: "example.com".into(),
        });
        assert_eq!(r.token(), "list test request example.com");
        assert_eq!(
            parse_list_token(&r.token()),
            Some(("test".into(), Kind::Request))
        );
        assert_eq!(parse_list_token("notlist"), None);
        assert_eq!(parse_list_token("list test bogus x"), None);
        assert_eq!(parse_list_token(""), None);
    }

    #[test]
    fn the_first_list_recipient_is_chosen() {
        let fixtures =
            std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/lists");
        let g = Gate::new(crate::site::Site::for_lists(fixtures));
        let rcpts = |r: &[&str]| r.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        let chosen = list_recipient(
            &g,
            &rcpts(&[
                "someone@other.example",
                "Test-Request@example.com",
                "test@example.com",
            ]),
        )
        .unwrap()
        .unwrap();
        assert_eq!((chosen.list.as_str(), chosen.kind), ("test", Kind::Request));
        assert_eq!(
            list_recipient(&g, &rcpts(&["a@b", "nolist"])).unwrap(),
            None
        );
        assert_eq!(list_recipient(&g, &[]).unwrap(), None);
        let bad = list_recipient(&g, &rcpts(&["x@y", "broken@example.com"]));
        assert!(
            matches!(&bad, Err(Answer::Error(t)) if t.starts_with("cannot route")),
            "{bad:?}"
        );
        assert_eq!(split_address("a@b@c.example"), ("a@b", "c.example"));
        assert_eq!(split_address("postmaster"), ("postmaster", ""));
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

    fn gate_on(dir: &std::path::Path, extra: &str) -> Gate {
        let site =
            crate::site::Site::parse(&format!("lists_dir = {}\n{extra}", dir.display()), "t")
                .unwrap();
        Gate::new(site)
    }

    #[test]
    fn rcpt_rules() {
        let dir = std::env::temp_dir().join(format!("mg-smtp-rcpt-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let g = gate_on(&dir, "");
        let md = RcptContext {
            mailman_domain: true,
            ..Default::default()
        };
        assert_eq!(
            rcpt_answer(&g, "nosuch", "lists.example", md).token(),
            "reject No such mailing list"
        );
        assert_eq!(
            rcpt_answer(&g, "nosuch", "other.example", RcptContext::default()).token(),
            "notlist"
        );
        let after_list = RcptContext {
            accepted_before: 1,
            list_before: true,
            ..Default::default()
        };
        assert_eq!(
            rcpt_answer(&g, "someone", "other.example", after_list).token(),
            format!("defer {SEPARATE_TEXT}")
        );
        let in_mailman_domain_after_list = RcptContext {
            mailman_domain: true,
            ..after_list
        };
        assert_eq!(
            rcpt_answer(&g, "abuse", "lists.example", in_mailman_domain_after_list).token(),
            format!("defer {SEPARATE_TEXT}")
        );
        let g2 = gate_on(
            &dir,
            "separate_submissions = no\non_unknown_list = accept\n",
        );
        assert_eq!(
            rcpt_answer(&g2, "someone", "x.example", after_list).token(),
            "notlist"
        );
        assert_eq!(
            rcpt_answer(&g2, "nosuch", "lists.example", md).token(),
            "notlist"
        );
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
