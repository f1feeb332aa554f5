//! The decision: what Mailman 2.1.39's incoming pipeline would do with a
//! message, as a pure function of the list's policy, the site settings,
//! the message, the address kind and the other lists (for `@list`).
//!
//! The steps run in Mailman's order (`GLOBAL_PIPELINE`): SpamDetect,
//! Approve, Moderate, Hold, MimeDel, Scrubber, Emergency, CalcRecips (its
//! `Urgent:` check). The first step that holds, rejects or discards ends
//! the pipeline, as the first exception does in Mailman's runner. Mail to
//! `-owner` takes the owner pipeline (SpamDetect only, with its owner
//! twists); command and bounce addresses are accepted.

pub mod administrivia;
pub mod approve;
pub mod hold;
pub mod mimedel;
mod moderate;
mod once_table;
pub mod patterns;
mod spam;
pub mod text;

use crate::address::Kind;
use crate::i18n::{Translation, Translations};
use crate::message::Message;
use crate::policy::ListPolicy;
use crate::py;
use crate::settings::{MailmanSettings, SenderHeader};

pub use patterns::{NoOtherLists, OtherLists};

/// What happens to the post.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    Accept,
    Hold,
    Reject,
    Discard,
}

impl Action {
    pub fn as_str(self) -> &'static str {
        match self {
            Action::Accept => "accept",
            Action::Hold => "hold",
            Action::Reject => "reject",
            Action::Discard => "discard",
        }
    }
}

/// The Mailman handler that decided.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Step {
    SpamDetect,
    Approve,
    Moderate,
    Hold,
    MimeDel,
    Scrubber,
    Emergency,
    CalcRecips,
}

impl Step {
    pub fn as_str(self) -> &'static str {
        match self {
            Step::SpamDetect => "SpamDetect",
            Step::Approve => "Approve",
            Step::Moderate => "Moderate",
            Step::Hold => "Hold",
            Step::MimeDel => "MimeDel",
            Step::Scrubber => "Scrubber",
            Step::Emergency => "Emergency",
            Step::CalcRecips => "CalcRecips",
        }
    }
}

/// The answer, with how it was reached.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verdict {
    pub action: Action,
    /// None when the post is accepted.
    pub step: Option<Step>,
    /// The text the poster receives. For a reject: the notice Mailman mails
    /// (after its second `%` interpolation of `%(sender)s`/`%(subject)s`)
    /// unwrapped: each paragraph on one line, paragraphs separated by a
    /// blank line, no trailing newline; the MTA's 550 says the same words.
    /// For a hold: the reason as Mailman records it (what the moderator
    /// sees and the poster's "held" notice quotes). The handler's own
    /// wording, before Mailman's wrapping and interpolation, is in the trace.
    pub reason: Option<String>,
    /// For a reject, the notice exactly as Mailman mails it to the sender:
    /// wrapped to 70 columns, with its second `%` interpolation.
    pub notice: Option<String>,
    /// Mailman would fail on this message (an exception in a handler) and
    /// shunt it: neither delivered nor bounced. Reported as a hold.
    pub shunted: bool,
    /// The engine cannot tell what Mailman would do (a pattern it cannot
    /// evaluate within its budget, another list it cannot read, ...): why.
    /// The action is then `Accept`, so that the post reaches Mailman as it
    /// would without the gate; `step` names the step that could not tell.
    pub undecided: Option<String>,
    /// Every rule consulted, in order, for `explain`.
    pub trace: Vec<String>,
    /// What Mailman might do differently from this verdict and why it
    /// cannot be known from disk (DMARC, member verbosity, extend.py).
    pub caveats: Vec<String>,
}

/// The envelope and address a message arrives with.
#[derive(Debug, Clone, Copy)]
pub struct Delivery<'a> {
    pub kind: Kind,
    /// The envelope sender: `Some("")` is the null sender (Exim's pipe
    /// writes `From MAILER-DAEMON`), `None` means no unixfrom line: the
    /// message's own leading `From ` line is used if it has one.
    pub envelope_sender: Option<&'a str>,
    /// Record every rule consulted in [`Verdict::trace`] (costs time).
    pub trace: bool,
}

