//! The two ways a client wraps `p_q_inner_data` for the server's RSA key (HS-5 … HS-7)
//! [doc: mtproto/auth_key]:
//!
//! ```text
//! RSA_PAD (grammers, TDLib):
//!   data_with_padding = data ‖ random                      (192 bytes, data ≤ 144)
//!   data_with_hash    = reverse(data_with_padding) ‖ SHA256(temp_key ‖ data_with_padding)
//!   aes_encrypted     = AES256-IGE(data_with_hash, key = temp_key, iv = 0)       (224 bytes)
//!   m                 = (temp_key XOR SHA256(aes_encrypted)) ‖ aes_encrypted     (256 bytes, < n)
//! legacy (Telethon, Kurigram, pyrogram, GramJS):
//!   m                 = 00 ‖ SHA1(data) ‖ data ‖ random                           (256 bytes)
//! ```
//!
//! The server runs both decoders on every message and takes the one that verifies, so that which
//! check failed is not visible in the answer or in the time taken (HS-7).

use subtle::{Choice, ConstantTimeEq};

use super::rsa::{RsaPrivateKey, RsaPublicKey, MODULUS_BYTES};
use super::{ige_decrypt, ige_encrypt, sha1, sha256};
use crate::rand::Rng;
use crate::tl::{enums, Deserializable, Reader};
use zeroize::Zeroize;

/// Longest inner data RSA_PAD can carry.
pub const RSA_PAD_MAX_DATA: usize = 144;
/// Longest inner data the legacy scheme can carry (255 − 20).
pub const LEGACY_MAX_DATA: usize = 235;

/// The inner data did not decrypt and verify under either scheme. One error for every cause
/// (HS-7): RSA range, hashes, TL parse.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RsaPadError;

/// Which scheme a client used; reported for logs and tests.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scheme {
    RsaPad,
    Legacy,
}

/// Server side: decrypts `encrypted_data` and returns the inner data that verified.
pub fn decode(
    key: &RsaPrivateKey,
    encrypted_data: &[u8],
) -> Result<(enums::PQInnerData, Scheme), RsaPadError> {
    let Ok(c) = <&[u8; MODULUS_BYTES]>::try_from(encrypted_data) else {
        return Err(RsaPadError);
    };
    // A ciphertext ≥ n gets a dummy plaintext so that the rest of the work still happens.
    let (mut m, in_range) = match key.decrypt_raw(c) {
        Some(m) => (m, Choice::from(1)),
        None => ([0u8; MODULUS_BYTES], Choice::from(0)),
    };
    let (mut pad_data, pad_ok) = decode_rsa_pad(&m);
    let (mut legacy_data, legacy_ok) = decode_legacy(&m);
    // CH-2: the plaintext holds new_nonce.
    m.zeroize();
    let pad_ok = pad_ok & in_range;
    let legacy_ok = legacy_ok & in_range;
    // Select without branching on which check passed; both parses already ran. What is not
    // returned is wiped.
    let chosen = match (bool::from(pad_ok), bool::from(legacy_ok)) {
        (true, _) => pad_data.take().map(|d| (d, Scheme::RsaPad)),
        (false, true) => legacy_data.take().map(|d| (d, Scheme::Legacy)),
        _ => None,
    };
    for d in [&mut pad_data, &mut legacy_data].into_iter().flatten() {
        wipe_inner(d);
    }
    chosen.ok_or(RsaPadError)
}

/// Zeroes the one secret of the inner data, new_nonce (CH-2).
fn wipe_inner(d: &mut enums::PQInnerData) {
    match d {
        enums::PQInnerData::PQInnerData(d) => d.new_nonce.zeroize(),
        enums::PQInnerData::Dc(d) => d.new_nonce.zeroize(),
        enums::PQInnerData::Temp(d) => d.new_nonce.zeroize(),
        enums::PQInnerData::TempDc(d) => d.new_nonce.zeroize(),
    }
}

/// RSA_PAD: checks SHA256(temp_key ‖ data_with_padding) in constant time, then parses the
/// inner data from the front of data_with_padding (the rest is random padding).
fn decode_rsa_pad(m: &[u8; MODULUS_BYTES]) -> (Option<enums::PQInnerData>, Choice) {
    let (temp_key_xor, aes_encrypted) = m.split_at(32);
    let h = sha256(&[aes_encrypted]);
    let mut temp_key = [0u8; 32];
    for i in 0..32 {
        temp_key[i] = temp_key_xor[i] ^ h[i];
    }
    let mut data_with_hash = aes_encrypted.to_vec();
    let aligned = ige_decrypt(&mut data_with_hash, &temp_key, &[0u8; 32]);
    debug_assert!(aligned, "224 bytes");
    let mut data_with_padding = data_with_hash[..192].to_vec();
    data_with_padding.reverse();
    let expected = sha256(&[&temp_key, &data_with_padding]);
    let ok = expected.ct_eq(&data_with_hash[192..224]);
    let mut r = Reader::new(&data_with_padding);
    let parsed = enums::PQInnerData::deserialize(&mut r).ok();
    temp_key.zeroize();
    data_with_hash.zeroize();
    data_with_padding.zeroize();
    let parsed_ok = Choice::from(parsed.is_some() as u8);
    (parsed, ok & parsed_ok)
}

