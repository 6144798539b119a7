//! `asset/*` vectors.

use lumen_plugin_taproot_assets::asset::testvec::{TestAsset, TestPrevId};
use lumen_plugin_taproot_assets::asset::{
    Asset, AssetError, AssetId, PrevId, SerializedKey, burn_key,
};
use serde_json::Value;

use crate::common::{arr, load_json, vector_dir};

#[test]
fn asset_tlv_encoding_generated() {
    let Some(v) = load_json("asset/asset_tlv_encoding_generated.json") else {
        return;
    };
    let cases = arr(&v["valid_test_cases"]);
    assert_eq!(cases.len(), 4);
    for case in &cases {
        let comment = case["comment"].as_str().unwrap_or("");
        let ta: TestAsset = serde_json::from_value(case["asset"].clone()).unwrap();
        let asset = ta.to_asset().unwrap();
        let expected = hex::decode(case["expected"].as_str().unwrap()).unwrap();
        assert_eq!(
            hex::encode(asset.encode()),
            hex::encode(&expected),
            "{comment}"
        );
        let decoded = Asset::decode(&expected).unwrap();
        assert_eq!(decoded, asset, "{comment}");
        assert_eq!(decoded.encode(), expected, "{comment}");
        // The leaf form: V0 is the full encoding, V1 strips witness stacks,
        // unknown versions are refused.
        match asset.version {
            0 => assert_eq!(asset.leaf().unwrap().value, expected),
            1 => {
                let leaf = asset.leaf().unwrap();
                assert_eq!(leaf.sum, asset.amount);
                let mut stripped = asset.clone();
                for w in &mut stripped.prev_witnesses {
                    w.tx_witness.clear();
                }
                assert_eq!(leaf.value, stripped.encode());
            }
            v => assert_eq!(asset.leaf(), Err(AssetError::UnknownVersion(v))),
        }
    }
    assert!(error_cases(&v).is_empty());
}

fn error_cases(v: &Value) -> Vec<Value> {
    arr(&v["error_test_cases"])
}

#[test]
fn asset_tlv_encoding_error_cases() {
    let Some(v) = load_json("asset/asset_tlv_encoding_error_cases.json") else {
        return;
    };
    let cases = error_cases(&v);
    assert_eq!(cases.len(), 5);
    assert!(arr(&v["valid_test_cases"]).is_empty());
    for case in &cases {
        let want = case["error"].as_str().unwrap();
        let ta: TestAsset = serde_json::from_value(case["asset"].clone()).unwrap();
        let err = ta.to_asset().unwrap_err();
        assert!(err.to_string().contains(want), "got {err:?}, want {want}");
    }
}

#[test]
fn asset_burn_key_generated() {
    let Some(v) = load_json("asset/asset_burn_key_generated.json") else {
        return;
    };
    let cases = arr(&v["valid_test_cases"]);
    assert_eq!(cases.len(), 3);
    for case in &cases {
        // The vectors use dummy script keys that are not curve points; the
        // burn key only hashes their x coordinate, so build the PrevID raw.
        let prev: TestPrevId = serde_json::from_value(case["prev_id"].clone()).unwrap();
        let prev_id = PrevId {
            out_point: prev.out_point.parse().unwrap(),
            asset_id: AssetId(hex::decode(&prev.asset_id).unwrap().try_into().unwrap()),
            script_key: SerializedKey(hex::decode(&prev.script_key).unwrap().try_into().unwrap()),
        };
        let key = burn_key(&prev_id).unwrap();
        assert_eq!(
            hex::encode(key.serialize()),
            case["expected"].as_str().unwrap(),
            "{}",
            case["comment"]
        );
    }
}

#[test]
fn asset_hex_decodes_and_reencodes() {
    let Some(dir) = vector_dir() else { return };
    let text = std::fs::read_to_string(dir.join("asset/asset.hex")).unwrap();
    let bytes = hex::decode(text.trim()).unwrap();
    let asset = Asset::decode(&bytes).unwrap();
    assert_eq!(asset.encode(), bytes);
    assert!(asset.leaf().is_ok());
    println!(
        "asset.hex: version {}, tag {:?}, amount {}, {} witnesses, id {}",
        asset.version,
        String::from_utf8_lossy(&asset.genesis.tag),
        asset.amount,
        asset.prev_witnesses.len(),
        hex::encode(asset.id().0)
    );
}

/// The VM vectors list inputs as (prev_id, asset): the PrevID's asset ID
/// must be the genesis ID of the asset. Also round-trips every asset in
/// them through encode/decode.
#[test]
fn vm_vector_inputs_have_matching_asset_ids() {
    let Some(v) = load_json("vm/vm_validation_generated.json") else {
        return;
    };
    let cases = arr(&v["valid_test_cases"]);
    assert_eq!(cases.len(), 26);
    let (mut ids, mut assets) = (0, 0);
    for case in &cases {
        let mut all = vec![case["asset"].clone()];
        for input in arr(&case["input_set"]) {
            let ta: TestAsset = serde_json::from_value(input["asset"].clone()).unwrap();
            let asset = ta.to_asset().unwrap();
            assert_eq!(
                hex::encode(asset.id().0),
                input["prev_id"]["asset_id"].as_str().unwrap()
            );
            ids += 1;
            all.push(input["asset"].clone());
        }
        for split in arr(&case["split_set"]) {
            all.push(split["value"]["asset"].clone());
        }
        for a in all {
            let ta: TestAsset = serde_json::from_value(a).unwrap();
            let asset = ta.to_asset().unwrap();
            let bytes = asset.encode();
            assert_eq!(Asset::decode(&bytes).unwrap(), asset);
            assets += 1;
        }
    }
    assert_eq!(ids, 24);
    println!("vm vectors: {ids} asset IDs matched, {assets} assets round-tripped");
}
