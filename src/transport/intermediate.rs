//! Intermediate framing (TR-3): `len (4, LE) ‖ payload (len)`.
//!
//! From a client, bit 31 of the length asks for a quick ack. From the server, a length word with
//! bit 31 set is itself a quick-ack token (TR-6), and a 4-byte payload holding a negative int32
//! is a transport error (TR-9).

use super::{frame, Decoded, Incoming, TransportError};
use crate::Side;

/// What a 4-byte length word (shared with the padded framing) says.
pub(super) enum Prefix {
    /// From the server: a quick-ack token, the whole frame (TR-6).
    QuickAck(u32),
    /// A frame of `len` more bytes; `quick_ack` if the client asked for one.
    Frame { len: usize, quick_ack: bool },
}

/// Reads the length word: `Ok(None)` until its 4 bytes are there; a zero length is refused.
pub(super) fn prefix(input: &[u8], side: Side) -> Result<Option<Prefix>, TransportError> {
    let Some(word) = input
        .get(..4)
        .and_then(|b| b.try_into().ok())
        .map(u32::from_le_bytes)
    else {
        return Ok(None);
    };
    let quick_ack = word & 0x8000_0000 != 0;
    if side == Side::Client && quick_ack {
        return Ok(Some(Prefix::QuickAck(word)));
    }
    match (word & 0x7fff_ffff) as usize {
        0 => Err(TransportError::ZeroLength),
        len => Ok(Some(Prefix::Frame { len, quick_ack })),
    }
}

pub(super) fn decode(input: &[u8], side: Side, max: usize) -> Result<Decoded<'_>, TransportError> {
    let (len, quick_ack) = match prefix(input, side)? {
        None => return Ok(None),
        Some(Prefix::QuickAck(token)) => return Ok(Some((Incoming::QuickAck(token), 4))),
        Some(Prefix::Frame { len, quick_ack }) => (len, quick_ack),
    };
    if !len.is_multiple_of(4) {
        return Err(TransportError::Unaligned { len });
    }
    if len > max {
        return Err(TransportError::TooLong { len, max });
    }
    Ok(input
        .get(4..4 + len)
        .map(|payload| (frame(side, payload, quick_ack), 4 + len)))
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
                payload: &[9; 4],
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