/// A reject text as a handler raises it.
pub(crate) struct RejectText {
    /// The text before `Utils.wrap`.
    pub text: String,
    /// The handler wraps it to 70 columns.
    pub wrapped: bool,
    /// It comes from a `unicode` list attribute: Mailman cannot mail a
    /// non-ASCII one to the sender of an English list and fails.
    pub unicode: bool,
}

impl RejectText {
    /// A text the handler passes through `Utils.wrap`.
    pub fn wrapped(text: impl Into<String>) -> RejectText {
        RejectText {
            text: text.into(),
            wrapped: true,
            unicode: false,
        }
    }
    /// A text raised as it is.
    pub fn plain(text: impl Into<String>) -> RejectText {
        RejectText {
            text: text.into(),
            wrapped: false,
            unicode: false,
        }
    }
    /// A list attribute's text, wrapped. A `str` is bytes in the charset
    /// of the language the message is handled in (read as UTF-8, else
    /// Latin-1, for English).
    pub fn from_attr(s: &crate::policy::PyStr, lang: &text::Lang) -> RejectText {
        let text = match s {
            crate::policy::PyStr::Bytes(b) if lang.charset() != "us-ascii" => {
                match py::lookup(lang.charset()) {
                    Ok(c) => py::codec::decode_strict(b, c).unwrap_or_else(|| s.to_text()),
                    Err(_) => s.to_text(),
                }
            }
            _ => s.to_text(),
        };
        RejectText {
            text,
            wrapped: true,
            unicode: matches!(s, crate::policy::PyStr::Text(_)),
        }
    }
}

/// Ends a step: the outcome Mailman's exception would carry.
pub(crate) enum Stop {
    /// The hold reason as the handler words it (before wrapping).
    Hold(String),
    Reject(RejectText),
    Discard,
    /// A handler would raise something Mailman does not catch.
    Shunt(String),
    /// The engine cannot tell what the handler would do: why.
    Undecided(String),
}

/// Whether the pipeline goes on after a step.
pub(crate) type StepResult = Result<(), Stop>;

/// (display name, address) pairs as `getaddresses` returns them.
pub(crate) type Addresses = std::rc::Rc<Vec<(String, String)>>;

