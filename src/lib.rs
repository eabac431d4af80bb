//! mtproto-auth: an MTProto 2.0 authentication server with Telegram test-DC emulation.
#![forbid(unsafe_code)]

pub mod client;
pub mod crypto;
/// The fuzz targets' properties and fixtures: for tests, the fuzz crate and the `testing`
/// feature only (security review, item 5: no deterministic RNG in a production build).
#[cfg(any(test, feature = "testing"))]
pub mod fuzzing;
pub mod handshake;
pub mod rand;
pub mod rpc;
pub mod server;
pub mod session;
mod side;
pub mod store;
pub mod testing;
pub mod tl;
pub mod transport;

pub use side::Side;
pub mod tools;
