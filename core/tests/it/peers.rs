//! Two real `lumend` processes as peers, and hostile peers made by hand with
//! the sans-I/O transport over a plain TCP socket.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::str::FromStr;
use std::time::{Duration, Instant};

use bitcoin::secp256k1::{PublicKey, SecretKey};
use lumen_core::transport::{ACT_TWO_LEN, InitiatorHandshake, Session};
use lumen_core::wire::messages::setup::{Init, InitTlvs, Ping};
use lumen_core::wire::{ChainHash, Features, Message};
use serde_json::{Value, json};

use crate::support::{Node, wait_until};

fn listening_node(dir: &std::path::Path) -> (Node, PublicKey, u16) {
    let node = Node::start_with(dir, &["--peer-listen", "127.0.0.1:0"]);
    let info = node.ok("getinfo", json!({}));
    let id = PublicKey::from_str(info["id"].as_str().expect("id")).expect("pubkey");
    let port = info["binding"][0]["port"].as_u64().expect("port") as u16;
    (node, id, port)
}

#[test]
fn two_lumends_connect_exchange_and_disconnect() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let (a, a_id, _) = listening_node(&tmp.path().join("a"));
    let (b, b_id, b_port) = listening_node(&tmp.path().join("b"));

    let c = a.ok(
        "connect",
        json!({"id": b_id.to_string(), "host": "127.0.0.1", "port": b_port}),
    );
    assert_eq!(c["direction"], "out");
    assert_eq!(
        c["address"],
        json!({"type": "ipv4", "address": "127.0.0.1", "port": b_port})
    );
    // Connecting again is a no-op answered from the table.
    let again = a.ok("connect", json!([format!("{b_id}@127.0.0.1:{b_port}")]));
    assert_eq!(again["id"], c["id"]);
    assert!(wait_until(Duration::from_secs(5), || b
        .ok("listpeers", json!({}))["peers"][0]["id"]
        == json!(a_id.to_string())));
    let listed = b.ok("listpeers", json!({"id": a_id.to_string()}));
    assert_eq!(listed["peers"].as_array().expect("peers").len(), 1);
    assert!(
        !listed["peers"][0]["features"]
            .as_str()
            .expect("features")
            .is_empty()
    );

    a.ok(
        "sendcustommsg",
        json!({"node_id": b_id.to_string(), "msg": "ffff0102"}),
    );
    assert!(
        wait_until(Duration::from_secs(5), || b
            .log()
            .contains("custom message received")),
        "{}",
        b.log()
    );

    // Bad input on the peer RPCs.
    let code = |v: &Value| v["error"]["code"].as_i64().unwrap_or(0);
    assert_eq!(
        code(&a.call(
            "sendcustommsg",
            json!({"node_id": b_id.to_string(), "msg": "0010"})
        )),
        -32602,
        "even/low type"
    );
    assert_eq!(
        code(&a.call(
            "sendcustommsg",
            json!({"node_id": b_id.to_string(), "msg": "8002"})
        )),
        -32602,
        "even type"
    );
    assert_eq!(
        code(&a.call(
            "sendcustommsg",
            json!({"node_id": b_id.to_string(), "msg": "zz"})
        )),
        -32602
    );
    assert_eq!(
        code(&a.call("connect", json!({"id": "02deadbeef"}))),
        -32602
    );
    let stranger = PublicKey::from_secret_key(
        &bitcoin::secp256k1::Secp256k1::new(),
        &SecretKey::from_slice(&[9; 32]).expect("key"),
    );
    assert_eq!(
        code(&a.call("connect", json!({"id": stranger.to_string()}))),
        400,
        "no address known"
    );
    let refused = a.call(
        "connect",
        json!({"id": format!("{stranger}@127.0.0.1:{b_port}")}),
    );
    assert_eq!(
        code(&refused),
        401,
        "wrong node id at that address: {refused}"
    );
    assert_eq!(
        code(&a.call(
            "sendcustommsg",
            json!({"node_id": stranger.to_string(), "msg": "8001"})
        )),
        -1
    );

    assert_eq!(
        a.ok("disconnect", json!({"id": b_id.to_string()})),
        json!({})
    );
    assert!(
        a.ok("listpeers", json!({}))["peers"]
            .as_array()
            .expect("peers")
            .is_empty()
    );
    assert!(wait_until(Duration::from_secs(5), || b
        .ok("listpeers", json!({}))["peers"]
        .as_array()
        .is_some_and(|p| p.is_empty())));
    assert_eq!(
        code(&a.call("disconnect", json!({"id": b_id.to_string()}))),
        -1
    );
}

/// A handshake done by hand: returns the socket and session.
fn handshake(port: u16, remote: PublicKey) -> (TcpStream, Session) {
    let mut s = TcpStream::connect(("127.0.0.1", port)).expect("connect");
    s.set_read_timeout(Some(Duration::from_secs(10)))
        .expect("timeout");
    let key = SecretKey::from_slice(&[0x42; 32]).expect("key");
    let (hs, act1) = InitiatorHandshake::new(key, remote);
    s.write_all(&act1).expect("act1");
    let mut act2 = [0u8; ACT_TWO_LEN];
    s.read_exact(&mut act2).expect("act2");
    let (act3, session) = hs.process_act_two(&act2).expect("act2 ok");
    s.write_all(&act3).expect("act3");
    (s, session)
}

/// Whether the peer closed the socket (reads until EOF or error).
fn closed_by_peer(s: &mut TcpStream) -> bool {
    let mut buf = [0u8; 4096];
    let deadline = Instant::now() + Duration::from_secs(10);
    while Instant::now() < deadline {
        match s.read(&mut buf) {
            Ok(0) => return true,
            Ok(_) => continue,
            Err(e)
                if e.kind() == std::io::ErrorKind::WouldBlock
                    || e.kind() == std::io::ErrorKind::TimedOut =>
            {
                return false;
            }
            Err(_) => return true,
        }
    }
    false
}

