//! Properties the fuzz targets check, kept in the library so that `cargo test` replays the
//! checked-in corpora on stable (fuzz/corpus/*) and the targets stay a few lines each.

use crate::tl::{decode_any, functions::Function, Deserializable, Serializable};

/// Decodes arbitrary bytes as any boxed value. Whatever decodes must re-encode to bytes that
/// decode to the same value and re-encode identically (decode → encode → decode is stable), and
/// a canonical encoding is never longer than what was read.
pub fn tl_roundtrip(data: &[u8]) {
    if let Ok((id, value)) = decode_any(data) {
        let encoded = value.to_bytes();
        assert!(
            encoded.len() <= data.len(),
            "re-encoding grew: {} > {}",
            encoded.len(),
            data.len()
        );
        let (id2, value2) = decode_any(&encoded).expect("a re-encoded value decodes");
        assert_eq!(id, id2);
        assert_eq!(value2.to_bytes(), encoded, "encoding is not stable");
        assert_eq!(
            format!("{value:?}"),
            format!("{value2:?}"),
            "value changed through encoding"
        );
    }
    // The server's dispatch path: the same bytes as a request.
    if let Ok(f) = Function::from_bytes(data) {
        let encoded = f.to_bytes();
        let f2 = Function::from_bytes(&encoded).expect("a re-encoded function decodes");
        assert_eq!(f, f2);
    }
}
