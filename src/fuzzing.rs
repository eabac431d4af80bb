//! Properties the fuzz targets check, kept in the library so that `cargo test` replays the
//! checked-in corpora on stable (fuzz/corpus/*) and the targets stay a few lines each.

use crate::tl::{decode_any, functions::Function, Deserializable, Serializable};

/// Decodes arbitrary bytes as any boxed value. Whatever decodes must re-encode to bytes that
/// decode to the same value and re-encode identically (decode → encode → decode is stable), and
/// a canonical encoding is never longer than what was read.
pub fn tl_roundtrip(data: &[u8]) {
    if let Ok((id, value)) = decode_any(data) {
        let encoded = value.to_bytes();
        assert!(
            encoded.len() <= data.len(),
            "re-encoding grew: {} > {}",
            encoded.len(),
            data.len()
        );
        let (id2, value2) = decode_any(&encoded).expect("a re-encoded value decodes");
        assert_eq!(id, id2);
        assert_eq!(value2.to_bytes(), encoded, "encoding is not stable");
        assert_eq!(
            format!("{value:?}"),
            format!("{value2:?}"),
            "value changed through encoding"
        );
    }
    // The server's dispatch path: the same bytes as a request.
    if let Ok(f) = Function::from_bytes(data) {
        let encoded = f.to_bytes();
        let f2 = Function::from_bytes(&encoded).expect("a re-encoded function decodes");
        assert_eq!(f, f2);
    }
}

/// Arbitrary bytes as a boxed API value of one sampled layer (the first byte picks it), moved to
/// another (the second byte): what a layer reads it writes back in the same layer, no longer than
/// read and stable; what is written for another layer reads back in that layer and holds only
/// that layer's constructors; the same bytes as a request of any layer decode without a panic,
/// and what decodes re-encodes into a request the current decoder reads.
pub fn tl_layers(data: &[u8]) {
    use crate::tl::layer::{self, Form, Layer, LAYERS};
    let [a, b, rest @ ..] = data else { return };
    let pick = |x: u8| Layer::serving(LAYERS[usize::from(x) % LAYERS.len()]);
    let (from, to) = (pick(*a), pick(*b));
    if let Ok((def, v)) = layer::decode_any(rest, Form::Layer(from)) {
        let ty = layer::type_of(def);
        let same = layer::encode(&v, ty, from).expect("a value of a layer writes in that layer");
        assert!(same.len() <= rest.len(), "re-encoding grew");
        let again = layer::decode(&same, ty, Form::Layer(from)).expect("re-encoded reads back");
        assert_eq!(layer::encode(&again, ty, from).unwrap(), same, "not stable");
        if let Ok(other) = layer::transcode(rest, ty, Form::Layer(from), to) {
            let there = layer::decode(&other, ty, Form::Layer(to)).unwrap_or_else(|e| {
                panic!("written for layer {} but not read there: {e}", to.number())
            });
            there.each_object(&mut |d| {
                assert!(d.in_layer(to), "{} is not in layer {}", d.name, to.number())
            });
        }
    }
    if let Ok(f) = layer::decode_function(rest) {
        Function::from_bytes(&f.to_bytes()).expect("an upgraded request re-encodes");
    }
}

/// Every transport decoder, either side, fed the same bytes whole and in chunks of a size the
/// input picks: both feeds must yield the same frames and end in the same error, no frame may
/// exceed the cap, and the obfuscated2 server must accept or refuse any 64-byte init cleanly.
pub fn transport_chunks(data: &[u8]) {
    use crate::transport::{Codec, Framing, Obfuscated2, MAX_FRAME};
    use crate::Side;

    let [selector, chunk, stream @ ..] = data else {
        return;
    };
    let framing = match selector & 3 {
        0 => Framing::Abridged,
        1 => Framing::Intermediate,
        2 => Framing::PaddedIntermediate,
        _ => Framing::Full,
    };
    let side = if selector & 4 == 0 {
        Side::Server
    } else {
        Side::Client
    };
    let run = |chunk: usize| {
        let mut codec = Codec::new(framing, side);
        // Each decode sees what has arrived (chunk by chunk) and was not taken yet.
        let (mut taken, mut arrived) = (0, 0);
        let mut items = Vec::new();
        while arrived < stream.len() {
            arrived = (arrived + chunk).min(stream.len());
            loop {
                let buf = &stream[taken..arrived];
                match codec.decode(buf) {
                    Ok(Some((item, used))) => {
                        assert!(
                            used > 0 && used <= buf.len(),
                            "consumed {used} of {}",
                            buf.len()
                        );
                        if let crate::transport::Incoming::Frame { payload, .. } = &item {
                            assert!(payload.len() <= MAX_FRAME + 15);
                        }
                        taken += used;
                        items.push(item);
                    }
                    Ok(None) => break,
                    Err(e) => return (items, Some(e)),
                }
            }
        }
        (items, None)
    };
    assert_eq!(
        run(stream.len().max(1)),
        run(usize::from(*chunk).max(1)),
        "chunking changed the result"
    );

    if let Some(init) = stream.get(..64).and_then(|b| <[u8; 64]>::try_from(b).ok()) {
        let _ = Obfuscated2::server(&init);
    }
}

