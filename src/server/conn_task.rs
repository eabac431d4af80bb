//! The tokio shell of one connection around its sans-IO core (`conn.rs`): it moves bytes, keeps
//! the clock (the idle, key-exchange and frame deadlines), delivers the mailbox, and holds an
//! answer back until the store sync it rests on (DB-1).
//!
//! An idle connection is mostly this task, so its shape is kept lean (issue 15, item 5): one
//! timer and one stop future for the connection's life, the work between reads done in plain
//! functions, and the rarely needed waits (a fault's delay, a store sync, a socket that does not
//! take an answer at once) in a boxed future made only when one is needed.

use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::task::{ready, Context, Poll};
use std::time::Duration;

use tokio::io::{AsyncRead, AsyncWriteExt, ReadBuf};
use tokio::net::TcpStream;
use tokio::sync::{Notify, OwnedSemaphorePermit};
use tokio::time::Instant;

use super::admission::Admitted;
use super::conn::{Connection, Output, Partial};
use super::durability::Durability;
use super::frame_budget::FrameBudget;
use super::mailbox::Mailbox;
use super::push::PushRegistry;
use super::rate::AddressLimiter;
use super::scratch;
use super::state::ServerState;
use super::{now, REFUSAL_REPORT_SECS};
use crate::rand::PooledOsRng;

/// Bytes read from a socket at a time (no more than a scratch buffer keeps).
const READ_CHUNK: usize = 16 * 1024;
const _: () = assert!(READ_CHUNK <= scratch::KEEP);

/// Why a connection the frame budget told to close closes.
const CLOSED_FOR_BUDGET: &str =
    "incomplete frames over the server's budget: the largest holders closed";

/// What every connection of one listener shares.
pub(super) struct Shared {
    pub pushes: Arc<PushRegistry>,
    pub durability: Arc<Durability>,
    pub dc_id: i32,
    pub state: Arc<ServerState>,
    /// The address budget limited connections' key exchanges are charged to (AB-4).
    pub rate: Option<Arc<AddressLimiter>>,
    pub handshake_deadline: Duration,
    pub frame_deadline: Duration,
    pub idle: Duration,
    /// The server-wide budget for bytes of incomplete frames.
    pub frames: Arc<FrameBudget>,
    pub shutdown: Arc<Shutdown>,
}

/// The server's order to every connection to finish (a `Notify` wait: a watch channel's takes
/// twice the room in each connection's task).
#[derive(Default)]
pub(super) struct Shutdown {
    begun: AtomicBool,
    notify: Notify,
}

impl Shutdown {
    pub fn begin(&self) {
        self.begun.store(true, Ordering::SeqCst);
        self.notify.notify_waiters();
    }

    fn begun(&self) -> bool {
        self.begun.load(Ordering::SeqCst)
    }
}

pub(super) struct ConnTask {
    pub shared: Arc<Shared>,
    pub id: u64,
    pub peer: SocketAddr,
    /// Whether the address budget applies (not to loopback clients unless asked).
    pub limited: bool,
    /// Its place under the connection limits, given back when the task ends.
    pub _admission: (OwnedSemaphorePermit, Option<Admitted>),
}

/// The connection's deadlines; its one timer is armed at the earliest.
struct Clock {
    /// Nothing received for the idle timeout (or the client's ping_delay_disconnect).
    idle: Instant,
    /// The key exchange in progress must be done (set at its first frame).
    handshake: Option<Instant>,
    /// The incomplete frame held must be complete (set at its first bytes).
    frame: Option<Instant>,
}

impl Clock {
    fn earliest(&self) -> Instant {
        [self.handshake, self.frame]
            .into_iter()
            .flatten()
            .fold(self.idle, Instant::min)
    }
}

/// What the connection has told the server-wide tables.
#[derive(Default)]
struct Registered {
    /// Bytes of incomplete frames, as the frame budget has them.
    buffered: usize,
    /// Auth keys whose updates come to this connection's mailbox.
    keys: Vec<i64>,
}

