//! Typed payloads and results of the plugin hooks, in Core Lightning's
//! shapes (`doc/schemas/hook/*.json`; see `PLUGIN-PROTOCOL.md`).
//!
//! Each hook is a marker type implementing [`Hook`]; register a typed
//! handler with [`crate::plugin::PluginBuilder::on_hook`]:
//!
//! ```
//! use lumen_sdk::hooks::{CustomMsg, CustomMsgResult};
//! use lumen_sdk::plugin::PluginBuilder;
//!
//! let plugin = PluginBuilder::new("watcher")
//!     .on_hook::<CustomMsg, _, _>(&[], &[], |_ctx, msg| async move {
//!         let _type_and_body = msg.payload; // hex, 2-byte type first
//!         Ok(CustomMsgResult::Continue)
//!     });
//! assert_eq!(plugin.manifest().hooks[0].name, "custommsg");
//! ```
//!
//! Results that are enums serialize with their `result` member
//! (`{"result": "continue"}`, `{"result": "reject", …}`); `rpc_command`'s
//! results have their own shape ([`RpcCommandResult`]).

use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};

use crate::amount::{Msat, Sat};
use crate::protocol::RpcError;

/// A hook: its name, payload and result types.
pub trait Hook {
    /// The hook's name in the manifest and on the wire.
    const NAME: &'static str;
    /// What the node sends (the request params).
    type Payload: DeserializeOwned + Serialize;
    /// What the plugin answers.
    type Result: Serialize + DeserializeOwned;
}

/// Declares a hook's marker type and its [`Hook`] impl.
macro_rules! hook {
    ($(#[doc = $doc:literal])* $marker:ident, $name:literal, $payload:ty, $result:ty) => {
        $(#[doc = $doc])*
        #[derive(Debug, Clone, Copy)]
        pub struct $marker;

        impl Hook for $marker {
            const NAME: &'static str = $name;
            type Payload = $payload;
            type Result = $result;
        }
    };
}

/// The `continue` result every hook accepts, as JSON.
pub fn continue_result() -> Value {
    json!({ "result": "continue" })
}

/// Whether a hook result is `{"result": "continue"}` (so the chain goes on).
pub fn is_continue(result: &Value) -> bool {
    result.get("result").and_then(Value::as_str) == Some("continue")
}

/// Notification topics the node sends to subscribers (`PLUGIN-PROTOCOL.md`).
pub const NOTIFICATION_TOPICS: &[&str] = &[
    "connect",
    "disconnect",
    "block_added",
    "custommsg",
    "channel_opened",
    "channel_open_failed",
    "channel_state_changed",
    "invoice_payment",
    "invoice_creation",
    "forward_event",
    "sendpay_success",
    "sendpay_failure",
    "coin_movement",
    "balance_snapshot",
    "warning",
    "shutdown",
    "plugin_started",
    "plugin_stopped",
    "gossip",
];

// ---------------------------------------------------------------- peer_connected

hook! {
    /// `peer_connected`: a peer finished the `init` exchange.
    PeerConnected, "peer_connected", PeerConnectedPayload, PeerConnectedResult
}

/// Who connected to whom.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Direction {
    /// The peer connected to us.
    In,
    /// We connected to the peer.
    Out,
}

/// `peer_connected` payload.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PeerConnectedPayload {
    /// The peer.
    pub peer: ConnectedPeer,
}

/// The peer in a `peer_connected` payload.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConnectedPeer {
    /// Node id (hex).
    pub id: String,
    /// Who opened the connection.
    pub direction: Direction,
    /// The peer's address, e.g. `127.0.0.1:9735`.
    pub addr: String,
    /// Our address as the peer sees it, if it told us.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub remote_addr: Option<String>,
    /// The peer's `init` features (hex).
    pub features: String,
}

/// `peer_connected` result.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "result", rename_all = "snake_case")]
pub enum PeerConnectedResult {
    /// Keep the connection.
    Continue,
    /// Drop the connection, optionally telling the peer why.
    Disconnect {
        /// Sent to the peer as a warning before disconnecting.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        error_message: Option<String>,
    },
}

// ---------------------------------------------------------------- custommsg

hook! {
    /// `custommsg`: a peer sent a message type the node does not handle itself
    /// (odd types ≥ 32768 that a plugin declared).
    CustomMsg, "custommsg", CustomMsgPayload, CustomMsgResult
}

/// `custommsg` payload.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CustomMsgPayload {
    /// The sending peer (hex node id).
    pub peer_id: String,
    /// The message, hex, including its 2-byte big-endian type.
    pub payload: String,
}

