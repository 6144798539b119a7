//! An in-process regtest chain: real blocks with valid merkle roots, witness
//! commitments and regtest proof of work; a UTXO set and a mempool; every
//! transaction validated as Bitcoin Core would ([`validate`]), scripts by
//! Bitcoin Core's own interpreter. Mining is on demand, block times are
//! controlled by the caller, and reorgs are a test API.
//!
//! This is a pure state machine: time is an argument, nothing here does I/O.
//! Each change returns the blocks it connected or disconnected, so the layer
//! above can stream them to the wallet and the channel watchers.

pub mod block_log;
pub mod coins;
pub mod mempool;
pub mod source;
pub mod validate;

use std::collections::{HashMap, HashSet};

use bitcoin::block::{Header, Version as BlockVersion};
use bitcoin::blockdata::constants::genesis_block;
use bitcoin::hashes::Hash;
use bitcoin::opcodes::all::OP_RETURN;
use bitcoin::script::{Builder, PushBytesBuf};
use bitcoin::transaction::Version as TxVersion;
use bitcoin::{
    Amount, Block, BlockHash, CompactTarget, Network, OutPoint, ScriptBuf, Sequence, Transaction,
    TxIn, TxMerkleNode, TxOut, Txid, Weight, Witness,
};

use coins::{BlockUndo, Coin, CoinView, UtxoSet};
use mempool::{Mempool, MempoolView};
use validate::{Accepted, LockContext, ScriptCheck, TxReject};

/// Regtest's proof-of-work limit, as compact bits.
pub const REGTEST_BITS: u32 = 0x207f_ffff;
/// Regtest halves the subsidy every 150 blocks.
pub const REGTEST_HALVING_INTERVAL: u32 = 150;
/// Bitcoin Core's default minimum relay fee, sat per 1000 vbytes.
pub const DEFAULT_MIN_RELAY_FEE_PER_KVB: u64 = 1000;
/// Consensus block weight limit.
pub const MAX_BLOCK_WEIGHT: Weight = Weight::from_wu(4_000_000);

/// The subsidy of a block at `height`.
pub fn block_subsidy(height: u32) -> Amount {
    let halvings = height / REGTEST_HALVING_INTERVAL;
    if halvings >= 64 {
        return Amount::ZERO;
    }
    Amount::from_sat((50 * 100_000_000u64) >> halvings)
}

/// Why a block could not be built or a reorg done.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ChainError {
    /// A transaction given for a block is invalid there.
    #[error("transaction {index} of the block is invalid: {reason}")]
    InvalidTransaction {
        /// Position in the block (1-based: 0 is the coinbase).
        index: usize,
        /// Why.
        reason: TxReject,
    },
    /// The block is not in the active chain.
    #[error("block {0} is not in the active chain")]
    UnknownBlock(BlockHash),
    /// A replayed block does not extend the tip or is malformed.
    #[error("block {hash} cannot be replayed: {reason}")]
    BadReplay {
        /// The block.
        hash: BlockHash,
        /// Why.
        reason: &'static str,
    },
    /// The genesis block cannot be invalidated.
    #[error("the genesis block cannot be invalidated")]
    Genesis,
    /// The transactions do not fit in a block.
    #[error("transactions weigh {0}, more than a block holds")]
    BlockTooHeavy(Weight),
}

/// What a change did to the active chain, in order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ChainEvent {
    /// A block became the tip.
    Connected {
        /// Its height.
        height: u32,
        /// The block.
        block: Box<Block>,
    },
    /// The tip was removed.
    Disconnected {
        /// Its height.
        height: u32,
        /// The block.
        block: Box<Block>,
    },
}

/// The chain state.
pub struct Chain {
    blocks: Vec<Block>,
    undo: Vec<BlockUndo>,
    /// Cumulative proof of work up to each height (Core's `nChainWork`).
    chain_work: Vec<bitcoin::Work>,
    heights: HashMap<BlockHash, u32>,
    tx_index: HashMap<Txid, (u32, usize)>,
    utxos: UtxoSet,
    mempool: Mempool,
    min_fee_per_kvb: u64,
    clock: u32,
    extra_nonce: u64,
}

