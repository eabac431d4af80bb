//! The operators' socket (`admin.sock` in the data dir, mode 0600): `mtproto-auth users list`
//! and `sessions list|revoke` reach a running server here, since the server holds the store's
//! lock. One request line per connection, answered by `tools::admin` off the async workers.

#[cfg(unix)]
use std::path::{Path, PathBuf};
#[cfg(unix)]
use std::sync::Arc;
#[cfg(unix)]
use std::time::Duration;

#[cfg(unix)]
use tokio::net::UnixListener;
#[cfg(unix)]
use tokio::sync::watch;

use super::ServerState;
use crate::tools::admin::{faults_text, run, AdminCommand};
#[cfg(unix)]
use crate::tools::admin::{serve_one, unix_now, ADMIN_SOCKET};

/// A client that sends nothing for this long is dropped.
#[cfg(unix)]
const REQUEST_TIMEOUT: Duration = Duration::from_secs(5);

#[cfg(unix)]
/// Binds the socket; a stale one of a server that is gone is replaced (a live server holds the
/// store's lock, so this one could not have opened it).
pub fn bind(data_dir: &Path) -> std::io::Result<(UnixListener, PathBuf)> {
    use std::os::unix::fs::PermissionsExt;
    let path = data_dir.join(ADMIN_SOCKET);
    let _ = std::fs::remove_file(&path);
    let listener = UnixListener::bind(&path)?;
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600))?;
    Ok((listener, path))
}

/// Runs an admin command on the running server: what needs its memory (reset, fault rules) here,
/// the rest on its store.
pub fn run_on_server(state: &ServerState, cmd: &AdminCommand, now: i64) -> Result<String, String> {
    let e = |e: crate::store::StoreError| e.to_string();
    match cmd {
        AdminCommand::Reset(None) => {
            state.reset().map_err(e)?;
            Ok("reset: every user, key, session, code and counter is gone\n".into())
        }
        AdminCommand::Reset(Some(user)) => match state.reset_user(*user).map_err(e)? {
            true => Ok(format!("reset user {user}\n")),
            false => Err(format!("no user {user}")),
        },
        AdminCommand::FaultAdd(rule) => {
            let id = state.faults.add(rule.clone())?;
            Ok(format!("added fault rule {id}\n"))
        }
        AdminCommand::Faults => Ok(faults_text(&state.faults.list())),
        AdminCommand::Codes(to) => {
            let filter = match to {
                Some(t) if t.contains('@') => super::code_log::Filter {
                    email: Some(t.clone()),
                    ..Default::default()
                },
                Some(t) => super::code_log::Filter {
                    phone: Some(t.clone()),
                    ..Default::default()
                },
                None => Default::default(),
            };
            let kept = state.codes.list(&filter, super::code_log::MAX_DELIVERIES);
            Ok(kept.iter().map(|d| d.text() + "\n").collect())
        }
        AdminCommand::FaultClear(id) => {
            let n = state.faults.clear(*id);
            Ok(format!("cleared {n} fault rule(s)\n"))
        }
        other => {
            let out = run(&*state.store, other, now);
            // A revoked session's temporary key dies with it (PF-6).
            if matches!(
                other,
                AdminCommand::RevokeKey(_)
                    | AdminCommand::RevokeUser(_)
                    | AdminCommand::BotRevoke(_)
            ) {
                state.kill_temps_of_revoked();
            }
            out
        }
    }
}

#[cfg(unix)]
pub async fn serve(
    listener: UnixListener,
    path: PathBuf,
    state: Arc<ServerState>,
    mut stop: watch::Receiver<bool>,
) {
    loop {
        tokio::select! {
            _ = stop.changed() => break,
            accepted = listener.accept() => {
                let Ok((stream, _)) = accepted else { continue };
                let state = state.clone();
                tokio::task::spawn_blocking(move || {
                    let stream = stream.into_std()?;
                    stream.set_nonblocking(false)?;
                    stream.set_read_timeout(Some(REQUEST_TIMEOUT))?;
                    state.metrics.admin_request();
                    serve_one(&stream, |cmd| run_on_server(&state, cmd, unix_now()))
                });
            }
        }
    }
    let _ = std::fs::remove_file(path);
}
