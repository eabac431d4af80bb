//! `mtproto-auth users list`, `sessions list|revoke` and `bots create|list|revoke`: operators'
//! views of the account records. A running server holds the store's lock, so the commands go to it over
//! `admin.sock` in its data dir (one line in, the text answer out; the socket is the owner's
//! only, like the private key beside it); with no server running they open the store
//! themselves. Either way the same `run` answers.

use std::io::{BufRead, BufReader, Write};
use std::path::Path;

use crate::store::accounts::Accounts;
use crate::store::{SledStore, Store};

/// The socket a running server answers admin commands on, in its data dir.
pub const ADMIN_SOCKET: &str = "admin.sock";
/// Rows listed at most.
const MAX_ROWS: usize = 100_000;
/// An admin request line is short; longer ones are refused before reading on.
pub const MAX_REQUEST: usize = 4096;

#[derive(Debug, Clone, PartialEq)]
pub enum AdminCommand {
    Users,
    /// Every session, or one user's.
    Sessions {
        user: Option<i64>,
    },
    /// End one session by its auth key id; it answers SESSION_REVOKED from then on.
    RevokeKey(i64),
    /// End every session of a user.
    RevokeUser(i64),
    /// Every bot.
    Bots,
    /// A new bot on DC `dc`; its token is printed once.
    BotCreate {
        dc: i32,
        username: Option<String>,
        name: String,
    },
    /// A bot's token stops working and its sessions end.
    BotRevoke(i64),
    /// A web login token for a user (auth.importWebTokenAuthorization).
    WebToken(i64),
    /// A user made directly, with an optional password and login email.
    UserCreate(crate::rpc::seed_user::NewUser),
    /// A logged-in permanent key for a user, on `dc` (its home DC when `None`).
    SessionCreate {
        user: i64,
        dc: Option<i32>,
    },
    /// Forget everything (`None`) or one user and all of theirs.
    Reset(Option<i64>),
    /// Fault rules of the running server: add one, list them, clear one or all.
    FaultAdd(crate::server::faults::FaultRule),
    Faults,
    FaultClear(Option<u64>),
    /// Apply the seed file at this path (read by whoever runs the command).
    Seed(String),
    /// The codes and emails a running server delivered (its code log), a phone's or an
    /// address's only when given.
    Codes(Option<String>),
}

/// A free-text field on the request line: base64url, `-` for none or empty.
fn field(v: Option<&str>) -> String {
    use base64::Engine as _;
    match v.filter(|v| !v.is_empty()) {
        Some(v) => base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(v),
        None => "-".into(),
    }
}

fn unfield(w: &str) -> Result<Option<String>, String> {
    use base64::Engine as _;
    if w == "-" {
        return Ok(None);
    }
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(w)
        .map_err(|_| format!("{w:?} is not a field"))?;
    String::from_utf8(bytes)
        .map(Some)
        .map_err(|_| "a field is not UTF-8".into())
}

