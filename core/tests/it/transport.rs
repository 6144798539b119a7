//! BOLT 8 transport: spec vectors, property tests of two state machines
//! talking to each other, a real TCP loopback.

use bitcoin::secp256k1::{PublicKey, SecretKey};
use lumen_core::transport::*;
use serde_json::Value;

fn hex32(v: &Value) -> [u8; 32] {
    let bytes = hex::decode(v.as_str().expect("hex string")).expect("hex");
    bytes.try_into().expect("32 bytes")
}

fn hexv(v: &Value) -> Vec<u8> {
    hex::decode(v.as_str().expect("hex string")).expect("hex")
}

fn secret(v: &Value) -> SecretKey {
    SecretKey::from_slice(&hexv(v)).expect("secret key")
}

fn public(v: &Value) -> PublicKey {
    PublicKey::from_slice(&hexv(v)).expect("public key")
}

fn load_bolt8() -> Option<Value> {
    let Some(dir) = crate::support::shared_dir() else {
        eprintln!("NOTICE: shared dir (LUMEN_SHARED_DIR) not found, skipping BOLT 8 vectors");
        return None;
    };
    let path = dir.join("vectors/bolts/bolt8.json");
    let Ok(text) = std::fs::read_to_string(&path) else {
        eprintln!(
            "NOTICE: {} not found, skipping BOLT 8 vectors",
            path.display()
        );
        return None;
    };
    Some(serde_json::from_str(&text).expect("bolt8.json parses"))
}

/// The act with number `n` in a case.
fn act(case: &Value, n: u64) -> Option<&Value> {
    case["acts"]
        .as_array()
        .expect("acts")
        .iter()
        .find(|a| a["act"].as_u64() == Some(n))
}

/// Check `session` against the expected final keys, by behaviour: a peer
/// built from the vector's keys (mirrored) must understand us and we it,
/// across two key rotations. Returns how many messages were checked.
fn check_final_keys(session: &mut Session, ck: [u8; 32], sk: [u8; 32], rk: [u8; 32]) {
    let mut peer = Session::from_keys(ck, rk, sk, session.remote_node_id());
    for i in 0..1002u32 {
        let msg = i.to_be_bytes();
        let wire = session.encrypt(&msg).expect("encrypt");
        peer.feed(&wire);
        assert_eq!(
            peer.next_message().expect("peer decrypts"),
            Some(msg.to_vec())
        );
        let wire = peer.encrypt(&msg).expect("encrypt");
        session.feed(&wire);
        assert_eq!(
            session.next_message().expect("we decrypt"),
            Some(msg.to_vec())
        );
    }
}

/// Run one handshake case; `Ok(session)` or the error's spec label.
fn run_case(case: &Value, ck: [u8; 32]) -> Result<(), &'static str> {
    let ls = secret(&case["ls_priv"]);
    let e = secret(&case["e_priv"]);
    assert_eq!(ls.node_id(), public(&case["ls_pub"]), "ls_pub");
    assert_eq!(e.node_id(), public(&case["e_pub"]), "e_pub");
    let a1 = act(case, 1).expect("act 1");
    let a2 = act(case, 2);
    let a3 = act(case, 3);
    let mut session = match case["role"].as_str().expect("role") {
        "initiator" => {
            let (hs, act_one) = InitiatorHandshake::with_ephemeral(ls, public(&case["rs_pub"]), e);
            assert_eq!(a1["io"], "output");
            assert_eq!(act_one.to_vec(), hexv(&a1["hex"]), "act one");
            let a2 = a2.expect("act 2");
            assert_eq!(a2["io"], "input");
            let (act_three, session) = hs
                .process_act_two(&hexv(&a2["hex"]))
                .map_err(|e| e.spec_label())?;
            let a3 = a3.expect("act 3 for a successful initiator");
            assert_eq!(a3["io"], "output");
            assert_eq!(act_three.to_vec(), hexv(&a3["hex"]), "act three");
            assert_eq!(session.remote_node_id(), public(&case["rs_pub"]));
            session
        }
        "responder" => {
            let hs = ResponderHandshake::with_ephemeral(ls, e);
            assert_eq!(a1["io"], "input");
            let (hs, act_two) = hs
                .process_act_one(&hexv(&a1["hex"]))
                .map_err(|e| e.spec_label())?;
            let a2 = a2.expect("act 2");
            assert_eq!(a2["io"], "output");
            assert_eq!(act_two.to_vec(), hexv(&a2["hex"]), "act two");
            let a3 = a3.expect("act 3");
            assert_eq!(a3["io"], "input");
            let session = hs
                .process_act_three(&hexv(&a3["hex"]))
                .map_err(|e| e.spec_label())?;
            // The initiator of the spec's vectors has ls.priv = 0x11…11.
            let initiator = SecretKey::from_slice(&[0x11; 32]).expect("key");
            assert_eq!(session.remote_node_id(), initiator.node_id());
            session
        }
        other => panic!("unknown role {other}"),
    };
    let keys = &case["final_keys"];
    check_final_keys(&mut session, ck, hex32(&keys["sk"]), hex32(&keys["rk"]));
    Ok(())
}

