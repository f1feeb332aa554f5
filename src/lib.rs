//! mailman-gate: decide at SMTP time what GNU Mailman 2.1 would do with a
//! post, from the list's own `config.pck`, inside the MTA's process.
//!
//! Layers, from the disk up:
//! - [`pickle`]: a small, bounded reader for Python 2 pickles.
//! - [`policy`]: the typed list policy taken from a pickled `config.pck`.
//! - [`store`]: where lists live, name validation, `.last` fallback, cache.
//! - [`snapshot`] (on [`cdb`]): compiled per-list snapshots the MTA can read
//!   without access to `config.pck`; [`export`] keeps them current.
//! - [`address`]: the kinds of Mailman address and their suffixes (pure).
//! - [`route`]: `local_part@domain` to (list, address kind).
//! - [`site`]: site settings Mailman keeps in `mm_cfg.py`, from our config file.
//! - [`message`]: a message as Mailman's Python `email` package sees it.
//! - [`pyre`]: Python 2.7 `re` patterns (an `sre_compile` and `_sre.c` port) with a work budget.
//! - [`decide`]: the incoming pipeline, a pure function to a verdict.
//! - [`gate`]: site settings and the store together, as the edges use them.
//! - [`answer`]: a verdict (or a routing result) and the site's settings to
//!   an SMTP answer; pure, shared by every front end.
//! - [`ffi`], [`capi`], [`exim`]: the C boundary: the panic boundary and
//!   error codes, the C API for any MTA, and Exim's dlfunc and local_scan.
//! - [`milter`] (feature `milter`): the milter server for Postfix and
//!   Sendmail, on the same gate and answers.

pub mod address;
pub mod answer;
pub mod capi;
pub mod cdb;
pub mod crypt;
pub mod decide;
pub mod dmarc;
pub mod exim;
pub mod export;
mod ffi;
pub mod gate;
pub mod i18n;
pub mod message;
#[cfg(feature = "milter")]
pub mod milter;
pub mod mmcfg;
pub mod pickle;
pub mod policy;
pub mod py;
pub mod pyre;
pub mod settings;
pub mod site;
pub mod snapshot;
pub mod store;
