//! One client connection, sans-IO (P-1): bytes in, bytes out. Detects the transport (TR-1),
//! removes obfuscation (TR-7) and framing, sends auth_key_id 0 frames to the handshake driver and
//! the rest through the envelope (EN-1 … EN-7) into the session registry, and frames and encrypts
//! the answers. The tokio shell only moves bytes and keeps the clock.

use super::rate::AddressLimiter;
use super::scratch::{self, Scratch};
use super::state::{KeyEntry, ServerState};
use crate::crypto::{decrypt_message_into, encrypt_message_padded, AuthKey};
use crate::handshake::{
    is_req_pq, needs_dh_work, HandshakeConfig, HandshakeOutput, KeyDecision, KeyKind,
    ServerHandshakes,
};
use crate::rand::Rng;
use crate::rpc::{self, ClientInfo, Push, RpcContext, RpcError};
use crate::session::engine::{plaintext_header, split_plaintext};
use crate::session::{DestroyKey, Effect, Env, Host, KeySalts, Message, SALT_PERIOD};
use crate::store::accounts::Accounts;
use crate::store::unsynced::observed;
use crate::tl::functions::Function;
use crate::tl::layer::{self, Layer};
use crate::transport::{detect, Codec, Detection, Incoming, Obfuscated2};
use crate::Side;
use std::net::IpAddr;
use std::sync::Arc;

/// Auth keys a connection receives updates for at most (a client uses one; more are served
/// but not pushed to).
const MAX_KEYS_PER_CONNECTION: usize = 4;

/// What the shell must do after feeding bytes in.
#[derive(Debug, Default)]
#[must_use]
pub struct Output {
    /// Bytes to write, in order.
    pub send: Vec<u8>,
    /// Close once `send` is written.
    pub close: bool,
    /// ping_delay_disconnect: close after this many seconds of no further ping (SV-7).
    pub close_after: Option<i32>,
    /// Why the connection closes, for the log.
    pub reason: Option<String>,
    /// `send` answers requests that read or wrote the store: write it only once a store sync
    /// has covered this commit number (DB-1). 0: nothing to wait for.
    pub durable_through: u64,
    /// Updates for other connections, to deliver after `send` is written.
    pub pushes: Vec<Push>,
    /// Auth keys this connection used for the first time (updates for them come here).
    pub new_keys: Vec<i64>,
    /// An injected fault holds `send` back this long first (admin fault rules).
    pub delay_ms: u64,
    /// Bytes of an incomplete frame held after this input (the shell's frame deadline).
    pub partial: Partial,
    /// The memory that holds them (the server-wide budget, `frame_budget.rs`); 0 with none.
    pub buffered: usize,
}

impl Output {
    /// With this thread's send buffer (`scratch::SEND`), which the shell gives back once it
    /// has written the bytes.
    fn reusing_send_buffer() -> Self {
        Output {
            send: scratch::take(&scratch::SEND),
            ..Output::default()
        }
    }
}

/// What is buffered of an incomplete frame once the input is handled.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub enum Partial {
    /// Nothing: every frame was whole.
    #[default]
    None,
    /// A new incomplete frame (the first, or one after a whole frame): its deadline starts.
    Started,
    /// The same incomplete frame as before, grown or not.
    Continues,
}

/// The frame cap until a connection has carried a message under a known auth key: the
/// key-exchange messages are well under a kilobyte (issue 14, item 2), so a peer without a
/// key cannot make the server buffer a megabyte per connection.
pub const PRE_KEY_MAX_FRAME: usize = 64 * 1024;

/// An empty input buffer bigger than this is given back: a connection that once carried a
/// big frame does not keep its memory while idle.
const KEEP_INBUF: usize = 16 * 1024;

impl Output {
    /// Close once `send` is written, for `reason`.
    fn close_with(&mut self, reason: impl Into<String>) {
        self.close = true;
        self.reason = Some(reason.into());
    }
}

enum Phase {
    Detecting(Vec<u8>),
    Running {
        codec: Codec,
        obfuscation: Option<Box<Obfuscated2>>,
    },
    Closed,
}

pub struct Connection {
    id: u64,
    dc_id: i32,
    phase: Phase,
    inbuf: Vec<u8>,
    handshakes: ServerHandshakes,
    /// The salts of the key last used here (two HMACs saved a message).
    salts: Option<KeySalts>,
    /// AB-4: the budget of the client's address for 2048-bit handshake work, if limited.
    limit: Option<(Arc<AddressLimiter>, IpAddr)>,
    /// The client's address, as account.getAuthorizations shows it.
    peer: String,
    /// Auth keys used on this connection so far (a handful at most: a client uses one).
    keys_seen: Vec<i64>,
    /// The transport, once recognised (the connection metrics' label).
    transport: Option<&'static str>,
    /// A key-exchange slot is held (`slots.rs`), charged to [`Connection::limited_address`].
    slot: bool,
    /// A message under a known key decrypted here: the frame cap is the full one.
    keyed: bool,
    /// Frames decoded so far, and whether an incomplete one was held after the last input.
    frames: u64,
    partial_open: bool,
}

/// AB-4 weights: req_pq opens an exchange (half a step); an exchange abandoned at its deadline
/// costs what its two expensive steps would have.
const REQ_PQ_WEIGHT: f64 = 0.5;
const ABANDONED_WEIGHT: f64 = 2.0;

impl Connection {
    pub fn new(id: u64, dc_id: i32) -> Self {
        Connection {
            id,
            dc_id,
            phase: Phase::Detecting(Vec::new()),
            inbuf: Vec::new(),
            handshakes: ServerHandshakes::new(),
            salts: None,
            limit: None,
            peer: String::new(),
            keys_seen: Vec::new(),
            transport: None,
            slot: false,
            keyed: false,
            frames: 0,
            partial_open: false,
        }
    }

    /// The memory allocated for bytes of an incomplete frame, or of a transport not yet
    /// recognised (0 with none).
    fn buffered_memory(&self) -> usize {
        match &self.phase {
            Phase::Detecting(first) if !first.is_empty() => first.capacity(),
            Phase::Running { .. } if !self.inbuf.is_empty() => self.inbuf.capacity(),
            _ => 0,
        }
    }

    /// The exchanges in progress missed their deadline: they are dropped, the slot goes back
    /// and the address is charged as for the work it asked for (the shell closes the
    /// connection).
    pub fn abandon_handshakes(&mut self, state: &ServerState, now: (i64, u32)) {
        let before = self.handshakes.in_progress();
        self.handshakes = ServerHandshakes::new();
        state.metrics.handshakes_changed(before, 0);
        state.metrics.handshake_failed();
        if let Some((limiter, ip)) = &self.limit {
            limiter.charge(*ip, now, ABANDONED_WEIGHT);
        }
        self.release_slot(state);
    }

    fn release_slot(&mut self, state: &ServerState) {
        if std::mem::take(&mut self.slot) {
            state.handshake_slots.release(self.limited_address());
        }
    }

