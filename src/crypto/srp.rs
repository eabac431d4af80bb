//! Two-step verification's SRP (SR-1 … SR-5) [doc: api/srp]: the
//! `passwordKdfAlgoSHA256SHA256PBKDF2HMACSHA512iter100000SHA256ModPow` algorithm over the
//! handshake's group (p = [`DH_PRIME`], g = 3), sans-IO.
//!
//! ```text
//! H(x) = SHA256(x);  SH(d, s) = H(s ‖ d ‖ s);  PH1 = SH(SH(password, salt1), salt2)
//! x = SH(PBKDF2-HMAC-SHA512(PH1, salt1, 100000, 64 bytes), salt2);  v = g^x
//! k = H(pad(p) ‖ pad(g));  u = H(pad(A) ‖ pad(B));  B = (k·v + g^b) mod p
//! S = (A · v^u)^b;  K = H(pad(S));  M1 = H(H(pad(p)) ⊕ H(pad(g)) ‖ H(salt1) ‖ H(salt2) ‖ pad(A) ‖ pad(B) ‖ K)
//! ```
//!
//! The server keeps only v and the salts (SR-2); its side is [`Challenge`]. The client side
//! ([`password_hash`], [`verifier`], [`client_proof`]) is for our client library and the tests.

use hmac::{Hmac, KeyInit, Mac};
use num_bigint::BigUint;
use num_traits::Zero;
use subtle::ConstantTimeEq;
use zeroize::Zeroize;

use super::bignum::{to_fixed_be, wipe};
use super::dh::{g_pow, in_safe_range, prime, DH_PRIME, EXPONENT_BYTES, G};
use super::modexp::pow_secret;
use super::sha256;
use crate::rand::Rng;

/// PBKDF2 iterations of the algorithm's name.
pub const PBKDF2_ITERATIONS: u32 = 100_000;

/// `pad(g)`: g as 256 big-endian bytes.
fn g_padded() -> [u8; 256] {
    let mut g = [0u8; 256];
    g[252..].copy_from_slice(&G.to_be_bytes());
    g
}

/// `k = H(pad(p) ‖ pad(g))`.
fn k() -> BigUint {
    BigUint::from_bytes_be(&sha256(&[&DH_PRIME, &g_padded()]))
}

/// `u = H(pad(A) ‖ pad(B))`.
fn u(a: &[u8; 256], b: &[u8; 256]) -> BigUint {
    BigUint::from_bytes_be(&sha256(&[a, b]))
}

fn pad(x: &BigUint) -> [u8; 256] {
    to_fixed_be(x).expect("reduced mod a 2048-bit prime")
}

/// `M1 = H(H(pad(p)) ⊕ H(pad(g)) ‖ H(salt1) ‖ H(salt2) ‖ pad(A) ‖ pad(B) ‖ K)`.
fn m1(salt1: &[u8], salt2: &[u8], a: &[u8; 256], b: &[u8; 256], key: &[u8; 32]) -> [u8; 32] {
    let hp = sha256(&[&DH_PRIME]);
    let hg = sha256(&[&g_padded()]);
    let mut x = [0u8; 32];
    for (i, b) in x.iter_mut().enumerate() {
        *b = hp[i] ^ hg[i];
    }
    sha256(&[&x, &sha256(&[salt1]), &sha256(&[salt2]), a, b, key])
}

/// PBKDF2-HMAC-SHA512 with a 64-byte output: one block (RFC 8018 §5.2).
pub fn pbkdf2_sha512(password: &[u8], salt: &[u8], iterations: u32) -> [u8; 64] {
    let mac = <Hmac<sha2::Sha512> as KeyInit>::new_from_slice(password).expect("any key length");
    let mut first = mac.clone();
    first.update(salt);
    first.update(&1u32.to_be_bytes());
    let mut u: [u8; 64] = first.finalize().into_bytes().into();
    let mut out = u;
    for _ in 1..iterations {
        let mut next = mac.clone();
        next.update(&u);
        u = next.finalize().into_bytes().into();
        for (o, b) in out.iter_mut().zip(u.iter()) {
            *o ^= b;
        }
    }
    u.zeroize();
    out
}

