//! The on-chain wallet: two bdk wallets from the node seed, one merged view.
//!
//! - **Keys**: BIP86 `tr()` (m/86'/coin'/0', the primary: new addresses and
//!   all change) and BIP84 `wpkh()` (m/84'/coin'/0', for `bech32`
//!   addresses). A bdk wallet has one receive and one change keychain, so
//!   each script type is its own [`bdk_wallet::Wallet`]; [`Wallet`] lists,
//!   selects and signs across both.
//! - **Coin selection and PSBTs** are ours ([`build`]): largest-first over the
//!   merged spendable coins, weights from the two script types, change to a
//!   fresh p2tr change address. Each side's bdk wallet fills in and signs its
//!   own inputs.
//! - **Persistence**: [`persist::StorePersister`] appends bdk changesets to
//!   the store's `wallet` tree; reservations live there too. Every applied
//!   batch of blocks, mempool change or new address is persisted before the
//!   call that caused it returns.
//! - **Sync** ([`Wallet::sync`]): find the fork point between the wallet's
//!   checkpoints and the chain, apply blocks from there to the tip, then the
//!   mempool's relevant transactions as unconfirmed (so a reorg that returns a
//!   wallet transaction to the mempool shows it unconfirmed), and mark wallet
//!   transactions that left the mempool unconfirmed as evicted.
//!   [`Wallet::spawn_follower`] runs it on every chain notification and on a
//!   short timer (the mempool has no notifications); RPCs also sync first, so
//!   they answer for the current tip.

pub mod build;
pub mod feerate;
pub mod persist;

use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::Arc;
use std::time::Duration;

use bdk_wallet::chain::{BlockId, ChainPosition};
use bdk_wallet::template::{Bip84, Bip86};
use bdk_wallet::{KeychainKind, LocalOutput, PersistedWallet, SignOptions};
use bitcoin::psbt::Psbt;
use bitcoin::{Address, OutPoint, Transaction, TxOut, Txid};

use crate::chain::{ChainSource, ChainSourceError};
use crate::signer::Signer;
use crate::store::{Store, StoreError};
use feerate::{FEERATE_FLOOR_PERKW, FeerateSpec};
use persist::StorePersister;

/// A coinbase output is spendable by the wallet once it is this deep
/// (Bitcoin Core's wallet rule: COINBASE_MATURITY + 1 confirmations).
pub const COINBASE_DEPTH: u32 = 101;

/// CLN's default reservation length, in blocks.
pub const DEFAULT_RESERVE_BLOCKS: u32 = 72;

/// Blocks applied between two persists during a catch-up.
const PERSIST_EVERY: u32 = 200;

/// The two address kinds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum AddrKind {
    /// BIP86 key-path taproot.
    P2tr,
    /// BIP84 native segwit v0.
    P2wpkh,
}

/// Why a wallet operation failed.
#[derive(Debug, thiserror::Error)]
pub enum WalletError {
    /// Not enough spendable funds.
    #[error("Could not afford {needed} sat using all {available} sat of available UTXOs")]
    Insufficient {
        /// What was needed including fees.
        needed: u64,
        /// What was spendable.
        available: u64,
    },
    /// An output would be dust.
    #[error("output of {0} sat would be dust")]
    Dust(u64),
    /// The request was wrong (bad PSBT, unknown or spent UTXO, …).
    #[error("{0}")]
    Invalid(String),
    /// An input is already reserved (exclusive reservation).
    #[error("{0} already reserved")]
    AlreadyReserved(OutPoint),
    /// The chain backend refused or failed.
    #[error(transparent)]
    Chain(#[from] ChainSourceError),
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// bdk failed (loading, signing, chain update).
    #[error("wallet: {0}")]
    Bdk(String),
}

fn bdk<E: std::fmt::Display>(e: E) -> WalletError {
    WalletError::Bdk(e.to_string())
}

/// One wallet output in the merged view.
#[derive(Debug, Clone)]
pub struct Coin {
    /// Where it is.
    pub outpoint: OutPoint,
    /// What it is.
    pub txout: TxOut,
    /// Which side owns it.
    pub kind: AddrKind,
    /// Confirmation height, if confirmed in the best chain.
    pub height: Option<u32>,
    /// Whether it is a coinbase output.
    pub coinbase: bool,
    /// Whether a canonical transaction spends it.
    pub spent: bool,
    /// Reserved until this height (exclusive), if reserved now.
    pub reserved_to: Option<u32>,
}

/// CLN's output status.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CoinStatus {
    /// In the mempool only.
    Unconfirmed,
    /// Confirmed (and mature if coinbase).
    Confirmed,
    /// A coinbase not yet [`COINBASE_DEPTH`] deep.
    Immature,
    /// Spent.
    Spent,
}