    /// The key of this connection's client address in the per-address tables (key-exchange
    /// slots, temporary keys); none when it is not limited.
    fn limited_address(&self) -> Option<u128> {
        self.limit
            .as_ref()
            .map(|(_, ip)| super::rate::address_key(*ip))
    }

    /// The connection is gone: its gauges go down (the shell calls this once, at the end).
    pub fn finish(&mut self, state: &ServerState) {
        if let Some(t) = self.transport.take() {
            state.metrics.connection_closed(self.dc_id, t);
        }
        let left = self.handshakes.in_progress();
        state.metrics.handshakes_changed(left, 0);
        self.handshakes = ServerHandshakes::new();
        self.release_slot(state);
    }

    /// The client's address (recorded with its logins).
    pub fn with_peer(mut self, ip: IpAddr) -> Self {
        self.peer = ip.to_canonical().to_string();
        self
    }

    /// Charges the expensive key-exchange steps of this connection to `ip`'s budget (AB-4).
    pub fn limited(mut self, limiter: Arc<AddressLimiter>, ip: IpAddr) -> Self {
        self.limit = Some((limiter, ip));
        self
    }

    /// Handshakes in progress on this connection.
    pub fn handshakes_in_progress(&self) -> usize {
        self.handshakes.in_progress()
    }

    /// Feeds received bytes. `now` is Unix time (seconds, nanoseconds).
    pub fn receive(
        &mut self,
        state: &ServerState,
        data: &[u8],
        now: (i64, u32),
        rng: &mut impl Rng,
    ) -> Output {
        let before = self.handshakes.in_progress();
        let frames_before = self.frames;
        let mut out = self.receive_bytes(state, data, now, rng);
        if self.inbuf.is_empty() && self.inbuf.capacity() > KEEP_INBUF {
            self.inbuf = Vec::new();
        }
        out.buffered = self.buffered_memory();
        let buffered = out.buffered > 0;
        out.partial = match (buffered, self.frames > frames_before || !self.partial_open) {
            (false, _) => Partial::None,
            (true, true) => Partial::Started,
            (true, false) => Partial::Continues,
        };
        self.partial_open = buffered;
        let after = self.handshakes.in_progress();
        state.metrics.handshakes_changed(before, after);
        if after == 0 {
            self.release_slot(state);
        }
        out
    }

    fn receive_bytes(
        &mut self,
        state: &ServerState,
        data: &[u8],
        now: (i64, u32),
        rng: &mut impl Rng,
    ) -> Output {
        let mut out = Output::reusing_send_buffer();
        let detected;
        let mut data = data;
        if let Phase::Detecting(first) = &mut self.phase {
            first.extend_from_slice(data);
            let first = std::mem::take(first);
            let (phase, skip) = match detect(&first) {
                Detection::NeedMore => {
                    self.phase = Phase::Detecting(first);
                    return out;
                }
                Detection::Unsupported => return self.close(out, "HTTP or TLS first bytes"),
                Detection::Plain { framing, tag_len } => (
                    Phase::Running {
                        codec: Codec::with_max_frame(framing, Side::Server, PRE_KEY_MAX_FRAME),
                        obfuscation: None,
                    },
                    tag_len,
                ),
                Detection::Obfuscated2 => {
                    let init: [u8; 64] = first[..64].try_into().expect("64 bytes detected");
                    match Obfuscated2::server(&init) {
                        // TR-7: a replayed init is dropped (`replay.rs`), silently.
                        Ok(_) if !state.seen_inits.first_time(&init, now.0) => {
                            return self.close(out, "replayed obfuscated2 init (TR-7)");
                        }
                        Ok((ob, framing, _dc)) => (
                            Phase::Running {
                                codec: Codec::with_max_frame(
                                    framing,
                                    Side::Server,
                                    PRE_KEY_MAX_FRAME,
                                ),
                                obfuscation: Some(Box::new(ob)),
                            },
                            64,
                        ),
                        // TR-7: close silently.
                        Err(e) => return self.close(out, &e.to_string()),
                    }
                }
            };
            if let Phase::Running { codec, obfuscation } = &phase {
                let t = transport_label(codec.framing(), obfuscation.is_some());
                state.metrics.connection_opened(self.dc_id, t);
                self.transport = Some(t);
            }
            self.phase = phase;
            detected = first;
            data = &detected[skip..];
        }
        let Phase::Running { obfuscation, .. } = &mut self.phase else {
            return out;
        };
        if obfuscation.is_none() && self.inbuf.is_empty() {
            // The usual case: whole frames, decoded where they were read; only a partial
            // frame at the end is kept.
            let used = self.decode_frames(state, data, now, rng, &mut out);
            if matches!(self.phase, Phase::Running { .. }) {
                self.inbuf.extend_from_slice(&data[used..]);
            }
            return out;
        }
        let start = self.inbuf.len();
        self.inbuf.extend_from_slice(data);
        if let Some(ob) = obfuscation {
            ob.decrypt(&mut self.inbuf[start..]);
        }
        let mut held = std::mem::take(&mut self.inbuf);
        let used = self.decode_frames(state, &held, now, rng, &mut out);
        held.drain(..used);
        self.inbuf = held;
        out
    }

    /// Handles every whole frame at the start of `input`; returns the bytes they took.
    fn decode_frames(
        &mut self,
        state: &ServerState,
        input: &[u8],
        now: (i64, u32),
        rng: &mut impl Rng,
        out: &mut Output,
    ) -> usize {
        let mut used = 0;
        while let Phase::Running { codec, .. } = &mut self.phase {
            match codec.decode(&input[used..]) {
                Ok(None) => break,
                Ok(Some((incoming, len))) => {
                    used += len;
                    self.frames += 1;
                    if let Incoming::Frame { payload, .. } = incoming {
                        self.handle_frame(state, payload, now, rng, out);
                    }
                    if out.close {
                        self.phase = Phase::Closed;
                    }
                }
                // TR-5 / TR-8: close without an answer.
                Err(e) => {
                    self.phase = Phase::Closed;
                    out.close_with(e.to_string());
                }
            }
        }
        used
    }

    fn close(&mut self, mut out: Output, reason: &str) -> Output {
        self.phase = Phase::Closed;
        out.close_with(reason);
        out
    }