impl AdminCommand {
    pub fn to_line(&self) -> String {
        match self {
            AdminCommand::Users => "users".into(),
            AdminCommand::Sessions { user: None } => "sessions".into(),
            AdminCommand::Sessions { user: Some(u) } => format!("sessions {u}"),
            AdminCommand::RevokeKey(k) => format!("revoke-key {:016x}", *k as u64),
            AdminCommand::RevokeUser(u) => format!("revoke-user {u}"),
            AdminCommand::Bots => "bots".into(),
            AdminCommand::BotCreate { dc, username, name } => format!(
                "bot-create {dc} {} {name}",
                username.as_deref().unwrap_or("-")
            ),
            AdminCommand::BotRevoke(id) => format!("bot-revoke {id}"),
            AdminCommand::WebToken(user) => format!("web-token {user}"),
            AdminCommand::SessionCreate { user, dc } => match dc {
                Some(dc) => format!("session-create {user} {dc}"),
                None => format!("session-create {user}"),
            },
            AdminCommand::Reset(None) => "reset".into(),
            AdminCommand::Reset(Some(u)) => format!("reset {u}"),
            AdminCommand::FaultAdd(r) => format!(
                "fault-add {} {} {} {} {} {} {}",
                r.method,
                r.error.as_ref().map_or("-", |e| e.message.as_str()),
                r.error.as_ref().map_or(0, |e| e.code),
                r.delay_ms,
                u8::from(r.drop),
                r.times.map_or("-".into(), |t| t.to_string()),
                r.fraction.map_or("-".into(), |f| f.to_string()),
            ),
            AdminCommand::Faults => "faults".into(),
            AdminCommand::FaultClear(None) => "fault-clear".into(),
            AdminCommand::FaultClear(Some(id)) => format!("fault-clear {id}"),
            AdminCommand::Seed(path) => format!("seed {}", field(Some(path))),
            AdminCommand::Codes(to) => format!("codes {}", field(to.as_deref())),
            AdminCommand::UserCreate(u) => format!(
                "user-create {} {} {} {} {} {}",
                u.home_dc,
                field(Some(&u.phone)),
                field(Some(&u.first_name)),
                field(Some(&u.last_name)),
                field(u.password.as_deref()),
                field(u.login_email.as_deref()),
            ),
        }
    }

    /// The request as the log shows it: a password never (its field is `<password>`).
    pub fn log_line(&self) -> String {
        match self {
            AdminCommand::UserCreate(u) if u.password.is_some() => {
                let redacted = crate::rpc::seed_user::NewUser {
                    password: None,
                    ..u.clone()
                };
                let line = AdminCommand::UserCreate(redacted).to_line();
                // The password's field is the one before the last.
                let mut words: Vec<&str> = line.split(' ').collect();
                let at = words.len() - 2;
                words[at] = "<password>";
                words.join(" ")
            }
            other => other.to_line(),
        }
    }

    pub fn parse(line: &str) -> Result<Self, String> {
        let words: Vec<&str> = line.split_whitespace().collect();
        let user = |s: &str| {
            s.parse::<i64>()
                .map_err(|_| format!("{s:?} is not a user id"))
        };
        match words.as_slice() {
            ["users"] => Ok(AdminCommand::Users),
            ["sessions"] => Ok(AdminCommand::Sessions { user: None }),
            ["sessions", u] => Ok(AdminCommand::Sessions {
                user: Some(user(u)?),
            }),
            ["revoke-key", k] => parse_key_id(k).map(AdminCommand::RevokeKey),
            ["revoke-user", u] => Ok(AdminCommand::RevokeUser(user(u)?)),
            ["bots"] => Ok(AdminCommand::Bots),
            ["bot-revoke", id] => Ok(AdminCommand::BotRevoke(user(id)?)),
            ["web-token", u] => Ok(AdminCommand::WebToken(user(u)?)),
            ["user-create", dc, phone, first, last, password, email] => {
                Ok(AdminCommand::UserCreate(crate::rpc::seed_user::NewUser {
                    home_dc: dc.parse().map_err(|_| format!("{dc:?} is not a DC"))?,
                    phone: unfield(phone)?.unwrap_or_default(),
                    first_name: unfield(first)?.unwrap_or_default(),
                    last_name: unfield(last)?.unwrap_or_default(),
                    password: unfield(password)?,
                    login_email: unfield(email)?,
                }))
            }
            ["session-create", u] => Ok(AdminCommand::SessionCreate {
                user: user(u)?,
                dc: None,
            }),
            ["session-create", u, dc] => Ok(AdminCommand::SessionCreate {
                user: user(u)?,
                dc: Some(dc.parse().map_err(|_| format!("{dc:?} is not a DC"))?),
            }),
            ["reset"] => Ok(AdminCommand::Reset(None)),
            ["reset", u] => Ok(AdminCommand::Reset(Some(user(u)?))),
            ["faults"] => Ok(AdminCommand::Faults),
            ["fault-clear"] => Ok(AdminCommand::FaultClear(None)),
            ["fault-clear", id] => Ok(AdminCommand::FaultClear(Some(
                id.parse().map_err(|_| format!("{id:?} is not a rule id"))?,
            ))),
            ["fault-add", method, error, code, delay, drop, times, fraction] => {
                let get = |name: &str| -> Option<String> {
                    let v = match name {
                        "method" => method,
                        "error" => error,
                        "code" => code,
                        "delay_ms" => delay,
                        "drop" => drop,
                        "times" => times,
                        "fraction" => fraction,
                        _ => return None,
                    };
                    (*v != "-" && !(name == "code" && *v == "0")).then(|| v.to_string())
                };
                crate::server::admin_http::fault_rule(get).map(AdminCommand::FaultAdd)
            }
            ["codes", to] => Ok(AdminCommand::Codes(unfield(to)?)),
            ["seed", path] => Ok(AdminCommand::Seed(
                unfield(path)?.ok_or("a seed file path is needed")?,
            )),
            ["bot-create", dc, username, name @ ..] if !name.is_empty() => {
                Ok(AdminCommand::BotCreate {
                    dc: dc.parse().map_err(|_| format!("{dc:?} is not a DC"))?,
                    username: (*username != "-").then(|| username.to_string()),
                    name: name.join(" "),
                })
            }
            _ => Err(format!("unknown admin command {line:?}")),
        }
    }
}

