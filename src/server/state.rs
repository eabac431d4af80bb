//! What every connection of every DC shares: the store, the RSA keys, the salt schedule, the
//! auth keys in use (permanent ones cached from the store, temporary ones only here, PF-1) and
//! the session registry (SS-1). Synchronous and tokio-free, so the connection core stays sans-IO.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicI64, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};

use crate::crypto::rsa::RsaPrivateKey;
use crate::crypto::AuthKey;
use crate::rpc::login::MemorySender;
use crate::rpc::{ClientInfo, DcAddress, LoginConfig};
use crate::session::{SaltSchedule, Session};
use crate::store::accounts::Accounts;
use crate::store::{Inserted, Store, StoreError, StoredKey};

/// Sessions kept per auth key; the least recently used goes first (SS-1: bound their number).
pub const MAX_SESSIONS_PER_KEY: usize = 32;
/// Sessions unused this long are forgotten with the answers they held; a client that comes back
/// later gets new_session_created. Without it every session since the start stays in memory.
pub const SESSION_IDLE_SECS: i64 = 3600;
/// How often the registry is swept for idle sessions, in seconds.
const SWEEP_EVERY_SECS: i64 = 60;
/// Temporary keys held at most (each about 0.5 KB with its entry, `bench keys`); past it
/// the oldest unbound one goes (a flood of key exchanges cannot grow memory without bound;
/// PF-1).
pub const MAX_TEMP_KEYS: usize = 50_000;
/// Permanent keys kept in memory at most; past it the longest cached goes (it is read from the
/// store again on its next use; a key that is not logged in then forgets the layer it declared
/// until its client declares it again, as it does on each new connection).
pub const MAX_CACHED_PERM_KEYS: usize = 100_000;
/// Sessions kept over the server; past it the least recently used go, a 64th of the bound at a
/// time (each key also keeps at most [`MAX_SESSIONS_PER_KEY`]). A session holds at most 1,024
/// remembered msg_ids and 128 KiB of answers (and every session's answers together at most
/// `Limits::max_held_total`).
pub const MAX_SESSIONS: usize = 100_000;
/// Temporary keys one limited client address may hold; past it its oldest goes.
pub const MAX_TEMP_KEYS_PER_ADDRESS: usize = 1_000;

/// An auth key in use.
#[derive(Debug)]
pub struct KeyEntry {
    pub key: AuthKey,
    /// Temporary keys: Unix time they expire (PF-1).
    pub expires_at: Option<i64>,
    /// The handshake's salt and until when it is accepted (HS-18).
    pub initial_salt: Option<(i64, i64)>,
    /// What its client said in initConnection and invokeWithLayer (AC-3): kept here, and on
    /// disk only with the key's login (`rpc::client_info`). Shared with the requests that read
    /// it, and nothing until declared: a cached key stays small (issue 15, item 5).
    client: Mutex<Option<Arc<ClientInfo>>>,
}

/// The client info of a key whose client declared none.
static NO_CLIENT_INFO: std::sync::LazyLock<Arc<ClientInfo>> =
    std::sync::LazyLock::new(Default::default);

impl KeyEntry {
    pub fn new(key: AuthKey, expires_at: Option<i64>, initial_salt: Option<(i64, i64)>) -> Self {
        KeyEntry {
            key,
            expires_at,
            initial_salt,
            client: Mutex::new(None),
        }
    }

    /// The client info as it is now.
    pub fn client(&self) -> Arc<ClientInfo> {
        lock(&self.client)
            .clone()
            .unwrap_or_else(|| NO_CLIENT_INFO.clone())
    }

    /// The layer its client declared (0: none).
    pub fn layer(&self) -> i32 {
        lock(&self.client).as_ref().map_or(0, |c| c.layer)
    }

    /// Replaces the client info.
    pub fn set_client(&self, info: Arc<ClientInfo>) {
        *lock(&self.client) = Some(info);
    }
}

/// A session and the connection that last used it (SV-6: a new connection re-sends). Each has
/// its own lock, so the registry lock is never held while a request runs.
#[derive(Debug)]
pub struct SessionSlot {
    pub session: Session,
    pub connection: u64,
}

/// `last_used`, `recency` and `newest` live outside the slot's lock so that eviction never
/// waits on a running request (which may itself take the registry lock, for destroy_session).
#[derive(Debug)]
struct SlotCell {
    /// Unix time of the last admitted message (the idle sweep).
    last_used: AtomicI64,
    /// When, in the registry's count of admitted messages, it was last used: the order of
    /// eviction, exact where seconds tie.
    recency: AtomicU64,
    /// The newest client msg_id the session accepted (0: none yet).
    newest: AtomicI64,
    /// Evicted or destroyed: an id admitted while that happened raises the key's floor itself.
    forgotten: AtomicBool,
    slot: Mutex<SessionSlot>,
    /// The server's count of sessions in memory, which this one leaves when it is dropped.
    live: Arc<AtomicUsize>,
}

impl Drop for SlotCell {
    fn drop(&mut self) {
        self.live.fetch_sub(1, Ordering::Relaxed);
    }
}

type SharedSlot = Arc<SlotCell>;

/// The sessions of one key.
#[derive(Debug, Default)]
struct KeySessions {
    sessions: HashMap<i64, SharedSlot>,
    /// The bytes of unacknowledged messages its sessions hold (bounded per key).
    held: crate::session::held::KeyHeld,
    /// The newest client msg_id of any session this key lost (evicted, or ended by
    /// destroy_session): a new session refuses ids at or below it (SS-4), so the messages of a
    /// forgotten session cannot run again in a new one under the same session_id.
    floor: Option<i64>,
}

impl KeySessions {
    /// The floor while it matters: once its time is past the 300 s window, 16 refuses those
    /// ids anyway.
    fn floor(&self, now: i64) -> Option<i64> {
        self.floor
            .filter(|f| (f >> 32) >= now - crate::session::msg_id::MAX_PAST_SECS)
    }

