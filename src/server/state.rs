//! What every connection of every DC shares: the store, the RSA keys, the salt schedule, the
//! auth keys in use (permanent ones cached from the store, temporary ones only here, PF-1) and
//! the session registry (SS-1). Synchronous and tokio-free, so the connection core stays sans-IO.

use std::collections::HashMap;
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};

use crate::crypto::rsa::RsaPrivateKey;
use crate::crypto::AuthKey;
use crate::rpc::login::MemorySender;
use crate::rpc::{DcAddress, LoginConfig};
use crate::session::{SaltSchedule, Session};
use crate::store::{Inserted, Store, StoreError, StoredKey};

/// Sessions kept per auth key; the least recently used goes first (SS-1: bound their number).
pub const MAX_SESSIONS_PER_KEY: usize = 32;
/// Sessions unused this long are forgotten with the answers they held; a client that comes back
/// later gets new_session_created. Without it every session since the start stays in memory.
pub const SESSION_IDLE_SECS: i64 = 3600;
/// How often the registry is swept for idle sessions, in seconds.
const SWEEP_EVERY_SECS: i64 = 60;

/// An auth key in use.
#[derive(Debug)]
pub struct KeyEntry {
    pub key: AuthKey,
    /// Temporary keys: Unix time they expire (PF-1).
    pub expires_at: Option<i64>,
    /// The handshake's salt and until when it is accepted (HS-18).
    pub initial_salt: Option<(i64, i64)>,
}

/// A session and the connection that last used it (SV-6: a new connection re-sends). Each has
/// its own lock, so the registry lock is never held while a request runs.
#[derive(Debug)]
pub struct SessionSlot {
    pub session: Session,
    pub connection: u64,
}

/// `last_used` lives outside the slot's lock so that eviction never waits on a running request.
#[derive(Debug)]
struct SlotCell {
    last_used: AtomicI64,
    slot: Mutex<SessionSlot>,
}

type SharedSlot = Arc<SlotCell>;

pub struct ServerState {
    pub store: Arc<dyn Store>,
    pub rsa_keys: Arc<Vec<RsaPrivateKey>>,
    pub salts: SaltSchedule,
    pub dcs: Vec<DcAddress>,
    pub test_mode: bool,
    pub max_temp_expires_in: i32,
    pub login: LoginConfig,
    keys: Mutex<HashMap<i64, Arc<KeyEntry>>>,
    sessions: Mutex<HashMap<i64, HashMap<i64, SharedSlot>>>,
    /// Unix time of the last sweep for idle sessions (written under the `sessions` lock).
    last_sweep: AtomicI64,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

impl ServerState {
    pub fn new(
        store: Arc<dyn Store>,
        rsa_keys: Arc<Vec<RsaPrivateKey>>,
        salt_secret: [u8; 32],
        dcs: Vec<DcAddress>,
        test_mode: bool,
    ) -> Self {
        ServerState {
            store,
            rsa_keys,
            salts: SaltSchedule::new(salt_secret),
            dcs,
            test_mode,
            max_temp_expires_in: 7 * 24 * 3600,
            login: LoginConfig::new(Arc::new(MemorySender::default())),
            keys: Mutex::new(HashMap::new()),
            sessions: Mutex::new(HashMap::new()),
            last_sweep: AtomicI64::new(i64::MIN),
        }
    }

    /// The login settings (the default delivers codes to memory only).
    pub fn with_login(mut self, login: LoginConfig) -> Self {
        self.login = login;
        self
    }

