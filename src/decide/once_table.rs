//! A table of values made once per key and kept for the process, read
//! without writing shared memory. The rules a list's settings split into
//! come back with every post; a lock would be written by every reader,
//! and in a process forked from a warm daemon that write copies the page
//! the lock is on (a page fault per connection). Each slot here is set
//! once, then only read. A table holds its slots in the library's data
//! (they are not all zero bytes): a few hundred per table; keys past
//! them are answered without being kept.

use std::hash::{BuildHasher, Hash};
use std::sync::OnceLock;

/// Slots tried from a key's hash before a value is made and not kept.
const MAX_PROBES: usize = 32;

pub(super) struct OnceTable<K, V, const N: usize> {
    /// Open addressing: (hash, key, value), each slot set at most once.
    slots: [OnceLock<(u64, K, V)>; N],
}

impl<K, V: Clone, const N: usize> OnceTable<K, V, N> {
    pub(super) const fn new() -> Self {
        OnceTable {
            slots: [const { OnceLock::new() }; N],
        }
    }

    /// The value kept for the key that `probe` stands for (`is_key` tells
    /// it), else made by `make` (key and value) and kept if a slot is free
    /// near its hash.
    pub(super) fn get_or<Q: Hash + ?Sized>(
        &self,
        probe: &Q,
        is_key: impl Fn(&K) -> bool,
        make: impl FnOnce() -> (K, V),
    ) -> V {
        let hash = foldhash::fast::FixedState::default().hash_one(probe);
        let slot = |k: usize| &self.slots[(hash as usize).wrapping_add(k) % N];
        for k in 0..MAX_PROBES.min(N) {
            match slot(k).get() {
                Some((h, key, v)) if *h == hash && is_key(key) => return v.clone(),
                Some(_) => continue,
                None => break,
            }
        }
        let (key, value) = make();
        let mut entry = (hash, key, value.clone());
        for k in 0..MAX_PROBES.min(N) {
            match slot(k).set(entry) {
                Ok(()) => break,
                Err(back) => {
                    // Taken meanwhile, maybe by the same key.
                    if let Some((h, key, v)) = slot(k).get() {
                        if *h == hash && is_key(key) {
                            return v.clone();
                        }
                    }
                    entry = back;
                }
            }
        }
        value
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_are_made_once_and_found_again() {
        static TABLE: OnceTable<String, usize, 8> = OnceTable::new();
        let made = std::cell::Cell::new(0);
        let get = |k: &str| {
            TABLE.get_or(
                k,
                |key| key == k,
                || {
                    made.set(made.get() + 1);
                    (k.to_owned(), k.len())
                },
            )
        };
        assert_eq!(get("abc"), 3);
        assert_eq!(get("abc"), 3);
        assert_eq!(made.get(), 1);
        // More keys than slots: all answered, the first ones kept.
        for i in 0..20 {
            assert_eq!(get(&"x".repeat(i + 10)), i + 10);
        }
        let before = made.get();
        assert_eq!(get("abc"), 3);
        assert_eq!(made.get(), before);
        assert_eq!(get(&"x".repeat(29)), 29);
        assert_eq!(made.get(), before + 1);
    }
}
