//! The tokio shell around the sans-IO core: one listener per DC, a task per connection, limits,
//! graceful shutdown. All DCs run in one process and share one store (test-DC emulation).

mod admin;
pub mod admin_http;
pub mod admission;
pub mod binding;
pub mod code_log;
mod conn;
pub mod datadir;
mod durability;
pub mod faults;
pub mod frame_budget;
mod keyfile;
pub mod metrics;
mod push;
mod rate;
pub mod ready;
pub mod replay;
pub mod slots;
mod state;

pub use conn::{Connection, Output, Partial, PRE_KEY_MAX_FRAME};
pub use durability::{Durability, SyncFailed};
pub(crate) use keyfile::write_private;
pub use keyfile::{load_or_create_rsa_key, PRIVATE_KEY_FILE, PUBLIC_KEY_FILE};
pub use rate::{AddressLimiter, HandshakeRate};
pub use state::{KeyEntry, ServerState, MAX_SESSIONS_PER_KEY};

use std::future::Future;
use std::io;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use tokio::io::AsyncWriteExt;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{mpsc, watch, Semaphore};
use tokio::task::JoinSet;

use crate::rand::{OsRng, PooledOsRng, Rng};
use crate::rpc::login::OutboxSender;
use crate::rpc::{DcAddress, LoginConfig};
use crate::store::{SledStore, Store};

/// Expensive handshake steps per second per client address by default (burst: four seconds'
/// worth, so 20 keys at once, then 5 a second).
pub const DEFAULT_HANDSHAKE_RATE: u32 = 10;

/// Limits that keep one client from taking the server (TR-8, AB-4).
#[derive(Debug, Clone)]
pub struct Limits {
    /// Open connections over all DCs; more are closed at once. `serve` keeps it below the
    /// process's file limit.
    pub max_connections: usize,
    /// Open connections one limited client address may hold (`admission.rs`).
    pub max_connections_per_address: usize,
    /// Key exchanges past req_DH_params at once (each costs RSA and DH work), over the
    /// server …
    pub max_handshakes: usize,
    /// … and per limited client address (`slots.rs`).
    pub max_handshakes_per_address: usize,
    /// A key exchange not finished this long after its req_pq is dropped with its
    /// connection, and its slot freed; messages meanwhile do not extend it.
    pub handshake_deadline: Duration,
    /// A frame begun and not completed this long after its first bytes closes the connection
    /// (a peer cannot hold a buffer by never sending the last byte).
    pub frame_deadline: Duration,
    /// A connection that sends nothing for this long is closed.
    pub idle_timeout: Duration,
    /// AB-4: req_DH_params and set_client_DH_params one client address may send (a key takes
    /// two); past it the connection gets −429 and is closed. `None`: no limit.
    pub handshake_rate: Option<HandshakeRate>,
    /// Whether loopback clients count against `handshake_rate` too. Off by default: a local
    /// test suite may create many keys at once, and a local client already has the CPU.
    pub limit_loopback: bool,
    /// Bytes of unacknowledged answers held over all sessions of one key, and over the
    /// server; past either the oldest go (`session/held.rs`).
    pub max_held_per_key: usize,
    pub max_held_total: usize,
    /// Bytes held in incomplete frames over the server; past it the connections holding the
    /// most are closed (`frame_budget.rs`).
    pub max_partial_frame_bytes: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_connections: 20_000,
            max_connections_per_address: admission::DEFAULT_PER_ADDRESS,
            max_handshakes: slots::DEFAULT_MAX,
            max_handshakes_per_address: slots::DEFAULT_PER_ADDRESS,
            handshake_deadline: Duration::from_secs(15),
            frame_deadline: Duration::from_secs(30),
            idle_timeout: Duration::from_secs(300),
            handshake_rate: Some(HandshakeRate::per_second(DEFAULT_HANDSHAKE_RATE)),
            limit_loopback: false,
            max_held_per_key: crate::session::held::MAX_HELD_PER_KEY,
            max_held_total: crate::session::held::MAX_HELD_TOTAL,
            max_partial_frame_bytes: frame_budget::DEFAULT_MAX,
        }
    }
}

