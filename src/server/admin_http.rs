//! The admin API over HTTP (`serve --admin-http 127.0.0.1:PORT`): health, the codes and emails
//! sent (long-poll for the next one), reset, users, bots, sessions, fault rules, Prometheus
//! metrics and a read-only dashboard. For tests and operators on the same machine: HTTP/1.1,
//! one request per connection, form-encoded or query parameters in, JSON out; every action is
//! logged. It controls the whole server, so `serve` binds it to loopback unless told otherwise.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{watch, Semaphore};

use super::code_log::Filter;
use super::faults::{default_code, FaultRule};
use super::ready::json_string as js;
use super::ServerState;
use crate::rpc::RpcError;
use crate::store::accounts::Accounts;
use crate::tools::admin::unix_now;

/// Requests served at once (a long-poll holds one); more get 503.
const MAX_CONCURRENT: usize = 64;
/// The request head and body are small; larger ones get 413.
const MAX_HEAD: usize = 8 * 1024;
const MAX_BODY: usize = 16 * 1024;
/// A client that has not sent its request by then is dropped.
const READ_TIMEOUT: Duration = Duration::from_secs(10);
/// The longest long-poll.
const MAX_WAIT_SECS: u64 = 120;
/// Rows listed at most.
const MAX_ROWS: usize = 10_000;

const DASHBOARD: &str = include_str!("dashboard.html");

/// One parsed request.
#[derive(Debug, Default)]
pub struct Request {
    pub method: String,
    pub path: String,
    pub params: HashMap<String, String>,
}

#[derive(Debug)]
pub struct Response {
    pub status: u16,
    pub content_type: &'static str,
    pub body: String,
}

impl Response {
    fn json(status: u16, body: String) -> Self {
        Response {
            status,
            content_type: "application/json",
            body,
        }
    }

    fn error(status: u16, message: &str) -> Self {
        Self::json(status, format!("{{\"error\":{}}}", js(message)))
    }

    fn ok() -> Self {
        Self::json(200, "{\"ok\":true}".into())
    }
}

fn reason(status: u16) -> &'static str {
    match status {
        200 => "OK",
        201 => "Created",
        400 => "Bad Request",
        404 => "Not Found",
        405 => "Method Not Allowed",
        409 => "Conflict",
        413 => "Payload Too Large",
        500 => "Internal Server Error",
        503 => "Service Unavailable",
        _ => "",
    }
}

