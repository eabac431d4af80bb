//! The auth-key exchange [doc: mtproto/auth_key] as chains of consuming states (ARCHITECTURE
//! rule 4): `server` for the server side, `client` for ours, `plain` for the unencrypted
//! envelope both travel in, and `ServerHandshakes`, the per-connection driver the server shell
//! feeds unencrypted frames into.
//!
//! ```text
//! server:  req_pq(_multi) ─► ExpectDhParams ─req_DH_params─► ExpectClientDh ─set_client_DH_params─► KeyReady
//!                                                                   ▲                                 │
//!                                                                   └──────── dh_gen_retry ◄──────────┤
//!                                                                                dh_gen_ok / _fail ◄──┘
//! ```

pub mod client;
mod driver;
mod error;
pub mod plain;
pub mod server;

pub use driver::{
    is_req_pq, needs_dh_work, HandshakeOutput, KeyDecision, ServerHandshakes, MAX_PER_CONNECTION,
};
pub use error::HandshakeError;
pub use server::{HandshakeConfig, KeyKind, KeyReady};

/// `new_nonce_hashN = SHA1(new_nonce ‖ byte N ‖ aux_hash)[4..20]` (HS-17).
pub fn new_nonce_hash(new_nonce: &[u8; 32], n: u8, aux_hash: &[u8; 8]) -> [u8; 16] {
    let h = crate::crypto::sha1(&[new_nonce, &[n], aux_hash]);
    h[4..20].try_into().expect("16 bytes")
}

/// The initial server salt: `new_nonce[0..8] XOR server_nonce[0..8]` as a LE int64 (HS-18).
pub fn initial_salt(new_nonce: &[u8; 32], server_nonce: &[u8; 16]) -> i64 {
    let mut s = [0u8; 8];
    for i in 0..8 {
        s[i] = new_nonce[i] ^ server_nonce[i];
    }
    i64::from_le_bytes(s)
}
