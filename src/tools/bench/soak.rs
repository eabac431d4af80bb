//! `bench soak`: many connections kept alive for minutes with a mix of pings, logins and key
//! exchanges from the client library, reporting per interval the errors, the p99 latency of
//! each kind and the server's RSS (issue 14, item 7). Not a test: it measures that memory stays
//! flat after warm-up and that nothing fails under a long, mixed load.

use std::io;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use tokio::task::JoinSet;

use super::stats::percentile;
use super::target::Target;
use super::{client_config, load, runtime, Options};
use crate::client::login::SignedIn;
use crate::client::{create_auth_key, Client, ConnectOptions, Transport};
use crate::transport::Framing;

/// Each idle connection is pinged about this often (well inside the 300 s idle timeout).
const PING_EVERY: Duration = Duration::from_secs(10);
/// Tasks that keep the connections pinged.
const PINGERS: usize = 64;
/// Clients logging test numbers in, one request at a time each.
const LOGIN_CLIENTS: usize = 4;
/// New keys a second, each on a fresh connection.
const KEYS_PER_SECOND: u64 = 5;

/// What one interval saw.
#[derive(Debug, Clone, Default)]
pub struct Interval {
    pub end_secs: u64,
    pub errors: u64,
    pub pings: usize,
    pub ping_p99_us: u32,
    pub logins: usize,
    pub login_p99_us: u32,
    pub keys: usize,
    pub key_p99_us: u32,
    pub alive: usize,
    pub rss_bytes: u64,
}

#[derive(Debug, Default)]
struct Counts {
    pings: Vec<u32>,
    logins: Vec<u32>,
    keys: Vec<u32>,
    errors: u64,
    first_error: Option<String>,
}

type Shared = Arc<Mutex<Counts>>;

fn lock(s: &Shared) -> std::sync::MutexGuard<'_, Counts> {
    s.lock().unwrap_or_else(|p| p.into_inner())
}

fn micros(d: Duration) -> u32 {
    d.as_micros().min(u128::from(u32::MAX)) as u32
}

fn fail(s: &Shared, e: impl std::fmt::Display) {
    let mut c = lock(s);
    c.errors += 1;
    c.first_error.get_or_insert_with(|| e.to_string());
}

#[derive(Debug)]
pub struct SoakReport {
    pub connections: usize,
    pub intervals: Vec<Interval>,
    pub first_error: Option<String>,
}

impl Interval {
    pub fn text(&self) -> String {
        format!(
            "{:>5} s  errors {:>3}  alive {:>6}  pings {:>7} p99 {:>6} µs  logins {:>5} p99 {:>6} µs  keys {:>4} p99 {:>6} µs  server RSS {:>7.1} MiB",
            self.end_secs,
            self.errors,
            self.alive,
            self.pings,
            self.ping_p99_us,
            self.logins,
            self.login_p99_us,
            self.keys,
            self.key_p99_us,
            self.rss_bytes as f64 / 1048576.0
        )
    }
}

impl SoakReport {
    pub fn errors(&self) -> u64 {
        self.intervals.iter().map(|i| i.errors).sum()
    }

    pub fn text(&self) -> String {
        let mut out = format!("soak, {} connections:\n", self.connections);
        for i in &self.intervals {
            out.push_str(&i.text());
            out.push('\n');
        }
        out.push_str(&format!("errors in all: {}", self.errors()));
        if let Some(e) = &self.first_error {
            out.push_str(&format!(" (first: {e})"));
        }
        out.push('\n');
        out
    }

    pub fn json(&self) -> String {
        let rows: Vec<String> = self
            .intervals
            .iter()
            .map(|i| {
                format!(
                    "{{\"end_secs\":{},\"errors\":{},\"alive\":{},\"pings\":{},\"ping_p99_us\":{},\"logins\":{},\"login_p99_us\":{},\"keys\":{},\"key_p99_us\":{},\"rss_bytes\":{}}}",
                    i.end_secs, i.errors, i.alive, i.pings, i.ping_p99_us, i.logins, i.login_p99_us, i.keys, i.key_p99_us, i.rss_bytes
                )
            })
            .collect();
        format!(
            "{{\"bench\":\"soak\",\"connections\":{},\"errors\":{},\"intervals\":[{}]}}",
            self.connections,
            self.errors(),
            rows.join(",")
        )
    }
}

fn options(target: &Target) -> ConnectOptions {
    let mut o = ConnectOptions::new(target.addr, Framing::Intermediate);
    o.timeout = Duration::from_secs(30);
    o
}

