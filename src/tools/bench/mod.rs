//! `mtproto-auth bench`: load generation against our own server (started as a child process on
//! a temporary data dir, or one already running), with the server's CPU and memory taken from
//! its own accounting, and each target's baseline measured in the same run.

mod echo;
mod load;
mod openssl;
mod procfs;
mod soak;
mod stats;
mod target;

pub use echo::serve as echo_server;
pub use openssl::OpensslCosts;
pub use soak::{soak, Interval as SoakInterval, SoakReport};
pub use stats::Summary;

use std::io;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;

use crate::crypto::rsa::RsaPublicKey;
use crate::crypto::{encrypt_message, AuthKey};
use crate::handshake::client::{ClientConfig, InnerData, RsaScheme};
use crate::server::PUBLIC_KEY_FILE;
use crate::session::engine::join_plaintext;
use crate::tl::Serializable;
use crate::Side;
use target::Target;

/// What to measure against.
#[derive(Debug, Clone)]
pub struct Options {
    pub connections: usize,
    pub seconds: u64,
    /// A running server (address of one DC and its pid) instead of a child.
    pub attach: Option<(SocketAddr, u32)>,
    /// The running server's public key; default `./data/rsa_public.pem`.
    pub public_key: Option<PathBuf>,
    /// Skip the baseline (openssl or the echo server).
    pub no_baseline: bool,
}

fn start_target(opts: &Options) -> io::Result<Target> {
    match opts.attach {
        Some((addr, pid)) => Target::attach(addr, pid),
        None => Target::spawn_server(),
    }
}

fn client_config(target: &Target, opts: &Options) -> io::Result<Arc<ClientConfig>> {
    let path = match (&opts.public_key, target.data_dir()) {
        (Some(p), _) => p.clone(),
        (None, Some(dir)) => dir.join(PUBLIC_KEY_FILE),
        (None, None) => PathBuf::from("./data").join(PUBLIC_KEY_FILE),
    };
    let pem = std::fs::read_to_string(&path)
        .map_err(|e| io::Error::new(e.kind(), format!("{}: {e}", path.display())))?;
    let key = RsaPublicKey::from_pkcs1_pem(&pem)
        .map_err(|e| io::Error::other(format!("{}: {e}", path.display())))?;
    Ok(Arc::new(ClientConfig {
        scheme: RsaScheme::RsaPad,
        inner: InnerData::Plain,
        keys: vec![key],
    }))
}

fn runtime() -> io::Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
}

/// `bench handshake`: new permanent auth keys per second and the server's CPU per key, against
/// openssl's cost of the public-key work one key needs.
#[derive(Debug)]
pub struct HandshakeReport {
    pub connections: usize,
    pub result: Summary,
    pub openssl: Option<OpensslCosts>,
}

pub fn handshake(opts: &Options) -> io::Result<HandshakeReport> {
    // The baseline runs first, alone, so that nothing else competes for the CPU.
    let openssl = if opts.no_baseline {
        None
    } else {
        openssl::measure(2)
    };
    let target = start_target(opts)?;
    let cfg = client_config(&target, opts)?;
    let window = runtime()?.block_on(load::handshakes(
        &target,
        cfg,
        opts.connections,
        opts.seconds,
    ));
    Ok(HandshakeReport {
        connections: opts.connections,
        result: window.summary(),
        openssl,
    })
}

impl HandshakeReport {
    pub fn text(&self) -> String {
        let mut s = format!(
            "handshake, {} connections: {}\n",
            self.connections,
            self.result.text()
        );
        if let Some(o) = &self.openssl {
            let ours_ms = self.result.server_cpu_us_per_op / 1000.0;
            s += &format!(
                "baseline (openssl speed): RSA-2048 sign {:.3} ms + 2 × ffdh2048 {:.3} ms = {:.3} ms; \
                 server CPU per key = {:.2}× that\n",
                o.rsa2048_sign_ms,
                o.ffdh2048_ms,
                o.handshake_ms(),
                ours_ms / o.handshake_ms()
            );
        }
        s
    }

