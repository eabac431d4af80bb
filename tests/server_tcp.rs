//! The server over TCP with our client library: every transport, both RSA schemes and every
//! inner-data variant, and the session rules with their exact answers.

mod common;

use std::time::Duration;

use common::TestServer;
use mtproto_auth::client::{create_auth_key, Client, ClientError, ConnectOptions, Transport};
use mtproto_auth::handshake::client::{ClientConfig, InnerData, RsaScheme};
use mtproto_auth::tl::{enums, functions, types, Deserializable, Serializable};
use mtproto_auth::transport::Framing;

fn rt() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
}

fn cfg(server: &TestServer, scheme: RsaScheme, inner: InnerData) -> ClientConfig {
    ClientConfig {
        scheme,
        inner,
        keys: vec![server.public_key()],
    }
}

fn get_config() -> functions::InvokeWithLayer<functions::InitConnection<functions::help::GetConfig>>
{
    functions::InvokeWithLayer {
        layer: mtproto_auth::tl::LAYER,
        query: functions::InitConnection {
            api_id: 1,
            device_model: "test".into(),
            system_version: "linux".into(),
            app_version: "1".into(),
            system_lang_code: "en".into(),
            lang_pack: "".into(),
            lang_code: "en".into(),
            proxy: None,
            params: None,
            query: functions::help::GetConfig {},
        },
    }
}

#[test]
fn every_transport_creates_a_key_and_gets_config() {
    let server = TestServer::start(2);
    let transports = [
        (Framing::Abridged, false),
        (Framing::Intermediate, false),
        (Framing::PaddedIntermediate, false),
        (Framing::Full, false),
        (Framing::Abridged, true),
        (Framing::Intermediate, true),
        (Framing::PaddedIntermediate, true),
    ];
    rt().block_on(async {
        for (framing, obfuscated) in transports {
            let mut opts = ConnectOptions::new(server.addr(1), framing);
            opts.obfuscated = obfuscated;
            let mut client =
                Client::connect(&opts, &cfg(&server, RsaScheme::RsaPad, InnerData::Plain))
                    .await
                    .unwrap_or_else(|e| panic!("{framing:?} obfuscated={obfuscated}: {e}"));
            let enums::Config::Config(config) = client.invoke(&get_config()).await.unwrap();
            assert_eq!(config.this_dc, 1);
            client.ping(7).await.unwrap();
        }
    });
}

#[test]
fn both_schemes_and_every_inner_variant_over_tcp() {
    let server = TestServer::start(2);
    rt().block_on(async {
        for scheme in [RsaScheme::RsaPad, RsaScheme::Legacy] {
            for inner in [
                InnerData::Plain,
                InnerData::Dc(10002),
                InnerData::Temp { expires_in: 600 },
                InnerData::TempDc {
                    dc: -10002,
                    expires_in: 600,
                },
            ] {
                let opts = ConnectOptions::new(server.addr(2), Framing::Full);
                let mut client = Client::connect(&opts, &cfg(&server, scheme, inner))
                    .await
                    .unwrap();
                let enums::NearestDc::NearestDc(n) = client
                    .invoke(&functions::help::GetNearestDc {})
                    .await
                    .unwrap();
                assert_eq!(n.this_dc, 2, "{scheme:?} {inner:?}");
            }
        }
        // A DC label for another DC: −444 (HS-9).
        let opts = ConnectOptions::new(server.addr(2), Framing::Intermediate);
        let err = Client::connect(
            &opts,
            &cfg(&server, RsaScheme::RsaPad, InnerData::Dc(10001)),
        )
        .await
        .err()
        .unwrap();
        assert!(matches!(err, ClientError::Transport(-444)), "{err}");
    });
}