/// An auth key id as the logs and `sessions list` print it: 16 hex digits.
pub fn parse_key_id(s: &str) -> Result<i64, String> {
    let hex = s.trim_start_matches("0x");
    if hex.is_empty() || hex.len() > 16 {
        return Err(format!("{s:?} is not an auth key id (16 hex digits)"));
    }
    u64::from_str_radix(hex, 16)
        .map(|v| v as i64)
        .map_err(|_| format!("{s:?} is not an auth key id (16 hex digits)"))
}

/// Runs `cmd` against `store` and returns its text. Revocations are durable when it returns.
pub fn run(store: &dyn Store, cmd: &AdminCommand, now: i64) -> Result<String, String> {
    let acc = Accounts::new(store);
    let e = |e: crate::store::StoreError| e.to_string();
    match cmd {
        AdminCommand::Users => {
            let mut sessions = std::collections::HashMap::<i64, usize>::new();
            for a in acc.all_authorizations(MAX_ROWS).map_err(e)? {
                *sessions.entry(a.value.user_id).or_default() += 1;
            }
            let mut t = Table::new(&["USER_ID", "PHONE", "NAME", "DC", "CREATED", "SESSIONS"]);
            for u in acc.users(MAX_ROWS).map_err(e)? {
                let n = sessions.get(&u.id).copied().unwrap_or(0);
                let name = format!("{} {}", u.first_name, u.last_name);
                t.row(vec![
                    u.id.to_string(),
                    if u.bot { "(bot)".into() } else { u.phone },
                    name.trim().to_string(),
                    u.home_dc.to_string(),
                    utc(u.created),
                    n.to_string(),
                ]);
            }
            Ok(t.render())
        }
        AdminCommand::Sessions { user } => {
            let list = match user {
                Some(u) => acc.authorizations_of(*u),
                None => acc.all_authorizations(MAX_ROWS),
            }
            .map_err(e)?;
            let mut t = Table::new(&[
                "AUTH_KEY_ID",
                "USER_ID",
                "DC",
                "IP",
                "DEVICE",
                "APP",
                "LAYER",
                "CREATED",
            ]);
            for a in list {
                let a = a.value;
                t.row(vec![
                    format!("{:016x}", a.key_id as u64),
                    a.user_id.to_string(),
                    a.dc_id.to_string(),
                    a.ip,
                    a.device_model,
                    format!("{} {}", a.api_id, a.app_version),
                    layer_column(a.layer),
                    utc(a.created),
                ]);
            }
            Ok(t.render())
        }
        AdminCommand::RevokeKey(key) => {
            let n = revoke(store, now, |acc| {
                Ok(acc.authorization(*key)?.into_iter().collect())
            })?;
            match n {
                0 => Err(format!("no session with auth key id {:016x}", *key as u64)),
                _ => Ok(format!("revoked session {:016x}\n", *key as u64)),
            }
        }
        AdminCommand::RevokeUser(user) => {
            let n = revoke(store, now, |acc| acc.authorizations_of(*user))?;
            Ok(format!("revoked {n} session(s) of user {user}\n"))
        }
        AdminCommand::Bots => {
            let mut t = Table::new(&[
                "BOT_ID", "USERNAME", "NAME", "DC", "CREATED", "TOKEN", "SESSIONS",
            ]);
            for u in acc
                .users(MAX_ROWS)
                .map_err(e)?
                .into_iter()
                .filter(|u| u.bot)
            {
                let token = match acc.bot_token(u.id).map_err(e)? {
                    Some(t) if t.value.revoked => "revoked",
                    Some(_) => "active",
                    None => "none",
                };
                let sessions = acc.authorizations_of(u.id).map_err(e)?.len();
                t.row(vec![
                    u.id.to_string(),
                    if u.username.is_empty() {
                        "-".into()
                    } else {
                        format!("@{}", u.username)
                    },
                    u.first_name,
                    u.home_dc.to_string(),
                    utc(u.created),
                    token.into(),
                    sessions.to_string(),
                ]);
            }
            Ok(t.render())
        }
        AdminCommand::BotCreate { dc, username, name } => {
            let bot = crate::rpc::bots::create(
                store,
                &mut crate::rand::OsRng,
                name,
                username.as_deref(),
                *dc,
                now,
            )?;
            let at = if bot.user.username.is_empty() {
                String::new()
            } else {
                format!(" @{}", bot.user.username)
            };
            Ok(format!(
                "created bot {}{at} ({}) on DC {}\ntoken: {}\n",
                bot.user.id, bot.user.first_name, bot.user.home_dc, bot.token
            ))
        }
        AdminCommand::UserCreate(new) => {
            let u = crate::rpc::seed_user::create(store, &mut crate::rand::OsRng, new, now)?;
            Ok(format!(
                "created user {} (+{}, {}) on DC {}{}\n",
                u.id,
                u.phone,
                format!("{} {}", u.first_name, u.last_name).trim(),
                u.home_dc,
                if new.password.is_some() {
                    ", with a password"
                } else {
                    ""
                }
            ))
        }
        AdminCommand::WebToken(user) => {
            let (token, expires) =
                crate::rpc::web_token::mint(store, &mut crate::rand::OsRng, *user, now)?;
            Ok(format!(
                "web token for user {user}, good once until {} UTC:\n{token}\n",
                utc(expires)
            ))
        }
        AdminCommand::SessionCreate { user, dc } => {
            let s = crate::rpc::seed_user::create_session(
                store,
                &mut crate::rand::OsRng,
                *user,
                *dc,
                now,
            )?;
            Ok(session_text(&s))
        }
        AdminCommand::Reset(None) => {
            store.clear().map_err(e)?;
            Ok("reset: every user, key, session, code and counter is gone\n".into())
        }
        AdminCommand::Reset(Some(user)) => {
            let dcs = [1, 2, 3, 4, 5];
            if acc.user(*user).map_err(e)?.is_none() {
                return Err(format!("no user {user}"));
            }
            acc.delete_user(*user, &dcs).map_err(e)?;
            store.sync().map_err(e)?;
            Ok(format!("reset user {user}\n"))
        }
        AdminCommand::FaultAdd(_) | AdminCommand::Faults | AdminCommand::FaultClear(_) => {
            Err("fault rules live in a running server, and none runs on this data dir".into())
        }
        AdminCommand::Codes(_) => Err(
            "the code log lives in a running server; `mtproto-auth codes` reads the outbox files"
                .into(),
        ),
        AdminCommand::Seed(path) => {
            let text = std::fs::read_to_string(path).map_err(|e| format!("{path}: {e}"))?;
            let seed = crate::tools::seed::parse(&text).map_err(|e| format!("{path}: {e}"))?;
            crate::tools::seed::apply(store, &seed, now)
        }
        AdminCommand::BotRevoke(id) => {
            let n = crate::rpc::bots::revoke(store, *id, now)?;
            Ok(format!(
                "revoked the token of bot {id}; {n} session(s) ended\n"
            ))
        }
    }
}

