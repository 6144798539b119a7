//! The typed hook payloads and results of `lumen_sdk::hooks` against Core
//! Lightning's hook schemas (`validate.py`): payloads in CLN's shape parse
//! into the types and serialize back unchanged; the results the types
//! produce are valid hook results.

use lumen_sdk::hooks::{
    CustomMsg, CustomMsgResult, Direction, Hook, HtlcAccepted, HtlcAcceptedResult, InvoicePayment,
    InvoicePaymentResult, OpenChannel, OpenChannelResult, PeerConnected, PeerConnectedResult,
    RpcCommand, RpcCommandResult,
};
use lumen_sdk::protocol::RpcError;
use lumen_sdk::{Msat, Sat};
use serde_json::{Value, json};

use crate::support::Validator;

fn pubkey() -> String {
    format!("02{}", "1f".repeat(32))
}

/// A payload in CLN's shape is schema-valid, parses into `H::Payload`, and
/// serializes back to the same JSON.
fn payload_round_trips<H: Hook>(v: Option<&Validator>, wire: Value) -> H::Payload {
    if let Some(v) = v {
        v.check(&format!("hook/{}", H::NAME), &wire, true)
            .unwrap_or_else(|e| panic!("payload itself invalid: {e}"));
    }
    let typed: H::Payload = serde_json::from_value(wire.clone())
        .unwrap_or_else(|e| panic!("{}: payload does not parse: {e}", H::NAME));
    assert_eq!(serde_json::to_value(&typed).unwrap(), wire, "{}", H::NAME);
    typed
}

/// A typed result serializes to `wire`, which is schema-valid, and parses back.
fn result_valid<H: Hook>(v: Option<&Validator>, typed: H::Result, wire: Value)
where
    H::Result: PartialEq + std::fmt::Debug,
{
    let got = serde_json::to_value(&typed).unwrap();
    assert_eq!(got, wire, "{}", H::NAME);
    if let Some(v) = v {
        v.check(&format!("hook/{}", H::NAME), &got, false)
            .unwrap_or_else(|e| panic!("result invalid: {e}"));
    }
    let back: H::Result = serde_json::from_value(got).unwrap();
    assert_eq!(back, typed);
}

#[test]
fn validator_rejects_what_it_must() {
    let Some(v) = Validator::find() else { return };
    // The typed `Fail` can be built without a reason; the schema refuses it.
    let bad = serde_json::to_value(HtlcAcceptedResult::Fail {
        failure_message: None,
        failure_onion: None,
    })
    .unwrap();
    assert!(v.check("hook/htlc_accepted", &bad, false).is_err());
    assert!(
        v.check("hook/custommsg", &json!({"result": "stop"}), false)
            .is_err()
    );
    assert!(
        v.check(
            "hook/custommsg",
            &json!({"peer_id": "04ab", "payload": "8001"}),
            true
        )
        .is_err()
    );
}

#[test]
fn peer_connected() {
    let v = Validator::find();
    let p = payload_round_trips::<PeerConnected>(
        v.as_ref(),
        json!({"peer": {"id": pubkey(), "direction": "in", "addr": "127.0.0.1:40000",
                        "remote_addr": "127.0.0.1:9735", "features": "08a0000a8a5961"}}),
    );
    assert_eq!(p.peer.direction, Direction::In);
    payload_round_trips::<PeerConnected>(
        v.as_ref(),
        json!({"peer": {"id": pubkey(), "direction": "out", "addr": "[::1]:9735", "features": ""}}),
    );
    result_valid::<PeerConnected>(
        v.as_ref(),
        PeerConnectedResult::Continue,
        json!({"result": "continue"}),
    );
    result_valid::<PeerConnected>(
        v.as_ref(),
        PeerConnectedResult::Disconnect {
            error_message: Some("go away".into()),
        },
        json!({"result": "disconnect", "error_message": "go away"}),
    );
}

#[test]
fn custommsg() {
    let v = Validator::find();
    let p = payload_round_trips::<CustomMsg>(
        v.as_ref(),
        json!({"peer_id": pubkey(), "payload": "8001abcd"}),
    );
    assert_eq!(p.decode(), Some((32769, vec![0xab, 0xcd])));
    result_valid::<CustomMsg>(
        v.as_ref(),
        CustomMsgResult::Continue,
        json!({"result": "continue"}),
    );
}

#[test]
fn rpc_command() {
    let v = Validator::find();
    for params in [json!({"level": "debug"}), json!(["a", 1])] {
        payload_round_trips::<RpcCommand>(
            v.as_ref(),
            json!({"rpc_command": {"id": "cli:listpeers#1", "method": "listpeers", "params": params}}),
        );
    }
    payload_round_trips::<RpcCommand>(
        v.as_ref(),
        json!({"rpc_command": {"id": 7, "method": "help", "params": {}}}),
    );
    result_valid::<RpcCommand>(
        v.as_ref(),
        RpcCommandResult::Continue,
        json!({"result": "continue"}),
    );
    result_valid::<RpcCommand>(
        v.as_ref(),
        RpcCommandResult::Replace(
            json!({"jsonrpc": "2.0", "id": "x", "method": "help", "params": {}}),
        ),
        json!({"replace": {"jsonrpc": "2.0", "id": "x", "method": "help", "params": {}}}),
    );
    result_valid::<RpcCommand>(
        v.as_ref(),
        RpcCommandResult::ReturnResult(json!({"custom": true})),
        json!({"return": {"result": {"custom": true}}}),
    );
    result_valid::<RpcCommand>(
        v.as_ref(),
        RpcCommandResult::ReturnError(RpcError::new(-3, "denied")),
        json!({"return": {"error": {"code": -3, "message": "denied"}}}),
    );
}