#[test]
fn unauthorized_and_unserved_methods_get_their_errors() {
    let server = TestServer::start(1);
    rt().block_on(async {
        let opts = ConnectOptions::new(server.addr(1), Framing::Abridged);
        let mut client = Client::connect(&opts, &cfg(&server, RsaScheme::Legacy, InnerData::Plain))
            .await
            .unwrap();
        let get_users = functions::users::GetUsers {
            id: vec![types::InputUserSelf {}.into()],
        };
        let err = client.invoke(&get_users).await.err().unwrap();
        assert!(
            matches!(&err, ClientError::Rpc(e) if e.code == 401 && e.message == "AUTH_KEY_UNREGISTERED"),
            "{err}"
        );
        let app_config = functions::help::GetAppConfig { hash: 0 };
        let err = client.invoke(&app_config).await.err().unwrap();
        assert!(
            matches!(&err, ClientError::Rpc(e) if e.code == 400 && e.message == "INPUT_METHOD_INVALID"),
            "{err}"
        );
        // An unknown constructor: the error carries its id.
        let err = client.invoke_raw(&0x1234_5678u32.to_le_bytes()).await.err().unwrap();
        assert!(
            matches!(&err, ClientError::Rpc(e) if e.message == format!("INPUT_METHOD_INVALID_{}", 0x1234_5678u32)),
            "{err}"
        );
        // A known method whose arguments do not decode.
        let mut truncated = get_users.to_bytes();
        truncated.truncate(8);
        let err = client.invoke_raw(&truncated).await.err().unwrap();
        assert!(
            matches!(&err, ClientError::Rpc(e) if e.message == "INPUT_FETCH_FAIL"),
            "{err}"
        );
    });
}

#[test]
fn salt_zero_gets_bad_server_salt_then_the_session_starts() {
    let server = TestServer::start(1);
    rt().block_on(async {
        let opts = ConnectOptions::new(server.addr(1), Framing::Intermediate);
        let mut client = Client::connect(&opts, &cfg(&server, RsaScheme::RsaPad, InnerData::Plain))
            .await
            .unwrap();
        client.set_salt(0);
        let msg_id = client
            .send_body(&functions::Ping { ping_id: 1 }.to_bytes())
            .await
            .unwrap();
        let msgs = client.recv_messages().await.unwrap();
        assert_eq!(
            msgs.len(),
            1,
            "only bad_server_salt, no new_session_created yet (SS-8)"
        );
        let bad = types::BadServerSalt::from_bytes(&msgs[0].2).unwrap();
        assert_eq!((bad.bad_msg_id, bad.error_code), (msg_id, 48));
        client.set_salt(bad.new_server_salt);
        let msg_id = client
            .send_body(&functions::Ping { ping_id: 2 }.to_bytes())
            .await
            .unwrap();
        let msgs = client.recv_messages().await.unwrap();
        let created = types::NewSessionCreated::from_bytes(&msgs[0].2).unwrap();
        assert_eq!(created.first_msg_id, msg_id);
        assert_eq!(msgs[0].1 & 1, 1, "new_session_created is content-related");
        let pong = types::Pong::from_bytes(&msgs[1].2).unwrap();
        assert_eq!((pong.msg_id, pong.ping_id), (msg_id, 2));
    });
}

