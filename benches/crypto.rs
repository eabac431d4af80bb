//! The server's public-key work per new auth key (`cargo bench --bench crypto`): one blinded
//! RSA-2048 private operation, g^a by the generator's comb (with the generic modpow it replaced
//! as the baseline, in the same run), and g_b^a. Also the per-message envelope work of one
//! encrypted ping round trip (`bench rpc`): what each side adds to a plain framed echo.

use criterion::{criterion_group, criterion_main, Criterion};
use mtproto_auth::crypto::dh::{self, Exponent};
use mtproto_auth::crypto::rsa::RsaPrivateKey;
use mtproto_auth::rand::{Rng, SeededRng};
use num_bigint::BigUint;
use std::hint::black_box;

fn handshake_work(c: &mut Criterion) {
    let mut rng = SeededRng::new(3);
    let pem = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/rsa_private.pem"
    ))
    .unwrap();
    let key = RsaPrivateKey::from_pkcs1_pem(&pem).unwrap();
    let ciphertext = key.public().encrypt_raw(&[0x11; 256]).unwrap();
    let p = dh::prime();
    let client = Exponent::generate(&mut rng);
    let g_b = BigUint::from_bytes_be(&client.public);

    let mut group = c.benchmark_group("handshake");
    group.sample_size(20);
    group.bench_function("rsa2048 blinded private op", |b| {
        b.iter(|| key.decrypt_raw(black_box(&ciphertext), &mut rng))
    });
    group.bench_function("g^a (comb), with drawing a", |b| {
        b.iter(|| Exponent::generate(&mut rng))
    });
    group.bench_function("g^a (generic modpow)", |b| {
        let g = BigUint::from(dh::G);
        b.iter(|| {
            let a = BigUint::from_bytes_be(&rng.array::<256>());
            g.modpow(black_box(&a), &p)
        })
    });
    let server = Exponent::generate(&mut rng);
    group.bench_function("g_b^a", |b| b.iter(|| server.shared(black_box(&g_b))));
    group.finish();
}

fn envelope_work(c: &mut Criterion) {
    use mtproto_auth::crypto::{decrypt_message, encrypt_message, AuthKey};
    use mtproto_auth::session::engine::join_plaintext;
    use mtproto_auth::tl::Serializable;
    use mtproto_auth::Side;

    let key = AuthKey::from_bytes(std::array::from_fn(|i| (i * 7 + 3) as u8));
    let body = mtproto_auth::tl::functions::Ping { ping_id: 1 }.to_bytes();
    let plain = join_plaintext(1, 2, 3 << 32, 1, &body);
    let mut frame = Vec::new();
    encrypt_message(&key, Side::Client, &plain, &[9; 32], &mut frame);
    assert_eq!(frame.len(), 88, "the frame size bench rpc sends");

    let mut group = c.benchmark_group("envelope");
    group.bench_function("encrypt a ping (88-byte frame)", |b| {
        b.iter(|| {
            let mut out = Vec::with_capacity(96);
            encrypt_message(&key, Side::Client, black_box(&plain), &[9; 32], &mut out);
            out
        })
    });
    group.bench_function("decrypt a ping (88-byte frame)", |b| {
        b.iter(|| decrypt_message(&key, Side::Client, black_box(&frame)).unwrap())
    });
    group.finish();
}

criterion_group!(benches, handshake_work, envelope_work);
criterion_main!(benches);
