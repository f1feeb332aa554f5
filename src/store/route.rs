//! Which list, if any, `local_part@domain` is for: the address's kind and
//! suffix come from the pure [`crate::address`]; whether the remainder is
//! a list, and its internal name in the layout, is the store's to say.
//!
//! Follows the Exim router of Mailman's installation manual: the local part
//! is lower-cased (Exim's default), the suffix split off, and the remainder
//! must be an existing list. So `dev-bounces+x-owner` is dev's bounce
//! address and `dev-confirm+abc-bounces+x` is no list address at all.

use std::borrow::Cow;

use super::{Layout, Store, StoreError};
use crate::address::{split_suffix, Route};

fn ascii_lowercase(s: &str) -> Cow<'_, str> {
    if s.bytes().any(|b| b.is_ascii_uppercase()) {
        Cow::Owned(s.to_ascii_lowercase())
    } else {
        Cow::Borrowed(s)
    }
}

impl Store {
    /// Route `local_part@domain`. `Ok(None)`: not a list address. An error
    /// means the list's state, or whether it exists at all, could not be
    /// read.
    pub fn route(&self, local_part: &str, domain: &str) -> Result<Option<Route>, StoreError> {
        // Copied only when there is something to lower (rarely).
        let local_part = ascii_lowercase(local_part);
        let domain = ascii_lowercase(domain);
        let (base, kind) = split_suffix(&local_part);
        let Some(list) = self.find_list(base, &domain)? else {
            return Ok(None);
        };
        let loaded = self.load(&list)?;
        let domain = loaded.policy.host_name.clone();
        Ok(Some(Route { list, kind, domain }))
    }

    /// The internal name the router would find for this list part, if any.
    /// An error when the lists cannot be looked at (see [`Store::probe`]).
    fn find_list(&self, base: &str, domain: &str) -> Result<Option<String>, StoreError> {
        match self.layout() {
            Layout::Standard => Ok(self.probe(base)?.then(|| base.to_owned())),
            Layout::Cpanel => {
                // cPanel names lists <list>_<domain>; its routers also take a
                // bare list name that holds '_' (or is "mailman") as is.
                let qualified = format!("{base}_{domain}");
                if !domain.is_empty() && self.probe(&qualified)? {
                    return Ok(Some(qualified));
                }
                let bare = self.probe(base)?;
                Ok((bare && (base.contains('_') || base == "mailman")).then(|| base.to_owned()))
            }
        }
    }
}