#[derive(Debug, Clone)]
pub struct ServerConfig {
    pub data_dir: PathBuf,
    /// Where each DC listens, DC id first.
    pub dcs: Vec<(i32, SocketAddr)>,
    /// Test-DC labels in the handshake (HS-9) and `test_mode` in help.getConfig.
    pub test_mode: bool,
    pub limits: Limits,
    /// Login settings; `None`: the defaults, with codes written to `outbox.txt` in the data dir.
    pub login: Option<LoginConfig>,
    /// Keep every record in memory (`serve --ephemeral`): nothing survives the process; the
    /// data dir holds only the keys, the outbox and the admin socket.
    pub ephemeral: bool,
    /// Where the admin API listens over HTTP (`admin_http`); `None`: it does not.
    pub admin_http: Option<SocketAddr>,
    /// The host clients are told to dial (help.getConfig, the ready line) instead of the bound
    /// address: for a server behind a port mapping (a container bound to 0.0.0.0).
    pub public_host: Option<String>,
}

/// Where the default code sender appends the codes it delivers.
pub const OUTBOX_FILE: &str = "outbox.txt";

impl ServerConfig {
    /// `count` DCs on consecutive ports from `listen` (DC i on port + i − 1), with per-DC
    /// overrides.
    pub fn with_dcs(
        data_dir: PathBuf,
        listen: SocketAddr,
        count: i32,
        overrides: &[(i32, SocketAddr)],
    ) -> Self {
        // Port 0: every DC on a free port of its own (help.getConfig says which).
        let dcs = (1..=count)
            .map(|id| {
                let addr = overrides
                    .iter()
                    .find(|(dc, _)| *dc == id)
                    .map(|(_, a)| *a)
                    .unwrap_or_else(|| {
                        let mut a = listen;
                        if listen.port() != 0 {
                            a.set_port(listen.port() + (id as u16 - 1));
                        }
                        a
                    });
                (id, addr)
            })
            .collect();
        ServerConfig {
            data_dir,
            dcs,
            test_mode: true,
            limits: Limits::default(),
            login: None,
            ephemeral: false,
            admin_http: None,
            public_host: None,
        }
    }
}

/// A bound server, ready to run.
pub struct Server {
    state: Arc<ServerState>,
    store: Arc<dyn Store>,
    ephemeral: bool,
    listeners: Vec<(i32, TcpListener)>,
    admin_http: Option<TcpListener>,
    limits: Limits,
    public_key_path: PathBuf,
    data_dir: PathBuf,
}

impl Server {
    /// Opens the store, loads (or creates) the RSA key and binds every DC's listener.
    pub async fn bind(config: ServerConfig) -> io::Result<Server> {
        datadir::prepare(&config.data_dir)?;
        let rsa = load_or_create_rsa_key(&config.data_dir)?;
        let store: Arc<dyn Store> = if config.ephemeral {
            Arc::new(crate::store::MemoryStore::default())
        } else {
            Arc::new(
                SledStore::open(&config.data_dir.join("store"))
                    .map_err(|e| io::Error::other(e.to_string()))?,
            )
        };
        datadir::restrict(&config.data_dir)?;
        let mut listeners = Vec::new();
        for (id, addr) in &config.dcs {
            let listener = TcpListener::bind(addr).await.map_err(|e| {
                io::Error::new(e.kind(), format!("DC {id}: cannot listen on {addr}: {e}"))
            })?;
            listeners.push((*id, listener));
        }
        let admin_http = match config.admin_http {
            Some(addr) => Some(TcpListener::bind(addr).await.map_err(|e| {
                io::Error::new(e.kind(), format!("admin API: cannot listen on {addr}: {e}"))
            })?),
            None => None,
        };
        // help.getConfig advertises what is actually bound (port 0 resolved).
        let dcs = listeners
            .iter()
            .map(|(id, l)| {
                let a = l.local_addr()?;
                Ok(DcAddress {
                    id: *id,
                    ip: config
                        .public_host
                        .clone()
                        .unwrap_or_else(|| a.ip().to_string()),
                    port: a.port(),
                })
            })
            .collect::<io::Result<Vec<_>>>()?;
        // SS-10: salts derive from a secret drawn at each start, so salts issued before a
        // restart stop being valid at once.
        let salt_secret: [u8; 32] = OsRng.array();
        let store_dyn = store.clone();
        let mut login = config.login.unwrap_or_else(|| {
            LoginConfig::new(Arc::new(OutboxSender::new(
                config.data_dir.join(OUTBOX_FILE),
            )))
        });
        login.code_key = keyfile::load_or_create_code_key(&config.data_dir)?;
        let mut state = ServerState::new(
            store_dyn,
            Arc::new(vec![rsa]),
            salt_secret,
            dcs,
            config.test_mode,
        )
        .with_login(login);
        state.held = Arc::new(crate::session::held::HeldBudget::new(
            config.limits.max_held_total,
            config.limits.max_held_per_key,
        ));
        Ok(Server {
            state: Arc::new(state),
            store,
            ephemeral: config.ephemeral,
            listeners,
            admin_http,
            limits: config.limits,
            public_key_path: config.data_dir.join(PUBLIC_KEY_FILE),
            data_dir: config.data_dir,
        })
    }

