//! The server's RSA key in the data dir (HS-2): `rsa_private.pem` (PKCS#1, mode 0600) and
//! `rsa_public.pem` (PKCS#1, `-----BEGIN RSA PUBLIC KEY-----`, what clients are given). Created
//! on first start; read on every later one.

use std::io;
use std::path::Path;

use crate::crypto::rsa::RsaPrivateKey;
use crate::rand::OsRng;

pub const PRIVATE_KEY_FILE: &str = "rsa_private.pem";
/// The key login codes are stored under (`rpc::login::CodeKey`), 32 random bytes, mode 0600.
pub const CODE_KEY_FILE: &str = "code.key";
pub const PUBLIC_KEY_FILE: &str = "rsa_public.pem";

pub fn load_or_create_rsa_key(dir: &Path) -> io::Result<RsaPrivateKey> {
    let private = dir.join(PRIVATE_KEY_FILE);
    let public = dir.join(PUBLIC_KEY_FILE);
    let invalid = |e: crate::crypto::rsa::PemError| {
        io::Error::new(
            io::ErrorKind::InvalidData,
            format!("{}: {e}", private.display()),
        )
    };
    if private.exists() {
        let key =
            RsaPrivateKey::from_pkcs1_pem(&std::fs::read_to_string(&private)?).map_err(invalid)?;
        if !public.exists() {
            std::fs::write(&public, key.public().to_pkcs1_pem())?;
        }
        return Ok(key);
    }
    tracing::info!("generating the server's RSA-2048 key");
    let key = RsaPrivateKey::generate(&mut OsRng);
    write_private(&private, key.to_pkcs1_pem().as_bytes())?;
    std::fs::write(&public, key.public().to_pkcs1_pem())?;
    Ok(key)
}

/// The codes' digest key of the data dir: read, or drawn and written (0600) on first start.
/// Outside the store on purpose: a copy of the store alone gives no way to test codes.
pub fn load_or_create_code_key(dir: &Path) -> io::Result<crate::rpc::login::CodeKey> {
    use crate::rand::Rng;
    let path = dir.join(CODE_KEY_FILE);
    match std::fs::read(&path) {
        Ok(mut bytes) => {
            let key = <[u8; 32]>::try_from(bytes.as_slice()).map_err(|_| {
                io::Error::new(
                    io::ErrorKind::InvalidData,
                    format!("{}: not 32 bytes", path.display()),
                )
            });
            zeroize::Zeroize::zeroize(&mut bytes);
            key.map(crate::rpc::login::CodeKey::new)
        }
        Err(e) if e.kind() == io::ErrorKind::NotFound => {
            let bytes: [u8; 32] = OsRng.array();
            write_private(&path, &bytes)?;
            Ok(crate::rpc::login::CodeKey::new(bytes))
        }
        Err(e) => Err(e),
    }
}

#[cfg(unix)]
pub(crate) fn write_private(path: &Path, data: &[u8]) -> io::Result<()> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)?;
    f.write_all(data)?;
    f.sync_all()
}

#[cfg(not(unix))]
pub(crate) fn write_private(path: &Path, data: &[u8]) -> io::Result<()> {
    std::fs::write(path, data)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn creates_once_with_private_mode_then_reads_back() {
        let dir = std::env::temp_dir().join(format!("mtproto-keyfile-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let a = load_or_create_rsa_key(&dir).unwrap();
        let b = load_or_create_rsa_key(&dir).unwrap();
        assert_eq!(a.fingerprint(), b.fingerprint());
        let public = std::fs::read_to_string(dir.join(PUBLIC_KEY_FILE)).unwrap();
        assert!(public.starts_with("-----BEGIN RSA PUBLIC KEY-----"));
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(dir.join(PRIVATE_KEY_FILE))
                .unwrap()
                .permissions()
                .mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
