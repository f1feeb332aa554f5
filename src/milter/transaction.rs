//! What the milter remembers per MTA connection and per SMTP transaction,
//! and the two decisions it makes: at RCPT and at end of message. Nothing
//! here knows the milter protocol: the callbacks feed it strings and bytes
//! and turn its [`Reply`] into protocol answers.

use std::sync::Arc;

use super::budget::{Budget, Buffer, Overflow};
use super::reply::{data_reply, rcpt_reply, Reply};
use super::Settings;
use crate::address::Kind;
use crate::answer::{self, Answer, RcptAnswer, RcptContext};
use crate::decide::Verdict;
use crate::gate::Gate;

/// One MTA connection (many transactions).
#[derive(Debug)]
pub struct Session {
    /// Header values arrive exactly as sent (`SMFIP_HDR_LEADSPC`
    /// negotiated); otherwise the MTA removed the space after the colon.
    pub leading_space: bool,
    /// The MTA takes "skip the rest of the body" (`SMFIP_SKIP`).
    pub skip: bool,
    /// The MTA expects no reply to MAIL, to headers, to body chunks.
    pub noreply_mail: bool,
    pub noreply_header: bool,
    pub noreply_body: bool,
    pub tx: Transaction,
}

impl Session {
    pub fn new(budget: Arc<Budget>, leading_space: bool) -> Session {
        Session {
            leading_space,
            skip: false,
            noreply_mail: false,
            noreply_header: false,
            noreply_body: false,
            tx: Transaction::new(budget),
        }
    }
}

/// One SMTP transaction: MAIL FROM to end of message (or abort).
#[derive(Debug)]
pub struct Transaction {
    /// The envelope sender, `""` for the null sender.
    pub sender: String,
    /// Recipients accepted so far (by this milter).
    pub recipients: usize,
    /// The list recipient the message will be judged for (the last one,
    /// as in the Exim recipe).
    pub list: Option<(String, Kind)>,
    /// The message as Mailman will receive it: header lines, a blank line,
    /// the body, with `\n` line ends.
    message: Buffer,
    /// A body chunk ended in `\r`: its `\n` may start the next chunk.
    pending_cr: bool,
    /// Why the message is not buffered whole, if it is not.
    overflow: Option<Overflow>,
    body_started: bool,
}

impl Transaction {
    pub fn new(budget: Arc<Budget>) -> Transaction {
        Transaction {
            sender: String::new(),
            recipients: 0,
            list: None,
            message: Buffer::new(budget),
            pending_cr: false,
            overflow: None,
            body_started: false,
        }
    }

    /// Forget everything (new MAIL FROM, abort, or end of message); the
    /// buffer's memory goes back to the budget.
    pub fn reset(&mut self) {
        self.sender.clear();
        self.recipients = 0;
        self.list = None;
        self.message.clear();
        self.pending_cr = false;
        self.overflow = None;
        self.body_started = false;
    }

    /// MAIL FROM: the reverse path as the milter protocol gives it.
    pub fn mail(&mut self, arg: &str) {
        self.reset();
        self.sender = strip_angles(arg).to_owned();
    }

    /// RCPT TO: what to answer for `arg` (`<local@domain>`), and a log
    /// line when the address could not be told apart (accepted).
    pub fn rcpt(&mut self, gate: &Gate, settings: &Settings, arg: &str) -> (Reply, Option<String>) {
        let addr = strip_angles(arg);
        let (local, domain) = match addr.rfind('@') {
            Some(i) => (&addr[..i], &addr[i + 1..]),
            None => (addr, ""),
        };
        // As the Exim recipe's RCPT ACL, which accepts postmaster before
        // asking the gate (RFC 5321 wants it to work in every domain).
        if local.eq_ignore_ascii_case("postmaster") {
            self.recipients += 1;
            return (Reply::Continue, None);
        }
        let cx = RcptContext {
            mailman_domain: settings.is_mailman_domain(domain),
            accepted_before: self.recipients,
            list_before: self.list.is_some(),
        };
        let answer = gate.rcpt_answer(local, domain, cx);
        // Lists are found by name; Mailman's router serves only its own
        // domains (Exim's recipe never asks the gate about relayed ones),
        // so in any other domain an address that names a list is not a
        // list address: never judged, never refused for being one.
        let foreign = !settings.mailman_domains.is_empty() && !cx.mailman_domain;
        let answer = match answer {
            RcptAnswer::List(_) | RcptAnswer::Refuse(Answer::Error(_)) if foreign => {
                RcptAnswer::NotList
            }
            RcptAnswer::Refuse(Answer::Defer(_)) if foreign && !cx.list_before => {
                RcptAnswer::NotList
            }
            a => a,
        };
        let mut log = None;
        match &answer {
            RcptAnswer::List(route) => {
                self.recipients += 1;
                self.list = Some((route.list.clone(), route.kind));
            }
            RcptAnswer::NotList => self.recipients += 1,
            // Could not tell: the recipient is accepted like any other.
            RcptAnswer::Refuse(Answer::Error(t)) => {
                self.recipients += 1;
                log = Some(format!("{t} (accepting)"));
            }
            RcptAnswer::Refuse(_) => {}
        }
        (rcpt_reply(&answer), log)
    }

