//! Fault injection for tests (admin API `POST /faults`, `mtproto-auth faults add`): for a
//! method, answer an error, delay the answer, or drop the connection, for the next N calls or a
//! fraction of them. Checked once per RPC call before it runs (`conn.rs`); with no rules, one
//! atomic load per call.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;

use crate::rpc::RpcError;

/// Rules held at most.
pub const MAX_RULES: usize = 100;
/// The longest delay a rule may ask for.
pub const MAX_DELAY_MS: u64 = 60_000;

/// What a matching call gets.
#[derive(Debug, Clone, PartialEq)]
pub struct FaultRule {
    /// Set when the rule is added.
    pub id: u64,
    /// A method name as in the schema (`auth.sendCode`), or `*` for every method.
    pub method: String,
    /// Answer this error instead of running the method.
    pub error: Option<RpcError>,
    /// Hold the answer this long.
    pub delay_ms: u64,
    /// Close the connection instead of answering: the call ran, its answer is lost in
    /// transit, and the client gets it when it re-sends on a new connection (SV-6).
    pub drop: bool,
    /// Fire this many more times, then go; `None`: until cleared.
    pub times: Option<u32>,
    /// Fire on this share of matching calls (0 < p ≤ 1; 1 when `None`).
    pub fraction: Option<f64>,
    /// Times it fired.
    pub hits: u64,
}

/// What one call gets from the rules.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Fault {
    pub error: Option<RpcError>,
    pub delay_ms: u64,
    pub drop: bool,
}

/// The Telegram code that goes with an error text an operator names without one (ERRORS.md §1).
pub fn default_code(message: &str) -> i32 {
    const UNAUTHORIZED: &[&str] = &[
        "AUTH_KEY_UNREGISTERED",
        "AUTH_KEY_INVALID",
        "USER_DEACTIVATED",
        "SESSION_REVOKED",
        "SESSION_EXPIRED",
        "SESSION_PASSWORD_NEEDED",
        "AUTH_KEY_PERM_EMPTY",
    ];
    if message.starts_with("FLOOD_WAIT_") || message.starts_with("FLOOD_") {
        420
    } else if message.ends_with("_MIGRATE") || message.contains("_MIGRATE_") {
        303
    } else if UNAUTHORIZED.contains(&message) {
        401
    } else if message.starts_with("INTERNAL") || message.contains("_INTERNAL") {
        500
    } else {
        400
    }
}

impl FaultRule {
    /// Checks what an operator gave; the id and hits are set by [`Faults::add`].
    pub fn validate(&self) -> Result<(), String> {
        let name_ok = self.method == "*"
            || (self.method.len() <= 64
                && self.method.contains('.')
                && self
                    .method
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '.' || c == '_'));
        if !name_ok {
            return Err(format!(
                "{:?} is not a method name (auth.sendCode, or * for every method)",
                self.method
            ));
        }
        if self.error.is_none() && self.delay_ms == 0 && !self.drop {
            return Err("a rule needs an error, a delay or drop".into());
        }
        if self.error.is_some() && self.drop {
            return Err("a dropped call gets no error; give one or the other".into());
        }
        if let Some(e) = &self.error {
            let text_ok = !e.message.is_empty()
                && e.message.len() <= 64
                && e.message
                    .chars()
                    .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == '_');
            if !text_ok {
                return Err(format!(
                    "{:?} is not an error text ([A-Z0-9_]+, as Telegram's)",
                    e.message
                ));
            }
        }
        if self.delay_ms > MAX_DELAY_MS {
            return Err(format!("a delay is at most {MAX_DELAY_MS} ms"));
        }
        if self.times == Some(0) {
            return Err("times must be at least 1".into());
        }
        if let Some(p) = self.fraction {
            if !(p > 0.0 && p <= 1.0) {
                return Err("fraction must be in (0, 1]".into());
            }
        }
        Ok(())
    }

    pub fn to_json(&self) -> String {
        use crate::server::ready::json_string as s;
        let opt = |v: Option<String>| v.unwrap_or_else(|| "null".into());
        format!(
            "{{\"id\":{},\"method\":{},\"error\":{},\"code\":{},\"delay_ms\":{},\"drop\":{},\"times\":{},\"fraction\":{},\"hits\":{}}}",
            self.id,
            s(&self.method),
            opt(self.error.as_ref().map(|e| s(&e.message))),
            opt(self.error.as_ref().map(|e| e.code.to_string())),
            self.delay_ms,
            self.drop,
            opt(self.times.map(|t| t.to_string())),
            opt(self.fraction.map(|f| f.to_string())),
            self.hits,
        )
    }
}

#[derive(Default)]
pub struct Faults {
    rules: Mutex<(Vec<FaultRule>, u64)>,
    /// How many rules there are (kept under the lock): with none, a call takes no lock.
    count: AtomicUsize,
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

impl Faults {
    /// Adds a rule; its id.
    pub fn add(&self, mut rule: FaultRule) -> Result<u64, String> {
        rule.validate()?;
        let mut rules = lock(&self.rules);
        if rules.0.len() >= MAX_RULES {
            return Err(format!("{MAX_RULES} rules at most; clear some first"));
        }
        rules.1 += 1;
        rule.id = rules.1;
        rule.hits = 0;
        rules.0.push(rule);
        self.count.store(rules.0.len(), Ordering::Relaxed);
        Ok(rules.1)
    }

