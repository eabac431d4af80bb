//! Intermediate framing (TR-3): `len (4, LE) ‖ payload (len)`.
//!
//! From a client, bit 31 of the length asks for a quick ack. From the server, a length word with
//! bit 31 set is itself a quick-ack token (TR-6), and a 4-byte payload holding a negative int32
//! is a transport error (TR-9).

use super::{transport_error, Decoded, Incoming, TransportError};
use crate::Side;

/// Reads the 4-byte length word: `Ok(None)` until it is there.
pub(super) fn length_word(input: &[u8]) -> Option<u32> {
    input
        .get(..4)
        .and_then(|b| b.try_into().ok())
        .map(u32::from_le_bytes)
}

pub(super) fn decode(input: &[u8], side: Side, max: usize) -> Result<Decoded, TransportError> {
    let Some(word) = length_word(input) else {
        return Ok(None);
    };
    let quick_ack = word & 0x8000_0000 != 0;
    if side == Side::Client && quick_ack {
        return Ok(Some((Incoming::QuickAck(word), 4)));
    }
    let len = (word & 0x7fff_ffff) as usize;
    if len == 0 {
        return Err(TransportError::ZeroLength);
    }
    if !len.is_multiple_of(4) {
        return Err(TransportError::Unaligned { len });
    }
    if len > max {
        return Err(TransportError::TooLong { len, max });
    }
    let Some(payload) = input.get(4..4 + len) else {
        return Ok(None);
    };
    let item = match (side, transport_error(payload)) {
        (Side::Client, Some(code)) => Incoming::TransportError(code),
        _ => Incoming::Frame {
            payload: payload.to_vec(),
            quick_ack,
        },
    };
    Ok(Some((item, 4 + len)))
}

pub(super) fn encode(payload: &[u8], quick_ack: bool, out: &mut Vec<u8>) {
    let flag = if quick_ack { 0x8000_0000 } else { 0 };
    out.extend_from_slice(&(payload.len() as u32 | flag).to_le_bytes());
    out.extend_from_slice(payload);
}

#[cfg(test)]
mod tests {
    use super::super::{Codec, Framing, MAX_FRAME};
    use super::*;

    fn server() -> Codec {
        Codec::new(Framing::Intermediate, Side::Server)
    }

    #[test]
    fn length_checks_come_before_the_payload() {
        assert_eq!(
            server().decode(&[0, 0, 0, 0]),
            Err(TransportError::ZeroLength)
        );
        assert_eq!(
            server().decode(&[6, 0, 0, 0]),
            Err(TransportError::Unaligned { len: 6 })
        );
        assert_eq!(
            server().decode(&[0xfc, 0xff, 0xff, 0x7f]),
            Err(TransportError::TooLong {
                len: 0x7fff_fffc,
                max: MAX_FRAME
            })
        );
        assert_eq!(server().decode(&[8, 0, 0]), Ok(None));
        assert_eq!(server().decode(&[8, 0, 0, 0, 1, 2, 3, 4]), Ok(None));
    }

    #[test]
    fn quick_ack_request_bit() {
        let (item, used) = server()
            .decode(&[4, 0, 0, 0x80, 9, 9, 9, 9])
            .unwrap()
            .unwrap();
        assert_eq!(
            item,
            Incoming::Frame {
                payload: vec![9; 4],
                quick_ack: true
            }
        );
        assert_eq!(used, 8);
        let mut client = Codec::new(Framing::Intermediate, Side::Client);
        assert_eq!(
            client.decode(&[1, 2, 3, 0x84]).unwrap(),
            Some((Incoming::QuickAck(0x8403_0201), 4))
        );
    }

    #[test]
    fn error_frame_bytes() {
        let mut out = Vec::new();
        Codec::new(Framing::Intermediate, Side::Server).encode_error(-404, &mut out);
        assert_eq!(out, [0x04, 0, 0, 0, 0x6c, 0xfe, 0xff, 0xff]);
    }
}
