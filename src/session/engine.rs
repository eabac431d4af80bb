//! One MTProto session, sans-IO (SS-1 … SV-12) [doc: mtproto/description,
//! mtproto/service_messages, mtproto/service_messages_about_messages]. `Session::handle` takes
//! one decrypted message (its header fields and body) and returns the messages to send back;
//! RPC queries go to a `Host`, which the server implements over its dispatch and store.
//!
//! Order per message (SS-6, P-1): msg_id and seqno (bad_msg_notification 16–35) → salt
//! (bad_server_salt) → gzip (its content's seqno parity) — together `admit`, before which
//! nothing acts on a message — → new_session_created on the first accepted message →
//! containers (64) → service messages → RPC.

use std::borrow::Cow;

use super::container::{self, ContainerError, CONTAINER_ID};
use super::gzip::{self, GZIP_PACKED_ID};
use super::held::Held;
use super::msg_id::Parity;
use super::{BadMsg, KeySalts, MsgIdGenerator, MsgWindow, Received, SaltSchedule};
use crate::rand::Rng;
use crate::rpc::RpcError;
use crate::tl::functions::Function;
use crate::tl::{enums, types, Identifiable, Reader, Serializable};

pub const MSGS_ACK_ID: u32 = 0x62d6b459;
const MSG_COPY_ID: u32 = 0xe06046b2;
pub const RPC_RESULT_ID: u32 = 0xf35c6d01;
/// Most ids one msgs_ack, msgs_state_req or msg_resend_req may carry (SV-2).
pub const MAX_IDS_PER_SERVICE_MESSAGE: usize = 8192;
/// Longest ping_delay_disconnect delay honoured, in seconds (SV-7; GramJS sends 60000 meaning
/// milliseconds).
pub const MAX_DISCONNECT_DELAY: i32 = 600;

/// What processing a message may call out to: the server, and randomness for its handlers.
struct Io<'a> {
    host: &'a mut dyn Host,
    rng: &'a mut dyn Rng,
}

/// What the session needs from the server around it.
pub trait Host {
    /// Runs an RPC query (wrappers included) sent as `msg_id` and returns its serialized
    /// result.
    fn call(
        &mut self,
        query: Function,
        msg_id: i64,
        rng: &mut dyn Rng,
    ) -> Result<Vec<u8>, RpcError>;
    /// destroy_session for another session of this key: whether it existed (SV-8).
    fn destroy_session(&mut self, session_id: i64) -> bool;
    /// destroy_auth_key: erase the key durably (SV-9).
    fn destroy_auth_key(&mut self) -> DestroyKey;
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DestroyKey {
    Ok,
    None,
    Fail,
}

/// Time, salts and key for one call.
#[derive(Debug, Clone, Copy)]
pub struct Env<'a> {
    pub auth_key_id: i64,
    pub salts: &'a SaltSchedule,
    /// This key's salts at `now`, from `salts`.
    pub key_salts: KeySalts,
    /// The handshake's salt (HS-18) and the Unix time it stops being accepted.
    pub initial_salt: Option<(i64, i64)>,
    pub now: i64,
    pub nanos: u32,
}

impl Env<'_> {
    fn salt_ok(&self, salt: i64) -> bool {
        self.key_salts.is_valid(salt)
            || self
                .initial_salt
                .is_some_and(|(s, until)| s == salt && self.now < until)
    }

    fn current_salt(&self) -> i64 {
        self.key_salts.current
    }
}

/// A decrypted client message: the header fields the session checks, and its body.
#[derive(Debug, Clone, Copy)]
pub struct Message<'a> {
    pub salt: i64,
    pub msg_id: i64,
    pub seqno: i32,
    pub body: &'a [u8],
}

/// A message to send, with the id and seqno the session gave it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outgoing {
    pub msg_id: i64,
    pub seqno: i32,
    pub body: Vec<u8>,
    /// For an rpc_result: the query it answers.
    pub answers: Option<i64>,
}

