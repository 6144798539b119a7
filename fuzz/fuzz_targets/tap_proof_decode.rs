//! Any bytes into the Taproot Assets proof decoder (`TAPP`): no panic; a
//! decoded proof re-encodes and decodes back to the same value, and
//! verifying it (without a chain) does not panic either.
#![no_main]

use std::collections::BTreeSet;

use libfuzzer_sys::fuzz_target;
use lumen_plugin_taproot_assets::proof::{HeaderPowOnly, Proof, verify_proof};

fuzz_target!(|data: &[u8]| {
    if let Ok(p) = Proof::decode(data) {
        let again = Proof::decode(&p.encode()).expect("an encoded proof decodes");
        assert_eq!(again, p);
        let _ = verify_proof(&p, None, &BTreeSet::new(), &HeaderPowOnly);
    }
});
