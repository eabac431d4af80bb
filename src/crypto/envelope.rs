//! The MTProto 2.0 encrypted envelope (EN-2 … EN-8) [doc: mtproto/description]:
//!
//! ```text
//! frame         = auth_key_id (8) ‖ msg_key (16) ‖ AES-IGE(plaintext ‖ padding)
//! plaintext     = salt (8) ‖ session_id (8) ‖ msg_id (8) ‖ seq_no (4) ‖ length (4) ‖ data
//! msg_key_large = SHA256(auth_key[88+x .. 120+x] ‖ plaintext ‖ padding);  msg_key = [8..24]
//! a = SHA256(msg_key ‖ auth_key[x .. x+36]);   b = SHA256(auth_key[40+x .. 76+x] ‖ msg_key)
//! key = a[0..8] ‖ b[8..24] ‖ a[24..32];        iv = b[0..8] ‖ a[8..24] ‖ b[24..32]
//! ```
//! x = 0 for messages the client sends, 8 for those the server sends.

use subtle::ConstantTimeEq;

use super::{ige_decrypt, ige_encrypt, sha256, AuthKey};
use crate::rand::Rng;
use crate::Side;
use zeroize::Zeroize;

/// Fewest padding bytes MTProto 2.0 allows (EN-7); the most is 1024.
pub const MIN_PADDING: usize = 12;
const MAX_PADDING: usize = 1024;
/// Smallest encrypted part: a 32-byte header, some data and 12 bytes of padding (EN-2).
const MIN_ENCRYPTED: usize = 48;

/// Why a frame was not accepted. Every variant is handled the same way by the server (EN-6:
/// discard, send nothing, close); they differ for logs and tests only.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EnvelopeError {
    /// Encrypted part not a multiple of 16, or shorter than 48 bytes (EN-2).
    BadLength { len: usize },
    /// The frame's auth_key_id is not this key's.
    WrongKey,
    /// msg_key does not match the decrypted data (EN-5).
    MsgKeyMismatch,
    /// message_data_length is unaligned or points past the plaintext (EN-7).
    BadDataLength { length: u32 },
    /// Padding outside 12..=1024 bytes (EN-7).
    BadPadding { padding: usize },
}

fn x(sender: Side) -> usize {
    match sender {
        Side::Client => 0,
        Side::Server => 8,
    }
}

/// msg_key of a padded plaintext sent by `sender`.
pub fn msg_key(key: &AuthKey, sender: Side, padded_plaintext: &[u8]) -> [u8; 16] {
    let x = x(sender);
    let large = sha256(&[&key.data()[88 + x..120 + x], padded_plaintext]);
    let mut out = [0u8; 16];
    out.copy_from_slice(&large[8..24]);
    out
}

/// AES key and IV for a message with `msg_key` sent by `sender`.
pub fn message_key_iv(key: &AuthKey, msg_key: &[u8; 16], sender: Side) -> ([u8; 32], [u8; 32]) {
    let x = x(sender);
    let ak = key.data();
    let a = sha256(&[msg_key, &ak[x..x + 36]]);
    let b = sha256(&[&ak[40 + x..76 + x], msg_key]);
    let mut aes_key = [0u8; 32];
    aes_key[..8].copy_from_slice(&a[..8]);
    aes_key[8..24].copy_from_slice(&b[8..24]);
    aes_key[24..].copy_from_slice(&a[24..]);
    let mut iv = [0u8; 32];
    iv[..8].copy_from_slice(&b[..8]);
    iv[8..24].copy_from_slice(&a[8..24]);
    iv[24..].copy_from_slice(&b[24..]);
    (aes_key, iv)
}

/// The fewest padding bytes that make a plaintext of `len` bytes a multiple of 16 (12..27).
fn min_padding(len: usize) -> usize {
    MIN_PADDING + (16 - (len + MIN_PADDING) % 16) % 16
}

/// A padding length for a plaintext of `len` bytes, picked by `choice` among every length from
/// 12 to 1024 that makes it a multiple of 16 (EN-8: random padding hides the message's length;
/// uniform when `choice` is).
pub fn padding_len(len: usize, choice: u32) -> usize {
    let min = min_padding(len);
    let lengths = (MAX_PADDING - min) / 16 + 1;
    min + 16 * (choice as usize % lengths)
}

