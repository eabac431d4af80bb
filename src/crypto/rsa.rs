//! The server's RSA-2048 key (HS-2 … HS-4) [doc: mtproto/auth_key]: generation, PKCS#1 PEM
//! files, the MTProto fingerprint, the raw public operation (client side) and the raw private
//! operation (server side).
//!
//! The private operation is OpenSSL's `RSA_private_decrypt` without padding (MTProto's RSA_PAD
//! is its own), on the system libssl: it is blinded (`c' = c·r^e` with a fresh `r`, OpenSSL's
//! default), runs both CRT halves in constant time (`BN_mod_exp_mont_consttime`), and checks
//! `m^e = c` before answering, redoing the work without CRT if a half was faulty (a faulty
//! half would otherwise leak a factor). RustCrypto `rsa` is not used (RUSTSEC-2023-0071, and no
//! raw operation).

use base64::Engine as _;
use num_bigint::BigUint;
use num_traits::Zero;
use openssl::pkey::Private;
use openssl::rsa::{Padding, Rsa};
use zeroize::Zeroize;

use super::bignum::{is_probable_prime, to_fixed_be, wipe};
use super::modexp::bignum;
use super::sha1;
use crate::rand::Rng;

/// Modulus size in bytes: MTProto's encrypted_data is exactly 256 bytes (HS-3).
pub const MODULUS_BYTES: usize = 256;
const PUBLIC_EXPONENT: u32 = 65537;

/// An RSA public key (n, e).
#[derive(Clone, PartialEq, Eq)]
pub struct RsaPublicKey {
    n: BigUint,
    e: BigUint,
}

/// An RSA private key. Its secret parts live only inside OpenSSL, which does the private
/// operation and writes the PEM file, and clears them when the key is freed (`RSA_free`).
/// `Debug` shows the fingerprint only.
pub struct RsaPrivateKey {
    public: RsaPublicKey,
    openssl: Rsa<Private>,
}

/// Why a PEM file was not accepted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PemError {
    /// No `-----BEGIN {label}-----` … `-----END {label}-----` block.
    NoBlock { label: &'static str },
    /// The base64 inside the block does not decode.
    Base64,
    /// The DER structure is not the PKCS#1 one.
    Der { at: usize },
    /// The numbers do not form a usable 2048-bit key.
    InvalidKey(&'static str),
}

impl std::fmt::Display for PemError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            PemError::NoBlock { label } => write!(f, "no '{label}' PEM block"),
            PemError::Base64 => write!(f, "PEM body is not valid base64"),
            PemError::Der { at } => write!(f, "malformed PKCS#1 DER at byte {at}"),
            PemError::InvalidKey(why) => write!(f, "invalid RSA key: {why}"),
        }
    }
}

impl std::error::Error for PemError {}

impl RsaPublicKey {
    pub fn new(n: BigUint, e: BigUint) -> Self {
        RsaPublicKey { n, e }
    }

    pub fn n(&self) -> &BigUint {
        &self.n
    }

    /// MTProto fingerprint: `SHA1(TL(n) ‖ TL(e))[12..20]` as a LE int64, `TL(x)` the TL bytes
    /// of the minimal big-endian encoding (HS-2).
    pub fn fingerprint(&self) -> i64 {
        let mut buf = Vec::new();
        crate::tl::write_bytes(&mut buf, &self.n.to_bytes_be());
        crate::tl::write_bytes(&mut buf, &self.e.to_bytes_be());
        let h = sha1(&[&buf]);
        i64::from_le_bytes(h[12..20].try_into().expect("8 bytes"))
    }

    /// Raw `m^e mod n` of a 256-byte big-endian value; `None` if `m ≥ n` (the client then
    /// draws new padding, HS-5).
    pub fn encrypt_raw(&self, m: &[u8; MODULUS_BYTES]) -> Option<[u8; MODULUS_BYTES]> {
        let m = BigUint::from_bytes_be(m);
        if m >= self.n {
            return None;
        }
        to_fixed_be(&m.modpow(&self.e, &self.n))
    }

    /// `-----BEGIN RSA PUBLIC KEY-----` (PKCS#1), the form Telethon's `add_key`, Kurigram and
    /// TDLib read.
    pub fn to_pkcs1_pem(&self) -> String {
        pem("RSA PUBLIC KEY", &der_sequence(&[&self.n, &self.e]))
    }

