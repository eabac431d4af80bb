//! The client library: a tokio shell over the same sans-IO core, client side (ARCHITECTURE).
//! Connects over any transport (obfuscated or not), creates a key with either RSA scheme and
//! any inner-data variant (or reuses one), invokes typed requests and collects what the server
//! pushes. One task owns the connection: `invoke` writes the query and reads until its answer,
//! handling service messages (salts, clock, acks) on the way and queueing everything else.

mod email;
pub mod login;
pub mod password;
pub mod qr;
mod temp_key;
mod transfer;

use std::collections::VecDeque;
use std::net::SocketAddr;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use crate::crypto::{decrypt_message, encrypt_message, AuthKey};
use crate::handshake::client::{self as hs, ClientConfig, ClientHandshakeError};
use crate::handshake::plain;
use crate::rand::{OsRng, PooledOsRng, Rng};
use crate::rpc::RpcError;
use crate::session::container::{self, CONTAINER_ID};
use crate::session::engine::{join_plaintext, split_plaintext, wants_odd_seqno, RPC_RESULT_ID};
use crate::session::gzip;
use crate::session::MsgIdGenerator;
use crate::tl::layer::{self, Form, Layer, Ty};
use crate::tl::{enums, types, Deserializable, Identifiable, RemoteCall, Serializable};
use crate::transport::{Codec, Framing, Incoming, Obfuscated2, TransportError};
use crate::Side;

/// How to reach the server.
#[derive(Debug, Clone)]
pub struct ConnectOptions {
    pub addr: SocketAddr,
    pub framing: Framing,
    /// Wrap the framing in obfuscated2 (not with `Framing::Full`).
    pub obfuscated: bool,
    /// How long to wait for any answer.
    pub timeout: Duration,
}

impl ConnectOptions {
    pub fn new(addr: SocketAddr, framing: Framing) -> Self {
        ConnectOptions {
            addr,
            framing,
            obfuscated: false,
            timeout: Duration::from_secs(10),
        }
    }
}

#[derive(Debug)]
pub enum ClientError {
    Io(std::io::Error),
    /// The server sent a transport error (−404, −429, −444) and closed.
    Transport(i32),
    /// Our framing of the server's bytes failed.
    Framing(TransportError),
    Handshake(ClientHandshakeError),
    /// The server answered with an rpc_error.
    Rpc(RpcError),
    /// Something the server sent did not decode or made no sense.
    Protocol(String),
    Timeout,
    Closed,
}

impl std::fmt::Display for ClientError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ClientError::Io(e) => write!(f, "i/o: {e}"),
            ClientError::Transport(code) => write!(f, "transport error {code}"),
            ClientError::Framing(e) => write!(f, "framing: {e}"),
            ClientError::Handshake(e) => write!(f, "handshake: {e}"),
            ClientError::Rpc(e) => write!(f, "rpc error {e}"),
            ClientError::Protocol(e) => write!(f, "protocol: {e}"),
            ClientError::Timeout => write!(f, "timed out"),
            ClientError::Closed => write!(f, "connection closed"),
        }
    }
}

impl std::error::Error for ClientError {}

impl From<std::io::Error> for ClientError {
    fn from(e: std::io::Error) -> Self {
        ClientError::Io(e)
    }
}

/// A framed connection, before or after a key exists.
pub struct Transport {
    stream: TcpStream,
    codec: Codec,
    obfuscation: Option<Obfuscated2>,
    inbuf: Vec<u8>,
    timeout: Duration,
}

impl Transport {
    pub async fn connect(opts: &ConnectOptions) -> Result<Self, ClientError> {
        let stream = TcpStream::connect(opts.addr).await?;
        Self::over(stream, opts).await
    }

    /// Connects from the local address `source` (a test playing another client address, e.g.
    /// 127.0.0.2 on loopback).
    pub async fn connect_from(
        opts: &ConnectOptions,
        source: std::net::IpAddr,
    ) -> Result<Self, ClientError> {
        let socket = match source {
            std::net::IpAddr::V4(_) => tokio::net::TcpSocket::new_v4()?,
            std::net::IpAddr::V6(_) => tokio::net::TcpSocket::new_v6()?,
        };
        socket.bind(SocketAddr::new(source, 0))?;
        let stream = socket.connect(opts.addr).await?;
        Self::over(stream, opts).await
    }

