//! Who is subscribed: the members a list's `config.pck` names, in the
//! forms a lookup reads them from (a parsed map, one table of addresses
//! read from the pickle, or a snapshot).

use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::OnceLock;

use foldhash::fast::FixedState;

use super::option_bits;
/// One subscriber as the moderation step needs it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Member {
    /// In `digest_members` rather than `members`.
    pub digest: bool,
    /// The `user_options` bitfield (0 when absent).
    pub options: u32,
}

impl Member {
    pub fn is_moderated(&self) -> bool {
        self.options & option_bits::MODERATE != 0
    }
}

/// A membership table kept somewhere other than a parsed map (e.g. a
/// memory-mapped snapshot): looked up without loading it whole.
pub trait MemberSource: Send + Sync + std::fmt::Debug {
    /// The member with this lower-cased address.
    fn get(&self, lower_address: &str) -> Option<Member>;
    /// [`MemberSource::get`], or why the source cannot tell (e.g. a
    /// snapshot file changed in place under the reader).
    fn try_get(&self, lower_address: &str) -> Result<Option<Member>, String> {
        Ok(self.get(lower_address))
    }
    /// Every member, in no particular order.
    fn entries(&self) -> Vec<(String, Member)>;
}

/// The members of a list: regular and digest, keyed by lower-cased address.
#[derive(Debug, Clone)]
pub enum Members {
    Parsed(HashMap<String, Member>),
    /// As read from a `config.pck` (see [`MemberTable`]).
    Table(MemberTable),
    External(std::sync::Arc<dyn MemberSource>),
}

/// A hasher for tables keyed by what list members chose (their
/// addresses): foldhash, seeded per table from the OS's randomness so that
/// nobody can subscribe addresses that collide.
fn member_hasher() -> FixedState {
    use std::hash::BuildHasher;
    FixedState::with_seed(std::collections::hash_map::RandomState::new().hash_one(0u64))
}

/// Members as read from a `config.pck`: every address in one string, in
/// pickle order, and an index over them built on demand; the same for
/// `user_options` when it was not pickled in the members' key order.
///
/// A new process (each SMTP connection, without a snapshot) looks up one
/// to three addresses: a scan of the string costs it about a tenth of
/// what building an index does, so the first [`MemberTable::SCANS`]
/// lookups scan and the next one builds the index. A `HashMap<String,
/// Member>` cost an allocation and a SipHash per member, and a join of
/// `user_options` a random access per member: most of what a large
/// list's policy took to build after its parse.
#[derive(Debug, Clone, Default)]
pub struct MemberTable {
    pub(super) members: KeyTable<Member>,
    /// `user_options` by address, when the members' options could not be
    /// read side by side with them (then they are 0 in `members`).
    options: Option<KeyTable<u32>>,
}

impl MemberTable {
    /// Lookups answered by a scan before the index is built.
    pub const SCANS: usize = 4;

    /// Room for `members` addresses of `bytes` bytes in all.
    pub fn with_capacity(members: usize, bytes: usize) -> MemberTable {
        MemberTable {
            members: KeyTable::with_capacity(members, bytes),
            options: None,
        }
    }

    /// Adds a member; a later entry for the same address wins, as in a
    /// Python dict.
    pub fn push(&mut self, address: &str, member: Member) {
        self.members.push(address, member);
    }

    /// Takes each member's options from this `user_options` table (address
    /// → bits) at lookup time instead of from [`MemberTable::push`].
    pub(super) fn set_options(&mut self, options: KeyTable<u32>) {
        self.options = Some(options);
    }

    fn with_options(&self, address: &str, mut m: Member) -> Member {
        if let Some(o) = &self.options {
            m.options = o.get(address).unwrap_or(0);
        }
        m
    }

    #[cfg_attr(target_os = "linux", link_section = ".text.hot.mailman_gate_verdict")]
    pub fn get(&self, lower_address: &str) -> Option<Member> {
        let m = self.members.get(lower_address)?;
        Some(self.with_options(lower_address, m))
    }