/// Chain context for the next block.
struct NextBlock<'a> {
    chain: &'a Chain,
}

impl LockContext for NextBlock<'_> {
    fn next_height(&self) -> u32 {
        self.chain.tip_height() + 1
    }
    fn tip_mtp(&self) -> u32 {
        self.chain.median_time_past(self.chain.tip_height())
    }
    fn mtp_at(&self, height: u32) -> u32 {
        self.chain
            .median_time_past(height.min(self.chain.tip_height()))
    }
}

/// Confirmed coins plus the effects of the transactions placed earlier in a
/// block being built.
struct BlockOverlay<'a> {
    base: &'a UtxoSet,
    added: HashMap<OutPoint, Coin>,
    spent: HashSet<OutPoint>,
}

impl CoinView for BlockOverlay<'_> {
    fn coin(&self, outpoint: &OutPoint) -> Option<Coin> {
        if self.spent.contains(outpoint) {
            return None;
        }
        self.added
            .get(outpoint)
            .cloned()
            .or_else(|| self.base.coin(outpoint))
    }
}

impl Chain {
    /// A chain holding only regtest's genesis block; `now` is the clock for
    /// new blocks (unix seconds).
    pub fn new(now: u32) -> Chain {
        let genesis = genesis_block(Network::Regtest);
        let genesis_work = genesis.header.work();
        let mut heights = HashMap::new();
        heights.insert(genesis.block_hash(), 0);
        // The genesis coinbase is not spendable: it is not in the UTXO set.
        Chain {
            blocks: vec![genesis],
            undo: vec![BlockUndo::default()],
            chain_work: vec![genesis_work],
            heights,
            tx_index: HashMap::new(),
            utxos: UtxoSet::default(),
            mempool: Mempool::default(),
            min_fee_per_kvb: DEFAULT_MIN_RELAY_FEE_PER_KVB,
            clock: now,
            extra_nonce: 0,
        }
    }

    /// Set the clock used for new blocks' timestamps.
    pub fn set_time(&mut self, now: u32) {
        self.clock = now;
    }

    /// The clock.
    pub fn time(&self) -> u32 {
        self.clock
    }

    /// Height of the tip.
    pub fn tip_height(&self) -> u32 {
        (self.blocks.len() - 1) as u32
    }

    /// Hash of the tip.
    pub fn tip_hash(&self) -> BlockHash {
        self.tip().block_hash()
    }

    fn tip(&self) -> &Block {
        // `blocks` always holds at least genesis.
        &self.blocks[self.blocks.len() - 1]
    }

    /// The block at `height` in the active chain.
    pub fn block_at(&self, height: u32) -> Option<&Block> {
        self.blocks.get(height as usize)
    }

    /// A block of the active chain by hash.
    pub fn block(&self, hash: &BlockHash) -> Option<&Block> {
        self.height_of(hash).and_then(|h| self.block_at(h))
    }

    /// Height of a block of the active chain.
    pub fn height_of(&self, hash: &BlockHash) -> Option<u32> {
        self.heights.get(hash).copied()
    }

    /// Cumulative proof of work of the active chain up to `height`.
    pub fn chain_work(&self, height: u32) -> Option<bitcoin::Work> {
        self.chain_work.get(height as usize).copied()
    }

    /// Median of the last 11 block times ending at `height` (BIP113).
    pub fn median_time_past(&self, height: u32) -> u32 {
        let end = height.min(self.tip_height()) as usize;
        let start = end.saturating_sub(10);
        let mut times: Vec<u32> = self.blocks[start..=end]
            .iter()
            .map(|b| b.header.time)
            .collect();
        times.sort_unstable();
        times[times.len() / 2]
    }

    /// A confirmed unspent output.
    pub fn utxo(&self, outpoint: &OutPoint) -> Option<Coin> {
        self.utxos.coin(outpoint)
    }

    /// The confirmed UTXO set.
    pub fn utxos(&self) -> &UtxoSet {
        &self.utxos
    }

    /// The mempool.
    pub fn mempool(&self) -> &Mempool {
        &self.mempool
    }

