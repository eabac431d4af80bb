//! Durable state behind a narrow, fallible trait (ARCHITECTURE rule 11, DB-1 … DB-4):
//! permanent auth keys (stored and flushed before dh_gen_ok, HS-19; erased durably by
//! destroy_auth_key, SV-9) and the account records of
//! `records` (users, phones, authorizations, pending codes, flood counters) as ordered
//! key → value pairs written in atomic, conditional batches. `MemoryStore` serves tests;
//! `SledStore` is the embedded default. Every value starts with a version byte; integer keys are
//! big-endian.

pub mod accounts;
mod memory;
pub mod records;
mod sled_store;
pub mod unsynced;

pub use memory::MemoryStore;
pub use sled_store::SledStore;

/// A storage failure: the request that needed it fails (dh_gen_fail, 500 INTERNAL; DB-1).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoreError(pub String);

impl std::fmt::Display for StoreError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "store: {}", self.0)
    }
}

impl std::error::Error for StoreError {}

/// Whether a new key was stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Inserted {
    Yes,
    /// A key with this id already exists: the handshake answers dh_gen_retry (HS-17).
    AlreadyExists,
}

/// A stored permanent key.
#[derive(Clone, PartialEq, Eq)]
pub struct StoredKey {
    pub data: [u8; 256],
    /// Unix time of creation.
    pub created: i64,
}

impl std::fmt::Debug for StoredKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "StoredKey {{ created: {} }}", self.created)
    }
}

/// A conditional write (DB-3): if every `expect` holds (the key has exactly that value, `None`
/// = absent), every op applies, all or nothing. Single use and uniqueness are expectations.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Batch {
    pub expect: Vec<(Vec<u8>, Option<Vec<u8>>)>,
    /// `(key, Some(value))` puts, `(key, None)` deletes, in order.
    pub ops: Vec<(Vec<u8>, Option<Vec<u8>>)>,
}

impl Batch {
    pub fn expect(&mut self, key: Vec<u8>, value: Option<Vec<u8>>) -> &mut Self {
        self.expect.push((key, value));
        self
    }

    pub fn put(&mut self, key: Vec<u8>, value: Vec<u8>) -> &mut Self {
        self.ops.push((key, Some(value)));
        self
    }

    pub fn delete(&mut self, key: Vec<u8>) -> &mut Self {
        self.ops.push((key, None));
        self
    }
}

/// Records read by `Store::scan`: (key, value) in key order.
pub type Scanned = Vec<(Vec<u8>, Vec<u8>)>;

/// The outcome of `Store::commit`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Commit {
    /// Applied as write number `seq`; durable once `Store::sync` has returned `seq` or more.
    Applied { seq: u64 },
    /// An expectation did not hold; nothing was written.
    Conflict,
}

/// Where a scan of `prefix` starts: at the prefix itself, or just after `after` when it lies
/// inside or past it (`Store::scan_after`).
fn scan_start<'a>(prefix: &'a [u8], after: Option<&'a [u8]>) -> std::ops::Bound<&'a [u8]> {
    match after {
        Some(after) if after >= prefix => std::ops::Bound::Excluded(after),
        _ => std::ops::Bound::Included(prefix),
    }
}

/// The server's durable state. Implementations are shared between connection tasks.
///
/// Reads and commits of records note on the calling thread the last commit no sync has
/// covered that they rest on (`unsynced::observed`): a read, every uncovered commit that wrote
/// what it looked at (found or not); a commit, itself and the expectations it checked. The
/// connection waits for exactly those before it answers (DB-1).
pub trait Store: Send + Sync + 'static {
    /// The record at `key`.
    fn get(&self, key: &[u8]) -> Result<Option<Vec<u8>>, StoreError>;
    /// Up to `limit` records whose keys start with `prefix`, in key order.
    fn scan(&self, prefix: &[u8], limit: usize) -> Result<Scanned, StoreError>;
    /// Up to `limit` records whose keys start with `prefix` and come after `after`, in key
    /// order: a scan that goes on where the last stopped (the expired-record sweep).
    fn scan_after(&self, prefix: &[u8], after: &[u8], limit: usize) -> Result<Scanned, StoreError>;
    /// Applies `batch` atomically (visible at once, durable after the next `sync`).
    fn commit(&self, batch: &Batch) -> Result<Commit, StoreError>;
    /// The sequence number of the last applied commit.
    fn written(&self) -> u64;
    /// Makes every commit applied so far durable and returns the last one covered. Callers
    /// that reply after a commit wait until a sync has covered its `seq` (DB-1); one sync covers
    /// every commit before it, which is how concurrent requests share a flush.
    fn sync(&self) -> Result<u64, StoreError>;

    /// Stores a permanent key unless its id is taken. Like a commit it is visible at once,
    /// counted by `written`, and durable after the next `sync`: dh_gen_ok waits for that sync
    /// (HS-19, DB-1), and so do the admin tools that seed keys.
    fn insert_auth_key(&self, id: i64, key: &StoredKey) -> Result<Inserted, StoreError>;
    fn auth_key(&self, id: i64) -> Result<Option<StoredKey>, StoreError>;
    /// Erases a key and everything bound to it, durably (SV-9). `false`: there was none.
    fn delete_auth_key(&self, id: i64) -> Result<bool, StoreError>;
    /// Erases every record and key, durably (the admin reset of a test server).
    fn clear(&self) -> Result<(), StoreError>;
}