    /// Number of distinct addresses.
    pub fn len(&self) -> usize {
        self.members.len()
    }

    pub fn is_empty(&self) -> bool {
        self.members.is_empty()
    }

    /// Every member once, with the value of its last entry.
    pub fn iter(&self) -> impl Iterator<Item = (&str, Member)> + '_ {
        self.members
            .iter()
            .map(|(a, m)| (a, self.with_options(a, m)))
    }
}

/// Strings in one buffer, in the order added, each with a value; found by
/// a scan for the first [`MemberTable::SCANS`] lookups, then by an index.
/// A string added twice is found with its last value.
pub(super) struct KeyTable<V> {
    /// The keys, one after the other.
    text: String,
    /// Where each key ends in `text` (it starts where the previous one
    /// ends), and its value.
    entries: Vec<(usize, V)>,
    lookups: AtomicUsize,
    /// Key → its last place in `entries`.
    index: OnceLock<(hashbrown::HashTable<u32>, FixedState)>,
}

/// The `i`-th key of a [`KeyTable`].
fn key_in<'a, V>(text: &'a str, entries: &[(usize, V)], i: usize) -> &'a str {
    let start = if i == 0 { 0 } else { entries[i - 1].0 };
    &text[start..entries[i].0]
}

impl<V> std::fmt::Debug for KeyTable<V> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "KeyTable({} entries)", self.entries.len())
    }
}

impl<V: Copy> Clone for KeyTable<V> {
    fn clone(&self) -> Self {
        KeyTable {
            text: self.text.clone(),
            entries: self.entries.clone(),
            lookups: AtomicUsize::new(self.lookups.load(Ordering::Relaxed)),
            index: self.index.clone(),
        }
    }
}

impl<V: Copy> Default for KeyTable<V> {
    fn default() -> Self {
        KeyTable::with_capacity(0, 0)
    }
}

impl<V: Copy> KeyTable<V> {
    pub(super) fn with_capacity(keys: usize, bytes: usize) -> Self {
        // The budget was charged for these copies; a big list's tables
        // fault in fewer, huge pages.
        let text = crate::pickle::huge_vec(bytes).unwrap_or_default();
        KeyTable {
            // Empty, hence valid UTF-8.
            text: String::from_utf8(text).unwrap_or_default(),
            entries: crate::pickle::huge_vec(keys).unwrap_or_default(),
            lookups: AtomicUsize::new(0),
            index: OnceLock::new(),
        }
    }

    fn key(&self, i: usize) -> &str {
        key_in(&self.text, &self.entries, i)
    }

    pub(super) fn push(&mut self, key: &str, value: V) {
        self.text.push_str(key);
        self.entries.push((self.text.len(), value));
        self.index = OnceLock::new();
    }

    fn index(&self) -> &(hashbrown::HashTable<u32>, FixedState) {
        self.index.get_or_init(|| {
            use hashbrown::hash_table::Entry;
            use std::hash::BuildHasher;
            let hasher = member_hasher();
            let (text, entries) = (&self.text, &self.entries);
            let n = entries.len().min(u32::MAX as usize);
            let mut table = hashbrown::HashTable::with_capacity(n);
            for i in 0..n {
                let key = key_in(text, entries, i);
                // One probe: found (a repeated key: keep the later place),
                // or the free slot it takes.
                match table.entry(
                    hasher.hash_one(key),
                    |&j: &u32| key_in(text, entries, j as usize) == key,
                    |&j: &u32| hasher.hash_one(key_in(text, entries, j as usize)),
                ) {
                    Entry::Occupied(mut e) => *e.get_mut() = i as u32,
                    Entry::Vacant(e) => {
                        e.insert(i as u32);
                    }
                }
            }
            (table, hasher)
        })
    }

