//! Run the benchmark binary with a small N: it loads the bench plugin, runs
//! all three measurements (each checks every answer) and prints them.

#![allow(clippy::unwrap_used)]

use std::process::Command;

/// `cargo test` builds this package's library as an rlib only: build the
/// `cdylib` the binary loads with the cargo running this test.
fn build_plugin() {
    lumen_tests::build(&["--lib", "-p", "lumen-plugin-bench"]);
}

#[test]
fn bench_runs_all_three_measurements() {
    build_plugin();
    let out = Command::new(env!("CARGO_BIN_EXE_lumen-plugin-bench"))
        .arg("300")
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "bench failed: {stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    for what in [
        "host -> plugin method round trip",
        "plugin -> host call round trip",
        "hook custommsg -> continue",
    ] {
        let line = stdout
            .lines()
            .find(|l| l.starts_with(what))
            .unwrap_or_else(|| panic!("no {what:?} line in {stdout}"));
        assert!(
            line.contains("n=300") && line.contains("p50") && line.contains("p99"),
            "{line}"
        );
    }
}

#[test]
fn bad_argument_is_a_usage_error() {
    let out = Command::new(env!("CARGO_BIN_EXE_lumen-plugin-bench"))
        .arg("zero")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
}
