//! A table of values made once per key and kept for the process, read
//! without writing shared memory. The rules a list's settings split into
//! come back with every post; a lock would be written by every reader,
//! and in a process forked from a warm daemon that write copies the page
//! the lock is on (a page fault per connection). Each slot here is set
//! once, then only read. The slots are null pointers until set (the
//! table is zero bytes: no room in the library's file), a few hundred
//! per table; keys past them are answered without being kept.

use std::hash::{Hash, Hasher};
use std::sync::atomic::{AtomicPtr, Ordering};

/// Slots tried from a key's hash before a value is made and not kept.
const MAX_PROBES: usize = 32;

/// Bytes of a key hashed: its first ones and its length (keys that share
/// them only cost a comparison each).
const HASHED_BYTES: usize = 64;

/// The first [`HASHED_BYTES`] bytes written, 8 at a time (FxHash's
/// step), and the count of all: a few instructions inlined here instead
/// of a hasher's code elsewhere in the library (one more page for a
/// forked connection to fault in).
struct Fx(u64, usize);

impl Fx {
    fn add(&mut self, word: u64) {
        self.0 = (self.0.rotate_left(5) ^ word).wrapping_mul(0x517c_c1b7_2722_0a95);
    }
}

impl Hasher for Fx {
    fn write(&mut self, bytes: &[u8]) {
        let room = HASHED_BYTES.saturating_sub(self.1);
        let mut chunks = bytes[..bytes.len().min(room)].chunks_exact(8);
        for c in &mut chunks {
            self.add(u64::from_le_bytes(c.try_into().expect("8 bytes")));
        }
        let mut tail = [0u8; 8];
        let rest = chunks.remainder();
        if !rest.is_empty() {
            tail[..rest.len()].copy_from_slice(rest);
            self.add(u64::from_le_bytes(tail));
        }
        self.1 += bytes.len();
    }

    fn finish(&self) -> u64 {
        let mut h = Fx(self.0, 0);
        h.add(self.1 as u64);
        h.0
    }
}

pub(super) struct OnceTable<K, V, const N: usize> {
    /// Open addressing: null, or a (hash, key, value) set once and never
    /// freed.
    slots: [AtomicPtr<(u64, K, V)>; N],
    /// The table is shared as its keys and values are (an `AtomicPtr` is
    /// `Sync` whatever it points to).
    _entries: std::marker::PhantomData<(K, V)>,
}

/// A value from [`OnceTable::get_or`]: kept in the table for the process
/// (borrowed: reading it writes nothing, not even a reference count), or
/// made for this caller alone when no slot was free.
pub(super) enum Found<V: 'static> {
    Kept(&'static V),
    Made(V),
}

impl<V> std::ops::Deref for Found<V> {
    type Target = V;
    fn deref(&self) -> &V {
        match self {
            Found::Kept(v) => v,
            Found::Made(v) => v,
        }
    }
}

impl<K: Send + Sync + 'static, V: Send + Sync + 'static, const N: usize> OnceTable<K, V, N> {
    pub(super) const fn new() -> Self {
        OnceTable {
            slots: [const { AtomicPtr::new(std::ptr::null_mut()) }; N],
            _entries: std::marker::PhantomData,
        }
    }

    /// The entry in slot `k` from `hash`, if set.
    fn entry(&'static self, hash: u64, k: usize) -> Option<&'static (u64, K, V)> {
        let p = self.slots[(hash as usize).wrapping_add(k) % N].load(Ordering::Acquire);
        // SAFETY: a slot holds null or a pointer from `Box::into_raw`,
        // published with Release and never freed or changed after.
        unsafe { p.as_ref() }
    }

    /// The value kept for the key that `probe` stands for (`is_key` tells
    /// it), else made by `make` (key and value) and kept if a slot is free
    /// near its hash.
    pub(super) fn get_or<Q: Hash + ?Sized>(
        &'static self,
        probe: &Q,
        is_key: impl Fn(&K) -> bool,
        make: impl FnOnce() -> (K, V),
    ) -> Found<V> {
        let hash = {
            let mut h = Fx(0, 0);
            probe.hash(&mut h);
            h.finish()
        };
        for k in 0..MAX_PROBES.min(N) {
            match self.entry(hash, k) {
                Some((h, key, v)) if *h == hash && is_key(key) => return Found::Kept(v),
                Some(_) => continue,
                None => break,
            }
        }
        let (key, value) = make();
        let entry = Box::into_raw(Box::new((hash, key, value)));
        for k in 0..MAX_PROBES.min(N) {
            let slot = &self.slots[(hash as usize).wrapping_add(k) % N];
            match slot.compare_exchange(
                std::ptr::null_mut(),
                entry,
                Ordering::AcqRel,
                Ordering::Acquire,
            ) {
                // SAFETY: published: never freed or changed from now on.
                Ok(_) => return Found::Kept(unsafe { &(*entry).2 }),
                Err(other) => {
                    // SAFETY: as in `entry`.
                    let (h, key, v) = unsafe { &*other };
                    // Taken meanwhile, maybe by the same key.
                    if *h == hash && is_key(key) {
                        // SAFETY: `entry` is ours, never published.
                        drop(unsafe { Box::from_raw(entry) });
                        return Found::Kept(v);
                    }
                }
            }
        }
        // No free slot near the hash: not kept.
        // SAFETY: `entry` is ours, never published.
        Found::Made(unsafe { Box::from_raw(entry) }.2)
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
        assert_eq!(*get("abc"), 3);
        assert!(matches!(get("abc"), Found::Kept(3)));
        assert_eq!(made.get(), 1);
        // More keys than slots: all answered, the first ones kept.
        for i in 0..20 {
            assert_eq!(*get(&"x".repeat(i + 10)), i + 10);
        }
        let before = made.get();
        assert_eq!(*get("abc"), 3);
        assert_eq!(made.get(), before);
        assert!(matches!(get(&"x".repeat(29)), Found::Made(29)));
        assert_eq!(made.get(), before + 1);
    }

    #[test]
    fn threads_racing_for_one_key_agree() {
        static TABLE: OnceTable<u32, u32, 64> = OnceTable::new();
        // Addresses as numbers: only compared.
        let addr = |v: &u32| (v as *const u32).addr();
        let got: Vec<usize> = std::thread::scope(|s| {
            let hs: Vec<_> = (0..8)
                .map(|_| {
                    s.spawn(|| match TABLE.get_or(&7u32, |k| *k == 7, || (7, 7)) {
                        Found::Kept(v) => addr(v),
                        Found::Made(_) => 0,
                    })
                })
                .collect();
            hs.into_iter().map(|h| h.join().unwrap()).collect()
        });
        // Every racer got the one value kept.
        assert!(got.iter().all(|&p| p == got[0] && p != 0));
        let kept = TABLE.get_or(&7u32, |k| *k == 7, || unreachable!("kept"));
        assert_eq!(addr(&kept), got[0]);
    }
}