/// Encrypts `plaintext` (header and data) as `sender`, padding it with the first 12..27 bytes
/// of `random` to a multiple of 16 (the least padding: clients and known-answer tests), and
/// appends the frame to `out`.
pub fn encrypt_message(
    key: &AuthKey,
    sender: Side,
    plaintext: &[u8],
    random: &[u8; 32],
    out: &mut Vec<u8>,
) {
    let start = open_frame(key, out);
    out.extend_from_slice(plaintext);
    out.extend_from_slice(&random[..min_padding(plaintext.len())]);
    seal(key, sender, start, out);
}

/// Encrypts the plaintext made of `parts` (its header and data, which the server keeps apart)
/// as `sender` with random padding of a random length in 12..1024 (EN-8: what the server
/// sends), and appends the frame to `out`. The frame is built and encrypted where it goes:
/// nothing is allocated once `out` has room.
pub fn encrypt_message_padded(
    key: &AuthKey,
    sender: Side,
    parts: &[&[u8]],
    rng: &mut impl Rng,
    out: &mut Vec<u8>,
) {
    let start = open_frame(key, out);
    parts.iter().for_each(|part| out.extend_from_slice(part));
    let pad = padding_len(out.len() - start - 24, rng.next_u32());
    let end = out.len() + pad;
    out.resize(end, 0);
    rng.fill_padding(&mut out[end - pad..]);
    seal(key, sender, start, out);
}

/// Appends a frame's auth_key_id and room for its msg_key; returns where the frame starts
/// (its plaintext follows 24 bytes later).
fn open_frame(key: &AuthKey, out: &mut Vec<u8>) -> usize {
    let start = out.len();
    out.extend_from_slice(&key.id_bytes());
    out.extend_from_slice(&[0; 16]);
    start
}

/// Completes the frame at `out[start..]` (key id, msg_key's room, then plaintext and padding,
/// a multiple of 16): its msg_key, then AES-IGE over the plaintext, in place.
fn seal(key: &AuthKey, sender: Side, start: usize, out: &mut [u8]) {
    let (head, data) = out[start..].split_at_mut(24);
    let mk = msg_key(key, sender, data);
    head[8..].copy_from_slice(&mk);
    let (aes_key, iv) = message_key_iv(key, &mk, sender);
    let aligned = ige_encrypt(data, &aes_key, &iv);
    debug_assert!(aligned, "padding makes the length a multiple of 16");
}

/// Decrypts a frame `sender` sent under `key`, checks msg_key in constant time, then the
/// length and padding rules, and returns the plaintext without its padding.
pub fn decrypt_message(
    key: &AuthKey,
    sender: Side,
    frame: &[u8],
) -> Result<Vec<u8>, EnvelopeError> {
    let mut plain = Vec::new();
    decrypt_message_into(key, sender, frame, &mut plain)?;
    Ok(plain)
}

/// [`decrypt_message`] into `plain` (cleared first), so that a caller can reuse one buffer.
/// After a refusal `plain` is wiped and empty.
pub fn decrypt_message_into(
    key: &AuthKey,
    sender: Side,
    frame: &[u8],
    plain: &mut Vec<u8>,
) -> Result<(), EnvelopeError> {
    plain.clear();
    let opened = open(key, sender, frame, plain);
    if opened.is_err() {
        plain.zeroize();
    }
    opened
}

