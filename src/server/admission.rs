//! Who gets a connection (issue 14, item 4): at most so many per client address (loopback
//! exempt unless `limit_loopback`), on top of the server-wide cap; and warnings about refused
//! connections at most once per interval, with the count refused meanwhile, so that a flood
//! does not flood the log too.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use super::rate::address_key;

/// Connections one limited address may hold open by default (an IPv6 /64 counts as one).
pub const DEFAULT_PER_ADDRESS: usize = 256;

/// Open connections per limited address. Entries go when their last connection does, so the
/// table holds at most as many addresses as there are connections.
#[derive(Debug)]
pub struct PerAddress {
    max: usize,
    open: Mutex<HashMap<u128, usize>>,
}

/// A connection counted against its address; dropping it gives the place back.
#[derive(Debug)]
pub struct Admitted {
    table: Arc<PerAddress>,
    key: u128,
}

impl Drop for Admitted {
    fn drop(&mut self) {
        let mut open = self.table.open.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(n) = open.get_mut(&self.key) {
            *n -= 1;
            if *n == 0 {
                open.remove(&self.key);
            }
        }
    }
}

impl PerAddress {
    pub fn new(max: usize) -> Arc<Self> {
        Arc::new(PerAddress {
            max,
            open: Mutex::default(),
        })
    }

    /// A place for a connection from `ip`, or `None` when the address has all of its own.
    pub fn admit(self: &Arc<Self>, ip: IpAddr) -> Option<Admitted> {
        let key = address_key(ip);
        let mut open = self.open.lock().unwrap_or_else(|p| p.into_inner());
        let n = open.entry(key).or_default();
        if *n >= self.max {
            return None;
        }
        *n += 1;
        Some(Admitted {
            table: self.clone(),
            key,
        })
    }

    /// Addresses with connections open.
    pub fn tracked(&self) -> usize {
        self.open.lock().unwrap_or_else(|p| p.into_inner()).len()
    }
}

/// Says "this happened" at most once per `every` seconds, with how often it happened since.
#[derive(Debug, Default)]
pub struct Throttled {
    last: AtomicI64,
    suppressed: AtomicU64,
}

impl Throttled {
    /// `Some(times since the last report)` when it is time to report (`now` in seconds).
    pub fn report(&self, now: i64, every: i64) -> Option<u64> {
        let last = self.last.load(Ordering::Relaxed);
        if now - last >= every
            && self
                .last
                .compare_exchange(last, now, Ordering::Relaxed, Ordering::Relaxed)
                .is_ok()
        {
            return Some(self.suppressed.swap(0, Ordering::Relaxed) + 1);
        }
        self.suppressed.fetch_add(1, Ordering::Relaxed);
        None
    }
}

/// Descriptors kept for what is not a connection: the listeners, the store's files, the admin
/// sockets, the outbox.
pub const FD_RESERVE: u64 = 128;

/// The most connections a soft file limit leaves room for.
pub fn connections_within(soft_limit: u64, configured: usize) -> usize {
    let room = soft_limit.saturating_sub(FD_RESERVE).max(1);
    configured.min(usize::try_from(room).unwrap_or(usize::MAX))
}

/// Raises the soft `RLIMIT_NOFILE` to the hard limit and keeps `limits.max_connections` below
/// what it allows, saying so in the log; a process started with the usual soft limit (1,024)
/// would otherwise be out of descriptors long before its connection cap.
pub fn fit_file_limit(limits: &mut super::Limits) {
    match rlimit::increase_nofile_limit(u64::MAX) {
        Ok(soft) => {
            let fit = connections_within(soft, limits.max_connections);
            // Only a cut past the descriptors kept for the rest is news worth a warning.
            if fit + (FD_RESERVE as usize) < limits.max_connections {
                tracing::warn!(
                    file_limit = soft,
                    configured = limits.max_connections,
                    max_connections = fit,
                    "the file limit allows fewer connections than configured; raise `ulimit -Hn` for more"
                );
                limits.max_connections = fit;
            } else {
                limits.max_connections = fit;
                tracing::info!(
                    file_limit = soft,
                    max_connections = fit,
                    "file limit raised to the hard limit"
                );
            }
        }
        Err(e) => tracing::warn!(error = %e, "could not read or raise the file limit"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn places_per_address_come_back_when_connections_go() {
        let t = PerAddress::new(2);
        let a: IpAddr = "203.0.113.1".parse().unwrap();
        let b: IpAddr = "2001:db8::1".parse().unwrap();
        let b_same_64: IpAddr = "2001:db8::2".parse().unwrap();
        let first = t.admit(a).unwrap();
        let _second = t.admit(a).unwrap();
        assert!(t.admit(a).is_none());
        let _b = t.admit(b).unwrap();
        let _b2 = t.admit(b_same_64).unwrap();
        assert!(t.admit(b_same_64).is_none(), "one /64, one address");
        drop(first);
        assert!(t.admit(a).is_some());
        assert_eq!(t.tracked(), 2);
    }

    #[test]
    fn connections_fit_the_file_limit() {
        assert_eq!(connections_within(1024, 20_000), 1024 - FD_RESERVE as usize);
        assert_eq!(connections_within(1 << 20, 20_000), 20_000);
        assert_eq!(connections_within(10, 20_000), 1);
    }

    #[test]
    fn reports_are_throttled_and_count_what_they_left_out() {
        let w = Throttled::default();
        assert_eq!(w.report(100, 10), Some(1));
        assert_eq!(w.report(101, 10), None);
        assert_eq!(w.report(105, 10), None);
        assert_eq!(w.report(110, 10), Some(3));
    }
}
