//! The wallet's records in the store's `wallet` tree.
//!
//! Layout (keys are bytes, ordered lexicographically):
//! - `c | wallet id (1) | seq (u64 BE) | chunk (u32 BE)` → one chunk of a
//!   JSON-encoded bdk [`ChangeSet`]. The first 4 bytes of each chunk value
//!   are the record's chunk count, so a reader can tell a record is whole.
//!   Every `persist` writes one record in one atomic, durable batch; loading
//!   merges the records in sequence order. When there are many, loading
//!   replaces them by their merge (one batch: new record + deletes).
//! - `r | txid (32) | vout (u32 BE)` → reservation: expiry height (u32 BE),
//!   the first block height at which the output is free again.

use std::sync::Arc;

use bdk_wallet::chain::Merge;
use bdk_wallet::{ChangeSet, WalletPersister};
use bitcoin::OutPoint;
use bitcoin::hashes::Hash;

use crate::store::{Batch, MAX_VALUE_LEN, Store, StoreError, Tree};

/// The wallet's tree.
pub const WALLET_TREE: Tree<Vec<u8>, Vec<u8>> = Tree::new("wallet");

/// Chunk payload size: the store's value cap minus the record version byte
/// headroom and our 4-byte chunk count.
const CHUNK: usize = MAX_VALUE_LEN - 16;

/// Above this many records, loading compacts them into one.
const COMPACT_AFTER: usize = 64;

const CHANGESET_TAG: u8 = b'c';
const RESERVATION_TAG: u8 = b'r';

fn corrupt(reason: impl Into<String>) -> StoreError {
    StoreError::Corrupt {
        tree: WALLET_TREE.name(),
        reason: reason.into(),
    }
}

/// One stored record: its sequence number, its keys, its changeset.
type StoredRecord = (u64, Vec<Vec<u8>>, ChangeSet);
/// A record being read: sequence, keys, bytes so far, declared chunk count.
type PartialRecord = (u64, Vec<Vec<u8>>, Vec<u8>, u32);

/// A bdk persister appending changesets to the store for one wallet.
#[derive(Debug)]
pub struct StorePersister {
    store: Arc<Store>,
    wallet_id: u8,
    next_seq: u64,
}

impl StorePersister {
    /// A persister for wallet `wallet_id` (one byte, distinct per wallet).
    pub fn new(store: Arc<Store>, wallet_id: u8) -> StorePersister {
        StorePersister {
            store,
            wallet_id,
            next_seq: 0,
        }
    }

    fn key(&self, seq: u64, chunk: u32) -> Vec<u8> {
        let mut k = Vec::with_capacity(14);
        k.push(CHANGESET_TAG);
        k.push(self.wallet_id);
        k.extend_from_slice(&seq.to_be_bytes());
        k.extend_from_slice(&chunk.to_be_bytes());
        k
    }

    /// Queue `changeset` as record `seq` in `batch`.
    fn queue(&self, batch: &mut Batch, seq: u64, changeset: &ChangeSet) -> Result<(), StoreError> {
        let bytes = serde_json::to_vec(changeset)
            .map_err(|e| StoreError::Backend(format!("encoding a wallet changeset: {e}")))?;
        let chunks: Vec<&[u8]> = bytes.chunks(CHUNK).collect();
        let count = u32::try_from(chunks.len())
            .map_err(|_| StoreError::Backend("wallet changeset too large".into()))?;
        for (i, c) in chunks.iter().enumerate() {
            let mut v = Vec::with_capacity(4 + c.len());
            v.extend_from_slice(&count.to_be_bytes());
            v.extend_from_slice(c);
            batch.put(&WALLET_TREE, &self.key(seq, i as u32), &v);
        }
        Ok(())
    }

