//! The Bitcoin Core chain backend against a real `lumend` serving its
//! embedded chain over Core's RPC: in process (the client) and as a second
//! `lumend` with `--chain-backend bitcoind`.

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use bitcoin::hashes::Hash;
use bitcoin::secp256k1::{Message, Secp256k1, SecretKey};
use bitcoin::sighash::{EcdsaSighashType, SighashCache};
use bitcoin::{
    Address, Amount, BlockHash, CompressedPublicKey, FeeRate, OutPoint, Sequence, Transaction,
    TxIn, TxOut, Txid, Witness,
};
use lumen_core::chain::bitcoind::rpc::{Auth, RpcError};
use lumen_core::chain::bitcoind::{BitcoindChain, BitcoindConfig, StartError};
use lumen_core::chain::{ChainNotification, ChainSource, ChainSourceError};
use serde_json::{Value, json};
use tokio::runtime::Runtime;
use tokio::sync::broadcast;

use crate::chain_server::CoreRpc;
use crate::support::{Node, bin, free_port};

/// A lumend serving its embedded chain on a Core-compatible RPC port.
struct Served {
    node: Node,
    port: u16,
}

impl Served {
    fn start(dir: &Path) -> Served {
        let port = free_port();
        let node = Node::start_with(dir, &["--chain-rpc-bind", &format!("127.0.0.1:{port}")]);
        Served { node, port }
    }

    fn rpc(&self) -> CoreRpc {
        CoreRpc::from_cookie(self.port, &self.node.dir)
    }

    fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    fn cookie(&self) -> std::path::PathBuf {
        self.node.dir.join("chain/.cookie")
    }

    fn config(&self) -> BitcoindConfig {
        BitcoindConfig {
            url: self.url(),
            auth: Auth::Cookie(self.cookie()),
            poll: Duration::from_millis(100),
            fallback_feerate: None,
        }
    }
}

/// A key the test controls and its regtest P2WPKH address.
struct Key {
    sk: SecretKey,
    pk: CompressedPublicKey,
    address: Address,
}

impl Key {
    fn new(byte: u8) -> Key {
        let sk = SecretKey::from_slice(&[byte; 32]).expect("key");
        let pk = CompressedPublicKey(sk.public_key(&Secp256k1::new()));
        let address = Address::p2wpkh(&pk, bitcoin::Network::Regtest);
        Key { sk, pk, address }
    }

    /// Spend `prev` (worth `value`, paid to this key) back to this key, minus `fee`.
    fn spend(&self, prev: OutPoint, value: Amount, fee: Amount) -> Transaction {
        let mut tx = Transaction {
            version: bitcoin::transaction::Version::TWO,
            lock_time: bitcoin::absolute::LockTime::ZERO,
            input: vec![TxIn {
                previous_output: prev,
                sequence: Sequence::ENABLE_RBF_NO_LOCKTIME,
                ..Default::default()
            }],
            output: vec![TxOut {
                value: value - fee,
                script_pubkey: self.address.script_pubkey(),
            }],
        };
        let sighash = SighashCache::new(&tx)
            .p2wpkh_signature_hash(
                0,
                &self.address.script_pubkey(),
                value,
                EcdsaSighashType::All,
            )
            .expect("sighash");
        let sig =
            Secp256k1::new().sign_ecdsa(&Message::from_digest(sighash.to_byte_array()), &self.sk);
        tx.input[0].witness = Witness::p2wpkh(
            &bitcoin::ecdsa::Signature {
                signature: sig,
                sighash_type: EcdsaSighashType::All,
            },
            &self.pk.0,
        );
        tx
    }
}

fn hash(v: &Value) -> BlockHash {
    v.as_str().expect("hash").parse().expect("hash")
}

/// Wait until the client's tip is `height`.
fn wait_tip(rt: &Runtime, chain: &BitcoindChain, height: u32, limit: Duration) -> Duration {
    let started = Instant::now();
    loop {
        let (h, _) = rt.block_on(chain.tip()).expect("tip");
        if h == height {
            return started.elapsed();
        }
        assert!(
            started.elapsed() < limit,
            "client tip {h}, expected {height} within {limit:?}"
        );
        std::thread::sleep(Duration::from_millis(5));
    }
}

