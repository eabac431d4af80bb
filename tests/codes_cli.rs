//! `mtproto-auth codes` as a test reads codes: `--next --phone P` started before the code is
//! sent prints exactly that code (and sign-in takes it), the listing shows it, `--next` with
//! nothing arriving gives up after `--timeout`.

mod common;

use std::process::{Command, Stdio};

use common::TestServer;
use mtproto_auth::client::login::SignedIn;
use mtproto_auth::transport::Framing;

fn codes(server: &TestServer, args: &[&str]) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_mtproto-auth"));
    c.arg("codes")
        .args(args)
        .arg("--data-dir")
        .arg(&server.data_dir);
    c
}

#[test]
fn the_next_code_of_a_number_is_read_by_the_test() {
    let server = TestServer::start(3);
    let phone = "4915112340002";
    let waiting = codes(&server, &["--next", "--phone", phone, "--timeout", "30"])
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    // Let it take its first look, so the code below is new to it.
    std::thread::sleep(std::time::Duration::from_millis(300));
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let mut client = rt.block_on(server.client(2, Framing::Intermediate));
    let sent = rt.block_on(client.send_code(phone)).unwrap();
    let out = waiting.wait_with_output().unwrap();
    assert!(out.status.success());
    let code = String::from_utf8(out.stdout).unwrap().trim().to_string();
    assert_eq!(code.len(), 5, "{code:?}");
    assert_eq!(
        rt.block_on(client.sign_in(phone, &sent.phone_code_hash, &code))
            .unwrap(),
        SignedIn::SignUpRequired
    );
    let listed = codes(&server, &["--phone", &format!("+{phone}")])
        .output()
        .unwrap();
    let listed = String::from_utf8(listed.stdout).unwrap();
    assert!(
        listed
            .trim_end()
            .ends_with(&format!("{phone} login {code}")),
        "{listed}"
    );
    let nothing = codes(&server, &["--next", "--timeout", "1"])
        .output()
        .unwrap();
    assert_eq!(nothing.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&nothing.stderr).contains("no new code arrived in time"));
}
