//! Message ids and sequence numbers (SS-2 … SS-6).
//!
//! A msg_id is roughly `unixtime · 2³²`: the high 32 bits are seconds, the low bits a fraction.
//! Client ids are ≡ 0 mod 4; server ids ≡ 1 mod 4 for responses and ≡ 3 otherwise, strictly
//! increasing. A seqno is `2 × (content-related messages sent before) + 1` for content-related
//! messages, `+ 0` for the rest, so odd means content-related.
//!
//! `MsgWindow` keeps the recent client ids of one session with their seqnos and classifies a new
//! message in the order SS-6 fixes: 18 → 16/17 → duplicate/20 → 19 → 32–35 (the salt check, 48,
//! comes after, elsewhere).

use std::collections::VecDeque;

/// Client msg_ids more than this far in the past are refused (16).
pub const MAX_PAST_SECS: i64 = 300;
/// Client msg_ids more than this far in the future are refused (17).
pub const MAX_FUTURE_SECS: i64 = 30;
/// Recent client ids kept per session (SS-4 asks for at least 500).
pub const WINDOW: usize = 1024;

/// `bad_msg_notification` error codes (SS-5).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BadMsg {
    /// 16: msg_id too low (its time is over 300 s in the past).
    TooOld = 16,
    /// 17: msg_id too high (its time is over 30 s in the future).
    TooNew = 17,
    /// 18: msg_id not ≡ 0 mod 4.
    BadParity = 18,
    /// 19: a container with the id of a message already received.
    ContainerIdReused = 19,
    /// 20: older than every id still remembered: whether it was received cannot be told.
    Forgotten = 20,
    /// 32: seqno too low.
    SeqnoTooLow = 32,
    /// 33: seqno too high.
    SeqnoTooHigh = 33,
    /// 34: an even seqno was expected (not content-related), an odd one came.
    EvenExpected = 34,
    /// 35: an odd seqno was expected (content-related), an even one came.
    OddExpected = 35,
}

impl BadMsg {
    pub fn code(self) -> i32 {
        self as i32
    }
}

/// The seqno parity a message kind requires (SS-5 codes 34/35).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Parity {
    /// Content-related: an odd seqno.
    Odd,
    /// Not content-related (acks, containers, msg_copy, gzip_packed): an even seqno.
    Even,
    /// Kinds clients disagree on (ping: Telethon sends it odd, Kurigram even).
    Either,
}

/// A message that passed the id and seqno checks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Received {
    /// Not seen before: process it (then `record` it).
    New,
    /// Seen before: never process twice; resend the cached answer or ignore (SS-4).
    Duplicate,
}

/// The time part of a msg_id, in seconds.
fn seconds(msg_id: i64) -> i64 {
    msg_id >> 32
}

/// The recent client message ids of one session, with their seqnos, sorted by id. Clients send
/// ids in increasing order, so a new id almost always goes at the back: a deque keeps that and
/// forgetting the oldest O(1) (a search tree cost four lookups a message).
#[derive(Debug, Clone, Default)]
pub struct MsgWindow {
    ids: VecDeque<(i64, i32)>,
    /// Ids at or below this are refused as too old (16): a new session of a key that lost one
    /// (evicted or destroyed) must not take that session's messages again (SS-4).
    floor: Option<i64>,
}

impl Parity {
    /// Whether `seqno` has this parity: 34 (an even one was expected) or 35 (an odd one).
    pub fn admits(self, seqno: i32) -> Result<(), BadMsg> {
        let odd = seqno & 1 == 1;
        match self {
            Parity::Odd if !odd => Err(BadMsg::OddExpected),
            Parity::Even if odd => Err(BadMsg::EvenExpected),
            _ => Ok(()),
        }
    }
}

impl MsgWindow {
    pub fn new() -> Self {
        Self::default()
    }

    /// A window that refuses every id at or below `floor` with 16, as if it had seen them.
    pub fn above(floor: Option<i64>) -> Self {
        MsgWindow {
            ids: VecDeque::new(),
            floor,
        }
    }