impl CustomMsgPayload {
    /// The message type and body, or `None` when `payload` is not hex or is
    /// shorter than the 2-byte type.
    pub fn decode(&self) -> Option<(u16, Vec<u8>)> {
        let bytes = hex_decode(&self.payload)?;
        let (ty, body) = bytes.split_first_chunk::<2>()?;
        Some((u16::from_be_bytes(*ty), body.to_vec()))
    }
}

/// `custommsg` result: the only answer is `continue`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "result", rename_all = "snake_case")]
pub enum CustomMsgResult {
    /// Done with the message.
    Continue,
}

/// Encode a custom message (2-byte big-endian type, then `body`) as the hex
/// `sendcustommsg` takes.
pub fn encode_custom_msg(msg_type: u16, body: &[u8]) -> String {
    let mut out = String::with_capacity(4 + body.len() * 2);
    for b in msg_type.to_be_bytes().iter().chain(body) {
        out.push_str(&format!("{b:02x}"));
    }
    out
}

fn hex_decode(s: &str) -> Option<Vec<u8>> {
    if !s.len().is_multiple_of(2) || !s.is_ascii() {
        return None;
    }
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).ok())
        .collect()
}

// ---------------------------------------------------------------- rpc_command

hook! {
    /// `rpc_command`: every RPC call to the node, before it runs.
    RpcCommand, "rpc_command", RpcCommandPayload, RpcCommandResult
}

/// `rpc_command` payload.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RpcCommandPayload {
    /// The call.
    pub rpc_command: RpcCommandCall,
}

/// The call in an `rpc_command` payload.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RpcCommandCall {
    /// The caller's request id (string, number or null).
    pub id: Value,
    /// The method called.
    pub method: String,
    /// Its params (object or array).
    pub params: Value,
}

/// `rpc_command` result.
#[derive(Debug, Clone, PartialEq)]
pub enum RpcCommandResult {
    /// Run the call as it is (`{"result": "continue"}`).
    Continue,
    /// Run this JSON-RPC request instead (`{"replace": request}`).
    Replace(Value),
    /// Answer the caller with this result, without running the call
    /// (`{"return": {"result": …}}`).
    ReturnResult(Value),
    /// Answer the caller with this error (`{"return": {"error": …}}`).
    ReturnError(RpcError),
}

impl Serialize for RpcCommandResult {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let v = match self {
            Self::Continue => json!({"result": "continue"}),
            Self::Replace(request) => json!({"replace": request}),
            Self::ReturnResult(result) => json!({"return": {"result": result}}),
            Self::ReturnError(error) => json!({"return": {"error": error}}),
        };
        v.serialize(s)
    }
}

impl<'de> Deserialize<'de> for RpcCommandResult {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        use serde::de::Error;
        let mut v = Map::deserialize(d)?;
        if v.len() != 1 {
            return Err(D::Error::custom(
                "rpc_command result: exactly one of result, replace, return",
            ));
        }
        if let Some(r) = v.remove("result") {
            return match r.as_str() {
                Some("continue") => Ok(Self::Continue),
                _ => Err(D::Error::custom(
                    "rpc_command result: result must be \"continue\"",
                )),
            };
        }
        if let Some(request) = v.remove("replace") {
            return Ok(Self::Replace(request));
        }
        let Some(Value::Object(mut ret)) = v.remove("return") else {
            return Err(D::Error::custom("rpc_command result: unknown member"));
        };
        match (ret.remove("result"), ret.remove("error"), ret.is_empty()) {
            (Some(result), None, true) => Ok(Self::ReturnResult(result)),
            (None, Some(error), true) => serde_json::from_value(error)
                .map(Self::ReturnError)
                .map_err(D::Error::custom),
            _ => Err(D::Error::custom(
                "rpc_command result: return holds exactly one of result, error",
            )),
        }
    }
}

// ---------------------------------------------------------------- invoice_payment

hook! {
    /// `invoice_payment`: an invoice of ours is about to be marked paid.
    InvoicePayment, "invoice_payment", InvoicePaymentPayload, InvoicePaymentResult
}

/// `invoice_payment` payload.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct InvoicePaymentPayload {
    /// The payment.
    pub payment: InvoicePaymentDetails,
}

