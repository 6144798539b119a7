//! Any bytes into the RFQ message and asset-channel blob decoders: none may
//! panic, and whatever decodes re-encodes to exactly the input bytes.
#![no_main]

use libfuzzer_sys::fuzz_target;
use lumen_plugin_taproot_assets::rfqmsg::{Accept, Htlc, Reject, Request};
use lumen_plugin_taproot_assets::tapchannelmsg::{Commitment, OpenChannel};

fuzz_target!(|data: &[u8]| {
    if let Ok(m) = Request::decode(data) {
        assert_eq!(m.encode(), data);
    }
    if let Ok(m) = Accept::decode(data) {
        assert_eq!(m.encode(), data);
    }
    if let Ok(m) = Reject::decode(data) {
        assert_eq!(m.encode(), data);
    }
    if let Ok(m) = Htlc::decode(data) {
        assert_eq!(m.encode(), data);
    }
    if let Ok(m) = OpenChannel::decode(data) {
        assert_eq!(m.encode(), data);
    }
    if let Ok(m) = Commitment::decode(data) {
        assert_eq!(m.encode(), data);
    }
});
