//! Any string into the BOLT 11 decoder: it must not panic, and an invoice
//! that decodes also renders as Core Lightning's `decode` JSON and re-encodes
//! to a string that decodes to the same payment hash and payee.
#![no_main]

use libfuzzer_sys::fuzz_target;
use lumen_core::invoice::decode;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(d) = decode(text) {
        let _ = d.to_cln_json();
        let again = decode(&d.invoice.to_string()).expect("a decoded invoice re-encodes validly");
        assert_eq!(again.invoice.payment_hash(), d.invoice.payment_hash());
        assert_eq!(again.payee, d.payee);
    }
});
