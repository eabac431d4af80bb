#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| mtproto_auth::fuzzing::store_model(data));
