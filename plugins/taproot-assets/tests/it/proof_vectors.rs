//! `proof/*` vectors: generated proof TLVs, regtest proofs, the proof file
//! (decode, hash chain, verification), the invalid-JSON meta reveal and the
//! raw blocks for tx merkle proofs.

use std::collections::BTreeSet;

use bitcoin::Block;
use bitcoin::consensus::{deserialize, serialize};
use lumen_plugin_taproot_assets::asset::testvec::{TestAsset, decode_base64};
use lumen_plugin_taproot_assets::encoding::DecodeError;
use lumen_plugin_taproot_assets::proof::{
    ChainView, File, GroupKeyReveal, HeaderPowOnly, MetaError, Proof, TxMerkleProof, VerifyError,
    verify_file, verify_proof,
};
use serde_json::Value;

use crate::common::{arr, load_json, vector_dir};

fn load_hex(rel: &str) -> Option<Vec<u8>> {
    let path = vector_dir()?.join(rel);
    let text = std::fs::read_to_string(&path).ok()?;
    Some(hex::decode(text.trim()).unwrap())
}

fn check_meta_json(m: &Value, p: &Proof, comment: &str) {
    let Some(mr) = &p.meta_reveal else {
        assert!(m.is_null(), "{comment}");
        return;
    };
    assert_eq!(
        mr.meta_type as u64,
        m["type"].as_u64().unwrap(),
        "{comment}"
    );
    assert_eq!(
        hex::encode(&mr.data),
        m["data"].as_str().unwrap(),
        "{comment}"
    );
    assert_eq!(
        mr.decimal_display.map(u64::from),
        m["decimal_display"].as_u64(),
        "{comment}"
    );
    assert_eq!(
        mr.universe_commitments,
        m["universe_commitments"].as_bool(),
        "{comment}"
    );
    let urls: Option<Vec<String>> = m["canonical_universes"]
        .as_array()
        .map(|a| a.iter().map(|u| u.as_str().unwrap().to_owned()).collect());
    assert_eq!(mr.canonical_universes, urls, "{comment}");
    assert_eq!(
        mr.delegation_key.map(|k| hex::encode(k.0)),
        m["delegation_key"].as_str().map(str::to_owned),
        "{comment}"
    );
    let unknown: Vec<(u64, Vec<u8>)> = m["unknown_odd_types"]
        .as_object()
        .map(|o| {
            o.iter()
                .map(|(k, v)| {
                    (
                        k.parse().unwrap(),
                        decode_base64(v.as_str().unwrap()).unwrap(),
                    )
                })
                .collect()
        })
        .unwrap_or_default();
    let got: Vec<(u64, Vec<u8>)> = mr.unknown_odd_types.clone().into_iter().collect();
    assert_eq!(got, unknown, "{comment}");
    mr.validate().unwrap();
}