/// Each address text parsed in a verdict and its addresses (a message has
/// a few: inline).
pub(crate) type ParsedAddresses<'a> =
    smallvec::SmallVec<[(std::borrow::Cow<'a, str>, Addresses); 4]>;

/// Everything a step reads.
pub(crate) struct Ctx<'a> {
    pub policy: &'a ListPolicy,
    pub settings: &'a MailmanSettings,
    pub msg: &'a Message<'a>,
    pub kind: Kind,
    /// The unixfrom address token.
    pub unixfrom: Option<&'a str>,
    pub others: &'a dyn OtherLists,
    pub translations: &'a dyn Translations,
    pub trace: Vec<String>,
    pub caveats: Vec<String>,
    /// Approve succeeded: Moderate, Hold and Emergency are skipped.
    pub approved: bool,
    /// Build the trace (for `explain`); the MTA path does without.
    pub tracing: bool,
    /// Address lists already parsed for this message, by input text
    /// (several steps parse the same headers).
    pub parsed_addresses: std::cell::RefCell<ParsedAddresses<'a>>,
    /// [`Ctx::sender`], worked out once.
    pub sender: std::cell::OnceCell<std::rc::Rc<str>>,
    /// What DNS said about the From address's DMARC policy, if looked up.
    pub dmarc: Option<&'a crate::dmarc::DmarcAnswer>,
    /// The From address whose DMARC policy would decide, not looked up.
    pub dmarc_needed: Option<String>,
    /// Work all the patterns of this verdict may do together (compiling
    /// and matching); spent, the verdict is undecided.
    pub budget: crate::pyre::Budget,
    /// The sender's language, for `_()`.
    pub lang: text::Lang,
}

impl<'a> Ctx<'a> {
    /// Record a line that belongs to no step; only built when tracing.
    // Inlined: a verdict that is not traced pays one test per line, with
    // no copy of this function per caller's closure.
    #[inline(always)]
    pub fn say(&mut self, what: impl FnOnce() -> String) {
        if self.tracing {
            self.trace.push(what());
        }
    }

    /// Record a rule consulted; the text is only built when tracing.
    #[inline(always)]
    pub fn note<S: Into<String>>(&mut self, step: Step, what: impl FnOnce() -> S) {
        if self.tracing {
            self.record(step, what().into());
        }
    }

    #[cold]
    fn record(&mut self, step: Step, what: String) {
        self.trace.push(format!("{}: {what}", step.as_str()));
    }

    /// `email.Utils.getaddresses(values)`, parsed once per distinct input.
    #[cfg_attr(target_os = "linux", link_section = ".text.hot.mailman_gate_verdict")]
    pub fn addresses(&self, values: &[&'a str]) -> Addresses {
        // One value (the usual case) is its own key: no joined copy.
        match values {
            [one] => self.addresses_of((*one).into()),
            _ => self.addresses_of(values.join(", ").into()),
        }
    }

    /// [`Ctx::addresses`] of the values of the headers `names`, all of
    /// the first, then of the second, ... (a vector only for several).
    #[cfg_attr(target_os = "linux", link_section = ".text.hot.mailman_gate_verdict")]
    pub fn addresses_in(&self, names: &[&str]) -> Addresses {
        let msg: &'a Message<'a> = self.msg;
        let mut values = names.iter().flat_map(|n| msg.values(n));
        match (values.next(), values.next()) {
            (None, _) => self.addresses_of("".into()),
            (Some(one), None) => self.addresses_of(one.into()),
            _ => self.addresses(&msg.get_all_of(names)),
        }
    }

    /// `email.Utils.getaddresses([text])`, parsed once per distinct text;
    /// a text of the message itself is kept as the key without a copy.
    #[cfg_attr(target_os = "linux", link_section = ".text.hot.mailman_gate_verdict")]
    pub fn addresses_of(&self, text: std::borrow::Cow<'a, str>) -> Addresses {
        if let Some((_, hit)) = self
            .parsed_addresses
            .borrow()
            .iter()
            .find(|(k, _)| *k == text)
        {
            return hit.clone();
        }
        let parsed = std::rc::Rc::new(crate::message::getaddresses(&[text.as_ref()]));
        self.parsed_addresses
            .borrow_mut()
            .push((text, parsed.clone()));
        parsed
    }

    /// Mailman's `msg.get_senders()`: lower-cased addresses from the
    /// site's SENDER_HEADERS in order (None = the unixfrom address).
    #[cfg_attr(target_os = "linux", link_section = ".text.hot.mailman_gate_verdict")]
    pub fn senders(&self) -> smallvec::SmallVec<[String; 4]> {
        let mut out = smallvec::SmallVec::new();
        for h in &self.settings.sender_headers {
            match h {
                SenderHeader::Envelope => {
                    if let Some(u) = self.unixfrom {
                        out.push(u.to_ascii_lowercase());
                    }
                }
                SenderHeader::Header(name) => {
                    let msg: &'a Message<'a> = self.msg;
                    let mut values = msg.values(name);
                    let list = match (values.next(), values.next()) {
                        // No header: `getaddresses([])` is empty.
                        (None, _) => continue,
                        (Some(one), None) => self.addresses_of(join_lines(one)),
                        _ => {
                            let joined: Vec<_> = msg.values(name).map(join_lines).collect();
                            self.addresses_of(joined.join(", ").into())
                        }
                    };
                    out.extend(list.iter().map(|(_, addr)| addr.to_ascii_lowercase()));
                }
            }
        }
        out
    }

    /// Mailman's `msg.get_sender()`: the first address of the first From
    /// (or Sender, per USE_ENVELOPE_SENDER) header that has one, else the
    /// unixfrom address, lower-cased. Worked out once per message.
    #[cfg_attr(target_os = "linux", link_section = ".text.hot.mailman_gate_verdict")]
    pub fn sender(&self) -> std::rc::Rc<str> {
        self.sender.get_or_init(|| self.find_sender()).clone()
    }

    #[cfg_attr(target_os = "linux", link_section = ".text.hot.mailman_gate_verdict")]
    fn find_sender(&self) -> std::rc::Rc<str> {
        let order: [&str; 2] = if self.settings.use_envelope_sender {
            ["sender", "from"]
        } else {
            ["from", "sender"]
        };
        for h in order {
            let Some(value) = self.msg.get(h) else {
                continue;
            };
            if value.is_empty() {
                continue;
            }
            if let Some((_, addr)) = self.addresses_of(join_lines(value)).first() {
                if !addr.is_empty() {
                    return lowered(addr);
                }
            }
        }
        lowered(self.unixfrom.unwrap_or(""))
    }
}

/// `a` lower-cased, copied once (lowered only when it has capitals).
#[cfg_attr(target_os = "linux", link_section = ".text.hot.mailman_gate_verdict")]
fn lowered(a: &str) -> std::rc::Rc<str> {
    crate::address::ascii_lowercase(a).as_ref().into()
}

/// Python 2's `''.join(s.splitlines())` for a `str`.
#[cfg_attr(target_os = "linux", link_section = ".text.hot.mailman_gate_verdict")]
pub(crate) fn join_lines(s: &str) -> std::borrow::Cow<'_, str> {
    if memchr::memchr2(b'\r', b'\n', s.as_bytes()).is_some() {
        s.replace("\r\n", "").replace(['\r', '\n'], "").into()
    } else {
        s.into()
    }
}

/// What the decision consults beyond the list, the site's settings and
/// the message, all looked up by the caller: no path and no I/O error in
/// any of their signatures.
#[derive(Clone, Copy)]
pub struct Lookups<'a> {
    /// Other lists' membership, for `@list` entries.
    pub others: &'a dyn OtherLists,
    /// Mailman's translations, for `_()`.
    pub translations: &'a dyn Translations,
    /// What DNS said about the From address's DMARC policy, if the caller
    /// looked it up ([`crate::dmarc_lookup::lookup`]).
    pub dmarc: Option<&'a crate::dmarc::DmarcAnswer>,
}

