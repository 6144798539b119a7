//! BOLT 4 onion vectors: packet construction and peeling
//! (`onion-test.json`), failure messages (`onion-error-test.json`,
//! `onion_error.json`).

use bitcoin::secp256k1::{PublicKey, Secp256k1, SecretKey};
use lumen_core::onion::crypto::{KeyType, derive_key};
use lumen_core::onion::failure::LEGACY_PAD_TO;
use lumen_core::onion::{FailurePacket, HopPayload, Next, OnionPacket, PACKET_LEN};
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

/// Shared secrets of a route, derived at the sender the way
/// [`OnionPacket::build`] does (one-byte payloads are enough for that).
fn route_secrets(session: &SecretKey, hops: &[PublicKey]) -> Vec<[u8; 32]> {
    let secp = Secp256k1::new();
    let payloads = vec![vec![0x02, 0x00]; hops.len()];
    OnionPacket::build(&secp, session, hops, &payloads, &[])
        .expect("build")
        .1
}

#[test]
fn onion_error_test_vector_legacy_256() {
    let Some(v) = load("onion-error-test.json") else {
        return;
    };
    let g = &v["generate"];
    let session = key(&g["session_key"]);
    let hops = g["hops"].as_array().expect("hops");
    assert_eq!(hops.len(), 5, "hop count");
    let pubkeys: Vec<PublicKey> = hops.iter().map(|h| point(&h["pubkey"])).collect();
    let secrets = route_secrets(&session, &pubkeys);
    for (i, h) in hops.iter().enumerate() {
        assert_eq!(
            hex::encode(secrets[i]),
            h["hop_shared_secret"].as_str().expect("ss"),
            "hop {i} shared secret"
        );
        assert_eq!(
            hex::encode(derive_key(KeyType::Ammag, &secrets[i])),
            h["ammag_key"].as_str().expect("ammag"),
            "hop {i} ammag"
        );
    }
    let failing = 4;
    assert_eq!(
        hex::encode(derive_key(KeyType::Um, &secrets[failing])),
        hops[failing]["um_key"].as_str().expect("um")
    );
    let message = hx(&g["failure_message"]);
    // This vector follows the older rule: failure_len + pad_len = 256.
    let raw = FailurePacket::create_raw_padded(&secrets[failing], &message, LEGACY_PAD_TO)
        .expect("create");
    assert_eq!(
        hex::encode(&raw.0[32..]),
        hops[failing]["payload"].as_str().expect("payload")
    );
    let mut p = raw;
    for i in (0..=failing).rev() {
        p.obfuscate(&secrets[i]);
    }
    assert_eq!(
        hex::encode(&p.0),
        v["errorpacket"].as_str().expect("packet")
    );
    let d = p.decode(&secrets).expect("attribute");
    assert_eq!((d.hop, d.code, d.message), (failing, 0x2002, message));
}

#[test]
fn onion_error_attributable_vector_packet() {
    let Some(v) = load("onion_error.json") else {
        return;
    };
    let p = &v["params"];
    let session = key(&p["session_key"]);
    let hops: Vec<PublicKey> = p["hops"]
        .as_array()
        .expect("hops")
        .iter()
        .map(|h| point(&h["pubkey"]))
        .collect();
    assert_eq!(hops.len(), 5, "hop count");
    let secrets = route_secrets(&session, &hops);
    let failing = p["failure_source_node"].as_u64().expect("source") as usize;
    let c = &v["creating"];
    assert_eq!(
        hex::encode(secrets[failing]),
        c["shared_secret"].as_str().expect("ss")
    );
    assert_eq!(
        hex::encode(derive_key(KeyType::Um, &secrets[failing])),
        c["um_key"].as_str().expect("um")
    );
    // encoded_failure_message in this vector includes pad_len and pad.
    let padded = hx(&c["encoded_failure_message"]);
    let failure_len = u16::from_be_bytes([hx(&c["payload"])[0], hx(&c["payload"])[1]]) as usize;
    let message = &padded[..failure_len];
    assert_eq!(
        &message[..2],
        &[0x40, 0x0f],
        "incorrect_or_unknown_payment_details"
    );
    // The newer rule wins: the default pad target is 1024, as this vector has.
    let raw = FailurePacket::create_raw(&secrets[failing], message).expect("create");
    assert_eq!(
        hex::encode(&raw.0[32..]),
        c["payload"].as_str().expect("payload")
    );
    assert_eq!(
        hex::encode(&raw.0),
        c["raw_error_packet"].as_str().expect("raw")
    );

    let steps = v["forwarding"].as_array().expect("forwarding");
    assert_eq!(steps.len(), 5, "forwarding steps");
    let mut pkt = raw;
    for s in steps {
        let node = s["node"].as_u64().expect("node") as usize;
        assert_eq!(
            hex::encode(secrets[node]),
            s["shared_secret"].as_str().expect("ss")
        );
        assert_eq!(
            hex::encode(derive_key(KeyType::Ammag, &secrets[node])),
            s["ammag_key"].as_str().expect("ammag")
        );
        pkt.obfuscate(&secrets[node]);
        assert_eq!(
            hex::encode(&pkt.0),
            s["error_packet"].as_str().expect("error_packet"),
            "after node {node}"
        );
    }
    let d = pkt.decode(&secrets).expect("attribute");
    assert_eq!((d.hop, d.code), (failing, 0x400f));
    assert_eq!(d.message, message);
}
