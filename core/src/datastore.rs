//! The user/plugin datastore, with Core Lightning's semantics.
//!
//! Keys are paths of strings. A key holds either a value or children, never
//! both; parents exist implicitly while they have children. Every value has a
//! generation, 0 on creation and +1 on each update, for compare-and-swap.
//!
//! On disk (tree `datastore`): the key is each component with `0x00` escaped
//! as `00 ff`, followed by the terminator `00 01`. So the encoding of a path
//! is a byte prefix of the encodings of its descendants (a prefix scan lists
//! a subtree) and never of a sibling like `["ab"]` for `["a"]`, and byte order
//! is component-wise string order. The value is record version 1:
//! `generation (u64 BE) || data`.

use std::sync::Mutex;

use lumen_sdk::api::DatastoreEntry;
use lumen_sdk::error_codes as codes;

use crate::rpc::RpcError;
use crate::store::{Batch, KeyCodec, Record, Store, Tree};

/// The largest value the datastore accepts, in bytes: the store's value limit
/// (which keeps sled away from its never-fsynced blob files, see
/// [`crate::store::MAX_VALUE_LEN`]) less the 8-byte generation.
pub const MAX_VALUE_LEN: usize = crate::store::MAX_VALUE_LEN - 8;

/// The longest key path the datastore accepts, encoded (each part's bytes
/// plus a 2-byte terminator, NUL bytes counting twice).
pub const MAX_KEY_LEN: usize = crate::store::MAX_KEY_LEN;

/// A datastore key path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DatastoreKey(pub Vec<String>);

impl KeyCodec for DatastoreKey {
    fn encode_key(&self) -> Vec<u8> {
        encode_path(&self.0)
    }

    fn decode_key(bytes: &[u8]) -> Result<Self, String> {
        let mut parts = Vec::new();
        let mut cur = Vec::new();
        let mut i = 0;
        while i < bytes.len() {
            match (bytes[i], bytes.get(i + 1)) {
                (0, Some(0xff)) => {
                    cur.push(0);
                    i += 2;
                }
                (0, Some(0x01)) => {
                    parts.push(
                        String::from_utf8(std::mem::take(&mut cur))
                            .map_err(|_| "key is not UTF-8".to_string())?,
                    );
                    i += 2;
                }
                (0, _) => return Err("bad escape in datastore key".into()),
                (b, _) => {
                    cur.push(b);
                    i += 1;
                }
            }
        }
        if !cur.is_empty() {
            return Err("unterminated datastore key component".into());
        }
        Ok(DatastoreKey(parts))
    }
}

fn encode_path(parts: &[String]) -> Vec<u8> {
    let mut out = Vec::new();
    for p in parts {
        for &b in p.as_bytes() {
            if b == 0 {
                out.extend_from_slice(&[0, 0xff]);
            } else {
                out.push(b);
            }
        }
        out.extend_from_slice(&[0, 1]);
    }
    out
}

/// A stored value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DatastoreValue {
    /// Updates since creation.
    pub generation: u64,
    /// The bytes.
    pub data: Vec<u8>,
}

impl Record for DatastoreValue {
    const VERSION: u8 = 1;

    fn encode_body(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(&self.generation.to_be_bytes());
        out.extend_from_slice(&self.data);
    }

    fn decode_body(version: u8, body: &[u8]) -> Result<Self, String> {
        if version != 1 {
            return Err(format!("unknown datastore record version {version}"));
        }
        let (gen_bytes, data) = body
            .split_at_checked(8)
            .ok_or("datastore record shorter than 8 bytes")?;
        let generation = u64::from_be_bytes(gen_bytes.try_into().map_err(|_| "bad generation")?);
        Ok(DatastoreValue {
            generation,
            data: data.to_vec(),
        })
    }
}

const TREE: Tree<DatastoreKey, DatastoreValue> = Tree::new("datastore");

/// How `datastore` treats an existing value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// Fail if it exists.
    MustCreate,
    /// Fail if it does not exist.
    MustReplace,
    /// Never fail on existence.
    CreateOrReplace,
    /// Must exist; append.
    MustAppend,
    /// Append if it exists, else create.
    CreateOrAppend,
}