    pub fn json(&self) -> String {
        let baseline = match &self.openssl {
            Some(o) => format!(
                "{{\"rsa2048_sign_ms\":{:.4},\"ffdh2048_ms\":{:.4},\"handshake_ms\":{:.4}}}",
                o.rsa2048_sign_ms,
                o.ffdh2048_ms,
                o.handshake_ms()
            ),
            None => "null".into(),
        };
        format!(
            "{{\"bench\":\"handshake\",\"connections\":{},\"result\":{},\"openssl\":{baseline}}}",
            self.connections,
            self.result.json()
        )
    }
}

/// `bench rpc`: encrypted pings per second over `connections` sessions, one in flight on each,
/// against a framed echo of frames of the same size over as many connections; then
/// [`PIPELINE_DEPTH`] in flight on each, as real clients keep requests going.
#[derive(Debug)]
pub struct RpcReport {
    pub connections: usize,
    pub frame_bytes: usize,
    pub result: Summary,
    pub echo: Option<Summary>,
    pub pipelined: Summary,
}

/// Pings in flight per connection in the pipelined window.
pub const PIPELINE_DEPTH: usize = 8;

/// The size of one encrypted ping frame the client sends (the echo baseline's frame size).
fn ping_frame_bytes() -> usize {
    let body = crate::tl::functions::Ping { ping_id: 1 }.to_bytes();
    let plain = join_plaintext(0, 0, 0, 1, &body);
    let mut frame = Vec::new();
    let key = AuthKey::from_bytes([7; 256]);
    encrypt_message(&key, Side::Client, &plain, &[0; 32], &mut frame);
    frame.len()
}

pub fn rpc(opts: &Options) -> io::Result<RpcReport> {
    let rt = runtime()?;
    let frame_bytes = ping_frame_bytes();
    let echo = if opts.no_baseline {
        None
    } else {
        let echo = Target::spawn_echo()?;
        let w = rt.block_on(load::echoes(
            &echo,
            opts.connections,
            frame_bytes,
            opts.seconds,
        ));
        Some(w.summary())
    };
    let target = start_target(opts)?;
    let cfg = client_config(&target, opts)?;
    let result = rt.block_on(async {
        let clients = load::connected(target.addr, &cfg, opts.connections)
            .await
            .map_err(io::Error::other)?;
        let (window, clients) = load::pings(&target, clients, 1, opts.seconds).await;
        let (pipelined, _clients) =
            load::pings(&target, clients, PIPELINE_DEPTH, opts.seconds).await;
        Ok::<_, io::Error>((window.summary(), pipelined.summary()))
    })?;
    let (result, pipelined) = result;
    Ok(RpcReport {
        connections: opts.connections,
        frame_bytes,
        result,
        echo,
        pipelined,
    })
}

impl RpcReport {
    pub fn ratio(&self) -> Option<f64> {
        let echo = self.echo.as_ref()?;
        (echo.ops_per_sec > 0.0).then(|| self.result.ops_per_sec / echo.ops_per_sec)
    }

    pub fn text(&self) -> String {
        let mut s = format!(
            "rpc (encrypted ping), {} connections, {}-byte frames: {}\n",
            self.connections,
            self.frame_bytes,
            self.result.text()
        );
        if let Some(echo) = &self.echo {
            s += &format!("baseline (framed echo): {}\n", echo.text());
            if let Some(r) = self.ratio() {
                s += &format!("ping throughput = {r:.2}× echo\n");
            }
        }
        s += &format!(
            "pipelined, {PIPELINE_DEPTH} pings in flight per connection: {}\n",
            self.pipelined.text()
        );
        s
    }

