//! Seed files (`serve --seed FILE`, `mtproto-auth seed FILE`, `POST /seed`): the users,
//! passwords, bots and sessions a test fixture needs, created if missing, so applying a file
//! twice changes nothing. TOML [doc: toml.io], the subset of `config_file` with arrays of
//! tables: `[[users]]`, `[[bots]]`, `[[sessions]]`.
//!
//! - users are matched by phone: `phone`, `first_name`, `last_name`, `password`, `login_email`,
//!   `dc` (a test number's home DC is its X);
//! - bots by username: `name`, `username` (required here), `dc`; the token is printed once;
//! - sessions name their user by `phone` or their bot by `bot` (the username), with `dc` and an
//!   optional `auth_key` (512 hex digits: a client's saved key keeps working on every fresh
//!   server); without one, a session is made only if the account has none.

use std::collections::HashMap;

use super::config_file::{string, strip_comment};
use crate::rand::OsRng;
use crate::rpc::seed_user::{self, NewUser, EXISTS};
use crate::store::accounts::Accounts;
use crate::store::Store;

/// Entries per file at most (each creates records).
const MAX_ENTRIES: usize = 10_000;

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Seed {
    pub users: Vec<Entry>,
    pub bots: Vec<Entry>,
    pub sessions: Vec<Entry>,
}

/// One table's keys and values (strings; integers and booleans as their text).
pub type Entry = HashMap<String, String>;

pub fn parse(text: &str) -> Result<Seed, String> {
    let mut seed = Seed::default();
    let mut current: Option<&mut Vec<Entry>> = None;
    for (n, raw) in text.lines().enumerate() {
        let at = |e: &str| format!("line {}: {e}", n + 1);
        let line = strip_comment(raw).trim();
        if line.is_empty() {
            continue;
        }
        if line.starts_with('[') {
            let list = match line {
                "[[users]]" => &mut seed.users,
                "[[bots]]" => &mut seed.bots,
                "[[sessions]]" => &mut seed.sessions,
                _ => return Err(at("tables are [[users]], [[bots]] and [[sessions]]")),
            };
            list.push(Entry::new());
            current = Some(list);
            continue;
        }
        let table = current
            .as_mut()
            .and_then(|l| l.last_mut())
            .ok_or_else(|| at("a key before any [[table]]"))?;
        let (key, value) = line
            .split_once('=')
            .ok_or_else(|| at("expected key = value"))?;
        let value = value.trim();
        let value = string(value)
            .or_else(|| matches!(value, "true" | "false").then(|| value.to_string()))
            .or_else(|| {
                value
                    .replace('_', "")
                    .parse::<i64>()
                    .ok()
                    .map(|i| i.to_string())
            })
            .ok_or_else(|| at(&format!("{value:?} is not a string, integer or boolean")))?;
        table.insert(key.trim().replace('-', "_"), value);
    }
    if seed.users.len() + seed.bots.len() + seed.sessions.len() > MAX_ENTRIES {
        return Err(format!("{MAX_ENTRIES} entries at most"));
    }
    Ok(seed)
}

fn int(e: &Entry, key: &str) -> Result<Option<i32>, String> {
    e.get(key)
        .map(|v| {
            v.parse()
                .map_err(|_| format!("{key} = {v:?} is not a number"))
        })
        .transpose()
}

fn hex_key(s: &str) -> Result<[u8; 256], String> {
    let bad = || "auth_key is 512 hex digits (256 bytes)".to_string();
    let bytes = crate::tools::tl_decode::parse_hex(s.as_bytes()).map_err(|_| bad())?;
    bytes.try_into().map_err(|_| bad())
}

