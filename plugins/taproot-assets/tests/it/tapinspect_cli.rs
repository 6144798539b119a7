//! Runs the real `tapinspect` binary on the vector files.

use std::path::PathBuf;
use std::process::{Command, Output};

use lumen_plugin_taproot_assets::asset::Asset;
use lumen_plugin_taproot_assets::proof::Proof;
use serde_json::Value;

use crate::common::{arr, load_json, vector_dir};

fn run(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_tapinspect"))
        .args(args)
        .output()
        .unwrap()
}

fn ok_json(args: &[&str]) -> Value {
    let out = run(args);
    assert!(
        out.status.success(),
        "{args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

fn fails(args: &[&str], code: i32) -> String {
    let out = run(args);
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert_eq!(out.status.code(), Some(code), "{args:?}: {stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
    assert!(stderr.starts_with("error: "), "{stderr}");
    stderr
}

fn vec_path(rel: &str) -> Option<String> {
    Some(vector_dir()?.join(rel).to_string_lossy().into_owned())
}

fn temp_file(name: &str, contents: &[u8]) -> PathBuf {
    let p = std::env::temp_dir().join(format!("tapinspect-{}-{name}", std::process::id()));
    std::fs::write(&p, contents).unwrap();
    p
}

#[test]
fn usage_errors() {
    fails(&[], 2);
    fails(&["bogus", "x"], 2);
    fails(&["decode-proof"], 2);
    fails(&["decode-proof", "zz-not-hex"], 1);
    fails(&["decode-asset", "00"], 1);
    fails(&["verify-proof-file", "/nonexistent/file"], 1);
    fails(&["decode-address", "taprt1notanaddress"], 1);
}

#[test]
fn verify_proof_file() {
    let Some(path) = vec_path("proof/proof-file.hex") else {
        return;
    };
    let v = ok_json(&["verify-proof-file", &path]);
    assert_eq!(v["valid"], true);
    assert_eq!(v["num_proofs"], 3);
    let amounts: Vec<u64> = arr(&v["proofs"])
        .iter()
        .map(|p| p["amount"].as_u64().unwrap())
        .collect();
    assert_eq!(amounts, [1500, 1200, 600]);
    assert_eq!(v["proofs"][0]["is_genesis"], true);
    assert_eq!(v["proofs"][2]["block_height"], 444);

    // A flipped byte breaks the hash chain: exit 1 with the reason.
    let text = std::fs::read_to_string(&path).unwrap();
    let mut bytes = hex::decode(text.trim()).unwrap();
    let n = bytes.len();
    bytes[n - 40] ^= 0x01;
    let bad = temp_file("bad.tapf", &bytes);
    let err = fails(&["verify-proof-file", bad.to_str().unwrap()], 1);
    assert!(err.contains("hash"), "{err}");
    // Raw (non-hex) bytes work as input too; truncation is a clean error.
    let raw = temp_file("trunc.tapf", &hex::decode(text.trim()).unwrap()[..500]);
    fails(&["verify-proof-file", raw.to_str().unwrap()], 1);
    let _ = std::fs::remove_file(bad);
    let _ = std::fs::remove_file(raw);
}

#[test]
fn decode_proof_and_file() {
    let Some(path) = vec_path("proof/proof.hex") else {
        return;
    };
    let v = ok_json(&["decode-proof", &path]);
    let text = std::fs::read_to_string(&path).unwrap();
    let p = Proof::decode(&hex::decode(text.trim()).unwrap()).unwrap();
    assert_eq!(v["asset"]["amount"], p.asset.amount);
    assert_eq!(v["asset"]["asset_id"], hex::encode(p.asset.id().0));
    assert_eq!(v["block_height"], p.block_height);
    assert_eq!(v["prev_out"], p.prev_out.to_string());
    assert_eq!(arr(&v["exclusion_proofs"]).len(), p.exclusion_proofs.len());
    assert_eq!(
        v["inclusion_proof"]["output_index"],
        p.inclusion_proof.output_index
    );
    // Hex on the command line works as well as a file.
    let v2 = ok_json(&["decode-proof", text.trim()]);
    assert_eq!(v2, v);

    let file = vec_path("proof/proof-file.hex").unwrap();
    let f = ok_json(&["decode-proof", &file]);
    assert_eq!(arr(&f["proofs"]).len(), 3);
    assert_eq!(f["proofs"][0]["meta_reveal"]["valid"], true);
    assert_eq!(f["proofs"][0]["asset"]["genesis_tag"], "first-itestbuxx");

    let bad_meta = vec_path("proof/proof-invalid-json-meta-reveal.hex").unwrap();
    let m = ok_json(&["decode-proof", &bad_meta]);
    assert_eq!(m["meta_reveal"]["valid"], "meta reveal: invalid JSON");
    assert_eq!(m["meta_reveal"]["type"], 1);
}

#[test]
fn decode_assets() {
    let Some(path) = vec_path("asset/asset.hex") else {
        return;
    };
    let v = ok_json(&["decode-asset", &path]);
    let text = std::fs::read_to_string(&path).unwrap();
    let a = Asset::decode(&hex::decode(text.trim()).unwrap()).unwrap();
    assert_eq!(v["amount"], a.amount);
    assert_eq!(
        v["genesis_tag"],
        String::from_utf8_lossy(&a.genesis.tag).as_ref()
    );
    assert_eq!(v["script_key"], hex::encode(a.script_key.0));

    let Some(j) = load_json("asset/asset_tlv_encoding_generated.json") else {
        return;
    };
    for case in arr(&j["valid_test_cases"]) {
        let v = ok_json(&["decode-asset", case["expected"].as_str().unwrap()]);
        for field in [
            "version",
            "amount",
            "genesis_first_prev_out",
            "genesis_tag",
            "script_key",
        ] {
            assert_eq!(v[field], case["asset"][field], "{field}");
        }
    }
}

#[test]
fn decode_addresses() {
    let Some(j) = load_json("address/address_tlv_encoding_generated.json") else {
        return;
    };
    let cases = arr(&j["valid_test_cases"]);
    assert!(!cases.is_empty());
    for case in cases {
        let v = ok_json(&["decode-address", case["expected"].as_str().unwrap()]);
        let a = &case["address"];
        for field in [
            "version",
            "chain_params_hrp",
            "asset_version",
            "script_key",
            "internal_key",
            "amount",
        ] {
            assert_eq!(v[field], a[field], "{field}");
        }
    }
}