    async fn over(mut stream: TcpStream, opts: &ConnectOptions) -> Result<Self, ClientError> {
        stream.set_nodelay(true)?;
        let obfuscation = if opts.obfuscated {
            let (ob, init) = Obfuscated2::client(OsRng.array(), opts.framing, 2);
            stream.write_all(&init).await?;
            Some(ob)
        } else {
            stream.write_all(opts.framing.tag()).await?;
            None
        };
        Ok(Transport {
            stream,
            codec: Codec::new(opts.framing, Side::Client),
            obfuscation,
            inbuf: Vec::new(),
            timeout: opts.timeout,
        })
    }

    /// Sends one frame.
    pub async fn send(&mut self, payload: &[u8]) -> Result<(), ClientError> {
        let mut out = Vec::with_capacity(payload.len() + 16);
        let mut padding = [0u8; 15];
        let mut pad = 0;
        if self.codec.framing() == Framing::PaddedIntermediate {
            PooledOsRng.fill(&mut padding);
            pad = (PooledOsRng.next_u32() % 16) as usize;
        }
        self.codec
            .encode(payload, &padding[..pad], false, &mut out)
            .map_err(ClientError::Framing)?;
        if let Some(ob) = &mut self.obfuscation {
            ob.encrypt(&mut out);
        }
        self.stream.write_all(&out).await?;
        Ok(())
    }

    /// Sends raw bytes as they are (tests of malformed input).
    pub async fn send_raw(&mut self, bytes: &[u8]) -> Result<(), ClientError> {
        let mut bytes = bytes.to_vec();
        if let Some(ob) = &mut self.obfuscation {
            ob.encrypt(&mut bytes);
        }
        self.stream.write_all(&bytes).await?;
        Ok(())
    }

    /// Receives one frame's payload; a server transport error becomes `ClientError::Transport`.
    pub async fn recv(&mut self) -> Result<Vec<u8>, ClientError> {
        loop {
            if let Some((incoming, used)) = self
                .codec
                .decode(&self.inbuf)
                .map_err(ClientError::Framing)?
            {
                let item = match incoming {
                    Incoming::Frame { payload, .. } => Some(Ok(payload.to_vec())),
                    Incoming::TransportError(code) => Some(Err(ClientError::Transport(code))),
                    Incoming::QuickAck(_) => None,
                };
                self.inbuf.drain(..used);
                match item {
                    Some(item) => return item,
                    None => continue,
                }
            }
            let old_len = self.inbuf.len();
            self.inbuf.reserve(16 * 1024);
            let n = tokio::time::timeout(self.timeout, self.stream.read_buf(&mut self.inbuf))
                .await
                .map_err(|_| ClientError::Timeout)??;
            if n == 0 {
                return Err(ClientError::Closed);
            }
            if let Some(ob) = &mut self.obfuscation {
                ob.decrypt(&mut self.inbuf[old_len..]);
            }
        }
    }

    /// Whether the server closed the connection (reads until EOF or `wait`).
    pub async fn closed_within(&mut self, wait: Duration) -> bool {
        let mut buf = [0u8; 1024];
        loop {
            match tokio::time::timeout(wait, self.stream.read(&mut buf)).await {
                Ok(Ok(0)) | Ok(Err(_)) => return true,
                Ok(Ok(_)) => continue,
                Err(_) => return false,
            }
        }
    }
}

fn unix_now() -> (i64, u32) {
    let d = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default();
    (d.as_secs() as i64, d.subsec_nanos())
}

/// Client msg_ids: time-based, ≡ 0 mod 4, strictly increasing (SS-2), on the server's clock
/// once a bad_msg 16/17 told the offset.
#[derive(Debug, Default)]
pub struct ClientMsgIds {
    ids: MsgIdGenerator,
    offset: i64,
}

impl ClientMsgIds {
    fn next(&mut self) -> i64 {
        let (secs, nanos) = unix_now();
        self.ids.next_client(secs + self.offset, nanos)
    }
}

