//! The test-DC commands against a running `serve --ephemeral` (through its admin socket):
//! `serve --seed`, `seed` again (idempotent), `faults add|list|clear` seen by a client,
//! `sessions create` handing a client a logged-in key, `reset --user` and `reset`.

mod common;

use std::io::BufRead;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

use common::json_field;
use mtproto_auth::client::{Client, ClientError, ConnectOptions, Transport};
use mtproto_auth::crypto::AuthKey;
use mtproto_auth::transport::Framing;

/// Kills the server when the test ends, passed or not.
struct Serve(Child);

impl Drop for Serve {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// `serve ARGS` with its stdout read up to the ready line; the guard kills it.
fn serve(args: &[&str]) -> (Serve, String) {
    let mut child = Command::new(bin())
        .arg("serve")
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut line = String::new();
    std::io::BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    (Serve(child), line)
}

fn bin() -> &'static Path {
    Path::new(env!("CARGO_BIN_EXE_mtproto-auth"))
}

/// `mtproto-auth ARGS --data-dir DIR`: success and output.
fn cli(dir: &Path, args: &[&str]) -> (bool, String) {
    common::operator(bin(), dir, args)
}

fn json_text(line: &str, key: &str) -> String {
    let pat = format!("\"{key}\":\"");
    let start = line.find(&pat).unwrap() + pat.len();
    let end = start + line[start..].find('"').unwrap();
    line[start..end].replace("\\n", "\n")
}

fn block_on<F: std::future::Future>(f: F) -> F::Output {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
        .block_on(f)
}

const SEED: &str = r#"
[[users]]
phone = "9996621234"
first_name = "Seeded"
password = "pw"

[[bots]]
name = "Echo"
username = "echo_bot"
"#;

