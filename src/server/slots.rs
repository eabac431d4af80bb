//! Key-exchange slots: how many exchanges may be past req_DH_params at once, over the server
//! and per client address. A slot is taken where the expensive work starts (the first
//! req_DH_params of a connection's exchange: RSA-2048 and g^a) and given back when the
//! connection has no exchange in progress, or when its exchange misses the deadline. An
//! exchange that never gets past req_pq holds none, so stalled `req_pq_multi` connections
//! cannot lock anyone out (issue 14, item 1).

use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;

/// Exchanges past req_DH_params at once, by default.
pub const DEFAULT_MAX: usize = 256;
/// … of which one limited client address may hold (loopback is not limited by default).
pub const DEFAULT_PER_ADDRESS: usize = 16;

#[derive(Debug)]
pub struct HandshakeSlots {
    max: AtomicUsize,
    per_address: AtomicUsize,
    /// Slots taken, and those of each limited address (entries with none are removed, so the
    /// table holds at most `max` addresses).
    used: Mutex<(usize, HashMap<u128, usize>)>,
}

impl Default for HandshakeSlots {
    fn default() -> Self {
        HandshakeSlots {
            max: AtomicUsize::new(DEFAULT_MAX),
            per_address: AtomicUsize::new(DEFAULT_PER_ADDRESS),
            used: Mutex::default(),
        }
    }
}

impl HandshakeSlots {
    pub fn set_limits(&self, max: usize, per_address: usize) {
        self.max.store(max, Ordering::Relaxed);
        self.per_address.store(per_address, Ordering::Relaxed);
    }

    /// Takes a slot for an exchange, charged to `address` (the key of a limited client's
    /// address) if given. False when the server's or the address's slots are all taken.
    pub fn try_take(&self, address: Option<u128>) -> bool {
        let mut used = self.used.lock().unwrap_or_else(|p| p.into_inner());
        if used.0 >= self.max.load(Ordering::Relaxed) {
            return false;
        }
        if let Some(a) = address {
            let n = used.1.entry(a).or_default();
            if *n >= self.per_address.load(Ordering::Relaxed) {
                if *n == 0 {
                    used.1.remove(&a);
                }
                return false;
            }
            *n += 1;
        }
        used.0 += 1;
        true
    }

    /// Gives back a slot taken with `address`.
    pub fn release(&self, address: Option<u128>) {
        let mut used = self.used.lock().unwrap_or_else(|p| p.into_inner());
        used.0 = used.0.saturating_sub(1);
        if let Some(a) = address {
            if let Some(n) = used.1.get_mut(&a) {
                *n -= 1;
                if *n == 0 {
                    used.1.remove(&a);
                }
            }
        }
    }

    /// Slots taken and the server's bound.
    pub fn fill(&self) -> (usize, usize) {
        let used = self.used.lock().unwrap_or_else(|p| p.into_inner());
        (used.0, self.max.load(Ordering::Relaxed))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slots_are_bounded_over_the_server_and_per_address() {
        let s = HandshakeSlots::default();
        s.set_limits(5, 2);
        assert!(s.try_take(Some(1)) && s.try_take(Some(1)));
        assert!(!s.try_take(Some(1)), "the address has its two");
        assert!(s.try_take(Some(2)) && s.try_take(None) && s.try_take(None));
        assert!(!s.try_take(None), "the server has its five");
        assert_eq!(s.fill(), (5, 5));
        s.release(Some(1));
        assert!(s.try_take(Some(1)), "given back");
        for a in [Some(1), Some(1), Some(2), None, None] {
            s.release(a);
        }
        assert_eq!(s.fill(), (0, 5));
        assert!(s.used.lock().unwrap().1.is_empty(), "no empty entries kept");
    }
}
