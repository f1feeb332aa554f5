//! Revalidation rounds: within one SMTP transaction (from the first list
//! recipient to the end of DATA) a thread looks at each list's files once.
//! The store revalidates its cached lists once per round; a snapshot
//! reuses its last member lookup within one.

use std::cell::Cell;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

/// How long a round may reuse its validations: a client that waits
/// longer between RCPT and DATA gets its lists looked at again.
const ROUND_MAX_AGE: Duration = Duration::from_secs(1);

/// Blocks of round numbers handed to threads: each thread numbers its
/// rounds within its own block (upper 32 bits), so that beginning a round
/// writes only thread-local memory.
static ROUND_BLOCKS: AtomicU64 = AtomicU64::new(0);

thread_local! {
    /// This thread's round and when it began.
    static ROUND: Cell<(u64, Option<Instant>)> = const { Cell::new((0, None)) };
    /// The last round number this thread used (0: none yet).
    static LAST_ROUND: Cell<u64> = const { Cell::new(0) };
}

/// Begin a round on this thread: until [`end_round`] (or for at most one
/// second), each list is revalidated by one `stat` the first time it is
/// looked up, and taken from the cache without a `stat` after that. The
/// MTA edge calls this at the first list recipient of a transaction, so
/// that RCPT and DATA cost one `stat` per list between them.
pub fn begin_round() {
    let n = LAST_ROUND.with(|last| {
        let mut n = last.get().wrapping_add(1);
        if last.get() == 0 || n & 0xffff_ffff == 0 {
            n = (ROUND_BLOCKS.fetch_add(1, Ordering::Relaxed) + 1) << 32 | 1;
        }
        last.set(n);
        n
    });
    ROUND.with(|r| r.set((n, Some(Instant::now()))));
}

/// End this thread's round: every lookup `stat`s again.
pub fn end_round() {
    ROUND.with(|r| r.set((0, None)));
}

/// The current round of this thread, 0 if none (or too old). Round
/// numbers are never reused within a process.
pub fn current() -> u64 {
    ROUND.with(|r| match r.get() {
        (n, Some(t)) if n != 0 && t.elapsed() <= ROUND_MAX_AGE => n,
        _ => 0,
    })
}