    #[cfg_attr(target_os = "linux", link_section = ".text.hot.mailman_gate_verdict")]
    fn get(&self, key: &str) -> Option<V> {
        use std::hash::BuildHasher;
        if self.index.get().is_none()
            && self.lookups.fetch_add(1, Ordering::Relaxed) < MemberTable::SCANS
        {
            return self.scan(key);
        }
        let (table, hasher) = self.index();
        let &i = table.find(hasher.hash_one(key), |&i| self.key(i as usize) == key)?;
        Some(self.entries[i as usize].1)
    }

    /// The value at the last place of this key, by a scan from the end.
    fn scan(&self, key: &str) -> Option<V> {
        let want = key.as_bytes();
        let text = self.text.as_bytes();
        let mut end = self.text.len();
        for i in (0..self.entries.len()).rev() {
            let start = if i == 0 { 0 } else { self.entries[i - 1].0 };
            if end - start == want.len() && &text[start..end] == want {
                return Some(self.entries[i].1);
            }
            end = start;
        }
        None
    }

    fn len(&self) -> usize {
        self.index().0.len()
    }

    fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    fn iter(&self) -> impl Iterator<Item = (&str, V)> + '_ {
        let (table, _) = self.index();
        table
            .iter()
            .map(|&i| (self.key(i as usize), self.entries[i as usize].1))
    }
}

impl Members {
    #[cfg_attr(target_os = "linux", link_section = ".text.hot.mailman_gate_verdict")]
    pub fn get(&self, lower_address: &str) -> Option<Member> {
        match self {
            Members::Parsed(map) => map.get(lower_address).copied(),
            Members::Table(t) => t.get(lower_address),
            Members::External(src) => src.get(lower_address),
        }
    }
    /// [`Members::get`], or why the table cannot tell.
    #[cfg_attr(target_os = "linux", link_section = ".text.hot.mailman_gate_verdict")]
    pub fn try_get(&self, lower_address: &str) -> Result<Option<Member>, String> {
        match self {
            Members::Parsed(map) => Ok(map.get(lower_address).copied()),
            Members::Table(t) => Ok(t.get(lower_address)),
            Members::External(src) => src.try_get(lower_address),
        }
    }
    /// Every member, sorted by address.
    pub fn entries(&self) -> Vec<(String, Member)> {
        let mut all = match self {
            Members::Parsed(map) => map.iter().map(|(k, v)| (k.clone(), *v)).collect(),
            Members::Table(t) => t.iter().map(|(k, v)| (k.to_owned(), v)).collect(),
            Members::External(src) => src.entries(),
        };
        all.sort_by(|a, b| a.0.cmp(&b.0));
        all
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn member_table_finds_replaces_and_lists() {
        let m = |options| Member {
            digest: false,
            options,
        };
        let mut t = MemberTable::default();
        for i in 0..1000u32 {
            t.push(&format!("user{i}@example.com"), m(i));
        }
        t.push("user7@example.com", m(70));
        t.push("caf\u{e9}@example.com", m(1));
        t.push("", m(5));
        // The same answers from the scans (first lookups) and the index.
        for round in 0..3 {
            assert_eq!(t.get("user999@example.com"), Some(m(999)), "{round}");
            assert_eq!(t.get("user0@example.com"), Some(m(0)), "{round}");
            assert_eq!(t.get("user7@example.com"), Some(m(70)), "{round}");
            assert_eq!(t.get("caf\u{e9}@example.com"), Some(m(1)), "{round}");
            assert_eq!(t.get("user1000@example.com"), None, "{round}");
            assert_eq!(t.get("ser0@example.com"), None, "{round}");
            assert_eq!(t.get(""), Some(m(5)), "{round}");
        }
        assert!(t.members.index.get().is_some());
        assert_eq!(t.len(), 1002);
        let all: Vec<_> = t.iter().collect();
        assert_eq!(all.len(), 1002);
        assert!(all.contains(&("user7@example.com", m(70))));
        assert!(all.contains(&("caf\u{e9}@example.com", m(1))));
        assert!(!all.contains(&("user7@example.com", m(7))));
    }
}
