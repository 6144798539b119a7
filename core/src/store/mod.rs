//! The node's database seam: typed trees over a key-value backend, with
//! atomic, durable commits, versioned values and schema migrations.
//!
//! # Model
//!
//! A [`Store`] holds named trees. A [`Tree<K, V>`] is a typed handle — a
//! name plus the key codec `K: KeyCodec` and value type `V: Record` — usually
//! declared once as a `const` by the subsystem that owns it:
//!
//! ```
//! use lumen_core::store::{Batch, BackendKind, Store, Tree};
//! const NOTES: Tree<u64, Vec<u8>> = Tree::new("notes");
//! # fn main() -> Result<(), lumen_core::store::StoreError> {
//! # let dir = std::env::temp_dir().join(format!("lumen-store-doc-{}", std::process::id()));
//! let store = Store::open(&dir, BackendKind::Redb)?;
//! let mut batch = Batch::default();
//! batch.put(&NOTES, &1, &b"hello".to_vec());
//! batch.delete(&NOTES, &2);
//! store.commit(batch)?; // atomic and durable when it returns
//! assert_eq!(store.get(&NOTES, &1)?, Some(b"hello".to_vec()));
//! # drop(store); let _ = std::fs::remove_dir_all(&dir);
//! # Ok(()) }
//! ```
//!
//! # Encoding
//!
//! - **Keys** are encoded by [`KeyCodec`]; entries are ordered by the encoded
//!   bytes (lexicographically). `u64` keys are 8 bytes big-endian so their
//!   order is numeric; `String` keys are their UTF-8 bytes; `Vec<u8>` and
//!   `[u8; N]` keys are stored as is.
//! - **Values** are `[version: u8][body]`: the [`Record::VERSION`] of the
//!   writing build, then [`Record::encode_body`]'s output. A reader gets the
//!   stored version and the body in [`Record::decode_body`], so a record type
//!   can keep decoding its older layouts: that is the per-record migration
//!   path. A value that is empty, has an unknown version or a body that does
//!   not decode is reported as [`StoreError::Corrupt`], never a panic.
//! - **Schema**: the reserved tree `__meta` holds the database's schema
//!   version (key `"schema_version"`, a version-1 record whose body is a `u32`
//!   big-endian). Tree names starting with `__` are reserved for the store.
//!
//! # Limits
//!
//! A key may be at most [`MAX_KEY_LEN`] bytes, a value body at most
//! [`MAX_VALUE_LEN`] bytes and a tree name at most [`MAX_TREE_NAME_LEN`]
//! bytes, on both backends (so data can move between them). A commit that
//! breaks a limit is refused whole, before anything is written
//! ([`StoreError::KeyTooLarge`], [`StoreError::ValueTooLarge`],
//! [`StoreError::InvalidTreeName`]). The limits exist for sled: see
//! [`MAX_VALUE_LEN`] for the derivation.
//!
//! # Durability and atomicity
//!
//! [`Store::commit`] applies a [`Batch`] atomically over all the trees it
//! touches (after a crash, all of it or none of it is there) and returns only
//! once the batch is durable (fsynced). With redb this is a write transaction
//! with `Durability::Immediate`. sled 0.34.7's own `flush()` does not fsync, so
//! the sled backend fsyncs sled's files and directories itself after each
//! commit; see the `sled_backend` module source for the exact sequence.
//!
//! # Schema versions and migrations
//!
//! [`Store::open`] compares the stored schema version with
//! [`SCHEMA_VERSION`]: a new database gets the current version; an older one
//! is brought up to date by running [`MIGRATIONS`] in order (each from `v` to
//! `v + 1`); a newer one is refused with [`StoreError::SchemaTooNew`], since
//! this build would misread or corrupt it. Each migration's writes commit
//! atomically together with the version bump, so a crash during a migration
//! leaves either the old version with the old data or the new version with
//! the migrated data, and a migration runs exactly once.
//!
//! # Backends and files
//!
//! `path` is a directory, created if missing. sled keeps its files (`db`,
//! `conf`, `snap.*`, `blobs/`) in it; redb keeps `data.redb`. Opening a
//! directory that holds the other backend's files is refused with
//! [`StoreError::WrongBackend`] rather than silently starting an empty
//! database next to the real one.