/// Runs the key exchange over `transport`.
pub async fn create_auth_key(
    transport: &mut Transport,
    cfg: &ClientConfig,
) -> Result<hs::Finished, ClientError> {
    let mut ids = ClientMsgIds::default();
    let mut rng = OsRng;
    let (s1, req) = hs::start(&mut rng);
    let res: enums::ResPQ = plain_call(transport, &mut ids, &req).await?;
    let (s2, req) = s1
        .handle_res_pq(res, cfg, &mut rng)
        .map_err(ClientError::Handshake)?;
    let dh: enums::ServerDHParams = plain_call(transport, &mut ids, &req).await?;
    let (s3, req, _server_time) = s2
        .handle_server_dh_params(dh, &mut rng)
        .map_err(ClientError::Handshake)?;
    let answer: enums::SetClientDHParamsAnswer = plain_call(transport, &mut ids, &req).await?;
    s3.handle_dh_gen(answer).map_err(ClientError::Handshake)
}

/// One unencrypted request and its answer (the key exchange's messages).
pub async fn plain_call<T: Deserializable>(
    transport: &mut Transport,
    ids: &mut ClientMsgIds,
    body: &impl Serializable,
) -> Result<T, ClientError> {
    let mut frame = Vec::new();
    plain::write(ids.next(), &body.to_bytes(), &mut frame);
    transport.send(&frame).await?;
    let answer = transport.recv().await?;
    if answer.len() < 20 || answer[..8] != [0; 8] {
        return Err(ClientError::Protocol(
            "expected an unencrypted answer".into(),
        ));
    }
    T::from_bytes(&answer[20..]).map_err(|e| ClientError::Protocol(e.to_string()))
}

/// An encrypted session over one connection.
pub struct Client {
    transport: Transport,
    key: AuthKey,
    session_id: i64,
    salt: i64,
    ids: ClientMsgIds,
    seq: i32,
    to_ack: Vec<i64>,
    /// Messages the server sent that were not answers to our queries (updates, service
    /// messages), in order, as (msg_id, body).
    pushed: VecDeque<(i64, Vec<u8>)>,
    /// The layer answers come in (the one this client declares with invokeWithLayer).
    layer: Layer,
    /// Every message sent and received, when recording.
    recorded: Option<Recorded>,
}

/// What a recording client sent and received (layer and replay tests).
#[derive(Debug, Default, Clone)]
pub struct Recorded {
    /// (msg_id, body) of every message sent.
    pub sent: Vec<(i64, Vec<u8>)>,
    /// Every encrypted frame sent, as it went on the wire (what an on-path observer keeps).
    pub frames: Vec<Vec<u8>>,
    /// Every message body received, containers opened and gzip left packed.
    pub received: Vec<Vec<u8>>,
}

impl Client {
    /// Connects and creates a new key.
    pub async fn connect(opts: &ConnectOptions, cfg: &ClientConfig) -> Result<Self, ClientError> {
        let mut transport = Transport::connect(opts).await?;
        let done = create_auth_key(&mut transport, cfg).await?;
        Ok(Client::with_key(transport, done.auth_key, done.salt))
    }

    /// Uses an existing key on a connected transport, with a fresh session.
    pub fn with_key(transport: Transport, key: AuthKey, salt: i64) -> Self {
        Client {
            transport,
            key,
            session_id: OsRng.next_i64(),
            salt,
            ids: ClientMsgIds::default(),
            seq: 0,
            to_ack: Vec::new(),
            pushed: VecDeque::new(),
            layer: Layer::CURRENT,
            recorded: None,
        }
    }

    /// Reads answers and updates as a client of layer `declared` receives them (in that
    /// layer's constructors), turning them into the current layer's types. The requests
    /// should declare the same layer (`login::with_init_layer`).
    pub fn set_layer(&mut self, declared: i32) {
        self.layer = Layer::serving(declared);
    }

    /// Starts keeping every message sent and received.
    pub fn record(&mut self) {
        self.recorded = Some(Recorded::default());
    }

    /// What was recorded since `record`.
    pub fn recorded(&self) -> Option<&Recorded> {
        self.recorded.as_ref()
    }