/// x, the password's hash (`PH2`), from the UTF-8 password and the algo's salts.
pub fn password_hash(password: &[u8], salt1: &[u8], salt2: &[u8]) -> [u8; 32] {
    let mut ph1 = sha256(&[salt1, password, salt1]);
    ph1 = sha256(&[salt2, &ph1, salt2]);
    let mut slow = pbkdf2_sha512(&ph1, salt1, PBKDF2_ITERATIONS);
    let x = sha256(&[salt2, &slow, salt2]);
    ph1.zeroize();
    slow.zeroize();
    x
}

/// `v = g^x mod p`, the verifier a client sends as `new_password_hash` (SR-5).
pub fn verifier(x: &[u8; 32]) -> [u8; 256] {
    pad(&g_pow(&BigUint::from_bytes_be(x)))
}

/// SR-5: a verifier the server accepts: 256 bytes, `1 < v < p`.
pub fn verifier_ok(v: &[u8]) -> bool {
    if v.len() != 256 {
        return false;
    }
    let n = BigUint::from_bytes_be(v);
    n > BigUint::from(1u32) && n < prime()
}

/// The server's half of one check: `b` and `B` for a stored verifier (SR-3). `b` is wiped on
/// drop.
pub struct Challenge {
    b: BigUint,
    /// `pad(B)`, sent as `srp_B`.
    pub srp_b: [u8; 256],
}

impl std::fmt::Debug for Challenge {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Challenge { .. }")
    }
}

impl Drop for Challenge {
    fn drop(&mut self) {
        wipe(&mut self.b);
    }
}

/// Why an inputCheckPasswordSRP was refused: every case is PASSWORD_HASH_INVALID on the wire.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SrpError {
    /// |A| > 256 bytes, or A outside `2^1984 ≤ A ≤ p − 2^1984` (SR-4).
    BadA,
    /// u = 0.
    ZeroU,
    /// M1 does not match: the wrong password.
    WrongProof,
}

impl Challenge {
    /// Draws `b` (320 random bits, as the DH exponent: `dh::EXPONENT_BYTES`) until `g^b` is
    /// inside the safe range and B ≠ 0 (SR-3: Telethon and GramJS check g^b = B − k·v).
    pub fn new(v: &[u8; 256], rng: &mut impl Rng) -> Challenge {
        loop {
            let mut bytes: [u8; EXPONENT_BYTES] = rng.array();
            let b = BigUint::from_bytes_be(&bytes);
            bytes.zeroize();
            if let Some(c) = Challenge::with_secret(v, b) {
                return c;
            }
        }
    }

    /// The challenge of secret `b`, if its g^b and B pass SR-3.
    fn with_secret(v: &[u8; 256], mut b: BigUint) -> Option<Challenge> {
        let p = prime();
        let g_b = g_pow(&b);
        let big_b = (k() * BigUint::from_bytes_be(v) + &g_b) % &p;
        if !in_safe_range(&g_b, &p) || big_b.is_zero() {
            wipe(&mut b);
            return None;
        }
        Some(Challenge {
            b,
            srp_b: pad(&big_b),
        })
    }

    /// SR-4: checks the client's `A` and `M1` against the verifier `v` and the salts. M1 is
    /// compared in constant time.
    pub fn verify(
        &self,
        v: &[u8; 256],
        salt1: &[u8],
        salt2: &[u8],
        a: &[u8],
        client_m1: &[u8],
    ) -> Result<(), SrpError> {
        let p = prime();
        if a.len() > 256 {
            return Err(SrpError::BadA);
        }
        let big_a = BigUint::from_bytes_be(a);
        // 2^1984 ≤ A ≤ p − 2^1984, which implies SRP-6a's 1 < A < p − 1.
        if !in_safe_range(&big_a, &p) {
            return Err(SrpError::BadA);
        }
        let a_padded = pad(&big_a);
        let u = u(&a_padded, &self.srp_b);
        if u.is_zero() {
            return Err(SrpError::ZeroU);
        }
        // v stands for the password: both steps run in constant time (modexp::pow_secret).
        let mut v = BigUint::from_bytes_be(v);
        let mut v_u = BigUint::from_bytes_be(&pow_secret::<256>(&v, &u, &p).expect("odd p"));
        let mut base = big_a * &v_u % &p;
        let mut s: [u8; 256] = pow_secret(&base, &self.b, &p).expect("odd p");
        let mut key = sha256(&[&s]);
        for x in [&mut v, &mut v_u, &mut base] {
            wipe(x);
        }
        s.zeroize();
        let expected = m1(salt1, salt2, &a_padded, &self.srp_b, &key);
        key.zeroize();
        if bool::from(expected.ct_eq(client_m1)) {
            Ok(())
        } else {
            Err(SrpError::WrongProof)
        }
    }
}

