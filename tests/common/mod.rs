//! Helpers shared by the integration tests.
#![allow(dead_code)]

use std::path::PathBuf;

/// The repository root (where `schema/` and `tests/` are).
pub fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// The Python interpreter with the interop requirements installed: `MTPROTO_PYTHON`, else the
/// venv that `scripts/test-all` creates. Missing, the interop tests fail: they are not optional.
pub fn python() -> PathBuf {
    if let Some(p) = std::env::var_os("MTPROTO_PYTHON") {
        return PathBuf::from(p);
    }
    let venv = root().join(".venv/bin/python");
    assert!(
        venv.exists(),
        "no Python for the interop tests: run scripts/test-all (it creates .venv from \
         tests/interop/requirements.txt) or set MTPROTO_PYTHON"
    );
    venv
}

/// The Python of `.venv-NAME`, the venv `scripts/test-all` makes for one of the Pyrogram forks
/// (each installs itself as the same module, so each has a venv of its own).
pub fn python_of(name: &str) -> PathBuf {
    let venv = root().join(format!(".venv-{name}/bin/python"));
    assert!(
        venv.exists(),
        "no .venv-{name} for the interop tests: run scripts/test-all (it creates it from \
         tests/interop/requirements-{name}.txt)"
    );
    venv
}

/// An RPC error's code and text; any other error fails the test.
pub fn rpc_error(e: mtproto_auth::client::ClientError) -> (i32, String) {
    match e {
        mtproto_auth::client::ClientError::Rpc(r) => (r.code, r.message),
        other => panic!("not an rpc error: {other}"),
    }
}

pub fn hex(text: &str) -> Vec<u8> {
    mtproto_auth::tools::tl_decode::parse_hex(text.as_bytes()).expect("valid hex")
}

/// The value of `"key": ...` in one line of flat JSON (a string without escapes, or a number).
pub fn json_field<'a>(line: &'a str, key: &str) -> Option<&'a str> {
    let pat = format!("\"{key}\":");
    let start = line.find(&pat)? + pat.len();
    let rest = line[start..].trim_start();
    if let Some(s) = rest.strip_prefix('"') {
        s.find('"').map(|end| &s[..end])
    } else {
        let end = rest.find([',', '}']).unwrap_or(rest.len());
        Some(rest[..end].trim())
    }
}

/// Runs `tests/interop/SCRIPT` with the interop venv's Python; its stdout. Fails the test if
/// the script fails.
#[allow(dead_code)]
pub fn run_python(script: &str, args: &[String]) -> String {
    run_script(python(), script, args)
}

/// Runs `tests/interop/SCRIPT` with `interpreter` (a Python or node); its stdout. Fails the test
/// if the script fails.
pub fn run_script(interpreter: PathBuf, script: &str, args: &[String]) -> String {
    let mut all = vec![root()
        .join("tests/interop")
        .join(script)
        .display()
        .to_string()];
    all.extend_from_slice(args);
    run_program(&interpreter, &all)
}

/// Runs `mtproto-auth ARGS --data-dir DIR` (an operator command): whether it succeeded, and
/// its stdout and stderr together.
#[allow(dead_code)]
pub fn operator(
    bin: &std::path::Path,
    data_dir: &std::path::Path,
    args: &[&str],
) -> (bool, String) {
    let out = std::process::Command::new(bin)
        .args(args)
        .arg("--data-dir")
        .arg(data_dir)
        .output()
        .unwrap();
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.success(), text)
}

/// Runs `program` with `args`; its stdout. Fails the test if it fails.
pub fn run_program(program: &std::path::Path, args: &[String]) -> String {
    let out = std::process::Command::new(program)
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("{} does not run: {e}", program.display()));
    let stdout = String::from_utf8_lossy(&out.stdout).to_string();
    assert!(
        out.status.success(),
        "{} {args:?} failed:\n{stdout}\n{}",
        program.display(),
        String::from_utf8_lossy(&out.stderr)
    );
    stdout
}

/// A server on 127.0.0.1 with `dcs` DCs on free ports and a fresh data dir, running on its own
/// runtime thread until the returned handle drops.
pub struct TestServer {
    pub addrs: Vec<(i32, std::net::SocketAddr)>,
    pub data_dir: PathBuf,
    pub state: std::sync::Arc<mtproto_auth::server::ServerState>,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
    /// The login settings it was started with (a restart keeps them).
    login: Option<mtproto_auth::rpc::LoginConfig>,
}

impl TestServer {
    pub fn start(dcs: i32) -> TestServer {
        Self::start_with(dcs, |_| {})
    }