    pub fn from_pkcs1_pem(text: &str) -> Result<Self, PemError> {
        let der = unpem(text, "RSA PUBLIC KEY")?;
        let ints = der_parse_sequence(&der)?;
        let [n, e] = <[BigUint; 2]>::try_from(ints).map_err(|_| PemError::Der { at: 0 })?;
        check_public(&n, &e)?;
        Ok(RsaPublicKey { n, e })
    }
}

fn check_public(n: &BigUint, e: &BigUint) -> Result<(), PemError> {
    if n.bits() != 8 * MODULUS_BYTES as u64 {
        return Err(PemError::InvalidKey("modulus is not 2048 bits"));
    }
    if *e < BigUint::from(3u32) || !e.bit(0) {
        return Err(PemError::InvalidKey(
            "public exponent must be odd and at least 3",
        ));
    }
    Ok(())
}

impl std::fmt::Debug for RsaPublicKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "RsaPublicKey({:016x})", self.fingerprint() as u64)
    }
}

impl RsaPrivateKey {
    /// A fresh 2048-bit key with e = 65537: two 1024-bit primes with their top two bits set (so
    /// that n has exactly 2048 bits).
    pub fn generate(rng: &mut impl Rng) -> Self {
        let e = BigUint::from(PUBLIC_EXPONENT);
        loop {
            let p = random_prime(1024, &e, rng);
            let q = random_prime(1024, &e, rng);
            if p == q {
                continue;
            }
            if let Ok(key) = Self::from_primes(p, q, e.clone()) {
                return key;
            }
        }
    }

    /// The key from its primes; fails if they do not give a 2048-bit modulus or e is not
    /// invertible.
    pub fn from_primes(p: BigUint, q: BigUint, e: BigUint) -> Result<Self, PemError> {
        let (mut p, mut q) = if p > q { (p, q) } else { (q, p) };
        let n = &p * &q;
        check_public(&n, &e)?;
        let p1 = &p - 1u32;
        let q1 = &q - 1u32;
        let mut phi = &p1 * &q1;
        let mut d = e
            .modinv(&phi)
            .ok_or(PemError::InvalidKey("e is not invertible"))?;
        let mut qinv = q
            .modinv(&p)
            .ok_or(PemError::InvalidKey("q is not invertible mod p"))?;
        let mut dp = &d % &p1;
        let mut dq = &d % &q1;
        let openssl = Rsa::from_private_components(
            bignum(&n),
            bignum(&e),
            bignum(&d),
            bignum(&p),
            bignum(&q),
            bignum(&dp),
            bignum(&dq),
            bignum(&qinv),
        );
        // OpenSSL holds its own copy from here on.
        for x in [
            &mut d, &mut p, &mut q, &mut dp, &mut dq, &mut qinv, &mut phi,
        ] {
            wipe(x);
        }
        let openssl = openssl.map_err(|_| PemError::InvalidKey("OpenSSL refused the key"))?;
        Ok(RsaPrivateKey {
            public: RsaPublicKey { n, e },
            openssl,
        })
    }

    pub fn public(&self) -> &RsaPublicKey {
        &self.public
    }

    pub fn fingerprint(&self) -> i64 {
        self.public.fingerprint()
    }

    /// Blinded raw `c^d mod n` (HS-4). `None` if `c ≥ n` (HS-3) or OpenSSL refuses.
    pub fn decrypt_raw(&self, c: &[u8; MODULUS_BYTES]) -> Option<[u8; MODULUS_BYTES]> {
        let mut m = [0u8; MODULUS_BYTES];
        match self.openssl.private_decrypt(c, &mut m, Padding::NONE) {
            Ok(MODULUS_BYTES) => Some(m),
            _ => {
                m.zeroize();
                None
            }
        }
    }

    /// `-----BEGIN RSA PRIVATE KEY-----` (PKCS#1 RSAPrivateKey, version 0), as OpenSSL writes it.
    pub fn to_pkcs1_pem(&self) -> String {
        let pem = self
            .openssl
            .private_key_to_pem()
            .expect("OpenSSL writes a key it holds");
        String::from_utf8(pem).expect("PEM is ASCII")
    }

    /// Reads a PKCS#1 private key and checks that its parts agree.
    pub fn from_pkcs1_pem(text: &str) -> Result<Self, PemError> {
        let mut der = unpem(text, "RSA PRIVATE KEY")?;
        let parsed = der_parse_sequence(&der);
        zeroize::Zeroize::zeroize(&mut der);
        let ints = parsed?;
        let [version, n, e, _d, p, q, _dp, _dq, _qinv] =
            <[BigUint; 9]>::try_from(ints).map_err(|_| PemError::Der { at: 0 })?;
        if !version.is_zero() {
            return Err(PemError::InvalidKey(
                "only two-prime keys (version 0) are read",
            ));
        }
        let key = Self::from_primes(p, q, e)?;
        if key.public.n != n {
            return Err(PemError::InvalidKey("n is not p·q"));
        }
        Ok(key)
    }
}

