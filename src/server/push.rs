//! Update delivery between connections: which connections carry which auth keys, so that an
//! update one request causes (a login code for the user's other sessions, a new login) reaches
//! the others. Each connection has a small queue; an update for a full queue is dropped (the
//! client recovers through updates.getDifference), so a flood of them cannot grow memory.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use tokio::sync::mpsc;

use crate::rpc::Push;

/// Updates queued per connection at most.
pub const QUEUE: usize = 64;

pub type Update = (i64, Arc<Vec<u8>>);

/// The connections carrying one key, with their queues.
type Subscribers = Vec<(u64, mpsc::Sender<Update>)>;

#[derive(Default)]
pub struct PushRegistry {
    by_key: Mutex<HashMap<i64, Subscribers>>,
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

impl PushRegistry {
    pub fn register(&self, key_id: i64, connection: u64, tx: mpsc::Sender<Update>) {
        lock(&self.by_key)
            .entry(key_id)
            .or_default()
            .push((connection, tx));
    }

    pub fn unregister(&self, keys: &[i64], connection: u64) {
        let mut by_key = lock(&self.by_key);
        for key in keys {
            if let Some(conns) = by_key.get_mut(key) {
                conns.retain(|(c, _)| *c != connection);
                if conns.is_empty() {
                    by_key.remove(key);
                }
            }
        }
    }

    /// Queues `push` for every connection of its keys but `from`.
    pub fn deliver(&self, push: Push, from: u64) {
        let body = Arc::new(push.body);
        let by_key = lock(&self.by_key);
        for key in push.keys {
            for (conn, tx) in by_key.get(&key).into_iter().flatten() {
                if *conn != from && tx.try_send((key, body.clone())).is_err() {
                    tracing::debug!(conn, "update queue full; update dropped");
                }
            }
        }
    }
}
