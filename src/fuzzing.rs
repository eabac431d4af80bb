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

/// Every transport decoder, either side, fed the same bytes whole and in chunks of a size the
/// input picks: both feeds must yield the same frames and end in the same error, no frame may
/// exceed the cap, and the obfuscated2 server must accept or refuse any 64-byte init cleanly.
pub fn transport_chunks(data: &[u8]) {
    use crate::transport::{Codec, Framing, Obfuscated2, MAX_FRAME};
    use crate::Side;

    let [selector, chunk, stream @ ..] = data else {
        return;
    };
    let framing = match selector & 3 {
        0 => Framing::Abridged,
        1 => Framing::Intermediate,
        2 => Framing::PaddedIntermediate,
        _ => Framing::Full,
    };
    let side = if selector & 4 == 0 {
        Side::Server
    } else {
        Side::Client
    };
    let run = |chunk: usize| {
        let mut codec = Codec::new(framing, side);
        let mut buf = Vec::new();
        let mut items = Vec::new();
        for piece in stream.chunks(chunk) {
            buf.extend_from_slice(piece);
            loop {
                match codec.decode(&buf) {
                    Ok(Some((item, used))) => {
                        assert!(
                            used > 0 && used <= buf.len(),
                            "consumed {used} of {}",
                            buf.len()
                        );
                        if let crate::transport::Incoming::Frame { payload, .. } = &item {
                            assert!(payload.len() <= MAX_FRAME + 15);
                        }
                        buf.drain(..used);
                        items.push(item);
                    }
                    Ok(None) => break,
                    Err(e) => return (items, Some(e)),
                }
            }
        }
        (items, None)
    };
    assert_eq!(
        run(stream.len().max(1)),
        run(usize::from(*chunk).max(1)),
        "chunking changed the result"
    );

    if let Some(init) = stream.get(..64).and_then(|b| <[u8; 64]>::try_from(b).ok()) {
        let _ = Obfuscated2::server(&init);
    }
}
