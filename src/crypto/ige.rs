//! AES-256-IGE over a byte buffer (EN-4), on RustCrypto's `ige`: `iv[0..16]` is the "previous
//! ciphertext" XORed in before AES, `iv[16..32]` the "previous plaintext" XORed after, as
//! OpenSSL and Telegram define it.

use aes::{Aes256Dec, Aes256Enc};
use ige::cipher::{array::Array, BlockModeDecrypt, BlockModeEncrypt, KeyIvInit};

/// Encrypts `data` in place. Returns false (and leaves `data` alone) unless its length is a
/// multiple of 16.
#[must_use]
pub fn ige_encrypt(data: &mut [u8], key: &[u8; 32], iv: &[u8; 32]) -> bool {
    let (blocks, rest) = Array::slice_as_chunks_mut(data);
    if !rest.is_empty() {
        return false;
    }
    ige::Encryptor::<Aes256Enc>::new(key.into(), iv.into()).encrypt_blocks(blocks);
    true
}

/// Decrypts `data` in place. Returns false (and leaves `data` alone) unless its length is a
/// multiple of 16.
#[must_use]
pub fn ige_decrypt(data: &mut [u8], key: &[u8; 32], iv: &[u8; 32]) -> bool {
    let (blocks, rest) = Array::slice_as_chunks_mut(data);
    if !rest.is_empty() {
        return false;
    }
    ige::Decryptor::<Aes256Dec>::new(key.into(), iv.into()).decrypt_blocks(blocks);
    true
}

#[cfg(test)]
mod tests {
    use super::*;

    fn counting() -> [u8; 32] {
        std::array::from_fn(|i| i as u8)
    }

    /// Known answers (key = iv = data = 0..31), as in grammers-crypto's tests.
    #[test]
    fn known_answers() {
        let mut data = counting();
        assert!(ige_encrypt(&mut data, &counting(), &counting()));
        assert_eq!(
            data,
            [
                226, 129, 18, 165, 62, 92, 137, 199, 177, 234, 128, 113, 193, 51, 105, 159, 212,
                232, 107, 38, 196, 186, 201, 252, 90, 241, 171, 140, 226, 122, 68, 164
            ]
        );
        let mut data = counting();
        assert!(ige_decrypt(&mut data, &counting(), &counting()));
        assert_eq!(
            data,
            [
                229, 119, 122, 250, 205, 123, 44, 22, 247, 172, 64, 202, 230, 30, 246, 3, 254, 230,
                9, 143, 184, 168, 134, 10, 185, 238, 103, 44, 215, 229, 186, 204
            ]
        );
    }

    #[test]
    fn round_trip_and_unaligned_refusal() {
        let key = [7u8; 32];
        let iv = [9u8; 32];
        let plain: Vec<u8> = (0..160).map(|i| i as u8).collect();
        let mut data = plain.clone();
        assert!(ige_encrypt(&mut data, &key, &iv));
        assert_ne!(data, plain);
        assert!(ige_decrypt(&mut data, &key, &iv));
        assert_eq!(data, plain);
        let mut odd = [1u8; 17];
        assert!(!ige_encrypt(&mut odd, &key, &iv));
        assert_eq!(odd, [1u8; 17]);
    }
}
