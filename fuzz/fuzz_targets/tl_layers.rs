//! Arbitrary bytes as a value of one API layer, moved to another; and as a request of any layer.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| mtproto_auth::fuzzing::tl_layers(data));
