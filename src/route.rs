//! Which Mailman address, if any, `local_part@domain` is.
//!
//! Follows the Exim router of Mailman's installation manual: the local part
//! is lower-cased (Exim's default), the suffixes below are tried in this
//! order and the first that matches is removed (a `+*` suffix matches at
//! its leftmost occurrence), and the remainder must be an existing list.
//! So `dev-bounces+x-owner` is dev's bounce address and
//! `dev-confirm+abc-bounces+x` is no list address at all.

pub use crate::address::{split_suffix, Kind, ALL_KINDS};
use crate::store::{Layout, Store, StoreError};

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
