//! The content-related messages a session sent and the client has not acknowledged yet, kept
//! to be sent again (SV-6, SV-10), bounded in number and in bytes per session, and through a
//! shared [`HeldBudget`] per auth key and over the server: a client that never acks cannot make
//! the server hold its answers without end, however many sessions and keys it opens. The oldest
//! go first. A message is charged what it really takes: its body's allocation and its entry.

use std::collections::VecDeque;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::Arc;

use super::engine::Outgoing;

/// Most unacknowledged messages kept per session.
pub const MAX_UNACKED: usize = 256;
/// Most bytes of unacknowledged messages kept per session.
pub const MAX_UNACKED_BYTES: usize = 128 * 1024;
/// Most bytes of unacknowledged messages kept over all sessions of one auth key.
pub const MAX_HELD_PER_KEY: usize = 512 * 1024;
/// Most bytes of unacknowledged messages kept over the server.
pub const MAX_HELD_TOTAL: usize = 256 * 1024 * 1024;

/// The order messages were held in, over the server (the server-wide budget drops the oldest).
static NEXT_SEQ: AtomicU64 = AtomicU64::new(0);

/// The bytes held over the server and its bounds; each key's sessions also share a count
/// ([`KeyHeld`]). `over` tells the owner of the sessions when to trim (`ServerState` does it,
/// oldest first, after the request that went over has let go of its session).
#[derive(Debug)]
pub struct HeldBudget {
    total: AtomicUsize,
    max_total: usize,
    max_per_key: usize,
    trimming: AtomicBool,
}

/// The bytes one key's sessions hold.
pub type KeyHeld = Arc<AtomicUsize>;

impl Default for HeldBudget {
    fn default() -> Self {
        Self::new(MAX_HELD_TOTAL, MAX_HELD_PER_KEY)
    }
}

impl HeldBudget {
    pub fn new(max_total: usize, max_per_key: usize) -> Self {
        HeldBudget {
            total: AtomicUsize::new(0),
            max_total,
            max_per_key,
            trimming: AtomicBool::new(false),
        }
    }

    /// Bytes held over the server.
    pub fn total(&self) -> usize {
        self.total.load(Ordering::Relaxed)
    }

    pub fn max_total(&self) -> usize {
        self.max_total
    }

    pub fn max_per_key(&self) -> usize {
        self.max_per_key
    }

    /// Whether the key's count or the server's is past its bound.
    pub fn over(&self, key: &AtomicUsize) -> (bool, bool) {
        (
            key.load(Ordering::Relaxed) > self.max_per_key,
            self.total() > self.max_total,
        )
    }

    /// Where a trim stops: an eighth below the bound, so that one trim covers many messages.
    pub fn goal(bound: usize) -> usize {
        bound - bound / 8
    }

    /// Runs `f` unless another thread is trimming the server-wide count already.
    pub fn trim_once(&self, f: impl FnOnce()) {
        if !self.trimming.swap(true, Ordering::Acquire) {
            f();
            self.trimming.store(false, Ordering::Release);
        }
    }
}

/// What a session's held messages are charged to.
#[derive(Debug, Clone)]
pub struct Charge {
    pub budget: Arc<HeldBudget>,
    pub key: KeyHeld,
}

impl Charge {
    fn add(&self, n: usize) {
        self.budget.total.fetch_add(n, Ordering::Relaxed);
        self.key.fetch_add(n, Ordering::Relaxed);
    }

    fn sub(&self, n: usize) {
        self.budget.total.fetch_sub(n, Ordering::Relaxed);
        self.key.fetch_sub(n, Ordering::Relaxed);
    }
}

#[derive(Debug)]
struct Entry {
    seq: u64,
    cost: usize,
    m: Outgoing,
}

/// What holding `m` takes: its body's allocation and its entry in the queue.
fn cost(m: &Outgoing) -> usize {
    m.body.capacity() + std::mem::size_of::<Entry>()
}

#[derive(Debug, Default)]
pub struct Held {
    messages: VecDeque<Entry>,
    bytes: usize,
    charge: Option<Charge>,
}

