//! Any bytes as a Taproot Assets state transition: the first length-prefixed
//! chunk is the new asset, the rest are input assets (each spent under the
//! PrevID of the new asset's witness with the same index). The VM must
//! return a verdict, never panic.
#![no_main]

use libfuzzer_sys::fuzz_target;
use lumen_plugin_taproot_assets::asset::Asset;
use lumen_plugin_taproot_assets::vm::{Engine, FixedChain, InputSet, LockTimeCheck};

fn chunks(mut data: &[u8]) -> Vec<&[u8]> {
    let mut out = Vec::new();
    while let Some((&len, rest)) = data.split_first() {
        let n = (len as usize).min(rest.len());
        out.push(&rest[..n]);
        data = &rest[n..];
    }
    out
}

fuzz_target!(|data: &[u8]| {
    let parts = chunks(data);
    let Some(Ok(new_asset)) = parts.first().map(|b| Asset::decode(b)) else {
        return;
    };
    let mut inputs = InputSet::new();
    for (i, bytes) in parts.iter().skip(1).enumerate() {
        let (Ok(prev), Some(Some(prev_id))) = (
            Asset::decode(bytes),
            new_asset.prev_witnesses.get(i).map(|w| w.prev_id.clone()),
        ) else {
            continue;
        };
        inputs.insert(prev_id, prev);
    }
    let chain = FixedChain::TAPD_VECTORS;
    let _ = Engine::new(
        &new_asset,
        &[],
        &inputs,
        LockTimeCheck::At { height: 1000, chain: &chain },
    )
    .execute();
});
