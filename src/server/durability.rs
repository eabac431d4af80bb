//! Group commit (DB-1): an answer that rests on the store goes out only after a store sync
//! has covered the last commit it saw. One thread runs the syncs; connections ask for one and
//! wait without holding a worker, so every commit made while a sync runs is covered by the
//! next, and concurrent logins share their flushes instead of paying one each.

use std::sync::{Arc, Condvar, Mutex};

use tokio::sync::watch;

use crate::store::Store;

/// What the sync thread has done: commits covered so far, syncs run, and syncs that failed.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
struct Synced {
    through: u64,
    syncs: u64,
    failures: u64,
}

/// A sync failed: the answer waiting for it must not be sent (nothing acknowledged is lost).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SyncFailed;

#[derive(Default)]
struct Requests {
    /// A sync is wanted that starts after this was set.
    wanted: bool,
    stop: bool,
}

pub struct Durability {
    synced: watch::Sender<Synced>,
    requests: Arc<(Mutex<Requests>, Condvar)>,
    thread: Mutex<Option<std::thread::JoinHandle<()>>>,
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

impl Durability {
    /// Starts the sync thread for `store`.
    pub fn start(store: Arc<dyn Store>) -> std::io::Result<Self> {
        Self::start_observed(store, |_, _| {})
    }

    /// Starts the sync thread, telling `observe` each sync's time and the commits it covered.
    pub fn start_observed(
        store: Arc<dyn Store>,
        observe: impl Fn(std::time::Duration, u64) + Send + 'static,
    ) -> std::io::Result<Self> {
        let (synced, _) = watch::channel(Synced::default());
        let requests: Arc<(Mutex<Requests>, Condvar)> = Arc::default();
        let thread = {
            let synced = synced.clone();
            let requests = requests.clone();
            std::thread::Builder::new()
                .name("store-sync".into())
                .spawn(move || sync_loop(&*store, &synced, &requests, &observe))?
        };
        Ok(Durability {
            synced,
            requests,
            thread: Mutex::new(Some(thread)),
        })
    }

    /// Whether commit `seq` is durable already (an answer can go without waiting).
    pub fn covers(&self, seq: u64) -> bool {
        self.synced.borrow().through >= seq
    }

    /// Waits until commit `seq` is durable.
    pub async fn wait_for(&self, seq: u64) -> Result<(), SyncFailed> {
        let mut rx = self.synced.subscribe();
        let start = *rx.borrow_and_update();
        if start.through >= seq {
            return Ok(());
        }
        {
            let (m, cv) = &*self.requests;
            lock(m).wanted = true;
            cv.notify_one();
        }
        let done = rx
            .wait_for(|s| s.through >= seq || s.failures > start.failures)
            .await
            .map_err(|_| SyncFailed)?;
        if done.through >= seq {
            Ok(())
        } else {
            Err(SyncFailed)
        }
    }