#[test]
fn invoice_payment() {
    let v = Validator::find();
    let p = payload_round_trips::<InvoicePayment>(
        v.as_ref(),
        json!({"payment": {"label": "inv-1", "preimage": "11".repeat(32), "msat": 100_000u64}}),
    );
    assert_eq!(p.payment.msat, Msat(100_000));
    result_valid::<InvoicePayment>(
        v.as_ref(),
        InvoicePaymentResult::Continue,
        json!({"result": "continue"}),
    );
    result_valid::<InvoicePayment>(
        v.as_ref(),
        InvoicePaymentResult::Reject {
            failure_message: Some("2002".into()),
        },
        json!({"result": "reject", "failure_message": "2002"}),
    );
}

#[test]
fn htlc_accepted() {
    let v = Validator::find();
    // A forward, and a final hop.
    let p = payload_round_trips::<HtlcAccepted>(
        v.as_ref(),
        json!({
            "peer_id": pubkey(),
            "onion": {"payload": "1202030186a00404000000", "type": "tlv",
                      "short_channel_id": "103x1x0", "forward_msat": 100_000u64,
                      "outgoing_cltv_value": 130, "next_onion": "00".repeat(1366),
                      "shared_secret": "22".repeat(32)},
            "htlc": {"short_channel_id": "110x1x0", "id": 0, "amount_msat": 101_000u64,
                     "cltv_expiry": 136, "cltv_expiry_relative": 30,
                     "payment_hash": "33".repeat(32)},
            "forward_to": "44".repeat(32)
        }),
    );
    assert_eq!(p.htlc.amount_msat, Msat(101_000));
    payload_round_trips::<HtlcAccepted>(
        v.as_ref(),
        json!({
            "onion": {"payload": "2c", "type": "tlv", "total_msat": 5000u64,
                      "payment_secret": "55".repeat(32), "payment_metadata": "aa",
                      "next_onion": "00", "shared_secret": "22".repeat(32)},
            "htlc": {"short_channel_id": "110x1x0", "id": 9, "amount_msat": 5000u64,
                     "cltv_expiry": 200, "cltv_expiry_relative": 90,
                     "payment_hash": "33".repeat(32), "extra_tlvs": "fe0001"}
        }),
    );
    result_valid::<HtlcAccepted>(
        v.as_ref(),
        HtlcAcceptedResult::proceed(),
        json!({"result": "continue"}),
    );
    result_valid::<HtlcAccepted>(
        v.as_ref(),
        HtlcAcceptedResult::Continue {
            payload: Some("00".into()),
            forward_to: Some("44".repeat(32)),
            extra_tlvs: Some("fe0001".into()),
            invoice_msat: Some(Msat(5000)),
        },
        json!({"result": "continue", "payload": "00", "forward_to": "44".repeat(32),
               "extra_tlvs": "fe0001", "invoice_msat": 5000}),
    );
    result_valid::<HtlcAccepted>(
        v.as_ref(),
        HtlcAcceptedResult::Fail {
            failure_message: Some("2002".into()),
            failure_onion: None,
        },
        json!({"result": "fail", "failure_message": "2002"}),
    );
    result_valid::<HtlcAccepted>(
        v.as_ref(),
        HtlcAcceptedResult::Resolve {
            payment_key: "66".repeat(32),
        },
        json!({"result": "resolve", "payment_key": "66".repeat(32)}),
    );
}

#[test]
fn openchannel() {
    let v = Validator::find();
    let p = payload_round_trips::<OpenChannel>(
        v.as_ref(),
        json!({"openchannel": {
            "id": pubkey(), "funding_msat": 100_000_000u64, "push_msat": 0,
            "dust_limit_msat": 546_000u64, "max_htlc_value_in_flight_msat": 18_446_744_073_709_551_615u64,
            "channel_reserve_msat": 1_000_000u64, "htlc_minimum_msat": 0,
            "feerate_per_kw": 7500, "to_self_delay": 5, "max_accepted_htlcs": 483,
            "channel_flags": 1, "shutdown_scriptpubkey": "0014".to_string() + &"77".repeat(20),
            "channel_type": {"bits": [12, 22], "names": ["static_remotekey/even", "anchors/even"]}
        }}),
    );
    assert_eq!(p.openchannel.channel_flags, 1);
    result_valid::<OpenChannel>(
        v.as_ref(),
        OpenChannelResult::accept(),
        json!({"result": "continue"}),
    );
    result_valid::<OpenChannel>(
        v.as_ref(),
        OpenChannelResult::Continue {
            close_to: Some("bcrt1qxyz".into()),
            mindepth: Some(3),
            reserve: Some(Sat(10_000)),
        },
        json!({"result": "continue", "close_to": "bcrt1qxyz", "mindepth": 3, "reserve": 10_000}),
    );
    result_valid::<OpenChannel>(
        v.as_ref(),
        OpenChannelResult::Reject {
            error_message: Some("too small".into()),
        },
        json!({"result": "reject", "error_message": "too small"}),
    );
}
