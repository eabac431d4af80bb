//! `SledStore`: the `Store` trait over sled 0.34. Trees: `auth_keys` (id BE → version ‖
//! created ‖ key) and `records` (the account records, written by single-tree transactions).
//! Key insertion is a compare-and-swap on the id, so two handshakes can never share one.

use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use sled::transaction::{abort, TransactionError};

use super::{
    decode_key, encode_key, Batch, Commit, Inserted, Scanned, Store, StoreError, StoredKey,
};

#[derive(Debug, Clone)]
pub struct SledStore {
    db: sled::Db,
    keys: sled::Tree,
    records: sled::Tree,
    /// Commits applied to `records` since open (a commit counts once it is applied).
    seq: Arc<AtomicU64>,
}

/// The tree of client info that earlier versions kept for every key.
const OLD_CLIENT_INFO_TREE: &str = "client_info";

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
        // No background flusher: every write that matters is synced before it is acknowledged
        // (DB-1), and without the flusher thread a closed store lets go of its lock at once.
        let config = sled::Config::new().path(dir).flush_every_ms(None);
        let db = loop {
            match config.open() {
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
        // Earlier versions kept every key's initConnection strings here, logged in or not;
        // they now live with the login (records::Authorization), so the tree goes.
        db.drop_tree(OLD_CLIENT_INFO_TREE).map_err(err)?;
        Ok(SledStore {
            keys: db.open_tree("auth_keys").map_err(err)?,
            records: db.open_tree("records").map_err(err)?,
            seq: Arc::new(AtomicU64::new(0)),
            db,
        })
    }

    /// Flushes everything written so far (graceful shutdown).
    pub fn flush(&self) -> Result<(), StoreError> {
        self.db.flush().map(|_| ()).map_err(err)
    }
}

impl SledStore {
    /// Up to `limit` records from `start` on whose keys start with `prefix`.
    fn scan_from(
        &self,
        prefix: &[u8],
        start: std::ops::Bound<&[u8]>,
        limit: usize,
    ) -> Result<Scanned, StoreError> {
        self.records
            .range::<&[u8], _>((start, std::ops::Bound::Unbounded))
            .take_while(|r| r.as_ref().map_or(true, |(k, _)| k.starts_with(prefix)))
            .take(limit)
            .map(|r| r.map(|(k, v)| (k.to_vec(), v.to_vec())).map_err(err))
            .collect()
    }
}

impl Store for SledStore {
    fn get(&self, key: &[u8]) -> Result<Option<Vec<u8>>, StoreError> {
        Ok(self.records.get(key).map_err(err)?.map(|v| v.to_vec()))
    }

    fn scan(&self, prefix: &[u8], limit: usize) -> Result<Scanned, StoreError> {
        self.scan_from(prefix, super::scan_start(prefix, None), limit)
    }

    fn scan_after(&self, prefix: &[u8], after: &[u8], limit: usize) -> Result<Scanned, StoreError> {
        self.scan_from(prefix, super::scan_start(prefix, Some(after)), limit)
    }

    fn commit(&self, batch: &Batch) -> Result<Commit, StoreError> {
        let applied = self.records.transaction(|t| {
            for (k, want) in &batch.expect {
                if t.get(k)?.as_deref() != want.as_deref() {
                    return abort(());
                }
            }
            for (k, v) in &batch.ops {
                match v {
                    Some(v) => t.insert(k.as_slice(), v.as_slice())?,
                    None => t.remove(k.as_slice())?,
                };
            }
            Ok(())
        });
        match applied {
            // Counted after it is applied: a sync that reads the count covers this commit.
            Ok(()) => Ok(Commit::Applied {
                seq: self.seq.fetch_add(1, Ordering::SeqCst) + 1,
            }),
            Err(TransactionError::Abort(())) => Ok(Commit::Conflict),
            Err(TransactionError::Storage(e)) => Err(err(e)),
        }
    }

    fn written(&self) -> u64 {
        self.seq.load(Ordering::SeqCst)
    }

    fn sync(&self) -> Result<u64, StoreError> {
        let through = self.seq.load(Ordering::SeqCst);
        self.db.flush().map_err(err)?;
        Ok(through)
    }

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
        // Counted as a commit once applied: dh_gen_ok waits for the sync that covers it (HS-19,
        // DB-1), which one flush shares among every key and record written meanwhile.
        self.seq.fetch_add(1, Ordering::SeqCst);
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
        let existed = self.keys.remove(k).map_err(err)?.is_some();
        self.db.flush().map_err(err)?;
        Ok(existed)
    }

    fn clear(&self) -> Result<(), StoreError> {
        self.keys.clear().map_err(err)?;
        self.records.clear().map_err(err)?;
        self.seq.fetch_add(1, Ordering::SeqCst);
        self.db.flush().map_err(err)?;
        Ok(())
    }
}