    pub fn start_with(
        dcs: i32,
        tweak: impl FnOnce(&mut mtproto_auth::server::ServerConfig),
    ) -> TestServer {
        use mtproto_auth::server::ServerConfig;
        static NEXT: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
        let n = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let data_dir = std::env::temp_dir().join(format!(
            "mtproto-test-{}-{n}-{}",
            std::process::id(),
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .unwrap()
                .as_nanos()
        ));
        mtproto_auth::server::datadir::prepare(&data_dir).unwrap();
        // The fixture key: generating one per test costs a second.
        std::fs::copy(
            root().join("tests/fixtures/rsa_private.pem"),
            data_dir.join("rsa_private.pem"),
        )
        .unwrap();
        let mut config = ServerConfig {
            data_dir: data_dir.clone(),
            dcs: (1..=dcs)
                .map(|id| (id, "127.0.0.1:0".parse().unwrap()))
                .collect(),
            test_mode: true,
            limits: Default::default(),
            login: None,
            ephemeral: false,
            admin_http: None,
            public_host: None,
        };
        tweak(&mut config);
        let login = config.login.clone();
        let (addrs, state, stop, thread) = Self::spawn(config);
        TestServer {
            addrs,
            data_dir,
            state,
            stop: Some(stop),
            thread: Some(thread),
            login,
        }
    }

    #[allow(clippy::type_complexity)]
    fn spawn(
        config: mtproto_auth::server::ServerConfig,
    ) -> (
        Vec<(i32, std::net::SocketAddr)>,
        std::sync::Arc<mtproto_auth::server::ServerState>,
        tokio::sync::oneshot::Sender<()>,
        std::thread::JoinHandle<()>,
    ) {
        use mtproto_auth::server::Server;
        let (ready_tx, ready_rx) = std::sync::mpsc::channel();
        let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
        let thread = std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_multi_thread()
                .worker_threads(2)
                .enable_all()
                .build()
                .unwrap();
            rt.block_on(async move {
                let server = Server::bind(config).await.unwrap();
                ready_tx
                    .send((server.addrs(), server.state().clone()))
                    .unwrap();
                server
                    .run(async move {
                        let _ = stop_rx.await;
                    })
                    .await
                    .unwrap();
            });
        });
        let (addrs, state) = ready_rx.recv().unwrap();
        (addrs, state, stop_tx, thread)
    }

    /// Stops the server gracefully and starts it again on the same data dir and addresses.
    #[allow(dead_code)]
    pub fn restart(&mut self) {
        self.stop();
        let config = mtproto_auth::server::ServerConfig {
            data_dir: self.data_dir.clone(),
            dcs: self.addrs.clone(),
            test_mode: true,
            limits: Default::default(),
            login: self.login.clone(),
            ephemeral: false,
            admin_http: None,
            public_host: None,
        };
        let (addrs, state, stop, thread) = Self::spawn(config);
        assert_eq!(addrs, self.addrs);
        self.state = state;
        self.stop = Some(stop);
        self.thread = Some(thread);
    }

    /// Stops the server gracefully and lets go of its store (the data dir stays until drop).
    #[allow(dead_code)]
    pub fn stop(&mut self) {
        self.stop_and_join();
        // Our handle on the old state keeps its store open; let it go.
        self.state = std::sync::Arc::new(mtproto_auth::server::ServerState::new(
            std::sync::Arc::new(mtproto_auth::store::MemoryStore::default()),
            std::sync::Arc::new(Vec::new()),
            [0; 32],
            Vec::new(),
            true,
        ));
    }

    fn stop_and_join(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }

    /// The login codes the default sender wrote, as (phone, code), oldest first.
    #[allow(dead_code)]
    pub fn outbox(&self) -> Vec<(String, String)> {
        std::fs::read_to_string(self.data_dir.join(mtproto_auth::server::OUTBOX_FILE))
            .unwrap_or_default()
            .lines()
            .filter_map(|l| {
                let mut w = l.split(' ').skip(1);
                Some((w.next()?.to_string(), w.next()?.to_string()))
            })
            .collect()
    }

    /// A client of the library with a new permanent key on DC `dc`.
    pub async fn client(
        &self,
        dc: i32,
        framing: mtproto_auth::transport::Framing,
    ) -> mtproto_auth::client::Client {
        use mtproto_auth::handshake::client::{ClientConfig, InnerData, RsaScheme};
        let opts = mtproto_auth::client::ConnectOptions::new(self.addr(dc), framing);
        let cfg = ClientConfig {
            scheme: RsaScheme::RsaPad,
            inner: InnerData::Plain,
            keys: vec![self.public_key()],
        };
        mtproto_auth::client::Client::connect(&opts, &cfg)
            .await
            .unwrap()
    }

    pub fn addr(&self, dc: i32) -> std::net::SocketAddr {
        self.addrs.iter().find(|(id, _)| *id == dc).unwrap().1
    }

    pub fn public_key_pem(&self) -> PathBuf {
        self.data_dir.join("rsa_public.pem")
    }

    pub fn public_key(&self) -> mtproto_auth::crypto::rsa::RsaPublicKey {
        mtproto_auth::crypto::rsa::RsaPublicKey::from_pkcs1_pem(
            &std::fs::read_to_string(self.public_key_pem()).unwrap(),
        )
        .unwrap()
    }
}

impl Drop for TestServer {
    fn drop(&mut self) {
        self.stop_and_join();
        let _ = std::fs::remove_dir_all(&self.data_dir);
    }
}
