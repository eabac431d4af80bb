//! The rpc benchmark's baseline: a framed echo server with the same shape as the real one (a
//! tokio task per connection, the same per-thread read buffer, transport detection and framing through
//! the same codec) minus everything MTProto does with a frame.

use std::io;
use std::net::SocketAddr;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

use crate::transport::{Codec, Framing, Incoming};
use crate::Side;

thread_local! {
    static READ_BUF: std::cell::RefCell<Vec<u8>> =
        std::cell::RefCell::new(Vec::with_capacity(16 * 1024));
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
        stream.readable().await?;
        let read = READ_BUF.with_borrow_mut(|buf| {
            buf.clear();
            let n = stream.try_read_buf(buf)?;
            inbuf.extend_from_slice(buf);
            Ok::<_, io::Error>(n)
        });
        match read {
            Ok(0) => return Ok(()),
            Ok(_) => {}
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => continue,
            Err(e) => return Err(e),
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