/// Legacy: `m[0] = 0`, TL-parse from m[21..], SHA1 over exactly the parsed bytes.
fn decode_legacy(m: &[u8; MODULUS_BYTES]) -> (Option<enums::PQInnerData>, Choice) {
    let data = &m[21..];
    let mut r = Reader::new(data);
    let parsed = enums::PQInnerData::deserialize(&mut r).ok();
    let used = if parsed.is_some() { r.position() } else { 0 };
    let h = sha1(&[&data[..used]]);
    let ok = h.ct_eq(&m[1..21]) & m[0].ct_eq(&0) & Choice::from(parsed.is_some() as u8);
    (parsed, ok)
}

/// Client side, RSA_PAD (HS-5). `data` at most 144 bytes.
pub fn encrypt_rsa_pad(
    key: &RsaPublicKey,
    data: &[u8],
    rng: &mut impl Rng,
) -> Option<[u8; MODULUS_BYTES]> {
    if data.len() > RSA_PAD_MAX_DATA {
        return None;
    }
    let mut data_with_padding = [0u8; 192];
    data_with_padding[..data.len()].copy_from_slice(data);
    rng.fill(&mut data_with_padding[data.len()..]);
    loop {
        let temp_key: [u8; 32] = rng.array();
        let mut data_with_hash = [0u8; 224];
        data_with_hash[..192].copy_from_slice(&data_with_padding);
        data_with_hash[..192].reverse();
        data_with_hash[192..].copy_from_slice(&sha256(&[&temp_key, &data_with_padding]));
        let aligned = ige_encrypt(&mut data_with_hash, &temp_key, &[0u8; 32]);
        debug_assert!(aligned, "224 bytes");
        let h = sha256(&[&data_with_hash]);
        let mut m = [0u8; MODULUS_BYTES];
        for i in 0..32 {
            m[i] = temp_key[i] ^ h[i];
        }
        m[32..].copy_from_slice(&data_with_hash);
        if let Some(c) = key.encrypt_raw(&m) {
            return Some(c);
        }
    }
}

/// Client side, legacy scheme (HS-6). `data` at most 235 bytes.
pub fn encrypt_legacy(
    key: &RsaPublicKey,
    data: &[u8],
    rng: &mut impl Rng,
) -> Option<[u8; MODULUS_BYTES]> {
    if data.len() > LEGACY_MAX_DATA {
        return None;
    }
    let mut m = [0u8; MODULUS_BYTES];
    m[1..21].copy_from_slice(&sha1(&[data]));
    m[21..21 + data.len()].copy_from_slice(data);
    rng.fill(&mut m[21 + data.len()..]);
    key.encrypt_raw(&m)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rand::SeededRng;
    use crate::tl::{types, Serializable};

    fn inner() -> enums::PQInnerData {
        types::PQInnerDataDc {
            pq: vec![0x17, 0xed, 0x48, 0x94, 0x1a, 0x08, 0xf9, 0x81],
            p: vec![0x49, 0x4c, 0x55, 0x3b],
            q: vec![0x53, 0x91, 0x10, 0x73],
            nonce: [1; 16],
            server_nonce: [2; 16],
            new_nonce: [3; 32],
            dc: 10002,
        }
        .into()
    }

    fn key() -> RsaPrivateKey {
        RsaPrivateKey::from_pkcs1_pem(include_str!("../../tests/fixtures/rsa_private.pem")).unwrap()
    }

    #[test]
    fn both_schemes_decode_to_the_inner_data() {
        let key = key();
        let mut rng = SeededRng::new(11);
        let data = inner().to_bytes();
        let c = encrypt_rsa_pad(key.public(), &data, &mut rng).unwrap();
        assert_eq!(decode(&key, &c), Ok((inner(), Scheme::RsaPad)));
        let c = encrypt_legacy(key.public(), &data, &mut rng).unwrap();
        assert_eq!(decode(&key, &c), Ok((inner(), Scheme::Legacy)));
    }

    #[test]
    fn every_corruption_gets_the_one_error() {
        let key = key();
        let mut rng = SeededRng::new(12);
        let data = inner().to_bytes();
        // Wrong length, c ≥ n, a flipped bit of each scheme, random bytes.
        assert_eq!(decode(&key, &[1; 255]), Err(RsaPadError));
        assert_eq!(decode(&key, &[0xff; 256]), Err(RsaPadError));
        for enc in [encrypt_rsa_pad, encrypt_legacy] {
            let mut c = enc(key.public(), &data, &mut rng).unwrap();
            c[100] ^= 1;
            assert_eq!(decode(&key, &c), Err(RsaPadError));
        }
        // Legacy with a wrong hash: encrypt m by hand.
        let mut m = [0u8; 256];
        m[21..21 + data.len()].copy_from_slice(&data);
        let c = key.public().encrypt_raw(&m).unwrap();
        assert_eq!(decode(&key, &c), Err(RsaPadError));
        // RSA_PAD with data that is not TL: the hash verifies, the parse fails.
        let c = encrypt_rsa_pad(key.public(), &[0xab; 100], &mut rng).unwrap();
        assert_eq!(decode(&key, &c), Err(RsaPadError));
        assert!(encrypt_rsa_pad(key.public(), &[0; 145], &mut rng).is_none());
    }
}
