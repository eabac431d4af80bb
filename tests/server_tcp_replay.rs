//! Replayed frames change no session (SS-4, SS-10; security review item 1), over TCP: an
//! on-path observer re-sends frames it captured, and the server neither evicts a live session,
//! nor runs a request twice, nor moves a session's answers and updates to the replaying
//! connection, nor inflates a stale frame's gzip_packed body.

mod common;

use std::io::Write;
use std::time::Duration;

use common::TestServer;
use mtproto_auth::client::login::{with_init, SignedIn};
use mtproto_auth::client::{Client, ClientError, ConnectOptions, Transport};
use mtproto_auth::crypto::{decrypt_message, encrypt_message, AuthKey};
use mtproto_auth::handshake::client::{ClientConfig, InnerData, RsaScheme};
use mtproto_auth::server::MAX_SESSIONS_PER_KEY;
use mtproto_auth::session::container::{self, CONTAINER_ID};
use mtproto_auth::session::engine::{join_plaintext, split_plaintext};
use mtproto_auth::tl::{enums, functions, types, Deserializable};
use mtproto_auth::transport::Framing;
use mtproto_auth::Side;

fn rt() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
}

fn options(server: &TestServer) -> ConnectOptions {
    ConnectOptions::new(server.addr(2), Framing::Intermediate)
}

/// A client with a new key on DC 2, recording what it sends.
async fn recording_client(server: &TestServer) -> Client {
    let cfg = ClientConfig {
        scheme: RsaScheme::RsaPad,
        inner: InnerData::Plain,
        keys: vec![server.public_key()],
    };
    let mut client = Client::connect(&options(server), &cfg).await.unwrap();
    client.record();
    client
}

/// A client of the same key in a session of its own, on a connection of its own.
async fn another_session(server: &TestServer, of: &Client) -> Client {
    let transport = Transport::connect(&options(server)).await.unwrap();
    let mut client = Client::with_key(transport, of.auth_key().clone(), of.salt());
    client.record();
    client
}

/// Pings and acknowledges what came with the pong; the ping's frame, as captured on the wire.
async fn captured_ping(client: &mut Client, ping_id: i64) -> Vec<u8> {
    client.ping(ping_id).await.unwrap();
    let frame = client.recorded().unwrap().frames.last().unwrap().clone();
    client.take_pushed();
    client.flush_acks().await.unwrap();
    // A round trip on this connection, so the server has taken the acks in before another
    // session is used: an ack handled after the next session's ping would make this session
    // the more recently used one, and the eviction order the test relies on would not hold.
    client.ping(ping_id + 1_000_000).await.unwrap();
    client.take_pushed();
    frame
}

/// The messages of one packet the server sent under `key`, with their session:
/// (session_id, [(msg_id, seqno, body)]), containers opened.
fn open_packet(key: &AuthKey, frame: &[u8]) -> (i64, Vec<(i64, i32, Vec<u8>)>) {
    let plain = decrypt_message(key, Side::Server, frame).unwrap();
    let (_salt, session_id, msg_id, seqno, body) = split_plaintext(&plain).unwrap();
    let messages = if body.get(..4) == Some(&CONTAINER_ID.to_le_bytes()[..]) {
        container::parse(body, i64::MAX, i32::MAX)
            .unwrap()
            .into_iter()
            .map(|m| (m.msg_id, m.seqno, m.body.to_vec()))
            .collect()
    } else {
        vec![(msg_id, seqno, body.to_vec())]
    };
    (session_id, messages)
}

/// Every packet the server sends on `wire` before it answers a frame of an unknown key with
/// −404: the server handles one connection's frames in order, so these are its answers to the
/// frames sent before that marker.
async fn answers_before_marker(wire: &mut Transport, key: &AuthKey) -> Vec<(i64, Vec<u8>)> {
    let mut unknown_key = vec![0x5a; 8];
    unknown_key.extend([0u8; 16 + 48]);
    wire.send(&unknown_key).await.unwrap();
    let mut out = Vec::new();
    loop {
        match wire.recv().await {
            Ok(frame) => {
                let (session_id, messages) = open_packet(key, &frame);
                out.extend(messages.into_iter().map(|(_, _, body)| (session_id, body)));
            }
            Err(ClientError::Transport(-404)) => return out,
            Err(e) => panic!("expected −404 after the answers, got {e:?}"),
        }
    }
}

fn bad_msg(body: &[u8]) -> Option<types::BadMsgNotification> {
    types::BadMsgNotification::from_bytes(body).ok()
}

fn frame_msg_id(key: &AuthKey, frame: &[u8]) -> i64 {
    let plain = decrypt_message(key, Side::Client, frame).unwrap();
    split_plaintext(&plain).unwrap().2
}