#[test]
fn proof_tlv_encoding_generated() {
    let Some(v) = load_json("proof/proof_tlv_encoding_generated.json") else {
        return;
    };
    let cases = arr(&v["valid_test_cases"]);
    assert_eq!(cases.len(), 14);
    for case in &cases {
        let comment = case["comment"].as_str().unwrap();
        let expected = hex::decode(case["expected"].as_str().unwrap()).unwrap();
        let p = Proof::decode(&expected).unwrap_or_else(|e| panic!("{comment}: {e}"));
        assert_eq!(hex::encode(p.encode()), hex::encode(&expected), "{comment}");
        let j = &case["proof"];
        assert_eq!(
            u64::from(p.version),
            j["version"].as_u64().unwrap(),
            "{comment}"
        );
        assert_eq!(
            p.prev_out.to_string(),
            j["prev_out"].as_str().unwrap(),
            "{comment}"
        );
        assert_eq!(
            u64::from(p.block_height),
            j["block_height"].as_u64().unwrap()
        );
        let h = &j["block_header"];
        assert_eq!(
            p.block_header.merkle_root.to_string(),
            h["merkle_root"].as_str().unwrap()
        );
        assert_eq!(
            p.block_header.prev_blockhash.to_string(),
            h["prev_block"].as_str().unwrap()
        );
        assert_eq!(
            u64::from(p.block_header.time),
            h["timestamp"].as_u64().unwrap()
        );
        assert_eq!(
            hex::encode(serialize(&p.anchor_tx)),
            j["anchor_tx"].as_str().unwrap()
        );
        assert_eq!(
            p.tx_merkle_proof.nodes.len(),
            arr(&j["tx_merkle_proof"]["nodes"]).len()
        );
        let ta: TestAsset = serde_json::from_value(j["asset"].clone()).unwrap();
        assert_eq!(p.asset, ta.to_asset().unwrap(), "{comment}");
        let ip = &j["inclusion_proof"];
        assert_eq!(
            u64::from(p.inclusion_proof.output_index),
            ip["output_index"].as_u64().unwrap()
        );
        assert_eq!(
            hex::encode(p.inclusion_proof.internal_key.0),
            ip["internal_key"].as_str().unwrap()
        );
        let sib = ip["commitment_proof"]["tapscript_sibling"]
            .as_str()
            .unwrap_or("");
        let got_sib = p
            .inclusion_proof
            .commitment_proof
            .as_ref()
            .and_then(|c| c.tapscript_sibling.as_ref())
            .map(|s| hex::encode(s.encode()))
            .unwrap_or_default();
        assert_eq!(got_sib, sib, "{comment}");
        assert_eq!(p.exclusion_proofs.len(), arr(&j["exclusion_proofs"]).len());
        assert_eq!(
            p.split_root_proof.is_some(),
            !j["split_root_proof"].is_null()
        );
        assert_eq!(p.alt_leaves.len(), arr(&j["alt_leaves"]).len(), "{comment}");
        check_meta_json(&j["meta_reveal"], &p, comment);
        let g = &j["genesis_reveal"];
        match &p.genesis_reveal {
            Some(gr) => {
                assert_eq!(
                    gr.first_prev_out.to_string(),
                    g["first_prev_out"].as_str().unwrap()
                );
                assert_eq!(hex::encode(gr.meta_hash), g["meta_hash"].as_str().unwrap());
                assert_eq!(gr.id(), p.asset.id(), "{comment}");
            }
            None => assert!(g.is_null()),
        }
        // Group key reveals (V0 here) derive the asset's group key.
        match (&p.group_key_reveal, &j["group_key_reveal"]) {
            (Some(r @ GroupKeyReveal::V0 { raw_key, .. }), gj) => {
                assert_eq!(hex::encode(raw_key.0), gj["raw_key"].as_str().unwrap());
                if let Some(gk) = &p.asset.group_key {
                    assert_eq!(r.group_key(&p.asset.id()).unwrap(), *gk, "{comment}");
                }
            }
            (None, gj) => assert!(gj.is_null()),
            (Some(other), _) => panic!("unexpected reveal {other:?}"),
        }
        // Inclusion derives the anchor output key.
        let keys = p
            .inclusion_proof
            .derive_by_asset_inclusion(&p.asset)
            .unwrap();
        let out = &p.anchor_tx.output[p.inclusion_proof.output_index as usize];
        assert!(
            keys.iter()
                .any(|k| k.serialize() == out.script_pubkey.as_bytes()[2..]),
            "{comment}"
        );
    }
}

#[test]
fn proof_tlv_encoding_error_cases_is_placeholder() {
    let Some(v) = load_json("proof/proof_tlv_encoding_error_cases.json") else {
        return;
    };
    // tapd ships this file without cases; fail loudly if a future copy adds
    // some so that they get wired up here.
    assert!(arr(&v["error_test_cases"]).is_empty());
}

#[test]
fn regtest_proofs_roundtrip() {
    for name in ["proof/proof.hex", "proof/ownership-proof.hex"] {
        let Some(bytes) = load_hex(name) else { return };
        let p = Proof::decode(&bytes).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert!(p.encode() == bytes, "{name} re-encodes byte-exact");
        let keys = p
            .inclusion_proof
            .derive_by_asset_inclusion(&p.asset)
            .unwrap();
        let out = &p.anchor_tx.output[p.inclusion_proof.output_index as usize];
        assert!(
            keys.iter()
                .any(|k| k.serialize() == out.script_pubkey.as_bytes()[2..])
        );
    }
    // proof.hex carries a zero header (a unit-test fixture); the ownership
    // proof is from a real regtest chain.
    let Some(bytes) = load_hex("proof/ownership-proof.hex") else {
        return;
    };
    let p = Proof::decode(&bytes).unwrap();
    assert!(
        p.tx_merkle_proof
            .verify(&p.anchor_tx, &p.block_header.merkle_root)
    );
    assert!(p.challenge_witness.as_ref().is_some_and(|w| !w.is_empty()));
}

