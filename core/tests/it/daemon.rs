//! The daemon's life: every transport, auth, restart, stop, locking, config.

use std::os::unix::fs::PermissionsExt;
use std::process::Command;
use std::time::Duration;

use jsonrpsee::core::client::ClientT;
use jsonrpsee::rpc_params;
use serde_json::{Value, json};

use crate::support::{Node, bin, cli, http_post, wait_timeout};

fn mode(p: &std::path::Path) -> u32 {
    std::fs::metadata(p).expect("metadata").permissions().mode() & 0o777
}

async fn ws_getinfo(port: u16, token: Option<&str>) -> Result<Value, String> {
    let mut headers = jsonrpsee::http_client::HeaderMap::new();
    if let Some(t) = token {
        headers.insert(
            "Authorization",
            format!("Bearer {t}").parse().expect("header"),
        );
    }
    let client = jsonrpsee::ws_client::WsClientBuilder::default()
        .set_headers(headers)
        .build(format!("ws://127.0.0.1:{port}"))
        .await
        .map_err(|e| e.to_string())?;
    client
        .request("getinfo", rpc_params![])
        .await
        .map_err(|e| e.to_string())
}

/// The node API's `#[rpc(client)]` trait, the one plugins use over their
/// pipe, works unchanged against the daemon over WebSocket, including
/// optional arguments left as `None` (which jsonrpsee sends as `null`).
#[test]
fn the_sdk_node_api_client_talks_to_the_daemon() {
    use lumen_sdk::api::NodeApiClient;

    let tmp = tempfile::tempdir().expect("tempdir");
    let node = Node::start(&tmp.path().join("node"));
    let token = node.token();
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("rt");
    rt.block_on(async {
        let mut headers = jsonrpsee::http_client::HeaderMap::new();
        headers.insert(
            "Authorization",
            format!("Bearer {token}").parse().expect("header"),
        );
        let client = jsonrpsee::ws_client::WsClientBuilder::default()
            .set_headers(headers)
            .build(format!("ws://127.0.0.1:{}", node.port))
            .await
            .expect("ws client");
        let info = client.getinfo().await.expect("getinfo");
        assert_eq!(info.id.len(), 66);
        assert_eq!(info.network, "regtest");

        let key = vec!["sdk".to_string(), "k".to_string()];
        let stored = client
            .datastore(key.clone(), Some("v1".into()), None, None, None)
            .await
            .expect("datastore");
        assert_eq!(
            (stored.string.as_deref(), stored.generation),
            (Some("v1"), Some(0))
        );
        let replaced = client
            .datastore(
                key.clone(),
                Some("v2".into()),
                None,
                Some("must-replace".into()),
                Some(0),
            )
            .await
            .expect("datastore must-replace");
        assert_eq!(replaced.generation, Some(1));
        let listed = client
            .listdatastore(Some(vec!["sdk".into()]))
            .await
            .expect("listdatastore");
        assert_eq!(listed.datastore.len(), 1);
        assert_eq!(listed.datastore[0].string.as_deref(), Some("v2"));
        // A refused call comes back as the node's own error.
        let err = client
            .datastore(key.clone(), Some("v3".into()), None, None, None)
            .await
            .expect_err("must-create on an existing key");
        match err {
            jsonrpsee::core::client::Error::Call(e) => assert_eq!(
                e.code(),
                lumen_sdk::error_codes::DATASTORE_UPDATE_ALREADY_EXISTS,
                "{e}"
            ),
            other => panic!("expected the node's error, got {other}"),
        }
        let deleted = client
            .deldatastore(key.clone(), None)
            .await
            .expect("deldatastore");
        assert_eq!(deleted.string.as_deref(), Some("v2"));
        let help = client.help(None).await.expect("help");
        assert!(help.help.iter().any(|h| h.command.starts_with("getinfo")));
    });
}

