//! Which commits an answer rests on (DB-1; issue 15, item 3: reads never wait for syncs they do
//! not need). A store keeps, for every key written by a commit that no sync has covered yet,
//! the last such commit (`Unsynced`); each read notes the commits behind what it found (a value,
//! an absence, a scanned range), each commit notes itself, on the calling thread
//! (`observed`). The connection takes the note after a frame's calls (which run on one
//! thread, without awaiting) and sends the answers once a sync has covered it: an answer that
//! read only durable records waits for nothing, one that saw a commit still in flight waits for
//! that commit's sync, so it never shows a client what a crash could take back.

use std::cell::Cell;
use std::collections::BTreeMap;
use std::ops::Bound;

/// Keys kept at most; past it the whole set is folded into `floor` (every read then waits for
/// the last commit until a sync covers it), so a store that is written but never synced stays
/// bounded.
const MAX_KEYS: usize = 1 << 16;

/// Writes of commits that no sync has covered yet.
#[derive(Debug, Default)]
pub struct Unsynced {
    /// Key → the last uncovered commit that put or deleted it.
    keys: BTreeMap<Vec<u8>, u64>,
    /// Every read rests on this commit (0: none), set when `keys` overflowed.
    floor: u64,
}

impl Unsynced {
    /// Commit `seq` wrote `keys`.
    pub fn wrote<'a>(&mut self, keys: impl Iterator<Item = &'a [u8]>, seq: u64) {
        for key in keys {
            if self.keys.len() >= MAX_KEYS && !self.keys.contains_key(key) {
                self.keys.clear();
                self.floor = seq;
            } else if self.floor < seq {
                self.keys.insert(key.to_vec(), seq);
            }
        }
    }

    /// The commit a read of `key` rests on (0: nothing uncovered).
    pub fn key(&self, key: &[u8]) -> u64 {
        self.floor.max(self.keys.get(key).copied().unwrap_or(0))
    }

    /// The commit a scan of `prefix` from `start` on rests on: every uncovered write in the
    /// range, whether or not the scan's limit reached it.
    pub fn range(&self, prefix: &[u8], start: Bound<&[u8]>) -> u64 {
        self.keys
            .range::<[u8], _>((start, Bound::Unbounded))
            .take_while(|(k, _)| k.starts_with(prefix))
            .map(|(_, &seq)| seq)
            .fold(self.floor, u64::max)
    }

    /// A sync covered every commit up to `through`.
    pub fn synced(&mut self, through: u64) {
        self.keys.retain(|_, seq| *seq > through);
        if self.floor <= through {
            self.floor = 0;
        }
    }
}

/// What the calls on this thread rested on since the last `take`.
pub mod observed {
    use super::Cell;

    thread_local! {
        static SEEN: Cell<u64> = const { Cell::new(0) };
    }

    /// A read or commit on this thread rests on commit `seq`.
    pub fn note(seq: u64) {
        SEEN.with(|s| s.set(s.get().max(seq)));
    }

    /// The last commit noted since the previous `take` (0: none), and a fresh start.
    pub fn take() -> u64 {
        SEEN.with(|s| s.replace(0))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_rest_on_the_uncovered_commits_they_touch() {
        let mut u = Unsynced::default();
        u.wrote([&b"Ua"[..], b"Pb"].into_iter(), 3);
        u.wrote([&b"Ua"[..]].into_iter(), 5);
        assert_eq!(u.key(b"Ua"), 5);
        assert_eq!(u.key(b"Pb"), 3);
        assert_eq!(u.key(b"Uz"), 0);
        assert_eq!(u.range(b"U", Bound::Included(b"U")), 5);
        assert_eq!(u.range(b"P", Bound::Included(b"P")), 3);
        assert_eq!(u.range(b"Q", Bound::Included(b"Q")), 0);
        // A scan that goes on after "Ua" no longer reaches it.
        assert_eq!(u.range(b"U", Bound::Excluded(b"Ua")), 0);
        u.synced(4);
        assert_eq!((u.key(b"Ua"), u.key(b"Pb")), (5, 0));
        u.synced(5);
        assert_eq!(u.key(b"Ua"), 0);
        assert!(u.keys.is_empty());
    }

    #[test]
    fn an_overflow_folds_into_a_floor_until_a_sync_covers_it() {
        let mut u = Unsynced::default();
        let keys: Vec<Vec<u8>> = (0..MAX_KEYS as u32)
            .map(|i| i.to_be_bytes().to_vec())
            .collect();
        u.wrote(keys.iter().map(|k| &k[..]), 1);
        assert_eq!(u.keys.len(), MAX_KEYS);
        u.wrote([&b"new"[..]].into_iter(), 2);
        assert!(u.keys.is_empty());
        assert_eq!((u.key(b"anything"), u.range(b"", Bound::Unbounded)), (2, 2));
        u.synced(2);
        assert_eq!(u.key(b"anything"), 0);
    }

    #[test]
    fn notes_are_per_thread_and_taken_once() {
        observed::take();
        observed::note(4);
        observed::note(2);
        std::thread::spawn(|| {
            observed::note(9);
        })
        .join()
        .unwrap();
        assert_eq!(observed::take(), 4);
        assert_eq!(observed::take(), 0);
    }
}
