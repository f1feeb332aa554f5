//! SpamDetect: DMARC (`dmarc_moderation_addresses`, and the policy in DNS
//! as the caller looked it up), member verbosity (cannot be known),
//! KNOWN_SPAMMERS and header_filter_rules.

use super::once_table::{Found, OnceTable};
use super::patterns::{
    compile, get_pattern, search, search_lines, NoOtherLists, PatternHit, Slot, Unusable,
    IGNORECASE,
};
use super::{text, Ctx, RejectText, Step, StepResult, Stop};

use crate::address::Kind;
use crate::message::HeaderTextError;
use crate::py::{self, splitlines, PyStr};
use crate::pyre::Flags;

// mm_cfg action constants used by header_filter_rules.
const DEFER: i64 = 0;
const REJECT: i64 = 2;
const DISCARD: i64 = 3;
const ACCEPT: i64 = 6;
const HOLD: i64 = 7;

#[cfg_attr(target_os = "linux", link_section = ".text.hot.mailman_gate_verdict")]
pub(super) fn process(ctx: &mut Ctx<'_>) -> StepResult {
    if ctx.kind != Kind::Owner {
        dmarc(ctx)?;
        verbosity(ctx);
    }
    // A fresh post never arrives with the `approved` flag set.
    known_spammers(ctx)?;
    header_filter_rules(ctx)
}

#[cfg_attr(target_os = "linux", link_section = ".text.hot.mailman_gate_verdict")]
fn dmarc(ctx: &mut Ctx<'_>) -> StepResult {
    let p = ctx.policy;
    if p.dmarc_moderation_action <= 0 {
        return Ok(());
    }
    let from = ctx.msg.get("from").unwrap_or("");
    let (_, addr) = crate::message::parseaddr(from);
    if addr.is_empty() {
        return Ok(());
    }
    let mut notes = Vec::new();
    let listed = match get_pattern(
        &addr,
        &ctx.budget,
        &p.dmarc_moderation_addresses,
        None,
        &NoOtherLists,
        &mut notes,
    ) {
        Ok(hit) => hit != PatternHit::None,
        Err(e) => {
            return Err(Stop::Undecided(format!(
                "dmarc_moderation_addresses: {e:?}"
            )))
        }
    };
    for n in notes {
        ctx.note(Step::SpamDetect, || {
            format!("dmarc_moderation_addresses: {n}")
        });
    }
    if listed {
        ctx.note(Step::SpamDetect, || {
            format!(
                "DMARC: {addr} is in dmarc_moderation_addresses, action {}",
                p.dmarc_moderation_action
            )
        });
    } else {
        ctx.note(Step::SpamDetect, || {
            format!("DMARC: {addr} not in dmarc_moderation_addresses")
        });
        if !matches!(p.dmarc_moderation_action, 3 | 4) {
            // Munging or wrapping the From changes the post, not its fate.
            ctx.note(Step::SpamDetect, || {
                format!(
                    "DMARC: action {} lets the post go on whatever DNS says",
                    p.dmarc_moderation_action
                )
            });
            return Ok(());
        }
        if !dns_prohibits(ctx, &addr)? {
            return Ok(());
        }
    }
    match p.dmarc_moderation_action {
        3 => {
            let reject = if p.dmarc_moderation_notice.is_empty() {
                let owner = p.owner_address();
                RejectText::wrapped(ctx.lang.tr(text::DMARC_REJECT, &|k: &str| {
                    (k == "listowner").then(|| owner.clone())
                }))
            } else {
                RejectText::from_attr(&p.dmarc_moderation_notice, &ctx.lang)
            };
            Err(Stop::Reject(reject))
        }
        4 => Err(Stop::Discard),
        _ => Ok(()), // 1 and 2 munge or wrap the From; the post goes on.
    }
}