    fn handle_frame(
        &mut self,
        state: &ServerState,
        payload: &[u8],
        now: (i64, u32),
        rng: &mut impl Rng,
        out: &mut Output,
    ) {
        let Some(key_id) = payload.get(..8) else {
            out.close_with("frame shorter than an auth_key_id");
            return;
        };
        let key_id = i64::from_le_bytes(key_id.try_into().expect("8 bytes"));
        if key_id == 0 {
            return self.handle_handshake(state, payload, now, rng, out);
        }
        let entry = match state.key(key_id, now.0) {
            Ok(Some(entry)) => entry,
            // EN-1: unknown key → −404.
            Ok(None) => {
                let reason = format!("unknown auth_key_id {:016x}", key_id as u64);
                self.send_error(-404, reason, out);
                return;
            }
            Err(e) => {
                out.close_with(e.to_string());
                return;
            }
        };
        // EN-6: any failure before and including the msg_key check: close silently.
        let mut plain = Scratch::take(&scratch::PLAIN, true);
        if let Err(e) = decrypt_message_into(&entry.key, Side::Client, payload, &mut plain) {
            out.close_with(format!("envelope: {e:?}"));
            return;
        }
        let Some((salt, session_id, msg_id, seqno, body)) = split_plaintext(&plain) else {
            out.close_with("plaintext header");
            return;
        };
        if !self.keyed {
            // A real key: the full frame cap from the next frame on (TR-8).
            self.keyed = true;
            if let Phase::Running { codec, .. } = &mut self.phase {
                codec.set_max_frame(crate::transport::MAX_FRAME);
            }
        }
        let env = self.env(state, key_id, &entry, now);
        let key_salts = env.key_salts;
        let mut host = ConnHost {
            state,
            key_id,
            session_id,
            entry: &entry,
            temp_key: entry.expires_at.is_some(),
            dc_id: self.dc_id,
            now: now.0,
            peer: &self.peer,
            pushes: std::cell::RefCell::new(Vec::new()),
            fault: Default::default(),
        };
        // What this frame's calls read and commit is noted on this thread from here on.
        observed::take();
        let connection = self.id;
        let message = Message {
            salt,
            msg_id,
            seqno,
            body,
        };
        let mut was_admitted = false;
        let packet = state.with_admitted(
            key_id,
            session_id,
            connection,
            now.0,
            // A refused message gets its bad_msg_notification, bad_server_salt or held answer,
            // and changes nothing (SS-4).
            |session| {
                session
                    .admit(&env, message)
                    .map_err(|refused| (session.pack(&env, refused.messages), refused.effects))
            },
            |session, admitted, moved| {
                was_admitted = true;
                let resumed = moved.then(|| session.resume(&env).messages);
                let reply = session.run(&env, admitted, &mut host, rng);
                let messages = match resumed {
                    Some(mut messages) => {
                        messages.extend(reply.messages);
                        messages
                    }
                    None => reply.messages,
                };
                (session.pack(&env, messages), reply.effects)
            },
        );
        let (packet, effects) = packet;
        // Updates for the key come to this connection once it carried an admitted message
        // (a replayed frame does not subscribe it).
        if was_admitted {
            // A bound temporary key also carries its permanent key's updates (PF-6); only a
            // temporary key is looked up in the bindings.
            let perm = entry
                .expires_at
                .is_some()
                .then(|| state.perm_of(key_id))
                .flatten();
            for key in std::iter::once(key_id).chain(perm) {
                if !self.keys_seen.contains(&key) && self.keys_seen.len() < MAX_KEYS_PER_CONNECTION
                {
                    self.keys_seen.push(key);
                    out.new_keys.push(key);
                }
            }
        }
        // The answers go once a sync covers every commit they rest on: the calls' own commits
        // and those behind what they read; an answer that read only durable records waits for
        // nothing (DB-1; issue 15, item 3).
        out.durable_through = out.durable_through.max(observed::take());
        out.pushes.extend(host.pushes.into_inner());
        out.delay_ms = out.delay_ms.max(host.fault.delay_ms);
        if host.fault.drop {
            // An injected drop: the connection goes before any answer (the client re-sends on
            // a new one, as after a network failure).
            out.close_with("fault injected: drop");
            return;
        }
        if let Some((msg_id, seqno, body)) = packet {
            let header = plaintext_header(key_salts.current, session_id, msg_id, seqno, body.len());
            self.send_encrypted(&entry.key, &header, &body, rng, out);
        }
        for effect in effects {
            match effect {
                Effect::CloseAfter(secs) => out.close_after = Some(secs),
                Effect::TransportError(code) => {
                    self.send_error(code, format!("service message limit ({code})"), out);
                }
                Effect::KeyDestroyed => {
                    out.close_with("auth key destroyed");
                }
            }
        }
    }

