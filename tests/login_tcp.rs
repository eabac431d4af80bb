//! Phone login over TCP with the client library: every flow of the login issue against a real
//! server on the sled store, across its three DCs, and across a restart.

mod common;

use common::{rpc_error, TestServer};
use mtproto_auth::client::login::{phone_migrate_dc, with_init, with_init_layer, SignedIn};
use mtproto_auth::client::{Client, ConnectOptions};
use mtproto_auth::handshake::client::{ClientConfig, InnerData, RsaScheme};
use mtproto_auth::tl::{enums, functions, types};
use mtproto_auth::transport::Framing;

fn rt() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
}

fn code_for(phone: &str) -> String {
    phone[5..6].repeat(5)
}

/// Signs up a new test number on `client` (on its DC); its user.
async fn sign_up(client: &mut Client, phone: &str) -> types::User {
    let sent = client.send_code(phone).await.unwrap();
    assert_eq!(sent.length, 5);
    let step = client
        .sign_in(phone, &sent.phone_code_hash, &code_for(phone))
        .await
        .unwrap();
    assert_eq!(step, SignedIn::SignUpRequired);
    client
        .sign_up(phone, &sent.phone_code_hash, "Tess", "Tcp")
        .await
        .unwrap()
}

async fn log_in(client: &mut Client, phone: &str) -> types::User {
    let sent = client.send_code(phone).await.unwrap();
    match client
        .sign_in(phone, &sent.phone_code_hash, &code_for(phone))
        .await
        .unwrap()
    {
        SignedIn::User(u) => *u,
        other => panic!("{other:?}"),
    }
}

#[test]
fn sign_up_get_me_log_out_and_log_back_in_on_every_transport() {
    let server = TestServer::start(3);
    rt().block_on(async {
        for (i, framing) in [
            Framing::Abridged,
            Framing::Intermediate,
            Framing::PaddedIntermediate,
            Framing::Full,
        ]
        .into_iter()
        .enumerate()
        {
            let phone = format!("999662{i:04}");
            let mut client = server.client(2, framing).await;
            let user = sign_up(&mut client, &phone).await;
            assert!(user.is_self);
            assert_eq!(user.phone.as_deref(), Some(phone.as_str()));
            assert_eq!(user.first_name.as_deref(), Some("Tess"));
            let me = client.get_me().await.unwrap();
            assert_eq!(me.id, user.id);
            client.log_out().await.unwrap();
            let (code, text) = rpc_error(client.get_me().await.unwrap_err());
            assert_eq!((code, text.as_str()), (401, "AUTH_KEY_UNREGISTERED"));
            let again = log_in(&mut client, &phone).await;
            assert_eq!(again.id, user.id);
        }
    });
}

#[test]
fn a_number_of_another_dc_is_sent_there_and_logs_in_there() {
    let server = TestServer::start(3);
    rt().block_on(async {
        let phone = "9996631234";
        let mut on_dc1 = server.client(1, Framing::Intermediate).await;
        let err = on_dc1.send_code(phone).await.unwrap_err();
        assert_eq!(phone_migrate_dc(&err), Some(3));
        let mut on_dc3 = server.client(3, Framing::Intermediate).await;
        let user = sign_up(&mut on_dc3, phone).await;
        // help.getConfig on DC3 names DC3.
        let enums::Config::Config(config) =
            on_dc3.invoke(&functions::help::GetConfig {}).await.unwrap();
        assert_eq!(config.this_dc, 3);
        assert_eq!(on_dc3.get_me().await.unwrap().id, user.id);
        // A DC outside the served ones: PHONE_NUMBER_INVALID.
        let (code, text) = rpc_error(on_dc1.send_code("9996651234").await.unwrap_err());
        assert_eq!((code, text.as_str()), (406, "PHONE_NUMBER_INVALID"));
    });
}