fn our_init_bytes() -> Vec<u8> {
    Message::Init(Init {
        global_features: Features::empty(),
        features: Features::our_init(),
        tlvs: InitTlvs {
            networks: Some(vec![ChainHash::for_network(bitcoin::Network::Regtest)]),
            ..InitTlvs::default()
        },
    })
    .encode()
    .expect("init")
}

#[test]
fn hostile_peers_are_disconnected_and_the_node_stays_up() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let (node, id, port) = listening_node(tmp.path());

    // Garbage instead of a handshake.
    let mut s = TcpStream::connect(("127.0.0.1", port)).expect("connect");
    s.set_read_timeout(Some(Duration::from_secs(10)))
        .expect("timeout");
    s.write_all(&[0xab; 50]).expect("garbage");
    assert!(closed_by_peer(&mut s), "garbage handshake must be dropped");

    // A bad MAC after a good handshake.
    let (mut s, mut session) = handshake(port, id);
    let mut frame = session.encrypt(&our_init_bytes()).expect("encrypt");
    let last = frame.len() - 1;
    frame[last] ^= 0x01;
    s.write_all(&frame).expect("write");
    assert!(closed_by_peer(&mut s), "bad MAC must disconnect");

    // A message other than init first.
    let (mut s, mut session) = handshake(port, id);
    let ping = Message::Ping(Ping {
        num_pong_bytes: 4,
        ignored: vec![],
    })
    .encode()
    .expect("ping");
    s.write_all(&session.encrypt(&ping).expect("encrypt"))
        .expect("write");
    assert!(
        closed_by_peer(&mut s),
        "a message before init must disconnect"
    );

    // An unknown even message type after init.
    let (mut s, mut session) = handshake(port, id);
    s.write_all(&session.encrypt(&our_init_bytes()).expect("encrypt"))
        .expect("write");
    s.write_all(&session.encrypt(&[0x00, 0x64, 1, 2, 3]).expect("encrypt"))
        .expect("write");
    assert!(closed_by_peer(&mut s), "unknown even type must disconnect");

    // A frame announcing more than the peer then sends, then EOF: dropped.
    let (mut s, mut session) = handshake(port, id);
    let frame = session.encrypt(&vec![0u8; 60_000]).expect("encrypt");
    s.write_all(&frame[..100]).expect("write");
    s.shutdown(std::net::Shutdown::Write).expect("shutdown");
    assert!(closed_by_peer(&mut s));

    let log = node.log();
    assert!(log.contains("inbound handshake failed"), "{log}");
    assert!(log.contains("expected init"), "{log}");
    assert!(log.contains("unknown even message type 100"), "{log}");
    // Still serving.
    assert_eq!(node.ok("getinfo", json!({}))["num_peers"], 0);
}

#[test]
fn saved_peers_are_reconnected_until_disconnect() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let b_port = crate::support::free_port();
    let mut a = Node::start(&tmp.path().join("a"));
    let a_id = a.ok("getinfo", json!({}))["id"].clone();
    let mut b = Node::start_with(
        &tmp.path().join("b"),
        &["--peer-listen", &format!("127.0.0.1:{b_port}")],
    );
    let b_id = b.ok("getinfo", json!({}))["id"]
        .as_str()
        .expect("id")
        .to_string();
    a.ok(
        "connect",
        json!({"id": format!("{b_id}@127.0.0.1:{b_port}")}),
    );
    let connected = |n: &Node, id: &Value| {
        n.ok("listpeers", json!({}))["peers"]
            .as_array()
            .is_some_and(|p| p.iter().any(|x| &x["id"] == id))
    };

    // A restarts: it reconnects to B by itself.
    assert!(a.signal_and_wait(libc::SIGTERM).success());
    a.restart();
    assert!(
        wait_until(Duration::from_secs(15), || connected(&a, &json!(b_id))),
        "A reconnects after its restart"
    );

    // B goes away and comes back on the same address: A reconnects.
    assert!(b.signal_and_wait(libc::SIGTERM).success());
    assert!(wait_until(Duration::from_secs(10), || !connected(
        &a,
        &json!(b_id)
    )));
    b.restart();
    assert!(
        wait_until(Duration::from_secs(20), || connected(&b, &a_id)),
        "A reconnects after B's restart"
    );

    // `disconnect` forgets: no reconnection after A restarts.
    a.ok("disconnect", json!({"id": b_id}));
    assert!(a.signal_and_wait(libc::SIGTERM).success());
    a.restart();
    std::thread::sleep(Duration::from_secs(3));
    assert!(
        !connected(&a, &json!(b_id)),
        "a disconnected peer stays disconnected"
    );
}

#[test]
fn a_field_longer_than_its_message_disconnects() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let (node, id, port) = listening_node(tmp.path());
    let (mut s, mut session) = handshake(port, id);
    s.write_all(&session.encrypt(&our_init_bytes()).expect("encrypt"))
        .expect("write");
    // `warning` (type 1): channel_id, then a u16 length of 1000 with 3 bytes after it.
    let mut bogus = vec![0x00, 0x01];
    bogus.extend_from_slice(&[0u8; 32]);
    bogus.extend_from_slice(&1000u16.to_be_bytes());
    bogus.extend_from_slice(b"abc");
    s.write_all(&session.encrypt(&bogus).expect("encrypt"))
        .expect("write");
    assert!(
        closed_by_peer(&mut s),
        "a length past the end of the message must disconnect"
    );
    assert!(node.log().contains("malformed message"), "{}", node.log());
    assert_eq!(node.ok("getinfo", json!({}))["num_peers"], 0);
}
