//! The embedded chain served over Bitcoin Core's RPC by a real `lumend`.

use base64::Engine;
use bitcoin::consensus::encode::serialize_hex;
use bitcoin::hashes::Hash;
use bitcoin::secp256k1::{Message, Secp256k1, SecretKey};
use bitcoin::sighash::{EcdsaSighashType, SighashCache};
use bitcoin::{
    Amount, CompressedPublicKey, OutPoint, ScriptBuf, Sequence, Transaction, TxIn, TxOut, Txid,
    Witness,
};
use serde_json::{Value, json};

use crate::support::{Node, free_port};

/// A blocking Bitcoin Core RPC client for tests (raw HTTP, Basic auth).
pub struct CoreRpc {
    pub port: u16,
    pub auth: String,
}

impl CoreRpc {
    /// Basic auth from the cookie a lumend wrote to `<dir>/chain/.cookie`.
    pub fn from_cookie(port: u16, dir: &std::path::Path) -> CoreRpc {
        let cookie = std::fs::read_to_string(dir.join("chain/.cookie")).expect("cookie");
        CoreRpc {
            port,
            auth: base64::engine::general_purpose::STANDARD.encode(cookie.trim()),
        }
    }

    pub fn raw(&self, auth: Option<&str>, body: &str) -> (u16, Value) {
        use std::io::{Read, Write};
        let mut s = std::net::TcpStream::connect(("127.0.0.1", self.port)).expect("connect");
        let auth = auth
            .map(|a| format!("Authorization: Basic {a}\r\n"))
            .unwrap_or_default();
        let req = format!(
            "POST / HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n{auth}Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
            body.len()
        );
        s.write_all(req.as_bytes()).expect("write");
        let mut resp = String::new();
        s.read_to_string(&mut resp).expect("read");
        let status = resp
            .split_whitespace()
            .nth(1)
            .and_then(|c| c.parse().ok())
            .expect("status");
        let body = resp.split_once("\r\n\r\n").map(|(_, b)| b).unwrap_or("");
        (status, serde_json::from_str(body).unwrap_or(Value::Null))
    }

    pub fn call(&self, method: &str, params: Value) -> Result<Value, (i64, String)> {
        let body =
            json!({ "jsonrpc": "1.0", "id": "it", "method": method, "params": params }).to_string();
        let (_, v) = self.raw(Some(&self.auth), &body);
        if v["error"].is_null() {
            Ok(v["result"].clone())
        } else {
            Err((
                v["error"]["code"].as_i64().expect("code"),
                v["error"]["message"].as_str().unwrap_or("").to_string(),
            ))
        }
    }

    pub fn ok(&self, method: &str, params: Value) -> Value {
        self.call(method, params.clone())
            .unwrap_or_else(|e| panic!("{method} {params}: {e:?}"))
    }
}

