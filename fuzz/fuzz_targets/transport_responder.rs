//! Any bytes from a would-be peer into the BOLT 8 responder: act one, then
//! (if a handshake is forged) act three and an encrypted stream. Nothing may
//! panic; garbage must be refused.
#![no_main]

use bitcoin::secp256k1::SecretKey;
use libfuzzer_sys::fuzz_target;
use lumen_core::transport::{ACT_ONE_LEN, ACT_THREE_LEN, ResponderHandshake};

fuzz_target!(|data: &[u8]| {
    let Ok(key) = SecretKey::from_slice(&[0x21; 32]) else { return };
    let responder = ResponderHandshake::new(key);
    let Some(act_one) = data.get(..ACT_ONE_LEN) else {
        let _ = ResponderHandshake::new(key).process_act_one(data);
        return;
    };
    let Ok((awaiting, _act_two)) = responder.process_act_one(act_one) else { return };
    let rest = &data[ACT_ONE_LEN..];
    let Some(act_three) = rest.get(..ACT_THREE_LEN) else { return };
    let Ok(mut session) = awaiting.process_act_three(act_three) else { return };
    // Random bytes cannot carry a valid MAC; feeding them must fail cleanly.
    session.feed(&rest[ACT_THREE_LEN..]);
    while let Ok(Some(_)) = session.next_message() {}
});
