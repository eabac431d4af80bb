//! The key exchange between our client states and the server's per-connection driver, in
//! memory with fixed randomness: every RSA scheme and inner-data variant, and a negative test
//! per HS rule asserting the exact transport error and that the handshake is dead afterwards.

use std::sync::Arc;

use num_bigint::BigUint;

use mtproto_auth::crypto::rsa::RsaPrivateKey;
use mtproto_auth::handshake::client::{self, ClientConfig, InnerData, RsaScheme};
use mtproto_auth::handshake::{
    plain, HandshakeConfig, HandshakeError, HandshakeOutput, KeyDecision, KeyKind, ServerHandshakes,
};
use mtproto_auth::rand::SeededRng;
use mtproto_auth::tl::{enums, functions, Deserializable, Serializable};

const NOW: (i64, u32) = (1_700_000_000, 0);

fn server_key() -> RsaPrivateKey {
    RsaPrivateKey::from_pkcs1_pem(include_str!("fixtures/rsa_private.pem")).unwrap()
}

fn server_cfg() -> HandshakeConfig {
    HandshakeConfig {
        dc_id: 2,
        test_mode: true,
        max_temp_expires_in: 86_400,
        keys: Arc::new(vec![server_key()]),
    }
}

fn client_cfg(scheme: RsaScheme, inner: InnerData) -> ClientConfig {
    ClientConfig {
        scheme,
        inner,
        keys: vec![server_key().public().clone()],
    }
}

fn frame(msg_id: i64, body: &impl Serializable) -> Vec<u8> {
    let mut out = Vec::new();
    plain::write(msg_id, &body.to_bytes(), &mut out);
    out
}

fn reply<T: Deserializable>(out: HandshakeOutput) -> T {
    match out {
        HandshakeOutput::Reply(f) => {
            let (msg_id, data) = parse_server(&f);
            assert_eq!(msg_id & 3, 1, "UM-4: server msg_id ≡ 1 mod 4");
            T::from_bytes(data).unwrap()
        }
        other => panic!("expected a reply, got {other:?}"),
    }
}

/// An unencrypted server frame: auth_key_id 0, exact length, msg_id ≡ 1 mod 4 (UM-1, UM-4).
fn parse_server(f: &[u8]) -> (i64, &[u8]) {
    plain::parse(f, mtproto_auth::Side::Server).unwrap()
}

struct Run {
    server: ServerHandshakes,
    rng: SeededRng,
    msg_id: i64,
}

impl Run {
    fn new(seed: u64) -> Self {
        Run {
            server: ServerHandshakes::new(),
            rng: SeededRng::new(seed),
            msg_id: (NOW.0 << 32) | 4,
        }
    }

    fn send(&mut self, body: &impl Serializable) -> HandshakeOutput {
        self.msg_id += 4;
        let f = frame(self.msg_id, body);
        self.server.handle(&server_cfg(), &f, NOW, &mut self.rng)
    }
}

/// Runs a whole exchange; returns the server's key and kind and the client's result.
fn exchange(scheme: RsaScheme, inner: InnerData, seed: u64) -> (KeyKind, [u8; 256], [u8; 256]) {
    let mut run = Run::new(seed);
    let cfg = client_cfg(scheme, inner);
    let (s1, req) = client::start(&mut run.rng);
    let res: enums::ResPQ = reply(run.send(&req));
    let (s2, req) = s1.handle_res_pq(res, &cfg, &mut run.rng).unwrap();
    let dh: enums::ServerDHParams = reply(run.send(&req));
    let (s3, req, server_time) = s2.handle_server_dh_params(dh, &mut run.rng).unwrap();
    assert_eq!(server_time, NOW.0 as i32);
    let HandshakeOutput::KeyReady(ready) = run.send(&req) else {
        panic!("no key")
    };
    let kind = ready.kind();
    let salt = ready.initial_salt();
    let (key, answer) = run.server.finish(ready, KeyDecision::Stored, NOW);
    let answer: enums::SetClientDHParamsAnswer =
        enums::SetClientDHParamsAnswer::from_bytes(parse_server(&answer).1).unwrap();
    let done = s3.handle_dh_gen(answer).unwrap();
    assert_eq!(
        done.salt, salt,
        "HS-18: both sides derive the same first salt"
    );
    assert_eq!(
        run.server.in_progress(),
        0,
        "HS-19: state gone after dh_gen_ok"
    );
    (kind, *key.unwrap().data(), *done.auth_key.data())
}