    /// The session layer's view of `key_id` at `now`, with the salts cached per connection.
    fn env<'s>(
        &mut self,
        state: &'s ServerState,
        key_id: i64,
        entry: &KeyEntry,
        now: (i64, u32),
    ) -> Env<'s> {
        Env {
            auth_key_id: key_id,
            salts: &state.salts,
            key_salts: state.salts.key_salts_cached(&mut self.salts, key_id, now.0),
            initial_salt: entry.initial_salt,
            now: now.0,
            nanos: now.1,
        }
    }

    /// Sends `body` (an update another connection's request caused) in every session of
    /// `key_id` that this connection last carried.
    pub fn push_update(
        &mut self,
        state: &ServerState,
        key_id: i64,
        body: &[u8],
        now: (i64, u32),
        rng: &mut impl Rng,
    ) -> Output {
        let mut out = Output::reusing_send_buffer();
        // An update for a permanent key goes to it, and to the temporary key bound to it on
        // this connection (encrypted with that one, PF-6).
        let bound: Vec<i64> = self
            .keys_seen
            .iter()
            .copied()
            .filter(|k| *k != key_id && state.perm_of(*k) == Some(key_id))
            .collect();
        for temp in bound {
            let more = self.push_update(state, temp, body, now, rng);
            out.send.extend(more.send);
        }
        let entry = match state.key(key_id, now.0) {
            Ok(Some(entry)) => entry,
            _ => return out,
        };
        let Some(body) = update_for_key(state, key_id, body) else {
            return out;
        };
        let env = self.env(state, key_id, &entry, now);
        let key_salts = env.key_salts;
        for session_id in state.sessions_on(key_id, self.id) {
            let packet = state.with_existing(key_id, session_id, |session| {
                let reply = session.notify(&env, body.clone());
                session.pack(&env, reply.messages)
            });
            if let Some((msg_id, seqno, body)) = packet.flatten() {
                let header =
                    plaintext_header(key_salts.current, session_id, msg_id, seqno, body.len());
                self.send_encrypted(&entry.key, &header, &body, rng, &mut out);
            }
        }
        out
    }

    fn handle_handshake(
        &mut self,
        state: &ServerState,
        payload: &[u8],
        now: (i64, u32),
        rng: &mut impl Rng,
        out: &mut Output,
    ) {
        let dh_work = needs_dh_work(payload);
        if let Some((limiter, ip)) = &self.limit {
            let weight = if dh_work {
                1.0
            } else if is_req_pq(payload) {
                REQ_PQ_WEIGHT
            } else {
                0.0
            };
            if weight > 0.0 && !limiter.allow_weighted(*ip, now, weight) {
                tracing::warn!(%ip, "handshake rate limit reached (AB-4)");
                state.metrics.handshake_failed();
                self.send_error(-429, format!("handshake rate limit for {ip}"), out);
                return;
            }
        }
        // The slot is taken where the expensive work starts (slots.rs).
        if dh_work && !self.slot {
            if !state.handshake_slots.try_take(self.limited_address()) {
                state.metrics.handshake_failed();
                self.send_error(-429, "every key-exchange slot is taken".into(), out);
                return;
            }
            self.slot = true;
        }
        let cfg = HandshakeConfig {
            dc_id: self.dc_id,
            test_mode: state.test_mode,
            max_temp_expires_in: state.max_temp_expires_in,
            keys: state.rsa_keys.clone(),
        };
        match self.handshakes.handle(&cfg, payload, now, rng) {
            HandshakeOutput::Reply(frame) => self.send_frame(&frame, rng, out),
            HandshakeOutput::Nothing => {}
            HandshakeOutput::Refuse(e) => {
                state.metrics.handshake_failed();
                self.send_error(e.wire_code(), format!("handshake: {e}"), out);
            }
            HandshakeOutput::KeyReady(ready) => {
                let expires_at = match ready.kind() {
                    KeyKind::Permanent => None,
                    KeyKind::Temporary { expires_in } => Some(now.0 + i64::from(expires_in)),
                };
                let entry = KeyEntry::new(
                    AuthKey::from_bytes(*ready.key().data()),
                    expires_at,
                    Some((ready.initial_salt(), now.0 + SALT_PERIOD)),
                );
                let decision = match state.add_key_from(entry, now.0, self.limited_address()) {
                    Ok(true) => {
                        if expires_at.is_none() {
                            // HS-19: dh_gen_ok goes out once a store sync has the key.
                            out.durable_through = out.durable_through.max(state.store.written());
                        }
                        KeyDecision::Stored
                    }
                    Ok(false) => KeyDecision::Taken,
                    Err(e) => {
                        tracing::error!(error = %e, "could not store a new auth key");
                        KeyDecision::Failed
                    }
                };
                let (key, frame) = self.handshakes.finish(ready, decision, now);
                if let Some(key) = key {
                    state.metrics.handshake_made(expires_at.is_some());
                    tracing::info!(
                        dc = self.dc_id,
                        auth_key_id = format_args!("{:016x}", key.id() as u64),
                        temporary = expires_at.is_some(),
                        "auth key created"
                    );
                }
                self.send_frame(&frame, rng, out);
            }
        }
    }

    /// Encrypts the message `header ‖ body` and frames it into `out`.
    fn send_encrypted(
        &mut self,
        key: &AuthKey,
        header: &[u8; 32],
        body: &[u8],
        rng: &mut impl Rng,
        out: &mut Output,
    ) {
        // Encrypted in place; only ciphertext is left in it once sealed.
        let mut frame = Scratch::take(&scratch::FRAME, false);
        // EN-8: random padding of a random length, so sizes tell an observer less.
        encrypt_message_padded(key, Side::Server, &[header, body], rng, &mut frame);
        self.send_frame(&frame, rng, out);
    }

    fn send_frame(&mut self, payload: &[u8], rng: &mut impl Rng, out: &mut Output) {
        let Phase::Running { codec, obfuscation } = &mut self.phase else {
            return;
        };
        let padding: [u8; 3] = rng.array();
        let start = out.send.len();
        // One allocation at most for the answers of an input (the framing adds ≤ 12 bytes).
        out.send.reserve(payload.len() + 12);
        if codec
            .encode(payload, &padding, false, &mut out.send)
            .is_err()
        {
            out.close_with("answer larger than the frame cap");
            return;
        }
        if let Some(ob) = obfuscation {
            ob.encrypt(&mut out.send[start..]);
        }
    }

    /// TR-9: a transport error frame, then close for `reason`.
    fn send_error(&mut self, code: i32, reason: String, out: &mut Output) {
        if let Phase::Running { codec, obfuscation } = &mut self.phase {
            let start = out.send.len();
            codec.encode_error(code, &mut out.send);
            if let Some(ob) = obfuscation {
                ob.encrypt(&mut out.send[start..]);
            }
        }
        out.close_with(reason);
    }
}

/// How far a binding's expires_at may lie past the temporary key's own expiry (clock skew,
/// the msg_id window's size).
const BIND_EXPIRY_SLACK_SECS: i64 = 300;

/// The session layer's view of the server for one key.
struct ConnHost<'a> {
    state: &'a ServerState,
    /// The key the message came under (a temporary key acts for its permanent key).
    key_id: i64,
    session_id: i64,
    entry: &'a KeyEntry,
    temp_key: bool,
    dc_id: i32,
    now: i64,
    peer: &'a str,
    pushes: std::cell::RefCell<Vec<Push>>,
    /// What injected faults asked of this frame's calls (delay, drop).
    fault: super::faults::Fault,
}

impl Host for ConnHost<'_> {
    fn call(
        &mut self,
        query: Function,
        msg_id: i64,
        rng: &mut dyn Rng,
    ) -> Result<Vec<u8>, RpcError> {
        let unwrapped = rpc::unwrap(query)?;
        let method = unwrapped.query.name();
        let started = std::time::Instant::now();
        let result = self.call_unwrapped(unwrapped, msg_id, rng);
        let error = result.as_ref().err().map(|e| e.message.as_str());
        self.state.metrics.rpc(method, started.elapsed(), error);
        result
    }

    fn destroy_session(&mut self, session_id: i64) -> bool {
        self.state.destroy_session(self.key_id, session_id)
    }

    fn destroy_auth_key(&mut self) -> DestroyKey {
        match self.state.destroy_key(self.key_id) {
            Ok(true) => DestroyKey::Ok,
            Ok(false) => DestroyKey::None,
            Err(e) => {
                tracing::error!(error = %e, "destroy_auth_key failed");
                DestroyKey::Fail
            }
        }
    }
}

