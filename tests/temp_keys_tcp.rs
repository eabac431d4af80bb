//! Temporary keys (PFS) over TCP with the client library: an unbound temporary key refused
//! (AUTH_KEY_PERM_EMPTY), bound to a permanent key with auth.bindTempAuthKey (every refusal:
//! TEMP_AUTH_KEY_EMPTY, ENCRYPTED_MESSAGE_INVALID, EXPIRES_AT_INVALID,
//! TEMP_AUTH_KEY_ALREADY_BOUND), logging in for it, rebound to a second temporary key (the
//! first unbound), the permanent key's updates reaching the bound one, the logout killing it
//! (−404), and an expired temporary key answering −404.

mod common;

use common::{rpc_error, TestServer};
use mtproto_auth::client::login::SignedIn;
use mtproto_auth::client::{Client, ClientError, ConnectOptions};
use mtproto_auth::handshake::client::{ClientConfig, InnerData, RsaScheme};
use mtproto_auth::transport::Framing;

fn unix_now() -> i32 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i32
}

async fn temp_client(server: &TestServer, expires_in: i32) -> Client {
    let cfg = ClientConfig {
        scheme: RsaScheme::RsaPad,
        inner: InnerData::Temp { expires_in },
        keys: vec![server.public_key()],
    };
    let opts = ConnectOptions::new(server.addr(2), Framing::Intermediate);
    let mut c = Client::connect(&opts, &cfg).await.unwrap();
    // The first request settles the salt (a bind must not be re-sent under a new msg_id).
    c.invoke(&mtproto_auth::tl::functions::help::GetNearestDc {})
        .await
        .unwrap();
    c
}

fn rt() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
}

#[test]
fn a_temporary_key_is_bound_logs_in_is_rebound_and_dies_with_the_logout() {
    let server = TestServer::start(3);
    rt().block_on(async {
        let mut perm = server.client(2, Framing::Intermediate).await;
        let perm_key = perm.auth_key().clone();
        let mut first = temp_client(&server, 3600).await;
        let e = first.get_me().await.unwrap_err();
        assert_eq!(rpc_error(e), (401, "AUTH_KEY_PERM_EMPTY".into()));
        let until = unix_now() + 3600;
        // Refusals first.
        let e = perm.bind_temp_auth_key(&perm_key, until).await.unwrap_err();
        assert_eq!(rpc_error(e), (400, "TEMP_AUTH_KEY_EMPTY".into()));
        let stranger = mtproto_auth::crypto::AuthKey::from_bytes([7; 256]);
        let e = first
            .bind_temp_auth_key(&stranger, until)
            .await
            .unwrap_err();
        assert_eq!(rpc_error(e), (400, "ENCRYPTED_MESSAGE_INVALID".into()));
        let e = first
            .bind_temp_auth_key(&perm_key, unix_now() - 10)
            .await
            .unwrap_err();
        assert_eq!(rpc_error(e), (400, "EXPIRES_AT_INVALID".into()));
        let e = first
            .bind_temp_auth_key(&perm_key, until + 7200)
            .await
            .unwrap_err();
        assert_eq!(rpc_error(e), (400, "EXPIRES_AT_INVALID".into()));
        first.bind_temp_auth_key(&perm_key, until).await.unwrap();

        // Bound, it logs in for the permanent key: the login is the permanent key's.
        let phone = "9996621717";
        let sent = first.send_code(phone).await.unwrap();
        assert_eq!(
            first
                .sign_in(phone, &sent.phone_code_hash, "22222")
                .await
                .unwrap(),
            SignedIn::SignUpRequired
        );
        let me = first
            .sign_up(phone, &sent.phone_code_hash, "Temp", "Key")
            .await
            .unwrap();
        assert_eq!(perm.get_me().await.unwrap().id, me.id);

        // A second temporary key takes the binding over; the first is unbound again.
        let mut second = temp_client(&server, 3600).await;
        second.bind_temp_auth_key(&perm_key, until).await.unwrap();
        let e = first.get_me().await.unwrap_err();
        assert_eq!(rpc_error(e), (401, "AUTH_KEY_PERM_EMPTY".into()));
        assert_eq!(second.get_me().await.unwrap().id, me.id);
        let other_perm = server.client(2, Framing::Intermediate).await;
        let other_key = other_perm.auth_key().clone();
        let e = second
            .bind_temp_auth_key(&other_key, until)
            .await
            .unwrap_err();
        assert_eq!(rpc_error(e), (400, "TEMP_AUTH_KEY_ALREADY_BOUND".into()));

        // The permanent key's updates reach the bound temporary key: a code sent "to the app".
        let mut elsewhere = server.client(2, Framing::Intermediate).await;
        let code = elsewhere.send_code(phone).await.unwrap();
        assert!(code.in_app);
        let update = tokio::time::timeout(std::time::Duration::from_secs(10), second.next_update())
            .await
            .expect("the code in the bound temporary key's session")
            .unwrap();
        assert!(
            format!("{update:?}").contains("Login code: 22222"),
            "{update:?}"
        );

        // Logging out through it kills it.
        second.log_out().await.unwrap();
        match second.get_me().await.unwrap_err() {
            ClientError::Transport(-404) => {}
            other => panic!("{other:?}"),
        }
        let e = perm.get_me().await.unwrap_err();
        assert_eq!(rpc_error(e), (401, "AUTH_KEY_UNREGISTERED".into()));
    });
}