impl CoinStatus {
    /// CLN's spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            CoinStatus::Unconfirmed => "unconfirmed",
            CoinStatus::Confirmed => "confirmed",
            CoinStatus::Immature => "immature",
            CoinStatus::Spent => "spent",
        }
    }
}

impl Coin {
    /// Its status at chain height `tip`.
    pub fn status(&self, tip: u32) -> CoinStatus {
        if self.spent {
            return CoinStatus::Spent;
        }
        match self.height {
            None => CoinStatus::Unconfirmed,
            Some(_) if self.coinbase && self.depth(tip) < COINBASE_DEPTH => CoinStatus::Immature,
            Some(_) => CoinStatus::Confirmed,
        }
    }

    /// Confirmations at `tip` (0 when unconfirmed).
    pub fn depth(&self, tip: u32) -> u32 {
        self.height
            .map(|h| tip.saturating_sub(h).saturating_add(1))
            .unwrap_or(0)
    }
}

type Side = (PersistedWallet<StorePersister>, StorePersister);

struct Inner {
    tr: Side,
    wpkh: Side,
    /// Reservations: outpoint → first height at which it is free again.
    reservations: BTreeMap<OutPoint, u32>,
    /// Txids seen in the mempool at the last sync.
    mempool: HashSet<Txid>,
    /// Strictly increasing "seen" timestamp for bdk's conflict resolution.
    clock: u64,
}

impl Inner {
    fn side(&mut self, kind: AddrKind) -> &mut Side {
        match kind {
            AddrKind::P2tr => &mut self.tr,
            AddrKind::P2wpkh => &mut self.wpkh,
        }
    }

    fn tip(&self) -> u32 {
        self.tr.0.latest_checkpoint().height()
    }

    fn tick(&mut self) -> u64 {
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_secs())
            .unwrap_or(0);
        self.clock = self.clock.saturating_add(1).max(now);
        self.clock
    }

    /// Persist both wallets' staged changes in one atomic batch.
    fn persist(&mut self, store: &Store) -> Result<(), WalletError> {
        let a = self.tr.0.take_staged().unwrap_or_default();
        let b = self.wpkh.0.take_staged().unwrap_or_default();
        persist::persist_together(store, &mut [(&mut self.tr.1, &a), (&mut self.wpkh.1, &b)])?;
        Ok(())
    }

    fn coins(&self, include_spent: bool) -> Vec<Coin> {
        let tip = self.tip();
        let mut out = Vec::new();
        for (kind, (w, _)) in [(AddrKind::P2tr, &self.tr), (AddrKind::P2wpkh, &self.wpkh)] {
            let list: Vec<LocalOutput> = if include_spent {
                w.list_output().collect()
            } else {
                w.list_unspent().collect()
            };
            for o in list {
                let height = match o.chain_position {
                    ChainPosition::Confirmed { anchor, .. } => Some(anchor.block_id.height),
                    ChainPosition::Unconfirmed { .. } => None,
                };
                // The raw graph lookup: `Wallet::get_tx` canonicalizes the
                // whole graph on every call.
                let coinbase = w
                    .tx_graph()
                    .get_tx(o.outpoint.txid)
                    .is_some_and(|t| t.is_coinbase());
                let reserved_to = self
                    .reservations
                    .get(&o.outpoint)
                    .copied()
                    .filter(|&h| h > tip);
                out.push(Coin {
                    outpoint: o.outpoint,
                    txout: o.txout,
                    kind,
                    height,
                    coinbase,
                    spent: o.is_spent,
                    reserved_to,
                });
            }
        }
        out.sort_by_key(|c| (c.height.unwrap_or(u32::MAX), c.outpoint));
        out
    }

    /// Both wallets' outputs by outpoint, spent ones included. One pass
    /// over each wallet's graph; BDK rebuilds its canonical view on every
    /// lookup, so [`Inner::owner`] per outpoint costs a pass each.
    fn outputs(&self) -> HashMap<OutPoint, (AddrKind, LocalOutput)> {
        let mut out = HashMap::new();
        for (kind, w) in [
            (AddrKind::P2tr, &self.tr.0),
            (AddrKind::P2wpkh, &self.wpkh.0),
        ] {
            out.extend(w.list_output().map(|o| (o.outpoint, (kind, o))));
        }
        out
    }

    fn owner(&self, op: &OutPoint) -> Option<(AddrKind, LocalOutput)> {
        if let Some(o) = self.tr.0.get_utxo(*op) {
            return Some((AddrKind::P2tr, o));
        }
        self.wpkh.0.get_utxo(*op).map(|o| (AddrKind::P2wpkh, o))
    }

    /// Apply a transaction we made (or were handed) as unconfirmed, now.
    fn apply_unconfirmed(&mut self, tx: &Transaction, store: &Store) -> Result<(), WalletError> {
        let t = self.tick();
        for (w, _) in [&mut self.tr, &mut self.wpkh] {
            w.apply_unconfirmed_txs([(tx.clone(), t)]);
        }
        self.persist(store)
    }
}

