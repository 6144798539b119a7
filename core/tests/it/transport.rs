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
/// across two key rotations (1002 messages each way).
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

// ---------------------------------------------------------------------------
// Two state machines against each other.

use proptest::prelude::*;

fn key(seed: u8) -> SecretKey {
    SecretKey::from_slice(&[seed.max(1); 32]).expect("key")
}

/// A full in-memory handshake: (initiator's session, responder's session).
fn handshake_pair(initiator: SecretKey, responder: SecretKey) -> (Session, Session) {
    let (hs, act_one) = InitiatorHandshake::new(initiator, responder.node_id());
    let (rhs, act_two) = ResponderHandshake::new(responder)
        .process_act_one(&act_one)
        .expect("act one");
    let (act_three, i) = hs.process_act_two(&act_two).expect("act two");
    let r = rhs.process_act_three(&act_three).expect("act three");
    assert_eq!(i.remote_node_id(), responder.node_id());
    assert_eq!(r.remote_node_id(), initiator.node_id());
    (i, r)
}

/// Feed `wire` to `rx` in chunks cut at `cuts` (positions mod len), and
/// collect every message that comes out.
fn feed_chunked(rx: &mut Session, wire: &[u8], cuts: &[usize]) -> Vec<Vec<u8>> {
    let mut points: Vec<usize> = cuts.iter().map(|c| c % (wire.len() + 1)).collect();
    points.push(0);
    points.push(wire.len());
    points.sort_unstable();
    points.dedup();
    let mut out = Vec::new();
    for w in points.windows(2) {
        rx.feed(&wire[w[0]..w[1]]);
        while let Some(m) = rx.next_message().expect("authentic stream") {
            out.push(m);
        }
    }
    out
}

fn secret_key_strategy() -> impl Strategy<Value = SecretKey> {
    any::<[u8; 32]>().prop_filter_map("valid secret key", |b| SecretKey::from_slice(&b).ok())
}

fn message_strategy() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        3 => proptest::collection::vec(any::<u8>(), 0..300),
        1 => proptest::collection::vec(any::<u8>(), 65_000..=65_535),
        1 => (0usize..=65_535).prop_map(|n| vec![0xa5; n]),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, ..ProptestConfig::default() })]

    /// Handshake, then messages both ways with random chunking, after a
    /// random number of warm-up messages so that many cases cross one or two
    /// key rotations (every 500 messages per direction).
    #[test]
    fn transport_prop_exchange_across_rotations(
        ik in secret_key_strategy(),
        rk in secret_key_strategy(),
        warm_up in (0usize..1100, 0usize..1100),
        msgs in proptest::collection::vec((any::<bool>(), message_strategy()), 1..12),
        cuts in proptest::collection::vec(any::<usize>(), 0..40),
    ) {
        let (mut a, mut b) = handshake_pair(ik, rk);
        let mut wire_ab = Vec::new();
        let mut wire_ba = Vec::new();
        for _ in 0..warm_up.0 { a.encrypt_into(b"w", &mut wire_ab).expect("encrypt"); }
        for _ in 0..warm_up.1 { b.encrypt_into(b"w", &mut wire_ba).expect("encrypt"); }
        prop_assert_eq!(feed_chunked(&mut b, &wire_ab, &cuts).len(), warm_up.0);
        prop_assert_eq!(feed_chunked(&mut a, &wire_ba, &cuts).len(), warm_up.1);
        let (mut sent_ab, mut sent_ba) = (Vec::new(), Vec::new());
        wire_ab.clear();
        wire_ba.clear();
        for (forward, m) in &msgs {
            if *forward {
                a.encrypt_into(m, &mut wire_ab).expect("encrypt");
                sent_ab.push(m.clone());
            } else {
                b.encrypt_into(m, &mut wire_ba).expect("encrypt");
                sent_ba.push(m.clone());
            }
        }
        prop_assert_eq!(feed_chunked(&mut b, &wire_ab, &cuts), sent_ab);
        prop_assert_eq!(feed_chunked(&mut a, &wire_ba, &cuts), sent_ba);
        prop_assert_eq!(b.decryptor().bytes_needed(), LENGTH_HEADER_LEN);
    }

}

