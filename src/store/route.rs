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
use crate::address::{ascii_lowercase, split_suffix, Route};

impl Store {
    /// Route `local_part@domain`. `Ok(None)`: not a list address. An error
    /// means the list's state, or whether it exists at all, could not be
    /// read.
    pub fn route(&self, local_part: &str, domain: &str) -> Result<Option<Route>, StoreError> {
        self.route_with(local_part, domain, |r| r.to_owned_route())
    }

    /// [`Store::route`], handing the route to `f` with its names borrowed
    /// (from the arguments and the cached list): nothing is allocated for
    /// a lower-case address of a list in the layout's plain form.
    #[cfg_attr(target_os = "linux", link_section = ".text.hot.mailman_gate")]
    pub fn route_with<R>(
        &self,
        local_part: &str,
        domain: &str,
        f: impl FnOnce(Route<&str>) -> R,
    ) -> Result<Option<R>, StoreError> {
        // Copied only when there is something to lower (rarely).
        let local_part = ascii_lowercase(local_part);
        let domain = ascii_lowercase(domain);
        let (base, kind) = split_suffix(&local_part);
        let Some(list) = self.find_list(base, &domain)? else {
            return Ok(None);
        };
        let loaded = self.load(&list)?;
        Ok(Some(f(Route {
            list: &list,
            kind,
            domain: &loaded.policy.host_name,
        })))
    }

    /// The internal name the router would find for this list part, if any.
    /// An error when the lists cannot be looked at (see [`Store::probe`]).
    #[cfg_attr(target_os = "linux", link_section = ".text.hot.mailman_gate")]
    fn find_list<'a>(
        &self,
        base: &'a str,
        domain: &str,
    ) -> Result<Option<Cow<'a, str>>, StoreError> {
        match self.layout() {
            Layout::Standard => Ok(self.probe(base)?.then_some(Cow::Borrowed(base))),
            Layout::Cpanel => {
                // cPanel names lists <list>_<domain>; its routers also take a
                // bare list name that holds '_' (or is "mailman") as is.
                let qualified = format!("{base}_{domain}");
                if !domain.is_empty() && self.probe(&qualified)? {
                    return Ok(Some(Cow::Owned(qualified)));
                }
                let bare = self.probe(base)?;
                Ok((bare && (base.contains('_') || base == "mailman"))
                    .then_some(Cow::Borrowed(base)))
            }
        }
    }
}