mod backend;
pub mod bench;
mod codec;
mod redb_backend;
mod sled_backend;

use std::marker::PhantomData;
use std::path::{Path, PathBuf};

pub use codec::{KeyCodec, Record};

use backend::{Backend, Op};

/// Largest encoded key, in bytes.
///
/// Bounds sled's index nodes; see [`MAX_VALUE_LEN`].
pub const MAX_KEY_LEN: usize = 256;

/// Largest tree name, in bytes.
pub const MAX_TREE_NAME_LEN: usize = 64;

/// Largest value body (the encoded record without its version byte), in
/// bytes: 4 KiB.
///
/// # Why 4 KiB
///
/// sled 0.34.7 writes any log item larger than
/// `segment_size / MINIMUM_ITEMS_PER_SEGMENT - SEG_HEADER_LEN`
/// = 512 KiB / 4 − 20 = 131 052 bytes (item plus a 32-byte message header) to a
/// separate blob file (`pagecache/logger.rs`, `reserve_inner`). Blob files are
/// never fsynced by sled and made databases unreadable after power loss in
/// our tests, so the store must never cause one.
///
/// The item is not a single value but a whole B-tree node when sled
/// consolidates, splits or merges a page. sled splits a leaf once it holds
/// more than 16 entries (`Node::should_split`), so a leaf reaches 17 entries;
/// a merge then adds a child of fewer than 4 entries before the next split
/// check, so a leaf written to the log holds at most about 20 entries.
/// With the stored key at most 1 + [`MAX_TREE_NAME_LEN`] + [`MAX_KEY_LEN`] =
/// 321 bytes and the stored value at most 4 097 bytes, a leaf entry is at most
/// ~4 424 bytes with length prefixes, so 29 such entries (about 1.5× the
/// worst case) still fit under the threshold. Index nodes split above 256
/// children and merge below 64, so at most ~320 separators of ≤ 321 bytes
/// plus an 8-byte page id: ~107 KB, also below it. A unit test fills sled
/// with maximum-size entries in split- and merge-heavy patterns and checks
/// that no blob file appears. 16 KiB values would not be safe: 17 of them
/// already exceed the threshold. Measured on sled 0.34.7 with 321-byte keys
/// and 600 sequential inserts: 7 500-byte values wrote no blob file, 8 192-byte
/// values did (each value alone being 16× below the threshold).
///
/// Records larger than this must be split by their owner (for example a
/// channel's HTLC set stored one HTLC per key).
pub const MAX_VALUE_LEN: usize = 4096;

/// The schema version this build reads and writes.
pub const SCHEMA_VERSION: u32 = 1;

/// The migrations this build knows, each from `from` to `from + 1`, used by
/// [`Store::open`]. Empty: version 1 is the first schema.
pub static MIGRATIONS: &[Migration] = &[];

/// The store's reserved metadata tree.
const META_TREE: &str = "__meta";
/// Key of the schema version in [`META_TREE`].
const SCHEMA_KEY: &[u8] = b"schema_version";

/// Which backend holds the data.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Deserialize, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum BackendKind {
    /// sled 0.34, with our own fsyncs after each commit.
    Sled,
    /// redb 2.x with immediate durability.
    Redb,
}

impl BackendKind {
    /// The config spelling: `"sled"` or `"redb"`.
    pub fn as_str(self) -> &'static str {
        match self {
            BackendKind::Sled => "sled",
            BackendKind::Redb => "redb",
        }
    }
}

impl std::fmt::Display for BackendKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl std::str::FromStr for BackendKind {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "sled" => Ok(BackendKind::Sled),
            "redb" => Ok(BackendKind::Redb),
            other => Err(format!(
                "unknown store backend {other:?} (expected \"sled\" or \"redb\")"
            )),
        }
    }
}

