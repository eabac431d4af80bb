//! Bounds-checked reader of TL-serialized bytes (core.telegram.org/mtproto/serialize).
//!
//! Every read checks the bytes left before it touches them, and every allocation is justified by
//! bytes already present: a `bytes`/`string` is sliced before it is copied, and a vector's count
//! times its element's minimum wire size must fit in what is left. Nesting of boxed values is
//! capped at `MAX_DEPTH` so that hostile input cannot exhaust the stack.

use std::fmt;

/// How deep boxed values may nest. The deepest real Telegram objects (updates carrying
/// messages with media, reply markup and entities) stay well under 20 levels; the cap leaves room
/// and keeps recursion within a 2 MiB thread stack even in debug builds.
pub const MAX_DEPTH: u32 = 48;

/// Why decoding failed, and at which byte offset of the input.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DecodeError {
    pub offset: usize,
    pub kind: DecodeErrorKind,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DecodeErrorKind {
    /// The input ended `needed` bytes before the value did.
    UnexpectedEnd { needed: usize },
    /// A constructor id that is not one the expected type has (or not one of the schemas).
    UnknownConstructor { id: u32 },
    /// A complete top-level value left these bytes unread.
    TrailingData { remaining: usize },
    /// Boxed values nested deeper than `MAX_DEPTH`.
    TooDeep { max: u32 },
    /// A `string` that is not UTF-8 text.
    InvalidUtf8,
    /// The length prefix byte 0xff, which no `bytes` or `string` encoding uses.
    InvalidLengthPrefix,
    /// A vector count that the bytes left cannot hold.
    VectorTooLong { count: u32, remaining: usize },
}

impl fmt::Display for DecodeErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::UnexpectedEnd { needed } => {
                write!(f, "unexpected end of input ({needed} more bytes needed)")
            }
            Self::UnknownConstructor { id } => match super::name_for_id(*id) {
                Some(name) => write!(
                    f,
                    "unexpected constructor 0x{id:08x} ({name}) for this type"
                ),
                None => write!(f, "unknown constructor 0x{id:08x}"),
            },
            Self::TrailingData { remaining } => {
                write!(f, "trailing data: {remaining} bytes after the value")
            }
            Self::TooDeep { max } => write!(f, "values nested deeper than {max} levels"),
            Self::InvalidUtf8 => write!(f, "string is not valid UTF-8"),
            Self::InvalidLengthPrefix => write!(f, "invalid length prefix 0xff"),
            Self::VectorTooLong { count, remaining } => {
                write!(
                    f,
                    "vector of {count} elements cannot fit in the {remaining} bytes left"
                )
            }
        }
    }
}

impl fmt::Display for DecodeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "at offset {}: {}", self.offset, self.kind)
    }
}

impl std::error::Error for DecodeError {}

/// `vector#1cb5c415 {t:Type} # [ t ] = Vector t;`
pub const VECTOR_ID: u32 = 0x1cb5c415;
/// `boolTrue#997275b5 = Bool;`
pub const BOOL_TRUE_ID: u32 = 0x997275b5;
/// `boolFalse#bc799737 = Bool;`
pub const BOOL_FALSE_ID: u32 = 0xbc799737;

/// A cursor over a byte slice that only ever reads inside it.
#[derive(Debug, Clone)]
pub struct Reader<'a> {
    buf: &'a [u8],
    pos: usize,
    depth: u32,
}

impl<'a> Reader<'a> {
    pub fn new(buf: &'a [u8]) -> Self {
        Reader {
            buf,
            pos: 0,
            depth: 0,
        }
    }

    /// Offset of the next byte to read.
    pub fn position(&self) -> usize {
        self.pos
    }

    /// Bytes not read yet.
    pub fn remaining(&self) -> usize {
        self.buf.len() - self.pos
    }

    fn error(&self, offset: usize, kind: DecodeErrorKind) -> DecodeError {
        DecodeError { offset, kind }
    }