    /// The address each DC listens on.
    pub fn addrs(&self) -> Vec<(i32, SocketAddr)> {
        self.listeners
            .iter()
            .filter_map(|(id, l)| l.local_addr().ok().map(|a| (*id, a)))
            .collect()
    }

    /// Where the admin API listens over HTTP, if it does.
    pub fn admin_http_addr(&self) -> Option<SocketAddr> {
        self.admin_http.as_ref().and_then(|l| l.local_addr().ok())
    }

    pub fn public_key_path(&self) -> &std::path::Path {
        &self.public_key_path
    }

    pub fn data_dir(&self) -> &std::path::Path {
        &self.data_dir
    }

    pub fn is_ephemeral(&self) -> bool {
        self.ephemeral
    }

    pub fn state(&self) -> &Arc<ServerState> {
        &self.state
    }

    /// Serves until `shutdown` completes, then stops accepting, lets every connection finish
    /// the bytes it holds, and flushes the store.
    pub async fn run(self, shutdown: impl Future<Output = ()>) -> io::Result<()> {
        let (stop_tx, stop_rx) = watch::channel(false);
        let connections = Arc::new(Semaphore::new(self.limits.max_connections));
        let frames = Arc::new(frame_budget::FrameBudget::new(
            self.limits.max_partial_frame_bytes,
        ));
        self.state.handshake_slots.set_limits(
            self.limits.max_handshakes,
            self.limits.max_handshakes_per_address,
        );
        // One budget per address over every DC.
        let rate = self
            .limits
            .handshake_rate
            .map(|r| Arc::new(AddressLimiter::new(r)));
        let observed = self.state.clone();
        {
            let (connections, rate, frames) = (connections.clone(), rate.clone(), frames.clone());
            let max_c = self.limits.max_connections;
            let _ = self.state.shell_fill.set(Box::new(move || {
                let used = (max_c - connections.available_permits().min(max_c)) as u64;
                let mut fill = vec![
                    ("connections", used, Some(max_c as u64)),
                    (
                        "partial_frame_bytes",
                        frames.total() as u64,
                        Some(frames.max() as u64),
                    ),
                ];
                if let Some(rate) = &rate {
                    fill.push((
                        "address_budgets",
                        rate.tracked() as u64,
                        Some(rate::MAX_TRACKED as u64),
                    ));
                }
                fill
            }));
        }
        let durability = Arc::new(Durability::start_observed(
            self.state.store.clone(),
            move |took, commits| observed.metrics.store_synced(took, commits),
        )?);
        let pushes = Arc::new(push::PushRegistry::default());
        let sweeper = tokio::spawn(sweep_expired(self.state.clone(), stop_rx.clone()));
        // Without the socket the operator commands cannot reach this server (they say so);
        // that is no reason not to serve.
        #[cfg(unix)]
        let admin = match admin::bind(&self.data_dir) {
            Ok((listener, path)) => Some(tokio::spawn(admin::serve(
                listener,
                path,
                self.state.clone(),
                stop_rx.clone(),
            ))),
            Err(e) => {
                tracing::warn!(error = %e, "no admin socket in the data dir");
                None
            }
        };
        let admin_http = self.admin_http.map(|listener| {
            if let Ok(addr) = listener.local_addr() {
                tracing::info!(%addr, "admin API listening (http)");
            }
            tokio::spawn(admin_http::serve(
                listener,
                self.state.clone(),
                stop_rx.clone(),
            ))
        });
        // One count per address and one report throttle over every DC.
        let per_address = admission::PerAddress::new(self.limits.max_connections_per_address);
        let refused = Arc::new(admission::Throttled::default());
        let mut accept_tasks = JoinSet::new();
        for (dc_id, listener) in self.listeners {
            let ctx = AcceptContext {
                per_address: per_address.clone(),
                refused: refused.clone(),
                pushes: pushes.clone(),
                durability: durability.clone(),
                dc_id,
                state: self.state.clone(),
                connections: connections.clone(),
                rate: rate.clone(),
                limits: self.limits.clone(),
                frames: frames.clone(),
                stop: stop_rx.clone(),
            };
            accept_tasks.spawn(accept_loop(listener, ctx));
        }
        shutdown.await;
        tracing::info!("shutting down: no new connections, finishing open ones");
        let _ = stop_tx.send(true);
        while let Some(res) = accept_tasks.join_next().await {
            if let Err(e) = res {
                tracing::error!(error = %e, "listener task failed");
            }
        }
        #[cfg(unix)]
        if let Some(admin) = admin {
            let _ = admin.await;
        }
        if let Some(task) = admin_http {
            let _ = task.await;
        }
        let _ = sweeper.await;
        let store = self.store.clone();
        tokio::task::spawn_blocking(move || {
            durability.stop();
            store.sync()
        })
        .await
        .map_err(io::Error::other)?
        .map_err(|e| io::Error::other(e.to_string()))?;
        if self.ephemeral {
            tracing::info!("stopped; the ephemeral records are gone");
        } else {
            tracing::info!("store flushed; stopped");
        }
        Ok(())
    }
}

