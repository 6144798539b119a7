//! BOLT 4 route blinding vectors, each stated value checked byte for byte:
//! `route-blinding-test.json`,
//! `blinded-payment-onion-test.json`, `blinded-onion-message-onion-test.json`.

use bitcoin::secp256k1::{PublicKey, Secp256k1};
use lumen_core::onion::blinding::{
    BlindedHop, EncryptedData, build_path, peel_blinded, peel_message, unblind,
};
use lumen_core::onion::{HopPayload, Next, OnionPacket};
use lumen_core::wire::codec::{Encode, Writer};
use lumen_core::wire::features::Features;
use serde_json::Value;

use crate::onion::{hx, key, load, point, strip_len};

fn u(v: &Value) -> u64 {
    v.as_u64().expect("integer")
}

/// Check the decoded `encrypted_data_tlv` against the vector's `tlvs`
/// object: equal, field for field, to the `EncryptedData` the object states
/// (every key in it must be understood), and any stated override secret
/// gives the decoded override.
fn check_tlvs(who: &str, d: &EncryptedData, tlvs: &Value) {
    assert_eq!(d, &tlvs_from_json(tlvs), "{who} tlvs");
    // The onion message vector names the override's secret too.
    if let Some(secret) = tlvs.get("path_key_override_secret") {
        let secp = Secp256k1::new();
        assert_eq!(
            d.next_path_key_override,
            Some(PublicKey::from_secret_key(&secp, &key(secret))),
            "{who} override secret"
        );
    }
}

/// Encode the vector's `tlvs` object into an `EncryptedData`.
fn tlvs_from_json(tlvs: &Value) -> EncryptedData {
    use lumen_core::onion::blinding::{PaymentConstraints, PaymentRelay};
    use lumen_core::wire::tlv::TlvRecord;
    let mut d = EncryptedData::default();
    for (k, v) in tlvs.as_object().expect("vector field") {
        match k.as_str() {
            "padding" => d.padding = Some(hx(v)),
            "short_channel_id" => {
                d.short_channel_id = Some(
                    v.as_str()
                        .expect("vector field")
                        .parse()
                        .expect("vector field"),
                )
            }
            "next_node_id" => d.next_node_id = Some(point(v)),
            "path_id" => d.path_id = Some(hx(v)),
            "next_path_key_override" => d.next_path_key_override = Some(point(v)),
            "path_key_override_secret" => {}
            "payment_relay" => {
                d.payment_relay = Some(PaymentRelay {
                    cltv_expiry_delta: u(&v["cltv_expiry_delta"]) as u16,
                    fee_proportional_millionths: u(&v["fee_proportional_millionths"]) as u32,
                    fee_base_msat: v.get("fee_base_msat").map(u).unwrap_or(0) as u32,
                })
            }
            "payment_constraints" => {
                d.payment_constraints = Some(PaymentConstraints {
                    max_cltv_expiry: u(&v["max_cltv_expiry"]) as u32,
                    htlc_minimum_msat: u(&v["htlc_minimum_msat"]),
                })
            }
            "allowed_features" => {
                let mut f = Features::empty();
                for b in v["features"].as_array().expect("vector field") {
                    f.set_bit(u(b) as usize);
                }
                d.allowed_features = Some(f);
            }
            other => {
                let ty = other
                    .strip_prefix("unknown_tag_")
                    .expect("vector field")
                    .parse()
                    .expect("vector field");
                d.unknown.push(TlvRecord { ty, value: hx(v) });
            }
        }
    }
    // Decoding yields unknown records in type order; JSON keys sort as text.
    d.unknown.sort_by_key(|r| r.ty);
    d
}

