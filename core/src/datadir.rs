//! The data directory: creation with private permissions, the lock that keeps
//! two daemons apart, and the network marker that keeps networks apart.

use std::fs::{self, File, OpenOptions};
use std::io::{Read, Seek, SeekFrom, Write};
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};

use crate::config::Network;

/// Lock file name.
pub const LOCK_FILE: &str = "lumend.lock";
/// Network marker file name.
pub const NETWORK_FILE: &str = "network";

/// Why the data dir cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum DataDirError {
    /// Another daemon holds the lock.
    #[error(
        "data dir {dir} is in use by another lumend (pid {pid}); stop it first or use another --datadir"
    )]
    Locked {
        /// The dir.
        dir: PathBuf,
        /// Holder's pid, as it wrote it.
        pid: String,
    },
    /// The dir belongs to another network.
    #[error(
        "data dir {dir} belongs to {found}, not {wanted}; use --network {found} or another --datadir"
    )]
    WrongNetwork {
        /// The dir.
        dir: PathBuf,
        /// Recorded network.
        found: String,
        /// Requested network.
        wanted: Network,
    },
    /// Filesystem error.
    #[error("data dir {dir}: {source}")]
    Io {
        /// The dir.
        dir: PathBuf,
        /// Cause.
        source: std::io::Error,
    },
}

/// An open, locked data dir. The lock is held until this is dropped (or the
/// process dies: the OS releases it, so a crash never leaves a stale lock).
#[derive(Debug)]
pub struct DataDir {
    path: PathBuf,
    _lock: File,
}

impl DataDir {
    /// Create (mode 0700) if needed, take the lock, and check or record the
    /// network.
    pub fn open(path: &Path, network: Network) -> Result<DataDir, DataDirError> {
        let io = |source| DataDirError::Io {
            dir: path.to_path_buf(),
            source,
        };
        fs::DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(path)
            .map_err(io)?;
        let path = fs::canonicalize(path).map_err(io)?;
        let io = |source| DataDirError::Io {
            dir: path.clone(),
            source,
        };

        let mut lock = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .mode(0o600)
            .open(path.join(LOCK_FILE))
            .map_err(io)?;
        match lock.try_lock() {
            Ok(()) => {}
            Err(fs::TryLockError::WouldBlock) => {
                let mut pid = String::new();
                let _ = lock.read_to_string(&mut pid);
                let pid = pid.trim().to_string();
                return Err(DataDirError::Locked {
                    dir: path,
                    pid: if pid.is_empty() {
                        "unknown".into()
                    } else {
                        pid
                    },
                });
            }
            Err(fs::TryLockError::Error(e)) => return Err(io(e)),
        }
        lock.set_len(0).map_err(io)?;
        lock.seek(SeekFrom::Start(0)).map_err(io)?;
        writeln!(lock, "{}", std::process::id()).map_err(io)?;

        let marker = path.join(NETWORK_FILE);
        match fs::read_to_string(&marker) {
            Ok(found) => {
                let found = found.trim().to_string();
                if found != network.as_str() {
                    return Err(DataDirError::WrongNetwork {
                        dir: path,
                        found,
                        wanted: network,
                    });
                }
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                write_private(&marker, format!("{network}\n").as_bytes()).map_err(io)?;
            }
            Err(e) => return Err(io(e)),
        }
        Ok(DataDir { path, _lock: lock })
    }

    /// The directory.
    pub fn path(&self) -> &Path {
        &self.path
    }
}

/// Write a file readable only by its owner (0600), durably: write to a temp
/// file, fsync, rename into place, fsync the directory.
pub fn write_private(path: &Path, contents: &[u8]) -> std::io::Result<()> {
    let dir = path.parent().unwrap_or(Path::new("."));
    let tmp = path.with_extension("tmp");
    {
        let mut f = OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(true)
            .mode(0o600)
            .open(&tmp)?;
        // The mode only applies on creation; make sure a leftover temp file is private too.
        f.set_permissions(fs::Permissions::from_mode(0o600))?;
        f.write_all(contents)?;
        f.sync_all()?;
    }
    fs::rename(&tmp, path)?;
    File::open(dir)?.sync_all()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn second_open_is_refused_and_network_is_pinned() {
        let dir = tempfile::tempdir().expect("tempdir");
        let first = DataDir::open(dir.path(), Network::Regtest).expect("first");
        let err = DataDir::open(dir.path(), Network::Regtest).expect_err("second must fail");
        assert!(
            err.to_string().contains("in use by another lumend"),
            "{err}"
        );
        assert!(
            err.to_string().contains(&std::process::id().to_string()),
            "{err}"
        );
        drop(first);
        let again = DataDir::open(dir.path(), Network::Regtest).expect("after release");
        drop(again);
        let err = DataDir::open(dir.path(), Network::Bitcoin).expect_err("wrong network");
        assert!(err.to_string().contains("belongs to regtest"), "{err}");
    }

    #[test]
    fn private_files_are_0600() {
        let dir = tempfile::tempdir().expect("tempdir");
        let p = dir.path().join("secret");
        write_private(&p, b"x").expect("write");
        let mode = fs::metadata(&p).expect("meta").permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
    }
}
