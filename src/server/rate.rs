//! AB-4: a budget per client address for the key exchange's expensive steps, req_DH_params
//! (an RSA-2048 private operation and g^a) and set_client_DH_params (g_b^a), so that one
//! address cannot keep the CPU busy with 2048-bit work. A token bucket per address: `burst`
//! steps at once, refilled at `per_second`. IPv6 clients are counted per /64, the block one
//! subscriber usually holds. Sans-IO: the caller passes the time.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Mutex;

/// Addresses tracked at once. Past this, buckets that have refilled are dropped; if all are
/// still in use the new address goes unlimited (the global handshake cap still bounds the
/// work) rather than being refused for what other addresses did.
pub const MAX_TRACKED: usize = 65_536;

/// How many expensive handshake steps one address may start.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct HandshakeRate {
    /// Steps refilled per second (0: the burst is all an address ever gets).
    pub per_second: f64,
    /// Steps an address may take at once. A new key takes two.
    pub burst: f64,
}

impl HandshakeRate {
    /// `per_second` steps a second with a burst of four seconds' worth.
    pub fn per_second(per_second: u32) -> Self {
        HandshakeRate {
            per_second: f64::from(per_second),
            burst: f64::from(per_second) * 4.0,
        }
    }
}

#[derive(Debug, Clone, Copy)]
struct Bucket {
    tokens: f64,
    /// Seconds (Unix time) of the last refill.
    at: f64,
}

#[derive(Debug)]
pub struct AddressLimiter {
    rate: HandshakeRate,
    buckets: Mutex<HashMap<u128, Bucket>>,
}

/// The key an IPv4 client is counted under (even), or the /64 of an IPv6 one (odd), so that
/// the two never collide.
pub(crate) fn address_key(ip: IpAddr) -> u128 {
    match ip.to_canonical() {
        IpAddr::V4(v4) => u128::from(v4.to_bits()) << 1,
        IpAddr::V6(v6) => v6.to_bits() & !u128::from(u64::MAX) | 1,
    }
}

fn seconds(now: (i64, u32)) -> f64 {
    now.0 as f64 + f64::from(now.1) / 1e9
}

impl AddressLimiter {
    pub fn new(rate: HandshakeRate) -> Self {
        AddressLimiter {
            rate,
            buckets: Mutex::new(HashMap::new()),
        }
    }

    fn refilled(&self, b: Bucket, t: f64) -> f64 {
        // A clock that went back refills nothing.
        (b.tokens + (t - b.at).max(0.0) * self.rate.per_second).min(self.rate.burst)
    }

    /// Takes one step from `ip`'s budget at `now`; false when it is spent.
    pub fn allow(&self, ip: IpAddr, now: (i64, u32)) -> bool {
        self.allow_weighted(ip, now, 1.0)
    }

    /// Takes `weight` steps (req_pq counts half a step, an exchange abandoned at its deadline
    /// two); false, taking nothing, when fewer are left.
    pub fn allow_weighted(&self, ip: IpAddr, now: (i64, u32), weight: f64) -> bool {
        let t = seconds(now);
        let key = address_key(ip);
        let mut buckets = self.buckets.lock().unwrap_or_else(|e| e.into_inner());
        if !buckets.contains_key(&key) && buckets.len() >= MAX_TRACKED {
            buckets.retain(|_, b| self.refilled(*b, t) < self.rate.burst);
            if buckets.len() >= MAX_TRACKED {
                tracing::warn!(%ip, "handshake rate table full; this address goes unlimited");
                return true;
            }
        }
        let bucket = buckets.entry(key).or_insert(Bucket {
            tokens: self.rate.burst,
            at: t,
        });
        bucket.tokens = self.refilled(*bucket, t);
        bucket.at = bucket.at.max(t);
        if bucket.tokens >= weight {
            bucket.tokens -= weight;
            true
        } else {
            false
        }
    }