    /// A request in the form of this client's layer.
    fn to_layer(&self, body: Vec<u8>) -> Result<Vec<u8>, ClientError> {
        if self.layer == Layer::CURRENT {
            return Ok(body);
        }
        layer::transcode(&body, Ty::Query, Form::Layer(Layer::CURRENT), self.layer)
            .map_err(|e| self.layer_error(e))
    }

    /// An answer to `sent` (a request in this client's layer) in the current layer's form,
    /// for `current`, the same request in the current form.
    fn answer_from_layer(
        &self,
        answer: Vec<u8>,
        sent: &[u8],
        current: &[u8],
    ) -> Result<Vec<u8>, ClientError> {
        if self.layer == Layer::CURRENT {
            return Ok(answer);
        }
        let (Some(old), Some(new)) = (
            layer::answer_type(sent, Form::Layer(self.layer)),
            layer::answer_type(current, Form::Layer(Layer::CURRENT)),
        ) else {
            return Ok(answer);
        };
        if old != new {
            return Err(ClientError::Protocol(format!(
                "layer {} answers {} where the current layer has {}",
                self.layer.number(),
                old.name(),
                new.name()
            )));
        }
        layer::transcode(&answer, old, Form::Layer(self.layer), Layer::CURRENT)
            .map_err(|e| self.layer_error(e))
    }

    fn layer_error(&self, e: layer::LayerError) -> ClientError {
        ClientError::Protocol(format!("layer {}: {e}", self.layer.number()))
    }

    /// Reuses this client's key and session on a new connection (SV-6 tests).
    pub async fn reconnect(&mut self, opts: &ConnectOptions) -> Result<(), ClientError> {
        self.transport = Transport::connect(opts).await?;
        Ok(())
    }

    pub fn auth_key(&self) -> &AuthKey {
        &self.key
    }

    pub fn session_id(&self) -> i64 {
        self.session_id
    }

    pub fn salt(&self) -> i64 {
        self.salt
    }

    pub fn set_salt(&mut self, salt: i64) {
        self.salt = salt;
    }

    pub fn transport(&mut self) -> &mut Transport {
        &mut self.transport
    }

    /// The next update the server pushes (an `Updates` object), reading until one comes; other
    /// pushed messages stay queued.
    pub async fn next_update(&mut self) -> Result<enums::Updates, ClientError> {
        loop {
            let found = self
                .pushed
                .iter()
                .position(|(_, b)| enums::Updates::from_bytes(b).is_ok());
            if let Some((_, body)) = found.and_then(|i| self.pushed.remove(i)) {
                self.flush_acks().await?;
                return enums::Updates::from_bytes(&body)
                    .map_err(|e| ClientError::Protocol(e.to_string()));
            }
            if self.layer != Layer::CURRENT {
                let updates = layer::type_named("Updates");
                let old = self.pushed.iter().position(|(_, b)| {
                    updates.is_some_and(|ty| layer::decode(b, ty, Form::Layer(self.layer)).is_ok())
                });
                if let (Some((_, body)), Some(ty)) =
                    (old.and_then(|i| self.pushed.remove(i)), updates)
                {
                    self.flush_acks().await?;
                    let body = layer::transcode(&body, ty, Form::Layer(self.layer), Layer::CURRENT)
                        .map_err(|e| self.layer_error(e))?;
                    return enums::Updates::from_bytes(&body)
                        .map_err(|e| ClientError::Protocol(e.to_string()));
                }
            }
            for (id, _, m) in self.recv_messages().await? {
                self.pushed.push_back((id, m));
            }
        }
    }

    /// Messages the server pushed so far, oldest first.
    pub fn take_pushed(&mut self) -> Vec<(i64, Vec<u8>)> {
        self.pushed.drain(..).collect()
    }

    fn next_seqno(&mut self, content_related: bool) -> i32 {
        if content_related {
            self.seq += 1;
            self.seq * 2 - 1
        } else {
            self.seq * 2
        }
    }

