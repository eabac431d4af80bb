//! The codes and emails the server delivered, kept in memory for the admin API (`GET /codes`,
//! the `codes` admin command, the dashboard, `testing::TestDc`): a test asks for the code sent
//! to a phone instead of reading a file. Every sender is wrapped in [`LoggedSender`], so the
//! log sees what the configured sender was given, whatever it does with it.

use std::collections::VecDeque;
use std::sync::{Arc, Condvar, Mutex};
use std::time::{Duration, Instant};

use crate::rpc::login::CodeSender;

/// Deliveries kept; older ones are forgotten (the outbox files keep them all).
pub const MAX_DELIVERIES: usize = 1000;

/// One delivery: `to` a phone (digits) or an address, `purpose` (`login` for phone codes).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Delivery {
    /// Its number in the log, from 1; `GET /codes?after=N` waits for one past N.
    pub seq: u64,
    pub time: i64,
    pub to: String,
    pub purpose: String,
    pub code: String,
}

impl Delivery {
    pub fn is_phone(&self) -> bool {
        self.purpose == "login"
    }

    /// `YYYY-MM-DD HH:MM to purpose code`, as `mtproto-auth codes` and the admin socket show
    /// it.
    pub fn text(&self) -> String {
        format!(
            "{} {} {} {}",
            crate::tools::admin::utc(self.time),
            self.to,
            self.purpose,
            self.code
        )
    }

    pub fn to_json(&self) -> String {
        use crate::server::ready::json_string as s;
        format!(
            "{{\"seq\":{},\"time\":{},\"to\":{},\"kind\":{},\"purpose\":{},\"code\":{}}}",
            self.seq,
            self.time,
            s(&self.to),
            s(if self.is_phone() { "phone" } else { "email" }),
            s(&self.purpose),
            s(&self.code)
        )
    }
}

/// Which deliveries a reader wants.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Filter {
    /// Phone codes of this number (a leading `+` ignored).
    pub phone: Option<String>,
    /// Email codes to this address (any case).
    pub email: Option<String>,
    /// Only deliveries after this one.
    pub after: u64,
}

impl Filter {
    /// Whether `d` is one the reader wants (`after` 0: any, also deliveries read from the
    /// outbox files, which have no number).
    pub fn matches(&self, d: &Delivery) -> bool {
        if self.after != 0 && d.seq <= self.after {
            return false;
        }
        match (&self.phone, &self.email) {
            (Some(p), _) => d.is_phone() && d.to == p.trim_start_matches('+'),
            (None, Some(e)) => !d.is_phone() && d.to.eq_ignore_ascii_case(e),
            (None, None) => true,
        }
    }
}

#[derive(Default)]
struct Log {
    recent: VecDeque<Delivery>,
    next_seq: u64,
}

/// The bounded log, with waiting for the next delivery.
#[derive(Default)]
pub struct CodeLog {
    log: Mutex<Log>,
    arrived: Condvar,
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

impl CodeLog {
    fn push(&self, to: &str, purpose: &str, code: &str) {
        let mut log = lock(&self.log);
        log.next_seq += 1;
        let d = Delivery {
            seq: log.next_seq,
            time: crate::tools::admin::unix_now(),
            to: to.into(),
            purpose: purpose.into(),
            code: code.into(),
        };
        if log.recent.len() == MAX_DELIVERIES {
            log.recent.pop_front();
        }
        log.recent.push_back(d);
        self.arrived.notify_all();
    }

    /// The matching deliveries kept, oldest first, at most `limit` (the newest ones).
    pub fn list(&self, f: &Filter, limit: usize) -> Vec<Delivery> {
        let log = lock(&self.log);
        let mut out: Vec<Delivery> = log
            .recent
            .iter()
            .rev()
            .filter(|d| f.matches(d))
            .take(limit)
            .cloned()
            .collect();
        out.reverse();
        out
    }

    /// Deliveries kept.
    pub fn len(&self) -> usize {
        lock(&self.log).recent.len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The last delivery's number (0: none yet).
    pub fn last_seq(&self) -> u64 {
        lock(&self.log).next_seq
    }

    /// The first matching delivery, waiting up to `timeout` for one to arrive. Blocks: call it
    /// off the async workers.
    pub fn wait(&self, f: &Filter, timeout: Duration) -> Option<Delivery> {
        let deadline = Instant::now() + timeout;
        let mut log = lock(&self.log);
        loop {
            if let Some(d) = log.recent.iter().find(|d| f.matches(d)) {
                return Some(d.clone());
            }
            let left = deadline.checked_duration_since(Instant::now())?;
            log = self
                .arrived
                .wait_timeout(log, left)
                .unwrap_or_else(|p| p.into_inner())
                .0;
        }
    }

    /// Forgets every delivery (admin reset); numbering goes on, so a waiter's `after` holds.
    pub fn clear(&self) {
        lock(&self.log).recent.clear();
    }
}

/// Hands each code to the configured sender and records it in the log.
pub struct LoggedSender {
    pub inner: Arc<dyn CodeSender>,
    pub log: Arc<CodeLog>,
}

impl CodeSender for LoggedSender {
    fn deliver(&self, phone: &str, code: &str, dc: i32) -> Result<(), String> {
        let sent = self.inner.deliver(phone, code, dc);
        self.log.push(phone, "login", code);
        sent
    }

    fn deliver_email(&self, address: &str, purpose: &str, code: &str) -> Result<(), String> {
        let sent = self.inner.deliver_email(address, purpose, code);
        self.log.push(address, purpose, code);
        sent
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn deliveries_are_kept_bounded_filtered_and_waited_for() {
        let log = Arc::new(CodeLog::default());
        let sender = LoggedSender {
            inner: Arc::new(crate::rpc::login::MemorySender::default()),
            log: log.clone(),
        };
        sender.deliver("9996621234", "22222", 2).unwrap();
        sender
            .deliver_email("A@b.co", "recovery-email", "123456")
            .unwrap();
        let phone = Filter {
            phone: Some("+9996621234".into()),
            ..Default::default()
        };
        assert_eq!(log.list(&phone, 10).len(), 1);
        let email = Filter {
            email: Some("a@B.co".into()),
            ..Default::default()
        };
        assert_eq!(log.list(&email, 10)[0].code, "123456");
        let next = Filter {
            after: log.last_seq(),
            ..phone.clone()
        };
        assert_eq!(log.wait(&next, Duration::from_millis(20)), None);
        let waiter = {
            let log = log.clone();
            let next = next.clone();
            std::thread::spawn(move || log.wait(&next, Duration::from_secs(10)))
        };
        std::thread::sleep(Duration::from_millis(20));
        sender.deliver("9996621234", "22223", 2).unwrap();
        assert_eq!(waiter.join().unwrap().unwrap().code, "22223");
        for n in 0..MAX_DELIVERIES + 5 {
            sender.deliver("1", &n.to_string(), 1).unwrap();
        }
        let all = log.list(&Filter::default(), usize::MAX);
        assert_eq!(all.len(), MAX_DELIVERIES);
        assert_eq!(
            all.last().unwrap().code,
            (MAX_DELIVERIES + 4).to_string(),
            "the newest are kept"
        );
        log.clear();
        assert!(log.list(&Filter::default(), 10).is_empty());
        assert!(log.last_seq() > MAX_DELIVERIES as u64);
    }
}