/// Errors from the store.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The backend (or the file system under it) failed.
    #[error("store backend: {0}")]
    Backend(String),
    /// A stored key or value could not be decoded.
    #[error("corrupt record in tree {tree}: {reason}")]
    Corrupt {
        /// Tree name.
        tree: &'static str,
        /// Why.
        reason: String,
    },
    /// A value body is larger than [`MAX_VALUE_LEN`]; the commit was refused.
    #[error("value of {len} bytes in tree {tree} exceeds the store's limit of {max} bytes")]
    ValueTooLarge {
        /// Tree name.
        tree: &'static str,
        /// Body length.
        len: usize,
        /// [`MAX_VALUE_LEN`].
        max: usize,
    },
    /// An encoded key is larger than [`MAX_KEY_LEN`]; the commit was refused.
    #[error("key of {len} bytes in tree {tree} exceeds the store's limit of {max} bytes")]
    KeyTooLarge {
        /// Tree name.
        tree: &'static str,
        /// Encoded key length.
        len: usize,
        /// [`MAX_KEY_LEN`].
        max: usize,
    },
    /// A tree name is empty, too long, or reserved.
    #[error("invalid tree name {name:?}: {reason}")]
    InvalidTreeName {
        /// The name.
        name: &'static str,
        /// Why.
        reason: &'static str,
    },
    /// The database was written by a newer build; opening it could corrupt it.
    #[error(
        "database schema version {found} is newer than this build supports ({supported}); \
         refusing to open it (a downgrade could corrupt it)"
    )]
    SchemaTooNew {
        /// Version stored in the database.
        found: u32,
        /// Newest version this build knows.
        supported: u32,
    },
    /// No migration is registered from an old stored version.
    #[error("no migration registered from schema version {from} (target {target})")]
    MissingMigration {
        /// Version stored in the database.
        from: u32,
        /// Version this build needs.
        target: u32,
    },
    /// A migration failed; the database is unchanged at version `from`.
    #[error("migration from schema version {from} failed: {source}")]
    MigrationFailed {
        /// Version the migration starts from.
        from: u32,
        /// What went wrong.
        source: Box<StoreError>,
    },
    /// The directory holds another backend's database.
    #[error("{path} holds a {found} database, but the store was opened with backend {expected}")]
    WrongBackend {
        /// The store directory.
        path: PathBuf,
        /// Backend asked for.
        expected: BackendKind,
        /// Backend whose files were found.
        found: BackendKind,
    },
}

/// A named tree holding `K -> V`.
pub struct Tree<K, V> {
    name: &'static str,
    _types: PhantomData<fn() -> (K, V)>,
}

impl<K, V> Tree<K, V> {
    /// Declare a tree. The name must be 1 to [`MAX_TREE_NAME_LEN`] bytes and
    /// must not start with `__` (reserved for the store); a bad name is
    /// reported by the first operation that uses the tree.
    pub const fn new(name: &'static str) -> Self {
        Tree {
            name,
            _types: PhantomData,
        }
    }
    /// Its name.
    pub fn name(&self) -> &'static str {
        self.name
    }
}

impl<K, V> Clone for Tree<K, V> {
    fn clone(&self) -> Self {
        *self
    }
}

impl<K, V> Copy for Tree<K, V> {}

impl<K, V> std::fmt::Debug for Tree<K, V> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_tuple("Tree").field(&self.name).finish()
    }
}

/// An atomic set of writes over several trees. Later writes to the same key
/// win. Limits are checked by [`Store::commit`].
#[derive(Debug, Default)]
pub struct Batch {
    ops: Vec<Op>,
}

impl Batch {
    /// Queue a put.
    pub fn put<K: KeyCodec, V: Record>(&mut self, tree: &Tree<K, V>, key: &K, value: &V) {
        let mut out = vec![V::VERSION];
        value.encode_body(&mut out);
        self.ops.push(Op {
            tree: tree.name,
            key: key.encode_key(),
            value: Some(out),
        });
    }
    /// Queue a delete.
    pub fn delete<K: KeyCodec, V: Record>(&mut self, tree: &Tree<K, V>, key: &K) {
        self.ops.push(Op {
            tree: tree.name,
            key: key.encode_key(),
            value: None,
        });
    }
    /// Number of queued writes.
    pub fn len(&self) -> usize {
        self.ops.len()
    }
    /// Whether nothing is queued.
    pub fn is_empty(&self) -> bool {
        self.ops.is_empty()
    }
}

/// A schema migration from version `from` to `from + 1`.
///
/// `run` reads the store as it is (at version `from`) and queues its writes in
/// the batch it is given; the store commits that batch together with the
/// version bump, atomically. `run` must not commit by itself.
#[derive(Debug, Clone, Copy)]
pub struct Migration {
    /// The version this migration upgrades from.
    pub from: u32,
    /// What it does, for logs.
    pub description: &'static str,
    /// The migration.
    pub run: fn(&Store, &mut Batch) -> Result<(), StoreError>,
}

