//! Any bytes into the commitment-proof decoders (proof-level with sibling
//! and STXO proofs, and the bare `commitment::Proof`): no panic; decoded
//! values survive encode → decode.
#![no_main]

use libfuzzer_sys::fuzz_target;
use lumen_plugin_taproot_assets::commitment;
use lumen_plugin_taproot_assets::proof::{CommitmentProof, TaprootProof};

fuzz_target!(|data: &[u8]| {
    if let Ok(c) = CommitmentProof::decode(data) {
        assert_eq!(CommitmentProof::decode(&c.encode()).expect("re-decodes"), c);
    }
    if let Ok(c) = commitment::Proof::decode(data) {
        assert_eq!(commitment::Proof::decode(&c.encode()).expect("re-decodes"), c);
    }
    if let Ok(t) = TaprootProof::decode(data) {
        assert_eq!(TaprootProof::decode(&t.encode()).expect("re-decodes"), t);
    }
});
