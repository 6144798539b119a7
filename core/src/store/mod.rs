//! The node's database seam: typed trees over a key-value backend.
//!
//! PLACEHOLDER API SURFACE — the real implementation (sled + redb backends,
//! durable commits, versioned values, migrations) replaces this file.

use std::marker::PhantomData;
use std::path::Path;

/// Which backend holds the data.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Deserialize, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum BackendKind {
    /// sled 0.34, with our own fsyncs after each commit.
    Sled,
    /// redb 2.x with immediate durability.
    Redb,
}

/// Errors from the store.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The backend failed.
    #[error("store backend: {0}")]
    Backend(String),
    /// A stored value could not be decoded.
    #[error("corrupt record in tree {tree}: {reason}")]
    Corrupt {
        /// Tree name.
        tree: &'static str,
        /// Why.
        reason: String,
    },
}

/// Encodes a key to bytes whose order is the order of the keys.
pub trait KeyCodec: Sized {
    /// Encode.
    fn encode_key(&self) -> Vec<u8>;
    /// Decode.
    fn decode_key(bytes: &[u8]) -> Result<Self, String>;
}

/// A stored value with a versioned encoding.
pub trait Record: Sized {
    /// Current encoding version written by this build.
    const VERSION: u8;
    /// Encode the body (without the version byte).
    fn encode_body(&self, out: &mut Vec<u8>);
    /// Decode a body written with `version`.
    fn decode_body(version: u8, body: &[u8]) -> Result<Self, String>;
}

/// A named tree holding `K -> V`.
pub struct Tree<K, V> {
    name: &'static str,
    _types: PhantomData<fn() -> (K, V)>,
}

impl<K, V> Tree<K, V> {
    /// Declare a tree.
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

/// An atomic set of writes over several trees.
#[derive(Default)]
pub struct Batch {
    ops: Vec<(&'static str, Vec<u8>, Option<Vec<u8>>)>,
}

impl Batch {
    /// Queue a put.
    pub fn put<K: KeyCodec, V: Record>(&mut self, tree: &Tree<K, V>, key: &K, value: &V) {
        let mut out = vec![V::VERSION];
        value.encode_body(&mut out);
        self.ops.push((tree.name, key.encode_key(), Some(out)));
    }
    /// Queue a delete.
    pub fn delete<K: KeyCodec, V: Record>(&mut self, tree: &Tree<K, V>, key: &K) {
        self.ops.push((tree.name, key.encode_key(), None));
    }
}

/// The database.
pub struct Store {
    db: sled::Db,
}

impl Store {
    /// Open or create.
    pub fn open(path: &Path, _backend: BackendKind) -> Result<Store, StoreError> {
        let db = sled::open(path).map_err(|e| StoreError::Backend(e.to_string()))?;
        Ok(Store { db })
    }
    /// Read one value.
    pub fn get<K: KeyCodec, V: Record>(
        &self,
        tree: &Tree<K, V>,
        key: &K,
    ) -> Result<Option<V>, StoreError> {
        let t = self
            .db
            .open_tree(tree.name)
            .map_err(|e| StoreError::Backend(e.to_string()))?;
        match t
            .get(key.encode_key())
            .map_err(|e| StoreError::Backend(e.to_string()))?
        {
            None => Ok(None),
            Some(v) => decode(tree.name, &v).map(Some),
        }
    }
    /// All entries whose encoded key starts with `prefix`, in key order.
    pub fn scan_prefix<K: KeyCodec, V: Record>(
        &self,
        tree: &Tree<K, V>,
        prefix: &[u8],
    ) -> Result<Vec<(K, V)>, StoreError> {
        let t = self
            .db
            .open_tree(tree.name)
            .map_err(|e| StoreError::Backend(e.to_string()))?;
        let mut out = Vec::new();
        for item in t.scan_prefix(prefix) {
            let (k, v) = item.map_err(|e| StoreError::Backend(e.to_string()))?;
            let key = K::decode_key(&k).map_err(|reason| StoreError::Corrupt {
                tree: tree.name,
                reason,
            })?;
            out.push((key, decode(tree.name, &v)?));
        }
        Ok(out)
    }
    /// Flush everything to disk.
    pub fn flush(&self) -> Result<(), StoreError> {
        self.db
            .flush()
            .map_err(|e| StoreError::Backend(e.to_string()))?;
        Ok(())
    }
    /// Apply a batch atomically and durably.
    pub fn commit(&self, batch: Batch) -> Result<(), StoreError> {
        for (tree, k, v) in batch.ops {
            let t = self
                .db
                .open_tree(tree)
                .map_err(|e| StoreError::Backend(e.to_string()))?;
            match v {
                Some(v) => t.insert(k, v),
                None => t.remove(k),
            }
            .map_err(|e| StoreError::Backend(e.to_string()))?;
        }
        self.db
            .flush()
            .map_err(|e| StoreError::Backend(e.to_string()))?;
        Ok(())
    }
}

fn decode<V: Record>(tree: &'static str, bytes: &[u8]) -> Result<V, StoreError> {
    let (version, body) = bytes.split_first().ok_or(StoreError::Corrupt {
        tree,
        reason: "empty value".into(),
    })?;
    V::decode_body(*version, body).map_err(|reason| StoreError::Corrupt { tree, reason })
}
