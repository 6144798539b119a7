//! The sled 0.34.7 backend, made durable with our own fsyncs.
//!
//! # Layout: one sled tree, tree-prefixed keys
//!
//! All of the store's trees live in sled's default tree; a key is stored as
//! `[name length: u8][name bytes][encoded key]`. The length prefix makes the
//! tree prefixes prefix-free (no tree's prefix is a prefix of another's), so a
//! tree is exactly a key range and a `scan_prefix` never crosses trees.
//!
//! A batch is applied with one `Tree::apply_batch`. Why not sled's
//! `Transactional` over several sled trees? In 0.34.7 both paths end in the same
//! mechanism (a log "peg" sealed after the writes, so recovery takes all of
//! them or none), but the single tree is simpler and has fewer moving parts:
//! no per-name `open_tree` (whose creation is itself a separate,
//! non-transactional write), no closure that sled may re-run on conflict, no
//! `TransactionError` plumbing, and the schema metadata is in the same tree as
//! the data it describes. The cost is the name prefix on every key, which
//! sled's per-node prefix compression mostly removes.
//!
//! # Durability
//!
//! sled's `flush()` writes its log buffers and calls `sync_file_range`, which
//! does not flush the disk cache nor the file's metadata: it is not an fsync
//! (DEPENDENCIES.md §9). So a commit is:
//!
//! 1. `apply_batch` (atomic);
//! 2. `flush()` — the log is written to `<dir>/db`;
//! 3. `fsync(<dir>/db)` through our own handle;
//! 4. if the entries of `<dir>` or `<dir>/blobs` changed since the last
//!    commit (sled renamed a new snapshot into place, removed an old one, or
//!    wrote a blob file), fsync the new snapshot / blob files and those
//!    directories. Checking costs one `getdents` per directory; the directory
//!    fsyncs happen only when something changed.
//!
//! On open we fsync `conf`, `db`, the snapshot files, `<dir>`, `<dir>/blobs`
//! and the directory holding `<dir>`. sled writes `conf` once at creation and
//! never again.
//!
//! Commits are serialized by a mutex, so at most one batch is being applied at
//! a time; that also bounds how large a sled leaf can grow (see
//! [`MAX_VALUE_LEN`](super::MAX_VALUE_LEN)).
//!
//! sled stores values too large for its log segments in separate blob files,
//! which sled never fsyncs and which made databases unreadable after power
//! loss in our tests. The store's key and value size limits keep every sled
//! page far below that threshold, so blob files are never written; step 4
//! still fsyncs any that appear, and logs a warning.

use std::collections::BTreeSet;
use std::ffi::OsString;
use std::fs::File;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use super::StoreError;
use super::backend::{
    Backend, Entries, Op, catch_open, create_dir_durable, fsync_parent, fsync_path, io_err,
};

/// sled's data file inside the directory.
const DB_FILE: &str = "db";
/// sled's configuration file inside the directory.
const CONF_FILE: &str = "conf";
/// sled's blob directory inside the directory.
const BLOB_DIR: &str = "blobs";

/// The sled backend.
pub(crate) struct SledBackend {
    db: sled::Db,
    dir: PathBuf,
    /// Held for the whole of a commit: serializes commits.
    sync: Mutex<SyncState>,
    /// `close` already did the final sync: skip it on drop.
    closed: bool,
}

/// Our own handles and what we last made durable.
struct SyncState {
    db_file: File,
    /// Entries of `<dir>` at the last directory fsync.
    dir_entries: BTreeSet<OsString>,
    /// Entries of `<dir>/blobs` at the last fsync of that directory.
    blob_entries: BTreeSet<OsString>,
}

fn backend_err(e: sled::Error) -> StoreError {
    StoreError::Backend(format!("sled: {e}"))
}

/// The stored sled key for `key` in `tree`. The tree name is at most
/// [`MAX_TREE_NAME_LEN`](super::MAX_TREE_NAME_LEN) (checked by the store), so
/// it fits the length byte.
fn prefixed(tree: &str, key: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(1 + tree.len() + key.len());
    out.push(tree.len() as u8);
    out.extend_from_slice(tree.as_bytes());
    out.extend_from_slice(key);
    out
}

fn list_dir(dir: &Path) -> Result<BTreeSet<OsString>, StoreError> {
    let mut out = BTreeSet::new();
    let rd = match std::fs::read_dir(dir) {
        Ok(rd) => rd,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(out),
        Err(e) => return Err(io_err("list", dir, e)),
    };
    for entry in rd {
        let entry = entry.map_err(|e| io_err("list", dir, e))?;
        out.insert(entry.file_name());
    }
    Ok(out)
}

/// A finished sled snapshot file (not one still being generated).
fn is_snapshot(name: &OsString) -> bool {
    let name = name.to_string_lossy();
    name.starts_with("snap.") && !name.ends_with(".generating") && !name.ends_with(".in___motion")
}