/// The client's `(A, M1)` for the password's hash `x` against the server's `srp_B`
/// (api/srp; Telethon's `compute_check`). `None` if `srp_B` is out of range or g^b = B − k·v
/// is not (the client's SR-3 checks).
pub fn client_proof(
    x: &[u8; 32],
    salt1: &[u8],
    salt2: &[u8],
    srp_b: &[u8],
    rng: &mut impl Rng,
) -> Option<([u8; 256], [u8; 32])> {
    let p = prime();
    if srp_b.len() > 256 {
        return None;
    }
    let big_b = BigUint::from_bytes_be(srp_b);
    if big_b.is_zero() || big_b >= p {
        return None;
    }
    let b_padded = pad(&big_b);
    let x_n = BigUint::from_bytes_be(x);
    let kv = k() * g_pow(&x_n) % &p;
    let g_b = (&big_b + &p - kv) % &p;
    if !in_safe_range(&g_b, &p) {
        return None;
    }
    loop {
        let mut bytes: [u8; EXPONENT_BYTES] = rng.array();
        let a = BigUint::from_bytes_be(&bytes);
        bytes.zeroize();
        if let Some(proof) = proof_with_secret(&x_n, salt1, salt2, &g_b, &b_padded, a) {
            return Some(proof);
        }
    }
}

