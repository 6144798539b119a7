//! Commitments: anchor output keys derived from the inclusion proofs of
//! tapd's generated proof vectors, and build → prove → derive round trips.

use bitcoin::Transaction;
use bitcoin::consensus::deserialize;
use lumen_plugin_taproot_assets::asset::testvec::TestAsset;
use lumen_plugin_taproot_assets::asset::{Asset, SerializedKey};
use lumen_plugin_taproot_assets::commitment::{
    self, AssetProof, CommitmentError, Proof, TapCommitment, TaprootAssetProof, asset_keys,
    commitment_output_key, is_tap_commitment_script, taproot_assets_marker, taproot_assets_v2_tag,
};
use lumen_plugin_taproot_assets::encoding::UnknownOddTypes;
use lumen_plugin_taproot_assets::mssmt::Proof as SmtProof;
use lumen_plugin_taproot_assets::tapscript::TapscriptPreimage;
use serde_json::Value;

use crate::common::{arr, load_json};

fn key33(s: &str) -> SerializedKey {
    SerializedKey::parse(hex::decode(s).unwrap().try_into().unwrap(), "key").unwrap()
}

fn commitment_proof_from_json(cp: &Value) -> Proof {
    let p = &cp["proof"];
    let asset_proof = if p["asset_proof"].is_null() {
        None
    } else {
        let ap = &p["asset_proof"];
        Some(AssetProof {
            proof: SmtProof::from_compressed_bytes(
                &hex::decode(ap["proof"].as_str().unwrap()).unwrap(),
            )
            .unwrap(),
            version: ap["version"].as_u64().unwrap() as u8,
            tap_key: crate::common::hex32(ap["tap_key"].as_str().unwrap()),
            unknown_odd_types: UnknownOddTypes::new(),
        })
    };
    let tp = &p["taproot_asset_proof"];
    Proof {
        asset_proof,
        taproot_asset_proof: TaprootAssetProof {
            proof: SmtProof::from_compressed_bytes(
                &hex::decode(tp["proof"].as_str().unwrap()).unwrap(),
            )
            .unwrap(),
            version: tp["version"].as_u64().unwrap() as u8,
            unknown_odd_types: UnknownOddTypes::new(),
        },
        unknown_odd_types: UnknownOddTypes::new(),
    }
}

fn p2tr_key(tx: &Transaction, idx: usize) -> [u8; 32] {
    let spk = tx.output[idx].script_pubkey.as_bytes();
    assert!(
        spk.len() == 34 && spk[0] == 0x51 && spk[1] == 0x20,
        "P2TR output"
    );
    spk[2..].try_into().unwrap()
}

#[test]
fn constants_match_map() {
    assert_eq!(
        hex::encode(taproot_assets_marker()),
        "2dc2975396094e0c17f70abd43715ade3c9660f6fe22056e4f706941b8511c4c"
    );
    assert_eq!(
        hex::encode(taproot_assets_v2_tag()),
        "6a47e8543f2ab163faf693971a653e54efe3d8056c52164c6b8bbf597b6ddb28"
    );
}

#[test]
fn generated_inclusion_proofs_derive_anchor_key() {
    let Some(v) = load_json("proof/proof_tlv_encoding_generated.json") else {
        return;
    };
    let cases = arr(&v["valid_test_cases"]);
    assert_eq!(cases.len(), 14);
    let mut versions_seen = [0usize; 3];
    for case in &cases {
        let comment = case["comment"].as_str().unwrap();
        let p = &case["proof"];
        let ta: TestAsset = serde_json::from_value(p["asset"].clone()).unwrap();
        let asset = ta.to_asset().unwrap();
        let ip = &p["inclusion_proof"];
        let cp = commitment_proof_from_json(&ip["commitment_proof"]);
        let sibling_hex = ip["commitment_proof"]["tapscript_sibling"]
            .as_str()
            .unwrap_or("");
        let sibling = (!sibling_hex.is_empty())
            .then(|| TapscriptPreimage::decode(&hex::decode(sibling_hex).unwrap()).unwrap());
        let (root, version) = cp.derive_by_asset_inclusion(&asset).unwrap();
        versions_seen[version as usize] += 1;
        let internal = key33(ip["internal_key"].as_str().unwrap());
        let key = commitment_output_key(version, &root, &internal, sibling.as_ref()).unwrap();
        let tx: Transaction =
            deserialize(&hex::decode(p["anchor_tx"].as_str().unwrap()).unwrap()).unwrap();
        let idx = ip["output_index"].as_u64().unwrap() as usize;
        assert_eq!(key.serialize(), p2tr_key(&tx, idx), "{comment}");
        // Tampering with the amount breaks the derivation.
        let mut bad = asset.clone();
        bad.amount += 1;
        let (bad_root, _) = cp.derive_by_asset_inclusion(&bad).unwrap();
        assert_ne!(bad_root, root, "{comment}");
    }
    assert!(versions_seen.iter().all(|n| *n > 0), "{versions_seen:?}");
}

