//! The message that binds a temporary key to a permanent one (PF-3, PF-4) [doc: api/pfs,
//! method/auth.bindTempAuthKey]: `bind_auth_key_inner` encrypted under the permanent key with
//! the MTProto 1.0 scheme (SHA1 KDF, x = 0). [`open`] is the server's side, [`seal`] the
//! client's.

use subtle::ConstantTimeEq;

use super::ige_decrypt;
use super::{sha1, AuthKey};
use crate::tl::{Deserializable, Identifiable};

/// `bind_auth_key_inner`'s size: constructor, four longs and an int.
const INNER_LEN: usize = 40;
/// random (16) ‖ msg_id (8) ‖ seqno (4) ‖ msg_len (4) ‖ inner (40), padded to 16 bytes.
const PLAIN_LEN: usize = 16 + 8 + 4 + 4 + INNER_LEN;
const ENCRYPTED_LEN: usize = 80;

/// What a binding message says, once it decrypted under the permanent key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Opened {
    pub msg_id: i64,
    pub nonce: i64,
    pub temp_auth_key_id: i64,
    pub perm_auth_key_id: i64,
    pub temp_session_id: i64,
    pub expires_at: i32,
}

/// MTProto 1.0's key and IV for a client's message (x = 0) [doc: mtproto_v1].
fn key_iv_v1(ak: &[u8; 256], msg_key: &[u8; 16]) -> ([u8; 32], [u8; 32]) {
    let a = sha1(&[msg_key, &ak[0..32]]);
    let b = sha1(&[&ak[32..48], msg_key, &ak[48..64]]);
    let c = sha1(&[&ak[64..96], msg_key]);
    let d = sha1(&[msg_key, &ak[96..128]]);
    let mut key = [0u8; 32];
    key[..8].copy_from_slice(&a[..8]);
    key[8..20].copy_from_slice(&b[8..20]);
    key[20..].copy_from_slice(&c[4..16]);
    let mut iv = [0u8; 32];
    iv[..12].copy_from_slice(&a[8..20]);
    iv[12..20].copy_from_slice(&b[..8]);
    iv[20..24].copy_from_slice(&c[16..20]);
    iv[24..].copy_from_slice(&d[..8]);
    (key, iv)
}

/// Decrypts `encrypted_message` under `perm` and checks its framing (PF-4): the permanent
/// key's id first, msg_key equal (constant time) to SHA1 of the unpadded plaintext, seqno 0,
/// msg_len 40, a `bind_auth_key_inner`. `None` for any miss (one error for all:
/// ENCRYPTED_MESSAGE_INVALID).
pub fn open(perm: &AuthKey, encrypted_message: &[u8]) -> Option<Opened> {
    if encrypted_message.len() != 8 + 16 + ENCRYPTED_LEN
        || encrypted_message[..8] != perm.id_bytes()
    {
        return None;
    }
    let msg_key: [u8; 16] = encrypted_message[8..24].try_into().ok()?;
    let mut plain = encrypted_message[24..].to_vec();
    let (key, iv) = key_iv_v1(perm.data(), &msg_key);
    if !ige_decrypt(&mut plain, &key, &iv) {
        return None;
    }
    let expected = sha1(&[&plain[..PLAIN_LEN]]);
    if !bool::from(expected[4..20].ct_eq(&msg_key)) {
        return None;
    }
    let int = |at: usize| i32::from_le_bytes(plain[at..at + 4].try_into().expect("4 bytes"));
    let long = |at: usize| i64::from_le_bytes(plain[at..at + 8].try_into().expect("8 bytes"));
    if int(24) != 0 || int(28) != INNER_LEN as i32 {
        return None;
    }
    let inner = crate::tl::enums::BindAuthKeyInner::from_bytes(&plain[32..PLAIN_LEN]).ok()?;
    let crate::tl::enums::BindAuthKeyInner::BindAuthKeyInner(inner) = inner;
    debug_assert_eq!(
        crate::tl::types::BindAuthKeyInner::CONSTRUCTOR_ID,
        0x75a3_f765
    );
    Some(Opened {
        msg_id: long(16),
        nonce: inner.nonce,
        temp_auth_key_id: inner.temp_auth_key_id,
        perm_auth_key_id: inner.perm_auth_key_id,
        temp_session_id: inner.temp_session_id,
        expires_at: inner.expires_at,
    })
}

/// A binding message as a client makes it (the client library, and tests).
pub fn seal(
    perm: &AuthKey,
    msg_id: i64,
    inner: &Opened,
    random: [u8; 16],
    padding: [u8; 8],
) -> Vec<u8> {
    use super::ige_encrypt;
    use crate::tl::Serializable;
    let body = crate::tl::types::BindAuthKeyInner {
        nonce: inner.nonce,
        temp_auth_key_id: inner.temp_auth_key_id,
        perm_auth_key_id: inner.perm_auth_key_id,
        temp_session_id: inner.temp_session_id,
        expires_at: inner.expires_at,
    }
    .to_bytes();
    let mut plain = Vec::with_capacity(ENCRYPTED_LEN);
    plain.extend_from_slice(&random);
    plain.extend_from_slice(&msg_id.to_le_bytes());
    plain.extend_from_slice(&0i32.to_le_bytes());
    plain.extend_from_slice(&(INNER_LEN as i32).to_le_bytes());
    plain.extend_from_slice(&body);
    let digest = sha1(&[&plain]);
    let msg_key: [u8; 16] = digest[4..20].try_into().expect("16 bytes");
    plain.extend_from_slice(&padding);
    let (key, iv) = key_iv_v1(perm.data(), &msg_key);
    let whole_blocks = ige_encrypt(&mut plain, &key, &iv);
    debug_assert!(whole_blocks);
    [&perm.id_bytes()[..], &msg_key, &plain].concat()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn inner(perm: &AuthKey) -> Opened {
        Opened {
            msg_id: 7 << 32,
            nonce: 11,
            temp_auth_key_id: 22,
            perm_auth_key_id: perm.id(),
            temp_session_id: 33,
            expires_at: 44,
        }
    }

    #[test]
    fn a_sealed_binding_opens_and_any_change_is_refused() {
        let perm = AuthKey::from_bytes([9; 256]);
        let other = AuthKey::from_bytes([8; 256]);
        let i = inner(&perm);
        let sealed = seal(&perm, i.msg_id, &i, [1; 16], [2; 8]);
        assert_eq!(sealed.len(), 104);
        assert_eq!(open(&perm, &sealed), Some(i));
        assert_eq!(open(&other, &sealed), None, "another key");
        for at in [0, 8, 30, 60, 103] {
            let mut bad = sealed.clone();
            bad[at] ^= 1;
            assert_eq!(open(&perm, &bad), None, "byte {at}");
        }
        assert_eq!(open(&perm, &sealed[..100]), None);
    }
}
