//! Any bytes, in any chunking, into an established BOLT 8 session's
//! decryptor: it must never panic, and must refuse what it cannot
//! authenticate.
#![no_main]

use bitcoin::secp256k1::{PublicKey, Secp256k1, SecretKey};
use libfuzzer_sys::fuzz_target;
use lumen_core::transport::Session;

fuzz_target!(|data: &[u8]| {
    let Ok(sk) = SecretKey::from_slice(&[0x33; 32]) else { return };
    let remote = PublicKey::from_secret_key(&Secp256k1::new(), &sk);
    let mut session = Session::from_keys([1; 32], [2; 32], [3; 32], remote);
    // The first byte picks a chunk size so partial frames get exercised.
    let chunk = usize::from(data.first().copied().unwrap_or(1)).max(1);
    for part in data.get(1..).unwrap_or_default().chunks(chunk) {
        session.feed(part);
        while let Ok(Some(_)) = session.next_message() {}
    }
});
