//! Which Mailman address, if any, `local_part@domain` is.
//!
//! Follows the Exim router of Mailman's installation manual: the local part
//! is lower-cased (Exim's default), the suffixes below are tried in this
//! order and the first that matches is removed (a `+*` suffix matches at
//! its leftmost occurrence), and the remainder must be an existing list.
//! So `dev-bounces+x-owner` is dev's bounce address and
//! `dev-confirm+abc-bounces+x` is no list address at all.

use crate::store::{Layout, Store, StoreError};

/// What a list address is for, from its suffix.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Kind {
    Post,
    Admin,
    Bounces,
    Confirm,
    Join,
    Leave,
    Owner,
    Request,
    Subscribe,
    Unsubscribe,
}

impl Kind {
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Post => "post",
            Kind::Admin => "admin",
            Kind::Bounces => "bounces",
            Kind::Confirm => "confirm",
            Kind::Join => "join",
            Kind::Leave => "leave",
            Kind::Owner => "owner",
            Kind::Request => "request",
            Kind::Subscribe => "subscribe",
            Kind::Unsubscribe => "unsubscribe",
        }
    }

    pub fn parse(s: &str) -> Option<Kind> {
        ALL_KINDS.iter().copied().find(|k| k.as_str() == s)
    }

    /// Posts go through moderation; owner mail through the owner pipeline;
    /// everything else is a command or a bounce that Mailman accepts.
    pub fn is_moderated(self) -> bool {
        matches!(self, Kind::Post | Kind::Owner)
    }
}

pub const ALL_KINDS: [Kind; 10] = [
    Kind::Post,
    Kind::Admin,
    Kind::Bounces,
    Kind::Confirm,
    Kind::Join,
    Kind::Leave,
    Kind::Owner,
    Kind::Request,
    Kind::Subscribe,
    Kind::Unsubscribe,
];

/// The router's `local_part_suffix` list, in its order. `true`: a `+*`
/// wildcard suffix.
const SUFFIXES: [(&str, bool, Kind); 11] = [
    ("-admin", false, Kind::Admin),
    ("-bounces", false, Kind::Bounces),
    ("-bounces+", true, Kind::Bounces),
    ("-confirm", false, Kind::Confirm),
    ("-confirm+", true, Kind::Confirm),
    ("-join", false, Kind::Join),
    ("-leave", false, Kind::Leave),
    ("-owner", false, Kind::Owner),
    ("-request", false, Kind::Request),
    ("-subscribe", false, Kind::Subscribe),
    ("-unsubscribe", false, Kind::Unsubscribe),
];

/// Split a lower-cased local part into (list part, kind) as the router does.
pub fn split_suffix(local_part: &str) -> (&str, Kind) {
    for (suffix, wildcard, kind) in SUFFIXES {
        let base = if wildcard {
            local_part.find(suffix).map(|i| &local_part[..i])
        } else {
            local_part.strip_suffix(suffix)
        };
        if let Some(base) = base {
            return (base, kind);
        }
    }
    (local_part, Kind::Post)
}

/// A Mailman address.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Route {
    /// The list's internal name (directory name).
    pub list: String,
    pub kind: Kind,
    /// The list's `host_name`, its mail domain.
    pub domain: String,
}

/// Route `local_part@domain`. `Ok(None)`: not a list address. An error
/// means the list's state, or whether it exists at all, could not be read.
pub fn route(store: &Store, local_part: &str, domain: &str) -> Result<Option<Route>, StoreError> {
    let local_part = local_part.to_ascii_lowercase();
    let domain = domain.to_ascii_lowercase();
    let (base, kind) = split_suffix(&local_part);
    let Some(list) = find_list(store, base, &domain)? else {
        return Ok(None);
    };
    let loaded = store.load(&list)?;
    let domain = loaded.policy.host_name.clone();
    Ok(Some(Route { list, kind, domain }))
}

/// The internal name the router would find for this list part, if any.
/// An error when the lists cannot be looked at (see [`Store::probe`]).
fn find_list(store: &Store, base: &str, domain: &str) -> Result<Option<String>, StoreError> {
    match store.layout() {
        Layout::Standard => Ok(store.probe(base)?.then(|| base.to_owned())),
        Layout::Cpanel => {
            // cPanel names lists <list>_<domain>; its routers also take a
            // bare list name that holds '_' (or is "mailman") as is.
            let qualified = format!("{base}_{domain}");
            if !domain.is_empty() && store.probe(&qualified)? {
                return Ok(Some(qualified));
            }
            let bare = store.probe(base)?;
            Ok((bare && (base.contains('_') || base == "mailman")).then(|| base.to_owned()))
        }
    }
}
