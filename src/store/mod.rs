//! Durable state behind a narrow, fallible trait (ARCHITECTURE rule 11, DB-1 … DB-4):
//! permanent auth keys (stored and flushed before dh_gen_ok, HS-19; erased durably by
//! destroy_auth_key, SV-9), the client info of each key (AC-3), and the account records of
//! `records` (users, phones, authorizations, pending codes, flood counters) as ordered
//! key → value pairs written in atomic, conditional batches. `MemoryStore` serves tests;
//! `SledStore` is the embedded default. Every value starts with a version byte; integer keys are
//! big-endian.

pub mod accounts;
mod memory;
pub mod records;
mod sled_store;

pub use memory::MemoryStore;
pub use sled_store::SledStore;

use crate::tl::{write_bytes, write_i32, Reader};

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

/// What initConnection and invokeWithLayer said about a key's client (AC-3).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ClientInfo {
    pub layer: i32,
    pub api_id: i32,
    pub device_model: String,
    pub system_version: String,
    pub app_version: String,
    pub system_lang_code: String,
    pub lang_pack: String,
    pub lang_code: String,
}

const CLIENT_INFO_VERSION: u8 = 1;

impl ClientInfo {
    /// version (1) ‖ layer ‖ api_id ‖ six TL strings.
    pub fn encode(&self) -> Vec<u8> {
        let mut out = vec![CLIENT_INFO_VERSION];
        write_i32(&mut out, self.layer);
        write_i32(&mut out, self.api_id);
        for s in self.strings() {
            write_bytes(&mut out, s.as_bytes());
        }
        out
    }

    pub fn decode(bytes: &[u8]) -> Result<Self, StoreError> {
        let bad = |e: crate::tl::DecodeError| StoreError(format!("client info: {e}"));
        let (&version, rest) = bytes
            .split_first()
            .ok_or_else(|| StoreError("client info: empty value".into()))?;
        if version != CLIENT_INFO_VERSION {
            return Err(StoreError(format!(
                "client info: unknown version {version}"
            )));
        }
        let mut r = Reader::new(rest);
        let mut info = ClientInfo {
            layer: r.read_i32().map_err(bad)?,
            api_id: r.read_i32().map_err(bad)?,
            ..ClientInfo::default()
        };
        for field in [
            &mut info.device_model,
            &mut info.system_version,
            &mut info.app_version,
            &mut info.system_lang_code,
            &mut info.lang_pack,
            &mut info.lang_code,
        ] {
            *field = r.read_string().map_err(bad)?;
        }
        r.finish().map_err(bad)?;
        Ok(info)
    }

    fn strings(&self) -> [&String; 6] {
        [
            &self.device_model,
            &self.system_version,
            &self.app_version,
            &self.system_lang_code,
            &self.lang_pack,
            &self.lang_code,
        ]
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

/// The server's durable state. Implementations are shared between connection tasks.
pub trait Store: Send + Sync + 'static {
    /// The record at `key`.
    fn get(&self, key: &[u8]) -> Result<Option<Vec<u8>>, StoreError>;
    /// Up to `limit` records whose keys start with `prefix`, in key order.
    fn scan(&self, prefix: &[u8], limit: usize) -> Result<Scanned, StoreError>;
    /// Applies `batch` atomically (visible at once, durable after the next `sync`).
    fn commit(&self, batch: &Batch) -> Result<Commit, StoreError>;
    /// The sequence number of the last applied commit.
    fn written(&self) -> u64;
    /// Makes every commit applied so far durable and returns the last one covered. Callers
    /// that reply after a commit wait until a sync has covered its `seq` (DB-1); one sync covers
    /// every commit before it, which is how concurrent requests share a flush.
    fn sync(&self) -> Result<u64, StoreError>;

    /// Stores a permanent key unless its id is taken, and makes it durable before returning
    /// (HS-19, DB-1).
    fn insert_auth_key(&self, id: i64, key: &StoredKey) -> Result<Inserted, StoreError>;
    fn auth_key(&self, id: i64) -> Result<Option<StoredKey>, StoreError>;
    /// Erases a key and everything bound to it, durably (SV-9). `false`: there was none.
    fn delete_auth_key(&self, id: i64) -> Result<bool, StoreError>;
    /// Records the client info of a key (not flushed: losing it only loses a log detail).
    fn set_client_info(&self, id: i64, info: &ClientInfo) -> Result<(), StoreError>;
    fn client_info(&self, id: i64) -> Result<Option<ClientInfo>, StoreError>;

    /// The layer the key last declared with invokeWithLayer (0: none yet), from its client info.
    fn declared_layer(&self, id: i64) -> Result<i32, StoreError> {
        Ok(self.client_info(id)?.map_or(0, |i| i.layer))
    }
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
        assert_eq!(store.auth_key(1).unwrap(), Some(key));
        let info = ClientInfo {
            layer: 229,
            api_id: 6,
            device_model: "pc".into(),
            lang_code: "en".into(),
            ..ClientInfo::default()
        };
        store.set_client_info(1, &info).unwrap();
        assert_eq!(store.client_info(1).unwrap(), Some(info));
        assert!(store.delete_auth_key(1).unwrap());
        assert!(!store.delete_auth_key(1).unwrap());
        assert_eq!(store.auth_key(1).unwrap(), None);
        assert_eq!(store.client_info(1).unwrap(), None);
    }

    #[test]
    fn memory_store_keeps_keys_and_client_info() {
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
            store.insert_auth_key(42, &key).unwrap();
        }
        let store = SledStore::open(&dir).unwrap();
        assert_eq!(store.auth_key(42).unwrap().unwrap().data, [9; 256]);
        drop(store);
        std::fs::remove_dir_all(&dir).unwrap();
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

    #[test]
    fn client_info_refuses_unknown_versions_and_truncation() {
        let bytes = ClientInfo::default().encode();
        assert!(ClientInfo::decode(&bytes).is_ok());
        assert!(ClientInfo::decode(&bytes[..bytes.len() - 1]).is_err());
        let mut v2 = bytes.clone();
        v2[0] = 2;
        assert!(ClientInfo::decode(&v2).is_err());
        assert!(ClientInfo::decode(&[]).is_err());
    }
}