impl std::fmt::Debug for RsaPrivateKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "RsaPrivateKey({:016x})", self.fingerprint() as u64)
    }
}

/// A random prime of exactly `bits` bits with its top two bits set and `gcd(e, p − 1) = 1`.
fn random_prime(bits: u64, e: &BigUint, rng: &mut impl Rng) -> BigUint {
    let mut buf = vec![0u8; bits.div_ceil(8) as usize];
    loop {
        rng.fill(&mut buf);
        buf[0] |= 0xc0;
        let last = buf.len() - 1;
        buf[last] |= 1;
        let mut candidate = BigUint::from_bytes_be(&buf);
        // Walk odd numbers from the random start: cheap trial division discards most.
        for _ in 0..2048 {
            if candidate.bits() != bits {
                break;
            }
            if ((&candidate - 1u32) % e) != BigUint::zero() && is_probable_prime(&candidate, 5, rng)
            {
                zeroize::Zeroize::zeroize(&mut buf);
                return candidate;
            }
            candidate += 2u32;
        }
    }
}

// ---- PEM and the two PKCS#1 DER structures (SEQUENCE of INTEGERs) ----

fn pem(label: &str, der: &[u8]) -> String {
    let b64 = base64::engine::general_purpose::STANDARD.encode(der);
    let mut out = format!("-----BEGIN {label}-----\n");
    for line in b64.as_bytes().chunks(64) {
        out.push_str(std::str::from_utf8(line).expect("base64 is ASCII"));
        out.push('\n');
    }
    out.push_str(&format!("-----END {label}-----\n"));
    out
}

fn unpem(text: &str, label: &'static str) -> Result<Vec<u8>, PemError> {
    let begin = format!("-----BEGIN {label}-----");
    let end = format!("-----END {label}-----");
    let start = text.find(&begin).ok_or(PemError::NoBlock { label })? + begin.len();
    let stop = text[start..]
        .find(&end)
        .ok_or(PemError::NoBlock { label })?
        + start;
    let body: String = text[start..stop]
        .chars()
        .filter(|c| !c.is_ascii_whitespace())
        .collect();
    base64::engine::general_purpose::STANDARD
        .decode(body)
        .map_err(|_| PemError::Base64)
}

fn der_len(out: &mut Vec<u8>, len: usize) {
    if len < 0x80 {
        out.push(len as u8);
    } else {
        let bytes = len.to_be_bytes();
        let skip = bytes.iter().take_while(|&&b| b == 0).count();
        out.push(0x80 | (bytes.len() - skip) as u8);
        out.extend_from_slice(&bytes[skip..]);
    }
}

fn der_sequence(ints: &[&BigUint]) -> Vec<u8> {
    let mut body = Vec::new();
    for x in ints {
        let mut content = x.to_bytes_be();
        if content[0] & 0x80 != 0 {
            content.insert(0, 0);
        }
        body.push(0x02);
        der_len(&mut body, content.len());
        body.extend_from_slice(&content);
        zeroize::Zeroize::zeroize(&mut content);
    }
    let mut out = vec![0x30];
    der_len(&mut out, body.len());
    out.extend_from_slice(&body);
    zeroize::Zeroize::zeroize(&mut body);
    out
}

/// Reads one tag-length header at `at`; returns (tag, content start, content end).
fn der_header(der: &[u8], at: usize) -> Result<(u8, usize, usize), PemError> {
    let bad = PemError::Der { at };
    let tag = *der.get(at).ok_or(bad.clone())?;
    let first = *der.get(at + 1).ok_or(bad.clone())?;
    let (len, start) = if first < 0x80 {
        (first as usize, at + 2)
    } else {
        let n = (first & 0x7f) as usize;
        if n == 0 || n > 4 {
            return Err(bad);
        }
        let bytes = der.get(at + 2..at + 2 + n).ok_or(bad.clone())?;
        let len = bytes.iter().fold(0usize, |acc, &b| (acc << 8) | b as usize);
        (len, at + 2 + n)
    };
    let end = start.checked_add(len).ok_or(bad.clone())?;
    if end > der.len() {
        return Err(bad);
    }
    Ok((tag, start, end))
}

