//! Typed calls from a plugin to the node over the plugin pipe: thin wrappers
//! over [`PluginContext::call_typed`] for the methods plugins use most. Any
//! other method is one `call`/`call_typed` away.

use std::time::Duration;

use serde::{Deserialize, Serialize};
use serde_json::json;

use crate::api::{DatastoreEntry, GetInfo, ListDatastore};
use crate::plugin::{CallError, PluginContext};

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

/// How long the typed helpers wait for the node.
pub const NODE_CALL_TIMEOUT: Duration = Duration::from_secs(30);

impl PluginContext {
    /// `getinfo`.
    pub fn getinfo(&self) -> Result<GetInfo, CallError> {
        self.call_typed("getinfo", &json!({}), NODE_CALL_TIMEOUT)
    }

    /// `sendcustommsg`: send `msg` (hex, 2-byte type first; see
    /// [`crate::hooks::encode_custom_msg`]) to the connected peer `node_id`.
    pub fn sendcustommsg(&self, node_id: &str, msg: &str) -> Result<SendCustomMsg, CallError> {
        self.call_typed(
            "sendcustommsg",
            &json!({"node_id": node_id, "msg": msg}),
            NODE_CALL_TIMEOUT,
        )
    }

    /// `datastore` a string under `key` (the node namespaces it under the
    /// plugin's name), `mode` as in Core Lightning (`must-create`,
    /// `must-replace`, `create-or-replace`, …; `None` = `must-create`).
    pub fn datastore_string(
        &self,
        key: &[&str],
        value: &str,
        mode: Option<&str>,
    ) -> Result<DatastoreEntry, CallError> {
        let mut params = json!({"key": key, "string": value});
        if let Some(mode) = mode {
            params["mode"] = json!(mode);
        }
        self.call_typed("datastore", &params, NODE_CALL_TIMEOUT)
    }

    /// `listdatastore` under `key` (all of the plugin's top-level keys when empty).
    pub fn listdatastore(&self, key: &[&str]) -> Result<ListDatastore, CallError> {
        let params = if key.is_empty() {
            json!({})
        } else {
            json!({ "key": key })
        };
        self.call_typed("listdatastore", &params, NODE_CALL_TIMEOUT)
    }

    /// `makesecret`: a secret derived from the node's seed and `info` (hex),
    /// stable across restarts.
    pub fn makesecret(&self, info_hex: &str) -> Result<MakeSecret, CallError> {
        self.call_typed("makesecret", &json!({"hex": info_hex}), NODE_CALL_TIMEOUT)
    }
}