/// The node's on-chain wallet.
pub struct Wallet {
    inner: tokio::sync::Mutex<Inner>,
    /// The seed's BIP32 root, to sign PSBTs; never formatted.
    root: bitcoin::bip32::Xpriv,
    genesis: bitcoin::BlockHash,
    chain: Arc<dyn ChainSource>,
    store: Arc<Store>,
    network: bitcoin::Network,
    /// True once the start-up catch-up ([`Wallet::catch_up`]) has run; until
    /// then [`Wallet::sync`] waits, so no call sees the wallet half-synced
    /// or evicts a transaction before it was sent again.
    caught_up: tokio::sync::watch::Sender<bool>,
    /// Set until our unconfirmed transactions have been sent again once.
    /// While set, a sync keeps the ones the mempool lacks instead of
    /// marking them evicted: a failed start-up catch-up is finished by the
    /// next sync that succeeds.
    rebroadcast_pending: std::sync::atomic::AtomicBool,
}

impl std::fmt::Debug for Wallet {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Wallet")
            .field("network", &self.network)
            .finish_non_exhaustive()
    }
}

/// A built, unsigned transaction.
#[derive(Debug, Clone)]
pub struct Funded {
    /// The PSBT with every input's metadata.
    pub psbt: Psbt,
    /// Feerate used, sat per 1000 weight.
    pub feerate_perkw: u32,
    /// Estimated weight once signed.
    pub estimated_weight: u64,
    /// Value left over (fundpsbt without change), sat.
    pub excess_sat: u64,
    /// Index of our change output, if any.
    pub change_outnum: Option<u32>,
    /// The inputs' reservations, made under the same lock that chose them
    /// (empty when no reservation was asked for).
    pub reservations: Vec<Reservation>,
}

/// One reservation change, as CLN reports it.
#[derive(Debug, Clone)]
pub struct Reservation {
    /// The output.
    pub outpoint: OutPoint,
    /// Reserved before the call.
    pub was_reserved: bool,
    /// Reserved after it.
    pub reserved: bool,
    /// Expiry height after it, when reserved.
    pub reserved_to_block: Option<u32>,
}

fn open_side<D: bdk_wallet::descriptor::IntoWalletDescriptor + Send + Clone + 'static>(
    store: &Arc<Store>,
    id: u8,
    ext: D,
    int: D,
    network: bitcoin::Network,
    genesis: bitcoin::BlockHash,
) -> Result<Side, WalletError> {
    let mut p = StorePersister::new(store.clone(), id);
    let loaded = bdk_wallet::Wallet::load()
        .descriptor(KeychainKind::External, Some(ext.clone()))
        .descriptor(KeychainKind::Internal, Some(int.clone()))
        .check_network(network)
        .check_genesis_hash(genesis)
        .load_wallet(&mut p)
        .map_err(bdk)?;
    let w = match loaded {
        Some(w) => w,
        None => bdk_wallet::Wallet::create(ext, int)
            .network(network)
            .genesis_hash(genesis)
            .create_wallet(&mut p)
            .map_err(bdk)?,
    };
    Ok((w, p))
}

fn open_sides(
    store: &Arc<Store>,
    root: bitcoin::bip32::Xpriv,
    network: bitcoin::Network,
    genesis: bitcoin::BlockHash,
) -> Result<(Side, Side), WalletError> {
    let tr = open_side(
        store,
        0,
        Bip86(root, KeychainKind::External),
        Bip86(root, KeychainKind::Internal),
        network,
        genesis,
    )?;
    let wpkh = open_side(
        store,
        1,
        Bip84(root, KeychainKind::External),
        Bip84(root, KeychainKind::Internal),
        network,
        genesis,
    )?;
    Ok((tr, wpkh))
}

impl Wallet {
    /// Drop every checkpoint above `height` (blocks the chain no longer
    /// has). bdk's wallet only replaces blocks when a competing one arrives
    /// and has no in-memory disconnect, so the removal is persisted as a
    /// changeset and both wallets are reloaded from the store: reorgs are
    /// rare, and this is also exactly what a restart would see.
    fn rewind(&self, inner: &mut Inner, height: u32) -> Result<(), WalletError> {
        inner.persist(&self.store)?;
        let drop_above = |w: &bdk_wallet::Wallet| {
            let mut cs = bdk_wallet::ChangeSet::default();
            for cp in w.checkpoints() {
                if cp.height() > height {
                    cs.local_chain.blocks.insert(cp.height(), None);
                }
            }
            cs
        };
        let a = drop_above(&inner.tr.0);
        let b = drop_above(&inner.wpkh.0);
        persist::persist_together(
            &self.store,
            &mut [(&mut inner.tr.1, &a), (&mut inner.wpkh.1, &b)],
        )?;
        let (tr, wpkh) = open_sides(&self.store, self.root, self.network, self.genesis)?;
        inner.tr = tr;
        inner.wpkh = wpkh;
        // Re-read the mempool from scratch: what was confirmed may be back.
        inner.mempool.clear();
        tracing::info!(height, "wallet rewound to the fork point");
        Ok(())
    }

