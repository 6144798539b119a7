//! The benchmark plugin `lumen-plugin-bench` loads:
//!
//! - method `echo` answers `{"ok": true}` (host → plugin round trip);
//! - method `call_host {n}` calls the host's `bench_ping` `n` times, one
//!   after another, and answers the latency percentiles it measured
//!   (plugin → host round trip);
//! - hook `custommsg` (typed) answers `continue` (hook dispatch).

use std::time::{Duration, Instant};

use lumen_sdk::hooks::{CustomMsg, CustomMsgResult};
use lumen_sdk::plugin::PluginBuilder;
use lumen_sdk::protocol::RpcError;
use serde_json::{Value, json};

/// Percentiles of a sample, in nanoseconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Stats {
    /// Median.
    pub p50_ns: u64,
    /// 99th percentile.
    pub p99_ns: u64,
    /// Worst.
    pub max_ns: u64,
}

impl Stats {
    /// Sort `lat` and take its percentiles; `None` for an empty sample.
    pub fn of(lat: &mut [Duration]) -> Option<Self> {
        let last = lat.len().checked_sub(1)?;
        lat.sort_unstable();
        let at = |q: f64| {
            let i = ((lat.len() as f64 * q) as usize).min(last);
            u64::try_from(lat[i].as_nanos()).unwrap_or(u64::MAX)
        };
        Some(Self {
            p50_ns: at(0.50),
            p99_ns: at(0.99),
            max_ns: at(1.0),
        })
    }
}

/// Build the plugin.
pub fn build() -> PluginBuilder {
    PluginBuilder::new("bench")
        .method("echo", "", "Answer at once", |_, _| async {
            Ok(json!({"ok": true}))
        })
        .method(
            "call_host",
            "n",
            "Call the host's bench_ping n times",
            |ctx, params| async move {
                let n = params
                    .get("n")
                    .and_then(Value::as_u64)
                    .ok_or_else(|| RpcError::invalid_params("n: integer required"))?;
                let mut lat = Vec::with_capacity(usize::try_from(n).unwrap_or(0));
                let t0 = Instant::now();
                for i in 0..n {
                    let t = Instant::now();
                    let r = ctx
                        .call("bench_ping", json!({"i": i}), Duration::from_secs(10))
                        .await
                        .map_err(|e| RpcError::internal(format!("call {i}: {e}")))?;
                    lat.push(t.elapsed());
                    if r.get("i").and_then(Value::as_u64) != Some(i) {
                        return Err(RpcError::internal(format!("call {i}: wrong answer {r}")));
                    }
                }
                let total = t0.elapsed();
                let s = Stats::of(&mut lat)
                    .ok_or_else(|| RpcError::invalid_params("n must be at least 1"))?;
                Ok(
                    json!({"p50_ns": s.p50_ns, "p99_ns": s.p99_ns, "max_ns": s.max_ns,
                          "total_ns": u64::try_from(total.as_nanos()).unwrap_or(u64::MAX)}),
                )
            },
        )
        .on_hook::<CustomMsg, _, _>(&[], &[], |_, _| async { Ok(CustomMsgResult::Continue) })
}

lumen_sdk::export_plugin!(build);
