//! Server salts (SS-7) [doc: mtproto/description, mtproto/service_messages].
//!
//! One salt per auth key and 30-minute slot, derived instead of stored:
//! `salt = HMAC-SHA256(secret, auth_key_id ‖ slot)[0..8]` (LE int64), `slot = ⌊unixtime / 1800⌋`.
//! A salt is valid in its slot and, as the previous salt, through the next one, so a client
//! that got it at the end of a slot keeps a full slot of grace. The pages disagree on whether
//! salts belong to the session or the key; they belong to the key here.

use hmac::{Hmac, KeyInit, Mac};
use zeroize::Zeroize;

/// Length of one salt slot, in seconds.
pub const SALT_PERIOD: i64 = 1800;
/// Most future salts one get_future_salts returns (SS-9).
pub const MAX_FUTURE_SALTS: usize = 64;

/// One future salt: `future_salt#0949d9dc{valid_since, valid_until, salt}`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FutureSalt {
    pub valid_since: i32,
    pub valid_until: i32,
    pub salt: i64,
}

/// One key's current and previous salts in one slot. A connection keeps the last one it
/// computed, so that a message costs a comparison instead of two HMACs (SS-7 checks every
/// message's salt and every answer carries the current one).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct KeySalts {
    pub auth_key_id: i64,
    pub slot: i64,
    pub current: i64,
    pub previous: i64,
}

impl KeySalts {
    /// Whether these are the salts of `auth_key_id` at `now`.
    pub fn covers(&self, auth_key_id: i64, now: i64) -> bool {
        self.auth_key_id == auth_key_id && self.slot == SaltSchedule::slot(now)
    }

    /// SS-7: the current slot's salt, or the previous slot's during its grace.
    pub fn is_valid(&self, salt: i64) -> bool {
        salt == self.current || salt == self.previous
    }
}

/// The server's salt secret. Zeroized on drop; never printed.
pub struct SaltSchedule {
    secret: [u8; 32],
}

impl std::fmt::Debug for SaltSchedule {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SaltSchedule { .. }")
    }
}

impl Drop for SaltSchedule {
    fn drop(&mut self) {
        self.secret.zeroize();
    }
}

impl SaltSchedule {
    pub fn new(secret: [u8; 32]) -> Self {
        SaltSchedule { secret }
    }

    /// The salt of `auth_key_id` in `slot`.
    pub fn salt(&self, auth_key_id: i64, slot: i64) -> i64 {
        let mut mac = <Hmac<sha2::Sha256> as KeyInit>::new_from_slice(&self.secret)
            .expect("HMAC takes keys of any length");
        mac.update(&auth_key_id.to_le_bytes());
        mac.update(&slot.to_le_bytes());
        let tag = mac.finalize().into_bytes();
        let mut first = [0u8; 8];
        first.copy_from_slice(&tag[..8]);
        i64::from_le_bytes(first)
    }

    fn slot(now: i64) -> i64 {
        now.div_euclid(SALT_PERIOD)
    }

    /// The salt to hand out at `now` (bad_server_salt, new_session_created).
    pub fn current(&self, auth_key_id: i64, now: i64) -> i64 {
        self.salt(auth_key_id, Self::slot(now))
    }

    /// The salts of `auth_key_id` valid at `now`.
    pub fn key_salts(&self, auth_key_id: i64, now: i64) -> KeySalts {
        let slot = Self::slot(now);
        KeySalts {
            auth_key_id,
            slot,
            current: self.salt(auth_key_id, slot),
            previous: self.salt(auth_key_id, slot - 1),
        }
    }

    /// `cache` if it still covers `auth_key_id` at `now`, else it is recomputed first.
    pub fn key_salts_cached(
        &self,
        cache: &mut Option<KeySalts>,
        auth_key_id: i64,
        now: i64,
    ) -> KeySalts {
        match cache {
            Some(salts) if salts.covers(auth_key_id, now) => *salts,
            _ => *cache.insert(self.key_salts(auth_key_id, now)),
        }
    }