/// How often expired login codes and flood counters are deleted from the store.
const SWEEP_EVERY: Duration = Duration::from_secs(600);
/// Records looked at per sweep at most (a sweep holds one blocking thread while it runs).
const SWEEP_LIMIT: usize = 20_000;
/// Sweep rounds at most per sweep: 500,000 records every 10 minutes.
const SWEEP_ROUNDS: usize = 25;

/// Deletes expired login codes and counters now and then, so the store does not keep every
/// code ever sent.
async fn sweep_expired(state: Arc<ServerState>, mut stop: watch::Receiver<bool>) {
    let mut every = tokio::time::interval(SWEEP_EVERY);
    every.tick().await;
    let mut cursor = crate::store::accounts::SweepCursor::default();
    loop {
        tokio::select! {
            _ = stop.changed() => return,
            _ = every.tick() => {}
        }
        let state = state.clone();
        let mut held_cursor = std::mem::take(&mut cursor);
        // Rounds until every kind of record was read to its end, each round going on where the
        // last stopped, so the sweep keeps up with codes made at the limits and live records
        // never hide expired ones (issue 14, item 5); bounded, so one sweep cannot hold its
        // thread (the next goes on from there).
        let swept = tokio::task::spawn_blocking(move || {
            let window = state.login.longest_window();
            let accounts = crate::store::accounts::Accounts::new(&*state.store);
            let mut total = 0;
            held_cursor.start();
            for _ in 0..SWEEP_ROUNDS {
                let (n, done) = accounts.sweep(now().0, window, SWEEP_LIMIT, &mut held_cursor)?;
                total += n;
                if done {
                    break;
                }
            }
            Ok::<_, crate::store::StoreError>((total, held_cursor))
        })
        .await;
        match swept {
            Ok(Ok((n, back))) => {
                cursor = back;
                if n > 0 {
                    tracing::info!(records = n, "expired login codes and counters deleted");
                }
            }
            Ok(Err(e)) => tracing::warn!(error = %e, "sweeping expired login codes failed"),
            Err(e) => tracing::warn!(error = %e, "the sweep task failed"),
        }
    }
}