/// A created session as `sessions create` prints it: the key in hex (a secret: it logs in).
pub fn session_text(s: &crate::rpc::seed_user::SeededSession) -> String {
    format!(
        "created session {:016x} for user {} on DC {}\nauth_key: {}\n",
        s.auth_key_id as u64,
        s.user_id,
        s.dc_id,
        s.auth_key_hex()
    )
}

/// Fault rules as `faults list` prints them.
pub fn faults_text(rules: &[crate::server::faults::FaultRule]) -> String {
    let mut t = Table::new(&["ID", "METHOD", "ACTION", "LEFT", "SHARE", "HITS"]);
    for r in rules {
        let mut action = Vec::new();
        if let Some(e) = &r.error {
            action.push(format!("{} {}", e.code, e.message));
        }
        if r.delay_ms > 0 {
            action.push(format!("delay {} ms", r.delay_ms));
        }
        if r.drop {
            action.push("drop".into());
        }
        t.row(vec![
            r.id.to_string(),
            r.method.clone(),
            action.join(", "),
            r.times.map_or("-".into(), |t| t.to_string()),
            r.fraction.map_or("all".into(), |f| f.to_string()),
            r.hits.to_string(),
        ]);
    }
    t.render()
}

type Picked = Vec<crate::store::accounts::Read<crate::store::records::Authorization>>;

