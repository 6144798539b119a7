//! Following Bitcoin Core's best chain by polling.
//!
//! [`Window`] is the pure part: the last few best-chain hashes we announced,
//! rewound to a fork point and extended one linked block at a time, each
//! change yielding its [`ChainNotification`]. [`Follower::step`] is the I/O
//! part: it asks Core where the fork is and fetches the new hashes and
//! headers in batches, checking that every header links to the one before
//! (a reorg in the middle of a fetch stops it; the next step starts over).

use std::collections::VecDeque;

use bitcoin::block::Header;
use bitcoin::consensus::encode::deserialize_hex;
use bitcoin::{BlockHash, Network};
use serde_json::{Value, json};

use super::rpc::{RpcClient, RpcError, codes};
use crate::chain::ChainNotification;

/// Best-chain hashes kept for finding a fork point (a day of blocks).
pub const WINDOW: usize = 144;
/// Heights fetched per batch request when catching up.
const CHUNK: u32 = 250;
/// Window entries compared per batch request when looking for the fork
/// (after the first request, which checks only the highest).
const FORK_PROBE: usize = 12;

/// The announced best chain's last [`WINDOW`] blocks, lowest first.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Window {
    blocks: VecDeque<(u32, BlockHash)>,
}

impl Window {
    /// The announced tip.
    pub fn tip(&self) -> Option<(u32, BlockHash)> {
        self.blocks.back().copied()
    }

    /// The lowest block kept.
    pub fn lowest(&self) -> Option<(u32, BlockHash)> {
        self.blocks.front().copied()
    }

    /// Entries at or below `height`, highest first: the fork candidates.
    pub fn at_or_below(&self, height: u32) -> impl Iterator<Item = (u32, BlockHash)> + '_ {
        self.blocks
            .iter()
            .rev()
            .copied()
            .filter(move |(h, _)| *h <= height)
    }

    /// Disconnect the tip if it is above `fork` (any tip for `None`).
    pub fn pop_above(&mut self, fork: Option<u32>) -> Option<ChainNotification> {
        let (height, hash) = self.tip()?;
        if fork.is_some_and(|f| height <= f) {
            return None;
        }
        self.blocks.pop_back();
        Some(ChainNotification::Disconnected { height, hash })
    }

    /// Disconnect every block above `fork` (all of them for `None`), tip first.
    pub fn rewind(&mut self, fork: Option<u32>) -> Vec<ChainNotification> {
        std::iter::from_fn(|| self.pop_above(fork)).collect()
    }

    /// Connect the next block. It must sit right above the tip (any height
    /// when the window is empty); `None` otherwise.
    pub fn connect(&mut self, height: u32, hash: BlockHash) -> Option<ChainNotification> {
        if let Some((tip, _)) = self.tip()
            && Some(height) != tip.checked_add(1)
        {
            return None;
        }
        self.blocks.push_back((height, hash));
        while self.blocks.len() > WINDOW {
            self.blocks.pop_front();
        }
        Some(ChainNotification::Connected { height, hash })
    }
}

/// How many of `hashes` form a chain with their `headers`: each header must
/// hash to its hash and point at the previous one (at `anchor` for the first,
/// when given).
pub fn linked_prefix(anchor: Option<BlockHash>, hashes: &[BlockHash], headers: &[Header]) -> usize {
    let mut prev = anchor;
    for (n, (hash, header)) in hashes.iter().zip(headers).enumerate() {
        if header.block_hash() != *hash || prev.is_some_and(|p| p != header.prev_blockhash) {
            return n;
        }
        prev = Some(*hash);
    }
    hashes.len().min(headers.len())
}

/// Core's `getblockchaininfo.chain` name for a network.
pub fn core_chain_name(network: Network) -> &'static str {
    network.to_core_arg()
}

/// Parse a hash Core printed.
pub fn hash_from(v: &Value) -> Result<BlockHash, RpcError> {
    v.as_str()
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| RpcError::Protocol(format!("expected a block hash, got {v}")))
}

