//! The plugin-side runtime (`plugin::start_exported`) driven directly, without
//! a library: notification dispatch, hooks without handlers, calls to the
//! node and their timeouts.

use std::sync::mpsc;
use std::time::Duration;

use abi_stable::std_types::{RResult, RString};
use lumen_sdk::abi::{MessageSink, MessageSinkBox, sink_box};
use lumen_sdk::plugin::{CallError, PluginBuilder, start_exported};
use lumen_sdk::protocol::RpcError;
use serde_json::{Value, json};

use crate::support::config;

struct Collect(mpsc::Sender<String>);

impl MessageSink for Collect {
    fn send(&self, message: RString) {
        let _ = self.0.send(message.into_string());
    }
}

struct Harness {
    to_plugin: MessageSinkBox,
    from_plugin: mpsc::Receiver<String>,
}

impl Harness {
    fn start(build: fn() -> PluginBuilder) -> Self {
        let (tx, rx) = mpsc::channel();
        let to_plugin = match start_exported(sink_box(Collect(tx)), build) {
            RResult::ROk(s) => s,
            RResult::RErr(e) => panic!("start: {e}"),
        };
        let h = Self {
            to_plugin,
            from_plugin: rx,
        };
        h.send(json!({"jsonrpc": "2.0", "id": "lumen:0", "method": "init",
                      "params": {"options": {}, "configuration": config()}}));
        assert_eq!(h.next()["result"], json!({}));
        h
    }

    fn send(&self, msg: Value) {
        self.to_plugin.send(RString::from(msg.to_string()));
    }

    fn next(&self) -> Value {
        let raw = self
            .from_plugin
            .recv_timeout(Duration::from_secs(10))
            .expect("no message from the plugin");
        serde_json::from_str(&raw).unwrap()
    }

    fn quiet(&self) -> bool {
        self.from_plugin
            .recv_timeout(Duration::from_millis(100))
            .is_err()
    }
}

fn notifier() -> PluginBuilder {
    PluginBuilder::new("n")
        .on_notification("block_added", |ctx, topic, params| {
            ctx.notify("seen", json!({"topic": topic, "params": params}));
        })
        .on_notification("*", |ctx, topic, _| {
            if topic == "warning" {
                panic!("handler panics");
            }
            ctx.notify("star", json!({"topic": topic}));
        })
        .hook("commitment_revocation", &[], &[])
}

#[test]
fn notifications_go_to_the_topic_handler_then_star() {
    let h = Harness::start(notifier);
    let block = json!({"block_added": {"hash": "00".repeat(32), "height": 7}});
    h.send(json!({"jsonrpc": "2.0", "method": "block_added", "params": block}));
    let seen = h.next();
    assert_eq!(seen["method"], "seen");
    assert_eq!(
        seen["params"],
        json!({"topic": "block_added", "params": block})
    );
    h.send(json!({"jsonrpc": "2.0", "method": "connect", "params": {}}));
    assert_eq!(h.next()["params"], json!({"topic": "connect"}));
    // A panicking notification handler is logged and the plugin goes on.
    h.send(json!({"jsonrpc": "2.0", "method": "warning", "params": {}}));
    let log = h.next();
    assert_eq!(log["method"], "log");
    assert_eq!(log["params"]["level"], "broken");
    // A hook registered without a handler continues.
    h.send(
        json!({"jsonrpc": "2.0", "id": "lumen:1", "method": "commitment_revocation",
                  "params": {"commitnum": 1}}),
    );
    assert_eq!(h.next()["result"], json!({"result": "continue"}));
}

#[test]
fn notifications_without_subscription_are_dropped() {
    let h = Harness::start(|| PluginBuilder::new("quiet").subscribe("connect"));
    h.send(json!({"jsonrpc": "2.0", "method": "connect", "params": {}}));
    assert!(h.quiet());
}

