//! The whole product behind one value: site settings plus the list store.
//! The CLI, the C API and the Exim entry points all go through it.

use std::path::Path;

use crate::address::Kind;
use crate::catalogs::Catalogs;
use crate::decide::{decide, Delivery, Lookups, Verdict};
use crate::dmarc::DmarcAnswer;
use crate::message::Message;
use crate::site::{ConfigError, Site};
use crate::store::Route;
use crate::store::{Store, StoreError};

mod smtp;

/// Site settings, the lists they point at and Mailman's catalogs.
pub struct Gate {
    pub site: Site,
    pub store: Store,
    /// Mailman's translation catalogs, read on first use.
    pub catalogs: Catalogs,
}

impl Gate {
    pub fn new(site: Site) -> Gate {
        let store = site.store();
        Gate::with_store(site, store)
    }

    /// The site's settings over a store opened elsewhere (its lists need
    /// not be where the site says).
    pub fn with_store(site: Site, store: Store) -> Gate {
        let catalogs = Catalogs::new(&site.mailman_dir);
        Gate {
            site,
            store,
            catalogs,
        }
    }

    /// Open with the configuration file at `path` (None: the default path,
    /// whose absence means Debian's defaults).
    pub fn open(path: Option<&Path>) -> Result<Gate, ConfigError> {
        Ok(Gate::new(Site::load(path)?))
    }

    /// Which Mailman address `local_part@domain` is, if any.
    pub fn route(&self, local_part: &str, domain: &str) -> Result<Option<Route>, StoreError> {
        self.store.route(local_part, domain)
    }

    /// What Mailman would do with `raw` (headers, blank line, body) sent to
    /// `list` at an address of `kind` by `envelope_sender` (`""`: the null
    /// sender; None: take the message's own `From ` line if any).
    ///
    /// The verdict carries the trace of every rule consulted.
    pub fn check(
        &self,
        list: &str,
        kind: Kind,
        envelope_sender: Option<&str>,
        raw: &[u8],
    ) -> Result<Verdict, StoreError> {
        self.check_with_trace(list, kind, envelope_sender, raw, true)
    }

    /// [`Gate::check`], building the trace only when `trace` is set (the
    /// MTA's calls do without).
    #[cfg_attr(target_os = "linux", link_section = ".text.hot.mailman_gate")]
    pub fn check_with_trace(
        &self,
        list: &str,
        kind: Kind,
        envelope_sender: Option<&str>,
        raw: &[u8],
        trace: bool,
    ) -> Result<Verdict, StoreError> {
        let loaded = self.store.load(list)?;
        let msg = Message::parse(raw);
        let delivery = Delivery {
            kind,
            envelope_sender,
            trace,
        };
        let lookups = Lookups {
            others: &self.store,
            translations: &self.catalogs,
            dmarc: None,
        };
        let (mut verdict, needs) =
            decide(&loaded.policy, &self.site.mailman, &msg, delivery, lookups);
        // The DMARC policy in DNS decides: look it up (only now, for the one
        // address that needs it) and decide again with the answer.
        if let Some(email) = needs.filter(|_| self.site.dmarc.lookup) {
            let answer = DmarcAnswer {
                result: crate::dmarc_lookup::lookup(&self.site.dmarc, &email),
                email,
            };
            let lookups = Lookups {
                dmarc: Some(&answer),
                ..lookups
            };
            verdict = decide(&loaded.policy, &self.site.mailman, &msg, delivery, lookups).0;
        }
        if let crate::store::Source::ConfigPckLast { why } = &loaded.source {
            verdict
                .trace
                .insert(0, format!("list state read from config.pck.last ({why})"));
        }
        if self.store.has_extend_py(list) {
            verdict.caveats.push(
                "the list has an extend.py, which can change any of Mailman's behaviour".into(),
            );
        }
        Ok(verdict)
    }
}

/// `@list` entries resolve through the same store (one level: the other
/// list's own non-member lists are not consulted). Here rather than in
/// `store`, so that the store does not depend on the decision.
impl crate::decide::OtherLists for crate::store::Store {
    fn is_member(&self, list: &str, address: &str) -> Result<Option<bool>, String> {
        if !self.exists(list) {
            return Ok(None);
        }
        let loaded = self.load(list).map_err(|e| e.to_string())?;
        Ok(Some(loaded.policy.try_member(address)?.is_some()))
    }
}
