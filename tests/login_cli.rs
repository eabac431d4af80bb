//! The operator and developer commands: `mtproto-auth login` against a running server (sign
//! up, PHONE_MIGRATE, a wrong code), and `users list` / `sessions list|revoke` through the
//! server's admin socket and, with no server running, on the store directly.

mod common;

use std::io::Write;
use std::process::{Command, Stdio};

use common::TestServer;

fn bin() -> Command {
    Command::new(env!("CARGO_BIN_EXE_mtproto-auth"))
}

/// Runs `login` with `input` on stdin; (success, stdout, stderr).
/// `login` for `phone` on DC `dc` of `server`, its stdin, stdout and stderr piped.
fn spawn_login(server: &TestServer, dc: i32, phone: &str) -> std::process::Child {
    spawn_login_with(server, dc, &["--phone", phone])
}

/// `login ARGS` on DC `dc` of `server`, piped.
fn spawn_login_with(server: &TestServer, dc: i32, args: &[&str]) -> std::process::Child {
    bin()
        .arg("login")
        .args(args)
        .args(["--dc", &dc.to_string(), "--addr"])
        .arg(server.addr(dc).to_string())
        .arg("--data-dir")
        .arg(&server.data_dir)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap()
}

fn login(server: &TestServer, dc: i32, phone: &str, input: &str) -> (bool, String, String) {
    let mut child = spawn_login(server, dc, phone);
    child
        .stdin
        .take()
        .unwrap()
        .write_all(input.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into(),
        String::from_utf8_lossy(&out.stderr).into(),
    )
}

fn admin(data_dir: &std::path::Path, args: &[&str]) -> (bool, String) {
    common::operator(env!("CARGO_BIN_EXE_mtproto-auth").as_ref(), data_dir, args)
}

#[test]
fn login_signs_up_follows_migrate_and_operators_see_and_end_the_session() {
    let mut server = TestServer::start(3);
    // A wrong code first, then the right one; a new number asks for a name.
    let (ok, out, err) = login(&server, 1, "9996631234", "11111\n33333\nAda\nLovelace\n");
    assert!(ok, "{out}\n{err}");
    assert!(out.contains("The number lives on DC 3"), "{out}");
    assert!(out.contains("That code is not right"), "{out}");
    assert!(out.contains("signing up"), "{out}");
    assert!(out.contains("Logged in as Ada Lovelace"), "{out}");
    assert!(out.contains("phone +9996631234) on DC 3"), "{out}");
    // The same number again: no sign-up, and the code went to the other session too.
    let (ok, out, err) = login(&server, 3, "9996631234", "33333\n");
    assert!(ok, "{out}\n{err}");
    assert!(out.contains("to your other sessions"), "{out}");
    assert!(!out.contains("signing up"), "{out}");

    let (ok, users) = admin(&server.data_dir, &["users", "list"]);
    assert!(ok, "{users}");
    let row = users.lines().nth(1).unwrap();
    assert!(
        row.contains("9996631234") && row.contains("Ada Lovelace"),
        "{users}"
    );
    assert!(row.trim_end().ends_with('2'), "two sessions: {users}");
    let user_id = row.split_whitespace().next().unwrap().to_string();
    let (ok, sessions) = admin(&server.data_dir, &["sessions", "list", "--user", &user_id]);
    assert!(ok, "{sessions}");
    assert_eq!(sessions.lines().count(), 3, "{sessions}");
    assert!(sessions.contains("mtproto-auth login"), "{sessions}");
    let key = sessions
        .lines()
        .nth(1)
        .unwrap()
        .split_whitespace()
        .next()
        .unwrap()
        .to_string();
    let (ok, out) = admin(&server.data_dir, &["sessions", "revoke", &key]);
    assert!(ok && out.contains(&key), "{out}");
    let (ok, out) = admin(&server.data_dir, &["sessions", "revoke", &key]);
    assert!(!ok && out.contains("no session"), "{out}");
    let key_id = mtproto_auth::tools::admin::parse_key_id(&key).unwrap();
    assert!(
        mtproto_auth::store::accounts::Accounts::new(&*server.state.store)
            .revoked(key_id)
            .unwrap()
    );

    // With the server stopped, the commands open the store themselves.
    let data_dir = server.data_dir.clone();
    server.stop();
    assert!(!data_dir.join("admin.sock").exists());
    let (ok, out) = admin(&data_dir, &["sessions", "revoke", "--user", &user_id]);
    assert!(ok, "{out}");
    assert!(out.contains("revoked 1 session(s)"), "{out}");
}

