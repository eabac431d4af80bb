//! DB-5 crash test: a child `mtproto-auth serve` is killed with SIGKILL at random moments while
//! clients sign up new numbers, log existing ones in on new keys and log keys out. After every
//! kill the server is started again on the same data dir (the store must open), and keys from
//! earlier rounds must still work. At the end the store is opened here and checked: every
//! acknowledged sign-up and login is present, every acknowledged logout stays logged out, and
//! the records agree with each other (phone index ↔ users, authorizations ↔ their index).

mod common;

use std::collections::{BTreeMap, HashMap};
use std::net::{SocketAddr, TcpListener};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use mtproto_auth::client::login::SignedIn;
use mtproto_auth::client::{Client, ConnectOptions};
use mtproto_auth::crypto::AuthKey;
use mtproto_auth::handshake::client::{ClientConfig, InnerData, RsaScheme};
use mtproto_auth::rand::{OsRng, Rng};
use mtproto_auth::store::accounts::Accounts;
use mtproto_auth::store::records::{
    authorization_key, user_authorization_key, Authorization, User, AUTHORIZATIONS_PREFIX,
};
use mtproto_auth::store::{SledStore, Store};
use mtproto_auth::transport::Framing;

const ROUNDS: usize = 10;
const CLIENTS: usize = 4;