#[test]
fn an_expired_temporary_key_answers_404_and_drop_temp_auth_keys_drops_the_bound_one() {
    let server = TestServer::start(3);
    rt().block_on(async {
        let mut short = temp_client(&server, 2).await;
        tokio::time::sleep(std::time::Duration::from_millis(2500)).await;
        match short.get_me().await.unwrap_err() {
            ClientError::Transport(-404) => {}
            other => panic!("{other:?}"),
        }
        let mut perm = server.client(2, Framing::Intermediate).await;
        let perm_key = perm.auth_key().clone();
        let mut temp = temp_client(&server, 3600).await;
        temp.bind_temp_auth_key(&perm_key, unix_now() + 3600)
            .await
            .unwrap();
        let temp_id = temp.auth_key().id();
        perm.drop_temp_auth_keys(vec![temp_id]).await.unwrap();
        temp.invoke(&mtproto_auth::tl::functions::help::GetNearestDc {})
            .await
            .unwrap();
        perm.drop_temp_auth_keys(vec![]).await.unwrap();
        match temp
            .invoke(&mtproto_auth::tl::functions::help::GetNearestDc {})
            .await
            .unwrap_err()
        {
            ClientError::Transport(-404) => {}
            other => panic!("{other:?}"),
        }
    });
}

#[test]
fn a_bound_temporary_key_dies_when_another_session_ends_its_permanent_key() {
    let server = TestServer::start_with(3, |c| {
        let mut login = mtproto_auth::rpc::LoginConfig::new(std::sync::Arc::new(
            mtproto_auth::rpc::login::MemorySender::default(),
        ));
        login.fresh_reset_secs = 0;
        c.login = Some(login);
    });
    rt().block_on(async {
        let perm = server.client(2, Framing::Intermediate).await;
        let perm_key = perm.auth_key().clone();
        let mut temp = temp_client(&server, 3600).await;
        temp.bind_temp_auth_key(&perm_key, unix_now() + 3600)
            .await
            .unwrap();
        let phone = "9996621818";
        let sent = temp.send_code(phone).await.unwrap();
        temp.sign_in(phone, &sent.phone_code_hash, "22222")
            .await
            .unwrap();
        temp.sign_up(phone, &sent.phone_code_hash, "Re", "Voked")
            .await
            .unwrap();
        let mut other = server.client(2, Framing::Intermediate).await;
        let sent = other.send_code(phone).await.unwrap();
        other
            .sign_in(phone, &sent.phone_code_hash, "22222")
            .await
            .unwrap();
        other
            .invoke_unit(&mtproto_auth::tl::functions::auth::ResetAuthorizations {})
            .await
            .unwrap();
        match temp.get_me().await.unwrap_err() {
            ClientError::Transport(-404) => {}
            other => panic!("{other:?}"),
        }
    });
}