/// What one handled message asks of the connection besides sending `messages`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Effect {
    /// ping_delay_disconnect: close after this many seconds unless renewed (SV-7).
    CloseAfter(i32),
    /// Send this transport error and close (−429 for SV-1 / SV-2 limits).
    TransportError(i32),
    /// The key was destroyed: close once the answer is sent.
    KeyDestroyed,
}

#[derive(Debug, Default)]
#[must_use]
pub struct Reply {
    pub messages: Vec<Outgoing>,
    pub effects: Vec<Effect>,
}

/// A message that passed its session's checks ([`Session::admit`]), its gzip_packed wrapper
/// opened, ready for [`Session::run`].
#[derive(Debug)]
pub struct Admitted<'a> {
    msg_id: i64,
    seqno: i32,
    body: Cow<'a, [u8]>,
    container: bool,
}

/// The state of one session.
#[derive(Debug)]
pub struct Session {
    id: i64,
    window: MsgWindow,
    msg_ids: MsgIdGenerator,
    content_sent: i32,
    unacked: Held,
    announced: bool,
}

impl Session {
    pub fn new(id: i64) -> Self {
        Self::above(id, None)
    }

    /// A new session that refuses every client msg_id at or below `floor` with 16: the newest
    /// id of a session of its key that was evicted or destroyed in the last 300 s, so that
    /// none of that session's messages runs again in a new one (SS-4).
    pub fn above(id: i64, floor: Option<i64>) -> Self {
        Session {
            id,
            window: MsgWindow::above(floor),
            msg_ids: MsgIdGenerator::new(),
            content_sent: 0,
            unacked: Held::default(),
            announced: false,
        }
    }

    pub fn id(&self) -> i64 {
        self.id
    }

    /// Content-related messages sent and not yet acknowledged.
    pub fn unacked(&self) -> usize {
        self.unacked.len()
    }

    /// From now on the messages this session holds count against the key's and the server's
    /// budget ([`super::held::HeldBudget`]).
    pub fn charge_held(&mut self, charge: super::held::Charge) {
        self.unacked.charge_to(charge);
    }

    /// Whether the key's or the server's bound on held messages is passed.
    pub fn held_over_budget(&self) -> (bool, bool) {
        self.unacked.over_budget()
    }

    /// When the oldest message this session holds was held, in the server's order.
    pub fn held_oldest(&self) -> Option<u64> {
        self.unacked.oldest()
    }

    /// Forgets the oldest held message (a bound above the session's own was passed).
    pub fn drop_oldest_held(&mut self) -> bool {
        self.unacked.drop_oldest()
    }

    /// The newest client msg_id this session accepted.
    pub fn newest_msg_id(&self) -> Option<i64> {
        self.window.newest()
    }

    /// Handles one decrypted message: [`admit`](Self::admit), then [`run`](Self::run).
    pub fn handle(
        &mut self,
        env: &Env<'_>,
        message: Message<'_>,
        host: &mut dyn Host,
        rng: &mut impl Rng,
    ) -> Reply {
        match self.admit(env, message) {
            Ok(admitted) => self.run(env, admitted, host, rng),
            Err(refused) => refused,
        }
    }