/// The next `n` events, failing after `limit`.
fn events(
    rt: &Runtime,
    rx: &mut broadcast::Receiver<ChainNotification>,
    n: usize,
    limit: Duration,
) -> Vec<ChainNotification> {
    rt.block_on(async {
        let mut out = Vec::new();
        while out.len() < n {
            match tokio::time::timeout(limit, rx.recv()).await {
                Ok(Ok(e)) => out.push(e),
                other => panic!("after {out:?}: {other:?}"),
            }
        }
        out
    })
}

fn connected(height: u32, hash: BlockHash) -> ChainNotification {
    ChainNotification::Connected { height, hash }
}

fn disconnected(height: u32, hash: BlockHash) -> ChainNotification {
    ChainNotification::Disconnected { height, hash }
}

#[test]
fn client_queries_follows_reorgs_and_broadcasts() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let served = Served::start(tmp.path());
    let core = served.rpc();
    let key = Key::new(7);
    let rt = Runtime::new().expect("runtime");

    let chain = rt
        .block_on(BitcoindChain::start(
            served.config(),
            bitcoin::Network::Regtest,
        ))
        .expect("start");
    assert_eq!(
        rt.block_on(chain.tip()).expect("tip").1,
        hash(&core.ok("getbestblockhash", json!([]))),
        "starts at Core's tip"
    );
    let mut rx = chain.subscribe();

    // Following: one Connected per mined block, lowest first.
    let mined = core.ok("generatetoaddress", json!([101, key.address.to_string()]));
    let mined: Vec<BlockHash> = mined.as_array().expect("array").iter().map(hash).collect();
    let got = events(&rt, &mut rx, 101, Duration::from_secs(30));
    let want: Vec<_> = mined
        .iter()
        .enumerate()
        .map(|(n, h)| connected(n as u32 + 1, *h))
        .collect();
    assert_eq!(got, want);
    assert_eq!(rt.block_on(chain.tip()).expect("tip"), (101, mined[100]));

    // Queries match what Core says.
    assert_eq!(
        rt.block_on(chain.block_hash(5)).expect("hash"),
        Some(mined[4])
    );
    assert_eq!(rt.block_on(chain.block_hash(5000)).expect("hash"), None);
    let (h, header) = rt
        .block_on(chain.header(mined[9]))
        .expect("header")
        .expect("known");
    assert_eq!((h, header.block_hash()), (10, mined[9]));
    assert_eq!(header.prev_blockhash, mined[8]);
    let unknown = BlockHash::from_byte_array([3; 32]);
    assert_eq!(rt.block_on(chain.header(unknown)).expect("header"), None);
    assert_eq!(rt.block_on(chain.block(unknown)).expect("block"), None);
    let block1 = rt
        .block_on(chain.block(mined[0]))
        .expect("block")
        .expect("known");
    let raw = core.ok("getblock", json!([mined[0].to_string(), 0]));
    assert_eq!(
        bitcoin::consensus::encode::serialize_hex(&block1),
        raw.as_str().expect("hex")
    );
    let cb = OutPoint::new(block1.txdata[0].compute_txid(), 0);
    let out = rt.block_on(chain.utxo(cb)).expect("utxo").expect("unspent");
    assert_eq!(out.value, Amount::from_int_btc(50));
    assert_eq!(out.script_pubkey, key.address.script_pubkey());
    assert_eq!(
        rt.block_on(chain.utxo(OutPoint::new(cb.txid, 5)))
            .expect("utxo"),
        None
    );
    // The embedded chain quotes 2 sat/vB (0.00002 BTC/kvB).
    assert_eq!(
        rt.block_on(chain.fee_rate(6)).expect("fee"),
        FeeRate::from_sat_per_vb_u32(2)
    );

    // Broadcast: a coinbase spend and its child land in Core's mempool;
    // the mempool comes back parents first.
    let parent = key.spend(cb, Amount::from_int_btc(50), Amount::from_sat(1_000));
    let child = key.spend(
        OutPoint::new(parent.compute_txid(), 0),
        parent.output[0].value,
        Amount::from_sat(1_000),
    );
    let txid = rt
        .block_on(chain.broadcast(parent.clone()))
        .expect("broadcast");
    assert_eq!(txid, parent.compute_txid());
    rt.block_on(chain.broadcast(child.clone()))
        .expect("broadcast child");
    let pool = core.ok("getrawmempool", json!([]));
    assert!(
        pool.as_array()
            .expect("array")
            .contains(&json!(txid.to_string())),
        "{pool}"
    );
    assert_eq!(
        rt.block_on(chain.mempool()).expect("mempool"),
        vec![parent.clone(), child.clone()]
    );
    assert_eq!(
        rt.block_on(chain.utxo(cb)).expect("utxo"),
        Some(out),
        "utxo() is the confirmed set: a mempool spend does not hide it"
    );

    // Bad transactions: Core's reasons.
    let conflict = key.spend(cb, Amount::from_int_btc(50), Amount::from_sat(5_000));
    match rt.block_on(chain.broadcast(conflict)) {
        Err(ChainSourceError::Rejected { reason, detail }) => {
            assert_eq!(reason, "txn-mempool-conflict", "{detail}");
            assert!(detail.contains("-26"), "{detail}");
        }
        other => panic!("{other:?}"),
    }
    let orphan = key.spend(
        OutPoint::new(Txid::from_byte_array([8; 32]), 0),
        Amount::from_int_btc(1),
        Amount::from_sat(1_000),
    );
    match rt.block_on(chain.broadcast(orphan)) {
        Err(ChainSourceError::Rejected { reason, .. }) => {
            assert_eq!(reason, "bad-txns-inputs-missingorspent")
        }
        other => panic!("{other:?}"),
    }

    // Confirm them, then reorg: invalidate the last two blocks and mine three.
    let b102 = hash(&core.ok("generatetoaddress", json!([2, key.address.to_string()]))[0]);
    let b103 = hash(&core.ok("getbestblockhash", json!([])));
    assert_eq!(
        events(&rt, &mut rx, 2, Duration::from_secs(10)),
        vec![connected(102, b102), connected(103, b103)]
    );
    assert_eq!(rt.block_on(chain.utxo(cb)).expect("utxo"), None, "spent");
    assert!(rt.block_on(chain.mempool()).expect("mempool").is_empty());
    core.ok("invalidateblock", json!([b102.to_string()]));
    let new: Vec<BlockHash> = core
        .ok("generatetoaddress", json!([3, key.address.to_string()]))
        .as_array()
        .expect("array")
        .iter()
        .map(hash)
        .collect();
    assert_ne!(new[0], b102);
    assert_eq!(
        events(&rt, &mut rx, 5, Duration::from_secs(10)),
        vec![
            disconnected(103, b103),
            disconnected(102, b102),
            connected(102, new[0]),
            connected(103, new[1]),
            connected(104, new[2]),
        ],
        "a reorg is Disconnected tip first, then Connected lowest first"
    );
    assert_eq!(rt.block_on(chain.tip()).expect("tip"), (104, new[2]));
    assert_eq!(
        rt.block_on(chain.header(b102)).expect("header"),
        None,
        "stale blocks are not on the best chain"
    );

    // A shorter chain: invalidate without mining; the tip goes down.
    core.ok("invalidateblock", json!([new[2].to_string()]));
    assert_eq!(
        events(&rt, &mut rx, 1, Duration::from_secs(10)),
        vec![disconnected(104, new[2])]
    );
    assert_eq!(rt.block_on(chain.tip()).expect("tip"), (103, new[1]));
    let stats = chain.rpc_stats();
    assert!(
        stats.requests < stats.calls,
        "batches: {stats:?} (calls vs HTTP requests)"
    );
}