impl ConnHost<'_> {
    /// One call, its wrappers taken off: injected faults first, then the method.
    fn call_unwrapped(
        &mut self,
        unwrapped: rpc::Unwrapped,
        msg_id: i64,
        rng: &mut dyn Rng,
    ) -> Result<Vec<u8>, RpcError> {
        let method = unwrapped.query.name();
        let roll = || f64::from(u32::from_le_bytes(rand_bytes(rng))) / (f64::from(u32::MAX) + 1.0);
        if let Some(fault) = self.state.faults.check(method, roll) {
            self.state.metrics.fault_injected();
            self.fault.delay_ms = self.fault.delay_ms.max(fault.delay_ms);
            self.fault.drop |= fault.drop;
            if let Some(e) = fault.error {
                return Err(e);
            }
        }
        let client = self.record_client_info(unwrapped.layer, unwrapped.init);
        // PF-6: a bound temporary key acts for its permanent key (its login, its pushes).
        let bound = if self.temp_key {
            self.state.perm_of(self.key_id)
        } else {
            None
        };
        let acting = bound.unwrap_or(self.key_id);
        match &unwrapped.query {
            Function::AuthBindTempAuthKey(r) => {
                return self.bind_temp_auth_key(r, msg_id);
            }
            Function::AuthDropTempAuthKeys(_) if self.temp_key && bound.is_none() => {
                return Err(RpcError::new(401, "AUTH_KEY_PERM_EMPTY"));
            }
            Function::AuthDropTempAuthKeys(r) => {
                self.state.drop_temps_of(acting, &r.except_auth_keys);
                return Ok(crate::tl::Serializable::to_bytes(&true));
            }
            _ => {}
        }
        let ctx = RpcContext {
            this_dc: self.dc_id,
            dcs: &self.state.dcs,
            test_mode: self.state.test_mode,
            now: self.now as i32,
            msg_id,
            key_id: acting,
            temp_key: self.temp_key && bound.is_none(),
            peer: self.peer,
            store: &*self.state.store,
            login: &self.state.login,
            client: &client,
            srp: &self.state.srp,
            pushes: &self.pushes,
        };
        let result = rpc::dispatch(&ctx, rng, &unwrapped.query);
        if let Err(e) = &result {
            tracing::debug!(method, error = %e, "rpc error");
        }
        // PF-6: the permanent key's logout, or finding it revoked, kills its temporary key.
        let ended = match &result {
            Ok(_) => method == "auth.logOut",
            Err(e) => bound.is_some() && e.message == "SESSION_REVOKED",
        };
        if ended {
            self.state.kill_temps_of(acting);
        }
        if result.is_ok()
            && matches!(
                method,
                "account.resetAuthorization" | "auth.resetAuthorizations"
            )
        {
            self.state.kill_temps_of_revoked();
        }
        // AC-3: the answer in the constructors of the key's layer.
        let layer = Layer::serving(client.layer);
        let id = unwrapped.query.constructor_id();
        result.and_then(|bytes| {
            layer::answer_for_layer(id, bytes, layer).map_err(|e| {
                tracing::error!(method, layer = layer.number(), error = %e, "answer not representable in the client's layer");
                RpcError::internal()
            })
        })
    }

    /// auth.bindTempAuthKey (PF-3, PF-4): the temporary key this message came under is bound
    /// to the permanent key the MTProto 1.0 message under that key names.
    fn bind_temp_auth_key(
        &self,
        req: &crate::tl::functions::auth::BindTempAuthKey,
        msg_id: i64,
    ) -> Result<Vec<u8>, RpcError> {
        let Some(temp_expires) = self.entry.expires_at.filter(|_| self.temp_key) else {
            return Err(RpcError::new(400, "TEMP_AUTH_KEY_EMPTY"));
        };
        let invalid = || RpcError::new(400, "ENCRYPTED_MESSAGE_INVALID");
        let perm = match self.state.key(req.perm_auth_key_id, self.now) {
            Ok(Some(perm)) if perm.expires_at.is_none() => perm,
            Ok(_) => return Err(invalid()),
            Err(e) => {
                tracing::error!(error = %e, "reading a permanent key");
                return Err(RpcError::internal());
            }
        };
        let opened =
            crate::crypto::bind::open(&perm.key, &req.encrypted_message).ok_or_else(invalid)?;
        let matches = opened.msg_id == msg_id
            && opened.nonce == req.nonce
            && opened.perm_auth_key_id == req.perm_auth_key_id
            && opened.expires_at == req.expires_at
            && opened.temp_auth_key_id == self.key_id
            && opened.temp_session_id == self.session_id;
        if !matches {
            return Err(invalid());
        }
        // A client's clock may run a little ahead of the key's expiry as the server set it.
        let expires_at = i64::from(req.expires_at);
        if expires_at <= self.now || expires_at > temp_expires + BIND_EXPIRY_SLACK_SECS {
            return Err(RpcError::new(400, "EXPIRES_AT_INVALID"));
        }
        if self
            .state
            .bind_temp(self.key_id, req.perm_auth_key_id)
            .is_err()
        {
            return Err(RpcError::new(400, "TEMP_AUTH_KEY_ALREADY_BOUND"));
        }
        tracing::info!(
            temp = format_args!("{:016x}", self.key_id as u64),
            perm = format_args!("{:016x}", req.perm_auth_key_id as u64),
            "temporary key bound"
        );
        Ok(crate::tl::Serializable::to_bytes(&true))
    }

    /// AC-3: the key's client info after this request's wrappers. A change is kept in memory
    /// with the key, and with its login if it has one; a key that is not logged in (every
    /// temporary key) leaves nothing on disk (security review item 2).
    fn record_client_info(&self, layer: Option<i32>, init: Option<ClientInfo>) -> Arc<ClientInfo> {
        let current = self.entry.client();
        let Some(new) = current.declared(layer, init) else {
            return current;
        };
        let new = Arc::new(new);
        self.entry.set_client(new.clone());
        if !self.temp_key {
            let accounts = Accounts::new(&*self.state.store);
            if let Err(e) = rpc::client_info::persist(&accounts, self.key_id, &new) {
                tracing::warn!(error = %e, "could not keep the client info with the login");
            }
        }
        new
    }
}

/// Four random bytes from a `dyn Rng` (its `array` needs a sized one).
fn rand_bytes(rng: &mut dyn Rng) -> [u8; 4] {
    let mut b = [0; 4];
    rng.fill(&mut b);
    b
}

/// The transport's name in the metrics.
fn transport_label(framing: crate::transport::Framing, obfuscated: bool) -> &'static str {
    use crate::transport::Framing::*;
    match (framing, obfuscated) {
        (Abridged, false) => "abridged",
        (Intermediate, false) => "intermediate",
        (PaddedIntermediate, false) => "padded_intermediate",
        (Full, false) => "full",
        (Abridged, true) => "obfuscated2_abridged",
        (Intermediate, true) => "obfuscated2_intermediate",
        (PaddedIntermediate, true) => "obfuscated2_padded_intermediate",
        (Full, true) => "obfuscated2_full",
    }
}

