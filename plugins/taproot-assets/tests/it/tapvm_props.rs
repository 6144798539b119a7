//! Property tests: the vPSBT, RFQ, channel-blob decoders and the VM never
//! panic on arbitrary or mutated input, and whatever decodes re-encodes
//! canonically.

use lumen_plugin_taproot_assets::asset::Asset;
use lumen_plugin_taproot_assets::asset::testvec::decode_base64;
use lumen_plugin_taproot_assets::rfqmsg::{Accept, Htlc, Reject, Request, RfqMessage};
use lumen_plugin_taproot_assets::tapchannelmsg::{AuxLeaves, Commitment, OpenChannel};
use lumen_plugin_taproot_assets::tappsbt::VPacket;
use lumen_plugin_taproot_assets::vm::{Engine, FixedChain, InputSet, LockTimeCheck};
use proptest::prelude::*;

use crate::common::{arr, load_json, parse_hexdump, vector_dir};

/// Decoding, then encoding, then decoding again is stable.
fn psbt_round_trip(bytes: &[u8]) -> Result<(), TestCaseError> {
    if let Ok(p) = VPacket::decode(bytes)
        && let Ok(enc) = p.encode()
    {
        let again = VPacket::decode(&enc);
        prop_assert_eq!(again.as_ref(), Ok(&p));
    }
    Ok(())
}

/// TLV payloads decode only from canonical bytes, so decode ∘ encode is the
/// identity on whatever decodes.
fn tlv_exact(bytes: &[u8]) -> Result<(), TestCaseError> {
    if let Ok(m) = Request::decode(bytes) {
        prop_assert_eq!(m.encode(), bytes);
    }
    if let Ok(m) = Accept::decode(bytes) {
        prop_assert_eq!(m.encode(), bytes);
    }
    if let Ok(m) = Reject::decode(bytes) {
        prop_assert_eq!(m.encode(), bytes);
    }
    if let Ok(m) = Htlc::decode(bytes) {
        prop_assert_eq!(m.encode(), bytes);
    }
    if let Ok(m) = OpenChannel::decode(bytes) {
        prop_assert_eq!(m.encode(), bytes);
    }
    if let Ok(m) = Commitment::decode(bytes) {
        prop_assert_eq!(m.encode(), bytes);
    }
    if let Ok(m) = AuxLeaves::decode(bytes) {
        prop_assert_eq!(m.encode(), bytes);
    }
    for t in [52884u16, 52885, 52886] {
        let _ = RfqMessage::decode(t, bytes);
    }
    Ok(())
}

fn mutate(
    mut bytes: Vec<u8>,
    edits: &[(prop::sample::Index, u8)],
    cut: prop::sample::Index,
) -> Vec<u8> {
    if bytes.is_empty() {
        return bytes;
    }
    for (i, b) in edits {
        let at = i.index(bytes.len());
        bytes[at] = *b;
    }
    let keep = bytes.len() - cut.index(bytes.len().min(8));
    bytes.truncate(keep);
    bytes
}

/// Seeds: tapd's own bytes for every format here.
fn seeds() -> Vec<Vec<u8>> {
    let mut out = Vec::new();
    let Some(dir) = vector_dir() else { return out };
    if let Some(v) = load_json("tappsbt/psbt_encoding_generated.json") {
        for c in arr(&v["valid_test_cases"]) {
            out.push(decode_base64(c["expected"].as_str().unwrap()).unwrap());
        }
    }
    for name in ["request", "accept", "reject", "htlc"] {
        let path = dir.join(format!("rfqmsg/compat/v0.8/{name}.hex"));
        if let Ok(t) = std::fs::read_to_string(path) {
            out.push(hex::decode(t.trim()).unwrap());
        }
    }
    for name in ["funding", "commitment", "htlc"] {
        let path = dir.join(format!("tapchannelmsg/{name}-blob.hexdump"));
        if let Ok(t) = std::fs::read_to_string(path) {
            out.push(parse_hexdump(&t));
        }
    }
    out
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn decoders_never_panic_on_random_bytes(bytes in proptest::collection::vec(any::<u8>(), 0..400)) {
        tlv_exact(&bytes)?;
        psbt_round_trip(&bytes)?;
        let mut with_magic = b"psbt\xff".to_vec();
        with_magic.extend_from_slice(&bytes);
        psbt_round_trip(&with_magic)?;
    }

    #[test]
    fn decoders_never_panic_on_mutated_vectors(
        which in any::<prop::sample::Index>(),
        edits in proptest::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 1..6),
        cut in any::<prop::sample::Index>(),
    ) {
        let seeds = seeds();
        if seeds.is_empty() {
            return Ok(());
        }
        let bytes = mutate(seeds[which.index(seeds.len())].clone(), &edits, cut);
        tlv_exact(&bytes)?;
        psbt_round_trip(&bytes)?;
    }
}

/// Valid VM transitions with a mutated new asset: the engine returns a
/// verdict and never panics.
#[test]
fn vm_never_panics_on_mutated_transitions() {
    let Some(v) = load_json("vm/vm_validation_generated.json") else {
        return;
    };
    let chain = FixedChain::TAPD_VECTORS;
    let mut runner = proptest::test_runner::TestRunner::new(ProptestConfig::with_cases(256));
    let cases = arr(&v["valid_test_cases"]);
    let strategy = (
        any::<prop::sample::Index>(),
        proptest::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 1..4),
    );
    runner
        .run(&strategy, |(which, edits)| {
            let case = &cases[which.index(cases.len())];
            let ta: lumen_plugin_taproot_assets::asset::testvec::TestAsset =
                serde_json::from_value(case["asset"].clone()).unwrap();
            let mut bytes = ta.to_asset().unwrap().encode();
            for (i, b) in &edits {
                let at = i.index(bytes.len());
                bytes[at] = *b;
            }
            let Ok(asset) = Asset::decode(&bytes) else {
                return Ok(());
            };
            let mut inputs = InputSet::new();
            for input in arr(&case["input_set"]) {
                let ta: lumen_plugin_taproot_assets::asset::testvec::TestAsset =
                    serde_json::from_value(input["asset"].clone()).unwrap();
                let prev = asset.prev_witnesses.first().and_then(|w| w.prev_id.clone());
                if let Some(p) = prev {
                    inputs.insert(p, ta.to_asset().unwrap());
                }
            }
            let _ = Engine::new(
                &asset,
                &[],
                &inputs,
                LockTimeCheck::At {
                    height: 0,
                    chain: &chain,
                },
            )
            .execute();
            Ok(())
        })
        .unwrap();
}