    /// Takes `weight` steps whatever is left (down to an empty bucket): what an address has
    /// cost already, such as an exchange it abandoned.
    pub fn charge(&self, ip: IpAddr, now: (i64, u32), weight: f64) {
        if !self.allow_weighted(ip, now, weight) {
            let mut buckets = self.buckets.lock().unwrap_or_else(|e| e.into_inner());
            if let Some(b) = buckets.get_mut(&address_key(ip)) {
                b.tokens = 0.0;
            }
        }
    }

    /// Addresses tracked now.
    pub fn tracked(&self) -> usize {
        self.buckets.lock().unwrap_or_else(|e| e.into_inner()).len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOW: (i64, u32) = (1_700_000_000, 0);

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    fn later(secs: f64) -> (i64, u32) {
        let whole = secs.floor();
        (NOW.0 + whole as i64, ((secs - whole) * 1e9) as u32)
    }

    #[test]
    fn a_burst_then_refusal_then_refill() {
        let l = AddressLimiter::new(HandshakeRate {
            per_second: 2.0,
            burst: 4.0,
        });
        let a = ip("203.0.113.7");
        assert!((0..4).all(|_| l.allow(a, NOW)));
        assert!(!l.allow(a, NOW));
        assert!(!l.allow(a, later(0.25)), "half a step is not a step");
        assert!(l.allow(a, later(0.5)));
        assert!(!l.allow(a, later(0.5)));
        // A long pause refills to the burst, no further.
        assert!((0..4).all(|_| l.allow(a, later(100.0))));
        assert!(!l.allow(a, later(100.0)));
    }

    #[test]
    fn addresses_have_their_own_budgets_and_ipv6_counts_per_64() {
        let l = AddressLimiter::new(HandshakeRate {
            per_second: 0.0,
            burst: 1.0,
        });
        assert!(l.allow(ip("198.51.100.1"), NOW));
        assert!(!l.allow(ip("198.51.100.1"), NOW));
        assert!(l.allow(ip("198.51.100.2"), NOW));
        // The same IPv4 address written as IPv4-mapped IPv6 is the same client.
        assert!(!l.allow(ip("::ffff:198.51.100.2"), NOW));
        assert!(l.allow(ip("2001:db8:1:2::1"), NOW));
        assert!(!l.allow(ip("2001:db8:1:2:ffff::9"), NOW), "same /64");
        assert!(l.allow(ip("2001:db8:1:3::1"), NOW), "another /64");
        // No IPv6 /64 collides with an IPv4 address.
        assert!(l.allow(ip("::"), NOW));
        assert!(l.allow(ip("0.0.0.0"), NOW));
        assert!(!l.allow(ip("198.51.100.1"), later(1e6)), "no refill at 0/s");
    }

    #[test]
    fn a_clock_going_back_refills_nothing() {
        let l = AddressLimiter::new(HandshakeRate {
            per_second: 1.0,
            burst: 1.0,
        });
        let a = ip("192.0.2.1");
        assert!(l.allow(a, later(10.0)));
        assert!(!l.allow(a, NOW));
        assert!(!l.allow(a, later(10.5)));
        assert!(l.allow(a, later(11.0)));
    }

    #[test]
    fn the_table_is_bounded_and_drops_refilled_buckets_first() {
        let l = AddressLimiter::new(HandshakeRate {
            per_second: 1.0,
            burst: 2.0,
        });
        for i in 0..MAX_TRACKED as u32 {
            assert!(l.allow(IpAddr::from(i.to_be_bytes()), NOW));
        }
        assert_eq!(l.tracked(), MAX_TRACKED);
        // Every bucket is still refilling: a new address is let through, not tracked.
        let newcomer = ip("250.1.2.3");
        assert!(l.allow(newcomer, NOW));
        assert_eq!(l.tracked(), MAX_TRACKED);
        // A second later all have refilled: they are dropped and the newcomer is tracked.
        assert!(l.allow(newcomer, later(1.0)));
        assert_eq!(l.tracked(), 1);
        assert!(l.allow(newcomer, later(1.0)));
        assert!(!l.allow(newcomer, later(1.0)));
    }
}
