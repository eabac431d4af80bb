//! The server-wide budget for bytes held in incomplete frames (issue 14, item 2). Each frame is
//! capped (64 KiB before a key, 1 MiB after) and must be finished within the frame deadline, but
//! many connections can each hold a frame short of its last byte; together they may hold at most
//! this budget. Past it, the connections holding the most are closed first, down to an eighth
//! below the bound, so that a flood of half-sent frames costs the flooders their connections and
//! not the server its memory.
//!
//! Only connections holding something are in the table, and a connection reports only when what
//! it holds changes: whole frames, the usual case, never take the lock.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use super::mailbox::Mailbox;

/// The default bound, in bytes (`Limits::max_partial_frame_bytes`).
pub const DEFAULT_MAX: usize = 256 * 1024 * 1024;

#[derive(Debug)]
pub struct FrameBudget {
    max: usize,
    inner: Mutex<Holders>,
    /// Connections closed for the budget so far.
    closed: AtomicU64,
    /// When the shell last said so in the log.
    pub log: super::admission::Throttled,
}

#[derive(Debug, Default)]
struct Holders {
    total: usize,
    /// Connection id → bytes held and how to tell it to close.
    by_connection: HashMap<u64, (usize, Arc<Mailbox>)>,
}

impl FrameBudget {
    pub fn new(max: usize) -> Self {
        FrameBudget {
            max,
            inner: Mutex::default(),
            closed: AtomicU64::new(0),
            log: Default::default(),
        }
    }

    pub fn max(&self) -> usize {
        self.max
    }

    fn holders(&self) -> std::sync::MutexGuard<'_, Holders> {
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Connections closed for the budget so far.
    pub fn closed(&self) -> u64 {
        self.closed.load(Ordering::Relaxed)
    }

    /// Bytes held over the server.
    pub fn total(&self) -> usize {
        self.holders().total
    }

    /// Connection `id` now holds `bytes` (0: nothing, it leaves the table). Past the bound,
    /// the largest holders are told to close through their mailbox and leave the table;
    /// returns how many were, and whether `id` is one of them.
    pub fn set(&self, id: u64, bytes: usize, close: &Arc<Mailbox>) -> (usize, bool) {
        let mut h = self.holders();
        if let Some((old, _)) = h.by_connection.remove(&id) {
            h.total -= old;
        }
        if bytes == 0 {
            return (0, false);
        }
        h.total += bytes;
        h.by_connection.insert(id, (bytes, close.clone()));
        if h.total <= self.max {
            return (0, false);
        }
        let goal = self.max - self.max / 8;
        let mut largest: Vec<(u64, usize)> =
            h.by_connection.iter().map(|(c, (b, _))| (*c, *b)).collect();
        largest.sort_unstable_by_key(|(_, held)| std::cmp::Reverse(*held));
        let (mut closed, mut this_one) = (0, false);
        for (conn, held) in largest {
            if h.total <= goal {
                break;
            }
            if let Some((_, mailbox)) = h.by_connection.remove(&conn) {
                h.total -= held;
                mailbox.tell_to_close();
                closed += 1;
                this_one |= conn == id;
            }
        }
        self.closed.fetch_add(closed as u64, Ordering::Relaxed);
        (closed, this_one)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn past_the_bound_the_largest_holders_go_first() {
        let budget = FrameBudget::new(1000);
        let notes: Vec<Arc<Mailbox>> = (0..5).map(|_| Arc::default()).collect();
        assert_eq!(budget.set(0, 300, &notes[0]), (0, false));
        assert_eq!(budget.set(1, 100, &notes[1]), (0, false));
        assert_eq!(budget.set(2, 400, &notes[2]), (0, false));
        // A report replaces the last one.
        assert_eq!(budget.set(1, 150, &notes[1]), (0, false));
        assert_eq!(budget.total(), 850);
        // 850 + 200 > 1000: the 400 goes (down to 875 or less), the new one stays.
        assert_eq!(budget.set(3, 200, &notes[3]), (1, false));
        assert_eq!(budget.total(), 650);
        // One big enough to pass the bound alone closes itself first.
        assert_eq!(budget.set(4, 900, &notes[4]), (1, true));
        assert_eq!(budget.total(), 650);
        assert_eq!(budget.closed(), 2);
        // The closed ones were told (a wake-up waits for their next look).
        for (i, told) in [(2, true), (4, true), (0, false)] {
            assert_eq!(notes[i].take().close, told, "connection {i}");
        }
        // Nothing held: out of the table.
        budget.set(0, 0, &notes[0]);
        assert_eq!(budget.total(), 350);
    }
}