/// `%XX` and `+` decoded; invalid escapes are kept as they are.
fn url_decode(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'+' => out.push(b' '),
            b'%' if i + 2 < b.len() => {
                let digit = |c: u8| (c as char).to_digit(16).map(|d| d as u8);
                match (digit(b[i + 1]), digit(b[i + 2])) {
                    (Some(hi), Some(lo)) => {
                        out.push(hi << 4 | lo);
                        i += 2;
                    }
                    _ => out.push(b'%'),
                }
            }
            c => out.push(c),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn parse_params(s: &str, into: &mut HashMap<String, String>) {
    for pair in s.split('&').filter(|p| !p.is_empty()) {
        let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
        into.insert(url_decode(k), url_decode(v));
    }
}

/// Parses a request head and its body (form-encoded parameters join the query's).
pub fn parse_request(head: &str, body: &[u8]) -> Option<Request> {
    let first = head.lines().next()?;
    let mut words = first.split(' ');
    let method = words.next()?.to_string();
    let target = words.next()?;
    let (path, query) = target.split_once('?').unwrap_or((target, ""));
    let mut params = HashMap::new();
    parse_params(query, &mut params);
    if !body.is_empty() {
        parse_params(std::str::from_utf8(body).ok()?.trim(), &mut params);
    }
    Some(Request {
        method,
        path: path.to_string(),
        params,
    })
}

pub async fn serve(
    listener: TcpListener,
    state: Arc<ServerState>,
    mut stop: watch::Receiver<bool>,
) {
    let slots = Arc::new(Semaphore::new(MAX_CONCURRENT));
    loop {
        tokio::select! {
            _ = stop.changed() => break,
            accepted = listener.accept() => {
                let Ok((stream, peer)) = accepted else { continue };
                let state = state.clone();
                let permit = slots.clone().try_acquire_owned();
                tokio::spawn(async move {
                    let _permit = permit;
                    let mut stream = stream;
                    if _permit.is_err() {
                        let r = Response::error(503, "too many admin requests at once");
                        let _ = write_response(&mut stream, &r).await;
                        return;
                    }
                    if let Err(e) = serve_connection(stream, state).await {
                        tracing::debug!(%peer, error = %e, "admin http connection failed");
                    }
                });
            }
        }
    }
}

async fn write_response(stream: &mut TcpStream, r: &Response) -> std::io::Result<()> {
    let head = format!(
        "HTTP/1.1 {} {}\r\nContent-Type: {}; charset=utf-8\r\nContent-Length: {}\r\nCache-Control: no-store\r\nConnection: close\r\n\r\n",
        r.status,
        reason(r.status),
        r.content_type,
        r.body.len()
    );
    stream.write_all(head.as_bytes()).await?;
    stream.write_all(r.body.as_bytes()).await?;
    stream.shutdown().await
}

async fn read_request(stream: &mut TcpStream) -> Result<Option<Request>, u16> {
    let mut buf = Vec::with_capacity(1024);
    let mut chunk = [0u8; 4096];
    let head_end = loop {
        if let Some(at) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            break at;
        }
        if buf.len() > MAX_HEAD {
            return Err(413);
        }
        match stream.read(&mut chunk).await {
            Ok(0) | Err(_) => return Ok(None),
            Ok(n) => buf.extend_from_slice(&chunk[..n]),
        }
    };
    let head = String::from_utf8_lossy(&buf[..head_end]).into_owned();
    let length = head
        .lines()
        .filter_map(|l| l.split_once(':'))
        .find(|(k, _)| k.trim().eq_ignore_ascii_case("content-length"))
        .and_then(|(_, v)| v.trim().parse::<usize>().ok())
        .unwrap_or(0);
    if length > MAX_BODY {
        return Err(413);
    }
    let mut body = buf[head_end + 4..].to_vec();
    while body.len() < length {
        match stream.read(&mut chunk).await {
            Ok(0) | Err(_) => return Ok(None),
            Ok(n) => body.extend_from_slice(&chunk[..n]),
        }
    }
    body.truncate(length);
    parse_request(&head, &body).map(Some).ok_or(400)
}

async fn serve_connection(mut stream: TcpStream, state: Arc<ServerState>) -> std::io::Result<()> {
    let request = match tokio::time::timeout(READ_TIMEOUT, read_request(&mut stream)).await {
        Err(_) | Ok(Ok(None)) => return Ok(()),
        Ok(Err(status)) => {
            return write_response(&mut stream, &Response::error(status, "bad request")).await
        }
        Ok(Ok(Some(r))) => r,
    };
    let (method, path) = (request.method.clone(), request.path.clone());
    let response = tokio::task::spawn_blocking(move || handle(&state, &request))
        .await
        .unwrap_or_else(|_| Response::error(500, "the handler failed"));
    // GETs of the dashboard's polling would flood the log; actions are always logged.
    if method != "GET" {
        tracing::info!(%method, %path, status = response.status, "admin http");
    } else {
        tracing::debug!(%method, %path, status = response.status, "admin http");
    }
    write_response(&mut stream, &response).await
}

fn param<'a>(r: &'a Request, name: &str) -> Option<&'a str> {
    r.params
        .get(name)
        .map(String::as_str)
        .filter(|v| !v.is_empty())
}