    /// A transaction, and the block holding it if confirmed.
    pub fn transaction(&self, txid: &Txid) -> Option<(Transaction, Option<BlockHash>)> {
        if let Some(e) = self.mempool.get(txid) {
            return Some((e.tx.clone(), None));
        }
        let (height, index) = *self.tx_index.get(txid)?;
        let block = self.block_at(height)?;
        Some((block.txdata.get(index)?.clone(), Some(block.block_hash())))
    }

    /// Check a transaction without adding it.
    pub fn test_accept(&self, tx: &Transaction) -> Result<Accepted, TxReject> {
        self.check_for_mempool(tx, ScriptCheck::Verify)
    }

    fn check_for_mempool(
        &self,
        tx: &Transaction,
        scripts: ScriptCheck,
    ) -> Result<Accepted, TxReject> {
        let txid = tx.compute_txid();
        if self.mempool.contains(&txid) || self.tx_index.contains_key(&txid) {
            return Err(TxReject::AlreadyKnown(txid));
        }
        for i in &tx.input {
            if let Some(spent_by) = self.mempool.spender(&i.previous_output) {
                return Err(TxReject::MempoolConflict {
                    outpoint: i.previous_output,
                    spent_by,
                });
            }
        }
        let view = MempoolView {
            base: &self.utxos,
            mempool: &self.mempool,
        };
        let policy = validate::Policy {
            min_fee_per_kvb: self.min_fee_per_kvb,
        };
        validate::validate(tx, &view, &NextBlock { chain: self }, Some(policy), scripts)
    }

    /// Validate and add to the mempool.
    pub fn submit(&mut self, tx: Transaction) -> Result<Txid, TxReject> {
        self.submit_checked(tx, ScriptCheck::Verify)
    }

    fn submit_checked(&mut self, tx: Transaction, scripts: ScriptCheck) -> Result<Txid, TxReject> {
        let accepted = self.check_for_mempool(&tx, scripts)?;
        let txid = tx.compute_txid();
        self.mempool.insert(tx, accepted.fee, accepted.vsize);
        Ok(txid)
    }

    /// Mine `count` blocks from the mempool, paying `payout`.
    pub fn mine(&mut self, count: u32, payout: &ScriptBuf) -> Vec<ChainEvent> {
        let mut events = Vec::new();
        for _ in 0..count {
            let txs = self.select_from_mempool();
            match self.build_block(payout, txs, ScriptCheck::AlreadyVerified) {
                Ok(e) => events.extend(e),
                // Mempool transactions were validated against this tip.
                Err(e) => {
                    tracing::error!(error = %e, "mempool transaction became invalid; mining an empty block");
                    self.mempool.drain();
                    if let Ok(e) = self.mine_with(payout, Vec::new()) {
                        events.extend(e);
                    }
                }
            }
        }
        events
    }

    fn select_from_mempool(&self) -> Vec<Transaction> {
        let budget = MAX_BLOCK_WEIGHT - Weight::from_wu(8_000);
        let mut used = Weight::ZERO;
        let mut chosen = Vec::new();
        let mut chosen_ids = HashSet::new();
        for e in self.mempool.in_order() {
            let w = e.tx.weight();
            // A child may only follow its parents into the block.
            let parents_in = e.tx.input.iter().all(|i| {
                !self.mempool.contains(&i.previous_output.txid)
                    || chosen_ids.contains(&i.previous_output.txid)
            });
            if used + w > budget || !parents_in {
                continue;
            }
            used += w;
            chosen_ids.insert(e.tx.compute_txid());
            chosen.push(e.tx.clone());
        }
        chosen
    }

    /// Mine one block holding exactly `txs` (after the coinbase), each
    /// validated against the chain and the ones before it. Mempool
    /// transactions it confirms or conflicts with leave the mempool.
    pub fn mine_with(
        &mut self,
        payout: &ScriptBuf,
        txs: Vec<Transaction>,
    ) -> Result<Vec<ChainEvent>, ChainError> {
        self.build_block(payout, txs, ScriptCheck::Verify)
    }