#[test]
fn client_recovers_when_the_server_restarts() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let mut served = Served::start(tmp.path());
    let key = Key::new(9);
    served
        .rpc()
        .ok("generatetoaddress", json!([3, key.address.to_string()]));
    let rt = Runtime::new().expect("runtime");
    let chain = rt
        .block_on(BitcoindChain::start(
            served.config(),
            bitcoin::Network::Regtest,
        ))
        .expect("start");
    assert_eq!(rt.block_on(chain.tip()).expect("tip").0, 3);
    let mut rx = chain.subscribe();

    let old_cookie = std::fs::read_to_string(served.cookie()).expect("cookie");
    assert!(served.node.signal_and_wait(libc::SIGTERM).success());
    // Down: queries fail with a clear error; the poller keeps retrying.
    match rt.block_on(chain.block_hash(1)) {
        Err(ChainSourceError::Backend(msg)) => {
            assert!(msg.contains("cannot reach Bitcoin Core"), "{msg}")
        }
        other => panic!("{other:?}"),
    }
    std::thread::sleep(Duration::from_millis(800));
    served.node.restart();
    let new_cookie = std::fs::read_to_string(served.cookie()).expect("cookie");
    assert_ne!(old_cookie, new_cookie, "a restart writes a new cookie");

    let b4 = hash(
        &served
            .rpc()
            .ok("generatetoaddress", json!([1, key.address.to_string()]))[0],
    );
    assert_eq!(
        events(&rt, &mut rx, 1, Duration::from_secs(20)),
        vec![connected(4, b4)],
        "recovered: re-read the cookie and followed"
    );
    assert_eq!(rt.block_on(chain.block_hash(4)).expect("hash"), Some(b4));
}