/// Ends the authorizations `pick` reads, in one write, and makes it durable.
fn revoke(
    store: &dyn Store,
    now: i64,
    pick: impl Fn(&Accounts<'_>) -> Result<Picked, crate::store::StoreError>,
) -> Result<usize, String> {
    let ended = Accounts::new(store)
        .end_authorizations(pick, Some(now))
        .map_err(|e| e.to_string())?;
    if ended > 0 {
        store.sync().map_err(|e| e.to_string())?;
    }
    Ok(ended)
}

/// Sends `cmd` to the server running on `data_dir`, or runs it on the store there if none is.
pub fn request(data_dir: &Path, cmd: &AdminCommand) -> Result<String, String> {
    #[cfg(unix)]
    {
        use std::os::unix::net::UnixStream;
        match UnixStream::connect(data_dir.join(ADMIN_SOCKET)) {
            Ok(mut s) => {
                // A server that is alive answers at once; one that hangs should not hang us.
                s.set_read_timeout(Some(std::time::Duration::from_secs(30)))
                    .map_err(|e| e.to_string())?;
                writeln!(s, "{}", cmd.to_line()).map_err(|e| e.to_string())?;
                let mut answer = String::new();
                std::io::Read::read_to_string(&mut s, &mut answer).map_err(|e| e.to_string())?;
                return match answer.strip_prefix("error: ") {
                    Some(e) => Err(e.trim_end().to_string()),
                    None => Ok(answer),
                };
            }
            // No server (no socket, or a stale one): the store is ours to open.
            Err(e)
                if matches!(
                    e.kind(),
                    std::io::ErrorKind::NotFound | std::io::ErrorKind::ConnectionRefused
                ) => {}
            Err(e) => return Err(format!("{}: {e}", data_dir.join(ADMIN_SOCKET).display())),
        }
    }
    let store_dir = data_dir.join("store");
    if !store_dir.exists() {
        return Err(format!("no store in {}", data_dir.display()));
    }
    let store = SledStore::open(&store_dir).map_err(|e| e.to_string())?;
    let out = run(&store, cmd, unix_now());
    store.flush().map_err(|e| e.to_string())?;
    out
}

/// Answers one admin connection: a request line, then the text `answer` gives (or `error: …`).
pub fn serve_one(
    stream: impl std::io::Read + Write,
    answer: impl FnOnce(&AdminCommand) -> Result<String, String>,
) -> std::io::Result<()> {
    let mut reader = BufReader::new(std::io::Read::take(stream, MAX_REQUEST as u64));
    let mut line = String::new();
    reader.read_line(&mut line)?;
    let answer = AdminCommand::parse(line.trim()).and_then(|cmd| {
        tracing::info!(command = %cmd.log_line(), "admin command");
        answer(&cmd)
    });
    let mut stream = reader.into_inner().into_inner();
    match answer {
        Ok(text) => stream.write_all(text.as_bytes())?,
        Err(e) => writeln!(stream, "error: {e}")?,
    }
    Ok(())
}

pub fn unix_now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64)
}

