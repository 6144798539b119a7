//! Bitcoin Core as the chain: its JSON-RPC over HTTP ([`rpc`]), a poller
//! that follows its best chain and announces reorgs ([`follow`]), and the
//! [`ChainSource`] queries on top.
//!
//! [`ChainSource::tip`] is the tip the poller last announced, so it never runs
//! ahead of the event stream; the other queries ask Core directly.
//! `block` also returns a stale block Core still stores (useful when handling
//! a `Disconnected`); `header` answers for the best chain only.
//!
//! A reorg deeper than [`follow::WINDOW`] blocks announces only the blocks
//! the poller remembers as disconnected (and logs an error): deeper ones were
//! never kept. Cost: an idle poll is one call; each new block about five
//! (one per HTTP request); a catch-up two per block, batched 250 at a time.

pub mod follow;
pub mod rpc;

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use bitcoin::consensus::encode::{deserialize_hex, serialize_hex};
use bitcoin::{
    Amount, Block, BlockHash, FeeRate, Network, OutPoint, ScriptBuf, Transaction, TxOut, Txid,
};
use serde_json::{Value, json};
use tokio::sync::broadcast;

use self::follow::{Follower, hash_from, header_from};
use self::rpc::{Auth, RpcClient, RpcError, RpcStats, codes};
use crate::chain::{ChainFuture, ChainNotification, ChainSource, ChainSourceError, parents_first};

/// How long start-up waits for a Core that is down or warming up.
const START_WAIT: Duration = Duration::from_secs(30);
/// Longest pause between polls while Core is unreachable.
const MAX_BACKOFF: Duration = Duration::from_secs(5);
/// Transactions fetched per batch when reading the mempool.
const MEMPOOL_CHUNK: usize = 500;

/// How to reach Bitcoin Core.
#[derive(Debug, Clone)]
pub struct BitcoindConfig {
    /// `http://host:port`.
    pub url: String,
    /// Cookie file or user and password.
    pub auth: Auth,
    /// Pause between polls of the tip.
    pub poll: Duration,
    /// Fee rate to use when Core has no estimate; `None` makes that an error.
    pub fallback_feerate: Option<FeeRate>,
}

/// Why the backend could not start.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    /// Core runs another network.
    #[error(
        "Bitcoin Core at {url} is on chain '{core}', but this node runs {ours} \
         (Core calls it '{ours_core}'); point chain.bitcoind_url at a {ours} bitcoind"
    )]
    WrongNetwork {
        /// The endpoint.
        url: String,
        /// Core's `getblockchaininfo.chain`.
        core: String,
        /// Our network.
        ours: Network,
        /// Our network in Core's words.
        ours_core: &'static str,
    },
    /// Core could not be queried.
    #[error(transparent)]
    Rpc(#[from] RpcError),
}

struct Shared {
    rpc: RpcClient,
    events: broadcast::Sender<ChainNotification>,
    tip: Mutex<(u32, BlockHash)>,
    fallback: Option<FeeRate>,
    fallback_logged: AtomicBool,
    /// Mempool transactions already fetched, by txid: the wallet asks for
    /// the mempool at every sync, and only new txids need
    /// `getrawtransaction`.
    mempool: Mutex<HashMap<Txid, Transaction>>,
}

impl Shared {
    /// Record the new tip, then tell subscribers.
    fn announce(&self, event: ChainNotification, tip: Option<(u32, BlockHash)>) {
        if let (Some(t), Ok(mut guard)) = (tip, self.tip.lock()) {
            *guard = t;
        }
        // No subscriber is fine.
        let _ = self.events.send(event);
    }
}

/// The Bitcoin Core backend. Dropping it stops the poller.
pub struct BitcoindChain {
    shared: Arc<Shared>,
    poller: tokio::task::JoinHandle<()>,
}

impl Drop for BitcoindChain {
    fn drop(&mut self) {
        self.poller.abort();
    }
}

fn backend(e: RpcError) -> ChainSourceError {
    ChainSourceError::Backend(e.to_string())
}

