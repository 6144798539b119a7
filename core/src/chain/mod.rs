//! The chain: where blocks and transactions come from.
//!
//! [`ChainSource`] is the seam every backend implements: the embedded regtest
//! chain ([`embedded`]) and Bitcoin Core's RPC ([`bitcoind`]); Esplora next.
//! Consumers — the wallet, channel watchers, gossip validation — use only
//! this trait.

pub mod bitcoind;
pub mod core_rpc;
pub mod embedded;
pub mod server;

use std::future::Future;
use std::pin::Pin;

use bitcoin::block::Header;
use bitcoin::{Block, BlockHash, FeeRate, OutPoint, Transaction, TxOut, Txid};

/// A change of the best chain, in order. A reorg is a run of
/// `Disconnected` (tip first) followed by `Connected` (lowest first).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChainNotification {
    /// A block became the tip.
    Connected {
        /// Its height.
        height: u32,
        /// Its hash.
        hash: BlockHash,
    },
    /// The tip block was removed.
    Disconnected {
        /// Its height.
        height: u32,
        /// Its hash.
        hash: BlockHash,
    },
}

/// Why a chain query failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ChainSourceError {
    /// The backend refused a transaction; `reason` is Bitcoin Core's reject
    /// reason, `detail` says more.
    #[error("transaction rejected: {reason} ({detail})")]
    Rejected {
        /// Bitcoin Core's reject reason, e.g. `bad-txns-inputs-missingorspent`.
        reason: String,
        /// Human-readable detail.
        detail: String,
    },
    /// The backend could not be reached or failed.
    #[error("chain backend: {0}")]
    Backend(String),
}

/// The future a [`ChainSource`] method returns.
pub type ChainFuture<'a, T> =
    Pin<Box<dyn Future<Output = Result<T, ChainSourceError>> + Send + 'a>>;

/// A source of blocks and a way to broadcast.
pub trait ChainSource: Send + Sync {
    /// Height and hash of the best block.
    fn tip(&self) -> ChainFuture<'_, (u32, BlockHash)>;
    /// Hash of the best chain's block at `height`.
    fn block_hash(&self, height: u32) -> ChainFuture<'_, Option<BlockHash>>;
    /// A header and its height, by hash (best chain).
    fn header(&self, hash: BlockHash) -> ChainFuture<'_, Option<(u32, Header)>>;
    /// A block by hash (best chain).
    fn block(&self, hash: BlockHash) -> ChainFuture<'_, Option<Block>>;
    /// Send a transaction to the network.
    fn broadcast(&self, tx: Transaction) -> ChainFuture<'_, Txid>;
    /// Fee rate to confirm within `target_blocks`.
    fn fee_rate(&self, target_blocks: u16) -> ChainFuture<'_, FeeRate>;
    /// An unspent output of the best chain (gossip validation).
    fn utxo(&self, outpoint: OutPoint) -> ChainFuture<'_, Option<TxOut>>;
    /// Every transaction in the backend's mempool, parents before children.
    /// The wallet reads it to see unconfirmed deposits and what a reorg
    /// returned to the mempool.
    fn mempool(&self) -> ChainFuture<'_, Vec<Transaction>>;
    /// Block connected / disconnected events from now on.
    fn subscribe(&self) -> tokio::sync::broadcast::Receiver<ChainNotification>;
}

/// Order transactions so that every parent comes before its children.
pub fn parents_first(txs: Vec<Transaction>) -> Vec<Transaction> {
    let index: std::collections::HashMap<Txid, usize> = txs
        .iter()
        .enumerate()
        .map(|(n, t)| (t.compute_txid(), n))
        .collect();
    let mut waiting = vec![0usize; txs.len()];
    let mut children: Vec<Vec<usize>> = vec![Vec::new(); txs.len()];
    for (n, tx) in txs.iter().enumerate() {
        let parents: std::collections::HashSet<usize> = tx
            .input
            .iter()
            .filter_map(|i| index.get(&i.previous_output.txid).copied())
            .filter(|p| *p != n)
            .collect();
        waiting[n] = parents.len();
        for p in parents {
            children[p].push(n);
        }
    }
    let mut ready: std::collections::VecDeque<usize> =
        (0..txs.len()).filter(|n| waiting[*n] == 0).collect();
    let mut order = Vec::with_capacity(txs.len());
    while let Some(n) = ready.pop_front() {
        order.push(n);
        for &c in &children[n] {
            waiting[c] -= 1;
            if waiting[c] == 0 {
                ready.push_back(c);
            }
        }
    }
    let mut slots: Vec<Option<Transaction>> = txs.into_iter().map(Some).collect();
    order.into_iter().filter_map(|n| slots[n].take()).collect()
}
