//! Any bytes into `VPacket::decode` (Taproot Assets virtual PSBT): it must
//! not panic, and a packet that decodes encodes and decodes back to itself.
#![no_main]

use libfuzzer_sys::fuzz_target;
use lumen_plugin_taproot_assets::tappsbt::VPacket;

fuzz_target!(|data: &[u8]| {
    if let Ok(packet) = VPacket::decode(data)
        && let Ok(bytes) = packet.encode()
    {
        assert_eq!(VPacket::decode(&bytes).as_ref(), Ok(&packet));
    }
});
