//! Compiled user patterns, cached for the life of the process, and
//! Mailman's `GetPattern` address matching.

use std::collections::HashMap;
use std::sync::{Arc, LazyLock};

use parking_lot::RwLock;

use crate::pyre::{Budget, CompileError, Flags, MatchError, PyRegex};

/// A cached pattern: programs in the cache are never freed (the cache only
/// grows, up to [`CACHE_BYTES`]), so it hands out plain references, and a
/// lookup writes no reference count: a process forked from a warm daemon
/// then reads the inherited programs without copying their pages.
type Cached = Result<&'static PyRegex, CompileError>;

/// Entries past this many are not cached (a hostile list cannot grow the
/// cache without bound); they are compiled at each use instead.
const CACHE_LIMIT: usize = 10_000;

/// Bytes of compiled programs all caches may hold together; past it new
/// patterns are compiled at each use (and paid for from the budget).
pub const CACHE_BYTES: usize = 16 << 20;

/// Keys come from the list's own settings, so a fast hash without
/// resistance to chosen keys will do (foldhash, fixed seed).
type Table = HashMap<String, Cached, foldhash::fast::FixedState>;

/// A compiled pattern: from the cache, or compiled for this use only.
#[derive(Debug, Clone)]
pub enum Regex {
    Cached(&'static PyRegex),
    Owned(Arc<PyRegex>),
}

impl std::ops::Deref for Regex {
    type Target = PyRegex;
    fn deref(&self) -> &PyRegex {
        match self {
            Regex::Cached(r) => r,
            Regex::Owned(r) => r,
        }
    }
}

/// One table per combination of flags, keyed by the pattern itself so a
/// lookup needs no allocation.
static CACHE: LazyLock<[RwLock<Table>; 8]> =
    LazyLock::new(|| std::array::from_fn(|_| RwLock::new(Table::default())));

/// Bytes held by all tables (patterns, programs and error texts).
static CACHED_BYTES: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);

fn flag_bits(f: Flags) -> usize {
    f.ignorecase as usize | (f.multiline as usize) << 1 | (f.unicode as usize) << 2
}

/// Insert into `cache` if there is room: the program is then kept for the
/// life of the process. Returns the pattern as the caller should use it.
fn remember(
    cache: &mut Table,
    pattern: &str,
    compiled: Result<PyRegex, CompileError>,
) -> Result<Regex, CompileError> {
    let bytes = pattern.len()
        + 64
        + match &compiled {
            Ok(re) => re.heap_bytes(),
            Err(e) => e.reason().len(),
        };
    let held = CACHED_BYTES.load(std::sync::atomic::Ordering::Relaxed);
    if cache.len() >= CACHE_LIMIT
        || held.saturating_add(bytes) > CACHE_BYTES
        || cache.contains_key(pattern)
    {
        return compiled.map(|re| Regex::Owned(Arc::new(re)));
    }
    CACHED_BYTES.fetch_add(bytes, std::sync::atomic::Ordering::Relaxed);
    let kept: Cached = compiled.map(|re| &*Box::leak(Box::new(re)));
    cache.insert(pattern.to_owned(), kept.clone());
    kept.map(Regex::Cached)
}

/// Why a pattern could not be used.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Unusable {
    /// Python rejects it (`re.error`): Mailman's invalid-pattern handling.
    Invalid(String),
    /// Python would use it but this engine cannot tell what it does
    /// (too large, an exception Mailman does not expect, budget spent).
    Undecided(String),
}

impl Unusable {
    fn of(e: CompileError) -> Unusable {
        match e {
            CompileError::Invalid(m) => Unusable::Invalid(m),
            other => Unusable::Undecided(other.to_string()),
        }
    }
}

/// `re.compile(pattern, flags)`, remembered; a compilation the cache
/// does not hold is paid for from `budget`.
#[cfg_attr(target_os = "linux", link_section = ".text.hot.mailman_gate_verdict")]
pub fn compile(pattern: &str, flags: Flags, budget: &Budget) -> Result<Regex, Unusable> {
    let table = &CACHE[flag_bits(flags)];
    // A lookup hashes the pattern: paid for too, so that a list of
    // millions of entries cannot loop for free.
    if budget.charge(4 + pattern.len() as u64 / 32).is_err() {
        return Err(Unusable::Undecided(MatchError::Budget.to_string()));
    }
    if let Some(hit) = table.read().get(pattern) {
        return hit.clone().map(Regex::Cached).map_err(Unusable::of);
    }
    let compiled = PyRegex::compile_in(pattern, flags, budget);
    if compiled.as_ref().err() == Some(&CompileError::Budget) {
        return Err(Unusable::Undecided(MatchError::Budget.to_string()));
    }
    remember(&mut table.write(), pattern, compiled).map_err(Unusable::of)
}

