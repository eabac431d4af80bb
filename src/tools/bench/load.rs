//! Load generation with the client library: concurrent closed loops (each connection waits for
//! its answer before the next request) for a fixed time, server CPU read around the window.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::task::JoinSet;

use super::stats::{Window, Worker};
use super::target::Target;
use crate::client::login::SignedIn;
use crate::client::{create_auth_key, Client, ClientError, ConnectOptions, Transport};
use crate::crypto::AuthKey;
use crate::handshake::client::ClientConfig;
use crate::server::MAX_SESSIONS_PER_KEY;
use crate::transport::Framing;

/// Connections opened at once while setting up many of them.
const CONNECT_BATCH: usize = 256;

fn options(addr: SocketAddr) -> ConnectOptions {
    let mut o = ConnectOptions::new(addr, Framing::Intermediate);
    o.timeout = Duration::from_secs(30);
    o
}

/// Runs `tasks` to completion with the server's CPU read just before and just after.
async fn measured(target: &Target, tasks: JoinSet<Worker>, start: Instant) -> Window {
    let cpu_before = target.sample().map(|s| s.cpu).unwrap_or_default();
    let mut window = Window::default();
    let mut tasks = tasks;
    while let Some(w) = tasks.join_next().await {
        match w {
            Ok(w) => window.merge(w),
            Err(e) => {
                window.errors += 1;
                window.first_error.get_or_insert(e.to_string());
            }
        }
    }
    window.elapsed = start.elapsed();
    let cpu_after = target.sample().map(|s| s.cpu).unwrap_or_default();
    window.server_cpu = cpu_after.saturating_sub(cpu_before);
    window
}

/// New permanent auth keys, each on a fresh connection, `connections` at a time.
pub async fn handshakes(
    target: &Target,
    cfg: Arc<ClientConfig>,
    connections: usize,
    seconds: u64,
) -> Window {
    let start = Instant::now();
    let deadline = start + Duration::from_secs(seconds);
    let mut tasks = JoinSet::new();
    for _ in 0..connections {
        let (opts, cfg) = (options(target.addr), cfg.clone());
        tasks.spawn(async move {
            let mut w = Worker::default();
            while Instant::now() < deadline {
                let t = Instant::now();
                let result = async {
                    let mut transport = Transport::connect(&opts).await?;
                    create_auth_key(&mut transport, &cfg).await
                }
                .await;
                match result {
                    Ok(_) => w.record(t.elapsed()),
                    Err(e) => w.fail(e),
                }
            }
            w
        });
    }
    measured(target, tasks, start).await
}

/// Keys for `connections` sessions: one per [`MAX_SESSIONS_PER_KEY`] connections, so that no
/// session pushes another out of the server's registry.
pub async fn keys_for(
    addr: SocketAddr,
    cfg: &Arc<ClientConfig>,
    connections: usize,
) -> Result<Vec<(AuthKey, i64)>, ClientError> {
    keys(addr, cfg, connections.div_ceil(MAX_SESSIONS_PER_KEY)).await
}

/// `count` new permanent keys, made 8 at a time.
pub async fn keys(
    addr: SocketAddr,
    cfg: &Arc<ClientConfig>,
    count: usize,
) -> Result<Vec<(AuthKey, i64)>, ClientError> {
    let mut tasks = JoinSet::new();
    let mut keys = Vec::with_capacity(count);
    for i in 0..count {
        let cfg = cfg.clone();
        tasks.spawn(async move {
            let mut transport = Transport::connect(&options(addr)).await?;
            create_auth_key(&mut transport, &cfg).await
        });
        if tasks.len() >= 8 || i + 1 == count {
            while let Some(done) = tasks.join_next().await {
                let done = done.map_err(|e| ClientError::Protocol(e.to_string()))??;
                keys.push((done.auth_key, done.salt));
            }
        }
    }
    Ok(keys)
}

/// `connections` clients, each with its own session on one of `keys`, each having had one
/// ping answered.
pub async fn sessions(
    addr: SocketAddr,
    keys: &[(AuthKey, i64)],
    connections: usize,
) -> Result<Vec<Client>, ClientError> {
    sessions_on(addr, keys, connections, MAX_SESSIONS_PER_KEY).await
}

/// `connections` clients with a session each, on keys made for them ([`keys_for`]).
pub async fn connected(
    addr: SocketAddr,
    cfg: &Arc<ClientConfig>,
    connections: usize,
) -> Result<Vec<Client>, ClientError> {
    let keys = keys_for(addr, cfg, connections).await?;
    sessions(addr, &keys, connections).await
}