    /// Open (or create) the wallet from the node seed and the store. It
    /// catches up with the chain in [`Wallet::spawn_follower`]'s task, so a
    /// long rescan does not hold up the rest of the node; wallet calls wait
    /// for it.
    ///
    /// `new_seed`: the seed was created by this start, so no block before
    /// the current tip can pay it; a new wallet then starts at the tip
    /// instead of scanning from genesis. A restored or existing seed scans
    /// from genesis (its funds may be anywhere), or from `birthday` when
    /// given: the first block that can pay it.
    pub async fn open(
        signer: &Signer,
        store: Arc<Store>,
        chain: Arc<dyn ChainSource>,
        network: bitcoin::Network,
        new_seed: bool,
        birthday: Option<u32>,
    ) -> Result<Arc<Wallet>, WalletError> {
        let genesis = chain
            .block_hash(0)
            .await?
            .ok_or_else(|| WalletError::Bdk("chain has no genesis block".into()))?;
        let root = signer.wallet_root_xprv();
        let (mut tr, mut wpkh) = open_sides(&store, root, network, genesis)?;
        let (tip_height, tip_hash) = chain.tip().await?;
        // Where a new wallet starts: the tip for a new seed, else the block
        // before the given birthday (so the birthday block is scanned).
        let fresh = tr.0.latest_checkpoint().height() == 0;
        let start = match (new_seed, birthday) {
            _ if !fresh => None,
            (true, _) => Some(BlockId {
                height: tip_height,
                hash: tip_hash,
            }),
            (false, Some(h)) if h > tip_height => {
                return Err(WalletError::Invalid(format!(
                    "wallet birthday {h} is above the chain tip {tip_height}"
                )));
            }
            (false, Some(h)) if h > 1 => {
                let height = h - 1;
                let hash = chain
                    .block_hash(height)
                    .await?
                    .ok_or_else(|| WalletError::Bdk(format!("no block at height {height}")))?;
                Some(BlockId { height, hash })
            }
            (false, _) => None,
        };
        if let Some(birthday) = start.filter(|b| b.height > 0) {
            for (w, _) in [&mut tr, &mut wpkh] {
                let cp = w.latest_checkpoint().insert(birthday);
                w.apply_update(bdk_wallet::Update {
                    chain: Some(cp),
                    ..Default::default()
                })
                .map_err(bdk)?;
            }
            let a = tr.0.take_staged().unwrap_or_default();
            let b = wpkh.0.take_staged().unwrap_or_default();
            persist::persist_together(&store, &mut [(&mut tr.1, &a), (&mut wpkh.1, &b)])?;
            if new_seed {
                tracing::info!(
                    height = birthday.height,
                    "new seed: the wallet starts at the chain tip"
                );
            } else {
                tracing::info!(
                    height = birthday.height,
                    "wallet birthday: scanning starts after this block"
                );
            }
        }
        let reservations = persist::load_reservations(&store)?.into_iter().collect();
        let wallet = Arc::new(Wallet {
            inner: tokio::sync::Mutex::new(Inner {
                tr,
                wpkh,
                reservations,
                mempool: HashSet::new(),
                clock: 0,
            }),
            root,
            genesis,
            chain,
            store,
            network,
            caught_up: tokio::sync::watch::channel(false).0,
            rebroadcast_pending: std::sync::atomic::AtomicBool::new(true),
        });
        Ok(wallet)
    }

    /// The start-up catch-up: blocks since the wallet's tip (keeping
    /// unconfirmed wallet transactions), our unconfirmed transactions sent
    /// again, then a normal sync. Wallet calls wait until it has run, even
    /// if it failed (the follower retries).
    async fn catch_up(&self) -> Result<(), WalletError> {
        let result = async {
            let started = std::time::Instant::now();
            let from = self.inner.lock().await.tip();
            let tip = self.sync_and_rebroadcast().await?;
            let sync_ms = started.elapsed().as_millis() as u64;
            tracing::info!(from, tip, sync_ms, "wallet synced");
            Ok(())
        }
        .await;
        self.caught_up.send_replace(true);
        result
    }

    /// Sync without evicting, then send our unconfirmed transactions again;
    /// clears [`Wallet::rebroadcast_pending`] once both succeeded.
    async fn sync_and_rebroadcast(&self) -> Result<u32, WalletError> {
        let tip = self.sync_inner(false).await?;
        self.rebroadcast().await?;
        self.rebroadcast_pending
            .store(false, std::sync::atomic::Ordering::Release);
        Ok(tip)
    }

