//! Session rules (core.telegram.org/mtproto/description, mtproto/service_messages_about_messages),
//! sans-IO: message ids and sequence numbers, server salts, containers; acks, gzip and the
//! service messages follow.

pub mod container;
pub mod engine;
pub mod gzip;
pub mod held;
pub mod msg_id;
pub mod salt;

pub use engine::{Admitted, DestroyKey, Effect, Env, Host, Message, Outgoing, Reply, Session};
pub use msg_id::{BadMsg, MsgIdGenerator, MsgWindow, Parity, Received};
pub use salt::{FutureSalt, KeySalts, SaltSchedule, SALT_PERIOD};