/// Like [`sessions`], with `per_key` sessions on each key.
pub async fn sessions_on(
    addr: SocketAddr,
    keys: &[(AuthKey, i64)],
    connections: usize,
    per_key: usize,
) -> Result<Vec<Client>, ClientError> {
    let mut clients = Vec::with_capacity(connections);
    let mut tasks = JoinSet::new();
    for i in 0..connections {
        let (key, salt) = keys[i / per_key].clone();
        tasks.spawn(async move {
            let transport = Transport::connect(&options(addr)).await?;
            let mut client = Client::with_key(transport, key, salt);
            client.ping(i as i64).await?;
            client.take_pushed();
            Ok::<_, ClientError>(client)
        });
        if tasks.len() >= CONNECT_BATCH || i + 1 == connections {
            while let Some(done) = tasks.join_next().await {
                clients.push(done.map_err(|e| ClientError::Protocol(e.to_string()))??);
            }
        }
    }
    Ok(clients)
}

/// Encrypted pings over every client until `seconds` have passed, `depth` in flight on each
/// (1: each waits for its pong; more, as real clients keep requests in flight: each pong sends
/// the next ping). Each latency is its own ping's. Hands the clients back with the window.
pub async fn pings(
    target: &Target,
    clients: Vec<Client>,
    depth: usize,
    seconds: u64,
) -> (Window, Vec<Client>) {
    let start = Instant::now();
    let deadline = start + Duration::from_secs(seconds);
    let mut tasks = JoinSet::new();
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
    for mut client in clients {
        let tx = tx.clone();
        tasks.spawn(async move {
            let mut w = Worker::default();
            if let Err(e) = keep_in_flight(&mut client, depth, deadline, &mut w).await {
                w.fail(e);
            }
            client.take_pushed();
            let _ = tx.send(client);
            w
        });
    }
    drop(tx);
    let window = measured(target, tasks, start).await;
    let mut clients = Vec::new();
    while let Some(c) = rx.recv().await {
        clients.push(c);
    }
    (window, clients)
}

/// One connection's pings, `depth` in flight, until `deadline`; then its last pongs taken in.
async fn keep_in_flight(
    client: &mut Client,
    depth: usize,
    deadline: Instant,
    w: &mut Worker,
) -> Result<(), ClientError> {
    use crate::tl::types::{BadServerSalt, Pong};
    use crate::tl::{Deserializable, Serializable};
    // msg_id → (ping_id, when sent)
    let mut in_flight: std::collections::HashMap<i64, (i64, Instant)> = Default::default();
    let mut ping_id = 0;
    async fn send(client: &mut Client, ping_id: i64) -> Result<i64, ClientError> {
        client
            .send_body(&crate::tl::functions::Ping { ping_id }.to_bytes())
            .await
    }
    for _ in 0..depth {
        ping_id += 1;
        in_flight.insert(send(client, ping_id).await?, (ping_id, Instant::now()));
    }
    while !in_flight.is_empty() {
        for (_, _, body) in client.recv_messages().await? {
            let resend = if let Ok(pong) = Pong::from_bytes(&body) {
                match in_flight.remove(&pong.msg_id) {
                    Some((id, sent)) if id == pong.ping_id => {
                        w.record(sent.elapsed());
                        Instant::now() < deadline
                    }
                    _ => return Err(ClientError::Protocol("a pong for no ping".into())),
                }
            } else if let Ok(bad) = BadServerSalt::from_bytes(&body) {
                // The salt moved on: that ping goes again, with the new one.
                client.set_salt(bad.new_server_salt);
                in_flight.remove(&bad.bad_msg_id).is_some()
            } else {
                false
            };
            if resend {
                ping_id += 1;
                in_flight.insert(send(client, ping_id).await?, (ping_id, Instant::now()));
            }
        }
    }
    Ok(())
}

/// The baseline for [`pings`]: frames of `size` bytes echoed back, one outstanding per
/// connection.
pub async fn echoes(target: &Target, connections: usize, size: usize, seconds: u64) -> Window {
    let mut transports = Vec::with_capacity(connections);
    for _ in 0..connections {
        match Transport::connect(&options(target.addr)).await {
            Ok(t) => transports.push(t),
            Err(e) => {
                return Window {
                    errors: 1,
                    first_error: Some(e.to_string()),
                    ..Window::default()
                }
            }
        }
    }
    let start = Instant::now();
    let deadline = start + Duration::from_secs(seconds);
    let mut tasks = JoinSet::new();
    for mut transport in transports {
        tasks.spawn(async move {
            let mut w = Worker::default();
            let payload = vec![0x5a; size];
            while Instant::now() < deadline {
                let t = Instant::now();
                let result = async {
                    transport.send(&payload).await?;
                    transport.recv().await
                }
                .await;
                match result {
                    Ok(back) if back.len() == size => w.record(t.elapsed()),
                    Ok(back) => w.fail(format!("echoed {} bytes of {size}", back.len())),
                    Err(e) => {
                        w.fail(e);
                        break;
                    }
                }
            }
            w
        });
    }
    measured(target, tasks, start).await
}