    /// Send our unconfirmed transactions that the backend's mempool lacks
    /// again (a restarted embedded chain, or a node that lost them); the ones
    /// it refuses (double-spent, conflicting) are marked evicted, so their
    /// inputs are spendable again.
    async fn rebroadcast(&self) -> Result<(), WalletError> {
        let pending: Vec<Transaction> = {
            let inner = self.inner.lock().await;
            let mut seen = HashSet::new();
            let mut out = Vec::new();
            for (w, _) in [&inner.tr, &inner.wpkh] {
                for t in w.transactions() {
                    let txid = t.tx_node.txid;
                    if matches!(t.chain_position, ChainPosition::Unconfirmed { .. })
                        && !inner.mempool.contains(&txid)
                        && seen.insert(txid)
                    {
                        out.push(t.tx_node.tx.as_ref().clone());
                    }
                }
            }
            out
        };
        // Parents first, so one pass is enough: a child fails only if its
        // parent did.
        let mut left = Vec::new();
        for tx in crate::chain::parents_first(pending) {
            if self.chain.broadcast(tx.clone()).await.is_err() {
                left.push(tx);
            }
        }
        if !left.is_empty() {
            let mut guard = self.inner.lock().await;
            let inner = &mut *guard;
            let t = inner.tick();
            for (w, _) in [&mut inner.tr, &mut inner.wpkh] {
                w.apply_evicted_txs(left.iter().map(|tx| (tx.compute_txid(), t)));
            }
            inner.persist(&self.store)?;
            tracing::info!(
                count = left.len(),
                "dropped unconfirmed wallet transactions the chain refuses"
            );
        }
        Ok(())
    }

    /// Follow the chain until the task is aborted: first the start-up
    /// catch-up, then a sync on every notification and every `poll` (for
    /// the mempool).
    pub fn spawn_follower(self: &Arc<Self>, poll: Duration) -> tokio::task::JoinHandle<()> {
        let me = self.clone();
        let mut rx = self.chain.subscribe();
        tokio::spawn(async move {
            if let Err(e) = me.catch_up().await {
                tracing::warn!(error = %e, "wallet catch-up failed; will retry");
            }
            loop {
                tokio::select! {
                    r = rx.recv() => {
                        if let Err(tokio::sync::broadcast::error::RecvError::Closed) = r {
                            return;
                        }
                    }
                    _ = tokio::time::sleep(poll) => {}
                }
                if let Err(e) = me.sync().await {
                    tracing::warn!(error = %e, "wallet sync failed; will retry");
                    tokio::time::sleep(poll).await;
                }
            }
        })
    }

    /// Bring both wallets to the chain's tip and mempool (reorg-safe), and
    /// persist. Returns the tip height.
    pub async fn sync(&self) -> Result<u32, WalletError> {
        let mut caught_up = self.caught_up.subscribe();
        // The sender lives in `self`, so this cannot fail while we wait.
        let _ = caught_up.wait_for(|done| *done).await;
        if self
            .rebroadcast_pending
            .load(std::sync::atomic::Ordering::Acquire)
        {
            return self.sync_and_rebroadcast().await;
        }
        self.sync_inner(true).await
    }