    /// Every record in order: (seq, keys, changeset).
    fn records(&self) -> Result<Vec<StoredRecord>, StoreError> {
        let rows = self
            .store
            .scan_prefix(&WALLET_TREE, &[CHANGESET_TAG, self.wallet_id])?;
        let mut out: Vec<PartialRecord> = Vec::new();
        for (key, value) in rows {
            if key.len() != 14 || value.len() < 4 {
                return Err(corrupt("bad wallet changeset entry"));
            }
            let mut seq8 = [0u8; 8];
            seq8.copy_from_slice(&key[2..10]);
            let seq = u64::from_be_bytes(seq8);
            let mut count4 = [0u8; 4];
            count4.copy_from_slice(&value[..4]);
            let count = u32::from_be_bytes(count4);
            match out.last_mut() {
                Some(last) if last.0 == seq => {
                    last.1.push(key);
                    last.2.extend_from_slice(&value[4..]);
                }
                _ => out.push((seq, vec![key], value[4..].to_vec(), count)),
            }
        }
        out.into_iter()
            .map(|(seq, keys, bytes, count)| {
                if keys.len() != count as usize {
                    return Err(corrupt(format!(
                        "wallet record {seq} has {} of {count} chunks",
                        keys.len()
                    )));
                }
                let cs: ChangeSet = serde_json::from_slice(&bytes)
                    .map_err(|e| corrupt(format!("wallet record {seq}: {e}")))?;
                Ok((seq, keys, cs))
            })
            .collect()
    }
}

/// Persist several wallets' changesets in ONE atomic, durable batch, so the
/// wallets never disagree about which blocks they have seen after a crash.
pub fn persist_together(
    store: &Store,
    parts: &mut [(&mut StorePersister, &ChangeSet)],
) -> Result<(), StoreError> {
    let mut batch = Batch::default();
    for (p, cs) in parts.iter() {
        if !cs.is_empty() {
            p.queue(&mut batch, p.next_seq, cs)?;
        }
    }
    store.commit(batch)?;
    for (p, cs) in parts.iter_mut() {
        if !cs.is_empty() {
            p.next_seq += 1;
        }
    }
    Ok(())
}

impl WalletPersister for StorePersister {
    type Error = StoreError;

    fn initialize(persister: &mut Self) -> Result<ChangeSet, StoreError> {
        let records = persister.records()?;
        let mut merged = ChangeSet::default();
        let n = records.len();
        let mut old_keys = Vec::new();
        for (seq, keys, cs) in records {
            merged.merge(cs);
            persister.next_seq = seq + 1;
            old_keys.extend(keys);
        }
        if n > COMPACT_AFTER {
            let mut batch = Batch::default();
            for k in &old_keys {
                batch.delete(&WALLET_TREE, k);
            }
            let seq = persister.next_seq;
            persister.queue(&mut batch, seq, &merged)?;
            persister.store.commit(batch)?;
            persister.next_seq = seq + 1;
            tracing::info!(records = n, "compacted the wallet's changesets");
        }
        Ok(merged)
    }

    fn persist(persister: &mut Self, changeset: &ChangeSet) -> Result<(), StoreError> {
        if changeset.is_empty() {
            return Ok(());
        }
        let mut batch = Batch::default();
        let seq = persister.next_seq;
        persister.queue(&mut batch, seq, changeset)?;
        persister.store.commit(batch)?;
        persister.next_seq = seq + 1;
        Ok(())
    }
}

fn reservation_key(op: &OutPoint) -> Vec<u8> {
    let mut k = Vec::with_capacity(37);
    k.push(RESERVATION_TAG);
    k.extend_from_slice(op.txid.as_byte_array());
    k.extend_from_slice(&op.vout.to_be_bytes());
    k
}

/// All stored reservations: outpoint → expiry height.
pub fn load_reservations(store: &Store) -> Result<Vec<(OutPoint, u32)>, StoreError> {
    store
        .scan_prefix(&WALLET_TREE, &[RESERVATION_TAG])?
        .into_iter()
        .map(|(k, v)| {
            if k.len() != 37 || v.len() != 4 {
                return Err(corrupt("bad reservation entry"));
            }
            let mut txid = [0u8; 32];
            txid.copy_from_slice(&k[1..33]);
            let mut vout = [0u8; 4];
            vout.copy_from_slice(&k[33..37]);
            let mut exp = [0u8; 4];
            exp.copy_from_slice(&v);
            Ok((
                OutPoint::new(
                    bitcoin::Txid::from_byte_array(txid),
                    u32::from_be_bytes(vout),
                ),
                u32::from_be_bytes(exp),
            ))
        })
        .collect()
}