    /// get_future_salts (SS-9): `num` clamped to 1..=64 salts from the current slot on, each
    /// valid from its slot's start until the end of its grace.
    pub fn future_salts(&self, auth_key_id: i64, now: i64, num: i32) -> Vec<FutureSalt> {
        let count = usize::try_from(num).unwrap_or(0).clamp(1, MAX_FUTURE_SALTS);
        let first = Self::slot(now);
        (0..count as i64)
            .map(|i| {
                let slot = first + i;
                FutureSalt {
                    valid_since: (slot * SALT_PERIOD) as i32,
                    valid_until: ((slot + 2) * SALT_PERIOD) as i32,
                    salt: self.salt(auth_key_id, slot),
                }
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const KEY: i64 = 0x0123_4567_89ab_cdef;
    const NOW: i64 = 1_700_000_000;

    fn schedule() -> SaltSchedule {
        SaltSchedule::new([7; 32])
    }

    /// SS-7 as the session checks it: through the key's salts at `now`.
    trait Valid {
        fn is_valid(&self, auth_key_id: i64, salt: i64, now: i64) -> bool;
    }

    impl Valid for SaltSchedule {
        fn is_valid(&self, auth_key_id: i64, salt: i64, now: i64) -> bool {
            self.key_salts(auth_key_id, now).is_valid(salt)
        }
    }

    #[test]
    fn salts_differ_per_key_slot_and_secret() {
        let s = schedule();
        let a = s.salt(KEY, 10);
        assert_eq!(a, s.salt(KEY, 10));
        assert_ne!(a, s.salt(KEY, 11));
        assert_ne!(a, s.salt(KEY + 1, 10));
        assert_ne!(a, SaltSchedule::new([8; 32]).salt(KEY, 10));
    }

    #[test]
    fn current_and_previous_are_valid_older_and_future_are_not() {
        let s = schedule();
        let slot = NOW / SALT_PERIOD;
        assert!(s.is_valid(KEY, s.current(KEY, NOW), NOW));
        assert!(s.is_valid(KEY, s.salt(KEY, slot - 1), NOW));
        assert!(!s.is_valid(KEY, s.salt(KEY, slot - 2), NOW));
        assert!(!s.is_valid(KEY, s.salt(KEY, slot + 1), NOW));
        assert!(!s.is_valid(KEY, 0, NOW), "salt 0 (SS-8) is never valid");
        // The previous salt stays valid through the whole next slot, no longer.
        let next_slot_end = (slot + 2) * SALT_PERIOD - 1;
        assert!(s.is_valid(KEY, s.current(KEY, NOW), next_slot_end));
        assert!(!s.is_valid(KEY, s.current(KEY, NOW), next_slot_end + 1));
    }

    #[test]
    fn the_cache_is_recomputed_for_another_key_or_slot() {
        let s = schedule();
        let mut cache = None;
        let a = s.key_salts_cached(&mut cache, KEY, NOW);
        assert_eq!(a, s.key_salts(KEY, NOW));
        assert_eq!(a.current, s.current(KEY, NOW));
        assert_eq!(a.previous, s.current(KEY, NOW - SALT_PERIOD));
        let other_key = s.key_salts_cached(&mut cache, KEY + 1, NOW);
        assert_eq!(other_key, s.key_salts(KEY + 1, NOW));
        let next_slot = s.key_salts_cached(&mut cache, KEY + 1, NOW + SALT_PERIOD);
        assert_eq!(next_slot.previous, other_key.current);
        assert_eq!(cache, Some(next_slot));
    }

    #[test]
    fn future_salts_are_clamped_and_chain_from_now() {
        let s = schedule();
        assert_eq!(s.future_salts(KEY, NOW, 0).len(), 1);
        assert_eq!(s.future_salts(KEY, NOW, -5).len(), 1);
        assert_eq!(s.future_salts(KEY, NOW, 1000).len(), MAX_FUTURE_SALTS);
        let salts = s.future_salts(KEY, NOW, 3);
        assert_eq!(salts[0].salt, s.current(KEY, NOW));
        assert!(i64::from(salts[0].valid_since) <= NOW && NOW < i64::from(salts[0].valid_until));
        for w in salts.windows(2) {
            assert_eq!(w[1].valid_since - w[0].valid_since, SALT_PERIOD as i32);
        }
        // Every future salt is accepted throughout its own window.
        for f in &salts {
            assert!(s.is_valid(KEY, f.salt, i64::from(f.valid_since)));
            assert!(s.is_valid(KEY, f.salt, i64::from(f.valid_until) - 1));
        }
    }
}
