//! The server's public-key work per new auth key (`cargo bench --bench crypto`): one blinded
//! RSA-2048 private operation, g^a by the generator's comb (with the generic modpow it replaced
//! as the baseline, in the same run), and g_b^a.

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

criterion_group!(benches, handshake_work);
criterion_main!(benches);