/// Set (`Some(expiry)`) or clear (`None`) reservations, in one durable batch.
pub fn write_reservations(
    store: &Store,
    changes: &[(OutPoint, Option<u32>)],
) -> Result<(), StoreError> {
    let mut batch = Batch::default();
    for (op, exp) in changes {
        match exp {
            Some(h) => batch.put(
                &WALLET_TREE,
                &reservation_key(op),
                &h.to_be_bytes().to_vec(),
            ),
            None => batch.delete(&WALLET_TREE, &reservation_key(op)),
        }
    }
    store.commit(batch)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::BackendKind;
    use bitcoin::{Amount, BlockHash, ScriptBuf, Transaction, TxOut};

    fn big_tx(n: u8) -> Transaction {
        Transaction {
            version: bitcoin::transaction::Version::TWO,
            lock_time: bitcoin::absolute::LockTime::ZERO,
            input: vec![],
            output: (0..200u32)
                .map(|i| TxOut {
                    value: Amount::from_sat(u64::from(i) + u64::from(n)),
                    script_pubkey: ScriptBuf::from_bytes(vec![n; 34]),
                })
                .collect(),
        }
    }

    fn change(h: u32) -> ChangeSet {
        let mut cs = ChangeSet::default();
        cs.local_chain
            .blocks
            .insert(h, Some(BlockHash::from_byte_array([h as u8; 32])));
        cs
    }

    #[test]
    fn chunked_records_merge_in_order_and_compact() {
        for backend in [BackendKind::Redb, BackendKind::Sled] {
            let dir = tempfile::tempdir().expect("tempdir");
            let store = Arc::new(Store::open(dir.path(), backend).expect("open"));
            let mut p = StorePersister::new(store.clone(), 0);
            assert_eq!(
                StorePersister::initialize(&mut p).expect("init"),
                ChangeSet::default()
            );
            // One record far over the 4 KiB value cap.
            let mut first = change(0);
            first.network = Some(bitcoin::Network::Regtest);
            first.tx_graph.txs.insert(Arc::new(big_tx(1)));
            assert!(serde_json::to_vec(&first).expect("json").len() > 3 * MAX_VALUE_LEN);
            StorePersister::persist(&mut p, &first).expect("persist");
            // Later records override earlier ones (a block removed by a reorg).
            for h in 1..=80u32 {
                StorePersister::persist(&mut p, &change(h)).expect("persist");
            }
            let mut gone = ChangeSet::default();
            gone.local_chain.blocks.insert(80, None);
            StorePersister::persist(&mut p, &gone).expect("persist");

            let mut expected = first.clone();
            for h in 1..=80u32 {
                expected.merge(change(h));
            }
            expected.merge(gone);
            let mut again = StorePersister::new(store.clone(), 0);
            let loaded = StorePersister::initialize(&mut again).expect("load");
            assert_eq!(loaded, expected);
            assert_eq!(loaded.local_chain.blocks.get(&80), Some(&None));
            // 82 records were compacted into one (still chunked).
            let records = again.records().expect("records");
            assert_eq!(records.len(), 1);
            assert!(records[0].1.len() > 1, "compacted record is chunked");
            // Another wallet id is independent.
            let mut other = StorePersister::new(store.clone(), 1);
            assert_eq!(
                StorePersister::initialize(&mut other).expect("init"),
                ChangeSet::default()
            );
            // Appending after compaction continues the sequence.
            StorePersister::persist(&mut again, &change(81)).expect("persist");
            let mut third = StorePersister::new(store.clone(), 0);
            let l3 = StorePersister::initialize(&mut third).expect("load");
            assert_eq!(l3.local_chain.blocks.len(), 82);
        }
    }

    #[test]
    fn reservations_round_trip_and_clear() {
        let dir = tempfile::tempdir().expect("tempdir");
        let store = Store::open(dir.path(), BackendKind::Redb).expect("open");
        let a = OutPoint::new(bitcoin::Txid::from_byte_array([7; 32]), 3);
        let b = OutPoint::new(bitcoin::Txid::from_byte_array([8; 32]), 0);
        write_reservations(&store, &[(a, Some(172)), (b, Some(90))]).expect("write");
        let mut got = load_reservations(&store).expect("load");
        got.sort();
        assert_eq!(got, vec![(a, 172), (b, 90)]);
        write_reservations(&store, &[(a, None)]).expect("clear");
        assert_eq!(load_reservations(&store).expect("load"), vec![(b, 90)]);
    }
}
