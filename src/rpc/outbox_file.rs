//! A development outbox file (`outbox.txt`, `emails.txt`): lines appended under a lock, the
//! file created 0600 (live codes: the server's user only) and rotated past a size bound (the
//! full one becomes `NAME.1`, the previous `.1` goes), so a flood of codes cannot fill the disk
//! (issue 14, item 5).
//!
//! The file stays open between lines (issue 15: opening and closing it for every code was ~3 %
//! of the server's CPU under `bench login`); each line still looks the path up once, so a file
//! a developer deleted, truncated or moved away is seen: another file at the path is opened
//! again, an absent one created.

use std::fs::File;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

pub struct OutboxFile {
    path: PathBuf,
    /// Rotate once the file is this big.
    max: u64,
    held: Mutex<Option<Held>>,
}

/// The open file and its identity (device, inode; none where it cannot be told).
type Held = (File, Option<(u64, u64)>);

/// A file's device and inode.
#[cfg(unix)]
fn identity(m: &std::fs::Metadata) -> Option<(u64, u64)> {
    use std::os::unix::fs::MetadataExt;
    Some((m.dev(), m.ino()))
}

/// No identity to compare: the file is opened again for every line.
#[cfg(not(unix))]
fn identity(_: &std::fs::Metadata) -> Option<(u64, u64)> {
    None
}

impl OutboxFile {
    pub fn new(path: PathBuf, max: u64) -> Self {
        OutboxFile {
            path,
            max,
            held: Mutex::new(None),
        }
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Appends `line` and a newline in one write.
    pub fn append(&self, line: &str) -> Result<(), String> {
        let mut held = self.held.lock().unwrap_or_else(|p| p.into_inner());
        self.append_held(&mut held, line)
            .map_err(|e| format!("{}: {e}", self.path.display()))
    }

    fn append_held(&self, held: &mut Option<Held>, line: &str) -> std::io::Result<()> {
        let mut at_path = std::fs::metadata(&self.path).ok();
        if at_path.as_ref().is_some_and(|m| m.len() >= self.max) {
            let mut rotated = self.path.as_os_str().to_owned();
            rotated.push(".1");
            std::fs::rename(&self.path, &rotated)?;
            at_path = None;
        }
        let still = match (&*held, &at_path) {
            (Some((_, id)), Some(m)) => id.is_some() && *id == identity(m),
            _ => false,
        };
        if !still {
            *held = None;
            let mut options = std::fs::OpenOptions::new();
            options.create(true).append(true);
            #[cfg(unix)]
            std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
            let file = options.open(&self.path)?;
            let id = identity(&file.metadata()?);
            *held = Some((file, id));
        }
        let (file, _) = held.as_mut().expect("opened above");
        let mut bytes = Vec::with_capacity(line.len() + 1);
        bytes.extend_from_slice(line.as_bytes());
        bytes.push(b'\n');
        file.write_all(&bytes)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dir(name: &str) -> PathBuf {
        let dir =
            std::env::temp_dir().join(format!("mtproto-outbox-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        dir
    }

    #[test]
    fn the_outbox_rotates_at_its_size_bound() {
        let dir = dir("rotate");
        let path = dir.join("outbox.txt");
        let file = OutboxFile::new(path.clone(), 20);
        for n in 0..10 {
            file.append(&format!("line {n}")).unwrap();
        }
        let now = std::fs::read_to_string(&path).unwrap();
        let old = std::fs::read_to_string(dir.join("outbox.txt.1")).unwrap();
        assert!(now.len() < 40 && old.len() < 40, "{now:?} {old:?}");
        assert!(now.ends_with("line 9\n"));
        assert_eq!(old, "line 6\nline 7\nline 8\n");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&path).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        std::fs::remove_dir_all(&dir).unwrap();
    }

    /// A developer empties or deletes the outbox while the server runs: the next lines land in
    /// the file at the path, not in one nobody can read.
    #[test]
    fn lines_follow_the_file_at_the_path() {
        let dir = dir("follow");
        let path = dir.join("outbox.txt");
        let file = OutboxFile::new(path.clone(), 1 << 20);
        file.append("one").unwrap();
        std::fs::write(&path, "").unwrap();
        file.append("two").unwrap();
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "two\n");
        std::fs::remove_file(&path).unwrap();
        file.append("three").unwrap();
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "three\n");
        std::fs::rename(&path, dir.join("moved")).unwrap();
        std::fs::write(&path, "other\n").unwrap();
        file.append("four").unwrap();
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "other\nfour\n");
        assert_eq!(
            std::fs::read_to_string(dir.join("moved")).unwrap(),
            "three\n"
        );
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