#[test]
fn codes_of_other_numbers_come_from_the_outbox_and_wrong_ones_are_refused() {
    let server = TestServer::start(3);
    rt().block_on(async {
        let phone = "15550001111";
        let mut client = server.client(2, Framing::Abridged).await;
        let sent = client.send_code("+1 555 000 1111").await.unwrap();
        let outbox = server.outbox();
        let (p, code) = outbox.last().unwrap();
        assert_eq!(p, phone);
        let wrong = if code == "00000" { "00001" } else { "00000" };
        let (c, text) = rpc_error(
            client
                .sign_in(phone, &sent.phone_code_hash, wrong)
                .await
                .unwrap_err(),
        );
        assert_eq!((c, text.as_str()), (400, "PHONE_CODE_INVALID"));
        let step = client
            .sign_in(phone, &sent.phone_code_hash, code)
            .await
            .unwrap();
        assert_eq!(step, SignedIn::SignUpRequired);
        let (c, text) = rpc_error(
            client
                .sign_up(phone, &sent.phone_code_hash, "", "")
                .await
                .unwrap_err(),
        );
        assert_eq!((c, text.as_str()), (400, "FIRSTNAME_INVALID"));
        client
            .sign_up(phone, &sent.phone_code_hash, "Olga", "")
            .await
            .unwrap();
        // resendCode and cancelCode on a new hash.
        let mut other = server.client(2, Framing::Abridged).await;
        let sent = other.send_code(phone).await.unwrap();
        // Logged in elsewhere: the code goes to the app as well.
        assert!(sent.in_app);
        let resent = other
            .invoke(&functions::auth::ResendCode {
                phone_number: phone.into(),
                phone_code_hash: sent.phone_code_hash.clone(),
                reason: None,
            })
            .await
            .unwrap();
        assert!(matches!(
            resent,
            enums::auth::SentCode::SentCode(types::auth::SentCode {
                r#type: enums::auth::SentCodeType::Sms(_),
                ..
            })
        ));
        assert!(other
            .invoke(&functions::auth::CancelCode {
                phone_number: phone.into(),
                phone_code_hash: sent.phone_code_hash.clone(),
            })
            .await
            .unwrap());
        let code = server.outbox().last().unwrap().1.clone();
        let (c, text) = rpc_error(
            other
                .sign_in(phone, &sent.phone_code_hash, &code)
                .await
                .unwrap_err(),
        );
        assert_eq!((c, text.as_str()), (400, "PHONE_CODE_EXPIRED"));
    });
}

#[test]
fn sessions_are_listed_and_ended_and_the_ended_key_is_told() {
    let server = TestServer::start_with(3, |c| {
        let mut login = mtproto_auth::rpc::LoginConfig::new(std::sync::Arc::new(
            mtproto_auth::rpc::login::MemorySender::default(),
        ));
        login.fresh_reset_secs = 0;
        c.login = Some(login);
    });
    rt().block_on(async {
        let phone = "9996627777";
        let mut first = server.client(2, Framing::Intermediate).await;
        let user = sign_up(&mut first, phone).await;
        let mut second = server.client(2, Framing::Abridged).await;
        let mut third = server.client(2, Framing::Full).await;
        assert_eq!(log_in(&mut second, phone).await.id, user.id);
        assert_eq!(log_in(&mut third, phone).await.id, user.id);
        let list = |a: enums::account::Authorizations| {
            let enums::account::Authorizations::Authorizations(a) = a;
            a.authorizations
                .into_iter()
                .map(|enums::Authorization::Authorization(a)| a)
                .collect::<Vec<_>>()
        };
        let seen = list(
            first
                .invoke(&functions::account::GetAuthorizations {})
                .await
                .unwrap(),
        );
        assert_eq!(seen.len(), 3);
        assert_eq!(seen.iter().filter(|a| a.current).count(), 1);
        assert!(seen.iter().all(|a| a.ip == "127.0.0.1"));
        // End one by hash: it answers SESSION_REVOKED from then on.
        let hash = seen.iter().find(|a| !a.current).unwrap().hash;
        assert!(first
            .invoke(&functions::account::ResetAuthorization { hash })
            .await
            .unwrap());
        let mut revoked = 0;
        for c in [&mut second, &mut third] {
            match c.invoke(&functions::updates::GetState {}).await {
                Ok(_) => {}
                Err(e) => {
                    assert_eq!(rpc_error(e), (401, "SESSION_REVOKED".to_string()));
                    revoked += 1;
                }
            }
        }
        assert_eq!(revoked, 1);
        let (c, text) = rpc_error(
            first
                .invoke(&functions::account::ResetAuthorization { hash })
                .await
                .unwrap_err(),
        );
        assert_eq!((c, text.as_str()), (400, "HASH_INVALID"));
        // End all others.
        assert!(first
            .invoke(&functions::auth::ResetAuthorizations {})
            .await
            .unwrap());
        for c in [&mut second, &mut third] {
            let (code, text) = rpc_error(c.get_me().await.unwrap_err());
            assert_eq!((code, text.as_str()), (401, "SESSION_REVOKED"));
        }
        // What a logged-in client asks right after login.
        let enums::updates::State::State(state) = first
            .invoke(&functions::updates::GetState {})
            .await
            .unwrap();
        let diff = first
            .invoke(&functions::updates::GetDifference {
                pts: state.pts,
                pts_limit: None,
                pts_total_limit: None,
                date: state.date,
                qts: state.qts,
                qts_limit: None,
            })
            .await
            .unwrap();
        assert!(matches!(diff, enums::updates::Difference::Empty(_)));
        let enums::users::UserFull::UserFull(full) = first
            .invoke(&functions::users::GetFullUser {
                id: types::InputUserSelf {}.into(),
            })
            .await
            .unwrap();
        assert_eq!(full.users.len(), 1);
    });
}

