//! Arbitrary bytes as any boxed TL value: decode → encode → decode must be stable.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| mtproto_auth::fuzzing::tl_roundtrip(data));