impl ConnTask {
    pub async fn run(self, mut stream: TcpStream) {
        let _ = stream.set_nodelay(true);
        let shared = &*self.shared;
        tracing::debug!(conn = self.id, dc = shared.dc_id, peer = %self.peer, "connected");
        let mut core = Connection::new(self.id, shared.dc_id).with_peer(self.peer.ip());
        if let Some(rate) = shared.rate.as_ref().filter(|_| self.limited) {
            core = core.limited(rate.clone(), self.peer.ip());
        }
        // One timer and one stop future for the connection's life, not one per message: the
        // timer is armed at the earliest deadline and, when it fires, re-armed if that
        // deadline moved since.
        let mut clock = Clock {
            idle: Instant::now() + shared.idle,
            handshake: None,
            frame: None,
        };
        let timer = tokio::time::sleep_until(clock.idle);
        tokio::pin!(timer);
        let stop = shared.shutdown.notify.notified();
        tokio::pin!(stop);
        // Registered before the flag is read: a shutdown begun after this wakes it.
        stop.as_mut().enable();
        // Updates from other connections' requests, and the frame budget's order to close.
        // One wake-up future, made again after each wake-up.
        let mailbox = Arc::new(Mailbox::default());
        let wake = mailbox.notified();
        tokio::pin!(wake);
        let mut registered = Registered::default();
        // Biased, the mailbox first: a peer that keeps the socket readable must not outrun
        // the budget's order or the updates; a registered wake-up costs a check per message.
        let reason = loop {
            if shared.shutdown.begun() {
                break "server shutting down".to_string();
            }
            let n = tokio::select! {
                biased;
                _ = &mut wake => {
                    wake.set(mailbox.notified());
                    match self.deliver_mail(&mut core, &mut stream, &mailbox).await {
                        Ok(()) => continue,
                        Err(reason) => break reason,
                    }
                }
                r = std::future::poll_fn(|cx| poll_read(&mut stream, cx)) => match r {
                    Ok(n) => n,
                    Err(e) => break format!("read: {e}"),
                },
                _ = &mut timer => match self.deadline_passed(&mut core, &clock) {
                    Some(reason) => break reason,
                    None => {
                        timer.as_mut().reset(clock.earliest());
                        continue;
                    }
                },
                _ = &mut stop => break "server shutting down".to_string(),
            };
            let Some(mut out) = receive(shared, &mut core, n) else {
                break "closed by peer".to_string();
            };
            if let Err(reason) = self.before_send(&out, &mailbox, &mut registered, &mut clock) {
                break reason;
            }
            if clock.earliest() < timer.deadline() {
                timer.as_mut().reset(clock.earliest());
            }
            if let Err(reason) = send(
                &mut stream,
                &shared.durability,
                &out.send,
                out.durable_through,
                out.delay_ms,
            )
            .await
            {
                break reason;
            }
            // Written: the buffer serves the next input (ciphertext only, nothing to wipe).
            scratch::give(&scratch::SEND, std::mem::take(&mut out.send), false);
            if let Some(reason) = self.after_send(out, &core, &mut clock) {
                break reason;
            }
            if clock.earliest() < timer.deadline() {
                timer.as_mut().reset(clock.earliest());
            }
        };
        if registered.buffered > 0 {
            shared.frames.set(self.id, 0, &mailbox);
        }
        shared.pushes.unregister(&registered.keys, self.id);
        core.finish(&shared.state);
        let _ = stream.shutdown().await;
        tracing::debug!(conn = self.id, dc = shared.dc_id, peer = %self.peer, %reason, "disconnected");
    }

