//! Cryptographic building blocks MTProto needs and no crate provides as such: AES-256-IGE over
//! byte buffers, the MTProto 2.0 message-key KDF, the handshake's temporary key, auth keys, and
//! the handshake's pq.
//! [doc: mtproto/description, mtproto/auth_key]

mod auth_key;
mod bignum;
pub mod bind;
pub mod dh;
mod envelope;
pub mod fixed_base;
mod ige;
pub mod modexp;
pub mod pq;
pub mod rsa;
pub mod rsa_pad;
pub mod srp;

pub use auth_key::AuthKey;
pub use bignum::{is_probable_prime, to_fixed_be};
pub use envelope::{
    decrypt_message, decrypt_message_into, encrypt_message, encrypt_message_padded, message_key_iv,
    msg_key, padding_len, EnvelopeError, MIN_PADDING,
};
pub use ige::{ige_decrypt, ige_encrypt};

use sha1::{Digest, Sha1};

/// SHA1 of the concatenation of `parts`.
pub fn sha1(parts: &[&[u8]]) -> [u8; 20] {
    let mut h = Sha1::new();
    for p in parts {
        h.update(p);
    }
    h.finalize().into()
}

/// SHA256 of the concatenation of `parts`.
pub fn sha256(parts: &[&[u8]]) -> [u8; 32] {
    let mut h = sha2::Sha256::new();
    for p in parts {
        h.update(p);
    }
    h.finalize().into()
}

/// The handshake's temporary AES key and IV (HS-11):
///
/// ```text
/// tmp_aes_key = SHA1(new_nonce ‖ server_nonce) ‖ SHA1(server_nonce ‖ new_nonce)[0..12]
/// tmp_aes_iv  = SHA1(server_nonce ‖ new_nonce)[12..20] ‖ SHA1(new_nonce ‖ new_nonce) ‖ new_nonce[0..4]
/// ```
pub fn handshake_key_iv(server_nonce: &[u8; 16], new_nonce: &[u8; 32]) -> ([u8; 32], [u8; 32]) {
    let a = sha1(&[new_nonce, server_nonce]);
    let b = sha1(&[server_nonce, new_nonce]);
    let c = sha1(&[new_nonce, new_nonce]);
    let mut key = [0u8; 32];
    key[..20].copy_from_slice(&a);
    key[20..].copy_from_slice(&b[..12]);
    let mut iv = [0u8; 32];
    iv[..8].copy_from_slice(&b[12..]);
    iv[8..28].copy_from_slice(&c);
    iv[28..].copy_from_slice(&new_nonce[..4]);
    (key, iv)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tools::tl_decode::parse_hex;

    fn arr<const N: usize>(hex: &str) -> [u8; N] {
        parse_hex(hex.as_bytes()).unwrap().try_into().unwrap()
    }

    /// core.telegram.org/mtproto/samples-auth_key (PROTOCOL-CHECKLIST §3).
    #[test]
    fn handshake_key_iv_of_the_official_sample() {
        let server_nonce = arr("E11DBC3BC97D91A26154F932AF019943");
        let new_nonce = arr("A8BBC849512DAC6C67B6EFD9157D6CA7377A1776307D84265C6BE9BDCF802AC1");
        let (key, iv) = handshake_key_iv(&server_nonce, &new_nonce);
        assert_eq!(
            key,
            arr::<32>("5EA702F743E850F5546E857F08B7D5337BBAEDF9B61248751594851BE2E8C297")
        );
        assert_eq!(
            iv,
            arr::<32>("1CEF8E372A63D97EBFA805C0DBB018BC7C1E0931693FBCB1A1AFC0C0A8BBC849")
        );
    }

    /// The same derivation on counting bytes, as grammers-crypto's tests give it.
    #[test]
    fn handshake_key_iv_of_counting_nonces() {
        let (key, iv) = handshake_key_iv(
            &std::array::from_fn(|i| i as u8),
            &std::array::from_fn(|i| i as u8),
        );
        assert_eq!(
            key,
            [
                7, 88, 241, 83, 59, 97, 93, 36, 246, 232, 169, 74, 111, 203, 238, 10, 85, 234, 171,
                34, 23, 215, 41, 92, 169, 33, 61, 26, 45, 125, 22, 166
            ]
        );
        assert_eq!(
            iv,
            [
                90, 132, 16, 142, 152, 5, 101, 108, 232, 100, 7, 14, 22, 110, 98, 24, 246, 120, 62,
                133, 17, 71, 26, 90, 183, 128, 44, 242, 0, 1, 2, 3
            ]
        );
    }
}