/// `Utils.IsDMARCProhibited(mlist, addr)` from the caller's DNS answer, with
/// the list's flags applied as `_DMARCProhibited` applies them.
fn dns_prohibits(ctx: &mut Ctx<'_>, addr: &str) -> Result<bool, Stop> {
    let p = ctx.policy;
    let answer = match ctx.dmarc {
        Some(a) if a.email == addr => a,
        _ => {
            ctx.dmarc_needed = Some(addr.to_owned());
            return Err(Stop::Undecided(format!(
                "DMARC: the policy {addr}'s domain publishes in DNS decides \
                 (dmarc_moderation_action {}); not looked up",
                p.dmarc_moderation_action
            )));
        }
    };
    use crate::dmarc::Found;
    match &answer.result {
        Err(why) => Err(Stop::Undecided(format!("DMARC lookup for {addr}: {why}"))),
        Ok(Found::NoRecord) => {
            ctx.note(Step::SpamDetect, || {
                format!("DMARC: no DMARC record for {addr}'s domain")
            });
            Ok(false)
        }
        Ok(Found::NotProhibited(why)) => {
            ctx.note(Step::SpamDetect, || format!("DMARC: {why}: not prohibited"));
            Ok(false)
        }
        Ok(Found::Policy { at, policy, record }) => {
            let word = policy.as_deref().unwrap_or("");
            let prohibited = word == "reject"
                || (p.dmarc_quarantine_moderation_action && word == "quarantine")
                || (p.dmarc_none_moderation_action
                    && p.dmarc_quarantine_moderation_action
                    && matches!(p.dmarc_moderation_action, 1 | 2)
                    && word == "none");
            ctx.note(Step::SpamDetect, || {
                format!(
                    "DMARC: {at} = {record:?}: policy {word:?}, {}",
                    if prohibited {
                        "prohibited"
                    } else {
                        "not prohibited"
                    }
                )
            });
            Ok(prohibited)
        }
    }
}

fn verbosity(ctx: &mut Ctx<'_>) {
    if ctx.policy.member_verbosity_threshold > 0 {
        ctx.caveats.push(format!(
            "member_verbosity_threshold is {}: Mailman moderates members who post more often \
             than that within {} s, which depends on its own recent history; not modelled",
            ctx.policy.member_verbosity_threshold, ctx.policy.member_verbosity_interval
        ));
    }
}

#[cfg_attr(target_os = "linux", link_section = ".text.hot.mailman_gate_verdict")]
fn known_spammers(ctx: &mut Ctx<'_>) -> StepResult {
    for (header, regex) in &ctx.settings.known_spammers {
        let re = match compile(regex, IGNORECASE, &ctx.budget) {
            Ok(re) => re,
            // Mailman's re.search raises: the handler fails.
            Err(Unusable::Invalid(e)) => {
                return Err(Stop::Shunt(format!("KNOWN_SPAMMERS regexp {regex:?}: {e}")))
            }
            Err(Unusable::Undecided(why)) => {
                return Err(Stop::Undecided(format!(
                    "KNOWN_SPAMMERS regexp {regex:?}: {why}"
                )))
            }
        };
        for value in ctx.msg.values(header) {
            match search(&re, value, &ctx.budget) {
                Ok(true) => {
                    ctx.note(Step::SpamDetect, || {
                        format!("KNOWN_SPAMMERS {header}: {regex} matched")
                    });
                    return Err(Stop::Discard);
                }
                Ok(false) => {}
                Err(why) => {
                    return Err(Stop::Undecided(format!(
                        "KNOWN_SPAMMERS regexp {regex:?}: {why}"
                    )))
                }
            }
        }
    }
    Ok(())
}

/// The list's charset, from its preferred language (Mailman's
/// LC_DESCRIPTIONS); Mailman fails on a language it does not know.
pub(super) fn list_charset(language: &str) -> Option<&'static str> {
    crate::i18n::charset(language)
}