#[test]
fn route_blinding_vector_generate() {
    let Some(v) = load("route-blinding-test.json") else {
        return;
    };
    let secp = Secp256k1::new();
    let hops = v["generate"]["hops"].as_array().unwrap();
    assert_eq!(hops.len(), 4);

    // Each hop's TLVs encode to the stated bytes.
    for h in hops {
        let d = tlvs_from_json(&h["tlvs"]);
        assert_eq!(
            hex::encode(d.to_bytes().unwrap()),
            h["encoded_tlvs"].as_str().unwrap(),
            "{} encoded_tlvs",
            h["alias"]
        );
    }

    // Two paths, each from its own session key: Bob->Carol, Dave->Eve.
    let mut path_hops: Vec<BlindedHop> = Vec::new();
    let mut first = None;
    for seg in [&hops[0..2], &hops[2..4]] {
        let session = key(&seg[0]["session_key"]);
        assert_eq!(session, key(&seg[0]["path_privkey"]));
        let input: Vec<(PublicKey, Vec<u8>)> = seg
            .iter()
            .map(|h| (point(&h["node_id"]), hx(&h["encoded_tlvs"])))
            .collect();
        let (path, secrets) = build_path(&secp, &session, &input).unwrap();
        first.get_or_insert((path.first_node_id, path.first_path_key));
        for ((h, s), b) in seg.iter().zip(&secrets).zip(&path.hops) {
            let who = h["alias"].as_str().unwrap();
            assert_eq!(
                s.path_key,
                PublicKey::from_secret_key(&secp, &key(&h["path_privkey"])),
                "{who} path_privkey"
            );
            assert_eq!(s.path_key, point(&h["path_key"]), "{who} path_key");
            assert_eq!(
                hex::encode(s.shared_secret),
                h["shared_secret"].as_str().unwrap()
            );
            assert_eq!(hex::encode(s.rho), h["rho"].as_str().unwrap(), "{who} rho");
            assert_eq!(
                hex::encode(&b.encrypted_data),
                h["encrypted_data"].as_str().unwrap(),
                "{who} encrypted_data"
            );
            assert_eq!(
                b.blinded_node_id,
                point(&h["blinded_node_id"]),
                "{who} blinded id"
            );
        }
        // Carol's override is exactly Dave->Eve's first path key.
        if seg[0]["alias"] == "Dave" {
            assert_eq!(
                hops[1]["tlvs"]["next_path_key_override"].as_str().unwrap(),
                hex::encode(path.first_path_key.serialize())
            );
        }
        path_hops.extend(path.hops);
    }

    let route = &v["route"];
    let (first_node, first_key) = first.unwrap();
    assert_eq!(first_node, point(&route["first_node_id"]));
    assert_eq!(first_key, point(&route["first_path_key"]));
    let want: Vec<BlindedHop> = route["hops"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| BlindedHop {
            blinded_node_id: point(&h["blinded_node_id"]),
            encrypted_data: hx(&h["encrypted_data"]),
        })
        .collect();
    assert_eq!(path_hops, want);
}

#[test]
fn route_blinding_vector_unblind() {
    let Some(v) = load("route-blinding-test.json") else {
        return;
    };
    let secp = Secp256k1::new();
    let route = v["route"]["hops"].as_array().unwrap();
    let gen_hops = v["generate"]["hops"].as_array().unwrap();
    let hops = v["unblind"]["hops"].as_array().unwrap();
    assert_eq!(hops.len(), route.len());
    let mut path_key = point(&v["route"]["first_path_key"]);
    for (i, h) in hops.iter().enumerate() {
        let who = h["alias"].as_str().unwrap();
        assert_eq!(path_key, point(&h["path_key"]), "{who} path_key");
        let node = key(&h["node_privkey"]);
        let un = unblind(&secp, &node, &path_key, &hx(&route[i]["encrypted_data"])).unwrap();
        assert_eq!(
            hex::encode(un.blinded_privkey.secret_bytes()),
            h["blinded_privkey"].as_str().unwrap(),
            "{who} blinded_privkey"
        );
        // The blinded private key matches the published blinded id.
        assert_eq!(
            PublicKey::from_secret_key(&secp, &un.blinded_privkey),
            point(&route[i]["blinded_node_id"])
        );
        assert_eq!(
            hex::encode(&un.data),
            h["decrypted_data"].as_str().unwrap(),
            "{who} decrypted_data"
        );
        check_tlvs(who, &un.tlvs, &gen_hops[i]["tlvs"]);
        // Re-encoding the decoded stream gives the same bytes.
        assert_eq!(un.tlvs.to_bytes().unwrap(), un.data, "{who} round trip");
        assert_eq!(
            un.next_path_key,
            point(&h["next_path_key"]),
            "{who} next_path_key"
        );
        match h.get("next_path_key_override") {
            Some(o) => assert_eq!(un.tlvs.next_path_key_override, Some(point(o))),
            None => assert_eq!(un.tlvs.next_path_key_override, None),
        }
        path_key = un.effective_next_path_key();
    }
}

