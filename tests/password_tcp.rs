//! Two-step verification over TCP with the client library: setting a password, a code login
//! that then waits for it (across a restart too), a wrong and a right password, changing and
//! removing it.

mod common;

use common::{rpc_error, TestServer};
use mtproto_auth::client::login::SignedIn;
use mtproto_auth::client::{Client, ClientError, ConnectOptions};
use mtproto_auth::transport::Framing;

fn rt() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
}

const PHONE: &str = "9996627272";

/// sendCode + signIn with the test number's code.
async fn code_step(client: &mut Client) -> Result<SignedIn, ClientError> {
    let sent = client.send_code(PHONE).await.unwrap();
    client.sign_in(PHONE, &sent.phone_code_hash, "22222").await
}

#[test]
fn a_password_is_set_asked_for_after_the_code_changed_and_removed() {
    let mut server = TestServer::start(3);
    let runtime = rt();
    let opts = ConnectOptions::new(server.addr(2), Framing::Intermediate);
    let mut waiting = runtime.block_on(async {
        let mut first = server.client(2, Framing::Intermediate).await;
        assert_eq!(
            code_step(&mut first).await.unwrap(),
            SignedIn::SignUpRequired
        );
        let sent = first.send_code(PHONE).await.unwrap();
        first
            .sign_in(PHONE, &sent.phone_code_hash, "22222")
            .await
            .unwrap();
        first
            .sign_up(PHONE, &sent.phone_code_hash, "Two", "Step")
            .await
            .unwrap();
        assert!(!first.get_password().await.unwrap().has_password);
        first
            .set_password(None, Some("correct horse"), "horse")
            .await
            .unwrap();
        let p = first.get_password().await.unwrap();
        assert!(p.has_password);
        assert_eq!(p.hint.as_deref(), Some("horse"));

        // A new key: the right code is not enough.
        let mut second = server.client(2, Framing::Intermediate).await;
        let e = code_step(&mut second).await.unwrap_err();
        assert_eq!(rpc_error(e), (401, "SESSION_PASSWORD_NEEDED".into()));
        let e = second.get_me().await.unwrap_err();
        assert_eq!(rpc_error(e), (401, "SESSION_PASSWORD_NEEDED".into()));
        let e = second.check_password("wrong horse").await.unwrap_err();
        assert_eq!(rpc_error(e), (400, "PASSWORD_HASH_INVALID".into()));
        let me = second.check_password("correct horse").await.unwrap();
        assert_eq!(second.get_me().await.unwrap().id, me.id);

        // A third key waits for it when the server restarts.
        let mut third = server.client(2, Framing::Intermediate).await;
        let e = code_step(&mut third).await.unwrap_err();
        assert_eq!(rpc_error(e), (401, "SESSION_PASSWORD_NEEDED".into()));
        third
    });
    server.restart();
    runtime.block_on(async {
        waiting.reconnect(&opts).await.unwrap();
        let e = waiting.get_me().await.unwrap_err();
        assert_eq!(rpc_error(e), (401, "SESSION_PASSWORD_NEEDED".into()));
        waiting.check_password("correct horse").await.unwrap();
        // Change it from there, then remove it; the old one no longer works.
        let e = waiting
            .set_password(Some("wrong horse"), Some("battery staple"), "")
            .await
            .unwrap_err();
        assert_eq!(rpc_error(e), (400, "PASSWORD_HASH_INVALID".into()));
        waiting
            .set_password(Some("correct horse"), Some("battery staple"), "")
            .await
            .unwrap();
        let mut fourth = server.client(2, Framing::Intermediate).await;
        code_step(&mut fourth).await.unwrap_err();
        let e = fourth.check_password("correct horse").await.unwrap_err();
        assert_eq!(rpc_error(e), (400, "PASSWORD_HASH_INVALID".into()));
        fourth.check_password("battery staple").await.unwrap();
        fourth
            .set_password(Some("battery staple"), None, "")
            .await
            .unwrap();
        assert!(!fourth.get_password().await.unwrap().has_password);
        let mut fifth = server.client(2, Framing::Intermediate).await;
        assert!(matches!(
            code_step(&mut fifth).await.unwrap(),
            SignedIn::User(_)
        ));
    });
}

/// A recovery email over TCP: EMAIL_UNCONFIRMED_6, the code from the data dir's emails.txt (a
/// wrong one refused), then has_recovery.
#[test]
fn a_recovery_email_is_confirmed_with_the_mailed_code() {
    let server = TestServer::start(3);
    rt().block_on(async {
        let mut client = server.client(2, Framing::Intermediate).await;
        let phone = "9996627373";
        let sent = client.send_code(phone).await.unwrap();
        client
            .sign_in(phone, &sent.phone_code_hash, "22222")
            .await
            .unwrap();
        client
            .sign_up(phone, &sent.phone_code_hash, "Mail", "Box")
            .await
            .unwrap();
        client.set_password(None, Some("pw"), "").await.unwrap();
        let length = client
            .set_recovery_email("pw", "mail@example.com")
            .await
            .unwrap();
        assert_eq!(length, 6);
        let p = client.get_password().await.unwrap();
        assert_eq!(
            p.email_unconfirmed_pattern.as_deref(),
            Some("m***@example.com")
        );
        let mailbox = std::fs::read_to_string(server.data_dir.join("emails.txt")).unwrap();
        let line = mailbox.lines().last().unwrap();
        let fields: Vec<&str> = line.split(' ').collect();
        assert_eq!(
            &fields[1..3],
            ["mail@example.com", "recovery-email"],
            "{line}"
        );
        let code = fields[3];
        let wrong = if code == "000000" { "000001" } else { "000000" };
        let e = client.confirm_password_email(wrong).await.unwrap_err();
        assert_eq!(rpc_error(e), (400, "CODE_INVALID".into()));
        client.confirm_password_email(code).await.unwrap();
        assert!(client.get_password().await.unwrap().has_recovery);
    });
}