    /// The checks a message must pass before anything acts on it (SS-6): msg_id and seqno
    /// (bad_msg_notification 16–35, a duplicate answered from the held answers, SS-4), then the
    /// salt (bad_server_salt, SS-8), then a gzip_packed body inflated and its seqno parity
    /// checked against what it holds. Only an admitted message may create, refresh, move or
    /// evict a session; the `Err` reply is all a refused one gets, and it changes no state
    /// but this session's server msg_id counter.
    pub fn admit<'b>(
        &mut self,
        env: &Env<'_>,
        message: Message<'b>,
    ) -> Result<Admitted<'b>, Reply> {
        let Message {
            salt,
            msg_id,
            seqno,
            body,
        } = message;
        let mut reply = Reply::default();
        let container = top_id(body) == Some(CONTAINER_ID);
        match self.screen(env, Some(salt), msg_id, seqno, body, container, &mut reply) {
            // Recorded at once: the same message admitted again, even concurrently by another
            // connection's copy of a brand-new session, is a duplicate (SS-4).
            Some(body) => Ok(Admitted {
                msg_id,
                seqno,
                body,
                container,
            }),
            None => Err(reply),
        }
        .inspect(|_| self.window.record(msg_id, seqno))
    }

    /// Processes an admitted message: new_session_created for a new session (SS-1), then the
    /// message or each message of its container (64 for a malformed one, −429 past SV-1).
    pub fn run(
        &mut self,
        env: &Env<'_>,
        admitted: Admitted<'_>,
        host: &mut dyn Host,
        rng: &mut impl Rng,
    ) -> Reply {
        let Admitted {
            msg_id,
            seqno,
            body,
            container,
        } = admitted;
        let mut reply = Reply::default();
        let inner = if container {
            match container::parse(&body, msg_id, seqno) {
                Ok(inner) => Some(inner),
                Err(ContainerError::TooMany { .. }) => {
                    reply.effects.push(Effect::TransportError(-429));
                    return reply;
                }
                Err(ContainerError::Invalid) => {
                    self.bad_msg(env, msg_id, seqno, 64, &mut reply);
                    return reply;
                }
            }
        } else {
            None
        };
        self.announce(env, msg_id, rng, &mut reply);
        let mut io = Io { host, rng };
        match inner {
            Some(inner) => {
                for m in inner {
                    let Some(body) =
                        self.screen(env, None, m.msg_id, m.seqno, m.body, false, &mut reply)
                    else {
                        continue;
                    };
                    self.window.record(m.msg_id, m.seqno);
                    self.process(env, m.msg_id, m.seqno, &body, &mut io, &mut reply);
                }
            }
            None => self.process(env, msg_id, seqno, &body, &mut io, &mut reply),
        }
        reply
    }

    /// One message's checks (SS-5, SS-6), `salt` only for an outer one (a container's messages
    /// have none of their own). A gzip_packed body is inflated (SV-3, capped at the frame cap)
    /// only once the message passed every other check, and its seqno parity is then judged by
    /// what it holds. `None` once the refusal is in `reply`.
    #[allow(clippy::too_many_arguments)]
    fn screen<'b>(
        &mut self,
        env: &Env<'_>,
        salt: Option<i64>,
        msg_id: i64,
        seqno: i32,
        body: &'b [u8],
        container: bool,
        reply: &mut Reply,
    ) -> Option<Cow<'b, [u8]>> {
        let packed = top_id(body) == Some(GZIP_PACKED_ID);
        let parity = if packed {
            Parity::Either
        } else {
            seqno_parity(body)
        };
        match self.window.check(msg_id, seqno, parity, container, env.now) {
            Err(bad) => {
                self.bad_msg(env, msg_id, seqno, bad.code(), reply);
                return None;
            }
            Ok(Received::Duplicate) => {
                // SS-4: never process twice; re-send the answer if it is still held.
                self.resend_answer_to(env, msg_id, reply);
                return None;
            }
            Ok(Received::New) => {}
        }
        // SS-6: the salt after the clock checks; bad_server_salt without processing (SS-8).
        if salt.is_some_and(|salt| !env.salt_ok(salt)) {
            let body = types::BadServerSalt {
                bad_msg_id: msg_id,
                bad_msg_seqno: seqno,
                error_code: 48,
                new_server_salt: env.current_salt(),
            }
            .to_bytes();
            self.push(env, body, false, true, None, reply);
            return None;
        }
        if !packed {
            return Some(Cow::Borrowed(body));
        }
        let inner = match gzip::unpack(body, crate::transport::MAX_FRAME) {
            Some(Ok(inner)) => inner,
            _ => {
                self.bad_msg(env, msg_id, seqno, 64, reply);
                return None;
            }
        };
        if let Err(bad) = seqno_parity(&inner).admits(seqno) {
            self.bad_msg(env, msg_id, seqno, bad.code(), reply);
            return None;
        }
        Some(Cow::Owned(inner))
    }
    /// SS-1: new_session_created before the first answer of a new session.
    fn announce(
        &mut self,
        env: &Env<'_>,
        first_msg_id: i64,
        rng: &mut impl Rng,
        reply: &mut Reply,
    ) {
        if self.announced {
            return;
        }
        self.announced = true;
        let body = types::NewSessionCreated {
            first_msg_id,
            unique_id: rng.next_i64(),
            server_salt: env.current_salt(),
        }
        .to_bytes();
        self.push(env, body, true, false, None, reply);
    }

    /// One accepted message (not a container).
    fn process(
        &mut self,
        env: &Env<'_>,
        msg_id: i64,
        seqno: i32,
        body: &[u8],
        io: &mut Io<'_>,
        reply: &mut Reply,
    ) {
        let Some(id) = top_id(body) else {
            return self.bad_msg(env, msg_id, seqno, 64, reply);
        };
        match id {
            MSGS_ACK_ID
            | types::MsgsStateReq::CONSTRUCTOR_ID
            | types::MsgResendReq::CONSTRUCTOR_ID => {
                match read_ids(body) {
                    Err(IdsError::TooMany) => reply.effects.push(Effect::TransportError(-429)),
                    // A malformed ack asks for nothing; the two requests get 64.
                    Err(IdsError::Malformed) if id == MSGS_ACK_ID => {}
                    Err(IdsError::Malformed) => self.bad_msg(env, msg_id, seqno, 64, reply),
                    Ok(ids) if id == MSGS_ACK_ID => self.unacked.acknowledge(&ids),
                    Ok(ids) if id == types::MsgsStateReq::CONSTRUCTOR_ID => {
                        let info = self.state_info(env, msg_id, &ids);
                        self.push(env, info, false, true, None, reply);
                    }
                    Ok(ids) => self.resend(env, msg_id, &ids, reply),
                }
            }
            // SV-12: http_wait means nothing on TCP.
            types::HttpWait::CONSTRUCTOR_ID => {}
            // SV-4: msg_copy is not used.
            MSG_COPY_ID => self.bad_msg(env, msg_id, seqno, 64, reply),
            _ => self.process_function(env, msg_id, seqno, body, io, reply),
        }
    }

    fn process_function(
        &mut self,
        env: &Env<'_>,
        msg_id: i64,
        seqno: i32,
        body: &[u8],
        io: &mut Io<'_>,
        reply: &mut Reply,
    ) {
        // An older layer's form of a method is read into the current one (AC-3).
        let function = match crate::tl::layer::decode_function(body) {
            Ok(f) => f,
            Err(e) => {
                let error = match e.kind {
                    // Not a method of the schemas: the Telegram-style error with its id.
                    crate::tl::DecodeErrorKind::UnknownConstructor { id }
                        if e.offset == 0 && crate::tl::name_for_id(id).is_none() =>
                    {
                        RpcError::unknown_constructor(id)
                    }
                    // A known type sent as if it were a query: nothing to answer it with.
                    crate::tl::DecodeErrorKind::UnknownConstructor { .. } if e.offset == 0 => {
                        return self.bad_msg(env, msg_id, seqno, 64, reply);
                    }
                    _ => RpcError::fetch_fail(),
                };
                return self.rpc_result(env, msg_id, Err(error), reply);
            }
        };
        match function {
            Function::Ping(p) => self.pong(env, msg_id, p.ping_id, reply),
            Function::PingDelayDisconnect(p) => {
                self.pong(env, msg_id, p.ping_id, reply);
                let delay = p.disconnect_delay.clamp(1, MAX_DISCONNECT_DELAY);
                reply.effects.push(Effect::CloseAfter(delay));
            }
            Function::GetFutureSalts(f) => {
                let salts = env
                    .salts
                    .future_salts(env.auth_key_id, env.now, f.num)
                    .into_iter()
                    .map(|s| types::FutureSalt {
                        valid_since: s.valid_since,
                        valid_until: s.valid_until,
                        salt: s.salt,
                    })
                    .collect();
                let body = types::FutureSalts {
                    req_msg_id: msg_id,
                    now: env.now as i32,
                    salts,
                }
                .to_bytes();
                self.push(env, body, false, true, None, reply);
            }
            Function::DestroySession(d) => {
                let body = if d.session_id != self.id && io.host.destroy_session(d.session_id) {
                    types::DestroySessionOk {
                        session_id: d.session_id,
                    }
                    .to_bytes()
                } else {
                    types::DestroySessionNone {
                        session_id: d.session_id,
                    }
                    .to_bytes()
                };
                self.push(env, body, false, true, None, reply);
            }
            Function::DestroyAuthKey(_) => {
                let body: enums::DestroyAuthKeyRes = match io.host.destroy_auth_key() {
                    DestroyKey::Ok => types::DestroyAuthKeyOk {}.into(),
                    DestroyKey::None => types::DestroyAuthKeyNone {}.into(),
                    DestroyKey::Fail => types::DestroyAuthKeyFail {}.into(),
                };
                self.push(env, body.to_bytes(), false, true, None, reply);
                reply.effects.push(Effect::KeyDestroyed);
            }
            Function::RpcDropAnswer(d) => {
                let answer: enums::RpcDropAnswer = match self.unacked.take_answer_to(d.req_msg_id) {
                    Some(dropped) => types::RpcAnswerDropped {
                        msg_id: dropped.msg_id,
                        seq_no: dropped.seqno,
                        bytes: dropped.body.len() as i32,
                    }
                    .into(),
                    None => types::RpcAnswerUnknown {}.into(),
                };
                self.rpc_result(env, msg_id, Ok(answer.to_bytes()), reply);
            }
            query => {
                let result = io.host.call(query, msg_id, &mut *io.rng);
                self.rpc_result(env, msg_id, result, reply);
            }
        }
    }

    fn pong(&mut self, env: &Env<'_>, msg_id: i64, ping_id: i64, reply: &mut Reply) {
        let body = types::Pong { msg_id, ping_id }.to_bytes();
        self.push(env, body, false, true, None, reply);
    }

    /// `rpc_result#f35c6d01{req_msg_id, result}` (SV-5), compressed when large (SV-3).
    fn rpc_result(
        &mut self,
        env: &Env<'_>,
        req_msg_id: i64,
        result: Result<Vec<u8>, RpcError>,
        reply: &mut Reply,
    ) {
        let result = match result {
            Ok(bytes) => gzip::maybe_pack(bytes),
            Err(e) => e.to_bytes(),
        };
        let mut body = Vec::with_capacity(12 + result.len());
        crate::tl::write_u32(&mut body, RPC_RESULT_ID);
        crate::tl::write_i64(&mut body, req_msg_id);
        body.extend_from_slice(&result);
        self.push(env, body, true, true, Some(req_msg_id), reply);
    }

    /// `bad_msg_notification#a7eff811` (SS-5): not content-related, message not processed.
    fn bad_msg(&mut self, env: &Env<'_>, msg_id: i64, seqno: i32, code: i32, reply: &mut Reply) {
        let body = types::BadMsgNotification {
            bad_msg_id: msg_id,
            bad_msg_seqno: seqno,
            error_code: code,
        }
        .to_bytes();
        self.push(env, body, false, true, None, reply);
    }

    /// SV-10: a byte per id.
    fn state_info(&self, env: &Env<'_>, req_msg_id: i64, ids: &[i64]) -> Vec<u8> {
        let info: Vec<u8> = ids
            .iter()
            .map(|&id| {
                if self.window.contains(id) {
                    4
                } else if (id >> 32) > env.now + super::msg_id::MAX_FUTURE_SECS {
                    3
                } else if self.window.oldest().is_none_or(|oldest| id < oldest) {
                    1
                } else {
                    2
                }
            })
            .collect();
        types::MsgsStateInfo { req_msg_id, info }.to_bytes()
    }

    /// msg_resend_req (SV-10): re-send held messages; if any id is unknown, msgs_state_info.
    fn resend(&mut self, env: &Env<'_>, req_msg_id: i64, ids: &[i64], reply: &mut Reply) {
        let all_held = ids.iter().all(|id| self.unacked.holds(*id));
        if !all_held {
            let info = self.state_info(env, req_msg_id, ids);
            return self.push(env, info, false, true, None, reply);
        }
        for m in self.unacked.take_ids(ids) {
            self.push_again(env, m, reply);
        }
    }

    fn resend_answer_to(&mut self, env: &Env<'_>, req_msg_id: i64, reply: &mut Reply) {
        if let Some(m) = self.unacked.take_answer_to(req_msg_id) {
            self.push_again(env, m, reply);
        }
    }

    /// An update the server sends on its own (server-initiated msg_id, content-related, held
    /// until acknowledged like any answer).
    pub fn notify(&mut self, env: &Env<'_>, body: Vec<u8>) -> Reply {
        let mut reply = Reply::default();
        self.push(env, body, true, false, None, &mut reply);
        reply
    }

    /// SV-6: on a new connection, every unacknowledged message goes again under a new msg_id.
    pub fn resume(&mut self, env: &Env<'_>) -> Reply {
        let mut reply = Reply::default();
        for m in self.unacked.take_all() {
            self.push_again(env, m, &mut reply);
        }
        reply
    }

    /// A held content-related message sent again under a new msg_id and seqno (SV-6: never
    /// alone under the old one).
    fn push_again(&mut self, env: &Env<'_>, m: Outgoing, reply: &mut Reply) {
        self.push(env, m.body, true, m.answers.is_some(), m.answers, reply);
    }

    /// Gives a message its msg_id (SS-2) and seqno (SS-3) and queues it.
    fn push(
        &mut self,
        env: &Env<'_>,
        body: Vec<u8>,
        content_related: bool,
        response: bool,
        answers: Option<i64>,
        reply: &mut Reply,
    ) {
        let msg_id = self.msg_ids.next(env.now, env.nanos, response);
        let seqno = self.next_seqno(content_related);
        let m = Outgoing {
            msg_id,
            seqno,
            body,
            answers,
        };
        if content_related {
            self.unacked.push(m.clone());
        }
        reply.messages.push(m);
    }

    fn next_seqno(&mut self, content_related: bool) -> i32 {
        if content_related {
            self.content_sent += 1;
            self.content_sent * 2 - 1
        } else {
            self.content_sent * 2
        }
    }

    /// The message data of one encrypted packet: the message itself, or a msg_container of
    /// several (not content-related, SS-3). Returns (msg_id, seqno, body).
    pub fn pack(&mut self, env: &Env<'_>, messages: Vec<Outgoing>) -> Option<(i64, i32, Vec<u8>)> {
        match messages.len() {
            0 => None,
            1 => {
                let m = messages.into_iter().next().expect("one message");
                Some((m.msg_id, m.seqno, m.body))
            }
            n => {
                let mut body = Vec::new();
                crate::tl::write_u32(&mut body, CONTAINER_ID);
                crate::tl::write_u32(&mut body, n as u32);
                for m in messages {
                    crate::tl::write_i64(&mut body, m.msg_id);
                    crate::tl::write_i32(&mut body, m.seqno);
                    crate::tl::write_u32(&mut body, m.body.len() as u32);
                    body.extend_from_slice(&m.body);
                }
                let msg_id = self.msg_ids.next(env.now, env.nanos, false);
                Some((msg_id, self.next_seqno(false), body))
            }
        }
    }
}

