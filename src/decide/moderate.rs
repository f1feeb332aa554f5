//! Moderate: members (with equivalent domains) and their moderation flag,
//! then the four non-member lists and the generic non-member action.

use super::patterns::{get_pattern, PatternFailure, PatternHit};
use super::{text, Ctx, RejectText, Step, StepResult, Stop};

/// `Utils.check_eq_domains`: the same local part in the sibling domains of
/// the address's domain group.
pub(super) fn equivalent_addresses(address: &str, groups: &str) -> Vec<String> {
    if groups.is_empty() {
        return Vec::new();
    }
    let Some((local, domain)) = address.rsplit_once('@') else {
        return Vec::new();
    };
    let domain = domain.to_ascii_lowercase();
    let compact: String = groups
        .chars()
        .filter(|c| !c.is_ascii_whitespace())
        .collect();
    let compact = compact.to_ascii_lowercase();
    for group in compact.split(';') {
        let domains: Vec<&str> = group.split(',').collect();
        if domains.contains(&domain.as_str()) {
            return domains
                .iter()
                .filter(|d| **d != domain)
                .map(|d| format!("{local}@{d}"))
                .collect();
        }
    }
    Vec::new()
}

#[cfg_attr(target_os = "linux", link_section = ".text.hot.mailman_gate_verdict")]
pub(super) fn process(ctx: &mut Ctx<'_>) -> StepResult {
    if ctx.approved {
        ctx.note(Step::Moderate, || "skipped: approved");
        return Ok(());
    }
    let p = ctx.policy;
    let senders = ctx.senders();
    // A member table that cannot answer (a snapshot changed under the
    // reader) leaves the verdict undecided.
    let lookup = |address: &str| {
        p.try_member(address)
            .map_err(|why| Stop::Undecided(format!("member lookup of {address:?}: {why}")))
    };
    let mut chosen = None;
    'senders: for sender in &senders {
        if let Some(m) = lookup(sender)? {
            chosen = Some((std::borrow::Cow::Borrowed(sender.as_str()), m));
            break;
        }
        for variant in equivalent_addresses(sender, &p.equivalent_domains) {
            let variant = variant.to_ascii_lowercase();
            if let Some(m) = lookup(&variant)? {
                chosen = Some((variant.into(), m));
                break 'senders;
            }
        }
    }
    ctx.note(Step::Moderate, || format!("senders {senders:?}"));
    if let Some((member, m)) = chosen {
        let moderated = m.is_moderated();
        if !moderated {
            ctx.note(Step::Moderate, || {
                format!("{member} is an unmoderated member")
            });
            return Ok(());
        }
        ctx.note(Step::Moderate, || {
            format!(
                "{member} is a moderated member, member_moderation_action {}",
                p.member_moderation_action
            )
        });
        return match p.member_moderation_action {
            0 => Err(Stop::Hold(text::HOLD_MODERATED.into())),
            1 => {
                let notice = &p.member_moderation_notice;
                Err(Stop::Reject(if notice.is_empty() {
                    RejectText::plain(text::REJECTED)
                } else {
                    RejectText::from_attr(notice, &ctx.lang)
                }))
            }
            2 => Err(Stop::Discard),
            n => Err(Stop::Shunt(format!(
                "member_moderation_action {n} is not 0, 1 or 2"
            ))),
        };
    }
    let sender = ctx.sender();
    ctx.note(Step::Moderate, || {
        format!("no member among the senders; non-member {sender:?}")
    });
    let lists: [(&str, &Vec<String>); 4] = [
        ("accept_these_nonmembers", &p.accept_these_nonmembers),
        ("hold_these_nonmembers", &p.hold_these_nonmembers),
        ("reject_these_nonmembers", &p.reject_these_nonmembers),
        ("discard_these_nonmembers", &p.discard_these_nonmembers),
    ];
    for (i, (name, entries)) in lists.iter().enumerate() {
        let mut notes = Vec::new();
        let hit = get_pattern(
            &sender,
            &ctx.budget,
            entries,
            Some(&p.internal_name),
            ctx.others,
            &mut notes,
        );
        for n in notes {
            ctx.note(Step::Moderate, || format!("{name}: {n}"));
        }
        match hit {
            Ok(PatternHit::None) => ctx.note(Step::Moderate, || format!("{name}: no match")),
            Ok(PatternHit::Entry(entry)) => {
                ctx.note(Step::Moderate, || format!("{name}: {entry:?} matched"));
                return match i {
                    0 => Ok(()),
                    1 => Err(Stop::Hold(text::HOLD_NONMEMBER.into())),
                    2 => Err(reject_nonmember(ctx)),
                    _ => Err(Stop::Discard),
                };
            }
            // Mailman could read it; this process cannot: not a fact about Mailman.
            Err(PatternFailure::OtherListUnreadable { list, why }) => {
                return Err(Stop::Undecided(format!(
                    "{name}: list {list} cannot be read: {why}"
                )))
            }
            Err(PatternFailure::Undecided { pattern, why }) => {
                return Err(Stop::Undecided(format!(
                    "{name}: pattern {pattern:?} cannot be evaluated: {why}"
                )))
            }
        }
    }
    let action = p.generic_nonmember_action;
    ctx.note(Step::Moderate, || {
        format!("generic_nonmember_action {action}")
    });
    match action {
        0 | 4 => Ok(()),
        1 => Err(Stop::Hold(text::HOLD_NONMEMBER.into())),
        2 => Err(reject_nonmember(ctx)),
        3 => Err(Stop::Discard),
        n => Err(Stop::Shunt(format!(
            "generic_nonmember_action {n} is out of range"
        ))),
    }
}

/// Moderate's `do_reject`: the list's notice or the default, through
/// `_()` (`%(listowner)s`; a text Python cannot interpolate is kept as it
/// is), then wrapped.
fn reject_nonmember(ctx: &Ctx<'_>) -> Stop {
    let p = ctx.policy;
    let owner = p.owner_address();
    let lookup = |key: &str| (key == "listowner").then(|| owner.clone());
    let mut reject = if p.nonmember_rejection_notice.is_empty() {
        RejectText::wrapped(text::NONMEMBER_REJECT)
    } else {
        RejectText::from_attr(&p.nonmember_rejection_notice, &ctx.lang)
    };
    // `_(text)`: looked up in the sender's catalog, then interpolated.
    let tns = ctx.lang.gettext(&reject.text).to_owned();
    reject.text = text::interpolate(&tns, &lookup).unwrap_or(tns);
    Stop::Reject(reject)
}