    /// Classifies a client message. `parity`: the seqno parity its kind requires (SS-5 codes
    /// 34/35). `container`: the message is a msg_container (a reused id is then 19, not a
    /// duplicate).
    pub fn check(
        &self,
        msg_id: i64,
        seqno: i32,
        parity: Parity,
        container: bool,
        now_secs: i64,
    ) -> Result<Received, BadMsg> {
        // Low 32 bits of zero are fine: pyrogram 2.0.106 and pyrofork start each second's ids
        // at `unixtime << 32` exactly, and Telegram takes them.
        if msg_id % 4 != 0 {
            return Err(BadMsg::BadParity);
        }
        let t = seconds(msg_id);
        if t < now_secs - MAX_PAST_SECS {
            return Err(BadMsg::TooOld);
        }
        if t > now_secs + MAX_FUTURE_SECS {
            return Err(BadMsg::TooNew);
        }
        if self.floor.is_some_and(|floor| msg_id <= floor) {
            return Err(BadMsg::TooOld);
        }
        let pos = self.position(msg_id);
        if self.ids.get(pos).is_some_and(|&(id, _)| id == msg_id) {
            return if container {
                Err(BadMsg::ContainerIdReused)
            } else {
                Ok(Received::Duplicate)
            };
        }
        if self.ids.len() >= WINDOW && pos == 0 {
            return Err(BadMsg::Forgotten);
        }
        parity.admits(seqno)?;
        let odd = seqno & 1 == 1;
        // Stored seqnos never decrease with msg_id, so the neighbours decide.
        if let Some(&(_, before)) = pos.checked_sub(1).and_then(|i| self.ids.get(i)) {
            if before > seqno || (before == seqno && odd) {
                return Err(BadMsg::SeqnoTooLow);
            }
        }
        if let Some(&(_, after)) = self.ids.get(pos) {
            if after < seqno || (after == seqno && odd) {
                return Err(BadMsg::SeqnoTooHigh);
            }
        }
        Ok(Received::New)
    }

    /// Remembers a message that `check` accepted as new; forgets the oldest beyond `WINDOW`.
    pub fn record(&mut self, msg_id: i64, seqno: i32) {
        let pos = self.position(msg_id);
        match self.ids.get_mut(pos) {
            Some(entry) if entry.0 == msg_id => entry.1 = seqno,
            _ => self.ids.insert(pos, (msg_id, seqno)),
        }
        while self.ids.len() > WINDOW {
            self.ids.pop_front();
        }
    }

    /// Where `msg_id` is or would go: the number of remembered ids below it.
    fn position(&self, msg_id: i64) -> usize {
        match self.ids.back() {
            // The usual case: a newer id than any so far.
            Some(&(last, _)) if last < msg_id => self.ids.len(),
            _ => self.ids.partition_point(|&(id, _)| id < msg_id),
        }
    }

    /// Whether `msg_id` was received (for msgs_state_req, SV-10).
    pub fn contains(&self, msg_id: i64) -> bool {
        self.ids
            .get(self.position(msg_id))
            .is_some_and(|&(id, _)| id == msg_id)
    }

    /// The oldest id still remembered.
    pub fn oldest(&self) -> Option<i64> {
        self.ids.front().map(|&(id, _)| id)
    }

    /// The newest id received.
    pub fn newest(&self) -> Option<i64> {
        self.ids.back().map(|&(id, _)| id)
    }
}

/// Server msg_ids for one session: time-based, strictly increasing, ≡ 1 mod 4 for responses and
/// ≡ 3 for everything else (SS-2).
#[derive(Debug, Clone, Default)]
pub struct MsgIdGenerator {
    last: i64,
}

impl MsgIdGenerator {
    pub fn new() -> Self {
        Self::default()
    }

    /// The next server id at `now` (seconds and nanoseconds since the Unix epoch).
    pub fn next(&mut self, now_secs: i64, now_nanos: u32, response: bool) -> i64 {
        self.next_with_parity(now_secs, now_nanos, if response { 1 } else { 3 })
    }