fn int_param<T: std::str::FromStr>(r: &Request, name: &str) -> Result<Option<T>, Response> {
    param(r, name)
        .map(|v| {
            v.parse()
                .map_err(|_| Response::error(400, &format!("{name}={v:?} is not a number")))
        })
        .transpose()
}

fn key_param(r: &Request, name: &str) -> Result<Option<i64>, Response> {
    param(r, name)
        .map(|v| crate::tools::admin::parse_key_id(v).map_err(|e| Response::error(400, &e)))
        .transpose()
}

/// Answers one request (blocking: store work and long-polls run here, off the workers).
pub fn handle(state: &ServerState, r: &Request) -> Response {
    state.metrics.admin_request();
    match route(state, r) {
        Ok(resp) | Err(resp) => resp,
    }
}

fn route(state: &ServerState, r: &Request) -> Result<Response, Response> {
    let now = unix_now();
    let e500 = |e: crate::store::StoreError| Response::error(500, &e.to_string());
    match (r.method.as_str(), r.path.trim_end_matches('/')) {
        ("GET", "") => Ok(Response {
            status: 200,
            content_type: "text/html",
            body: DASHBOARD.into(),
        }),
        ("GET", "/health") => Ok(Response::json(200, health(state))),
        ("GET", "/metrics") => Ok(Response {
            status: 200,
            content_type: "text/plain; version=0.0.4",
            body: state.metrics.render(&state.fill()),
        }),
        ("GET", "/codes") => codes(state, r),
        ("POST", "/reset") => match int_param::<i64>(r, "user")? {
            None => {
                state.reset().map_err(e500)?;
                Ok(Response::ok())
            }
            Some(user) => match state.reset_user(user).map_err(e500)? {
                true => Ok(Response::ok()),
                false => Err(Response::error(404, &format!("no user {user}"))),
            },
        },
        ("GET", "/users") => Ok(Response::json(200, users_json(state)?)),
        ("POST", "/users") => create_user(state, r, now),
        ("POST", "/bots") => create_bot(state, r, now),
        ("GET", "/sessions") => {
            let user = int_param::<i64>(r, "user")?;
            Ok(Response::json(200, sessions_json(state, user)?))
        }
        ("POST", "/sessions") => create_session(state, r, now),
        ("DELETE", "/sessions") | ("POST", "/sessions/end") => end_sessions(state, r, now),
        ("GET", "/faults") => Ok(Response::json(200, faults_json(state))),
        ("POST", "/faults") => add_fault(state, r),
        ("DELETE", "/faults") | ("POST", "/faults/clear") => {
            let n = state.faults.clear(int_param(r, "id")?);
            Ok(Response::json(200, format!("{{\"cleared\":{n}}}")))
        }
        // `curl --data-urlencode seed@fixtures.toml`: the file's text in the `seed` field.
        ("POST", "/seed") => {
            let text = param(r, "seed").ok_or_else(|| Response::error(400, "seed is needed"))?;
            let seed = crate::tools::seed::parse(text).map_err(|e| Response::error(400, &e))?;
            let report = crate::tools::seed::apply(&*state.store, &seed, now)
                .map_err(|e| Response::error(409, &e))?;
            Ok(Response::json(
                200,
                format!("{{\"ok\":true,\"report\":{}}}", js(&report)),
            ))
        }
        ("GET", "/api/overview") => Ok(Response::json(
            200,
            format!(
                "{{\"users\":{},\"sessions\":{},\"codes\":{},\"faults\":{},\"health\":{}}}",
                users_json(state)?,
                sessions_json(state, None)?,
                codes_json(&state.codes.list(&Filter::default(), 50), state),
                faults_json(state),
                health(state)
            ),
        )),
        (
            _,
            "" | "/health" | "/metrics" | "/codes" | "/reset" | "/users" | "/bots" | "/sessions"
            | "/faults",
        ) => Err(Response::error(405, "method not allowed here")),
        _ => Err(Response::error(404, "no such admin endpoint")),
    }
}