/// What a verdict on this list consults, split and compiled into this
/// process's caches ahead of any post: the Hold step's
/// `bounce_matching_headers` and SpamDetect's `header_filter_rules`
/// (a warm-up verdict on a non-member post stops before Hold). A daemon
/// that does this before it forks leaves its connections only reading
/// those caches.
pub fn prepare(policy: &ListPolicy, settings: &MailmanSettings) {
    let budget = crate::pyre::Budget::verdict();
    hold::prepare(&policy.bounce_matching_headers, &budget);
    spam::prepare(policy, settings.normalize_form, &budget);
}

/// Decide what Mailman would do with `msg` sent to the list by `delivery`.
///
/// Also returns the address whose DMARC policy in DNS would decide when
/// `lookups.dmarc` does not answer for it (the verdict is then
/// undecided): the caller looks it up and decides again with the answer.
#[cfg_attr(target_os = "linux", link_section = ".text.hot.mailman_gate_verdict")]
pub fn decide(
    policy: &ListPolicy,
    settings: &MailmanSettings,
    msg: &Message,
    delivery: Delivery<'_>,
    lookups: Lookups<'_>,
) -> (Verdict, Option<String>) {
    let unixfrom = match delivery.envelope_sender {
        Some("") => Some("MAILER-DAEMON"),
        Some(s) => Some(s),
        None => msg.unixfrom_address(),
    };
    let mut ctx = Ctx {
        policy,
        settings,
        msg,
        kind: delivery.kind,
        unixfrom,
        others: lookups.others,
        translations: lookups.translations,
        trace: Vec::new(),
        caveats: Vec::new(),
        approved: false,
        tracing: delivery.trace,
        parsed_addresses: Default::default(),
        sender: Default::default(),
        dmarc: lookups.dmarc,
        dmarc_needed: None,
        budget: crate::pyre::Budget::verdict(),
        lang: text::Lang::english(),
    };
    if delivery.envelope_sender.is_none()
        && msg.unixfrom().is_some()
        && msg.unixfrom_address().is_none()
    {
        // Mailman's runner reads the sender from the unixfrom line before
        // any handler runs, and fails on one without an address.
        ctx.say(|| "the unixfrom line has no address: Mailman's runner fails".into());
        let mut v = Verdict {
            action: Action::Hold,
            step: None,
            reason: Some(
                "Mailman would shunt this message: its unixfrom line has no address".into(),
            ),
            notice: None,
            shunted: true,
            undecided: None,
            trace: ctx.trace,
            caveats: ctx.caveats,
        };
        v.trace.shrink_to_fit();
        return (v, None);
    }
    set_language(&mut ctx);
    let (result, step) = run(&mut ctx);
    let mut verdict = Verdict {
        action: Action::Accept,
        step: None,
        reason: None,
        notice: None,
        shunted: false,
        undecided: None,
        trace: std::mem::take(&mut ctx.trace),
        caveats: std::mem::take(&mut ctx.caveats),
    };
    if let Err(stop) = result {
        verdict.step = Some(step);
        match stop {
            Stop::Hold(reason) => {
                verdict.action = Action::Hold;
                verdict.reason = Some(ctx.lang.wrap(&reason));
            }
            Stop::Reject(r) => {
                let wrapped = if r.wrapped {
                    ctx.lang.wrap(&r.text)
                } else {
                    r.text.clone()
                };
                let notice = text::reject_notice(&wrapped);
                // The bounce is a MIMEText in the list's charset (email's
                // output charset: ISO-2022-JP for EUC-JP and Shift_JIS); a
                // `unicode` notice is encoded to it, strictly.
                let charset = match crate::i18n::charset(&policy.preferred_language) {
                    Some("euc-jp" | "shift_jis") => "iso-2022-jp",
                    Some(c) => c,
                    None => "us-ascii",
                };
                if let Some(why) =
                    bounce_fails(&ctx.lang, &notice, r.unicode, &policy.preferred_language)
                {
                    verdict.action = Action::Hold;
                    verdict.shunted = true;
                    verdict.reason = Some(format!("Mailman would shunt this message: {why}"));
                } else if r.unicode && text::encodable(&notice, charset) == Some(false) {
                    verdict.action = Action::Hold;
                    verdict.shunted = true;
                    verdict.reason = Some(format!(
                        "Mailman would shunt this message: its reject notice cannot be encoded in {charset}"
                    ));
                } else {
                    verdict.action = Action::Reject;
                    let mailed = mailed_notice(&ctx, &notice);
                    verdict.reason = Some(unwrap_notice(&mailed));
                    verdict.notice = Some(mailed);
                    if delivery.trace {
                        verdict.trace.push(format!(
                            "{}: the handler's text: {}",
                            step.as_str(),
                            r.text
                        ));
                    }
                }
            }
            Stop::Discard => verdict.action = Action::Discard,
            Stop::Shunt(why) => {
                verdict.action = Action::Hold;
                verdict.shunted = true;
                verdict.reason = Some(format!("Mailman would shunt this message: {why}"));
            }
            // Never a reason to refuse: the post goes on to Mailman.
            Stop::Undecided(why) => verdict.undecided = Some(why),
        }
    }
    (verdict, ctx.dmarc_needed.take())
}