    /// The key with this id, from memory or the store; expired temporary keys are gone (PF-1).
    pub fn key(&self, id: i64, now: i64) -> Result<Option<Arc<KeyEntry>>, StoreError> {
        {
            let mut keys = lock(&self.keys);
            if let Some(k) = keys.get(&id) {
                if k.expires_at.is_some_and(|t| t <= now) {
                    keys.remove(&id);
                    drop(keys);
                    lock(&self.sessions).remove(&id);
                    return Ok(None);
                }
                return Ok(Some(k.clone()));
            }
        }
        let Some(stored) = self.store.auth_key(id)? else {
            return Ok(None);
        };
        let entry = Arc::new(KeyEntry {
            key: AuthKey::from_bytes(stored.data),
            expires_at: None,
            initial_salt: None,
        });
        lock(&self.keys).insert(id, entry.clone());
        Ok(Some(entry))
    }

    /// Keeps a new key: permanent ones durably in the store first (HS-19), temporary ones in
    /// memory only (DB-2). `Ok(false)`: the id is taken (dh_gen_retry).
    pub fn add_key(&self, entry: KeyEntry, now: i64) -> Result<bool, StoreError> {
        let id = entry.key.id();
        if id == 0 || lock(&self.keys).contains_key(&id) {
            return Ok(false);
        }
        // The store's compare-and-swap decides uniqueness, and its flush runs without the keys
        // lock: every frame of every connection looks keys up under that lock.
        if entry.expires_at.is_none() {
            let stored = StoredKey {
                data: *entry.key.data(),
                created: now,
            };
            if self.store.insert_auth_key(id, &stored)? == Inserted::AlreadyExists {
                return Ok(false);
            }
        } else if self.store.auth_key(id)?.is_some() {
            return Ok(false);
        }
        Ok(lock(&self.keys).insert(id, Arc::new(entry)).is_none())
    }

    /// destroy_auth_key (SV-9): erased durably, then forgotten with its sessions.
    pub fn destroy_key(&self, id: i64) -> Result<bool, StoreError> {
        let was_temp = lock(&self.keys)
            .get(&id)
            .is_some_and(|k| k.expires_at.is_some());
        // Its login goes first: a crash in between leaves an unbound key, never a session
        // listed for a key that is gone.
        crate::store::accounts::Accounts::new(&*self.store).end_authorization(id)?;
        let stored = self.store.delete_auth_key(id)?;
        lock(&self.keys).remove(&id);
        lock(&self.sessions).remove(&id);
        Ok(stored || was_temp)
    }

    /// Runs `f` on the session, creating it if new. Returns `f`'s result and whether the session
    /// was last used by another connection (then its unacknowledged messages go again, SV-6).
    pub fn with_session<R>(
        &self,
        key_id: i64,
        session_id: i64,
        connection: u64,
        now: i64,
        f: impl FnOnce(&mut Session, bool) -> R,
    ) -> R {
        let cell = {
            let mut sessions = lock(&self.sessions);
            if now.saturating_sub(self.last_sweep.load(Ordering::Relaxed)) >= SWEEP_EVERY_SECS {
                self.last_sweep.store(now, Ordering::Relaxed);
                sessions.retain(|_, of_key| {
                    of_key.retain(|_, c| {
                        c.last_used.load(Ordering::Relaxed) > now - SESSION_IDLE_SECS
                    });
                    !of_key.is_empty()
                });
            }
            let of_key = sessions.entry(key_id).or_default();
            if !of_key.contains_key(&session_id) && of_key.len() >= MAX_SESSIONS_PER_KEY {
                if let Some(oldest) = of_key
                    .iter()
                    .min_by_key(|(_, s)| s.last_used.load(Ordering::Relaxed))
                    .map(|(id, _)| *id)
                {
                    of_key.remove(&oldest);
                }
            }
            of_key
                .entry(session_id)
                .or_insert_with(|| {
                    Arc::new(SlotCell {
                        last_used: AtomicI64::new(now),
                        slot: Mutex::new(SessionSlot {
                            session: Session::new(session_id),
                            connection,
                        }),
                    })
                })
                .clone()
        };
        cell.last_used.store(now, Ordering::Relaxed);
        let mut slot = lock(&cell.slot);
        let moved = slot.connection != connection;
        slot.connection = connection;
        f(&mut slot.session, moved)
    }