#[test]
fn every_scheme_and_inner_variant_agrees_on_the_key() {
    let variants = [
        (InnerData::Plain, KeyKind::Permanent),
        (InnerData::Dc(10002), KeyKind::Permanent),
        (InnerData::Dc(-10002), KeyKind::Permanent),
        (
            InnerData::Temp { expires_in: 3600 },
            KeyKind::Temporary { expires_in: 3600 },
        ),
        (
            InnerData::TempDc {
                dc: 10002,
                expires_in: 60,
            },
            KeyKind::Temporary { expires_in: 60 },
        ),
    ];
    let mut seed = 100;
    for scheme in [RsaScheme::RsaPad, RsaScheme::Legacy] {
        for (inner, kind) in variants {
            seed += 1;
            let (got_kind, server, client) = exchange(scheme, inner, seed);
            assert_eq!(got_kind, kind, "{scheme:?} {inner:?}");
            assert_eq!(server, client, "{scheme:?} {inner:?}");
        }
    }
}

#[test]
fn repeated_req_pq_gets_the_identical_answer() {
    let mut run = Run::new(1);
    let req = functions::ReqPqMulti { nonce: [9; 16] };
    let a: enums::ResPQ = reply(run.send(&req));
    let b: enums::ResPQ = reply(run.send(&req));
    assert_eq!(a, b);
    let enums::ResPQ::ResPQ(res) = a;
    assert_eq!(res.pq.len(), 8, "HS-2: pq is 8 bytes");
    assert_eq!(
        res.server_public_key_fingerprints,
        vec![server_key().fingerprint()]
    );
    // A different nonce starts another handshake with a fresh server_nonce and pq.
    let c: enums::ResPQ = reply(run.send(&functions::ReqPq { nonce: [8; 16] }));
    let enums::ResPQ::ResPQ(c) = c;
    assert_ne!(c.server_nonce, res.server_nonce);
    assert_eq!(run.server.in_progress(), 2);
}

/// Drives a handshake to req_DH_params, lets `tamper` change it, and returns the server's
/// answer to the tampered request.
fn tampered_req_dh(
    inner: InnerData,
    tamper: impl FnOnce(&mut functions::ReqDHParams),
) -> HandshakeOutput {
    let mut run = Run::new(7);
    let cfg = client_cfg(RsaScheme::RsaPad, inner);
    let (s1, req) = client::start(&mut run.rng);
    let res: enums::ResPQ = reply(run.send(&req));
    let (_s2, mut req) = s1.handle_res_pq(res, &cfg, &mut run.rng).unwrap();
    tamper(&mut req);
    let out = run.send(&req);
    assert_eq!(run.server.in_progress(), 0, "the handshake is dead");
    out
}

fn refused(out: HandshakeOutput) -> HandshakeError {
    match out {
        HandshakeOutput::Refuse(e) => e,
        other => panic!("expected a refusal, got {other:?}"),
    }
}

type Tamper = Box<dyn FnOnce(&mut functions::ReqDHParams)>;

