//! Known byte vectors: the TL messages of core.telegram.org/mtproto/samples-auth_key (values as
//! PROTOCOL-CHECKLIST.md §3 lists them) and a few service messages.

mod common;

use common::hex;
use mtproto_auth::tl::{self, enums, functions, types, Deserializable, Serializable};

const NONCE: &str = "406709F612FADFBEC3F0289D0AA67EEF";
const SERVER_NONCE: &str = "E11DBC3BC97D91A26154F932AF019943";
const NEW_NONCE: &str = "A8BBC849512DAC6C67B6EFD9157D6CA7377A1776307D84265C6BE9BDCF802AC1";

fn arr<const N: usize>(h: &str) -> [u8; N] {
    hex(h).try_into().unwrap()
}

#[test]
fn req_pq_multi_sample() {
    let bytes = hex(&format!("F18E7EBE {NONCE}"));
    let f = functions::ReqPqMulti { nonce: arr(NONCE) };
    assert_eq!(f.to_bytes(), bytes);
    assert_eq!(functions::ReqPqMulti::from_bytes(&bytes).unwrap(), f);
}

#[test]
fn res_pq_sample() {
    let bytes = hex(&format!(
        "63241605 {NONCE} {SERVER_NONCE} 08 256595EDB7766797 000000 15C4B51C 03000000 \
         A5B7F709355FC30B 216BE86C022BB4C3 85FD64DE851D9DD0"
    ));
    let enums::ResPQ::ResPQ(res) = enums::ResPQ::from_bytes(&bytes).unwrap();
    assert_eq!(res.nonce, arr::<16>(NONCE));
    assert_eq!(res.server_nonce, arr::<16>(SERVER_NONCE));
    assert_eq!(
        u64::from_be_bytes(res.pq.clone().try_into().unwrap()),
        2694724800268887959
    );
    assert_eq!(1513098571u64 * 1780931429, 2694724800268887959);
    let fps: Vec<[u8; 8]> = res
        .server_public_key_fingerprints
        .iter()
        .map(|f| f.to_le_bytes())
        .collect();
    assert_eq!(
        fps,
        [
            arr::<8>("A5B7F709355FC30B"),
            arr("216BE86C022BB4C3"),
            arr("85FD64DE851D9DD0")
        ]
    );
    assert_eq!(res.to_bytes(), bytes);
}

#[test]
fn p_q_inner_data_dc_sample_is_100_bytes() {
    let inner = types::PQInnerDataDc {
        pq: hex("256595EDB7766797"),
        p: 1513098571u32.to_be_bytes().to_vec(),
        q: 1780931429u32.to_be_bytes().to_vec(),
        nonce: arr(NONCE),
        server_nonce: arr(SERVER_NONCE),
        new_nonce: arr(NEW_NONCE),
        dc: 2,
    };
    let bytes = inner.to_bytes();
    assert_eq!(bytes.len(), 100);
    assert_eq!(
        bytes[..32],
        hex("955FF5A9 08256595EDB7766797000000 045A300D4B000000 046A26DB65000000")[..]
    );
    let enums::PQInnerData::Dc(back) = enums::PQInnerData::from_bytes(&bytes).unwrap() else {
        panic!("not p_q_inner_data_dc");
    };
    assert_eq!(back, inner);
}

#[test]
fn service_messages() {
    // msgs_ack#62d6b459 msg_ids:Vector<long>
    let ack = types::MsgsAck {
        msg_ids: vec![1, -1],
    };
    assert_eq!(
        ack.to_bytes(),
        hex("59B4D662 15C4B51C 02000000 0100000000000000 FFFFFFFFFFFFFFFF")
    );
    // rpc_error#2144ca19 error_code:int error_message:string
    let err = types::RpcError {
        error_code: 401,
        error_message: "AUTH_KEY_UNREGISTERED".into(),
    };
    assert_eq!(
        err.to_bytes(),
        hex("19CA4421 91010000 15 415554485F4B45595F554E52454749535445524544 0000")
    );
    // future_salts holds a bare vector of bare future_salt.
    let salts = types::FutureSalts {
        req_msg_id: 7,
        now: 9,
        salts: vec![types::FutureSalt {
            valid_since: 1,
            valid_until: 2,
            salt: 3,
        }],
    };
    let bytes = salts.to_bytes();
    assert_eq!(
        bytes,
        hex("950850AE 0700000000000000 09000000 01000000 01000000 02000000 0300000000000000")
    );
    assert_eq!(types::FutureSalts::from_bytes(&bytes).unwrap(), salts);
}

#[test]
fn wrappers_hold_the_inner_function() {
    let req = functions::InvokeWithLayer {
        layer: 229,
        query: functions::help::GetConfig {},
    };
    let bytes = req.to_bytes();
    assert_eq!(bytes, hex("0D0D9BDA E5000000 6B18F9C4"));
    let functions::Function::InvokeWithLayer(back) =
        functions::Function::from_bytes(&bytes).unwrap()
    else {
        panic!("not invokeWithLayer");
    };
    assert_eq!(back.layer, 229);
    assert_eq!(
        *back.query,
        functions::Function::HelpGetConfig(functions::help::GetConfig {})
    );
}

#[test]
fn unknown_constructor_and_trailing_data_are_errors() {
    let e = tl::decode_any(&hex("DEADBEEF")).unwrap_err();
    assert_eq!(
        e.kind,
        tl::DecodeErrorKind::UnknownConstructor { id: 0xefbeadde }
    );
    assert_eq!(e.to_string(), "at offset 0: unknown constructor 0xefbeadde");
    let e = tl::decode_any(&hex("B5757299 00")).unwrap_err();
    assert_eq!(e.kind, tl::DecodeErrorKind::TrailingData { remaining: 1 });
    // A User where an InputUser is due names what it found.
    let e = enums::InputUser::from_bytes(&hex("83CCB8B1")).unwrap_err();
    assert_eq!(
        e.to_string(),
        "at offset 0: unexpected constructor 0xb1b8cc83 (user) for this type"
    );
}

/// Hostile nesting through the schema's recursive types (and the generic wrappers) is refused
/// with TooDeep inside a 2 MiB stack, the size of a tokio worker's, even in a debug build.
#[test]
fn deep_nesting_is_refused_within_a_worker_sized_stack() {
    let run = || {
        // inputPeerUserFromMessage peer:InputPeer, textBold text:RichText,
        // pageBlockCover cover:PageBlock, invokeWithoutUpdates {X:Type} query:!X.
        for id in [0xa87b0a1cu32, 0x6724abc4, 0x39f23300, 0xbf9459b7] {
            let bytes: Vec<u8> = std::iter::repeat_n(id.to_le_bytes(), 10_000)
                .flatten()
                .collect();
            let e = tl::decode_any(&bytes).unwrap_err();
            assert_eq!(
                e.kind,
                tl::DecodeErrorKind::TooDeep { max: tl::MAX_DEPTH },
                "{id:08x}"
            );
        }
    };
    std::thread::Builder::new()
        .stack_size(2 << 20)
        .spawn(run)
        .unwrap()
        .join()
        .expect("decoding stayed within the stack and failed cleanly");
}
