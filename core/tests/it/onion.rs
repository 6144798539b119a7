//! BOLT 4 onion vectors: packet construction and peeling
//! (`onion-test.json`), failure messages (`onion-error-test.json`,
//! `onion_error.json`).

use bitcoin::secp256k1::{PublicKey, Secp256k1, SecretKey};
use lumen_core::onion::crypto::{KeyType, derive_key};
use lumen_core::onion::failure::LEGACY_PAD_TO;
use lumen_core::onion::{
    AttributionData, FailurePacket, HopPayload, Next, OnionPacket, PACKET_LEN,
};
use serde_json::Value;

/// A BOLT 4 vector file from `../shared/vectors/bolts/bolt4/` (a skip with
/// a notice when absent, a failure under CI).
pub(crate) fn load(name: &str) -> Option<Value> {
    let Some(dir) = crate::support::shared_dir() else {
        crate::support::skip_or_fail(&format!("shared dir absent; cannot run {name}"));
        return None;
    };
    let path = dir.join("vectors/bolts/bolt4").join(name);
    match std::fs::read_to_string(&path) {
        Ok(s) => Some(serde_json::from_str(&s).expect("vector JSON")),
        Err(_) => {
            crate::support::skip_or_fail(&format!("{} absent", path.display()));
            None
        }
    }
}

/// A hex string of a vector.
pub(crate) fn hx(v: &Value) -> Vec<u8> {
    hex::decode(v.as_str().expect("hex string")).expect("hex")
}

/// A secret key of a vector.
pub(crate) fn key(v: &Value) -> SecretKey {
    SecretKey::from_slice(&hx(v)).expect("secret key")
}

/// A public key of a vector.
pub(crate) fn point(v: &Value) -> PublicKey {
    PublicKey::from_slice(&hx(v)).expect("pubkey")
}

