//! BOLT 4 onion vectors: packet construction and peeling
//! (`onion-test.json`), failure messages (`onion-error-test.json`,
//! `onion_error.json`).

use bitcoin::secp256k1::{PublicKey, Secp256k1, SecretKey};
use lumen_core::onion::{HopPayload, Next, OnionPacket, PACKET_LEN};
use serde_json::Value;

fn load(name: &str) -> Option<Value> {
    let Some(dir) = crate::support::shared_dir() else {
        println!("NOTICE: shared dir absent; skipping {name}");
        return None;
    };
    let path = dir.join("vectors/bolts/bolt4").join(name);
    match std::fs::read_to_string(&path) {
        Ok(s) => Some(serde_json::from_str(&s).expect("vector JSON")),
        Err(_) => {
            println!("NOTICE: {} absent; skipping", path.display());
            None
        }
    }
}

fn hx(v: &Value) -> Vec<u8> {
    hex::decode(v.as_str().expect("hex string")).expect("hex")
}

fn key(v: &Value) -> SecretKey {
    SecretKey::from_slice(&hx(v)).expect("secret key")
}

fn point(v: &Value) -> PublicKey {
    PublicKey::from_slice(&hx(v)).expect("pubkey")
}

/// Strip the BigSize length prefix the vector includes in each payload.
fn strip_len(framed: &[u8]) -> Vec<u8> {
    let (len, skip) = match framed[0] {
        0xfd => (u16::from_be_bytes([framed[1], framed[2]]) as usize, 3),
        0xfe | 0xff => panic!("payload too long for a test vector"),
        b => (b as usize, 1),
    };
    assert_eq!(framed.len(), skip + len, "vector payload length prefix");
    framed[skip..].to_vec()
}

#[test]
fn onion_test_vector_build_and_peel() {
    let Some(v) = load("onion-test.json") else {
        return;
    };
    let secp = Secp256k1::new();
    let g = &v["generate"];
    let session = key(&g["session_key"]);
    let ad = hx(&g["associated_data"]);
    let hops: Vec<PublicKey> = g["hops"]
        .as_array()
        .expect("hops")
        .iter()
        .map(|h| point(&h["pubkey"]))
        .collect();
    let payloads: Vec<Vec<u8>> = g["hops"]
        .as_array()
        .expect("hops")
        .iter()
        .map(|h| strip_len(&hx(&h["payload"])))
        .collect();
    assert_eq!(hops.len(), 5, "hop count");
    let (packet, secrets) =
        OnionPacket::build(&secp, &session, &hops, &payloads, &ad).expect("build");
    let expected = hx(&v["onion"]);
    assert_eq!(expected.len(), PACKET_LEN);
    assert_eq!(hex::encode(packet.to_bytes()), hex::encode(&expected));

    let keys: Vec<SecretKey> = v["decode"]
        .as_array()
        .expect("decode")
        .iter()
        .map(key)
        .collect();
    assert_eq!(keys.len(), 5, "decode key count");
    let mut current = OnionPacket::from_bytes(&expected).expect("parse");
    for (i, k) in keys.iter().enumerate() {
        assert_eq!(PublicKey::from_secret_key(&secp, k), hops[i]);
        let peeled = current.peel(&secp, k, &ad).expect("peel");
        assert_eq!(peeled.shared_secret, secrets[i], "hop {i} shared secret");
        assert_eq!(peeled.payload, payloads[i], "hop {i} payload");
        let decoded = HopPayload::from_bytes(&peeled.payload).expect("payload TLV");
        assert_eq!(decoded.to_bytes().expect("re-encode"), payloads[i]);
        match peeled.next {
            Next::Forward(p) => {
                assert!(i < 4, "hop {i} should be final");
                current = p;
            }
            Next::Final => assert_eq!(i, 4, "only the last hop is final"),
        }
    }
}