/// A notice as one line per paragraph: the lines `Utils.wrap` made are
/// joined again with a space, blank lines separate paragraphs, trailing
/// blank lines go.
pub fn unwrap_notice(notice: &str) -> String {
    notice
        .split("\n\n")
        .map(|para| {
            para.split('\n')
                .map(str::trim_end)
                .filter(|l| !l.is_empty())
                .collect::<Vec<_>>()
                .join(" ")
        })
        .filter(|p| !p.is_empty())
        .collect::<Vec<_>>()
        .join("\n\n")
}

/// `MailList.BounceMessage`: the notice goes through `_()` once more, with
/// the sender and the subject in scope.
fn mailed_notice(ctx: &Ctx<'_>, notice: &str) -> String {
    let sender = ctx.sender();
    let subject = match ctx.msg.get("subject") {
        Some(s) => join_lines(s).into_owned(),
        None => "(no subject)".to_owned(),
    };
    let lookup = |key: &str| match key {
        "sender" => Some(sender.to_string()),
        "subject" => Some(subject.clone()),
        _ => None,
    };
    ctx.lang.tr(notice, &lookup)
}

/// `MailList.BounceMessage` puts the notice (bytes in the sender's
/// language's charset) into a MIMEText in the list's charset; for EUC-JP
/// and Shift_JIS lists `email` converts it to ISO-2022-JP, strictly: a
/// notice in another charset, or with a character ISO-2022-JP lacks, makes
/// Mailman fail (the message is shunted).
fn bounce_fails(lang: &text::Lang, notice: &str, unicode: bool, list_lang: &str) -> Option<String> {
    let list_cs = crate::i18n::charset(list_lang)?;
    if !matches!(list_cs, "euc-jp" | "shift_jis") || unicode {
        return None;
    }
    let (input, output) = (py::lookup(list_cs).ok()?, py::lookup("iso-2022-jp").ok()?);
    let own = py::lookup(lang.charset()).ok()?;
    let bytes = py::codec::encode_replace(notice, own);
    match py::codec::decode_strict(&bytes, input) {
        None => Some(format!(
            "its reject notice (in {}) is not {list_cs}, the list's charset",
            lang.charset()
        )),
        Some(t) if py::codec::encode(&t, output, py::Errors::Strict).is_err() => {
            Some("its reject notice has a character ISO-2022-JP lacks".to_owned())
        }
        Some(_) => None,
    }
}

