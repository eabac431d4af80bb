//! QR login over TCP with the client library: a token exported by a new key, shown as a
//! `tg://login` link, accepted by a logged-in session (the exporter gets updateLoginToken), then
//! the exporter's next export logs it in; a user of another DC sends the exporter there to
//! import; an account with a password waits for it.

mod common;

use common::{rpc_error, TestServer};
use mtproto_auth::client::login::SignedIn;
use mtproto_auth::client::qr::{login_url, token_of_url, QrLogin};
use mtproto_auth::client::Client;
use mtproto_auth::transport::Framing;

fn rt() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
}

async fn sign_up(client: &mut Client, phone: &str) -> i64 {
    let sent = client.send_code(phone).await.unwrap();
    let code = phone[5..6].repeat(5);
    assert_eq!(
        client
            .sign_in(phone, &sent.phone_code_hash, &code)
            .await
            .unwrap(),
        SignedIn::SignUpRequired
    );
    client
        .sign_up(phone, &sent.phone_code_hash, "Q", "R")
        .await
        .unwrap()
        .id
}

/// `exporter` shows a token, `acceptor` accepts it (by its link), and `exporter` hears of it.
async fn accepted(exporter: &mut Client, acceptor: &mut Client) {
    let QrLogin::Token { token, expires } = exporter.export_login_token(vec![]).await.unwrap()
    else {
        panic!()
    };
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i32;
    assert!((expires - now - 30).abs() <= 2, "{expires} {now}");
    let url = login_url(&token);
    assert!(url.starts_with("tg://login?token=") && !url.ends_with('='));
    let scanned = token_of_url(&url).unwrap();
    assert_eq!(scanned, token);
    let session = acceptor.accept_login_token(&scanned).await.unwrap();
    assert_ne!(session.hash, 0);
    tokio::time::timeout(
        std::time::Duration::from_secs(10),
        exporter.wait_login_token(),
    )
    .await
    .expect("updateLoginToken within 10 s")
    .unwrap();
}

#[test]
fn a_qr_login_on_the_same_dc() {
    let server = TestServer::start(3);
    rt().block_on(async {
        let mut phone_app = server.client(2, Framing::Intermediate).await;
        let user = sign_up(&mut phone_app, "9996628181").await;
        let mut desktop = server.client(2, Framing::Abridged).await;
        accepted(&mut desktop, &mut phone_app).await;
        let QrLogin::LoggedIn(me) = desktop.export_login_token(vec![]).await.unwrap() else {
            panic!()
        };
        assert_eq!(me.id, user);
        assert_eq!(desktop.get_me().await.unwrap().id, user);
    });
}

#[test]
fn a_qr_login_accepted_by_a_user_of_another_dc_is_imported_there() {
    let server = TestServer::start(3);
    rt().block_on(async {
        let mut phone_app = server.client(3, Framing::Intermediate).await;
        let user = sign_up(&mut phone_app, "9996638181").await;
        let mut desktop = server.client(2, Framing::Intermediate).await;
        accepted(&mut desktop, &mut phone_app).await;
        let QrLogin::MigrateTo { dc_id, token } = desktop.export_login_token(vec![]).await.unwrap()
        else {
            panic!()
        };
        assert_eq!(dc_id, 3);
        let mut on_dc3 = server.client(3, Framing::Intermediate).await;
        let QrLogin::LoggedIn(me) = on_dc3.import_login_token(&token).await.unwrap() else {
            panic!()
        };
        assert_eq!(me.id, user);
        assert_eq!(on_dc3.get_me().await.unwrap().id, user);
        let e = on_dc3.import_login_token(&token).await.unwrap_err();
        assert_eq!(rpc_error(e), (400, "AUTH_TOKEN_ALREADY_ACCEPTED".into()));
    });
}

#[test]
fn a_qr_login_on_an_account_with_a_password_asks_for_it() {
    let server = TestServer::start(3);
    rt().block_on(async {
        let mut phone_app = server.client(2, Framing::Intermediate).await;
        let user = sign_up(&mut phone_app, "9996628282").await;
        phone_app
            .set_password(None, Some("qr pw"), "")
            .await
            .unwrap();
        let mut desktop = server.client(2, Framing::Intermediate).await;
        accepted(&mut desktop, &mut phone_app).await;
        let e = desktop.export_login_token(vec![]).await.unwrap_err();
        assert_eq!(rpc_error(e), (401, "SESSION_PASSWORD_NEEDED".into()));
        assert_eq!(desktop.check_password("qr pw").await.unwrap().id, user);
    });
}
