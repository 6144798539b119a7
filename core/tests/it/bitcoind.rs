//! The Bitcoin Core chain backend against a real `lumend` serving its
//! embedded chain over Core's RPC: in process (the client) and as a second
//! `lumend` with `--chain-backend bitcoind`.

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use bitcoin::{Address, BlockHash, FeeRate};
use lumen_core::chain::bitcoind::rpc::{Auth, RpcError};
use lumen_core::chain::bitcoind::{BitcoindChain, BitcoindConfig, StartError};
use lumen_core::chain::{ChainNotification, ChainSource, ChainSourceError};
use serde_json::{Value, json};
use tokio::runtime::Runtime;

use crate::chain_contract::{ChainDriver, Key, check_contract, connected, disconnected, events};
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

/// Drives the served chain over Core's RPC, as a test would drive bitcoind.
impl ChainDriver for CoreRpc {
    fn mine(&self, n: u32, to: &Address) -> Vec<BlockHash> {
        self.ok("generatetoaddress", json!([n, to.to_string()]))
            .as_array()
            .expect("array")
            .iter()
            .map(hash)
            .collect()
    }

    fn invalidate(&self, hash: BlockHash) {
        self.ok("invalidateblock", json!([hash.to_string()]));
    }
}

#[test]
fn client_meets_the_chain_source_contract() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let served = Served::start(tmp.path());
    let core = served.rpc();
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
    let run = check_contract(&rt, &chain, &core);

    // What Core itself says agrees.
    let tip = rt.block_on(chain.tip()).expect("tip");
    assert_eq!(core.ok("getblockcount", json!([])), json!(tip.0));
    let raw = core.ok("getblock", json!([tip.1.to_string(), 0]));
    let block = rt
        .block_on(chain.block(tip.1))
        .expect("block")
        .expect("known");
    assert_eq!(
        bitcoin::consensus::encode::serialize_hex(&block),
        raw.as_str().expect("hex")
    );
    // The reorged-out spends were mined again on the new branch.
    let confirmed = core.ok(
        "getrawtransaction",
        json!([run.child.compute_txid().to_string(), true]),
    );
    assert!(
        confirmed["confirmations"].as_u64().expect("confirmed") >= 1,
        "{confirmed}"
    );
    // The embedded chain quotes 2 sat/vB (0.00002 BTC/kvB).
    assert_eq!(
        rt.block_on(chain.fee_rate(6)).expect("fee"),
        FeeRate::from_sat_per_vb_u32(2)
    );
    // A rejection keeps Core's code and message in the detail.
    match rt.block_on(chain.broadcast(run.parent.clone())) {
        Err(ChainSourceError::Rejected { reason, detail }) => {
            assert_eq!(reason, "Transaction outputs already in utxo set");
            assert!(detail.contains("-27"), "{detail}");
        }
        other => panic!("{other:?}"),
    }
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
            assert!(msg.contains("cannot authenticate"), "{msg}");
            assert!(
                msg.contains("refused user '__cookie__'"),
                "names the user: {msg}"
            );
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

