//! Shared helpers: build a plugin `cdylib` with the running cargo, find the
//! shared vectors, run Core Lightning's schema validator.

use std::io::Write;
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::Instant;

use lumen_sdk::protocol::InitConfiguration;
use serde_json::{Value, json};

/// `target/<profile>/` of this test executable (`target/<profile>/deps/it-…`).
pub fn profile_dir() -> PathBuf {
    let exe = std::env::current_exe().unwrap();
    exe.parent().unwrap().parent().unwrap().to_path_buf()
}

/// The `.so` of workspace package `package` (library `lib_name`), built with
/// the cargo that runs this test (same target dir and profile) when cargo is
/// available, so it is never stale.
pub fn cdylib(package: &str, lib_name: &str) -> PathBuf {
    let dir = profile_dir();
    let so = dir.join(format!(
        "{}{lib_name}{}",
        std::env::consts::DLL_PREFIX,
        std::env::consts::DLL_SUFFIX
    ));
    if let Some(cargo) = std::env::var_os("CARGO") {
        let profile = dir.file_name().unwrap().to_str().unwrap().to_string();
        let target_dir = dir.parent().unwrap();
        let mut cmd = Command::new(cargo);
        cmd.args(["build", "-p", package])
            .env("CARGO_TARGET_DIR", target_dir)
            .current_dir(manifest_dir());
        // Drop what cargo sets for this test process (`CARGO_PKG_NAME`, …):
        // build scripts that watch them (ring) would rebuild every time.
        for (key, _) in std::env::vars_os() {
            let key = key.to_string_lossy();
            if [
                "CARGO_PKG_",
                "CARGO_MANIFEST_",
                "CARGO_CRATE_",
                "CARGO_BIN_",
            ]
            .iter()
            .any(|p| key.starts_with(p))
                || [
                    "CARGO_PRIMARY_PACKAGE",
                    "CARGO_TARGET_TMPDIR",
                    "CARGO_RUSTC_CURRENT_DIR",
                ]
                .contains(&key.as_ref())
            {
                cmd.env_remove(key.as_ref());
            }
        }
        match profile.as_str() {
            "debug" => {}
            "release" => {
                cmd.arg("--release");
            }
            other => {
                cmd.args(["--profile", other]);
            }
        }
        let started = Instant::now();
        let status = cmd.status().unwrap();
        assert!(status.success(), "building {package} failed");
        eprintln!(
            "built {package} into {} in {:?}",
            target_dir.display(),
            started.elapsed()
        );
    }
    assert!(so.exists(), "{} missing (run via cargo)", so.display());
    so
}

/// A node configuration for `init`.
pub fn config() -> InitConfiguration {
    InitConfiguration {
        lightning_dir: "/tmp/lumen-test".into(),
        rpc_file: "lumen-rpc".into(),
        startup: true,
        network: "regtest".into(),
        node_id: "02".repeat(33),
        feature_set: json!({}),
    }
}

/// The shared directory (`LUMEN_SHARED_DIR`, else `../shared` next to the
/// repository), when present.
pub fn shared_dir() -> Option<PathBuf> {
    let dir = std::env::var_os("LUMEN_SHARED_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| manifest_dir().join("../../shared"));
    dir.is_dir().then_some(dir)
}

/// In CI a missing prerequisite is a failure; on a developer's machine it is
/// a skip with a notice.
pub fn skip_or_fail(what: &str) {
    if std::env::var_os("CI").is_some_and(|v| v == "true" || v == "1") {
        panic!("{what} (CI must provide it)");
    }
    eprintln!("NOTICE: skipping: {what}");
}

/// The Python interpreter for tests: `LUMEN_PYTHON` or `python3`, if it can
/// import all of `modules`.
pub fn python_with(modules: &[&str]) -> Option<PathBuf> {
    let py = std::env::var_os("LUMEN_PYTHON")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("python3"));
    let check = modules
        .iter()
        .map(|m| format!("import {m}"))
        .collect::<Vec<_>>()
        .join("; ");
    let ok = Command::new(&py)
        .arg("-c")
        .arg(check)
        .output()
        .map(|o| o.status.success())
        .unwrap_or(false);
    ok.then_some(py)
}

/// Core Lightning's schema validator, or `None` (after a notice, or a
/// failure under CI) when the shared vectors or Python's jsonschema are
/// missing.
pub struct Validator {
    py: PathBuf,
    script: PathBuf,
}

impl Validator {
    /// Find the validator.
    pub fn find() -> Option<Self> {
        let Some(shared) = shared_dir() else {
            skip_or_fail(
                "../shared not found (set LUMEN_SHARED_DIR): no Core Lightning schema checks",
            );
            return None;
        };
        let Some(py) = python_with(&["jsonschema"]) else {
            skip_or_fail("no Python with jsonschema for validate.py (set LUMEN_PYTHON)");
            return None;
        };
        Some(Self {
            py,
            script: shared.join("vectors/cln-schemas/validate.py"),
        })
    }

    /// Validate `value` against schema `name` (e.g. `hook/custommsg`); the
    /// request part when `request`, else the response part.
    pub fn check(&self, name: &str, value: &Value, request: bool) -> Result<(), String> {
        let mut cmd = Command::new(&self.py);
        cmd.arg(&self.script);
        if request {
            cmd.arg("--request");
        }
        let mut child = cmd
            .arg(name)
            .arg("-")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .map_err(|e| e.to_string())?;
        child
            .stdin
            .take()
            .ok_or("stdin")?
            .write_all(value.to_string().as_bytes())
            .map_err(|e| e.to_string())?;
        let out = child.wait_with_output().map_err(|e| e.to_string())?;
        if out.status.success() {
            Ok(())
        } else {
            Err(format!(
                "{name}: {}{}\nfor {value}",
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            ))
        }
    }
}

/// This crate's directory, read at run time: cargo sets it for every test
/// process. The compile-time value is only a fallback, since a build cache
/// shared between checkouts can hold a binary built in another one.
pub fn manifest_dir() -> std::path::PathBuf {
    std::env::var_os("CARGO_MANIFEST_DIR")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|| std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")))
}
