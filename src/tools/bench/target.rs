//! The process under measurement: a server (or echo server) this command starts as a child on a
//! temporary data dir, or one already running that the user names by address and pid.

use std::io;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use super::procfs::{self, ProcSample};

/// A running process to load and measure. A child is killed, and its data dir removed, on drop.
pub struct Target {
    pub addr: SocketAddr,
    pub pid: u32,
    child: Option<Child>,
    data_dir: Option<PathBuf>,
    /// The child's log (its stderr), removed on drop.
    log: Option<PathBuf>,
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
            log: None,
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

    /// Starts `cmd` with its log going to a file, and waits for the address it logs. A file,
    /// not a pipe: a pipe read here woke this process for every line the server logged (two
    /// per login under `bench login`), CPU on the same cores that the figures would count.
    fn spawn(mut cmd: Command, data_dir: Option<PathBuf>) -> io::Result<Target> {
        let log = temp_path("log");
        let file = std::fs::File::create(&log)?;
        cmd.env("NO_COLOR", "1")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(file);
        let child = cmd.spawn();
        let mut target = Target {
            addr: SocketAddr::from(([127, 0, 0, 1], 0)),
            pid: 0,
            child: None,
            data_dir,
            log: Some(log.clone()),
        };
        let child = target.child.insert(child?);
        target.pid = child.id();
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            let logged = std::fs::read_to_string(&log).unwrap_or_default();
            if let Some(addr) = logged.lines().find_map(listening_addr) {
                target.addr = addr;
                return Ok(target);
            }
            if let Some(status) = child.try_wait()? {
                return Err(io::Error::other(format!(
                    "the server exited ({status}) before listening: {}",
                    logged.trim_end()
                )));
            }
            if Instant::now() >= deadline {
                return Err(io::Error::other(
                    "the server did not report its address within 60 s",
                ));
            }
            std::thread::sleep(Duration::from_millis(20));
        }
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
        if let Some(log) = &self.log {
            // Warnings and errors are passed on for the operator.
            for line in std::fs::read_to_string(log).unwrap_or_default().lines() {
                if line.contains("WARN") || line.contains("ERROR") {
                    eprintln!("server: {line}");
                }
            }
            let _ = std::fs::remove_file(log);
        }
    }
}

fn listening_addr(line: &str) -> Option<SocketAddr> {
    let rest = &line[line.find(LISTENING)? + LISTENING.len()..];
    rest.split_whitespace().next()?.parse().ok()
}

/// A new path in the temporary dir: `mtproto-auth-bench-PID-NANOS.ext`.
fn temp_path(ext: &str) -> PathBuf {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default()
        .as_nanos();
    let name = format!("mtproto-auth-bench-{}-{nanos}", std::process::id());
    let mut path = std::env::temp_dir().join(name);
    path.set_extension(ext);
    path
}

fn fresh_dir() -> io::Result<PathBuf> {
    let dir = temp_path("");
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
