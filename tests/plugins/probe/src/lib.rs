//! Test-only plugin that records what the node sends it and answers hooks
//! as its options say:
//! - `probe-block` (string): its `rpc_command` hook refuses that method;
//!   the method `probe-replaced` is replaced by `probe-echo {"via": "replace"}`;
//! - `probe-reject-peers` (bool): its `peer_connected` hook disconnects;
//! - its `custommsg` hook and a `*` subscription record what arrives
//!   (`probe-seen`);
//! - `probe-echo` returns its params; `probe-datastore` writes and lists
//!   its datastore (namespaced by the node); `probe-emit` sends its
//!   declared topic `probe_event` and an undeclared one;
//! - `LUMEN_PROBE_INIT_FEATUREBITS` (environment, hex): `init` feature
//!   bits for its manifest, which is read before any option is given;
//! - it declares the even custom message type 32800 (`custommessages`).

use std::sync::{Arc, Mutex};

use lumen_sdk::hooks::continue_result;
use lumen_sdk::plugin::PluginBuilder;
use lumen_sdk::protocol::{FeatureBits, OptionType, RpcError};
use serde_json::{Value, json};

/// How long the probe waits for the node.
const CALL_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(10);

/// Build the plugin.
pub fn build() -> PluginBuilder {
    let seen: Arc<Mutex<Vec<Value>>> = Arc::new(Mutex::new(Vec::new()));
    let (s1, s2, s3) = (seen.clone(), seen.clone(), seen.clone());
    let (s4, s5) = (seen.clone(), seen);
    PluginBuilder::new("probe")
        .dynamic(true)
        .option("probe-block", OptionType::String, None, "Method the rpc_command hook refuses")
        .option("probe-reject-peers", OptionType::Bool, Some(json!(false)), "Disconnect every peer")
        .notification("probe_event")
        .method("probe-echo", "[...]", "Return the params", |_, params| async { Ok(params) })
        .method("probe-seen", "", "What arrived so far", move |_, _| {
            let seen = Value::Array(s1.lock().map(|s| s.clone()).unwrap_or_default());
            async { Ok(seen) }
        })
        .method("probe-datastore", "", "Write and list our datastore", |ctx, _| async move {
            ctx.call("datastore", json!({"key": ["k"], "string": "v", "mode": "create-or-replace"}), CALL_TIMEOUT).await?;
            let listed = ctx.call("listdatastore", json!({}), CALL_TIMEOUT).await?;
            Ok(json!({ "listed": listed }))
        })
        .method("probe-emit", "", "Emit probe_event and an undeclared topic", |ctx, _| async move {
            ctx.notify("probe_secret", json!({"n": 0}));
            ctx.notify("probe_event", json!({"n": 1}));
            Ok(json!({}))
        })
        .hook_handler("rpc_command", &[], &[], move |ctx, payload| {
            let method = payload["rpc_command"]["method"].as_str().unwrap_or_default().to_string();
            if method == "probe-replaced"
                && let Ok(mut s) = s4.lock()
            {
                s.push(json!({"hook": "rpc_command", "params": payload}));
            }
            let answer = if Some(method.as_str()) == ctx.option_str("probe-block") {
                json!({"return": {"error": {"code": 1401, "message": format!("{method} is blocked by probe")}}})
            } else if method == "probe-replaced" {
                json!({"replace": {"jsonrpc": "2.0", "id": payload["rpc_command"]["id"],
                    "method": "probe-echo", "params": {"via": "replace"}}})
            } else {
                continue_result()
            };
            async { Ok(answer) }
        })
        .hook_handler("peer_connected", &[], &[], move |ctx, payload| {
            if let Ok(mut s) = s5.lock() {
                s.push(json!({"hook": "peer_connected", "params": payload}));
            }
            let answer = if ctx.option("probe-reject-peers") == Some(&json!(true)) {
                json!({"result": "disconnect", "error_message": "probe says no"})
            } else {
                continue_result()
            };
            async { Ok(answer) }
        })
        .hook_handler("custommsg", &[], &[], move |_, payload| {
            if let Ok(mut s) = s2.lock() {
                s.push(json!({"hook": "custommsg", "params": payload}));
            }
            async { Ok(continue_result()) }
        })
        .on_notification("*", move |_, topic, params| {
            if let Ok(mut s) = s3.lock() {
                s.push(json!({"topic": topic, "params": params}));
            }
            async {}
        })
        .method("probe-fail", "", "Return a plugin error", |_, _| async {
            Err::<Value, _>(RpcError::new(1402, "probe failed on purpose"))
        })
        .custom_message(32800)
        .featurebits(FeatureBits {
            init: std::env::var("LUMEN_PROBE_INIT_FEATUREBITS").unwrap_or_default(),
            ..FeatureBits::default()
        })
}

lumen_sdk::export_plugin!(build);