    pub fn list(&self) -> Vec<FaultRule> {
        lock(&self.rules).0.clone()
    }

    /// Removes one rule (`Some(id)`) or all; how many went.
    pub fn clear(&self, id: Option<u64>) -> usize {
        let mut rules = lock(&self.rules);
        let before = rules.0.len();
        rules.0.retain(|r| id.is_some_and(|id| r.id != id));
        self.count.store(rules.0.len(), Ordering::Relaxed);
        before - rules.0.len()
    }

    /// The fault for a call of `method`, if a rule fires: the first matching rule that fires
    /// (`roll`: a uniform draw in [0, 1) for fractions).
    pub fn check(&self, method: &str, roll: impl FnOnce() -> f64) -> Option<Fault> {
        if self.count.load(Ordering::Relaxed) == 0 {
            return None;
        }
        let mut rules = lock(&self.rules);
        // One draw per call, shared by the rules with a fraction.
        let mut roll = Some(roll);
        let mut drawn = None;
        let mut draw = || *drawn.get_or_insert_with(|| roll.take().map_or(0.5, |r| r()));
        let at = rules.0.iter().position(|r| {
            (r.method == "*" || r.method == method) && r.fraction.is_none_or(|p| draw() < p)
        })?;
        let rule = &mut rules.0[at];
        rule.hits += 1;
        let fault = Fault {
            error: rule.error.clone(),
            delay_ms: rule.delay_ms,
            drop: rule.drop,
        };
        tracing::info!(rule = rule.id, method, "fault injected");
        if let Some(t) = &mut rule.times {
            *t -= 1;
            if *t == 0 {
                rules.0.remove(at);
                self.count.store(rules.0.len(), Ordering::Relaxed);
            }
        }
        Some(fault)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rule(method: &str) -> FaultRule {
        FaultRule {
            id: 0,
            method: method.into(),
            error: Some(RpcError::new(420, "FLOOD_WAIT_5")),
            delay_ms: 0,
            drop: false,
            times: None,
            fraction: None,
            hits: 0,
        }
    }

    #[test]
    fn rules_fire_for_their_method_count_and_fraction() {
        let f = Faults::default();
        assert_eq!(f.check("auth.sendCode", || 0.0), None);
        f.add(FaultRule {
            times: Some(2),
            ..rule("auth.sendCode")
        })
        .unwrap();
        assert_eq!(f.check("help.getConfig", || 0.0), None);
        for _ in 0..2 {
            let fault = f.check("auth.sendCode", || 0.0).unwrap();
            assert_eq!(fault.error.unwrap().message, "FLOOD_WAIT_5");
        }
        assert_eq!(f.check("auth.sendCode", || 0.0), None, "used up");
        assert!(f.list().is_empty());
        let id = f
            .add(FaultRule {
                error: None,
                delay_ms: 10,
                fraction: Some(0.25),
                ..rule("*")
            })
            .unwrap();
        assert_eq!(f.check("help.getConfig", || 0.5), None, "not this time");
        assert_eq!(f.check("help.getConfig", || 0.1).unwrap().delay_ms, 10);
        assert_eq!(f.list()[0].hits, 1);
        assert_eq!(f.clear(Some(id + 1)), 0);
        assert_eq!(f.clear(Some(id)), 1);
        f.add(rule("a.b")).unwrap();
        f.add(rule("c.d")).unwrap();
        assert_eq!(f.clear(None), 2);
    }

    #[test]
    fn bad_rules_are_refused_and_the_count_is_bounded() {
        let f = Faults::default();
        for bad in [
            rule("drop table"),
            FaultRule {
                error: None,
                ..rule("a.b")
            },
            FaultRule {
                drop: true,
                ..rule("a.b")
            },
            FaultRule {
                error: Some(RpcError::new(400, "lower case")),
                ..rule("a.b")
            },
            FaultRule {
                times: Some(0),
                ..rule("a.b")
            },
            FaultRule {
                fraction: Some(1.5),
                ..rule("a.b")
            },
            FaultRule {
                delay_ms: MAX_DELAY_MS + 1,
                ..rule("a.b")
            },
        ] {
            assert!(f.add(bad.clone()).is_err(), "{bad:?}");
        }
        for _ in 0..MAX_RULES {
            f.add(rule("a.b")).unwrap();
        }
        assert!(f.add(rule("a.b")).is_err());
        assert_eq!(default_code("FLOOD_WAIT_3"), 420);
        assert_eq!(default_code("PHONE_MIGRATE_2"), 303);
        assert_eq!(default_code("SESSION_PASSWORD_NEEDED"), 401);
        assert_eq!(default_code("PHONE_CODE_INVALID"), 400);
    }
}