    /// Encrypts and sends one message body; returns its msg_id.
    pub async fn send_body(&mut self, body: &[u8]) -> Result<i64, ClientError> {
        let msg_id = self.ids.next();
        let seqno = self.next_seqno(wants_odd_seqno(body));
        self.send_message(msg_id, seqno, body).await?;
        Ok(msg_id)
    }

    /// Sends a message with the msg_id and seqno given (tests of the session rules).
    pub async fn send_message(
        &mut self,
        msg_id: i64,
        seqno: i32,
        body: &[u8],
    ) -> Result<(), ClientError> {
        if let Some(r) = &mut self.recorded {
            r.sent.push((msg_id, body.to_vec()));
        }
        let plain = join_plaintext(self.salt, self.session_id, msg_id, seqno, body);
        let mut frame = Vec::new();
        encrypt_message(
            &self.key,
            Side::Client,
            &plain,
            &PooledOsRng.array(),
            &mut frame,
        );
        if let Some(r) = &mut self.recorded {
            r.frames.push(frame.clone());
        }
        self.transport.send(&frame).await
    }

    /// A fresh client msg_id.
    pub fn next_msg_id(&mut self) -> i64 {
        self.ids.next()
    }

    /// Receives one encrypted packet and returns its messages (containers opened, gzip
    /// unpacked) as (msg_id, seqno, body). Content-related ones are remembered for acking.
    pub async fn recv_messages(&mut self) -> Result<Vec<(i64, i32, Vec<u8>)>, ClientError> {
        let frame = self.transport.recv().await?;
        let plain = decrypt_message(&self.key, Side::Server, &frame)
            .map_err(|e| ClientError::Protocol(format!("envelope: {e:?}")))?;
        let (_salt, session_id, msg_id, seqno, body) = split_plaintext(&plain)
            .ok_or_else(|| ClientError::Protocol("plaintext header".into()))?;
        if session_id != self.session_id {
            return Err(ClientError::Protocol("answer for another session".into()));
        }
        if msg_id & 1 != 1 {
            return Err(ClientError::Protocol("server msg_id is even".into()));
        }
        let mut out = Vec::new();
        if body.get(..4) == Some(&CONTAINER_ID.to_le_bytes()[..]) {
            let inner = container_messages(body)?;
            out.extend(inner);
        } else {
            out.push((msg_id, seqno, body.to_vec()));
        }
        for (id, seqno, _) in &out {
            if seqno & 1 == 1 {
                self.to_ack.push(*id);
            }
        }
        if let Some(r) = &mut self.recorded {
            r.received.extend(out.iter().map(|m| m.2.clone()));
        }
        Ok(out)
    }

    /// Sends msgs_ack for every content-related message received so far (SV-6).
    pub async fn flush_acks(&mut self) -> Result<(), ClientError> {
        if self.to_ack.is_empty() {
            return Ok(());
        }
        let ack = types::MsgsAck {
            msg_ids: std::mem::take(&mut self.to_ack),
        };
        self.send_body(&ack.to_bytes()).await.map(|_| ())
    }

    /// Invokes a typed request and decodes its result.
    pub async fn invoke<R: RemoteCall>(&mut self, request: &R) -> Result<R::Return, ClientError> {
        let current = request.to_bytes();
        let sent = self.to_layer(current.clone())?;
        let bytes = self.invoke_raw(&sent).await?;
        let bytes = self.answer_from_layer(bytes, &sent, &current)?;
        R::Return::from_bytes(&bytes).map_err(|e| ClientError::Protocol(e.to_string()))
    }

    /// Invokes a request (in this client's layer's form) whose answer only has to be a
    /// success, whatever its type there (`auth.logOut` answers Bool to old layers).
    pub async fn invoke_unit<R: RemoteCall>(&mut self, request: &R) -> Result<(), ClientError> {
        let sent = self.to_layer(request.to_bytes())?;
        self.invoke_raw(&sent).await.map(|_| ())
    }

    /// Sends a query body and waits for its rpc_result (re-sending once after bad_server_salt
    /// or a clock correction); returns the result bytes, gzip unpacked.
    pub async fn invoke_raw(&mut self, body: &[u8]) -> Result<Vec<u8>, ClientError> {
        let msg_id = self.ids.next();
        self.invoke_raw_as(msg_id, body).await
    }