/// A pattern of a list setting split into its patterns once per text
/// (`bounce_matching_headers`, `header_filter_rules`), with the program
/// the cache holds for it, so that later verdicts skip the cache lookup.
/// One slot serves one set of flags (each setting has its own).
#[derive(Debug)]
pub struct Slot {
    pub pattern: String,
    cached: std::sync::OnceLock<&'static PyRegex>,
}

impl Slot {
    pub fn new(pattern: String) -> Slot {
        Slot {
            pattern,
            cached: std::sync::OnceLock::new(),
        }
    }

    pub fn as_str(&self) -> &str {
        &self.pattern
    }

    /// [`compile`] of the pattern with `flags` (always the same for one
    /// slot), remembered once the cache holds the program.
    #[cfg_attr(target_os = "linux", link_section = ".text.hot.mailman_gate_verdict")]
    pub fn compile(&self, flags: Flags, budget: &Budget) -> Result<Regex, Unusable> {
        if let Some(re) = self.cached.get() {
            return Ok(Regex::Cached(re));
        }
        let re = compile(&self.pattern, flags, budget)?;
        if let Regex::Cached(r) = re {
            let _ = self.cached.set(r);
        }
        Ok(re)
    }
}

/// Put a compiled pattern into the cache, as if [`compile`] had compiled
/// it, unless the cache holds it already or is full. `make` is called
/// only when the pattern is missing (a prepared pattern is read only when
/// it saves a compile); None from it leaves the pattern to [`compile`].
pub fn preload(
    pattern: &str,
    flags: Flags,
    make: impl FnOnce() -> Option<Result<PyRegex, CompileError>>,
) {
    let table = &CACHE[flag_bits(flags)];
    if table.read().contains_key(pattern) {
        return;
    }
    if let Some(compiled) = make() {
        let _ = remember(&mut table.write(), pattern, compiled);
    }
}

/// Every pattern a verdict on `policy` may compile, with its flags, as
/// the handlers pass them to [`compile`]: the `^` entries of the four
/// non-member lists, `acceptable_aliases`, the `bounce_matching_headers`
/// regexes and `header_filter_rules` (prepared for Mailman's default
/// `NORMALIZE_FORM`; a site with another form compiles those at first
/// use). The site's `KNOWN_SPAMMERS` are not the list's.
pub fn list_patterns(policy: &crate::policy::ListPolicy) -> Vec<(String, Flags)> {
    let mut out: Vec<(String, Flags)> = Vec::new();
    for list in [
        &policy.accept_these_nonmembers,
        &policy.hold_these_nonmembers,
        &policy.reject_these_nonmembers,
        &policy.discard_these_nonmembers,
    ] {
        for e in list.iter().filter(|e| e.starts_with('^')) {
            out.push((e.clone(), IGNORECASE));
        }
    }
    for alias in policy.acceptable_aliases.lines() {
        let alias = alias.trim();
        if !alias.is_empty() {
            out.push((alias.to_owned(), IGNORECASE));
        }
    }
    for line in policy.bounce_matching_headers.split('\n') {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        if let Some((_, value)) = line.split_once(':') {
            out.push((value.trim_start().to_owned(), IGNORECASE));
        }
    }
    if let Some(charset) = super::spam::list_charset(&policy.preferred_language) {
        let flags = Flags {
            ignorecase: true,
            multiline: true,
            unicode: true,
        };
        // Rules whose action is defer (0) are never searched.
        for rule in policy.header_filter_rules.iter().filter(|r| r.action != 0) {
            let form = crate::message::NormalForm::default();
            for p in super::spam::prepared_patterns(&rule.patterns, charset, form).iter() {
                out.push((p.pattern.clone(), flags));
            }
        }
    }
    out.sort_by(|a, b| (&a.0, flag_bits(a.1)).cmp(&(&b.0, flag_bits(b.1))));
    out.dedup();
    out
}

/// Bytes the pattern caches hold.
pub fn cached_bytes() -> usize {
    CACHED_BYTES.load(std::sync::atomic::Ordering::Relaxed)
}