/// Core's reject reason out of a `sendrawtransaction` message: Core prints
/// `reason, detail` (and some reasons carry ` (detail)`).
pub fn reject_reason(message: &str) -> &str {
    let head = message.split(", ").next().unwrap_or(message);
    head.split(" (").next().unwrap_or(head).trim()
}

/// A BTC amount as Core prints it.
fn btc_amount(v: &Value) -> Result<Amount, RpcError> {
    v.as_f64()
        .filter(|b| b.is_finite() && *b >= 0.0 && *b <= 21e6)
        .map(|b| Amount::from_sat((b * 1e8).round() as u64))
        .ok_or_else(|| RpcError::Protocol(format!("expected an amount in BTC, got {v}")))
}

impl BitcoindChain {
    /// Connect to Core, check it runs `network`, load the recent best chain
    /// and start following it. Waits up to 30 s for a Core that is down or
    /// still warming up; wrong credentials or a wrong network fail at once.
    pub async fn start(
        config: BitcoindConfig,
        network: Network,
    ) -> Result<BitcoindChain, StartError> {
        let rpc = RpcClient::new(&config.url, config.auth.clone())
            .map_err(|e| RpcError::Protocol(format!("chain.bitcoind_url: {e}")))?;
        let waited = Instant::now();
        let mut warned = false;
        let info = loop {
            match rpc.call("getblockchaininfo", json!([])).await {
                Ok(v) => break v,
                Err(e) => {
                    let transient = matches!(e, RpcError::Transport { .. })
                        || e.core_code() == Some(codes::IN_WARMUP);
                    if !transient || waited.elapsed() >= START_WAIT {
                        return Err(e.into());
                    }
                    if !warned {
                        tracing::warn!(url = %rpc.url(), error = %e, "waiting up to {START_WAIT:?} for Bitcoin Core");
                        warned = true;
                    }
                    tokio::time::sleep(Duration::from_secs(1)).await;
                }
            }
        };
        let core = info.get("chain").and_then(Value::as_str).unwrap_or("");
        let ours_core = follow::core_chain_name(network);
        if core != ours_core {
            return Err(StartError::WrongNetwork {
                url: config.url.clone(),
                core: core.to_string(),
                ours: network,
                ours_core,
            });
        }

        let mut follower = Follower::new();
        // The first step only loads the state: nothing has happened yet.
        follower.step(&rpc, |_, _| {}).await?;
        let tip = follower
            .window
            .tip()
            .ok_or_else(|| RpcError::Protocol("Bitcoin Core reported no best chain".into()))?;
        tracing::info!(
            url = %config.url,
            chain = core,
            height = tip.0,
            poll_ms = config.poll.as_millis() as u64,
            "following Bitcoin Core"
        );
        let (events, _) = broadcast::channel(4096);
        let shared = Arc::new(Shared {
            rpc,
            events,
            tip: Mutex::new(tip),
            fallback: config.fallback_feerate,
            fallback_logged: AtomicBool::new(false),
            mempool: Mutex::new(HashMap::new()),
        });
        let poller = tokio::spawn(poll_loop(shared.clone(), follower, config.poll));
        Ok(BitcoindChain { shared, poller })
    }

    /// What the client has sent Core so far.
    pub fn rpc_stats(&self) -> RpcStats {
        self.shared.rpc.stats()
    }
}

async fn poll_loop(shared: Arc<Shared>, mut follower: Follower, every: Duration) {
    let mut delay = every;
    let mut down_since: Option<Instant> = None;
    loop {
        tokio::time::sleep(delay).await;
        match follower
            .step(&shared.rpc, |e, tip| shared.announce(e, tip))
            .await
        {
            Ok(step) => {
                if let Some(since) = down_since.take() {
                    tracing::info!(
                        url = %shared.rpc.url(),
                        down_ms = since.elapsed().as_millis() as u64,
                        "Bitcoin Core is reachable again"
                    );
                }
                let depth = step
                    .events
                    .iter()
                    .filter(|e| matches!(e, ChainNotification::Disconnected { .. }))
                    .count();
                if depth > 0 {
                    let tip = shared.tip.lock().map(|t| t.0).unwrap_or_default();
                    tracing::info!(depth, tip, "Bitcoin Core reorganised its best chain");
                }
                if step.deep_reorg {
                    tracing::error!(
                        window = follow::WINDOW,
                        "reorg deeper than the blocks we remember: announced all of them as disconnected and reloaded"
                    );
                }
                delay = every;
            }
            Err(e) => {
                if down_since.is_none() {
                    tracing::warn!(
                        url = %shared.rpc.url(),
                        error = %e,
                        "cannot follow Bitcoin Core; retrying with backoff (up to {MAX_BACKOFF:?})"
                    );
                    down_since = Some(Instant::now());
                } else {
                    tracing::debug!(error = %e, "Bitcoin Core still unavailable");
                }
                delay = (delay * 2).clamp(every, MAX_BACKOFF.max(every));
            }
        }
    }
}

