//! `lumen-plugin-bench [N]`: load the bench plugin (the `cdylib` of this
//! package, next to this executable) with the SDK host and measure, over `N`
//! sequential calls each (default 100000):
//!
//! 1. host → plugin method → reply round trip (`echo`);
//! 2. plugin → host call round trip (the plugin's `call_host` calls this
//!    host's `bench_ping`, which a task here answers), measured in the plugin;
//! 3. a hook call returning `continue` (`custommsg` with a typed payload);
//! 4. host → plugin round trips 1 ms apart (`N/50` of them, at least 100):
//!    the cost of a call that finds both sides idle and parked.
//!
//! The host runs on a multi-threaded runtime, as in `lumend`.
//! Build and run in release: `cargo run --release -p lumen-plugin-bench`.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use lumen_plugin_bench::Stats;
use lumen_sdk::host::{self, Incoming, LoadedPlugin};
use lumen_sdk::protocol::{InitConfiguration, response_ok};
use serde_json::{Map, Value, json};

const T: Duration = Duration::from_secs(10);

fn plugin_path() -> Result<PathBuf, String> {
    let exe = std::env::current_exe().map_err(|e| e.to_string())?;
    let dir = exe.parent().ok_or("executable has no directory")?;
    Ok(dir.join(format!(
        "{}lumen_plugin_bench{}",
        std::env::consts::DLL_PREFIX,
        std::env::consts::DLL_SUFFIX
    )))
}

fn print(what: &str, n: u64, s: Stats, total: Duration) {
    println!(
        "{what:<34} n={n:<7} p50 {:>7.2} µs  p99 {:>7.2} µs  max {:>9.2} µs  ({:.0} calls/s)",
        s.p50_ns as f64 / 1e3,
        s.p99_ns as f64 / 1e3,
        s.max_ns as f64 / 1e3,
        n as f64 / total.as_secs_f64()
    );
}

/// Time `n` sequential host → plugin requests of `method` with `params`.
async fn host_to_plugin(
    p: &LoadedPlugin,
    n: u64,
    method: &str,
    params: Value,
    expect: &Value,
) -> Result<(Stats, Duration), String> {
    for _ in 0..1000 {
        p.request(method, params.clone(), T)
            .await
            .map_err(|e| e.to_string())?;
    }
    let mut lat = Vec::with_capacity(usize::try_from(n).map_err(|e| e.to_string())?);
    let t0 = Instant::now();
    for _ in 0..n {
        let t = Instant::now();
        let r = p
            .request(method, params.clone(), T)
            .await
            .map_err(|e| e.to_string())?;
        lat.push(t.elapsed());
        if &r != expect {
            return Err(format!("{method}: unexpected answer {r}"));
        }
    }
    let total = t0.elapsed();
    Ok((Stats::of(&mut lat).ok_or("n must be at least 1")?, total))
}

async fn run(n: u64) -> Result<(), String> {
    let path = plugin_path()?;
    let p = Arc::new(host::load(&path).map_err(|e| e.to_string())?);
    let config = InitConfiguration {
        lightning_dir: std::env::temp_dir().to_string_lossy().into_owned(),
        rpc_file: "lumen-rpc".into(),
        startup: true,
        network: "regtest".into(),
        node_id: "02".repeat(33),
        feature_set: json!({}),
    };
    p.handshake(&Map::new(), config, T)
        .await
        .map_err(|e| e.to_string())?;

    // Answer the plugin's `bench_ping` requests, echoing `i`.
    let mut incoming = p.take_incoming().ok_or("incoming queue already taken")?;
    let responder = Arc::clone(&p);
    tokio::spawn(async move {
        while let Some(incoming) = incoming.recv().await {
            let Incoming::Message(msg) = incoming else {
                continue;
            };
            if let (Some("bench_ping"), Some(id)) =
                (msg.get("method").and_then(Value::as_str), msg.get("id"))
            {
                let reply = response_ok(id, json!({"i": msg["params"]["i"]}));
                responder.send_raw(reply.to_string());
            }
        }
    });

    let profile = if cfg!(debug_assertions) {
        "debug"
    } else {
        "release"
    };
    println!("lumen-plugin-bench: {} ({profile} build)", path.display());

    let (s, total) = host_to_plugin(&p, n, "echo", json!({}), &json!({"ok": true})).await?;
    print("host -> plugin method round trip", n, s, total);

    let warm = p
        .request("call_host", json!({"n": 1000}), Duration::from_secs(60))
        .await
        .map_err(|e| e.to_string())?;
    drop(warm);
    let r = p
        .request("call_host", json!({"n": n}), Duration::from_secs(600))
        .await
        .map_err(|e| e.to_string())?;
    let field = |k: &str| {
        r.get(k)
            .and_then(Value::as_u64)
            .ok_or(format!("no {k} in {r}"))
    };
    let s = Stats {
        p50_ns: field("p50_ns")?,
        p99_ns: field("p99_ns")?,
        max_ns: field("max_ns")?,
    };
    print(
        "plugin -> host call round trip",
        n,
        s,
        Duration::from_nanos(field("total_ns")?),
    );

    let payload =
        json!({"peer_id": "02".repeat(33), "payload": format!("8001{}", "ab".repeat(32))});
    let (s, total) =
        host_to_plugin(&p, n, "custommsg", payload, &json!({"result": "continue"})).await?;
    print("hook custommsg -> continue", n, s, total);

    let spaced = (n / 50).max(100);
    let mut lat = Vec::with_capacity(usize::try_from(spaced).map_err(|e| e.to_string())?);
    let t0 = Instant::now();
    for _ in 0..spaced {
        tokio::time::sleep(Duration::from_millis(1)).await;
        let t = Instant::now();
        p.request("echo", json!({}), T)
            .await
            .map_err(|e| e.to_string())?;
        lat.push(t.elapsed());
    }
    let s = Stats::of(&mut lat).ok_or("no samples")?;
    print("host -> plugin, calls 1 ms apart", spaced, s, t0.elapsed());
    Ok(())
}

fn main() {
    let n = match std::env::args().nth(1).map(|a| a.parse::<u64>()) {
        None => 100_000,
        Some(Ok(n)) if n > 0 => n,
        Some(_) => {
            eprintln!("usage: lumen-plugin-bench [N>0]");
            std::process::exit(2);
        }
    };
    let rt = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("cannot start a runtime: {e}");
            std::process::exit(1);
        }
    };
    if let Err(e) = rt.block_on(run(n)) {
        eprintln!("lumen-plugin-bench: {e}");
        std::process::exit(1);
    }
}
