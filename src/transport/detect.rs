//! Transport detection from a connection's first bytes (TR-1).
//!
//! ```text
//! ef                    abridged            (tag: 1 byte)
//! ee ee ee ee           intermediate        (tag: 4 bytes)
//! dd dd dd dd           padded intermediate (tag: 4 bytes)
//! POST GET␠ HEAD OPTI   HTTP                (not served: close)
//! 16 03 01 02           fake TLS            (not served: close)
//! ?? ?? ?? ?? 00×4      full                (no tag; the first frame's seq is 0)
//! otherwise             obfuscated2         (a 64-byte init)
//! ```

use super::Framing;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Detection {
    /// Not enough bytes to decide yet.
    NeedMore,
    /// A plain framing, whose tag takes the first `tag_len` bytes.
    Plain { framing: Framing, tag_len: usize },
    /// An obfuscated2 connection: its first 64 bytes are the init.
    Obfuscated2,
    /// HTTP or fake TLS: close.
    Unsupported,
}

pub fn detect(first: &[u8]) -> Detection {
    let plain = |framing, tag_len| Detection::Plain { framing, tag_len };
    match first {
        [] => Detection::NeedMore,
        [0xef, ..] => plain(Framing::Abridged, 1),
        [_, _, _, _, ..] if first[..4] == [0xee; 4] => plain(Framing::Intermediate, 4),
        [_, _, _, _, ..] if first[..4] == [0xdd; 4] => plain(Framing::PaddedIntermediate, 4),
        [_, _, _, _, ..]
            if [b"POST", b"GET ", b"HEAD", b"OPTI"]
                .contains(&&first[..4].try_into().unwrap_or([0u8; 4])) =>
        {
            Detection::Unsupported
        }
        [0x16, 0x03, 0x01, 0x02, ..] => Detection::Unsupported,
        _ if first.len() < 8 => Detection::NeedMore,
        _ if first[4..8] == [0; 4] => plain(Framing::Full, 0),
        _ if first.len() < 64 => Detection::NeedMore,
        _ => Detection::Obfuscated2,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_tag() {
        assert_eq!(
            detect(&[0xef]),
            Detection::Plain {
                framing: Framing::Abridged,
                tag_len: 1
            }
        );
        assert_eq!(
            detect(&[0xee; 4]),
            Detection::Plain {
                framing: Framing::Intermediate,
                tag_len: 4
            }
        );
        assert_eq!(
            detect(&[0xdd; 4]),
            Detection::Plain {
                framing: Framing::PaddedIntermediate,
                tag_len: 4
            }
        );
        assert_eq!(
            detect(&[0x34, 0, 0, 0, 0, 0, 0, 0]),
            Detection::Plain {
                framing: Framing::Full,
                tag_len: 0
            }
        );
        for http in [&b"POST /api"[..], b"GET /", b"HEAD /", b"OPTIONS"] {
            assert_eq!(detect(http), Detection::Unsupported);
        }
        assert_eq!(
            detect(&[0x16, 0x03, 0x01, 0x02, 0x00]),
            Detection::Unsupported
        );
        assert_eq!(detect(&[0x42; 64]), Detection::Obfuscated2);
    }

    #[test]
    fn waits_for_enough_bytes() {
        assert_eq!(detect(&[]), Detection::NeedMore);
        assert_eq!(detect(&[0xee, 0xee]), Detection::NeedMore);
        assert_eq!(detect(&[0x34, 0, 0, 0, 0]), Detection::NeedMore);
        assert_eq!(detect(&[0x42; 63]), Detection::NeedMore);
    }
}
