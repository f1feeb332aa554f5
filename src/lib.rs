//! mailman-gate: decide at SMTP time what GNU Mailman 2.1 would do with a
//! post, from the list's own `config.pck`, inside the MTA's process.
//!
//! For a Rust program, the crate root is the surface:
//!
//! ```no_run
//! use mailman_gate::{Action, Gate, Kind};
//!
//! let gate = Gate::open(None).expect("configuration");
//! if let Some(route) = gate.route("dev", "lists.example.org").expect("list files") {
//!     let raw = b"From: a@example.com\nSubject: hi\n\nhello\n";
//!     let verdict = gate.check(&route.list, route.kind, Some("a@example.com"), raw);
//!     if let Ok(v) = verdict {
//!         assert!(matches!(v.action, Action::Accept | Action::Hold | Action::Reject | Action::Discard));
//!         let _smtp = mailman_gate::answer::verdict_answer(&gate.site.answers, &v);
//!     }
//! }
//! # let _ = Kind::Post;
//! ```
//!
//! Layers, from the disk up:
//! - [`store`]: where lists live, name validation, routing an address to a
//!   list, `.last` fallback, cache.
//! - [`snapshot`]: compiled per-list snapshots the MTA can read without
//!   access to `config.pck`; [`mod@export`] keeps them current.
//! - [`policy`]: the typed list policy taken from a pickled `config.pck`.
//! - [`address`]: the kinds of Mailman address and their suffixes (pure).
//! - [`site`]: the configuration file over Mailman's `mm_cfg.py`, in three
//!   parts: [`settings`] (what the decision reads), the lists' location
//!   (for the store) and the answer policy (for [`answer`]).
//! - [`message`]: a message as Mailman's Python `email` package sees it.
//! - [`decide`]: the incoming pipeline, a pure function to a verdict;
//!   [`i18n`] gives it Mailman's catalogs, [`dmarc`] the DNS answer (both
//!   pure; [`catalogs`] and [`dmarc_lookup`] read the files and ask DNS,
//!   for [`gate`]).
//! - [`gate`]: site settings and the store together, as the edges use them
//!   (routing or checking, then asking [`answer`]).
//! - [`answer`]: a verdict (or a routing result) and the site's answer
//!   policy to an SMTP answer; pure (no gate, no store).
//!
//! The edges (`capi`: the C API, `exim`: Exim's dlfunc and local_scan,
//! `milter`) and the inner stages (`pickle`, `pyre`, `py`, `cdb`, `mmcfg`,
//! `crypt`) are not part of this surface: they are reachable, hidden from
//! the documentation, for the crate's own binaries, tests, benchmarks and
//! fuzz targets (docs/ARCHITECTURE.md says which uses which). The panic
//! boundary (`ffi`) is private.

pub mod address;
pub mod answer;
pub mod catalogs;
pub mod decide;
pub mod dmarc;
pub mod dmarc_lookup;
pub mod export;
pub mod gate;
pub mod i18n;
pub mod message;
pub mod policy;
pub mod settings;
pub mod site;
pub mod snapshot;
pub mod store;

// The edges: C symbols and the milter server.
#[doc(hidden)]
pub mod capi;
#[doc(hidden)]
pub mod exim;
mod ffi;
#[doc(hidden)]
#[cfg(feature = "milter")]
pub mod milter;
mod round;

// The allocator: the system's, with a region for a DATA call's blocks
// (see `arena`). Not under Miri, where every allocation of every test
// would run through it (its own tests call it directly there).
#[doc(hidden)]
pub mod arena;
#[cfg(not(miri))]
#[global_allocator]
static ALLOCATOR: arena::ScopedArena = arena::ScopedArena;

// Inner stages, reached by the cross-checks against CPython and the fuzz
// targets.
#[doc(hidden)]
pub mod cdb;
#[doc(hidden)]
pub mod crypt;
#[doc(hidden)]
pub mod mmcfg;
#[doc(hidden)]
pub mod pickle;
#[doc(hidden)]
pub mod py;
#[doc(hidden)]
pub mod pyre;

pub use address::Kind;
pub use answer::Answer;
pub use decide::{Action, Verdict};
pub use export::{export, ExportReport};
pub use gate::Gate;
pub use settings::MailmanSettings;
pub use site::{ConfigError, Site};
pub use snapshot::{open_snapshot, Snapshot};
pub use store::{Route, Store, StoreError};