// The cheap properties get proptest's default 256 cases.
proptest! {
    /// Any single flipped bit pattern in a frame is caught, with the error
    /// naming the part that was hit, and the receiver stays dead afterwards.
    #[test]
    fn transport_prop_tampering_detected(
        msg in proptest::collection::vec(any::<u8>(), 0..2000),
        before in 0usize..3,
        pos in any::<usize>(),
        mask in 1u8..=255,
    ) {
        let (mut a, mut b) = handshake_pair(key(1), key(2));
        for _ in 0..before {
            b.feed(&a.encrypt(b"x").expect("encrypt"));
            prop_assert!(b.next_message().expect("ok").is_some());
        }
        let mut wire = a.encrypt(&msg).expect("encrypt");
        let pos = pos % wire.len();
        wire[pos] ^= mask;
        b.feed(&wire);
        let want = if pos < LENGTH_HEADER_LEN {
            SessionError::BadLengthMac
        } else {
            SessionError::BadMessageMac
        };
        // A flipped length may ask for more bytes than there are, or fewer;
        // either way the length MAC fails first.
        prop_assert_eq!(b.next_message(), Err(want));
        prop_assert_eq!(b.next_message(), Err(SessionError::Failed));
    }

    /// Any flipped byte in any act makes the handshake fail.
    #[test]
    fn transport_prop_tampered_acts_fail(which in 1u8..=3, pos in any::<usize>(), mask in 1u8..=255) {
        let (ik, rk) = (key(3), key(4));
        let (hs, mut act_one) = InitiatorHandshake::new(ik, rk.node_id());
        if which == 1 {
            act_one[pos % ACT_ONE_LEN] ^= mask;
            prop_assert!(ResponderHandshake::new(rk).process_act_one(&act_one).is_err());
            return Ok(());
        }
        let (rhs, mut act_two) = ResponderHandshake::new(rk).process_act_one(&act_one).expect("act one");
        if which == 2 {
            act_two[pos % ACT_TWO_LEN] ^= mask;
            prop_assert!(hs.process_act_two(&act_two).is_err());
            return Ok(());
        }
        let (mut act_three, _) = hs.process_act_two(&act_two).expect("act two");
        act_three[pos % ACT_THREE_LEN] ^= mask;
        prop_assert!(rhs.process_act_three(&act_three).is_err());
    }

    /// Arbitrary input never panics: responder acts of any length, a
    /// well-formed-looking act one, and any bytes fed to a session.
    #[test]
    fn transport_prop_arbitrary_input_never_panics(
        junk in proptest::collection::vec(any::<u8>(), 0..200),
        body in any::<[u8; 49]>(),
        prefix in prop_oneof![Just(2u8), Just(3u8), any::<u8>()],
        stream in proptest::collection::vec(any::<u8>(), 0..5000),
    ) {
        let rk = key(5);
        let _ = ResponderHandshake::new(rk).process_act_one(&junk);
        let mut act_one = [0u8; ACT_ONE_LEN];
        act_one[1..].copy_from_slice(&body);
        act_one[1] = prefix;
        let r = ResponderHandshake::new(rk).process_act_one(&act_one);
        prop_assert!(r.is_err(), "random act one cannot authenticate");
        // A responder that got a real act one, then junk as act three.
        let (_, act_one) = InitiatorHandshake::new(key(6), rk.node_id());
        let (rhs, _) = ResponderHandshake::new(rk).process_act_one(&act_one).expect("act one");
        prop_assert!(rhs.process_act_three(&junk).is_err());
        // Junk into a session: never a message, never a panic.
        let (_, mut b) = handshake_pair(key(7), key(8));
        b.feed(&stream);
        loop {
            match b.next_message() {
                Ok(Some(_)) => prop_assert!(false, "junk authenticated"),
                Ok(None) => { prop_assert!(stream.len() < LENGTH_HEADER_LEN); break; }
                Err(_) => break,
            }
        }
    }
}

#[test]
fn transport_refuses_oversized_message() {
    let (mut a, mut b) = handshake_pair(key(9), key(10));
    let big = vec![0u8; MAX_MESSAGE_LEN + 1];
    assert_eq!(
        a.encrypt(&big),
        Err(SessionError::MessageTooLong {
            len: MAX_MESSAGE_LEN + 1
        })
    );
    // Nothing was consumed: the next message still decrypts.
    let max = vec![7u8; MAX_MESSAGE_LEN];
    b.feed(&a.encrypt(&max).expect("max size is fine"));
    assert_eq!(b.next_message().expect("ok"), Some(max));
}

#[test]
fn transport_wrong_node_id_fails_act_one() {
    let (_, act_one) = InitiatorHandshake::new(key(11), key(12).node_id());
    let err = ResponderHandshake::new(key(13))
        .process_act_one(&act_one)
        .expect_err("initiator does not know our key");
    assert_eq!(err, HandshakeError::BadMac { act: Act::One });
}

