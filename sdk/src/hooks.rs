//! Hook payloads and results (Core Lightning's shapes, see
//! `PLUGIN-PROTOCOL.md` and CLN's `doc/schemas/hook/*.json`), shared by the
//! node (which sends payloads and reads results) and plugins (the reverse).
//!
//! Every hook result is an object with a `result` member; `continue` lets the
//! next plugin in the chain (and finally the node) decide. Results use
//! `#[serde(tag = "result")]`, except `rpc_command`, whose non-`continue`
//! results are keyed by `replace` / `return` as in CLN.

use serde::{Deserialize, Serialize};
use serde_json::Value;

/// The `continue` result every hook accepts.
pub fn continue_result() -> Value {
    serde_json::json!({ "result": "continue" })
}

/// Whether a hook result is `{"result": "continue"}` (so the chain goes on).
pub fn is_continue(result: &Value) -> bool {
    result.get("result").and_then(Value::as_str) == Some("continue")
}

/// `peer_connected` payload: `{"peer": {...}}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PeerConnectedPayload {
    /// The peer.
    pub peer: PeerConnectedPeer,
}

/// The peer in a `peer_connected` payload.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PeerConnectedPeer {
    /// Node id (hex).
    pub id: String,
    /// `in` or `out`.
    pub direction: String,
    /// Remote address, `host:port`.
    pub addr: String,
    /// Their `init` features (hex).
    pub features: String,
}

/// `peer_connected` result.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "result", rename_all = "snake_case")]
pub enum PeerConnectedResult {
    /// Keep the peer.
    Continue,
    /// Disconnect it (and send it `error_message` when given).
    Disconnect {
        /// Why.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        error_message: Option<String>,
    },
}

/// `custommsg` payload.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CustomMsgPayload {
    /// Sender's node id (hex).
    pub peer_id: String,
    /// The message, type included (hex).
    pub payload: String,
}

/// `rpc_command` payload: `{"rpc_command": {...}}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RpcCommandPayload {
    /// The call.
    pub rpc_command: RpcCommand,
}

/// The call in an `rpc_command` payload.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RpcCommand {
    /// The request id.
    pub id: Value,
    /// Method name.
    pub method: String,
    /// Params (array or object; `{}` when none were given).
    pub params: Value,
}

/// `rpc_command` result.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum RpcCommandResult {
    /// Run the call as it is (`{"result": "continue"}`).
    Continue {
        /// Always `continue`.
        result: String,
    },
    /// Run this request instead: `{"replace": {jsonrpc, id, method, params}}`.
    Replace {
        /// The replacement request.
        replace: Value,
    },
    /// Answer without running it: `{"return": {"result": …}}` or
    /// `{"return": {"error": {code, message}}}`.
    Return {
        /// The answer.
        #[serde(rename = "return")]
        ret: Value,
    },
}

/// `htlc_accepted` payload.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HtlcAcceptedPayload {
    /// The decoded onion.
    pub onion: HtlcOnion,
    /// The HTLC.
    pub htlc: HtlcInfo,
    /// The peer that offered it (hex).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub peer_id: Option<String>,
}

/// The onion part of `htlc_accepted`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HtlcOnion {
    /// The raw payload (hex).
    pub payload: String,
    /// Next channel, when forwarding.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub short_channel_id: Option<String>,
    /// Next node, when forwarding.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next_node_id: Option<String>,
    /// Amount to forward.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub forward_msat: Option<u64>,
    /// Outgoing CLTV.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub outgoing_cltv_value: Option<u32>,
    /// Total amount of a multi-part payment.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub total_msat: Option<u64>,
    /// Payment secret (hex).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub payment_secret: Option<String>,
    /// Onion for the next hop (hex).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next_onion: Option<String>,
    /// The shared secret (hex).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub shared_secret: Option<String>,
}

/// The HTLC part of `htlc_accepted`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HtlcInfo {
    /// HTLC id on its channel.
    pub id: u64,
    /// Amount.
    pub amount_msat: u64,
    /// Expiry height.
    pub cltv_expiry: u32,
    /// Payment hash (hex).
    pub payment_hash: String,
    /// Extra TLVs from `update_add_htlc` (hex).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub extra_tlvs: Option<String>,
}