#[test]
fn start_refuses_wrong_credentials_and_network() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let served = Served::start(tmp.path());
    let rt = Runtime::new().expect("runtime");

    let wrong = BitcoindConfig {
        auth: Auth::UserPass {
            user: "__cookie__".into(),
            password: "not-the-password".into(),
        },
        ..served.config()
    };
    match rt.block_on(BitcoindChain::start(wrong, bitcoin::Network::Regtest)) {
        Err(StartError::Rpc(e @ RpcError::Auth { .. })) => {
            let msg = e.to_string();
            assert!(msg.contains("refused our credentials"), "{msg}");
            assert!(msg.contains("__cookie__"), "names the user: {msg}");
            assert!(!msg.contains("not-the-password"), "{msg}");
        }
        Err(other) => panic!("{other}"),
        Ok(_) => panic!("started with a wrong password"),
    }

    let missing = BitcoindConfig {
        auth: Auth::Cookie(tmp.path().join("nope/.cookie")),
        ..served.config()
    };
    match rt.block_on(BitcoindChain::start(missing, bitcoin::Network::Regtest)) {
        Err(StartError::Rpc(RpcError::Auth { what, .. })) => {
            assert!(what.contains("nope/.cookie"), "{what}")
        }
        Err(other) => panic!("{other}"),
        Ok(_) => panic!("started without a cookie"),
    }

    match rt.block_on(BitcoindChain::start(
        served.config(),
        bitcoin::Network::Signet,
    )) {
        Err(e @ StartError::WrongNetwork { .. }) => {
            let msg = e.to_string();
            assert!(msg.contains("'regtest'") && msg.contains("signet"), "{msg}");
        }
        Err(other) => panic!("{other}"),
        Ok(_) => panic!("started on the wrong network"),
    }
}