    /// The next `n` bytes, or an error naming how many are missing.
    pub fn read_slice(&mut self, n: usize) -> Result<&'a [u8], DecodeError> {
        let remaining = self.remaining();
        if n > remaining {
            return Err(self.error(
                self.pos,
                DecodeErrorKind::UnexpectedEnd {
                    needed: n - remaining,
                },
            ));
        }
        let start = self.pos;
        self.pos += n;
        Ok(&self.buf[start..self.pos])
    }

    fn read_array<const N: usize>(&mut self) -> Result<[u8; N], DecodeError> {
        let at = self.pos;
        let s = self.read_slice(N)?;
        <[u8; N]>::try_from(s)
            .map_err(|_| self.error(at, DecodeErrorKind::UnexpectedEnd { needed: N }))
    }

    pub fn read_u32(&mut self) -> Result<u32, DecodeError> {
        self.read_array().map(u32::from_le_bytes)
    }

    pub fn read_i32(&mut self) -> Result<i32, DecodeError> {
        self.read_array().map(i32::from_le_bytes)
    }

    pub fn read_i64(&mut self) -> Result<i64, DecodeError> {
        self.read_array().map(i64::from_le_bytes)
    }

    pub fn read_f64(&mut self) -> Result<f64, DecodeError> {
        self.read_array().map(f64::from_le_bytes)
    }

    pub fn read_int128(&mut self) -> Result<[u8; 16], DecodeError> {
        self.read_array()
    }

    pub fn read_int256(&mut self) -> Result<[u8; 32], DecodeError> {
        self.read_array()
    }

    /// The next u32 without consuming it (a constructor id to dispatch on).
    pub fn peek_u32(&self) -> Result<u32, DecodeError> {
        self.clone().read_u32()
    }

    /// `boolTrue` or `boolFalse`.
    pub fn read_bool(&mut self) -> Result<bool, DecodeError> {
        match self.read_u32()? {
            BOOL_TRUE_ID => Ok(true),
            BOOL_FALSE_ID => Ok(false),
            id => Err(self.unknown_constructor(id)),
        }
    }

    /// A TL `bytes`/`string` body, borrowed from the input.
    ///
    /// ```text
    /// len < 254:  len (1) ‖ data (len) ‖ 0..3 padding bytes to a multiple of 4
    /// len ≥ 254:  0xfe (1) ‖ len (3, LE) ‖ data (len) ‖ 0..3 padding bytes
    /// ```
    pub fn read_bytes_slice(&mut self) -> Result<&'a [u8], DecodeError> {
        let start = self.pos;
        let [first] = self.read_array::<1>()?;
        let (len, header) = match first {
            0..=253 => (usize::from(first), 1),
            254 => {
                let [a, b, c] = self.read_array::<3>()?;
                (u32::from_le_bytes([a, b, c, 0]) as usize, 4)
            }
            255 => return Err(self.error(start, DecodeErrorKind::InvalidLengthPrefix)),
        };
        let data = self.read_slice(len)?;
        self.read_slice((4 - (header + len) % 4) % 4)?;
        Ok(data)
    }

    pub fn read_bytes(&mut self) -> Result<Vec<u8>, DecodeError> {
        self.read_bytes_slice().map(<[u8]>::to_vec)
    }

    pub fn read_string(&mut self) -> Result<String, DecodeError> {
        let start = self.pos;
        let data = self.read_bytes_slice()?;
        match std::str::from_utf8(data) {
            Ok(s) => Ok(s.to_owned()),
            Err(_) => Err(self.error(start, DecodeErrorKind::InvalidUtf8)),
        }
    }

    /// Reads `vector#1cb5c415` and the element count, checked against the bytes left.
    pub fn read_vector_len(&mut self, min_elem_size: usize) -> Result<usize, DecodeError> {
        self.expect_constructor(VECTOR_ID)?;
        self.read_bare_vector_len(min_elem_size)
    }

    /// Reads a bare vector's element count, checked against the bytes left: each element takes
    /// at least `min_elem_size` bytes, so a count that cannot fit is refused before allocating.
    pub fn read_bare_vector_len(&mut self, min_elem_size: usize) -> Result<usize, DecodeError> {
        let at = self.pos;
        let count = self.read_u32()?;
        let remaining = self.remaining();
        let fits = (count as u64).saturating_mul(min_elem_size.max(1) as u64) <= remaining as u64;
        if fits {
            Ok(count as usize)
        } else {
            Err(self.error(at, DecodeErrorKind::VectorTooLong { count, remaining }))
        }
    }

    /// An empty vector for `count` elements (a count already checked against the bytes left).
    ///
    /// The capacity reserved up front is capped by the bytes left too: a decoded element can be
    /// far larger in memory than its minimum wire size (a `User` is hundreds of bytes, its
    /// constructor id four), so a hostile count must not reserve that ratio before any element
    /// has decoded. Vectors longer than the cap grow as their elements arrive.
    pub fn vec_for<T>(&self, count: usize) -> Vec<T> {
        let by_bytes = self.remaining() / std::mem::size_of::<T>().max(1);
        Vec::with_capacity(count.min(by_bytes.max(1)))
    }

    /// Reads a constructor id and requires it to be `id`.
    pub fn expect_constructor(&mut self, id: u32) -> Result<(), DecodeError> {
        match self.read_u32()? {
            got if got == id => Ok(()),
            got => Err(self.unknown_constructor(got)),
        }
    }

    /// The error for a constructor id just read that the expected type does not have.
    pub fn unknown_constructor(&self, id: u32) -> DecodeError {
        self.error(
            self.pos.saturating_sub(4),
            DecodeErrorKind::UnknownConstructor { id },
        )
    }

    /// Enters one level of boxed nesting.
    pub fn enter(&mut self) -> Result<(), DecodeError> {
        if self.depth >= MAX_DEPTH {
            return Err(self.error(self.pos, DecodeErrorKind::TooDeep { max: MAX_DEPTH }));
        }
        self.depth += 1;
        Ok(())
    }

    /// Leaves a level entered with `enter`.
    pub fn leave(&mut self) {
        self.depth = self.depth.saturating_sub(1);
    }

    /// Every byte not read yet.
    pub fn read_rest(&mut self) -> &'a [u8] {
        let rest = &self.buf[self.pos..];
        self.pos = self.buf.len();
        rest
    }

    /// Succeeds only when every byte was read (top-level decodes consume the whole input).
    pub fn finish(&self) -> Result<(), DecodeError> {
        match self.remaining() {
            0 => Ok(()),
            remaining => Err(self.error(self.pos, DecodeErrorKind::TrailingData { remaining })),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn short_bytes_are_padded_to_four() {
        let mut r = Reader::new(&[3, b'a', b'b', b'c', 2, b'x', b'y', 0]);
        assert_eq!(r.read_bytes().unwrap(), b"abc");
        assert_eq!(r.read_bytes().unwrap(), b"xy");
        r.finish().unwrap();
    }

    #[test]
    fn long_bytes_use_the_254_prefix() {
        let mut input = vec![254, 0x2c, 0x01, 0x00];
        input.extend(std::iter::repeat_n(7u8, 300));
        let mut r = Reader::new(&input);
        assert_eq!(r.read_bytes().unwrap().len(), 300);
        r.finish().unwrap();
    }

    #[test]
    fn bytes_longer_than_the_input_fail_before_allocating() {
        let mut r = Reader::new(&[254, 0xff, 0xff, 0xff, 1, 2, 3, 4]);
        let e = r.read_bytes().unwrap_err();
        assert_eq!(e.offset, 4);
        assert_eq!(
            e.kind,
            DecodeErrorKind::UnexpectedEnd {
                needed: 0xff_ffff - 4
            }
        );
    }

    #[test]
    fn length_prefix_255_is_invalid() {
        let e = Reader::new(&[255, 0, 0, 0]).read_bytes().unwrap_err();
        assert_eq!(e.kind, DecodeErrorKind::InvalidLengthPrefix);
        assert_eq!(e.offset, 0);
    }

    #[test]
    fn missing_padding_is_unexpected_end() {
        let e = Reader::new(&[1, b'a']).read_bytes().unwrap_err();
        assert_eq!(e.kind, DecodeErrorKind::UnexpectedEnd { needed: 2 });
    }

    #[test]
    fn vector_count_must_fit_in_remaining_bytes() {
        let mut input = VECTOR_ID.to_le_bytes().to_vec();
        input.extend(0x4000_0000u32.to_le_bytes());
        input.extend([0u8; 16]);
        let e = Reader::new(&input).read_vector_len(8).unwrap_err();
        assert_eq!(
            e.kind,
            DecodeErrorKind::VectorTooLong {
                count: 0x4000_0000,
                remaining: 16
            }
        );
        assert_eq!(e.offset, 4);
        let mut input = VECTOR_ID.to_le_bytes().to_vec();
        input.extend(2u32.to_le_bytes());
        input.extend([0u8; 16]);
        assert_eq!(Reader::new(&input).read_vector_len(8).unwrap(), 2);
    }

    #[test]
    fn preallocation_is_capped_by_the_bytes_left() {
        let r = Reader::new(&[0u8; 64]);
        assert_eq!(r.vec_for::<u32>(10).capacity(), 10);
        assert!(r.vec_for::<[u8; 1024]>(10).capacity() <= 1);
        assert_eq!(r.vec_for::<()>(3).len(), 0);
    }

    #[test]
    fn wrong_vector_id_is_unknown_constructor() {
        let e = Reader::new(&[1, 2, 3, 4, 0, 0, 0, 0])
            .read_vector_len(4)
            .unwrap_err();
        assert_eq!(
            e.kind,
            DecodeErrorKind::UnknownConstructor { id: 0x04030201 }
        );
        assert_eq!(e.offset, 0);
    }

    #[test]
    fn bool_ids() {
        assert!(Reader::new(&BOOL_TRUE_ID.to_le_bytes())
            .read_bool()
            .unwrap());
        assert!(!Reader::new(&BOOL_FALSE_ID.to_le_bytes())
            .read_bool()
            .unwrap());
        assert!(Reader::new(&[0, 0, 0, 0]).read_bool().is_err());
    }

    #[test]
    fn invalid_utf8_string_is_an_error_at_its_start() {
        let mut r = Reader::new(&[0, 0, 0, 0, 2, 0xc3, 0x28, 0]);
        r.read_u32().unwrap();
        let e = r.read_string().unwrap_err();
        assert_eq!(
            e,
            DecodeError {
                offset: 4,
                kind: DecodeErrorKind::InvalidUtf8
            }
        );
    }

    #[test]
    fn depth_is_capped() {
        let mut r = Reader::new(&[]);
        for _ in 0..MAX_DEPTH {
            r.enter().unwrap();
        }
        assert_eq!(
            r.enter().unwrap_err().kind,
            DecodeErrorKind::TooDeep { max: MAX_DEPTH }
        );
        r.leave();
        r.enter().unwrap();
    }

    #[test]
    fn finish_reports_trailing_bytes() {
        let mut r = Reader::new(&[1, 0, 0, 0, 9]);
        r.read_u32().unwrap();
        assert_eq!(
            r.finish().unwrap_err(),
            DecodeError {
                offset: 4,
                kind: DecodeErrorKind::TrailingData { remaining: 1 }
            }
        );
    }

    #[test]
    fn integers_are_little_endian() {
        let mut r = Reader::new(&[
            0x78, 0x56, 0x34, 0x12, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f,
        ]);
        assert_eq!(r.read_u32().unwrap(), 0x12345678);
        assert_eq!(r.read_i64().unwrap(), i64::MAX);
        assert_eq!(
            r.read_i32().unwrap_err().kind,
            DecodeErrorKind::UnexpectedEnd { needed: 4 }
        );
    }
}