/// Strip the BigSize length prefix the vector includes in each payload.
pub(crate) fn strip_len(framed: &[u8]) -> Vec<u8> {
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
        // Hops 0-3 forward; hop 1 carries an unknown odd record (kept).
        // The final payload (hop 4) carries `short_channel_id`-less
        // payment_data, amount and cltv.
        assert_eq!(decoded.validate(i == 4), Ok(()), "hop {i} payload rules");
        if i == 1 {
            assert_eq!(decoded.unknown.len(), 1);
            assert_eq!(decoded.unknown[0].ty, 513);
        }
        if i == 4 {
            let pd = decoded.payment_data.expect("payment_data");
            assert_eq!(pd.total_msat.0, 10_000);
        }
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

/// Hold time each node reports, indexed by node. The vector's bytes show
/// that the `htlc_hold_time` list is in return-path order: node 4 (first
/// to report) reports the first value (1), node 0 the last (5), although
/// `params.hops[i]` pairs them with the route-ordered pubkeys.
fn hold_times(v: &Value) -> Vec<u32> {
    let mut t: Vec<u32> = v["params"]["hops"]
        .as_array()
        .expect("hops")
        .iter()
        .map(|h| h["htlc_hold_time"].as_u64().expect("hold") as u32)
        .collect();
    t.reverse();
    t
}

#[test]
fn onion_error_attribution_data_vector() {
    let Some(v) = load("onion_error.json") else {
        return;
    };
    let p = &v["params"];
    let hops: Vec<PublicKey> = p["hops"]
        .as_array()
        .expect("hops")
        .iter()
        .map(|h| point(&h["pubkey"]))
        .collect();
    let secrets = route_secrets(&key(&p["session_key"]), &hops);
    let holds = hold_times(&v);
    let c = &v["creating"];
    let mut pkt = FailurePacket(hx(&c["raw_error_packet"]));
    let mut attr: Option<AttributionData> = None;
    let steps = v["forwarding"].as_array().expect("forwarding");
    assert_eq!(steps.len(), 5, "forwarding steps");
    for s in steps {
        let node = s["node"].as_u64().expect("node") as usize;
        // Each hop authenticates the packet as it received it.
        let a = AttributionData::wrap(attr.as_ref(), &pkt.0, holds[node], &secrets[node]);
        assert_eq!(
            hex::encode(a.0),
            s["attribution_data"].as_str().expect("attribution"),
            "attribution after node {node}"
        );
        attr = Some(a);
        pkt.obfuscate(&secrets[node]);
    }
    let (d, times) = pkt
        .decode_attributed(&secrets, attr.as_ref().expect("attribution"))
        .expect("decode");
    assert_eq!(d.hop, 4);
    assert_eq!(times, holds);

    let success = v["success_attribution_data"].as_array().expect("success");
    assert_eq!(success.len(), 5, "success steps");
    let mut attr: Option<AttributionData> = None;
    for s in success {
        let node = s["node"].as_u64().expect("node") as usize;
        let a = AttributionData::wrap(attr.as_ref(), &[], holds[node], &secrets[node]);
        assert_eq!(
            hex::encode(a.0),
            s["attribution_data"].as_str().expect("attribution"),
            "success attribution after node {node}"
        );
        attr = Some(a);
    }
    assert_eq!(attr.expect("attribution").hold_times(&secrets), holds);
}

mod props {
    use super::*;
    use lumen_core::onion::attribution::ATTRIBUTION_LEN;
    use lumen_core::onion::{PeelError, Peeled};
    use lumen_core::wire::{ShortChannelId, Tu32, Tu64};
    use proptest::prelude::*;

    fn secret(seed: u64, i: usize) -> SecretKey {
        let mut b = [0u8; 32];
        b[..8].copy_from_slice(&seed.to_be_bytes());
        b[8..16].copy_from_slice(&(i as u64).to_be_bytes());
        b[31] = 1;
        SecretKey::from_slice(&b).expect("valid scalar")
    }

    fn hop_payload(amt: u64, cltv: u32, scid: Option<u64>) -> Vec<u8> {
        HopPayload {
            amt_to_forward: Some(Tu64(amt)),
            outgoing_cltv_value: Some(Tu32(cltv)),
            short_channel_id: scid.map(ShortChannelId),
            ..HopPayload::default()
        }
        .to_bytes()
        .expect("encode")
    }

    struct Route {
        keys: Vec<SecretKey>,
        secrets: Vec<[u8; 32]>,
        payloads: Vec<Vec<u8>>,
        packet: OnionPacket,
    }

    fn route(seed: u64, n: usize, amt: u64) -> Route {
        let secp = Secp256k1::new();
        let keys: Vec<SecretKey> = (0..n).map(|i| secret(seed, i + 1)).collect();
        let pubs: Vec<PublicKey> = keys
            .iter()
            .map(|k| PublicKey::from_secret_key(&secp, k))
            .collect();
        let payloads: Vec<Vec<u8>> = (0..n)
            .map(|i| {
                let scid = (i + 1 < n).then_some(seed ^ i as u64);
                hop_payload(amt + i as u64, 500_000 + i as u32, scid)
            })
            .collect();
        let (packet, secrets) =
            OnionPacket::build(&secp, &secret(seed, 0), &pubs, &payloads, b"hash").expect("build");
        Route {
            keys,
            secrets,
            payloads,
            packet,
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 24, ..ProptestConfig::default() })]

        #[test]
        fn every_hop_peels_its_own_payload(seed in any::<u64>(), n in 1usize..=20, amt in any::<u64>()) {
            let secp = Secp256k1::new();
            let r = route(seed, n, amt / 2);
            let mut p = r.packet.clone();
            for i in 0..n {
                let bytes = p.to_bytes();
                let Peeled { shared_secret, payload, next } = OnionPacket::from_bytes(&bytes)
                    .expect("parse")
                    .peel(&secp, &r.keys[i], b"hash")
                    .expect("peel");
                prop_assert_eq!(shared_secret, r.secrets[i]);
                prop_assert_eq!(&payload, &r.payloads[i]);
                let hp = HopPayload::from_bytes(&payload).expect("payload");
                prop_assert_eq!(hp.short_channel_id.is_none(), i + 1 == n);
                match next {
                    Next::Forward(q) => { prop_assert!(i + 1 < n); p = q; }
                    Next::Final => prop_assert_eq!(i + 1, n),
                }
            }
        }

        #[test]
        fn failure_from_any_hop_is_attributed(seed in any::<u64>(), n in 1usize..=20, pick in any::<usize>(), code in any::<u16>(), data in proptest::collection::vec(any::<u8>(), 0..300)) {
            let r = route(seed, n, 1000);
            let failing = pick % n;
            let mut msg = code.to_be_bytes().to_vec();
            msg.extend_from_slice(&data);
            let mut f = FailurePacket::create(&r.secrets[failing], &msg).expect("create");
            for i in (0..failing).rev() {
                f.obfuscate(&r.secrets[i]);
            }
            let d = f.decode(&r.secrets).expect("attributed");
            prop_assert_eq!(d.hop, failing);
            prop_assert_eq!(d.code, code);
            prop_assert_eq!(d.message, msg);
        }

        #[test]
        fn attribution_names_each_hop(seed in any::<u64>(), n in 1usize..=20, pick in any::<usize>(), corrupt in any::<Option<(usize, usize)>>()) {
            let r = route(seed, n, 1000);
            let failing = pick % n;
            let mut f = FailurePacket::create_raw(&r.secrets[failing], &[0x20, 0x02]).expect("create");
            let mut attr: Option<AttributionData> = None;
            // Hop `bad` (if any) sends garbage attribution data upstream.
            let bad = corrupt.map(|(h, _)| h % (failing + 1));
            for i in (0..=failing).rev() {
                let mut a = AttributionData::wrap(attr.as_ref(), &f.0, 100 + i as u32, &r.secrets[i]);
                if let (Some(b), Some((_, at))) = (bad, corrupt)
                    && b == i
                {
                    a.0[at % a.0.len()] ^= 0x80;
                }
                attr = Some(a);
                f.obfuscate(&r.secrets[i]);
            }
            let (d, times) = f
                .decode_attributed(&r.secrets, attr.as_ref().expect("attribution"))
                .expect("decode");
            prop_assert_eq!(d.hop, failing);
            let expected: Vec<u32> = (0..=failing).map(|i| 100 + i as u32).collect();
            match bad {
                // Garbage from hop b: hops before it still verify, b does not
                // (unless the flipped byte lies in a part no HMAC covers).
                Some(b) => {
                    prop_assert!(times.len() >= b);
                    prop_assert_eq!(&times[..b], &expected[..b]);
                    // Its own hold time is covered by all its HMACs.
                    if corrupt.map(|(_, at)| at % ATTRIBUTION_LEN < 4) == Some(true) {
                        prop_assert_eq!(times.len(), b);
                    }
                }
                None => prop_assert_eq!(times, expected),
            }
        }

        #[test]
        fn flipped_byte_is_detected(seed in any::<u64>(), n in 1usize..=20, at in 0usize..PACKET_LEN, bit in 0u8..8, fat in any::<usize>()) {
            let secp = Secp256k1::new();
            let r = route(seed, n, 1000);
            let mut bytes = r.packet.to_bytes();
            bytes[at] ^= 1 << bit;
            let res = OnionPacket::from_bytes(&bytes).and_then(|p| p.peel(&secp, &r.keys[0], b"hash"));
            prop_assert!(matches!(res, Err(PeelError::BadVersion(_) | PeelError::BadPubkey | PeelError::BadHmac)), "{:?}", res.err());
            // Associated data is authenticated too.
            prop_assert_eq!(r.packet.peel(&secp, &r.keys[0], b"hasH").err(), Some(PeelError::BadHmac));

            let failing = n - 1;
            let mut f = FailurePacket::create(&r.secrets[failing], &[0x20, 0x02]).expect("create");
            for i in (0..failing).rev() {
                f.obfuscate(&r.secrets[i]);
            }
            let i = fat % f.0.len();
            f.0[i] ^= 1 << bit;
            prop_assert!(f.decode(&r.secrets).is_err());
        }

        #[test]
        fn decoders_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..1500), k in 1u64..u64::MAX) {
            let secp = Secp256k1::new();
            let _ = HopPayload::from_bytes(&bytes);
            let _ = OnionPacket::from_bytes(&bytes);
            let mut full = bytes.clone();
            full.resize(PACKET_LEN, 0x5a);
            full[0] = 0;
            full[1..34].copy_from_slice(&PublicKey::from_secret_key(&secp, &secret(k, 0)).serialize());
            if let Ok(p) = OnionPacket::from_bytes(&full) {
                let _ = p.peel(&secp, &secret(k, 1), &bytes);
            }
            let _ = FailurePacket(bytes.clone()).decode(&[[7u8; 32]; 3]);
            let mut a = AttributionData::default();
            let m = bytes.len().min(a.0.len());
            a.0[..m].copy_from_slice(&bytes[..m]);
            let _ = a.hold_times(&[[7u8; 32]; 21]);
            let _ = FailurePacket(bytes.clone()).decode_attributed(&[[7u8; 32]; 3], &a);
        }
    }
}

