//! What other tasks tell one connection: updates from other connections' requests (`push.rs`)
//! and the frame budget's order to close (`frame_budget.rs`). One `Notify` wakes the
//! connection for both, and the queue takes memory only while it holds updates: an idle
//! connection's mailbox is about a hundred bytes (issue 15, item 5: a channel per connection
//! kept a 512-byte block of slots whether anything came or not).

use std::collections::VecDeque;
use std::sync::{Mutex, MutexGuard};

use tokio::sync::futures::Notified;
use tokio::sync::Notify;

use super::push::Update;

/// Updates queued per connection at most; past it an update is dropped (the client recovers
/// through updates.getDifference), so a flood of them cannot grow memory.
pub const QUEUE: usize = 64;

#[derive(Debug, Default)]
pub struct Mailbox {
    wake: Notify,
    inbox: Mutex<Inbox>,
}

#[derive(Debug, Default)]
struct Inbox {
    updates: VecDeque<Update>,
    close: bool,
}

/// What the connection finds when it looks.
#[derive(Debug, Default)]
pub struct Mail {
    /// The frame budget told it to close.
    pub close: bool,
    /// Updates, oldest first.
    pub updates: VecDeque<Update>,
}

impl Mailbox {
    fn inbox(&self) -> MutexGuard<'_, Inbox> {
        self.inbox.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Queues an update; false when the queue is full and it was dropped.
    pub fn post(&self, update: Update) -> bool {
        {
            let mut inbox = self.inbox();
            if inbox.updates.len() >= QUEUE {
                return false;
            }
            inbox.updates.push_back(update);
        }
        self.wake.notify_one();
        true
    }

    /// Tells the connection to close at its next look.
    pub fn tell_to_close(&self) {
        self.inbox().close = true;
        self.wake.notify_one();
    }

    /// Completes once something was posted since the last [`Mailbox::take`] (a permit is kept
    /// for a connection that was not waiting, so nothing posted meanwhile is missed).
    pub fn notified(&self) -> Notified<'_> {
        self.wake.notified()
    }

    /// Everything queued, and whether to close. The queue's memory goes with it.
    pub fn take(&self) -> Mail {
        let mut inbox = self.inbox();
        Mail {
            close: inbox.close,
            updates: std::mem::take(&mut inbox.updates),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;

    #[test]
    fn updates_queue_up_to_the_bound_and_a_close_is_kept() {
        let mailbox = Mailbox::default();
        let body = Arc::new(vec![1u8, 2, 3]);
        for i in 0..QUEUE as i64 {
            assert!(mailbox.post((i, body.clone())));
        }
        assert!(!mailbox.post((99, body.clone())), "past the bound: dropped");
        let mail = mailbox.take();
        assert!(!mail.close);
        assert_eq!(
            mail.updates.iter().map(|u| u.0).collect::<Vec<_>>(),
            (0..QUEUE as i64).collect::<Vec<_>>()
        );
        assert!(mailbox.take().updates.is_empty(), "taken once");
        assert!(mailbox.post((7, body)), "room again");
        mailbox.tell_to_close();
        let mail = mailbox.take();
        assert!(mail.close);
        assert_eq!(mail.updates.len(), 1);
    }

    #[test]
    fn a_post_while_nobody_waits_wakes_the_next_wait() {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_time()
            .build()
            .unwrap();
        let mailbox = Mailbox::default();
        let wait =
            || tokio::time::timeout(std::time::Duration::from_millis(20), mailbox.notified());
        rt.block_on(async {
            assert!(wait().await.is_err(), "nothing posted");
            assert!(mailbox.post((1, Arc::new(vec![]))));
            assert!(wait().await.is_ok(), "the permit was kept");
            mailbox.tell_to_close();
            assert!(wait().await.is_ok());
            assert!(wait().await.is_err(), "one permit per wake-up");
        });
    }
}