#[test]
fn fresh_sessions_may_not_end_others_by_default() {
    let server = TestServer::start(3);
    rt().block_on(async {
        let mut client = server.client(2, Framing::Intermediate).await;
        sign_up(&mut client, "9996628888").await;
        let (c, text) = rpc_error(
            client
                .invoke(&functions::auth::ResetAuthorizations {})
                .await
                .unwrap_err(),
        );
        assert_eq!(
            (c, text.as_str()),
            (406, "FRESH_RESET_AUTHORISATION_FORBIDDEN")
        );
    });
}

#[test]
fn logins_and_pending_codes_survive_a_restart() {
    let mut server = TestServer::start(3);
    let runtime = rt();
    let phone = "9996621999";
    let (mut client, mut other, user, pending) = runtime.block_on(async {
        let mut client = server.client(2, Framing::Intermediate).await;
        let user = sign_up(&mut client, phone).await;
        let mut other = server.client(2, Framing::Intermediate).await;
        let pending = other.send_code(phone).await.unwrap();
        (client, other, user, pending)
    });
    server.restart();
    runtime.block_on(async {
        let opts = ConnectOptions::new(server.addr(2), Framing::Intermediate);
        // The login is still there.
        client.reconnect(&opts).await.unwrap();
        assert_eq!(client.get_me().await.unwrap().id, user.id);
        // The second key's pending code is still good.
        other.reconnect(&opts).await.unwrap();
        let step = other
            .sign_in(phone, &pending.phone_code_hash, &code_for(phone))
            .await
            .unwrap();
        let SignedIn::User(u) = step else {
            panic!("{step:?}")
        };
        assert_eq!(u.id, user.id);
    });
}

#[test]
fn other_sessions_get_the_code_and_hear_of_the_new_login() {
    let server = TestServer::start(3);
    rt().block_on(async {
        let phone = "9996624444";
        let mut first = server.client(2, Framing::Intermediate).await;
        // Its layer is known: updateNewAuthorization may be sent to it.
        first
            .invoke(&with_init(functions::help::GetConfig {}, "first"))
            .await
            .unwrap();
        let user = sign_up(&mut first, phone).await;
        let mut second = server.client(2, Framing::Abridged).await;
        let sent = second.send_code(phone).await.unwrap();
        assert!(sent.in_app);
        let update = tokio::time::timeout(std::time::Duration::from_secs(10), first.next_update())
            .await
            .expect("the code reaches the other session")
            .unwrap();
        let enums::Updates::UpdateShort(short) = update else {
            panic!("{update:?}")
        };
        let enums::Update::ServiceNotification(n) = &short.update else {
            panic!("{short:?}")
        };
        assert!(n.message.contains("22222"), "{}", n.message);
        let step = second
            .sign_in(phone, &sent.phone_code_hash, "22222")
            .await
            .unwrap();
        assert!(matches!(step, SignedIn::User(u) if u.id == user.id));
        let update = tokio::time::timeout(std::time::Duration::from_secs(10), first.next_update())
            .await
            .expect("the new login is announced")
            .unwrap();
        let enums::Updates::UpdateShort(short) = update else {
            panic!("{update:?}")
        };
        assert!(
            matches!(&short.update, enums::Update::NewAuthorization(a) if a.hash != 0),
            "{short:?}"
        );
        // The first session still works, and the update was acknowledged.
        assert_eq!(first.get_me().await.unwrap().id, user.id);
    });
}