#[test]
fn seed_faults_sessions_and_reset_from_the_command_line() {
    let seed = std::env::temp_dir().join(format!("mtproto-seed-{}.toml", std::process::id()));
    std::fs::write(&seed, SEED).unwrap();
    let (_serve, line) = serve(&[
        "--ephemeral",
        "--listen",
        "127.0.0.1:0",
        "--admin-http",
        "127.0.0.1:0",
        "--seed",
        seed.to_str().unwrap(),
    ]);
    assert!(
        json_field(&line, "admin_http").is_some_and(|a| a.starts_with("127.0.0.1:")),
        "{line}"
    );
    let dir = PathBuf::from(json_text(&line, "data_dir"));
    let key = mtproto_auth::crypto::rsa::RsaPublicKey::from_pkcs1_pem(&json_text(
        &line,
        "public_key_pem",
    ))
    .unwrap();
    let at = line.find("{\"id\":2,").unwrap();
    let dc2: std::net::SocketAddr = json_field(&line[at..], "addr").unwrap().parse().unwrap();

    let (ok, users) = cli(&dir, &["users", "list"]);
    assert!(
        ok && users.contains("9996621234") && users.contains("Seeded"),
        "{users}"
    );
    let user_id = users
        .lines()
        .find(|l| l.contains("9996621234"))
        .and_then(|l| l.split_whitespace().next())
        .unwrap()
        .to_string();
    let (ok, again) = cli(&dir, &["seed", seed.to_str().unwrap()]);
    assert!(ok, "{again}");
    assert_eq!(again.matches("exists").count(), 2, "{again}");

    let (ok, added) = cli(
        &dir,
        &[
            "faults",
            "add",
            "--method",
            "auth.sendCode",
            "--error",
            "PHONE_NUMBER_BANNED",
            "--times",
            "1",
        ],
    );
    assert!(ok && added.contains("added fault rule"), "{added}");
    let (ok, listed) = cli(&dir, &["faults", "list"]);
    assert!(ok && listed.contains("400 PHONE_NUMBER_BANNED"), "{listed}");
    let (ok, bad) = cli(&dir, &["faults", "add", "--method", "auth.sendCode"]);
    assert!(
        !ok && bad.contains("needs an error, a delay or drop"),
        "{bad}"
    );
    block_on(async {
        use mtproto_auth::handshake::client::{ClientConfig, InnerData, RsaScheme};
        let cfg = ClientConfig {
            scheme: RsaScheme::RsaPad,
            inner: InnerData::Plain,
            keys: vec![key],
        };
        let mut c = Client::connect(&ConnectOptions::new(dc2, Framing::Abridged), &cfg)
            .await
            .unwrap();
        match c.send_code("9996621234").await {
            Err(ClientError::Rpc(e)) => assert_eq!(e.message, "PHONE_NUMBER_BANNED"),
            other => panic!("{other:?}"),
        }
        c.send_code("9996621234")
            .await
            .expect("the rule fired once");
    });
    // The code log over the admin socket, as the HTTP API's /codes has it.
    {
        use std::io::{Read, Write};
        let mut s = std::os::unix::net::UnixStream::connect(dir.join("admin.sock")).unwrap();
        s.write_all(b"codes -\n").unwrap();
        let mut text = String::new();
        s.read_to_string(&mut text).unwrap();
        assert!(text.contains(" 9996621234 login 22222"), "{text}");
    }
    let (ok, cleared) = cli(&dir, &["faults", "clear"]);
    assert!(
        ok && cleared.contains("cleared 0"),
        "used up already: {cleared}"
    );

    let (ok, created) = cli(&dir, &["sessions", "create", "--user", &user_id]);
    assert!(ok, "{created}");
    let hex = created
        .lines()
        .find_map(|l| l.strip_prefix("auth_key: "))
        .unwrap();
    let mut data = [0u8; 256];
    for (i, b) in data.iter_mut().enumerate() {
        *b = u8::from_str_radix(&hex[2 * i..2 * i + 2], 16).unwrap();
    }
    block_on(async {
        let t = Transport::connect(&ConnectOptions::new(dc2, Framing::Intermediate))
            .await
            .unwrap();
        let mut c = Client::with_key(t, AuthKey::from_bytes(data), 0);
        assert_eq!(c.get_me().await.unwrap().id.to_string(), user_id);
    });

    let (ok, reset) = cli(&dir, &["reset", "--user", &user_id]);
    assert!(ok && reset.contains("reset user"), "{reset}");
    let (_, users) = cli(&dir, &["users", "list"]);
    assert!(
        !users.contains("9996621234") && users.contains("(bot)"),
        "{users}"
    );
    let (ok, _) = cli(&dir, &["reset"]);
    assert!(ok);
    let (_, users) = cli(&dir, &["users", "list"]);
    assert_eq!(users.lines().count(), 1, "only the header: {users}");
    let _ = std::fs::remove_file(&seed);
}

#[test]
fn the_admin_api_stays_on_loopback_unless_told() {
    let out = Command::new(bin())
        .args([
            "serve",
            "--ephemeral",
            "--listen",
            "127.0.0.1:0",
            "--admin-http",
            "0.0.0.0:0",
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("--admin-http-public"));
}

#[test]
fn a_public_host_is_what_clients_are_told_and_health_answers() {
    let (_serve, line) = serve(&[
        "--ephemeral",
        "--listen",
        "127.0.0.1:0",
        "--public-host",
        "127.0.0.9",
        "--admin-http",
        "127.0.0.1:0",
    ]);
    assert_eq!(json_field(&line, "host"), Some("127.0.0.9"), "{line}");
    let admin = json_field(&line, "admin_http").unwrap().to_string();
    let out = Command::new(bin())
        .args(["health", "--admin-http", &admin])
        .output()
        .unwrap();
    assert!(out.status.success(), "{out:?}");
    assert!(
        String::from_utf8_lossy(&out.stdout).contains("\"dcs\":[{\"id\":1,\"host\":\"127.0.0.9\"")
    );
    let down = Command::new(bin())
        .args(["health", "--admin-http", "127.0.0.1:1"])
        .output()
        .unwrap();
    assert_eq!(down.status.code(), Some(1));
    let bad = Command::new(bin())
        .args([
            "serve",
            "--ephemeral",
            "--listen",
            "127.0.0.1:0",
            "--public-host",
            "dc.example",
        ])
        .output()
        .unwrap();
    assert_eq!(bad.status.code(), Some(2));
}