    fn build_block(
        &mut self,
        payout: &ScriptBuf,
        txs: Vec<Transaction>,
        scripts: ScriptCheck,
    ) -> Result<Vec<ChainEvent>, ChainError> {
        let height = self.tip_height() + 1;
        let ctx = NextBlock { chain: self };
        let mut overlay = BlockOverlay {
            base: &self.utxos,
            added: HashMap::new(),
            spent: HashSet::new(),
        };
        let mut fees = Amount::ZERO;
        let mut weight = Weight::ZERO;
        for (n, tx) in txs.iter().enumerate() {
            let acc = validate::validate(tx, &overlay, &ctx, None, scripts).map_err(|reason| {
                ChainError::InvalidTransaction {
                    index: n + 1,
                    reason,
                }
            })?;
            fees += acc.fee;
            weight += tx.weight();
            for i in &tx.input {
                overlay.spent.insert(i.previous_output);
            }
            let txid = tx.compute_txid();
            for (vout, o) in tx.output.iter().enumerate() {
                overlay.added.insert(
                    OutPoint::new(txid, vout as u32),
                    Coin {
                        output: o.clone(),
                        height,
                        is_coinbase: false,
                    },
                );
            }
        }
        if weight > MAX_BLOCK_WEIGHT - Weight::from_wu(8_000) {
            return Err(ChainError::BlockTooHeavy(weight));
        }
        let block = self.assemble(height, payout, fees, txs);
        Ok(vec![self.connect(block)])
    }

    fn assemble(
        &mut self,
        height: u32,
        payout: &ScriptBuf,
        fees: Amount,
        txs: Vec<Transaction>,
    ) -> Block {
        self.extra_nonce += 1;
        let mut nonce = PushBytesBuf::new();
        // Eight bytes cannot exceed the push limit.
        let _ = nonce.extend_from_slice(&self.extra_nonce.to_le_bytes());
        let script_sig = Builder::new()
            .push_int(i64::from(height))
            .push_slice(nonce)
            .into_script();
        let has_witness = txs
            .iter()
            .any(|t| t.input.iter().any(|i| !i.witness.is_empty()));
        let coinbase = Transaction {
            version: TxVersion::TWO,
            lock_time: bitcoin::absolute::LockTime::ZERO,
            input: vec![TxIn {
                previous_output: OutPoint::null(),
                script_sig,
                sequence: Sequence::MAX,
                witness: if has_witness {
                    Witness::from_slice(&[[0u8; 32]])
                } else {
                    Witness::new()
                },
            }],
            output: vec![TxOut {
                value: block_subsidy(height) + fees,
                script_pubkey: payout.clone(),
            }],
        };
        let mut txdata = Vec::with_capacity(txs.len() + 1);
        txdata.push(coinbase);
        txdata.extend(txs);
        let time = self.clock.max(self.median_time_past(self.tip_height()) + 1);
        let mut block = Block {
            header: Header {
                version: BlockVersion::from_consensus(0x2000_0000),
                prev_blockhash: self.tip_hash(),
                merkle_root: TxMerkleNode::all_zeros(),
                time,
                bits: CompactTarget::from_consensus(REGTEST_BITS),
                nonce: 0,
            },
            txdata,
        };
        if has_witness && let Some(root) = block.witness_root() {
            let commitment = Block::compute_witness_commitment(&root, &[0u8; 32]);
            let mut script = vec![OP_RETURN.to_u8(), 0x24, 0xaa, 0x21, 0xa9, 0xed];
            script.extend_from_slice(commitment.as_byte_array());
            block.txdata[0].output.push(TxOut {
                value: Amount::ZERO,
                script_pubkey: ScriptBuf::from_bytes(script),
            });
        }
        if let Some(root) = block.compute_merkle_root() {
            block.header.merkle_root = root;
        }
        let target = block.header.target();
        while block.header.validate_pow(target).is_err() {
            block.header.nonce = block.header.nonce.wrapping_add(1);
        }
        block
    }

    /// Reconnect a block this chain mined before (from its own block log):
    /// its structure is checked, its transactions are not validated again.
    pub fn replay(&mut self, block: Block) -> Result<ChainEvent, ChainError> {
        let hash = block.block_hash();
        let bad = |reason| ChainError::BadReplay { hash, reason };
        if block.header.prev_blockhash != self.tip_hash() {
            return Err(bad("does not extend the tip"));
        }
        if !block.check_merkle_root() {
            return Err(bad("bad merkle root"));
        }
        if block.header.validate_pow(block.header.target()).is_err() {
            return Err(bad("bad proof of work"));
        }
        if block.txdata.first().is_none_or(|t| !t.is_coinbase()) {
            return Err(bad("no coinbase"));
        }
        self.clock = self.clock.max(block.header.time);
        Ok(self.connect(block))
    }