#[test]
fn flood_counters_survive_a_restart() {
    let mut server = TestServer::start_with(3, |c| {
        let mut login = mtproto_auth::rpc::LoginConfig::new(std::sync::Arc::new(
            mtproto_auth::rpc::login::MemorySender::default(),
        ));
        login.codes_per_test_phone = mtproto_auth::rpc::login::RateLimit {
            limit: 2,
            window: 3600,
        };
        c.login = Some(login);
    });
    let runtime = rt();
    let phone = "9996625151";
    runtime.block_on(async {
        let mut client = server.client(2, Framing::Intermediate).await;
        client.send_code(phone).await.unwrap();
        client.send_code(phone).await.unwrap();
    });
    server.restart();
    runtime.block_on(async {
        let mut client = server.client(2, Framing::Intermediate).await;
        let (code, text) = rpc_error(client.send_code(phone).await.unwrap_err());
        assert_eq!(code, 420);
        assert!(text.starts_with("FLOOD_TEST_PHONE_WAIT_"), "{text}");
        let wait: i64 = text["FLOOD_TEST_PHONE_WAIT_".len()..].parse().unwrap();
        assert!((3590..=3600).contains(&wait), "{wait}");
    });
}

#[test]
fn a_temporary_key_cannot_log_in() {
    let server = TestServer::start(3);
    rt().block_on(async {
        let opts = ConnectOptions::new(server.addr(2), Framing::Intermediate);
        let cfg = ClientConfig {
            scheme: RsaScheme::RsaPad,
            inner: InnerData::Temp { expires_in: 3600 },
            keys: vec![server.public_key()],
        };
        let mut client = Client::connect(&opts, &cfg).await.unwrap();
        let enums::Config::Config(config) =
            client.invoke(&functions::help::GetConfig {}).await.unwrap();
        assert_eq!(config.this_dc, 2);
        let (code, text) = rpc_error(client.send_code("9996621111").await.unwrap_err());
        assert_eq!((code, text.as_str()), (401, "AUTH_KEY_PERM_EMPTY"));
    });
}

/// Security review item 3 over TCP: five wrong codes a day per number, whichever keys try
/// them, then PHONE_PASSWORD_FLOOD for the right code and for a new one, across a restart.
#[test]
fn wrong_codes_are_budgeted_per_number_across_keys_and_restarts() {
    let mut server = TestServer::start(3);
    let runtime = rt();
    let phone = "4915112340000";
    runtime.block_on(async {
        let mut first = server.client(2, Framing::Intermediate).await;
        let sent = first.send_code(phone).await.unwrap();
        let right = server.outbox().last().unwrap().1.clone();
        let wrong = if right == "00000" { "00001" } else { "00000" };
        for _ in 0..3 {
            let e = first.sign_in(phone, &sent.phone_code_hash, wrong).await;
            assert_eq!(
                rpc_error(e.unwrap_err()),
                (400, "PHONE_CODE_INVALID".into())
            );
        }
        let mut second = server.client(2, Framing::Abridged).await;
        let other = second.send_code(phone).await.unwrap();
        for _ in 0..2 {
            let e = second.sign_in(phone, &other.phone_code_hash, wrong).await;
            assert_eq!(
                rpc_error(e.unwrap_err()),
                (400, "PHONE_CODE_INVALID".into())
            );
        }
        let right = server.outbox().last().unwrap().1.clone();
        let e = second.sign_in(phone, &other.phone_code_hash, &right).await;
        assert_eq!(
            rpc_error(e.unwrap_err()),
            (406, "PHONE_PASSWORD_FLOOD".into())
        );
    });
    let sent_before = server.outbox().len();
    server.restart();
    runtime.block_on(async {
        let mut third = server.client(2, Framing::Intermediate).await;
        let e = third.send_code(phone).await;
        assert_eq!(
            rpc_error(e.unwrap_err()),
            (406, "PHONE_PASSWORD_FLOOD".into())
        );
    });
    assert_eq!(server.outbox().len(), sent_before, "no code was sent");
}