    /// Whether anything of this message needs to be seen.
    pub fn wants_message(&self) -> bool {
        self.list.is_some()
    }

    /// One header, as the milter protocol gives it.
    pub fn header(&mut self, name: &[u8], value: &[u8], leading_space: bool) {
        if self.overflow.is_some() {
            return;
        }
        let mut line = Vec::with_capacity(name.len() + value.len() + 3);
        line.extend_from_slice(name);
        line.push(b':');
        if !leading_space && !value.is_empty() {
            line.push(b' ');
        }
        // Folded values come with the MTA's line ends; Mailman reads `\n`.
        push_lf(&mut line, value, &mut false);
        if line.last() == Some(&b'\r') {
            line.pop();
        }
        line.push(b'\n');
        self.append(&line);
    }

    /// A body chunk (line ends `\r\n` on the wire).
    pub fn body(&mut self, chunk: &[u8]) {
        if self.overflow.is_some() {
            return;
        }
        let mut out = Vec::with_capacity(chunk.len() + 2);
        if !self.body_started {
            self.body_started = true;
            out.push(b'\n');
        }
        let mut pending = self.pending_cr;
        push_lf(&mut out, chunk, &mut pending);
        self.pending_cr = pending;
        self.append(&out);
    }

    /// Whether the message stopped being buffered (too large).
    pub fn overflowed(&self) -> bool {
        self.overflow.is_some()
    }

    fn append(&mut self, data: &[u8]) {
        if let Err(o) = self.message.extend(data) {
            self.overflow = Some(o);
            self.message.clear();
        }
    }

    /// End of message: the answer, and the log line when it is not a
    /// plain accept. `None` when the message has no list recipient.
    pub fn end_of_message(&mut self, gate: &Gate) -> Option<(Reply, Option<String>)> {
        let (list, kind) = self.list.clone()?;
        if self.pending_cr {
            // A lone `\r` at the very end stays as it was sent.
            self.pending_cr = false;
            self.append(b"\r");
        }
        if !self.body_started && self.overflow.is_none() {
            self.append(b"\n");
        }
        let (answer, verdict) = match self.overflow {
            Some(o) => {
                let budget = self.message.budget();
                let why = match o {
                    Overflow::Message => format!(
                        "message larger than max_message_size ({} bytes), not judged",
                        budget.per_message()
                    ),
                    Overflow::Total => format!(
                        "messages being received hold the whole buffer budget ({} bytes), not judged",
                        budget.total()
                    ),
                };
                (Answer::Error(why), None)
            }
            None => gate.data_answer(
                &list,
                kind,
                Some(&self.sender),
                self.message.as_slice(),
                self.recipients,
            ),
        };
        let log = log_wanted(&answer, verdict.as_ref())
            .then(|| answer::log_line(&list, kind, &answer, verdict.as_ref()));
        Some((data_reply(&answer), log))
    }

    /// The message as buffered so far (for tests).
    pub fn message(&self) -> &[u8] {
        self.message.as_slice()
    }
}

/// One log line for every answer but a plain, decided accept: refusals,
/// holds, discards, errors, and undecided verdicts (accepted, with why).
fn log_wanted(a: &Answer, v: Option<&Verdict>) -> bool {
    *a != Answer::Accept || v.is_some_and(|v| v.undecided.is_some())
}