#[test]
fn req_dh_params_violations_get_404_or_444() {
    let cases: Vec<(InnerData, Tamper, HandshakeError)> = vec![
        (
            InnerData::Plain,
            Box::new(|r| r.server_nonce[0] ^= 1),
            HandshakeError::ServerNonceMismatch,
        ),
        (
            InnerData::Plain,
            Box::new(|r| r.p.insert(0, 0)),
            HandshakeError::FactorsMismatch,
        ),
        (
            InnerData::Plain,
            Box::new(|r| std::mem::swap(&mut r.p, &mut r.q)),
            HandshakeError::FactorsMismatch,
        ),
        (
            InnerData::Plain,
            Box::new(|r| r.public_key_fingerprint ^= 1),
            HandshakeError::UnknownFingerprint {
                got: server_key().fingerprint() ^ 1,
            },
        ),
        (
            InnerData::Plain,
            Box::new(|r| r.encrypted_data[50] ^= 1),
            HandshakeError::InnerData,
        ),
        (
            InnerData::Plain,
            Box::new(|r| r.encrypted_data.truncate(255)),
            HandshakeError::InnerData,
        ),
        (
            InnerData::Plain,
            Box::new(|r| r.encrypted_data = vec![0xff; 256]),
            HandshakeError::InnerData,
        ),
        (
            InnerData::Dc(2),
            Box::new(|_| {}),
            HandshakeError::WrongDc {
                got: 2,
                expected: 10002,
            },
        ),
        (
            InnerData::Dc(10003),
            Box::new(|_| {}),
            HandshakeError::WrongDc {
                got: 10003,
                expected: 10002,
            },
        ),
        (
            InnerData::Temp { expires_in: 0 },
            Box::new(|_| {}),
            HandshakeError::BadExpiresIn {
                got: 0,
                max: 86_400,
            },
        ),
        (
            InnerData::Temp { expires_in: 86_401 },
            Box::new(|_| {}),
            HandshakeError::BadExpiresIn {
                got: 86_401,
                max: 86_400,
            },
        ),
        (
            InnerData::Plain,
            Box::new(|r| r.nonce[0] ^= 1),
            HandshakeError::UnknownNonce,
        ),
    ];
    for (inner, tamper, expected) in cases {
        let e = refused(tampered_req_dh(inner, tamper));
        let code = if matches!(expected, HandshakeError::WrongDc { .. }) {
            -444
        } else {
            -404
        };
        assert_eq!(e, expected);
        assert_eq!(e.wire_code(), code, "{e}");
    }
}

/// Drives a handshake to set_client_DH_params and tampers with it (after decrypting, so the
/// checks behind the SHA1 are reached too).
fn tampered_set_client_dh(
    tamper: impl FnOnce(&mut functions::SetClientDHParams),
) -> HandshakeOutput {
    let mut run = Run::new(8);
    let cfg = client_cfg(RsaScheme::Legacy, InnerData::Plain);
    let (s1, req) = client::start(&mut run.rng);
    let res: enums::ResPQ = reply(run.send(&req));
    let (s2, req) = s1.handle_res_pq(res, &cfg, &mut run.rng).unwrap();
    let dh: enums::ServerDHParams = reply(run.send(&req));
    let (_s3, mut req, _) = s2.handle_server_dh_params(dh, &mut run.rng).unwrap();
    tamper(&mut req);
    let out = run.send(&req);
    assert_eq!(run.server.in_progress(), 0, "the handshake is dead");
    out
}

#[test]
fn set_client_dh_params_violations_get_404() {
    let e = refused(tampered_set_client_dh(|r| r.encrypted_data[40] ^= 1));
    assert_eq!(
        (e.clone(), e.wire_code()),
        (HandshakeError::BadClientDhData, -404)
    );
    let e = refused(tampered_set_client_dh(|r| {
        r.encrypted_data.truncate(15 * 16 + 8)
    }));
    assert_eq!(e, HandshakeError::BadClientDhData);
    let e = refused(tampered_set_client_dh(|r| r.server_nonce[3] ^= 1));
    assert_eq!(e, HandshakeError::ServerNonceMismatch);
    let e = refused(tampered_set_client_dh(|r| r.nonce[3] ^= 1));
    assert_eq!(e, HandshakeError::UnknownNonce);
}