/// The database. `Send + Sync`: share it behind an `Arc`. Reads run
/// concurrently; commits are serialized by the backend.
pub struct Store {
    backend: Box<dyn Backend>,
    kind: BackendKind,
    path: PathBuf,
    schema_version: u32,
}

impl std::fmt::Debug for Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Store")
            .field("kind", &self.kind)
            .field("path", &self.path)
            .field("schema_version", &self.schema_version)
            .finish()
    }
}

impl Store {
    /// Open or create the store in directory `path`, bringing its schema to
    /// [`SCHEMA_VERSION`] with [`MIGRATIONS`].
    pub fn open(path: &Path, backend: BackendKind) -> Result<Store, StoreError> {
        Store::open_with_schema(path, backend, SCHEMA_VERSION, MIGRATIONS)
    }

    /// Open or create the store with an explicit target schema version and
    /// migration list (for tests and tools; the node uses [`Store::open`]).
    pub fn open_with_schema(
        path: &Path,
        backend: BackendKind,
        target: u32,
        migrations: &[Migration],
    ) -> Result<Store, StoreError> {
        check_backend_files(path, backend)?;
        let engine: Box<dyn Backend> = match backend {
            BackendKind::Sled => Box::new(sled_backend::SledBackend::open(path)?),
            BackendKind::Redb => Box::new(redb_backend::RedbBackend::open(path)?),
        };
        let mut store = Store {
            backend: engine,
            kind: backend,
            path: path.to_path_buf(),
            schema_version: target,
        };
        store.schema_version = store.upgrade_schema(target, migrations)?;
        Ok(store)
    }

    /// The backend holding the data.
    pub fn backend_kind(&self) -> BackendKind {
        self.kind
    }

    /// The store directory.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The schema version of the open database.
    pub fn schema_version(&self) -> u32 {
        self.schema_version
    }

    /// Read one value.
    pub fn get<K: KeyCodec, V: Record>(
        &self,
        tree: &Tree<K, V>,
        key: &K,
    ) -> Result<Option<V>, StoreError> {
        check_tree_name(tree.name, false)?;
        match self.backend.get(tree.name, &key.encode_key())? {
            None => Ok(None),
            Some(v) => decode(tree.name, &v).map(Some),
        }
    }

    /// All entries whose encoded key starts with `prefix`, in key order
    /// (an empty prefix gives the whole tree).
    pub fn scan_prefix<K: KeyCodec, V: Record>(
        &self,
        tree: &Tree<K, V>,
        prefix: &[u8],
    ) -> Result<Vec<(K, V)>, StoreError> {
        check_tree_name(tree.name, false)?;
        self.backend
            .scan_prefix(tree.name, prefix)?
            .into_iter()
            .map(|(k, v)| {
                let key = K::decode_key(&k).map_err(|reason| StoreError::Corrupt {
                    tree: tree.name,
                    reason: format!("bad key: {reason}"),
                })?;
                Ok((key, decode(tree.name, &v)?))
            })
            .collect()
    }

    /// Apply a batch atomically and durably: when this returns `Ok`, every
    /// write of the batch survives a crash or power loss, and after a crash
    /// either all of the batch is there or none of it. A batch that breaks a
    /// limit is refused whole. An empty batch does nothing.
    pub fn commit(&self, batch: Batch) -> Result<(), StoreError> {
        validate(&batch.ops, false)?;
        if batch.ops.is_empty() {
            return Ok(());
        }
        self.backend.commit(&batch.ops)
    }

    /// Put one value, durably (a one-write [`commit`](Store::commit)).
    pub fn put<K: KeyCodec, V: Record>(
        &self,
        tree: &Tree<K, V>,
        key: &K,
        value: &V,
    ) -> Result<(), StoreError> {
        let mut b = Batch::default();
        b.put(tree, key, value);
        self.commit(b)
    }

    /// Delete one key, durably (a one-write [`commit`](Store::commit)).
    pub fn delete<K: KeyCodec, V: Record>(
        &self,
        tree: &Tree<K, V>,
        key: &K,
    ) -> Result<(), StoreError> {
        let mut b = Batch::default();
        b.delete(tree, key);
        self.commit(b)
    }