#[test]
fn route_blinding_rejects_wrong_key_and_tampering() {
    let Some(v) = load("route-blinding-test.json") else {
        return;
    };
    let secp = Secp256k1::new();
    let h = &v["unblind"]["hops"][0];
    let data = hx(&v["route"]["hops"][0]["encrypted_data"]);
    let path_key = point(&h["path_key"]);
    // Carol's key cannot open Bob's data.
    let carol = key(&v["unblind"]["hops"][1]["node_privkey"]);
    assert!(unblind(&secp, &carol, &path_key, &data).is_err());
    let bob = key(&h["node_privkey"]);
    let mut bad = data.clone();
    bad[3] ^= 1;
    assert!(unblind(&secp, &bob, &path_key, &bad).is_err());
    assert!(unblind(&secp, &bob, &path_key, &data[..10]).is_err());
    assert!(unblind(&secp, &bob, &path_key, &[]).is_err());
}

#[test]
fn blinded_payment_onion_vector() {
    let Some(v) = load("blinded-payment-onion-test.json") else {
        return;
    };
    let secp = Secp256k1::new();
    let g = &v["generate"];
    let ad = hx(&g["associated_data"]);
    let full = g["full_route"]["hops"].as_array().unwrap();
    let broute = &g["blinded_route"];
    let bhops = broute["hops"].as_array().unwrap();
    assert_eq!(full.len(), 5);

    // Hop payloads from their TLVs, byte for byte.
    for (i, h) in full.iter().enumerate() {
        let t = &h["tlvs"];
        let mut p = HopPayload::default();
        if let Some(x) = t.get("amt_to_forward") {
            p.amt_to_forward = Some(lumen_core::wire::types::Tu64(u(x)));
        }
        if let Some(x) = t.get("outgoing_cltv_value") {
            p.outgoing_cltv_value = Some(lumen_core::wire::types::Tu32(u(x) as u32));
        }
        if let Some(x) = t.get("outgoing_channel_id") {
            p.short_channel_id = Some(x.as_str().unwrap().parse().unwrap());
        }
        if let Some(x) = t.get("total_amount_msat") {
            p.total_amount_msat = Some(lumen_core::wire::types::Tu64(u(x)));
        }
        if let Some(x) = t.get("current_path_key") {
            p.current_blinding_point = Some(point(x));
        }
        if t.get("encrypted_recipient_data").is_some() {
            p.encrypted_recipient_data = Some(hx(&bhops[i - 1]["encrypted_data"]));
        }
        let mut w = Writer::new();
        p.encode(&mut w);
        assert_eq!(
            w.finish().unwrap(),
            strip_len(&hx(&h["payload"])),
            "{} payload",
            h["alias"]
        );
    }

    // The sender's onion: plain Sphinx to Alice, the introduction node's
    // real id, then the blinded ids.
    assert_eq!(full[1]["pubkey"], broute["first_node_id"]);
    for (h, b) in full[2..].iter().zip(&bhops[1..]) {
        assert_eq!(h["pubkey"], b["blinded_node_id"]);
    }
    let keys: Vec<PublicKey> = full.iter().map(|h| point(&h["pubkey"])).collect();
    let payloads: Vec<Vec<u8>> = full.iter().map(|h| strip_len(&hx(&h["payload"]))).collect();
    let (onion, _) =
        OnionPacket::build(&secp, &key(&g["session_key"]), &keys, &payloads, &ad).unwrap();
    assert_eq!(hex::encode(onion.to_bytes()), g["onion"].as_str().unwrap());

    // Each hop peels and gets the next hop's stated onion.
    let dec = v["decrypt"]["hops"].as_array().unwrap();
    assert_eq!(dec.len(), 5);
    let mut packet = OnionPacket::from_bytes(&hx(&dec[0]["onion"])).unwrap();
    assert_eq!(packet, onion);
    let alice = packet
        .peel(&secp, &key(&dec[0]["node_privkey"]), &ad)
        .unwrap();
    assert_eq!(alice.payload, payloads[0]);
    let Next::Forward(next) = alice.next else {
        panic!("Alice is not final")
    };
    packet = next;
    let mut path_key: Option<PublicKey> = None;
    let mut final_payload = None;
    for (i, h) in dec.iter().enumerate().skip(1) {
        let who = h["alias"].as_str().unwrap();
        assert_eq!(hex::encode(packet.to_bytes()), h["onion"].as_str().unwrap());
        let node = key(&h["node_privkey"]);
        // Plain peeling with the real key fails inside the blinded part.
        if path_key.is_some() {
            assert!(packet.peel(&secp, &node, &ad).is_err(), "{who}");
        }
        let pb = peel_blinded(&secp, &node, path_key.as_ref(), &packet, &ad).unwrap();
        assert_eq!(pb.peeled.payload, payloads[i], "{who} payload");
        check_tlvs(
            who,
            &pb.unblinded.tlvs,
            &full[i]["tlvs"]["encrypted_recipient_data"],
        );
        let next_key = pb.unblinded.effective_next_path_key();
        assert_eq!(next_key, point(&h["next_path_key"]), "{who} next_path_key");
        // The onion's key is not the path key: the path key only
        // selects the blinded key the onion was encrypted to. (The
        // introduction node's path key is `current_path_key` in its payload.)
        let hop_path_key = path_key
            .or(pb.payload.current_blinding_point)
            .unwrap_or_else(|| panic!("{who} has no path key"));
        assert_ne!(packet.public_key, hop_path_key, "{who}");
        match pb.peeled.next {
            Next::Forward(p) => {
                assert!(i + 1 < dec.len(), "{who} should be final");
                packet = p;
            }
            Next::Final => {
                assert_eq!(i + 1, dec.len(), "{who} final too early");
                final_payload = Some(pb.payload);
            }
        }
        path_key = Some(next_key);
    }
    // Eve sees the amounts of a blinded final hop, as the vector states.
    let eve = final_payload.expect("Eve is final");
    let stated = &full[4]["tlvs"];
    assert_eq!(eve.amt_to_forward.map(|a| a.0), Some(100_000));
    assert_eq!(eve.total_amount_msat.map(|a| a.0), Some(150_000));
    assert_eq!(
        eve.amt_to_forward.map(|a| a.0),
        Some(u(&stated["amt_to_forward"]))
    );
    assert_eq!(
        eve.total_amount_msat.map(|a| a.0),
        Some(u(&stated["total_amount_msat"]))
    );
}