/// Parse a serialized header Core printed.
pub fn header_from(v: &Value) -> Result<Header, RpcError> {
    v.as_str()
        .and_then(|s| deserialize_hex::<Header>(s).ok())
        .ok_or_else(|| RpcError::Protocol(format!("expected an 80-byte header in hex, got {v}")))
}

/// What one step did.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Step {
    /// The changes, in the order they happened.
    pub events: Vec<ChainNotification>,
    /// True when the window had no common block with Core's chain.
    pub deep_reorg: bool,
}

/// Polls Core and keeps the [`Window`].
pub struct Follower {
    /// The announced chain.
    pub window: Window,
    /// When a deep reorg emptied the window: the lowest height announced
    /// as disconnected, where connecting resumes.
    resume: Option<u32>,
}

impl Follower {
    /// Nothing announced yet: the first step fills the window (its events
    /// are the initial state, not news).
    pub fn new() -> Follower {
        Follower {
            window: Window::default(),
            resume: None,
        }
    }

    /// One poll: bring the window to Core's best chain, calling `emit` with
    /// each change and the tip after it, as it is made (so a long catch-up
    /// is seen progressively).
    pub async fn step(
        &mut self,
        rpc: &RpcClient,
        mut emit: impl FnMut(ChainNotification, Option<(u32, BlockHash)>),
    ) -> Result<Step, RpcError> {
        let mut step = Step::default();
        let best = hash_from(&rpc.call("getbestblockhash", json!([])).await?)?;
        if self.window.tip().is_some_and(|(_, h)| h == best) {
            return Ok(step);
        }
        let target = rpc
            .call("getblockcount", json!([]))
            .await?
            .as_u64()
            .and_then(|h| u32::try_from(h).ok())
            .ok_or_else(|| RpcError::Protocol("getblockcount is not a height".into()))?;

        // Where does the window leave Core's chain?
        let fork = self.find_fork(rpc, target).await?;
        let start = match (fork, self.window.lowest()) {
            (Some((h, _)), _) => h + 1,
            // Resume where a deep reorg left subscribers (or below, if
            // Core's chain is now shorter still); the first step loads
            // the last WINDOW blocks.
            (None, None) => match self.resume {
                Some(r) => r.min(target + 1),
                None => target.saturating_sub(WINDOW as u32 - 1),
            },
            (None, Some((lowest, _))) => {
                // Deeper than we remember: say everything we know went, then
                // rebuild from the same height.
                step.deep_reorg = true;
                lowest
            }
        };
        while let Some(e) = self.window.pop_above(fork.map(|(h, _)| h)) {
            emit(e, self.window.tip());
            step.events.push(e);
            if let ChainNotification::Disconnected { height, .. } = e
                && self.window.tip().is_none()
            {
                self.resume = Some(height);
            }
        }

        // Fetch and link the new blocks, a chunk at a time.
        let mut anchor = fork.map(|(_, h)| h);
        let mut height = start;
        while height <= target {
            let end = target.min(height + CHUNK - 1);
            let calls: Vec<(&str, Value)> = (height..=end)
                .map(|h| ("getblockhash", json!([h])))
                .collect();
            let mut hashes = Vec::new();
            for r in rpc.batch(&calls).await? {
                match r {
                    Ok(v) => hashes.push(hash_from(&v)?),
                    // The chain got shorter while we asked.
                    Err(e) if e.core_code() == Some(codes::INVALID_PARAMETER) => break,
                    Err(e) => return Err(e),
                }
            }
            let calls: Vec<(&str, Value)> = hashes
                .iter()
                .map(|h| ("getblockheader", json!([h.to_string(), false])))
                .collect();
            let mut headers = Vec::new();
            for r in rpc.batch(&calls).await? {
                match r {
                    Ok(v) => headers.push(header_from(&v)?),
                    Err(e) if e.core_code() == Some(codes::INVALID_ADDRESS_OR_KEY) => break,
                    Err(e) => return Err(e),
                }
            }
            let linked = linked_prefix(anchor, &hashes, &headers);
            for (n, hash) in hashes.iter().take(linked).enumerate() {
                if let Some(e) = self.window.connect(height + n as u32, *hash) {
                    self.resume = None;
                    emit(e, self.window.tip());
                    step.events.push(e);
                }
                anchor = Some(*hash);
            }
            if linked < (end - height + 1) as usize {
                // Core's chain moved under us; the next step starts over.
                break;
            }
            height = end + 1;
        }
        Ok(step)
    }