    /// [`Wallet::sync`]; `evict_missing: false` keeps unconfirmed wallet
    /// transactions the mempool lacks (at start, before they are sent again).
    async fn sync_inner(&self, evict_missing: bool) -> Result<u32, WalletError> {
        let mut guard = self.inner.lock().await;
        let inner = &mut *guard;
        let (tip, _) = self.chain.tip().await?;
        // Fork point: the highest wallet checkpoint still on the best chain.
        // Both sides apply the same blocks and are persisted together, so
        // they agree; should they not, the lower one decides and both are
        // rewound to it.
        let lower = if inner.wpkh.0.latest_checkpoint().height() < inner.tip() {
            &inner.wpkh.0
        } else {
            &inner.tr.0
        };
        // Newest first, and usually the first one matches: walk lazily.
        let mut fork = None;
        for cp in lower.checkpoints().map(|cp| cp.block_id()) {
            if cp.height <= tip && self.chain.block_hash(cp.height).await? == Some(cp.hash) {
                fork = Some(cp);
                break;
            }
        }
        let mut prev =
            fork.ok_or_else(|| WalletError::Bdk("wallet shares no block with the chain".into()))?;
        if inner.tip() > prev.height || inner.wpkh.0.latest_checkpoint().height() > prev.height {
            self.rewind(inner, prev.height)?;
        }
        let mut applied = 0u32;
        while prev.height < tip {
            let height = prev.height + 1;
            let Some(hash) = self.chain.block_hash(height).await? else {
                break; // the chain shrank under us; the next sync continues
            };
            let Some(block) = self.chain.block(hash).await? else {
                break;
            };
            if block.header.prev_blockhash != prev.hash {
                break; // reorg while we read; the next sync finds the new fork
            }
            for (w, _) in [&mut inner.tr, &mut inner.wpkh] {
                w.apply_block_connected_to(&block, height, prev)
                    .map_err(bdk)?;
            }
            prev = BlockId { height, hash };
            applied += 1;
            if applied.is_multiple_of(PERSIST_EVERY) {
                inner.persist(&self.store)?;
            }
        }
        // The mempool: new transactions as seen now; ours that left it
        // unconfirmed are evicted (a double spend or a dropped tx).
        let mempool: Vec<(Txid, Transaction)> = self
            .chain
            .mempool()
            .await?
            .into_iter()
            .map(|t| (t.compute_txid(), t))
            .collect();
        let now_ids: HashSet<Txid> = mempool.iter().map(|(id, _)| *id).collect();
        let fresh: Vec<Transaction> = mempool
            .into_iter()
            .filter(|(id, _)| !inner.mempool.contains(id))
            .map(|(_, t)| t)
            .collect();
        if !fresh.is_empty() {
            let t = inner.tick();
            for (w, _) in [&mut inner.tr, &mut inner.wpkh] {
                w.apply_unconfirmed_txs(fresh.iter().map(|tx| (tx.clone(), t)));
            }
        }
        // Unconfirmed means "in the mempool": a wallet transaction that is
        // in neither (double-spent, dropped, or disconnected and not
        // returned) is marked evicted so its inputs count as ours again.
        if evict_missing {
            let t = inner.tick();
            for (w, _) in [&mut inner.tr, &mut inner.wpkh] {
                let evict: Vec<(Txid, u64)> = w
                    .transactions()
                    .filter(|tx| {
                        matches!(tx.chain_position, ChainPosition::Unconfirmed { .. })
                            && !now_ids.contains(&tx.tx_node.txid)
                    })
                    .map(|tx| (tx.tx_node.txid, t))
                    .collect();
                if !evict.is_empty() {
                    tracing::info!(
                        count = evict.len(),
                        "wallet transactions left the mempool unconfirmed"
                    );
                    w.apply_evicted_txs(evict);
                }
            }
        }
        inner.mempool = now_ids;
        inner.persist(&self.store)?;
        Ok(prev.height)
    }

    /// A fresh receive address of `kind`, persisted before it is returned.
    pub async fn new_address(&self, kind: AddrKind) -> Result<Address, WalletError> {
        let mut inner = self.inner.lock().await;
        let a = inner
            .side(kind)
            .0
            .reveal_next_address(KeychainKind::External)
            .address;
        inner.persist(&self.store)?;
        Ok(a)
    }

    /// The wallet's outputs (unspent, or all with `include_spent`) and the
    /// wallet's tip height, after a sync.
    pub async fn list_coins(&self, include_spent: bool) -> Result<(Vec<Coin>, u32), WalletError> {
        self.sync().await?;
        let inner = self.inner.lock().await;
        Ok((inner.coins(include_spent), inner.tip()))
    }

    /// The network addresses are for.
    pub fn network(&self) -> bitcoin::Network {
        self.network
    }

    /// Resolve a feerate request to sat per 1000 weight (never below the floor).
    pub async fn feerate_perkw(&self, spec: FeerateSpec) -> Result<u32, WalletError> {
        let kw = match spec {
            FeerateSpec::PerKw(n) => n,
            FeerateSpec::Minimum => FEERATE_FLOOR_PERKW,
            FeerateSpec::Blocks(b) => {
                let r = self.chain.fee_rate(b).await?;
                u32::try_from(r.to_sat_per_kwu()).unwrap_or(u32::MAX)
            }
        };
        Ok(kw.max(FEERATE_FLOOR_PERKW))
    }