struct AcceptContext {
    per_address: Arc<admission::PerAddress>,
    refused: Arc<admission::Throttled>,
    pushes: Arc<push::PushRegistry>,
    durability: Arc<Durability>,
    dc_id: i32,
    state: Arc<ServerState>,
    connections: Arc<Semaphore>,
    rate: Option<Arc<AddressLimiter>>,
    limits: Limits,
    frames: Arc<frame_budget::FrameBudget>,
    stop: watch::Receiver<bool>,
}

/// Refused connections are reported at most this often (with how many were refused).
const REFUSAL_REPORT_SECS: i64 = 10;

/// Bytes read from a socket at a time.
const READ_CHUNK: usize = 16 * 1024;

thread_local! {
    /// One read buffer per worker thread, used between awaits only: an idle connection holds
    /// no buffer of its own (bench idle), and nothing is zeroed per read.
    static READ_BUF: std::cell::RefCell<Vec<u8>> =
        std::cell::RefCell::new(Vec::with_capacity(READ_CHUNK));
}

/// Runs `f`, first handing this worker's other tasks to another thread when `heavy`: a key
/// exchange step is milliseconds of RSA and 2048-bit DH work (and a store flush for a new
/// permanent key), which would otherwise hold up every connection queued on this worker
/// (`bench rpc` latency while keys are being made). Only a multi-threaded runtime can do that.
fn off_worker_if<R>(heavy: bool, f: impl FnOnce() -> R) -> R {
    use tokio::runtime::{Handle, RuntimeFlavor};
    let multi_thread =
        || Handle::try_current().is_ok_and(|h| h.runtime_flavor() == RuntimeFlavor::MultiThread);
    if heavy && multi_thread() {
        tokio::task::block_in_place(f)
    } else {
        f()
    }
}

static NEXT_CONNECTION: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(1);

async fn accept_loop(listener: TcpListener, mut ctx: AcceptContext) {
    let mut tasks = JoinSet::new();
    loop {
        tokio::select! {
            _ = ctx.stop.changed() => break,
            accepted = listener.accept() => {
                let (stream, peer) = match accepted {
                    Ok(x) => x,
                    Err(e) => {
                        tracing::warn!(error = %e, "accept failed");
                        tokio::time::sleep(Duration::from_millis(50)).await;
                        continue;
                    }
                };
                let limited = !peer.ip().to_canonical().is_loopback() || ctx.limits.limit_loopback;
                let Ok(permit) = ctx.connections.clone().try_acquire_owned() else {
                    if let Some(n) = ctx.refused.report(now().0, REFUSAL_REPORT_SECS) {
                        tracing::warn!(%peer, refused = n, max = ctx.limits.max_connections, "connection limit reached; closing new connections");
                    }
                    continue;
                };
                let place = if limited {
                    match ctx.per_address.admit(peer.ip()) {
                        Some(place) => Some(place),
                        None => {
                            if let Some(n) = ctx.refused.report(now().0, REFUSAL_REPORT_SECS) {
                                tracing::warn!(%peer, refused = n, max = ctx.limits.max_connections_per_address, "an address reached its connection limit; closing its new connections");
                            }
                            continue;
                        }
                    }
                } else {
                    None
                };
                let id = NEXT_CONNECTION.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                let conn = ConnTask {
                    pushes: ctx.pushes.clone(),
                    durability: ctx.durability.clone(),
                    id,
                    dc_id: ctx.dc_id,
                    peer,
                    rate: ctx.rate.clone().filter(|_| limited),
                    state: ctx.state.clone(),
                    handshake_deadline: ctx.limits.handshake_deadline,
                    frame_deadline: ctx.limits.frame_deadline,
                    idle: ctx.limits.idle_timeout,
                    frames: ctx.frames.clone(),
                    stop: ctx.stop.clone(),
                };
                tasks.spawn(async move {
                    conn.run(stream).await;
                    drop((permit, place));
                });
            }
            Some(_) = tasks.join_next(), if !tasks.is_empty() => {}
        }
    }
    // Graceful: every connection sees the stop signal and closes after its current bytes.
    while tasks.join_next().await.is_some() {}
}