/// The payment in an `invoice_payment` payload.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct InvoicePaymentDetails {
    /// The invoice's label.
    pub label: String,
    /// The payment preimage (hex, 32 bytes).
    pub preimage: String,
    /// Amount received.
    pub msat: Msat,
    /// Further members (CLN adds TLV fields here).
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// `invoice_payment` result.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "result", rename_all = "snake_case")]
pub enum InvoicePaymentResult {
    /// Accept the payment.
    Continue,
    /// Fail the HTLCs back.
    Reject {
        /// BOLT 4 failure message (hex), default incorrect_or_unknown_payment_details.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        failure_message: Option<String>,
    },
}

// ---------------------------------------------------------------- htlc_accepted

hook! {
    /// `htlc_accepted`: an incoming HTLC was irrevocably committed.
    HtlcAccepted, "htlc_accepted", HtlcAcceptedPayload, HtlcAcceptedResult
}

/// `htlc_accepted` payload.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HtlcAcceptedPayload {
    /// The peer the HTLC came from.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub peer_id: Option<String>,
    /// The decoded onion for this hop.
    pub onion: HtlcOnion,
    /// The HTLC.
    pub htlc: HtlcDetails,
    /// The channel id the HTLC would be forwarded to, if known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub forward_to: Option<String>,
}

/// The onion part of an `htlc_accepted` payload.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HtlcOnion {
    /// The raw hop payload (hex).
    pub payload: String,
    /// `tlv`.
    #[serde(rename = "type", default, skip_serializing_if = "Option::is_none")]
    pub kind: Option<String>,
    /// Outgoing channel, when forwarding.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub short_channel_id: Option<String>,
    /// Next node, when forwarding by node id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next_node_id: Option<String>,
    /// Amount to forward.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub forward_msat: Option<Msat>,
    /// CLTV for the outgoing HTLC.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub outgoing_cltv_value: Option<u32>,
    /// Total amount of a multi-part payment (final hop).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub total_msat: Option<Msat>,
    /// Payment secret (final hop).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub payment_secret: Option<String>,
    /// Payment metadata (final hop).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub payment_metadata: Option<String>,
    /// The onion for the next hop (hex).
    pub next_onion: String,
    /// The shared secret of this hop (hex).
    pub shared_secret: String,
}

/// The HTLC part of an `htlc_accepted` payload.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HtlcDetails {
    /// The incoming channel.
    pub short_channel_id: String,
    /// The HTLC id in that channel.
    pub id: u64,
    /// Amount.
    pub amount_msat: Msat,
    /// Absolute expiry height.
    pub cltv_expiry: u32,
    /// Blocks until expiry.
    pub cltv_expiry_relative: u32,
    /// Payment hash (hex).
    pub payment_hash: String,
    /// Extra TLVs of the `update_add_htlc` (hex).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub extra_tlvs: Option<String>,
}

/// `htlc_accepted` result.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "result", rename_all = "snake_case")]
pub enum HtlcAcceptedResult {
    /// Let the node handle it, optionally changing how.
    Continue {
        /// Replacement hop payload (hex).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        payload: Option<String>,
        /// Forward over this channel id instead.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        forward_to: Option<String>,
        /// Replacement extra TLVs (hex).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        extra_tlvs: Option<String>,
        /// Amount the invoice expects, when it differs from the onion's.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        invoice_msat: Option<Msat>,
    },
    /// Fail the HTLC with a BOLT 4 message or a ready onion. Give one of
    /// them: Core Lightning's schema refuses a `fail` with neither.
    Fail {
        /// BOLT 4 failure message (hex).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        failure_message: Option<String>,
        /// An already wrapped failure onion (hex).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        failure_onion: Option<String>,
    },
    /// Settle the HTLC with this preimage (hex).
    Resolve {
        /// The preimage.
        payment_key: String,
    },
}

impl HtlcAcceptedResult {
    /// Plain `{"result": "continue"}`.
    pub fn proceed() -> Self {
        Self::Continue {
            payload: None,
            forward_to: None,
            extra_tlvs: None,
            invoice_msat: None,
        }
    }
}

// ---------------------------------------------------------------- openchannel

hook! {
    /// `openchannel`: a peer proposes a channel (v1 `open_channel`).
    OpenChannel, "openchannel", OpenChannelPayload, OpenChannelResult
}

/// `openchannel` payload.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OpenChannelPayload {
    /// The proposal.
    pub openchannel: OpenChannelFields,
}

