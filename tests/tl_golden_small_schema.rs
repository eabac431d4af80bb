//! The golden output of codegen for `codegen/tests/golden/small.tl`, compiled against the real
//! runtime and exercised: flags words, shared bits, keywords, generics, bare vectors, boxing.

#[allow(dead_code, unused_variables)]
mod tl {
    // The runtime items generated code uses, as `crate::tl` provides them in the main crate.
    #[allow(unused_imports)]
    pub use mtproto_auth::tl::{
        write_bare_vector_header, write_bool, write_bytes, write_f64, write_i32, write_i64,
        write_u32, write_vector_header, AnyObject, DecodeError, Deserializable, Identifiable,
        Reader, RemoteCall, Serializable, BOOL_FALSE_ID, BOOL_TRUE_ID,
    };
    include!("../codegen/tests/golden/small.rs");
}

use tl::{Deserializable, Identifiable, Serializable};

#[test]
fn flags_words_and_shared_bits() {
    let v = tl::types::test::Flagged {
        is_self: true,
        r#type: Some("t".into()),
        r#static: Some(false),
        big: None,
        huge: Some([7; 32]),
    };
    let bytes = v.to_bytes();
    let mut expected = tl::types::test::Flagged::CONSTRUCTOR_ID
        .to_le_bytes()
        .to_vec();
    expected.extend(0b11u32.to_le_bytes()); // self (bit 0), type and static (both bit 1)
    expected.extend([1, b't', 0, 0]);
    expected.extend(mtproto_auth::tl::BOOL_FALSE_ID.to_le_bytes());
    expected.extend((1u32 << 4).to_le_bytes());
    expected.extend([7; 32]);
    assert_eq!(bytes, expected);
    let back = tl::enums::test::Flagged::from_bytes(&bytes).unwrap();
    assert_eq!(back, tl::enums::test::Flagged::Flagged(v));
}

#[test]
fn vectors_boxed_nested_bare_and_percent() {
    let v = tl::types::test::Vectors {
        boxed: vec![1, 2],
        nested: vec![vec!["a".into()], vec![]],
        bare: vec![tl::types::Point { x: 1, y: 2 }],
        percent: vec![tl::types::Point { x: 3, y: 4 }],
    };
    let bytes = v.to_bytes();
    assert_eq!(
        bytes.len(),
        4 + (8 + 16) + (8 + 8 + 4 + 8) + (4 + 8) + (4 + 8)
    );
    assert_eq!(tl::types::test::Vectors::from_bytes(&bytes).unwrap(), v);
}

#[test]
fn recursive_type_round_trips_and_depth_is_capped() {
    let mut peer = tl::enums::InputPeer::Empty(tl::types::InputPeerEmpty {});
    for i in 0..10 {
        peer = tl::types::InputPeerUserFromMessage {
            peer: Box::new(peer),
            msg_id: i,
            user_id: 5,
        }
        .into();
    }
    let bytes = peer.to_bytes();
    assert_eq!(tl::enums::InputPeer::from_bytes(&bytes).unwrap(), peer);

    // Nesting far past MAX_DEPTH fails with TooDeep, without exhausting the stack.
    let mut deep = Vec::new();
    for _ in 0..100_000 {
        deep.extend(tl::types::InputPeerUserFromMessage::CONSTRUCTOR_ID.to_le_bytes());
    }
    let e = tl::enums::InputPeer::from_bytes(&deep).unwrap_err();
    assert_eq!(
        e.kind,
        mtproto_auth::tl::DecodeErrorKind::TooDeep {
            max: mtproto_auth::tl::MAX_DEPTH
        }
    );
}

#[test]
fn generic_wrapper_and_return_types() {
    fn returns<F: tl::RemoteCall>(_: &F) -> &'static str {
        std::any::type_name::<F::Return>()
    }
    let call = tl::functions::InvokeWithLayer {
        layer: 7,
        query: tl::functions::test::List { ids: vec![1, 2, 3] },
    };
    assert_eq!(returns(&call), "alloc::vec::Vec<i64>");
    let bytes = call.to_bytes();
    let tl::functions::Function::InvokeWithLayer(back) =
        tl::functions::Function::from_bytes(&bytes).unwrap()
    else {
        panic!("not invokeWithLayer");
    };
    assert_eq!(
        *back.query,
        tl::functions::Function::TestList(tl::functions::test::List { ids: vec![1, 2, 3] })
    );
    assert_eq!(tl::name_for_id(0xda9b0d0d), Some("invokeWithLayer"));
    let (_, any) = (
        0,
        tl::deserialize_any(&mut tl::Reader::new(&bytes)).unwrap(),
    );
    assert_eq!(any.to_bytes(), bytes);
}
