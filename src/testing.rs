//! An embeddable test DC for other crates' tests: [`TestDc::spawn`] starts an ephemeral server
//! (records in memory, flood limits off, every DC on a free loopback port) on a runtime thread
//! of its own, and hands back its addresses, its public key and a handle that reads the codes
//! it sends, seeds, resets and injects faults. Dropping it stops the server and removes its
//! temporary dir.
//!
//! ```
//! use mtproto_auth::client::login::SignedIn;
//! use mtproto_auth::testing::TestDc;
//!
//! let dc = TestDc::spawn().unwrap();
//! let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
//! rt.block_on(async {
//!     // A client of this crate with a new key on DC 2, where 9996621234 lives.
//!     let mut client = dc.client(2).await.unwrap();
//!     let sent = client.send_code("9996621234").await.unwrap();
//!     let code = dc.code("9996621234").expect("a code was sent");
//!     let step = client.sign_in("9996621234", &sent.phone_code_hash, &code).await.unwrap();
//!     assert_eq!(step, SignedIn::SignUpRequired);
//!     let user = client.sign_up("9996621234", &sent.phone_code_hash, "Ada", "").await.unwrap();
//!     assert_eq!(client.get_me().await.unwrap().id, user.id);
//!
//!     // An error on purpose: the next sendCode answers FLOOD_WAIT_5.
//!     dc.fail_next("auth.sendCode", "FLOOD_WAIT_5", 1);
//!     assert!(client.send_code("9996621234").await.is_err());
//! });
//! // Between tests: every user, key, session, code and fault rule forgotten.
//! dc.reset().unwrap();
//! assert!(dc.users().is_empty());
//! ```

use std::io;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use crate::client::{Client, ClientError, ConnectOptions};
use crate::crypto::rsa::RsaPublicKey;
use crate::handshake::client::{ClientConfig, InnerData, RsaScheme};
use crate::rpc::login::MemorySender;
use crate::rpc::{LoginConfig, RpcError};
use crate::server::code_log::Filter;
use crate::server::faults::{default_code, FaultRule};
use crate::server::{Server, ServerConfig, ServerState};
use crate::store::accounts::Accounts;
use crate::store::records::User;
use crate::transport::Framing;

/// How long [`TestDc::code`] waits for a code that has not been sent yet.
const CODE_WAIT: Duration = Duration::from_secs(5);

/// The RSA key of the first test DC of this process, reused by the next ones (making one
/// takes about a second).
static KEY_PEM: OnceLock<String> = OnceLock::new();

/// Options of [`TestDc::spawn_with`].
#[derive(Debug, Clone)]
pub struct TestDcOptions {
    /// DCs, 1 to 5.
    pub dcs: i32,
    /// Also serve the admin HTTP API on a free loopback port.
    pub admin_http: bool,
}

impl Default for TestDcOptions {
    fn default() -> Self {
        TestDcOptions {
            dcs: 3,
            admin_http: false,
        }
    }
}

/// A running ephemeral server; see the module docs.
pub struct TestDc {
    addrs: Vec<(i32, SocketAddr)>,
    admin_http: Option<SocketAddr>,
    public_key: RsaPublicKey,
    public_key_pem: String,
    state: Arc<ServerState>,
    dir: PathBuf,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<io::Result<()>>>,
}

impl TestDc {
    /// Three DCs on free ports of 127.0.0.1.
    pub fn spawn() -> io::Result<TestDc> {
        Self::spawn_with(TestDcOptions::default())
    }

    pub fn spawn_with(options: TestDcOptions) -> io::Result<TestDc> {
        static NEXT: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
        let n = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let dir = std::env::temp_dir().join(format!(
            "mtproto-auth-testdc-{}-{n}-{}",
            std::process::id(),
            crate::tools::admin::unix_now()
        ));
        crate::server::datadir::prepare(&dir)?;
        if let Some(pem) = KEY_PEM.get() {
            crate::server::write_private(
                &dir.join(crate::server::PRIVATE_KEY_FILE),
                pem.as_bytes(),
            )?;
        }
        let loopback: SocketAddr = "127.0.0.1:0".parse().expect("an address");
        let mut config = ServerConfig::with_dcs(dir.clone(), loopback, options.dcs, &[]);
        config.ephemeral = true;
        config.limits.handshake_rate = None;
        let mut login = LoginConfig::without_limits(Arc::new(MemorySender::default()));
        login.default_home_dc = login.default_home_dc.min(options.dcs);
        config.login = Some(login);
        config.admin_http = options.admin_http.then_some(loopback);
        let (ready_tx, ready_rx) = std::sync::mpsc::channel();
        let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
        let thread = std::thread::Builder::new()
            .name("test-dc".into())
            .spawn(move || {
                let rt = tokio::runtime::Builder::new_multi_thread()
                    .worker_threads(2)
                    .enable_all()
                    .build()?;
                rt.block_on(async move {
                    let server = match Server::bind(config).await {
                        Ok(s) => s,
                        Err(e) => {
                            let _ = ready_tx.send(Err(e));
                            return Ok(());
                        }
                    };
                    let _ = ready_tx.send(Ok((
                        server.addrs(),
                        server.admin_http_addr(),
                        server.state().clone(),
                    )));
                    server
                        .run(async move {
                            let _ = stop_rx.await;
                        })
                        .await
                })
            })?;
        let (addrs, admin_http, state) = ready_rx
            .recv()
            .map_err(|_| io::Error::other("the test DC thread ended before it listened"))??;
        let public_key_pem = std::fs::read_to_string(dir.join(crate::server::PUBLIC_KEY_FILE))?;
        if KEY_PEM.get().is_none() {
            let private = std::fs::read_to_string(dir.join(crate::server::PRIVATE_KEY_FILE))?;
            let _ = KEY_PEM.set(private);
        }
        let public_key = RsaPublicKey::from_pkcs1_pem(&public_key_pem)
            .map_err(|e| io::Error::other(format!("the public key: {e:?}")))?;
        Ok(TestDc {
            addrs,
            admin_http,
            public_key,
            public_key_pem,
            state,
            dir,
            stop: Some(stop_tx),
            thread: Some(thread),
        })
    }

