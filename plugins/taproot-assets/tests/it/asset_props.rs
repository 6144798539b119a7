//! Property and edge tests for the asset decoder.

use lumen_plugin_taproot_assets::asset::{Asset, Witness};
use lumen_plugin_taproot_assets::encoding::{DecodeError, parse_stream};
use proptest::prelude::*;

/// The "minimal asset" vector.
const MINIMAL: &str = "000100024a00000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000401000601000e020000102102a0afeb165f0ec36880b68e0baabd9ad9c62fd1a69aa998bc30e9a346202e078f";

/// The "random split asset with root asset" vector (nested root asset).
const SPLIT: &str = "000101024f010101010101010101010101010101010101010101010101010101010101010100000001056173736574010203000000000000000000000000000000000000000000000000000000000000000001010401010601010703fd05390901060bfd020501fd02010165010101010101010101010101010101010101010101010101010101010101010100000001010101010101010101010101010101010101010101010101010101010101010103a0afeb165f0ec36880b68e0baabd9ad9c62fd1a69aa998bc30e9a346202e078f05fd01964a000197efb64d447880bacc7070f428a1310b2592d155b752da382934d4bd0fbb419a000000000000000affffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7ffd0148000101024f010101010101010101010101010101010101010101010101010101010101010100000001056173736574010203000000000000000000000000000000000000000000000000000000000000000001010401010601010703fd05390901060b70016e0165020202020202020202020202020202020202020202020202020202020202020200000002020202020202020202020202020202020202020202020202020202020202020203a0afeb165f0ec36880b68e0baabd9ad9c62fd1a69aa998bc30e9a346202e078f030502010201020d28010101010101010101010101010101010101010101010101010101010101010100000000000005390e020001102102a0afeb165f0ec36880b68e0baabd9ad9c62fd1a69aa998bc30e9a346202e078f112103a0afeb165f0ec36880b68e0baabd9ad9c62fd1a69aa998bc30e9a346202e078f0e020001102102a0afeb165f0ec36880b68e0baabd9ad9c62fd1a69aa998bc30e9a346202e078f112103a0afeb165f0ec36880b68e0baabd9ad9c62fd1a69aa998bc30e9a346202e078f";

fn check_decoded(bytes: &[u8]) -> Result<(), TestCaseError> {
    if let Ok(asset) = Asset::decode(bytes) {
        // Decoding what we encode gives the same asset back.
        let again = Asset::decode(&asset.encode()).unwrap();
        prop_assert_eq!(&again, &asset);
        let _ = asset.leaf();
        let _ = asset.id();
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn asset_decode_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..600)) {
        check_decoded(&bytes)?;
        let _ = Witness::decode(&bytes);
        let _ = parse_stream(&bytes);
    }

    #[test]
    fn mutated_vectors_never_panic(
        which in any::<bool>(),
        edits in proptest::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 1..6),
        cut in any::<prop::sample::Index>(),
    ) {
        let mut bytes = hex::decode(if which { SPLIT } else { MINIMAL }).unwrap();
        for (idx, b) in edits {
            let i = idx.index(bytes.len());
            bytes[i] = b;
        }
        check_decoded(&bytes)?;
        let n = cut.index(bytes.len() + 1);
        check_decoded(&bytes[..n])?;
    }
}

#[test]
fn unknown_even_type_is_rejected_odd_is_kept() {
    let base = hex::decode(MINIMAL).unwrap();
    let mut even = base.clone();
    even.extend_from_slice(&hex::decode("fd7a6a0100").unwrap()); // type 31338
    assert_eq!(
        Asset::decode(&even),
        Err(DecodeError::UnknownEvenType(31338))
    );
    let mut odd = base.clone();
    odd.extend_from_slice(&hex::decode("fd7a690100").unwrap()); // type 31337
    let asset = Asset::decode(&odd).unwrap();
    assert_eq!(asset.unknown_odd_types.get(&31337), Some(&vec![0u8]));
    assert_eq!(asset.encode(), odd);
    // An unknown odd type between known ones is re-emitted in place.
    let mut mid = hex::decode(MINIMAL).unwrap();
    let at = mid.len() - 35; // before the script key record (type 16)
    mid.splice(at..at, hex::decode("0f0101").unwrap()); // type 15
    let asset = Asset::decode(&mid).unwrap();
    assert_eq!(asset.encode(), mid);
}

#[test]
fn missing_and_malformed_records_are_typed_errors() {
    // Only the version record.
    assert!(matches!(
        Asset::decode(&hex::decode("000100").unwrap()),
        Err(DecodeError::MissingRecord(_))
    ));
    // Version with a 2-byte value.
    let mut bad = hex::decode(MINIMAL).unwrap();
    bad.splice(0..3, hex::decode("00020000").unwrap());
    assert!(matches!(
        Asset::decode(&bad),
        Err(DecodeError::InvalidLength { .. })
    ));
    // Script key that is not a point (0x05 prefix).
    let mut key = hex::decode(MINIMAL).unwrap();
    let n = key.len();
    key[n - 33] = 0x05;
    assert_eq!(
        Asset::decode(&key),
        Err(DecodeError::InvalidPublicKey("script key"))
    );
    // Trailing garbage after a full stream is a (truncated) record.
    let mut trailing = hex::decode(MINIMAL).unwrap();
    trailing.push(0xff);
    assert!(Asset::decode(&trailing).is_err());
}

#[test]
fn split_commitment_nesting_is_bounded() {
    use lumen_plugin_taproot_assets::asset::{MAX_NESTING, SplitCommitment};
    use lumen_plugin_taproot_assets::mssmt::{Proof, empty_tree};
    let empty_proof = Proof {
        nodes: empty_tree()[1..].iter().rev().copied().collect(),
    };
    let nest = |levels: usize| {
        let mut a = Asset::decode(&hex::decode(MINIMAL).unwrap()).unwrap();
        for _ in 0..levels {
            let mut outer = Asset::decode(&hex::decode(MINIMAL).unwrap()).unwrap();
            outer.prev_witnesses.push(Witness {
                split_commitment: Some(SplitCommitment {
                    proof: empty_proof.clone(),
                    root_asset: Box::new(a),
                }),
                ..Default::default()
            });
            a = outer;
        }
        a
    };
    let ok = nest(MAX_NESTING);
    assert_eq!(Asset::decode(&ok.encode()).unwrap(), ok);
    let deep = nest(MAX_NESTING + 1);
    assert!(matches!(
        Asset::decode(&deep.encode()),
        Err(DecodeError::LimitExceeded { .. })
    ));
}
