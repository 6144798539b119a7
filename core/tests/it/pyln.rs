//! pyln-client, Core Lightning's Python client, talks to our unix socket
//! unchanged.

use std::process::Command;

use serde_json::{Value, json};

use crate::support::{Node, python_with, skip_or_fail};

const SCRIPT: &str = r#"
import json, sys
from pyln.client import LightningRpc, RpcError
rpc = LightningRpc(sys.argv[1])
out = {}
out["getinfo"] = rpc.getinfo()
out["datastore"] = rpc.datastore(key=["pyln", "k"], string="from python")
out["datastore_hex"] = rpc.call("datastore", {"key": ["pyln", "h"], "hex": "0001"})
out["listdatastore"] = rpc.listdatastore(key=["pyln"])
try:
    rpc.datastore(key=["pyln", "k"], string="again")
    out["dup_error"] = None
except RpcError as e:
    out["dup_error"] = e.error
try:
    rpc.call("nosuchmethod")
    out["unknown_error"] = None
except RpcError as e:
    out["unknown_error"] = e.error
print(json.dumps(out))
"#;

#[test]
fn pyln_client_over_the_unix_socket() {
    let Some(py) = python_with(&["pyln.client"]) else {
        skip_or_fail("no Python with pyln-client (set LUMEN_PYTHON)");
        return;
    };
    let tmp = tempfile::tempdir().expect("tempdir");
    let node = Node::start(tmp.path());
    let out = Command::new(py)
        .arg("-c")
        .arg(SCRIPT)
        .arg(node.socket())
        .output()
        .expect("run python");
    assert!(
        out.status.success(),
        "pyln script failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: Value = serde_json::from_slice(&out.stdout).expect("script output json");

    assert_eq!(v["getinfo"]["id"], node.ok("getinfo", json!({}))["id"]);
    assert_eq!(v["datastore"]["string"], "from python");
    assert_eq!(v["datastore_hex"]["hex"], "0001");
    let keys: Vec<&Value> = v["listdatastore"]["datastore"]
        .as_array()
        .expect("list")
        .iter()
        .map(|e| &e["key"])
        .collect();
    assert_eq!(keys, vec![&json!(["pyln", "h"]), &json!(["pyln", "k"])]);
    assert_eq!(v["dup_error"]["code"], 1202);
    assert_eq!(v["unknown_error"]["code"], -32601);
    // And the Rust side sees what Python wrote.
    assert_eq!(
        node.ok("listdatastore", json!({"key": ["pyln", "k"]}))["datastore"][0]["string"],
        "from python"
    );
}
