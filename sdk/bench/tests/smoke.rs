//! Run the benchmark binary with a small N: it loads the bench plugin, runs
//! all three measurements (each checks every answer) and prints them.

#![allow(clippy::unwrap_used)]

use std::process::Command;

/// `cargo test` builds this package's library as an rlib only: build the
/// `cdylib` the binary loads with the cargo running this test.
fn build_plugin() {
    let Some(cargo) = std::env::var_os("CARGO") else {
        return;
    };
    let exe = std::path::PathBuf::from(env!("CARGO_BIN_EXE_lumen-plugin-bench"));
    let profile_dir = exe.parent().unwrap();
    let mut cmd = Command::new(cargo);
    cmd.args(["build", "--lib", "-p", "lumen-plugin-bench"])
        .env("CARGO_TARGET_DIR", profile_dir.parent().unwrap())
        .current_dir(manifest_dir());
    for (key, _) in std::env::vars_os() {
        let key = key.to_string_lossy();
        if key.starts_with("CARGO_PKG_")
            || key.starts_with("CARGO_MANIFEST_")
            || key.starts_with("CARGO_CRATE_")
            || key.starts_with("CARGO_BIN_")
            || key == "CARGO_PRIMARY_PACKAGE"
            || key == "CARGO_TARGET_TMPDIR"
        {
            cmd.env_remove(key.as_ref());
        }
    }
    match profile_dir.file_name().and_then(|n| n.to_str()) {
        Some("release") => {
            cmd.arg("--release");
        }
        Some("debug") | None => {}
        Some(other) => {
            cmd.args(["--profile", other]);
        }
    }
    assert!(
        cmd.status().unwrap().success(),
        "building the bench plugin failed"
    );
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

/// This crate's directory, read at run time: cargo sets it for every test
/// process. The compile-time value is only a fallback, since a build cache
/// shared between checkouts can hold a binary built in another one.
pub fn manifest_dir() -> std::path::PathBuf {
    std::env::var_os("CARGO_MANIFEST_DIR")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|| std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")))
}