impl SledBackend {
    /// Open or create the database in directory `dir`.
    pub(crate) fn open(dir: &Path) -> Result<SledBackend, StoreError> {
        create_dir_durable(dir)?;
        let config = sled::Config::new().path(dir);
        // sled 0.34 can panic on some corrupt files instead of returning an
        // error: turn that into an error so a bad database does not take the
        // node down with an unexplained panic.
        // After a `close` in this process, sled's background threads can hold
        // the file lock for a moment longer; another process cannot hold it
        // (the data-dir lock keeps daemons apart). So retry briefly on
        // exactly that error.
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
        let db = loop {
            match catch_open("(sled database)", dir, || Ok(config.open()))? {
                Ok(db) => break db,
                // sled reports this as kind `Other` with this message.
                Err(sled::Error::Io(e))
                    if e.to_string().starts_with("could not acquire lock")
                        && std::time::Instant::now() < deadline =>
                {
                    std::thread::sleep(std::time::Duration::from_millis(10));
                }
                Err(e) => return Err(backend_err(e)),
            }
        };
        let db_path = dir.join(DB_FILE);
        let db_file = File::open(&db_path).map_err(|e| io_err("open", &db_path, e))?;
        let backend = SledBackend {
            db,
            dir: dir.to_path_buf(),
            sync: Mutex::new(SyncState {
                db_file,
                dir_entries: BTreeSet::new(),
                blob_entries: BTreeSet::new(),
            }),
            closed: false,
        };
        backend.sync_all_files()?;
        Ok(backend)
    }