#[test]
fn proof_file_decodes_and_verifies() {
    let Some(bytes) = load_hex("proof/proof-file.hex") else {
        return;
    };
    let file = File::decode(&bytes).unwrap();
    assert_eq!(file.proofs.len(), 3);
    assert_eq!(file.encode(), bytes);
    let proofs = file.decode_proofs().unwrap();
    for (p, hp) in proofs.iter().zip(&file.proofs) {
        assert!(p.encode() == hp.proof_bytes, "proof re-encodes byte-exact");
    }
    let verified = verify_file(&file, &HeaderPowOnly).unwrap();
    assert_eq!(verified.len(), 3);
    assert!(verified[0].is_genesis());
    assert!(!verified[1].is_genesis() && !verified[2].is_genesis());
    for (v, p) in verified.iter().zip(&proofs) {
        assert_eq!(v.outpoint, p.outpoint());
        assert_eq!(v.asset_id(), proofs[0].asset.id());
    }
    // ownership-proof.hex is built on the file's last proof.
    if let Some(own) = load_hex("proof/ownership-proof.hex") {
        let own = Proof::decode(&own).unwrap();
        assert_eq!(own.outpoint(), proofs[2].outpoint());
    }

    // A broken hash chain is refused at decode time.
    let mut bad = bytes.clone();
    let last = bad.len() - 1;
    bad[last] ^= 1;
    assert!(matches!(
        File::decode(&bad),
        Err(DecodeError::InvalidValue {
            field: "proof file hash chain",
            ..
        })
    ));
    // Re-chained but out of order: prev_out no longer links up.
    let swapped = File::from_proofs(
        0,
        vec![
            file.proofs[0].proof_bytes.clone(),
            file.proofs[2].proof_bytes.clone(),
            file.proofs[1].proof_bytes.clone(),
        ],
    );
    assert!(matches!(
        verify_file(&swapped, &HeaderPowOnly),
        Err(VerifyError::PrevOutMismatch(_))
    ));
    // A changed amount no longer matches the inclusion proof.
    let mut p1 = proofs[1].clone();
    p1.asset.amount += 1;
    let tampered = File::from_proofs(0, vec![file.proofs[0].proof_bytes.clone(), p1.encode()]);
    assert!(matches!(
        verify_file(&tampered, &HeaderPowOnly),
        Err(VerifyError::InvalidInclusionProof(_))
    ));
    // Dropping an exclusion proof is caught.
    let mut p1 = proofs[1].clone();
    p1.exclusion_proofs.pop();
    let tampered = File::from_proofs(0, vec![file.proofs[0].proof_bytes.clone(), p1.encode()]);
    assert!(matches!(
        verify_file(&tampered, &HeaderPowOnly),
        Err(VerifyError::InvalidExclusionProof(_))
    ));
    // A chain that rejects the header stops verification at step 1.
    struct NoChain;
    impl ChainView for NoChain {
        fn verify_header(&self, _: &bitcoin::block::Header, h: u32) -> Result<(), String> {
            Err(format!("no block at height {h}"))
        }
    }
    assert!(matches!(
        verify_file(&file, &NoChain),
        Err(VerifyError::InvalidHeader(_))
    ));
    // A tampered merkle root fails the tx merkle proof.
    let mut p0 = proofs[0].clone();
    p0.tx_merkle_proof.bits[0] = !p0.tx_merkle_proof.bits[0];
    assert_eq!(
        verify_proof(&p0, None, &BTreeSet::new(), &HeaderPowOnly),
        Err(VerifyError::InvalidMerkleProof)
    );
}

#[test]
fn invalid_json_meta_reveal_fails() {
    let Some(bytes) = load_hex("proof/proof-invalid-json-meta-reveal.hex") else {
        return;
    };
    let p = Proof::decode(&bytes).unwrap();
    assert_eq!(p.encode(), bytes);
    let meta = p.meta_reveal.as_ref().unwrap();
    assert_eq!(meta.validate(), Err(MetaError::InvalidJson));
    match verify_proof(&p, None, &BTreeSet::new(), &HeaderPowOnly) {
        Err(VerifyError::InvalidMetaReveal(msg)) => assert!(msg.contains("invalid JSON"), "{msg}"),
        other => panic!("expected invalid meta reveal, got {other:?}"),
    }
}

