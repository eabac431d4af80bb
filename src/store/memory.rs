//! `MemoryStore`: the `Store` trait over in-memory maps, for tests and as a fuzz oracle.

use std::collections::{BTreeMap, HashMap};
use std::ops::Bound;
use std::sync::Mutex;

use super::unsynced::{observed, Unsynced};
use super::{
    decode_key, encode_key, Batch, Commit, Inserted, Scanned, Store, StoreError, StoredKey,
};

/// The records in key order, and the number of commits applied to them.
type Records = (BTreeMap<Vec<u8>, Vec<u8>>, u64);

#[derive(Debug, Default)]
pub struct MemoryStore {
    keys: Mutex<HashMap<i64, Vec<u8>>>,
    records: Mutex<Records>,
    /// Keys written by commits no `sync` has covered yet: reads note them as `SledStore`'s
    /// do, so that tests see the same waits.
    unsynced: Mutex<Unsynced>,
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

impl MemoryStore {
    /// Up to `limit` records from `start` on whose keys start with `prefix`.
    fn scan_from(&self, prefix: &[u8], start: Bound<&[u8]>, limit: usize) -> Scanned {
        let records = lock(&self.records);
        observed::note(lock(&self.unsynced).range(prefix, start));
        records
            .0
            .range::<[u8], _>((start, Bound::Unbounded))
            .take_while(|(k, _)| k.starts_with(prefix))
            .take(limit)
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect()
    }
}

impl Store for MemoryStore {
    fn get(&self, key: &[u8]) -> Result<Option<Vec<u8>>, StoreError> {
        let records = lock(&self.records);
        observed::note(lock(&self.unsynced).key(key));
        Ok(records.0.get(key).cloned())
    }

    fn scan(&self, prefix: &[u8], limit: usize) -> Result<Scanned, StoreError> {
        Ok(self.scan_from(prefix, super::scan_start(prefix, None), limit))
    }

    fn scan_after(&self, prefix: &[u8], after: &[u8], limit: usize) -> Result<Scanned, StoreError> {
        Ok(self.scan_from(prefix, super::scan_start(prefix, Some(after)), limit))
    }

    fn commit(&self, batch: &Batch) -> Result<Commit, StoreError> {
        let mut records = lock(&self.records);
        let (map, seq) = &mut *records;
        let mut unsynced = lock(&self.unsynced);
        for (k, _) in &batch.expect {
            // A conflict rests on what it found.
            observed::note(unsynced.key(k));
        }
        if batch
            .expect
            .iter()
            .any(|(k, want)| map.get(k) != want.as_ref())
        {
            return Ok(Commit::Conflict);
        }
        for (k, v) in &batch.ops {
            match v {
                Some(v) => map.insert(k.clone(), v.clone()),
                None => map.remove(k),
            };
        }
        *seq += 1;
        unsynced.wrote(batch.ops.iter().map(|(k, _)| k.as_slice()), *seq);
        observed::note(*seq);
        Ok(Commit::Applied { seq: *seq })
    }

    fn written(&self) -> u64 {
        lock(&self.records).1
    }

    /// Memory is as durable as it gets.
    fn sync(&self) -> Result<u64, StoreError> {
        let through = self.written();
        lock(&self.unsynced).synced(through);
        Ok(through)
    }

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
        Ok(lock(&self.keys).remove(&id).is_some())
    }

    fn clear(&self) -> Result<(), StoreError> {
        lock(&self.keys).clear();
        let mut records = lock(&self.records);
        records.0.clear();
        // A clear is a commit: an answer computed before it waits for nothing older.
        records.1 += 1;
        lock(&self.unsynced).synced(records.1);
        Ok(())
    }
}
