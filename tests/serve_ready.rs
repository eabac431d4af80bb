//! `serve --listen 127.0.0.1:0` as a test harness starts it: every DC on a free port, one JSON
//! line on stdout once listening (the DCs' addresses, the public key and its fingerprints, the
//! data dir and admin socket), the same in `--ready-file`, logs on stderr without colour codes
//! when stderr is not a terminal; a client logs in with only what the line says. `--ephemeral`
//! keeps records in memory, has no flood limits, and leaves no data dir behind.

mod common;

use std::io::BufRead;
use std::process::{Command, Stdio};

use common::json_field;

#[test]
fn serve_on_free_ports_says_where_it_listens() {
    let dir = std::env::temp_dir().join(format!("mtproto-ready-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let ready_file = dir.with_extension("ready.json");
    let _ = std::fs::remove_file(&ready_file);
    let mut child = Command::new(env!("CARGO_BIN_EXE_mtproto-auth"))
        .args([
            "serve",
            "--listen",
            "127.0.0.1:0",
            "--dcs",
            "3",
            "--data-dir",
        ])
        .arg(&dir)
        .arg("--ready-file")
        .arg(&ready_file)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map(|c| Running(Some(c)))
        .unwrap();
    let line = ready_line(child.get());
    let line = line.trim().to_string();
    assert_eq!(json_field(&line, "ready"), Some("true"), "{line}");
    let ports: Vec<u16> = (1..=3)
        .map(|id| {
            let at = line
                .find(&format!("{{\"id\":{id},"))
                .unwrap_or_else(|| panic!("DC {id}: {line}"));
            json_field(&line[at..], "port").unwrap().parse().unwrap()
        })
        .collect();
    assert!(ports.iter().all(|p| *p != 0), "{ports:?}");
    assert!(
        ports[0] != ports[1] && ports[1] != ports[2] && ports[0] != ports[2],
        "{ports:?}"
    );
    // The PEM as JSON: newlines escaped; the key it names is the one in the data dir.
    let start = line.find("\"public_key_pem\":\"").unwrap() + "\"public_key_pem\":\"".len();
    let end = start + line[start..].find('"').unwrap();
    let pem = line[start..end].replace("\\n", "\n");
    assert_eq!(
        pem,
        std::fs::read_to_string(dir.join("rsa_public.pem")).unwrap()
    );
    let key = mtproto_auth::crypto::rsa::RsaPublicKey::from_pkcs1_pem(&pem).unwrap();
    assert_eq!(
        json_field(&line, "fingerprint").unwrap(),
        format!("{:016x}", key.fingerprint() as u64)
    );
    assert_eq!(
        json_field(&line, "signed_fingerprint").unwrap(),
        key.fingerprint().to_string()
    );
    assert_eq!(
        std::fs::read_to_string(&ready_file).unwrap().trim(),
        line,
        "the ready file holds the same line"
    );
    // A client needs nothing else.
    let addr: std::net::SocketAddr = format!("127.0.0.1:{}", ports[1]).parse().unwrap();
    let user = block_on(async {
        let mut c = connect(key, addr).await;
        let phone = "9996621212";
        let sent = c.send_code(phone).await.unwrap();
        c.sign_in(phone, &sent.phone_code_hash, "22222")
            .await
            .unwrap();
        c.sign_up(phone, &sent.phone_code_hash, "Free", "Port")
            .await
            .unwrap()
    });
    assert_eq!(user.first_name.as_deref(), Some("Free"));
    let _ = child.get().kill();
    let out = child.take().wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("listening on 127.0.0.1:"), "{stderr}");
    assert!(
        !stderr.contains('\u{1b}'),
        "no colour codes into a pipe: {stderr}"
    );
    let _ = std::fs::remove_dir_all(&dir);
    let _ = std::fs::remove_file(&ready_file);
}

/// A spawned `serve`, killed if the test ends (an assertion failing) before it stops it.
struct Running(Option<std::process::Child>);

impl Running {
    fn get(&mut self) -> &mut std::process::Child {
        self.0.as_mut().expect("still running")
    }

    fn take(&mut self) -> std::process::Child {
        self.0.take().expect("still running")
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        if let Some(mut c) = self.0.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

/// The first line a spawned `serve` prints (its stdout taken).
fn ready_line(child: &mut std::process::Child) -> String {
    let mut stdout = std::io::BufReader::new(child.stdout.take().unwrap());
    let mut line = String::new();
    stdout.read_line(&mut line).unwrap();
    line
}

fn block_on<F: std::future::Future>(f: F) -> F::Output {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
        .block_on(f)
}

/// A client with a new key on `addr`, trusting `key`.
async fn connect(
    key: mtproto_auth::crypto::rsa::RsaPublicKey,
    addr: std::net::SocketAddr,
) -> mtproto_auth::client::Client {
    use mtproto_auth::client::{Client, ConnectOptions};
    use mtproto_auth::handshake::client::{ClientConfig, InnerData, RsaScheme};
    let cfg = ClientConfig {
        scheme: RsaScheme::RsaPad,
        inner: InnerData::Plain,
        keys: vec![key],
    };
    let opts = ConnectOptions::new(addr, mtproto_auth::transport::Framing::Intermediate);
    Client::connect(&opts, &cfg).await.unwrap()
}

/// The `"key":"…"` string of a JSON line, unescaped (`\\n` only, which PEM needs).
fn json_text(line: &str, key: &str) -> String {
    let pat = format!("\"{key}\":\"");
    let start = line.find(&pat).unwrap() + pat.len();
    let end = start + line[start..].find('"').unwrap();
    line[start..end].replace("\\n", "\n")
}

#[test]
fn an_ephemeral_server_keeps_nothing_and_limits_nothing() {
    let mut child = Command::new(env!("CARGO_BIN_EXE_mtproto-auth"))
        .args([
            "serve",
            "--ephemeral",
            "--listen",
            "127.0.0.1:0",
            "--dcs",
            "2",
            "--log-format",
            "json",
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map(|c| Running(Some(c)))
        .unwrap();
    let line = ready_line(child.get());
    assert_eq!(json_field(&line, "ephemeral"), Some("true"), "{line}");
    let dir = std::path::PathBuf::from(json_text(&line, "data_dir"));
    assert!(dir.starts_with(std::env::temp_dir()), "{}", dir.display());
    assert!(!dir.join("store").exists(), "no store on disk");
    let key = mtproto_auth::crypto::rsa::RsaPublicKey::from_pkcs1_pem(&json_text(
        &line,
        "public_key_pem",
    ))
    .unwrap();
    let at = line.find("{\"id\":2,").unwrap();
    let port: u16 = json_field(&line[at..], "port").unwrap().parse().unwrap();
    block_on(async {
        let mut c = connect(key, format!("127.0.0.1:{port}").parse().unwrap()).await;
        // Thirty codes for one number in a row: far past every default flood limit.
        for _ in 0..30 {
            c.send_code("4915112340000").await.unwrap();
        }
    });
    // A graceful stop takes the temporary dir with it.
    let stopped = Command::new("kill")
        .args(["-TERM", &child.get().id().to_string()])
        .status()
        .unwrap();
    assert!(stopped.success());
    let out = child.take().wait_with_output().unwrap();
    assert!(out.status.success());
    assert!(!dir.exists(), "{} removed", dir.display());
    // --log-format json: one object per line, each with its time, level, target and message.
    let stderr = String::from_utf8_lossy(&out.stderr);
    let lines: Vec<&str> = stderr.lines().collect();
    assert!(lines.len() >= 3, "{stderr}");
    for l in &lines {
        assert!(l.starts_with("{\"ts\":") && l.ends_with('}'), "{l}");
        assert!(
            json_field(l, "level").is_some() && json_field(l, "target").is_some(),
            "{l}"
        );
    }
    assert!(
        lines.iter().any(|l| json_field(l, "level") == Some("INFO")
            && json_field(l, "message")
                .is_some_and(|m| m.starts_with("DC 2 listening on 127.0.0.1:"))),
        "{stderr}"
    );
}

#[test]
fn a_config_file_sets_the_options_and_flags_override_it() {
    let file = std::env::temp_dir().join(format!("mtproto-serve-{}.toml", std::process::id()));
    std::fs::write(
        &file,
        "# a test server\n[serve]\nephemeral = true\nlisten = \"127.0.0.1:0\"\ndcs = 3\ncodes_per_phone = 2 # back on\n",
    )
    .unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_mtproto-auth"))
        .args(["serve", "--config"])
        .arg(&file)
        .args(["--dcs", "1"])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .map(|c| Running(Some(c)))
        .unwrap();
    let line = ready_line(child.get());
    assert_eq!(json_field(&line, "ephemeral"), Some("true"), "{line}");
    assert!(
        line.contains("{\"id\":1,") && !line.contains("{\"id\":2,"),
        "--dcs 1 wins: {line}"
    );
    let port: u16 = json_field(&line, "port").unwrap().parse().unwrap();
    let key = mtproto_auth::crypto::rsa::RsaPublicKey::from_pkcs1_pem(&json_text(
        &line,
        "public_key_pem",
    ))
    .unwrap();
    let third = block_on(async {
        let mut c = connect(key, format!("127.0.0.1:{port}").parse().unwrap()).await;
        c.send_code("4915112340001").await.unwrap();
        c.send_code("4915112340001").await.unwrap();
        c.send_code("4915112340001").await.unwrap_err()
    });
    assert!(
        matches!(&third, mtproto_auth::client::ClientError::Rpc(e) if e.code == 420),
        "codes_per_phone = 2 from the file: {third:?}"
    );
    drop(child);
    std::fs::write(&file, "ephemeral = true\nno_such_option = 1\n").unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_mtproto-auth"))
        .args(["serve", "--config"])
        .arg(&file)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("--no-such-option"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let _ = std::fs::remove_file(&file);
}

#[test]
fn the_readme_config_example_names_only_real_options() {
    let readme = std::fs::read_to_string(common::root().join("README.md")).unwrap();
    let start = readme
        .find("# mtproto-auth serve --config serve.toml")
        .unwrap();
    let end = start + readme[start..].find("```").unwrap();
    let file = std::env::temp_dir().join(format!("mtproto-readme-{}.toml", std::process::id()));
    std::fs::write(&file, &readme[start..end]).unwrap();
    // Every key becomes a flag before `--help`: an unknown one fails with 2 instead.
    let out = Command::new(env!("CARGO_BIN_EXE_mtproto-auth"))
        .args(["serve", "--config"])
        .arg(&file)
        .arg("--help")
        .output()
        .unwrap();
    let _ = std::fs::remove_file(&file);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}
