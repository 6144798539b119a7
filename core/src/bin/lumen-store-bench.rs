//! `lumen-store-bench`: the store's crash-test writer and commit-latency
//! benchmark.
//!
//! ```text
//! lumen-store-bench writer  --backend sled|redb --path DIR [--count N]
//! lumen-store-bench latency --backend sled|redb --path DIR --commits N --value-size B
//! ```
//!
//! - `writer` opens the store in `DIR` and commits numbered records in a
//!   loop, continuing after the last committed sequence number found in the
//!   store. Each commit is one batch of two trees
//!   (`lumen_core::store::bench::RECORDS[seq]` = `record_value(seq)` and
//!   `HEAD["last"]` = `seq`). It prints `seq` on its own line to stdout only
//!   after `commit` returned (i.e. once the record is durable) and flushes
//!   stdout. It stops after `N` commits, or runs until killed. The crash tests
//!   SIGKILL it and check that every printed sequence number is in the store.
//! - `latency` commits `N` single-put batches of a `B`-byte value body
//!   (at most `lumen_core::store::MAX_VALUE_LEN`) to fresh keys and prints one
//!   JSON line:
//!   `{"backend":..,"commits":..,"value_size":..,"p50_us":..,"p99_us":..,"mean_us":..,"max_us":..}`,
//!   latencies in microseconds.
//!
//! Exit status 2 on bad usage, 1 on a store error.

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Instant;

use lumen_core::store::bench::{HEAD, HEAD_KEY, RECORDS, bytes_for, record_value};
use lumen_core::store::{BackendKind, Batch, Store, Tree};

const USAGE: &str = "usage:
  lumen-store-bench writer  --backend sled|redb --path DIR [--count N]
  lumen-store-bench latency --backend sled|redb --path DIR --commits N --value-size B";

/// The latency benchmark's tree.
const LATENCY: Tree<u64, Vec<u8>> = Tree::new("bench.latency");

struct Args {
    backend: Option<BackendKind>,
    path: Option<PathBuf>,
    count: Option<u64>,
    commits: Option<u64>,
    value_size: Option<usize>,
}

fn parse(args: &[String]) -> Result<Args, String> {
    let mut out = Args {
        backend: None,
        path: None,
        count: None,
        commits: None,
        value_size: None,
    };
    let mut it = args.iter();
    while let Some(flag) = it.next() {
        let value = it
            .next()
            .ok_or_else(|| format!("{flag} needs a value"))?
            .as_str();
        let num = |v: &str| v.parse::<u64>().map_err(|e| format!("{flag} {v}: {e}"));
        match flag.as_str() {
            "--backend" => out.backend = Some(value.parse()?),
            "--path" => out.path = Some(PathBuf::from(value)),
            "--count" => out.count = Some(num(value)?),
            "--commits" => out.commits = Some(num(value)?),
            "--value-size" => {
                out.value_size =
                    Some(usize::try_from(num(value)?).map_err(|e| format!("{flag} {value}: {e}"))?)
            }
            other => return Err(format!("unknown option {other}")),
        }
    }
    Ok(out)
}

fn writer(backend: BackendKind, path: PathBuf, count: Option<u64>) -> Result<(), String> {
    let store = Store::open(&path, backend).map_err(|e| e.to_string())?;
    let mut seq = match store
        .get(&HEAD, &HEAD_KEY.to_string())
        .map_err(|e| e.to_string())?
    {
        Some(last) => last + 1,
        None => 0,
    };
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    let mut done = 0u64;
    while count.is_none_or(|n| done < n) {
        let mut batch = Batch::default();
        batch.put(&RECORDS, &seq, &record_value(seq));
        batch.put(&HEAD, &HEAD_KEY.to_string(), &seq);
        store.commit(batch).map_err(|e| e.to_string())?;
        // Acknowledge only after the commit returned. A failed write (the
        // reader went away) ends the writer.
        writeln!(out, "{seq}").map_err(|e| format!("stdout: {e}"))?;
        out.flush().map_err(|e| format!("stdout: {e}"))?;
        seq += 1;
        done += 1;
    }
    store.close().map_err(|e| e.to_string())
}

fn latency(
    backend: BackendKind,
    path: PathBuf,
    commits: u64,
    value_size: usize,
) -> Result<(), String> {
    if commits == 0 {
        return Err("--commits must be at least 1".into());
    }
    let store = Store::open(&path, backend).map_err(|e| e.to_string())?;
    let mut lat_us = Vec::with_capacity(usize::try_from(commits).unwrap_or(0));
    for i in 0..commits {
        let value = bytes_for(i, value_size);
        let start = Instant::now();
        store.put(&LATENCY, &i, &value).map_err(|e| e.to_string())?;
        lat_us.push(start.elapsed().as_secs_f64() * 1e6);
    }
    store.close().map_err(|e| e.to_string())?;
    lat_us.sort_by(f64::total_cmp);
    let pct = |p: f64| {
        let idx = ((lat_us.len() as f64 - 1.0) * p).round() as usize;
        lat_us.get(idx).copied().unwrap_or(f64::NAN)
    };
    let mean = lat_us.iter().sum::<f64>() / lat_us.len() as f64;
    let line = serde_json::json!({
        "backend": backend.as_str(),
        "commits": commits,
        "value_size": value_size,
        "p50_us": pct(0.50).round(),
        "p99_us": pct(0.99).round(),
        "mean_us": mean.round(),
        "max_us": lat_us.last().copied().unwrap_or(f64::NAN).round(),
    });
    println!("{line}");
    Ok(())
}

fn run(argv: &[String]) -> Result<(), (u8, String)> {
    let usage = |msg: String| (2u8, format!("{msg}\n{USAGE}"));
    let (cmd, rest) = argv
        .split_first()
        .ok_or_else(|| usage("missing subcommand".into()))?;
    if !matches!(cmd.as_str(), "writer" | "latency") {
        return Err(usage(format!("unknown subcommand {cmd}")));
    }
    let args = parse(rest).map_err(usage)?;
    let backend = args
        .backend
        .ok_or_else(|| usage("--backend is required".into()))?;
    let path = args
        .path
        .ok_or_else(|| usage("--path is required".into()))?;
    match cmd.as_str() {
        "writer" => writer(backend, path, args.count).map_err(|e| (1, e)),
        "latency" => {
            let commits = args
                .commits
                .ok_or_else(|| usage("--commits is required".into()))?;
            let size = args
                .value_size
                .ok_or_else(|| usage("--value-size is required".into()))?;
            latency(backend, path, commits, size).map_err(|e| (1, e))
        }
        other => Err(usage(format!("unknown subcommand {other}"))),
    }
}

fn main() -> ExitCode {
    let argv: Vec<String> = std::env::args().skip(1).collect();
    match run(&argv) {
        Ok(()) => ExitCode::SUCCESS,
        Err((code, msg)) => {
            eprintln!("lumen-store-bench: {msg}");
            ExitCode::from(code)
        }
    }
}