enum IdsError {
    /// More than `MAX_IDS_PER_SERVICE_MESSAGE` ids: −429 (SV-2).
    TooMany,
    Malformed,
}

/// The ids of msgs_ack, msgs_state_req or msg_resend_req (each `id ‖ Vector<long>`), the count
/// checked against the cap before any id is read (SV-2).
fn read_ids(body: &[u8]) -> Result<Vec<i64>, IdsError> {
    let malformed = |_| IdsError::Malformed;
    let mut r = Reader::new(body);
    r.read_u32().map_err(malformed)?;
    let n = r.read_vector_len(8).map_err(malformed)?;
    if n > MAX_IDS_PER_SERVICE_MESSAGE {
        return Err(IdsError::TooMany);
    }
    let ids = (0..n)
        .map(|_| r.read_i64())
        .collect::<Result<Vec<_>, _>>()
        .map_err(malformed)?;
    r.finish().map_err(malformed)?;
    Ok(ids)
}

fn top_id(body: &[u8]) -> Option<u32> {
    Reader::new(body).peek_u32().ok()
}

/// Whether a message needs an odd seqno (SS-5 codes 34/35): all but acks, containers, msg_copy
/// and gzip_packed (whose content decides, see `Session::handle`).
pub fn is_content_related(body: &[u8]) -> bool {
    !matches!(
        top_id(body),
        Some(MSGS_ACK_ID | CONTAINER_ID | MSG_COPY_ID | GZIP_PACKED_ID)
    )
}