#[test]
fn block_merkle_proofs() {
    for (name, txs) in [
        ("proof/12-tx-block.hex", 12),
        ("proof/70-tx-block.hex", 70),
        ("proof/odd-block.hex", 0),
    ] {
        let Some(bytes) = load_hex(name) else { return };
        let block: Block = deserialize(&bytes).unwrap();
        if txs > 0 {
            assert_eq!(block.txdata.len(), txs, "{name}");
        }
        assert!(block.check_merkle_root(), "{name}");
        HeaderPowOnly.verify_header(&block.header, 0).unwrap();
        let txids: Vec<_> = block.txdata.iter().map(|t| t.compute_txid()).collect();
        for (i, tx) in block.txdata.iter().enumerate() {
            let proof = TxMerkleProof::new(&txids, i).unwrap();
            assert!(proof.verify(tx, &block.header.merkle_root), "{name} tx {i}");
            let enc = proof.encode();
            assert_eq!(TxMerkleProof::decode(&enc).unwrap(), proof);
            // The proof is specific to its transaction.
            let other = &block.txdata[(i + 1) % block.txdata.len()];
            if block.txdata.len() > 1 {
                assert!(
                    !proof.verify(other, &block.header.merkle_root),
                    "{name} tx {i}"
                );
            }
        }
        assert!(TxMerkleProof::new(&txids, txids.len()).is_none());
    }
}

#[test]
fn merkle_proof_decode_limits() {
    // 16 nodes is over tapd's limit.
    let mut b = vec![16u8];
    b.extend(vec![0u8; 16 * 32 + 2]);
    assert!(matches!(
        TxMerkleProof::decode(&b),
        Err(DecodeError::LimitExceeded { .. })
    ));
    // Non-zero padding bits are refused; short input is an error.
    let mut b = vec![1u8];
    b.extend([7u8; 32]);
    b.push(0b10);
    assert!(TxMerkleProof::decode(&b).is_err());
    assert!(TxMerkleProof::decode(&[1, 0]).is_err());
    assert_eq!(
        TxMerkleProof::decode(&[0]).unwrap(),
        TxMerkleProof::default()
    );
}

/// Timing of `proof-file.hex` decode + verification (run with
/// `--ignored --nocapture`, in release for meaningful numbers).
#[test]
#[ignore = "measurement; run explicitly"]
fn proof_file_verify_timing() {
    use std::time::Instant;
    let Some(bytes) = load_hex("proof/proof-file.hex") else {
        return;
    };
    let profile = if cfg!(debug_assertions) {
        "debug"
    } else {
        "release"
    };
    let rounds = 200u32;
    let t = Instant::now();
    for _ in 0..rounds {
        let f = File::decode(&bytes).unwrap();
        assert_eq!(f.decode_proofs().unwrap().len(), 3);
    }
    let decode = t.elapsed() / rounds;
    let file = File::decode(&bytes).unwrap();
    let t = Instant::now();
    for _ in 0..rounds {
        assert_eq!(verify_file(&file, &HeaderPowOnly).unwrap().len(), 3);
    }
    let verify = t.elapsed() / rounds;
    let Some(big) = load_hex("proof/proof-invalid-json-meta-reveal.hex") else {
        return;
    };
    let t = Instant::now();
    for _ in 0..20 {
        let _ = Proof::decode(&big).unwrap();
    }
    let big_decode = t.elapsed() / 20;
    println!(
        "proof-file.hex [{profile}] ({} bytes, 3 proofs): decode+hash chain+proof decode {decode:?}, verify_file {verify:?} ({:.0} files/s); {}-byte proof decode {big_decode:?}",
        bytes.len(),
        1.0 / verify.as_secs_f64(),
        big.len()
    );
}