/// `Runner._onefile`: the message is handled in the sender's language
/// (`getMemberLanguage`: a member's own, else the list's).
#[cfg_attr(target_os = "linux", link_section = ".text.hot.mailman_gate_verdict")]
fn set_language(ctx: &mut Ctx<'_>) {
    let sender = ctx.sender();
    let code = ctx.policy.member_language(&sender).to_owned();
    let translation = ctx.translations.translation(&code);
    match &translation {
        Translation::Missing(dir) if code != "en" => ctx.caveats.push(format!(
            "Mailman's catalogs are not under {dir}/messages (mailman_dir): texts are in \
             English, Mailman words them in {code}"
        )),
        Translation::Broken(why) => ctx.caveats.push(format!(
            "Mailman's catalog for {code} cannot be read ({why}): texts are in English"
        )),
        _ => {}
    }
    ctx.say(|| {
        format!(
            "language {code} (charset {})",
            crate::i18n::charset(&code).unwrap_or("?")
        )
    });
    ctx.lang = text::Lang { code, translation };
}

/// Run the pipeline for the address kind; on a stop, which step stopped.
#[cfg_attr(target_os = "linux", link_section = ".text.hot.mailman_gate_verdict")]
fn run(ctx: &mut Ctx<'_>) -> (StepResult, Step) {
    if let (Some(why), Kind::Post | Kind::Owner) = (ctx.msg.limit(), ctx.kind) {
        // The parsed tree stops at the limit: no step may judge it.
        let why = format!("the message is past a parser limit: {why}");
        return (Err(Stop::Undecided(why)), Step::SpamDetect);
    }
    match ctx.kind {
        Kind::Post => {}
        Kind::Owner => {
            ctx.note(Step::SpamDetect, || "owner pipeline: SpamDetect only");
            return (spam::process(ctx), Step::SpamDetect);
        }
        other => {
            ctx.say(|| {
                format!(
                    "-{} is a command or bounce address: Mailman does not moderate it",
                    other.as_str()
                )
            });
            return (Ok(()), Step::CalcRecips);
        }
    }
    let steps: std::borrow::Cow<'_, [Step]> = match &ctx.policy.pipeline {
        None => GLOBAL_PIPELINE[..].into(),
        Some(names) => {
            ctx.say(|| format!("the list's own pipeline: {names:?}"));
            let mut steps = Vec::new();
            for name in names {
                match step_named(name) {
                    Some(step) => steps.push(step),
                    None if QUIET_HANDLERS.contains(&name.as_str()) => {}
                    None => ctx.caveats.push(format!(
                        "the list's pipeline runs handler {name:?}, whose effect is not known"
                    )),
                }
            }
            steps.into()
        }
    };
    for &step in steps.iter() {
        let f: fn(&mut Ctx<'_>) -> StepResult = match step {
            Step::SpamDetect => spam::process,
            Step::Approve => approve::process,
            Step::Moderate => moderate::process,
            Step::Hold => hold::process,
            Step::MimeDel => mimedel::process,
            Step::Scrubber => scrubber,
            Step::Emergency => emergency,
            Step::CalcRecips => approve::urgent,
        };
        if let Err(stop) = f(ctx) {
            return (Err(stop), step);
        }
    }
    ctx.say(|| "accepted: no step held, rejected or discarded it".into());
    (Ok(()), Step::CalcRecips)
}