#[test]
fn every_transport_auth_restart_and_stop() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let dir = tmp.path().join("node");
    let mut node = Node::start(&dir);
    let token = node.token();

    // Unix socket.
    let info = node.ok("getinfo", json!({}));
    let id = info["id"].as_str().expect("id").to_string();
    assert_eq!(id.len(), 66);
    assert_eq!(info["network"], "regtest");
    assert_eq!(
        info["lightning-dir"],
        json!(
            std::fs::canonicalize(&dir)
                .expect("canon")
                .display()
                .to_string()
        )
    );

    // HTTP, with and without the token.
    let body = r#"{"jsonrpc":"2.0","id":7,"method":"getinfo","params":{}}"#;
    let (status, resp) = http_post(node.port, Some(&token), body);
    assert_eq!(status, 200, "{resp}");
    let resp: Value = serde_json::from_str(&resp).expect("json");
    assert_eq!(resp["result"]["id"], json!(id));
    assert_eq!(resp["id"], json!(7));
    let (status, _) = http_post(node.port, None, body);
    assert_eq!(status, 401);
    let (status, _) = http_post(node.port, Some("00"), body);
    assert_eq!(status, 401);

    // WebSocket, with and without the token.
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("rt");
    let ws = rt
        .block_on(ws_getinfo(node.port, Some(&token)))
        .expect("ws getinfo");
    assert_eq!(ws["id"], json!(id));
    let refused = rt
        .block_on(ws_getinfo(node.port, None))
        .expect_err("ws without token must fail");
    assert!(refused.contains("401"), "{refused}");

    // lumen-cli over the unix socket, HTTP and WebSocket.
    let (code, out, err) = cli(&dir, &["getinfo"]);
    assert_eq!(code, 0, "{err}");
    let v: Value = serde_json::from_str(&out).expect("cli json");
    assert_eq!(v["id"], json!(id));
    for url in [node.url(), format!("ws://127.0.0.1:{}", node.port)] {
        let (code, out, err) = cli(&dir, &["--rpc-url", &url, "getinfo"]);
        assert_eq!(code, 0, "{url}: {err}");
        assert!(out.contains(&id));
    }

    // Private files.
    for f in ["seed", "rpc.cookie", "lumen-rpc"] {
        assert_eq!(mode(&dir.join(f)), 0o600, "{f}");
    }
    assert_eq!(mode(&dir), 0o700);

    // A value, then SIGTERM: clean exit, and the value survives.
    let put = node.ok(
        "datastore",
        json!({"key": ["app", "greeting"], "string": "hello"}),
    );
    assert_eq!(put["generation"], 0);
    let status = node.signal_and_wait(libc::SIGTERM);
    assert!(status.success(), "SIGTERM exit: {status}");
    assert!(
        !dir.join("lumen-rpc").exists(),
        "socket removed on shutdown"
    );
    node.restart();
    assert_eq!(
        node.ok("getinfo", json!({}))["id"],
        json!(id),
        "same node id after restart"
    );
    let listed = node.ok("listdatastore", json!({"key": ["app"]}));
    assert_eq!(listed["datastore"][0]["string"], "hello");

    // Update (generation 1), then `stop` from the CLI: reply, exit 0.
    let upd = node.ok(
        "datastore",
        json!({"key": ["app", "greeting"], "string": "hi", "mode": "must-replace"}),
    );
    assert_eq!(upd["generation"], 1);
    let (code, out, err) = cli(&dir, &["stop"]);
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("Shutdown complete"), "{out}");
    let status = node.wait_exit();
    assert!(status.success(), "stop exit: {status}");

    // The store is consistent afterwards: open it again.
    node.restart();
    let listed = node.ok("listdatastore", json!({"key": ["app", "greeting"]}));
    assert_eq!(listed["datastore"][0]["string"], "hi");
    assert_eq!(listed["datastore"][0]["generation"], 1);

    // The seed never reaches the log.
    let words = std::fs::read_to_string(dir.join("seed")).expect("seed");
    let first_words: Vec<&str> = words.split_whitespace().take(4).collect();
    assert!(
        !node.log().contains(&first_words.join(" ")),
        "seed words in the log"
    );
    assert!(node.log().contains("lumend ready"));
    let status = node.signal_and_wait(libc::SIGINT);
    assert!(status.success(), "SIGINT exit: {status}");
}

#[test]
fn second_daemon_on_same_datadir_is_refused() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let node = Node::start(tmp.path());
    let out = Command::new(bin("lumend"))
        .arg("--datadir")
        .arg(tmp.path())
        .arg("--rpc-bind")
        .arg(format!("127.0.0.1:{}", crate::support::free_port()))
        .output()
        .expect("run");
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("in use by another lumend"), "{err}");
    assert!(
        err.contains(&node.pid().to_string()),
        "names the holder: {err}"
    );
    // The first node is untouched.
    assert!(node.ok("getinfo", json!({}))["id"].is_string());
}

fn lumend_with_config(text: &str) -> (i32, String) {
    let tmp = tempfile::tempdir().expect("tempdir");
    std::fs::write(tmp.path().join("lumen.toml"), text).expect("write");
    let mut child = Command::new(bin("lumend"))
        .arg("--datadir")
        .arg(tmp.path())
        .stderr(std::process::Stdio::piped())
        .stdout(std::process::Stdio::null())
        .spawn()
        .expect("spawn");
    let status = wait_timeout(&mut child, Duration::from_secs(20));
    let mut err = String::new();
    std::io::Read::read_to_string(&mut child.stderr.take().expect("stderr"), &mut err)
        .expect("read");
    (status.code().unwrap_or(-1), err)
}

