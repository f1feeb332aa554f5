//! Hold: administrivia, recipient count, explicit destination, suspicious
//! headers, body size, moderated newsgroup. The first hit holds.

use super::administrivia::is_administrivia;
use super::once_table::{Found, OnceTable};
use super::patterns::{compile, match_start, search, Slot, Unusable, IGNORECASE};
use super::{text, Ctx, Step, StepResult, Stop};
use crate::message::Message;

#[cfg_attr(target_os = "linux", link_section = ".text.hot.mailman_gate_verdict")]
pub(super) fn process(ctx: &mut Ctx<'_>) -> StepResult {
    if ctx.approved {
        ctx.note(Step::Hold, || "skipped: approved");
        return Ok(());
    }
    let p = ctx.policy;
    if p.administrivia && is_administrivia(ctx.msg, ctx.settings.mail_commands_max_lines) {
        ctx.note(Step::Hold, || "looks like a mail command");
        return Err(Stop::Hold(text::HOLD_ADMINISTRIVIA.into()));
    }
    if p.max_num_recipients > 0 {
        let count = ctx.addresses_in(&["to", "cc"]).len();
        ctx.note(Step::Hold, || {
            format!(
                "{count} To/Cc addresses, max_num_recipients {}",
                p.max_num_recipients
            )
        });
        if count as i64 >= p.max_num_recipients {
            return Err(Stop::Hold(text::HOLD_TOO_MANY_RECIPIENTS.into()));
        }
    }
    if p.require_explicit_destination && !has_explicit_destination(ctx)? {
        return Err(Stop::Hold(text::HOLD_IMPLICIT_DEST.into()));
    }
    if !p.bounce_matching_headers.is_empty() {
        if let Some(line) = matching_header(ctx)? {
            ctx.note(Step::Hold, || {
                format!("bounce_matching_headers line {line:?} matched")
            });
            return Err(Stop::Hold(text::HOLD_SUSPICIOUS.into()));
        }
    }
    if p.max_message_size > 0 {
        let size = body_size(ctx.msg);
        ctx.note(Step::Hold, || {
            format!(
                "body {size} bytes, max_message_size {} KB",
                p.max_message_size
            )
        });
        if size as f64 / 1024.0 > p.max_message_size as f64 {
            let limit = p.max_message_size.to_string();
            let size = size.to_string();
            let lookup = |k: &str| match k {
                "size" => Some(size.clone()),
                "limit" => Some(limit.clone()),
                _ => None,
            };
            return Err(Stop::Hold(ctx.lang.tr(text::HOLD_TOO_BIG, &lookup)));
        }
    }
    if p.gateway_to_news && p.news_moderation == 2 {
        ctx.note(Step::Hold, || "gated to a moderated newsgroup");
        return Err(Stop::Hold(text::HOLD_NEWSGROUP.into()));
    }
    Ok(())
}

/// `re.match(pattern, s, re.I)`, or of the escaped pattern when Python
/// would not compile it (Mailman's fallback for acceptable_aliases).
fn alias_matches(ctx: &Ctx<'_>, alias: &str, s: &str) -> Result<bool, Stop> {
    let undecided =
        |why: String| Stop::Undecided(format!("acceptable_aliases pattern {alias:?}: {why}"));
    match compile(alias, IGNORECASE, &ctx.budget) {
        Ok(re) => match_start(&re, s, &ctx.budget).map_err(undecided),
        Err(Unusable::Invalid(_)) => Ok(s
            .to_ascii_lowercase()
            .starts_with(&alias.to_ascii_lowercase())),
        Err(Unusable::Undecided(why)) => Err(undecided(why)),
    }
}

/// `s.lower() == lower` for ASCII lower-casing, without a copy.
fn lowered_eq(s: &str, lower: &str) -> bool {
    s.len() == lower.len()
        && s.bytes()
            .zip(lower.bytes())
            .all(|(a, b)| a.to_ascii_lowercase() == b)
}

