//! The content-related messages a session sent and the client has not acknowledged yet, kept
//! to be sent again (SV-6, SV-10), bounded in number and in bytes: a client that never acks
//! cannot make the server hold its answers without end. The oldest go first.

use std::collections::VecDeque;

use super::engine::Outgoing;

/// Most unacknowledged messages kept per session.
pub const MAX_UNACKED: usize = 256;
/// Most bytes of unacknowledged message bodies kept per session.
pub const MAX_UNACKED_BYTES: usize = 128 * 1024;

#[derive(Debug, Default)]
pub struct Held {
    messages: VecDeque<Outgoing>,
    bytes: usize,
}

impl Held {
    pub fn len(&self) -> usize {
        self.messages.len()
    }

    pub fn is_empty(&self) -> bool {
        self.messages.is_empty()
    }

    /// Body bytes held.
    pub fn bytes(&self) -> usize {
        self.bytes
    }

    pub fn iter(&self) -> impl Iterator<Item = &Outgoing> {
        self.messages.iter()
    }

    /// Holds `m`, forgetting the oldest beyond either cap (a message over the byte cap on its
    /// own is not held at all).
    pub fn push(&mut self, m: Outgoing) {
        self.bytes += m.body.len();
        self.messages.push_back(m);
        while self.messages.len() > MAX_UNACKED || self.bytes > MAX_UNACKED_BYTES {
            let Some(old) = self.messages.pop_front() else {
                break;
            };
            self.bytes -= old.body.len();
        }
    }

    /// The held message that answers the query `req_msg_id`, taken out.
    pub fn take_answer_to(&mut self, req_msg_id: i64) -> Option<Outgoing> {
        let i = self
            .messages
            .iter()
            .position(|m| m.answers == Some(req_msg_id))?;
        let m = self.messages.remove(i)?;
        self.bytes -= m.body.len();
        Some(m)
    }

    /// Whether a message with this id is held.
    pub fn holds(&self, msg_id: i64) -> bool {
        self.messages.iter().any(|m| m.msg_id == msg_id)
    }

    /// Forgets the messages with these ids (msgs_ack).
    pub fn acknowledge(&mut self, ids: &[i64]) {
        self.messages.retain(|m| !ids.contains(&m.msg_id));
        self.bytes = self.messages.iter().map(|m| m.body.len()).sum();
    }

    /// Takes out the messages with these ids, in order.
    pub fn take_ids(&mut self, ids: &[i64]) -> VecDeque<Outgoing> {
        let (taken, kept): (VecDeque<_>, VecDeque<_>) = std::mem::take(&mut self.messages)
            .into_iter()
            .partition(|m| ids.contains(&m.msg_id));
        self.messages = kept;
        self.bytes = self.messages.iter().map(|m| m.body.len()).sum();
        taken
    }

    /// Takes out everything, in order.
    pub fn take_all(&mut self) -> VecDeque<Outgoing> {
        self.bytes = 0;
        std::mem::take(&mut self.messages)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
        let big = MAX_UNACKED_BYTES / 4;
        for id in 0..6 {
            h.push(message(id, big, None));
        }
        assert_eq!(h.bytes(), 4 * big);
        assert_eq!(h.iter().map(|m| m.msg_id).collect::<Vec<_>>(), [2, 3, 4, 5]);
        h.push(message(9, MAX_UNACKED_BYTES + 1, None));
        assert!(h.is_empty(), "one message over the cap holds nothing");
        assert_eq!(h.bytes(), 0);
    }

    #[test]
    fn every_way_out_keeps_the_byte_count() {
        let mut h = Held::default();
        for id in 1..=6 {
            h.push(message(id, id as usize * 10, Some(100 + id)));
        }
        h.acknowledge(&[1, 2]);
        assert_eq!(h.bytes(), 30 + 40 + 50 + 60);
        let answer = h.take_answer_to(104).unwrap();
        assert_eq!(answer.msg_id, 4);
        assert!(h.take_answer_to(104).is_none());
        assert_eq!(h.bytes(), 30 + 50 + 60);
        assert!(h.holds(5) && !h.holds(4));
        let taken = h.take_ids(&[6, 3]);
        assert_eq!(taken.iter().map(|m| m.msg_id).collect::<Vec<_>>(), [3, 6]);
        assert_eq!(h.bytes(), 50);
        assert_eq!(h.take_all().len(), 1);
        assert_eq!((h.len(), h.bytes()), (0, 0));
    }
}
