//! `tapinspect`: decode and check Taproot Assets objects offline.
//!
//! ```text
//! tapinspect decode-address ADDR
//! tapinspect decode-asset HEX|FILE
//! tapinspect decode-proof HEX|FILE      (a TAPP proof or a TAPF file)
//! tapinspect verify-proof-file FILE
//! ```
//!
//! Output is JSON on stdout with tapd's test-vector field names (bytes as
//! hex, unknown odd records as hex too). Exit codes: 0 success, 1 invalid
//! input or failed verification (message on stderr), 2 usage error.

use std::collections::BTreeMap;
use std::io::Write as _;
use std::process::ExitCode;

use bitcoin::consensus::serialize;
use lumen_plugin_taproot_assets::address::Address;
use lumen_plugin_taproot_assets::asset::{Asset, Genesis, Witness};
use lumen_plugin_taproot_assets::commitment;
use lumen_plugin_taproot_assets::encoding::UnknownOddTypes;
use lumen_plugin_taproot_assets::proof::{
    AltLeaf, CommitmentProof, FILE_MAGIC, File, GroupKeyReveal, HeaderPowOnly, MetaReveal, Proof,
    TaprootProof, TapscriptProof, verify_file,
};
use serde_json::{Value, json};

const USAGE: &str = "usage: tapinspect <command> <arg>
commands:
  decode-address ADDR        decode a Taproot Assets address
  decode-asset HEX|FILE      decode an asset TLV (hex, or a file of hex or raw bytes)
  decode-proof HEX|FILE      decode a TAPP proof or a TAPF proof file
  verify-proof-file FILE     decode and verify a proof file (VM included; headers: PoW only)";

/// A failure with its exit code.
struct Failure {
    code: u8,
    message: String,
}

fn invalid(message: impl Into<String>) -> Failure {
    Failure {
        code: 1,
        message: message.into(),
    }
}

fn usage(message: impl Into<String>) -> Failure {
    Failure {
        code: 2,
        message: format!("{}\n{USAGE}", message.into()),
    }
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match run(&args) {
        Ok(v) => match serde_json::to_string_pretty(&v) {
            Ok(s) => {
                // A closed pipe (e.g. `| head`) is not an error worth a panic.
                let mut out = std::io::stdout().lock();
                let _ = writeln!(out, "{s}");
                ExitCode::SUCCESS
            }
            Err(e) => {
                eprintln!("error: cannot render JSON: {e}");
                ExitCode::from(1)
            }
        },
        Err(f) => {
            eprintln!("error: {}", f.message);
            ExitCode::from(f.code)
        }
    }
}

fn run(args: &[String]) -> Result<Value, Failure> {
    let (cmd, arg) = match args {
        [c, a] => (c.as_str(), a.as_str()),
        [c] if c == "-h" || c == "--help" || c == "help" => return Err(usage("help")),
        _ => return Err(usage("expected exactly one command and one argument")),
    };
    match cmd {
        "decode-address" => {
            let addr = Address::decode(arg.trim()).map_err(|e| invalid(format!("address: {e}")))?;
            Ok(address_json(&addr))
        }
        "decode-asset" => {
            let bytes = read_input(arg)?;
            let asset = Asset::decode(&bytes).map_err(|e| invalid(format!("asset: {e}")))?;
            Ok(asset_json(&asset))
        }
        "decode-proof" => {
            let bytes = read_input(arg)?;
            if bytes.starts_with(&FILE_MAGIC) {
                let file = File::decode(&bytes).map_err(|e| invalid(format!("proof file: {e}")))?;
                file_json(&file)
            } else {
                let p = Proof::decode(&bytes).map_err(|e| invalid(format!("proof: {e}")))?;
                Ok(proof_json(&p))
            }
        }
        "verify-proof-file" => {
            let bytes = read_file(arg)?;
            let file = File::decode(&bytes).map_err(|e| invalid(format!("proof file: {e}")))?;
            let verified =
                verify_file(&file, &HeaderPowOnly).map_err(|e| invalid(format!("invalid: {e}")))?;
            let proofs: Vec<Value> = verified
                .iter()
                .map(|v| {
                    json!({
                        "outpoint": v.outpoint.to_string(),
                        "asset_id": hex::encode(v.asset_id().0),
                        "amount": v.amount(),
                        "script_key": hex::encode(v.script_key().0),
                        "group_key": v.group_key().map(|k| hex::encode(k.0)),
                        "block_height": v.block_height,
                        "is_genesis": v.is_genesis(),
                    })
                })
                .collect();
            Ok(json!({
                "valid": true,
                "num_proofs": verified.len(),
                "header_check": "proof of work against the header's own target (no chain backend)",
                "proofs": proofs,
            }))
        }
        other => Err(usage(format!("unknown command {other:?}"))),
    }
}

fn read_file(path: &str) -> Result<Vec<u8>, Failure> {
    let raw = std::fs::read(path).map_err(|e| invalid(format!("cannot read {path}: {e}")))?;
    Ok(hex_or_raw(raw))
}

