//! Locating and loading the shared tapd vectors.

use std::path::PathBuf;

/// `<shared>/vectors/taproot-assets`, where `<shared>` is `LUMEN_SHARED_DIR`
/// or `/work/shared` reached from the crate dir. `None` (with a NOTICE) if
/// absent — except under `CI=true`, where CI always has `../shared` and a
/// missing vector is a failure, not a skip.
pub fn vector_dir() -> Option<PathBuf> {
    let shared = std::env::var_os("LUMEN_SHARED_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| manifest_dir().join("../../../shared"));
    let dir = shared.join("vectors").join("taproot-assets");
    if dir.is_dir() {
        Some(dir)
    } else {
        assert!(
            std::env::var("CI").as_deref() != Ok("true"),
            "tapd vectors not found at {} under CI=true",
            dir.display()
        );
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
            assert!(
                std::env::var("CI").as_deref() != Ok("true"),
                "{} missing under CI=true",
                path.display()
            );
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

/// Bytes of a `hexdump -C`-style dump: each line is an offset, up to 16
/// hex byte columns and an ASCII column between `|`. Offsets are checked
/// to be contiguous; `*` (repeated-line) markers are not supported and
/// fail loudly.
pub fn parse_hexdump(text: &str) -> Vec<u8> {
    let mut out = Vec::new();
    for line in text.lines() {
        let data = line.split('|').next().unwrap().trim();
        if data.is_empty() {
            continue;
        }
        assert_ne!(data, "*", "repeated-line markers are not supported");
        let mut fields = data.split_whitespace();
        let offset = usize::from_str_radix(fields.next().unwrap(), 16).unwrap();
        assert_eq!(offset, out.len(), "hexdump offsets must be contiguous");
        for byte in fields {
            assert_eq!(byte.len(), 2, "hex byte column");
            out.push(u8::from_str_radix(byte, 16).unwrap());
        }
    }
    out
}

/// This crate's directory, read at run time: cargo sets it for every test
/// process. The compile-time value is only a fallback, since a build cache
/// shared between checkouts can hold a binary built in another one.
pub fn manifest_dir() -> std::path::PathBuf {
    std::env::var_os("CARGO_MANIFEST_DIR")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|| std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")))
}
