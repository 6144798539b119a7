//! Any bytes into the Taproot Assets asset decoders (`Asset`, `Genesis`,
//! `PrevId`, `Witness`, the transaction witness form): none may panic, and
//! an asset that decodes encodes and decodes back to itself with the same
//! asset ID.
#![no_main]

use libfuzzer_sys::fuzz_target;
use lumen_plugin_taproot_assets::asset::{Asset, Genesis, PrevId, Witness, decode_tx_witness};

fuzz_target!(|data: &[u8]| {
    let _ = Genesis::decode(data);
    let _ = PrevId::decode(data);
    let _ = Witness::decode(data);
    let _ = decode_tx_witness(data);
    if let Ok(asset) = Asset::decode(data) {
        let again = Asset::decode(&asset.encode()).expect("an encoded asset decodes");
        assert_eq!(again, asset);
        assert_eq!(again.id(), asset.id());
        let _ = asset.encode_no_witness();
    }
});
