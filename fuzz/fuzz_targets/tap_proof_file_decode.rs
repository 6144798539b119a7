//! Any bytes into the proof file decoder (`TAPF`): no panic; a decoded file
//! re-encodes to exactly the input (framing and hash chain are canonical),
//! and decoding/verifying its proofs does not panic.
#![no_main]

use libfuzzer_sys::fuzz_target;
use lumen_plugin_taproot_assets::proof::{File, HeaderPowOnly, verify_file};

fuzz_target!(|data: &[u8]| {
    if let Ok(f) = File::decode(data) {
        assert_eq!(f.encode(), data);
        let _ = f.decode_proofs();
        let _ = verify_file(&f, &HeaderPowOnly);
    }
});
