//! The node API: request and response shapes, and a typed client.
//!
//! Method names and result shapes follow Core Lightning where a counterpart
//! exists, so that its documentation, tools and habits carry over. The shapes
//! here are checked against Core Lightning's JSON schemas in the node's tests.

use serde::{Deserialize, Serialize};

/// An address the node announces or listens on (Core Lightning's `address`
/// and `binding` entries).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NetAddress {
    /// `ipv4`, `ipv6`, `dns`, `torv3`, or (bindings only) `local socket`.
    #[serde(rename = "type")]
    pub kind: String,
    /// Host part, absent for a local socket.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub address: Option<String>,
    /// Port, absent for a local socket.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub port: Option<u16>,
    /// Socket path, for a local socket.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub socket: Option<String>,
}

/// BOLT 9 feature bits we advertise, per context, as hex.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct OurFeatures {
    /// In `init`.
    pub init: String,
    /// In `node_announcement`.
    pub node: String,
    /// In `channel_announcement`.
    pub channel: String,
    /// In BOLT 11 invoices.
    pub invoice: String,
}

/// `getinfo` result, in Core Lightning's shape.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct GetInfo {
    /// The node id (compressed public key, hex).
    pub id: String,
    /// The alias the node advertises (at most 32 bytes).
    pub alias: String,
    /// RGB colour, 6 hex digits.
    pub color: String,
    /// Peers connected or with channels.
    pub num_peers: u32,
    /// Channels being opened.
    pub num_pending_channels: u32,
    /// Channels in normal operation.
    pub num_active_channels: u32,
    /// Channels waiting for an opening or closing transaction.
    pub num_inactive_channels: u32,
    /// Addresses announced to the network.
    pub address: Vec<NetAddress>,
    /// Addresses the node listens on for peers.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub binding: Option<Vec<NetAddress>>,
    /// Lumen's version.
    pub version: String,
    /// The highest block height the node knows.
    pub blockheight: u32,
    /// `bitcoin`, `testnet`, `signet` or `regtest`.
    pub network: String,
    /// Routing fees earned, in millisatoshi.
    pub fees_collected_msat: u64,
    /// The node's data directory.
    #[serde(rename = "lightning-dir")]
    pub lightning_dir: String,
    /// Feature bits, when the node speaks the peer protocol.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub our_features: Option<OurFeatures>,
    /// Set while the chain backend is behind the network.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub warning_bitcoind_sync: Option<String>,
}

/// One datastore record, as `datastore`, `deldatastore` and `listdatastore`
/// return it. A listed key that only has children carries no data fields.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DatastoreEntry {
    /// The key path.
    pub key: Vec<String>,
    /// How many times the value was updated since it was created.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub generation: Option<u64>,
    /// The value, hex.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub hex: Option<String>,
    /// The value as a string, when it is valid UTF-8 without NUL bytes.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub string: Option<String>,
}

/// `listdatastore` result.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ListDatastore {
    /// The records.
    pub datastore: Vec<DatastoreEntry>,
}

/// `stop` result.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StopResult {
    /// Always `"Shutdown complete"`.
    pub result: String,
}

/// One `help` entry.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HelpEntry {
    /// The method with its parameters, e.g. `datastore key [string] [hex] [mode] [generation]`.
    pub command: String,
}

/// `help` result.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Help {
    /// One entry per method.
    pub help: Vec<HelpEntry>,
    /// `"simple"`: print the entries as plain lines.
    #[serde(
        rename = "format-hint",
        skip_serializing_if = "Option::is_none",
        default
    )]
    pub format_hint: Option<String>,
}

/// A typed client for the node API (HTTP, WebSocket, and later the plugin pipe).
///
/// Parameters travel by name, as Core Lightning's own clients send them.
#[jsonrpsee::proc_macros::rpc(client)]
pub trait NodeApi {
    /// Node identity and state.
    #[method(name = "getinfo", param_kind = map)]
    async fn getinfo(&self) -> jsonrpsee::core::RpcResult<GetInfo>;

    /// Store a string value under `key`.
    #[method(name = "datastore", param_kind = map)]
    async fn datastore(
        &self,
        key: Vec<String>,
        string: Option<String>,
        hex: Option<String>,
        mode: Option<String>,
        generation: Option<u64>,
    ) -> jsonrpsee::core::RpcResult<DatastoreEntry>;

    /// List records under `key` (all top-level records without it).
    #[method(name = "listdatastore", param_kind = map)]
    async fn listdatastore(
        &self,
        key: Option<Vec<String>>,
    ) -> jsonrpsee::core::RpcResult<ListDatastore>;

    /// Delete the record at `key`.
    #[method(name = "deldatastore", param_kind = map)]
    async fn deldatastore(
        &self,
        key: Vec<String>,
        generation: Option<u64>,
    ) -> jsonrpsee::core::RpcResult<DatastoreEntry>;

    /// Every method with its usage.
    #[method(name = "help", param_kind = map)]
    async fn help(&self, command: Option<String>) -> jsonrpsee::core::RpcResult<Help>;

    /// Shut the node down cleanly.
    #[method(name = "stop", param_kind = map)]
    async fn stop(&self) -> jsonrpsee::core::RpcResult<StopResult>;
}