fn sample_asset(seed: u8, amount: u64, version: u8) -> Asset {
    let cases = load_json("asset/asset_tlv_encoding_generated.json");
    let base = match cases {
        Some(v) => {
            let ta: TestAsset =
                serde_json::from_value(v["valid_test_cases"][0]["asset"].clone()).unwrap();
            ta.to_asset().unwrap()
        }
        None => return synthetic_asset(seed, amount, version),
    };
    let mut a = base;
    a.version = version;
    a.amount = amount;
    a.prev_witnesses.clear();
    a.split_commitment_root = None;
    a.group_key = None;
    a.script_key = tweak_key(seed);
    a
}

fn synthetic_asset(seed: u8, amount: u64, version: u8) -> Asset {
    Asset {
        version,
        genesis: lumen_plugin_taproot_assets::asset::Genesis {
            first_prev_out: bitcoin::OutPoint::null(),
            tag: b"lumen".to_vec(),
            meta_hash: [0; 32],
            output_index: 0,
            asset_type: 0,
        },
        amount,
        lock_time: 0,
        relative_lock_time: 0,
        prev_witnesses: vec![],
        split_commitment_root: None,
        script_version: 0,
        script_key: tweak_key(seed),
        group_key: None,
        unknown_odd_types: UnknownOddTypes::new(),
    }
}

fn tweak_key(seed: u8) -> SerializedKey {
    let secp = secp256k1::Secp256k1::new();
    let sk = secp256k1::SecretKey::from_slice(&[seed.max(1); 32]).unwrap();
    SerializedKey(secp256k1::PublicKey::from_secret_key(&secp, &sk).serialize())
}

#[test]
fn build_prove_derive_roundtrip() {
    let assets: Vec<Asset> = (1..=4)
        .map(|i| sample_asset(i, 100 * u64::from(i), 1))
        .collect();
    let internal = tweak_key(42);
    for version in 0..=2u8 {
        let tc = match TapCommitment::from_assets(version, &assets) {
            Ok(tc) => tc,
            Err(CommitmentError::InvalidVersion(0)) if version == 0 => continue,
            Err(e) => panic!("{e}"),
        };
        let root = tc.root().unwrap();
        assert_eq!(root.sum, 1000);
        let script = tc.tap_leaf_script().unwrap();
        assert_eq!(script.len(), 73);
        assert!(is_tap_commitment_script(&script));
        let expected_key = tc.output_key(&internal, None).unwrap();
        for a in &assets {
            let proof = tc.prove(a).unwrap();
            let (derived, v) = proof.derive_by_asset_inclusion(a).unwrap();
            assert_eq!((derived, v), (root, version));
            let k = commitment_output_key(v, &derived, &internal, None).unwrap();
            assert_eq!(k, expected_key);
            // Encoding round trip.
            assert_eq!(Proof::decode(&proof.encode()).unwrap(), proof);
        }
        // An absent script key: exclusion at the inner level.
        let absent = sample_asset(9, 5, 1);
        let (ac_key, tap_key) = asset_keys(&absent);
        let proof = tc.prove(&absent).unwrap();
        assert!(proof.asset_proof.is_some());
        assert_eq!(
            proof
                .derive_by_asset_exclusion(&ac_key, &tap_key)
                .unwrap()
                .0,
            root
        );
        // ...and it is not an inclusion proof.
        assert_ne!(proof.derive_by_asset_inclusion(&absent).unwrap().0, root);
        // An absent asset ID: exclusion at the outer level.
        let mut other = absent.clone();
        other.genesis.tag = b"other".to_vec();
        let (ac_key, tap_key) = asset_keys(&other);
        let proof = tc.prove(&other).unwrap();
        assert!(proof.asset_proof.is_none());
        assert_eq!(
            proof
                .derive_by_asset_exclusion(&ac_key, &tap_key)
                .unwrap()
                .0,
            root
        );
    }
    // V0 cannot hold V1 assets; duplicates are refused.
    assert_eq!(
        TapCommitment::from_assets(0, &assets).unwrap_err(),
        CommitmentError::InvalidVersion(0)
    );
    let dup = vec![assets[0].clone(), assets[0].clone()];
    assert_eq!(
        commitment::AssetCommitment::new(&dup).unwrap_err(),
        CommitmentError::DuplicateKey
    );
    // A commitment script is refused as a sibling.
    let tc = TapCommitment::from_assets(2, &assets).unwrap();
    let sib = TapscriptPreimage::Leaf {
        version: 0xc0,
        script: tc.tap_leaf_script().unwrap(),
    };
    assert!(matches!(
        tc.output_key(&internal, Some(&sib)),
        Err(CommitmentError::InvalidSibling(_))
    ));
}