fn health(state: &ServerState) -> String {
    format!(
        "{{\"status\":\"ok\",\"dcs\":{}}}",
        super::ready::dcs_json(&state.dcs)
    )
}

fn codes_json(list: &[super::code_log::Delivery], state: &ServerState) -> String {
    let items: Vec<String> = list.iter().map(|d| d.to_json()).collect();
    format!(
        "{{\"codes\":[{}],\"last_seq\":{}}}",
        items.join(","),
        state.codes.last_seq()
    )
}

/// `GET /codes?phone=P|email=E&after=N&limit=L&wait=SECS`: the kept deliveries (newest `limit`),
/// or with `wait`, the first after `after` (default: the next one to arrive), waiting for it.
fn codes(state: &ServerState, r: &Request) -> Result<Response, Response> {
    let wait = int_param::<u64>(r, "wait")?;
    let mut filter = Filter {
        phone: param(r, "phone").map(str::to_string),
        email: param(r, "email").map(str::to_string),
        after: int_param(r, "after")?.unwrap_or(0),
    };
    let limit = int_param::<usize>(r, "limit")?.unwrap_or(100).min(1000);
    match wait {
        None => Ok(Response::json(
            200,
            codes_json(&state.codes.list(&filter, limit), state),
        )),
        Some(secs) => {
            if param(r, "after").is_none() {
                filter.after = state.codes.last_seq();
            }
            let secs = secs.min(MAX_WAIT_SECS);
            match state.codes.wait(&filter, Duration::from_secs(secs)) {
                Some(d) => Ok(Response::json(200, codes_json(&[d], state))),
                None => Err(Response::error(
                    404,
                    &format!("no matching code arrived in {secs} s"),
                )),
            }
        }
    }
}

fn users_json(state: &ServerState) -> Result<String, Response> {
    let acc = Accounts::new(&*state.store);
    let e = |e: crate::store::StoreError| Response::error(500, &e.to_string());
    let mut sessions = HashMap::<i64, usize>::new();
    for a in acc.all_authorizations(MAX_ROWS).map_err(e)? {
        *sessions.entry(a.value.user_id).or_default() += 1;
    }
    let rows: Vec<String> = acc
        .users(MAX_ROWS)
        .map_err(e)?
        .iter()
        .map(|u| {
            let password = acc.password(u.id).ok().flatten().is_some();
            format!(
                "{{\"id\":{},\"phone\":{},\"first_name\":{},\"last_name\":{},\"username\":{},\"bot\":{},\"dc\":{},\"created\":{},\"password\":{},\"sessions\":{}}}",
                u.id,
                js(&u.phone),
                js(&u.first_name),
                js(&u.last_name),
                js(&u.username),
                u.bot,
                u.home_dc,
                u.created,
                password,
                sessions.get(&u.id).copied().unwrap_or(0)
            )
        })
        .collect();
    Ok(format!("[{}]", rows.join(",")))
}

fn sessions_json(state: &ServerState, user: Option<i64>) -> Result<String, Response> {
    let acc = Accounts::new(&*state.store);
    let list = match user {
        Some(u) => acc.authorizations_of(u),
        None => acc.all_authorizations(MAX_ROWS),
    }
    .map_err(|e| Response::error(500, &e.to_string()))?;
    let rows: Vec<String> = list
        .iter()
        .map(|a| {
            let a = &a.value;
            format!(
                "{{\"auth_key_id\":\"{:016x}\",\"user_id\":{},\"dc\":{},\"ip\":{},\"device\":{},\"app\":{},\"api_id\":{},\"layer\":{},\"created\":{}}}",
                a.key_id as u64,
                a.user_id,
                a.dc_id,
                js(&a.ip),
                js(&a.device_model),
                js(&a.app_version),
                a.api_id,
                a.layer,
                a.created
            )
        })
        .collect();
    Ok(format!("[{}]", rows.join(",")))
}

