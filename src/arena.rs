//! The crate's global allocator: the system's, except inside [`scope`],
//! where the thread that holds the scope takes small blocks from one
//! fixed region, one after the other.
//!
//! Why: a connection forked from a warm Exim daemon pays a page fault
//! (a page copied or zeroed, ~2 µs here) for every page it first writes.
//! `malloc` spreads a verdict's few dozen blocks over the arena header in
//! libc's data, its per-thread cache and free chunks wherever the daemon
//! left them: 6 to 8 pages written in each DATA call. From the region
//! they take one or two, in a range the daemon never wrote.
//!
//! The rules that keep it sound:
//! - One thread at a time holds the region (an atomic owner word); any
//!   other thread, and every block too large for what is left, gets the
//!   system allocator. Nothing waits.
//! - A block from the region is never reused while it lives: freeing it
//!   only counts it down. The region starts over, at the next
//!   scope, only when every block taken from it has been freed; a block
//!   that outlives its scope (a cache entry) keeps what follows it in use,
//!   and further scopes go on after it or fall back to the system.
//! - Any thread may free or grow a block from the region: it is told by
//!   its address. Growing one moves it (to the region only for the holder).
//!
//! `lib.rs` installs it (not under Miri, where the tests here call its
//! methods on regions of their own).

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::UnsafeCell;
use std::sync::atomic::{AtomicUsize, Ordering};

/// Bytes in the region: what a DATA call allocates for a usual post (the
/// message, its parse, the verdict; a few KiB) several times over. Pages
/// of it that are never written cost nothing.
pub const REGION_BYTES: usize = 64 * 1024;

/// The region and the words that keep it, on its first page: the first
/// block written writes them too (one page, not two).
#[repr(C, align(4096))]
struct Region {
    /// The holding thread's tag ([`thread_tag`]), 0 when free.
    owner: AtomicUsize,
    /// Offset in `bytes` of the first free byte; changed by the holder only.
    next: AtomicUsize,
    /// Blocks taken from the region and not yet freed.
    live: AtomicUsize,
    /// Allocations and reallocations asked for while held (from the region
    /// or not), for [`counts`]; changed by the holder only.
    allocs: AtomicUsize,
    reallocs: AtomicUsize,
    bytes: UnsafeCell<[u8; REGION_BYTES]>,
}

// SAFETY: the bytes are only reached through blocks handed out under the
// rules in the module documentation (one holder bumps; blocks never
// overlap); the rest are atomics.
unsafe impl Sync for Region {}

/// The crate's region (zero bytes in the library's file: `.bss`).
static REGION: Region = Region::new();

thread_local! {
    /// Its address tells threads apart (no destructor, no allocation).
    static TAG: u8 = const { 0 };
}

fn thread_tag() -> usize {
    TAG.with(|t| (t as *const u8).addr())
}

impl Region {
    const fn new() -> Region {
        Region {
            owner: AtomicUsize::new(0),
            next: AtomicUsize::new(0),
            live: AtomicUsize::new(0),
            allocs: AtomicUsize::new(0),
            reallocs: AtomicUsize::new(0),
            bytes: UnsafeCell::new([0; REGION_BYTES]),
        }
    }

    fn base(&self) -> usize {
        self.bytes.get().addr()
    }

    fn contains(&self, p: *mut u8) -> bool {
        // `addr`, not `as usize`: telling a block's owner exposes no
        // pointer's provenance (Miri checks every block freed).
        p.addr().wrapping_sub(self.base()) < REGION_BYTES
    }

    /// Whether this thread holds the region.
    #[inline]
    fn held_here(&self) -> bool {
        let owner = self.owner.load(Ordering::Relaxed);
        owner != 0 && owner == thread_tag()
    }

    /// A block of `layout`, if this thread holds the region and it fits;
    /// null otherwise. Counted as an allocation when held.
    #[cfg_attr(target_os = "linux", link_section = ".text.hot.mailman_gate_verdict")]
    fn take(&self, layout: Layout) -> *mut u8 {
        if !self.held_here() {
            return std::ptr::null_mut();
        }
        bump(&self.allocs);
        self.take_held(layout)
    }

    /// [`Region::take`] for the holder, not counted.
    fn take_held(&self, layout: Layout) -> *mut u8 {
        let next = self.next.load(Ordering::Relaxed);
        let start = (self.base() + next).next_multiple_of(layout.align()) - self.base();
        match start.checked_add(layout.size()) {
            Some(end) if end <= REGION_BYTES => {
                self.next.store(end, Ordering::Relaxed);
                self.live.fetch_add(1, Ordering::Relaxed);
                // SAFETY: `start..end` lies inside the region.
                unsafe { (self.bytes.get() as *mut u8).add(start) }
            }
            _ => std::ptr::null_mut(),
        }
    }

    /// Count a block of the region as freed.
    fn give_back(&self) {
        // Release: the block's last uses come before a restart that sees
        // the count at zero.
        self.live.fetch_sub(1, Ordering::Release);
    }

