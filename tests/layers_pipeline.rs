//! The layers built so far, chained as PROTOCOL-CHECKLIST P-1 orders them, in memory: detection →
//! obfuscated2 → framing → MTProto 2.0 envelope → msg_id/seqno → TL dispatch, and back.

use mtproto_auth::crypto::{decrypt_message, encrypt_message, AuthKey};
use mtproto_auth::session::{MsgIdGenerator, MsgWindow, Parity, Received};
use mtproto_auth::tl::{functions::Function, types, Deserializable, Serializable};
use mtproto_auth::transport::{detect, Codec, Detection, Framing, Incoming, Obfuscated2};
use mtproto_auth::Side;

const NOW: i64 = 1_700_000_000;
const SALT: i64 = 0x1122_3344_5566_7788;
const SESSION: i64 = 0x0bad_cafe;

/// salt ‖ session_id ‖ msg_id ‖ seq_no ‖ length ‖ body
fn plaintext(msg_id: i64, seqno: i32, body: &[u8]) -> Vec<u8> {
    let mut p = Vec::new();
    p.extend(SALT.to_le_bytes());
    p.extend(SESSION.to_le_bytes());
    p.extend(msg_id.to_le_bytes());
    p.extend(seqno.to_le_bytes());
    p.extend((body.len() as u32).to_le_bytes());
    p.extend(body);
    p
}

fn field<const N: usize>(p: &[u8], at: usize) -> [u8; N] {
    p[at..at + N].try_into().unwrap()
}

#[test]
fn ping_and_pong_through_every_layer() {
    let key = AuthKey::from_bytes(std::array::from_fn(|i| (i * 7 + 3) as u8));

    // Client: ping, encrypted, framed (padded intermediate), obfuscated.
    let ping_id = 0x5eed;
    let client_msg_id = (NOW << 32) | 0x1000;
    let body = mtproto_auth::tl::functions::Ping { ping_id }.to_bytes();
    let mut frame = Vec::new();
    encrypt_message(
        &key,
        Side::Client,
        &plaintext(client_msg_id, 1, &body),
        &[0x42; 32],
        &mut frame,
    );
    let (mut client_ob, init) = Obfuscated2::client(
        std::array::from_fn(|i| i as u8 ^ 0x5a),
        Framing::PaddedIntermediate,
        2,
    );
    let mut client_codec = Codec::new(Framing::PaddedIntermediate, Side::Client);
    let mut wire = Vec::new();
    client_codec
        .encode(&frame, &[1, 2, 3, 4, 5, 6, 7], false, &mut wire)
        .unwrap();
    client_ob.encrypt(&mut wire);
    let mut stream = init.to_vec();
    stream.extend(wire);

    // Server: detect, deobfuscate, deframe (fed in small chunks), decrypt, check, dispatch.
    assert_eq!(detect(&stream), Detection::Obfuscated2);
    let (mut server_ob, framing, _dc) =
        Obfuscated2::server(&stream[..64].try_into().unwrap()).unwrap();
    assert_eq!(framing, Framing::PaddedIntermediate);
    let mut server_codec = Codec::new(framing, Side::Server);
    let mut buf = Vec::new();
    let mut payloads = Vec::new();
    for chunk in stream[64..].chunks(5) {
        let mut chunk = chunk.to_vec();
        server_ob.decrypt(&mut chunk);
        buf.extend(chunk);
        while let Some((Incoming::Frame { payload, .. }, used)) = server_codec.decode(&buf).unwrap()
        {
            payloads.push(payload.to_vec());
            buf.drain(..used);
        }
    }
    assert_eq!(payloads.len(), 1);
    let plain = decrypt_message(&key, Side::Client, &payloads[0]).unwrap();
    assert_eq!(
        (
            i64::from_le_bytes(field(&plain, 0)),
            i64::from_le_bytes(field(&plain, 8))
        ),
        (SALT, SESSION)
    );
    let msg_id = i64::from_le_bytes(field(&plain, 16));
    let seqno = i32::from_le_bytes(field(&plain, 24));
    let mut window = MsgWindow::new();
    assert_eq!(
        window.check(msg_id, seqno, Parity::Odd, false, NOW),
        Ok(Received::New)
    );
    window.record(msg_id, seqno);
    let Function::Ping(ping) = Function::from_bytes(&plain[32..]).unwrap() else {
        panic!("not a ping");
    };
    assert_eq!(ping.ping_id, ping_id);
    // The same message again is a duplicate, never processed twice.
    assert_eq!(
        window.check(msg_id, seqno, Parity::Odd, false, NOW),
        Ok(Received::Duplicate)
    );

    // Server: pong, a response (msg_id ≡ 1 mod 4), not content-related (seqno even).
    let mut ids = MsgIdGenerator::new();
    let pong_id = ids.next(NOW, 1_000, true);
    let pong = types::Pong { msg_id, ping_id }.to_bytes();
    let mut frame = Vec::new();
    encrypt_message(
        &key,
        Side::Server,
        &plaintext(pong_id, 0, &pong),
        &[0x24; 32],
        &mut frame,
    );
    let mut wire = Vec::new();
    server_codec
        .encode(&frame, &[9, 9], false, &mut wire)
        .unwrap();
    server_ob.encrypt(&mut wire);

    // Client: back through the layers.
    client_ob.decrypt(&mut wire);
    let (Incoming::Frame { payload, .. }, used) = client_codec.decode(&wire).unwrap().unwrap()
    else {
        panic!("not a frame");
    };
    assert_eq!(used, wire.len());
    let plain = decrypt_message(&key, Side::Server, payload).unwrap();
    assert_eq!(i64::from_le_bytes(field(&plain, 16)) % 4, 1);
    let mtproto_auth::tl::enums::Pong::Pong(got) =
        mtproto_auth::tl::enums::Pong::from_bytes(&plain[32..]).unwrap();
    assert_eq!((got.msg_id, got.ping_id), (msg_id, ping_id));

    // A flipped bit anywhere in the encrypted frame is refused at the msg_key check.
    let mut tampered = payloads[0].clone();
    tampered[40] ^= 1;
    assert!(decrypt_message(&key, Side::Client, &tampered).is_err());
}