/// A minimal HTTP server answering as a Bitcoin Core that has only its
/// genesis block and no fee data yet — the one state the embedded chain
/// (which always quotes a fee) cannot show.
fn core_without_fee_data() -> u16 {
    use std::io::{BufRead, BufReader, Read, Write};
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = listener.local_addr().expect("addr").port();
    let genesis = bitcoin::blockdata::constants::genesis_block(bitcoin::Network::Regtest);
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(stream) = stream else { continue };
            let mut reader = BufReader::new(stream);
            let mut len = 0;
            loop {
                let mut line = String::new();
                if reader.read_line(&mut line).unwrap_or(0) == 0 {
                    break;
                }
                if let Some(v) = line.to_ascii_lowercase().strip_prefix("content-length:") {
                    len = v.trim().parse().unwrap_or(0);
                }
                if line == "\r\n" {
                    break;
                }
            }
            let mut body = vec![0; len];
            if reader.read_exact(&mut body).is_err() {
                continue;
            }
            let answer = |req: &Value| {
                let result = match req["method"].as_str().unwrap_or("") {
                    "getblockchaininfo" => json!({"chain": "regtest", "blocks": 0}),
                    "getbestblockhash" | "getblockhash" => {
                        json!(genesis.block_hash().to_string())
                    }
                    "getblockcount" => json!(0),
                    "getblockheader" => {
                        json!(bitcoin::consensus::encode::serialize_hex(&genesis.header))
                    }
                    "estimatesmartfee" => {
                        json!({"errors": ["Insufficient data or no feerate found"], "blocks": 0})
                    }
                    _ => Value::Null,
                };
                json!({"result": result, "error": null, "id": req["id"]})
            };
            let req: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
            let reply = match &req {
                Value::Array(batch) => Value::Array(batch.iter().map(answer).collect()),
                single => answer(single),
            }
            .to_string();
            let mut stream = reader.into_inner();
            let _ = write!(
                stream,
                "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{reply}",
                reply.len()
            );
        }
    });
    port
}

#[test]
fn fee_falls_back_when_core_has_no_estimate() {
    let port = core_without_fee_data();
    let rt = Runtime::new().expect("runtime");
    let config = BitcoindConfig {
        url: format!("http://127.0.0.1:{port}"),
        auth: Auth::UserPass {
            user: "u".into(),
            password: "p".into(),
        },
        poll: Duration::from_millis(100),
        fallback_feerate: Some(FeeRate::from_sat_per_vb_u32(7)),
    };
    let chain = rt
        .block_on(BitcoindChain::start(
            config.clone(),
            bitcoin::Network::Regtest,
        ))
        .expect("start");
    for _ in 0..2 {
        assert_eq!(
            rt.block_on(chain.fee_rate(6)).expect("fallback"),
            FeeRate::from_sat_per_vb_u32(7)
        );
    }
    drop(chain);
    let strict = BitcoindConfig {
        fallback_feerate: None,
        ..config
    };
    let chain = rt
        .block_on(BitcoindChain::start(strict, bitcoin::Network::Regtest))
        .expect("start");
    match rt.block_on(chain.fee_rate(6)) {
        Err(ChainSourceError::Backend(msg)) => {
            assert!(
                msg.contains("no fee estimate") && msg.contains("Insufficient data"),
                "{msg}"
            )
        }
        other => panic!("{other:?}"),
    }
}

/// Run lumend to completion (it must fail at start-up); its stderr.
fn lumend_fails(dir: &Path, args: &[&str]) -> String {
    let out = Command::new(bin("lumend"))
        .arg("--datadir")
        .arg(dir)
        .arg("--rpc-bind")
        .arg(format!("127.0.0.1:{}", free_port()))
        .args(args)
        .env_remove("RUST_LOG")
        .stdout(Stdio::null())
        .output()
        .expect("run lumend");
    assert!(!out.status.success(), "lumend should have refused to start");
    String::from_utf8_lossy(&out.stderr).into_owned()
}

