//! `ServerHandshakes`: the key exchanges of one connection (HS-1). It takes the payload of each
//! unencrypted frame and says what to send. Several handshakes may run on one connection
//! (Telethon retries there), each found by its nonce; at most `MAX_PER_CONNECTION` at once.

use super::server::{self, ExpectClientDh, ExpectDhParams, HandshakeConfig, KeyReady};
use super::{plain, HandshakeError};
use crate::rand::Rng;
use crate::session::MsgIdGenerator;
use crate::tl::{functions::Function, Deserializable, Identifiable, Serializable};

/// Handshakes one connection may keep open at once. Each holds a DH exponent; a client needs
/// one, a retrying one two.
pub const MAX_PER_CONNECTION: usize = 4;

enum State {
    DhParams(ExpectDhParams),
    ClientDh(Box<ExpectClientDh>),
}

impl State {
    fn nonce(&self) -> [u8; 16] {
        match self {
            State::DhParams(s) => s.nonce(),
            State::ClientDh(s) => s.nonce(),
        }
    }
}

/// What to do with one unencrypted frame.
#[derive(Debug)]
#[must_use]
pub enum HandshakeOutput {
    /// Send this unencrypted frame (auth_key_id 0 envelope included).
    Reply(Vec<u8>),
    /// Nothing to send (an ignored msgs_ack).
    Nothing,
    /// A key is ready: store it, then call [`ServerHandshakes::finish`].
    KeyReady(Box<KeyReady>),
    /// Send the transport error `wire_code()` and close (TR-10).
    Refuse(HandshakeError),
}

/// How the shell dealt with a ready key (HS-17, HS-19).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyDecision {
    /// Stored (a permanent key durably): answer dh_gen_ok.
    Stored,
    /// Its id is 0 or already taken: answer dh_gen_retry.
    Taken,
    /// Storing failed: answer dh_gen_fail.
    Failed,
}

/// Whether an unencrypted client frame is req_DH_params or set_client_DH_params: the steps
/// with an RSA private operation and 2048-bit DH work, which AB-4 budgets per address. A frame
/// that is not a well-formed unencrypted message is refused before any such work.
pub fn needs_dh_work(frame: &[u8]) -> bool {
    first_id(frame).is_some_and(|id| {
        id == crate::tl::functions::ReqDHParams::CONSTRUCTOR_ID
            || id == crate::tl::functions::SetClientDHParams::CONSTRUCTOR_ID
    })
}

/// Whether an unencrypted client frame is req_pq or req_pq_multi: cheap, but it opens an
/// exchange, so AB-4 counts it too (half a step).
pub fn is_req_pq(frame: &[u8]) -> bool {
    first_id(frame).is_some_and(|id| {
        id == crate::tl::functions::ReqPq::CONSTRUCTOR_ID
            || id == crate::tl::functions::ReqPqMulti::CONSTRUCTOR_ID
    })
}

/// The constructor id of a well-formed unencrypted client message.
fn first_id(frame: &[u8]) -> Option<u32> {
    let (_msg_id, data) = plain::parse(frame, crate::Side::Client).ok()?;
    crate::tl::Reader::new(data).peek_u32().ok()
}

/// The handshakes of one connection.
#[derive(Default)]
pub struct ServerHandshakes {
    states: Vec<State>,
    msg_ids: MsgIdGenerator,
}

impl ServerHandshakes {
    pub fn new() -> Self {
        Self::default()
    }

    /// Handles the payload of one frame whose auth_key_id is 0. `now` is Unix time in seconds and
    /// nanoseconds (for server_time and msg_ids).
    pub fn handle(
        &mut self,
        cfg: &HandshakeConfig,
        frame: &[u8],
        now: (i64, u32),
        rng: &mut impl Rng,
    ) -> HandshakeOutput {
        match self.step(cfg, frame, now, rng) {
            Ok(out) => out,
            Err(e) => {
                // The handshake is dead, and so is every other on this connection: it closes.
                self.states.clear();
                HandshakeOutput::Refuse(e)
            }
        }
    }