/// `htlc_accepted` result.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "result", rename_all = "snake_case")]
pub enum HtlcAcceptedResult {
    /// Let the node handle it, optionally with changes.
    Continue {
        /// Replacement onion payload (hex).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        payload: Option<String>,
        /// Forward to this channel instead.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        forward_to: Option<String>,
        /// Replacement extra TLVs (hex).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        extra_tlvs: Option<String>,
        /// Amount the invoice expects.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        invoice_msat: Option<u64>,
    },
    /// Fail it back.
    Fail {
        /// BOLT 4 failure message (hex).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        failure_message: Option<String>,
        /// Already wrapped failure onion (hex).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        failure_onion: Option<String>,
    },
    /// Settle it with this preimage.
    Resolve {
        /// The preimage (hex).
        payment_key: String,
    },
}

/// `invoice_payment` payload: `{"payment": {...}}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct InvoicePaymentPayload {
    /// The payment.
    pub payment: InvoicePayment,
}

/// The payment in `invoice_payment`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct InvoicePayment {
    /// Invoice label.
    pub label: String,
    /// Preimage (hex).
    pub preimage: String,
    /// Amount received.
    pub msat: u64,
}

/// `invoice_payment` result.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "result", rename_all = "snake_case")]
pub enum InvoicePaymentResult {
    /// Accept the payment.
    Continue,
    /// Refuse it.
    Reject {
        /// BOLT 4 failure message (hex).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        failure_message: Option<String>,
    },
}

/// `openchannel` payload: `{"openchannel": {...}}` (the `open_channel` fields).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OpenChannelPayload {
    /// The offer.
    pub openchannel: OpenChannel,
}

/// The `open_channel` fields.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OpenChannel {
    /// Opener (hex).
    pub id: String,
    /// Chain hash (hex).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub chain_hash: Option<String>,
    /// Funding amount.
    pub funding_msat: u64,
    /// Amount pushed to us.
    #[serde(default)]
    pub push_msat: u64,
    /// Their dust limit.
    pub dust_limit_msat: u64,
    /// Their max HTLC value in flight.
    pub max_htlc_value_in_flight_msat: u64,
    /// Reserve they ask of us.
    pub channel_reserve_msat: u64,
    /// Their minimum HTLC.
    pub htlc_minimum_msat: u64,
    /// Commitment feerate.
    pub feerate_per_kw: u32,
    /// CSV delay for our outputs.
    pub to_self_delay: u32,
    /// Max HTLCs.
    pub max_accepted_htlcs: u32,
    /// `channel_flags`.
    pub channel_flags: u8,
    /// Their upfront shutdown script (hex).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub shutdown_scriptpubkey: Option<String>,
}

/// `openchannel` result.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "result", rename_all = "snake_case")]
pub enum OpenChannelResult {
    /// Accept, optionally with our terms.
    Continue {
        /// Close to this address.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        close_to: Option<String>,
        /// Confirmations we want.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        mindepth: Option<u32>,
        /// Reserve we ask.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        reserve: Option<u64>,
    },
    /// Refuse.
    Reject {
        /// Told to the peer.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        error_message: Option<String>,
    },
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn results_have_cln_shapes() {
        let d = PeerConnectedResult::Disconnect {
            error_message: Some("no".into()),
        };
        assert_eq!(
            serde_json::to_value(&d).unwrap(),
            json!({"result": "disconnect", "error_message": "no"})
        );
        let r: RpcCommandResult =
            serde_json::from_value(json!({"return": {"error": {"code": 1, "message": "x"}}}))
                .unwrap();
        assert!(matches!(r, RpcCommandResult::Return { .. }));
        let r: RpcCommandResult = serde_json::from_value(json!({"result": "continue"})).unwrap();
        assert!(matches!(r, RpcCommandResult::Continue { .. }));
        assert!(is_continue(&continue_result()));
        let h = HtlcAcceptedResult::Resolve {
            payment_key: "00".into(),
        };
        assert_eq!(
            serde_json::to_value(&h).unwrap(),
            json!({"result": "resolve", "payment_key": "00"})
        );
    }
}