/// `<a@b>` → `a@b`; also takes a bare address.
fn strip_angles(s: &str) -> &str {
    let s = s.trim();
    s.strip_prefix('<')
        .and_then(|t| t.strip_suffix('>'))
        .unwrap_or(s)
}

/// Copy `data` to `out` with every `\r\n` made `\n`; a trailing `\r` is
/// held back in `pending` (its `\n` may come in the next chunk).
fn push_lf(out: &mut Vec<u8>, data: &[u8], pending: &mut bool) {
    let mut rest = data;
    if *pending {
        *pending = false;
        if rest.first() != Some(&b'\n') {
            out.push(b'\r');
        }
    }
    while let Some(i) = rest.iter().position(|&b| b == b'\r') {
        out.extend_from_slice(&rest[..i]);
        match rest.get(i + 1) {
            Some(b'\n') => {}
            Some(_) => out.push(b'\r'),
            None => {
                *pending = true;
                return;
            }
        }
        rest = &rest[i + 1..];
    }
    out.extend_from_slice(rest);
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::PathBuf;

    fn lists() -> PathBuf {
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/lists")
    }

    fn gate(extra: &str) -> Gate {
        let site =
            crate::site::Site::parse(&format!("lists_dir = {}\n{extra}", lists().display()), "t")
                .unwrap();
        Gate::new(site)
    }

    fn settings() -> Settings {
        Settings {
            mailman_domains: vec!["example.com".into()],
            ..Settings::default()
        }
    }

    fn tx() -> Transaction {
        Transaction::new(Budget::new(1 << 20, 1 << 22))
    }

    #[test]
    fn crlf_is_undone_across_chunks() {
        let mut out = Vec::new();
        let mut p = false;
        push_lf(&mut out, b"a\r\nb\r", &mut p);
        assert!(p);
        push_lf(&mut out, b"\nc\rd\r", &mut p);
        push_lf(&mut out, b"e", &mut p);
        assert_eq!(out, b"a\nb\nc\rd\re");
    }

    #[test]
    fn message_is_rebuilt_as_mailman_gets_it() {
        let mut t = tx();
        t.list = Some(("test".into(), Kind::Post));
        t.header(b"From", b" alice@example.com", true);
        t.header(b"Subject", b"folded\r\n\tsecond", false);
        t.header(b"X-Empty", b"", true);
        t.body(b"line 1\r\nline");
        t.body(b" 2\r\n");
        assert_eq!(
            t.message(),
            b"From: alice@example.com\nSubject: folded\n\tsecond\nX-Empty:\n\nline 1\nline 2\n"
        );
    }

    #[test]
    fn rcpt_rules_follow_the_exim_front_end() {
        let g = gate("");
        let s = settings();
        let mut t = tx();
        t.mail("<alice@example.com>");
        assert_eq!(t.sender, "alice@example.com");
        assert_eq!(
            t.rcpt(&g, &s, "<test@example.com>"),
            (Reply::Continue, None)
        );
        assert_eq!(t.list, Some(("test".into(), Kind::Post)));
        // A second recipient after a list: 451.
        match t.rcpt(&g, &s, "<someone@elsewhere.example>").0 {
            Reply::Tempfail { lines, .. } => assert_eq!(lines, [answer::SEPARATE_TEXT]),
            r => panic!("{r:?}"),
        }
        // An unknown list in a Mailman domain: 550.
        let mut t = tx();
        t.mail("<>");
        assert_eq!(t.sender, "");
        match t.rcpt(&g, &s, "<nosuchlist@example.com>").0 {
            Reply::Reject { code, lines, .. } => {
                assert_eq!(code, "550");
                assert_eq!(lines, [answer::UNKNOWN_LIST_TEXT]);
            }
            r => panic!("{r:?}"),
        }
        // Not a list, not a Mailman domain: never touched.
        assert_eq!(
            t.rcpt(&g, &s, "<nosuchlist@elsewhere.example>"),
            (Reply::Continue, None)
        );
        assert!(!t.wants_message());
        // A list's name in a domain that is not Mailman's: not a list.
        let mut t2 = tx();
        assert_eq!(
            t2.rcpt(&g, &s, "<test@elsewhere.example>"),
            (Reply::Continue, None)
        );
        assert!(!t2.wants_message());
        // ...and postmaster in a Mailman domain is accepted, as in Exim.
        assert_eq!(
            t2.rcpt(&g, &s, "<PostMaster@example.com>"),
            (Reply::Continue, None)
        );
        assert_eq!(t2.recipients, 2);
        // Without configured domains, every domain is searched.
        let mut t3 = tx();
        t3.rcpt(&g, &Settings::default(), "<test@elsewhere.example>");
        assert!(t3.wants_message());
        // A list whose state cannot be read: accepted, logged, not judged.
        let (r, log) = t.rcpt(&g, &s, "<broken@example.com>");
        assert_eq!(r, Reply::Continue);
        assert!(log.unwrap().contains("cannot route broken@example.com"));
        assert!(!t.wants_message());
    }

    fn post(g: &Gate, from: &str, to: &str) -> (Reply, Option<String>) {
        let s = settings();
        let mut t = tx();
        t.mail(&format!("<{from}>"));
        assert_eq!(t.rcpt(g, &s, &format!("<{to}>")).0, Reply::Continue);
        t.header(b"From", format!(" {from}").as_bytes(), true);
        t.header(b"To", format!(" {to}").as_bytes(), true);
        t.header(b"Subject", b" hello", true);
        t.body(b"Hello list.\r\n");
        t.end_of_message(g).unwrap()
    }

    #[test]
    fn end_of_message_answers() {
        let g = gate("");
        assert_eq!(
            post(&g, "alice@example.com", "test@example.com"),
            (Reply::Continue, None)
        );
        let (r, log) = post(&g, "out@elsewhere.example", "test@example.com");
        assert_eq!(r, Reply::Continue);
        assert!(log.unwrap().contains("answer=hold"));
        let (r, log) = post(&g, "discard@foo.org", "test@example.com");
        assert_eq!(r, Reply::Discard);
        assert!(log.unwrap().contains("answer=discard"));
        let g = gate("on_hold = reject\n");
        match post(&g, "out@elsewhere.example", "test@example.com").0 {
            Reply::Reject { code, lines, .. } => {
                assert_eq!(code, "550");
                assert!(lines.join(" ").contains("held for moderator approval"));
            }
            r => panic!("{r:?}"),
        }
        // corrupt config.pck, good .last: decided from .last.
        let (r, log) = post(&g, "bob@example.com", "corrupt@example.com");
        assert!(matches!(r, Reply::Reject { .. }), "{r:?}");
        assert!(log
            .unwrap()
            .contains("list=corrupt kind=post answer=reject"));
    }

    #[test]
    fn undecided_accepts_with_a_log_line() {
        let mut v = Verdict {
            action: crate::decide::Action::Accept,
            step: None,
            reason: None,
            notice: None,
            shunted: false,
            undecided: None,
            trace: vec![],
            caveats: vec![],
        };
        assert!(!log_wanted(&Answer::Accept, Some(&v)));
        assert!(!log_wanted(&Answer::Accept, None));
        v.undecided = Some("pattern past its bound".into());
        assert!(log_wanted(&Answer::Accept, Some(&v)));
        assert_eq!(data_reply(&Answer::Accept), Reply::Continue);
        assert!(log_wanted(&Answer::Hold, None));
    }

    #[test]
    fn too_large_is_undecided() {
        let g = gate("on_hold = reject\n");
        let s = settings();
        let mut t = Transaction::new(Budget::new(1000, 1 << 20));
        t.mail("<out@elsewhere.example>");
        t.rcpt(&g, &s, "<test@example.com>");
        t.header(b"From", b" out@elsewhere.example", true);
        for _ in 0..20 {
            t.body(&[b'x'; 100]);
        }
        assert!(t.overflowed());
        assert!(t.message().is_empty());
        let (r, log) = t.end_of_message(&g).unwrap();
        assert_eq!(r, Reply::Continue);
        assert!(log.unwrap().contains("max_message_size (1000 bytes)"));
        t.reset();
        assert!(!t.overflowed());
    }
}