/// `re.search`, spending from `budget`; `Err` is the reason the answer
/// cannot be known.
#[cfg_attr(target_os = "linux", link_section = ".text.hot.mailman_gate_verdict")]
pub fn search(re: &PyRegex, text: &str, budget: &Budget) -> Result<bool, String> {
    re.search_in(text, budget).map_err(|e| e.to_string())
}

/// `re.search` in a text whose line starts are known (see
/// [`PyRegex::search_lines_in`]), spending from `budget`.
#[cfg_attr(target_os = "linux", link_section = ".text.hot.mailman_gate_verdict")]
pub fn search_lines(
    re: &PyRegex,
    text: &str,
    line_starts: &[usize],
    budget: &Budget,
) -> Result<bool, String> {
    re.search_lines_in(text, line_starts, budget)
        .map_err(|e| e.to_string())
}

/// `re.match`, spending from `budget`.
pub fn match_start(re: &PyRegex, text: &str, budget: &Budget) -> Result<bool, String> {
    re.match_in(text, budget).map_err(|e| e.to_string())
}

pub const IGNORECASE: Flags = Flags {
    ignorecase: true,
    multiline: false,
    unicode: false,
};

/// The outcome of matching an address against a `*_these_nonmembers`-style list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PatternHit {
    /// No entry matched.
    None,
    /// This entry matched.
    Entry(String),
}

/// Why a pattern list could not be evaluated the way Mailman would.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PatternFailure {
    /// An `@list` entry names a list whose state cannot be read: Mailman
    /// raises and the message is shunted.
    OtherListUnreadable { list: String, why: String },
    /// A regex the engine could not evaluate (past a bound, budget spent).
    Undecided { pattern: String, why: String },
}

/// Membership in the other lists `@list` entries name.
pub trait OtherLists {
    /// `Ok(None)`: no such list. `Ok(Some(b))`: whether `address`
    /// (lower-cased) is a regular or digest member. `Err`: unreadable.
    fn is_member(&self, list: &str, address: &str) -> Result<Option<bool>, String>;
}

/// No other lists at all.
pub struct NoOtherLists;

impl OtherLists for NoOtherLists {
    fn is_member(&self, _list: &str, _address: &str) -> Result<Option<bool>, String> {
        Ok(None)
    }
}

/// Mailman's `MailList.GetPattern(email, entries, at_list)`: plain entries
/// first (case-insensitive), then `^regex` and, when `this_list` is given,
/// `@list` entries in order. `notes` collects what was skipped and why.
pub fn get_pattern(
    email: &str,
    budget: &Budget,
    entries: &[String],
    this_list: Option<&str>,
    others: &dyn OtherLists,
    notes: &mut Vec<String>,
) -> Result<PatternHit, PatternFailure> {
    let lower = email.to_ascii_lowercase();
    for entry in entries {
        let plain = entry.trim();
        if plain.is_empty() || entry.starts_with('^') || entry.starts_with('@') {
            continue;
        }
        if plain.eq_ignore_ascii_case(&lower) {
            return Ok(PatternHit::Entry(entry.clone()));
        }
    }
    for entry in entries {
        if entry.starts_with('^') {
            match compile(entry, IGNORECASE, budget) {
                Ok(re) => match search(&re, email, budget) {
                    Ok(true) => return Ok(PatternHit::Entry(entry.clone())),
                    Ok(false) => {}
                    Err(why) => {
                        return Err(PatternFailure::Undecided {
                            pattern: entry.clone(),
                            why,
                        })
                    }
                },
                Err(Unusable::Invalid(e)) => {
                    notes.push(format!("bad regexp {entry:?} skipped: {e}"))
                }
                Err(Unusable::Undecided(why)) => {
                    return Err(PatternFailure::Undecided {
                        pattern: entry.clone(),
                        why,
                    })
                }
            }
        } else if let (Some(this), Some(name)) = (this_list, entry.strip_prefix('@')) {
            let name = name.to_lowercase();
            let name = name.trim();
            if name == this {
                notes.push(format!("{entry:?} references this list: skipped"));
                continue;
            }
            match others.is_member(name, &lower) {
                Ok(Some(true)) => return Ok(PatternHit::Entry(entry.clone())),
                Ok(Some(false)) => {}
                Ok(None) => notes.push(format!("{entry:?}: no such list, skipped")),
                Err(why) => {
                    return Err(PatternFailure::OtherListUnreadable {
                        list: name.to_owned(),
                        why,
                    })
                }
            }
        }
    }
    Ok(PatternHit::None)
}
