//! The seam between [`Store`](super::Store) and a key-value engine.
//!
//! A backend sees named trees of raw byte keys and values. Everything typed
//! (codecs, versions, size limits, schema) lives above it in `Store`, so both
//! backends behave the same and one test suite covers both.

use std::fs::File;
use std::path::Path;

use super::StoreError;

/// Raw entries `(key, value)` of a scan, in key order.
pub(crate) type Entries = Vec<(Vec<u8>, Vec<u8>)>;

/// One write of a batch, already encoded and validated.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Op {
    /// Tree name.
    pub tree: &'static str,
    /// Encoded key.
    pub key: Vec<u8>,
    /// Encoded value (`[version][body]`), or `None` for a delete.
    pub value: Option<Vec<u8>>,
}

/// A key-value engine with named trees, atomic multi-tree commits and
/// durable commits.
pub(crate) trait Backend: Send + Sync {
    /// Read one value.
    fn get(&self, tree: &str, key: &[u8]) -> Result<Option<Vec<u8>>, StoreError>;

    /// All entries of `tree` whose key starts with `prefix`, in key order.
    fn scan_prefix(&self, tree: &str, prefix: &[u8]) -> Result<Entries, StoreError>;

    /// Apply `ops` in order, atomically over all trees (after a crash either
    /// all of them are visible or none), and durably: when this returns `Ok`
    /// the writes survive a power loss. A later op on the same key wins.
    fn commit(&self, ops: &[Op]) -> Result<(), StoreError>;

    /// Whether the database holds no entry at all (in any tree).
    fn is_empty(&self) -> Result<bool, StoreError>;

    /// Make everything written so far durable, keeping the database open.
    fn sync(&self) -> Result<(), StoreError>;

    /// Make everything written so far durable and close. Commits are already
    /// durable, so this is belt and braces; a backend that is dropped
    /// without `close` does the same on drop and can only log a failure.
    fn close(self: Box<Self>) -> Result<(), StoreError>;
}

/// `fsync` a file or directory through our own handle.
pub(crate) fn fsync_path(path: &Path) -> Result<(), StoreError> {
    let f = File::open(path).map_err(|e| io_err("open for fsync", path, e))?;
    f.sync_all().map_err(|e| io_err("fsync", path, e))
}

/// `fsync` the directory that holds `path` (so that `path`'s own directory
/// entry is durable), if it has one.
pub(crate) fn fsync_parent(path: &Path) -> Result<(), StoreError> {
    match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => fsync_path(p),
        // A relative path with one component: its parent is the cwd.
        _ => fsync_path(Path::new(".")),
    }
}

/// Create `dir` (and missing parents) and make the new entries durable.
pub(crate) fn create_dir_durable(dir: &Path) -> Result<(), StoreError> {
    std::fs::create_dir_all(dir).map_err(|e| io_err("create directory", dir, e))?;
    fsync_path(dir)?;
    fsync_parent(dir)
}

/// Run a backend's open, turning a panic inside the engine (which some
/// engines do on corrupt files) into [`StoreError::Corrupt`].
pub(crate) fn catch_open<T>(
    what: &'static str,
    dir: &Path,
    open: impl FnOnce() -> Result<T, StoreError>,
) -> Result<T, StoreError> {
    match std::panic::catch_unwind(std::panic::AssertUnwindSafe(open)) {
        Ok(r) => r,
        Err(panic) => {
            let msg = panic
                .downcast_ref::<&str>()
                .map(|s| s.to_string())
                .or_else(|| panic.downcast_ref::<String>().cloned())
                .unwrap_or_else(|| "unknown panic".to_string());
            Err(StoreError::Corrupt {
                tree: what,
                reason: format!("panic while opening {}: {msg}", dir.display()),
            })
        }
    }
}

/// An I/O error as a `Backend` error naming what was done to which path.
pub(crate) fn io_err(what: &str, path: &Path, e: std::io::Error) -> StoreError {
    StoreError::Backend(format!("{what} {}: {e}", path.display()))
}
