//! Bad input gets stable codes and messages that say what was wrong, on
//! every transport; and the datastore follows Core Lightning's rules.

use serde_json::{Value, json};

use crate::support::{Node, cli, http_post, unix_raw};

#[test]
fn malformed_unknown_and_bad_params() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let node = Node::start(tmp.path());
    let token = node.token();

    // Malformed JSON.
    let (status, body) = http_post(node.port, Some(&token), r#"{"jsonrpc":"2.0","id":1,"meth"#);
    assert_eq!(status, 200);
    let v: Value = serde_json::from_str(&body).expect("json");
    assert_eq!(v["error"]["code"], -32700, "{v}");
    let v = unix_raw(&node.socket(), br#"{"jsonrpc":"2.0","id":1,"method":}"#).expect("unix");
    assert_eq!(v[0]["error"]["code"], -32700, "{v:?}");

    // Unknown method, named.
    let (_, body) = http_post(
        node.port,
        Some(&token),
        r#"{"jsonrpc":"2.0","id":1,"method":"fundchannelz"}"#,
    );
    let v: Value = serde_json::from_str(&body).expect("json");
    assert_eq!(v["error"]["code"], -32601);
    assert!(
        v["error"]["message"]
            .as_str()
            .expect("msg")
            .contains("fundchannelz"),
        "{v}"
    );
    let v = node.call("fundchannelz", json!([]));
    assert_eq!(v["error"]["code"], -32601);
    assert!(
        v["error"]["message"]
            .as_str()
            .expect("msg")
            .contains("fundchannelz")
    );
    let (code, out, _) = cli(tmp.path(), &["fundchannelz"]);
    assert_eq!(code, 1);
    assert!(
        out.contains("-32601") && out.contains("fundchannelz"),
        "{out}"
    );

    // Wrong parameters, named: unknown name, bad type, missing, too many.
    for (params, param) in [
        (json!({"key": "a", "strin": "x"}), "strin"),
        (
            json!({"key": "a", "string": "x", "mode": "must-replace", "generation": "one"}),
            "generation",
        ),
        (json!({"string": "x"}), "key"),
        (json!({"key": 5, "string": "x"}), "key"),
        (json!({"key": "a", "hex": "zz"}), "hex"),
        (
            json!({"key": "a", "string": "x", "mode": "sometimes"}),
            "mode",
        ),
    ] {
        let v = node.call("datastore", params.clone());
        assert_eq!(v["error"]["code"], -32602, "{params}: {v}");
        let msg = v["error"]["message"].as_str().expect("msg");
        assert!(
            msg.contains(&format!("'{param}'")),
            "{params}: message should name {param}: {msg}"
        );
    }
    let v = node.call("getinfo", json!([1]));
    assert_eq!(v["error"]["code"], -32602);
    let v = node.call("getinfo", json!("x"));
    assert_eq!(v["error"]["code"], -32602);
    let (code, out, _) = cli(tmp.path(), &["datastore", "key=a", "bogus=1"]);
    assert_eq!(code, 1);
    assert!(out.contains("-32602") && out.contains("bogus"), "{out}");

    // Not a request object; a request without an id gets no reply but the
    // next one on the same connection does.
    let v = unix_raw(&node.socket(), b"[1,2]").expect("unix");
    assert_eq!(v[0]["error"]["code"], -32600);
    let v = unix_raw(
        &node.socket(),
        br#"{"jsonrpc":"2.0","method":"getinfo"} {"jsonrpc":"2.0","id":9,"method":"getinfo"}"#,
    )
    .expect("unix");
    assert_eq!(v.len(), 1);
    assert_eq!(v[0]["id"], 9);

    // The node is still fine.
    assert!(node.ok("getinfo", json!({}))["id"].is_string());
}

#[test]
fn datastore_semantics_match_core_lightning() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let node = Node::start(tmp.path());
    let code = |v: &Value| v["error"]["code"].as_i64().unwrap_or(0);

    // Positional and named params are the same call.
    let a = node.ok("datastore", json!([["p", "one"], "v1"]));
    assert_eq!(
        a,
        json!({"key": ["p", "one"], "generation": 0, "hex": "7631", "string": "v1"})
    );
    let b = node.ok("datastore", json!({"key": ["p", "two"], "hex": "00ff"}));
    assert_eq!(
        b,
        json!({"key": ["p", "two"], "generation": 0, "hex": "00ff"}),
        "no string for non-UTF-8 data"
    );

    // Modes.
    assert_eq!(
        code(&node.call("datastore", json!({"key": ["p", "one"], "string": "x"}))),
        1202
    );
    assert_eq!(
        code(&node.call(
            "datastore",
            json!({"key": ["p", "nope"], "string": "x", "mode": "must-replace"})
        )),
        1203
    );
    assert_eq!(
        code(&node.call(
            "datastore",
            json!({"key": ["p", "nope"], "string": "x", "mode": "must-append"})
        )),
        1203
    );
    let r = node.ok(
        "datastore",
        json!({"key": ["p", "one"], "string": "+", "mode": "must-append"}),
    );
    assert_eq!(
        (r["string"].clone(), r["generation"].clone()),
        (json!("v1+"), json!(1))
    );
    let r = node.ok(
        "datastore",
        json!({"key": ["p", "new"], "string": "a", "mode": "create-or-append"}),
    );
    assert_eq!(r["generation"], 0);
    let r = node.ok(
        "datastore",
        json!({"key": ["p", "new"], "string": "b", "mode": "create-or-append"}),
    );
    assert_eq!(
        (r["string"].clone(), r["generation"].clone()),
        (json!("ab"), json!(1))
    );
    let r = node.ok(
        "datastore",
        json!({"key": ["p", "new"], "string": "c", "mode": "create-or-replace"}),
    );
    assert_eq!(
        (r["string"].clone(), r["generation"].clone()),
        (json!("c"), json!(2))
    );

    // Generations.
    assert_eq!(
        code(&node.call(
            "datastore",
            json!({"key": ["p", "new"], "string": "d", "mode": "must-replace", "generation": 1})
        )),
        1204
    );
    let r = node.ok(
        "datastore",
        json!({"key": ["p", "new"], "string": "d", "mode": "must-replace", "generation": 2}),
    );
    assert_eq!(r["generation"], 3);
    assert_eq!(code(&node.call("datastore", json!({"key": ["p", "new"], "string": "d", "mode": "create-or-replace", "generation": 3}))), -32602);

    // A key holds a value or children, never both.
    assert_eq!(
        code(&node.call("datastore", json!({"key": ["p"], "string": "x"}))),
        1205
    );
    assert_eq!(
        code(&node.call(
            "datastore",
            json!({"key": ["p", "one", "deeper"], "string": "x"})
        )),
        1206
    );

    // Listing: the level below the key; deeper levels summarised.
    node.ok(
        "datastore",
        json!({"key": ["p", "sub", "x"], "string": "1"}),
    );
    node.ok(
        "datastore",
        json!({"key": ["p", "sub", "y"], "string": "2"}),
    );
    let top = node.ok("listdatastore", json!({}));
    assert_eq!(top, json!({"datastore": [{"key": ["p"]}]}));
    let lvl = node.ok("listdatastore", json!({"key": "p"}));
    let keys: Vec<Value> = lvl["datastore"]
        .as_array()
        .expect("array")
        .iter()
        .map(|e| e["key"].clone())
        .collect();
    assert_eq!(
        keys,
        vec![
            json!(["p", "new"]),
            json!(["p", "one"]),
            json!(["p", "sub"]),
            json!(["p", "two"])
        ]
    );
    assert!(
        lvl["datastore"][2].get("generation").is_none(),
        "a parent is listed by key only"
    );
    let one = node.ok("listdatastore", json!({"key": ["p", "one"]}));
    assert_eq!(one["datastore"][0]["string"], "v1+");
    assert_eq!(
        node.ok("listdatastore", json!({"key": ["nothing"]})),
        json!({"datastore": []})
    );

    // Delete.
    assert_eq!(
        code(&node.call("deldatastore", json!({"key": ["p", "zzz"]}))),
        1200
    );
    assert_eq!(
        code(&node.call(
            "deldatastore",
            json!({"key": ["p", "one"], "generation": 0})
        )),
        1201
    );
    let d = node.ok(
        "deldatastore",
        json!({"key": ["p", "one"], "generation": 1}),
    );
    assert_eq!(d["string"], "v1+");
    assert_eq!(
        node.ok("listdatastore", json!({"key": ["p", "one"]})),
        json!({"datastore": []})
    );

    // Oversized values are refused with their own code, not stored.
    let big = "x".repeat(4089);
    assert_eq!(
        code(&node.call("datastore", json!({"key": ["p", "big"], "string": big}))),
        1207
    );
    assert_eq!(
        node.ok("listdatastore", json!({"key": ["p", "big"]})),
        json!({"datastore": []})
    );
    let fits = "x".repeat(4088);
    assert_eq!(
        node.ok("datastore", json!({"key": ["p", "big"], "string": fits}))["generation"],
        0
    );
    assert_eq!(
        code(&node.call(
            "datastore",
            json!({"key": ["p", "big"], "string": "y", "mode": "must-append"})
        )),
        1207
    );
    let long_key = vec!["k".repeat(100); 3];
    let v = node.call("datastore", json!({"key": long_key, "string": "x"}));
    assert_eq!(code(&v), -32602, "{v}");
}