/// Creates what is missing; one line per entry saying what became of it.
pub fn apply(store: &dyn Store, seed: &Seed, now: i64) -> Result<String, String> {
    let acc = Accounts::new(store);
    let e = |e: crate::store::StoreError| e.to_string();
    let mut out = String::new();
    for u in &seed.users {
        let phone = u.get("phone").ok_or("a [[users]] entry needs a phone")?;
        let digits = phone.trim_start_matches('+');
        if let Some(existing) = acc.user_by_phone(digits).map_err(e)? {
            out.push_str(&format!("user +{digits}: exists ({})\n", existing.id));
            continue;
        }
        let new = NewUser {
            phone: digits.into(),
            first_name: u
                .get("first_name")
                .cloned()
                .unwrap_or_else(|| "Test".into()),
            last_name: u.get("last_name").cloned().unwrap_or_default(),
            password: u.get("password").cloned(),
            login_email: u.get("login_email").cloned(),
            home_dc: int(u, "dc")?.unwrap_or(2),
        };
        let user = seed_user::create(store, &mut OsRng, &new, now)?;
        out.push_str(&format!("user +{digits}: created ({})\n", user.id));
    }
    for b in &seed.bots {
        let username = b
            .get("username")
            .ok_or("a [[bots]] entry needs a username (bots are matched by it)")?;
        if let Some(existing) = acc.user_by_username(username).map_err(e)? {
            out.push_str(&format!("bot @{username}: exists ({})\n", existing.id));
            continue;
        }
        let name = b.get("name").map_or(username.as_str(), String::as_str);
        let dc = int(b, "dc")?.unwrap_or(2);
        let bot = crate::rpc::bots::create(store, &mut OsRng, name, Some(username), dc, now)?;
        out.push_str(&format!(
            "bot @{username}: created ({}), token {}\n",
            bot.user.id, bot.token
        ));
    }
    for s in &seed.sessions {
        let (label, user) = match (s.get("phone"), s.get("bot")) {
            (Some(p), _) => {
                let digits = p.trim_start_matches('+');
                (format!("+{digits}"), acc.user_by_phone(digits).map_err(e)?)
            }
            (None, Some(b)) => (format!("@{b}"), acc.user_by_username(b).map_err(e)?),
            (None, None) => return Err("a [[sessions]] entry needs a phone or a bot".into()),
        };
        let user = user.ok_or_else(|| format!("session of {label}: no such account"))?;
        let dc = int(s, "dc")?;
        let key = s.get("auth_key").map(|k| hex_key(k)).transpose()?;
        if key.is_none() && !acc.authorizations_of(user.id).map_err(e)?.is_empty() {
            out.push_str(&format!("session of {label}: exists\n"));
            continue;
        }
        match seed_user::create_session_with(store, &mut OsRng, user.id, dc, key, now) {
            Ok(created) => out.push_str(&format!(
                "session of {label}: created ({:016x}){}",
                created.auth_key_id as u64,
                if key.is_some() {
                    "\n".to_string()
                } else {
                    format!(", auth_key {}\n", created.auth_key_hex())
                }
            )),
            Err(msg) if msg == EXISTS => out.push_str(&format!("session of {label}: exists\n")),
            Err(msg) => return Err(format!("session of {label}: {msg}")),
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::MemoryStore;

    const SEED: &str = r#"
[[users]]
phone = "+9996621234"
first_name = "Ada"
password = "pass word"   # 2FA

[[users]]
phone = "9996631111"
first-name = "Bob"
dc = 3

[[bots]]
name = "Echo"
username = "echo_bot"

[[sessions]]
phone = "9996621234"

[[sessions]]
bot = "echo_bot"
auth_key = "KEY"
"#;

    #[test]
    fn a_seed_is_applied_once_whatever_the_repeats() {
        let key = "ab".repeat(256);
        let text = SEED.replace("KEY", &key);
        let seed = parse(&text).unwrap();
        assert_eq!(
            (seed.users.len(), seed.bots.len(), seed.sessions.len()),
            (2, 1, 2)
        );
        assert_eq!(seed.users[1]["first_name"], "Bob");
        let store = MemoryStore::default();
        let first = apply(&store, &seed, 1_700_000_000).unwrap();
        assert_eq!(first.matches("created").count(), 5, "{first}");
        assert!(first.contains("token "), "{first}");
        let again = apply(&store, &seed, 1_700_000_000).unwrap();
        assert_eq!(again.matches("exists").count(), 5, "{again}");
        let acc = Accounts::new(&store);
        assert_eq!(acc.users(10).unwrap().len(), 3);
        let ada = acc.user_by_phone("9996621234").unwrap().unwrap();
        assert!(acc.password(ada.id).unwrap().is_some());
        assert_eq!(acc.authorizations_of(ada.id).unwrap().len(), 1);
        let bot = acc.user_by_username("echo_bot").unwrap().unwrap();
        let login = acc.authorizations_of(bot.id).unwrap();
        let id = crate::crypto::AuthKey::from_bytes(hex_key(&key).unwrap()).id();
        assert_eq!(login[0].value.key_id, id);
        assert!(parse("[[cats]]").is_err());
        assert!(parse("x = 1").is_err());
        let bad = parse("[[sessions]]\nphone = \"9996620000\"").unwrap();
        assert!(apply(&store, &bad, 0)
            .unwrap_err()
            .contains("no such account"));
        assert!(hex_key("zz").is_err());
        assert!(
            hex_key(&"é".repeat(256)).is_err(),
            "512 bytes, not 512 digits"
        );
    }
}
