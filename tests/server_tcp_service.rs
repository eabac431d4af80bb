//! The envelope's padding and length rules (EN-7), container and gzip limits (SV-1, SV-3) and
//! the answer-management service messages (msg_resend_req, rpc_drop_answer: SV-10, SV-11), over
//! TCP with the client library, each with the server's exact reaction.

mod common;

use std::io::Write;
use std::time::Duration;

use common::TestServer;
use mtproto_auth::client::{create_auth_key, Client, ClientError, ConnectOptions, Transport};
use mtproto_auth::crypto::{ige_encrypt, message_key_iv, msg_key, AuthKey};
use mtproto_auth::handshake::client::{ClientConfig, InnerData, RsaScheme};
use mtproto_auth::session::engine::join_plaintext;
use mtproto_auth::tl::{enums, functions, types, Deserializable, Serializable};
use mtproto_auth::transport::Framing;
use mtproto_auth::Side;

fn rt() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
}

/// A key on the server, and the options to reach it.
async fn key(server: &TestServer) -> (ConnectOptions, AuthKey, i64) {
    let opts = ConnectOptions::new(server.addr(1), Framing::Intermediate);
    let mut transport = Transport::connect(&opts).await.unwrap();
    let cfg = ClientConfig {
        scheme: RsaScheme::RsaPad,
        inner: InnerData::Plain,
        keys: vec![server.public_key()],
    };
    let done = create_auth_key(&mut transport, &cfg).await.unwrap();
    (opts, done.auth_key, done.salt)
}

async fn session(opts: &ConnectOptions, key: &AuthKey, salt: i64) -> Client {
    let transport = Transport::connect(opts).await.unwrap();
    let mut client = Client::with_key(transport, key.clone(), salt);
    client.ping(1).await.unwrap();
    client.take_pushed();
    client
}

/// An encrypted frame whose padding and declared length are chosen by the caller.
fn frame_with(
    key: &AuthKey,
    header_and_body: &[u8],
    padding: usize,
    declared_length: Option<u32>,
) -> Vec<u8> {
    let mut data = header_and_body.to_vec();
    if let Some(len) = declared_length {
        data[28..32].copy_from_slice(&len.to_le_bytes());
    }
    data.extend(std::iter::repeat_n(0x42, padding));
    assert_eq!(data.len() % 16, 0, "the test must keep AES blocks whole");
    let mk = msg_key(key, Side::Client, &data);
    let (aes_key, iv) = message_key_iv(key, &mk, Side::Client);
    assert!(ige_encrypt(&mut data, &aes_key, &iv));
    let mut frame = key.id_bytes().to_vec();
    frame.extend_from_slice(&mk);
    frame.extend_from_slice(&data);
    frame
}

/// EN-7: padding 12..=1024 bytes and a declared length that is ≥ 0, a multiple of 4 and inside
/// the plaintext; anything else is dropped and the connection closed without an answer (EN-6).
#[test]
fn padding_and_length_rules_over_tcp() {
    let server = TestServer::start(1);
    rt().block_on(async {
        let (opts, key, salt) = key(&server).await;
        let ping = functions::Ping { ping_id: 5 }.to_bytes();
        // 32-byte header + 12-byte ping = 44 bytes; the cases keep the total a multiple of 16.
        let cases: [(&str, usize, Option<u32>, bool); 7] = [
            ("20 bytes of padding", 20, None, true),
            ("1012 bytes of padding", 1012, None, true),
            ("4 bytes of padding", 4, None, false),
            ("1028 bytes of padding", 1028, None, false),
            ("length not a multiple of 4", 20, Some(13), false),
            ("length past the plaintext", 20, Some(64), false),
            ("negative length", 20, Some(u32::MAX - 3), false),
        ];
        for (name, padding, length, accepted) in cases {
            let mut client = session(&opts, &key, salt).await;
            let msg_id = client.next_msg_id();
            // seqno 3: the session's second content-related message.
            let plain = join_plaintext(salt, client.session_id(), msg_id, 3, &ping);
            let frame = frame_with(&key, &plain, padding, length);
            client.transport().send(&frame).await.unwrap();
            if accepted {
                let msgs = client.recv_messages().await.unwrap();
                let pong = types::Pong::from_bytes(&msgs[0].2).unwrap();
                assert_eq!((pong.msg_id, pong.ping_id), (msg_id, 5), "{name}");
            } else {
                let answer = client.transport().recv().await;
                assert!(
                    matches!(answer, Err(ClientError::Closed)),
                    "{name}: closed without an answer, got {answer:?}"
                );
            }
        }
        // The key survives every refused frame.
        let mut client = session(&opts, &key, salt).await;
        client.ping(6).await.unwrap();
    });
}

