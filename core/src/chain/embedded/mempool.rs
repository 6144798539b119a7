//! Unconfirmed transactions, and the coin view that sees through them.

use std::collections::{BTreeMap, HashMap};

use bitcoin::{Amount, OutPoint, Transaction, Txid};

use super::coins::{Coin, CoinView, MEMPOOL_HEIGHT};

/// A transaction waiting to be mined.
#[derive(Debug, Clone)]
pub struct MempoolEntry {
    /// The transaction.
    pub tx: Transaction,
    /// Its fee.
    pub fee: Amount,
    /// Its virtual size.
    pub vsize: u64,
    /// Arrival order (ancestors always arrive first).
    pub sequence: u64,
}

/// The mempool: transactions by id, and which outpoint each spends.
#[derive(Debug, Default, Clone)]
pub struct Mempool {
    entries: HashMap<Txid, MempoolEntry>,
    spends: HashMap<OutPoint, Txid>,
    next_sequence: u64,
}

impl Mempool {
    /// Add a validated transaction.
    pub fn insert(&mut self, tx: Transaction, fee: Amount, vsize: u64) {
        let txid = tx.compute_txid();
        for i in &tx.input {
            self.spends.insert(i.previous_output, txid);
        }
        let sequence = self.next_sequence;
        self.next_sequence += 1;
        self.entries.insert(
            txid,
            MempoolEntry {
                tx,
                fee,
                vsize,
                sequence,
            },
        );
    }

    /// Remove a transaction (mined, or invalidated).
    pub fn remove(&mut self, txid: &Txid) -> Option<MempoolEntry> {
        let e = self.entries.remove(txid)?;
        for i in &e.tx.input {
            if self.spends.get(&i.previous_output) == Some(txid) {
                self.spends.remove(&i.previous_output);
            }
        }
        Some(e)
    }

    /// The unconfirmed transaction spending `outpoint`, if any.
    pub fn spender(&self, outpoint: &OutPoint) -> Option<Txid> {
        self.spends.get(outpoint).copied()
    }

    /// Whether `txid` is in the mempool.
    pub fn contains(&self, txid: &Txid) -> bool {
        self.entries.contains_key(txid)
    }

    /// One entry.
    pub fn get(&self, txid: &Txid) -> Option<&MempoolEntry> {
        self.entries.get(txid)
    }

    /// Number of transactions.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether it is empty.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// All entries in arrival order, which is a valid mining order: a child
    /// always arrives after its parents.
    pub fn in_order(&self) -> Vec<&MempoolEntry> {
        let by_seq: BTreeMap<u64, &MempoolEntry> =
            self.entries.values().map(|e| (e.sequence, e)).collect();
        by_seq.into_values().collect()
    }

    /// Remove everything, returning the transactions in arrival order.
    pub fn drain(&mut self) -> Vec<Transaction> {
        let txs = self.in_order().into_iter().map(|e| e.tx.clone()).collect();
        self.entries.clear();
        self.spends.clear();
        txs
    }
}

/// The confirmed set seen through the mempool: outputs of unconfirmed
/// transactions exist; outputs they spend do not.
pub struct MempoolView<'a, V: CoinView> {
    /// Confirmed coins.
    pub base: &'a V,
    /// Unconfirmed transactions.
    pub mempool: &'a Mempool,
}

impl<V: CoinView> CoinView for MempoolView<'_, V> {
    fn coin(&self, outpoint: &OutPoint) -> Option<Coin> {
        if self.mempool.spender(outpoint).is_some() {
            return None;
        }
        if let Some(c) = self.base.coin(outpoint) {
            return Some(c);
        }
        let parent = self.mempool.get(&outpoint.txid)?;
        let output = parent.tx.output.get(outpoint.vout as usize)?.clone();
        Some(Coin {
            output,
            height: MEMPOOL_HEIGHT,
            is_coinbase: false,
        })
    }
}
