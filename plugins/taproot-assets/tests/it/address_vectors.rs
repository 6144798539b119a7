//! `address/*` vectors.

use lumen_plugin_taproot_assets::address::testvec::TestAddress;
use lumen_plugin_taproot_assets::address::{Address, AddressError, bech32m};
use proptest::prelude::*;

use crate::common::{arr, load_json};

#[test]
fn address_tlv_encoding_generated() {
    let Some(v) = load_json("address/address_tlv_encoding_generated.json") else {
        return;
    };
    let cases = arr(&v["valid_test_cases"]);
    assert_eq!(cases.len(), 12);
    assert!(arr(&v["error_test_cases"]).is_empty());
    for case in &cases {
        let comment = case["comment"].as_str().unwrap_or("");
        let ta: TestAddress = serde_json::from_value(case["address"].clone()).unwrap();
        let addr = ta.to_address().unwrap();
        let expected = case["expected"].as_str().unwrap();
        assert_eq!(addr.encode(), expected, "{comment}");
        let decoded = Address::decode(expected).unwrap();
        assert_eq!(decoded, addr, "{comment}");
        assert_eq!(decoded.encode(), expected, "{comment}");
        assert_eq!(
            Address::decode(&expected.to_ascii_uppercase()).unwrap(),
            addr
        );
    }
}

#[test]
fn address_tlv_encoding_error_cases() {
    let Some(v) = load_json("address/address_tlv_encoding_error_cases.json") else {
        return;
    };
    let cases = arr(&v["error_test_cases"]);
    assert_eq!(cases.len(), 8);
    for case in &cases {
        let want = case["error"].as_str().unwrap();
        let ta: TestAddress = serde_json::from_value(case["address"].clone()).unwrap();
        let err = ta.to_address().unwrap_err();
        assert!(err.to_string().contains(want), "got {err:?}, want {want}");
    }
}

#[test]
fn address_decode_rejects() {
    // Valid bech32m with a foreign HRP.
    let s = bech32m::encode("bc", &[0, 1, 0]);
    assert!(matches!(
        Address::decode(&s),
        Err(AddressError::UnsupportedHrp(_))
    ));
    // Unknown address version 3.
    let s = bech32m::encode("tapbc", &hex::decode("000103").unwrap());
    assert_eq!(Address::decode(&s), Err(AddressError::UnknownVersion(3)));
    // Unknown even TLV type.
    let s = bech32m::encode("tapbc", &hex::decode("0001000e00").unwrap());
    assert!(matches!(Address::decode(&s), Err(AddressError::Decode(_))));
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn address_decode_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..300), s in ".{0,120}") {
        let _ = Address::decode(&s);
        let _ = Address::decode(&format!("tapbc1{s}"));
        let as_addr = bech32m::encode("tapbc", &bytes);
        if let Ok(a) = Address::decode(&as_addr) {
            prop_assert_eq!(Address::decode(&a.encode()).unwrap(), a);
        }
    }
}