/// The RSA key the handshake and session targets run with (the test fixture), parsed once per
/// process rather than once per input.
pub(crate) fn fixture_keys() -> std::sync::Arc<Vec<crate::crypto::rsa::RsaPrivateKey>> {
    use std::sync::{Arc, OnceLock};
    static KEYS: OnceLock<Arc<Vec<crate::crypto::rsa::RsaPrivateKey>>> = OnceLock::new();
    KEYS.get_or_init(|| {
        let pem = include_str!("../tests/fixtures/rsa_private.pem");
        Arc::new(vec![
            crate::crypto::rsa::RsaPrivateKey::from_pkcs1_pem(pem).expect("the fixture key parses")
        ])
    })
    .clone()
}

/// A server state on a memory store with the fixture RSA key, one DC on 127.0.0.1:4431, and
/// `key` registered as a permanent auth key at `now`.
pub(crate) fn fixture_state(key: &crate::crypto::AuthKey, now: i64) -> crate::server::ServerState {
    use crate::server::{KeyEntry, ServerState};
    let store: std::sync::Arc<dyn crate::store::Store> =
        std::sync::Arc::new(crate::store::MemoryStore::default());
    let dcs = vec![crate::rpc::DcAddress {
        id: 1,
        ip: "127.0.0.1".into(),
        port: 4431,
    }];
    let state = ServerState::new(store, fixture_keys(), [7; 32], dcs, true);
    let entry = KeyEntry::new(crate::crypto::AuthKey::from_bytes(*key.data()), None, None);
    state.add_key(entry, now).expect("memory store");
    state
}

const FUZZ_NOW: (i64, u32) = (1_700_000_000, 0);

/// The server side of the key exchange fed a sequence of unencrypted frames (each prefixed by a
/// 2-byte LE length). Whatever comes, it answers with well-formed unencrypted frames (server
/// msg_id ≡ 1 mod 4), a refusal leaves no handshake open, and never more than the cap run.
pub fn handshake_server(data: &[u8]) {
    use crate::handshake::{HandshakeConfig, HandshakeOutput, KeyDecision, ServerHandshakes};
    let keys = fixture_keys();
    let cfg = HandshakeConfig {
        dc_id: 2,
        test_mode: true,
        max_temp_expires_in: 86_400,
        keys,
    };
    let mut server = ServerHandshakes::new();
    let mut rng = crate::rand::SeededRng::new(0);
    let mut rest = data;
    while let [a, b, tail @ ..] = rest {
        let len = usize::from(u16::from_le_bytes([*a, *b])).min(tail.len());
        let (frame, tail) = tail.split_at(len);
        rest = tail;
        let check_reply = |f: &[u8]| {
            crate::handshake::plain::parse(f, crate::Side::Server)
                .expect("a well-formed unencrypted server frame");
        };
        match server.handle(&cfg, frame, FUZZ_NOW, &mut rng) {
            HandshakeOutput::Reply(f) => check_reply(&f),
            HandshakeOutput::Nothing => {}
            HandshakeOutput::KeyReady(ready) => {
                let (_, f) = server.finish(ready, KeyDecision::Stored, FUZZ_NOW);
                check_reply(&f);
            }
            HandshakeOutput::Refuse(e) => {
                assert!(e.wire_code() == -404 || e.wire_code() == -444);
                assert_eq!(server.in_progress(), 0);
            }
        }
        assert!(server.in_progress() <= crate::handshake::MAX_PER_CONNECTION);
    }
}