impl Mode {
    /// Parse Core Lightning's mode names.
    pub fn parse(s: &str) -> Option<Mode> {
        Some(match s {
            "must-create" => Mode::MustCreate,
            "must-replace" => Mode::MustReplace,
            "create-or-replace" => Mode::CreateOrReplace,
            "must-append" => Mode::MustAppend,
            "create-or-append" => Mode::CreateOrAppend,
            _ => return None,
        })
    }
    fn must_exist(self) -> bool {
        matches!(self, Mode::MustReplace | Mode::MustAppend)
    }
    fn append(self) -> bool {
        matches!(self, Mode::MustAppend | Mode::CreateOrAppend)
    }
}

/// The datastore: the only code that touches its tree. Operations are
/// serialised so a read-check-write is atomic.
pub struct Datastore {
    store: std::sync::Arc<Store>,
    lock: Mutex<()>,
}

fn entry(key: &[String], value: Option<&DatastoreValue>) -> DatastoreEntry {
    let mut e = DatastoreEntry {
        key: key.to_vec(),
        generation: None,
        hex: None,
        string: None,
    };
    if let Some(v) = value {
        e.generation = Some(v.generation);
        e.hex = Some(hex::encode(&v.data));
        if !v.data.contains(&0) {
            e.string = String::from_utf8(v.data.clone()).ok();
        }
    }
    e
}

fn internal(e: impl std::fmt::Display) -> RpcError {
    RpcError::new(codes::INTERNAL_ERROR, format!("datastore: {e}"))
}

fn fmt_key(key: &[String]) -> String {
    format!("[{}]", key.join(","))
}

impl Datastore {
    /// Wrap the store.
    pub fn new(store: std::sync::Arc<Store>) -> Datastore {
        Datastore {
            store,
            lock: Mutex::new(()),
        }
    }

    fn get(&self, key: &[String]) -> Result<Option<DatastoreValue>, RpcError> {
        self.store
            .get(&TREE, &DatastoreKey(key.to_vec()))
            .map_err(internal)
    }

    /// `datastore`: create, replace or append, durably.
    pub fn put(
        &self,
        key: &[String],
        data: Vec<u8>,
        mode: Mode,
        generation: Option<u64>,
    ) -> Result<DatastoreEntry, RpcError> {
        if key.is_empty() {
            return Err(RpcError::invalid_param(
                "key",
                "must have at least one element",
            ));
        }
        if encode_path(key).len() > MAX_KEY_LEN {
            return Err(RpcError::invalid_param(
                "key",
                format!("too long: at most {MAX_KEY_LEN} bytes in all (2 more per part)"),
            ));
        }
        if generation.is_some() && !mode.must_exist() {
            return Err(RpcError::new(
                codes::INVALID_PARAMS,
                "generation only valid with must-replace or must-append",
            ));
        }
        let _guard = self.lock.lock().map_err(|_| internal("lock poisoned"))?;
        let prev = self.get(key)?;
        if prev.is_none() {
            let prefix = encode_path(key);
            if !self
                .store
                .scan_prefix(&TREE, &prefix)
                .map_err(internal)?
                .is_empty()
            {
                return Err(RpcError::new(
                    codes::DATASTORE_UPDATE_HAS_CHILDREN,
                    format!("Key {} has children already", fmt_key(key)),
                ));
            }
            for i in 1..key.len() {
                if self.get(&key[..i])?.is_some() {
                    return Err(RpcError::new(
                        codes::DATASTORE_UPDATE_NO_CHILDREN,
                        format!("Parent key {} exists", fmt_key(&key[..i])),
                    ));
                }
            }
        }
        match (&prev, mode) {
            (Some(_), Mode::MustCreate) => {
                return Err(RpcError::new(
                    codes::DATASTORE_UPDATE_ALREADY_EXISTS,
                    format!("Key {} already exists", fmt_key(key)),
                ));
            }
            (None, m) if m.must_exist() => {
                return Err(RpcError::new(
                    codes::DATASTORE_UPDATE_DOES_NOT_EXIST,
                    format!("Key {} does not exist", fmt_key(key)),
                ));
            }
            _ => {}
        }
        if let (Some(want), Some(p)) = (generation, &prev)
            && p.generation != want
        {
            return Err(RpcError::new(
                codes::DATASTORE_UPDATE_WRONG_GENERATION,
                format!(
                    "generation is different (stored {}, given {want})",
                    p.generation
                ),
            ));
        }
        let value = match prev {
            Some(mut p) => {
                if mode.append() {
                    p.data.extend_from_slice(&data);
                } else {
                    p.data = data;
                }
                p.generation += 1;
                p
            }
            None => DatastoreValue {
                generation: 0,
                data,
            },
        };
        if value.data.len() > MAX_VALUE_LEN {
            return Err(RpcError::new(
                codes::DATASTORE_VALUE_TOO_LARGE,
                format!(
                    "value would be {} bytes; the datastore holds at most {MAX_VALUE_LEN} per key",
                    value.data.len()
                ),
            ));
        }
        let mut batch = Batch::default();
        batch.put(&TREE, &DatastoreKey(key.to_vec()), &value);
        self.store.commit(batch).map_err(internal)?;
        Ok(entry(key, Some(&value)))
    }