#[test]
fn split_commitment_of_file_split_verifies() {
    use lumen_plugin_taproot_assets::commitment::{CommitmentError, verify_split_commitment};
    let Some(bytes) = load_hex("proof/proof-file.hex") else {
        return;
    };
    let proofs = File::decode(&bytes).unwrap().decode_proofs().unwrap();
    // The genesis proof's asset has no split commitment.
    assert!(!verify_split_commitment(&proofs[0].asset, 0).unwrap());
    let split = &proofs[1];
    let idx = split.inclusion_proof.output_index;
    assert!(verify_split_commitment(&split.asset, idx).unwrap());
    // The key binds the anchor output index and the amount is summed.
    assert!(matches!(
        verify_split_commitment(&split.asset, idx + 1),
        Err(CommitmentError::InvalidSplit(_))
    ));
    let mut bad = split.asset.clone();
    bad.amount -= 1;
    assert!(verify_split_commitment(&bad, idx).is_err());
    // And verification of a file with such a split fails at step 3.
    let mut p1 = split.clone();
    let sc = p1.asset.prev_witnesses[0]
        .split_commitment
        .as_mut()
        .unwrap();
    sc.proof.nodes[255].hash.0[0] ^= 1;
    let tampered = File::from_proofs(
        0,
        vec![
            File::decode(&bytes).unwrap().proofs[0].proof_bytes.clone(),
            p1.encode(),
        ],
    );
    let err = verify_file(&tampered, &HeaderPowOnly).unwrap_err();
    assert!(
        matches!(
            err,
            VerifyError::InvalidSplitRootProof(_) | VerifyError::InvalidInclusionProof(_)
        ),
        "{err:?}"
    );
}

/// tapd ships no proof error vectors; these are the error categories its
/// TLV decoder produces, checked on edits of a real proof.
#[test]
fn proof_decode_error_categories() {
    let Some(bytes) = load_hex("proof/proof.hex") else {
        return;
    };
    let p = Proof::decode(&bytes).unwrap();
    let stream = &bytes[4..];

    // Bad magic.
    let mut bad = bytes.clone();
    bad[0] = b'X';
    assert!(matches!(
        Proof::decode(&bad),
        Err(DecodeError::InvalidValue {
            field: "proof magic",
            ..
        })
    ));
    // Truncated.
    assert!(matches!(
        Proof::decode(&bytes[..bytes.len() - 3]),
        Err(DecodeError::UnexpectedEof(_))
    ));
    // An unknown even type is refused, an unknown odd type is kept and
    // written back in order.
    let mut even = bytes.clone();
    even.extend_from_slice(&[0xfd, 0x7a, 0x68, 0x01, 0x00]); // type 31336
    assert_eq!(
        Proof::decode(&even),
        Err(DecodeError::UnknownEvenType(31336))
    );
    let mut odd = bytes.clone();
    odd.extend_from_slice(&[0xfd, 0x7a, 0x69, 0x02, 0xbe, 0xef]); // type 31337
    let po = Proof::decode(&odd).unwrap();
    assert_eq!(po.unknown_odd_types.get(&31337), Some(&vec![0xbe, 0xef]));
    assert_eq!(po.encode(), odd);
    // Records out of order: move the version record (type 0) to the end.
    let first_len = 2 + usize::from(stream[1]);
    let mut reordered = b"TAPP".to_vec();
    reordered.extend_from_slice(&stream[first_len..]);
    reordered.extend_from_slice(&stream[..first_len]);
    assert!(matches!(
        Proof::decode(&reordered),
        Err(DecodeError::StreamNotCanonical { .. })
    ));
    // A missing mandatory record.
    let mut no_version = b"TAPP".to_vec();
    no_version.extend_from_slice(&stream[first_len..]);
    assert_eq!(
        Proof::decode(&no_version),
        Err(DecodeError::MissingRecord("proof version"))
    );
    // A wrong fixed length (block height as 3 bytes).
    let mut q = p.clone();
    q.unknown_odd_types.clear();
    let enc = q.encode();
    let pos = enc
        .windows(6)
        .rposition(|w| w == [22, 4, 0, 0, 0, 0])
        .unwrap();
    let mut short = enc[..pos].to_vec();
    short.extend_from_slice(&[22, 3, 0, 0, 0]);
    short.extend_from_slice(&enc[pos + 6..]);
    assert!(matches!(
        Proof::decode(&short),
        Err(DecodeError::InvalidLength {
            field: "block height",
            ..
        })
    ));
}