impl Drop for Held {
    fn drop(&mut self) {
        if let Some(c) = &self.charge {
            c.sub(self.bytes);
        }
    }
}

impl Held {
    /// From now on, what is held counts against `charge` too.
    pub fn charge_to(&mut self, charge: Charge) {
        if let Some(old) = &self.charge {
            old.sub(self.bytes);
        }
        charge.add(self.bytes);
        self.charge = Some(charge);
    }

    /// Whether the key's or the server's bound is passed (never, uncharged).
    pub fn over_budget(&self) -> (bool, bool) {
        self.charge
            .as_ref()
            .map_or((false, false), |c| c.budget.over(&c.key))
    }

    pub fn len(&self) -> usize {
        self.messages.len()
    }

    pub fn is_empty(&self) -> bool {
        self.messages.is_empty()
    }

    /// Bytes held (bodies' allocations and entries).
    pub fn bytes(&self) -> usize {
        self.bytes
    }

    pub fn iter(&self) -> impl Iterator<Item = &Outgoing> {
        self.messages.iter().map(|e| &e.m)
    }

    /// When the oldest held message was held, in the server's order.
    pub fn oldest(&self) -> Option<u64> {
        self.messages.front().map(|e| e.seq)
    }

    /// Forgets the oldest held message.
    pub fn drop_oldest(&mut self) -> bool {
        self.pop_front().is_some()
    }

    fn pop_front(&mut self) -> Option<Outgoing> {
        let e = self.messages.pop_front()?;
        self.release(e.cost);
        Some(e.m)
    }

    fn release(&mut self, n: usize) {
        self.bytes -= n;
        if let Some(c) = &self.charge {
            c.sub(n);
        }
    }

    /// Gives back what the entries no longer in `messages` were charged.
    fn recount(&mut self) {
        let now: usize = self.messages.iter().map(|e| e.cost).sum();
        self.release(self.bytes - now);
    }

    /// Holds `m`, forgetting the oldest beyond either cap (a message over the byte cap on its
    /// own is not held at all).
    pub fn push(&mut self, m: Outgoing) {
        let cost = cost(&m);
        let seq = NEXT_SEQ.fetch_add(1, Ordering::Relaxed);
        self.bytes += cost;
        if let Some(c) = &self.charge {
            c.add(cost);
        }
        if self.messages.capacity() == 0 {
            // A session usually holds one message (new_session_created until the client's
            // first ack): room for one, not the four a first push would make.
            self.messages.reserve_exact(1);
        }
        self.messages.push_back(Entry { seq, cost, m });
        while self.messages.len() > MAX_UNACKED || self.bytes > MAX_UNACKED_BYTES {
            if self.pop_front().is_none() {
                break;
            }
        }
    }

    /// The held message that answers the query `req_msg_id`, taken out.
    pub fn take_answer_to(&mut self, req_msg_id: i64) -> Option<Outgoing> {
        let i = self
            .messages
            .iter()
            .position(|e| e.m.answers == Some(req_msg_id))?;
        let e = self.messages.remove(i)?;
        self.release(e.cost);
        Some(e.m)
    }

    /// Whether a message with this id is held.
    pub fn holds(&self, msg_id: i64) -> bool {
        self.messages.iter().any(|e| e.m.msg_id == msg_id)
    }

    /// Forgets the messages with these ids (msgs_ack).
    pub fn acknowledge(&mut self, ids: &[i64]) {
        self.messages.retain(|e| !ids.contains(&e.m.msg_id));
        self.recount();
    }

    /// Takes out the messages with these ids, in order.
    pub fn take_ids(&mut self, ids: &[i64]) -> VecDeque<Outgoing> {
        let (taken, kept): (VecDeque<_>, VecDeque<_>) = std::mem::take(&mut self.messages)
            .into_iter()
            .partition(|e| ids.contains(&e.m.msg_id));
        self.messages = kept;
        self.recount();
        taken.into_iter().map(|e| e.m).collect()
    }