/// Runs the soak for `opts.seconds`, reporting every `interval` (each report also printed on
/// stderr as it comes, so a long run shows its progress).
pub fn soak(opts: &Options, interval: Duration) -> io::Result<SoakReport> {
    let target = match opts.attach {
        Some((addr, pid)) => Target::attach(addr, pid)?,
        // Test numbers logged in again and again: their own hourly limit off.
        None => {
            Target::spawn_server_with(&["--codes-per-test-phone", "0", "--codes-per-key", "0"])?
        }
    };
    let cfg = client_config(&target, opts)?;
    let runtime = runtime()?;
    runtime.block_on(async {
        let clients = load::connected(target.addr, &cfg, opts.connections)
            .await
            .map_err(io::Error::other)?;
        let start = Instant::now();
        let deadline = start + Duration::from_secs(opts.seconds);
        let shared: Shared = Arc::default();
        let alive = Arc::new(std::sync::atomic::AtomicUsize::new(clients.len()));
        let mut tasks = JoinSet::new();
        // Keep-alive pings: each task walks its share of the connections, one ping at a time,
        // paced so that each connection is pinged about every PING_EVERY.
        let mut groups: Vec<Vec<Client>> = (0..PINGERS).map(|_| Vec::new()).collect();
        for (i, c) in clients.into_iter().enumerate() {
            groups[i % PINGERS].push(c);
        }
        for group in groups.into_iter().filter(|g| !g.is_empty()) {
            let (shared, alive) = (shared.clone(), alive.clone());
            tasks.spawn(async move {
                let pace = PING_EVERY / group.len() as u32;
                let mut group: Vec<Option<Client>> = group.into_iter().map(Some).collect();
                let mut ping_id = 0i64;
                'run: loop {
                    for slot in group.iter_mut() {
                        if Instant::now() >= deadline {
                            break 'run;
                        }
                        let Some(client) = slot else { continue };
                        ping_id += 1;
                        let t = Instant::now();
                        match client.ping(ping_id).await {
                            Ok(()) => {
                                client.take_pushed();
                                lock(&shared).pings.push(micros(t.elapsed()));
                            }
                            Err(e) => {
                                fail(&shared, format!("ping: {e}"));
                                alive.fetch_sub(1, std::sync::atomic::Ordering::Relaxed);
                                *slot = None;
                            }
                        }
                        tokio::time::sleep(pace.saturating_sub(t.elapsed())).await;
                    }
                }
            });
        }
        // Logins of test numbers (DC 1's, the target's only DC), signed up the first time.
        for worker in 0..LOGIN_CLIENTS {
            let (shared, cfg, opts) = (shared.clone(), cfg.clone(), options(&target));
            tasks.spawn(async move {
                let Ok(mut client) = Client::connect(&opts, &cfg).await else {
                    fail(&shared, "login client: no key");
                    return;
                };
                let mut n = 0u32;
                let mut logged_in = false;
                while Instant::now() < deadline {
                    let phone = format!("999661{:04}", worker as u32 * 2500 + n % 2500);
                    n += 1;
                    let t = Instant::now();
                    let done = async {
                        let sent = client.send_code(&phone).await?;
                        if let SignedIn::SignUpRequired = client
                            .sign_in(&phone, &sent.phone_code_hash, "11111")
                            .await?
                        {
                            // A logged-in key signs up no other account.
                            if logged_in {
                                client.log_out().await?;
                            }
                            client
                                .sign_up(&phone, &sent.phone_code_hash, "Soak", "")
                                .await?;
                        }
                        logged_in = true;
                        Ok::<(), crate::client::ClientError>(())
                    }
                    .await;
                    match done {
                        Ok(()) => lock(&shared).logins.push(micros(t.elapsed())),
                        Err(e) => fail(&shared, format!("login: {e}")),
                    }
                    client.take_pushed();
                }
            });
        }
        // New keys, each on a fresh connection, at a steady rate.
        {
            let (shared, cfg, opts) = (shared.clone(), cfg.clone(), options(&target));
            tasks.spawn(async move {
                let every = Duration::from_millis(1000 / KEYS_PER_SECOND);
                while Instant::now() < deadline {
                    let t = Instant::now();
                    let made = async {
                        let mut transport = Transport::connect(&opts).await?;
                        create_auth_key(&mut transport, &cfg).await
                    }
                    .await;
                    match made {
                        Ok(_) => lock(&shared).keys.push(micros(t.elapsed())),
                        Err(e) => fail(&shared, format!("key exchange: {e}")),
                    }
                    tokio::time::sleep(every.saturating_sub(t.elapsed())).await;
                }
            });
        }
        // The reports.
        let mut intervals = Vec::new();
        let mut first_error = None;
        let mut next = start + interval;
        loop {
            let now = Instant::now();
            let end = next.min(deadline);
            tokio::time::sleep(end.saturating_duration_since(now)).await;
            let mut c = std::mem::take(&mut *lock(&shared));
            for v in [&mut c.pings, &mut c.logins, &mut c.keys] {
                v.sort_unstable();
            }
            if first_error.is_none() {
                first_error = c.first_error.take();
            }
            let row = Interval {
                end_secs: end.duration_since(start).as_secs(),
                errors: c.errors,
                pings: c.pings.len(),
                ping_p99_us: percentile(&c.pings, 99),
                logins: c.logins.len(),
                login_p99_us: percentile(&c.logins, 99),
                keys: c.keys.len(),
                key_p99_us: percentile(&c.keys, 99),
                alive: alive.load(std::sync::atomic::Ordering::Relaxed),
                rss_bytes: target.sample().map(|s| s.rss_bytes).unwrap_or(0),
            };
            eprintln!("{}", row.text());
            intervals.push(row);
            if end >= deadline {
                break;
            }
            next += interval;
        }
        while tasks.join_next().await.is_some() {}
        Ok(SoakReport {
            connections: opts.connections,
            intervals,
            first_error,
        })
    })
}