    /// The sessions of `key_id` that connection `connection` carried last.
    pub fn sessions_on(&self, key_id: i64, connection: u64) -> Vec<i64> {
        let cells: Vec<(i64, SharedSlot)> = lock(&self.sessions)
            .get(&key_id)
            .map(|of_key| of_key.iter().map(|(id, c)| (*id, c.clone())).collect())
            .unwrap_or_default();
        cells
            .into_iter()
            .filter(|(_, c)| lock(&c.slot).connection == connection)
            .map(|(id, _)| id)
            .collect()
    }

    /// destroy_session of another session of the same key (SV-8).
    pub fn destroy_session(&self, key_id: i64, session_id: i64) -> bool {
        lock(&self.sessions)
            .get_mut(&key_id)
            .is_some_and(|s| s.remove(&session_id).is_some())
    }

    /// Keys and sessions held in memory (for logs and tests).
    pub fn counts(&self) -> (usize, usize) {
        let keys = lock(&self.keys).len();
        let sessions = lock(&self.sessions).values().map(HashMap::len).sum();
        (keys, sessions)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const T0: i64 = 1_700_000_000;

    fn state() -> ServerState {
        let store: Arc<dyn Store> = Arc::new(crate::store::MemoryStore::default());
        ServerState::new(store, Arc::new(Vec::new()), [1; 32], Vec::new(), true)
    }

    fn touch(state: &ServerState, key_id: i64, session_id: i64, now: i64) {
        state.with_session(key_id, session_id, 1, now, |s, _| {
            assert_eq!(s.id(), session_id)
        });
    }

    #[test]
    fn destroying_a_key_ends_its_login() {
        use crate::store::accounts::{Accounts, BatchExt};
        use crate::store::records::Authorization;
        let s = state();
        let entry = KeyEntry {
            key: AuthKey::from_bytes([3; 256]),
            expires_at: None,
            initial_salt: None,
        };
        let id = entry.key.id();
        assert!(s.add_key(entry, T0).unwrap());
        let auth = Authorization {
            key_id: id,
            user_id: 9,
            hash: 1,
            created: T0,
            active: T0,
            ip: String::new(),
            dc_id: 2,
            api_id: 1,
            device_model: String::new(),
            system_version: String::new(),
            app_version: String::new(),
            lang_code: String::new(),
        };
        let mut b = crate::store::Batch::default();
        b.bind(&auth, None);
        s.store.commit(&b).unwrap();
        assert!(s.destroy_key(id).unwrap());
        let acc = Accounts::new(&*s.store);
        assert!(acc.authorization(id).unwrap().is_none());
        assert!(acc.authorizations_of(9).unwrap().is_empty());
        assert!(!acc.revoked(id).unwrap());
    }

    #[test]
    fn idle_sessions_are_forgotten_and_busy_ones_kept() {
        let s = state();
        touch(&s, 1, 10, T0);
        touch(&s, 2, 20, T0 + 1000);
        touch(&s, 2, 20, T0 + 3000);
        assert_eq!(s.counts().1, 2);
        // Session 10 has been idle for the whole SESSION_IDLE_SECS: gone, with its key's map.
        touch(&s, 3, 30, T0 + SESSION_IDLE_SECS);
        assert_eq!(s.counts().1, 2);
        assert_eq!(lock(&s.sessions).len(), 2);
        assert!(!lock(&s.sessions).contains_key(&1));
        // Sweeps run at most once a minute.
        touch(&s, 4, 40, T0 + SESSION_IDLE_SECS + SWEEP_EVERY_SECS - 1);
        assert_eq!(s.counts().1, 3, "no sweep within a minute of the last");
        touch(&s, 4, 40, T0 + 3000 + SESSION_IDLE_SECS);
        assert_eq!(s.counts().1, 2, "20 went, 30 and 40 stay");
    }
}