/// `Utils.xml_to_unicode` for a `str` pattern line: `&#NNN;` and `\uXXXX`
/// escapes become the characters they name.
fn xml_to_unicode(line: &str) -> String {
    let mut out = String::with_capacity(line.len());
    let mut rest = line;
    while !rest.is_empty() {
        if let Some(r) = rest.strip_prefix("&#") {
            let digits = r.bytes().take_while(u8::is_ascii_digit).count();
            if digits > 0 && r[digits..].starts_with(';') {
                let ch = r[..digits]
                    .parse::<u32>()
                    .ok()
                    .and_then(char::from_u32)
                    .unwrap_or('\u{fffd}');
                out.push(ch);
                rest = &r[digits + 1..];
                continue;
            }
        }
        if rest.len() >= 6
            && rest.as_bytes()[0] == b'\\'
            && matches!(rest.as_bytes()[1], b'u' | b'U')
        {
            let hex = &rest[2..6];
            if hex.bytes().all(|b| b.is_ascii_hexdigit()) {
                let ch = u32::from_str_radix(hex, 16)
                    .ok()
                    .and_then(char::from_u32)
                    .unwrap_or('\u{fffd}');
                out.push(ch);
                rest = &rest[6..];
                continue;
            }
        }
        let c = rest.chars().next().expect("non-empty");
        out.push(c);
        rest = &rest[c.len_utf8()..];
    }
    out
}

/// `s.decode(charset, 'replace')` for a `str` pattern (a charset Python
/// does not know raises in Mailman too: `None`).
fn decode_str(b: &[u8], charset: &str) -> Option<String> {
    py::lookup(charset)
        .ok()
        .map(|c| py::codec::decode_replace(b, c))
}