#[test]
fn transport_bolt8_handshake_vectors() {
    let Some(v) = load_bolt8() else { return };
    let ck = hex32(&v["message_encryption"]["ck"]);
    let cases = v["handshake"].as_array().expect("handshake cases");
    let (mut ok, mut failed_as_expected, mut initiator, mut responder) = (0, 0, 0, 0);
    for case in cases {
        let name = case["name"].as_str().expect("name");
        match case["role"].as_str() {
            Some("initiator") => initiator += 1,
            _ => responder += 1,
        }
        let result = run_case(case, ck);
        if case["success"].as_bool().expect("success") {
            assert_eq!(result, Ok(()), "{name}");
            ok += 1;
        } else {
            let want = case["expected_error"].as_str().expect("expected_error");
            assert_eq!(result, Err(want), "{name}");
            failed_as_expected += 1;
        }
    }
    assert_eq!((initiator, responder), (5, 10), "case counts");
    assert_eq!((ok, failed_as_expected), (2, 13), "outcomes");
    eprintln!("bolt8 handshake: {ok} successes and {failed_as_expected} failures matched");
}

/// Version-byte details: the errors carry the version the spec prints.
#[test]
fn transport_bolt8_bad_version_detail() {
    let Some(v) = load_bolt8() else { return };
    let mut checked = 0;
    for case in v["handshake"].as_array().expect("cases") {
        let Some(detail) = case.get("expected_error_detail") else {
            continue;
        };
        let version = detail.as_u64().expect("number") as u8;
        let bad = case["acts"]
            .as_array()
            .expect("acts")
            .iter()
            .rfind(|a| a["io"] == "input")
            .expect("input act");
        assert_eq!(hexv(&bad["hex"])[0], version);
        let ls = secret(&case["ls_priv"]);
        let e = secret(&case["e_priv"]);
        let err = if case["role"] == "initiator" {
            let (hs, _) = InitiatorHandshake::with_ephemeral(ls, public(&case["rs_pub"]), e);
            hs.process_act_two(&hexv(&bad["hex"]))
                .expect_err("bad version")
        } else {
            let (hs, _) = ResponderHandshake::with_ephemeral(ls, e)
                .process_act_one(&hexv(&act(case, 1).expect("act 1")["hex"]))
                .expect("act one");
            hs.process_act_three(&hexv(&bad["hex"]))
                .expect_err("bad version")
        };
        assert!(matches!(err, HandshakeError::BadVersion { version: got, .. } if got == version));
        checked += 1;
    }
    assert_eq!(checked, 2);
}

#[test]
fn transport_bolt8_message_vectors() {
    let Some(v) = load_bolt8() else { return };
    let m = &v["message_encryption"];
    let plaintext = hexv(&m["plaintext"]);
    let remote = SecretKey::from_slice(&[0x21; 32]).expect("key").node_id();
    let ck = hex32(&m["ck"]);
    let sk = hex32(&m["sk"]);
    let rk = hex32(&m["rk"]);
    let mut sender = Session::from_keys(ck, sk, rk, remote);
    // The responder's view: its receiving key is the initiator's sending key.
    let mut receiver = Session::from_keys(ck, rk, sk, remote);
    let outputs = m["outputs"].as_array().expect("outputs");
    assert_eq!(outputs.len(), 6);
    let mut checked = 0;
    for i in 0..=1001u64 {
        let wire = sender.encrypt(&plaintext).expect("encrypt");
        if let Some(o) = outputs.iter().find(|o| o["index"].as_u64() == Some(i)) {
            assert_eq!(
                hex::encode(&wire),
                o["ciphertext"].as_str().expect("hex"),
                "message {i}"
            );
            checked += 1;
        }
        receiver.feed(&wire);
        assert_eq!(
            receiver.next_message().expect("decrypt"),
            Some(plaintext.clone()),
            "message {i}"
        );
    }
    assert_eq!(checked, 6);
    // The rotation checkpoints: a session from the stated post-rotation
    // (ck, sk) must produce the same bytes as one that rotated by itself.
    let rotations = m["key_rotations"].as_array().expect("rotations");
    assert_eq!(rotations.len(), 2);
    for r in rotations {
        let after = r["after_message_index"].as_u64().expect("index");
        let next = outputs
            .iter()
            .find(|o| o["index"].as_u64() == Some(after + 1))
            .expect("an output right after the rotation");
        let mut fresh = Session::from_keys(hex32(&r["ck"]), hex32(&r["sk"]), rk, remote);
        let wire = fresh.encrypt(&plaintext).expect("encrypt");
        assert_eq!(
            hex::encode(&wire),
            next["ciphertext"].as_str().expect("hex")
        );
    }
}