fn der_parse_sequence(der: &[u8]) -> Result<Vec<BigUint>, PemError> {
    let (tag, mut at, end) = der_header(der, 0)?;
    if tag != 0x30 || end != der.len() {
        return Err(PemError::Der { at: 0 });
    }
    let mut ints = Vec::new();
    while at < end {
        let (tag, start, stop) = der_header(der, at)?;
        if tag != 0x02 || start == stop {
            return Err(PemError::Der { at });
        }
        ints.push(BigUint::from_bytes_be(&der[start..stop]));
        at = stop;
        if ints.len() > 9 {
            return Err(PemError::Der { at });
        }
    }
    Ok(ints)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rand::SeededRng;

    /// A fixed test key: generating one in a debug build takes seconds.
    pub(crate) fn test_key() -> RsaPrivateKey {
        RsaPrivateKey::from_pkcs1_pem(include_str!("../../tests/fixtures/rsa_private.pem")).unwrap()
    }

    #[test]
    fn pem_round_trips_and_public_key_is_pkcs1() {
        let key = test_key();
        let again = RsaPrivateKey::from_pkcs1_pem(&key.to_pkcs1_pem()).unwrap();
        assert_eq!(again.public(), key.public());
        let public_pem = key.public().to_pkcs1_pem();
        assert!(public_pem.starts_with("-----BEGIN RSA PUBLIC KEY-----\n"));
        assert_eq!(
            &RsaPublicKey::from_pkcs1_pem(&public_pem).unwrap(),
            key.public()
        );
    }

    #[test]
    fn blinded_private_operation_inverts_the_public_one() {
        let key = test_key();
        let mut rng = SeededRng::new(3);
        for _ in 0..3 {
            let mut m: [u8; 256] = rng.array();
            m[0] = 0;
            let c = key.public().encrypt_raw(&m).unwrap();
            assert_eq!(key.decrypt_raw(&c), Some(m));
        }
        // c ≥ n is refused (HS-3).
        assert_eq!(key.decrypt_raw(&[0xff; 256]), None);
    }

    #[test]
    fn malformed_pem_is_refused_with_a_reason() {
        assert_eq!(
            RsaPublicKey::from_pkcs1_pem("nothing").unwrap_err(),
            PemError::NoBlock {
                label: "RSA PUBLIC KEY"
            }
        );
        let bad = "-----BEGIN RSA PUBLIC KEY-----\nMAMCAQE=\n-----END RSA PUBLIC KEY-----\n";
        assert!(RsaPublicKey::from_pkcs1_pem(bad).is_err());
        let truncated = test_key().public().to_pkcs1_pem().replace("\n", "");
        let cut = truncated.replace("-----END", "AAAA-----END");
        assert!(RsaPublicKey::from_pkcs1_pem(&cut).is_err());
    }

    /// Telegram's production key as Telethon 1.45 ships it; Telethon computes its fingerprint
    /// as 0x0bc35f3509f7b7a5 (HS-2).
    #[test]
    fn fingerprint_of_telegrams_production_key() {
        let pem = "-----BEGIN RSA PUBLIC KEY-----
MIIBCgKCAQEAruw2yP/BCcsJliRoW5eBVBVle9dtjJw+OYED160Wybum9SXtBBLX
riwt4rROd9csv0t0OHCaTmRqBcQ0J8fxhN6/cpR1GWgOZRUAiQxoMnlt0R93LCX/
j1dnVa/gVbCjdSxpbrfY2g2L4frzjJvdl84Kd9ORYjDEAyFnEA7dD556OptgLQQ2
e2iVNq8NZLYTzLp5YpOdO1doK+ttrltggTCy5SrKeLoCPPbOgGsdxJxyz5KKcZnS
Lj16yE5HvJQn0CNpRdENvRUXe6tBP78O39oJ8BTHp9oIjd6XWXAsp2CvK45Ol8wF
XGF710w9lwCGNbmNxNYhtIkdqfsEcwR5JwIDAQAB
-----END RSA PUBLIC KEY-----";
        let key = RsaPublicKey::from_pkcs1_pem(pem).unwrap();
        assert_eq!(key.fingerprint() as u64, 0x0bc35f3509f7b7a5);
    }

    #[test]
    fn generated_keys_work() {
        let key = RsaPrivateKey::generate(&mut SeededRng::new(9));
        let mut m = [7u8; 256];
        m[0] = 0;
        let c = key.public().encrypt_raw(&m).unwrap();
        assert_eq!(key.decrypt_raw(&c), Some(m));
    }
}