#[test]
fn bad_config_is_refused_naming_file_and_key() {
    let (code, err) = lumend_with_config("[rpc]\nbind = \"127.0.0.1:1\"\nsocket = true\n");
    assert_ne!(code, 0);
    assert!(
        err.contains("lumen.toml") && err.contains("rpc.socket") && err.contains("unknown field"),
        "{err}"
    );

    let (code, err) = lumend_with_config("[store]\nbackend = \"postgres\"\n");
    assert_ne!(code, 0);
    assert!(
        err.contains("lumen.toml") && err.contains("store.backend"),
        "{err}"
    );

    let (code, err) =
        lumend_with_config("alias = \"this alias is far longer than thirty-two bytes\"\n");
    assert_ne!(code, 0);
    assert!(err.contains("`alias`") && err.contains("32"), "{err}");

    let (code, err) = lumend_with_config("network = \"regtest\"\n[log\n");
    assert_ne!(code, 0);
    assert!(
        err.contains("lumen.toml") && err.contains("line 2"),
        "{err}"
    );
}

#[test]
fn config_and_flags_reach_the_node() {
    let tmp = tempfile::tempdir().expect("tempdir");
    std::fs::write(
        tmp.path().join("lumen.toml"),
        "alias = \"from-file\"\ncolor = \"abcdef\"\n[log]\nformat = \"json\"\n",
    )
    .expect("write");
    let node = Node::start_with_env(
        tmp.path(),
        &["--store-backend", "redb"],
        &[("LUMEN_COLOR", "123456")],
    );
    let info = node.ok("getinfo", json!({}));
    assert_eq!(
        info["alias"], "from-file",
        "the file sets what nothing overrides"
    );
    assert_eq!(
        info["color"], "123456",
        "the environment overrides the file"
    );
    assert!(
        tmp.path().join("store.redb").exists(),
        "the flag picked redb"
    );
    let log = node.log();
    let first = log.lines().next().expect("a log line");
    serde_json::from_str::<Value>(first).expect("json log line");
    drop(node);

    // A flag beats the environment.
    let node = Node::start_with_env(
        tmp.path(),
        &["--alias", "from-flag"],
        &[("LUMEN_ALIAS", "from-env"), ("LUMEN_STORE_BACKEND", "redb")],
    );
    assert_eq!(node.ok("getinfo", json!({}))["alias"], "from-flag");
}

#[test]
fn redb_backend_persists_and_backend_switch_is_refused() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let mut node = Node::start_with(tmp.path(), &["--store-backend", "redb"]);
    node.ok("datastore", json!({"key": "k", "hex": "00ff"}));
    assert!(node.signal_and_wait(libc::SIGTERM).success());
    node.restart();
    assert_eq!(
        node.ok("listdatastore", json!({"key": "k"}))["datastore"][0]["hex"],
        "00ff"
    );
    assert!(node.signal_and_wait(libc::SIGTERM).success());

    let out = Command::new(bin("lumend"))
        .arg("--datadir")
        .arg(tmp.path())
        .args(["--store-backend", "sled", "--rpc-bind"])
        .arg(format!("127.0.0.1:{}", crate::support::free_port()))
        .output()
        .expect("run");
    assert!(!out.status.success());
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("keeps the backend"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn restore_from_mnemonic_file_gives_the_same_node() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let words = tmp.path().join("words");
    // BIP39's published test mnemonic: holds nothing.
    std::fs::write(&words, "abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon about\n")
        .expect("write");
    let a = Node::start_with(
        &tmp.path().join("a"),
        &[
            "--restore-from-mnemonic-file",
            words.to_str().expect("utf8"),
        ],
    );
    let b = Node::start_with(
        &tmp.path().join("b"),
        &[
            "--restore-from-mnemonic-file",
            words.to_str().expect("utf8"),
        ],
    );
    assert_eq!(
        a.ok("getinfo", json!({}))["id"],
        b.ok("getinfo", json!({}))["id"]
    );
}

