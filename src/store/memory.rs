//! `MemoryStore`: the `Store` trait over in-memory maps, for tests and as a fuzz oracle.

use std::collections::HashMap;
use std::sync::Mutex;

use super::{decode_key, encode_key, ClientInfo, Inserted, Store, StoreError, StoredKey};

#[derive(Debug, Default)]
pub struct MemoryStore {
    keys: Mutex<HashMap<i64, Vec<u8>>>,
    client_info: Mutex<HashMap<i64, Vec<u8>>>,
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

impl Store for MemoryStore {
    fn insert_auth_key(&self, id: i64, key: &StoredKey) -> Result<Inserted, StoreError> {
        let mut keys = lock(&self.keys);
        if keys.contains_key(&id) {
            return Ok(Inserted::AlreadyExists);
        }
        keys.insert(id, encode_key(key));
        Ok(Inserted::Yes)
    }

    fn auth_key(&self, id: i64) -> Result<Option<StoredKey>, StoreError> {
        lock(&self.keys).get(&id).map(|v| decode_key(v)).transpose()
    }

    fn delete_auth_key(&self, id: i64) -> Result<bool, StoreError> {
        lock(&self.client_info).remove(&id);
        Ok(lock(&self.keys).remove(&id).is_some())
    }

    fn set_client_info(&self, id: i64, info: &ClientInfo) -> Result<(), StoreError> {
        lock(&self.client_info).insert(id, info.encode());
        Ok(())
    }

    fn client_info(&self, id: i64) -> Result<Option<ClientInfo>, StoreError> {
        lock(&self.client_info)
            .get(&id)
            .map(|v| ClientInfo::decode(v))
            .transpose()
    }
}