    pub fn json(&self) -> String {
        format!(
            "{{\"bench\":\"rpc\",\"connections\":{},\"frame_bytes\":{},\"result\":{},\"echo\":{},\"ratio\":{},\"depth\":{PIPELINE_DEPTH},\"pipelined\":{}}}",
            self.connections,
            self.frame_bytes,
            self.result.json(),
            self.echo.as_ref().map_or("null".into(), Summary::json),
            self.ratio().map_or("null".into(), |r| format!("{r:.3}")),
            self.pipelined.json()
        )
    }
}

/// `bench login`: durable phone logins per second (auth.sendCode + auth.signIn of a registered
/// test number, each answer sent only once the store has it durably), with the sign-ups that
/// registered the numbers measured on the way.
#[derive(Debug)]
pub struct LoginReport {
    pub connections: usize,
    pub numbers: usize,
    pub sign_ups_per_sec: f64,
    pub result: Summary,
}

/// Test numbers on DC 1 the run uses: 99966 1 YYYY has 10,000.
const MAX_BENCH_NUMBERS: usize = 10_000;
/// Numbers per connection: each logs in in turn, so codes and logins spread over many users.
const NUMBERS_PER_CONNECTION: usize = 20;

/// Flood limits off: one key sends thousands of codes a second here.
const LOGIN_SERVER_FLAGS: &[&str] = &["--codes-per-test-phone", "0", "--codes-per-key", "0"];

pub fn login(opts: &Options) -> io::Result<LoginReport> {
    let target = match opts.attach {
        Some((addr, pid)) => Target::attach(addr, pid)?,
        None => Target::spawn_server_with(LOGIN_SERVER_FLAGS)?,
    };
    let cfg = client_config(&target, opts)?;
    let numbers = (opts.connections * NUMBERS_PER_CONNECTION).min(MAX_BENCH_NUMBERS);
    let phones: Arc<Vec<String>> =
        Arc::new((0..numbers).map(|i| format!("999661{i:04}")).collect());
    runtime()?.block_on(async {
        let err = |e: crate::client::ClientError| io::Error::other(e.to_string());
        let keys = load::keys(target.addr, &cfg, opts.connections)
            .await
            .map_err(err)?;
        let clients = load::sessions_on(target.addr, &keys, opts.connections, 1)
            .await
            .map_err(err)?;
        let t = std::time::Instant::now();
        let clients = load::sign_ups(clients, phones.clone()).await.map_err(err)?;
        let sign_ups_per_sec = numbers as f64 / t.elapsed().as_secs_f64();
        let window = load::logins(&target, clients, phones, opts.seconds).await;
        Ok(LoginReport {
            connections: opts.connections,
            numbers,
            sign_ups_per_sec,
            result: window.summary(),
        })
    })
}

impl LoginReport {
    pub fn text(&self) -> String {
        format!(
            "login (sendCode + signIn, durable), {} connections, {} test numbers: {}
             setup: {} sign-ups (sendCode + signIn + signUp) at {:.0}/s
",
            self.connections,
            self.numbers,
            self.result.text(),
            self.numbers,
            self.sign_ups_per_sec
        )
    }

    pub fn json(&self) -> String {
        format!(
            "{{\"bench\":\"login\",\"connections\":{},\"numbers\":{},\"sign_ups_per_sec\":{:.1},\"result\":{}}}",
            self.connections,
            self.numbers,
            self.sign_ups_per_sec,
            self.result.json()
        )
    }
}

/// `bench password`: two-step verification checks per second (account.getPassword, then
/// account.getPasswordSettings with the SRP proof: the server's SRP work of auth.checkPassword
/// without a login each time) and the server's CPU per check, against openssl's cost of one
/// ffdh2048 derivation (issue 15's goal: at most twice that).
#[derive(Debug)]
pub struct PasswordReport {
    pub connections: usize,
    pub result: Summary,
    pub openssl: Option<OpensslCosts>,
}

const BENCH_PASSWORD: &str = "bench password";