/// Signs up `phones` (test numbers on the target's DC), spread over `clients`; the clients
/// come back logged in as their last number.
pub async fn sign_ups(
    clients: Vec<Client>,
    phones: Arc<Vec<String>>,
) -> Result<Vec<Client>, ClientError> {
    let n = clients.len();
    let mut tasks = JoinSet::new();
    for (i, mut client) in clients.into_iter().enumerate() {
        let phones = phones.clone();
        tasks.spawn(async move {
            let mut logged_in = false;
            for phone in phones.iter().skip(i).step_by(n) {
                let sent = client.send_code(phone).await?;
                let code = test_code(phone);
                match client.sign_in(phone, &sent.phone_code_hash, &code).await? {
                    SignedIn::SignUpRequired => {
                        // A logged-in key signs up no other account.
                        if logged_in {
                            client.log_out().await?;
                        }
                        client
                            .sign_up(phone, &sent.phone_code_hash, "Bench", "")
                            .await?;
                    }
                    SignedIn::User(_) => {}
                }
                logged_in = true;
            }
            Ok::<_, ClientError>(client)
        });
    }
    let mut back = Vec::with_capacity(n);
    while let Some(done) = tasks.join_next().await {
        back.push(done.map_err(|e| ClientError::Protocol(e.to_string()))??);
    }
    Ok(back)
}

/// A test number's code: its DC digit five times.
fn test_code(phone: &str) -> String {
    phone.get(5..6).unwrap_or("0").repeat(5)
}

/// Logins (auth.sendCode, then auth.signIn with the code), one outstanding per client, each
/// client going through its own share of `phones` in turn.
pub async fn logins(
    target: &Target,
    clients: Vec<Client>,
    phones: Arc<Vec<String>>,
    seconds: u64,
) -> Window {
    let start = Instant::now();
    let deadline = start + Duration::from_secs(seconds);
    let n = clients.len();
    let mut tasks = JoinSet::new();
    for (i, mut client) in clients.into_iter().enumerate() {
        let phones = phones.clone();
        tasks.spawn(async move {
            let mut w = Worker::default();
            let mine: Vec<&String> = phones.iter().skip(i).step_by(n).collect();
            for phone in mine.iter().cycle() {
                if Instant::now() >= deadline {
                    break;
                }
                let t = Instant::now();
                let result = async {
                    let sent = client.send_code(phone).await?;
                    client
                        .sign_in(phone, &sent.phone_code_hash, &test_code(phone))
                        .await
                }
                .await;
                match result {
                    Ok(SignedIn::User(_)) => w.record(t.elapsed()),
                    Ok(SignedIn::SignUpRequired) => w.fail(format!("{phone} has no account")),
                    Err(e) => {
                        w.fail(e);
                        break;
                    }
                }
                client.take_pushed();
            }
            w
        });
    }
    measured(target, tasks, start).await
}

/// Password checks (account.getPassword, then account.getPasswordSettings with the SRP proof),
/// one outstanding per client, each client checking its own account's `password`. The client's
/// PBKDF2 runs once per client, before the window; its two modular exponentiations per check
/// run in this process, not the server's. Every client starts at least one check in the
/// window.
pub async fn password_checks(
    target: &Target,
    clients: Vec<Client>,
    password: &'static str,
    seconds: u64,
) -> Window {
    use crate::client::password::PasswordHash;
    let mut warm = JoinSet::new();
    for mut client in clients {
        warm.spawn(async move {
            let mut known = PasswordHash::default();
            let ready = client.password_proof_cached(password, &mut known).await;
            (client, known, ready)
        });
    }
    let mut ready = Vec::new();
    let mut failed = Worker::default();
    while let Some(done) = warm.join_next().await {
        match done {
            Ok((client, known, Ok(_))) => ready.push((client, known)),
            Ok((_, _, Err(e))) => failed.fail(e),
            Err(e) => failed.fail(e),
        }
    }
    let start = Instant::now();
    let deadline = start + Duration::from_secs(seconds);
    let mut tasks = JoinSet::new();
    tasks.spawn(async move { failed });
    for (mut client, mut known) in ready {
        tasks.spawn(async move {
            let mut w = Worker::default();
            loop {
                let t = Instant::now();
                let result = async {
                    let password = client.password_proof_cached(password, &mut known).await?;
                    client
                        .invoke(&crate::tl::functions::account::GetPasswordSettings { password })
                        .await
                }
                .await;
                match result {
                    Ok(_) => w.record(t.elapsed()),
                    Err(e) => {
                        w.fail(e);
                        break;
                    }
                }
                if Instant::now() >= deadline {
                    break;
                }
            }
            w
        });
    }
    measured(target, tasks, start).await
}
