//! TR-7: replayed obfuscated2 inits are dropped. An on-path observer who replays a
//! connection's first 64 bytes gets nothing: each init (its key and IV, `init[8..56]`, are all
//! that fix the stream) is remembered for a window, and a connection that opens with one seen
//! within it is closed silently. Bounded: at most `MAX_REMEMBERED` inits, the oldest forgotten
//! first (a flood of fresh inits can only shorten the window, never grow memory).

use std::collections::{HashMap, VecDeque};
use std::sync::Mutex;

/// How long an init is remembered, in seconds.
pub const WINDOW_SECS: i64 = 600;
/// Inits remembered at most (each ~40 bytes in the two tables).
pub const MAX_REMEMBERED: usize = 100_000;

#[derive(Debug, Default)]
pub struct SeenInits {
    inner: Mutex<Seen>,
}

#[derive(Debug, Default)]
struct Seen {
    at: HashMap<[u8; 16], i64>,
    order: VecDeque<([u8; 16], i64)>,
}

/// The init's key and IV, hashed to 16 bytes (no key material kept as it was).
fn fingerprint(init: &[u8; 64]) -> [u8; 16] {
    use sha2::Digest;
    let digest = sha2::Sha256::digest(&init[8..56]);
    digest[..16].try_into().expect("16 of 32 bytes")
}

impl SeenInits {
    /// Whether `init` is new at `now` (remembering it); false for a replay within the window.
    pub fn first_time(&self, init: &[u8; 64], now: i64) -> bool {
        let id = fingerprint(init);
        let mut s = self.inner.lock().unwrap_or_else(|p| p.into_inner());
        while let Some(&(old, t)) = s.order.front() {
            if t > now - WINDOW_SECS && s.order.len() < MAX_REMEMBERED {
                break;
            }
            s.order.pop_front();
            if s.at.get(&old) == Some(&t) {
                s.at.remove(&old);
            }
        }
        if s.at.get(&id).is_some_and(|t| *t > now - WINDOW_SECS) {
            return false;
        }
        s.at.insert(id, now);
        s.order.push_back((id, now));
        true
    }

    pub fn len(&self) -> usize {
        self.inner
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .at
            .len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn init(n: u32) -> [u8; 64] {
        let mut i = [0u8; 64];
        i[8..12].copy_from_slice(&n.to_le_bytes());
        i
    }

    #[test]
    fn a_replay_within_the_window_is_refused_and_memory_is_bounded() {
        let s = SeenInits::default();
        assert!(s.first_time(&init(1), 1000));
        assert!(!s.first_time(&init(1), 1000 + WINDOW_SECS - 1), "replayed");
        assert!(s.first_time(&init(2), 1000));
        // Only bytes 8..56 name an init: the random first 8 and the tag's part do not.
        let mut same = init(2);
        same[0] = 9;
        same[60] = 1;
        assert!(!s.first_time(&same, 1001));
        assert!(
            s.first_time(&init(1), 1000 + WINDOW_SECS + 1),
            "the window passed"
        );
        for n in 10..10 + MAX_REMEMBERED as u32 + 50 {
            s.first_time(&init(n), 5000);
        }
        assert!(s.len() <= MAX_REMEMBERED);
    }
}
