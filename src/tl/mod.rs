//! TL runtime and the generated schema types (core.telegram.org/mtproto/serialize).
//!
//! `reader` and `writer` hold the primitive codecs; `generated` holds the code `build.rs`
//! generates from `schema/*.tl`: `types` (a struct per constructor), `enums` (an enum per boxed
//! type), `functions` (a struct per function and the `Function` enum of them all).
//!
//! ```
//! use mtproto_auth::tl::{self, functions, Deserializable, Serializable};
//!
//! // What a client sends first, and what the server's dispatch decodes it into.
//! let request = functions::InvokeWithLayer { layer: tl::LAYER, query: functions::help::GetConfig {} };
//! let bytes = request.to_bytes();
//! let functions::Function::InvokeWithLayer(wrapper) = functions::Function::from_bytes(&bytes)? else {
//!     unreachable!()
//! };
//! assert_eq!(wrapper.query.name(), "help.getConfig");
//!
//! // Hostile bytes get a typed error with the offset, never a panic.
//! let err = functions::Function::from_bytes(&bytes[..6]).unwrap_err();
//! assert_eq!(err.to_string(), "at offset 4: unexpected end of input (2 more bytes needed)");
//! # Ok::<(), tl::DecodeError>(())
//! ```

mod generated;
pub mod layer;
mod reader;
mod writer;

use std::fmt::Debug;

pub use generated::{deserialize_any, enums, functions, name_for_id, types, LAYER, NAMES_BY_ID};
pub use reader::{
    DecodeError, DecodeErrorKind, Reader, BOOL_FALSE_ID, BOOL_TRUE_ID, MAX_DEPTH, VECTOR_ID,
};
pub use writer::{
    write_bare_vector_header, write_bool, write_bytes, write_f64, write_i32, write_i64, write_u32,
    write_vector_header, MAX_BYTES_LEN,
};

/// A value with a TL encoding (boxed: with its constructor id, where it has one).
pub trait Serializable {
    fn serialize(&self, buf: &mut Vec<u8>);

    fn to_bytes(&self) -> Vec<u8> {
        // Room for the small objects most answers are (a pong is 20 bytes), so that they are
        // written in one allocation rather than three growing steps.
        let mut buf = Vec::with_capacity(64);
        self.serialize(&mut buf);
        buf
    }
}

/// A value that can be read back from its TL encoding.
pub trait Deserializable: Sized {
    fn deserialize(r: &mut Reader<'_>) -> Result<Self, DecodeError>;

    /// Decodes a whole buffer: bytes left after the value are an error.
    fn from_bytes(buf: &[u8]) -> Result<Self, DecodeError> {
        let mut r = Reader::new(buf);
        let value = Self::deserialize(&mut r)?;
        r.finish()?;
        Ok(value)
    }
}

/// A constructor or function with its id and TL name.
pub trait Identifiable {
    const CONSTRUCTOR_ID: u32;
    const NAME: &'static str;
}

/// A function: what its result decodes into.
pub trait RemoteCall: Serializable {
    type Return: Deserializable;
}

/// Any decoded value, for tools that print or re-encode what they do not know statically.
pub trait AnyObject: Debug + Serializable {}

impl<T: Debug + Serializable> AnyObject for T {}

/// Decodes one boxed value of any constructor or function of the schemas, `boolTrue` and
/// `boolFalse` included; bytes left after it are an error.
pub fn decode_any(buf: &[u8]) -> Result<(u32, Box<dyn AnyObject>), DecodeError> {
    let mut r = Reader::new(buf);
    let id = r.peek_u32()?;
    let value: Box<dyn AnyObject> = match id {
        BOOL_TRUE_ID | BOOL_FALSE_ID => Box::new(r.read_bool()?),
        _ => deserialize_any(&mut r)?,
    };
    r.finish()?;
    Ok((id, value))
}

/// The TL name of an id, the two Bool constructors included.
pub fn any_name_for_id(id: u32) -> Option<&'static str> {
    match id {
        BOOL_TRUE_ID => Some("boolTrue"),
        BOOL_FALSE_ID => Some("boolFalse"),
        _ => name_for_id(id),
    }
}

macro_rules! primitive {
    ($t:ty, $write:ident, $read:ident) => {
        impl Serializable for $t {
            fn serialize(&self, buf: &mut Vec<u8>) {
                $write(buf, *self);
            }
        }
        impl Deserializable for $t {
            fn deserialize(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
                r.$read()
            }
        }
    };
}

primitive!(i32, write_i32, read_i32);
primitive!(i64, write_i64, read_i64);
primitive!(f64, write_f64, read_f64);
primitive!(bool, write_bool, read_bool);

impl Serializable for [u8; 16] {
    fn serialize(&self, buf: &mut Vec<u8>) {
        buf.extend_from_slice(self);
    }
}

impl Deserializable for [u8; 16] {
    fn deserialize(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        r.read_int128()
    }
}

impl Serializable for [u8; 32] {
    fn serialize(&self, buf: &mut Vec<u8>) {
        buf.extend_from_slice(self);
    }
}

impl Deserializable for [u8; 32] {
    fn deserialize(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        r.read_int256()
    }
}

impl Serializable for String {
    fn serialize(&self, buf: &mut Vec<u8>) {
        write_bytes(buf, self.as_bytes());
    }
}

impl Deserializable for String {
    fn deserialize(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        r.read_string()
    }
}

/// `Vector<T>`, boxed (the form function results use).
impl<T: Serializable> Serializable for Vec<T> {
    fn serialize(&self, buf: &mut Vec<u8>) {
        write_vector_header(buf, self.len());
        for x in self {
            x.serialize(buf);
        }
    }
}

impl<T: Deserializable> Deserializable for Vec<T> {
    fn deserialize(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        // Every boxed TL value (and int, string, Bool) takes at least 4 bytes.
        let n = r.read_vector_len(4)?;
        let mut v = r.vec_for(n);
        for _ in 0..n {
            v.push(T::deserialize(r)?);
        }
        Ok(v)
    }
}

impl<T: Serializable + ?Sized> Serializable for Box<T> {
    fn serialize(&self, buf: &mut Vec<u8>) {
        (**self).serialize(buf);
    }
}

impl<T: Deserializable> Deserializable for Box<T> {
    fn deserialize(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        T::deserialize(r).map(Box::new)
    }
}
