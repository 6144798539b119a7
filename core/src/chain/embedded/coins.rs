//! Unspent outputs and the undo data that lets a block be disconnected.

use std::collections::HashMap;

use bitcoin::{OutPoint, TxOut};

/// An unspent output and where it came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Coin {
    /// The output.
    pub output: TxOut,
    /// Height of the block that created it ([`MEMPOOL_HEIGHT`] if unconfirmed).
    pub height: u32,
    /// Created by a coinbase (100-block maturity).
    pub is_coinbase: bool,
}

/// The height given to outputs of unconfirmed transactions.
pub const MEMPOOL_HEIGHT: u32 = u32::MAX;

/// Something that can look up coins: the UTXO set, or the UTXO set seen
/// through the mempool.
pub trait CoinView {
    /// The unspent coin at `outpoint`, if any.
    fn coin(&self, outpoint: &OutPoint) -> Option<Coin>;
}

/// The confirmed UTXO set.
#[derive(Debug, Default, Clone)]
pub struct UtxoSet {
    coins: HashMap<OutPoint, Coin>,
}

impl UtxoSet {
    /// Add a coin.
    pub fn add(&mut self, outpoint: OutPoint, coin: Coin) {
        self.coins.insert(outpoint, coin);
    }

    /// Remove and return a coin.
    pub fn spend(&mut self, outpoint: &OutPoint) -> Option<Coin> {
        self.coins.remove(outpoint)
    }

    /// Number of coins.
    pub fn len(&self) -> usize {
        self.coins.len()
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.coins.is_empty()
    }

    /// Every coin (unordered).
    pub fn iter(&self) -> impl Iterator<Item = (&OutPoint, &Coin)> {
        self.coins.iter()
    }
}

impl CoinView for UtxoSet {
    fn coin(&self, outpoint: &OutPoint) -> Option<Coin> {
        self.coins.get(outpoint).cloned()
    }
}

/// What a connected block changed, so it can be undone: the coins it spent
/// (restored on disconnect) and the outpoints it created (removed).
#[derive(Debug, Clone, Default)]
pub struct BlockUndo {
    /// Coins spent by the block, in spending order.
    pub spent: Vec<(OutPoint, Coin)>,
    /// Outpoints created by the block.
    pub created: Vec<OutPoint>,
}
