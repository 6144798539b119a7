//! The embedded chain as a [`ChainSource`]: the state machine behind a lock,
//! its blocks in a [`BlockLog`], and a broadcast channel of block events.
//! A block is on disk before anyone is told about it.

use std::path::Path;
use std::sync::Mutex;

use bitcoin::{BlockHash, FeeRate, OutPoint, ScriptBuf, Transaction, Txid};
use tokio::sync::broadcast;

use super::block_log::BlockLog;
use super::{Chain, ChainError, ChainEvent};
use crate::chain::{ChainFuture, ChainNotification, ChainSource, ChainSourceError};

/// The fee rate the embedded chain quotes for any target: regtest has no fee
/// market, so it is a fixed 2 sat/vB (twice the minimum relay fee).
pub const EMBEDDED_FEE_RATE: FeeRate = FeeRate::from_sat_per_kwu(500);

struct Inner {
    chain: Chain,
    log: Option<BlockLog>,
}

/// The embedded chain, shareable across tasks.
pub struct EmbeddedChain {
    inner: Mutex<Inner>,
    events: broadcast::Sender<ChainNotification>,
}

/// Errors of the embedded chain's own operations.
#[derive(Debug, thiserror::Error)]
pub enum EmbeddedError {
    /// The chain refused.
    #[error(transparent)]
    Chain(#[from] ChainError),
    /// The block log failed: the change was not made durable.
    #[error("block log: {0}")]
    Io(#[from] std::io::Error),
    /// A lock was poisoned by a panic.
    #[error("embedded chain state is unavailable after an internal panic")]
    Poisoned,
}

fn notification(e: &ChainEvent) -> ChainNotification {
    match e {
        ChainEvent::Connected { height, block } => ChainNotification::Connected {
            height: *height,
            hash: block.block_hash(),
        },
        ChainEvent::Disconnected { height, block } => ChainNotification::Disconnected {
            height: *height,
            hash: block.block_hash(),
        },
    }
}

impl EmbeddedChain {
    /// A chain kept only in memory.
    pub fn in_memory(now: u32) -> EmbeddedChain {
        Self::with(Chain::new(now), None)
    }

    /// Open the chain whose blocks are in `path` (created if missing),
    /// replaying them.
    pub fn open(path: &Path, now: u32) -> Result<EmbeddedChain, EmbeddedError> {
        let (mut log, blocks) = BlockLog::open(path)?;
        let mut chain = Chain::new(now);
        let total = blocks.len();
        for (n, block) in blocks.into_iter().enumerate() {
            if let Err(e) = chain.replay(block) {
                tracing::error!(error = %e, height = n + 1, "block log does not replay; keeping the blocks before it");
                log.truncate_to(n as u32)?;
                break;
            }
        }
        chain.set_time(chain.time().max(now));
        tracing::info!(
            blocks = total,
            tip = chain.tip_height(),
            "embedded chain loaded"
        );
        Ok(Self::with(chain, Some(log)))
    }

    fn with(chain: Chain, log: Option<BlockLog>) -> EmbeddedChain {
        let (events, _) = broadcast::channel(1024);
        EmbeddedChain {
            inner: Mutex::new(Inner { chain, log }),
            events,
        }
    }

    fn lock(&self) -> Result<std::sync::MutexGuard<'_, Inner>, EmbeddedError> {
        self.inner.lock().map_err(|_| EmbeddedError::Poisoned)
    }

    /// Run `f` on the chain state (read-only use).
    pub fn with_chain<T>(&self, f: impl FnOnce(&Chain) -> T) -> Result<T, EmbeddedError> {
        Ok(f(&self.lock()?.chain))
    }

    /// Durably record what changed, then tell subscribers.
    fn commit_events(&self, inner: &mut Inner, events: &[ChainEvent]) -> Result<(), EmbeddedError> {
        if let Some(log) = inner.log.as_mut() {
            for e in events {
                match e {
                    ChainEvent::Connected { block, .. } => log.append(block)?,
                    ChainEvent::Disconnected { height, .. } => log.truncate_to(height - 1)?,
                }
            }
        }
        for e in events {
            // No subscriber is fine.
            let _ = self.events.send(notification(e));
        }
        Ok(())
    }

    /// Mine `count` blocks from the mempool to `payout`.
    pub fn mine(&self, count: u32, payout: &ScriptBuf) -> Result<Vec<BlockHash>, EmbeddedError> {
        let mut inner = self.lock()?;
        let events = inner.chain.mine(count, payout);
        self.commit_events(&mut inner, &events)?;
        Ok(events
            .iter()
            .filter_map(|e| match e {
                ChainEvent::Connected { block, .. } => Some(block.block_hash()),
                ChainEvent::Disconnected { .. } => None,
            })
            .collect())
    }

    /// Mine one block holding exactly `txs`.
    pub fn mine_with(
        &self,
        payout: &ScriptBuf,
        txs: Vec<Transaction>,
    ) -> Result<BlockHash, EmbeddedError> {
        let mut inner = self.lock()?;
        let events = inner.chain.mine_with(payout, txs)?;
        self.commit_events(&mut inner, &events)?;
        Ok(inner.chain.tip_hash())
    }

    /// Disconnect blocks down to and including `hash` (test API for reorgs).
    pub fn invalidate(&self, hash: &BlockHash) -> Result<u32, EmbeddedError> {
        let mut inner = self.lock()?;
        let events = inner.chain.invalidate(hash)?;
        self.commit_events(&mut inner, &events)?;
        Ok(events.len() as u32)
    }

    /// Set the clock for new blocks.
    pub fn set_time(&self, now: u32) -> Result<(), EmbeddedError> {
        self.lock()?.chain.set_time(now);
        Ok(())
    }

    /// Submit a transaction to the mempool.
    pub fn submit(&self, tx: Transaction) -> Result<Txid, ChainSourceError> {
        let mut inner = self
            .lock()
            .map_err(|e| ChainSourceError::Backend(e.to_string()))?;
        inner
            .chain
            .submit(tx)
            .map_err(|e| ChainSourceError::Rejected {
                reason: e.core_reason().to_string(),
                detail: e.to_string(),
            })
    }
}

fn backend(e: EmbeddedError) -> ChainSourceError {
    ChainSourceError::Backend(e.to_string())
}

impl ChainSource for EmbeddedChain {
    fn tip(&self) -> ChainFuture<'_, (u32, BlockHash)> {
        Box::pin(async move {
            self.with_chain(|c| (c.tip_height(), c.tip_hash()))
                .map_err(backend)
        })
    }

