//! MTProto transports (core.telegram.org/mtproto/mtproto-transports), sans-IO.
//!
//! A connection starts with `detect` on its first bytes (TR-1); then a `Codec` turns the byte
//! stream into frames and back, and `Obfuscated2` (when detected) wraps the stream in
//! AES-256-CTR. Nothing here owns a socket: `Codec::decode` looks at the front of the caller's
//! buffer and says how many bytes one frame took, so any chunking of the input works, and every
//! length is checked against the frame cap before a byte is copied (TR-8).

mod abridged;
mod detect;
mod full;
mod intermediate;
mod obfuscated2;
mod padded;

pub use detect::{detect, Detection};
pub use obfuscated2::Obfuscated2;

use crate::Side;

/// Largest frame payload accepted or sent (TR-8): 1 MiB.
pub const MAX_FRAME: usize = 1 << 20;

/// The four framings (obfuscated2 wraps one of the first three).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Framing {
    Abridged,
    Intermediate,
    PaddedIntermediate,
    Full,
}

impl Framing {
    /// The tag a client sends once, before its first frame (none for full). Inside obfuscated2
    /// the 4-byte form sits in the encrypted init instead.
    pub fn tag(self) -> &'static [u8] {
        match self {
            Framing::Abridged => &[0xef],
            Framing::Intermediate => &[0xee; 4],
            Framing::PaddedIntermediate => &[0xdd; 4],
            Framing::Full => &[],
        }
    }
}

/// What one decoded frame carried.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Incoming<'a> {
    /// A payload (an MTProto message), where it lies in the decoder's input (nothing is copied
    /// out of it). `quick_ack`: the client asked for a quick ack (TR-2/3).
    Frame { payload: &'a [u8], quick_ack: bool },
    /// A transport error code from the server, e.g. −404 (TR-9); client side only.
    TransportError(i32),
    /// A quick-ack token from the server (TR-6); client side only.
    QuickAck(u32),
}

/// A transport-level violation by the peer: the connection is closed (TR-5, TR-8).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TransportError {
    /// HTTP or fake-TLS first bytes: not an MTProto transport we serve (TR-1).
    UnsupportedProtocol,
    /// The obfuscated2 init decrypts to no known framing tag (TR-7).
    BadObfuscatedTag { tag: [u8; 4] },
    /// A zero-length frame (TR-8).
    ZeroLength,
    /// A length that is not a multiple of 4 where the framing requires it (TR-8).
    Unaligned { len: usize },
    /// A frame over the cap (TR-8), refused before allocating.
    TooLong { len: usize, max: usize },
    /// A frame too short for its framing (full: under 12 bytes; padded: shorter than its
    /// message header says).
    TooShort { len: usize },
    /// Full transport: the frame's sequence number is not the next one (TR-5).
    BadSeq { expected: u32, got: u32 },
    /// Full transport: CRC32 mismatch (TR-5).
    BadCrc { expected: u32, got: u32 },
}

impl std::fmt::Display for TransportError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::UnsupportedProtocol => write!(f, "HTTP or TLS, not an MTProto transport"),
            Self::BadObfuscatedTag { tag } => {
                write!(f, "obfuscated2 init with unknown tag {tag:02x?}")
            }
            Self::ZeroLength => write!(f, "zero-length frame"),
            Self::Unaligned { len } => write!(f, "frame length {len} is not a multiple of 4"),
            Self::TooLong { len, max } => {
                write!(f, "frame of {len} bytes exceeds the {max}-byte cap")
            }
            Self::TooShort { len } => write!(f, "frame of {len} bytes is too short"),
            Self::BadSeq { expected, got } => {
                write!(f, "full transport seq {got}, expected {expected}")
            }
            Self::BadCrc { expected, got } => {
                write!(f, "full transport CRC32 {got:08x}, expected {expected:08x}")
            }
        }
    }
}

impl std::error::Error for TransportError {}

/// A decoded frame and how many input bytes it took.
pub type Decoded<'a> = Option<(Incoming<'a>, usize)>;

/// One direction-aware codec per connection.
#[derive(Debug, Clone)]
pub struct Codec {
    framing: Framing,
    side: Side,
    max_frame: usize,
    /// Full transport: next expected incoming and next outgoing sequence numbers.
    recv_seq: u32,
    send_seq: u32,
}

impl Codec {
    pub fn new(framing: Framing, side: Side) -> Self {
        Codec::with_max_frame(framing, side, MAX_FRAME)
    }

    pub fn with_max_frame(framing: Framing, side: Side, max_frame: usize) -> Self {
        Codec {
            framing,
            side,
            max_frame,
            recv_seq: 0,
            send_seq: 0,
        }
    }

    pub fn framing(&self) -> Framing {
        self.framing
    }

    /// Changes the frame cap (the server raises it once a connection carries an auth key).
    pub fn set_max_frame(&mut self, max_frame: usize) {
        self.max_frame = max_frame;
    }