/// `onion_message`: type 513, path key, u16 length, onion packet.
fn onion_message(path_key: &PublicKey, onion: &OnionPacket) -> Vec<u8> {
    let packet = onion.to_bytes();
    let mut m = vec![0x02, 0x01];
    m.extend_from_slice(&path_key.serialize());
    m.extend_from_slice(&(packet.len() as u16).to_be_bytes());
    m.extend_from_slice(&packet);
    m
}

#[test]
fn blinded_onion_message_vector() {
    use lumen_core::wire::tlv::{TlvRecord, TlvStream};
    let Some(v) = load("blinded-onion-message-onion-test.json") else {
        return;
    };
    let secp = Secp256k1::new();
    let hops = v["generate"]["hops"].as_array().unwrap();
    let route = &v["route"];
    let rhops = route["hops"].as_array().unwrap();
    assert_eq!(hops.len(), 4);

    // Real node ids: Alice is the first node; each next_node_id names the next.
    let mut ids = vec![point(&route["first_node_id"])];
    for h in &hops[..3] {
        ids.push(point(&h["tlvs"]["next_node_id"]));
    }

    // Alice's one-hop path (joined by override) and Dave's Bob->Dave path.
    let mut built: Vec<BlindedHop> = Vec::new();
    let mut first_path_key = None;
    for (range, overrides) in [(0..1, true), (1..4, false)] {
        let seg = &hops[range.clone()];
        let session = key(&seg[0]["path_key_secret"]);
        let input: Vec<(PublicKey, Vec<u8>)> = seg
            .iter()
            .zip(&ids[range])
            .map(|(h, id)| {
                let d = tlvs_from_json(&h["tlvs"]);
                let bytes = d.to_bytes().unwrap();
                assert_eq!(
                    hex::encode(&bytes),
                    h["encrypted_data_tlv"].as_str().unwrap(),
                    "{} encrypted_data_tlv",
                    h["alias"]
                );
                (*id, bytes)
            })
            .collect();
        let (path, secrets) = build_path(&secp, &session, &input).unwrap();
        first_path_key.get_or_insert(path.first_path_key);
        for ((h, s), b) in seg.iter().zip(&secrets).zip(&path.hops) {
            let who = h["alias"].as_str().unwrap();
            assert_eq!(
                s.path_key,
                PublicKey::from_secret_key(&secp, &key(&h["path_key_secret"]))
            );
            assert_eq!(s.path_key, point(&h["E"]), "{who} E");
            assert_eq!(hex::encode(s.shared_secret), h["ss"].as_str().unwrap());
            assert_eq!(
                hex::encode(s.node_tweak),
                h["HMAC256('blinded_node_id', ss)"].as_str().unwrap(),
                "{who} node tweak"
            );
            assert_eq!(
                b.blinded_node_id,
                point(&h["blinded_node_id"]),
                "{who} blinded id"
            );
            assert_eq!(
                hex::encode(s.path_tweak),
                h["H(E || ss)"].as_str().unwrap(),
                "{who} path tweak"
            );
            // The spec prints next_e with the trailing 01 key marker.
            assert_eq!(
                format!("{}01", hex::encode(s.next_path_privkey.secret_bytes())),
                h["next_e"].as_str().unwrap(),
                "{who} next_e"
            );
            assert_eq!(hex::encode(s.rho), h["rho"].as_str().unwrap(), "{who} rho");
            assert_eq!(
                hex::encode(&b.encrypted_data),
                h["encrypted_recipient_data"].as_str().unwrap(),
                "{who} encrypted_recipient_data"
            );
        }
        if overrides {
            // Alice's override is the path key Dave gave for Bob.
            assert_eq!(
                point(&seg[0]["tlvs"]["next_path_key_override"]),
                PublicKey::from_secret_key(&secp, &key(&hops[1]["path_key_secret"]))
            );
        }
        built.extend(path.hops);
    }
    assert_eq!(first_path_key, Some(point(&route["first_path_key"])));
    let want: Vec<BlindedHop> = rhops
        .iter()
        .map(|h| BlindedHop {
            blinded_node_id: point(&h["blinded_node_id"]),
            encrypted_data: hx(&h["encrypted_recipient_data"]),
        })
        .collect();
    assert_eq!(built, want);

    // The onion: Sphinx over all blinded ids, no associated data; each
    // payload is an onionmsg_tlv carrying the hop's encrypted data, and
    // Dave's also carries the 'hello' record (type 1).
    let om = &v["onionmessage"];
    let payloads: Vec<Vec<u8>> = want
        .iter()
        .enumerate()
        .map(|(i, h)| {
            let mut recs = Vec::new();
            if i == want.len() - 1 {
                recs.push(TlvRecord {
                    ty: 1,
                    value: hx(&om["unknown_tag_1"]),
                });
            }
            recs.push(TlvRecord {
                ty: 4,
                value: h.encrypted_data.clone(),
            });
            let mut w = Writer::new();
            TlvStream::from_records(recs).unwrap().encode(&mut w);
            w.finish().unwrap()
        })
        .collect();
    let keys: Vec<PublicKey> = want.iter().map(|h| h.blinded_node_id).collect();
    let session = key(&v["generate"]["session_key"]);
    let (onion, _) = OnionPacket::build(&secp, &session, &keys, &payloads, &[]).unwrap();
    assert_eq!(
        hex::encode(onion.to_bytes()),
        om["onion_message_packet"].as_str().unwrap()
    );

    // Each hop peels the message it receives and forwards the next one.
    let dec = v["decrypt"]["hops"].as_array().unwrap();
    let mut path_key = point(&route["first_path_key"]);
    let mut packet = onion;
    for (i, h) in dec.iter().enumerate() {
        let who = h["alias"].as_str().unwrap();
        assert_eq!(
            hex::encode(onion_message(&path_key, &packet)),
            h["onion_message"].as_str().unwrap(),
            "{who} onion_message"
        );
        let node = key(&h["privkey"]);
        assert_eq!(PublicKey::from_secret_key(&secp, &node), ids[i], "{who} id");
        let pm = peel_message(&secp, &node, &path_key, &packet).unwrap();
        assert_eq!(pm.peeled.payload, payloads[i], "{who} payload");
        check_tlvs(who, &pm.unblinded.tlvs, &hops[i]["tlvs"]);
        match pm.peeled.next {
            Next::Forward(p) => {
                assert_eq!(
                    pm.unblinded.tlvs.next_node_id,
                    Some(point(&h["next_node_id"])),
                    "{who} next_node_id"
                );
                packet = p;
                path_key = pm.unblinded.effective_next_path_key();
            }
            Next::Final => {
                assert_eq!(i, dec.len() - 1, "{who} final too early");
                let t = &h["tlvs"];
                assert_eq!(pm.payload.get(1), Some(&hx(&t["unknown_tag_1"])[..]));
                assert_eq!(
                    pm.payload.get(4),
                    Some(&hx(&t["encrypted_recipient_data"])[..])
                );
            }
        }
    }
}