    /// Build an unsigned transaction or input set.
    ///
    /// `req` says what to pay; `utxos` (if given) are the only inputs
    /// considered; `minconf` the confirmations an input needs; `reserved_ok`
    /// allows reserved inputs (utxopsbt's `reservedok`). With
    /// `reserve_blocks > 0` the chosen inputs are reserved before the wallet
    /// lock is released, so concurrent calls never pick the same coins.
    pub async fn fund(
        &self,
        req: build::Request,
        feerate_perkw: u32,
        utxos: Option<Vec<OutPoint>>,
        minconf: u32,
        reserved_ok: bool,
        reserve_blocks: u32,
    ) -> Result<Funded, WalletError> {
        self.sync().await?;
        let mut inner = self.inner.lock().await;
        let tip = inner.tip();
        let coins = inner.coins(false);
        let candidates: Vec<Coin> = match &utxos {
            Some(list) => {
                let mut out = Vec::new();
                for op in list {
                    let c = coins.iter().find(|c| c.outpoint == *op).ok_or_else(|| {
                        WalletError::Invalid(format!(
                            "{op} is not an unspent output of this wallet"
                        ))
                    })?;
                    if c.reserved_to.is_some() && !reserved_ok {
                        return Err(WalletError::AlreadyReserved(*op));
                    }
                    if c.status(tip) == CoinStatus::Immature {
                        return Err(WalletError::Invalid(format!(
                            "{op} is an immature coinbase"
                        )));
                    }
                    out.push(c.clone());
                }
                out
            }
            None => coins
                .into_iter()
                .filter(|c| {
                    (reserved_ok || c.reserved_to.is_none())
                        && c.status(tip) != CoinStatus::Immature
                        && c.depth(tip) >= minconf
                })
                .collect(),
        };
        let must_use_all = utxos.is_some();
        // The next change address, revealed (and persisted) only if the
        // plan uses it: a failed or change-less call must not widen the gap
        // a restore from the seed has to scan across.
        let change_spk = req.wants_change().then(|| {
            let next = inner.tr.0.next_derivation_index(KeychainKind::Internal);
            inner
                .tr
                .0
                .peek_address(KeychainKind::Internal, next)
                .address
                .script_pubkey()
        });
        let plan = build::plan(&req, &candidates, must_use_all, feerate_perkw, change_spk)?;
        if plan.change_outnum.is_some() {
            inner.tr.0.reveal_next_address(KeychainKind::Internal);
            inner.persist(&self.store)?;
        }
        let tx = build::unsigned_tx(&plan, tip);
        let mut psbt = Psbt::from_unsigned_tx(tx)
            .map_err(|e| WalletError::Invalid(format!("building the PSBT: {e}")))?;
        for (i, coin) in plan.inputs.iter().enumerate() {
            let (kind, local) = inner
                .owner(&coin.outpoint)
                .ok_or_else(|| WalletError::Invalid(format!("{} vanished", coin.outpoint)))?;
            let w = &inner.side(kind).0;
            let mut input = w.get_psbt_input(local, None, true).map_err(bdk)?;
            if let Some(prev) = w.tx_graph().get_tx(coin.outpoint.txid) {
                input.non_witness_utxo = Some(prev.as_ref().clone());
            }
            psbt.inputs[i] = input;
        }
        let reservations = if reserve_blocks > 0 {
            let inputs: Vec<OutPoint> = plan.inputs.iter().map(|c| c.outpoint).collect();
            self.reserve_locked(&mut inner, &inputs, !reserved_ok, reserve_blocks)?
        } else {
            Vec::new()
        };
        Ok(Funded {
            psbt,
            feerate_perkw,
            estimated_weight: plan.weight,
            excess_sat: plan.excess,
            change_outnum: plan.change_outnum,
            reservations,
        })
    }

    /// Sign every input of `psbt` that is ours. Our inputs' amounts and
    /// key origins come from our own records, not from the PSBT.
    pub async fn sign(&self, psbt: &mut Psbt) -> Result<usize, WalletError> {
        let inner = self.inner.lock().await;
        let inputs: Vec<OutPoint> = psbt
            .unsigned_tx
            .input
            .iter()
            .map(|i| i.previous_output)
            .collect();
        let outputs = inner.outputs();
        let owned = |op: &OutPoint| outputs.get(op).filter(|(_, o)| !o.is_spent);
        for (i, op) in inputs.iter().enumerate() {
            let Some((kind, local)) = owned(op) else {
                continue;
            };
            let w = match kind {
                AddrKind::P2tr => &inner.tr.0,
                AddrKind::P2wpkh => &inner.wpkh.0,
            };
            let ours = w.get_psbt_input(local.clone(), None, true).map_err(bdk)?;
            let slot = psbt.inputs.get_mut(i).ok_or_else(|| {
                WalletError::Invalid("PSBT has fewer inputs than its transaction".into())
            })?;
            slot.witness_utxo = Some(local.txout.clone());
            slot.bip32_derivation = ours.bip32_derivation;
            slot.tap_key_origins = ours.tap_key_origins;
            slot.tap_internal_key = ours.tap_internal_key;
        }
        let secp = bitcoin::secp256k1::Secp256k1::new();
        let signed = match psbt.sign(&self.root, &secp) {
            Ok(keys) => keys.len(),
            Err((keys, errors)) => {
                // Inputs that are not ours fail to sign; that is fine as long
                // as every input that is ours got its signature.
                let ours = inputs.iter().filter(|op| owned(op).is_some()).count();
                if keys.len() < ours {
                    return Err(WalletError::Invalid(format!(
                        "could not sign our inputs: {errors:?}"
                    )));
                }
                keys.len()
            }
        };
        Ok(signed)
    }

