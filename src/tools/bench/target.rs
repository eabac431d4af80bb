//! The process under measurement: a server (or echo server) this command starts as a child on a
//! temporary data dir, or one already running that the user names by address and pid.

use std::io::{self, BufRead, BufReader};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use super::procfs::{self, ProcSample};

/// A running process to load and measure. A child is killed, and its data dir removed, on drop.
pub struct Target {
    pub addr: SocketAddr,
    pub pid: u32,
    child: Option<Child>,
    data_dir: Option<PathBuf>,
}

/// The line both `serve` and `bench echo-server` log once listening: "... listening on ADDR".
const LISTENING: &str = "listening on ";

impl Target {
    /// A running process the user started.
    pub fn attach(addr: SocketAddr, pid: u32) -> io::Result<Target> {
        procfs::sample(pid)
            .map_err(|e| io::Error::new(e.kind(), format!("server pid {pid}: {e}")))?;
        Ok(Target {
            addr,
            pid,
            child: None,
            data_dir: None,
        })
    }

    /// `mtproto-auth serve` with one DC on a free loopback port and a fresh data dir.
    pub fn spawn_server() -> io::Result<Target> {
        Self::spawn_server_with(&[])
    }

    /// `serve` on a fresh data dir with `extra` flags.
    pub fn spawn_server_with(extra: &[&str]) -> io::Result<Target> {
        let dir = fresh_dir()?;
        let mut cmd = Command::new(std::env::current_exe()?);
        cmd.arg("serve")
            .arg("--data-dir")
            .arg(&dir)
            .args(["--listen", "127.0.0.1:0", "--dcs", "1"])
            .args(extra)
            .env("RUST_LOG", "warn,mtproto_auth=info");
        Target::spawn(cmd, Some(dir))
    }

    /// `mtproto-auth bench echo-server` on a free loopback port.
    pub fn spawn_echo() -> io::Result<Target> {
        let mut cmd = Command::new(std::env::current_exe()?);
        cmd.args(["bench", "echo-server", "--listen", "127.0.0.1:0"]);
        Target::spawn(cmd, None)
    }

    fn spawn(mut cmd: Command, data_dir: Option<PathBuf>) -> io::Result<Target> {
        cmd.env("NO_COLOR", "1")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped());
        let mut child = cmd.spawn()?;
        let stderr = child.stderr.take().expect("piped");
        let (tx, rx) = mpsc::channel();
        // Reads the child's log to find its address, then keeps draining it so the child never
        // blocks on a full pipe; warnings and errors are passed on for the operator.
        std::thread::spawn(move || {
            let mut tx = Some(tx);
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                if let Some(addr) = tx.as_ref().and_then(|_| listening_addr(&line)) {
                    let _ = tx.take().expect("checked").send(addr);
                } else if line.contains("WARN") || line.contains("ERROR") {
                    eprintln!("server: {line}");
                }
            }
        });
        let mut target = Target {
            addr: SocketAddr::from(([127, 0, 0, 1], 0)),
            pid: child.id(),
            child: Some(child),
            data_dir,
        };
        target.addr = rx
            .recv_timeout(Duration::from_secs(60))
            .map_err(|_| io::Error::other("the server did not report its address within 60 s"))?;
        Ok(target)
    }

    pub fn sample(&self) -> io::Result<ProcSample> {
        procfs::sample(self.pid)
    }

    /// The spawned server's data dir (its public key is there).
    pub fn data_dir(&self) -> Option<&Path> {
        self.data_dir.as_deref()
    }
}

impl Drop for Target {
    fn drop(&mut self) {
        if let Some(child) = &mut self.child {
            let _ = child.kill();
            let _ = child.wait();
        }
        if let Some(dir) = &self.data_dir {
            let _ = std::fs::remove_dir_all(dir);
        }
    }
}

fn listening_addr(line: &str) -> Option<SocketAddr> {
    let rest = &line[line.find(LISTENING)? + LISTENING.len()..];
    rest.split_whitespace().next()?.parse().ok()
}

fn fresh_dir() -> io::Result<PathBuf> {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default()
        .as_nanos();
    let dir =
        std::env::temp_dir().join(format!("mtproto-auth-bench-{}-{nanos}", std::process::id()));
    crate::server::datadir::prepare(&dir)?;
    Ok(dir)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_the_address_in_a_log_line() {
        let line = "2026-11-22T10:00:00Z  INFO mtproto_auth: DC 1 listening on 127.0.0.1:40123";
        assert_eq!(
            listening_addr(line),
            Some("127.0.0.1:40123".parse().unwrap())
        );
        assert_eq!(
            listening_addr("echo server listening on [::1]:9 (framed)"),
            Some("[::1]:9".parse().unwrap())
        );
        assert_eq!(listening_addr("DC 1 listening soon"), None);
    }
}