    /// The highest window block Core still has at its height, at most `target`.
    async fn find_fork(
        &self,
        rpc: &RpcClient,
        target: u32,
    ) -> Result<Option<(u32, BlockHash)>, RpcError> {
        let candidates: Vec<(u32, BlockHash)> = self.window.at_or_below(target).collect();
        // Usually the tip itself is still there: ask for it alone first.
        let mut rest = candidates.as_slice();
        let mut size = 1;
        while !rest.is_empty() {
            let (probe, after) = rest.split_at(size.min(rest.len()));
            rest = after;
            size = FORK_PROBE;
            let calls: Vec<(&str, Value)> = probe
                .iter()
                .map(|(h, _)| ("getblockhash", json!([h])))
                .collect();
            for ((h, ours), r) in probe.iter().zip(rpc.batch(&calls).await?) {
                match r {
                    Ok(v) if hash_from(&v)? == *ours => return Ok(Some((*h, *ours))),
                    Ok(_) => {}
                    Err(e) if e.core_code() == Some(codes::INVALID_PARAMETER) => {}
                    Err(e) => return Err(e),
                }
            }
        }
        Ok(None)
    }
}

impl Default for Follower {
    fn default() -> Self {
        Self::new()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use bitcoin::hashes::Hash;

    fn h(n: u8) -> BlockHash {
        BlockHash::from_byte_array([n; 32])
    }

    #[test]
    fn window_rewinds_tip_first_and_connects_in_order() {
        let mut w = Window::default();
        for n in 5..10u8 {
            assert!(w.connect(u32::from(n), h(n)).is_some());
        }
        assert_eq!(w.connect(11, h(11)), None, "a gap is refused");
        assert_eq!(
            w.rewind(Some(7)),
            vec![
                ChainNotification::Disconnected {
                    height: 9,
                    hash: h(9)
                },
                ChainNotification::Disconnected {
                    height: 8,
                    hash: h(8)
                },
            ]
        );
        assert_eq!(w.tip(), Some((7, h(7))));
        assert_eq!(
            w.connect(8, h(80)),
            Some(ChainNotification::Connected {
                height: 8,
                hash: h(80)
            })
        );
        let below: Vec<u32> = w.at_or_below(7).map(|(h, _)| h).collect();
        assert_eq!(below, vec![7, 6, 5]);
        assert_eq!(w.rewind(None).len(), 4);
        assert_eq!(w.tip(), None);
    }

    #[test]
    fn window_keeps_its_size() {
        let mut w = Window::default();
        for n in 0..(WINDOW as u32 + 10) {
            w.connect(n, h((n % 250) as u8));
        }
        assert_eq!(w.lowest().map(|(h, _)| h), Some(10));
        assert_eq!(w.blocks.len(), WINDOW);
    }

    #[test]
    fn linkage() {
        let genesis = bitcoin::blockdata::constants::genesis_block(Network::Regtest).header;
        let mut a = genesis;
        a.prev_blockhash = genesis.block_hash();
        let mut b = a;
        b.prev_blockhash = a.block_hash();
        let hashes = [a.block_hash(), b.block_hash()];
        assert_eq!(
            linked_prefix(Some(genesis.block_hash()), &hashes, &[a, b]),
            2
        );
        assert_eq!(linked_prefix(None, &hashes, &[a, b]), 2);
        assert_eq!(linked_prefix(Some(h(1)), &hashes, &[a, b]), 0);
        // The second header is not the one asked for.
        assert_eq!(linked_prefix(None, &hashes, &[a, a]), 1);
        assert_eq!(linked_prefix(None, &hashes, &[a]), 1);
    }
}
