//! `rfqmsg/compat/v0.8/*.hex`: decode to the documented contents and
//! re-encode byte for byte.

use lumen_plugin_taproot_assets::asset::AssetId;
use lumen_plugin_taproot_assets::rfqmsg::{
    Accept, FixedPoint, Htlc, MSG_TYPE_ACCEPT, Reject, Request, RfqId, RfqMessage,
};

use crate::common::vector_dir;

fn fixture(name: &str) -> Option<Vec<u8>> {
    let dir = vector_dir()?;
    let text = std::fs::read_to_string(dir.join("rfqmsg/compat/v0.8").join(name)).ok()?;
    Some(hex::decode(text.trim()).unwrap())
}

const ID: [u8; 32] = [0xaa; 32];
const ASSET: [u8; 32] = [0xbb; 32];
const EXPIRY: u64 = 4_102_444_800;

#[test]
fn request_v08() {
    let Some(bytes) = fixture("request.hex") else {
        return;
    };
    let m = Request::decode(&bytes).unwrap();
    assert_eq!(m.version, 1);
    assert_eq!(m.id, RfqId(ID));
    assert_eq!(m.expiry, Some(EXPIRY));
    assert_eq!(m.in_asset_id, Some(AssetId(ASSET)));
    assert_eq!(m.out_asset_id, Some(AssetId([0; 32])));
    assert_eq!(m.max_in_asset, Some(50_000));
    assert_eq!(m.transfer_type, Some(0));
    assert_eq!(m.encode(), bytes);
}

#[test]
fn accept_v08() {
    let Some(bytes) = fixture("accept.hex") else {
        return;
    };
    let m = Accept::decode(&bytes).unwrap();
    assert_eq!(m.id, RfqId(ID));
    assert_eq!(m.expiry, Some(EXPIRY));
    assert_eq!(m.signature, Some([0xcc; 64]));
    assert_eq!(m.in_asset_rate, Some(FixedPoint::new(42_000, 2)));
    assert_eq!(m.out_asset_rate, Some(FixedPoint::new(1, 0)));
    assert_eq!(
        m.in_asset_rate.as_ref().unwrap().coefficient_u128(),
        Some(42_000)
    );
    assert_eq!(m.encode(), bytes);
    let any = RfqMessage::decode(MSG_TYPE_ACCEPT, &bytes)
        .unwrap()
        .unwrap();
    assert_eq!(any.msg_type(), MSG_TYPE_ACCEPT);
    assert_eq!(any.encode(), bytes);
}

#[test]
fn reject_v08() {
    let Some(bytes) = fixture("reject.hex") else {
        return;
    };
    let m = Reject::decode(&bytes).unwrap();
    assert_eq!(m.id, RfqId(ID));
    let err = m.error.as_ref().unwrap();
    assert_eq!(err.code, 1);
    assert_eq!(err.message, b"rates expired");
    assert_eq!(m.encode(), bytes);
}

#[test]
fn htlc_v08() {
    let Some(bytes) = fixture("htlc.hex") else {
        return;
    };
    let h = Htlc::decode(&bytes).unwrap();
    let balances = h.balances.as_ref().unwrap();
    assert_eq!(balances.len(), 1);
    assert_eq!(balances[0].asset_id, AssetId(ASSET));
    assert_eq!(balances[0].amount, 1000);
    assert_eq!(h.rfq_id, Some(RfqId(ID)));
    assert_eq!(h.encode(), bytes);
}

#[test]
fn rfq_messages_reject_bad_input() {
    let Some(bytes) = fixture("request.hex") else {
        return;
    };
    // Truncated, unknown even type, wrong fixed length.
    assert!(Request::decode(&bytes[..bytes.len() - 1]).is_err());
    let mut even = bytes.clone();
    even.extend_from_slice(&[0x20, 0x00]);
    assert!(Request::decode(&even).is_err());
    let mut odd = bytes.clone();
    odd.extend_from_slice(&[0x21, 0x01, 0x07]);
    let m = Request::decode(&odd).unwrap();
    assert_eq!(m.encode(), odd, "unknown odd records are kept");
    assert!(
        Accept::decode(&hex::decode("000101").unwrap()).is_err(),
        "no id"
    );
    assert!(RfqMessage::decode(1, &bytes).is_none());
    assert_eq!(RfqId(ID).scid(), u64::from_be_bytes([0xaa; 8]));
}