/// Drives a handshake to set_client_DH_params with `g_b` sent in place of g^b.
fn set_client_dh_with_g_b(g_b: &[u8]) -> HandshakeOutput {
    let mut run = Run::new(9);
    let cfg = client_cfg(RsaScheme::RsaPad, InnerData::Plain);
    let (s1, req) = client::start(&mut run.rng);
    let res: enums::ResPQ = reply(run.send(&req));
    let (s2, req) = s1.handle_res_pq(res, &cfg, &mut run.rng).unwrap();
    let dh: enums::ServerDHParams = reply(run.send(&req));
    let (_s3, req, _) = s2
        .handle_server_dh_params_sending_g_b(dh, g_b, &mut run.rng)
        .unwrap();
    let out = run.send(&req);
    assert_eq!(
        run.server.in_progress(),
        0,
        "the handshake is over either way"
    );
    out
}

fn be256(x: &BigUint) -> Vec<u8> {
    let b = x.to_bytes_be();
    let mut out = vec![0u8; 256 - b.len()];
    out.extend_from_slice(&b);
    out
}

/// HS-15: 1 < g_b < p − 1 and 2^1984 ≤ g_b ≤ p − 2^1984, else −404 and no key.
#[test]
fn g_b_out_of_range_gets_404_and_no_key() {
    let p = BigUint::from_bytes_be(&mtproto_auth::crypto::dh::DH_PRIME);
    let margin = BigUint::from(1u32) << 1984u32;
    let mut too_long = vec![1u8];
    too_long.extend_from_slice(&be256(&margin));
    let refused_values: Vec<(&str, Vec<u8>)> = vec![
        ("empty", Vec::new()),
        ("0", be256(&BigUint::from(0u32))),
        ("1", be256(&BigUint::from(1u32))),
        ("2^1984 - 1", be256(&(&margin - 1u32))),
        ("p - 2^1984 + 1", be256(&(&p - &margin + 1u32))),
        ("p - 1", be256(&(&p - 1u32))),
        ("p", be256(&p)),
        ("257 bytes", too_long),
    ];
    for (name, g_b) in refused_values {
        let e = refused(set_client_dh_with_g_b(&g_b));
        assert_eq!(
            (e.clone(), e.wire_code()),
            (HandshakeError::GbOutOfRange, -404),
            "g_b = {name}"
        );
    }
    // The bounds themselves are allowed: the server makes a key (the client cannot know it).
    for g_b in [be256(&margin), be256(&(&p - &margin))] {
        assert!(matches!(
            set_client_dh_with_g_b(&g_b),
            HandshakeOutput::KeyReady(_)
        ));
    }
}

#[test]
fn out_of_order_and_foreign_messages_get_404() {
    // set_client_DH_params before req_DH_params.
    let mut run = Run::new(3);
    let _: enums::ResPQ = reply(run.send(&functions::ReqPqMulti { nonce: [1; 16] }));
    let e = refused(run.send(&functions::SetClientDHParams {
        nonce: [1; 16],
        server_nonce: [0; 16],
        encrypted_data: vec![0; 32],
    }));
    assert!(matches!(e, HandshakeError::OutOfOrder { .. }), "{e}");
    assert_eq!(run.server.in_progress(), 0);
    // An RPC in an unencrypted envelope (UM-2).
    let mut run = Run::new(4);
    let e = refused(run.send(&functions::help::GetConfig {}));
    assert_eq!(e, HandshakeError::UnexpectedMessage { id: 0xc4f9186b });
    assert_eq!(e.wire_code(), -404);
    // msgs_ack is ignored.
    let ack = mtproto_auth::tl::types::MsgsAck { msg_ids: vec![1] };
    assert!(matches!(run.send(&ack), HandshakeOutput::Nothing));
    // UM-3: msg_id 0 (grammers, TDLib) and 1 (TDLib's ping connection) are answered.
    for id in [0, 1] {
        let mut run = Run::new(6);
        let f = frame(id, &functions::ReqPqMulti { nonce: [1; 16] });
        let _: enums::ResPQ = reply(run.server.handle(&server_cfg(), &f, NOW, &mut run.rng));
    }
    // A bad envelope: a length that is not the rest of the frame.
    let mut f = frame(5, &functions::ReqPqMulti { nonce: [1; 16] });
    f[16] = 5;
    let e = refused(run.server.handle(&server_cfg(), &f, NOW, &mut run.rng));
    assert!(matches!(e, HandshakeError::BadEnvelope(_)));
}

