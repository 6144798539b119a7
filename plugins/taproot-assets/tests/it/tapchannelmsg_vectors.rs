//! `tapchannelmsg/*.hexdump` (and the identical `compat/v0.8/` copies):
//! real channel blobs decode and re-encode byte for byte.

use lumen_plugin_taproot_assets::asset::Asset;
use lumen_plugin_taproot_assets::rfqmsg::Htlc;
use lumen_plugin_taproot_assets::tapchannelmsg::{Commitment, OpenChannel};

use crate::common::{parse_hexdump, vector_dir};

fn blobs(name: &str) -> Vec<Vec<u8>> {
    let Some(dir) = vector_dir() else {
        return Vec::new();
    };
    ["tapchannelmsg", "tapchannelmsg/compat/v0.8"]
        .iter()
        .filter_map(|sub| std::fs::read_to_string(dir.join(sub).join(name)).ok())
        .map(|t| parse_hexdump(&t))
        .collect()
}

/// The asset TLV inside a `TAPP` proof is record 10; find it to check the
/// proof bytes are a real proof of the stated asset.
fn proof_asset(proof: &[u8]) -> Asset {
    let stream = &proof[4..];
    let recs = lumen_plugin_taproot_assets::encoding::parse_stream(stream).unwrap();
    let rec = recs.iter().find(|r| r.typ == 10).unwrap();
    Asset::decode(rec.value).unwrap()
}

#[test]
fn funding_blob() {
    let all = blobs("funding-blob.hexdump");
    if all.is_empty() {
        return;
    }
    for bytes in all {
        let oc = OpenChannel::decode(&bytes).unwrap();
        assert_eq!(oc.funded_assets.len(), 1);
        let out = &oc.funded_assets[0];
        let asset = proof_asset(&out.proof);
        assert_eq!(asset.id(), out.asset_id);
        assert_eq!(asset.amount, out.amount);
        assert_eq!(oc.decimal_display, Some(6));
        assert_eq!(oc.encode(), bytes);
    }
}

#[test]
fn commitment_blob() {
    let all = blobs("commitment-blob.hexdump");
    if all.is_empty() {
        return;
    }
    for bytes in all {
        let c = Commitment::decode(&bytes).unwrap();
        let local = c.local_assets.as_ref().unwrap();
        assert!(!local.is_empty());
        for out in local.iter().chain(c.remote_assets.iter().flatten()) {
            let asset = proof_asset(&out.proof);
            assert_eq!(asset.id(), out.asset_id);
        }
        assert_eq!(c.encode(), bytes);
    }
}

#[test]
fn htlc_blob() {
    let all = blobs("htlc-blob.hexdump");
    if all.is_empty() {
        return;
    }
    for bytes in all {
        let h = Htlc::decode(&bytes).unwrap();
        assert!(h.rfq_id.is_some());
        assert_eq!(h.encode(), bytes);
    }
}

#[test]
fn truncated_blobs_fail_cleanly() {
    for (name, decode) in [
        (
            "funding-blob.hexdump",
            (|b: &[u8]| OpenChannel::decode(b).is_ok()) as fn(&[u8]) -> bool,
        ),
        ("commitment-blob.hexdump", |b: &[u8]| {
            Commitment::decode(b).is_ok()
        }),
    ] {
        for bytes in blobs(name) {
            for cut in [1, 7, bytes.len() / 2, bytes.len() - 1] {
                assert!(!decode(&bytes[..cut]), "{name} cut at {cut}");
            }
        }
    }
}

/// Found by the `tap_rfq_channel_decode` fuzz target: a commitment blob
/// whose HTLC entry has no outputs record (type 0). tapd always writes that
/// record, so accepting it would break decode → encode byte-exactness.
#[test]
fn htlc_entry_without_outputs_record_is_refused() {
    // type 3 (incoming HTLC assets): 1 entry, index 0x13, empty stream;
    // type 11: one unknown odd byte.
    let bytes = [0x03, 0x03, 0x01, 0x13, 0x00, 0x0b, 0x01, 0x03];
    let err = Commitment::decode(&bytes).expect_err("missing outputs record");
    assert!(err.to_string().contains("htlc asset outputs"), "{err}");
    // With the empty list written out it decodes and re-encodes exactly.
    let canonical = [
        0x03, 0x06, 0x01, 0x13, 0x03, 0x00, 0x01, 0x00, 0x0b, 0x01, 0x03,
    ];
    let c = Commitment::decode(&canonical).expect("canonical form decodes");
    assert_eq!(c.encode(), canonical);
}