/// File contents that are hex (vector files) are decoded; anything else is
/// taken as raw bytes.
fn hex_or_raw(raw: Vec<u8>) -> Vec<u8> {
    match std::str::from_utf8(&raw).ok().map(str::trim) {
        Some(t) if !t.is_empty() => hex::decode(t).unwrap_or(raw),
        _ => raw,
    }
}

/// A path if one exists, otherwise hex.
fn read_input(arg: &str) -> Result<Vec<u8>, Failure> {
    if std::path::Path::new(arg).is_file() {
        return read_file(arg);
    }
    hex::decode(arg.trim()).map_err(|_| invalid("argument is neither a readable file nor hex"))
}

fn unknown_json(u: &UnknownOddTypes) -> Value {
    if u.is_empty() {
        return Value::Null;
    }
    let m: BTreeMap<String, String> = u
        .iter()
        .map(|(k, v)| (k.to_string(), hex::encode(v)))
        .collect();
    json!(m)
}

fn address_json(a: &Address) -> Value {
    json!({
        "version": a.version,
        "chain_params_hrp": a.network.hrp(),
        "asset_version": a.asset_version,
        "asset_id": hex::encode(a.asset_id.0),
        "group_key": a.group_key.map(|k| hex::encode(k.0)),
        "script_key": hex::encode(a.script_key.0),
        "internal_key": hex::encode(a.internal_key.0),
        "tapscript_sibling": a.tapscript_sibling.as_ref().map(|s| hex::encode(s.encode())),
        "amount": a.amount,
        "proof_courier_addr": a.proof_courier_addr,
        "unknown_odd_types": unknown_json(&a.unknown_odd_types),
    })
}

fn witness_json(w: &Witness) -> Value {
    json!({
        "prev_id": w.prev_id.as_ref().map(|p| json!({
            "out_point": p.out_point.to_string(),
            "asset_id": hex::encode(p.asset_id.0),
            "script_key": hex::encode(p.script_key.0),
        })),
        "tx_witness": (!w.tx_witness.is_empty())
            .then(|| w.tx_witness.iter().map(hex::encode).collect::<Vec<_>>()),
        "split_commitment": w.split_commitment.as_ref().map(|sc| json!({
            "proof": hex::encode(sc.proof.compress().encode()),
            "root_asset": asset_json(&sc.root_asset),
        })),
        "unknown_odd_types": unknown_json(&w.unknown_odd_types),
    })
}

fn asset_json(a: &Asset) -> Value {
    json!({
        "version": a.version,
        "genesis_first_prev_out": a.genesis.first_prev_out.to_string(),
        "genesis_tag": String::from_utf8_lossy(&a.genesis.tag),
        "genesis_meta_hash": hex::encode(a.genesis.meta_hash),
        "genesis_output_index": a.genesis.output_index,
        "genesis_type": a.genesis.asset_type,
        "amount": a.amount,
        "lock_time": a.lock_time,
        "relative_lock_time": a.relative_lock_time,
        "prev_witnesses": a.prev_witnesses.iter().map(witness_json).collect::<Vec<_>>(),
        "split_commitment_root": a.split_commitment_root.map(|n| json!({
            "hash": hex::encode(n.hash.0),
            "sum": n.sum.to_string(),
        })),
        "script_version": a.script_version,
        "script_key": hex::encode(a.script_key.0),
        "group_key": a.group_key.map(|k| json!({"group_key": hex::encode(k.0)})),
        "unknown_odd_types": unknown_json(&a.unknown_odd_types),
        "asset_id": hex::encode(a.id().0),
    })
}

fn genesis_json(g: &Genesis) -> Value {
    json!({
        "first_prev_out": g.first_prev_out.to_string(),
        "tag": String::from_utf8_lossy(&g.tag),
        "meta_hash": hex::encode(g.meta_hash),
        "output_index": g.output_index,
        "type": g.asset_type,
    })
}

fn commitment_inner_json(p: &commitment::Proof) -> Value {
    json!({
        "asset_proof": p.asset_proof.as_ref().map(|ap| json!({
            "proof": hex::encode(ap.proof.compress().encode()),
            "version": ap.version,
            "tap_key": hex::encode(ap.tap_key),
        })),
        "taproot_asset_proof": {
            "proof": hex::encode(p.taproot_asset_proof.proof.compress().encode()),
            "version": p.taproot_asset_proof.version,
        },
        "unknown_odd_types": unknown_json(&p.unknown_odd_types),
    })
}

fn commitment_proof_json(c: &CommitmentProof) -> Value {
    let stxo: BTreeMap<String, Value> = c
        .stxo_proofs
        .iter()
        .map(|(k, p)| (hex::encode(k.0), commitment_inner_json(p)))
        .collect();
    json!({
        "proof": commitment_inner_json(&c.proof),
        "tapscript_sibling": c.tapscript_sibling.as_ref().map(|s| hex::encode(s.encode())).unwrap_or_default(),
        "stxo_proofs": stxo,
    })
}

