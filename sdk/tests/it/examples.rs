//! The `custommsg-echo` and `rpc-guard` example plugins, loaded for real
//! (`.so` built with the running cargo) and driven through the SDK host.

use std::path::{Path, PathBuf};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use lumen_sdk::error_codes;
use lumen_sdk::host::{self, Inbox, Incoming, LoadedPlugin};
use lumen_sdk::protocol::{RpcError, response_err, response_ok};
use serde_json::{Map, Value, json};

use crate::support::{Validator, cdylib, config};

const T: Duration = Duration::from_secs(10);

fn echo_so() -> &'static Path {
    static SO: OnceLock<PathBuf> = OnceLock::new();
    SO.get_or_init(|| {
        cdylib(
            "lumen-example-custommsg-echo",
            "lumen_example_custommsg_echo",
        )
    })
}

fn guard_so() -> &'static Path {
    static SO: OnceLock<PathBuf> = OnceLock::new();
    SO.get_or_init(|| cdylib("lumen-example-rpc-guard", "lumen_example_rpc_guard"))
}

async fn started(so: &Path, options: Map<String, Value>) -> (LoadedPlugin, Inbox) {
    let p = host::load(so).unwrap();
    let incoming = p.take_incoming().unwrap();
    p.handshake(&options, config(), T).await.unwrap();
    (p, incoming)
}

fn peer() -> String {
    format!("03{}", "ab".repeat(32))
}

/// The next message the plugin sends, within `T`.
async fn next(incoming: &mut Inbox) -> Value {
    match tokio::time::timeout(T, incoming.recv())
        .await
        .expect("no message from the plugin")
        .expect("plugin pipe closed")
    {
        Incoming::Message(msg) => msg,
        other => panic!("expected a message, got {other:?}"),
    }
}

#[tokio::test]
async fn custommsg_echo_manifest() {
    let (p, _incoming) = started(echo_so(), Map::new()).await;
    let m = p.getmanifest(T).await.unwrap();
    assert_eq!(m.custommessages, [32769, 32771]);
    assert_eq!(m.hooks.len(), 1);
    assert_eq!(m.hooks[0].name, "custommsg");
    assert!(m.dynamic);
}

#[tokio::test]
async fn custommsg_echo_replies_with_sendcustommsg_then_continues() {
    let (p, mut incoming) = started(echo_so(), Map::new()).await;
    let p = std::sync::Arc::new(p);
    let payload = json!({"peer_id": peer(), "payload": "8001cafe00ff"});
    if let Some(v) = Validator::find() {
        v.check("hook/custommsg", &payload, true).unwrap();
    }

    // The hook call stays open while the plugin calls the node.
    let hook = {
        let p = std::sync::Arc::clone(&p);
        let payload = payload.clone();
        tokio::spawn(async move { p.request("custommsg", payload, T).await })
    };
    let req = next(&mut incoming).await;
    assert_eq!(req["method"], "sendcustommsg");
    assert_eq!(
        req["params"],
        json!({"node_id": peer(), "msg": "8003cafe00ff"})
    );
    let id = req["id"].as_str().unwrap();
    assert!(id.starts_with("custommsg-echo:"), "{id}");
    if let Some(v) = Validator::find() {
        v.check("sendcustommsg", &req["params"], true).unwrap();
    }
    assert!(
        !hook.is_finished(),
        "hook answered before the send completed"
    );
    p.send_raw(response_ok(&req["id"], json!({"status": "queued"})).to_string());

    let result = hook.await.unwrap().unwrap();
    assert_eq!(result, json!({"result": "continue"}));
    if let Some(v) = Validator::find() {
        v.check("hook/custommsg", &result, false).unwrap();
    }

    // A failed send is logged, and the hook still continues.
    let hook = {
        let p = std::sync::Arc::clone(&p);
        tokio::spawn(async move {
            p.request(
                "custommsg",
                json!({"peer_id": peer(), "payload": "8001"}),
                T,
            )
            .await
        })
    };
    let req = next(&mut incoming).await;
    assert_eq!(req["params"]["msg"], "8003");
    let err = RpcError::new(error_codes::PEER_NOT_CONNECTED, "Peer is not connected");
    p.send_raw(response_err(&req["id"], &err).to_string());
    let log = next(&mut incoming).await;
    assert_eq!(log["method"], "log");
    assert!(
        log["params"]["message"]
            .as_str()
            .unwrap()
            .contains("not connected"),
        "{log}"
    );
    assert_eq!(hook.await.unwrap().unwrap(), json!({"result": "continue"}));
}