/// The deciding handlers of Mailman's GLOBAL_PIPELINE, in its order.
const GLOBAL_PIPELINE: [Step; 8] = [
    Step::SpamDetect,
    Step::Approve,
    Step::Moderate,
    Step::Hold,
    Step::MimeDel,
    Step::Scrubber,
    Step::Emergency,
    Step::CalcRecips,
];

/// Stock handlers that never hold, reject or discard a post.
const QUIET_HANDLERS: [&str; 18] = [
    "Replybot",
    "Tagger",
    "AvoidDuplicates",
    "Cleanse",
    "CleanseDKIM",
    "CookHeaders",
    "Decorate",
    "WrapMessage",
    "ToDigest",
    "ToArchive",
    "ToUsenet",
    "AfterDelivery",
    "Acknowledge",
    "ToOutgoing",
    "OwnerRecips",
    "FileRecips",
    "SMTPDirect",
    "Sendmail",
];

fn step_named(name: &str) -> Option<Step> {
    GLOBAL_PIPELINE.iter().copied().find(|s| s.as_str() == name)
}

/// Scrubber: with `scrub_nondigest` and ARCHIVE_HTML_SANITIZER 0, a
/// top-level text/html message is discarded.
#[cfg_attr(target_os = "linux", link_section = ".text.hot.mailman_gate_verdict")]
fn scrubber(ctx: &mut Ctx<'_>) -> StepResult {
    if ctx.policy.scrub_nondigest
        && ctx.settings.archive_html_sanitizer == 0
        && ctx.msg.content_type_is("text/html")
    {
        ctx.note(Step::Scrubber, || {
            "text/html message, scrub_nondigest, sanitizer 0: discard"
        });
        return Err(Stop::Discard);
    }
    Ok(())
}

/// Emergency: hold everything not approved by password.
#[cfg_attr(target_os = "linux", link_section = ".text.hot.mailman_gate_verdict")]
fn emergency(ctx: &mut Ctx<'_>) -> StepResult {
    if ctx.policy.emergency && !ctx.approved {
        ctx.note(Step::Emergency, || "emergency moderation is on");
        return Err(Stop::Hold(text::HOLD_EMERGENCY.into()));
    }
    Ok(())
}