struct ConnTask {
    pushes: Arc<push::PushRegistry>,
    durability: Arc<Durability>,
    id: u64,
    dc_id: i32,
    peer: SocketAddr,
    /// The address budget this connection's key exchanges are charged to (AB-4), if limited.
    rate: Option<Arc<AddressLimiter>>,
    state: Arc<ServerState>,
    handshake_deadline: Duration,
    frame_deadline: Duration,
    idle: Duration,
    /// The server-wide budget for bytes of incomplete frames.
    frames: Arc<frame_budget::FrameBudget>,
    stop: watch::Receiver<bool>,
}

fn now() -> (i64, u32) {
    let d = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default();
    (d.as_secs() as i64, d.subsec_nanos())
}

impl ConnTask {
    async fn run(mut self, mut stream: TcpStream) {
        let _ = stream.set_nodelay(true);
        tracing::debug!(conn = self.id, dc = self.dc_id, peer = %self.peer, "connected");
        let mut core = Connection::new(self.id, self.dc_id, &self.state).with_peer(self.peer.ip());
        if let Some(rate) = self.rate.take() {
            core = core.limited(rate, self.peer.ip());
        }
        // When the key exchange in progress must be done (set at its first frame).
        let mut handshake_due: Option<tokio::time::Instant> = None;
        // When the incomplete frame held must be complete (set at its first bytes).
        let mut frame_due: Option<tokio::time::Instant> = None;
        // One timer and one stop future for the connection's life, not one per message: the
        // timer is armed at the idle deadline and, when it fires, re-armed if a message came
        // since (a shorter ping_delay_disconnect deadline re-arms it at once).
        let mut deadline = tokio::time::Instant::now() + self.idle;
        let timer = tokio::time::sleep_until(deadline);
        tokio::pin!(timer);
        let stopping = self.stop.clone();
        let stop = self.stop.changed();
        tokio::pin!(stop);
        // The frame budget tells this connection to close when it holds the most.
        let over_budget = Arc::new(tokio::sync::Notify::new());
        let told_to_close = over_budget.notified();
        tokio::pin!(told_to_close);
        // What this connection last told the frame budget it holds.
        let mut reported = 0;
        // Updates from other connections' requests; the queue exists once a key is in use.
        let mut updates: Option<(mpsc::Sender<push::Update>, mpsc::Receiver<push::Update>)> = None;
        let mut keys_used: Vec<i64> = Vec::new();
        // Polled only when no branch before it is ready (biased): a busy connection costs the
        // frame budget's notice and one readiness check per message; shutdown and queued
        // updates are looked at after each read instead.
        let reason = 'conn: loop {
            let pushed = tokio::select! {
                biased;
                // First: a peer that keeps the socket readable must not outrun it. The budget
                // has dropped this connection's entry; one it re-made meanwhile goes at the end.
                _ = &mut told_to_close => {
                    break "incomplete frames over the server's budget: the largest holders closed".to_string();
                }
                r = stream.readable() => {
                    if let Err(e) = r {
                        break format!("read: {e}");
                    }
                    None
                },
                update = async {
                    match &mut updates {
                        Some((_, rx)) => rx.recv().await,
                        None => std::future::pending().await,
                    }
                } => update,
                _ = &mut timer => {
                    let at = tokio::time::Instant::now();
                    if handshake_due.is_some_and(|due| at >= due) {
                        core.abandon_handshakes(&self.state, now());
                        tracing::info!(conn = self.id, peer = %self.peer, "key exchange abandoned at its deadline");
                        break format!("key exchange not finished within {:?}", self.handshake_deadline);
                    }
                    if frame_due.is_some_and(|due| at >= due) {
                        break format!("frame not completed within {:?}", self.frame_deadline);
                    }
                    if at >= deadline {
                        break "idle".to_string();
                    }
                    let next = [handshake_due, frame_due]
                        .into_iter()
                        .flatten()
                        .fold(deadline, |a, b| a.min(b));
                    timer.as_mut().reset(next);
                    continue;
                }
                _ = &mut stop => break "server shutting down".to_string(),
            };
            if let Some((key_id, body)) = pushed {
                let out = core.push_update(&self.state, key_id, &body, now(), &mut PooledOsRng);
                if let Err(e) = stream.write_all(&out.send).await {
                    break format!("write: {e}");
                }
                continue;
            }
            // A key exchange in progress means the next frame may be an RSA/DH step.
            let heavy = core.handshakes_in_progress() > 0;
            let read = READ_BUF.with_borrow_mut(|buf| {
                buf.clear();
                stream.try_read_buf(buf).map(|n| {
                    (n > 0).then(|| {
                        off_worker_if(heavy, || {
                            core.receive(&self.state, buf, now(), &mut PooledOsRng)
                        })
                    })
                })
            });
            let out = match read {
                Ok(Some(out)) => out,
                Ok(None) => break "closed by peer".to_string(),
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => continue,
                Err(e) => break format!("read: {e}"),
            };
            if out.buffered != reported {
                let (closed, this_one) = self.frames.set(self.id, out.buffered, &over_budget);
                reported = if this_one { 0 } else { out.buffered };
                if closed > 0 {
                    if let Some(times) = self.frames.log.report(now().0, REFUSAL_REPORT_SECS) {
                        tracing::warn!(times, closed_so_far = self.frames.closed(), bound = self.frames.max(), "incomplete frames over the server's budget; closing the connections holding the most");
                    }
                }
                if this_one {
                    break "incomplete frames over the server's budget: the largest holders closed"
                        .to_string();
                }
            }
            match out.partial {
                Partial::None => frame_due = None,
                Partial::Started => {
                    let due = tokio::time::Instant::now() + self.frame_deadline;
                    frame_due = Some(due);
                    if due < timer.deadline() {
                        timer.as_mut().reset(due);
                    }
                }
                Partial::Continues => {}
            }
            for key_id in &out.new_keys {
                let (tx, _) = updates.get_or_insert_with(|| mpsc::channel(push::QUEUE));
                self.pushes.register(*key_id, self.id, tx.clone());
                keys_used.push(*key_id);
            }
            deadline = tokio::time::Instant::now()
                + out
                    .close_after
                    .map(|s| Duration::from_secs(s as u64))
                    .unwrap_or(self.idle);
            if deadline < timer.deadline() {
                timer.as_mut().reset(deadline);
            }
            if out.delay_ms > 0 {
                tokio::time::sleep(Duration::from_millis(out.delay_ms)).await;
            }
            // DB-1: an answer that rests on the store waits until the store has it durably.
            if out.durable_through > 0
                && !out.send.is_empty()
                && self.durability.wait_for(out.durable_through).await.is_err()
            {
                break "store sync failed; answer not sent".to_string();
            }
            if !out.send.is_empty() {
                if let Err(e) = stream.write_all(&out.send).await {
                    break format!("write: {e}");
                }
            }
            for p in out.pushes {
                self.pushes.deliver(p, self.id);
            }
            if out.close {
                break out.reason.unwrap_or_else(|| "closed".into());
            }
            if stopping.has_changed().unwrap_or(true) {
                break "server shutting down".to_string();
            }
            // Updates that arrived while the socket kept this task busy.
            while let Some(Ok((key_id, body))) = updates.as_mut().map(|(_, rx)| rx.try_recv()) {
                let out = core.push_update(&self.state, key_id, &body, now(), &mut PooledOsRng);
                if let Err(e) = stream.write_all(&out.send).await {
                    break 'conn format!("write: {e}");
                }
            }
            // A key exchange has a deadline from its first frame (issue 14, item 1); the
            // slots that bound concurrent exchanges are taken in the core.
            if core.handshakes_in_progress() > 0 {
                if handshake_due.is_none() {
                    let due = tokio::time::Instant::now() + self.handshake_deadline;
                    handshake_due = Some(due);
                    if due < timer.deadline() {
                        timer.as_mut().reset(due);
                    }
                }
            } else {
                handshake_due = None;
            }
        };
        if reported > 0 {
            self.frames.set(self.id, 0, &over_budget);
        }
        self.pushes.unregister(&keys_used, self.id);
        core.finish(&self.state);
        let _ = stream.shutdown().await;
        tracing::debug!(conn = self.id, dc = self.dc_id, peer = %self.peer, %reason, "disconnected");
    }
}