    /// Takes one frame from the front of `input`: `Ok(None)` until it is complete.
    pub fn decode<'a>(&mut self, input: &'a [u8]) -> Result<Decoded<'a>, TransportError> {
        match self.framing {
            Framing::Abridged => abridged::decode(input, self.side, self.max_frame),
            Framing::Intermediate => intermediate::decode(input, self.side, self.max_frame),
            Framing::PaddedIntermediate => padded::decode(input, self.side, self.max_frame),
            Framing::Full => full::decode(input, self.side, self.max_frame, &mut self.recv_seq),
        }
    }

    /// Appends one frame carrying `payload` (a multiple of 4 bytes, at most the cap) to `out`.
    /// `padding` is used by the padded framing only (random bytes; at most 15 are used from a
    /// client, 3 from a server, TR-4); `quick_ack` asks for a quick ack (client side, abridged and
    /// intermediate).
    pub fn encode(
        &mut self,
        payload: &[u8],
        padding: &[u8],
        quick_ack: bool,
        out: &mut Vec<u8>,
    ) -> Result<(), TransportError> {
        let len = payload.len();
        if !len.is_multiple_of(4) {
            return Err(TransportError::Unaligned { len });
        }
        if len > self.max_frame {
            return Err(TransportError::TooLong {
                len,
                max: self.max_frame,
            });
        }
        let quick_ack = quick_ack && self.side == Side::Client;
        match self.framing {
            Framing::Abridged => abridged::encode(payload, quick_ack, out),
            Framing::Intermediate => intermediate::encode(payload, quick_ack, out),
            Framing::PaddedIntermediate => {
                padded::encode(payload, padding, quick_ack, self.side, out)
            }
            Framing::Full => full::encode(payload, &mut self.send_seq, out),
        }
        Ok(())
    }

    /// Appends a transport error frame (TR-9): the negative code as a 4-byte payload, or on the
    /// full transport the code as length, seq and body (12 bytes, no CRC). Close after sending.
    pub fn encode_error(&mut self, code: i32, out: &mut Vec<u8>) {
        let bytes = code.to_le_bytes();
        match self.framing {
            Framing::Abridged => abridged::encode(&bytes, false, out),
            Framing::Intermediate | Framing::PaddedIntermediate => {
                intermediate::encode(&bytes, false, out)
            }
            Framing::Full => (0..3).for_each(|_| out.extend_from_slice(&bytes)),
        }
    }
}

/// On the client side, a 4-byte payload holding a negative int32 is the server's transport
/// error (TR-9), not a message.
fn server_error(side: Side, payload: &[u8]) -> Option<Incoming<'static>> {
    if side != Side::Client {
        return None;
    }
    let code = i32::from_le_bytes(payload.try_into().ok()?);
    (code < 0).then_some(Incoming::TransportError(code))
}

/// A frame's payload as received: the server's transport error, or a message.
fn frame(side: Side, payload: &[u8], quick_ack: bool) -> Incoming<'_> {
    server_error(side, payload).unwrap_or(Incoming::Frame { payload, quick_ack })
}

#[cfg(test)]
mod tests {
    use super::*;

    pub(super) const ALL: [Framing; 4] = [
        Framing::Abridged,
        Framing::Intermediate,
        Framing::PaddedIntermediate,
        Framing::Full,
    ];

    /// An unencrypted MTProto message (auth_key_id 0, msg_id, length, body), which padded
    /// decoding can size.
    pub(super) fn message(body_words: usize) -> Vec<u8> {
        let mut m = vec![0u8; 8];
        m.extend(0x5e0a_0000_0000_0004u64.to_le_bytes());
        m.extend(((body_words * 4) as u32).to_le_bytes());
        m.extend((0..body_words * 4).map(|i| i as u8));
        m
    }

    /// Feeds `stream` to `codec` in chunks of `chunk` bytes, as a connection would: each
    /// decode sees only what has arrived and not yet been taken.
    pub(super) fn decode_all<'a>(
        codec: &mut Codec,
        stream: &'a [u8],
        chunk: usize,
    ) -> Result<Vec<Incoming<'a>>, TransportError> {
        let (mut taken, mut arrived) = (0, 0);
        let mut out = Vec::new();
        while arrived < stream.len() {
            arrived = (arrived + chunk.max(1)).min(stream.len());
            while let Some((item, used)) = codec.decode(&stream[taken..arrived])? {
                taken += used;
                out.push(item);
            }
        }
        assert_eq!(taken, stream.len(), "bytes left undecoded");
        Ok(out)
    }

    #[test]
    fn every_framing_round_trips_both_directions_in_any_chunking() {
        for framing in ALL {
            for (from, to) in [(Side::Client, Side::Server), (Side::Server, Side::Client)] {
                let mut enc = Codec::new(framing, from);
                let mut stream = Vec::new();
                let messages: Vec<Vec<u8>> = [0, 1, 60, 300].iter().map(|&w| message(w)).collect();
                for m in &messages {
                    enc.encode(m, &[9, 9, 9][..(m.len() / 4) % 4], false, &mut stream)
                        .unwrap();
                }
                for chunk in [1, 3, 7, 64, 100_000] {
                    let mut dec = Codec::new(framing, to);
                    let got = decode_all(&mut dec, &stream, chunk).unwrap();
                    let want: Vec<Incoming> = messages
                        .iter()
                        .map(|m| Incoming::Frame {
                            payload: m,
                            quick_ack: false,
                        })
                        .collect();
                    assert_eq!(got, want, "{framing:?} {from:?}->{to:?} chunk {chunk}");
                }
            }
        }
    }

    #[test]
    fn transport_errors_reach_the_client_on_every_framing() {
        for framing in ALL {
            let mut server = Codec::new(framing, Side::Server);
            let mut out = Vec::new();
            server.encode_error(-404, &mut out);
            let mut client = Codec::new(framing, Side::Client);
            let got = decode_all(&mut client, &out, 1).unwrap();
            assert_eq!(got, [Incoming::TransportError(-404)], "{framing:?}");
        }
    }

    #[test]
    fn encode_refuses_unaligned_and_oversized_payloads() {
        let mut c = Codec::with_max_frame(Framing::Intermediate, Side::Server, 64);
        assert_eq!(
            c.encode(&[0; 6], &[], false, &mut Vec::new()),
            Err(TransportError::Unaligned { len: 6 })
        );
        assert_eq!(
            c.encode(&[0; 68], &[], false, &mut Vec::new()),
            Err(TransportError::TooLong { len: 68, max: 64 })
        );
    }
}
