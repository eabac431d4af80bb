//! `gzip_packed#3072cfa1 packed_data:bytes` (SV-3) [doc: mtproto/serialize]: inbound
//! decompression capped at the frame cap (a zip bomb stops there), outbound compression of
//! large results.
//!
//! Inbound, `packed_data` may be gzip (RFC 1952) or zlib (RFC 1950) data, as zlib's inflate takes
//! both when asked to detect the header: mtcute 0.30 packs its requests with Node's
//! `deflateSync` (zlib format), and Telegram answers them. Outbound it is always gzip.

use std::io::{Read, Write};

use crate::tl::{write_bytes, write_u32, Reader};

pub const GZIP_PACKED_ID: u32 = 0x3072cfa1;
/// Results at least this large are sent compressed when that makes them smaller.
pub const COMPRESS_FROM: usize = 1024;

/// Why a gzip_packed body was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum GzipError {
    Malformed,
    /// Decompresses past the cap (SV-3).
    TooLarge {
        cap: usize,
    },
}

/// If `body` is gzip_packed, its decompressed content (at most `cap` bytes); else `None`.
pub fn unpack(body: &[u8], cap: usize) -> Option<Result<Vec<u8>, GzipError>> {
    let mut r = Reader::new(body);
    if r.peek_u32().ok()? != GZIP_PACKED_ID {
        return None;
    }
    Some((|| {
        r.read_u32().map_err(|_| GzipError::Malformed)?;
        let packed = r.read_bytes_slice().map_err(|_| GzipError::Malformed)?;
        r.finish().map_err(|_| GzipError::Malformed)?;
        let mut out = Vec::new();
        let read = if packed.starts_with(&[0x1f, 0x8b]) {
            flate2::read::GzDecoder::new(packed)
                .take(cap as u64 + 1)
                .read_to_end(&mut out)
        } else {
            flate2::read::ZlibDecoder::new(packed)
                .take(cap as u64 + 1)
                .read_to_end(&mut out)
        };
        read.map_err(|_| GzipError::Malformed)?;
        if out.len() > cap {
            return Err(GzipError::TooLarge { cap });
        }
        // No gzip inside gzip, no container inside gzip (SV-3).
        let inner = out
            .get(..4)
            .map(|b| u32::from_le_bytes(b.try_into().expect("4")));
        if inner == Some(GZIP_PACKED_ID) || inner == Some(super::container::CONTAINER_ID) {
            return Err(GzipError::Malformed);
        }
        Ok(out)
    })())
}

/// `data` as gzip_packed if it is large and compresses; else `data` itself.
pub fn maybe_pack(data: Vec<u8>) -> Vec<u8> {
    if data.len() < COMPRESS_FROM {
        return data;
    }
    let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    if enc.write_all(&data).is_err() {
        return data;
    }
    match enc.finish() {
        Ok(packed) if packed.len() + 8 < data.len() => {
            let mut out = Vec::with_capacity(packed.len() + 8);
            write_u32(&mut out, GZIP_PACKED_ID);
            write_bytes(&mut out, &packed);
            out
        }
        _ => data,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_and_caps() {
        let data = vec![0x11u8; 4096];
        let packed = maybe_pack(data.clone());
        assert!(packed.len() < data.len());
        assert_eq!(unpack(&packed, 1 << 20), Some(Ok(data.clone())));
        assert_eq!(
            unpack(&packed, 4095),
            Some(Err(GzipError::TooLarge { cap: 4095 }))
        );
        assert_eq!(unpack(&data, 1 << 20), None);
        assert_eq!(maybe_pack(vec![1, 2, 3, 4]), vec![1, 2, 3, 4]);
        let mut bad = packed.clone();
        bad[20] ^= 0xff;
        assert!(matches!(unpack(&bad, 1 << 20), Some(Err(_))));
    }

    #[test]
    fn zlib_data_is_taken_too_as_mtcute_sends_it() {
        let data = vec![0x22u8; 4096];
        let mut enc = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::default());
        enc.write_all(&data).unwrap();
        let mut packed = Vec::new();
        write_u32(&mut packed, GZIP_PACKED_ID);
        write_bytes(&mut packed, &enc.finish().unwrap());
        assert_eq!(unpack(&packed, 1 << 20), Some(Ok(data)));
        assert_eq!(
            unpack(&packed, 100),
            Some(Err(GzipError::TooLarge { cap: 100 }))
        );
        // Neither gzip nor zlib: refused.
        let mut raw = Vec::new();
        write_u32(&mut raw, GZIP_PACKED_ID);
        write_bytes(&mut raw, &[0x11; 64]);
        assert_eq!(unpack(&raw, 1 << 20), Some(Err(GzipError::Malformed)));
    }
}
