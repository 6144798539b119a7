//! Any bytes into `Message::decode`: it must not panic, and whatever decodes
//! must encode and decode back to the same value.
#![no_main]

use libfuzzer_sys::fuzz_target;
use lumen_core::wire::Message;

fuzz_target!(|data: &[u8]| {
    if let Ok(msg) = Message::decode(data) {
        let bytes = msg.encode().expect("a decoded message re-encodes");
        let again = Message::decode(&bytes).expect("a re-encoded message decodes");
        assert_eq!(again, msg);
    }
});