#[test]
fn msg_id_and_seqno_violations_get_bad_msg_notification() {
    let server = TestServer::start(1);
    rt().block_on(async {
        let opts = ConnectOptions::new(server.addr(1), Framing::Full);
        let mut client = Client::connect(&opts, &cfg(&server, RsaScheme::RsaPad, InnerData::Plain))
            .await
            .unwrap();
        client.ping(1).await.unwrap();
        let ping = functions::Ping { ping_id: 9 }.to_bytes();
        let rpc = functions::help::GetNearestDc {}.to_bytes();
        let ack = types::MsgsAck { msg_ids: vec![] }.to_bytes();
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_secs() as i64;
        let fresh = client.next_msg_id();
        // A container is not content-related: an odd seqno gets 34.
        let mut container = Vec::new();
        mtproto_auth::tl::write_u32(&mut container, 0x73f1f8dc);
        mtproto_auth::tl::write_u32(&mut container, 1);
        mtproto_auth::tl::write_i64(&mut container, client.next_msg_id());
        mtproto_auth::tl::write_i32(&mut container, 1);
        mtproto_auth::tl::write_u32(&mut container, ping.len() as u32);
        container.extend_from_slice(&ping);
        let cases: Vec<(i64, i32, &[u8], i32)> = vec![
            (fresh | 1, 3, &rpc, 18),             // parity
            ((now - 400) << 32 | 4, 3, &rpc, 16), // too old
            ((now + 60) << 32 | 4, 3, &rpc, 17),  // too new
            (client.next_msg_id(), 4, &rpc, 35),  // odd expected
            (client.next_msg_id(), 5, &container, 34),
        ];
        for (msg_id, seqno, body, code) in cases {
            client.send_message(msg_id, seqno, body).await.unwrap();
            let msgs = client.recv_messages().await.unwrap();
            let bad = types::BadMsgNotification::from_bytes(&msgs[0].2)
                .unwrap_or_else(|e| panic!("expected code {code}: {e}"));
            assert_eq!((bad.bad_msg_id, bad.error_code), (msg_id, code));
            assert_eq!(
                msgs[0].1 & 1,
                0,
                "bad_msg_notification is not content-related"
            );
        }
        // SS-5a: msgs_ack is taken with either parity (mtcute sends it odd); the ping after it
        // is answered, with no bad_msg_notification before.
        for seqno in [5, 6] {
            let id = client.next_msg_id();
            client.send_message(id, seqno, &ack).await.unwrap();
        }
        let id = client.next_msg_id();
        let ping8 = functions::Ping { ping_id: 8 }.to_bytes();
        client.send_message(id, 7, &ping8).await.unwrap();
        let msgs = client.recv_messages().await.unwrap();
        let pong = types::Pong::from_bytes(&msgs[0].2).expect("no bad_msg for an odd ack");
        assert_eq!(pong.ping_id, 8);
        // A replayed msg_id is never processed twice: the held answer goes again (SS-4).
        let msg_id = client.next_msg_id();
        client.send_message(msg_id, 101, &ping).await.unwrap();
        let first = client.recv_messages().await.unwrap();
        client.send_message(msg_id, 101, &ping).await.unwrap();
        let later = client.next_msg_id();
        client
            .send_message(later, 103, &functions::Ping { ping_id: 10 }.to_bytes())
            .await
            .unwrap();
        let next = client.recv_messages().await.unwrap();
        assert!(types::Pong::from_bytes(&first[0].2).is_ok());
        let pong = types::Pong::from_bytes(&next[0].2).unwrap();
        assert_eq!(pong.ping_id, 10, "the replayed ping got no second pong");
        // seqno too low (32): a lower seqno than an earlier message's.
        let low = client.next_msg_id();
        client.send_message(low, 7, &rpc).await.unwrap();
        let msgs = client.recv_messages().await.unwrap();
        let bad = types::BadMsgNotification::from_bytes(&msgs[0].2).unwrap();
        assert_eq!((bad.bad_msg_id, bad.error_code), (low, 32));
    });
}