#[test]
fn bitcoin_core_rpc_subset_over_http() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let port = free_port();
    let node = Node::start_with(
        tmp.path(),
        &["--chain-rpc-bind", &format!("127.0.0.1:{port}")],
    );
    let cookie = std::fs::read_to_string(tmp.path().join("chain/.cookie")).expect("cookie");
    assert!(cookie.starts_with("__cookie__:"));
    let rpc = CoreRpc {
        port,
        auth: base64::engine::general_purpose::STANDARD.encode(cookie.trim()),
    };

    // Auth.
    let (status, _) = rpc.raw(None, r#"{"method":"getblockcount","params":[],"id":1}"#);
    assert_eq!(status, 401);

    let secp = Secp256k1::new();
    let sk = SecretKey::from_slice(&[5u8; 32]).expect("key");
    let pk = CompressedPublicKey(sk.public_key(&secp));
    let address = bitcoin::Address::p2wpkh(&pk, bitcoin::Network::Regtest);

    assert_eq!(rpc.ok("getblockcount", json!([])), 0);
    let hashes = rpc.ok("generatetoaddress", json!([101, address.to_string()]));
    assert_eq!(hashes.as_array().expect("array").len(), 101);
    assert_eq!(rpc.ok("getblockcount", json!([])), 101);
    assert_eq!(
        node.ok("getinfo", json!({}))["blockheight"],
        101,
        "one chain behind both RPCs"
    );
    let info = rpc.ok("getblockchaininfo", json!([]));
    assert_eq!(info["chain"], "regtest");
    assert_eq!(info["blocks"], 101);
    assert_eq!(info["bestblockhash"], rpc.ok("getbestblockhash", json!([])));

    let h1 = rpc.ok("getblockhash", json!([1]));
    assert_eq!(h1, hashes[0]);
    assert_eq!(
        rpc.call("getblockhash", json!([1000]))
            .expect_err("range")
            .0,
        -8
    );
    let header = rpc.ok("getblockheader", json!([h1]));
    assert_eq!(header["height"], 1);
    assert_eq!(header["confirmations"], 101);
    assert_eq!(header["nextblockhash"], hashes[1]);
    assert_eq!(
        rpc.ok("getblockheader", json!([h1, false]))
            .as_str()
            .expect("hex")
            .len(),
        160
    );
    let block_hex = rpc.ok("getblock", json!([h1, 0]));
    let block: bitcoin::Block = bitcoin::consensus::encode::deserialize(
        &hex::decode(block_hex.as_str().expect("hex")).expect("hex"),
    )
    .expect("block");
    assert_eq!(block.block_hash().to_string(), h1.as_str().expect("hash"));
    let b1 = rpc.ok("getblock", json!([h1, 1]));
    let cb_txid = b1["tx"][0].as_str().expect("txid").to_string();
    let b2 = rpc.ok("getblock", json!([h1, 2]));
    assert_eq!(b2["tx"][0]["txid"], cb_txid);
    assert_eq!(
        b2["tx"][0]["vout"][0]["scriptPubKey"]["address"],
        address.to_string()
    );
    assert_eq!(
        rpc.call("getblock", json!(["00".repeat(32)]))
            .expect_err("unknown")
            .0,
        -5
    );

    let raw = rpc.ok("getrawtransaction", json!([cb_txid, true]));
    assert_eq!(raw["confirmations"], 101);
    let out = rpc.ok("gettxout", json!([cb_txid, 0]));
    assert_eq!(out["coinbase"], true);
    assert_eq!(out["value"], 50.0);
    assert!(
        rpc.ok("estimatesmartfee", json!([6]))["feerate"]
            .as_f64()
            .expect("rate")
            > 0.0
    );
    assert_eq!(rpc.ok("getnetworkinfo", json!([]))["version"], 280000);

    // Spend block 1's coinbase.
    let value = Amount::from_sat(50 * 100_000_000);
    let mut tx = Transaction {
        version: bitcoin::transaction::Version::TWO,
        lock_time: bitcoin::absolute::LockTime::ZERO,
        input: vec![TxIn {
            previous_output: OutPoint::new(cb_txid.parse::<Txid>().expect("txid"), 0),
            sequence: Sequence::ENABLE_RBF_NO_LOCKTIME,
            ..Default::default()
        }],
        output: vec![TxOut {
            value: value - Amount::from_sat(1_000),
            script_pubkey: ScriptBuf::new_p2wpkh(&pk.wpubkey_hash()),
        }],
    };
    let sighash = SighashCache::new(&tx)
        .p2wpkh_signature_hash(0, &address.script_pubkey(), value, EcdsaSighashType::All)
        .expect("sighash");
    let sig = secp.sign_ecdsa(&Message::from_digest(sighash.to_byte_array()), &sk);
    tx.input[0].witness = Witness::p2wpkh(
        &bitcoin::ecdsa::Signature {
            signature: sig,
            sighash_type: EcdsaSighashType::All,
        },
        &pk.0,
    );
    let hex_tx = serialize_hex(&tx);

    let accept = rpc.ok("testmempoolaccept", json!([[hex_tx]]));
    assert_eq!(accept[0]["allowed"], true, "{accept}");
    let txid = rpc.ok("sendrawtransaction", json!([hex_tx]));
    assert_eq!(txid, tx.compute_txid().to_string());
    assert_eq!(
        rpc.ok("sendrawtransaction", json!([hex_tx])),
        txid,
        "already in the mempool: Core returns the txid"
    );
    assert_eq!(rpc.ok("getrawmempool", json!([])), json!([txid]));
    assert_eq!(rpc.ok("getmempoolinfo", json!([]))["size"], 1);
    assert!(
        rpc.ok("gettxout", json!([cb_txid, 0])).is_null(),
        "spent in the mempool"
    );

    // Rejections with Core's codes.
    assert_eq!(
        rpc.call("sendrawtransaction", json!(["zz"]))
            .expect_err("decode")
            .0,
        -22
    );
    let mut double = tx.clone();
    double.output[0].value = value - Amount::from_sat(5_000);
    let (code, msg) = rpc
        .call("sendrawtransaction", json!([serialize_hex(&double)]))
        .expect_err("conflict");
    assert_eq!(code, -26);
    assert!(msg.contains("txn-mempool-conflict"), "{msg}");
    let mut orphan = tx.clone();
    orphan.input[0].previous_output.vout = 7;
    let (code, msg) = rpc
        .call("sendrawtransaction", json!([serialize_hex(&orphan)]))
        .expect_err("missing");
    assert_eq!(
        (code, msg.as_str()),
        (-25, "bad-txns-inputs-missingorspent")
    );
    let not_allowed = rpc.ok("testmempoolaccept", json!([[serialize_hex(&orphan)]]));
    assert_eq!(not_allowed[0]["reject-reason"], "missing-inputs");

    rpc.ok("generatetoaddress", json!([1, address.to_string()]));
    assert_eq!(
        rpc.ok("getrawtransaction", json!([txid, true]))["confirmations"],
        1
    );
    let (code, _) = rpc
        .call("sendrawtransaction", json!([hex_tx]))
        .expect_err("confirmed");
    assert_eq!(code, -27);

    // Unknown method: 404 with -32601, like bitcoind.
    let (status, v) = rpc.raw(
        Some(&rpc.auth),
        r#"{"method":"getwalletinfo","params":[],"id":1}"#,
    );
    assert_eq!((status, v["error"]["code"].as_i64()), (404, Some(-32601)));
    // JSON-RPC 2.0 requests get 2.0 replies with HTTP 200.
    let (status, v) = rpc.raw(
        Some(&rpc.auth),
        r#"{"jsonrpc":"2.0","method":"getblockcount","params":[],"id":1}"#,
    );
    assert_eq!((status, v["result"].as_u64()), (200, Some(102)));
}