    /// Each DC's id and address.
    pub fn addrs(&self) -> &[(i32, SocketAddr)] {
        &self.addrs
    }

    /// DC `dc`'s address (panics for a DC it does not serve).
    pub fn addr(&self, dc: i32) -> SocketAddr {
        self.addrs
            .iter()
            .find(|(id, _)| *id == dc)
            .unwrap_or_else(|| panic!("the test DC serves no DC {dc}"))
            .1
    }

    /// The admin HTTP API's address, if [`TestDcOptions::admin_http`] asked for it.
    pub fn admin_http(&self) -> Option<SocketAddr> {
        self.admin_http
    }

    /// The server's RSA public key, for a client's handshake.
    pub fn public_key(&self) -> &RsaPublicKey {
        &self.public_key
    }

    /// The same key in PEM (PKCS#1), as stock clients take it.
    pub fn public_key_pem(&self) -> &str {
        &self.public_key_pem
    }

    /// The server's shared state (store, caches, metrics), for tests that look inside.
    pub fn state(&self) -> &Arc<ServerState> {
        &self.state
    }

    /// A client of this crate with a new permanent key on DC `dc` (intermediate framing).
    pub async fn client(&self, dc: i32) -> Result<Client, ClientError> {
        let opts = ConnectOptions::new(self.addr(dc), Framing::Intermediate);
        let cfg = ClientConfig {
            scheme: RsaScheme::RsaPad,
            inner: InnerData::Plain,
            keys: vec![self.public_key.clone()],
        };
        Client::connect(&opts, &cfg).await
    }

    /// The newest login code sent to `phone`, waiting up to 5 s for one if none was sent.
    pub fn code(&self, phone: &str) -> Option<String> {
        self.wait_code(
            Filter {
                phone: Some(phone.into()),
                ..Default::default()
            },
            CODE_WAIT,
        )
    }

    /// The newest email code sent to `address`, waiting up to 5 s for one.
    pub fn email_code(&self, address: &str) -> Option<String> {
        self.wait_code(
            Filter {
                email: Some(address.into()),
                ..Default::default()
            },
            CODE_WAIT,
        )
    }

    fn wait_code(&self, filter: Filter, wait: Duration) -> Option<String> {
        let log = &self.state.codes;
        if let Some(d) = log.list(&filter, 1).pop() {
            return Some(d.code);
        }
        log.wait(&filter, wait).map(|d| d.code)
    }

    /// Creates the users, bots and sessions of a seed file's text (see `tools::seed`); its
    /// report.
    pub fn seed(&self, toml: &str) -> Result<String, String> {
        let seed = crate::tools::seed::parse(toml)?;
        crate::tools::seed::apply(&*self.state.store, &seed, crate::tools::admin::unix_now())
    }

    /// Every user (and bot).
    pub fn users(&self) -> Vec<User> {
        Accounts::new(&*self.state.store)
            .users(100_000)
            .unwrap_or_default()
    }

    /// Forgets every user, key, session, code, counter and fault rule.
    pub fn reset(&self) -> Result<(), String> {
        self.state.reset().map_err(|e| e.to_string())
    }

    /// Deletes one user and all of theirs.
    pub fn reset_user(&self, user_id: i64) -> Result<bool, String> {
        self.state.reset_user(user_id).map_err(|e| e.to_string())
    }

    /// Adds a fault rule; its id.
    pub fn add_fault(&self, rule: FaultRule) -> Result<u64, String> {
        self.state.faults.add(rule)
    }

    /// The next `times` calls of `method` answer `error` (its code as Telegram gives it).
    pub fn fail_next(&self, method: &str, error: &str, times: u32) -> u64 {
        self.add_fault(FaultRule {
            error: Some(RpcError::new(default_code(error), error)),
            times: Some(times),
            ..rule(method)
        })
        .expect("a valid fault rule")
    }

    /// Every call of `method` is answered `ms` late, until cleared.
    pub fn delay(&self, method: &str, ms: u64) -> u64 {
        self.add_fault(FaultRule {
            delay_ms: ms,
            ..rule(method)
        })
        .expect("a valid fault rule")
    }

    /// The next `times` calls of `method` lose their answer with the connection.
    pub fn drop_next(&self, method: &str, times: u32) -> u64 {
        self.add_fault(FaultRule {
            drop: true,
            times: Some(times),
            ..rule(method)
        })
        .expect("a valid fault rule")
    }

    /// Removes every fault rule.
    pub fn clear_faults(&self) {
        self.state.faults.clear(None);
    }
}

fn rule(method: &str) -> FaultRule {
    FaultRule {
        id: 0,
        method: method.into(),
        error: None,
        delay_ms: 0,
        drop: false,
        times: None,
        fraction: None,
        hits: 0,
    }
}

impl Drop for TestDc {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}