    /// fsync every file and directory sled has: used on open and close.
    fn sync_all_files(&self) -> Result<(), StoreError> {
        let mut st = self.lock();
        self.db.flush().map_err(backend_err)?;
        st.db_file
            .sync_all()
            .map_err(|e| io_err("fsync", &self.dir.join(DB_FILE), e))?;
        fsync_path(&self.dir.join(CONF_FILE))?;
        let entries = list_dir(&self.dir)?;
        for name in entries.iter().filter(|n| is_snapshot(n)) {
            fsync_path(&self.dir.join(name))?;
        }
        let blob_dir = self.dir.join(BLOB_DIR);
        let blobs = list_dir(&blob_dir)?;
        if !blobs.is_empty() {
            tracing::warn!(
                dir = %blob_dir.display(),
                count = blobs.len(),
                "sled blob files present: values this large should have been refused"
            );
            for name in &blobs {
                fsync_path(&blob_dir.join(name))?;
            }
        }
        if blob_dir.exists() {
            fsync_path(&blob_dir)?;
        }
        fsync_path(&self.dir)?;
        fsync_parent(&self.dir)?;
        st.dir_entries = entries;
        st.blob_entries = blobs;
        Ok(())
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, SyncState> {
        // A panic while holding the lock leaves only file handles and name
        // sets behind, which stay valid: keep going.
        self.sync.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Step 4 of a commit: make directory changes since the last commit
    /// durable.
    fn sync_dir_changes(&self, st: &mut SyncState) -> Result<(), StoreError> {
        let entries = list_dir(&self.dir)?;
        if entries != st.dir_entries {
            for name in entries
                .difference(&st.dir_entries)
                .filter(|n| is_snapshot(n))
            {
                fsync_path(&self.dir.join(name))?;
            }
            fsync_path(&self.dir)?;
            st.dir_entries = entries;
        }
        let blob_dir = self.dir.join(BLOB_DIR);
        let blobs = list_dir(&blob_dir)?;
        if blobs != st.blob_entries {
            for name in blobs.difference(&st.blob_entries) {
                tracing::warn!(file = ?name, "sled wrote a blob file; fsyncing it");
                fsync_path(&blob_dir.join(name))?;
            }
            fsync_path(&blob_dir)?;
            st.blob_entries = blobs;
        }
        Ok(())
    }
}

impl Backend for SledBackend {
    fn get(&self, tree: &str, key: &[u8]) -> Result<Option<Vec<u8>>, StoreError> {
        Ok(self
            .db
            .get(prefixed(tree, key))
            .map_err(backend_err)?
            .map(|v| v.to_vec()))
    }

    fn scan_prefix(&self, tree: &str, prefix: &[u8]) -> Result<Entries, StoreError> {
        let full = prefixed(tree, prefix);
        let strip = 1 + tree.len();
        let mut out = Vec::new();
        for item in self.db.scan_prefix(&full) {
            let (k, v) = item.map_err(backend_err)?;
            let key = k.get(strip..).ok_or_else(|| StoreError::Corrupt {
                tree: "(sled database)",
                reason: format!(
                    "stored key shorter than its tree prefix ({} bytes)",
                    k.len()
                ),
            })?;
            out.push((key.to_vec(), v.to_vec()));
        }
        Ok(out)
    }

    fn commit(&self, ops: &[Op]) -> Result<(), StoreError> {
        let mut st = self.lock();
        let mut batch = sled::Batch::default();
        for op in ops {
            let key = prefixed(op.tree, &op.key);
            match &op.value {
                Some(v) => batch.insert(key, v.as_slice()),
                None => batch.remove(key),
            }
        }
        self.db.apply_batch(batch).map_err(backend_err)?;
        self.db.flush().map_err(backend_err)?;
        st.db_file
            .sync_all()
            .map_err(|e| io_err("fsync", &self.dir.join(DB_FILE), e))?;
        self.sync_dir_changes(&mut st)
    }

    fn is_empty(&self) -> Result<bool, StoreError> {
        Ok(self.db.first().map_err(backend_err)?.is_none())
    }

    fn sync(&self) -> Result<(), StoreError> {
        self.sync_all_files()
    }

    fn close(mut self: Box<Self>) -> Result<(), StoreError> {
        let result = self.sync_all_files();
        self.closed = true;
        result
    }
}

impl Drop for SledBackend {
    fn drop(&mut self) {
        if self.closed {
            return;
        }
        if let Err(e) = self.sync_all_files() {
            tracing::error!(error = %e, dir = %self.dir.display(), "sled: final sync failed");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::bench::bytes_for;
    use crate::store::{
        BackendKind, Batch, MAX_KEY_LEN, MAX_TREE_NAME_LEN, MAX_VALUE_LEN, Store, Tree,
    };

    /// A tree with the longest allowed name.
    const WIDE: Tree<Vec<u8>, Vec<u8>> =
        Tree::new("wwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwww");

    /// A maximum-size key for `i`: distinct from its first bytes on, so sled's
    /// prefix compression saves nothing.
    fn key(i: u64) -> Vec<u8> {
        let mut k = (i.wrapping_mul(0x9E37_79B9_7F4A_7C15))
            .to_be_bytes()
            .to_vec();
        k.extend_from_slice(&bytes_for(i, MAX_KEY_LEN - 8));
        k
    }

    fn blob_files(dir: &Path) -> usize {
        list_dir(&dir.join(BLOB_DIR)).map(|s| s.len()).unwrap_or(0)
    }

    fn commit_all(store: &Store, ops: impl IntoIterator<Item = (u64, bool)>) {
        let mut batch = Batch::default();
        for (i, put) in ops {
            if put {
                batch.put(&WIDE, &key(i), &bytes_for(i ^ 0xABCD, MAX_VALUE_LEN));
            } else {
                batch.delete(&WIDE, &key(i));
            }
            if batch.len() == 64 {
                store.commit(std::mem::take(&mut batch)).expect("commit");
            }
        }
        store.commit(batch).expect("commit");
    }

    /// Maximum-size keys and values in split- and merge-heavy patterns never
    /// make sled write a blob file.
    #[test]
    fn max_size_entries_never_make_blob_files() {
        assert_eq!(WIDE.name().len(), MAX_TREE_NAME_LEN);
        let tmp = tempfile::tempdir().expect("tempdir");
        let dir = tmp.path().join("s");
        let store = Store::open(&dir, BackendKind::Sled).expect("open");
        const N: u64 = 1200;
        // Ascending and descending fills: many leaf and index splits.
        commit_all(&store, (0..N).map(|i| (i, true)));
        assert_eq!(blob_files(&dir), 0, "after ascending fill");
        commit_all(&store, (N..2 * N).rev().map(|i| (i, true)));
        assert_eq!(blob_files(&dir), 0, "after descending fill");
        // Thin out every run of 17 keys to 3: leaves fall below sled's merge
        // threshold and get merged into their left siblings.
        let mut order: Vec<u64> = (0..2 * N).collect();
        order.sort_by_key(|i| key(*i));
        let thin: Vec<(u64, bool)> = order
            .iter()
            .enumerate()
            .filter(|(pos, _)| pos % 17 >= 3)
            .map(|(_, i)| (*i, false))
            .collect();
        commit_all(&store, thin.iter().copied());
        assert_eq!(blob_files(&dir), 0, "after thinning");
        // Refill, then delete from the right end leftwards.
        commit_all(&store, thin.iter().map(|(i, _)| (*i, true)));
        commit_all(&store, order.iter().rev().take(1500).map(|i| (*i, false)));
        assert_eq!(blob_files(&dir), 0, "after right-to-left deletes");
        store.close().expect("close");
        assert_eq!(blob_files(&dir), 0, "after close");
    }

    /// Control for the test above: values of 16 KiB (which the store refuses)
    /// written straight to sled do produce blob files, so the check can see
    /// them. Each value alone is far below sled's 131 052-byte blob threshold:
    /// the blobs are whole leaf nodes of ~16 such values.
    #[test]
    fn sixteen_kib_values_do_make_blob_files() {
        let tmp = tempfile::tempdir().expect("tempdir");
        let db = sled::Config::new().path(tmp.path()).open().expect("open");
        for i in 0..40u64 {
            db.insert(i.to_be_bytes(), bytes_for(i, 16 * 1024))
                .expect("insert");
        }
        db.flush().expect("flush");
        assert!(
            blob_files(tmp.path()) > 0,
            "expected sled to write blob files"
        );
    }

    #[test]
    fn tree_prefixes_are_prefix_free() {
        assert!(!prefixed("t", b"").starts_with(&prefixed("tt", b"")));
        assert!(!prefixed("tt", b"").starts_with(&prefixed("t", b"")));
        assert!(!prefixed("t", b"t").starts_with(&prefixed("tt", b"")));
    }
}