fn open(
    key: &AuthKey,
    sender: Side,
    frame: &[u8],
    plain: &mut Vec<u8>,
) -> Result<(), EnvelopeError> {
    let len = frame.len();
    let encrypted_len = len.saturating_sub(24);
    if len < 24 || !encrypted_len.is_multiple_of(16) || encrypted_len < MIN_ENCRYPTED {
        return Err(EnvelopeError::BadLength { len });
    }
    if frame[..8] != key.id_bytes() {
        return Err(EnvelopeError::WrongKey);
    }
    let mut mk = [0u8; 16];
    mk.copy_from_slice(&frame[8..24]);
    let (aes_key, iv) = message_key_iv(key, &mk, sender);
    plain.extend_from_slice(&frame[24..]);
    if !ige_decrypt(plain, &aes_key, &iv) {
        return Err(EnvelopeError::BadLength { len });
    }
    // EN-5: constant time, so that timing does not tell how much of msg_key matched.
    if !bool::from(msg_key(key, sender, plain).ct_eq(&mk)) {
        return Err(EnvelopeError::MsgKeyMismatch);
    }
    let length = u32::from_le_bytes([plain[28], plain[29], plain[30], plain[31]]);
    let end = 32usize.saturating_add(length as usize);
    if !length.is_multiple_of(4) || end > plain.len() {
        return Err(EnvelopeError::BadDataLength { length });
    }
    let padding = plain.len() - end;
    if !(MIN_PADDING..=MAX_PADDING).contains(&padding) {
        return Err(EnvelopeError::BadPadding { padding });
    }
    plain.truncate(end);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_buffer_serves_message_after_message_and_is_emptied_by_a_refusal() {
        let key = AuthKey::from_bytes(std::array::from_fn(|i| (i * 7) as u8));
        let mut rng = crate::rand::SeededRng::new(9);
        let message = |len: usize| {
            let body: Vec<u8> = (0..len).map(|i| i as u8).collect();
            [&[5u8; 28][..], &(len as u32).to_le_bytes(), &body].concat()
        };
        let mut plain = Vec::new();
        // A long message, then a short one into the same buffer: only the short one is left.
        for len in [2000, 8] {
            let whole = message(len);
            let (header, body) = whole.split_at(32);
            let mut frame = vec![1, 2, 3];
            encrypt_message_padded(&key, Side::Server, &[header, body], &mut rng, &mut frame);
            assert_eq!(&frame[..3], &[1, 2, 3], "appended after what out held");
            decrypt_message_into(&key, Side::Server, &frame[3..], &mut plain).unwrap();
            assert_eq!(plain, message(len));
        }
        let mut frame = Vec::new();
        encrypt_message_padded(&key, Side::Server, &[&message(8)], &mut rng, &mut frame);
        let last = frame.len() - 1;
        frame[last] ^= 1;
        assert_eq!(
            decrypt_message_into(&key, Side::Server, &frame, &mut plain),
            Err(EnvelopeError::MsgKeyMismatch)
        );
        assert!(plain.is_empty());
    }

    #[test]
    fn server_padding_is_random_in_12_to_1024_and_decrypts() {
        let key = AuthKey::from_bytes(std::array::from_fn(|i| i as u8));
        let mut rng = crate::rand::SeededRng::new(4);
        let mut lengths = std::collections::BTreeSet::new();
        for len in [32, 36, 44, 100, 1000] {
            let plain: Vec<u8> = (0..len).map(|i| i as u8).collect();
            let plain = [&[0u8; 28][..], &((len as u32).to_le_bytes()), &plain[..]].concat();
            for _ in 0..200 {
                let mut frame = Vec::new();
                encrypt_message_padded(&key, Side::Server, &[&plain], &mut rng, &mut frame);
                let pad = frame.len() - 24 - plain.len();
                assert!(
                    (12..=1024).contains(&pad) && (plain.len() + pad) % 16 == 0,
                    "{pad}"
                );
                lengths.insert(pad);
                assert_eq!(decrypt_message(&key, Side::Server, &frame).unwrap(), plain);
            }
        }
        // Not the minimal length only: lengths across the whole range.
        assert!(lengths.len() > 200, "{}", lengths.len());
        assert!(lengths.iter().any(|&p| p > 1000) && lengths.iter().any(|&p| p < 28));
        assert_eq!(padding_len(32, 0), 16);
        // 64 lengths for these: 16, 32, … 1024.
        assert_eq!(padding_len(32, 63), 1024);
        assert_eq!(padding_len(32, 64), 16);
        assert_eq!(padding_len(40, 0), 24);
        assert_eq!(padding_len(40, 62), 1016);
        assert_eq!(padding_len(40, 63), 24);
    }
}