/// version (1) ‖ created (8, BE) ‖ key (256).
const KEY_VERSION: u8 = 1;

fn encode_key(key: &StoredKey) -> Vec<u8> {
    let mut v = Vec::with_capacity(265);
    v.push(KEY_VERSION);
    v.extend_from_slice(&key.created.to_be_bytes());
    v.extend_from_slice(&key.data);
    v
}

fn decode_key(v: &[u8]) -> Result<StoredKey, StoreError> {
    if v.len() != 265 || v[0] != KEY_VERSION {
        return Err(StoreError(format!(
            "auth key record of {} bytes, version {:?}",
            v.len(),
            v.first()
        )));
    }
    Ok(StoredKey {
        created: i64::from_be_bytes(v[1..9].try_into().expect("8 bytes")),
        data: v[9..].try_into().expect("256 bytes"),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn exercise(store: &dyn Store) {
        let key = StoredKey {
            data: [7; 256],
            created: 1_700_000_000,
        };
        assert_eq!(store.auth_key(1).unwrap(), None);
        assert_eq!(store.insert_auth_key(1, &key).unwrap(), Inserted::Yes);
        let other = StoredKey {
            data: [8; 256],
            created: 1,
        };
        assert_eq!(
            store.insert_auth_key(1, &other).unwrap(),
            Inserted::AlreadyExists
        );
        assert_eq!(store.auth_key(1).unwrap(), Some(key.clone()));
        assert!(store.delete_auth_key(1).unwrap());
        assert!(!store.delete_auth_key(1).unwrap());
        assert_eq!(store.auth_key(1).unwrap(), None);
        // A clear takes keys and records alike, and counts as a commit.
        store.insert_auth_key(2, &key).unwrap();
        let mut b = Batch::default();
        b.put(b"Ux".to_vec(), vec![1]);
        store.commit(&b).unwrap();
        let before = store.written();
        store.clear().unwrap();
        assert_eq!(store.auth_key(2).unwrap(), None);
        assert!(store.scan(b"", 10).unwrap().is_empty());
        assert!(store.written() > before);
    }

    #[test]
    fn memory_store_keeps_keys() {
        exercise(&MemoryStore::default());
    }

    #[test]
    fn sled_store_keeps_keys_across_reopen() {
        let dir = std::env::temp_dir().join(format!("mtproto-store-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        {
            let store = SledStore::open(&dir).unwrap();
            exercise(&store);
            let key = StoredKey {
                data: [9; 256],
                created: 5,
            };
            // Counted as a commit, made durable by the sync that covers it (dh_gen_ok waits
            // for that sync).
            let before = store.written();
            store.insert_auth_key(42, &key).unwrap();
            let seq = store.written();
            assert!(seq > before);
            assert!(store.sync().unwrap() >= seq);
        }
        let store = SledStore::open(&dir).unwrap();
        assert_eq!(store.auth_key(42).unwrap().unwrap().data, [9; 256]);
        drop(store);
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn the_old_client_info_tree_is_dropped_on_open() {
        let dir = std::env::temp_dir().join(format!("mtproto-store-old-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        {
            let db = sled::open(&dir).unwrap();
            db.open_tree("client_info")
                .unwrap()
                .insert(1i64.to_be_bytes(), vec![1; 4096])
                .unwrap();
            db.flush().unwrap();
        }
        drop(SledStore::open(&dir).unwrap());
        // sled's IO threads may hold the closed store's file lock a moment longer (the wait
        // `SledStore::open` has; a bare `sled::open` failed here once in a `.ci/run`).
        let mut db = sled::open(&dir);
        for _ in 0..50 {
            if db.is_ok() {
                break;
            }
            std::thread::sleep(std::time::Duration::from_millis(20));
            db = sled::open(&dir);
        }
        let db = db.unwrap();
        assert!(!db.tree_names().iter().any(|n| &n[..] == b"client_info"));
        drop(db);
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn a_store_held_open_is_not_opened_twice() {
        let dir = std::env::temp_dir().join(format!("mtproto-store-held-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let held = SledStore::open(&dir).unwrap();
        let second = SledStore::open(&dir);
        assert!(second.unwrap_err().0.contains("lock"));
        drop(held);
        let _ = std::fs::remove_dir_all(&dir);
    }
}