/// The encrypted path with the session layer behind it: the input is a list of records
/// `flags (1) ‖ msg_id step (2) ‖ seqno (1) ‖ body length (2) ‖ body`, each sent as a correctly
/// encrypted message of one session under a known key through a server connection (intermediate
/// framing). Every answer must decrypt under the key for that same session, and the connection
/// may close only with a reason.
pub fn session_messages(data: &[u8]) {
    let key_bytes: [u8; 256] = std::array::from_fn(|i| (i * 31 + 7) as u8);
    let key = crate::crypto::AuthKey::from_bytes(key_bytes);
    let state = fixture_state(&key, FUZZ_NOW.0);
    session_messages_on(&state, &key, data);
}

/// `session_messages` against a given server state holding `key`.
fn session_messages_on(
    state: &crate::server::ServerState,
    key: &crate::crypto::AuthKey,
    data: &[u8],
) {
    use crate::crypto::{decrypt_message, encrypt_message};
    use crate::server::Connection;
    use crate::session::engine::{join_plaintext, split_plaintext};
    use crate::transport::{Codec, Framing, Incoming};
    use crate::Side;

    let session_id = 0x5e55_1011;
    let salt = state.salts.current(key.id(), FUZZ_NOW.0);

    let mut conn = Connection::new(1, 1);
    let mut rng = crate::rand::SeededRng::new(1);
    let mut client = Codec::new(Framing::Intermediate, Side::Client);
    let mut wire = Framing::Intermediate.tag().to_vec();
    let mut from_server = Vec::new();
    let mut msg_id = FUZZ_NOW.0 << 32;
    let mut rest = data;
    while let [flags, s0, s1, seqno, l0, l1, tail @ ..] = rest {
        let len = usize::from(u16::from_le_bytes([*l0, *l1])).min(tail.len());
        let (body, tail) = tail.split_at(len);
        rest = tail;
        msg_id += i64::from(u16::from_le_bytes([*s0, *s1])) * 4;
        let id = if flags & 1 == 1 { msg_id | 1 } else { msg_id };
        let use_salt = if flags & 2 == 2 { 0 } else { salt };
        let mut body = body.to_vec();
        body.truncate(body.len() & !3);
        let plain = join_plaintext(use_salt, session_id, id, i32::from(*seqno), &body);
        let mut frame = Vec::new();
        encrypt_message(key, Side::Client, &plain, &[9; 32], &mut frame);
        client
            .encode(&frame, &[], false, &mut wire)
            .expect("within the cap");
        let out = conn.receive(state, &wire, FUZZ_NOW, &mut rng);
        wire.clear();
        from_server.extend_from_slice(&out.send);
        if out.close {
            assert!(out.reason.is_some(), "a close always has a reason");
            break;
        }
    }
    // Every server frame decrypts for this session.
    let mut taken = 0;
    while let Ok(Some((incoming, used))) = client.decode(&from_server[taken..]) {
        taken += used;
        let Incoming::Frame { payload, .. } = incoming else {
            continue;
        };
        let plain = decrypt_message(key, Side::Server, payload).expect("server frames decrypt");
        let (_, sid, msg_id, _, _) = split_plaintext(&plain).expect("header");
        assert_eq!(sid, session_id);
        assert_eq!(msg_id & 1, 1, "server msg_ids are odd");
    }
}