    /// Takes out everything, in order.
    pub fn take_all(&mut self) -> VecDeque<Outgoing> {
        let all = std::mem::take(&mut self.messages);
        self.recount();
        all.into_iter().map(|e| e.m).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const E: usize = std::mem::size_of::<Entry>();

    fn message(msg_id: i64, len: usize, answers: Option<i64>) -> Outgoing {
        Outgoing {
            msg_id,
            seqno: 1,
            body: vec![0; len],
            answers,
        }
    }

    #[test]
    fn both_caps_forget_the_oldest_first() {
        let mut h = Held::default();
        for id in 0..MAX_UNACKED as i64 + 10 {
            h.push(message(id, 4, None));
        }
        assert_eq!(h.len(), MAX_UNACKED);
        assert_eq!(h.iter().next().unwrap().msg_id, 10);

        let mut h = Held::default();
        let big = MAX_UNACKED_BYTES / 4 - E;
        for id in 0..6 {
            h.push(message(id, big, None));
        }
        assert_eq!(h.bytes(), 4 * (big + E));
        assert_eq!(h.iter().map(|m| m.msg_id).collect::<Vec<_>>(), [2, 3, 4, 5]);
        h.push(message(9, MAX_UNACKED_BYTES + 1, None));
        assert!(h.is_empty(), "one message over the cap holds nothing");
        assert_eq!(h.bytes(), 0);
    }

    #[test]
    fn every_way_out_keeps_the_byte_count() {
        let budget = Arc::new(HeldBudget::new(1 << 20, 1 << 20));
        let key = KeyHeld::default();
        let mut h = Held::default();
        h.charge_to(Charge {
            budget: budget.clone(),
            key: key.clone(),
        });
        for id in 1..=6 {
            h.push(message(id, id as usize * 10, Some(100 + id)));
        }
        let charged = |h: &Held| {
            assert_eq!(budget.total(), h.bytes());
            assert_eq!(key.load(Ordering::Relaxed), h.bytes());
        };
        charged(&h);
        h.acknowledge(&[1, 2]);
        assert_eq!(h.bytes(), 30 + 40 + 50 + 60 + 4 * E);
        charged(&h);
        let answer = h.take_answer_to(104).unwrap();
        assert_eq!(answer.msg_id, 4);
        assert!(h.take_answer_to(104).is_none());
        assert_eq!(h.bytes(), 30 + 50 + 60 + 3 * E);
        assert!(h.holds(5) && !h.holds(4));
        let taken = h.take_ids(&[6, 3]);
        assert_eq!(taken.iter().map(|m| m.msg_id).collect::<Vec<_>>(), [3, 6]);
        assert_eq!(h.bytes(), 50 + E);
        charged(&h);
        assert!(h.drop_oldest() && !h.drop_oldest());
        h.push(message(7, 70, None));
        assert_eq!(h.take_all().len(), 1);
        assert_eq!((h.len(), h.bytes()), (0, 0));
        charged(&h);
        h.push(message(8, 80, None));
        drop(h);
        assert_eq!(budget.total(), 0, "a dropped session gives its bytes back");
        assert_eq!(key.load(Ordering::Relaxed), 0);
    }

    #[test]
    fn the_budget_says_which_bound_is_passed() {
        let budget = Arc::new(HeldBudget::new(3 * (100 + E), 2 * (100 + E)));
        let (k1, k2) = (KeyHeld::default(), KeyHeld::default());
        let held = |key: &KeyHeld| {
            let mut h = Held::default();
            h.charge_to(Charge {
                budget: budget.clone(),
                key: key.clone(),
            });
            h
        };
        let (mut a, mut b, mut c) = (held(&k1), held(&k1), held(&k2));
        a.push(message(1, 100, None));
        b.push(message(2, 100, None));
        assert_eq!(a.over_budget(), (false, false));
        b.push(message(3, 100, None));
        assert_eq!(
            a.over_budget(),
            (true, false),
            "the key's sessions share its bound"
        );
        assert_eq!(c.over_budget(), (false, false));
        c.push(message(4, 100, None));
        assert_eq!(c.over_budget(), (false, true));
        assert!(a.oldest() < b.oldest() && b.oldest() < c.oldest());
        assert_eq!(Held::default().over_budget(), (false, false));
    }
}