fn faults_json(state: &ServerState) -> String {
    let rows: Vec<String> = state.faults.list().iter().map(FaultRule::to_json).collect();
    format!("[{}]", rows.join(","))
}

fn create_user(state: &ServerState, r: &Request, now: i64) -> Result<Response, Response> {
    let new = crate::rpc::seed_user::NewUser {
        phone: param(r, "phone")
            .ok_or_else(|| Response::error(400, "phone is needed"))?
            .into(),
        first_name: param(r, "first_name").unwrap_or("Test").into(),
        last_name: param(r, "last_name").unwrap_or("").into(),
        password: param(r, "password").map(str::to_string),
        login_email: param(r, "login_email").map(str::to_string),
        home_dc: int_param(r, "dc")?.unwrap_or(state.login.default_home_dc),
    };
    let u = crate::rpc::seed_user::create(&*state.store, &mut crate::rand::OsRng, &new, now)
        .map_err(|e| Response::error(409, &e))?;
    Ok(Response::json(
        201,
        format!(
            "{{\"id\":{},\"phone\":{},\"dc\":{},\"access_hash\":{}}}",
            u.id,
            js(&u.phone),
            u.home_dc,
            u.access_hash
        ),
    ))
}

fn create_bot(state: &ServerState, r: &Request, now: i64) -> Result<Response, Response> {
    let name = param(r, "name").ok_or_else(|| Response::error(400, "name is needed"))?;
    let dc = int_param(r, "dc")?.unwrap_or(state.login.default_home_dc);
    let bot = crate::rpc::bots::create(
        &*state.store,
        &mut crate::rand::OsRng,
        name,
        param(r, "username"),
        dc,
        now,
    )
    .map_err(|e| Response::error(409, &e))?;
    Ok(Response::json(
        201,
        format!(
            "{{\"id\":{},\"username\":{},\"dc\":{},\"token\":{}}}",
            bot.user.id,
            js(&bot.user.username),
            bot.user.home_dc,
            js(&bot.token)
        ),
    ))
}

/// `POST /sessions user=ID [dc=N]`: a logged-in permanent key for the user; the key itself is
/// in the answer (hex), for a client to start with (the Python fixtures build Telethon and
/// Pyrogram session strings from it).
fn create_session(state: &ServerState, r: &Request, now: i64) -> Result<Response, Response> {
    let user =
        int_param::<i64>(r, "user")?.ok_or_else(|| Response::error(400, "user is needed"))?;
    let dc = int_param(r, "dc")?;
    if let Some(dc) = dc {
        if !state.dcs.iter().any(|d| d.id == dc) {
            return Err(Response::error(400, &format!("no DC {dc} is served")));
        }
    }
    let s = crate::rpc::seed_user::create_session(
        &*state.store,
        &mut crate::rand::OsRng,
        user,
        dc,
        now,
    )
    .map_err(|e| Response::error(404, &e))?;
    let addr = state.dcs.iter().find(|d| d.id == s.dc_id);
    Ok(Response::json(
        201,
        format!(
            "{{\"auth_key_id\":\"{:016x}\",\"auth_key\":\"{}\",\"user_id\":{},\"dc\":{},\"bot\":{},\"host\":{},\"port\":{}}}",
            s.auth_key_id as u64,
            s.auth_key_hex(),
            s.user_id,
            s.dc_id,
            s.bot,
            js(addr.map_or("", |a| a.ip.as_str())),
            addr.map_or(0, |a| a.port),
        ),
    ))
}