    /// Finalize a signed PSBT and extract the transaction.
    pub async fn finalize(&self, psbt: &mut Psbt) -> Result<Transaction, WalletError> {
        let inner = self.inner.lock().await;
        for (w, _) in [&inner.tr, &inner.wpkh] {
            // Returns false while the other side's inputs are still open.
            w.finalize_psbt(psbt, SignOptions::default()).map_err(bdk)?;
        }
        if let Some(i) = psbt
            .inputs
            .iter()
            .position(|i| i.final_script_witness.is_none() && i.final_script_sig.is_none())
        {
            return Err(WalletError::Invalid(format!(
                "input {i} is not signed (not ours, or signpsbt was not called)"
            )));
        }
        psbt.clone()
            .extract_tx()
            .map_err(|e| WalletError::Invalid(format!("cannot extract the transaction: {e}")))
    }

    /// Broadcast and record as unconfirmed; releases its inputs' reservations.
    pub async fn broadcast(&self, tx: Transaction) -> Result<Txid, WalletError> {
        let txid = self.chain.broadcast(tx.clone()).await?;
        let mut inner = self.inner.lock().await;
        inner.mempool.insert(txid);
        inner.apply_unconfirmed(&tx, &self.store)?;
        let released: Vec<(OutPoint, Option<u32>)> = tx
            .input
            .iter()
            .filter(|i| inner.reservations.contains_key(&i.previous_output))
            .map(|i| (i.previous_output, None))
            .collect();
        if !released.is_empty() {
            persist::write_reservations(&self.store, &released)?;
            for (op, _) in &released {
                inner.reservations.remove(op);
            }
        }
        Ok(txid)
    }

    /// Reserve (`blocks > 0`, extend) the outpoints that are ours; unknown
    /// ones are ignored, spent ones refused, as CLN does.
    pub async fn reserve(
        &self,
        outpoints: &[OutPoint],
        exclusive: bool,
        blocks: u32,
    ) -> Result<Vec<Reservation>, WalletError> {
        self.sync().await?;
        let mut inner = self.inner.lock().await;
        self.reserve_locked(&mut inner, outpoints, exclusive, blocks)
    }

    /// [`Self::reserve`] with the wallet lock already held.
    fn reserve_locked(
        &self,
        inner: &mut Inner,
        outpoints: &[OutPoint],
        exclusive: bool,
        blocks: u32,
    ) -> Result<Vec<Reservation>, WalletError> {
        let tip = inner.tip();
        let outputs = inner.outputs();
        let mut changes = Vec::new();
        let mut report = Vec::new();
        for op in outpoints {
            match outputs.get(op) {
                Some((_, o)) if o.is_spent => {
                    return Err(WalletError::Invalid(format!("{op} is already spent")));
                }
                Some(_) => {}
                None => continue,
            }
            let current = inner.reservations.get(op).copied().filter(|&h| h > tip);
            if current.is_some() && exclusive {
                return Err(WalletError::AlreadyReserved(*op));
            }
            let to = current.unwrap_or(tip).saturating_add(blocks);
            changes.push((*op, Some(to)));
            report.push(Reservation {
                outpoint: *op,
                was_reserved: current.is_some(),
                reserved: true,
                reserved_to_block: Some(to),
            });
        }
        persist::write_reservations(&self.store, &changes)?;
        for (op, to) in changes {
            if let Some(h) = to {
                inner.reservations.insert(op, h);
            }
        }
        Ok(report)
    }

    /// Shorten reservations by `blocks`; an input whose reservation ends at
    /// or below the tip is free again.
    pub async fn unreserve(
        &self,
        outpoints: &[OutPoint],
        blocks: u32,
    ) -> Result<Vec<Reservation>, WalletError> {
        self.sync().await?;
        let mut inner = self.inner.lock().await;
        let tip = inner.tip();
        let mut changes = Vec::new();
        let mut report = Vec::new();
        for op in outpoints {
            let Some(current) = inner.reservations.get(op).copied().filter(|&h| h > tip) else {
                if inner.owner(op).is_some() {
                    report.push(Reservation {
                        outpoint: *op,
                        was_reserved: false,
                        reserved: false,
                        reserved_to_block: None,
                    });
                }
                continue;
            };
            let to = current.saturating_sub(blocks);
            let still = to > tip;
            changes.push((*op, still.then_some(to)));
            report.push(Reservation {
                outpoint: *op,
                was_reserved: true,
                reserved: still,
                reserved_to_block: still.then_some(to),
            });
        }
        persist::write_reservations(&self.store, &changes)?;
        for (op, to) in changes {
            match to {
                Some(h) => inner.reservations.insert(op, h),
                None => inner.reservations.remove(&op),
            };
        }
        Ok(report)
    }
}