/// An update for `key_id` in the constructors of its layer; `None` when that layer lacks one
/// of them (AC-3: never send a constructor the client's layer does not know).
fn update_for_key(state: &ServerState, key_id: i64, body: &[u8]) -> Option<Vec<u8>> {
    let layer = Layer::serving(state.declared_layer(key_id));
    if layer == Layer::CURRENT {
        return Some(body.to_vec());
    }
    let ty = layer::type_named("Updates")?;
    match layer::downgrade(body, ty, layer) {
        Ok(bytes) => Some(bytes),
        Err(e) => {
            tracing::debug!(layer = layer.number(), error = %e, "update not sent: not in the client's layer");
            None
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::crypto::{decrypt_message, encrypt_message};
    use crate::fuzzing::fixture_state;
    use crate::rand::SeededRng;
    use crate::session::engine::join_plaintext;
    use crate::tl::{functions, types, Deserializable, Serializable};
    use crate::transport::Framing;
    use std::sync::Arc;

    const NOW: (i64, u32) = (1_700_000_000, 0);
    const PINGS: i64 = 3;

    /// A client's first bytes and three encrypted pings, with the client's obfuscation state.
    fn client_wire(
        state: &ServerState,
        key: &AuthKey,
        obfuscated: bool,
    ) -> (Vec<u8>, Option<Obfuscated2>) {
        let framing = Framing::Intermediate;
        let (mut ob, mut wire) = if obfuscated {
            let (ob, init) = Obfuscated2::client([3; 64], framing, 1);
            (Some(ob), init.to_vec())
        } else {
            (None, framing.tag().to_vec())
        };
        let mut codec = Codec::new(framing, Side::Client);
        let salt = state.salts.current(key.id(), NOW.0);
        for ping_id in 1..=PINGS {
            let body = functions::Ping { ping_id }.to_bytes();
            let msg_id = (NOW.0 << 32) + ping_id * 4;
            let plain = join_plaintext(salt, 77, msg_id, (ping_id * 2 - 1) as i32, &body);
            let mut frame = Vec::new();
            encrypt_message(key, Side::Client, &plain, &[5; 32], &mut frame);
            let start = wire.len();
            codec.encode(&frame, &[], false, &mut wire).expect("small");
            if let Some(ob) = &mut ob {
                ob.encrypt(&mut wire[start..]);
            }
        }
        (wire, ob)
    }

    /// Everything the server sends for `wire` fed `chunk` bytes at a time.
    fn serve_in_chunks(state: &ServerState, wire: &[u8], chunk: usize) -> Vec<u8> {
        let mut conn = Connection::new(1, 1);
        let mut rng = SeededRng::new(9);
        let mut sent = Vec::new();
        for piece in wire.chunks(chunk) {
            let out = conn.receive(state, piece, NOW, &mut rng);
            assert!(!out.close, "closed: {:?}", out.reason);
            sent.extend_from_slice(&out.send);
        }
        sent
    }

    /// The ping ids of every pong in the server's bytes.
    fn pongs(key: &AuthKey, mut sent: Vec<u8>, ob: Option<Obfuscated2>) -> Vec<i64> {
        if let Some(mut ob) = ob {
            ob.decrypt(&mut sent);
        }
        let mut codec = Codec::new(Framing::Intermediate, Side::Client);
        let mut ids = Vec::new();
        let mut at = 0;
        while let Some((incoming, used)) = codec.decode(&sent[at..]).expect("server framing") {
            at += used;
            let Incoming::Frame { payload, .. } = incoming else {
                continue;
            };
            let plain = decrypt_message(key, Side::Server, payload).expect("decrypts");
            let (_, _, _, _, body) = split_plaintext(&plain).expect("header");
            let bodies = if body[..4] == crate::session::container::CONTAINER_ID.to_le_bytes() {
                crate::session::container::parse(body, i64::MAX, i32::MAX)
                    .expect("container")
                    .iter()
                    .map(|m| m.body.to_vec())
                    .collect()
            } else {
                vec![body.to_vec()]
            };
            ids.extend(
                bodies
                    .iter()
                    .filter_map(|b| types::Pong::from_bytes(b).ok())
                    .map(|p| p.ping_id),
            );
        }
        assert_eq!(at, sent.len(), "no partial frame left over");
        ids
    }

    /// The memory an incomplete frame holds is reported (the server-wide frame budget), and
    /// the buffer a big frame needed is given back once it is handled.
    #[test]
    fn an_incomplete_frame_reports_its_memory_and_a_big_buffer_is_given_back() {
        let key = AuthKey::from_bytes(std::array::from_fn(|i| (i * 17 + 3) as u8));
        let state = fixture_state(&key, NOW.0);
        let salt = state.salts.current(key.id(), NOW.0);
        let mut codec = Codec::new(Framing::Intermediate, Side::Client);
        let mut encode = |msg_id: i64, seqno: i32, body: &[u8]| {
            let plain = join_plaintext(salt, 78, msg_id, seqno, body);
            let mut frame = Vec::new();
            encrypt_message(&key, Side::Client, &plain, &[6; 32], &mut frame);
            let mut wire = Vec::new();
            codec
                .encode(&frame, &[], false, &mut wire)
                .expect("within the cap");
            wire
        };
        let mut first = Framing::Intermediate.tag().to_vec();
        first.extend(encode(
            NOW.0 << 32,
            1,
            &functions::Ping { ping_id: 1 }.to_bytes(),
        ));
        // 8,192 ids (the most one msgs_ack may carry): a 64 KiB frame.
        let ack = types::MsgsAck {
            msg_ids: (1..=8192).map(|i| (NOW.0 << 32) + i * 4 + 1).collect(),
        }
        .to_bytes();
        let big = encode((NOW.0 << 32) + 8, 2, &ack);
        let mut conn = Connection::new(1, 1);
        let mut rng = SeededRng::new(3);
        let out = conn.receive(&state, &first, NOW, &mut rng);
        assert_eq!(
            (out.buffered, out.partial, out.close),
            (0, Partial::None, false)
        );
        let (most, last) = big.split_at(big.len() - 1);
        let out = conn.receive(&state, most, NOW, &mut rng);
        assert!(out.buffered >= most.len(), "{}", out.buffered);
        assert_eq!(out.partial, Partial::Started);
        let out = conn.receive(&state, last, NOW, &mut rng);
        assert_eq!((out.buffered, out.partial), (0, Partial::None));
        assert!(!out.close, "{:?}", out.reason);
        assert!(
            conn.inbuf.capacity() <= KEEP_INBUF,
            "{}",
            conn.inbuf.capacity()
        );
    }

    #[test]
    fn frames_split_or_joined_anywhere_get_the_same_answers() {
        let key = AuthKey::from_bytes(std::array::from_fn(|i| (i * 13 + 1) as u8));
        for obfuscated in [false, true] {
            let state = fixture_state(&key, NOW.0);
            let (wire, ob) = client_wire(&state, &key, obfuscated);
            let whole = serve_in_chunks(&state, &wire, wire.len());
            assert_eq!(
                pongs(&key, whole.clone(), ob),
                (1..=PINGS).collect::<Vec<_>>()
            );
            for chunk in [1, 3, 64, 65, 91, 100] {
                // A fresh state each time: the same session and clock answer byte for byte.
                let state = fixture_state(&key, NOW.0);
                let (wire, _) = client_wire(&state, &key, obfuscated);
                assert_eq!(
                    serve_in_chunks(&state, &wire, chunk),
                    whole,
                    "obfuscated {obfuscated}, {chunk}-byte reads"
                );
            }
        }
    }

    #[test]
    fn a_replayed_obfuscated2_init_is_dropped_silently() {
        let key = AuthKey::from_bytes([4; 256]);
        let state = fixture_state(&key, NOW.0);
        let (wire, _) = client_wire(&state, &key, true);
        let mut rng = SeededRng::new(3);
        let first = Connection::new(1, 1).receive(&state, &wire, NOW, &mut rng);
        assert!(!first.close && !first.send.is_empty());
        // The same bytes again, as an observer would replay them: nothing, and closed.
        let replayed = Connection::new(2, 1).receive(&state, &wire, NOW, &mut rng);
        assert!(replayed.close && replayed.send.is_empty());
        assert!(replayed.reason.unwrap().contains("replayed"));
        // Another client's init is served.
        let (other, _) = {
            let framing = Framing::Intermediate;
            let (ob, init) = Obfuscated2::client([8; 64], framing, 1);
            (init.to_vec(), ob)
        };
        let out = Connection::new(3, 1).receive(&state, &other, NOW, &mut rng);
        assert!(!out.close);
    }

    /// The client's first bytes and one unencrypted frame holding `data`.
    fn plain_wire(data: &[u8]) -> Vec<u8> {
        let mut frame = Vec::new();
        crate::handshake::plain::write((NOW.0 << 32) + 4, data, &mut frame);
        let mut wire = Framing::Intermediate.tag().to_vec();
        Codec::new(Framing::Intermediate, Side::Client)
            .encode(&frame, &[], false, &mut wire)
            .expect("small");
        wire
    }

    /// The transport error the server sent, if that is all it sent.
    fn transport_error(sent: &[u8]) -> Option<i32> {
        let mut codec = Codec::new(Framing::Intermediate, Side::Client);
        match codec.decode(sent) {
            Ok(Some((Incoming::TransportError(code), used))) if used == sent.len() => Some(code),
            _ => None,
        }
    }

    /// HS-19 on the group commit: a new permanent key is in the store but not yet synced when
    /// its dh_gen_ok is built, so the answer carries the commit the shell must see synced first
    /// (`durable_through`); a temporary key, kept in memory only (DB-2), waits for nothing.
    #[test]
    fn dh_gen_ok_of_a_permanent_key_waits_for_the_sync_that_covers_it() {
        use crate::handshake::client::{self, ClientConfig, InnerData, RsaScheme};
        use crate::store::Store;
        use crate::tl::enums;
        let dir = std::env::temp_dir().join(format!("mtproto-conn-hs19-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let store = Arc::new(crate::store::SledStore::open(&dir).unwrap());
        let dcs = vec![crate::rpc::DcAddress {
            id: 1,
            ip: "127.0.0.1".into(),
            port: 4431,
        }];
        let state = ServerState::new(
            store.clone(),
            crate::fuzzing::fixture_keys(),
            [7; 32],
            dcs,
            true,
        );
        let mut rng = SeededRng::new(19);
        for inner in [
            InnerData::Dc(10_001),
            InnerData::TempDc {
                dc: 10_001,
                expires_in: 600,
            },
        ] {
            let cfg = ClientConfig {
                scheme: RsaScheme::RsaPad,
                inner,
                keys: vec![crate::fuzzing::fixture_keys()[0].public().clone()],
            };
            let mut conn = Connection::new(1, 1);
            let mut codec = Codec::new(Framing::Intermediate, Side::Client);
            let mut msg_id = NOW.0 << 32;
            let mut exchange = |conn: &mut Connection, body: &[u8], rng: &mut SeededRng| {
                msg_id += 4;
                let mut frame = Vec::new();
                crate::handshake::plain::write(msg_id, body, &mut frame);
                let mut wire = if msg_id == (NOW.0 << 32) + 4 {
                    Framing::Intermediate.tag().to_vec()
                } else {
                    Vec::new()
                };
                Codec::new(Framing::Intermediate, Side::Client)
                    .encode(&frame, &[], false, &mut wire)
                    .unwrap();
                let out = conn.receive(&state, &wire, NOW, rng);
                assert!(!out.close, "{:?}", out.reason);
                let Some((Incoming::Frame { payload, .. }, _)) = codec.decode(&out.send).unwrap()
                else {
                    panic!("no frame")
                };
                let answer = crate::handshake::plain::parse(payload, Side::Server)
                    .unwrap()
                    .1
                    .to_vec();
                (answer, out.durable_through)
            };
            let (s1, req) = client::start(&mut rng);
            let (res, _) = exchange(&mut conn, &req.to_bytes(), &mut rng);
            let (s2, req) = s1
                .handle_res_pq(enums::ResPQ::from_bytes(&res).unwrap(), &cfg, &mut rng)
                .unwrap();
            let (dh, _) = exchange(&mut conn, &req.to_bytes(), &mut rng);
            let dh = enums::ServerDHParams::from_bytes(&dh).unwrap();
            let (s3, req, _) = s2.handle_server_dh_params(dh, &mut rng).unwrap();
            let before = store.written();
            let (gen, durable_through) = exchange(&mut conn, &req.to_bytes(), &mut rng);
            let done = s3
                .handle_dh_gen(enums::SetClientDHParamsAnswer::from_bytes(&gen).unwrap())
                .unwrap();
            let id = done.auth_key.id();
            if matches!(inner, InnerData::Dc(_)) {
                assert!(durable_through > before, "waits for a sync past the key");
                assert_eq!(durable_through, store.written());
                assert!(store.auth_key(id).unwrap().is_some());
                assert!(store.sync().unwrap() >= durable_through);
            } else {
                assert_eq!(durable_through, 0, "a temporary key waits for nothing");
                assert!(store.auth_key(id).unwrap().is_none());
            }
        }
        drop(state);
        drop(store);
        std::fs::remove_dir_all(&dir).unwrap();
    }

    /// Issue 15, item 3 (DB-1): an answer waits for the syncs of the commits it read or made,
    /// and for nothing else; a commit still in flight elsewhere does not hold it back.
    #[test]
    fn an_answer_waits_only_for_the_commits_it_rests_on() {
        use crate::store::accounts::BatchExt;
        use crate::store::records::{Authorization, User};
        use crate::store::{Batch, Commit};
        let key = AuthKey::from_bytes(std::array::from_fn(|i| (i * 7 + 1) as u8));
        let state = fixture_state(&key, NOW.0);
        let mut conn = Connection::new(1, 1);
        let mut codec = Codec::new(Framing::Intermediate, Side::Client);
        let mut rng = SeededRng::new(15);
        let salt = state.salts.current(key.id(), NOW.0);
        let mut n = 0;
        let mut call = |body: Vec<u8>| -> u64 {
            n += 1;
            let msg_id = (NOW.0 << 32) + n * 4;
            let plain = join_plaintext(salt, 77, msg_id, (n * 2 - 1) as i32, &body);
            let mut frame = Vec::new();
            encrypt_message(&key, Side::Client, &plain, &[5; 32], &mut frame);
            let mut wire = if n == 1 {
                Framing::Intermediate.tag().to_vec()
            } else {
                Vec::new()
            };
            codec.encode(&frame, &[], false, &mut wire).unwrap();
            let out = conn.receive(&state, &wire, NOW, &mut rng);
            assert!(!out.close, "{:?}", out.reason);
            out.durable_through
        };
        let get_self = || {
            functions::users::GetUsers {
                id: vec![types::InputUserSelf {}.into()],
            }
            .to_bytes()
        };
        let commit = |b: &Batch| match state.store.commit(b).unwrap() {
            Commit::Applied { seq } => seq,
            Commit::Conflict => panic!("no expectations"),
        };
        // Someone else's commit, not synced: this key's lookup of its login does not rest on it.
        let mut other = Batch::default();
        other.put(b"Zother".to_vec(), vec![1]);
        commit(&other);
        let waits = call(get_self());
        assert_eq!(waits, 0, "a read of durable records waits for nothing");
        // This key's login, not synced yet: the answer that found it waits for its sync.
        let user = User {
            id: 42,
            access_hash: 1,
            phone: "9996611111".into(),
            first_name: "Ada".into(),
            home_dc: 1,
            ..User::default()
        };
        let auth = Authorization::bare(key.id(), 42, NOW.0, 1);
        let mut login = Batch::default();
        login.create_user(&user).bind(&auth, None);
        let seq = commit(&login);
        let waits = call(get_self());
        assert_eq!(waits, seq, "the answer rests on the login");
        // Synced: the same read waits for nothing.
        state.store.sync().unwrap();
        let waits = call(get_self());
        assert_eq!(waits, 0);
        // A call's own commit is waited for.
        let waits = call(functions::auth::LogOut {}.to_bytes());
        assert!(waits > seq, "a logout waits for its own commit");
        assert_eq!(waits, state.store.written());
    }

    #[test]
    fn dh_work_and_req_pq_past_an_address_budget_get_429() {
        use crate::server::rate::{AddressLimiter, HandshakeRate};
        let key = AuthKey::from_bytes([1; 256]);
        let state = fixture_state(&key, NOW.0);
        let limiter = Arc::new(AddressLimiter::new(HandshakeRate {
            per_second: 0.0,
            burst: 2.0,
        }));
        let ip: IpAddr = "203.0.113.9".parse().unwrap();
        let mut dh = functions::ReqDHParams {
            nonce: [1; 16],
            server_nonce: [2; 16],
            p: vec![0; 4],
            q: vec![0; 4],
            public_key_fingerprint: 0,
            encrypted_data: vec![0; 256],
        }
        .to_bytes();
        let req_pq = plain_wire(&functions::ReqPqMulti { nonce: [3; 16] }.to_bytes());
        let dh_wire = plain_wire(&dh);
        let mut rng = SeededRng::new(1);
        let mut send = |limited: bool, wire: &[u8]| {
            let conn = Connection::new(1, 1);
            let mut conn = if limited {
                conn.limited(limiter.clone(), ip)
            } else {
                conn
            };
            conn.receive(&state, wire, NOW, &mut rng)
        };
        // Within the budget the handshake itself answers (−404: no such exchange).
        for _ in 0..2 {
            let out = send(true, &dh_wire);
            assert_eq!(transport_error(&out.send), Some(-404));
        }
        let out = send(true, &dh_wire);
        assert_eq!(transport_error(&out.send), Some(-429));
        assert!(out.close);
        assert!(out.reason.unwrap().contains("rate limit"));
        // set_client_DH_params is charged too.
        dh = functions::SetClientDHParams {
            nonce: [1; 16],
            server_nonce: [2; 16],
            encrypted_data: vec![0; 336],
        }
        .to_bytes();
        assert_eq!(
            transport_error(&send(true, &plain_wire(&dh)).send),
            Some(-429)
        );
        // req_pq opens an exchange: half a step, refused too once the budget is spent;
        // unlimited connections are never charged.
        assert_eq!(transport_error(&send(true, &req_pq).send), Some(-429));
        assert_eq!(transport_error(&send(false, &dh_wire).send), Some(-404));
        let fresh: IpAddr = "203.0.113.10".parse().unwrap();
        for answered in [true, true, true, true, false] {
            let mut conn = Connection::new(1, 1).limited(limiter.clone(), fresh);
            let out = conn.receive(&state, &req_pq, NOW, &mut rng);
            assert_eq!(out.close, !answered, "four req_pq in a budget of two steps");
        }
    }

    #[test]
    fn a_slot_is_taken_at_req_dh_params_and_given_back() {
        let key = AuthKey::from_bytes([1; 256]);
        let state = fixture_state(&key, NOW.0);
        state.handshake_slots.set_limits(1, 1);
        let mut rng = SeededRng::new(2);
        let req_pq = plain_wire(&functions::ReqPqMulti { nonce: [3; 16] }.to_bytes());
        // Exchanges that stop after req_pq hold no slot, however many.
        let mut stalled: Vec<Connection> = (0..5)
            .map(|_| {
                let mut c = Connection::new(1, 1);
                let out = c.receive(&state, &req_pq, NOW, &mut rng);
                assert!(!out.close && c.handshakes_in_progress() == 1);
                c
            })
            .collect();
        assert_eq!(state.handshake_slots.fill(), (0, 1));
        // A connection past req_DH_params holds it (a bad one gives it back at once: −404).
        let dh = plain_wire(
            &functions::ReqDHParams {
                nonce: [9; 16],
                server_nonce: [2; 16],
                p: vec![0; 4],
                q: vec![0; 4],
                public_key_fingerprint: 0,
                encrypted_data: vec![0; 256],
            }
            .to_bytes(),
        );
        let out = Connection::new(1, 1).receive(&state, &dh, NOW, &mut rng);
        assert_eq!(transport_error(&out.send), Some(-404));
        assert_eq!(
            state.handshake_slots.fill(),
            (0, 1),
            "nothing in progress: given back"
        );
        // With every slot taken the expensive step is refused before any work.
        assert!(state.handshake_slots.try_take(None));
        let out = Connection::new(1, 1).receive(&state, &dh, NOW, &mut rng);
        assert_eq!(transport_error(&out.send), Some(-429));
        assert!(out.reason.unwrap().contains("slot"));
        state.handshake_slots.release(None);
        // Abandoning an exchange at its deadline gives the slot back and charges the address.
        let limiter = Arc::new(crate::server::rate::AddressLimiter::new(
            crate::server::rate::HandshakeRate {
                per_second: 0.0,
                burst: 2.5,
            },
        ));
        let ip: IpAddr = "203.0.113.11".parse().unwrap();
        let mut c = Connection::new(1, 1).limited(limiter.clone(), ip);
        let _ = c.receive(&state, &req_pq, NOW, &mut rng);
        c.abandon_handshakes(&state, NOW);
        assert_eq!(c.handshakes_in_progress(), 0);
        let mut next = Connection::new(1, 1).limited(limiter, ip);
        let out = next.receive(&state, &req_pq, NOW, &mut rng);
        assert_eq!(
            transport_error(&out.send),
            Some(-429),
            "2.5 − 0.5 − 2 left nothing"
        );
        for mut c in stalled.drain(..) {
            c.finish(&state);
        }
    }
}
