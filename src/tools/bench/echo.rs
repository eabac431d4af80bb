//! The rpc benchmark's baseline: a framed echo server with the same shape as the real one (a
//! tokio task per connection, the same per-thread read buffer, transport detection and framing through
//! the same codec) minus everything MTProto does with a frame.

use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::task::{ready, Poll};

use tokio::io::{AsyncRead, AsyncReadExt, AsyncWriteExt, ReadBuf};
use tokio::net::{TcpListener, TcpStream};

use crate::transport::{Codec, Framing, Incoming};
use crate::Side;

/// Bytes read at a time, as the server's `conn_task::READ_CHUNK`.
const READ_CHUNK: usize = 16 * 1024;

thread_local! {
    static READ_BUF: std::cell::RefCell<Vec<u8>> = const { std::cell::RefCell::new(Vec::new()) };
}

/// Serves until the process is killed. Logs "echo server listening on ADDR" to stderr.
pub async fn serve(listen: SocketAddr) -> io::Result<()> {
    let listener = TcpListener::bind(listen).await?;
    eprintln!("echo server listening on {}", listener.local_addr()?);
    loop {
        let (stream, _) = listener.accept().await?;
        tokio::spawn(async move {
            let _ = echo(stream).await;
        });
    }
}

/// Intermediate framing only (the benchmark's clients use it): a 4-byte tag, then frames
/// echoed back as they came.
async fn echo(mut stream: TcpStream) -> io::Result<()> {
    stream.set_nodelay(true)?;
    let mut tag = [0u8; 4];
    stream.read_exact(&mut tag).await?;
    if tag != Framing::Intermediate.tag() {
        return Err(io::Error::other("not the intermediate framing"));
    }
    let mut codec = Codec::new(Framing::Intermediate, Side::Server);
    let mut reply = Codec::new(Framing::Intermediate, Side::Server);
    let mut inbuf = Vec::new();
    loop {
        // Read as the server reads (`conn_task::poll_read`): tokio's `poll_read` into the
        // thread's buffer, which takes a short read as having drained the socket.
        let read = std::future::poll_fn(|cx| {
            READ_BUF.with_borrow_mut(|buf| {
                buf.resize(READ_CHUNK, 0);
                let mut filled = ReadBuf::new(&mut buf[..]);
                ready!(Pin::new(&mut stream).poll_read(cx, &mut filled))?;
                inbuf.extend_from_slice(filled.filled());
                Poll::Ready(Ok::<_, io::Error>(filled.filled().len()))
            })
        });
        if read.await? == 0 {
            return Ok(());
        }
        let mut out = Vec::new();
        let mut used = 0;
        while let Some((incoming, len)) = codec.decode(&inbuf[used..]).map_err(io::Error::other)? {
            used += len;
            if let Incoming::Frame { payload, .. } = incoming {
                reply
                    .encode(payload, &[], false, &mut out)
                    .map_err(io::Error::other)?;
            }
        }
        inbuf.drain(..used);
        stream.write_all(&out).await?;
    }
}