    /// Drops a session, raising the floor to its newest id.
    fn forget(&mut self, session_id: i64) -> bool {
        let Some(cell) = self.sessions.remove(&session_id) else {
            return false;
        };
        // SeqCst with `with_admitted`'s store then load: an id admitted meanwhile is either
        // read here or raises the floor there.
        cell.forgotten.store(true, Ordering::SeqCst);
        self.raise_floor(cell.newest.load(Ordering::SeqCst));
        true
    }

    fn raise_floor(&mut self, id: i64) {
        if id != 0 {
            self.floor = Some(self.floor.map_or(id, |f| f.max(id)));
        }
    }
}

/// Forgets the `n` least recently used sessions over every key (each raising its key's floor).
fn evict_least_recent(sessions: &mut HashMap<i64, KeySessions>, n: usize) {
    let mut all: Vec<(u64, i64, i64)> = sessions
        .iter()
        .flat_map(|(key, of_key)| {
            of_key
                .sessions
                .iter()
                .map(move |(id, c)| (c.recency.load(Ordering::Relaxed), *key, *id))
        })
        .collect();
    let n = n.min(all.len());
    if n == 0 {
        return;
    }
    if n < all.len() {
        all.select_nth_unstable(n - 1);
    }
    for (_, key, id) in &all[..n] {
        if let Some(of_key) = sessions.get_mut(key) {
            of_key.forget(*id);
        }
    }
}

pub struct ServerState {
    pub store: Arc<dyn Store>,
    pub rsa_keys: Arc<Vec<RsaPrivateKey>>,
    pub salts: SaltSchedule,
    pub dcs: Vec<DcAddress>,
    pub test_mode: bool,
    pub max_temp_expires_in: i32,
    pub login: LoginConfig,
    /// The password checks issued by account.getPassword and not yet used.
    pub srp: crate::rpc::password::Challenges,
    keys: Mutex<HashMap<i64, Arc<KeyEntry>>>,
    /// Temporary keys in the order they were made (the cap's eviction order).
    temp_order: Mutex<std::collections::VecDeque<i64>>,
    /// Which temporary key acts for which permanent key (PF-5, PF-6).
    bindings: Mutex<super::binding::Bindings>,
    /// The most temporary keys held.
    pub max_temp_keys: usize,
    /// The address each temporary key of a limited client was made from, and how many each
    /// address holds (the per-address bound).
    temp_addresses: Mutex<(HashMap<i64, u128>, HashMap<u128, usize>)>,
    pub max_temp_keys_per_address: usize,
    /// Permanent keys in the order they were cached (the cache bound's eviction order).
    perm_order: Mutex<std::collections::VecDeque<i64>>,
    /// The most permanent keys cached.
    pub max_cached_perm_keys: usize,
    sessions: Mutex<HashMap<i64, KeySessions>>,
    /// Sessions in memory, and their bound.
    live_sessions: Arc<AtomicUsize>,
    pub max_sessions: usize,
    /// The bound on unacknowledged messages per key and over the server (`held.rs`).
    pub held: Arc<crate::session::held::HeldBudget>,
    /// Unix time of the last sweep for idle sessions (written under the `sessions` lock).
    last_sweep: AtomicI64,
    /// Messages admitted so far, over all sessions (their `recency`).
    admitted: AtomicU64,
    /// Counters for `GET /metrics`.
    pub metrics: super::metrics::Metrics,
    /// Fault rules the admin API set (tests inject errors, delays and drops).
    pub faults: super::faults::Faults,
    /// The codes and emails delivered, for the admin API (`Server::bind` routes the sender
    /// through it).
    pub codes: Arc<super::code_log::CodeLog>,
    /// Obfuscated2 inits seen lately (TR-7: replays are dropped).
    pub seen_inits: super::replay::SeenInits,
    /// Key exchanges past req_DH_params, over the server and per address (`slots.rs`).
    pub handshake_slots: super::slots::HandshakeSlots,
    /// The tables the running shell holds (connection and handshake slots, the address
    /// budgets), for `fill`; set by `Server::run`.
    pub shell_fill: std::sync::OnceLock<Box<dyn Fn() -> Vec<Fill> + Send + Sync>>,
}

