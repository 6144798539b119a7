//! Multi-node and interop tests for Lumen (`tests/it`), and the helpers every
//! test crate of the workspace shares (a dev-dependency of each):
//!
//! - where things are: [`manifest_dir`], [`workspace_root`], [`shared_dir`],
//!   [`profile_dir`];
//! - what a missing prerequisite means: [`skip_or_fail`];
//! - building plugin `cdylib`s with the cargo that runs the test:
//!   [`cargo`], [`build`], [`lib_name`], [`bad_abi_so`];
//! - Core Lightning's schema validator: [`python_with`], [`Validator`].

#![allow(clippy::unwrap_used)]

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use serde_json::Value;

/// The running test crate's directory, read at run time: cargo sets it for
/// every test process. The compile-time value is only a fallback, since a
/// build cache shared between checkouts can hold a binary built in another.
pub fn manifest_dir() -> PathBuf {
    std::env::var_os("CARGO_MANIFEST_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")))
}

/// The workspace root: the nearest directory above the running test crate
/// that holds a `Cargo.lock`.
pub fn workspace_root() -> PathBuf {
    let here = manifest_dir();
    here.ancestors()
        .find(|d| d.join("Cargo.lock").is_file())
        .unwrap_or(&here)
        .to_path_buf()
}

/// The shared directory (`LUMEN_SHARED_DIR`, else `shared/` next to the
/// workspace), when present.
pub fn shared_dir() -> Option<PathBuf> {
    let dir = std::env::var_os("LUMEN_SHARED_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| workspace_root().join("../shared"));
    dir.is_dir().then_some(dir)
}

/// In CI a missing prerequisite is a failure; on a developer's machine it is
/// a skip with a notice.
pub fn skip_or_fail(what: &str) {
    if std::env::var_os("CI").is_some() {
        panic!("{what} (CI must provide it: see .ci/run)");
    }
    eprintln!("NOTICE: skipping: {what}");
}

/// `target/<profile>/` of the running test executable
/// (`target/<profile>/deps/<test>-…`).
pub fn profile_dir() -> PathBuf {
    let exe = std::env::current_exe().unwrap();
    exe.parent().and_then(Path::parent).unwrap().to_path_buf()
}

/// A `cargo` command for this test's target dir and profile, or `None` when
/// the test does not run under cargo. The variables cargo sets for the test
/// process are removed: build scripts that watch them (ring) would rebuild.
pub fn cargo(args: &[&str]) -> Option<Command> {
    let cargo = std::env::var_os("CARGO")?;
    let dir = profile_dir();
    let mut cmd = Command::new(cargo);
    cmd.args(args)
        .env("CARGO_TARGET_DIR", dir.parent().unwrap())
        .current_dir(manifest_dir());
    for (key, _) in std::env::vars_os() {
        let key = key.to_string_lossy();
        let set_for_test = [
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
            .contains(&key.as_ref());
        if set_for_test {
            cmd.env_remove(key.as_ref());
        }
    }
    match dir.file_name().and_then(|n| n.to_str()) {
        Some("debug") | None => {}
        Some("release") => {
            cmd.arg("--release");
        }
        Some(other) => {
            cmd.args(["--profile", other]);
        }
    }
    Some(cmd)
}

/// `cargo build <args>` into this test's target dir and profile (a no-op
/// outside cargo); panics if the build fails. Returns the profile dir, where
/// the libraries land.
pub fn build(args: &[&str]) -> PathBuf {
    if let Some(mut cmd) = cargo(&[&["build"], args].concat()) {
        let started = std::time::Instant::now();
        assert!(
            cmd.status().expect("cargo").success(),
            "cargo build {args:?} failed"
        );
        eprintln!("built {args:?} in {:?}", started.elapsed());
    }
    profile_dir()
}

/// The SDK's layout-mismatch fixture (`sdk/tests/fixtures/bad-abi`: the
/// right symbol and name, the wrong interface), built with the cargo
/// running this test; `None` outside cargo.
pub fn bad_abi_so() -> Option<PathBuf> {
    // Built once per test process, however many tests ask.
    static BUILT: std::sync::OnceLock<Option<PathBuf>> = std::sync::OnceLock::new();
    BUILT
        .get_or_init(|| {
            let manifest = workspace_root().join("sdk/tests/fixtures/bad-abi/Cargo.toml");
            let mut cmd = cargo(&["build", "--locked", "--manifest-path", manifest.to_str()?])?;
            assert!(
                cmd.status().expect("cargo").success(),
                "building bad-abi failed"
            );
            Some(profile_dir().join(lib_name("lumen_test_bad_abi")))
        })
        .clone()
}

/// The file name of a `cdylib` named `stem` on this platform.
pub fn lib_name(stem: &str) -> String {
    format!(
        "{}{stem}{}",
        std::env::consts::DLL_PREFIX,
        std::env::consts::DLL_SUFFIX
    )
}

/// The Python interpreter for tests: `LUMEN_PYTHON` (set by `.ci/run` to its
/// venv) or `python3`, if it can import all of `modules`.
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

/// Core Lightning's schema validator (`vectors/cln-schemas/validate.py`).
pub struct Validator {
    py: PathBuf,
    script: PathBuf,
}

impl Validator {
    /// Find it, or `None` (after a notice, or a failure under CI) when the
    /// shared vectors or Python's jsonschema are missing.
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

    /// Validate `value` against schema `name` (a method, or e.g.
    /// `hook/custommsg`): its request part when `request`, else its
    /// response part.
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
