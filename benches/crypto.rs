//! The server's public-key work per new auth key (`cargo bench --bench crypto`): one blinded
//! RSA-2048 private operation, g^a with drawing a, and g_b^a; with the arithmetic's choice
//! measured in the same run (one 2048-bit modular exponentiation in num-bigint, which the
//! server used before issue 15, and in OpenSSL's constant-time path, with the 320-bit exponents
//! of HS-13 and with 2048-bit ones). Also the per-message envelope work of one encrypted ping
//! round trip (`bench rpc`): what each side adds to a plain framed echo. And the client's
//! share of a key exchange that is not public-key work: factoring pq.

use criterion::{criterion_group, criterion_main, Criterion};
use mtproto_auth::crypto::dh::{self, Exponent};
use mtproto_auth::crypto::fixed_base;
use mtproto_auth::crypto::modexp::pow_secret;
use mtproto_auth::crypto::rsa::RsaPrivateKey;
use mtproto_auth::rand::{Rng, SeededRng};
use num_bigint::BigUint;
use std::hint::black_box;

fn modexp_choice(c: &mut Criterion) {
    let mut rng = SeededRng::new(4);
    let p = dh::prime();
    let base = BigUint::from_bytes_be(&rng.array::<256>()) % &p;
    let short = BigUint::from_bytes_be(&rng.array::<40>());
    let full = BigUint::from_bytes_be(&rng.array::<256>());
    let mut group = c.benchmark_group("modexp 2048-bit modulus");
    group.sample_size(20);
    for (name, e) in [("320-bit exponent", &short), ("2048-bit exponent", &full)] {
        group.bench_function(format!("num-bigint, {name}"), |b| {
            b.iter(|| black_box(&base).modpow(black_box(e), &p))
        });
        group.bench_function(format!("openssl constant-time, {name}"), |b| {
            b.iter(|| pow_secret::<256>(black_box(&base), black_box(e), &p).unwrap())
        });
    }
    let g = BigUint::from(dh::G);
    let short_bytes = short.to_bytes_be();
    group.bench_function("g^a: openssl constant-time, 320-bit exponent", |b| {
        b.iter(|| pow_secret::<256>(&g, black_box(&short), &p).unwrap())
    });
    group.bench_function("g^a: fixed-base comb, 320-bit exponent", |b| {
        b.iter(|| fixed_base::g_pow(black_box(&short_bytes)).unwrap())
    });
    group.finish();
}

fn handshake_work(c: &mut Criterion) {
    let mut rng = SeededRng::new(3);
    // A key as `serve` makes one (two 1024-bit primes). Not the test fixture: its primes are
    // 1,088 and 960 bits, which keeps OpenSSL off its equal-halves CRT path (3.4× slower).
    let key = RsaPrivateKey::generate(&mut rng);
    let ciphertext = key.public().encrypt_raw(&[0x11; 256]).unwrap();
    let client = Exponent::generate(&mut rng);
    let g_b = BigUint::from_bytes_be(&client.public);

    let mut group = c.benchmark_group("handshake");
    group.sample_size(20);
    group.bench_function("rsa2048 blinded private op", |b| {
        b.iter(|| key.decrypt_raw(black_box(&ciphertext)))
    });
    group.bench_function("g^a, with drawing a", |b| {
        b.iter(|| Exponent::generate(&mut rng))
    });
    let server = Exponent::generate(&mut rng);
    group.bench_function("g_b^a", |b| b.iter(|| server.shared(black_box(&g_b))));
    group.finish();
}

fn client_pq(c: &mut Criterion) {
    use mtproto_auth::crypto::pq::{factorize, Pq};
    let mut rng = SeededRng::new(5);
    // rho's time varies with the factors: the same 64 pqs, in turn.
    let pqs: Vec<u64> = (0..64)
        .map(|_| Pq::generate(|| rng.next_u32()).pq())
        .collect();
    let mut next = pqs.iter().cycle();
    c.bench_function("client: factor pq (two 31-bit primes)", |b| {
        b.iter(|| factorize(black_box(*next.next().unwrap())).unwrap())
    });
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

criterion_group!(
    benches,
    modexp_choice,
    handshake_work,
    client_pq,
    envelope_work
);
criterion_main!(benches);