    /// Stops the sync thread (after the sync it may be running).
    pub fn stop(&self) {
        let (m, cv) = &*self.requests;
        lock(m).stop = true;
        cv.notify_one();
        if let Some(t) = lock(&self.thread).take() {
            let _ = t.join();
            let s = *self.synced.borrow();
            tracing::info!(
                syncs = s.syncs,
                commits = s.through,
                failures = s.failures,
                "store syncs for answers: {:.1} commits per sync",
                s.through as f64 / s.syncs.max(1) as f64
            );
        }
    }
}

impl Drop for Durability {
    fn drop(&mut self) {
        self.stop();
    }
}

/// A sync that covered at least this many commits means many clients are waiting on syncs.
const GATHER_AFTER: u64 = 4;
/// … and then the next sync starts this much later, so that more commits share it.
const GATHER: std::time::Duration = std::time::Duration::from_millis(2);

/// How long to gather commits before the next sync, given what the last one covered (issue
/// 15, item 3; PostgreSQL's commit_delay with commit_siblings is the same idea). One sync per
/// few commits is what the server's CPU goes to under a login load (the sled writer threads'
/// sync_file_range); a client alone is not made to wait. Measured with `bench login`
/// (interleaved runs, README): p99 51–55 ms → 37–40 ms, logins/s 2,715–2,975 → 3,021–3,537.
fn gather_for(last_covered: u64) -> std::time::Duration {
    if last_covered >= GATHER_AFTER {
        GATHER
    } else {
        std::time::Duration::ZERO
    }
}

fn sync_loop(
    store: &dyn Store,
    synced: &watch::Sender<Synced>,
    requests: &(Mutex<Requests>, Condvar),
    observe: &dyn Fn(std::time::Duration, u64),
) {
    let (m, cv) = requests;
    let mut last_covered = 0;
    loop {
        std::thread::sleep(gather_for(last_covered));
        {
            let mut r = lock(m);
            while !r.wanted && !r.stop {
                r = cv.wait(r).unwrap_or_else(|p| p.into_inner());
            }
            if r.stop {
                return;
            }
            // Cleared before the sync starts: a request made from now on gets another one.
            r.wanted = false;
        }
        let started = std::time::Instant::now();
        match store.sync() {
            Ok(through) => {
                last_covered = through.saturating_sub(synced.borrow().through);
                observe(started.elapsed(), last_covered);
                synced.send_modify(|s| {
                    s.through = s.through.max(through);
                    s.syncs += 1;
                });
            }
            Err(e) => {
                tracing::error!(error = %e, "store sync failed; answers waiting for it are dropped");
                synced.send_modify(|s| s.failures += 1);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::{Batch, Commit, MemoryStore, SledStore};

    #[test]
    fn commits_are_gathered_only_after_a_sync_many_shared() {
        assert_eq!(gather_for(0), std::time::Duration::ZERO);
        assert_eq!(gather_for(GATHER_AFTER - 1), std::time::Duration::ZERO);
        assert_eq!(gather_for(GATHER_AFTER), GATHER);
        assert_eq!(gather_for(100), GATHER);
    }

    fn commit(store: &dyn Store, n: u8) -> u64 {
        let mut b = Batch::default();
        b.put(vec![b'x', n], vec![1]);
        match store.commit(&b).unwrap() {
            Commit::Applied { seq } => seq,
            Commit::Conflict => unreachable!("no expectations"),
        }
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn concurrent_waiters_are_covered_by_shared_syncs() {
        let dir = std::env::temp_dir().join(format!("mtproto-durability-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let store: Arc<dyn Store> = Arc::new(SledStore::open(&dir).unwrap());
        let d = Arc::new(Durability::start(store.clone()).unwrap());
        let mut tasks = Vec::new();
        for n in 0..64u8 {
            let (d, store) = (d.clone(), store.clone());
            tasks.push(tokio::spawn(async move {
                let seq = commit(&*store, n);
                d.wait_for(seq).await.unwrap();
                seq
            }));
        }
        for t in tasks {
            t.await.unwrap();
        }
        assert!(d.synced.borrow().through >= 64);
        // Nothing pending: no wait at all.
        d.wait_for(0).await.unwrap();
        d.stop();
        drop(d);
        drop(store);
        let _ = std::fs::remove_dir_all(&dir);
    }

    /// A store whose sync always fails.
    struct Broken(MemoryStore);

    impl Store for Broken {
        fn get(&self, k: &[u8]) -> Result<Option<Vec<u8>>, crate::store::StoreError> {
            self.0.get(k)
        }
        fn scan(
            &self,
            p: &[u8],
            l: usize,
        ) -> Result<crate::store::Scanned, crate::store::StoreError> {
            self.0.scan(p, l)
        }
        fn scan_after(
            &self,
            p: &[u8],
            a: &[u8],
            l: usize,
        ) -> Result<crate::store::Scanned, crate::store::StoreError> {
            self.0.scan_after(p, a, l)
        }
        fn commit(&self, b: &Batch) -> Result<Commit, crate::store::StoreError> {
            self.0.commit(b)
        }
        fn written(&self) -> u64 {
            self.0.written()
        }
        fn sync(&self) -> Result<u64, crate::store::StoreError> {
            Err(crate::store::StoreError("disk on fire".into()))
        }
        fn insert_auth_key(
            &self,
            id: i64,
            key: &crate::store::StoredKey,
        ) -> Result<crate::store::Inserted, crate::store::StoreError> {
            self.0.insert_auth_key(id, key)
        }
        fn auth_key(
            &self,
            id: i64,
        ) -> Result<Option<crate::store::StoredKey>, crate::store::StoreError> {
            self.0.auth_key(id)
        }
        fn delete_auth_key(&self, id: i64) -> Result<bool, crate::store::StoreError> {
            self.0.delete_auth_key(id)
        }
        fn clear(&self) -> Result<(), crate::store::StoreError> {
            self.0.clear()
        }
    }

    #[tokio::test]
    async fn a_failed_sync_fails_the_waiter_instead_of_acknowledging() {
        let store: Arc<dyn Store> = Arc::new(Broken(MemoryStore::default()));
        let d = Durability::start(store.clone()).unwrap();
        let seq = commit(&*store, 1);
        assert_eq!(d.wait_for(seq).await, Err(SyncFailed));
    }
}