#[test]
fn additional_input_files_are_verified() {
    let Some(bytes) = load_hex("proof/proof-file.hex") else {
        return;
    };
    let file = File::decode(&bytes).unwrap();
    let proofs = file.decode_proofs().unwrap();
    let genesis_file = File::from_proofs(0, vec![file.proofs[0].proof_bytes.clone()]);
    // The split spends the genesis outpoint: attaching the genesis file as
    // an additional input verifies.
    let mut p1 = proofs[1].clone();
    p1.additional_inputs = vec![genesis_file.clone()];
    let ok = File::from_proofs(0, vec![file.proofs[0].proof_bytes.clone(), p1.encode()]);
    assert_eq!(verify_file(&ok, &HeaderPowOnly).unwrap().len(), 2);
    // A file whose final outpoint the asset does not spend is refused.
    let mut p2 = proofs[2].clone();
    p2.additional_inputs = vec![genesis_file];
    let chain = File::from_proofs(
        0,
        vec![
            file.proofs[0].proof_bytes.clone(),
            file.proofs[1].proof_bytes.clone(),
            p2.encode(),
        ],
    );
    assert!(matches!(
        verify_file(&chain, &HeaderPowOnly),
        Err(VerifyError::InvalidAdditionalInput { index: 0, .. })
    ));
    // An additional input that does not verify is refused.
    let mut broken = proofs[0].clone();
    broken.asset.amount += 1;
    let mut p1 = proofs[1].clone();
    p1.additional_inputs = vec![File::from_proofs(0, vec![broken.encode()])];
    let bad = File::from_proofs(0, vec![file.proofs[0].proof_bytes.clone(), p1.encode()]);
    assert!(matches!(
        verify_file(&bad, &HeaderPowOnly),
        Err(VerifyError::InvalidAdditionalInput { index: 0, .. })
    ));
}

/// proof.hex (a V0 split proof) carries STXO proofs and alt leaves: the
/// marker of the root's input is its burn key, and the STXO proofs prove
/// it included in the asset's output and excluded from the other one.
#[test]
fn stxo_proofs_of_regtest_proof() {
    use lumen_plugin_taproot_assets::proof::{collect_stxo, verify_stxo_set};
    let Some(bytes) = load_hex("proof/proof.hex") else {
        return;
    };
    let p = Proof::decode(&bytes).unwrap();
    let stxos = collect_stxo(&p.asset).unwrap();
    assert_eq!(stxos.len(), 1);
    let cp = p.inclusion_proof.commitment_proof.as_ref().unwrap();
    assert_eq!(cp.stxo_proofs.len(), 1);
    assert_eq!(cp.stxo_proofs[0].0, stxos[0].0);
    // The alt leaves of the proof are the same markers (and one more).
    assert!(p.alt_leaves.iter().any(|a| a.script_key == stxos[0].0));
    verify_stxo_set(&p.anchor_tx, &p.inclusion_proof, &stxos, true).unwrap();
    let with_commitment: Vec<_> = p
        .exclusion_proofs
        .iter()
        .filter(|e| e.commitment_proof.is_some())
        .collect();
    assert!(!with_commitment.is_empty());
    for e in with_commitment {
        verify_stxo_set(&p.anchor_tx, e, &stxos, false).unwrap();
        // An exclusion proof does not pass as an inclusion proof.
        assert!(verify_stxo_set(&p.anchor_tx, e, &stxos, true).is_err());
    }
    // Inclusion requires every marker; a marker nobody committed fails.
    let mut more = stxos.clone();
    let mut other = stxos[0].1.clone();
    other.script_key = p.asset.script_key;
    more.push((other.script_key, other));
    assert!(verify_stxo_set(&p.anchor_tx, &p.inclusion_proof, &more, true).is_err());
    // The verifier requires STXO proofs for V1 transfer proofs: the file's
    // last proof carries none, so as V1 it fails exactly there.
    let Some(fbytes) = load_hex("proof/proof-file.hex") else {
        return;
    };
    let file = File::decode(&fbytes).unwrap();
    let proofs = file.decode_proofs().unwrap();
    let mut v1 = proofs[2].clone();
    v1.version = 1;
    let rechained = File::from_proofs(
        0,
        vec![
            file.proofs[0].proof_bytes.clone(),
            file.proofs[1].proof_bytes.clone(),
            v1.encode(),
        ],
    );
    let err = verify_file(&rechained, &HeaderPowOnly).unwrap_err();
    assert!(
        matches!(&err, VerifyError::InvalidStxoProof(m) if m.contains("missing")),
        "{err:?}"
    );
}