/// `(pad(A), M1)` for the client's secret `a`, if A and u pass.
fn proof_with_secret(
    x: &BigUint,
    salt1: &[u8],
    salt2: &[u8],
    g_b: &BigUint,
    b_padded: &[u8; 256],
    mut a: BigUint,
) -> Option<([u8; 256], [u8; 32])> {
    let p = prime();
    let big_a = g_pow(&a);
    let a_padded = pad(&big_a);
    let u = u(&a_padded, b_padded);
    if !in_safe_range(&big_a, &p) || u.is_zero() {
        wipe(&mut a);
        return None;
    }
    let mut exponent = &a + u * x;
    let mut s: [u8; 256] = pow_secret(g_b, &exponent, &p).expect("odd p");
    let mut key = sha256(&[&s]);
    let proof = m1(salt1, salt2, &a_padded, b_padded, &key);
    wipe(&mut a);
    wipe(&mut exponent);
    s.zeroize();
    key.zeroize();
    Some((a_padded, proof))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tools::tl_decode::parse_hex;

    fn hex(s: &str) -> Vec<u8> {
        parse_hex(s.as_bytes()).unwrap()
    }

    /// Computed with Telethon 1.45.0's `password.compute_hash`, `compute_digest` and
    /// `compute_check` (its os.urandom replaced by the fixed `a`), for the password
    /// "hunter2 ✓", salt1 = 1..=40, salt2 = 100..116 and a server secret b chosen here.
    const X: &str = "48dcce81185c8aa7bdd91ffa61d54e6719ed94573178bb8e36884a196edb960c";
    const V: &str = "b8074838b138fb30ded9a8161ce7f764883a3f404c001be035bcca3f85edb3547c85de1660c0e6b1445f52d529fcfccf26b1c83ad30936d1c293cb11c919e3028910646c63ff3a2bd55607ee201b0fcb28478a7424962e1b7d118b787101f7a4970211715556a826978c39a4121fda8ac8e2295f602a38a20d1b100329dae5033a141d14ea4be72781cd4f711c7501dd7693a4fd50e782268cf9ed75a0befff91fbe72c3a811ff9a3a1e362357c36efeba4e38fff87ede79fb0b687b6bf48a140224484f8bbd2f938c625ed47f5dee45994110ef75c905d3abf7a6a6ab66e5676a13534da1f85f85d90a875c32df0ca62eec3e05875b90fce2b1bdaf20ed7732";
    const B_SECRET: &str = "6456ab28c6d8f075679b3a7eaf2eeea0d40122e3309422bba700a3a79d116a8f2c23af9914f182b01bd2f77ef9d0e1887a24687fe00877d95a2f368bb19703936456ab28c6d8f075679b3a7eaf2eeea0d40122e3309422bba700a3a79d116a8f2c23af9914f182b01bd2f77ef9d0e1887a24687fe00877d95a2f368bb19703936456ab28c6d8f075679b3a7eaf2eeea0d40122e3309422bba700a3a79d116a8f2c23af9914f182b01bd2f77ef9d0e1887a24687fe00877d95a2f368bb19703936456ab28c6d8f075679b3a7eaf2eeea0d40122e3309422bba700a3a79d116a8f2c23af9914f182b01bd2f77ef9d0e1887a24687fe00877d95a2f368bb1970393";
    const SRP_B: &str = "69698a43ad8001d4484d8d8f547c0edc19f44e1ca3b1963ae6a615bfe6ccf9b1aaf1710101a456fee32b83be99f3e0e0bf01c27f290b15b334ccd58813fc3a7981fe2041c6b87d92a8eaa69219a73d7370cdc131102ed5ece07cbc42bb0a781dbb9e058a8da22717328bf2f19731fac7a3b76edfc84ca31a7f4b878d70ba03124dfb4dc76a6e2df0d0be2b50232d5ae30dff7a489c57fd30d45e14c15b926af44a9186dfee945dd554f80858a9bbc3ac744defcff46d748fb74f375aa005423a9f4040122a2716496dc3a9d33f29a084b1d1f1b424d99ceb52e4dbe9467d7b8460bac2fd11c1e4c6c57f7cd1fd53c81c5283a5edd776a2b35b322418c0f96820";
    const A_SECRET: &str = "d98e7a9dec9daf9be3c8a85fde2a139d1de561aeb52122c997ed0b6c81c9bfc64205b5d62f22228f2124a18a7ec03ace8e95d4a3e4c7bac8f0295fe6451b16d7d98e7a9dec9daf9be3c8a85fde2a139d1de561aeb52122c997ed0b6c81c9bfc64205b5d62f22228f2124a18a7ec03ace8e95d4a3e4c7bac8f0295fe6451b16d7d98e7a9dec9daf9be3c8a85fde2a139d1de561aeb52122c997ed0b6c81c9bfc64205b5d62f22228f2124a18a7ec03ace8e95d4a3e4c7bac8f0295fe6451b16d7d98e7a9dec9daf9be3c8a85fde2a139d1de561aeb52122c997ed0b6c81c9bfc64205b5d62f22228f2124a18a7ec03ace8e95d4a3e4c7bac8f0295fe6451b16d7";
    const A: &str = "b56e6668a9bd15fada885c638bd043ca3512cf770038f049f61b87b71fd94783b026b288474ca391ce03a72ca9c5758ae1bbd8c05c4bb99aa9641dc48079eb4477da0ab16673a35d1e4fa9943db40b89c5580e684c8cfc61926c55b75eb497873b1be918fde3bfaa6556a536e2d7cf5209d251c217d360d73ab0bc6ac9311f5f2392649db4b190aa82182c5cc93d98cd67153881c1a21757b00ef5fc36716dd89adcdbb334c4f1ed650e4d926de95241dd6a8be6566f199803faecbfdec96b0b04f3f0936beadc6fe3b776c608e56c5befef2162c21d1c236cbcd4e07a426a680f916555886b99432d77d5a6d0d3dc970069cdb0839671f31cc7d1d501e7ef83";
    const M1: &str = "1da49ea2b14dd4d226c2bf99d015f5547178f15fc784d5cf41af159ce4dc99bd";

    fn salts() -> (Vec<u8>, Vec<u8>) {
        ((1..=40).collect(), (100..116).collect())
    }

    fn v() -> [u8; 256] {
        hex(V).try_into().unwrap()
    }

    #[test]
    fn the_password_hash_and_verifier_match_telethon() {
        let (salt1, salt2) = salts();
        let x = password_hash("hunter2 ✓".as_bytes(), &salt1, &salt2);
        assert_eq!(x.to_vec(), hex(X));
        assert_eq!(verifier(&x), v());
        assert!(verifier_ok(&v()));
    }

    #[test]
    fn the_server_accepts_telethons_proof_and_computes_its_b() {
        let (salt1, salt2) = salts();
        let c = Challenge::with_secret(&v(), BigUint::from_bytes_be(&hex(B_SECRET))).unwrap();
        assert_eq!(c.srp_b.to_vec(), hex(SRP_B));
        assert_eq!(c.verify(&v(), &salt1, &salt2, &hex(A), &hex(M1)), Ok(()));
        // Any other proof, A or salt fails.
        let mut m1 = hex(M1);
        m1[31] ^= 1;
        assert_eq!(
            c.verify(&v(), &salt1, &salt2, &hex(A), &m1),
            Err(SrpError::WrongProof)
        );
        assert_eq!(
            c.verify(&v(), &salt2, &salt1, &hex(A), &hex(M1)),
            Err(SrpError::WrongProof)
        );
        assert_eq!(
            c.verify(&v(), &salt1, &salt2, &hex(A)[1..], &hex(M1)),
            Err(SrpError::WrongProof)
        );
    }

    #[test]
    fn our_client_proof_is_telethons() {
        let (salt1, salt2) = salts();
        let x: [u8; 32] = hex(X).try_into().unwrap();
        let p = prime();
        let b = BigUint::from_bytes_be(&hex(SRP_B));
        let g_b = (&b + &p - k() * g_pow(&BigUint::from_bytes_be(&x)) % &p) % &p;
        let b_padded: [u8; 256] = hex(SRP_B).try_into().unwrap();
        let (a, m1) = proof_with_secret(
            &BigUint::from_bytes_be(&x),
            &salt1,
            &salt2,
            &g_b,
            &b_padded,
            BigUint::from_bytes_be(&hex(A_SECRET)),
        )
        .unwrap();
        assert_eq!((a.to_vec(), m1.to_vec()), (hex(A), hex(M1)));
    }

    #[test]
    fn a_round_trip_with_random_secrets_and_every_range_check() {
        let mut rng = crate::rand::SeededRng::new(9);
        let (salt1, salt2) = salts();
        let x = [7u8; 32];
        let v = verifier(&x);
        let c = Challenge::new(&v, &mut rng);
        let (a, m1) = client_proof(&x, &salt1, &salt2, &c.srp_b, &mut rng).unwrap();
        assert_eq!(c.verify(&v, &salt1, &salt2, &a, &m1), Ok(()));
        // The wrong password.
        let (a2, m2) = client_proof(&[8u8; 32], &salt1, &salt2, &c.srp_b, &mut rng).unwrap_or(
            // B − k·v' outside the range for the wrong v' is refused by the client; any A and
            // M1 then.
            (a, [0u8; 32]),
        );
        assert_eq!(
            c.verify(&v, &salt1, &salt2, &a2, &m2),
            Err(SrpError::WrongProof)
        );
        // SR-4's ranges for A: 0, 1, 2^1984 − 1, p − 2^1984 + 1, p − 1, p, 257 bytes.
        let p = prime();
        let margin = BigUint::from(1u32) << 1984u32;
        let one = BigUint::from(1u32);
        for bad in [
            BigUint::zero(),
            one.clone(),
            &margin - &one,
            &p - &margin + &one,
            &p - &one,
            p.clone(),
        ] {
            assert_eq!(
                c.verify(&v, &salt1, &salt2, &bad.to_bytes_be(), &m1),
                Err(SrpError::BadA),
                "{bad:x}"
            );
        }
        assert_eq!(
            c.verify(&v, &salt1, &salt2, &[1u8; 257], &m1),
            Err(SrpError::BadA)
        );
        // The bounds themselves pass the range check (and fail the proof).
        for edge in [margin.clone(), &p - &margin] {
            assert_eq!(
                c.verify(&v, &salt1, &salt2, &edge.to_bytes_be(), &m1),
                Err(SrpError::WrongProof)
            );
        }
        assert!(!verifier_ok(&[0u8; 256]));
        assert!(!verifier_ok(&to_fixed_be::<256>(&one).unwrap()));
        assert!(!verifier_ok(&DH_PRIME));
        assert!(!verifier_ok(&v[1..]));
    }

    #[test]
    fn pbkdf2_sha512_of_rfc_6070_style_inputs() {
        // python3 -c "import hashlib; print(hashlib.pbkdf2_hmac('sha512', b'password', b'salt', 2).hex())"
        let out = pbkdf2_sha512(b"password", b"salt", 2);
        assert_eq!(
            crate::tools::tl_decode::parse_hex(
                b"e1d9c16aa681708a45f5c7c4e215ceb66e011a2e9f0040713f18aefdb866d53c\
                  f76cab2868a39b9f7840edce4fef5a82be67335c77a6068e04112754f27ccf4e"
            )
            .unwrap(),
            out.to_vec()
        );
    }
}