/// Whether a message as sent needs an odd seqno: like [`is_content_related`], with a
/// gzip_packed body judged by what it holds, as the server judges it (SV-3).
pub fn wants_odd_seqno(body: &[u8]) -> bool {
    match gzip::unpack(body, crate::transport::MAX_FRAME) {
        Some(Ok(inner)) => is_content_related(&inner),
        _ => is_content_related(body),
    }
}

/// The parity a message's seqno must have (SS-5 codes 34/35). msgs_ack, ping,
/// ping_delay_disconnect and http_wait are accepted either way (SS-5a), as Telegram does:
/// Telethon sends ping as content-related, Kurigram and pyrogram as not (their
/// `not_content_related` set), and mtcute 0.30 sends its acks with an odd seqno.
fn seqno_parity(body: &[u8]) -> Parity {
    const EITHER: [u32; 4] = [
        MSGS_ACK_ID,
        crate::tl::functions::Ping::CONSTRUCTOR_ID,
        crate::tl::functions::PingDelayDisconnect::CONSTRUCTOR_ID,
        types::HttpWait::CONSTRUCTOR_ID,
    ];
    match top_id(body) {
        Some(id) if EITHER.contains(&id) => Parity::Either,
        _ if is_content_related(body) => Parity::Odd,
        _ => Parity::Even,
    }
}