    /// Apply a block already checked by `mine_with`.
    fn connect(&mut self, block: Block) -> ChainEvent {
        let height = self.tip_height() + 1;
        let mut undo = BlockUndo::default();
        for (index, tx) in block.txdata.iter().enumerate() {
            let txid = tx.compute_txid();
            if !tx.is_coinbase() {
                for i in &tx.input {
                    if let Some(coin) = self.utxos.spend(&i.previous_output) {
                        undo.spent.push((i.previous_output, coin));
                    }
                }
            }
            for (vout, o) in tx.output.iter().enumerate() {
                let op = OutPoint::new(txid, vout as u32);
                if o.script_pubkey.is_op_return() {
                    continue;
                }
                self.utxos.add(
                    op,
                    Coin {
                        output: o.clone(),
                        height,
                        is_coinbase: tx.is_coinbase(),
                    },
                );
                undo.created.push(op);
            }
            self.tx_index.insert(txid, (height, index));
        }
        self.heights.insert(block.block_hash(), height);
        let work = self
            .chain_work
            .last()
            .copied()
            .unwrap_or(bitcoin::Work::from_be_bytes([0; 32]))
            + block.header.work();
        self.chain_work.push(work);
        self.blocks.push(block.clone());
        self.undo.push(undo);
        self.refresh_mempool();
        ChainEvent::Connected {
            height,
            block: Box::new(block),
        }
    }

    /// Revalidate the mempool against the new tip: drop what was mined or
    /// became invalid (conflicts, expired locks), keep the rest in order.
    fn refresh_mempool(&mut self) {
        let txs = self.mempool.drain();
        for tx in txs {
            let txid = tx.compute_txid();
            if self.tx_index.contains_key(&txid) {
                continue;
            }
            if let Err(e) = self.submit_checked(tx, ScriptCheck::AlreadyVerified) {
                tracing::debug!(%txid, reason = %e, "dropped from the mempool");
            }
        }
    }

    /// Disconnect blocks from the tip down to and including `hash`; their
    /// transactions go back to the mempool where still valid. The test API
    /// for reorgs: mine a competing branch afterwards.
    pub fn invalidate(&mut self, hash: &BlockHash) -> Result<Vec<ChainEvent>, ChainError> {
        let height = self
            .height_of(hash)
            .ok_or(ChainError::UnknownBlock(*hash))?;
        if height == 0 {
            return Err(ChainError::Genesis);
        }
        let mut events = Vec::new();
        let mut returned: Vec<Vec<Transaction>> = Vec::new();
        while self.tip_height() >= height {
            self.chain_work.pop();
            let (block, undo) = match (self.blocks.pop(), self.undo.pop()) {
                (Some(b), Some(u)) => (b, u),
                _ => break,
            };
            let h = self.tip_height() + 1;
            for op in &undo.created {
                self.utxos.spend(op);
            }
            for (op, coin) in undo.spent.into_iter().rev() {
                self.utxos.add(op, coin);
            }
            for tx in &block.txdata {
                self.tx_index.remove(&tx.compute_txid());
            }
            self.heights.remove(&block.block_hash());
            returned.push(
                block
                    .txdata
                    .iter()
                    .filter(|t| !t.is_coinbase())
                    .cloned()
                    .collect(),
            );
            events.push(ChainEvent::Disconnected {
                height: h,
                block: Box::new(block),
            });
        }
        // Oldest block's transactions first, then the old mempool.
        let mut txs: Vec<Transaction> = returned.into_iter().rev().flatten().collect();
        txs.extend(self.mempool.drain());
        for tx in txs {
            let txid = tx.compute_txid();
            if let Err(e) = self.submit(tx) {
                tracing::debug!(%txid, reason = %e, "not returned to the mempool after a reorg");
            }
        }
        Ok(events)
    }
}
