//! Locating and loading the shared tapd vectors.

use std::path::PathBuf;

/// `<shared>/vectors/taproot-assets` (`<shared>` as `lumen_tests::shared_dir`
/// finds it), or `None` after a notice; a failure under CI, which always
/// has `../shared`.
pub fn vector_dir() -> Option<PathBuf> {
    let dir = lumen_tests::shared_dir()
        .map(|shared| shared.join("vectors").join("taproot-assets"))
        .filter(|dir| dir.is_dir());
    if dir.is_none() {
        lumen_tests::skip_or_fail("tapd vectors not found (set LUMEN_SHARED_DIR)");
    }
    dir
}

/// Parses a vector file as JSON, or `None` (with a NOTICE) if missing.
pub fn load_json(rel: &str) -> Option<serde_json::Value> {
    let path = vector_dir()?.join(rel);
    match std::fs::read_to_string(&path) {
        Ok(text) => Some(serde_json::from_str(&text).expect("vector file is valid JSON")),
        Err(_) => {
            lumen_tests::skip_or_fail(&format!("{} missing", path.display()));
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
