//! Memory for buffered messages: a cap per message and one for all the
//! messages being received at once, so that the milter's memory stays
//! bounded whatever the MTA sends. A message past either cap is not
//! decided (the MTA accepts it and Mailman decides, as always).

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

/// Bytes held by all buffers together, and the most they may hold.
#[derive(Debug)]
pub struct Budget {
    used: AtomicUsize,
    total: usize,
    per_message: usize,
}

impl Budget {
    pub fn new(per_message: usize, total: usize) -> Arc<Budget> {
        Arc::new(Budget {
            used: AtomicUsize::new(0),
            total,
            per_message,
        })
    }

    /// Bytes currently reserved by all buffers.
    pub fn used(&self) -> usize {
        self.used.load(Ordering::Relaxed)
    }

    pub fn per_message(&self) -> usize {
        self.per_message
    }

    pub fn total(&self) -> usize {
        self.total
    }

    fn reserve(&self, n: usize) -> bool {
        let mut cur = self.used.load(Ordering::Relaxed);
        loop {
            let Some(next) = cur.checked_add(n).filter(|&x| x <= self.total) else {
                return false;
            };
            match self
                .used
                .compare_exchange_weak(cur, next, Ordering::AcqRel, Ordering::Relaxed)
            {
                Ok(_) => return true,
                Err(now) => cur = now,
            }
        }
    }

    fn release(&self, n: usize) {
        self.used.fetch_sub(n, Ordering::AcqRel);
    }
}

/// Why a message could not be buffered.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Overflow {
    /// The message alone is larger than the per-message cap.
    Message,
    /// All messages being received together hold the whole budget.
    Total,
}

/// A growable byte buffer whose capacity is reserved in a [`Budget`]; the
/// reservation is given back when the buffer is dropped.
#[derive(Debug)]
pub struct Buffer {
    bytes: Vec<u8>,
    reserved: usize,
    budget: Arc<Budget>,
}

impl Buffer {
    pub fn new(budget: Arc<Budget>) -> Buffer {
        Buffer {
            bytes: Vec::new(),
            reserved: 0,
            budget,
        }
    }

    pub fn budget(&self) -> &Budget {
        &self.budget
    }

    pub fn as_slice(&self) -> &[u8] {
        &self.bytes
    }

    pub fn len(&self) -> usize {
        self.bytes.len()
    }

    pub fn is_empty(&self) -> bool {
        self.bytes.is_empty()
    }

    /// Append `data`, reserving capacity in the budget first; on overflow
    /// nothing is appended.
    pub fn extend(&mut self, data: &[u8]) -> Result<(), Overflow> {
        let need = self.bytes.len().saturating_add(data.len());
        if need > self.budget.per_message {
            return Err(Overflow::Message);
        }
        if need > self.reserved {
            // Grow geometrically (few reservations) but never past the cap.
            let want = need.max(self.reserved.saturating_mul(2)).max(4096);
            let want = want.min(self.budget.per_message);
            let extra = want - self.reserved;
            if !self.budget.reserve(extra) {
                return Err(Overflow::Total);
            }
            self.reserved = want;
            self.bytes.reserve_exact(want - self.bytes.len());
        }
        self.bytes.extend_from_slice(data);
        Ok(())
    }

    /// Empty the buffer and give its memory back.
    pub fn clear(&mut self) {
        self.bytes = Vec::new();
        self.budget.release(self.reserved);
        self.reserved = 0;
    }
}

impl Drop for Buffer {
    fn drop(&mut self) {
        self.budget.release(self.reserved);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn per_message_cap() {
        let b = Budget::new(10_000, 1 << 20);
        let mut buf = Buffer::new(b.clone());
        buf.extend(&[b'x'; 6000]).unwrap();
        assert_eq!(buf.extend(&[b'x'; 6000]), Err(Overflow::Message));
        assert_eq!(buf.len(), 6000);
        buf.extend(&[b'x'; 4000]).unwrap();
        assert!(b.used() <= 10_000);
        drop(buf);
        assert_eq!(b.used(), 0);
    }

    #[test]
    fn total_cap_is_shared_and_given_back() {
        let b = Budget::new(100_000, 150_000);
        let mut one = Buffer::new(b.clone());
        let mut two = Buffer::new(b.clone());
        one.extend(&vec![0; 90_000]).unwrap();
        assert_eq!(two.extend(&vec![0; 90_000]), Err(Overflow::Total));
        one.clear();
        assert_eq!(b.used(), 0);
        two.extend(&vec![0; 90_000]).unwrap();
        assert!(b.used() >= 90_000 && b.used() <= 150_000);
        drop(two);
        drop(one);
        assert_eq!(b.used(), 0);
    }
}
