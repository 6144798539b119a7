//! Typed shapes of the plugin protocol's start-up messages and of JSON-RPC
//! errors (see `PLUGIN-PROTOCOL.md`), shared by the host and the plugin SDK.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::error_codes;

/// The type of a plugin option.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum OptionType {
    /// A string.
    String,
    /// A string that is never logged or shown (secrets).
    StringConceal,
    /// An integer.
    Int,
    /// A boolean.
    Bool,
    /// A flag: present or not.
    Flag,
}

/// One option a plugin declares in its manifest.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ManifestOption {
    /// Option name, e.g. `hello-greeting`.
    pub name: String,
    /// Value type.
    #[serde(rename = "type")]
    pub kind: OptionType,
    /// Default value, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub default: Option<Value>,
    /// Human description.
    #[serde(default)]
    pub description: String,
    /// May be changed at runtime.
    #[serde(default)]
    pub dynamic: bool,
    /// May be given several times.
    #[serde(default)]
    pub multi: bool,
}

/// An RPC method a plugin serves.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RpcMethodDecl {
    /// Method name.
    pub name: String,
    /// Usage string, e.g. `[name]`.
    #[serde(default)]
    pub usage: String,
    /// Human description.
    #[serde(default)]
    pub description: String,
}

/// A hook a plugin registers for.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HookDecl {
    /// Hook name, e.g. `htlc_accepted`.
    pub name: String,
    /// Plugins this one must run before.
    #[serde(default)]
    pub before: Vec<String>,
    /// Plugins this one must run after.
    #[serde(default)]
    pub after: Vec<String>,
}

/// A notification topic a plugin may emit.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NotificationDecl {
    /// Topic name.
    pub method: String,
}

/// Feature bits a plugin sets (hex strings).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct FeatureBits {
    /// Bits for the `init` message.
    #[serde(default)]
    pub init: String,
    /// Bits for the node announcement.
    #[serde(default)]
    pub node: String,
    /// Bits for channel announcements.
    #[serde(default)]
    pub channel: String,
    /// Bits for invoices.
    #[serde(default)]
    pub invoice: String,
}

/// The `getmanifest` result.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Manifest {
    /// Declared options.
    #[serde(default)]
    pub options: Vec<ManifestOption>,
    /// Served RPC methods.
    #[serde(default)]
    pub rpcmethods: Vec<RpcMethodDecl>,
    /// Notification topics subscribed to (`*` = all).
    #[serde(default)]
    pub subscriptions: Vec<String>,
    /// Hooks registered.
    #[serde(default)]
    pub hooks: Vec<HookDecl>,
    /// Feature bits set.
    #[serde(default)]
    pub featurebits: FeatureBits,
    /// Topics this plugin may emit.
    #[serde(default)]
    pub notifications: Vec<NotificationDecl>,
    /// Odd custom message types (≥ 32768) handled.
    #[serde(default)]
    pub custommessages: Vec<u16>,
    /// May be started/stopped at runtime.
    #[serde(default)]
    pub dynamic: bool,
    /// Accepts string ids.
    #[serde(default)]
    pub nonnumericids: bool,
    /// Members this SDK does not know (the host logs and ignores them).
    #[serde(flatten)]
    pub unknown: Map<String, Value>,
}

/// The `configuration` member of `init`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct InitConfiguration {
    /// The node's data directory.
    #[serde(rename = "lightning-dir")]
    pub lightning_dir: String,
    /// The RPC socket file name.
    #[serde(rename = "rpc-file")]
    pub rpc_file: String,
    /// True when started with the node.
    pub startup: bool,
    /// `bitcoin`, `testnet`, `signet`, `regtest`.
    pub network: String,
    /// The node id (hex).
    pub node_id: String,
    /// The node's feature set.
    #[serde(default)]
    pub feature_set: Value,
}

/// The `init` params.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct InitParams {
    /// Resolved option values by name.
    pub options: Map<String, Value>,
    /// Node configuration.
    pub configuration: InitConfiguration,
}

/// A JSON-RPC 2.0 error object.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, thiserror::Error)]
#[error("JSON-RPC error {code}: {message}")]
pub struct RpcError {
    /// Error code (see [`crate::error_codes`]).
    pub code: i32,
    /// Human message.
    pub message: String,
    /// Extra data.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub data: Option<Value>,
}

impl RpcError {
    /// An error with a code and message.
    pub fn new(code: i32, message: impl Into<String>) -> Self {
        Self {
            code,
            message: message.into(),
            data: None,
        }
    }

    /// `-32602` invalid params.
    pub fn invalid_params(message: impl Into<String>) -> Self {
        Self::new(error_codes::INVALID_PARAMS, message)
    }

    /// `-32603` internal error.
    pub fn internal(message: impl Into<String>) -> Self {
        Self::new(error_codes::INTERNAL_ERROR, message)
    }

    /// `-32601` method not found.
    pub fn method_not_found(method: &str) -> Self {
        Self::new(
            error_codes::METHOD_NOT_FOUND,
            format!("unknown method: {method}"),
        )
    }
}

/// Build a JSON-RPC 2.0 success response.
pub fn response_ok(id: &Value, result: Value) -> Value {
    serde_json::json!({ "jsonrpc": "2.0", "id": id, "result": result })
}

/// Build a JSON-RPC 2.0 error response.
pub fn response_err(id: &Value, error: &RpcError) -> Value {
    serde_json::json!({ "jsonrpc": "2.0", "id": id, "error": error })
}

impl From<RpcError> for jsonrpsee::types::ErrorObjectOwned {
    fn from(e: RpcError) -> Self {
        jsonrpsee::types::ErrorObject::owned(e.code, e.message, e.data)
    }
}

impl From<jsonrpsee::types::ErrorObjectOwned> for RpcError {
    fn from(e: jsonrpsee::types::ErrorObjectOwned) -> Self {
        Self {
            code: e.code(),
            message: e.message().to_string(),
            data: e.data().and_then(|d| serde_json::from_str(d.get()).ok()),
        }
    }
}

impl From<jsonrpsee::core::client::Error> for RpcError {
    /// Lets a plugin handler use `?` on a typed node call
    /// ([`crate::plugin::PluginContext::node`]): the node's own error passes
    /// through; a timeout or transport failure becomes an internal error.
    fn from(e: jsonrpsee::core::client::Error) -> Self {
        match e {
            jsonrpsee::core::client::Error::Call(obj) => obj.into(),
            other => Self::internal(other.to_string()),
        }
    }
}