#[test]
fn service_messages_answer_as_the_spec_says() {
    let server = TestServer::start(1);
    rt().block_on(async {
        let opts = ConnectOptions::new(server.addr(1), Framing::Abridged);
        let mut client = Client::connect(&opts, &cfg(&server, RsaScheme::RsaPad, InnerData::Plain))
            .await
            .unwrap();
        client.ping(1).await.unwrap();
        // get_future_salts (SS-9): top-level future_salts, clamped to 64.
        let msg_id = client
            .send_body(&functions::GetFutureSalts { num: 1000 }.to_bytes())
            .await
            .unwrap();
        let msgs = client.recv_messages().await.unwrap();
        let salts = types::FutureSalts::from_bytes(&msgs[0].2).unwrap();
        assert_eq!((salts.req_msg_id, salts.salts.len()), (msg_id, 64));
        // A salt from the list is accepted.
        let first = &salts.salts[0];
        client.set_salt(first.salt);
        client.ping(2).await.unwrap();
        // msgs_state_req (SV-10).
        let received = msg_id;
        let msg_id = client
            .send_body(
                &types::MsgsStateReq {
                    msg_ids: vec![received, 4],
                }
                .to_bytes(),
            )
            .await
            .unwrap();
        let msgs = client.recv_messages().await.unwrap();
        let info = types::MsgsStateInfo::from_bytes(&msgs[0].2).unwrap();
        assert_eq!(
            (info.req_msg_id, info.info.as_slice()),
            (msg_id, &[4u8, 1][..])
        );
        // destroy_session of the current session → _none; of an unknown one → _none.
        let current = client.session_id();
        let answer = client
            .invoke(&functions::DestroySession {
                session_id: current,
            })
            .await;
        assert!(
            answer.is_err(),
            "destroy_session is answered top-level, not in rpc_result"
        );
        let pushed = client.take_pushed();
        assert!(pushed
            .iter()
            .any(|(_, b)| types::DestroySessionNone::from_bytes(b).is_ok()));
    });
}

#[test]
fn unknown_keys_get_404_and_bad_msg_keys_are_closed_silently() {
    let server = TestServer::start(1);
    rt().block_on(async {
        let opts = ConnectOptions::new(server.addr(1), Framing::Intermediate);
        // A key the server never made (EN-1).
        let transport = Transport::connect(&opts).await.unwrap();
        let key = mtproto_auth::crypto::AuthKey::from_bytes([5; 256]);
        let mut client = Client::with_key(transport, key, 0);
        let err = client.ping(1).await.err().unwrap();
        assert!(matches!(err, ClientError::Transport(-404)), "{err}");
        // A real key, a flipped ciphertext bit: no answer, connection closed (EN-6).
        let mut transport = Transport::connect(&opts).await.unwrap();
        let done = create_auth_key(
            &mut transport,
            &cfg(&server, RsaScheme::RsaPad, InnerData::Plain),
        )
        .await
        .unwrap();
        let plain = mtproto_auth::session::engine::join_plaintext(
            done.salt,
            1,
            4 << 32 | 4,
            1,
            &functions::Ping { ping_id: 1 }.to_bytes(),
        );
        let mut frame = Vec::new();
        mtproto_auth::crypto::encrypt_message(
            &done.auth_key,
            mtproto_auth::Side::Client,
            &plain,
            &[0; 32],
            &mut frame,
        );
        let last = frame.len() - 1;
        frame[last] ^= 1;
        transport.send(&frame).await.unwrap();
        assert!(transport.closed_within(Duration::from_secs(5)).await);
    });
}

#[test]
fn unacked_answers_are_resent_on_a_new_connection() {
    let server = TestServer::start(1);
    rt().block_on(async {
        let opts = ConnectOptions::new(server.addr(1), Framing::Full);
        let mut client = Client::connect(&opts, &cfg(&server, RsaScheme::RsaPad, InnerData::Plain))
            .await
            .unwrap();
        client.ping(1).await.unwrap();
        // Send a query and drop the connection before reading (and so acking) the answer.
        let msg_id = client
            .send_body(&functions::help::GetNearestDc {}.to_bytes())
            .await
            .unwrap();
        tokio::time::sleep(Duration::from_millis(200)).await;
        client.reconnect(&opts).await.unwrap();
        client.ping(2).await.unwrap();
        let pushed = client.take_pushed();
        let resent = pushed.iter().any(|(_, b)| {
            b.len() > 12
                && b[..4] == 0xf35c6d01u32.to_le_bytes()
                && b[4..12] == msg_id.to_le_bytes()
        });
        assert!(
            resent,
            "the rpc_result came again under a new msg_id (SV-6)"
        );
    });
}

