//! The data dir is private (security review, item 4): it holds the sled store, in which every
//! permanent auth key is kept in the clear, live login codes' outbox and the RSA private key.
//! A new one is created 0700; an existing one that its group or others may enter or read is
//! refused, with how to fix it; what the server writes inside is 0600 (0700 for directories).

use std::io;
use std::path::Path;

/// The data dir's permission bits that let other users in.
#[cfg(unix)]
const OTHERS: u32 = 0o077;

/// Creates `dir` 0700 if it is missing; refuses it if it exists and is group- or
/// world-accessible.
pub fn prepare(dir: &Path) -> io::Result<()> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::{DirBuilderExt, PermissionsExt};
        match std::fs::metadata(dir) {
            Err(e) if e.kind() == io::ErrorKind::NotFound => {
                std::fs::DirBuilder::new()
                    .recursive(true)
                    .mode(0o700)
                    .create(dir)?;
                // `mode` is filtered by the umask; say it exactly.
                std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700))
            }
            Err(e) => Err(e),
            Ok(m) if !m.is_dir() => Err(io::Error::other(format!(
                "data dir {} is not a directory",
                dir.display()
            ))),
            Ok(m) if m.permissions().mode() & OTHERS != 0 => Err(io::Error::new(
                io::ErrorKind::PermissionDenied,
                format!(
                    "data dir {} has mode {:04o}: other users could read every auth key and \
                     login code in it; make it private with `chmod 700 {}` (and check who \
                     copied it meanwhile)",
                    dir.display(),
                    m.permissions().mode() & 0o7777,
                    dir.display()
                ),
            )),
            Ok(_) => Ok(()),
        }
    }
    #[cfg(not(unix))]
    std::fs::create_dir_all(dir)
}

/// Makes every file under `dir` 0600 and every directory 0700, except the public key, which
/// clients are given (0644). Run after the store is open: sled creates its files with the
/// process umask.
pub fn restrict(dir: &Path) -> io::Result<()> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        for entry in std::fs::read_dir(dir)? {
            let entry = entry?;
            let path = entry.path();
            let kind = entry.file_type()?;
            let mode = if kind.is_dir() {
                restrict(&path)?;
                0o700
            } else if kind.is_file() && entry.file_name() == "rsa_public.pem" {
                0o644
            } else if kind.is_file() {
                0o600
            } else {
                // The admin socket sets its own mode; links are left alone.
                continue;
            };
            std::fs::set_permissions(&path, std::fs::Permissions::from_mode(mode))?;
        }
    }
    #[cfg(not(unix))]
    let _ = dir;
    Ok(())
}

#[cfg(all(test, unix))]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    fn mode(p: &Path) -> u32 {
        std::fs::metadata(p).unwrap().permissions().mode() & 0o7777
    }

    fn scratch(name: &str) -> std::path::PathBuf {
        let dir =
            std::env::temp_dir().join(format!("mtproto-datadir-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        dir
    }

    #[test]
    fn a_new_data_dir_is_0700_and_a_shared_one_is_refused() {
        let dir = scratch("new").join("nested");
        prepare(&dir).unwrap();
        assert_eq!(mode(&dir), 0o700);
        prepare(&dir).unwrap();
        std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o750)).unwrap();
        let e = prepare(&dir).unwrap_err();
        assert_eq!(e.kind(), io::ErrorKind::PermissionDenied);
        let text = e.to_string();
        assert!(text.contains("mode 0750"), "{text}");
        assert!(
            text.contains(&format!("chmod 700 {}", dir.display())),
            "{text}"
        );
        std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o701)).unwrap();
        assert!(prepare(&dir).is_err(), "others may traverse it");
        std::fs::remove_dir_all(dir.parent().unwrap()).unwrap();
    }

    #[test]
    fn files_inside_are_made_private_but_the_public_key() {
        let dir = scratch("files");
        prepare(&dir).unwrap();
        std::fs::create_dir_all(dir.join("store/blobs")).unwrap();
        for f in ["store/db", "store/blobs/1", "outbox.txt", "rsa_public.pem"] {
            std::fs::write(dir.join(f), b"x").unwrap();
            std::fs::set_permissions(dir.join(f), std::fs::Permissions::from_mode(0o644)).unwrap();
        }
        restrict(&dir).unwrap();
        assert_eq!(mode(&dir.join("store")), 0o700);
        assert_eq!(mode(&dir.join("store/blobs")), 0o700);
        assert_eq!(mode(&dir.join("store/db")), 0o600);
        assert_eq!(mode(&dir.join("store/blobs/1")), 0o600);
        assert_eq!(mode(&dir.join("outbox.txt")), 0o600);
        assert_eq!(mode(&dir.join("rsa_public.pem")), 0o644);
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