/// The `open_channel` fields.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OpenChannelFields {
    /// The peer (hex node id).
    pub id: String,
    /// Channel capacity.
    pub funding_msat: Msat,
    /// Amount pushed to us.
    pub push_msat: Msat,
    /// The peer's dust limit.
    pub dust_limit_msat: Msat,
    /// The peer's in-flight cap in msat. A plain integer, not [`Msat`]:
    /// peers commonly send `u64::MAX` ("no cap"), above the amount ceiling.
    pub max_htlc_value_in_flight_msat: u64,
    /// Reserve the peer asks us to keep.
    pub channel_reserve_msat: Msat,
    /// Smallest HTLC the peer accepts.
    pub htlc_minimum_msat: Msat,
    /// Commitment feerate.
    pub feerate_per_kw: u32,
    /// The peer's `to_self_delay`.
    pub to_self_delay: u32,
    /// The peer's HTLC count cap.
    pub max_accepted_htlcs: u32,
    /// `channel_flags` (bit 0: announce).
    pub channel_flags: u8,
    /// Upfront shutdown script (hex).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub shutdown_scriptpubkey: Option<String>,
    /// The negotiated channel type.
    pub channel_type: ChannelType,
    /// Further members.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// A channel type: feature bits and their names.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChannelType {
    /// Bit numbers.
    pub bits: Vec<u32>,
    /// Names, e.g. `static_remotekey/even`.
    pub names: Vec<String>,
}

/// `openchannel` result.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "result", rename_all = "snake_case")]
pub enum OpenChannelResult {
    /// Accept, optionally with our terms.
    Continue {
        /// Where our funds go on close (address).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        close_to: Option<String>,
        /// Confirmations we require.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        mindepth: Option<u32>,
        /// Reserve we ask the peer to keep.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        reserve: Option<Sat>,
    },
    /// Refuse, telling the peer why.
    Reject {
        /// Sent to the peer.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        error_message: Option<String>,
    },
}

impl OpenChannelResult {
    /// Plain `{"result": "continue"}`.
    pub fn accept() -> Self {
        Self::Continue {
            close_to: None,
            mindepth: None,
            reserve: None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn custom_msg_round_trip() {
        let hex = encode_custom_msg(32769, b"hi");
        assert_eq!(hex, "80016869");
        let p = CustomMsgPayload {
            peer_id: "02".repeat(33),
            payload: hex,
        };
        assert_eq!(p.decode(), Some((32769, b"hi".to_vec())));
        for bad in ["", "80", "8", "zz01", "8001é"] {
            let p = CustomMsgPayload {
                peer_id: String::new(),
                payload: bad.into(),
            };
            assert_eq!(p.decode(), None, "{bad}");
        }
    }

    #[test]
    fn rpc_command_result_shapes_round_trip() {
        let cases = [
            (RpcCommandResult::Continue, json!({"result": "continue"})),
            (
                RpcCommandResult::Replace(
                    json!({"jsonrpc": "2.0", "id": 1, "method": "help", "params": {}}),
                ),
                json!({"replace": {"jsonrpc": "2.0", "id": 1, "method": "help", "params": {}}}),
            ),
            (
                RpcCommandResult::ReturnResult(json!({"x": 1})),
                json!({"return": {"result": {"x": 1}}}),
            ),
            (
                RpcCommandResult::ReturnError(RpcError::new(-3, "no")),
                json!({"return": {"error": {"code": -3, "message": "no"}}}),
            ),
        ];
        for (typed, wire) in cases {
            assert_eq!(serde_json::to_value(&typed).unwrap(), wire);
            let back: RpcCommandResult = serde_json::from_value(wire).unwrap();
            assert_eq!(back, typed);
        }
        for bad in [
            json!({}),
            json!({"result": "stop"}),
            json!({"result": "continue", "replace": {}}),
            json!({"return": {}}),
            json!({"return": {"result": 1, "error": {"code": 1, "message": "m"}}}),
            json!({"other": 1}),
        ] {
            assert!(
                serde_json::from_value::<RpcCommandResult>(bad.clone()).is_err(),
                "{bad}"
            );
        }
    }

    #[test]
    fn tagged_results_serialize_with_result_member() {
        assert_eq!(
            serde_json::to_value(PeerConnectedResult::Continue).unwrap(),
            json!({"result": "continue"})
        );
        assert_eq!(
            serde_json::to_value(HtlcAcceptedResult::proceed()).unwrap(),
            json!({"result": "continue"})
        );
        assert_eq!(
            serde_json::to_value(OpenChannelResult::Reject {
                error_message: Some("no".into())
            })
            .unwrap(),
            json!({"result": "reject", "error_message": "no"})
        );
    }
}