#[test]
fn a_taken_key_id_gets_retry_and_the_client_may_retry_with_the_aux_hash() {
    let mut run = Run::new(21);
    let cfg = client_cfg(RsaScheme::RsaPad, InnerData::Plain);
    let (s1, req) = client::start(&mut run.rng);
    let res: enums::ResPQ = reply(run.send(&req));
    let (s2, req) = s1.handle_res_pq(res, &cfg, &mut run.rng).unwrap();
    let dh: enums::ServerDHParams = reply(run.send(&req));
    let (s3, req, _) = s2.handle_server_dh_params(dh, &mut run.rng).unwrap();
    let HandshakeOutput::KeyReady(ready) = run.send(&req) else {
        panic!()
    };
    let (key, answer) = run.server.finish(ready, KeyDecision::Taken, NOW);
    assert!(key.is_none());
    let answer = enums::SetClientDHParamsAnswer::from_bytes(parse_server(&answer).1).unwrap();
    assert!(matches!(
        answer,
        enums::SetClientDHParamsAnswer::DhGenRetry(_)
    ));
    assert_eq!(
        s3.handle_dh_gen(answer).unwrap_err(),
        client::ClientHandshakeError::DhGen("dh_gen_retry"),
        "the retry carries a valid new_nonce_hash2"
    );
    assert_eq!(
        run.server.in_progress(),
        1,
        "the handshake stays open for the retry"
    );
    // A second attempt with retry_id 0 is refused: the server expects the aux_hash now.
    let e = refused(run.send(&req));
    assert!(
        matches!(e, HandshakeError::BadRetryId { got: 0, .. }),
        "{e}"
    );
}

#[test]
fn a_failed_store_answers_dh_gen_fail() {
    let mut run = Run::new(22);
    let cfg = client_cfg(RsaScheme::Legacy, InnerData::Plain);
    let (s1, req) = client::start(&mut run.rng);
    let res: enums::ResPQ = reply(run.send(&req));
    let (s2, req) = s1.handle_res_pq(res, &cfg, &mut run.rng).unwrap();
    let dh: enums::ServerDHParams = reply(run.send(&req));
    let (s3, req, _) = s2.handle_server_dh_params(dh, &mut run.rng).unwrap();
    let HandshakeOutput::KeyReady(ready) = run.send(&req) else {
        panic!()
    };
    let (key, answer) = run.server.finish(ready, KeyDecision::Failed, NOW);
    assert!(key.is_none());
    let answer = enums::SetClientDHParamsAnswer::from_bytes(parse_server(&answer).1).unwrap();
    assert_eq!(
        s3.handle_dh_gen(answer).unwrap_err(),
        client::ClientHandshakeError::DhGen("dh_gen_fail")
    );
    assert_eq!(run.server.in_progress(), 0);
}

#[test]
fn too_many_concurrent_handshakes_are_refused() {
    let mut run = Run::new(5);
    for i in 0..mtproto_auth::handshake::MAX_PER_CONNECTION {
        let _: enums::ResPQ = reply(run.send(&functions::ReqPqMulti {
            nonce: [i as u8; 16],
        }));
    }
    let e = refused(run.send(&functions::ReqPqMulti { nonce: [0xee; 16] }));
    assert_eq!(e, HandshakeError::TooManyHandshakes);
}