/// Splits a decrypted plaintext: `salt ‖ session_id ‖ msg_id ‖ seq_no ‖ length ‖ body`.
/// `decrypt_message` already checked the length, so the header is there.
pub fn split_plaintext(plain: &[u8]) -> Option<(i64, i64, i64, i32, &[u8])> {
    let mut r = Reader::new(plain);
    let salt = r.read_i64().ok()?;
    let session_id = r.read_i64().ok()?;
    let msg_id = r.read_i64().ok()?;
    let seqno = r.read_i32().ok()?;
    let len = r.read_u32().ok()? as usize;
    let body = r.read_slice(len).ok()?;
    Some((salt, session_id, msg_id, seqno, body))
}

/// Builds a plaintext for `encrypt_message`.
pub fn join_plaintext(salt: i64, session_id: i64, msg_id: i64, seqno: i32, body: &[u8]) -> Vec<u8> {
    let header = plaintext_header(salt, session_id, msg_id, seqno, body.len());
    [&header[..], body].concat()
}

/// A plaintext's 32-byte header, for a body of `body_len` bytes that follows it
/// (`encrypt_message_padded` takes the two apart, so that the body is not copied to join them).
pub fn plaintext_header(
    salt: i64,
    session_id: i64,
    msg_id: i64,
    seqno: i32,
    body_len: usize,
) -> [u8; 32] {
    let mut h = [0u8; 32];
    h[..8].copy_from_slice(&salt.to_le_bytes());
    h[8..16].copy_from_slice(&session_id.to_le_bytes());
    h[16..24].copy_from_slice(&msg_id.to_le_bytes());
    h[24..28].copy_from_slice(&seqno.to_le_bytes());
    h[28..].copy_from_slice(&(body_len as u32).to_le_bytes());
    h
}

impl BadMsg {
    /// Whether the client should fix its clock from the notification's msg_id (16/17).
    pub fn is_clock(self) -> bool {
        matches!(self, BadMsg::TooOld | BadMsg::TooNew)
    }
}
