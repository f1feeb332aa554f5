//! Compiled user patterns, cached for the life of the process, and
//! Mailman's `GetPattern` address matching.

use std::collections::HashMap;
use std::sync::{Arc, LazyLock};

use parking_lot::RwLock;

use crate::pyre::{Budget, CompileError, Flags, MatchError, PyRegex};

type Compiled = Result<Arc<PyRegex>, CompileError>;

/// Entries past this many are not cached (a hostile list cannot grow the
/// cache without bound); they are compiled at each use instead.
const CACHE_LIMIT: usize = 10_000;

/// Bytes of compiled programs all caches may hold together; past it new
/// patterns are compiled at each use (and paid for from the budget).
pub const CACHE_BYTES: usize = 16 << 20;

/// FNV-1a: patterns are short, and the cache is looked up several times
/// per verdict; SipHash's resistance to chosen keys is not needed for
/// keys that come from the list's own settings.
#[derive(Default)]
struct Fnv(u64);

impl std::hash::Hasher for Fnv {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        let mut h = if self.0 == 0 {
            0xcbf2_9ce4_8422_2325
        } else {
            self.0
        };
        for &b in bytes {
            h = (h ^ b as u64).wrapping_mul(0x0000_0100_0000_01b3);
        }
        self.0 = h;
    }
}

type Table = HashMap<String, Compiled, std::hash::BuildHasherDefault<Fnv>>;

/// One table per combination of flags, keyed by the pattern itself so a
/// lookup needs no allocation.
static CACHE: LazyLock<[RwLock<Table>; 8]> =
    LazyLock::new(|| std::array::from_fn(|_| RwLock::new(Table::default())));

/// Bytes held by all tables (patterns, programs and error texts).
static CACHED_BYTES: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);

fn flag_bits(f: Flags) -> usize {
    f.ignorecase as usize | (f.multiline as usize) << 1 | (f.unicode as usize) << 2
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
pub fn compile(pattern: &str, flags: Flags, budget: &Budget) -> Result<Arc<PyRegex>, Unusable> {
    let table = &CACHE[flag_bits(flags)];
    // A lookup hashes the pattern: paid for too, so that a list of
    // millions of entries cannot loop for free.
    if budget.charge(4 + pattern.len() as u64 / 32).is_err() {
        return Err(Unusable::Undecided(MatchError::Budget.to_string()));
    }
    if let Some(hit) = table.read().get(pattern) {
        return hit.clone().map_err(Unusable::of);
    }
    let compiled = PyRegex::compile_in(pattern, flags, budget).map(Arc::new);
    if compiled.as_ref().err() == Some(&CompileError::Budget) {
        return Err(Unusable::Undecided(MatchError::Budget.to_string()));
    }
    let bytes = pattern.len()
        + 64
        + match &compiled {
            Ok(re) => re.heap_bytes(),
            Err(e) => e.reason().len(),
        };
    let mut cache = table.write();
    let held = CACHED_BYTES.load(std::sync::atomic::Ordering::Relaxed);
    if cache.len() < CACHE_LIMIT && held.saturating_add(bytes) <= CACHE_BYTES {
        CACHED_BYTES.fetch_add(bytes, std::sync::atomic::Ordering::Relaxed);
        cache.insert(pattern.to_owned(), compiled.clone());
    }
    compiled.map_err(Unusable::of)
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
    let Some(compiled) = make() else { return };
    let compiled = compiled.map(Arc::new);
    let bytes = pattern.len()
        + 64
        + match &compiled {
            Ok(re) => re.heap_bytes(),
            Err(e) => e.reason().len(),
        };
    let mut cache = table.write();
    let held = CACHED_BYTES.load(std::sync::atomic::Ordering::Relaxed);
    if cache.len() < CACHE_LIMIT
        && held.saturating_add(bytes) <= CACHE_BYTES
        && !cache.contains_key(pattern)
    {
        CACHED_BYTES.fetch_add(bytes, std::sync::atomic::Ordering::Relaxed);
        cache.insert(pattern.to_owned(), compiled);
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
                out.push((p.clone(), flags));
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
pub fn search(re: &PyRegex, text: &str, budget: &Budget) -> Result<bool, String> {
    re.search_in(text, budget).map_err(|e| e.to_string())
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
