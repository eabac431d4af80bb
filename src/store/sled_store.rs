//! `SledStore`: the `Store` trait over sled 0.34 (DB-3: the 0.34 line keeps multi-tree
//! transactions). Trees: `auth_keys` (id BE → version ‖ created ‖ key) and `client_info`.
//! Insertion is a compare-and-swap on the id, so two handshakes can never share one.

use std::path::Path;

use sled::Transactional;

use super::{decode_key, encode_key, ClientInfo, Inserted, Store, StoreError, StoredKey};

#[derive(Debug, Clone)]
pub struct SledStore {
    db: sled::Db,
    keys: sled::Tree,
    client_info: sled::Tree,
}

/// How long `open` waits for a lock that a just-closed store of this process still holds.
const LOCK_WAIT: std::time::Duration = std::time::Duration::from_secs(1);
const LOCK_RETRY: std::time::Duration = std::time::Duration::from_millis(20);

fn err(e: impl std::fmt::Display) -> StoreError {
    StoreError(e.to_string())
}

impl SledStore {
    /// Opens (or creates) the store in `dir`. A store this process has just closed may still
    /// hold its file lock for a moment: sled's flusher thread releases it after the last handle
    /// is dropped (spacejam/sled#1234), so a lock that is busy is tried again for up to
    /// `LOCK_WAIT` before the error is returned. A store open elsewhere still fails then.
    pub fn open(dir: &Path) -> Result<Self, StoreError> {
        let mut waited = std::time::Duration::ZERO;
        let db = loop {
            match sled::open(dir) {
                // sled reports the busy lock as an `Other` error with the OS error in its text.
                Err(sled::Error::Io(e))
                    if e.to_string().starts_with("could not acquire lock")
                        && waited < LOCK_WAIT =>
                {
                    std::thread::sleep(LOCK_RETRY);
                    waited += LOCK_RETRY;
                }
                other => break other.map_err(err)?,
            }
        };
        Ok(SledStore {
            keys: db.open_tree("auth_keys").map_err(err)?,
            client_info: db.open_tree("client_info").map_err(err)?,
            db,
        })
    }

    /// Flushes everything written so far (graceful shutdown).
    pub fn flush(&self) -> Result<(), StoreError> {
        self.db.flush().map(|_| ()).map_err(err)
    }
}

impl Store for SledStore {
    fn insert_auth_key(&self, id: i64, key: &StoredKey) -> Result<Inserted, StoreError> {
        let swapped = self
            .keys
            .compare_and_swap(
                id.to_be_bytes(),
                None as Option<&[u8]>,
                Some(encode_key(key)),
            )
            .map_err(err)?;
        if swapped.is_err() {
            return Ok(Inserted::AlreadyExists);
        }
        // HS-19: durable before dh_gen_ok.
        self.keys.flush().map_err(err)?;
        Ok(Inserted::Yes)
    }

    fn auth_key(&self, id: i64) -> Result<Option<StoredKey>, StoreError> {
        self.keys
            .get(id.to_be_bytes())
            .map_err(err)?
            .map(|v| decode_key(&v))
            .transpose()
    }

    fn delete_auth_key(&self, id: i64) -> Result<bool, StoreError> {
        let k = id.to_be_bytes();
        let existed = (&self.keys, &self.client_info)
            .transaction(|(keys, info)| {
                info.remove(&k)?;
                Ok(keys.remove(&k)?.is_some())
            })
            .map_err(|e: sled::transaction::TransactionError<()>| err(format!("{e:?}")))?;
        self.db.flush().map_err(err)?;
        Ok(existed)
    }

    fn set_client_info(&self, id: i64, info: &ClientInfo) -> Result<(), StoreError> {
        self.client_info
            .insert(id.to_be_bytes(), info.encode())
            .map_err(err)?;
        Ok(())
    }

    fn client_info(&self, id: i64) -> Result<Option<ClientInfo>, StoreError> {
        self.client_info
            .get(id.to_be_bytes())
            .map_err(err)?
            .map(|v| ClientInfo::decode(&v))
            .transpose()
    }
}