fn message(msg_id: i64, seqno: i32, body: &[u8]) -> Vec<u8> {
    let mut m = Vec::with_capacity(16 + body.len());
    m.extend(msg_id.to_le_bytes());
    m.extend(seqno.to_le_bytes());
    m.extend((body.len() as u32).to_le_bytes());
    m.extend_from_slice(body);
    m
}

/// A container of `count` empty msgs_ack messages (not content-related, no answers), all with
/// the even `seqno`.
fn ack_container(client: &mut Client, count: usize, seqno: i32) -> (i64, Vec<u8>) {
    let ack = types::MsgsAck { msg_ids: vec![] }.to_bytes();
    let mut body = 0x73f1f8dcu32.to_le_bytes().to_vec();
    body.extend((count as u32).to_le_bytes());
    for _ in 0..count {
        body.extend(message(client.next_msg_id(), seqno, &ack));
    }
    (client.next_msg_id(), body)
}

/// SV-1: a container holds at most 1024 messages; 1025 get −429 and the connection closes.
#[test]
fn a_container_of_1025_messages_gets_429() {
    let server = TestServer::start(1);
    rt().block_on(async {
        let (opts, key, salt) = key(&server).await;
        let mut client = session(&opts, &key, salt).await;
        // One ping so far (seqno 1): even seqnos are now 2.
        let (id, body) = ack_container(&mut client, 1024, 2);
        client.send_message(id, 2, &body).await.unwrap();
        client.ping(2).await.unwrap();
        let (id, body) = ack_container(&mut client, 1025, 4);
        client.send_message(id, 4, &body).await.unwrap();
        let answer = client.recv_messages().await;
        assert!(
            matches!(answer, Err(ClientError::Transport(-429))),
            "{answer:?}"
        );
        assert!(
            client
                .transport()
                .closed_within(Duration::from_secs(5))
                .await
        );
    });
}

fn gzip_packed(data: &[u8]) -> Vec<u8> {
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    gz.write_all(data).unwrap();
    let mut body = mtproto_auth::session::gzip::GZIP_PACKED_ID
        .to_le_bytes()
        .to_vec();
    mtproto_auth::tl::write_bytes(&mut body, &gz.finish().unwrap());
    body
}

/// SV-3: a query inside gzip_packed is served like the bare query; one that inflates past the
/// 1 MiB cap gets bad_msg_notification 64 and nothing else.
#[test]
fn gzip_packed_queries_over_tcp() {
    let server = TestServer::start(1);
    rt().block_on(async {
        let (opts, key, salt) = key(&server).await;
        let mut client = session(&opts, &key, salt).await;
        let query = functions::help::GetNearestDc {}.to_bytes();
        let result = client.invoke_raw(&gzip_packed(&query)).await.unwrap();
        let enums::NearestDc::NearestDc(dc) = enums::NearestDc::from_bytes(&result).unwrap();
        assert_eq!(dc.this_dc, 1);
        // 2 MiB of one byte compresses to a few KiB.
        let bomb = gzip_packed(&vec![0u8; 2 << 20]);
        assert!(bomb.len() < 16 * 1024);
        let msg_id = client.send_body(&bomb).await.unwrap();
        let msgs = client.recv_messages().await.unwrap();
        let bad = types::BadMsgNotification::from_bytes(&msgs[0].2).unwrap();
        assert_eq!((bad.bad_msg_id, bad.error_code), (msg_id, 64));
        client.ping(3).await.unwrap();
    });
}