#[test]
fn transport_debug_output_has_no_secrets() {
    let k = key(0x42);
    let (hs, _) = InitiatorHandshake::new(k, key(0x43).node_id());
    let (a, _) = handshake_pair(k, key(0x43));
    let text = format!("{hs:?} {a:?} {:?}", a.decryptor());
    assert!(!text.contains("4242"), "{text}");
    assert!(!text.to_lowercase().contains("secret"), "{text}");
}

// ---------------------------------------------------------------------------
// tokio over real TCP.

use std::time::Duration;
use tokio::net::{TcpListener, TcpStream};

const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);

#[tokio::test]
async fn transport_tokio_loopback() {
    let (ik, rk) = (key(21), key(22));
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("addr");
    let server = tokio::spawn(async move {
        let (tcp, _) = listener.accept().await.expect("accept");
        let mut conn = accept_inbound(tcp, rk, HANDSHAKE_TIMEOUT)
            .await
            .expect("handshake");
        assert_eq!(conn.remote_node_id(), ik.node_id());
        // Echo everything back until the client closes.
        let mut n = 0usize;
        while let Some(msg) = conn.recv().await.expect("recv") {
            conn.send(&msg).await.expect("send");
            n += 1;
        }
        n
    });
    let tcp = TcpStream::connect(addr).await.expect("connect");
    let conn = connect_outbound(tcp, ik, rk.node_id(), HANDSHAKE_TIMEOUT)
        .await
        .expect("handshake");
    assert_eq!(conn.remote_node_id(), rk.node_id());
    let (mut rx, mut tx) = conn.into_split();
    // Enough messages to rotate both keys twice, plus the largest size.
    let msgs: Vec<Vec<u8>> = (0..1100u32)
        .map(|i| match i {
            0 => vec![],
            7 => vec![0xee; MAX_MESSAGE_LEN],
            _ => i.to_be_bytes().repeat((i % 50) as usize + 1),
        })
        .collect();
    let expected = msgs.clone();
    let writer = tokio::spawn(async move {
        for (i, m) in msgs.iter().enumerate() {
            tx.queue(m).expect("queue");
            if i % 10 == 0 {
                tx.flush().await.expect("flush");
            }
        }
        tx.shutdown().await.expect("shutdown");
    });
    for want in &expected {
        assert_eq!(rx.recv().await.expect("recv").as_ref(), Some(want));
    }
    writer.await.expect("writer");
    assert_eq!(rx.recv().await.expect("clean close"), None);
    assert_eq!(server.await.expect("server"), expected.len());
}

#[tokio::test]
async fn transport_tokio_handshake_timeout_and_wrong_key() {
    // A listener that accepts and then says nothing.
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("addr");
    let silent = tokio::spawn(async move {
        let (tcp, _) = listener.accept().await.expect("accept");
        tokio::time::sleep(Duration::from_secs(5)).await;
        drop(tcp);
    });
    let tcp = TcpStream::connect(addr).await.expect("connect");
    let err = connect_outbound(tcp, key(31), key(32).node_id(), Duration::from_millis(200))
        .await
        .expect_err("must time out");
    assert!(matches!(err, ConnectionError::HandshakeTimeout(_)), "{err}");
    silent.abort();

    // The initiator dials the wrong node id: the responder refuses act one.
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("addr");
    let server = tokio::spawn(async move {
        let (tcp, _) = listener.accept().await.expect("accept");
        accept_inbound(tcp, key(33), HANDSHAKE_TIMEOUT).await
    });
    let tcp = TcpStream::connect(addr).await.expect("connect");
    let client = connect_outbound(tcp, key(31), key(34).node_id(), HANDSHAKE_TIMEOUT).await;
    let server = server.await.expect("server task");
    assert!(matches!(
        server,
        Err(ConnectionError::Handshake(HandshakeError::BadMac {
            act: Act::One
        }))
    ));
    assert!(matches!(client, Err(ConnectionError::Io(_))), "{client:?}");
}

/// The types the peer manager moves into tasks are `Send`.
#[test]
fn transport_types_are_send() {
    fn send<T: Send + 'static>() {}
    send::<Session>();
    send::<InitiatorHandshake<SecretKey>>();
    send::<ResponderHandshake<SecretKey>>();
    send::<ResponderAwaitingActThree>();
    send::<Connection<TcpStream>>();
    send::<ConnectionReader<tokio::io::ReadHalf<TcpStream>>>();
    send::<ConnectionWriter<tokio::io::WriteHalf<TcpStream>>>();
    send::<ConnectionError>();
}
