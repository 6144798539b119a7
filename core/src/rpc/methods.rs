//! Built-in methods: `getinfo`, `help`, `stop`, and the datastore.

use std::sync::Arc;

use lumen_sdk::api::{GetInfo, Help, HelpEntry, ListDatastore, NetAddress, StopResult};
use serde_json::Value;
use tokio::sync::{mpsc, oneshot};

use super::{Dispatcher, Method, ParamSpec, RpcError, blocking};
use crate::chain::ChainSource;
use crate::config::Network;
use crate::datastore::{Datastore, Mode};
use crate::peer::PeerManager;

/// What `getinfo` reports about the node itself.
#[derive(Debug, Clone)]
pub struct NodeIdentity {
    /// Node id, hex.
    pub id: String,
    /// Alias.
    pub alias: String,
    /// Colour, hex.
    pub color: String,
    /// Network.
    pub network: Network,
    /// Data dir.
    pub datadir: String,
}

/// A request to shut down; the sender is told when the node has finished
/// its in-flight work and flushed the store.
pub type ShutdownRequest = oneshot::Sender<()>;

/// Lumen's version as `getinfo` reports it.
pub const VERSION: &str = concat!("v", env!("CARGO_PKG_VERSION"));

fn to_value<T: serde::Serialize>(v: T) -> Result<Value, RpcError> {
    serde_json::to_value(v).map_err(|e| RpcError::internal(format!("serialising result: {e}")))
}

/// Register every built-in method.
pub fn register_builtins(
    dispatcher: &Arc<Dispatcher>,
    identity: NodeIdentity,
    datastore: Arc<Datastore>,
    shutdown: mpsc::Sender<ShutdownRequest>,
    chain: Option<Arc<dyn ChainSource>>,
    peers: Arc<PeerManager>,
) -> Result<(), String> {
    let id = identity.clone();
    dispatcher.register(Method::new(
        "getinfo",
        &[],
        "Show the node's identity and state.",
        move |_p| {
            let id = id.clone();
            let chain = chain.clone();
            let peers = peers.clone();
            async move {
                let blockheight = match &chain {
                    Some(c) => {
                        c.tip()
                            .await
                            .map_err(|e| RpcError::internal(e.to_string()))?
                            .0
                    }
                    None => 0,
                };
                to_value(GetInfo {
                    id: id.id,
                    alias: id.alias,
                    color: id.color,
                    // Peers, channels and the chain are not wired in yet: these are
                    // the true values for a node without those subsystems.
                    num_peers: peers.list().len() as u32,
                    num_pending_channels: 0,
                    num_active_channels: 0,
                    num_inactive_channels: 0,
                    address: Vec::new(),
                    binding: Some(
                        peers
                            .bound()
                            .iter()
                            .map(|a| NetAddress {
                                kind: if a.is_ipv4() { "ipv4" } else { "ipv6" }.to_string(),
                                address: Some(a.ip().to_string()),
                                port: Some(a.port()),
                                socket: None,
                            })
                            .collect(),
                    ),
                    version: VERSION.to_string(),
                    blockheight,
                    network: id.network.to_string(),
                    fees_collected_msat: 0,
                    lightning_dir: id.datadir,
                    our_features: Some(
                        crate::plugin::features::FeatureSets::ours(peers.our_features())
                            .to_our_features(),
                    ),
                    warning_bitcoind_sync: None,
                })
            }
        },
    ))?;

    let weak = Arc::downgrade(dispatcher);
    dispatcher.register(Method::new(
        "help",
        &[ParamSpec::opt("command")],
        "List every method with its parameters, or just {command}.",
        move |p| {
            let weak = weak.clone();
            async move {
                let d = weak.upgrade().ok_or_else(RpcError::shutting_down)?;
                let command: Option<String> = p.get("command")?;
                let entries: Vec<HelpEntry> = d
                    .methods()
                    .into_iter()
                    .filter(|m| command.as_deref().is_none_or(|c| c == m.name))
                    .map(|m| HelpEntry { command: m.usage() })
                    .collect();
                if let (Some(c), true) = (&command, entries.is_empty()) {
                    return Err(RpcError::invalid_param(
                        "command",
                        format!("unknown command '{c}'"),
                    ));
                }
                to_value(Help {
                    help: entries,
                    format_hint: command.map(|_| "simple".to_string()),
                })
            }
        },
    ))?;

    dispatcher.register(Method::new(
        "stop",
        &[],
        "Shut the node down: finish in-flight calls, flush the store, exit.",
        move |_p| {
            let shutdown = shutdown.clone();
            async move {
                let (tx, rx) = oneshot::channel();
                shutdown
                    .send(tx)
                    .await
                    .map_err(|_| RpcError::internal("shutdown already in progress"))?;
                rx.await
                    .map_err(|_| RpcError::internal("shutdown did not complete"))?;
                to_value(StopResult {
                    result: "Shutdown complete".to_string(),
                })
            }
        },
    ))?;

    let ds = datastore.clone();
    dispatcher.register(Method::new(
        "datastore",
        &[
            ParamSpec::req("key"),
            ParamSpec::opt("string"),
            ParamSpec::opt("hex"),
            ParamSpec::opt("mode"),
            ParamSpec::opt("generation"),
        ],
        "Store {string} or {hex} under {key} (mode: must-create, must-replace, create-or-replace, must-append, create-or-append).",
        move |p| {
            let ds = ds.clone();
            async move {
                let key = p.key_path("key")?.unwrap_or_default();
                let string: Option<String> = p.get("string")?;
                let hex_data: Option<String> = p.get("hex")?;
                let data = match (string, hex_data) {
                    (Some(_), Some(_)) => return Err(RpcError::invalid_param("hex", "cannot have both hex and string")),
                    (Some(s), None) => s.into_bytes(),
                    (None, Some(h)) => hex::decode(&h).map_err(|e| RpcError::invalid_param("hex", format!("not hex: {e}")))?,
                    (None, None) => return Err(RpcError::invalid_param("string", "must have either hex or string")),
                };
                let mode = match p.get::<String>("mode")? {
                    None => Mode::MustCreate,
                    Some(m) => Mode::parse(&m).ok_or_else(|| {
                        RpcError::invalid_param(
                            "mode",
                            format!("'{m}' should be 'must-create', 'must-replace', 'create-or-replace', 'must-append' or 'create-or-append'"),
                        )
                    })?,
                };
                let generation: Option<u64> = p.get("generation")?;
                blocking(move || ds.put(&key, data, mode, generation).and_then(to_value)).await
            }
        },
    ))?;

    let ds = datastore.clone();
    dispatcher.register(Method::new(
        "deldatastore",
        &[ParamSpec::req("key"), ParamSpec::opt("generation")],
        "Delete the value at {key}, optionally only if it is at {generation}.",
        move |p| {
            let ds = ds.clone();
            async move {
                let key = p.key_path("key")?.unwrap_or_default();
                let generation: Option<u64> = p.get("generation")?;
                blocking(move || ds.delete(&key, generation).and_then(to_value)).await
            }
        },
    ))?;

    let ds = datastore;
    dispatcher.register(Method::new(
        "listdatastore",
        &[ParamSpec::opt("key")],
        "List the datastore at {key} (its value and its children), or the top level.",
        move |p| {
            let ds = ds.clone();
            async move {
                let key = p.key_path("key")?.unwrap_or_default();
                blocking(move || {
                    ds.list(&key)
                        .and_then(|datastore| to_value(ListDatastore { datastore }))
                })
                .await
            }
        },
    ))?;
    Ok(())
}