/// `YYYY-MM-DD HH:MM` in UTC (days to civil date: H. Hinnant's algorithm).
pub fn utc(t: i64) -> String {
    let (days, secs) = (t.div_euclid(86_400), t.rem_euclid(86_400));
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02} {:02}:{:02}",
        secs / 3600,
        secs % 3600 / 60
    )
}

/// Left-aligned columns.
struct Table {
    rows: Vec<Vec<String>>,
}

impl Table {
    fn new(header: &[&str]) -> Self {
        Table {
            rows: vec![header.iter().map(|h| h.to_string()).collect()],
        }
    }

    fn row(&mut self, cells: Vec<String>) {
        self.rows.push(cells);
    }

    fn render(&self) -> String {
        let cols = self.rows[0].len();
        let widths: Vec<usize> = (0..cols)
            .map(|c| {
                self.rows
                    .iter()
                    .map(|r| r[c].chars().count())
                    .max()
                    .unwrap_or(0)
            })
            .collect();
        let mut out = String::new();
        for r in &self.rows {
            let line: Vec<String> = r
                .iter()
                .zip(&widths)
                .map(|(cell, w)| format!("{cell:<w$}"))
                .collect();
            out.push_str(line.join("  ").trim_end());
            out.push('\n');
        }
        out
    }
}

