//! mtproto-auth: an MTProto 2.0 authentication server with Telegram test-DC emulation.
#![forbid(unsafe_code)]

pub mod client;
pub mod crypto;
pub mod fuzzing;
pub mod handshake;
pub mod rand;
pub mod rpc;
pub mod server;
pub mod session;
mod side;
pub mod store;
pub mod tl;
pub mod transport;

pub use side::Side;
pub mod tools;