    fn block_hash(&self, height: u32) -> ChainFuture<'_, Option<BlockHash>> {
        Box::pin(async move {
            self.with_chain(|c| c.block_at(height).map(|b| b.block_hash()))
                .map_err(backend)
        })
    }

    fn header(&self, hash: BlockHash) -> ChainFuture<'_, Option<(u32, bitcoin::block::Header)>> {
        Box::pin(async move {
            self.with_chain(|c| {
                c.height_of(&hash)
                    .and_then(|h| c.block_at(h).map(|b| (h, b.header)))
            })
            .map_err(backend)
        })
    }

    fn block(&self, hash: BlockHash) -> ChainFuture<'_, Option<bitcoin::Block>> {
        Box::pin(async move {
            self.with_chain(|c| c.block(&hash).cloned())
                .map_err(backend)
        })
    }

    fn broadcast(&self, tx: Transaction) -> ChainFuture<'_, Txid> {
        Box::pin(async move { self.submit(tx) })
    }

    fn fee_rate(&self, _target_blocks: u16) -> ChainFuture<'_, FeeRate> {
        Box::pin(async move { Ok(EMBEDDED_FEE_RATE) })
    }

    fn utxo(&self, outpoint: OutPoint) -> ChainFuture<'_, Option<bitcoin::TxOut>> {
        Box::pin(async move {
            self.with_chain(|c| c.utxo(&outpoint).map(|coin| coin.output))
                .map_err(backend)
        })
    }

    fn mempool(&self) -> ChainFuture<'_, Vec<bitcoin::Transaction>> {
        Box::pin(async move {
            self.with_chain(|c| {
                c.mempool()
                    .in_order()
                    .into_iter()
                    .map(|e| e.tx.clone())
                    .collect()
            })
            .map_err(backend)
        })
    }

    fn subscribe(&self) -> broadcast::Receiver<ChainNotification> {
        self.events.subscribe()
    }
}

/// Sanity: the fee rate constant is 2 sat/vB.
const _: () = assert!(EMBEDDED_FEE_RATE.to_sat_per_kwu() * 4 == 2000);