#[test]
fn users_list_without_a_server_or_store_says_so() {
    let dir = std::env::temp_dir().join(format!("mtproto-no-store-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let (ok, out) = admin(&dir, &["users", "list"]);
    assert!(!ok);
    assert!(out.contains("no store"), "{out}");
    let (ok, out) = admin(&dir, &["sessions", "revoke", "not-hex"]);
    assert!(!ok && out.contains("auth key id"), "{out}");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn serve_refuses_a_data_dir_other_users_can_read() {
    use std::os::unix::fs::PermissionsExt;
    let dir = std::env::temp_dir().join(format!("mtproto-shared-dir-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o755)).unwrap();
    let out = bin()
        .args([
            "serve",
            "--dcs",
            "1",
            "--listen",
            "127.0.0.1:47431",
            "--data-dir",
        ])
        .arg(&dir)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "{stderr}");
    assert!(stderr.contains("has mode 0755"), "{stderr}");
    assert!(
        stderr.contains(&format!("chmod 700 {}", dir.display())),
        "{stderr}"
    );
    // Nothing was created in it: no key, no store.
    assert_eq!(std::fs::read_dir(&dir).unwrap().count(), 0);
    let _ = std::fs::remove_dir_all(&dir);
}

/// `serve`'s default login limits are the guessing budget (a sixth code an hour for a number is
/// refused), and `--dev-login-limits` brings back the loose ones (twenty).
#[test]
fn serve_defaults_to_the_guessing_budget_and_dev_login_limits_loosen_it() {
    use mtproto_auth::client::{Client, ClientError, ConnectOptions};
    use mtproto_auth::handshake::client::{ClientConfig, InnerData, RsaScheme};
    use mtproto_auth::transport::Framing;
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    for (flags, allowed) in [(&[][..], 5), (&["--dev-login-limits"][..], 20)] {
        let dir = std::env::temp_dir().join(format!(
            "mtproto-dev-limits-{}-{allowed}",
            std::process::id()
        ));
        let _ = std::fs::remove_dir_all(&dir);
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let addr: std::net::SocketAddr = format!("127.0.0.1:{port}").parse().unwrap();
        let mut child = bin()
            .args(["serve", "--dcs", "1", "--default-dc", "1", "--listen"])
            .arg(addr.to_string())
            .arg("--data-dir")
            .arg(&dir)
            .args(flags)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
        while std::net::TcpStream::connect(addr).is_err() {
            assert!(
                std::time::Instant::now() < deadline,
                "serve did not come up"
            );
            std::thread::sleep(std::time::Duration::from_millis(20));
        }
        let pem = std::fs::read_to_string(dir.join("rsa_public.pem")).unwrap();
        let cfg = ClientConfig {
            scheme: RsaScheme::RsaPad,
            inner: InnerData::Plain,
            keys: vec![mtproto_auth::crypto::rsa::RsaPublicKey::from_pkcs1_pem(&pem).unwrap()],
        };
        let refusal = rt.block_on(async {
            let opts = ConnectOptions::new(addr, Framing::Intermediate);
            let mut client = Client::connect(&opts, &cfg).await.unwrap();
            for _ in 0..allowed {
                client.send_code("4915112349999").await.unwrap();
            }
            client.send_code("4915112349999").await.unwrap_err()
        });
        let _ = child.kill();
        let _ = child.wait();
        let _ = std::fs::remove_dir_all(&dir);
        assert!(
            matches!(&refusal, ClientError::Rpc(e)
                if e.code == 420 && e.message.starts_with("FLOOD_WAIT_")),
            "{flags:?}: {refusal:?}"
        );
    }
}

/// `login` asks for the cloud password after the code when the account has one.
#[test]
fn login_asks_for_the_password_of_an_account_that_has_one() {
    use mtproto_auth::client::{Client, ConnectOptions};
    use mtproto_auth::handshake::client::{ClientConfig, InnerData, RsaScheme};
    use mtproto_auth::transport::Framing;
    let server = TestServer::start(3);
    let phone = "9996626363";
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
        .block_on(async {
            let opts = ConnectOptions::new(server.addr(2), Framing::Intermediate);
            let cfg = ClientConfig {
                scheme: RsaScheme::RsaPad,
                inner: InnerData::Plain,
                keys: vec![server.public_key()],
            };
            let mut c = Client::connect(&opts, &cfg).await.unwrap();
            let sent = c.send_code(phone).await.unwrap();
            c.sign_in(phone, &sent.phone_code_hash, "22222")
                .await
                .unwrap();
            c.sign_up(phone, &sent.phone_code_hash, "Pass", "Word")
                .await
                .unwrap();
            c.set_password(None, Some("s3cret"), "the usual")
                .await
                .unwrap();
        });
    let (ok, out, err) = login(&server, 2, phone, "22222\nguess\ns3cret\n");
    assert!(ok, "{out}\n{err}");
    assert!(
        out.contains("This account has a password (hint: the usual)."),
        "{out}"
    );
    assert!(
        out.contains("That password is not right; try again."),
        "{out}"
    );
    assert!(out.contains("Logged in as Pass Word"), "{out}");
}

/// `login` on a server that requires a login email asks for the address and the email's code,
/// then signs in (and up) with the login code mailed there.
#[test]
fn login_sets_up_the_login_email_a_server_requires() {
    let sender = std::sync::Arc::new(mtproto_auth::rpc::login::MemorySender::default());
    let held = sender.clone();
    let server = TestServer::start_with(3, move |c| {
        let mut login = mtproto_auth::rpc::LoginConfig::new(held);
        login.require_login_email = true;
        c.login = Some(login);
    });
    let phone = "9996626464";
    let email = "cli@example.com";
    let mut child = spawn_login(&server, 2, phone);
    let mut stdin = child.stdin.take().unwrap();
    stdin
        .write_all(format!("not an address\n{email}\n").as_bytes())
        .unwrap();
    // The verification code is random: wait for it to be mailed, then type it.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    let code = loop {
        if let Some(code) = sender.last_email_code(email) {
            break code;
        }
        assert!(std::time::Instant::now() < deadline, "no code was mailed");
        std::thread::sleep(std::time::Duration::from_millis(20));
    };
    stdin
        .write_all(format!("{code}\n22222\nMail\nSetup\n").as_bytes())
        .unwrap();
    drop(stdin);
    let out = child.wait_with_output().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    for expected in [
        "This server asks new accounts for a login email.",
        "That is not an email address; try again.",
        "A 5-digit code was sent to the login email c**@example.com",
        "Logged in as Mail Setup",
    ] {
        assert!(stdout.contains(expected), "{expected:?} in {stdout}");
    }
    assert_eq!(sender.last_email_code(email).as_deref(), Some("22222"));
}

/// `login --qr` prints a tg://login link (and its QR code), waits for a logged-in session to
/// accept it, follows loginTokenMigrateTo to the user's DC, asks for the password, and logs in.
#[test]
fn login_by_qr_code_follows_the_user_to_its_dc_and_asks_for_the_password() {
    use mtproto_auth::client::qr::token_of_url;
    use std::io::BufRead;
    let server = TestServer::start(3);
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let phone = "9996636565";
    let mut phone_app = rt.block_on(async {
        let mut c = server
            .client(3, mtproto_auth::transport::Framing::Intermediate)
            .await;
        let sent = c.send_code(phone).await.unwrap();
        c.sign_in(phone, &sent.phone_code_hash, "33333")
            .await
            .unwrap();
        c.sign_up(phone, &sent.phone_code_hash, "Quick", "Response")
            .await
            .unwrap();
        c.set_password(None, Some("qr cli"), "").await.unwrap();
        c
    });
    let mut child = spawn_login_with(&server, 2, &["--qr"]);
    let stdout = child.stdout.take().unwrap();
    let (lines_tx, lines) = std::sync::mpsc::channel();
    let reader = std::thread::spawn(move || {
        for line in std::io::BufReader::new(stdout).lines() {
            let Ok(line) = line else { break };
            let _ = lines_tx.send(line);
        }
    });
    let mut seen = Vec::new();
    let url = loop {
        let line = lines
            .recv_timeout(std::time::Duration::from_secs(60))
            .expect("a tg://login link");
        seen.push(line.clone());
        if line.starts_with("tg://login?token=") {
            break line;
        }
    };
    assert!(
        seen.iter().any(|l| l.contains('█') || l.contains('▀')),
        "a QR code above the link: {seen:?}"
    );
    let token = token_of_url(&url).unwrap();
    rt.block_on(phone_app.accept_login_token(&token)).unwrap();
    let mut stdin = child.stdin.take().unwrap();
    stdin.write_all(b"qr cli\n").unwrap();
    drop(stdin);
    let status = child.wait().unwrap();
    reader.join().unwrap();
    seen.extend(lines.try_iter());
    let out = seen.join("\n");
    assert!(status.success(), "{out}");
    for expected in [
        "Accepted.",
        "The account lives on DC 3",
        "This account has a password.",
        "Logged in as Quick Response",
        "on DC 3",
    ] {
        assert!(out.contains(expected), "{expected:?} in {out}");
    }
}
