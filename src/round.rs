//! Revalidation rounds: within one SMTP transaction (from the first list
//! recipient to the end of DATA) a thread looks at each list's files once.
//! The store revalidates its cached lists once per round; a snapshot
//! reuses its last member lookup within one.

use std::cell::Cell;
use std::sync::atomic::{AtomicU64, Ordering};

/// How long a round may reuse its validations (nanoseconds): a client
/// that waits longer than a second between RCPT and DATA gets its lists
/// looked at again.
const ROUND_MAX_AGE_NS: u64 = 1_000_000_000;

/// Most lists marked as revalidated in one round (a transaction names a
/// few; past this, a list is only `stat`ed again).
const ROUND_MARKS: usize = 64;

/// Blocks of round numbers handed to threads: each thread numbers its
/// rounds within its own block (upper 32 bits), so that beginning a round
/// writes only thread-local memory.
static ROUND_BLOCKS: AtomicU64 = AtomicU64::new(0);

/// A thread's rounds, in one thread-local block (what a round writes, in
/// a process forked from a warm daemon, is one copied page), with the
/// marks inline (marking writes no heap page).
struct Rounds {
    /// The current round (0: none).
    current: Cell<u64>,
    /// When it began ([`monotonic_ns`]).
    began_ns: Cell<u64>,
    /// The last round number this thread used (0: none yet).
    last: Cell<u64>,
    /// The round the marks are for, how many there are, and the marks:
    /// keys the store chooses (the address of a list's loaded state).
    marks_round: Cell<u64>,
    marks_len: Cell<usize>,
    marks: [Cell<usize>; ROUND_MARKS],
}

thread_local! {
    static ROUNDS: Rounds = const {
        Rounds {
            current: Cell::new(0),
            began_ns: Cell::new(0),
            last: Cell::new(0),
            marks_round: Cell::new(0),
            marks_len: Cell::new(0),
            marks: [const { Cell::new(0) }; ROUND_MARKS],
        }
    };
}

/// `CLOCK_MONOTONIC` in nanoseconds (what `Instant` reads), here rather
/// than through `Instant` so that the code a round runs stays together.
#[cfg_attr(target_os = "linux", link_section = ".text.hot.mailman_gate")]
fn monotonic_ns() -> u64 {
    let mut t = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: clock_gettime writes one timespec we own.
    if unsafe { libc::clock_gettime(libc::CLOCK_MONOTONIC, &mut t) } != 0 {
        return 0;
    }
    (t.tv_sec as u64)
        .saturating_mul(1_000_000_000)
        .saturating_add(t.tv_nsec as u64)
}

/// Begin a round on this thread: until [`end_round`] (or for at most one
/// second), each list is revalidated by one `stat` the first time it is
/// looked up, and taken from the cache without a `stat` after that. The
/// MTA edge calls this at the first list recipient of a transaction, so
/// that RCPT and DATA cost one `stat` per list between them.
#[cfg_attr(target_os = "linux", link_section = ".text.hot.mailman_gate")]
pub fn begin_round() {
    let now = monotonic_ns();
    // Closures that only call (here and below): `with` inlines into the
    // caller, whose code lies with the rest of the call's.
    ROUNDS.with(|r| begin_in(r, now));
}

#[cfg_attr(target_os = "linux", link_section = ".text.hot.mailman_gate")]
fn begin_in(r: &Rounds, now: u64) {
    let last = r.last.get();
    let mut n = last.wrapping_add(1);
    if last == 0 || n & 0xffff_ffff == 0 {
        n = (ROUND_BLOCKS.fetch_add(1, Ordering::Relaxed) + 1) << 32 | 1;
    }
    r.last.set(n);
    r.current.set(n);
    r.began_ns.set(now);
}

/// End this thread's round: every lookup `stat`s again.
#[cfg_attr(target_os = "linux", link_section = ".text.hot.mailman_gate")]
pub fn end_round() {
    ROUNDS.with(|r| r.current.set(0));
}

/// The current round of this thread, 0 if none (or too old). Round
/// numbers are never reused within a process.
#[cfg_attr(target_os = "linux", link_section = ".text.hot.mailman_gate")]
pub fn current() -> u64 {
    let (n, began) = ROUNDS.with(|r| (r.current.get(), r.began_ns.get()));
    if n != 0 && monotonic_ns().saturating_sub(began) <= ROUND_MAX_AGE_NS {
        n
    } else {
        0
    }
}

/// Whether `key` was marked in `round` on this thread.
#[cfg_attr(target_os = "linux", link_section = ".text.hot.mailman_gate")]
pub fn is_marked(round: u64, key: usize) -> bool {
    ROUNDS.with(|r| marked_in(r, round, key))
}

#[cfg_attr(target_os = "linux", link_section = ".text.hot.mailman_gate")]
fn marked_in(r: &Rounds, round: u64, key: usize) -> bool {
    round != 0
        && r.marks_round.get() == round
        && r.marks[..r.marks_len.get()].iter().any(|m| m.get() == key)
}

/// Mark `key` in `round` on this thread (a few keys per round: a linear
/// search is all it needs; past [`ROUND_MARKS`] nothing is kept).
#[cfg_attr(target_os = "linux", link_section = ".text.hot.mailman_gate")]
pub fn mark(round: u64, key: usize) {
    ROUNDS.with(|r| mark_in(r, round, key));
}

#[cfg_attr(target_os = "linux", link_section = ".text.hot.mailman_gate")]
fn mark_in(r: &Rounds, round: u64, key: usize) {
    if round == 0 || marked_in(r, round, key) {
        return;
    }
    if r.marks_round.get() != round {
        r.marks_round.set(round);
        r.marks_len.set(0);
    }
    let n = r.marks_len.get();
    if n < ROUND_MARKS {
        r.marks[n].set(key);
        r.marks_len.set(n + 1);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn marks_last_for_their_round() {
        begin_round();
        let r = current();
        assert_ne!(r, 0);
        assert!(!is_marked(r, 7));
        mark(r, 7);
        mark(r, 7);
        assert!(is_marked(r, 7));
        assert!(!is_marked(0, 7));
        end_round();
        assert_eq!(current(), 0);
        begin_round();
        let r2 = current();
        assert!(r2 > r);
        assert!(!is_marked(r2, 7));
        end_round();
    }
}
