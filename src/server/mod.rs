//! The tokio shell around the sans-IO core: one listener per DC, a task per connection, limits,
//! graceful shutdown. All DCs run in one process and share one store (test-DC emulation).

mod admin;
pub mod admin_http;
pub mod admission;
pub mod binding;
pub mod code_log;
mod conn;
mod conn_task;
pub mod datadir;
mod durability;
pub mod faults;
pub mod frame_budget;
mod keyfile;
mod mailbox;
pub mod metrics;
mod push;
mod rate;
pub mod ready;
pub mod replay;
mod scratch;
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

use tokio::net::TcpListener;
use tokio::sync::{watch, Semaphore};
use tokio::task::JoinSet;

use crate::rand::{OsRng, Rng};
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
        let finishing = Arc::new(conn_task::Shutdown::default());
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
                connections: connections.clone(),
                limits: self.limits.clone(),
                stop: stop_rx.clone(),
                conn: Arc::new(conn_task::Shared {
                    pushes: pushes.clone(),
                    durability: durability.clone(),
                    dc_id,
                    state: self.state.clone(),
                    rate: rate.clone(),
                    handshake_deadline: self.limits.handshake_deadline,
                    frame_deadline: self.limits.frame_deadline,
                    idle: self.limits.idle_timeout,
                    frames: frames.clone(),
                    shutdown: finishing.clone(),
                }),
            };
            accept_tasks.spawn(accept_loop(listener, ctx));
        }
        shutdown.await;
        tracing::info!("shutting down: no new connections, finishing open ones");
        let _ = stop_tx.send(true);
        finishing.begin();
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
    connections: Arc<Semaphore>,
    limits: Limits,
    stop: watch::Receiver<bool>,
    /// What this listener's connections share.
    conn: Arc<conn_task::Shared>,
}

/// Refused connections are reported at most this often (with how many were refused).
const REFUSAL_REPORT_SECS: i64 = 10;

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
                let conn = conn_task::ConnTask {
                    shared: ctx.conn.clone(),
                    id,
                    peer,
                    limited,
                    _admission: (permit, place),
                };
                tasks.spawn(conn.run(stream));
            }
            Some(_) = tasks.join_next(), if !tasks.is_empty() => {}
        }
    }
    // Graceful: every connection sees the stop signal and closes after its current bytes.
    while tasks.join_next().await.is_some() {}
}

/// Unix time in seconds and nanoseconds.
fn now() -> (i64, u32) {
    let d = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default();
    (d.as_secs() as i64, d.subsec_nanos())
}