    /// [`invoke_raw`](Self::invoke_raw) sending the query first under `msg_id` (a request whose
    /// body names its own msg_id: auth.bindTempAuthKey).
    pub async fn invoke_raw_as(
        &mut self,
        msg_id: i64,
        body: &[u8],
    ) -> Result<Vec<u8>, ClientError> {
        let seqno = self.next_seqno(wants_odd_seqno(body));
        self.send_message(msg_id, seqno, body).await?;
        let mut msg_id = msg_id;
        for _ in 0..64 {
            for (id, _seqno, m) in self.recv_messages().await? {
                match m
                    .get(..4)
                    .map(|b| u32::from_le_bytes(b.try_into().expect("4")))
                {
                    Some(RPC_RESULT_ID) if m.len() >= 12 => {
                        let req = i64::from_le_bytes(m[4..12].try_into().expect("8"));
                        if req != msg_id {
                            self.pushed.push_back((id, m));
                            continue;
                        }
                        let result = match gzip::unpack(&m[12..], crate::transport::MAX_FRAME) {
                            Some(r) => r.map_err(|e| ClientError::Protocol(format!("{e:?}")))?,
                            None => m[12..].to_vec(),
                        };
                        self.flush_acks().await?;
                        if let Ok(e) = types::RpcError::from_bytes(&result) {
                            return Err(ClientError::Rpc(RpcError::new(
                                e.error_code,
                                e.error_message,
                            )));
                        }
                        return Ok(result);
                    }
                    Some(types::BadServerSalt::CONSTRUCTOR_ID) => {
                        let bad = types::BadServerSalt::from_bytes(&m)
                            .map_err(|e| ClientError::Protocol(e.to_string()))?;
                        if bad.bad_msg_id == msg_id {
                            self.salt = bad.new_server_salt;
                            msg_id = self.send_body(body).await?;
                        }
                    }
                    Some(types::BadMsgNotification::CONSTRUCTOR_ID) => {
                        let bad = types::BadMsgNotification::from_bytes(&m)
                            .map_err(|e| ClientError::Protocol(e.to_string()))?;
                        if bad.bad_msg_id != msg_id {
                            self.pushed.push_back((id, m));
                            continue;
                        }
                        if matches!(bad.error_code, 16 | 17) {
                            // Fix the clock from the server's msg_id, then try again.
                            self.ids.offset = (id >> 32) - unix_now().0;
                            msg_id = self.send_body(body).await?;
                        } else {
                            return Err(ClientError::Protocol(format!(
                                "bad_msg_notification {}",
                                bad.error_code
                            )));
                        }
                    }
                    _ => self.pushed.push_back((id, m)),
                }
            }
        }
        Err(ClientError::Protocol("no answer in 64 packets".into()))
    }

    /// Sends ping and waits for its top-level pong.
    pub async fn ping(&mut self, ping_id: i64) -> Result<(), ClientError> {
        let msg_id = self
            .send_body(&crate::tl::functions::Ping { ping_id }.to_bytes())
            .await?;
        for _ in 0..64 {
            for (id, _, m) in self.recv_messages().await? {
                if let Ok(pong) = types::Pong::from_bytes(&m) {
                    if pong.msg_id == msg_id && pong.ping_id == ping_id {
                        return Ok(());
                    }
                }
                if let Ok(bad) = types::BadServerSalt::from_bytes(&m) {
                    self.salt = bad.new_server_salt;
                    return Box::pin(self.ping(ping_id)).await;
                }
                self.pushed.push_back((id, m));
            }
        }
        Err(ClientError::Protocol("no pong".into()))
    }
}

fn container_messages(body: &[u8]) -> Result<Vec<(i64, i32, Vec<u8>)>, ClientError> {
    // The server's container ids are larger than its inner ids, like a client's.
    let inner = container::parse(body, i64::MAX, i32::MAX)
        .map_err(|e| ClientError::Protocol(format!("container: {e:?}")))?;
    Ok(inner
        .into_iter()
        .map(|m| (m.msg_id, m.seqno, m.body.to_vec()))
        .collect())
}
