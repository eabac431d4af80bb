//! Update delivery between connections: which connections carry which auth keys, so that an
//! update one request causes (a login code for the user's other sessions, a new login) reaches
//! the others. Each connection has a small queue, its mailbox (`mailbox.rs`); an update for a
//! full queue is dropped (the client recovers through updates.getDifference), so a flood of them
//! cannot grow memory.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use super::mailbox::Mailbox;
use crate::rpc::Push;

/// An update's auth key and its serialized body (one body for every connection it goes to).
pub type Update = (i64, Arc<Vec<u8>>);

/// The connections carrying one key, with their mailboxes.
type Subscribers = Vec<(u64, Arc<Mailbox>)>;

#[derive(Default)]
pub struct PushRegistry {
    by_key: Mutex<HashMap<i64, Subscribers>>,
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

impl PushRegistry {
    pub fn register(&self, key_id: i64, connection: u64, mailbox: Arc<Mailbox>) {
        lock(&self.by_key)
            .entry(key_id)
            .or_default()
            .push((connection, mailbox));
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
            for (conn, mailbox) in by_key.get(&key).into_iter().flatten() {
                if *conn != from && !mailbox.post((key, body.clone())) {
                    tracing::debug!(conn, "update queue full; update dropped");
                }
            }
        }
    }
}
