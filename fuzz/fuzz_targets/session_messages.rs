#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| mtproto_auth::fuzzing::session_messages(data));