#[test]
fn second_lumend_follows_the_first_over_bitcoind_rpc() {
    let tmp_a = tempfile::tempdir().expect("tempdir");
    let tmp_b = tempfile::tempdir().expect("tempdir");
    let served = Served::start(tmp_a.path());
    let core = served.rpc();
    let key = Key::new(11);
    let url = served.url();
    let cookie = served.cookie();
    let cookie = cookie.to_str().expect("utf-8 path");
    let b = Node::start_with(
        tmp_b.path(),
        &[
            "--chain-backend",
            "bitcoind",
            "--bitcoind-url",
            &url,
            "--bitcoind-cookie",
            cookie,
            "--bitcoind-poll-ms",
            "100",
        ],
    );
    let height_b = || {
        b.ok("getinfo", json!({}))["blockheight"]
            .as_u64()
            .expect("height")
    };
    let wait_b = |h: u64| {
        let started = Instant::now();
        while height_b() != h {
            assert!(
                started.elapsed() < Duration::from_secs(20),
                "B at {}, expected {h}; B's log:\n{}",
                height_b(),
                b.log()
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    };
    assert_eq!(height_b(), 0);
    core.ok("generatetoaddress", json!([20, key.address.to_string()]));
    wait_b(20);
    // A's own getinfo agrees (one chain).
    assert_eq!(served.node.ok("getinfo", json!({}))["blockheight"], 20);

    // Reorg on A to a shorter chain: B's height goes down, then follows up.
    let at_18 = core.ok("getblockhash", json!([18]));
    core.ok("invalidateblock", json!([at_18]));
    core.ok("generatetoaddress", json!([1, key.address.to_string()]));
    wait_b(18);
    core.ok("generatetoaddress", json!([4, key.address.to_string()]));
    wait_b(22);
    assert!(b.log().contains("following Bitcoin Core"), "{}", b.log());

    // Start-up refusals, with the reason on stderr.
    let tmp_c = tempfile::tempdir().expect("tempdir");
    let err = lumend_fails(
        tmp_c.path(),
        &[
            "--chain-backend",
            "bitcoind",
            "--bitcoind-url",
            &url,
            "--bitcoind-user",
            "x",
            "--bitcoind-password",
            "y",
        ],
    );
    assert!(err.contains("refused our credentials"), "{err}");
    let tmp_d = tempfile::tempdir().expect("tempdir");
    let err = lumend_fails(
        tmp_d.path(),
        &[
            "--network",
            "signet",
            "--chain-backend",
            "bitcoind",
            "--bitcoind-url",
            &url,
            "--bitcoind-cookie",
            cookie,
        ],
    );
    assert!(err.contains("on chain 'regtest'"), "{err}");
}

/// How fast the client follows 1000 blocks (debug build). Prints the
/// numbers; asserts only a generous bound.
#[test]
fn follows_1000_blocks() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let served = Served::start(tmp.path());
    let core = served.rpc();
    let key = Key::new(13);
    let rt = Runtime::new().expect("runtime");
    let chain = rt
        .block_on(BitcoindChain::start(
            served.config(),
            bitcoin::Network::Regtest,
        ))
        .expect("start");
    let mut rx = chain.subscribe();
    // Let the poller settle, then count only what following costs.
    std::thread::sleep(Duration::from_millis(300));
    let before = chain.rpc_stats();
    let started = Instant::now();
    core.ok("generatetoaddress", json!([1000, key.address.to_string()]));
    let mined_in = started.elapsed();
    let after_mining = wait_tip(&rt, &chain, 1000, Duration::from_secs(120));
    let total = started.elapsed();
    let after = chain.rpc_stats();
    let got = events(&rt, &mut rx, 1000, Duration::from_secs(5));
    assert!(
        got.iter()
            .enumerate()
            .all(|(n, e)| matches!(e, ChainNotification::Connected { height, .. } if *height == n as u32 + 1)),
        "1000 Connected events in order"
    );
    let calls = after.calls - before.calls;
    let requests = after.requests - before.requests;
    eprintln!(
        "MEASURE follow 1000 blocks: mining took {mined_in:?}; client at tip {after_mining:?} after mining returned \
         ({total:?} from the start of mining); {calls} RPC calls in {requests} HTTP requests \
         ({:.2} calls/block, poll 100 ms)",
        calls as f64 / 1000.0
    );
    assert!(calls < 4000, "{calls} calls for 1000 blocks");
}