    /// The timer fired: why the connection closes, if a deadline has passed.
    fn deadline_passed(&self, core: &mut Connection, clock: &Clock) -> Option<String> {
        let shared = &*self.shared;
        let at = Instant::now();
        if clock.handshake.is_some_and(|due| at >= due) {
            core.abandon_handshakes(&shared.state, now());
            tracing::info!(conn = self.id, peer = %self.peer, "key exchange abandoned at its deadline");
            return Some(format!(
                "key exchange not finished within {:?}",
                shared.handshake_deadline
            ));
        }
        if clock.frame.is_some_and(|due| at >= due) {
            return Some(format!(
                "frame not completed within {:?}",
                shared.frame_deadline
            ));
        }
        (at >= clock.idle).then(|| "idle".to_string())
    }

    /// The bookkeeping of one input before its answers go: the frame budget, the frame and
    /// idle deadlines, the keys whose updates come here.
    fn before_send(
        &self,
        out: &Output,
        mailbox: &Arc<Mailbox>,
        registered: &mut Registered,
        clock: &mut Clock,
    ) -> Result<(), String> {
        let shared = &*self.shared;
        if out.buffered != registered.buffered {
            let (closed, this_one) = shared.frames.set(self.id, out.buffered, mailbox);
            registered.buffered = if this_one { 0 } else { out.buffered };
            if closed > 0 {
                if let Some(times) = shared.frames.log.report(now().0, REFUSAL_REPORT_SECS) {
                    tracing::warn!(times, closed_so_far = shared.frames.closed(), bound = shared.frames.max(), "incomplete frames over the server's budget; closing the connections holding the most");
                }
            }
            if this_one {
                return Err(CLOSED_FOR_BUDGET.to_string());
            }
        }
        match out.partial {
            Partial::None => clock.frame = None,
            Partial::Started => clock.frame = Some(Instant::now() + shared.frame_deadline),
            Partial::Continues => {}
        }
        for key_id in &out.new_keys {
            shared.pushes.register(*key_id, self.id, mailbox.clone());
            registered.keys.push(*key_id);
        }
        clock.idle = Instant::now()
            + out
                .close_after
                .map(|s| Duration::from_secs(s as u64))
                .unwrap_or(shared.idle);
        Ok(())
    }

    /// Once the answers are written: updates for other connections go out, and why the
    /// connection closes, if it does. A key exchange has a deadline from its first frame
    /// (issue 14, item 1); the slots that bound concurrent exchanges are taken in the core.
    fn after_send(&self, out: Output, core: &Connection, clock: &mut Clock) -> Option<String> {
        let shared = &*self.shared;
        for p in out.pushes {
            shared.pushes.deliver(p, self.id);
        }
        if out.close {
            return Some(out.reason.unwrap_or_else(|| "closed".into()));
        }
        if core.handshakes_in_progress() == 0 {
            clock.handshake = None;
        } else if clock.handshake.is_none() {
            clock.handshake = Some(Instant::now() + shared.handshake_deadline);
        }
        None
    }

    /// Writes every update in the mailbox in one write, or says why the connection closes.
    async fn deliver_mail(
        &self,
        core: &mut Connection,
        stream: &mut TcpStream,
        mailbox: &Mailbox,
    ) -> Result<(), String> {
        let mail = mailbox.take();
        if mail.close {
            return Err(CLOSED_FOR_BUDGET.into());
        }
        let mut bytes = Vec::new();
        for (key_id, body) in mail.updates {
            let out = core.push_update(&self.shared.state, key_id, &body, now(), &mut PooledOsRng);
            bytes.extend_from_slice(&out.send);
            scratch::give(&scratch::SEND, out.send, false);
        }
        send(stream, &self.shared.durability, &bytes, 0, 0).await
    }
}