/// `MailList.HasExplicitDest`.
fn has_explicit_destination(ctx: &mut Ctx<'_>) -> Result<bool, Stop> {
    let p = ctx.policy;
    let name = p.internal_name.as_str();
    let host = p.host_name.as_str();
    let addresses = ctx.addresses_in(&["to", "cc", "resent-to", "resent-cc"]);
    for (_, addr) in addresses.iter() {
        let local = addr.split('@').next().unwrap_or("");
        // `addr.lower() == listname + '@' + host`, compared in place.
        let full = addr.len() == name.len() + 1 + host.len()
            && addr.as_bytes()[name.len()] == b'@'
            && lowered_eq(&addr[..name.len()], name)
            && lowered_eq(&addr[name.len() + 1..], host);
        if lowered_eq(local, name) || full {
            ctx.note(Step::Hold, || {
                format!("explicit destination {}", addr.to_ascii_lowercase())
            });
            return Ok(true);
        }
    }
    if p.acceptable_aliases.trim().is_empty() {
        ctx.note(Step::Hold, || {
            format!(
                "no explicit destination among {:?}",
                addresses
                    .iter()
                    .map(|(_, a)| a.to_ascii_lowercase())
                    .collect::<Vec<_>>()
            )
        });
        return Ok(false);
    }
    let recips: Vec<(String, String)> = addresses
        .iter()
        .map(|(_, addr)| {
            let addr = addr.to_ascii_lowercase();
            let local = addr.split('@').next().unwrap_or("").to_owned();
            (addr, local)
        })
        .collect();
    for (addr, local) in &recips {
        for alias in p.acceptable_aliases.lines() {
            let alias = alias.trim();
            if alias.is_empty() {
                continue;
            }
            if (!alias.contains('@') && alias_matches(ctx, alias, local)?)
                || alias_matches(ctx, alias, addr)?
            {
                ctx.note(Step::Hold, || {
                    format!("{addr} matches acceptable alias {alias:?}")
                });
                return Ok(true);
            }
        }
    }
    ctx.note(Step::Hold, || {
        format!(
            "no explicit destination among {:?}",
            recips.iter().map(|r| &r.0).collect::<Vec<_>>()
        )
    });
    Ok(false)
}

/// One line of `bounce_matching_headers` that is not blank or a comment.
enum BounceLine {
    /// No colon: ignored (the line, for the trace).
    NoColon(String),
    /// The trimmed line, its header name and its regex.
    Rule {
        line: String,
        header: String,
        regex: Slot,
    },
}

/// `bounce_matching_headers` split into its rules, as `hasMatchingHeader`
/// splits it; remembered, since the same text comes back with every post.
#[cfg_attr(target_os = "linux", link_section = ".text.hot.mailman_gate_verdict")]
fn bounce_lines(text: &str) -> Found<Vec<BounceLine>> {
    static KEPT: OnceTable<String, Vec<BounceLine>, 256> = OnceTable::new();
    KEPT.get_or(
        text,
        |kept| kept == text,
        || {
            let mut lines = Vec::new();
            for raw in text.split('\n') {
                let line = raw.trim();
                if line.is_empty() || line.starts_with('#') {
                    continue;
                }
                lines.push(match line.split_once(':') {
                    None => BounceLine::NoColon(line.to_owned()),
                    Some((header, value)) => BounceLine::Rule {
                        line: line.to_owned(),
                        header: header.to_owned(),
                        regex: Slot::new(value.trim_start().to_owned()),
                    },
                });
            }
            (text.to_owned(), lines)
        },
    )
}

/// `bounce_matching_headers` split and its regexes compiled into this
/// process's caches, ahead of any post (see [`super::prepare`]).
pub(super) fn prepare(text: &str, budget: &crate::pyre::Budget) {
    for rule in bounce_lines(text).iter() {
        if let BounceLine::Rule { regex, .. } = rule {
            let _ = regex.compile(IGNORECASE, budget);
        }
    }
}

/// `MailList.hasMatchingHeader`: the first bounce_matching_headers line
/// whose regex is found in a value of its header.
fn matching_header(ctx: &mut Ctx<'_>) -> Result<Option<String>, Stop> {
    for rule in bounce_lines(&ctx.policy.bounce_matching_headers).iter() {
        let (line, header, slot) = match rule {
            BounceLine::NoColon(line) => {
                ctx.note(Step::Hold, || {
                    format!("bounce_matching_headers line {line:?} has no colon: ignored")
                });
                continue;
            }
            BounceLine::Rule {
                line,
                header,
                regex,
            } => (line, header.as_str(), regex),
        };
        let regex = slot.as_str();
        let re = match slot.compile(IGNORECASE, &ctx.budget) {
            Ok(re) => re,
            Err(Unusable::Invalid(e)) => {
                ctx.note(Step::Hold, || {
                    format!("bounce_matching_headers regexp {regex:?} invalid: {e}")
                });
                continue;
            }
            Err(Unusable::Undecided(why)) => {
                return Err(Stop::Undecided(format!(
                    "bounce_matching_headers regexp {regex:?}: {why}"
                )))
            }
        };
        for v in ctx.msg.values(header) {
            match search(&re, v, &ctx.budget) {
                Ok(true) => return Ok(Some(line.clone())),
                Ok(false) => {}
                Err(why) => {
                    return Err(Stop::Undecided(format!(
                        "bounce_matching_headers regexp {regex:?}: {why}"
                    )))
                }
            }
        }
    }
    Ok(None)
}

/// Hold.py's body size measure, in bytes.
#[cfg_attr(target_os = "linux", link_section = ".text.hot.mailman_gate_verdict")]
pub fn body_size(msg: &Message<'_>) -> usize {
    msg.walk()
        .map(|p| {
            let body = if p.is_multipart() {
                0
            } else {
                p.payload().len()
            };
            body + p.preamble().map_or(0, |b| b.len()) + p.epilogue().map_or(0, |b| b.len())
        })
        .sum()
}
