//! Node methods only plugins call, as a jsonrpsee `#[rpc(client)]` trait:
//! use it on [`crate::plugin::PluginContext::node`] beside
//! [`crate::api::NodeApiClient`]. Any other method is one
//! [`crate::plugin::PluginContext::call`] away.

use serde::{Deserialize, Serialize};

/// `sendcustommsg` result.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SendCustomMsg {
    /// Where the message was queued, e.g. `Message sent to connectd for delivery`.
    pub status: String,
}

/// `makesecret` result.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MakeSecret {
    /// The derived secret (hex, 32 bytes).
    pub secret: String,
}

/// Calls a plugin makes to the node beyond [`crate::api::NodeApi`].
/// Parameters travel by name, as Core Lightning's plugins send them.
#[jsonrpsee::proc_macros::rpc(client)]
pub trait PluginApi {
    /// Send `msg` (hex, 2-byte type first; see
    /// [`crate::hooks::encode_custom_msg`]) to the connected peer `node_id`.
    #[method(name = "sendcustommsg", param_kind = map)]
    async fn sendcustommsg(
        &self,
        node_id: String,
        msg: String,
    ) -> jsonrpsee::core::RpcResult<SendCustomMsg>;

    /// A secret derived from the node's seed and `hex`, stable across
    /// restarts.
    #[method(name = "makesecret", param_kind = map)]
    async fn makesecret(&self, hex: String) -> jsonrpsee::core::RpcResult<MakeSecret>;
}
