//! The plugin-side runtime (`plugin::start_exported`) driven directly, without
//! a library: notification dispatch, hooks without handlers, calls to the
//! node and their timeouts, concurrent handlers, jsonrpsee modules and the
//! typed node client over the pipe.

use std::sync::mpsc;
use std::time::Duration;

use abi_stable::std_types::{RResult, RString};
use jsonrpsee::core::RpcResult;
use jsonrpsee::proc_macros::rpc;
use lumen_sdk::abi::{MessageSink, MessageSinkBox, sink_box};
use lumen_sdk::api::NodeApiClient;
use lumen_sdk::node_calls::PluginApiClient;
use lumen_sdk::plugin::{CallError, PluginBuilder, PluginContext, start_exported};
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
        let h = Self::start_uninit(build);
        h.send(json!({"jsonrpc": "2.0", "id": "lumen:0", "method": "init",
                      "params": {"options": {}, "configuration": config()}}));
        assert_eq!(h.next()["result"], json!({}));
        h
    }

    fn start_uninit(build: fn() -> PluginBuilder) -> Self {
        let (tx, rx) = mpsc::channel();
        let to_plugin = match start_exported(sink_box(Collect(tx)), build) {
            RResult::ROk(s) => s,
            RResult::RErr(e) => panic!("start: {e}"),
        };
        Self {
            to_plugin,
            from_plugin: rx,
        }
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
        .on_notification("block_added", |ctx, topic, params| async move {
            ctx.notify("seen", json!({"topic": topic, "params": params}));
        })
        .on_notification("*", |ctx, topic, _| async move {
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
    PluginBuilder::new("caller").method("ask", "", "", |ctx, params| async move {
        let ms = params["timeout_ms"].as_u64().unwrap_or(5000);
        match ctx
            .call("getinfo", json!({}), Duration::from_millis(ms))
            .await
        {
            Ok(v) => Ok(json!({"ok": v})),
            Err(CallError::Rpc(e)) => Ok(json!({"rpc_error": e.code})),
            Err(CallError::Timeout { .. }) => Ok(json!({"timeout": true})),
            Err(e @ (CallError::Malformed(_) | CallError::Closed)) => {
                Err(RpcError::internal(e.to_string()))
            }
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
    PluginBuilder::new("typed").method("go", "", "", |ctx, _| async move {
        let node = ctx.node();
        let sent = node.sendcustommsg("02".repeat(33), "8001ff".into()).await?;
        let stored = node
            .datastore(
                vec!["k".into()],
                Some("v".into()),
                None,
                Some("create-or-replace".into()),
                None,
            )
            .await?;
        // A result of the wrong shape is a parse error, not a panic.
        let bad = matches!(
            node.getinfo().await,
            Err(jsonrpsee::core::client::Error::ParseError(_))
        );
        // The node's own error passes through with its code.
        let refused = node.makesecret("zz".into()).await.map_err(RpcError::from);
        Ok(
            json!({"status": sent.status, "generation": stored.generation, "bad_getinfo": bad,
                  "refused": refused.err().map(|e| e.code)}),
        )
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
    // Optional arguments not given are left out, not sent as null.
    assert_eq!(
        req["params"],
        json!({"key": ["k"], "string": "v", "mode": "create-or-replace"})
    );
    h.send(json!({"jsonrpc": "2.0", "id": req["id"],
                  "result": {"key": ["typed", "k"], "generation": 0, "string": "v"}}));
    let req = h.next();
    assert_eq!(req["method"], "getinfo");
    assert_eq!(req["params"], json!({}));
    h.send(json!({"jsonrpc": "2.0", "id": req["id"], "result": {"id": 5}}));
    let req = h.next();
    assert_eq!(req["method"], "makesecret");
    assert_eq!(req["params"], json!({"hex": "zz"}));
    h.send(json!({"jsonrpc": "2.0", "id": req["id"],
                  "error": {"code": -32602, "message": "hex: not hex"}}));
    assert_eq!(
        h.next()["result"],
        json!({"status": "queued", "generation": 0, "bad_getinfo": true, "refused": -32602})
    );
}

fn concurrent() -> PluginBuilder {
    PluginBuilder::new("conc")
        .method("slow", "", "", |ctx, _| async move {
            let v = ctx
                .call("getinfo", json!({}), Duration::from_secs(10))
                .await?;
            Ok(json!({"slow": v}))
        })
        .method("fast", "", "", |_, _| async { Ok(json!("fast")) })
}

#[test]
fn a_handler_waiting_for_the_node_does_not_hold_up_the_others() {
    let h = Harness::start(concurrent);
    h.send(json!({"jsonrpc": "2.0", "id": "lumen:1", "method": "slow", "params": {}}));
    let req = h.next();
    assert_eq!(req["method"], "getinfo");
    // While `slow` waits for the node, `fast` is answered.
    h.send(json!({"jsonrpc": "2.0", "id": "lumen:2", "method": "fast", "params": []}));
    let r = h.next();
    assert_eq!(
        (r["id"].clone(), r["result"].clone()),
        (json!("lumen:2"), json!("fast"))
    );
    h.send(json!({"jsonrpc": "2.0", "id": req["id"], "result": 7}));
    let r = h.next();
    assert_eq!(
        (r["id"].clone(), r["result"].clone()),
        (json!("lumen:1"), json!({"slow": 7}))
    );
}

/// A plugin API written as a jsonrpsee server trait, as a plugin author
/// would for a larger set of methods.
#[rpc(server)]
trait Counter {
    #[method(name = "counter-add")]
    async fn add(&self, by: u64) -> RpcResult<u64>;
    #[method(name = "counter-whoami")]
    async fn whoami(&self) -> RpcResult<String>;
}

struct CounterImpl {
    total: std::sync::atomic::AtomicU64,
    ctx: PluginContext,
}

#[jsonrpsee::core::async_trait]
impl CounterServer for CounterImpl {
    async fn add(&self, by: u64) -> RpcResult<u64> {
        use std::sync::atomic::Ordering;
        Ok(self.total.fetch_add(by, Ordering::Relaxed) + by)
    }
    async fn whoami(&self) -> RpcResult<String> {
        let info = self.ctx.node().getinfo().await.map_err(RpcError::from)?;
        Ok(info.alias)
    }
}

fn with_module() -> PluginBuilder {
    let b = PluginBuilder::new("counter");
    let server = CounterImpl {
        total: 0.into(),
        ctx: b.context(),
    };
    b.rpc_module(server.into_rpc())
        .describe("counter-add", "by", "Add to the counter")
}

#[test]
fn a_jsonrpsee_module_serves_its_methods_and_lists_them() {
    let h = Harness::start_uninit(with_module);
    h.send(json!({"jsonrpc": "2.0", "id": "lumen:0", "method": "getmanifest", "params": {}}));
    let mut methods: Vec<Value> = h.next()["result"]["rpcmethods"]
        .as_array()
        .expect("rpcmethods")
        .clone();
    methods.sort_by_key(|m| m["name"].as_str().map(str::to_string));
    assert_eq!(
        methods,
        vec![
            json!({"name": "counter-add", "usage": "by", "description": "Add to the counter"}),
            json!({"name": "counter-whoami", "usage": "", "description": ""}),
        ]
    );
    // Nothing but the handshake is served before init.
    h.send(json!({"jsonrpc": "2.0", "id": "lumen:1", "method": "counter-add", "params": [1]}));
    assert_eq!(h.next()["error"]["code"], -32603);
    h.send(json!({"jsonrpc": "2.0", "id": "lumen:2", "method": "init",
                  "params": {"options": {}, "configuration": config()}}));
    assert_eq!(h.next()["result"], json!({}));

    h.send(json!({"jsonrpc": "2.0", "id": "lumen:3", "method": "counter-add", "params": [2]}));
    assert_eq!(h.next()["result"], 2);
    h.send(
        json!({"jsonrpc": "2.0", "id": "lumen:4", "method": "counter-add", "params": {"by": 3}}),
    );
    assert_eq!(h.next()["result"], 5);
    // Bad params are refused by the module with -32602.
    h.send(json!({"jsonrpc": "2.0", "id": "lumen:5", "method": "counter-add", "params": ["x"]}));
    assert_eq!(h.next()["error"]["code"], -32602);
    // The server's own state holds the context: it calls the node.
    h.send(json!({"jsonrpc": "2.0", "id": "lumen:6", "method": "counter-whoami", "params": []}));
    let req = h.next();
    assert_eq!(req["method"], "getinfo");
    let info = json!({"id": "02".repeat(33), "alias": "lumen", "color": "000000",
        "num_peers": 0, "num_pending_channels": 0, "num_active_channels": 0,
        "num_inactive_channels": 0, "address": [], "version": "0", "blockheight": 1,
        "network": "regtest", "fees_collected_msat": 0, "lightning-dir": "/x"});
    h.send(json!({"jsonrpc": "2.0", "id": req["id"], "result": info}));
    assert_eq!(h.next()["result"], "lumen");
}

#[test]
fn a_method_registered_twice_refuses_to_start() {
    let started = start_exported(sink_box(Collect(mpsc::channel().0)), || {
        PluginBuilder::new("twice")
            .method("m", "", "", |_, _| async { Ok(1) })
            .method("m", "", "", |_, _| async { Ok(2) })
    });
    match started {
        RResult::RErr(e) => assert!(e.as_str().contains("m: "), "{e}"),
        RResult::ROk(_) => panic!("a duplicate method was accepted"),
    }
}

#[test]
fn calls_fail_at_once_when_the_host_is_gone() {
    // The plugin's runtime ends when the host drops its sink; the host's own
    // sink is dropped with it, which is how the host sees the pipe close.
    struct Flag(mpsc::Sender<()>);
    impl MessageSink for Flag {
        fn send(&self, _: RString) {}
    }
    impl Drop for Flag {
        fn drop(&mut self) {
            let _ = self.0.send(());
        }
    }
    let (tx, rx) = mpsc::channel();
    let to_plugin = match start_exported(sink_box(Flag(tx)), || PluginBuilder::new("gone")) {
        RResult::ROk(s) => s,
        RResult::RErr(e) => panic!("start: {e}"),
    };
    assert!(rx.recv_timeout(Duration::from_millis(100)).is_err());
    drop(to_plugin);
    assert!(rx.recv_timeout(Duration::from_secs(10)).is_ok());
}