fn caller() -> PluginBuilder {
    PluginBuilder::new("caller").method("ask", "", "", |ctx, params| {
        let ms = params["timeout_ms"].as_u64().unwrap_or(5000);
        match ctx.call("getinfo", json!({}), Duration::from_millis(ms)) {
            Ok(v) => Ok(json!({"ok": v})),
            Err(CallError::Rpc(e)) => Ok(json!({"rpc_error": e.code})),
            Err(CallError::Timeout { .. }) => Ok(json!({"timeout": true})),
            Err(CallError::Malformed(m)) => Err(RpcError::internal(m)),
        }
    })
}

#[test]
fn calls_to_the_node_round_trip_and_time_out() {
    let h = Harness::start(caller);
    h.send(json!({"jsonrpc": "2.0", "id": "lumen:1", "method": "ask", "params": {}}));
    let req = h.next();
    assert_eq!(req["method"], "getinfo");
    assert_eq!(req["id"], "caller:1");
    // An answer to an id nobody waits for is dropped.
    h.send(json!({"jsonrpc": "2.0", "id": "caller:99", "result": {"x": 0}}));
    h.send(json!({"jsonrpc": "2.0", "id": "caller:1", "result": {"alias": "a"}}));
    let r = h.next();
    assert_eq!(r["id"], "lumen:1");
    assert_eq!(r["result"], json!({"ok": {"alias": "a"}}));

    h.send(json!({"jsonrpc": "2.0", "id": "lumen:2", "method": "ask", "params": {}}));
    let req = h.next();
    assert_eq!(req["id"], "caller:2");
    h.send(json!({"jsonrpc": "2.0", "id": "caller:2",
                  "error": {"code": -1, "message": "nope"}}));
    assert_eq!(h.next()["result"], json!({"rpc_error": -1}));

    h.send(json!({"jsonrpc": "2.0", "id": "lumen:3", "method": "ask",
                  "params": {"timeout_ms": 50}}));
    let req = h.next();
    assert_eq!(req["id"], "caller:3");
    assert_eq!(h.next()["result"], json!({"timeout": true}));
    // The late answer is dropped; the plugin still serves.
    h.send(json!({"jsonrpc": "2.0", "id": "caller:3", "result": {}}));
    h.send(json!({"jsonrpc": "2.0", "id": "lumen:4", "method": "nosuch", "params": {}}));
    assert_eq!(h.next()["error"]["code"], -32601);
}

fn typed_caller() -> PluginBuilder {
    PluginBuilder::new("typed").method("go", "", "", |ctx, _| {
        let sent = ctx
            .sendcustommsg(&"02".repeat(33), "8001ff")
            .map_err(|e| RpcError::internal(e.to_string()))?;
        let stored = ctx
            .datastore_string(&["k"], "v", Some("create-or-replace"))
            .map_err(|e| RpcError::internal(e.to_string()))?;
        // A result of the wrong shape is Malformed, not a panic.
        let bad = matches!(ctx.getinfo(), Err(CallError::Malformed(_)));
        Ok(json!({"status": sent.status, "generation": stored.generation, "bad_getinfo": bad}))
    })
}

#[test]
fn typed_node_calls_send_cln_shaped_params() {
    let h = Harness::start(typed_caller);
    h.send(json!({"jsonrpc": "2.0", "id": "lumen:1", "method": "go", "params": {}}));
    let req = h.next();
    assert_eq!(req["method"], "sendcustommsg");
    assert_eq!(
        req["params"],
        json!({"node_id": "02".repeat(33), "msg": "8001ff"})
    );
    h.send(json!({"jsonrpc": "2.0", "id": req["id"], "result": {"status": "queued"}}));
    let req = h.next();
    assert_eq!(req["method"], "datastore");
    assert_eq!(
        req["params"],
        json!({"key": ["k"], "string": "v", "mode": "create-or-replace"})
    );
    h.send(json!({"jsonrpc": "2.0", "id": req["id"],
                  "result": {"key": ["typed", "k"], "generation": 0, "string": "v"}}));
    let req = h.next();
    assert_eq!(req["method"], "getinfo");
    h.send(json!({"jsonrpc": "2.0", "id": req["id"], "result": {"id": 5}}));
    assert_eq!(
        h.next()["result"],
        json!({"status": "queued", "generation": 0, "bad_getinfo": true})
    );
}