/// The store as a model (ARCHITECTURE rule 13): the same conditional batches applied to a
/// `MemoryStore` and a `SledStore` give the same outcomes and the same contents, and the sled
/// store, reopened, still has everything a sync covered. The sled store's reads and commits
/// note exactly the unsynced commits they rest on (`store::unsynced`). Input: a stream of
/// 4-byte ops `[kind, key, value, expect]` over a small key space so that expectations meet.
pub fn store_model(data: &[u8]) {
    use crate::store::unsynced::observed;
    use crate::store::{Batch, Commit, MemoryStore, SledStore, Store};
    use std::sync::atomic::{AtomicU64, Ordering};

    static RUN: AtomicU64 = AtomicU64::new(0);
    let dir = std::env::temp_dir().join(format!(
        "mtproto-store-model-{}-{}",
        std::process::id(),
        RUN.fetch_add(1, Ordering::Relaxed)
    ));
    let _ = std::fs::remove_dir_all(&dir);
    let memory = MemoryStore::default();
    let mut sled = SledStore::open(&dir).expect("a fresh sled store opens");
    let key = |k: u8| vec![b'F', k % 8];
    let value = |v: u8| (!v.is_multiple_of(4)).then(|| vec![1, v]);
    let mut batch = Batch::default();
    let mut reopens = 0;
    // The sled store's keys written since its last sync → the last commit that wrote each.
    let mut unsynced = std::collections::BTreeMap::<Vec<u8>, u64>::new();
    for op in data.chunks_exact(4).take(256) {
        let [kind, k, v, e] = [op[0], op[1], op[2], op[3]];
        match kind % 6 {
            0 => {
                batch.put(key(k), vec![1, v]);
            }
            1 => {
                batch.delete(key(k));
            }
            2 => {
                batch.expect(key(k), value(e));
            }
            3 => {
                let ours = memory.commit(&batch).expect("memory commits");
                observed::take();
                let theirs = sled.commit(&batch).expect("sled commits");
                let noted = observed::take();
                assert_eq!(
                    matches!(ours, Commit::Applied { .. }),
                    matches!(theirs, Commit::Applied { .. }),
                    "the stores disagree on {batch:?}"
                );
                if let Commit::Applied { seq } = theirs {
                    assert_eq!(noted, seq, "a commit notes itself");
                    for (k, _) in &batch.ops {
                        unsynced.insert(k.clone(), seq);
                    }
                } else {
                    // A conflict rests on the expectations it checked (up to the one that failed).
                    let most = batch
                        .expect
                        .iter()
                        .filter_map(|(k, _)| unsynced.get(k))
                        .max();
                    assert!(
                        noted <= most.copied().unwrap_or(0),
                        "a conflict noted {noted}"
                    );
                }
                batch = Batch::default();
            }
            4 => {
                let in_memory = memory.scan(b"F", usize::MAX).unwrap();
                observed::take();
                assert_eq!(in_memory, sled.scan(b"F", usize::MAX).unwrap());
                let behind_all = unsynced.values().max().copied().unwrap_or(0);
                assert_eq!(
                    observed::take(),
                    behind_all,
                    "a scan rests on every unsynced write"
                );
                let in_memory = memory.get(&key(k)).unwrap();
                observed::take();
                assert_eq!(in_memory, sled.get(&key(k)).unwrap());
                let behind = unsynced.get(&key(k)).copied().unwrap_or(0);
                assert_eq!(
                    observed::take(),
                    behind,
                    "a read rests on its key's unsynced write"
                );
            }
            _ if reopens < 2 => {
                reopens += 1;
                sled.sync().expect("sync");
                unsynced.clear();
                drop(sled);
                sled = SledStore::open(&dir).expect("the store reopens");
                assert_eq!(
                    memory.scan(b"F", usize::MAX).unwrap(),
                    sled.scan(b"F", usize::MAX).unwrap(),
                    "a reopened store lost or gained records"
                );
            }
            _ => {}
        }
    }
    assert_eq!(
        memory.scan(b"F", usize::MAX).unwrap(),
        sled.scan(b"F", usize::MAX).unwrap()
    );
    drop(sled);
    let _ = std::fs::remove_dir_all(&dir);
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::crypto::{decrypt_message, AuthKey};
    use crate::server::Connection;
    use crate::session::engine::split_plaintext;
    use crate::tl::{enums, functions, types};
    use crate::transport::{Codec, Framing, Incoming};
    use crate::Side;

    const PHONE: &str = "9996611234";
    const SEED: &str = "fuzz/corpus/session_messages/seed-login-flow";

    /// One `session_messages` input message: flags 0 (a client msg_id, the current salt),
    /// msg_id step 1, seqno.
    fn message(body: &[u8], seqno: u8) -> Vec<u8> {
        let mut m = vec![0, 1, 0, seqno];
        m.extend_from_slice(&(body.len() as u16).to_le_bytes());
        m.extend_from_slice(body);
        m
    }

    /// A `session_messages` input that signs a test number up, lists its sessions, asks for
    /// itself and logs out, so that the fuzzer starts from the login paths. The hash the
    /// server hands out is predicted by running the first step the way the target does.
    fn login_seed() -> Vec<u8> {
        let send_code = crate::client::login::send_code_request(PHONE).to_bytes();
        let first = message(&send_code, 1);
        let hash = sent_code_hash(&first);
        let mut seed = first;
        seed.extend(message(
            &functions::auth::SignIn {
                phone_number: PHONE.into(),
                phone_code_hash: hash.clone(),
                phone_code: Some("11111".into()),
                email_verification: None,
            }
            .to_bytes(),
            3,
        ));
        seed.extend(message(
            &functions::auth::SignUp {
                no_joined_notifications: false,
                phone_number: PHONE.into(),
                phone_code_hash: hash,
                first_name: "Fuzz".into(),
                last_name: String::new(),
            }
            .to_bytes(),
            5,
        ));
        seed.extend(message(
            &functions::account::GetAuthorizations {}.to_bytes(),
            7,
        ));
        seed.extend(message(
            &functions::users::GetUsers {
                id: vec![types::InputUserSelf {}.into()],
            }
            .to_bytes(),
            9,
        ));
        seed.extend(message(&functions::auth::LogOut {}.to_bytes(), 11));
        seed
    }

    /// Runs `input` the way `session_messages` does and returns the phone_code_hash the
    /// server answered with.
    fn sent_code_hash(input: &[u8]) -> String {
        let key_bytes: [u8; 256] = std::array::from_fn(|i| (i * 31 + 7) as u8);
        let key = AuthKey::from_bytes(key_bytes);
        let state = fixture_state(&key, FUZZ_NOW.0);
        let mut conn = Connection::new(1, 1);
        let mut rng = crate::rand::SeededRng::new(1);
        let salt = state.salts.current(key.id(), FUZZ_NOW.0);
        let body = &input[6..];
        let plain = crate::session::engine::join_plaintext(
            salt,
            0x5e55_1011,
            (FUZZ_NOW.0 << 32) + 4,
            1,
            body,
        );
        let mut frame = Vec::new();
        crate::crypto::encrypt_message(&key, Side::Client, &plain, &[9; 32], &mut frame);
        let mut wire = Framing::Intermediate.tag().to_vec();
        let mut client = Codec::new(Framing::Intermediate, Side::Client);
        client.encode(&frame, &[], false, &mut wire).unwrap();
        let sent = conn.receive(&state, &wire, FUZZ_NOW, &mut rng).send;
        let mut taken = 0;
        while let Ok(Some((incoming, used))) = client.decode(&sent[taken..]) {
            taken += used;
            let Incoming::Frame { payload, .. } = incoming else {
                continue;
            };
            let plain = decrypt_message(&key, Side::Server, payload).unwrap();
            let (_, _, msg_id, seqno, body) = split_plaintext(&plain).unwrap();
            let mut messages = vec![body.to_vec()];
            if body[..4] == crate::session::container::CONTAINER_ID.to_le_bytes() {
                messages = crate::session::container::parse(body, msg_id, seqno)
                    .unwrap()
                    .into_iter()
                    .map(|m| m.body.to_vec())
                    .collect();
            }
            for m in messages {
                if m[..4] == crate::session::engine::RPC_RESULT_ID.to_le_bytes() {
                    if let Ok(enums::auth::SentCode::SentCode(s)) =
                        enums::auth::SentCode::from_bytes(&m[12..])
                    {
                        return s.phone_code_hash;
                    }
                }
            }
        }
        panic!("no sentCode in the answer");
    }

    #[test]
    #[ignore = "writes the seed; run after a change that moves the fixture's random draws"]
    fn write_login_seed() {
        std::fs::write(
            std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(SEED),
            login_seed(),
        )
        .unwrap();
    }

    #[test]
    fn the_checked_in_login_seed_still_signs_up() {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(SEED);
        let seed = std::fs::read(&path).unwrap();
        assert!(
            seed == login_seed(),
            "{} is stale: cargo test write_login_seed -- --ignored",
            path.display()
        );
        let key_bytes: [u8; 256] = std::array::from_fn(|i| (i * 31 + 7) as u8);
        let key = AuthKey::from_bytes(key_bytes);
        let state = fixture_state(&key, FUZZ_NOW.0);
        session_messages_on(&state, &key, &seed);
        let acc = crate::store::accounts::Accounts::new(&*state.store);
        let user = acc.user_by_phone(PHONE).unwrap().expect("signed up");
        assert_eq!(user.first_name, "Fuzz");
        assert!(
            acc.authorizations_of(user.id).unwrap().is_empty(),
            "logged out"
        );
    }
}