/// The patterns of one rule as SpamDetect searches them: one per line,
/// without comments and blank lines, a `str` decoded with the list's
/// charset and its `&#nnn;`/`\\uXXXX` escapes resolved, normalised.
/// Remembered: the same rules come back with every post.
#[cfg_attr(target_os = "linux", link_section = ".text.hot.mailman_gate_verdict")]
pub(super) fn prepared_patterns(
    patterns: &PyStr,
    charset: &'static str,
    form: crate::message::NormalForm,
) -> Found<Vec<Slot>> {
    type Key = (PyStr, &'static str, crate::message::NormalForm);
    static KEPT: OnceTable<Key, Vec<Slot>, 512> = OnceTable::new();
    KEPT.get_or(
        &(patterns, charset, form),
        |k| k.0 == *patterns && k.1 == charset && k.2 == form,
        || {
            (
                (patterns.clone(), charset, form),
                split_patterns(patterns, charset, form),
            )
        },
    )
}

/// [`prepared_patterns`] made.
fn split_patterns(
    patterns: &PyStr,
    charset: &'static str,
    form: crate::message::NormalForm,
) -> Vec<Slot> {
    let (raw, unicode) = match patterns {
        PyStr::Text(t) => (t.clone(), true),
        PyStr::Bytes(b) => (py::latin1(b), false),
    };
    let mut out = Vec::new();
    for line in splitlines(&raw, unicode) {
        if line.starts_with('#') || line.trim().is_empty() {
            continue;
        }
        let pattern: String = match patterns {
            PyStr::Text(_) => line.to_owned(),
            PyStr::Bytes(_) => {
                let bytes: Vec<u8> = line.chars().map(|c| c as u32 as u8).collect();
                match decode_str(&bytes, charset) {
                    Some(t) => xml_to_unicode(&t),
                    None => py::latin1(&bytes),
                }
            }
        };
        out.push(Slot::new(form.apply(&pattern)));
    }
    out
}

/// The list's `header_filter_rules` split and compiled into this
/// process's caches, ahead of any post (see [`super::prepare`]).
pub(super) fn prepare(
    p: &crate::policy::ListPolicy,
    form: crate::message::NormalForm,
    budget: &crate::pyre::Budget,
) {
    let Some(charset) = list_charset(&p.preferred_language) else {
        return;
    };
    for rule in p.header_filter_rules.iter().filter(|r| r.action != DEFER) {
        for slot in prepared_patterns(&rule.patterns, charset, form).iter() {
            let _ = slot.compile(HEADER_FLAGS, budget);
        }
    }
}

/// The flags SpamDetect compiles `header_filter_rules` patterns with.
const HEADER_FLAGS: Flags = Flags {
    ignorecase: true,
    multiline: true,
    unicode: true,
};

#[cfg_attr(target_os = "linux", link_section = ".text.hot.mailman_gate_verdict")]
fn header_filter_rules(ctx: &mut Ctx<'_>) -> StepResult {
    let p = ctx.policy;
    if p.header_filter_rules.is_empty() {
        return Ok(());
    }
    let Some(charset) = list_charset(&p.preferred_language) else {
        return Err(Stop::Shunt(format!(
            "preferred_language {:?} is not in LC_DESCRIPTIONS",
            p.preferred_language
        )));
    };
    let form = ctx.settings.normalize_form;
    let headers = ctx.msg.header_filter_lines(form).map_err(|e| {
        Stop::Undecided(match e {
            HeaderTextError::Codec(codec) => {
                format!("an encoded word is in Python's {codec} codec, which is not decoded here")
            }
            HeaderTextError::NoMemory => "memory for the decoded header text was refused".into(),
        })
    })?;
    let flags = HEADER_FLAGS;
    // Python's `mo` outlives each search: an invalid pattern leaves the
    // previous result in place, and before any search it is unbound.
    let mut mo: Option<bool> = None;
    for (index, rule) in p.header_filter_rules.iter().enumerate() {
        if rule.action == DEFER {
            continue;
        }
        for slot in prepared_patterns(&rule.patterns, charset, form).iter() {
            let pattern = slot.as_str();
            match slot.compile(flags, &ctx.budget) {
                Ok(re) => match search_lines(&re, &headers.text, &headers.line_starts, &ctx.budget)
                {
                    Ok(m) => mo = Some(m),
                    Err(why) => {
                        return Err(Stop::Undecided(format!(
                            "header_filter_rules pattern {pattern:?}: {why}"
                        )))
                    }
                },
                Err(Unusable::Undecided(why)) => {
                    return Err(Stop::Undecided(format!(
                        "header_filter_rules pattern {pattern:?}: {why}"
                    )))
                }
                Err(Unusable::Invalid(e)) => {
                    ctx.note(Step::SpamDetect, || {
                        format!("rule {index}: invalid pattern {pattern:?} ignored: {e}")
                    });
                    if mo.is_none() {
                        return Err(Stop::Shunt(format!(
                            "the first header_filter_rules pattern evaluated is invalid ({pattern:?})"
                        )));
                    }
                }
            }
            if mo != Some(true) {
                ctx.note(Step::SpamDetect, || {
                    format!("rule {index}: {pattern:?} did not match")
                });
                continue;
            }
            ctx.note(Step::SpamDetect, || {
                format!("rule {index}: {pattern:?} matched, action {}", rule.action)
            });
            let owner = ctx.kind == Kind::Owner;
            match rule.action {
                DISCARD => return Err(Stop::Discard),
                REJECT if owner => return Err(Stop::Discard),
                REJECT => {
                    return Err(Stop::Reject(RejectText::plain(
                        ctx.lang.tr(text::FILTER_RULE_REJECT, &|_: &str| None),
                    )))
                }
                HOLD if owner => return Ok(()),
                HOLD => {
                    // `_()` puts the unicode pattern into the translation
                    // in its charset: characters it lacks become '?'.
                    let shown = ctx.lang.fit(pattern);
                    let lookup = |k: &str| (k == "pattern").then(|| shown.clone());
                    return Err(Stop::Hold(ctx.lang.tr(text::HOLD_HEADER_MATCH, &lookup)));
                }
                ACCEPT => return Ok(()),
                _ => {}
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn xml_escapes() {
        assert_eq!(xml_to_unicode("vi&#225;gra"), "viágra");
        assert_eq!(xml_to_unicode("vi\\u00e1gra"), "viágra");
        assert_eq!(xml_to_unicode("&#99999999;"), "\u{fffd}");
        assert_eq!(xml_to_unicode("a&#;b"), "a&#;b");
    }
}
