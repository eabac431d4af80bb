//! A forgotten password over TCP with the client library: recovery by the recovery email's
//! code from a key that waits for the password, a reset after a short waiting period (and a
//! declined one), temporary passwords, and logging in again with a future auth token.

mod common;

use std::sync::Arc;

use common::{rpc_error, TestServer};
use mtproto_auth::client::login::{CodeOrLogin, SignedIn};
use mtproto_auth::client::Client;
use mtproto_auth::rpc::login::MemorySender;
use mtproto_auth::tl::enums::account::ResetPasswordResult;
use mtproto_auth::transport::Framing;

fn rt() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
}

/// A server whose codes and emails land in the returned sender; resets wait `reset_wait` s.
fn server(reset_wait: i64) -> (TestServer, Arc<MemorySender>) {
    let sender = Arc::new(MemorySender::default());
    let held = sender.clone();
    let server = TestServer::start_with(3, move |c| {
        let mut login = mtproto_auth::rpc::LoginConfig::new(held);
        login.password_reset_wait = reset_wait;
        c.login = Some(login);
    });
    (server, sender)
}

async fn sign_up(client: &mut Client, phone: &str) {
    let sent = client.send_code(phone).await.unwrap();
    assert_eq!(
        client
            .sign_in(phone, &sent.phone_code_hash, "22222")
            .await
            .unwrap(),
        SignedIn::SignUpRequired
    );
    client
        .sign_up(phone, &sent.phone_code_hash, "Forgot", "Ful")
        .await
        .unwrap();
}

fn unix_now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64
}

#[test]
fn a_forgotten_password_is_recovered_by_email_on_the_key_waiting_for_it() {
    let (server, sender) = server(604_800);
    rt().block_on(async {
        let phone = "9996627474";
        let email = "forgot@example.com";
        let mut first = server.client(2, Framing::Intermediate).await;
        sign_up(&mut first, phone).await;
        first.set_password(None, Some("lost"), "").await.unwrap();
        first.set_recovery_email("lost", email).await.unwrap();
        let code = sender.last_email_code(email).unwrap();
        first.confirm_password_email(&code).await.unwrap();

        let mut second = server.client(2, Framing::Abridged).await;
        let sent = second.send_code(phone).await.unwrap();
        let e = second
            .sign_in(phone, &sent.phone_code_hash, "22222")
            .await
            .unwrap_err();
        assert_eq!(rpc_error(e), (401, "SESSION_PASSWORD_NEEDED".into()));
        assert_eq!(
            second.request_password_recovery().await.unwrap(),
            "f*****@example.com"
        );
        let code = sender.last_email_code(email).unwrap();
        let wrong = if code == "000000" { "000001" } else { "000000" };
        let e = second.check_recovery_code(wrong).await.unwrap_err();
        assert_eq!(rpc_error(e), (400, "CODE_INVALID".into()));
        assert!(second.check_recovery_code(&code).await.unwrap());
        let me = second.recover_password(&code, Some("found")).await.unwrap();
        assert_eq!(second.get_me().await.unwrap().id, me.id);

        // The new password is the one asked for now.
        let mut third = server.client(2, Framing::Intermediate).await;
        let sent = third.send_code(phone).await.unwrap();
        third
            .sign_in(phone, &sent.phone_code_hash, "22222")
            .await
            .unwrap_err();
        let e = third.check_password("lost").await.unwrap_err();
        assert_eq!(rpc_error(e), (400, "PASSWORD_HASH_INVALID".into()));
        third.check_password("found").await.unwrap();
        let tmp = third.tmp_password("found", 120).await.unwrap();
        assert_eq!(tmp.tmp_password.len(), 32);
        assert!((i64::from(tmp.valid_until) - (unix_now() + 120)).abs() <= 2);
    });
}

#[test]
fn a_password_without_recovery_is_reset_after_the_waiting_period() {
    let (server, _sender) = server(2);
    rt().block_on(async {
        let phone = "9996627575";
        let mut client = server.client(2, Framing::Intermediate).await;
        sign_up(&mut client, phone).await;
        client.set_password(None, Some("gone"), "").await.unwrap();
        let e = client.request_password_recovery().await.unwrap_err();
        assert_eq!(rpc_error(e), (400, "PASSWORD_RECOVERY_NA".into()));
        let ResetPasswordResult::ResetPasswordRequestedWait(w) =
            client.reset_password().await.unwrap()
        else {
            panic!()
        };
        assert_eq!(
            client.get_password().await.unwrap().pending_reset_date,
            Some(w.until_date)
        );
        client.decline_password_reset().await.unwrap();
        let ResetPasswordResult::ResetPasswordFailedWait(f) =
            client.reset_password().await.unwrap()
        else {
            panic!()
        };
        // Wait out the block on a new reset, then the reset's own period.
        let until = |t: i32| {
            let left = i64::from(t) - unix_now();
            std::time::Duration::from_millis((left.max(0) as u64) * 1000 + 1100)
        };
        tokio::time::sleep(until(f.retry_date)).await;
        let ResetPasswordResult::ResetPasswordRequestedWait(w) =
            client.reset_password().await.unwrap()
        else {
            panic!()
        };
        assert!(client.get_password().await.unwrap().has_password);
        tokio::time::sleep(until(w.until_date)).await;
        assert!(matches!(
            client.reset_password().await.unwrap(),
            ResetPasswordResult::ResetPasswordOk(_)
        ));
        assert!(!client.get_password().await.unwrap().has_password);
    });
}

#[test]
fn a_future_auth_token_logs_in_again_without_a_code_and_only_once() {
    let (server, sender) = server(604_800);
    rt().block_on(async {
        let phone = "9996627676";
        let mut client = server.client(2, Framing::Intermediate).await;
        sign_up(&mut client, phone).await;
        let token = client.log_out_for_token().await.unwrap().unwrap();
        let codes_before = sender.last_code(phone);
        let again = client
            .send_code_with_tokens(phone, vec![token.clone()])
            .await
            .unwrap();
        let CodeOrLogin::LoggedIn(user) = again else {
            panic!("{again:?}")
        };
        assert_eq!(client.get_me().await.unwrap().id, user.id);
        assert_eq!(sender.last_code(phone), codes_before, "no code went out");
        // Used up: another key naming it gets a code.
        let mut other = server.client(2, Framing::Intermediate).await;
        assert!(matches!(
            other
                .send_code_with_tokens(phone, vec![token])
                .await
                .unwrap(),
            CodeOrLogin::Code(_)
        ));
    });
}
