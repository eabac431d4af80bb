//! The operators' socket (`admin.sock` in the data dir, mode 0600): `mtproto-auth users list`
//! and `sessions list|revoke` reach a running server here, since the server holds the store's
//! lock. One request line per connection, answered by `tools::admin` off the async workers.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use tokio::net::UnixListener;
use tokio::sync::watch;

use super::ServerState;
use crate::tools::admin::{serve_one, unix_now, ADMIN_SOCKET};

/// A client that sends nothing for this long is dropped.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(5);

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
                    // A revoked session's temporary key dies with it (PF-6).
                    if serve_one(&*state.store, &stream, unix_now())? {
                        state.kill_temps_of_revoked();
                    }
                    Ok::<(), std::io::Error>(())
                });
            }
        }
    }
    let _ = std::fs::remove_file(path);
}
