//! Abridged framing (TR-2).
//!
//! ```text
//! n < 0x7f:  n (1)                   ‖ payload (4n)
//! else:      0x7f (1) ‖ n (3, LE)    ‖ payload (4n)
//! ```
//! From a client, the top bit of the first byte asks for a quick ack and is never part of the
//! length. From the server, a first byte with the top bit set starts a 4-byte quick-ack token
//! (most significant byte first, TR-6); a 4-byte payload holding a negative int32 is a transport
//! error (TR-9).

use super::{frame, Decoded, Incoming, TransportError};
use crate::Side;

pub(super) fn decode(input: &[u8], side: Side, max: usize) -> Result<Decoded<'_>, TransportError> {
    let Some(&first) = input.first() else {
        return Ok(None);
    };
    if side == Side::Client && first & 0x80 != 0 {
        return Ok(input
            .get(..4)
            .and_then(|b| b.try_into().ok())
            .map(|b| (Incoming::QuickAck(u32::from_be_bytes(b)), 4)));
    }
    let quick_ack = first & 0x80 != 0;
    let (words, header) = if first & 0x7f < 0x7f {
        (usize::from(first & 0x7f), 1)
    } else {
        let Some(&[a, b, c]) = input.get(1..4) else {
            return Ok(None);
        };
        (u32::from_le_bytes([a, b, c, 0]) as usize, 4)
    };
    if words == 0 {
        return Err(TransportError::ZeroLength);
    }
    let len = words * 4;
    if len > max {
        return Err(TransportError::TooLong { len, max });
    }
    let Some(payload) = input.get(header..header + len) else {
        return Ok(None);
    };
    Ok(Some((frame(side, payload, quick_ack), header + len)))
}

pub(super) fn encode(payload: &[u8], quick_ack: bool, out: &mut Vec<u8>) {
    let words = payload.len() / 4;
    let flag = if quick_ack { 0x80 } else { 0 };
    if words < 0x7f {
        out.push(words as u8 | flag);
    } else {
        let n = (words as u32).to_le_bytes();
        out.extend_from_slice(&[0x7f | flag, n[0], n[1], n[2]]);
    }
    out.extend_from_slice(payload);
}

#[cfg(test)]
mod tests {
    use super::super::{Codec, Framing};
    use super::*;

    fn server() -> Codec {
        Codec::new(Framing::Abridged, Side::Server)
    }

    #[test]
    fn short_and_long_length_forms() {
        let mut out = Vec::new();
        encode(&[1; 8], false, &mut out);
        assert_eq!(out[0], 2);
        out.clear();
        encode(&[1; 4 * 0x7f], false, &mut out);
        assert_eq!(out[..4], [0x7f, 0x7f, 0, 0]);
        assert_eq!(server().decode(&out).unwrap().unwrap().1, 4 + 4 * 0x7f);
    }

    #[test]
    fn quick_ack_bit_is_stripped_not_read_as_length() {
        let frame = [0x81, 1, 2, 3, 4];
        let (item, used) = server().decode(&frame).unwrap().unwrap();
        assert_eq!(
            item,
            Incoming::Frame {
                payload: &[1, 2, 3, 4],
                quick_ack: true
            }
        );
        assert_eq!(used, 5);
        let mut long = vec![0xff, 1, 0, 0];
        long.extend([7; 4]);
        let (item, _) = server().decode(&long).unwrap().unwrap();
        assert_eq!(
            item,
            Incoming::Frame {
                payload: &[7; 4],
                quick_ack: true
            }
        );
    }

    #[test]
    fn zero_and_oversized_lengths_fail_before_the_payload_arrives() {
        assert_eq!(server().decode(&[0x00]), Err(TransportError::ZeroLength));
        let mut c = Codec::with_max_frame(Framing::Abridged, Side::Server, 1024);
        assert_eq!(
            c.decode(&[0x7f, 0x01, 0x01, 0x00]),
            Err(TransportError::TooLong {
                len: 4 * 257,
                max: 1024
            })
        );
        assert_eq!(
            server().decode(&[0x7f, 0xff, 0xff, 0xff]),
            Err(TransportError::TooLong {
                len: 4 * 0xff_ffff,
                max: super::super::MAX_FRAME
            })
        );
    }

    #[test]
    fn incomplete_frames_wait() {
        assert_eq!(server().decode(&[]), Ok(None));
        assert_eq!(server().decode(&[0x7f, 1]), Ok(None));
        assert_eq!(server().decode(&[2, 0, 0, 0, 0, 0, 0]), Ok(None));
    }

    #[test]
    fn client_reads_quick_ack_tokens_most_significant_byte_first() {
        let mut c = Codec::new(Framing::Abridged, Side::Client);
        assert_eq!(
            c.decode(&[0x81, 2, 3, 4]).unwrap(),
            Some((Incoming::QuickAck(0x8102_0304), 4))
        );
    }
}