/// Sends help.getNearestDc and reads its rpc_result without acknowledging it; returns the
/// query's msg_id and the answer's (msg_id, seqno, body).
async fn unacked_answer(client: &mut Client) -> (i64, (i64, i32, Vec<u8>)) {
    let query = client
        .send_body(&functions::help::GetNearestDc {}.to_bytes())
        .await
        .unwrap();
    let answer = client
        .recv_messages()
        .await
        .unwrap()
        .into_iter()
        .find(|(_, _, b)| b.get(..4) == Some(&0xf35c6d01u32.to_le_bytes()[..]))
        .expect("an rpc_result");
    assert_eq!(answer.2[4..12], query.to_le_bytes());
    (query, answer)
}

/// SV-10: msg_resend_req re-sends a held answer under a new msg_id; an id the server does not
/// hold gets msgs_state_info for the whole request instead.
#[test]
fn msg_resend_req_over_tcp() {
    let server = TestServer::start(1);
    rt().block_on(async {
        let (opts, key, salt) = key(&server).await;
        let mut client = session(&opts, &key, salt).await;
        let (_, (answer_id, _, answer)) = unacked_answer(&mut client).await;
        client
            .send_body(
                &types::MsgResendReq {
                    msg_ids: vec![answer_id],
                }
                .to_bytes(),
            )
            .await
            .unwrap();
        let msgs = client.recv_messages().await.unwrap();
        let again = msgs.iter().find(|(_, _, b)| *b == answer).expect("re-sent");
        assert_ne!(again.0, answer_id, "under a new msg_id (SV-6)");
        assert!(again.0 > answer_id);
        assert_eq!(again.1 & 1, 1, "still content-related");
        // Unknown: an id the server never sent (even, a client's parity).
        let unknown = client.next_msg_id();
        let req = client
            .send_body(
                &types::MsgResendReq {
                    msg_ids: vec![unknown],
                }
                .to_bytes(),
            )
            .await
            .unwrap();
        let msgs = client.recv_messages().await.unwrap();
        let info = types::MsgsStateInfo::from_bytes(&msgs[0].2).unwrap();
        assert_eq!((info.req_msg_id, info.info.len()), (req, 1));
    });
}

/// SV-11: rpc_drop_answer, answered inside rpc_result: rpc_answer_dropped with the held
/// answer's msg_id, seqno and size, which is then no longer held; rpc_answer_unknown for a
/// query the server has no answer for.
#[test]
fn rpc_drop_answer_over_tcp() {
    let server = TestServer::start(1);
    rt().block_on(async {
        let (opts, key, salt) = key(&server).await;
        let mut client = session(&opts, &key, salt).await;
        let (query, (answer_id, answer_seqno, answer)) = unacked_answer(&mut client).await;
        let dropped = client
            .invoke(&functions::RpcDropAnswer { req_msg_id: query })
            .await
            .unwrap();
        let enums::RpcDropAnswer::RpcAnswerDropped(d) = dropped else {
            panic!("expected rpc_answer_dropped, got {dropped:?}");
        };
        assert_eq!(
            (d.msg_id, d.seq_no, d.bytes),
            (answer_id, answer_seqno, answer.len() as i32)
        );
        // Dropped: asking again finds nothing.
        let again = client
            .invoke(&functions::RpcDropAnswer { req_msg_id: query })
            .await
            .unwrap();
        assert!(matches!(again, enums::RpcDropAnswer::RpcAnswerUnknown(_)));
        let never = client.next_msg_id();
        let unknown = client
            .invoke(&functions::RpcDropAnswer { req_msg_id: never })
            .await
            .unwrap();
        assert!(matches!(unknown, enums::RpcDropAnswer::RpcAnswerUnknown(_)));
    });
}
