//! Any bytes into `TlvStream::decode`: it must not panic, and a stream that
//! decodes re-encodes to exactly the input (BigSize and ordering are canonical).
#![no_main]

use libfuzzer_sys::fuzz_target;
use lumen_core::wire::{Encode, TlvStream};

fuzz_target!(|data: &[u8]| {
    if let Ok(stream) = TlvStream::decode(data) {
        let bytes = stream.to_wire().expect("a decoded stream re-encodes");
        assert_eq!(bytes, data);
        // Checking against a namespace must not panic either.
        let _ = stream.check_known(&[0, 1, 2, 3, 254]);
    }
});