pub fn password(opts: &Options) -> io::Result<PasswordReport> {
    let openssl = if opts.no_baseline {
        None
    } else {
        openssl::measure(2)
    };
    let target = match opts.attach {
        Some((addr, pid)) => Target::attach(addr, pid)?,
        None => Target::spawn_server_with(LOGIN_SERVER_FLAGS)?,
    };
    let cfg = client_config(&target, opts)?;
    let numbers = opts.connections.min(MAX_BENCH_NUMBERS);
    // Numbers of their own (99966 1 9YYY downwards), apart from `bench login`'s.
    let phones: Arc<Vec<String>> = Arc::new(
        (0..numbers)
            .map(|i| format!("999661{:04}", MAX_BENCH_NUMBERS - 1 - i))
            .collect(),
    );
    runtime()?.block_on(async {
        let err = |e: crate::client::ClientError| io::Error::other(e.to_string());
        let keys = load::keys(target.addr, &cfg, numbers).await.map_err(err)?;
        let clients = load::sessions_on(target.addr, &keys, numbers, 1)
            .await
            .map_err(err)?;
        let mut clients = load::sign_ups(clients, phones).await.map_err(err)?;
        for c in &mut clients {
            // A server that already has the password from an earlier run: change nothing.
            if !c.get_password().await.map_err(err)?.has_password {
                c.set_password(None, Some(BENCH_PASSWORD), "")
                    .await
                    .map_err(err)?;
            }
        }
        let window = load::password_checks(&target, clients, BENCH_PASSWORD, opts.seconds).await;
        Ok(PasswordReport {
            connections: numbers,
            result: window.summary(),
            openssl,
        })
    })
}

impl PasswordReport {
    pub fn text(&self) -> String {
        let mut s = format!(
            "password (getPassword + SRP check), {} connections: {}\n",
            self.connections,
            self.result.text()
        );
        if let Some(o) = &self.openssl {
            let ours_ms = self.result.server_cpu_us_per_op / 1000.0;
            s += &format!(
                "baseline (openssl speed): ffdh2048 {:.3} ms; server CPU per check = {:.2}× that\n",
                o.ffdh2048_ms,
                ours_ms / o.ffdh2048_ms
            );
        }
        s
    }

    pub fn json(&self) -> String {
        let baseline = match &self.openssl {
            Some(o) => format!("{{\"ffdh2048_ms\":{:.4}}}", o.ffdh2048_ms),
            None => "null".into(),
        };
        format!(
            "{{\"bench\":\"password\",\"connections\":{},\"result\":{},\"openssl\":{baseline}}}",
            self.connections,
            self.result.json()
        )
    }
}

/// Bytes of RSS growth per item.
fn growth_per(rss_before: u64, rss_after: u64, items: usize) -> f64 {
    rss_after.saturating_sub(rss_before) as f64 / items.max(1) as f64
}

fn mib(bytes: u64) -> f64 {
    bytes as f64 / 1048576.0
}

/// `bench idle`: the server's resident memory per open, idle connection, each with a session
/// that has had one ping answered.
#[derive(Debug)]
pub struct IdleReport {
    pub connections: usize,
    pub rss_before: u64,
    pub rss_after: u64,
}

impl IdleReport {
    pub fn per_connection(&self) -> f64 {
        growth_per(self.rss_before, self.rss_after, self.connections)
    }

    pub fn text(&self) -> String {
        format!(
            "idle, {} connections: server RSS {:.1} MiB before, {:.1} MiB with them open: {:.0} bytes ({:.1} KiB) per connection\n",
            self.connections,
            mib(self.rss_before),
            mib(self.rss_after),
            self.per_connection(),
            self.per_connection() / 1024.0
        )
    }

    pub fn json(&self) -> String {
        format!(
            "{{\"bench\":\"idle\",\"connections\":{},\"rss_before\":{},\"rss_after\":{},\"bytes_per_connection\":{:.0}}}",
            self.connections,
            self.rss_before,
            self.rss_after,
            self.per_connection()
        )
    }
}

