//! Full framing (TR-5): `len (4) ‖ seq (4) ‖ payload ‖ crc32 (4)`, all little-endian.
//!
//! `len` counts all four fields (at least 12); `seq` counts frames from 0 in each direction and
//! must match; the CRC32 (IEEE) covers `len ‖ seq ‖ payload`. A mismatch closes the connection.
//! A server transport error is the negative code written as len, seq and body (12 bytes, no
//! CRC, TR-9): grammers reads it from the length alone, Telethon and GramJS read all 12.

use super::{Decoded, Incoming, TransportError};
use crate::Side;

fn word(input: &[u8], at: usize) -> Option<u32> {
    input
        .get(at..at + 4)
        .and_then(|b| b.try_into().ok())
        .map(u32::from_le_bytes)
}

pub(super) fn decode<'a>(
    input: &'a [u8],
    side: Side,
    max: usize,
    recv_seq: &mut u32,
) -> Result<Decoded<'a>, TransportError> {
    let Some(len_word) = word(input, 0) else {
        return Ok(None);
    };
    if side == Side::Client && (len_word as i32) < 0 {
        return Ok(input
            .get(..12)
            .map(|_| (Incoming::TransportError(len_word as i32), 12)));
    }
    let len = len_word as usize;
    if len < 12 {
        return Err(TransportError::TooShort { len });
    }
    if !len.is_multiple_of(4) {
        return Err(TransportError::Unaligned { len });
    }
    if len == 12 {
        return Err(TransportError::ZeroLength);
    }
    if len - 12 > max {
        return Err(TransportError::TooLong { len: len - 12, max });
    }
    let Some(frame) = input.get(..len) else {
        return Ok(None);
    };
    let (covered, crc) = frame.split_at(len - 4);
    let got = u32::from_le_bytes(
        crc.try_into()
            .map_err(|_| TransportError::TooShort { len })?,
    );
    let expected = crc32fast::hash(covered);
    if got != expected {
        return Err(TransportError::BadCrc { expected, got });
    }
    let seq = word(frame, 4).ok_or(TransportError::TooShort { len })?;
    if seq != *recv_seq {
        return Err(TransportError::BadSeq {
            expected: *recv_seq,
            got: seq,
        });
    }
    *recv_seq = recv_seq.wrapping_add(1);
    Ok(Some((
        Incoming::Frame {
            payload: &covered[8..],
            quick_ack: false,
        },
        len,
    )))
}

pub(super) fn encode(payload: &[u8], send_seq: &mut u32, out: &mut Vec<u8>) {
    let start = out.len();
    out.extend_from_slice(&((payload.len() + 12) as u32).to_le_bytes());
    out.extend_from_slice(&send_seq.to_le_bytes());
    out.extend_from_slice(payload);
    let crc = crc32fast::hash(&out[start..]);
    out.extend_from_slice(&crc.to_le_bytes());
    *send_seq = send_seq.wrapping_add(1);
}

#[cfg(test)]
mod tests {
    use super::super::{Codec, Framing};
    use super::*;

    fn frame(seq: u32, payload: &[u8]) -> Vec<u8> {
        let mut s = seq;
        let mut out = Vec::new();
        encode(payload, &mut s, &mut out);
        out
    }

    #[test]
    fn known_frame_bytes() {
        let f = frame(0, &[1, 2, 3, 4]);
        assert_eq!(f[..12], [16, 0, 0, 0, 0, 0, 0, 0, 1, 2, 3, 4]);
        assert_eq!(
            u32::from_le_bytes(f[12..].try_into().unwrap()),
            crc32fast::hash(&f[..12])
        );
    }

    #[test]
    fn sequence_numbers_must_follow_and_survive_no_error() {
        let mut c = Codec::new(Framing::Full, Side::Server);
        assert!(c.decode(&frame(0, &[0; 4])).unwrap().is_some());
        assert_eq!(
            c.decode(&frame(2, &[0; 4])),
            Err(TransportError::BadSeq {
                expected: 1,
                got: 2
            })
        );
        assert!(c.decode(&frame(1, &[0; 4])).unwrap().is_some());
    }

    #[test]
    fn crc_mismatch_is_refused_and_does_not_advance_seq() {
        let mut c = Codec::new(Framing::Full, Side::Server);
        let mut f = frame(0, &[5; 8]);
        f[9] ^= 1;
        assert!(matches!(c.decode(&f), Err(TransportError::BadCrc { .. })));
        assert!(c.decode(&frame(0, &[5; 8])).unwrap().is_some());
    }

    #[test]
    fn length_checks() {
        let mut c = Codec::with_max_frame(Framing::Full, Side::Server, 64);
        assert_eq!(
            c.decode(&[8, 0, 0, 0]),
            Err(TransportError::TooShort { len: 8 })
        );
        assert_eq!(
            c.decode(&[14, 0, 0, 0]),
            Err(TransportError::Unaligned { len: 14 })
        );
        assert_eq!(c.decode(&[12, 0, 0, 0]), Err(TransportError::ZeroLength));
        assert_eq!(
            c.decode(&[80, 0, 0, 0]),
            Err(TransportError::TooLong { len: 68, max: 64 })
        );
        // A negative length from a client is just an absurd length.
        assert!(matches!(
            c.decode(&[0x6c, 0xfe, 0xff, 0xff]),
            Err(TransportError::TooLong { .. })
        ));
    }

    #[test]
    fn error_frame_is_the_code_three_times() {
        let mut out = Vec::new();
        Codec::new(Framing::Full, Side::Server).encode_error(-404, &mut out);
        assert_eq!(out, [0x6c, 0xfe, 0xff, 0xff].repeat(3));
    }
}
