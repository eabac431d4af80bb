//! Obfuscated2 (TR-7): AES-256-CTR around one of the framings, keyed by a 64-byte init.
//!
//! ```text
//! init = random (56) ‖ tag (4: ef×4 | ee×4 | dd×4) ‖ dc (2, LE) ‖ random (2)
//! client→server key = init[8..40], iv = init[40..56]
//! server→client key = rev(init)[8..40], iv = rev(init)[40..56]
//! ```
//! The client sends `init[..56] ‖ encrypt(init)[56..64]`, encrypting all 64 bytes with its
//! stream (which then stands at byte 64). The server decrypts the 64 bytes it received with the
//! same stream, which recovers the tag and leaves both streams in step.

use aes::Aes256;
use ctr::cipher::{KeyIvInit, StreamCipher};

use super::{Framing, TransportError};

type Aes256Ctr = ctr::Ctr128BE<Aes256>;

/// Both directions of an obfuscated2 stream.
pub struct Obfuscated2 {
    /// Decrypts what this side receives.
    rx: Aes256Ctr,
    /// Encrypts what this side sends.
    tx: Aes256Ctr,
}

impl std::fmt::Debug for Obfuscated2 {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Obfuscated2 { .. }")
    }
}

fn cipher(material: &[u8; 64]) -> Aes256Ctr {
    let mut key = [0u8; 32];
    let mut iv = [0u8; 16];
    key.copy_from_slice(&material[8..40]);
    iv.copy_from_slice(&material[40..56]);
    Aes256Ctr::new(&key.into(), &iv.into())
}

fn reversed(init: &[u8; 64]) -> [u8; 64] {
    let mut r = *init;
    r.reverse();
    r
}

fn framing_for_tag(tag: [u8; 4]) -> Option<Framing> {
    match tag {
        [0xef, 0xef, 0xef, 0xef] => Some(Framing::Abridged),
        [0xee, 0xee, 0xee, 0xee] => Some(Framing::Intermediate),
        [0xdd, 0xdd, 0xdd, 0xdd] => Some(Framing::PaddedIntermediate),
        _ => None,
    }
}

fn tag_for(framing: Framing) -> [u8; 4] {
    match framing {
        Framing::Abridged => [0xef; 4],
        Framing::Intermediate => [0xee; 4],
        // Obfuscated2 carries no full framing; padded is the closest (and what TDLib uses).
        Framing::PaddedIntermediate | Framing::Full => [0xdd; 4],
    }
}

impl Obfuscated2 {
    /// Server side: the 64 init bytes as received → the streams, the inner framing and the DC
    /// id field (meaningful only to MTProxy).
    pub fn server(init: &[u8; 64]) -> Result<(Self, Framing, i16), TransportError> {
        let mut rx = cipher(init);
        let tx = cipher(&reversed(init));
        let mut plain = *init;
        rx.apply_keystream(&mut plain);
        let tag = [plain[56], plain[57], plain[58], plain[59]];
        let framing = framing_for_tag(tag).ok_or(TransportError::BadObfuscatedTag { tag })?;
        Ok((
            Obfuscated2 { rx, tx },
            framing,
            i16::from_le_bytes([plain[60], plain[61]]),
        ))
    }

    /// Client side: 64 random bytes → the streams and the init to send first. Random bytes that
    /// could be mistaken for another transport's start are altered (TR-1).
    pub fn client(mut random: [u8; 64], framing: Framing, dc: i16) -> (Self, [u8; 64]) {
        loop {
            let first = [random[0], random[1], random[2], random[3]];
            let bad = random[0] == 0xef
                || [
                    *b"HEAD",
                    *b"POST",
                    *b"GET ",
                    *b"OPTI",
                    [0xee; 4],
                    [0xdd; 4],
                    [0x16, 0x03, 0x01, 0x02],
                ]
                .contains(&first)
                || random[4..8] == [0; 4];
            if !bad {
                break;
            }
            random[0] = random[0].wrapping_add(1);
            random[4] |= 1;
        }
        random[56..60].copy_from_slice(&tag_for(framing));
        random[60..62].copy_from_slice(&dc.to_le_bytes());
        let mut tx = cipher(&random);
        let rx = cipher(&reversed(&random));
        let mut encrypted = random;
        tx.apply_keystream(&mut encrypted);
        let mut init = random;
        init[56..64].copy_from_slice(&encrypted[56..64]);
        (Obfuscated2 { rx, tx }, init)
    }

    /// Decrypts received bytes in place, in stream order.
    pub fn decrypt(&mut self, data: &mut [u8]) {
        self.rx.apply_keystream(data);
    }

    /// Encrypts bytes to send in place, in stream order.
    pub fn encrypt(&mut self, data: &mut [u8]) {
        self.tx.apply_keystream(data);
    }
}

#[cfg(test)]
mod tests {
    use super::super::{detect, Detection};
    use super::*;

    fn random(seed: u8) -> [u8; 64] {
        std::array::from_fn(|i| (i as u8).wrapping_mul(31).wrapping_add(seed))
    }

    #[test]
    fn client_and_server_agree_on_framing_dc_and_both_streams() {
        for framing in [
            Framing::Abridged,
            Framing::Intermediate,
            Framing::PaddedIntermediate,
        ] {
            let (mut client, init) = Obfuscated2::client(random(7), framing, -10002);
            assert_eq!(detect(&init), Detection::Obfuscated2);
            let (mut server, got, dc) = Obfuscated2::server(&init).unwrap();
            assert_eq!((got, dc), (framing, -10002));

            let mut up = b"client to server, any length".to_vec();
            client.encrypt(&mut up);
            assert_ne!(&up[..], b"client to server, any length");
            server.decrypt(&mut up);
            assert_eq!(&up[..], b"client to server, any length");

            let mut down = b"server to client".to_vec();
            server.encrypt(&mut down);
            client.decrypt(&mut down);
            assert_eq!(&down[..], b"server to client");
        }
    }

    #[test]
    fn wrong_tag_is_refused() {
        let (_, mut init) = Obfuscated2::client(random(1), Framing::Abridged, 2);
        init[57] ^= 0xff;
        assert!(matches!(
            Obfuscated2::server(&init),
            Err(TransportError::BadObfuscatedTag { .. })
        ));
    }

    #[test]
    fn client_init_never_looks_like_another_transport() {
        let mut r = random(0);
        r[..4].copy_from_slice(b"POST");
        let (_, init) = Obfuscated2::client(r, Framing::Intermediate, 1);
        assert_eq!(detect(&init), Detection::Obfuscated2);
        let mut r = random(0);
        r[0] = 0xef;
        r[4..8].fill(0);
        let (_, init) = Obfuscated2::client(r, Framing::Intermediate, 1);
        assert_eq!(detect(&init), Detection::Obfuscated2);
    }
}
