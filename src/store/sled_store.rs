//! `SledStore`: the `Store` trait over sled 0.34. Trees: `auth_keys` (id BE → version ‖
//! created ‖ key), `records` (the account records) and `commit_journal` (the batch being
//! applied, see `journal`). Key insertion is a compare-and-swap on the id, so two handshakes can
//! never share one.
//!
//! Batches are not sled transactions. sled 0.34 starts every transaction (and `apply_batch`)
//! by sealing its current log buffer and writing it out (`PageCache::pin_log` → `roll_iobuf`:
//! a `pwrite` and a `sync_file_range` on its IO thread pool, twice per commit), so each commit
//! cost a disk write however the syncs were grouped: under `bench login` ~45 % of the server's
//! CPU went to those writes and the pool's wake-ups (issue 15, item 3). Here a commit holds the
//! store's commit lock (sled serialises transactions behind one global lock too), checks its
//! expectations, and applies its writes as plain inserts and removes, which only append to the
//! log buffer; `sync` writes the buffer once for every commit since the last. Atomicity across a
//! crash (DB-3, DB-5) comes from the journal: a batch of more than one write is first written as
//! one record under `JOURNAL_KEY`, then applied, then the record is removed. sled recovers a
//! prefix of its log (a torn tail is cut at the first message that does not check), and the
//! journal record precedes the batch's writes in it, so after a crash either none of the batch is
//! there, or the record is and `open` applies the whole batch again (puts and deletes in order
//! are idempotent on a state that has any prefix of them); nothing written after the batch can
//! be there without the record's removal, so a replay never overwrites a later commit.

use std::path::Path;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, RwLock, RwLockReadGuard, RwLockWriteGuard};

use super::unsynced::{observed, Unsynced};
use super::{
    decode_key, encode_key, Batch, Commit, Inserted, Scanned, Store, StoreError, StoredKey,
};

mod journal;

#[derive(Debug, Clone)]
pub struct SledStore {
    db: sled::Db,
    keys: sled::Tree,
    records: sled::Tree,
    journal: sled::Tree,
    /// Commits hold it for writing, reads of `records` for reading: no read sees half a batch.
    commits: Arc<RwLock<()>>,
    /// A commit failed half-way (a sled error between its writes): its journal record stays for
    /// the next `open` to replay, and no later commit may write over what the replay restores.
    broken: Arc<AtomicBool>,
    /// Keys written by commits no sync has covered yet (reads note what they rest on).
    unsynced: Arc<Mutex<Unsynced>>,
    /// Commits applied to `records` since open (a commit counts once it is applied).
    seq: Arc<AtomicU64>,
}

/// The tree that holds the journal record of the batch being applied.
const JOURNAL_TREE: &str = "commit_journal";
/// The one journal record: commits are applied one at a time.
const JOURNAL_KEY: &[u8] = b"batch";

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
        let store = SledStore {
            keys: db.open_tree("auth_keys").map_err(err)?,
            records: db.open_tree("records").map_err(err)?,
            journal: db.open_tree(JOURNAL_TREE).map_err(err)?,
            commits: Arc::default(),
            broken: Arc::default(),
            unsynced: Arc::default(),
            seq: Arc::new(AtomicU64::new(0)),
            db,
        };
        store.finish_interrupted_commit()?;
        Ok(store)
    }

    /// Applies the batch a crash interrupted, if any (see the module's comment), and makes the
    /// result durable before anything reads it.
    fn finish_interrupted_commit(&self) -> Result<(), StoreError> {
        let Some(record) = self.journal.get(JOURNAL_KEY).map_err(err)? else {
            return Ok(());
        };
        let ops = journal::decode(&record)?;
        tracing::warn!(
            writes = ops.len(),
            "store: finishing a commit that a crash interrupted"
        );
        self.apply(ops.into_iter())?;
        self.journal.remove(JOURNAL_KEY).map_err(err)?;
        self.db.flush().map_err(err)?;
        Ok(())
    }

    /// Puts and deletes `ops` in `records`, in order.
    fn apply<'a>(
        &self,
        ops: impl Iterator<Item = (&'a [u8], Option<&'a [u8]>)>,
    ) -> Result<(), StoreError> {
        for (k, v) in ops {
            match v {
                Some(v) => self.records.insert(k, v).map(drop),
                None => self.records.remove(k).map(drop),
            }
            .map_err(err)?;
        }
        Ok(())
    }

    fn reading(&self) -> RwLockReadGuard<'_, ()> {
        self.commits.read().unwrap_or_else(|p| p.into_inner())
    }

    fn writing(&self) -> RwLockWriteGuard<'_, ()> {
        self.commits.write().unwrap_or_else(|p| p.into_inner())
    }

    fn unsynced(&self) -> std::sync::MutexGuard<'_, Unsynced> {
        self.unsynced.lock().unwrap_or_else(|p| p.into_inner())
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
        let _reading = self.reading();
        let found = self
            .records
            .range::<&[u8], _>((start, std::ops::Bound::Unbounded))
            .take_while(|r| r.as_ref().map_or(true, |(k, _)| k.starts_with(prefix)))
            .take(limit)
            .map(|r| r.map(|(k, v)| (k.to_vec(), v.to_vec())).map_err(err))
            .collect();
        observed::note(self.unsynced().range(prefix, start));
        found
    }
}