/// Security review item 2: what initConnection says stays in memory until the key logs in
/// (never on disk for a temporary key or one that never logs in), then lives with the login
/// and so outlives a restart.
#[test]
fn client_info_is_kept_only_with_a_login() {
    use mtproto_auth::store::accounts::Accounts;
    let mut server = TestServer::start(3);
    let runtime = rt();
    let opts = ConnectOptions::new(server.addr(2), Framing::Intermediate);
    let (mut client, idle) = runtime.block_on(async {
        let cfg = ClientConfig {
            scheme: RsaScheme::RsaPad,
            inner: InnerData::Temp { expires_in: 3600 },
            keys: vec![server.public_key()],
        };
        let mut temp = Client::connect(&opts, &cfg).await.unwrap();
        temp.invoke(&with_init(functions::help::GetConfig {}, "temp-device"))
            .await
            .unwrap();
        let mut client = server.client(2, Framing::Intermediate).await;
        client.set_layer(200);
        client
            .invoke(&with_init_layer(
                functions::help::GetConfig {},
                "perm-device",
                200,
            ))
            .await
            .unwrap();
        let key_id = client.auth_key().id();
        assert_eq!(server.state.declared_layer(key_id), 200);
        // A permanent key that never logs in.
        let mut idle = server.client(2, Framing::Intermediate).await;
        idle.set_layer(200);
        idle.invoke(&with_init_layer(
            functions::help::GetConfig {},
            "idle-device",
            200,
        ))
        .await
        .unwrap();
        assert_eq!(server.state.declared_layer(temp.auth_key().id()), 230);
        let on_disk = server.state.store.scan(b"", usize::MAX).unwrap();
        assert!(
            !on_disk
                .iter()
                .any(|(_, v)| v.windows(7).any(|w| w == b"-device")),
            "no key's client info is stored before it logs in: {on_disk:02x?}"
        );
        sign_up(&mut client, "9996623737").await;
        let login = Accounts::new(&*server.state.store)
            .authorization(key_id)
            .unwrap()
            .unwrap()
            .value;
        assert_eq!(
            (login.device_model.as_str(), login.layer),
            ("perm-device", 200)
        );
        (client, idle.auth_key().id())
    });
    server.restart();
    runtime.block_on(async {
        client.reconnect(&opts).await.unwrap();
        // No wrappers after the restart: the layer is the login's.
        assert_eq!(
            client.get_me().await.unwrap().phone.as_deref(),
            Some("9996623737")
        );
        assert_eq!(server.state.declared_layer(client.auth_key().id()), 200);
        // The key that never logged in left nothing: its layer is gone with the restart.
        assert_eq!(server.state.declared_layer(idle), 0);
    });
}

#[test]
fn the_data_dir_and_what_the_server_writes_in_it_are_private() {
    use std::os::unix::fs::PermissionsExt;
    let mode = |p: &std::path::Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
    let server = TestServer::start(3);
    rt().block_on(async {
        let mut client = server.client(2, Framing::Intermediate).await;
        // Not a test number: a random code, delivered to the outbox.
        client.send_code("4915112345678").await.unwrap();
    });
    let dir = &server.data_dir;
    assert_eq!(mode(dir), 0o700);
    assert_eq!(server.outbox().len(), 1);
    assert_eq!(mode(&dir.join("outbox.txt")), 0o600);
    assert_eq!(mode(&dir.join("rsa_private.pem")), 0o600);
    // The key the stored code digests are made with, outside the store.
    assert_eq!(std::fs::metadata(dir.join("code.key")).unwrap().len(), 32);
    assert_eq!(mode(&dir.join("code.key")), 0o600);
    assert_eq!(mode(&dir.join("store")), 0o700);
    for entry in std::fs::read_dir(dir.join("store")).unwrap() {
        let entry = entry.unwrap();
        if entry.file_type().unwrap().is_file() {
            assert_eq!(mode(&entry.path()), 0o600, "{}", entry.path().display());
        }
    }
}
