//! Transport decoders (both sides, every framing) fed whole and in chunks: same result.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| mtproto_auth::fuzzing::transport_chunks(data));