impl Store for SledStore {
    fn get(&self, key: &[u8]) -> Result<Option<Vec<u8>>, StoreError> {
        let _reading = self.reading();
        let found = self.records.get(key).map_err(err)?.map(|v| v.to_vec());
        observed::note(self.unsynced().key(key));
        Ok(found)
    }

    fn scan(&self, prefix: &[u8], limit: usize) -> Result<Scanned, StoreError> {
        self.scan_from(prefix, super::scan_start(prefix, None), limit)
    }

    fn scan_after(&self, prefix: &[u8], after: &[u8], limit: usize) -> Result<Scanned, StoreError> {
        self.scan_from(prefix, super::scan_start(prefix, Some(after)), limit)
    }

    fn commit(&self, batch: &Batch) -> Result<Commit, StoreError> {
        let _writing = self.writing();
        if self.broken.load(Ordering::SeqCst) {
            return Err(StoreError(
                "an earlier commit failed half-way; restart the server to finish it".into(),
            ));
        }
        let mut unsynced = self.unsynced();
        for (k, want) in &batch.expect {
            // A conflict rests on what it found.
            observed::note(unsynced.key(k));
            if self.records.get(k).map_err(err)?.as_deref() != want.as_deref() {
                return Ok(Commit::Conflict);
            }
        }
        let ops = batch.ops.iter().map(|(k, v)| (k.as_slice(), v.as_deref()));
        if batch.ops.len() > 1 {
            self.journal
                .insert(JOURNAL_KEY, journal::encode(&batch.ops))
                .map_err(err)?;
            if let Err(e) = self
                .apply(ops)
                .and_then(|()| self.journal.remove(JOURNAL_KEY).map(drop).map_err(err))
            {
                self.broken.store(true, Ordering::SeqCst);
                return Err(e);
            }
        } else {
            // One write is atomic by itself.
            self.apply(ops)?;
        }
        // Counted after it is applied: a sync that reads the count covers this commit.
        let seq = self.seq.fetch_add(1, Ordering::SeqCst) + 1;
        unsynced.wrote(batch.ops.iter().map(|(k, _)| k.as_slice()), seq);
        observed::note(seq);
        Ok(Commit::Applied { seq })
    }

    fn written(&self) -> u64 {
        self.seq.load(Ordering::SeqCst)
    }