/// The layer a key declared, and the sampled layer it is answered in where that differs
/// (`227→222`); `-` before any invokeWithLayer.
fn layer_column(declared: i32) -> String {
    let served = crate::tl::layer::Layer::serving(declared).number();
    match declared {
        0 => "-".into(),
        d if d == served => d.to_string(),
        d => format!("{d}→{served}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rpc::login_tests::Fixture;
    use crate::store::MemoryStore;

    #[test]
    fn commands_round_trip_through_their_lines() {
        for cmd in [
            AdminCommand::Users,
            AdminCommand::Sessions { user: None },
            AdminCommand::Sessions { user: Some(5) },
            AdminCommand::RevokeKey(-2),
            AdminCommand::RevokeUser(7),
            AdminCommand::Bots,
            AdminCommand::BotCreate {
                dc: 2,
                username: None,
                name: "Echo Bot".into(),
            },
            AdminCommand::BotCreate {
                dc: 3,
                username: Some("echo_bot".into()),
                name: "Echo".into(),
            },
            AdminCommand::BotRevoke(42),
            AdminCommand::WebToken(7),
            AdminCommand::Codes(None),
            AdminCommand::Codes(Some("a@b.co".into())),
            AdminCommand::Reset(None),
            AdminCommand::Reset(Some(3)),
            AdminCommand::SessionCreate {
                user: 4,
                dc: Some(2),
            },
            AdminCommand::Faults,
            AdminCommand::FaultClear(Some(2)),
            AdminCommand::FaultAdd(crate::server::faults::FaultRule {
                id: 0,
                method: "auth.sendCode".into(),
                error: Some(crate::rpc::RpcError::new(420, "FLOOD_WAIT_5")),
                delay_ms: 250,
                drop: false,
                times: Some(2),
                fraction: Some(0.5),
                hits: 0,
            }),
            AdminCommand::Seed("/tmp/a b.toml".into()),
            AdminCommand::UserCreate(crate::rpc::seed_user::NewUser {
                phone: "9996621234".into(),
                first_name: "Ada Mary".into(),
                last_name: String::new(),
                password: Some("pass word".into()),
                login_email: None,
                home_dc: 2,
            }),
        ] {
            assert_eq!(AdminCommand::parse(&cmd.to_line()).unwrap(), cmd);
        }
        assert!(
            AdminCommand::parse("bot-create 2 -").is_err(),
            "a name is needed"
        );
        assert!(AdminCommand::parse("drop table").is_err());
        assert!(AdminCommand::parse("revoke-key xyz").is_err());
        assert!(parse_key_id("00000000000000001").is_err());
        assert_eq!(parse_key_id("0xff").unwrap(), 255);
    }

    #[test]
    fn dates_are_utc() {
        assert_eq!(utc(0), "1970-01-01 00:00");
        assert_eq!(utc(1_700_000_000), "2023-11-14 22:13");
        assert_eq!(utc(951_782_400), "2000-02-29 00:00");
    }

    #[test]
    fn users_and_sessions_are_listed_and_revoked() {
        let f = Fixture::new();
        let user = f.register(11, "9996621234");
        f.log_in(12, "9996621234");
        let store = &f.store;
        let users = run(store, &AdminCommand::Users, 0).unwrap();
        assert!(users.starts_with("USER_ID"));
        assert!(users.contains("9996621234"));
        assert_eq!(users.lines().count(), 2);
        let info = crate::rpc::ClientInfo {
            layer: 227,
            ..Default::default()
        };
        f.set_client(12, info);
        let sessions = run(store, &AdminCommand::Sessions { user: Some(user) }, 0).unwrap();
        assert_eq!(sessions.lines().count(), 3, "{sessions}");
        assert!(sessions.contains(&format!("{:016x}", 11u64)));
        assert!(
            sessions.lines().next().unwrap().contains(" LAYER "),
            "{sessions}"
        );
        // Key 12 declared 227, answered in 222; key 11 declared nothing.
        assert!(sessions.contains(" 227→222 "), "{sessions}");
        assert!(sessions.contains(" - "), "{sessions}");
        let out = run(store, &AdminCommand::RevokeKey(11), 5).unwrap();
        assert!(out.contains("000000000000000b"));
        assert!(run(store, &AdminCommand::RevokeKey(11), 5).is_err());
        assert!(Accounts::new(store).revoked(11).unwrap());
        let out = run(store, &AdminCommand::RevokeUser(user), 5).unwrap();
        assert_eq!(out, format!("revoked 1 session(s) of user {user}\n"));
        assert_eq!(
            run(store, &AdminCommand::Sessions { user: None }, 0)
                .unwrap()
                .lines()
                .count(),
            1
        );
    }

    #[test]
    fn the_socket_protocol_answers_a_line() {
        let store = MemoryStore::default();
        let mut conn = std::io::Cursor::new(b"users\n".to_vec());
        struct Duplex<'a>(&'a mut std::io::Cursor<Vec<u8>>, Vec<u8>);
        impl std::io::Read for Duplex<'_> {
            fn read(&mut self, b: &mut [u8]) -> std::io::Result<usize> {
                self.0.read(b)
            }
        }
        impl Write for Duplex<'_> {
            fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
                self.1.extend_from_slice(b);
                Ok(b.len())
            }
            fn flush(&mut self) -> std::io::Result<()> {
                Ok(())
            }
        }
        let mut d = Duplex(&mut conn, Vec::new());
        serve_one(&mut d, |cmd| run(&store, cmd, 0)).unwrap();
        assert!(String::from_utf8(d.1).unwrap().starts_with("USER_ID"));
        let mut bad = std::io::Cursor::new(b"nonsense\n".to_vec());
        let mut d = Duplex(&mut bad, Vec::new());
        serve_one(&mut d, |cmd| run(&store, cmd, 0)).unwrap();
        assert!(String::from_utf8(d.1)
            .unwrap()
            .starts_with("error: unknown admin command"));
    }
}