/// The review's attack: with the key's 32 sessions in use, replaying captured frames of 31
/// live sessions and of the one just evicted must neither refresh them nor bring the evicted
/// one back, so the live victim stays; and its own replayed request does not run again.
#[test]
fn replays_evict_no_session_and_run_nothing_twice() {
    let server = TestServer::start(3);
    rt().block_on(async {
        let mut first = recording_client(&server).await;
        let mut frames = vec![captured_ping(&mut first, 0).await];
        let mut sessions = vec![first.session_id()];
        for i in 1..MAX_SESSIONS_PER_KEY as i64 {
            let mut c = another_session(&server, &first).await;
            frames.push(captured_ping(&mut c, i).await);
            sessions.push(c.session_id());
        }
        // The victim is the 33rd session: session 0, the least recently used, goes.
        let mut victim = another_session(&server, &first).await;
        let victim_frame = captured_ping(&mut victim, 100).await;
        assert_eq!(server.state.counts().1, MAX_SESSIONS_PER_KEY);

        let mut wire = Transport::connect(&options(&server)).await.unwrap();
        // Duplicates of live sessions: before the fix each refreshed its session, leaving the
        // victim the least recently used.
        for frame in &frames[1..] {
            wire.send(frame).await.unwrap();
        }
        // The evicted session's frame: before the fix it created session 0 again (evicting the
        // victim) and answered the ping a second time.
        wire.send(&frames[0]).await.unwrap();
        let answers = answers_before_marker(&mut wire, first.auth_key()).await;
        let evicted_id = frame_msg_id(first.auth_key(), &frames[0]);
        assert_eq!(
            answers.len(),
            1,
            "one answer, to the evicted session's frame"
        );
        let (session, body) = &answers[0];
        let refusal = bad_msg(body).unwrap_or_else(|| panic!("bad_msg 16, got {body:02x?}"));
        assert_eq!(*session, sessions[0]);
        assert_eq!((refusal.bad_msg_id, refusal.error_code), (evicted_id, 16));
        assert_eq!(server.state.counts().1, MAX_SESSIONS_PER_KEY);

        // The victim's own request, replayed on its connection, runs no second time; its
        // session is the one it had (no new_session_created before the next pong).
        victim.transport().send(&victim_frame).await.unwrap();
        victim.ping(101).await.unwrap();
        for (_, body) in victim.take_pushed() {
            assert!(
                types::NewSessionCreated::from_bytes(&body).is_err(),
                "the victim's session was recreated"
            );
            assert!(
                types::Pong::from_bytes(&body).is_err(),
                "a replayed ping was answered: {body:02x?}"
            );
        }
    });
}

/// A replayed frame of a logged-in session, on another connection, gets nothing there: the
/// session's updates keep going to its own connection.
#[test]
fn a_replayed_frame_does_not_take_over_a_sessions_delivery() {
    let server = TestServer::start(3);
    rt().block_on(async {
        let phone = "9996627171";
        let mut first = recording_client(&server).await;
        first
            .invoke(&with_init(functions::help::GetConfig {}, "first"))
            .await
            .unwrap();
        // A test number on DC 2: its code is 22222.
        let sent = first.send_code(phone).await.unwrap();
        let step = first
            .sign_in(phone, &sent.phone_code_hash, "22222")
            .await
            .unwrap();
        assert_eq!(step, SignedIn::SignUpRequired);
        first
            .sign_up(phone, &sent.phone_code_hash, "Re", "Play")
            .await
            .unwrap();
        let captured = captured_ping(&mut first, 1).await;

        let mut wire = Transport::connect(&options(&server)).await.unwrap();
        wire.send(&captured).await.unwrap();
        // The code for a second login goes to the user's other sessions: first's connection.
        let mut second = recording_client(&server).await;
        let sent = second.send_code(phone).await.unwrap();
        assert!(sent.in_app);
        let update = tokio::time::timeout(Duration::from_secs(10), first.next_update())
            .await
            .expect("the code reaches the session's own connection")
            .unwrap();
        assert!(
            matches!(&update, enums::Updates::UpdateShort(s)
                if matches!(&s.update, enums::Update::ServiceNotification(_))),
            "{update:?}"
        );
        let answers = answers_before_marker(&mut wire, first.auth_key()).await;
        assert!(
            answers.is_empty(),
            "the replaying connection got {answers:02x?}"
        );
        // The session still answers on its own connection.
        first.ping(2).await.unwrap();
    });
}

/// A stale frame's gzip_packed body is not inflated: a message 400 s old whose body would
/// inflate past the 1 MiB cap gets 16 (too old), not 64 (bad gzip).
#[test]
fn a_stale_gzip_bomb_is_refused_before_it_is_inflated() {
    let server = TestServer::start(3);
    rt().block_on(async {
        let mut client = recording_client(&server).await;
        client.ping(1).await.unwrap();
        let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
        enc.write_all(&vec![0u8; 2 << 20]).unwrap();
        let packed = enc.finish().unwrap();
        let mut body = 0x3072cfa1u32.to_le_bytes().to_vec();
        mtproto_auth::tl::write_bytes(&mut body, &packed);
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_secs() as i64;
        let cases = [((now - 400) << 32, 16), (client.next_msg_id(), 64)];
        for (msg_id, code) in cases {
            let plain = join_plaintext(client.salt(), client.session_id(), msg_id, 3, &body);
            let mut frame = Vec::new();
            encrypt_message(
                client.auth_key(),
                Side::Client,
                &plain,
                &[7; 32],
                &mut frame,
            );
            client.transport().send(&frame).await.unwrap();
            let messages = client.recv_messages().await.unwrap();
            let refusal = messages
                .iter()
                .find_map(|(_, _, b)| bad_msg(b))
                .unwrap_or_else(|| panic!("no bad_msg_notification: {messages:02x?}"));
            assert_eq!((refusal.bad_msg_id, refusal.error_code), (msg_id, code));
        }
    });
}