pub fn idle(opts: &Options) -> io::Result<IdleReport> {
    let target = start_target(opts)?;
    let cfg = client_config(&target, opts)?;
    runtime()?.block_on(async {
        let keys = load::keys_for(target.addr, &cfg, opts.connections)
            .await
            .map_err(io::Error::other)?;
        // Let the connections that made the keys close before the first reading.
        tokio::time::sleep(std::time::Duration::from_millis(500)).await;
        let rss_before = target.sample()?.rss_bytes;
        let clients = load::sessions(target.addr, &keys, opts.connections)
            .await
            .map_err(io::Error::other)?;
        tokio::time::sleep(std::time::Duration::from_millis(500)).await;
        let rss_after = target.sample()?.rss_bytes;
        drop(clients);
        Ok(IdleReport {
            connections: opts.connections,
            rss_before,
            rss_after,
        })
    })
}

/// `bench keys`: the server's resident memory per cached auth key. The keys are temporary ones
/// (in memory only, PF-1), so that the figure is the key cache's and not the store's; a first
/// batch (as many, up to [`WARM_UP_KEYS`]) brings the server's threads and allocator up to their
/// working size before the first reading.
#[derive(Debug)]
pub struct KeysReport {
    pub keys: usize,
    pub rss_before: u64,
    pub rss_after: u64,
}

/// Keys made before the first reading at most. Not fewer: the server's threads (the blocking
/// threads its key exchanges hand their workers to) and their malloc arenas grow over the
/// first thousands of key exchanges (one run: 4 threads and 16.3 MiB at the start, 16 and
/// 19.8 MiB after 400, 19 and 20.5 MiB after 2,400, with no key kept); after 200, that growth
/// fell inside the measured window, ~150–250 bytes of each key's figure.
const WARM_UP_KEYS: usize = 2_000;
/// How long the temporary keys live: longer than any run.
const BENCH_KEY_SECS: i32 = 24 * 3600;

impl KeysReport {
    pub fn per_key(&self) -> f64 {
        growth_per(self.rss_before, self.rss_after, self.keys)
    }

    pub fn text(&self) -> String {
        format!(
            "keys, {} temporary keys cached: server RSS {:.1} MiB before, {:.1} MiB after: {:.0} bytes per key\n",
            self.keys,
            mib(self.rss_before),
            mib(self.rss_after),
            self.per_key()
        )
    }

    pub fn json(&self) -> String {
        format!(
            "{{\"bench\":\"keys\",\"keys\":{},\"rss_before\":{},\"rss_after\":{},\"bytes_per_key\":{:.0}}}",
            self.keys,
            self.rss_before,
            self.rss_after,
            self.per_key()
        )
    }
}

pub fn keys(opts: &Options) -> io::Result<KeysReport> {
    let target = start_target(opts)?;
    let mut cfg = (*client_config(&target, opts)?).clone();
    cfg.inner = InnerData::Temp {
        expires_in: BENCH_KEY_SECS,
    };
    let cfg = Arc::new(cfg);
    let settle = || tokio::time::sleep(std::time::Duration::from_millis(500));
    runtime()?.block_on(async {
        let err = |e: crate::client::ClientError| io::Error::other(e.to_string());
        load::keys(target.addr, &cfg, opts.connections.min(WARM_UP_KEYS))
            .await
            .map_err(err)?;
        settle().await;
        let rss_before = target.sample()?.rss_bytes;
        load::keys(target.addr, &cfg, opts.connections)
            .await
            .map_err(err)?;
        settle().await;
        let rss_after = target.sample()?.rss_bytes;
        Ok(KeysReport {
            keys: opts.connections,
            rss_before,
            rss_after,
        })
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_ping_frame_is_88_bytes() {
        // 32-byte header + 12-byte ping, padded to 64 (12..27 bytes of padding, a multiple of
        // 16), behind the 24-byte auth_key_id + msg_key.
        assert_eq!(ping_frame_bytes(), 88);
    }
}