    /// The next client id (≡ 0 mod 4), for our client library.
    pub fn next_client(&mut self, now_secs: i64, now_nanos: u32) -> i64 {
        self.next_with_parity(now_secs, now_nanos, 0)
    }

    fn next_with_parity(&mut self, now_secs: i64, now_nanos: u32, parity: i64) -> i64 {
        let fraction = ((u64::from(now_nanos.min(999_999_999)) << 32) / 1_000_000_000) as i64;
        let mut id = ((now_secs << 32) | fraction) & !3 | parity;
        if id <= self.last {
            id = (self.last & !3) + 4 + parity;
        }
        self.last = id;
        id
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOW: i64 = 1_700_000_000;

    fn id(secs: i64, low: i64) -> i64 {
        (secs << 32) | low
    }

    #[test]
    fn parity_is_18_and_zero_low_bits_are_taken() {
        let w = MsgWindow::new();
        assert_eq!(
            w.check(id(NOW, 5), 1, Parity::Odd, false, NOW),
            Err(BadMsg::BadParity)
        );
        // pyrogram 2.0.106's first id of every second.
        assert_eq!(
            w.check(id(NOW, 0), 1, Parity::Odd, false, NOW),
            Ok(Received::New)
        );
        assert_eq!(
            w.check(id(NOW, 4), 1, Parity::Odd, false, NOW),
            Ok(Received::New)
        );
    }

    #[test]
    fn time_window_is_16_and_17_and_parity_comes_first() {
        let w = MsgWindow::new();
        assert_eq!(
            w.check(id(NOW - 301, 4), 1, Parity::Odd, false, NOW),
            Err(BadMsg::TooOld)
        );
        assert_eq!(
            w.check(id(NOW - 300, 4), 1, Parity::Odd, false, NOW),
            Ok(Received::New)
        );
        assert_eq!(
            w.check(id(NOW + 31, 4), 1, Parity::Odd, false, NOW),
            Err(BadMsg::TooNew)
        );
        assert_eq!(
            w.check(id(NOW + 30, 4), 1, Parity::Odd, false, NOW),
            Ok(Received::New)
        );
        assert_eq!(
            w.check(id(NOW + 31, 6), 1, Parity::Odd, false, NOW),
            Err(BadMsg::BadParity)
        );
    }

    #[test]
    fn ids_at_or_below_the_floor_are_16() {
        let w = MsgWindow::above(Some(id(NOW - 10, 40)));
        assert_eq!(
            w.check(id(NOW - 10, 40), 1, Parity::Odd, false, NOW),
            Err(BadMsg::TooOld)
        );
        assert_eq!(
            w.check(id(NOW - 20, 4), 1, Parity::Odd, false, NOW),
            Err(BadMsg::TooOld)
        );
        assert_eq!(
            w.check(id(NOW - 10, 44), 1, Parity::Odd, false, NOW),
            Ok(Received::New)
        );
        // Parity (18) still comes first.
        assert_eq!(
            w.check(id(NOW - 20, 5), 1, Parity::Odd, false, NOW),
            Err(BadMsg::BadParity)
        );
    }

    #[test]
    fn duplicates_are_reported_never_new_and_containers_get_19() {
        let mut w = MsgWindow::new();
        w.record(id(NOW, 8), 1);
        assert_eq!(
            w.check(id(NOW, 8), 1, Parity::Odd, false, NOW),
            Ok(Received::Duplicate)
        );
        assert_eq!(
            w.check(id(NOW, 8), 2, Parity::Even, true, NOW),
            Err(BadMsg::ContainerIdReused)
        );
    }

    #[test]
    fn ids_older_than_a_full_window_are_20() {
        let mut w = MsgWindow::new();
        for i in 0..WINDOW as i64 + 10 {
            w.record(id(NOW, 4 * (i + 100)), 2 * i as i32 + 1);
        }
        assert_eq!(w.oldest(), Some(id(NOW, 4 * 110)));
        assert_eq!(
            w.check(id(NOW, 4 * 50), 1, Parity::Odd, false, NOW),
            Err(BadMsg::Forgotten)
        );
    }

    #[test]
    fn seqno_parity_is_34_and_35() {
        let w = MsgWindow::new();
        assert_eq!(
            w.check(id(NOW, 4), 2, Parity::Odd, false, NOW),
            Err(BadMsg::OddExpected)
        );
        assert_eq!(
            w.check(id(NOW, 4), 3, Parity::Even, false, NOW),
            Err(BadMsg::EvenExpected)
        );
        assert_eq!(
            w.check(id(NOW, 4), 2, Parity::Even, false, NOW),
            Ok(Received::New)
        );
    }

    #[test]
    fn seqno_order_is_32_and_33() {
        let mut w = MsgWindow::new();
        w.record(id(NOW, 100), 5);
        w.record(id(NOW, 200), 7);
        // Later id, lower seqno than an earlier message: too low.
        assert_eq!(
            w.check(id(NOW, 300), 3, Parity::Odd, false, NOW),
            Err(BadMsg::SeqnoTooLow)
        );
        // Later id, the same odd seqno as an earlier message: too low.
        assert_eq!(
            w.check(id(NOW, 300), 7, Parity::Odd, false, NOW),
            Err(BadMsg::SeqnoTooLow)
        );
        // Earlier id, higher seqno than a later message: too high.
        assert_eq!(
            w.check(id(NOW, 40), 7, Parity::Odd, false, NOW),
            Err(BadMsg::SeqnoTooHigh)
        );
        // Between them with a seqno between them: fine; even seqnos may repeat.
        assert_eq!(
            w.check(id(NOW, 300), 9, Parity::Odd, false, NOW),
            Ok(Received::New)
        );
        w.record(id(NOW, 300), 9);
        assert_eq!(
            w.check(id(NOW, 400), 10, Parity::Even, false, NOW),
            Ok(Received::New)
        );
        w.record(id(NOW, 400), 10);
        assert_eq!(
            w.check(id(NOW, 404), 10, Parity::Even, false, NOW),
            Ok(Received::New)
        );
    }

    #[test]
    fn out_of_order_ids_stay_sorted_and_match_a_simple_model() {
        // A reference: every recorded id in a sorted list, the window its newest WINDOW.
        let mut w = MsgWindow::new();
        let mut model: Vec<i64> = Vec::new();
        let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
        for _ in 0..3 * WINDOW {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            let msg_id = id(NOW, 4 * (1 + (x % 4096) as i64));
            let expected = if model.contains(&msg_id) {
                Ok(Received::Duplicate)
            } else if model.len() >= WINDOW && msg_id < model[0] {
                Err(BadMsg::Forgotten)
            } else {
                Ok(Received::New)
            };
            // Even seqnos of 0 never clash, so only ids decide.
            assert_eq!(w.check(msg_id, 0, Parity::Even, false, NOW), expected);
            if expected == Ok(Received::New) {
                w.record(msg_id, 0);
                model.push(msg_id);
                model.sort_unstable();
                if model.len() > WINDOW {
                    model.remove(0);
                }
            }
            assert_eq!(w.oldest(), model.first().copied());
            assert_eq!(w.contains(msg_id), expected != Err(BadMsg::Forgotten));
        }
        assert!(w
            .ids
            .iter()
            .zip(w.ids.iter().skip(1))
            .all(|(a, b)| a.0 < b.0));
        assert!(model.iter().all(|&m| w.contains(m)));
    }

    #[test]
    fn server_ids_increase_with_response_parity() {
        let mut g = MsgIdGenerator::new();
        let a = g.next(NOW, 500_000_000, true);
        assert_eq!(a % 4, 1);
        assert_eq!(a >> 32, NOW);
        assert_eq!((a & 0xffff_ffff) >> 2, (1i64 << 31) >> 2);
        // The same instant twice, and a clock step back: still strictly increasing.
        let b = g.next(NOW, 500_000_000, false);
        assert!(b > a && b % 4 == 3);
        let c = g.next(NOW - 5, 0, true);
        assert!(c > b && c % 4 == 1);
    }
}
