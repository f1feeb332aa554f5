//! The kinds of Mailman address and the suffixes that name them, as the
//! Exim router of Mailman's installation manual tries them: the suffixes
//! below in this order, the first that matches removed (a `+*` suffix
//! matches at its leftmost occurrence). Pure: whether the remainder is a
//! list is the store's question (`Store::route`).

/// `s` with ASCII capitals lowered, copied only when it has any (the
/// usual address has none).
#[cfg_attr(target_os = "linux", link_section = ".text.hot.mailman_gate")]
pub fn ascii_lowercase(s: &str) -> std::borrow::Cow<'_, str> {
    if s.bytes().any(|b| b.is_ascii_uppercase()) {
        std::borrow::Cow::Owned(s.to_ascii_lowercase())
    } else {
        std::borrow::Cow::Borrowed(s)
    }
}

/// `local_part@domain` split at the last `@` (no `@`: no domain).
pub fn split_address(addr: &str) -> (&str, &str) {
    match addr.rfind('@') {
        Some(i) => (&addr[..i], &addr[i + 1..]),
        None => (addr, ""),
    }
}

/// A Mailman address: the list, the kind, the list's mail domain (what
/// [`crate::store::Store::route`] finds). `Route<&str>` borrows both
/// names (what [`crate::store::Store::route_with`] hands out, with no
/// allocation).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Route<S = String> {
    /// The list's internal name (directory name).
    pub list: S,
    pub kind: Kind,
    /// The list's `host_name`, its mail domain.
    pub domain: S,
}

impl Route<&str> {
    /// The route with its names copied.
    pub fn to_owned_route(self) -> Route {
        Route {
            list: self.list.to_owned(),
            kind: self.kind,
            domain: self.domain.to_owned(),
        }
    }
}

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
    #[cfg_attr(target_os = "linux", link_section = ".text.hot.mailman_gate")]
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

    #[cfg_attr(target_os = "linux", link_section = ".text.hot.mailman_gate")]
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
#[cfg_attr(target_os = "linux", link_section = ".text.hot.mailman_gate")]
pub fn split_suffix(local_part: &str) -> (&str, Kind) {
    for (suffix, wildcard, kind) in SUFFIXES {
        let base = if wildcard {
            // A plain window search: local parts are short, and str::find's
            // two-way searcher is more code for a new process to fault in.
            local_part
                .as_bytes()
                .windows(suffix.len())
                .position(|w| w == suffix.as_bytes())
                .map(|i| &local_part[..i])
        } else {
            local_part.strip_suffix(suffix)
        };
        if let Some(base) = base {
            return (base, kind);
        }
    }
    (local_part, Kind::Post)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses_split_at_the_last_at() {
        assert_eq!(split_address("a@b@c.example"), ("a@b", "c.example"));
        assert_eq!(split_address("postmaster"), ("postmaster", ""));
    }
}