    /// Grow (or shrink) the block at `p` of `old` bytes to `new` in place:
    /// only the holder's last block can.
    fn resize_in_place(&self, p: *mut u8, old: usize, new: usize) -> bool {
        if !self.held_here() {
            return false;
        }
        let offset = p.addr() - self.base();
        if offset + old == self.next.load(Ordering::Relaxed) && offset + new <= REGION_BYTES {
            self.next.store(offset + new, Ordering::Relaxed);
            true
        } else {
            false
        }
    }

    /// See [`scope`].
    #[cfg_attr(target_os = "linux", link_section = ".text.hot.mailman_gate_verdict")]
    fn scope<R>(&self, f: impl FnOnce() -> R) -> R {
        let held = self
            .owner
            .compare_exchange(0, thread_tag(), Ordering::Acquire, Ordering::Relaxed)
            .is_ok();
        // Released on the way out, a panic included.
        struct Release<'a>(&'a Region, bool);
        impl Drop for Release<'_> {
            fn drop(&mut self) {
                if self.1 {
                    self.0.owner.store(0, Ordering::Release);
                }
            }
        }
        let _release = Release(self, held);
        // Acquire: every block freed was last used before this restart.
        if held && self.live.load(Ordering::Acquire) == 0 {
            self.next.store(0, Ordering::Relaxed);
        }
        f()
    }
}

/// Add one to a counter only the holder changes (no locked instruction).
fn bump(counter: &AtomicUsize) {
    counter.store(counter.load(Ordering::Relaxed) + 1, Ordering::Relaxed);
}

impl Region {
    /// [`GlobalAlloc::alloc`] over this region and the system's.
    #[inline]
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let p = self.take(layout);
        if p.is_null() {
            System.alloc(layout)
        } else {
            p
        }
    }

    #[inline]
    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        let p = self.take(layout);
        if p.is_null() {
            System.alloc_zeroed(layout)
        } else {
            // The region is reused: zero the block here.
            std::ptr::write_bytes(p, 0, layout.size());
            p
        }
    }

    #[inline]
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        if self.contains(ptr) {
            self.give_back();
        } else {
            System.dealloc(ptr, layout)
        }
    }

    #[inline]
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        let held = self.held_here();
        if held {
            bump(&self.reallocs);
        }
        if !self.contains(ptr) {
            return System.realloc(ptr, layout, new_size);
        }
        if held && self.resize_in_place(ptr, layout.size(), new_size) {
            return ptr;
        }
        // Moved: to the region's end for the holder, else to the system.
        // SAFETY: the caller guarantees `new_size` with this alignment is
        // a valid layout.
        let new_layout = Layout::from_size_align_unchecked(new_size, layout.align());
        let mut new = if held {
            self.take_held(new_layout)
        } else {
            std::ptr::null_mut()
        };
        if new.is_null() {
            new = System.alloc(new_layout);
        }
        if !new.is_null() {
            std::ptr::copy_nonoverlapping(ptr, new, layout.size().min(new_size));
            self.give_back();
        }
        new
    }
}

/// The allocator; see the module documentation.
pub struct ScopedArena;

// SAFETY: blocks from the region are disjoint, aligned and live until
// freed (the region restarts only when none lives); the rest is System's.
unsafe impl GlobalAlloc for ScopedArena {
    // Not inlined: with the crate's own allocator, LTO would copy these
    // into every allocating caller (20 KiB more hot code).
    #[inline(never)]
    #[cfg_attr(target_os = "linux", link_section = ".text.hot.mailman_gate_verdict")]
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        REGION.alloc(layout)
    }

    #[inline(never)]
    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        REGION.alloc_zeroed(layout)
    }

    #[inline(never)]
    #[cfg_attr(target_os = "linux", link_section = ".text.hot.mailman_gate_verdict")]
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        REGION.dealloc(ptr, layout)
    }

    #[inline(never)]
    #[cfg_attr(target_os = "linux", link_section = ".text.hot.mailman_gate_verdict")]
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        REGION.realloc(ptr, layout, new_size)
    }
}

/// Allocations and reallocations asked for inside scopes so far (counted
/// by the holder: a scope another thread held is not seen). For the
/// benchmarks.
pub fn counts() -> (usize, usize) {
    (
        REGION.allocs.load(Ordering::Relaxed),
        REGION.reallocs.load(Ordering::Relaxed),
    )
}