/// Polls the socket for what it has (up to [`READ_CHUNK`]) into this thread's read buffer
/// (`scratch::READ`: an idle connection holds no buffer of its own, and nothing is zeroed per
/// read), where the bytes stay for the [`receive`] that follows with no await between (the
/// same thread): only their count goes through the `select!`, whose output the task's future
/// keeps room for, in every idle connection. Through tokio's `poll_read`, which takes a read
/// shorter than the buffer as having drained the socket (epoll is edge-triggered), so the next
/// wait does not begin with a `recv` that finds nothing; `readable` then `try_read` cost every
/// message that second `recv` (issue 15, item 2: fewer syscalls per message).
fn poll_read(stream: &mut TcpStream, cx: &mut Context<'_>) -> Poll<io::Result<usize>> {
    let mut buf = scratch::Scratch::take_len(&scratch::READ, READ_CHUNK);
    let mut filled = ReadBuf::new(&mut buf[..READ_CHUNK]);
    ready!(Pin::new(stream).poll_read(cx, &mut filled))?;
    Poll::Ready(Ok(filled.filled().len()))
}

/// Hands the `n` bytes [`poll_read`] just left in this thread's read buffer to the core.
/// `None`: the peer closed.
fn receive(shared: &Shared, core: &mut Connection, n: usize) -> Option<Output> {
    // A key exchange in progress means the next frame may be an RSA/DH step.
    let heavy = core.handshakes_in_progress() > 0;
    let buf = scratch::Scratch::take_len(&scratch::READ, READ_CHUNK);
    (n > 0).then(|| {
        off_worker_if(heavy, || {
            core.receive(&shared.state, &buf[..n], now(), &mut PooledOsRng)
        })
    })
}

/// Runs `f`, first handing this worker's other tasks to another thread when `heavy`: a key
/// exchange step is milliseconds of RSA and 2048-bit DH work, which would otherwise hold up
/// every connection queued on this worker (`bench rpc` latency while keys are being made).
/// Only a multi-threaded runtime can do that.
fn off_worker_if<R>(heavy: bool, f: impl FnOnce() -> R) -> R {
    use tokio::runtime::{Handle, RuntimeFlavor};
    let multi_thread =
        || Handle::try_current().is_ok_and(|h| h.runtime_flavor() == RuntimeFlavor::MultiThread);
    if heavy && multi_thread() {
        tokio::task::block_in_place(f)
    } else {
        f()
    }
}

/// Writes `bytes` once nothing holds them back: an injected fault's delay, then the store sync
/// they rest on (DB-1, commit `durable_through`; 0: none). Usually nothing does and the socket
/// takes them at once; only otherwise is there a future to wait in, boxed, so that a
/// connection's task keeps no room for these waits while it is idle.
async fn send(
    stream: &mut TcpStream,
    durability: &Durability,
    bytes: &[u8],
    durable_through: u64,
    delay_ms: u64,
) -> Result<(), String> {
    let at_once = delay_ms == 0 && (durable_through == 0 || durability.covers(durable_through));
    let written = if at_once {
        write_now(stream, bytes).map_err(|e| format!("write: {e}"))?
    } else {
        0
    };
    if written == bytes.len() && delay_ms == 0 {
        return Ok(());
    }
    Box::pin(async move {
        if delay_ms > 0 {
            tokio::time::sleep(Duration::from_millis(delay_ms)).await;
        }
        if bytes.is_empty() {
            return Ok(());
        }
        if durable_through > 0 && durability.wait_for(durable_through).await.is_err() {
            return Err("store sync failed; answer not sent".to_string());
        }
        stream
            .write_all(&bytes[written..])
            .await
            .map_err(|e| format!("write: {e}"))
    })
    .await
}

/// Writes as much of `bytes` as the socket takes without waiting; how much went.
fn write_now(stream: &TcpStream, bytes: &[u8]) -> io::Result<usize> {
    let mut written = 0;
    while written < bytes.len() {
        match stream.try_write(&bytes[written..]) {
            Ok(0) => return Err(io::ErrorKind::WriteZero.into()),
            Ok(n) => written += n,
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => break,
            Err(e) => return Err(e),
        }
    }
    Ok(written)
}