/// A bounded table's name, entries and bound (`None`: bounded otherwise, e.g. per key).
pub type Fill = (&'static str, u64, Option<u64>);

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
            srp: Default::default(),
            keys: Mutex::new(HashMap::new()),
            temp_order: Mutex::new(std::collections::VecDeque::new()),
            bindings: Mutex::new(Default::default()),
            max_temp_keys: MAX_TEMP_KEYS,
            temp_addresses: Mutex::default(),
            max_temp_keys_per_address: MAX_TEMP_KEYS_PER_ADDRESS,
            perm_order: Mutex::new(std::collections::VecDeque::new()),
            max_cached_perm_keys: MAX_CACHED_PERM_KEYS,
            sessions: Mutex::new(HashMap::new()),
            live_sessions: Default::default(),
            max_sessions: MAX_SESSIONS,
            held: Default::default(),
            last_sweep: AtomicI64::new(i64::MIN),
            admitted: AtomicU64::new(0),
            metrics: Default::default(),
            faults: Default::default(),
            codes: Default::default(),
            shell_fill: Default::default(),
            handshake_slots: Default::default(),
            seen_inits: Default::default(),
        }
    }

    /// The login settings (the default delivers codes to memory only). Codes go through the
    /// code log on their way to `login.sender`.
    pub fn with_login(mut self, mut login: LoginConfig) -> Self {
        login.sender = Arc::new(super::code_log::LoggedSender {
            inner: login.sender,
            log: self.codes.clone(),
        });
        self.login = login;
        self
    }

    /// The key with this id, from memory or the store; expired temporary keys are gone (PF-1).
    pub fn key(&self, id: i64, now: i64) -> Result<Option<Arc<KeyEntry>>, StoreError> {
        {
            let keys = lock(&self.keys);
            if let Some(k) = keys.get(&id) {
                if k.expires_at.is_some_and(|t| t <= now) {
                    drop(keys);
                    self.forget_temp_key(id);
                    return Ok(None);
                }
                return Ok(Some(k.clone()));
            }
        }
        let Some(stored) = self.store.auth_key(id)? else {
            return Ok(None);
        };
        let entry = KeyEntry::new(AuthKey::from_bytes(stored.data), None, None);
        // A logged-in key's client info outlives a restart with its login.
        if let Some(login) = Accounts::new(&*self.store).authorization(id)? {
            entry.set_client(Arc::new(ClientInfo::of_login(&login.value)));
        }
        let entry = Arc::new(entry);
        self.cache_perm(id, entry.clone());
        Ok(Some(entry))
    }

    /// Caches a permanent key, the longest cached going past [`MAX_CACHED_PERM_KEYS`]; whether
    /// the id was new to the cache.
    fn cache_perm(&self, id: i64, entry: Arc<KeyEntry>) -> bool {
        let mut order = lock(&self.perm_order);
        let mut keys = lock(&self.keys);
        if order.len() >= self.max_cached_perm_keys {
            // Ids of keys destroyed meanwhile first, then the oldest.
            order.retain(|id| keys.get(id).is_some_and(|k| k.expires_at.is_none()));
            while order.len() >= self.max_cached_perm_keys.max(1) {
                if let Some(old) = order.pop_front() {
                    keys.remove(&old);
                }
            }
        }
        order.push_back(id);
        keys.insert(id, entry).is_none()
    }

    /// The layer `key_id` declared (0: none): from memory for a key in use, else from its
    /// login (pushes go to logged-in keys).
    pub fn declared_layer(&self, key_id: i64) -> i32 {
        if let Some(entry) = lock(&self.keys).get(&key_id) {
            return entry.layer();
        }
        match Accounts::new(&*self.store).authorization(key_id) {
            Ok(login) => login.map_or(0, |l| l.value.layer),
            Err(e) => {
                tracing::warn!(error = %e, "could not read a key's layer");
                0
            }
        }
    }

    /// Keeps a new key: permanent ones durably in the store first (HS-19), temporary ones in
    /// memory only (DB-2). `Ok(false)`: the id is taken (dh_gen_retry).
    pub fn add_key(&self, entry: KeyEntry, now: i64) -> Result<bool, StoreError> {
        self.add_key_from(entry, now, None)
    }

    /// [`ServerState::add_key`] for a key made by a limited client address (its key in
    /// `rate.rs`): its temporary keys count against [`MAX_TEMP_KEYS_PER_ADDRESS`].
    pub fn add_key_from(
        &self,
        entry: KeyEntry,
        now: i64,
        address: Option<u128>,
    ) -> Result<bool, StoreError> {
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
            return Ok(self.cache_perm(id, Arc::new(entry)));
        } else if self.store.auth_key(id)?.is_some() {
            return Ok(false);
        } else {
            self.make_room_for_a_temp_key();
            if let Some(a) = address {
                self.make_room_for_a_temp_key_of(a);
                let mut t = lock(&self.temp_addresses);
                t.0.insert(id, a);
                *t.1.entry(a).or_default() += 1;
            }
            lock(&self.temp_order).push_back(id);
        }
        Ok(lock(&self.keys).insert(id, Arc::new(entry)).is_none())
    }

    /// Past [`ServerState::max_temp_keys`], the oldest unbound temporary key goes (then the
    /// oldest bound one, if all are bound).
    fn make_room_for_a_temp_key(&self) {
        let mut order = lock(&self.temp_order);
        {
            let keys = lock(&self.keys);
            order.retain(|id| keys.contains_key(id));
        }
        while order.len() >= self.max_temp_keys {
            let victim = {
                let bindings = lock(&self.bindings);
                order
                    .iter()
                    .position(|id| !bindings.is_bound(*id))
                    .unwrap_or(0)
            };
            if let Some(id) = order.remove(victim) {
                self.forget_temp_key(id);
                tracing::debug!(
                    key = format_args!("{:016x}", id as u64),
                    "temporary key dropped: too many held"
                );
            }
        }
    }

    /// Past [`MAX_TEMP_KEYS_PER_ADDRESS`] for `address`, its oldest temporary key goes.
    fn make_room_for_a_temp_key_of(&self, address: u128) {
        let full = lock(&self.temp_addresses)
            .1
            .get(&address)
            .is_some_and(|n| *n >= self.max_temp_keys_per_address);
        if !full {
            return;
        }
        let oldest = {
            let order = lock(&self.temp_order);
            let t = lock(&self.temp_addresses);
            order
                .iter()
                .copied()
                .find(|id| t.0.get(id) == Some(&address))
        };
        if let Some(id) = oldest {
            lock(&self.temp_order).retain(|k| *k != id);
            self.forget_temp_key(id);
            tracing::debug!(
                key = format_args!("{:016x}", id as u64),
                "temporary key dropped: its address holds too many"
            );
        }
    }

    /// A temporary key is gone: its entry, sessions and binding (its next frame gets −404).
    fn forget_temp_key(&self, id: i64) {
        lock(&self.keys).remove(&id);
        lock(&self.sessions).remove(&id);
        lock(&self.bindings).unbind_temp(id);
        let mut t = lock(&self.temp_addresses);
        if let Some(a) = t.0.remove(&id) {
            if let Some(n) = t.1.get_mut(&a) {
                *n -= 1;
                if *n == 0 {
                    t.1.remove(&a);
                }
            }
        }
    }

    /// The permanent key a bound temporary key acts for (PF-6).
    pub fn perm_of(&self, temp: i64) -> Option<i64> {
        lock(&self.bindings).perm_of(temp)
    }

    /// Binds `temp` to `perm` (PF-5); `perm`'s previous temporary key is unbound, not killed.
    /// `Err(other)`: `temp` is bound to another permanent key.
    pub fn bind_temp(&self, temp: i64, perm: i64) -> Result<(), i64> {
        let mut bindings = lock(&self.bindings);
        match bindings.perm_of(temp) {
            Some(other) if other != perm => Err(other),
            _ => {
                bindings.bind(temp, perm);
                Ok(())
            }
        }
    }

    /// Logging out, revoking or destroying `perm` kills its temporary key (PF-6); whether
    /// there was one.
    pub fn kill_temps_of(&self, perm: i64) -> bool {
        let temp = lock(&self.bindings).take_temp_of(perm);
        if let Some(temp) = temp {
            self.forget_temp_key(temp);
            tracing::info!(
                temp = format_args!("{:016x}", temp as u64),
                "temporary key killed with its permanent key"
            );
        }
        temp.is_some()
    }

    /// After sessions were ended from elsewhere (account.resetAuthorization,
    /// auth.resetAuthorizations, `sessions revoke`): the temporary keys of every permanent key
    /// that was revoked die with it (PF-6). How many died.
    pub fn kill_temps_of_revoked(&self) -> usize {
        let pairs = lock(&self.bindings).pairs();
        let accounts = Accounts::new(&*self.store);
        let mut killed = 0;
        for (_, perm) in pairs {
            match accounts.revoked(perm) {
                Ok(true) => killed += usize::from(self.kill_temps_of(perm)),
                Ok(false) => {}
                Err(e) => tracing::warn!(error = %e, "could not read a revocation"),
            }
        }
        killed
    }

    /// auth.dropTempAuthKeys: `perm`'s temporary key goes unless it is in `except`.
    pub fn drop_temps_of(&self, perm: i64, except: &[i64]) {
        let dropped = {
            let mut bindings = lock(&self.bindings);
            match bindings.temp_of(perm) {
                Some(temp) if !except.contains(&temp) => bindings.take_temp_of(perm),
                _ => None,
            }
        };
        if let Some(temp) = dropped {
            self.forget_temp_key(temp);
        }
    }

    /// destroy_auth_key (SV-9): erased durably, then forgotten with its sessions.
    pub fn destroy_key(&self, id: i64) -> Result<bool, StoreError> {
        let was_temp = lock(&self.keys)
            .get(&id)
            .is_some_and(|k| k.expires_at.is_some());
        if was_temp {
            self.forget_temp_key(id);
            return Ok(true);
        }
        self.kill_temps_of(id);
        // Its login goes first: a crash in between leaves an unbound key, never a session
        // listed for a key that is gone.
        let accounts = Accounts::new(&*self.store);
        accounts.end_authorization(id)?;
        accounts.end_password_wait(id)?;
        let stored = self.store.delete_auth_key(id)?;
        lock(&self.keys).remove(&id);
        lock(&self.sessions).remove(&id);
        Ok(stored || was_temp)
    }

    /// Runs one decrypted message through its session (SS-4, SS-10). `admit` checks it against
    /// the session as it is ([`Session::admit`]); only a message it admits creates the session
    /// (evicting the key's least recently used one past [`MAX_SESSIONS_PER_KEY`]), refreshes
    /// it or moves its delivery to `connection`, so a replayed frame changes nothing. A new
    /// session refuses the ids of sessions its key lost in the last 300 s ([`Session::above`]).
    /// `run` gets the admitted message and whether the session was last used by another
    /// connection (then its unacknowledged messages go again, SV-6).
    pub fn with_admitted<A, R>(
        &self,
        key_id: i64,
        session_id: i64,
        connection: u64,
        now: i64,
        mut admit: impl FnMut(&mut Session) -> Result<A, R>,
        run: impl FnOnce(&mut Session, A, bool) -> R,
    ) -> R {
        let (existing, floor) = self.lookup(key_id, session_id, now);
        let cell = match existing {
            Some(cell) => cell,
            None => {
                let mut session = Session::above(session_id, floor);
                let admitted = match admit(&mut session) {
                    Ok(admitted) => admitted,
                    Err(refused) => return refused,
                };
                match self.register(key_id, session, connection, now) {
                    Ok(cell) => {
                        let mut slot = lock(&cell.slot);
                        let moved = slot.connection != connection;
                        slot.connection = connection;
                        let r = run(&mut slot.session, admitted, moved);
                        self.let_go(key_id, slot);
                        return r;
                    }
                    // Another connection started the session meanwhile: check against it.
                    Err(existing) => existing,
                }
            }
        };
        let mut slot = lock(&cell.slot);
        let admitted = match admit(&mut slot.session) {
            Ok(admitted) => admitted,
            Err(refused) => return refused,
        };
        cell.last_used.store(now, Ordering::Relaxed);
        cell.recency.store(self.tick(), Ordering::Relaxed);
        if let Some(id) = slot.session.newest_msg_id() {
            cell.newest.fetch_max(id, Ordering::SeqCst);
            if cell.forgotten.load(Ordering::SeqCst) {
                if let Some(of_key) = lock(&self.sessions).get_mut(&key_id) {
                    of_key.raise_floor(id);
                }
            }
        }
        let moved = slot.connection != connection;
        slot.connection = connection;
        let r = run(&mut slot.session, admitted, moved);
        self.let_go(key_id, slot);
        r
    }

    /// Runs `f` on a session if it exists, changing nothing else (a pushed update).
    pub fn with_existing<R>(
        &self,
        key_id: i64,
        session_id: i64,
        f: impl FnOnce(&mut Session) -> R,
    ) -> Option<R> {
        let cell = lock(&self.sessions)
            .get(&key_id)?
            .sessions
            .get(&session_id)?
            .clone();
        let mut slot = lock(&cell.slot);
        let r = f(&mut slot.session);
        self.let_go(key_id, slot);
        Some(r)
    }

    /// Unlocks a session after a request or a push, then trims the held answers if it took
    /// them past the key's or the server's bound.
    fn let_go(&self, key_id: i64, slot: MutexGuard<'_, SessionSlot>) {
        let over = slot.session.held_over_budget();
        drop(slot);
        self.trim_held(key_id, over);
    }

    /// Past the key's bound on held messages, its sessions' oldest go; past the server's, the
    /// oldest over every session (one thread at a time). Each trim goes an eighth below the
    /// bound. Runs with no session locked, and skips a session busy with a request.
    fn trim_held(&self, key_id: i64, (key_over, total_over): (bool, bool)) {
        use crate::session::held::HeldBudget;
        let budget = &self.held;
        if key_over {
            let of_key = lock(&self.sessions).get(&key_id).map(|k| {
                let cells: Vec<SharedSlot> = k.sessions.values().cloned().collect();
                (k.held.clone(), cells)
            });
            if let Some((held, cells)) = of_key {
                let goal = HeldBudget::goal(budget.max_per_key());
                self.drop_oldest_held(&cells, || held.load(Ordering::Relaxed) > goal);
            }
        }
        if total_over {
            budget.trim_once(|| {
                let cells: Vec<SharedSlot> = lock(&self.sessions)
                    .values()
                    .flat_map(|k| k.sessions.values().cloned())
                    .collect();
                let goal = HeldBudget::goal(budget.max_total());
                self.drop_oldest_held(&cells, || budget.total() > goal);
                tracing::warn!(
                    held_bytes = budget.total(),
                    bound = budget.max_total(),
                    dropped_so_far = self.metrics.held_dropped_total(),
                    "unacknowledged answers over the server-wide bound: the oldest dropped"
                );
            });
        }
    }

    /// Drops held messages of `cells`, oldest first over all of them, while `more` says so.
    fn drop_oldest_held(&self, cells: &[SharedSlot], more: impl Fn() -> bool) {
        use std::cmp::Reverse;
        let oldest = |c: &SlotCell| c.slot.try_lock().ok().and_then(|s| s.session.held_oldest());
        let mut queue: std::collections::BinaryHeap<Reverse<(u64, usize)>> = cells
            .iter()
            .enumerate()
            .filter_map(|(i, c)| oldest(c).map(|seq| Reverse((seq, i))))
            .collect();
        while more() {
            let Some(Reverse((_, i))) = queue.pop() else {
                break;
            };
            let Ok(mut slot) = cells[i].slot.try_lock() else {
                continue;
            };
            if slot.session.drop_oldest_held() {
                self.metrics.held_dropped(1);
            }
            if let Some(seq) = slot.session.held_oldest() {
                queue.push(Reverse((seq, i)));
            }
        }
    }

    fn tick(&self) -> u64 {
        self.admitted.fetch_add(1, Ordering::Relaxed)
    }

    /// The session's cell if it exists, and the floor for a new session of the key; sweeps
    /// idle sessions at most once a minute.
    fn lookup(&self, key_id: i64, session_id: i64, now: i64) -> (Option<SharedSlot>, Option<i64>) {
        let mut sessions = lock(&self.sessions);
        if now.saturating_sub(self.last_sweep.load(Ordering::Relaxed)) >= SWEEP_EVERY_SECS {
            self.last_sweep.store(now, Ordering::Relaxed);
            sessions.retain(|_, of_key| {
                of_key
                    .sessions
                    .retain(|_, c| c.last_used.load(Ordering::Relaxed) > now - SESSION_IDLE_SECS);
                of_key.floor = of_key.floor(now);
                !of_key.sessions.is_empty() || of_key.floor.is_some()
            });
        }
        match sessions.get(&key_id) {
            Some(of_key) => (of_key.sessions.get(&session_id).cloned(), of_key.floor(now)),
            None => (None, None),
        }
    }

    /// Keeps an admitted new session, evicting the key's least recently used one past
    /// [`MAX_SESSIONS_PER_KEY`] (its newest id raises the key's floor). `Err`: the session
    /// exists already.
    fn register(
        &self,
        key_id: i64,
        mut session: Session,
        connection: u64,
        now: i64,
    ) -> Result<SharedSlot, SharedSlot> {
        let id = session.id();
        let mut sessions = lock(&self.sessions);
        if self.live_sessions.load(Ordering::Relaxed) >= self.max_sessions
            && !sessions
                .get(&key_id)
                .is_some_and(|k| k.sessions.contains_key(&id))
        {
            evict_least_recent(&mut sessions, (self.max_sessions / 64).max(1));
        }
        let of_key = sessions.entry(key_id).or_default();
        if let Some(existing) = of_key.sessions.get(&id) {
            return Err(existing.clone());
        }
        session.charge_held(crate::session::held::Charge {
            budget: self.held.clone(),
            key: of_key.held.clone(),
        });
        if of_key.sessions.len() >= MAX_SESSIONS_PER_KEY {
            if let Some(oldest) = of_key
                .sessions
                .iter()
                .min_by_key(|(_, s)| s.recency.load(Ordering::Relaxed))
                .map(|(id, _)| *id)
            {
                of_key.forget(oldest);
            }
        }
        let cell = Arc::new(SlotCell {
            last_used: AtomicI64::new(now),
            recency: AtomicU64::new(self.tick()),
            newest: AtomicI64::new(session.newest_msg_id().unwrap_or(0)),
            forgotten: AtomicBool::new(false),
            slot: Mutex::new(SessionSlot {
                session,
                connection,
            }),
            live: self.live_sessions.clone(),
        });
        self.live_sessions.fetch_add(1, Ordering::Relaxed);
        of_key.sessions.insert(id, cell.clone());
        Ok(cell)
    }

    /// The sessions of `key_id` that connection `connection` carried last.
    pub fn sessions_on(&self, key_id: i64, connection: u64) -> Vec<i64> {
        let cells: Vec<(i64, SharedSlot)> = lock(&self.sessions)
            .get(&key_id)
            .map(|of_key| {
                of_key
                    .sessions
                    .iter()
                    .map(|(id, c)| (*id, c.clone()))
                    .collect()
            })
            .unwrap_or_default();
        cells
            .into_iter()
            .filter(|(_, c)| lock(&c.slot).connection == connection)
            .map(|(id, _)| id)
            .collect()
    }

    /// destroy_session of another session of the same key (SV-8); its messages stay refused
    /// in a new session of that id (the key's floor).
    pub fn destroy_session(&self, key_id: i64, session_id: i64) -> bool {
        lock(&self.sessions)
            .get_mut(&key_id)
            .is_some_and(|s| s.forget(session_id))
    }

    /// Forgets everything (the admin reset): every record and key in the store, then the keys,
    /// sessions, bindings, password checks, codes and fault rules held here. Connections stay
    /// open; their next message under a forgotten key gets −404 and the client makes a new key.
    pub fn reset(&self) -> Result<(), StoreError> {
        self.store.clear()?;
        lock(&self.keys).clear();
        lock(&self.temp_order).clear();
        lock(&self.perm_order).clear();
        *lock(&self.temp_addresses) = Default::default();
        *lock(&self.bindings) = Default::default();
        lock(&self.sessions).clear();
        self.srp.clear();
        self.codes.clear();
        self.faults.clear(None);
        tracing::warn!("admin reset: every user, key, session, code and counter is gone");
        Ok(())
    }

    /// Deletes one user and all of theirs (the admin reset of a user); its keys stay, logged
    /// out, and their temporary keys die (PF-6). Whether there was such a user.
    pub fn reset_user(&self, user_id: i64) -> Result<bool, StoreError> {
        let accounts = Accounts::new(&*self.store);
        let existed = accounts.user(user_id)?.is_some();
        let dcs: Vec<i32> = self.dcs.iter().map(|d| d.id).collect();
        for key in accounts.delete_user(user_id, &dcs)? {
            self.kill_temps_of(key);
        }
        self.store.sync()?;
        if existed {
            tracing::info!(user_id, "admin reset of one user");
        }
        Ok(existed)
    }

    /// What each bounded table holds and its bound, for `GET /metrics`.
    pub fn fill(&self) -> Vec<Fill> {
        let (perm, temp) = {
            let keys = lock(&self.keys);
            let temp = keys.values().filter(|k| k.expires_at.is_some()).count();
            (keys.len() - temp, temp)
        };
        let slots: Vec<SharedSlot> = lock(&self.sessions)
            .values()
            .flat_map(|k| k.sessions.values().cloned())
            .collect();
        // A session busy with a request is skipped rather than waited for.
        let held: usize = slots
            .iter()
            .filter_map(|c| c.slot.try_lock().ok().map(|s| s.session.unacked()))
            .sum();
        let held_bytes = (self.held.total(), self.held.max_total());
        let n = |v: usize| v as u64;
        vec![
            ("auth_keys_permanent", n(perm), None),
            ("auth_keys_temporary", n(temp), Some(n(self.max_temp_keys))),
            ("temp_key_bindings", n(lock(&self.bindings).len()), None),
            ("sessions", n(slots.len()), Some(n(self.max_sessions))),
            ("held_answers", n(held), None),
            ("held_answer_bytes", n(held_bytes.0), Some(n(held_bytes.1))),
            (
                "password_checks",
                n(self.srp.len()),
                Some(n(crate::rpc::password::MAX_CHALLENGES)),
            ),
            (
                "code_log",
                n(self.codes.len()),
                Some(n(super::code_log::MAX_DELIVERIES)),
            ),
            (
                "obfuscated2_inits",
                n(self.seen_inits.len()),
                Some(n(super::replay::MAX_REMEMBERED)),
            ),
            {
                let (used, max) = self.handshake_slots.fill();
                ("key_exchanges", n(used), Some(n(max)))
            },
            (
                "fault_rules",
                n(self.faults.list().len()),
                Some(n(super::faults::MAX_RULES)),
            ),
        ]
        .into_iter()
        .chain(self.shell_fill.get().map(|f| f()).unwrap_or_default())
        .collect()
    }

    /// Keys and sessions held in memory (for logs and tests).
    pub fn counts(&self) -> (usize, usize) {
        let keys = lock(&self.keys).len();
        let sessions = lock(&self.sessions)
            .values()
            .map(|k| k.sessions.len())
            .sum();
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

    fn temp_key(n: u8, now: i64) -> KeyEntry {
        let mut data = [n; 256];
        data[0] = 0xEE;
        KeyEntry::new(AuthKey::from_bytes(data), Some(now + 3600), None)
    }

    #[test]
    fn cached_permanent_keys_are_bounded_and_read_back_from_the_store() {
        let mut s = state();
        s.max_cached_perm_keys = 3;
        let ids: Vec<i64> = (1..=10u8)
            .map(|n| {
                let entry = KeyEntry::new(AuthKey::from_bytes([n; 256]), None, None);
                let id = entry.key.id();
                assert!(s.add_key(entry, T0).unwrap());
                id
            })
            .collect();
        assert_eq!(s.counts().0, 3, "ten made, three cached");
        // The first, evicted long ago, is still a key: read again, and cached again.
        let first = s.key(ids[0], T0).unwrap().expect("in the store");
        assert_eq!(first.key.id(), ids[0]);
        assert_eq!(s.counts().0, 3);
        assert!(s.destroy_key(ids[9]).unwrap());
        assert!(
            s.key(ids[9], T0).unwrap().is_none(),
            "destroyed is gone for good"
        );
    }

    #[test]
    fn temporary_keys_are_bounded_per_address_the_oldest_going() {
        let mut s = state();
        s.max_temp_keys_per_address = 3;
        let ids: Vec<i64> = (1..=5u8)
            .map(|n| {
                let k = temp_key(n, T0);
                let id = k.key.id();
                assert!(s.add_key_from(k, T0, Some(7)).unwrap());
                id
            })
            .collect();
        let held = |id: i64| s.key(id, T0).unwrap().is_some();
        assert!(!held(ids[0]) && !held(ids[1]), "the address's oldest went");
        assert!(ids[2..].iter().all(|id| held(*id)));
        // Another address, and unlimited clients, are not touched.
        for n in 10..14u8 {
            assert!(s.add_key_from(temp_key(n, T0), T0, Some(8)).unwrap());
            assert!(s.add_key(temp_key(n + 100, T0), T0).unwrap());
        }
        assert!(ids[2..].iter().all(|id| held(*id)));
        assert_eq!(s.counts().0, 3 + 3 + 4);
        // An expired key gives its place back.
        assert!(s.key(ids[2], T0 + 7200).unwrap().is_none());
        assert!(s
            .add_key_from(temp_key(6, T0 + 7200), T0 + 7200, Some(7))
            .unwrap());
        assert!(held(ids[3]) && held(ids[4]));
    }

    #[test]
    fn temporary_keys_are_bounded_the_oldest_unbound_going_first() {
        let mut s = state();
        s.max_temp_keys = 50;
        let first = temp_key(1, T0);
        let (bound, unbound_first) = (first.key.id(), temp_key(2, T0).key.id());
        assert!(s.add_key(first, T0).unwrap());
        assert!(s.add_key(temp_key(2, T0), T0).unwrap());
        s.bind_temp(bound, 77).unwrap();
        assert_eq!(
            s.bind_temp(bound, 78),
            Err(77),
            "bound to another permanent key"
        );
        // A flood of 200 more: the count stays at the cap, the bound key stays, the oldest
        // unbound one went first.
        for n in 3..203u8 {
            assert!(s.add_key(temp_key(n, T0), T0).unwrap());
        }
        assert_eq!(s.counts().0, 50);
        assert!(s.key(bound, T0).unwrap().is_some());
        assert!(s.key(unbound_first, T0).unwrap().is_none());
        assert_eq!(s.perm_of(bound), Some(77));
        // The permanent key's end kills it; an expired one is gone with its binding.
        assert!(s.kill_temps_of(77));
        assert!(s.key(bound, T0).unwrap().is_none());
        let last = temp_key(202, T0).key.id();
        s.bind_temp(last, 88).unwrap();
        assert!(s.key(last, T0 + 3600).unwrap().is_none());
        assert_eq!(s.perm_of(last), None);
    }

    #[test]
    fn sessions_are_bounded_over_the_server_the_least_recently_used_going() {
        let mut s = state();
        s.max_sessions = 64;
        for key in 1..=10 {
            for session in 0..10 {
                let id = key * 100 + session;
                assert_eq!(offer(&s, key, id, 1, T0, id_at(T0, 1)), Ok(false));
            }
            if key == 5 {
                // Used again before the bound is reached: the first session is recent now.
                assert_eq!(offer(&s, 1, 100, 1, T0, id_at(T0, 2)), Ok(false));
            }
        }
        assert!(s.counts().1 <= 64, "{}", s.counts().1);
        assert!(
            s.with_existing(1, 100, |_| ()).is_some(),
            "kept: used again"
        );
        assert!(
            s.with_existing(1, 101, |_| ()).is_none(),
            "the least recent went"
        );
        assert!(
            s.with_existing(10, 1009, |_| ()).is_some(),
            "the newest stays"
        );
        // An evicted session's messages stay refused in a new one (its key's floor).
        assert_eq!(offer(&s, 1, 101, 1, T0, id_at(T0, 1)), Err(16));
        let fill = s.fill();
        let (_, n, cap) = fill.iter().find(|f| f.0 == "sessions").unwrap();
        assert!(*n <= 64 && *cap == Some(64));
    }

    /// Holds an update of `len` bytes in an existing session (as a push does).
    fn hold(s: &ServerState, key_id: i64, session_id: i64, len: usize) {
        let env = crate::session::Env {
            auth_key_id: key_id,
            salts: &s.salts,
            key_salts: s.salts.key_salts(key_id, T0),
            initial_salt: None,
            now: T0,
            nanos: 0,
        };
        let reply = s.with_existing(key_id, session_id, |session| {
            session.notify(&env, vec![7; len])
        });
        assert_eq!(reply.expect("the session exists").messages.len(), 1);
    }

    fn held_in(s: &ServerState, key_id: i64, session_id: i64) -> usize {
        s.with_existing(key_id, session_id, |session| session.unacked())
            .unwrap()
    }

    #[test]
    fn held_answers_are_bounded_per_key_and_over_the_server_oldest_first() {
        use crate::session::held::HeldBudget;
        let mut s = state();
        // One held 1,000-byte update costs a little more (its entry); bounds in such units.
        let unit = 1000 + 100;
        s.held = Arc::new(HeldBudget::new(20 * unit, 8 * unit));
        for (key, session) in [(1, 10), (1, 11), (2, 20), (3, 30)] {
            assert_eq!(offer(&s, key, session, 1, T0, id_at(T0, 1)), Ok(false));
        }
        // Key 1, two sessions: 6 updates in each, the first session's all older. Past the
        // key's bound its oldest go, down to an eighth below.
        for session in [10, 11] {
            for _ in 0..6 {
                hold(&s, 1, session, 1000);
            }
        }
        let of_key_1 = held_in(&s, 1, 10) + held_in(&s, 1, 11);
        assert!(of_key_1 <= 8, "{of_key_1}");
        assert_eq!(held_in(&s, 1, 11), 6, "the newer session kept everything");
        assert!(s.held.total() <= 8 * unit);
        // Keys 2 and 3 stay within their own bound but pass the server's: the oldest over
        // the server go, key 1's first.
        for _ in 0..7 {
            hold(&s, 2, 20, 1000);
        }
        for _ in 0..7 {
            hold(&s, 3, 30, 1000);
        }
        assert!(s.held.total() <= 20 * unit, "{}", s.held.total());
        assert_eq!(held_in(&s, 3, 30), 7, "the newest kept everything");
        assert_eq!(held_in(&s, 1, 10), 0, "the oldest went first");
        let dropped = s.metrics.held_dropped_total();
        assert!(dropped >= 5, "{dropped}");
        // A forgotten session gives its bytes back.
        let before = s.held.total();
        assert!(s.destroy_session(3, 30));
        assert!(s.held.total() < before);
        assert!(s
            .fill()
            .iter()
            .any(|(name, n, cap)| *name == "held_answer_bytes"
                && *n == s.held.total() as u64
                && *cap == Some(20 * unit as u64)));
    }

    /// A client msg_id at `now`, `n` quarter-ticks into the second.
    fn id_at(now: i64, n: i64) -> i64 {
        (now << 32) | (n * 4)
    }

    /// Offers an empty msgs_ack as `msg_id` to a session on `connection`: `Ok(moved)` if it was
    /// admitted, else the code of the refusal (0: a duplicate, answered with nothing).
    fn offer(
        s: &ServerState,
        key_id: i64,
        session_id: i64,
        connection: u64,
        now: i64,
        msg_id: i64,
    ) -> Result<bool, i32> {
        use crate::session::{Env, Message};
        use crate::tl::{enums, types, Deserializable, Serializable};
        let env = Env {
            auth_key_id: key_id,
            salts: &s.salts,
            key_salts: s.salts.key_salts(key_id, now),
            initial_salt: None,
            now,
            nanos: 0,
        };
        let ack = types::MsgsAck { msg_ids: vec![] }.to_bytes();
        let message = Message {
            salt: env.key_salts.current,
            msg_id,
            seqno: 0,
            body: &ack,
        };
        s.with_admitted(
            key_id,
            session_id,
            connection,
            now,
            |session| {
                session.admit(&env, message).map_err(|refused| {
                    Err(match refused.messages.first() {
                        None => 0,
                        Some(m) => match enums::BadMsgNotification::from_bytes(&m.body) {
                            Ok(enums::BadMsgNotification::BadMsgNotification(b)) => b.error_code,
                            Ok(enums::BadMsgNotification::BadServerSalt(b)) => b.error_code,
                            Err(e) => panic!("{e:?}"),
                        },
                    })
                })
            },
            |session, _, moved| {
                assert_eq!(session.id(), session_id);
                Ok(moved)
            },
        )
    }

    fn touch(state: &ServerState, key_id: i64, session_id: i64, now: i64) {
        offer(state, key_id, session_id, 1, now, id_at(now, 1)).unwrap();
    }

    #[test]
    fn a_refused_message_creates_refreshes_and_moves_nothing() {
        let s = state();
        let first = id_at(T0, 1);
        assert_eq!(offer(&s, 1, 10, 1, T0, first), Ok(false));
        // The same message again, from another connection: a duplicate, and the session stays
        // on connection 1 (the next new message there is not a move).
        assert_eq!(offer(&s, 1, 10, 2, T0 + 5, first), Err(0));
        assert_eq!(offer(&s, 1, 10, 1, T0 + 5, id_at(T0 + 5, 1)), Ok(false));
        let used = lock(&s.sessions)[&1].sessions[&10]
            .last_used
            .load(Ordering::Relaxed);
        assert_eq!(offer(&s, 1, 10, 2, T0 + 9, first), Err(0));
        let after = lock(&s.sessions)[&1].sessions[&10]
            .last_used
            .load(Ordering::Relaxed);
        assert_eq!(
            (used, after),
            (T0 + 5, T0 + 5),
            "a duplicate refreshes nothing"
        );
        // New sessions whose first message is refused are never created.
        assert_eq!(offer(&s, 1, 11, 2, T0, id_at(T0 - 301, 1)), Err(16));
        assert_eq!(offer(&s, 1, 12, 2, T0, id_at(T0 + 31, 1)), Err(17));
        assert_eq!(offer(&s, 1, 13, 2, T0, id_at(T0, 1) + 1), Err(18));
        assert_eq!(s.counts().1, 1);
        // A move: an admitted new message from connection 2.
        assert_eq!(offer(&s, 1, 10, 2, T0 + 9, id_at(T0 + 9, 1)), Ok(true));
    }

    #[test]
    fn a_bad_salt_creates_no_session() {
        use crate::session::{Env, Message};
        use crate::tl::{types, Serializable};
        let s = state();
        let env = Env {
            auth_key_id: 1,
            salts: &s.salts,
            key_salts: s.salts.key_salts(1, T0),
            initial_salt: None,
            now: T0,
            nanos: 0,
        };
        let ping = types::MsgsAck { msg_ids: vec![] }.to_bytes();
        let message = Message {
            salt: env.key_salts.current ^ 1,
            msg_id: id_at(T0, 1),
            seqno: 0,
            body: &ping,
        };
        let refused = s.with_admitted(
            1,
            10,
            1,
            T0,
            |session| {
                session
                    .admit(&env, message)
                    .map_err(|r| Err::<(), _>(r.messages.len()))
            },
            |_, _, _| unreachable!("a bad salt is never admitted"),
        );
        assert_eq!(refused, Err(1), "bad_server_salt and nothing else");
        assert_eq!(s.counts().1, 0);
    }

    #[test]
    fn evicted_and_destroyed_sessions_messages_stay_refused_in_new_sessions() {
        let s = state();
        // Session 0 first, then 1..32: the 33rd evicts session 0, the least recently used.
        for sid in 0..=MAX_SESSIONS_PER_KEY as i64 {
            assert_eq!(
                offer(&s, 1, sid, 1, T0 + sid, id_at(T0, sid + 1)),
                Ok(false)
            );
        }
        assert_eq!(s.counts().1, MAX_SESSIONS_PER_KEY);
        assert!(!lock(&s.sessions)[&1].sessions.contains_key(&0));
        // Session 0's message again, in a new session 0: refused with 16, nothing created.
        assert_eq!(offer(&s, 1, 0, 2, T0 + 40, id_at(T0, 1)), Err(16));
        // So is any id up to the newest the key lost, in any new session.
        assert_eq!(offer(&s, 1, 99, 2, T0 + 40, id_at(T0, 1)), Err(16));
        assert_eq!(s.counts().1, MAX_SESSIONS_PER_KEY);
        // destroy_session raises the floor to the destroyed session's newest id.
        assert!(s.destroy_session(1, 20));
        assert_eq!(offer(&s, 1, 20, 2, T0 + 40, id_at(T0, 21)), Err(16));
        // Newer ids start sessions as usual; other keys are not affected.
        assert_eq!(offer(&s, 1, 20, 2, T0 + 40, id_at(T0 + 1, 1)), Ok(false));
        assert_eq!(offer(&s, 2, 0, 2, T0 + 40, id_at(T0, 1)), Ok(false));
        // Once the floor is past the 300 s window, the sweep forgets it.
        touch(&s, 3, 1, T0 + 301);
        assert_eq!(lock(&s.sessions)[&1].floor, None);
    }

    #[test]
    fn destroying_a_key_ends_its_login_and_its_wait_for_a_password() {
        use crate::store::accounts::{Accounts, BatchExt};
        use crate::store::records::Authorization;
        let s = state();
        let entry = KeyEntry::new(AuthKey::from_bytes([3; 256]), None, None);
        let id = entry.key.id();
        assert!(s.add_key(entry, T0).unwrap());
        let auth = Authorization::bare(id, 9, T0, 2);
        let mut b = crate::store::Batch::default();
        b.bind(&auth, None);
        // A key waiting for a password too (not both at once in practice).
        let pending = crate::store::records::PasswordPending {
            user_id: 9,
            created: T0,
        };
        b.put(
            crate::store::records::password_pending_key(id),
            pending.encode(),
        );
        s.store.commit(&b).unwrap();
        assert!(s.destroy_key(id).unwrap());
        assert!(Accounts::new(&*s.store)
            .password_pending(id)
            .unwrap()
            .is_none());
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
