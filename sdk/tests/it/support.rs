//! Shared helpers: build a plugin `cdylib` with the running cargo, and a
//! node configuration for `init`. Locating things and the schema validator
//! come from `lumen-tests`.

use std::path::PathBuf;

use lumen_sdk::protocol::InitConfiguration;
use serde_json::json;

pub use lumen_tests::{Validator, profile_dir};

/// The `.so` of workspace package `package` (library `lib_name`), built with
/// the cargo that runs this test (same target dir and profile) when cargo is
/// available, so it is never stale.
pub fn cdylib(package: &str, lib_name: &str) -> PathBuf {
    let so = lumen_tests::build(&["-p", package]).join(lumen_tests::lib_name(lib_name));
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