#[test]
fn genesis_reveal_checks() {
    let Some(bytes) = load_hex("proof/proof-file.hex") else {
        return;
    };
    let proofs = File::decode(&bytes).unwrap().decode_proofs().unwrap();
    let none = BTreeSet::new();
    let g = &proofs[0];
    verify_proof(g, None, &none, &HeaderPowOnly).unwrap();
    let mut p = g.clone();
    p.genesis_reveal = None;
    assert!(matches!(
        verify_proof(&p, None, &none, &HeaderPowOnly),
        Err(VerifyError::InvalidGenesisReveal(_))
    ));
    let mut p = g.clone();
    p.genesis_reveal.as_mut().unwrap().tag.push(b'x');
    assert_eq!(
        verify_proof(&p, None, &none, &HeaderPowOnly),
        Err(VerifyError::InvalidGenesisReveal("does not match asset id"))
    );
    let mut p = g.clone();
    p.genesis_reveal.as_mut().unwrap().output_index += 1;
    assert!(matches!(
        verify_proof(&p, None, &none, &HeaderPowOnly),
        Err(VerifyError::InvalidGenesisReveal(_))
    ));
    // The meta reveal must hash to the genesis meta hash.
    let mut p = g.clone();
    p.meta_reveal.as_mut().unwrap().data.push(b'!');
    assert!(matches!(
        verify_proof(&p, None, &none, &HeaderPowOnly),
        Err(VerifyError::InvalidMetaReveal(_))
    ));
    let mut p = g.clone();
    p.meta_reveal = None;
    assert!(matches!(
        verify_proof(&p, None, &none, &HeaderPowOnly),
        Err(VerifyError::InvalidMetaReveal(_))
    ));
    // Transfer proofs must not carry genesis data.
    let mut t = proofs[1].clone();
    t.genesis_reveal = g.genesis_reveal.clone();
    let prev = verify_proof(g, None, &none, &HeaderPowOnly).unwrap();
    assert!(matches!(
        verify_proof(&t, Some(&prev), &none, &HeaderPowOnly),
        Err(VerifyError::InvalidGenesisReveal("non-genesis asset"))
    ));
}

/// Re-anchors split proof `p` after its split root asset changed from
/// `orig`'s: the root's output commitment (which holds only the root, as
/// asserted) is rebuilt with proofs for the root and the split's exclusion,
/// the anchor outputs get the keys the changed assets derive (same
/// commitment version as before), and the header gets the new merkle root
/// and is re-mined at its regtest target. All commitment, merkle and
/// header checks then pass again, so only the VM can object.
fn reanchor(p: &mut Proof, orig: &Proof) {
    use bitcoin::ScriptBuf;
    use bitcoin::key::{TweakedPublicKey, XOnlyPublicKey};
    use lumen_plugin_taproot_assets::asset::Asset;
    use lumen_plugin_taproot_assets::commitment::asset_keys;
    use lumen_plugin_taproot_assets::mssmt::{Node, bit_index};
    use lumen_plugin_taproot_assets::proof::TaprootProof;
    let p2tr = |k: XOnlyPublicKey| {
        ScriptBuf::new_p2tr_tweaked(TweakedPublicKey::dangerous_assume_tweaked(k))
    };
    let root_of = |a: &Asset| {
        a.prev_witnesses[0]
            .split_commitment
            .as_ref()
            .unwrap()
            .root_asset
            .clone()
    };
    let (old_root, new_root) = (root_of(&orig.asset), root_of(&p.asset));
    let mut tx = p.anchor_tx.clone();
    // Which candidate key (commitment version) the output used.
    let position = |tp: &TaprootProof, asset: &Asset, tx: &bitcoin::Transaction| {
        let keys = tp.derive_by_asset_inclusion(asset).unwrap();
        let out = &tx.output[tp.output_index as usize].script_pubkey;
        keys.iter().position(|k| p2tr(*k) == *out).unwrap()
    };

    // The split's own output: same proof path, new leaf.
    let ip = &p.inclusion_proof;
    let at = position(ip, &orig.asset, &tx);
    let key = ip.derive_by_asset_inclusion(&p.asset).unwrap()[at];
    tx.output[ip.output_index as usize].script_pubkey = p2tr(key);

    // The root's output: its inclusion path is unchanged; the split's
    // exclusion proof there has, where the two keys diverge, the subtree
    // holding the root leaf as sibling: recompute it from the new leaf.
    let srp = p.split_root_proof.as_ref().unwrap();
    let at = position(srp, &old_root, &tx);
    let key = srp.derive_by_asset_inclusion(&new_root).unwrap()[at];
    let root_out = srp.output_index;
    tx.output[root_out as usize].script_pubkey = p2tr(key);
    let root_path = &srp
        .commitment_proof
        .as_ref()
        .unwrap()
        .proof
        .asset_proof
        .as_ref()
        .unwrap()
        .proof
        .nodes;
    let (root_key, _) = asset_keys(&new_root);
    let (split_key, _) = asset_keys(&p.asset);
    let d = (0..256)
        .find(|&d| bit_index(d, &root_key) != bit_index(d, &split_key))
        .unwrap();
    let mut cur = new_root.leaf().unwrap().node();
    for (i, sibling) in root_path.iter().enumerate().take(255 - d) {
        let depth = 255 - i;
        cur = if bit_index(depth, &root_key) == 0 {
            Node::branch(&cur, sibling)
        } else {
            Node::branch(sibling, &cur)
        }
        .unwrap();
    }
    for e in p
        .exclusion_proofs
        .iter_mut()
        .filter(|e| e.output_index == root_out)
    {
        let cp = e.commitment_proof.as_mut().unwrap();
        cp.proof.asset_proof.as_mut().unwrap().proof.nodes[255 - d] = cur;
    }

    p.anchor_tx = tx;
    p.block_header.merkle_root = p.tx_merkle_proof.root(&p.anchor_tx.compute_txid());
    while p
        .block_header
        .validate_pow(p.block_header.target())
        .is_err()
    {
        p.block_header.nonce = p.block_header.nonce.wrapping_add(1);
    }
}