/// What the clients were told: the server acknowledged these.
#[derive(Default)]
struct Acked {
    /// phone → user id (sign-ups).
    users: HashMap<String, i64>,
    /// auth key id → user id (sign-ups and logins).
    logins: HashMap<i64, i64>,
    /// auth key ids logged out.
    logged_out: Vec<i64>,
    /// Keys that are logged in, to reuse after a restart: (key, user id).
    keys: Vec<(AuthKey, i64)>,
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// The server child, killed (SIGKILL) when dropped: also when a check fails mid-round.
struct Server(Child);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn start(data_dir: &std::path::Path, addr: SocketAddr) -> Server {
    let child = Command::new(env!("CARGO_BIN_EXE_mtproto-auth"))
        .args(["serve", "--dcs", "1", "--listen"])
        .arg(addr.to_string())
        .arg("--data-dir")
        .arg(data_dir)
        .args([
            "--default-dc",
            "1",
            "--codes-per-test-phone",
            "0",
            "--codes-per-key",
            "0",
        ])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let server = Server(child);
    let deadline = Instant::now() + Duration::from_secs(30);
    while std::net::TcpStream::connect(addr).is_err() {
        assert!(Instant::now() < deadline, "the server did not come up");
        std::thread::sleep(Duration::from_millis(20));
    }
    server
}

fn config(data_dir: &std::path::Path) -> ClientConfig {
    let pem = std::fs::read_to_string(data_dir.join("rsa_public.pem")).unwrap();
    ClientConfig {
        scheme: RsaScheme::RsaPad,
        inner: InnerData::Plain,
        keys: vec![mtproto_auth::crypto::rsa::RsaPublicKey::from_pkcs1_pem(&pem).unwrap()],
    }
}

/// One client's work until the server dies: sign-ups of fresh test numbers (99966 1 YYYY, code
/// 11111), logins of known numbers on new keys, logouts; each recorded once acknowledged.
async fn work(
    addr: SocketAddr,
    cfg: ClientConfig,
    acked: Arc<Mutex<Acked>>,
    next_phone: Arc<Mutex<u32>>,
    seed: u64,
) {
    let opts = ConnectOptions::new(addr, Framing::Intermediate);
    let mut n = seed;
    loop {
        let Ok(mut client) = Client::connect(&opts, &cfg).await else {
            return;
        };
        let key_id = client.auth_key().id();
        n = n
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        let known: Option<(String, i64)> = {
            let a = acked.lock().unwrap();
            (n.is_multiple_of(3) && !a.users.is_empty()).then(|| {
                let i = (n >> 33) as usize % a.users.len();
                a.users.iter().nth(i).map(|(p, u)| (p.clone(), *u)).unwrap()
            })
        };
        let phone = match &known {
            Some((p, _)) => p.clone(),
            None => {
                let mut next = next_phone.lock().unwrap();
                *next += 1;
                format!("999661{:04}", *next)
            }
        };
        let Ok(sent) = client.send_code(&phone).await else {
            return;
        };
        let Ok(step) = client.sign_in(&phone, &sent.phone_code_hash, "11111").await else {
            return;
        };
        let user_id = match step {
            SignedIn::User(u) => u.id,
            SignedIn::SignUpRequired => {
                let Ok(u) = client
                    .sign_up(&phone, &sent.phone_code_hash, "Crash", "Test")
                    .await
                else {
                    return;
                };
                acked.lock().unwrap().users.insert(phone.clone(), u.id);
                u.id
            }
        };
        acked.lock().unwrap().logins.insert(key_id, user_id);
        if n % 4 == 1 {
            // From the moment it is asked for, the logout may or may not survive a kill.
            acked.lock().unwrap().logins.remove(&key_id);
            if client.log_out().await.is_err() {
                return;
            }
            acked.lock().unwrap().logged_out.push(key_id);
        } else {
            acked
                .lock()
                .unwrap()
                .keys
                .push((AuthKey::from_bytes(*client.auth_key().data()), user_id));
        }
    }
}

fn check_store(store: &SledStore, acked: &Acked) {
    let acc = Accounts::new(store);
    for (phone, id) in &acked.users {
        let user = acc.user_by_phone(phone).unwrap();
        assert_eq!(
            user.map(|u| u.id),
            Some(*id),
            "acknowledged sign-up of {phone} lost"
        );
    }
    for (key, user) in &acked.logins {
        let a = acc.authorization(*key).unwrap();
        assert_eq!(
            a.map(|a| a.value.user_id),
            Some(*user),
            "acknowledged login of key {key:016x} lost"
        );
    }
    for key in &acked.logged_out {
        assert!(
            acc.authorization(*key).unwrap().is_none(),
            "acknowledged logout of {key:016x} undone"
        );
    }
    // Invariants: every user is found by its phone; every phone entry names a user with that
    // phone; every authorization names a stored user and has its index entry, and back.
    let users: BTreeMap<i64, User> = acc
        .users(usize::MAX)
        .unwrap()
        .into_iter()
        .map(|u| (u.id, u))
        .collect();
    for u in users.values() {
        assert_eq!(
            acc.user_by_phone(&u.phone).unwrap().map(|x| x.id),
            Some(u.id)
        );
    }
    for (k, v) in store.scan(b"P", usize::MAX).unwrap() {
        let id = mtproto_auth::store::records::decode_i64("phone", &v).unwrap();
        let phone = String::from_utf8(k[1..].to_vec()).unwrap();
        assert_eq!(
            users.get(&id).map(|u| u.phone.as_str()),
            Some(phone.as_str())
        );
    }
    let auths: Vec<Authorization> = store
        .scan(AUTHORIZATIONS_PREFIX, usize::MAX)
        .unwrap()
        .iter()
        .map(|(_, v)| Authorization::decode(v).unwrap())
        .collect();
    for a in &auths {
        assert!(
            users.contains_key(&a.user_id),
            "authorization of a missing user"
        );
        assert!(store
            .get(&user_authorization_key(a.user_id, a.key_id))
            .unwrap()
            .is_some());
    }
    for (k, _) in store.scan(b"a", usize::MAX).unwrap() {
        let key_id = i64::from_be_bytes(k[9..17].try_into().unwrap());
        let user_id = i64::from_be_bytes(k[1..9].try_into().unwrap());
        let a = store.get(&authorization_key(key_id)).unwrap().unwrap();
        assert_eq!(Authorization::decode(&a).unwrap().user_id, user_id);
    }
}

#[test]
fn acknowledged_logins_survive_sigkill() {
    let data_dir = std::env::temp_dir().join(format!("mtproto-crash-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&data_dir);
    mtproto_auth::server::datadir::prepare(&data_dir).unwrap();
    std::fs::copy(
        common::root().join("tests/fixtures/rsa_private.pem"),
        data_dir.join("rsa_private.pem"),
    )
    .unwrap();
    let addr: SocketAddr = format!("127.0.0.1:{}", free_port()).parse().unwrap();
    let acked = Arc::new(Mutex::new(Acked::default()));
    let next_phone = Arc::new(Mutex::new(0u32));
    let seed = OsRng.next_i64() as u64;
    eprintln!("crash test seed {seed}");
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    for round in 0..ROUNDS {
        let child = start(&data_dir, addr);
        let cfg = config(&data_dir);
        // Keys of earlier rounds still work: the key and its login are both durable.
        let earlier: Vec<(AuthKey, i64)> = acked.lock().unwrap().keys.drain(..).collect();
        runtime.block_on(async {
            for (key, user) in earlier.into_iter().rev().take(5) {
                let transport = mtproto_auth::client::Transport::connect(&ConnectOptions::new(
                    addr,
                    Framing::Intermediate,
                ))
                .await
                .unwrap();
                let mut client = Client::with_key(transport, key, 0);
                let me = client.get_me().await.unwrap();
                assert_eq!(me.id, user, "round {round}: a login from before the kill");
            }
        });
        let tasks: Vec<_> = (0..CLIENTS)
            .map(|c| {
                runtime.spawn(work(
                    addr,
                    cfg.clone(),
                    acked.clone(),
                    next_phone.clone(),
                    seed ^ ((round * CLIENTS + c) as u64 + 1).wrapping_mul(0x9e37_79b9_7f4a_7c15),
                ))
            })
            .collect();
        let delay = 100 + (seed.rotate_left(round as u32 * 7) % 400);
        std::thread::sleep(Duration::from_millis(delay));
        drop(child); // SIGKILL
        runtime.block_on(async {
            for t in tasks {
                let _ = tokio::time::timeout(Duration::from_secs(20), t).await;
            }
        });
    }
    let acked = acked.lock().unwrap();
    assert!(
        acked.users.len() >= ROUNDS,
        "too little work to test anything: {} sign-ups",
        acked.users.len()
    );
    eprintln!(
        "{} sign-ups, {} logins, {} logouts acknowledged",
        acked.users.len(),
        acked.logins.len(),
        acked.logged_out.len()
    );
    let store = SledStore::open(&data_dir.join("store")).unwrap();
    check_store(&store, &acked);
    drop(store);
    let _ = std::fs::remove_dir_all(&data_dir);
}