/// Run `f` with this thread holding the crate's region, if no other
/// thread holds it (otherwise `f` runs on the system allocator alone).
/// Nested scopes are the outer one.
#[inline]
pub fn scope<R>(f: impl FnOnce() -> R) -> R {
    REGION.scope(f)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn layout(size: usize, align: usize) -> Layout {
        Layout::from_size_align(size, align).unwrap()
    }

    #[test]
    fn blocks_come_one_after_the_other_and_the_region_restarts_when_all_are_freed() {
        static R: Region = Region::new();
        // Not held: nothing from the region.
        assert!(R.take(layout(8, 8)).is_null());
        let (a, b) = R.scope(|| (R.take(layout(10, 1)), R.take(layout(16, 16))));
        assert_eq!(a.addr(), R.base());
        assert_eq!(b.addr(), (R.base() + 10).next_multiple_of(16));
        assert_eq!(R.live.load(Ordering::Relaxed), 2);
        // One still lives: the next scope goes on after them.
        R.give_back();
        let c = R.scope(|| R.take(layout(1, 1)));
        assert_eq!(c.addr(), b.addr() + 16);
        // All freed: it starts over.
        R.give_back();
        R.give_back();
        let d = R.scope(|| R.take(layout(1, 1)));
        assert_eq!(d.addr(), R.base());
        // Too large for what is left: null (the system's then).
        R.scope(|| assert!(R.take(layout(REGION_BYTES, 1)).is_null()));
    }

    #[test]
    fn only_the_last_block_grows_in_place() {
        static R: Region = Region::new();
        R.scope(|| {
            let a = R.take(layout(8, 8));
            let b = R.take(layout(8, 8));
            assert!(!R.resize_in_place(a, 8, 16));
            assert!(R.resize_in_place(b, 8, 100));
            assert_eq!(R.take(layout(1, 1)).addr(), b.addr() + 100);
            assert!(!R.resize_in_place(b, 100, REGION_BYTES));
        });
        // Outside the scope nobody holds it.
        assert!(!R.resize_in_place(R.bytes.get() as *mut u8, 1, 2));
    }

    #[test]
    fn one_thread_holds_a_region_at_a_time() {
        static R: Region = Region::new();
        R.scope(|| {
            assert!(R.held_here());
            // Nested: still held, released only by the outer scope.
            R.scope(|| assert!(R.held_here()));
            assert!(R.held_here());
            std::thread::scope(|s| {
                s.spawn(|| R.scope(|| assert!(!R.held_here() && R.take(layout(1, 1)).is_null())));
            });
        });
        assert!(!R.held_here());
        // Released after a panic too.
        let _ = std::panic::catch_unwind(|| R.scope(|| panic!("inside")));
        assert_eq!(R.owner.load(Ordering::Relaxed), 0);
    }

    #[test]
    fn the_allocator_takes_grows_moves_and_zeroes_region_blocks() {
        // The allocator's methods on a region of the test's own (Miri,
        // which runs without the global allocator installed, checks them
        // here).
        static R: Region = Region::new();
        R.scope(|| {
            // SAFETY: layouts of non-zero size; each block used within
            // its size and freed once with its layout.
            unsafe {
                let l = layout(8, 8);
                let p = R.alloc(l);
                assert_eq!(p.addr(), R.base());
                p.write_bytes(7, 8);
                // The last block grows in place.
                let q = R.realloc(p, l, 64);
                assert_eq!(q, p);
                assert_eq!(*q.add(7), 7);
                // Not the last one any more: moved to the end, bytes kept.
                let other = R.alloc(l);
                let r = R.realloc(q, layout(64, 8), 128);
                assert_eq!(r.addr(), other.addr() + 8);
                assert_eq!(*r.add(7), 7);
                // Larger than the region: from the system, bytes kept.
                let big = R.realloc(r, layout(128, 8), REGION_BYTES * 2);
                assert!(!R.contains(big));
                assert_eq!(*big.add(7), 7);
                R.dealloc(big, layout(REGION_BYTES * 2, 8));
                other.write_bytes(9, 8);
                R.dealloc(other, l);
            }
        });
        // All freed: the next scope starts over, and a zeroed block over
        // bytes used before reads as zeroes.
        // SAFETY: as above.
        R.scope(|| unsafe {
            let z = R.alloc_zeroed(layout(4096, 8));
            assert_eq!(z.addr(), R.base());
            assert!((0..4096).all(|i| *z.add(i) == 0));
            R.dealloc(z, layout(4096, 8));
        });
        assert_eq!(R.live.load(Ordering::Relaxed), 0);
    }

    #[test]
    fn the_global_allocator_keeps_bytes_through_growth_moves_and_threads() {
        let moved = scope(|| {
            let mut v: Vec<u32> = Vec::with_capacity(4);
            for i in 0..30_000u32 {
                v.push(i);
            }
            // Past the region's size: moved to the system allocator.
            assert!(v.iter().copied().eq(0..30_000));
            let z = vec![0u8; 5000];
            assert!(z.iter().all(|&b| b == 0));
            #[repr(align(256))]
            struct A([u8; 3]);
            let a = Box::new(A([1, 2, 3]));
            assert_eq!(((&*a as *const A).addr() % 256, a.0), (0, [1, 2, 3]));
            String::from("outlives its scope")
        });
        let t = std::thread::spawn(move || {
            let mut m = moved;
            m.push_str(", grown and freed elsewhere");
            m
        });
        assert_eq!(
            t.join().unwrap(),
            "outlives its scope, grown and freed elsewhere"
        );
    }
}