fn tapscript_proof_json(t: &TapscriptProof) -> Value {
    json!({
        "tap_preimage_1": t.tap_preimage_1.as_ref().map(|s| hex::encode(s.encode())).unwrap_or_default(),
        "tap_preimage_2": t.tap_preimage_2.as_ref().map(|s| hex::encode(s.encode())).unwrap_or_default(),
        "bip86": t.bip86,
    })
}

fn taproot_proof_json(t: &TaprootProof) -> Value {
    json!({
        "output_index": t.output_index,
        "internal_key": hex::encode(t.internal_key.0),
        "commitment_proof": t.commitment_proof.as_ref().map(commitment_proof_json),
        "tapscript_proof": t.tapscript_proof.as_ref().map(tapscript_proof_json),
        "unknown_odd_types": unknown_json(&t.unknown_odd_types),
    })
}

fn meta_json(m: &MetaReveal) -> Value {
    json!({
        "type": m.meta_type,
        "data": hex::encode(&m.data),
        "decimal_display": m.decimal_display,
        "universe_commitments": m.universe_commitments,
        "canonical_universes": m.canonical_universes,
        "delegation_key": m.delegation_key.map(|k| hex::encode(k.0)),
        "unknown_odd_types": unknown_json(&m.unknown_odd_types),
        "meta_hash": hex::encode(m.meta_hash()),
        "valid": m.validate().map(|_| Value::Bool(true)).unwrap_or_else(|e| json!(e.to_string())),
    })
}

fn group_reveal_json(g: &GroupKeyReveal) -> Value {
    match g {
        GroupKeyReveal::V0 {
            raw_key,
            tapscript_root,
        } => json!({
            "raw_key": hex::encode(raw_key.0),
            "tapscript_root": tapscript_root.map(hex::encode).unwrap_or_default(),
        }),
        GroupKeyReveal::V1 {
            version,
            internal_key,
            tapscript_root,
            custom_subtree_root,
            unknown_odd_types,
        } => json!({
            "version": version,
            "internal_key": hex::encode(internal_key.0),
            "tapscript_root": hex::encode(tapscript_root),
            "custom_subtree_root": custom_subtree_root.map(hex::encode),
            "unknown_odd_types": unknown_json(unknown_odd_types),
        }),
    }
}

fn alt_leaf_json(a: &AltLeaf) -> Value {
    json!({
        "prev_witnesses": a.prev_witnesses.iter().map(witness_json).collect::<Vec<_>>(),
        "script_version": a.script_version,
        "script_key": hex::encode(a.script_key.0),
        "unknown_odd_types": unknown_json(&a.unknown_odd_types),
    })
}

fn proof_json(p: &Proof) -> Value {
    let h = &p.block_header;
    json!({
        "version": p.version,
        "prev_out": p.prev_out.to_string(),
        "block_header": {
            "version": h.version.to_consensus(),
            "prev_block": h.prev_blockhash.to_string(),
            "merkle_root": h.merkle_root.to_string(),
            "timestamp": h.time,
            "bits": h.bits.to_consensus(),
            "nonce": h.nonce,
        },
        "block_height": p.block_height,
        "anchor_tx": hex::encode(serialize(&p.anchor_tx)),
        "tx_merkle_proof": {
            "nodes": p.tx_merkle_proof.nodes.iter().map(|n| {
                let mut r = *n;
                r.reverse();
                hex::encode(r)
            }).collect::<Vec<_>>(),
            "bits": p.tx_merkle_proof.bits,
        },
        "asset": asset_json(&p.asset),
        "inclusion_proof": taproot_proof_json(&p.inclusion_proof),
        "exclusion_proofs": p.exclusion_proofs.iter().map(taproot_proof_json).collect::<Vec<_>>(),
        "split_root_proof": p.split_root_proof.as_ref().map(taproot_proof_json),
        "meta_reveal": p.meta_reveal.as_ref().map(meta_json),
        "additional_inputs": p.additional_inputs.iter().map(|f| hex::encode(f.encode())).collect::<Vec<_>>(),
        "challenge_witness": p.challenge_witness.as_ref().map(|w| w.iter().map(hex::encode).collect::<Vec<_>>()),
        "genesis_reveal": p.genesis_reveal.as_ref().map(genesis_json),
        "group_key_reveal": p.group_key_reveal.as_ref().map(group_reveal_json),
        "alt_leaves": p.alt_leaves.iter().map(alt_leaf_json).collect::<Vec<_>>(),
        "unknown_odd_types": unknown_json(&p.unknown_odd_types),
        "outpoint": p.outpoint().to_string(),
    })
}

fn file_json(f: &File) -> Result<Value, Failure> {
    let mut proofs = Vec::with_capacity(f.proofs.len());
    for (i, hp) in f.proofs.iter().enumerate() {
        let p = Proof::decode(&hp.proof_bytes).map_err(|e| invalid(format!("proof {i}: {e}")))?;
        let mut v = proof_json(&p);
        if let Value::Object(m) = &mut v {
            m.insert("hash".into(), json!(hex::encode(hp.hash)));
        }
        proofs.push(v);
    }
    Ok(json!({"version": f.version, "proofs": proofs}))
}