#[tokio::test]
async fn custommsg_echo_ignores_replies_other_types_and_garbage() {
    let (p, mut incoming) = started(echo_so(), Map::new()).await;
    for (payload, logs) in [
        ("8003cafe", false), // its own reply type: no ping-pong
        ("8005cafe", false), // a type it does not echo
        ("zz01", true),      // not hex
        ("80", true),        // shorter than the type
    ] {
        let r = p
            .request(
                "custommsg",
                json!({"peer_id": peer(), "payload": payload}),
                T,
            )
            .await
            .unwrap();
        assert_eq!(r, json!({"result": "continue"}), "{payload}");
        if logs {
            let log = next(&mut incoming).await;
            assert_eq!(log["method"], "log", "{payload}");
            assert_eq!(log["params"]["level"], "unusual");
        }
    }
    // A malformed payload (no peer_id) is an error, which the node treats as continue.
    match p.request("custommsg", json!({"payload": "8001"}), T).await {
        Err(host::RequestError::Rpc(e)) => assert_eq!(e.code, error_codes::INVALID_PARAMS),
        other => panic!("expected -32602, got {other:?}"),
    }
    // Nothing else was sent: no sendcustommsg for any of these.
    assert!(incoming.try_recv().is_err());
}

#[tokio::test]
async fn custommsg_echo_times_out_a_silent_node_and_continues() {
    // The node never answers sendcustommsg: the plugin gives up after its
    // send timeout (5 s), logs, and still continues.
    let (p, mut incoming) = started(echo_so(), Map::new()).await;
    let t0 = Instant::now();
    let r = p
        .request(
            "custommsg",
            json!({"peer_id": peer(), "payload": "800101"}),
            T,
        )
        .await
        .unwrap();
    assert_eq!(r, json!({"result": "continue"}));
    assert!(t0.elapsed() >= Duration::from_secs(5), "{:?}", t0.elapsed());
    assert_eq!(next(&mut incoming).await["method"], "sendcustommsg");
    let log = next(&mut incoming).await;
    assert!(
        log["params"]["message"]
            .as_str()
            .unwrap()
            .contains("did not answer"),
        "{log}"
    );
}

fn rpc_command(method: &str, params: Value) -> Value {
    json!({"rpc_command": {"id": "cli:1", "method": method, "params": params}})
}

#[tokio::test]
async fn rpc_guard_denies_default_stop_only() {
    let (p, _incoming) = started(guard_so(), Map::new()).await;
    let m = p.getmanifest(T).await.unwrap();
    assert_eq!(m.options[0].name, "rpc-guard-deny");
    assert_eq!(m.options[0].default, Some(json!("stop")));
    assert_eq!(m.hooks[0].name, "rpc_command");
    let validator = Validator::find();

    let payload = rpc_command("stop", json!({}));
    let denied = p.request("rpc_command", payload.clone(), T).await.unwrap();
    assert_eq!(
        denied,
        json!({"return": {"error": {"code": error_codes::PLUGIN_ERROR,
                                    "message": "stop: denied by rpc-guard"}}})
    );
    let allowed = p
        .request("rpc_command", rpc_command("getinfo", json!([])), T)
        .await
        .unwrap();
    assert_eq!(allowed, json!({"result": "continue"}));
    if let Some(v) = &validator {
        v.check("hook/rpc_command", &payload, true).unwrap();
        v.check("hook/rpc_command", &denied, false).unwrap();
        v.check("hook/rpc_command", &allowed, false).unwrap();
    }
}

#[tokio::test]
async fn rpc_guard_deny_list_from_option() {
    let mut opts = Map::new();
    opts.insert("rpc-guard-deny".into(), json!(" withdraw, close ,"));
    let (p, _incoming) = started(guard_so(), opts).await;
    for (method, deny) in [
        ("withdraw", true),
        ("close", true),
        ("stop", false),
        ("", false),
    ] {
        let r = p
            .request("rpc_command", rpc_command(method, json!({})), T)
            .await
            .unwrap();
        if deny {
            assert_eq!(r["return"]["error"]["code"], error_codes::PLUGIN_ERROR);
            assert_eq!(
                r["return"]["error"]["message"],
                format!("{method}: denied by rpc-guard")
            );
        } else {
            assert_eq!(r, json!({"result": "continue"}), "{method}");
        }
    }
}
