//! Why a handshake step was refused (server side). Every variant maps to one transport error
//! (HS-3, HS-15, TR-10): −444 for a wrong DC id, −404 for everything else; the connection is
//! then closed and the handshake is dead.

/// A refused handshake message. The variants exist for logs and tests; the peer sees only the
/// transport code of [`HandshakeError::wire_code`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HandshakeError {
    /// The unencrypted envelope is malformed (UM-1, UM-3).
    BadEnvelope(&'static str),
    /// A message that is not one of the four handshake functions (UM-2).
    UnexpectedMessage { id: u32 },
    /// The message does not decode.
    Decode(String),
    /// No handshake of this connection has this nonce.
    UnknownNonce,
    /// A message of the wrong step for its handshake (e.g. set_client_DH_params first).
    OutOfOrder {
        expected: &'static str,
        got: &'static str,
    },
    /// server_nonce differs from the one issued.
    ServerNonceMismatch,
    /// p or q are not byte-equal to the issued factors (HS-3).
    FactorsMismatch,
    /// The fingerprint is not one the server offered (HS-3).
    UnknownFingerprint { got: i64 },
    /// encrypted_data did not decrypt and verify (HS-5 … HS-7).
    InnerData,
    /// A field of p_q_inner_data or client_DH_inner_data disagrees with the handshake (HS-8).
    InnerMismatch { field: &'static str },
    /// p_q_inner_data_dc names a DC this listener is not (HS-9): −444.
    WrongDc { got: i32, expected: i32 },
    /// A temporary key's expires_in is outside 1..=cap (HS-10).
    BadExpiresIn { got: i32, max: i32 },
    /// set_client_DH_params: length not a multiple of 16, SHA1 mismatch or bad padding (HS-15).
    BadClientDhData,
    /// retry_id is not 0 (first attempt) or the previous key's aux_hash (HS-15).
    BadRetryId { got: i64, expected: i64 },
    /// g_b outside 2^1984 ≤ g_b ≤ p − 2^1984 (HS-15).
    GbOutOfRange,
    /// Too many handshakes at once on one connection (HS-1).
    TooManyHandshakes,
}

impl HandshakeError {
    /// The transport error sent before closing (TR-10).
    pub fn wire_code(&self) -> i32 {
        match self {
            HandshakeError::WrongDc { .. } => -444,
            _ => -404,
        }
    }
}

impl std::fmt::Display for HandshakeError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::BadEnvelope(why) => write!(f, "bad unencrypted envelope: {why}"),
            Self::UnexpectedMessage { id } => {
                write!(f, "unexpected unencrypted message {id:#010x}")
            }
            Self::Decode(e) => write!(f, "undecodable handshake message: {e}"),
            Self::UnknownNonce => write!(f, "no handshake with this nonce"),
            Self::OutOfOrder { expected, got } => write!(f, "expected {expected}, got {got}"),
            Self::ServerNonceMismatch => write!(f, "server_nonce mismatch"),
            Self::FactorsMismatch => write!(f, "p and q are not the issued factors"),
            Self::UnknownFingerprint { got } => {
                write!(f, "unknown key fingerprint {:016x}", *got as u64)
            }
            Self::InnerData => write!(f, "encrypted_data did not verify"),
            Self::InnerMismatch { field } => write!(f, "inner data field {field} mismatch"),
            Self::WrongDc { got, expected } => {
                write!(f, "dc {got} in inner data, this is {expected}")
            }
            Self::BadExpiresIn { got, max } => write!(f, "expires_in {got} outside 1..={max}"),
            Self::BadClientDhData => write!(f, "client_DH_inner_data did not verify"),
            Self::BadRetryId { got, expected } => {
                write!(f, "retry_id {got:#x}, expected {expected:#x}")
            }
            Self::GbOutOfRange => write!(f, "g_b out of range"),
            Self::TooManyHandshakes => write!(f, "too many concurrent handshakes"),
        }
    }
}

impl std::error::Error for HandshakeError {}