#[test]
fn acknowledged_writes_survive_kill_9_on_both_backends() {
    for backend in ["sled", "redb"] {
        let tmp = tempfile::tempdir().expect("tempdir");
        let mut node = Node::start_with(tmp.path(), &["--store-backend", backend]);
        for i in 0..50 {
            node.ok(
                "datastore",
                json!({"key": ["k9", format!("{i:03}")], "string": format!("value {i}")}),
            );
        }
        let status = node.signal_and_wait(libc::SIGKILL);
        assert!(!status.success(), "{backend}: SIGKILL is not a clean exit");
        // The kernel released the lock with the process: a restart just works.
        node.restart();
        let listed = node.ok("listdatastore", json!({"key": "k9"}));
        let values: Vec<&str> = listed["datastore"]
            .as_array()
            .expect("array")
            .iter()
            .map(|e| e["string"].as_str().expect("string"))
            .collect();
        let want: Vec<String> = (0..50).map(|i| format!("value {i}")).collect();
        assert_eq!(values, want, "{backend}");
    }
}

#[test]
fn embedded_chain_in_the_daemon_mines_and_persists() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let mut node = Node::start(tmp.path());
    assert_eq!(node.ok("getinfo", json!({}))["blockheight"], 0);
    let secp = bitcoin::secp256k1::Secp256k1::new();
    let sk = bitcoin::secp256k1::SecretKey::from_slice(&[3u8; 32]).expect("key");
    let pk = bitcoin::CompressedPublicKey(sk.public_key(&secp));
    let address = bitcoin::Address::p2wpkh(&pk, bitcoin::Network::Regtest).to_string();

    let mined = node.ok("dev-mine", json!({"blocks": 101, "address": address}));
    assert_eq!(mined["blockheight"], 101);
    assert_eq!(mined["blockhashes"].as_array().expect("hashes").len(), 101);
    assert_eq!(node.ok("getinfo", json!({}))["blockheight"], 101);
    let (code, out, _) = cli(tmp.path(), &["dev-mine", "2", &address]);
    assert_eq!(code, 0, "{out}");
    assert_eq!(node.ok("getinfo", json!({}))["blockheight"], 103);

    // A 2-block reorg through the dev RPC, then a longer competing branch.
    let two: serde_json::Value = serde_json::from_str(&out).expect("dev-mine output is JSON");
    let hash_102 = two["blockhashes"][0].as_str().expect("hash").to_string();
    let reorg = node.ok("dev-invalidateblock", json!({"blockhash": hash_102}));
    assert_eq!(reorg, json!({"disconnected": 2, "blockheight": 101}));
    assert_eq!(node.ok("getinfo", json!({}))["blockheight"], 101);
    let branch = node.ok("dev-mine", json!({"blocks": 3, "address": address}));
    assert_eq!(node.ok("getinfo", json!({}))["blockheight"], 104);
    assert_ne!(branch["blockhashes"][0], json!(hash_102));
    let unknown = node.call("dev-invalidateblock", json!({"blockhash": hash_102}));
    assert_eq!(unknown["error"]["code"], -32602, "{unknown}");

    for (params, param) in [
        (
            json!({"blocks": 1, "address": "bc1qw508d6qejxtdg4y5r3zarvary0c5xw7kv8f3t4"}),
            "address",
        ),
        (json!({"blocks": 1, "address": "nonsense"}), "address"),
        (json!({"blocks": 0, "address": address}), "blocks"),
        (json!({"blocks": 100000, "address": address}), "blocks"),
    ] {
        let v = node.call("dev-mine", params.clone());
        assert_eq!(v["error"]["code"], -32602, "{params}: {v}");
        assert!(
            v["error"]["message"]
                .as_str()
                .expect("msg")
                .contains(&format!("'{param}'")),
            "{v}"
        );
    }

    assert!(node.signal_and_wait(libc::SIGTERM).success());
    node.restart();
    assert_eq!(
        node.ok("getinfo", json!({}))["blockheight"],
        104,
        "the chain (after the reorg) survives a restart"
    );
    assert!(tmp.path().join("chain/blocks.dat").exists());
}

#[test]
fn chain_backend_config_is_checked() {
    let (code, err) = lumend_with_config(
        "[chain]\nbackend = \"bitcoind\"\nbitcoind_cookie = \"/nonexistent/lumen-test/.cookie\"\n",
    );
    assert_ne!(code, 0);
    assert!(
        err.contains("cannot read the cookie file /nonexistent/lumen-test/.cookie"),
        "{err}"
    );
    let (code, err) = lumend_with_config("[chain]\nbitcoind_url = \"http://127.0.0.1:1\"\n");
    assert_ne!(code, 0);
    assert!(
        err.contains("chain.bitcoind_url") && err.contains("line 2"),
        "{err}"
    );

    let tmp = tempfile::tempdir().expect("tempdir");
    let out = Command::new(bin("lumend"))
        .arg("--datadir")
        .arg(tmp.path())
        .args(["--network", "signet", "--chain-backend", "embedded"])
        .output()
        .expect("run");
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("--chain-backend") && err.contains("regtest only"),
        "{err}"
    );
}
