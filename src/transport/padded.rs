//! Padded intermediate framing (TR-4): `len (4, LE) ‖ payload ‖ 0..15 random bytes`, `len`
//! covering both.
//!
//! The payload's end is found from the MTProto envelope inside it: an unencrypted message
//! (auth_key_id 0) is `20 + message_data_length` bytes; an encrypted one is `24 + 16k` bytes, so
//! its padding is `(len − 24) mod 16`. The server pads with 0..3 bytes only, because Telethon
//! strips just `len mod 4` (CLIENTS.md).

use super::intermediate::{prefix, Prefix};
use super::{server_error, Decoded, Incoming, TransportError};
use crate::Side;

/// Most random bytes a sender may append.
const MAX_PADDING: usize = 15;

pub(super) fn decode(input: &[u8], side: Side, max: usize) -> Result<Decoded<'_>, TransportError> {
    let (len, quick_ack) = match prefix(input, side)? {
        None => return Ok(None),
        Some(Prefix::QuickAck(token)) => return Ok(Some((Incoming::QuickAck(token), 4))),
        Some(Prefix::Frame { len, quick_ack }) => (len, quick_ack),
    };
    if len > max + MAX_PADDING {
        return Err(TransportError::TooLong {
            len,
            max: max + MAX_PADDING,
        });
    }
    let Some(data) = input.get(4..4 + len) else {
        return Ok(None);
    };
    if let Some(error) = server_error(side, data) {
        return Ok(Some((error, 4 + len)));
    }
    let payload = payload_len(data)?;
    let item = Incoming::Frame {
        payload: &data[..payload],
        quick_ack,
    };
    Ok(Some((item, 4 + len)))
}

/// Length of the MTProto message at the front of `data`, the rest being padding.
fn payload_len(data: &[u8]) -> Result<usize, TransportError> {
    let len = data.len();
    let short = TransportError::TooShort { len };
    let payload = if data.get(..8) == Some(&[0u8; 8][..]) {
        // auth_key_id 0 ‖ msg_id (8) ‖ message_data_length (4) ‖ message_data
        let mdl = data
            .get(16..20)
            .and_then(|b| b.try_into().ok())
            .map(u32::from_le_bytes)
            .ok_or(short.clone())?;
        20usize
            .checked_add(mdl as usize)
            .filter(|&n| n <= len)
            .ok_or(short)?
    } else {
        // auth_key_id (8) ‖ msg_key (16) ‖ encrypted_data (16·k)
        if len < 24 {
            return Err(short);
        }
        len - (len - 24) % 16
    };
    if len - payload > MAX_PADDING || !payload.is_multiple_of(4) {
        return Err(TransportError::Unaligned { len: payload });
    }
    Ok(payload)
}

/// The server pads with 0..3 bytes only: Telethon strips just `len mod 4` (TR-4).
const MAX_SERVER_PADDING: usize = 3;

pub(super) fn encode(
    payload: &[u8],
    padding: &[u8],
    quick_ack: bool,
    side: Side,
    out: &mut Vec<u8>,
) {
    let max = match side {
        Side::Client => MAX_PADDING,
        Side::Server => MAX_SERVER_PADDING,
    };
    let padding = &padding[..padding.len().min(max)];
    let flag = if quick_ack { 0x8000_0000 } else { 0 };
    out.extend_from_slice(&((payload.len() + padding.len()) as u32 | flag).to_le_bytes());
    out.extend_from_slice(payload);
    out.extend_from_slice(padding);
}

#[cfg(test)]
mod tests {
    use super::super::tests::message;
    use super::super::{Codec, Framing};
    use super::*;

    fn server() -> Codec {
        Codec::new(Framing::PaddedIntermediate, Side::Server)
    }

    #[test]
    fn unencrypted_payload_is_sized_by_its_header() {
        let m = message(3);
        for pad in 0..=15 {
            let mut out = Vec::new();
            encode(&m, &[0xaa; 15][..pad], false, Side::Client, &mut out);
            let (item, used) = server().decode(&out).unwrap().unwrap();
            assert_eq!(
                item,
                Incoming::Frame {
                    payload: &m,
                    quick_ack: false
                },
                "pad {pad}"
            );
            assert_eq!(used, out.len());
        }
    }

    #[test]
    fn encrypted_payload_drops_len_minus_24_mod_16() {
        let mut m = vec![1u8; 8]; // auth_key_id ≠ 0
        m.extend([2u8; 16 + 48]);
        for pad in 0..=15 {
            let mut out = Vec::new();
            encode(&m, &[0x55; 15][..pad], false, Side::Client, &mut out);
            let (item, _) = server().decode(&out).unwrap().unwrap();
            assert_eq!(
                item,
                Incoming::Frame {
                    payload: &m,
                    quick_ack: false
                },
                "pad {pad}"
            );
        }
    }

    #[test]
    fn server_pads_with_at_most_3_bytes() {
        let m = message(2);
        let mut out = Vec::new();
        encode(&m, &[0xaa; 15], false, Side::Server, &mut out);
        assert_eq!(out.len(), 4 + m.len() + 3);
        assert_eq!(
            u32::from_le_bytes(out[..4].try_into().unwrap()) as usize,
            m.len() + 3
        );
    }

    #[test]
    fn inconsistent_envelopes_are_refused() {
        // Header claims more data than the frame holds.
        let mut m = message(2);
        m[16] = 200;
        let mut out = Vec::new();
        encode(&m, &[], false, Side::Client, &mut out);
        assert_eq!(
            server().decode(&out),
            Err(TransportError::TooShort { len: m.len() })
        );
        // Encrypted frame shorter than auth_key_id + msg_key.
        let mut out = Vec::new();
        encode(&[1u8; 20], &[], false, Side::Client, &mut out);
        assert_eq!(
            server().decode(&out),
            Err(TransportError::TooShort { len: 20 })
        );
        // More than 15 bytes after the message.
        let m = message(1);
        let mut out = Vec::new();
        out.extend(((m.len() + 16) as u32).to_le_bytes());
        out.extend(&m);
        out.extend([0u8; 16]);
        assert_eq!(
            server().decode(&out),
            Err(TransportError::Unaligned { len: m.len() })
        );
    }
}