    /// Make everything written so far durable without closing (commits
    /// already are; this is for shutdown paths that cannot take ownership).
    pub fn sync(&self) -> Result<(), StoreError> {
        self.backend.sync()
    }

    /// Flush and fsync everything, then close. Dropping the store does the
    /// same but can only log a failure.
    pub fn close(self) -> Result<(), StoreError> {
        self.backend.close()
    }

    /// Read the stored schema version, if any.
    fn stored_schema_version(&self) -> Result<Option<u32>, StoreError> {
        let Some(raw) = self.backend.get(META_TREE, SCHEMA_KEY)? else {
            return Ok(None);
        };
        let corrupt = |reason: String| StoreError::Corrupt {
            tree: META_TREE,
            reason,
        };
        let (version, body) = raw
            .split_first()
            .ok_or_else(|| corrupt("empty schema version".into()))?;
        if *version != 1 {
            return Err(corrupt(format!(
                "schema version record has version {version}"
            )));
        }
        let arr: [u8; 4] = body
            .try_into()
            .map_err(|_| corrupt(format!("schema version body is {} bytes", body.len())))?;
        Ok(Some(u32::from_be_bytes(arr)))
    }

    /// The meta write setting the schema version to `v`.
    fn schema_op(v: u32) -> Op {
        let mut value = vec![1u8];
        value.extend_from_slice(&v.to_be_bytes());
        Op {
            tree: META_TREE,
            key: SCHEMA_KEY.to_vec(),
            value: Some(value),
        }
    }

    /// Bring the database to `target`; returns the resulting version.
    fn upgrade_schema(&self, target: u32, migrations: &[Migration]) -> Result<u32, StoreError> {
        let mut version = match self.stored_schema_version()? {
            Some(v) => v,
            None => {
                if !self.backend.is_empty()? {
                    return Err(StoreError::Corrupt {
                        tree: META_TREE,
                        reason: "the database holds data but no schema version".into(),
                    });
                }
                self.backend.commit(&[Store::schema_op(target)])?;
                tracing::info!(path = %self.path.display(), backend = %self.kind, version = target, "created store");
                return Ok(target);
            }
        };
        if version > target {
            return Err(StoreError::SchemaTooNew {
                found: version,
                supported: target,
            });
        }
        while version < target {
            let m = migrations.iter().find(|m| m.from == version).ok_or(
                StoreError::MissingMigration {
                    from: version,
                    target,
                },
            )?;
            tracing::info!(
                from = version,
                to = version + 1,
                what = m.description,
                "running store migration"
            );
            let mut batch = Batch::default();
            (m.run)(self, &mut batch).map_err(|e| StoreError::MigrationFailed {
                from: version,
                source: Box::new(e),
            })?;
            validate(&batch.ops, false).map_err(|e| StoreError::MigrationFailed {
                from: version,
                source: Box::new(e),
            })?;
            let mut ops = batch.ops;
            ops.push(Store::schema_op(version + 1));
            self.backend.commit(&ops)?;
            version += 1;
        }
        Ok(version)
    }
}

/// Refuse to open a directory holding the other backend's files.
fn check_backend_files(path: &Path, backend: BackendKind) -> Result<(), StoreError> {
    let has_sled = path.join("conf").exists() || path.join("db").exists();
    let has_redb = path.join(redb_backend::REDB_FILE).exists();
    let found = match backend {
        BackendKind::Sled if has_redb => Some(BackendKind::Redb),
        BackendKind::Redb if has_sled => Some(BackendKind::Sled),
        _ => None,
    };
    match found {
        Some(found) => Err(StoreError::WrongBackend {
            path: path.to_path_buf(),
            expected: backend,
            found,
        }),
        None => Ok(()),
    }
}

fn check_tree_name(name: &'static str, allow_reserved: bool) -> Result<(), StoreError> {
    let reason = if name.is_empty() {
        "empty"
    } else if name.len() > MAX_TREE_NAME_LEN {
        "longer than MAX_TREE_NAME_LEN bytes"
    } else if !allow_reserved && name.starts_with("__") {
        "names starting with \"__\" are reserved for the store"
    } else {
        return Ok(());
    };
    Err(StoreError::InvalidTreeName { name, reason })
}