    fn sync(&self) -> Result<u64, StoreError> {
        let through = self.seq.load(Ordering::SeqCst);
        self.db.flush().map_err(err)?;
        self.unsynced().synced(through);
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
        let _writing = self.writing();
        self.keys.clear().map_err(err)?;
        self.records.clear().map_err(err)?;
        let through = self.seq.fetch_add(1, Ordering::SeqCst) + 1;
        self.db.flush().map_err(err)?;
        self.unsynced().synced(through);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dir(name: &str) -> std::path::PathBuf {
        let dir = std::env::temp_dir().join(format!("mtproto-sled-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        dir
    }

    fn batch(ops: &[(&[u8], Option<&[u8]>)]) -> Batch {
        let mut b = Batch::default();
        for (k, v) in ops {
            match v {
                Some(v) => b.put(k.to_vec(), v.to_vec()),
                None => b.delete(k.to_vec()),
            };
        }
        b
    }

    #[test]
    fn a_commit_leaves_no_journal_record() {
        let dir = dir("journal-clean");
        let store = SledStore::open(&dir).unwrap();
        let b = batch(&[(b"Ka", Some(b"1")), (b"Kb", Some(b"2")), (b"Kc", None)]);
        assert!(matches!(
            store.commit(&b).unwrap(),
            Commit::Applied { seq: 1 }
        ));
        assert_eq!(store.journal.get(JOURNAL_KEY).unwrap(), None);
        assert_eq!(store.get(b"Kb").unwrap(), Some(b"2".to_vec()));
        drop(store);
        let _ = std::fs::remove_dir_all(&dir);
    }

    /// What a crash in the middle of a commit leaves on disk: the journal record and the first
    /// writes of its batch. Opening the store finishes the batch.
    #[test]
    fn open_finishes_a_commit_a_crash_interrupted() {
        let dir = dir("journal-replay");
        {
            let store = SledStore::open(&dir).unwrap();
            let before = batch(&[(b"Ka", Some(b"old")), (b"Kc", Some(b"gone"))]);
            store.commit(&before).unwrap();
            let interrupted = batch(&[
                (b"Ka", Some(b"new")),
                (b"Kb", Some(b"new")),
                (b"Kc", None),
                (b"Kb", Some(b"newer")),
            ]);
            store
                .journal
                .insert(JOURNAL_KEY, journal::encode(&interrupted.ops))
                .unwrap();
            store.records.insert(b"Ka", b"new".as_slice()).unwrap();
            store.db.flush().unwrap();
        }
        let store = SledStore::open(&dir).unwrap();
        assert_eq!(
            store.scan(b"K", 10).unwrap(),
            vec![
                (b"Ka".to_vec(), b"new".to_vec()),
                (b"Kb".to_vec(), b"newer".to_vec())
            ]
        );
        assert_eq!(store.journal.get(JOURNAL_KEY).unwrap(), None);
        drop(store);
        // The finished batch was made durable by the open that finished it.
        let store = SledStore::open(&dir).unwrap();
        assert_eq!(store.get(b"Kb").unwrap(), Some(b"newer".to_vec()));
        drop(store);
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn a_damaged_journal_record_stops_the_open() {
        let dir = dir("journal-damaged");
        {
            let store = SledStore::open(&dir).unwrap();
            store.journal.insert(JOURNAL_KEY, &[9u8, 9][..]).unwrap();
            store.db.flush().unwrap();
        }
        let e = SledStore::open(&dir).unwrap_err();
        assert!(e.0.contains("commit journal record"), "{e}");
        let _ = std::fs::remove_dir_all(&dir);
    }

    /// Readers never see half a batch: every commit writes the same number under two keys, and
    /// every scan meanwhile finds them equal.
    #[test]
    fn no_read_sees_half_a_batch() {
        let dir = dir("journal-isolation");
        let store = SledStore::open(&dir).unwrap();
        let writer = {
            let store = store.clone();
            std::thread::spawn(move || {
                for n in 0u32..2000 {
                    let v = n.to_be_bytes();
                    store
                        .commit(&batch(&[(b"Ia", Some(&v)), (b"Ib", Some(&v))]))
                        .unwrap();
                }
            })
        };
        let mut seen = 0;
        while !writer.is_finished() {
            let both = store.scan(b"I", 10).unwrap();
            if both.len() == 2 {
                assert_eq!(both[0].1, both[1].1, "a read saw half a batch");
                seen += 1;
            }
        }
        writer.join().unwrap();
        assert!(seen > 0);
        drop(store);
        let _ = std::fs::remove_dir_all(&dir);
    }
}
