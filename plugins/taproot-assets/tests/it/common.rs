//! Locating and loading the shared tapd vectors.

use std::path::PathBuf;

/// `<shared>/vectors/taproot-assets`, where `<shared>` is `LUMEN_SHARED_DIR`
/// or `/work/shared` reached from the crate dir. `None` (with a NOTICE) if
/// absent.
pub fn vector_dir() -> Option<PathBuf> {
    let shared = std::env::var_os("LUMEN_SHARED_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../../../shared")));
    let dir = shared.join("vectors").join("taproot-assets");
    if dir.is_dir() {
        Some(dir)
    } else {
        println!(
            "NOTICE: tapd vectors not found at {}, skipping",
            dir.display()
        );
        None
    }
}

/// Parses a vector file as JSON, or `None` (with a NOTICE) if missing.
pub fn load_json(rel: &str) -> Option<serde_json::Value> {
    let path = vector_dir()?.join(rel);
    match std::fs::read_to_string(&path) {
        Ok(text) => Some(serde_json::from_str(&text).expect("vector file is valid JSON")),
        Err(_) => {
            println!("NOTICE: {} missing, skipping", path.display());
            None
        }
    }
}

/// 32 bytes from hex.
pub fn hex32(s: &str) -> [u8; 32] {
    hex::decode(s).expect("hex").try_into().expect("32 bytes")
}

/// A JSON array (treating `null` as empty).
pub fn arr(v: &serde_json::Value) -> Vec<serde_json::Value> {
    v.as_array().cloned().unwrap_or_default()
}
