//! Start-up time, idle memory and `getinfo` round trips on every transport.
//! Prints the numbers (run with `--nocapture` to see them) and fails only on
//! figures that mean something is badly wrong.

use std::time::{Duration, Instant};

use jsonrpsee::core::client::ClientT;
use jsonrpsee::rpc_params;
use serde_json::{Value, json};

use crate::support::{Node, bin, percentile, unix_call};

fn report(name: &str, mut samples: Vec<Duration>) -> Duration {
    let p50 = percentile(&mut samples, 0.50);
    let p99 = percentile(&mut samples, 0.99);
    println!(
        "getinfo over {name:<22} n={:<5} p50={p50:>10.1?} p99={p99:>10.1?}",
        samples.len()
    );
    p50
}

fn rss_kib(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).expect("proc status");
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.split_whitespace().next())
        .and_then(|n| n.parse().ok())
        .expect("VmRSS")
}

#[test]
fn startup_memory_and_round_trips() {
    const N: usize = 1000;
    let tmp = tempfile::tempdir().expect("tempdir");
    let node = Node::start(tmp.path());
    println!(
        "start to RPC ready (first start, seed created): {:?}",
        node.ready_after
    );
    std::thread::sleep(Duration::from_millis(300));
    let rss = rss_kib(node.pid());
    println!("idle RSS: {rss} KiB");

    let mut unix = Vec::with_capacity(N);
    for _ in 0..N {
        let t = Instant::now();
        let v = unix_call(&node.socket(), "getinfo", json!({})).expect("unix");
        unix.push(t.elapsed());
        assert!(v.get("result").is_some());
    }
    let unix_p50 = report("unix (conn per call)", unix);

    let token = node.token();
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("rt");
    let (http, ws) = rt.block_on(async {
        let mut headers = jsonrpsee::http_client::HeaderMap::new();
        headers.insert(
            "Authorization",
            format!("Bearer {token}").parse().expect("header"),
        );
        let http_client = jsonrpsee::http_client::HttpClientBuilder::default()
            .set_headers(headers.clone())
            .build(node.url())
            .expect("http client");
        let mut http = Vec::with_capacity(N);
        for _ in 0..N {
            let t = Instant::now();
            let _: Value = http_client
                .request("getinfo", rpc_params![])
                .await
                .expect("http");
            http.push(t.elapsed());
        }
        let ws_client = jsonrpsee::ws_client::WsClientBuilder::default()
            .set_headers(headers)
            .build(format!("ws://127.0.0.1:{}", node.port))
            .await
            .expect("ws client");
        let mut ws = Vec::with_capacity(N);
        for _ in 0..N {
            let t = Instant::now();
            let _: Value = ws_client
                .request("getinfo", rpc_params![])
                .await
                .expect("ws");
            ws.push(t.elapsed());
        }
        (http, ws)
    });
    let http_p50 = report("http (keep-alive)", http);
    let ws_p50 = report("websocket", ws);

    // lumen-cli: a whole process per call.
    let mut cli = Vec::new();
    for _ in 0..N {
        let t = Instant::now();
        let out = std::process::Command::new(bin("lumen-cli"))
            .arg("--datadir")
            .arg(&node.dir)
            .arg("getinfo")
            .output()
            .expect("cli");
        cli.push(t.elapsed());
        assert!(out.status.success());
    }
    let cli_p50 = report("lumen-cli (process)", cli);

    for (name, p50) in [("unix", unix_p50), ("http", http_p50), ("ws", ws_p50)] {
        assert!(
            p50 < Duration::from_millis(50),
            "{name} p50 {p50:?} is far too slow"
        );
    }
    assert!(cli_p50 < Duration::from_millis(500), "cli p50 {cli_p50:?}");
    assert!(node.ready_after < Duration::from_secs(10));
    assert!(rss < 512 * 1024, "idle RSS {rss} KiB");
}