#[test]
fn destroy_auth_key_erases_the_key() {
    let server = TestServer::start(1);
    rt().block_on(async {
        let opts = ConnectOptions::new(server.addr(1), Framing::Intermediate);
        let mut client = Client::connect(&opts, &cfg(&server, RsaScheme::RsaPad, InnerData::Plain))
            .await
            .unwrap();
        client.ping(1).await.unwrap();
        let key_id = client.auth_key().id();
        assert!(server.state.store.auth_key(key_id).unwrap().is_some());
        client
            .send_body(&functions::DestroyAuthKey {}.to_bytes())
            .await
            .unwrap();
        let msgs = client.recv_messages().await.unwrap();
        assert!(enums::DestroyAuthKeyRes::from_bytes(&msgs[0].2)
            .is_ok_and(|r| matches!(r, enums::DestroyAuthKeyRes::DestroyAuthKeyOk(_))));
        assert!(server.state.store.auth_key(key_id).unwrap().is_none());
        // The key is gone: −404 on a new connection.
        client.reconnect(&opts).await.unwrap();
        let err = client.ping(2).await.err().unwrap();
        assert!(matches!(err, ClientError::Transport(-404)), "{err}");
    });
}

#[test]
fn transport_violations_close_the_connection() {
    let server = TestServer::start(1);
    rt().block_on(async {
        // Oversize abridged frame: refused before allocating.
        let mut t = Transport::connect(&ConnectOptions::new(server.addr(1), Framing::Abridged))
            .await
            .unwrap();
        t.send_raw(&[0x7f, 0xff, 0xff, 0x7f]).await.unwrap();
        assert!(t.closed_within(Duration::from_secs(5)).await);
        // Full transport with a bad CRC.
        let mut t = Transport::connect(&ConnectOptions::new(server.addr(1), Framing::Full))
            .await
            .unwrap();
        let mut f = Vec::new();
        f.extend(32u32.to_le_bytes());
        f.extend(0u32.to_le_bytes());
        f.extend([0u8; 20]);
        f.extend(0u32.to_le_bytes());
        t.send_raw(&f).await.unwrap();
        assert!(t.closed_within(Duration::from_secs(5)).await);
        // HTTP.
        let mut s = tokio::net::TcpStream::connect(server.addr(1))
            .await
            .unwrap();
        tokio::io::AsyncWriteExt::write_all(&mut s, b"GET / HTTP/1.1\r\n\r\n")
            .await
            .unwrap();
        let mut buf = [0u8; 16];
        let n = tokio::time::timeout(
            Duration::from_secs(5),
            tokio::io::AsyncReadExt::read(&mut s, &mut buf),
        )
        .await
        .unwrap()
        .unwrap_or(0);
        assert_eq!(n, 0);
    });
}

#[test]
fn an_address_past_its_handshake_budget_gets_429_and_loopback_is_exempt_by_default() {
    use mtproto_auth::server::HandshakeRate;
    // Two keys' worth (a key takes half a step for req_pq_multi, then req_DH_params and
    // set_client_DH_params), no refill.
    let tight = Some(HandshakeRate {
        per_second: 0.0,
        burst: 5.0,
    });
    let limited = TestServer::start_with(1, |c| {
        c.limits.handshake_rate = tight;
        c.limits.limit_loopback = true;
    });
    let exempt = TestServer::start_with(1, |c| c.limits.handshake_rate = tight);
    rt().block_on(async {
        let make_key = |server: &TestServer| {
            let opts = ConnectOptions::new(server.addr(1), Framing::Intermediate);
            let cfg = cfg(server, RsaScheme::RsaPad, InnerData::Plain);
            async move {
                let mut transport = Transport::connect(&opts).await?;
                create_auth_key(&mut transport, &cfg).await
            }
        };
        for _ in 0..2 {
            make_key(&limited).await.expect("within the budget");
        }
        match make_key(&limited).await {
            Err(ClientError::Transport(-429)) => {}
            other => panic!("expected −429, got {other:?}"),
        }
        for _ in 0..4 {
            make_key(&exempt).await.expect("loopback is not limited");
        }
    });
}
