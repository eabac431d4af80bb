//! `rpc_error#2144ca19{error_code, error_message}` (ERRORS.md §1): the one error type every
//! handler returns, mapped to the wire in one place.

use crate::tl::{types, Serializable};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RpcError {
    pub code: i32,
    pub message: String,
}

impl RpcError {
    pub fn new(code: i32, message: impl Into<String>) -> Self {
        RpcError {
            code,
            message: message.into(),
        }
    }

    /// An unknown constructor: the Telegram-style error carrying its id in the text, as the
    /// decimal of the unsigned id (ERRORS.md §1: numbers go in the text, `[A-Z0-9_]+`).
    pub fn unknown_constructor(id: u32) -> Self {
        RpcError::new(400, format!("INPUT_METHOD_INVALID_{id}"))
    }

    /// The arguments of a known method do not decode.
    pub fn fetch_fail() -> Self {
        RpcError::new(400, "INPUT_FETCH_FAIL")
    }

    /// A storage failure or a bug; nothing was committed.
    pub fn internal() -> Self {
        RpcError::new(500, "INTERNAL")
    }

    /// The TL bytes of the rpc_error object.
    pub fn to_bytes(&self) -> Vec<u8> {
        types::RpcError {
            error_code: self.code,
            error_message: self.message.clone(),
        }
        .to_bytes()
    }
}

impl std::fmt::Display for RpcError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} {}", self.code, self.message)
    }
}

impl std::error::Error for RpcError {}

/// A storage failure fails the request with 500 INTERNAL; nothing it meant to write was
/// committed (DB-1). The cause goes to the log, not to the client.
impl From<crate::store::StoreError> for RpcError {
    fn from(e: crate::store::StoreError) -> Self {
        tracing::error!(error = %e, "store");
        RpcError::internal()
    }
}