    fn step(
        &mut self,
        cfg: &HandshakeConfig,
        frame: &[u8],
        now: (i64, u32),
        rng: &mut impl Rng,
    ) -> Result<HandshakeOutput, HandshakeError> {
        let (_msg_id, data) = plain::parse(frame, crate::Side::Client)?;
        let id = crate::tl::Reader::new(data)
            .peek_u32()
            .map_err(|e| HandshakeError::Decode(e.to_string()))?;
        // UM-2: msgs_ack is ignored, not refused.
        if id == crate::session::engine::MSGS_ACK_ID {
            return Ok(HandshakeOutput::Nothing);
        }
        let allowed = [
            crate::tl::functions::ReqPq::CONSTRUCTOR_ID,
            crate::tl::functions::ReqPqMulti::CONSTRUCTOR_ID,
            crate::tl::functions::ReqDHParams::CONSTRUCTOR_ID,
            crate::tl::functions::SetClientDHParams::CONSTRUCTOR_ID,
        ];
        if !allowed.contains(&id) {
            return Err(HandshakeError::UnexpectedMessage { id });
        }
        let function =
            Function::from_bytes(data).map_err(|e| HandshakeError::Decode(e.to_string()))?;
        let answer = match function {
            Function::ReqPq(crate::tl::functions::ReqPq { nonce })
            | Function::ReqPqMulti(crate::tl::functions::ReqPqMulti { nonce }) => {
                match self.find(&nonce) {
                    // HS-2: an exact repeat gets the same answer.
                    Some(State::DhParams(s)) => s.answer().to_bytes(),
                    Some(State::ClientDh(_)) => {
                        return Err(HandshakeError::OutOfOrder {
                            expected: "set_client_DH_params",
                            got: "req_pq",
                        })
                    }
                    None => {
                        if self.states.len() >= MAX_PER_CONNECTION {
                            return Err(HandshakeError::TooManyHandshakes);
                        }
                        let (state, answer) = server::start(nonce, cfg, rng);
                        self.states.push(State::DhParams(state));
                        answer.to_bytes()
                    }
                }
            }
            Function::ReqDHParams(req) => match self.take(&req.nonce)? {
                State::DhParams(s) => {
                    let (next, answer) = s.handle_req_dh_params(&req, cfg, now.0 as i32, rng)?;
                    self.states.push(State::ClientDh(Box::new(next)));
                    answer.to_bytes()
                }
                State::ClientDh(_) => {
                    return Err(HandshakeError::OutOfOrder {
                        expected: "set_client_DH_params",
                        got: "req_DH_params",
                    })
                }
            },
            Function::SetClientDHParams(req) => match self.take(&req.nonce)? {
                State::ClientDh(s) => {
                    let ready = s.handle_set_client_dh_params(&req)?;
                    return Ok(HandshakeOutput::KeyReady(Box::new(ready)));
                }
                State::DhParams(_) => {
                    return Err(HandshakeError::OutOfOrder {
                        expected: "req_DH_params",
                        got: "set_client_DH_params",
                    })
                }
            },
            _ => return Err(HandshakeError::UnexpectedMessage { id }),
        };
        Ok(HandshakeOutput::Reply(self.wrap(&answer, now)))
    }

    /// Answers a ready key after the shell stored it (or could not), as an unencrypted frame.
    /// On `Taken` the handshake stays open for the client's retry.
    pub fn finish(
        &mut self,
        ready: Box<KeyReady>,
        decision: KeyDecision,
        now: (i64, u32),
    ) -> (Option<crate::crypto::AuthKey>, Vec<u8>) {
        let (key, answer) = match decision {
            KeyDecision::Stored => {
                let (key, answer) = ready.ok();
                (Some(key), answer.to_bytes())
            }
            KeyDecision::Taken => {
                let (state, answer) = ready.retry();
                self.states.push(State::ClientDh(Box::new(state)));
                (None, answer.to_bytes())
            }
            KeyDecision::Failed => (None, ready.fail().to_bytes()),
        };
        (key, self.wrap(&answer, now))
    }

    fn wrap(&mut self, data: &[u8], now: (i64, u32)) -> Vec<u8> {
        let mut out = Vec::with_capacity(20 + data.len());
        plain::write(self.msg_ids.next(now.0, now.1, true), data, &mut out);
        out
    }

    fn find(&self, nonce: &[u8; 16]) -> Option<&State> {
        self.states.iter().find(|s| s.nonce() == *nonce)
    }

    fn take(&mut self, nonce: &[u8; 16]) -> Result<State, HandshakeError> {
        let i = self
            .states
            .iter()
            .position(|s| s.nonce() == *nonce)
            .ok_or(HandshakeError::UnknownNonce)?;
        Ok(self.states.swap_remove(i))
    }

    /// Handshakes in progress.
    pub fn in_progress(&self) -> usize {
        self.states.len()
    }
}