/// Check every op against the limits, before anything is written.
fn validate(ops: &[Op], allow_reserved: bool) -> Result<(), StoreError> {
    for op in ops {
        check_tree_name(op.tree, allow_reserved)?;
        if op.key.len() > MAX_KEY_LEN {
            return Err(StoreError::KeyTooLarge {
                tree: op.tree,
                len: op.key.len(),
                max: MAX_KEY_LEN,
            });
        }
        if let Some(v) = &op.value {
            // `v` is `[version][body]`.
            let body = v.len().saturating_sub(1);
            if body > MAX_VALUE_LEN {
                return Err(StoreError::ValueTooLarge {
                    tree: op.tree,
                    len: body,
                    max: MAX_VALUE_LEN,
                });
            }
        }
    }
    Ok(())
}

fn decode<V: Record>(tree: &'static str, bytes: &[u8]) -> Result<V, StoreError> {
    let (version, body) = bytes.split_first().ok_or(StoreError::Corrupt {
        tree,
        reason: "empty value".into(),
    })?;
    V::decode_body(*version, body).map_err(|reason| StoreError::Corrupt { tree, reason })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn assert_send_sync<T: Send + Sync>() {}

    #[test]
    fn store_is_send_sync() {
        assert_send_sync::<Store>();
        assert_send_sync::<Tree<u64, Vec<u8>>>();
        assert_send_sync::<Batch>();
    }

    #[test]
    fn backend_kind_serde_and_parse() {
        #[derive(serde::Deserialize)]
        struct C {
            backend: BackendKind,
        }
        let c: C = toml::from_str("backend = \"redb\"").expect("parse");
        assert_eq!(c.backend, BackendKind::Redb);
        let c: C = toml::from_str("backend = \"sled\"").expect("parse");
        assert_eq!(c.backend, BackendKind::Sled);
        assert!(toml::from_str::<C>("backend = \"Sled\"").is_err());
        assert_eq!("redb".parse::<BackendKind>(), Ok(BackendKind::Redb));
        assert!("lmdb".parse::<BackendKind>().is_err());
    }

    #[test]
    fn decode_never_panics() {
        assert!(matches!(
            decode::<Vec<u8>>("t", &[]),
            Err(StoreError::Corrupt { .. })
        ));
        assert!(matches!(
            decode::<Vec<u8>>("t", &[9, 1]),
            Err(StoreError::Corrupt { .. })
        ));
    }

    #[test]
    fn limits_are_checked() {
        let mut ok = Batch::default();
        ok.put(
            &Tree::<Vec<u8>, Vec<u8>>::new("t"),
            &vec![0; MAX_KEY_LEN],
            &vec![0; MAX_VALUE_LEN],
        );
        assert!(validate(&ok.ops, false).is_ok());

        let mut b = Batch::default();
        b.put(
            &Tree::<Vec<u8>, Vec<u8>>::new("t"),
            &vec![],
            &vec![0; MAX_VALUE_LEN + 1],
        );
        assert!(matches!(
            validate(&b.ops, false),
            Err(StoreError::ValueTooLarge { len, .. }) if len == MAX_VALUE_LEN + 1
        ));
        let mut b = Batch::default();
        b.delete(
            &Tree::<Vec<u8>, Vec<u8>>::new("t"),
            &vec![0; MAX_KEY_LEN + 1],
        );
        assert!(matches!(
            validate(&b.ops, false),
            Err(StoreError::KeyTooLarge { .. })
        ));
        for name in ["", "__meta", "__x"] {
            let mut b = Batch::default();
            b.delete(&Tree::<Vec<u8>, Vec<u8>>::new(name), &vec![]);
            assert!(matches!(
                validate(&b.ops, false),
                Err(StoreError::InvalidTreeName { .. })
            ));
        }
        const LONG: &str = "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa";
        assert_eq!(LONG.len(), MAX_TREE_NAME_LEN + 1);
        let mut b = Batch::default();
        b.delete(&Tree::<Vec<u8>, Vec<u8>>::new(LONG), &vec![]);
        assert!(matches!(
            validate(&b.ops, false),
            Err(StoreError::InvalidTreeName { .. })
        ));
    }
}