/// Timing of construction (20 hops) and of one peel; printed, not
/// asserted. Numbers from a debug build unless run with --release.
#[test]
fn onion_timing() {
    use std::time::Instant;
    let secp = Secp256k1::new();
    let keys: Vec<SecretKey> = (1..=20u8)
        .map(|i| SecretKey::from_slice(&[i; 32]).expect("key"))
        .collect();
    let pubs: Vec<PublicKey> = keys
        .iter()
        .map(|k| PublicKey::from_secret_key(&secp, k))
        .collect();
    let payloads = vec![vec![0x02, 0x02, 0x03, 0xe8, 0x04, 0x01, 0x90]; 20];
    let session = SecretKey::from_slice(&[0x41; 32]).expect("session");
    let iters = 20u32;
    let t = Instant::now();
    let mut packet = None;
    for _ in 0..iters {
        packet = Some(OnionPacket::build(&secp, &session, &pubs, &payloads, &[]).expect("build"));
    }
    let build_us = t.elapsed().as_micros() / u128::from(iters);
    let (mut p, _) = packet.expect("built");
    let t = Instant::now();
    for k in &keys {
        match p.peel(&secp, k, &[]).expect("peel").next {
            Next::Forward(q) => p = q,
            Next::Final => break,
        }
    }
    let peel_us = t.elapsed().as_micros() / 20;
    let profile = if cfg!(debug_assertions) {
        "debug"
    } else {
        "release"
    };
    println!("onion timing ({profile}): build 20 hops {build_us} µs; peel {peel_us} µs/hop");
}
