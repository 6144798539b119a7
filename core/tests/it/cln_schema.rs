//! Real responses validated against Core Lightning's JSON schemas with the
//! validator shipped in `../shared/vectors/cln-schemas/validate.py`.

use serde_json::{Value, json};

use lumen_tests::Validator;

use crate::support::Node;

#[test]
fn responses_validate_against_core_lightning_schemas() {
    let Some(v) = Validator::find() else {
        return;
    };

    // The validator must be able to fail: a broken getinfo is refused.
    let broken = json!({"id": "04zz", "alias": "x"});
    assert!(
        v.check("getinfo", &broken, false).is_err(),
        "validator accepted garbage"
    );

    let tmp = tempfile::tempdir().expect("tempdir");
    let node = Node::start_with(&tmp.path().join("a"), &["--peer-listen", "127.0.0.1:0"]);
    let other = Node::start_with(&tmp.path().join("b"), &["--peer-listen", "127.0.0.1:0"]);
    let other_info = other.ok("getinfo", json!({}));
    let other_id = other_info["id"].as_str().expect("id").to_string();
    let other_port = other_info["binding"][0]["port"].as_u64().expect("port");
    let mut checked = Vec::new();
    let mut check = |method: &str, params: Value| {
        v.check(method, &params, true)
            .unwrap_or_else(|e| panic!("request: {e}"));
        let result = node.ok(method, params);
        v.check(method, &result, false)
            .unwrap_or_else(|e| panic!("response: {e}"));
        checked.push(method.to_string());
    };
    check("getinfo", json!({}));
    check(
        "datastore",
        json!({"key": ["s", "text"], "string": "hello"}),
    );
    check("datastore", json!({"key": ["s", "bin"], "hex": "00ff"}));
    check(
        "datastore",
        json!({"key": ["s", "deep", "x"], "string": "1"}),
    );
    check(
        "datastore",
        json!({"key": ["s", "text"], "string": "!", "mode": "must-append", "generation": 0}),
    );
    check("listdatastore", json!({}));
    check("listdatastore", json!({"key": ["s"]}));
    check("listdatastore", json!({"key": "nothing"}));
    check("deldatastore", json!({"key": ["s", "bin"]}));
    check("help", json!({}));
    check("help", json!({"command": "datastore"}));
    check(
        "connect",
        json!({"id": other_id, "host": "127.0.0.1", "port": other_port}),
    );
    check("getinfo", json!({}));
    check("listpeers", json!({}));
    check("listpeers", json!({"id": other_id}));
    check(
        "sendcustommsg",
        json!({"node_id": other_id, "msg": "80010203"}),
    );
    check("disconnect", json!({"id": other_id}));
    check("listpeers", json!({}));
    assert_eq!(checked.len(), 18);

    // `stop` last.
    let params = json!({});
    v.check("stop", &params, true).expect("stop request");
    let result = node.ok("stop", params);
    v.check("stop", &result, false).expect("stop response");
}
