//! BOLT 4 onions with fuzzer-chosen contents. Two properties:
//! - any 1366 bytes parse or fail cleanly, and peeling them (plain,
//!   blinded, as an onion message) never panics; any length parses as an
//!   onion message packet or fails cleanly, and re-serializes exactly; any bytes decode as a hop
//!   payload, blinded `encrypted_data`, a failure message or a returned
//!   failure packet without panicking;
//! - an onion built from fuzzer-chosen payloads over up to five hops peels
//!   at every hop to exactly the payload put in, and the last hop is final.
#![no_main]

use bitcoin::secp256k1::{PublicKey, Secp256k1, SecretKey};
use libfuzzer_sys::fuzz_target;
use lumen_core::onion::blinding::{EncryptedData, peel_blinded, peel_message};
use lumen_core::onion::failure_msg::FailureMessage;
use lumen_core::onion::{FailurePacket, HopPayload, Next, OnionPacket, PACKET_LEN};

fn node_key(i: u8) -> SecretKey {
    SecretKey::from_slice(&[i + 1; 32]).expect("constant key is valid")
}

fuzz_target!(|data: &[u8]| {
    let secp = Secp256k1::new();
    let me = node_key(0);

    // Arbitrary bytes through every decoder.
    let _ = HopPayload::from_bytes(data);
    let _ = EncryptedData::from_bytes(data);
    let _ = FailureMessage::decode(data);
    let secrets: Vec<[u8; 32]> = (0..3u8).map(|i| [i; 32]).collect();
    let _ = FailurePacket(data.to_vec()).decode(&secrets);
    // Onion messages: any length up to u16.
    if let Ok(p) = OnionPacket::from_bytes_any_len(data) {
        let path_key = PublicKey::from_secret_key(&secp, &node_key(9));
        let _ = peel_message(&secp, &me, &path_key, &p);
        assert_eq!(p.to_bytes(), data);
    }
    if data.len() >= PACKET_LEN {
        if let Ok(p) = OnionPacket::from_bytes(&data[..PACKET_LEN]) {
            let _ = p.peel(&secp, &me, b"ad");
            let _ = peel_blinded(&secp, &me, None, &p, b"ad");
            let path_key = PublicKey::from_secret_key(&secp, &node_key(9));
            let _ = peel_blinded(&secp, &me, Some(&path_key), &p, b"ad");
            let _ = peel_message(&secp, &me, &path_key, &p);
        }
    }

    // Build and peel: first byte picks the hop count, the rest is split
    // into that many payloads.
    let Some((&first, rest)) = data.split_first() else {
        return;
    };
    let hops = usize::from(first % 5) + 1;
    let chunk = rest.len().div_ceil(hops).max(1);
    let payloads: Vec<Vec<u8>> = rest.chunks(chunk).map(<[u8]>::to_vec).collect();
    if payloads.len() != hops {
        return;
    }
    let keys: Vec<SecretKey> = (0..hops as u8).map(node_key).collect();
    let ids: Vec<PublicKey> = keys
        .iter()
        .map(|k| PublicKey::from_secret_key(&secp, k))
        .collect();
    let session = node_key(42);
    let Ok((mut packet, shared)) = OnionPacket::build(&secp, &session, &ids, &payloads, b"ad")
    else {
        return;
    };
    for (i, key) in keys.iter().enumerate() {
        let peeled = packet.peel(&secp, key, b"ad").expect("a built onion peels");
        assert_eq!(peeled.payload, payloads[i]);
        assert_eq!(peeled.shared_secret, shared[i]);
        match peeled.next {
            Next::Forward(next) => {
                assert!(i + 1 < hops, "last hop must be final");
                packet = next;
            }
            Next::Final => {
                assert_eq!(i + 1, hops, "only the last hop is final");
                break;
            }
        }
    }
});