#[test]
fn reorg_deeper_than_the_window_disconnects_all_it_remembers() {
    use lumen_core::chain::bitcoind::follow::WINDOW;
    let tmp = tempfile::tempdir().expect("tempdir");
    let served = Served::start(tmp.path());
    let core = served.rpc();
    let key = Key::new(15);
    let old = core.mine(200, &key.address);
    let rt = Runtime::new().expect("runtime");
    let chain = rt
        .block_on(BitcoindChain::start(
            served.config(),
            bitcoin::Network::Regtest,
        ))
        .expect("start");
    let mut rx = chain.subscribe();
    // Replace the last 160 blocks (more than the window) with 170 new ones,
    // letting the client see the short chain in between: it can only
    // disconnect what it remembers, and resumes connecting from there.
    core.invalidate(old[40]);
    let window = WINDOW as u32;
    let lowest = 200 - window + 1;
    let want: Vec<_> = (lowest..=200)
        .rev()
        .map(|h| disconnected(h, old[h as usize - 1]))
        .collect();
    assert_eq!(
        events(&rt, &mut rx, want.len(), Duration::from_secs(30)),
        want
    );
    let new = core.mine(170, &key.address);
    let want: Vec<_> = (lowest..=210)
        .map(|h| connected(h, new[h as usize - 41]))
        .collect();
    assert_eq!(
        events(&rt, &mut rx, want.len(), Duration::from_secs(30)),
        want
    );
    assert_eq!(rt.block_on(chain.tip()).expect("tip"), (210, new[169]));

    // Again without waiting in between: whether or not a poll sees the
    // short chain, the events are the same.
    let before = core.mine(1, &key.address)[0];
    assert_eq!(
        events(&rt, &mut rx, 1, Duration::from_secs(10)),
        vec![connected(211, before)]
    );
    let current: Vec<BlockHash> = (1..=211)
        .map(|h| hash(&core.ok("getblockhash", json!([h]))))
        .collect();
    // Invalidate and mine in one batch request.
    let (status, _) = core.raw(
        Some(&core.auth),
        &json!([
            {"jsonrpc": "1.0", "id": 1, "method": "invalidateblock", "params": [current[40].to_string()]},
            {"jsonrpc": "1.0", "id": 2, "method": "generatetoaddress", "params": [175, key.address.to_string()]},
        ])
        .to_string(),
    );
    assert_eq!(status, 200);
    let lowest = 211 - window + 1;
    let got = events(
        &rt,
        &mut rx,
        // 40 blocks kept + 175 mined: the new tip is 215.
        window as usize + (215 - lowest + 1) as usize,
        Duration::from_secs(30),
    );
    let new: Vec<BlockHash> = (lowest..=215)
        .map(|h| hash(&core.ok("getblockhash", json!([h]))))
        .collect();
    let mut want: Vec<_> = (lowest..=211)
        .rev()
        .map(|h| disconnected(h, current[h as usize - 1]))
        .collect();
    want.extend((lowest..=215).zip(&new).map(|(h, b)| connected(h, *b)));
    assert_eq!(got, want);
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
    let mut served = Served::start(tmp_a.path());
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

    // A goes away: B warns and keeps its last height; A comes back: B follows.
    assert!(served.node.signal_and_wait(libc::SIGTERM).success());
    let started = Instant::now();
    while !b.log().contains("cannot follow Bitcoin Core") {
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "no warning in B's log:\n{}",
            b.log()
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    assert_eq!(height_b(), 22, "B still answers getinfo");
    served.node.restart();
    served
        .rpc()
        .ok("generatetoaddress", json!([2, key.address.to_string()]));
    wait_b(24);
    assert!(b.log().contains("reachable again"), "{}", b.log());

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
    assert!(err.contains("refused user 'x'"), "{err}");
    let last = err
        .lines()
        .find(|l| l.starts_with("lumend:"))
        .expect("lumend: line");
    assert_eq!(
        last.matches("cannot authenticate").count(),
        1,
        "said once: {last}"
    );
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
    assert!(
        calls < 2200,
        "{calls} calls for 1000 blocks (2 per block expected)"
    );

    // Steady state: one block at a time, each followed before the next.
    let before = chain.rpc_stats();
    let started = Instant::now();
    for n in 1..=20 {
        core.ok("generatetoaddress", json!([1, key.address.to_string()]));
        wait_tip(&rt, &chain, 1000 + n, Duration::from_secs(10));
    }
    let per_block = started.elapsed() / 20;
    let after = chain.rpc_stats();
    eprintln!(
        "MEASURE one block at a time: {per_block:?} per block from mining to the client's tip (poll 100 ms); \
         {:.2} RPC calls and {:.2} HTTP requests per block (idle polls included)",
        (after.calls - before.calls) as f64 / 20.0,
        (after.requests - before.requests) as f64 / 20.0
    );
}

/// `listfunds` outputs of `node` paying exactly `sat` with `status`.
fn has_output(node: &Node, sat: u64, status: &str) -> bool {
    node.ok("listfunds", json!({}))["outputs"]
        .as_array()
        .expect("outputs")
        .iter()
        .any(|o| o["amount_msat"].as_u64() == Some(sat * 1000) && o["status"] == status)
}

/// Poll `cond` for up to 20 s; fail with `what` and the node's log.
fn wait_for(node: &Node, what: &str, cond: impl Fn() -> bool) {
    let started = Instant::now();
    while !cond() {
        assert!(
            started.elapsed() < Duration::from_secs(20),
            "timed out waiting for {what}; log:\n{}",
            node.log()
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[test]
fn wallet_on_the_bitcoind_backend_deposits_reorgs_and_withdraws() {
    let tmp_a = tempfile::tempdir().expect("tempdir");
    let tmp_b = tempfile::tempdir().expect("tempdir");
    let served = Served::start(tmp_a.path());
    let a = &served.node;
    let url = served.url();
    let cookie = served.cookie();
    let b = Node::start_with(
        tmp_b.path(),
        &[
            "--chain-backend",
            "bitcoind",
            "--bitcoind-url",
            &url,
            "--bitcoind-cookie",
            cookie.to_str().expect("utf-8 path"),
            "--bitcoind-poll-ms",
            "100",
        ],
    );

    // A funds itself; B follows the chain.
    a.ok("dev-mine", json!({"blocks": 101}));
    wait_for(&b, "B at height 101", || {
        b.ok("getinfo", json!({}))["blockheight"] == 101
    });

    // A pays B: B sees it in Core's mempool, then confirmed.
    let b_addr = b.ok("newaddr", json!({}))["p2tr"]
        .as_str()
        .expect("p2tr")
        .to_string();
    let sent = a.ok(
        "withdraw",
        json!({"destination": b_addr, "satoshi": 1_000_000, "feerate": "2000perkw"}),
    );
    let txid = sent["txid"].as_str().expect("txid").to_string();
    wait_for(&b, "the deposit unconfirmed", || {
        has_output(&b, 1_000_000, "unconfirmed")
    });
    let mined = a.ok("dev-mine", json!({"blocks": 1}));
    let block = mined["blockhashes"][0].as_str().expect("hash").to_string();
    wait_for(&b, "the deposit confirmed", || {
        has_output(&b, 1_000_000, "confirmed")
    });

    // A reorg on A drops the block: the deposit is unconfirmed again (back in
    // the mempool), then confirmed on the new branch.
    a.ok("dev-invalidateblock", json!({"blockhash": block}));
    wait_for(&b, "the deposit back to unconfirmed", || {
        has_output(&b, 1_000_000, "unconfirmed")
    });
    a.ok("dev-mine", json!({"blocks": 2}));
    wait_for(&b, "the deposit confirmed after the reorg", || {
        has_output(&b, 1_000_000, "confirmed") && b.ok("getinfo", json!({}))["blockheight"] == 103
    });
    let funds = b.ok("listfunds", json!({}));
    let outs = funds["outputs"].as_array().expect("outputs");
    assert_eq!(outs.len(), 1, "exactly the one deposit: {funds}");
    assert_eq!(outs[0]["txid"], json!(txid));

    // B withdraws back to A through Core's sendrawtransaction; A mines it.
    let a_addr = a.ok("newaddr", json!({"addresstype": "bech32"}))["bech32"]
        .as_str()
        .expect("bech32")
        .to_string();
    let back = b.ok(
        "withdraw",
        json!({"destination": a_addr, "satoshi": 400_000, "feerate": "1000perkw"}),
    );
    let back_txid = back["txid"].as_str().expect("txid").to_string();
    wait_for(a, "A sees B's withdrawal unconfirmed", || {
        has_output(a, 400_000, "unconfirmed")
    });
    a.ok("dev-mine", json!({"blocks": 1}));
    wait_for(a, "A sees B's withdrawal confirmed", || {
        has_output(a, 400_000, "confirmed")
    });
    wait_for(&b, "B's change confirmed", || {
        let funds = b.ok("listfunds", json!({}));
        let outs = funds["outputs"].as_array().expect("outputs").clone();
        outs.len() == 1 && outs[0]["txid"] == json!(back_txid) && outs[0]["status"] == "confirmed"
    });
    let change = b.ok("listfunds", json!({}))["outputs"][0]["amount_msat"]
        .as_u64()
        .expect("msat")
        / 1000;
    let tx = served
        .rpc()
        .ok("getrawtransaction", json!([back_txid, true]));
    let vsize = tx["vsize"].as_u64().expect("vsize");
    let fee = 1_000_000 - 400_000 - change;
    // 1000 perkw = 4 sat/vB.
    assert!(
        fee.abs_diff(vsize * 4) <= 2,
        "fee {fee} for vsize {vsize} at 4 sat/vB"
    );
}