/// `DELETE /sessions?key=HEX` or `?user=ID`: ends them (the keys answer SESSION_REVOKED).
fn end_sessions(state: &ServerState, r: &Request, now: i64) -> Result<Response, Response> {
    use crate::tools::admin::AdminCommand;
    let cmd = match (key_param(r, "key")?, int_param::<i64>(r, "user")?) {
        (Some(k), _) => AdminCommand::RevokeKey(k),
        (None, Some(u)) => AdminCommand::RevokeUser(u),
        (None, None) => return Err(Response::error(400, "key or user is needed")),
    };
    // As over the socket: the revoked sessions' temporary keys die with them (PF-6).
    let text =
        super::admin::run_on_server(state, &cmd, now).map_err(|e| Response::error(404, &e))?;
    Ok(Response::json(
        200,
        format!("{{\"ok\":true,\"result\":{}}}", js(text.trim())),
    ))
}

/// `POST /faults method=M [error=TEXT] [code=N] [delay_ms=D] [drop=1] [times=N] [fraction=P]`.
fn add_fault(state: &ServerState, r: &Request) -> Result<Response, Response> {
    let rule = fault_rule(|name| param(r, name).map(str::to_string))
        .map_err(|e| Response::error(400, &e))?;
    let id = state
        .faults
        .add(rule)
        .map_err(|e| Response::error(400, &e))?;
    tracing::info!(rule = id, "fault rule added");
    Ok(Response::json(201, format!("{{\"id\":{id}}}")))
}

/// A rule from named values (the HTTP parameters, the CLI's flags).
pub fn fault_rule(get: impl Fn(&str) -> Option<String>) -> Result<FaultRule, String> {
    let num = |name: &str| -> Result<Option<f64>, String> {
        get(name)
            .map(|v| {
                v.parse::<f64>()
                    .map_err(|_| format!("{name}={v:?} is not a number"))
            })
            .transpose()
    };
    let method = get("method").ok_or("method is needed (auth.sendCode, or *)")?;
    let error = get("error").map(|text| {
        let code = num("code")
            .ok()
            .flatten()
            .map_or(default_code(&text), |c| c as i32);
        RpcError::new(code, text)
    });
    let truthy = |v: Option<String>| v.is_some_and(|v| matches!(v.as_str(), "1" | "true" | "yes"));
    Ok(FaultRule {
        id: 0,
        method,
        error,
        delay_ms: num("delay_ms")?.map_or(0, |d| d.max(0.0) as u64),
        drop: truthy(get("drop")),
        times: num("times")?.map(|t| t.max(0.0) as u32),
        fraction: num("fraction")?,
        hits: 0,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn requests_parse_with_query_and_form_parameters() {
        let r = parse_request(
            "POST /faults?method=auth.sendCode HTTP/1.1\r\nHost: x",
            b"error=FLOOD_WAIT_5&times=2&name=A+b%21",
        )
        .unwrap();
        assert_eq!(r.method, "POST");
        assert_eq!(r.path, "/faults");
        assert_eq!(r.params["method"], "auth.sendCode");
        assert_eq!(r.params["name"], "A b!");
        let rule = fault_rule(|n| r.params.get(n).cloned()).unwrap();
        assert_eq!(rule.error.unwrap().code, 420);
        assert_eq!(rule.times, Some(2));
        assert_eq!(url_decode("%zz%4"), "%zz%4");
        assert!(parse_request("", b"").is_none());
    }

    proptest::proptest! {
        /// Whatever a local client sends, the parsers answer or refuse; they never panic.
        #[test]
        fn any_request_or_seed_text_is_answered_without_a_panic(
            head in "\\PC{0,80}",
            body in proptest::collection::vec(proptest::num::u8::ANY, 0..80),
            seed in "(\\[\\[(users|bots|sessions)\\]\\]\n|[a-z_]{1,8} = \\PC{0,12}\n|\\PC{0,20}\n){0,6}",
        ) {
            if let Some(r) = parse_request(&head, &body) {
                let _ = fault_rule(|n| r.params.get(n).cloned());
            }
            let _ = url_decode(&head);
            if let Ok(seed) = crate::tools::seed::parse(&seed) {
                let store = crate::store::MemoryStore::default();
                let _ = crate::tools::seed::apply(&store, &seed, 0);
            }
        }
    }
}