impl ChainSource for BitcoindChain {
    fn tip(&self) -> ChainFuture<'_, (u32, BlockHash)> {
        Box::pin(async move {
            self.shared
                .tip
                .lock()
                .map(|t| *t)
                .map_err(|_| ChainSourceError::Backend("tip state poisoned".into()))
        })
    }

    fn block_hash(&self, height: u32) -> ChainFuture<'_, Option<BlockHash>> {
        Box::pin(async move {
            match self.shared.rpc.call("getblockhash", json!([height])).await {
                Ok(v) => hash_from(&v).map(Some).map_err(backend),
                Err(e) if e.core_code() == Some(codes::INVALID_PARAMETER) => Ok(None),
                Err(e) => Err(backend(e)),
            }
        })
    }

    fn header(&self, hash: BlockHash) -> ChainFuture<'_, Option<(u32, bitcoin::block::Header)>> {
        Box::pin(async move {
            let h = hash.to_string();
            let mut replies = self
                .shared
                .rpc
                .batch(&[
                    ("getblockheader", json!([h, true])),
                    ("getblockheader", json!([h, false])),
                ])
                .await
                .map_err(backend)?
                .into_iter();
            let (Some(verbose), Some(raw)) = (replies.next(), replies.next()) else {
                return Err(backend(RpcError::Protocol("short batch reply".into())));
            };
            let verbose = match verbose {
                Ok(v) => v,
                Err(e) if e.core_code() == Some(codes::INVALID_ADDRESS_OR_KEY) => return Ok(None),
                Err(e) => return Err(backend(e)),
            };
            // Core keeps stale blocks' headers; only the best chain counts.
            if verbose
                .get("confirmations")
                .and_then(Value::as_i64)
                .unwrap_or(-1)
                < 1
            {
                return Ok(None);
            }
            let height = verbose
                .get("height")
                .and_then(Value::as_u64)
                .and_then(|h| u32::try_from(h).ok())
                .ok_or_else(|| backend(RpcError::Protocol("header without a height".into())))?;
            let header = header_from(&raw.map_err(backend)?).map_err(backend)?;
            if header.block_hash() != hash {
                return Err(backend(RpcError::Protocol(format!(
                    "asked for header {hash}, got {}",
                    header.block_hash()
                ))));
            }
            Ok(Some((height, header)))
        })
    }

    fn block(&self, hash: BlockHash) -> ChainFuture<'_, Option<Block>> {
        Box::pin(async move {
            let v = match self
                .shared
                .rpc
                .call("getblock", json!([hash.to_string(), 0]))
                .await
            {
                Ok(v) => v,
                Err(e) if e.core_code() == Some(codes::INVALID_ADDRESS_OR_KEY) => return Ok(None),
                Err(e) => return Err(backend(e)),
            };
            let block: Block = v
                .as_str()
                .and_then(|s| deserialize_hex(s).ok())
                .ok_or_else(|| {
                    backend(RpcError::Protocol("getblock: not a block in hex".into()))
                })?;
            if block.block_hash() != hash {
                return Err(backend(RpcError::Protocol(format!(
                    "asked for block {hash}, got {}",
                    block.block_hash()
                ))));
            }
            Ok(Some(block))
        })
    }

    fn broadcast(&self, tx: Transaction) -> ChainFuture<'_, Txid> {
        Box::pin(async move {
            match self
                .shared
                .rpc
                .call("sendrawtransaction", json!([serialize_hex(&tx)]))
                .await
            {
                Ok(v) => v.as_str().and_then(|s| s.parse().ok()).ok_or_else(|| {
                    backend(RpcError::Protocol(format!(
                        "sendrawtransaction returned {v}"
                    )))
                }),
                Err(RpcError::Core { code, message })
                    if matches!(
                        code,
                        codes::VERIFY_ERROR
                            | codes::VERIFY_REJECTED
                            | codes::VERIFY_ALREADY_IN_UTXO_SET
                            | codes::DESERIALIZATION_ERROR
                    ) =>
                {
                    Err(ChainSourceError::Rejected {
                        reason: reject_reason(&message).to_string(),
                        detail: format!("Bitcoin Core error {code}: {message}"),
                    })
                }
                Err(e) => Err(backend(e)),
            }
        })
    }

    fn fee_rate(&self, target_blocks: u16) -> ChainFuture<'_, FeeRate> {
        Box::pin(async move {
            let target = target_blocks.clamp(1, 1008);
            let v = self
                .shared
                .rpc
                .call("estimatesmartfee", json!([target]))
                .await
                .map_err(backend)?;
            if let Some(btc_per_kvb) = v
                .get("feerate")
                .and_then(Value::as_f64)
                .filter(|r| r.is_finite() && *r > 0.0 && *r < 1.0)
            {
                let sat_per_kvb = (btc_per_kvb * 1e8).round() as u64;
                return Ok(
                    FeeRate::from_sat_per_kwu(sat_per_kvb.div_ceil(4)).max(FeeRate::BROADCAST_MIN)
                );
            }
            let why = v
                .get("errors")
                .map(Value::to_string)
                .unwrap_or_else(|| "no feerate".into());
            match self.shared.fallback {
                Some(rate) => {
                    if !self.shared.fallback_logged.swap(true, Ordering::Relaxed) {
                        tracing::warn!(
                            target_blocks = target,
                            core_says = %why,
                            fallback_sat_per_vb = rate.to_sat_per_vb_ceil(),
                            "Bitcoin Core has no fee estimate; using chain.fallback_feerate (logged once)"
                        );
                    }
                    Ok(rate)
                }
                None => Err(ChainSourceError::Backend(format!(
                    "Bitcoin Core has no fee estimate for {target} blocks ({why}) and chain.fallback_feerate is not set"
                ))),
            }
        })
    }

    fn utxo(&self, outpoint: OutPoint) -> ChainFuture<'_, Option<TxOut>> {
        Box::pin(async move {
            let v = self
                .shared
                .rpc
                .call(
                    "gettxout",
                    json!([outpoint.txid.to_string(), outpoint.vout, false]),
                )
                .await
                .map_err(backend)?;
            if v.is_null() {
                return Ok(None);
            }
            let value = btc_amount(&v["value"]).map_err(backend)?;
            let script = v["scriptPubKey"]["hex"]
                .as_str()
                .and_then(|s| hex::decode(s).ok())
                .ok_or_else(|| {
                    backend(RpcError::Protocol(
                        "gettxout without scriptPubKey.hex".into(),
                    ))
                })?;
            Ok(Some(TxOut {
                value,
                script_pubkey: ScriptBuf::from_bytes(script),
            }))
        })
    }

    fn mempool(&self) -> ChainFuture<'_, Vec<Transaction>> {
        Box::pin(async move {
            let ids = self
                .shared
                .rpc
                .call("getrawmempool", json!([false]))
                .await
                .map_err(backend)?;
            let ids: Vec<Txid> = ids
                .as_array()
                .ok_or_else(|| backend(RpcError::Protocol("getrawmempool: not an array".into())))?
                .iter()
                .filter_map(|v| v.as_str().and_then(|s| s.parse().ok()))
                .collect();
            let known: HashMap<Txid, Transaction> = {
                let cache =
                    self.shared.mempool.lock().map_err(|_| {
                        backend(RpcError::Protocol("mempool cache poisoned".into()))
                    })?;
                ids.iter()
                    .filter_map(|id| cache.get(id).map(|t| (*id, t.clone())))
                    .collect()
            };
            let new: Vec<String> = ids
                .iter()
                .filter(|id| !known.contains_key(*id))
                .map(Txid::to_string)
                .collect();
            let mut txs: Vec<Transaction> = Vec::with_capacity(ids.len());
            for chunk in new.chunks(MEMPOOL_CHUNK) {
                let calls: Vec<(&str, Value)> = chunk
                    .iter()
                    .map(|id| ("getrawtransaction", json!([id, false])))
                    .collect();
                for r in self.shared.rpc.batch(&calls).await.map_err(backend)? {
                    match r {
                        Ok(v) => txs.push(
                            v.as_str()
                                .and_then(|s| deserialize_hex::<Transaction>(s).ok())
                                .ok_or_else(|| {
                                    backend(RpcError::Protocol(
                                        "getrawtransaction: not a transaction in hex".into(),
                                    ))
                                })?,
                        ),
                        // Mined or evicted since the list was taken.
                        Err(e) if e.core_code() == Some(codes::INVALID_ADDRESS_OR_KEY) => {}
                        Err(e) => return Err(backend(e)),
                    }
                }
            }
            // The cache holds exactly the current mempool.
            if let Ok(mut cache) = self.shared.mempool.lock() {
                cache.retain(|id, _| known.contains_key(id));
                cache.extend(txs.iter().map(|t| (t.compute_txid(), t.clone())));
            }
            txs.extend(known.into_values());
            Ok(parents_first(txs))
        })
    }

    fn subscribe(&self) -> broadcast::Receiver<ChainNotification> {
        self.shared.events.subscribe()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use bitcoin::hashes::Hash;

    #[test]
    fn reject_reasons() {
        assert_eq!(
            reject_reason("bad-txns-inputs-missingorspent"),
            "bad-txns-inputs-missingorspent"
        );
        assert_eq!(
            reject_reason("min relay fee not met, 100 < 141"),
            "min relay fee not met"
        );
        assert_eq!(
            reject_reason(
                "mandatory-script-verify-flag-failed (Signature must be zero for failed CHECK(MULTI)SIG operation)"
            ),
            "mandatory-script-verify-flag-failed"
        );
        assert_eq!(
            reject_reason("txn-mempool-conflict (spends an output, already spent)"),
            "txn-mempool-conflict"
        );
    }

    #[test]
    fn amounts() {
        assert_eq!(
            btc_amount(&json!(50.0)).ok(),
            Some(Amount::from_sat(5_000_000_000))
        );
        assert_eq!(
            btc_amount(&json!(0.00000001)).ok(),
            Some(Amount::from_sat(1))
        );
        assert_eq!(
            btc_amount(&json!(0.1)).ok(),
            Some(Amount::from_sat(10_000_000))
        );
        assert!(btc_amount(&json!(-1)).is_err());
        assert!(btc_amount(&json!("1")).is_err());
    }

    fn tx_spending(parents: &[Txid], tag: u32) -> Transaction {
        Transaction {
            version: bitcoin::transaction::Version::TWO,
            lock_time: bitcoin::absolute::LockTime::from_consensus(tag),
            input: parents
                .iter()
                .map(|p| bitcoin::TxIn {
                    previous_output: OutPoint::new(*p, 0),
                    ..Default::default()
                })
                .collect(),
            output: vec![],
        }
    }

    #[test]
    fn parents_come_first() {
        let outside = Txid::from_byte_array([9; 32]);
        let a = tx_spending(&[outside], 1);
        let b = tx_spending(&[a.compute_txid()], 2);
        let c = tx_spending(&[a.compute_txid(), b.compute_txid()], 3);
        let d = tx_spending(&[outside], 4);
        let sorted = parents_first(vec![c.clone(), d.clone(), b.clone(), a.clone()]);
        let pos = |t: &Transaction| sorted.iter().position(|s| s == t).expect("present");
        assert_eq!(sorted.len(), 4);
        assert!(pos(&a) < pos(&b) && pos(&b) < pos(&c));
        assert!(sorted.contains(&d));
    }
}