    /// `deldatastore`.
    pub fn delete(
        &self,
        key: &[String],
        generation: Option<u64>,
    ) -> Result<DatastoreEntry, RpcError> {
        let _guard = self.lock.lock().map_err(|_| internal("lock poisoned"))?;
        let Some(prev) = self.get(key)? else {
            return Err(RpcError::new(
                codes::DATASTORE_DEL_DOES_NOT_EXIST,
                format!("Key {} does not exist", fmt_key(key)),
            ));
        };
        if let Some(want) = generation
            && prev.generation != want
        {
            return Err(RpcError::new(
                codes::DATASTORE_DEL_WRONG_GENERATION,
                format!(
                    "generation is different (stored {}, given {want})",
                    prev.generation
                ),
            ));
        }
        let mut batch = Batch::default();
        batch.delete(&TREE, &DatastoreKey(key.to_vec()));
        self.store.commit(batch).map_err(internal)?;
        Ok(entry(key, Some(&prev)))
    }

    /// `listdatastore`: the record at `key` and its children; deeper
    /// descendants are summarised by their child of `key` (key only).
    pub fn list(&self, key: &[String]) -> Result<Vec<DatastoreEntry>, RpcError> {
        let rows = self
            .store
            .scan_prefix(&TREE, &encode_path(key))
            .map_err(internal)?;
        let mut out: Vec<DatastoreEntry> = Vec::new();
        for (DatastoreKey(k), v) in rows {
            if k.len() > key.len() + 1 {
                let summary = &k[..key.len() + 1];
                if out.last().map(|e| e.key.as_slice()) != Some(summary) {
                    out.push(entry(summary, None));
                }
            } else {
                out.push(entry(&k, Some(&v)));
            }
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn k(parts: &[&str]) -> Vec<String> {
        parts.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn key_encoding_roundtrips_and_orders() {
        for parts in [
            k(&[]),
            k(&["a"]),
            k(&["a", "b"]),
            k(&["", "\0x\0"]),
            k(&["ab"]),
        ] {
            let enc = DatastoreKey(parts.clone()).encode_key();
            assert_eq!(DatastoreKey::decode_key(&enc), Ok(DatastoreKey(parts)));
        }
        let a = encode_path(&k(&["a"]));
        assert!(encode_path(&k(&["a", "b"])).starts_with(&a));
        assert!(!encode_path(&k(&["ab"])).starts_with(&a));
        assert!(encode_path(&k(&["a", "z"])) < encode_path(&k(&["ab"])));
    }

    proptest::proptest! {
        #[test]
        fn key_decode_never_panics(bytes in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..64)) {
            let _ = DatastoreKey::decode_key(&bytes);
        }

        #[test]
        fn key_roundtrip(parts in proptest::collection::vec(".{0,6}", 0..4)) {
            let enc = DatastoreKey(parts.clone()).encode_key();
            proptest::prop_assert_eq!(DatastoreKey::decode_key(&enc), Ok(DatastoreKey(parts)));
        }
    }
}