/// The transfer proofs of proof-file.hex pass the asset VM; a flipped
/// signature byte in a transfer witness (file re-chained, so decoding and
/// the hash chain still pass) is caught by the state-transition check.
#[test]
fn proof_file_state_transitions() {
    use lumen_plugin_taproot_assets::vm::VmError;
    let Some(bytes) = load_hex("proof/proof-file.hex") else {
        return;
    };
    let file = File::decode(&bytes).unwrap();
    let proofs = file.decode_proofs().unwrap();
    let verified = verify_file(&file, &HeaderPowOnly).unwrap();
    for (v, p) in verified.iter().zip(&proofs) {
        assert_eq!(v.asset, p.asset);
    }

    // Flip one byte of the last (split) proof's root witness signature.
    // The assets are V0, so the witness is part of the committed leaves:
    // re-anchor the proof so every commitment, merkle and header check
    // passes again and only the signature is wrong.
    let last = proofs.len() - 1;
    let orig = &proofs[last];
    assert_eq!(orig.asset.version, 0);
    let mut p = orig.clone();
    let sc = p.asset.prev_witnesses[0]
        .split_commitment
        .as_mut()
        .expect("the last proof is a split");
    let sig = &mut sc.root_asset.prev_witnesses[0].tx_witness[0];
    assert!(sig.len() == 64 || sig.len() == 65, "a Schnorr signature");
    sig[10] ^= 0x01;
    // Without re-anchoring the commitment check objects first.
    let raw = |p: &Proof| {
        let mut raw: Vec<Vec<u8>> = file.proofs.iter().map(|h| h.proof_bytes.clone()).collect();
        raw[last] = p.encode();
        // Re-chained: the file decodes with a valid hash chain.
        File::decode(&File::from_proofs(0, raw).encode()).unwrap()
    };
    assert!(matches!(
        verify_file(&raw(&p), &HeaderPowOnly),
        Err(VerifyError::InvalidSplitRootProof(_) | VerifyError::InvalidInclusionProof(_))
    ));
    reanchor(&mut p, orig);
    let err = verify_file(&raw(&p), &HeaderPowOnly).unwrap_err();
    assert!(
        matches!(
            err,
            VerifyError::InvalidStateTransition(VmError::InvalidTransferWitness(_))
        ),
        "{err:?}"
    );
    // Re-anchoring with the signature restored verifies again, so the
    // signature is what the VM rejected.
    let mut control = orig.clone();
    reanchor(&mut control, orig);
    assert_eq!(control.anchor_tx, orig.anchor_tx);
    let mut p_ok = p.clone();
    let sc = p_ok.asset.prev_witnesses[0]
        .split_commitment
        .as_mut()
        .unwrap();
    sc.root_asset.prev_witnesses[0].tx_witness[0][10] ^= 0x01;
    let before = p.clone();
    reanchor(&mut p_ok, &before);
    let ok = verify_file(&raw(&p_ok), &HeaderPowOnly).unwrap();
    assert_eq!(ok[last].asset, p_ok.asset);
}
