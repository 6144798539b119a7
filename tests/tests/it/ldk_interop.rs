//! LDK (`lightning` 0.2.7) against a real `lumend`, over TCP on loopback:
//! BOLT 8 handshake and `init` in both directions, features understood,
//! pings answered, custom messages each way, disconnects seen.

use std::net::SocketAddr;
use std::str::FromStr;
use std::time::Duration;

use bitcoin::secp256k1::PublicKey;
use serde_json::json;

use crate::ldk_peer::{LdkNode, RawMessage};
use crate::lumend::{Lumend, lumend_path};
use lumen_tests::skip_or_fail;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ldk_and_lumend_connect_both_ways_and_exchange_custom_messages() {
    let Some(bin) = lumend_path() else {
        skip_or_fail(
            "lumend is not built next to this test (run `cargo test --workspace`, or set LUMEND)",
        );
        return;
    };
    let lumen = Lumend::start(&bin);
    let info = lumen.ok("getinfo", json!({}));
    let lumen_id = PublicKey::from_str(info["id"].as_str().expect("id")).expect("pubkey");
    let port = info["binding"][0]["port"].as_u64().expect("bound port") as u16;
    let lumen_addr: SocketAddr = format!("127.0.0.1:{port}").parse().expect("addr");
    let to = Duration::from_secs(10);

    // LDK connects to lumend.
    let ldk = LdkNode::start("ldk-out", [7; 32], false).await;
    ldk.connect(lumen_id, lumen_addr)
        .await
        .expect("LDK → lumend handshake and init");
    let peers = lumen.ok("listpeers", json!({}));
    assert_eq!(peers["peers"][0]["id"], ldk.node_id.to_string());
    assert_eq!(peers["peers"][0]["connected"], true);
    assert_eq!(lumen.ok("getinfo", json!({}))["num_peers"], 1);

    // LDK understood our features.
    let inits = ldk.inits();
    let (_, our_init) = inits
        .iter()
        .find(|(id, _)| *id == lumen_id)
        .expect("our init at LDK");
    let f = &our_init.features;
    assert!(f.supports_static_remote_key(), "static_remotekey");
    assert!(f.supports_payment_secret(), "payment_secret");
    assert!(f.supports_basic_mpp(), "basic_mpp");
    assert!(f.supports_anchors_zero_fee_htlc_tx(), "anchors");
    assert!(f.supports_variable_length_onion(), "var_onion_optin");
    assert!(f.supports_channel_type(), "channel_type");
    assert!(f.supports_shutdown_anysegwit(), "shutdown_anysegwit");
    assert!(!f.requires_unknown_bits(), "no unknown required bits");

    // Custom message LDK → lumend.
    ldk.send_custom(
        lumen_id,
        RawMessage {
            type_id: 32769,
            payload: b"from ldk".to_vec(),
        },
    );
    ldk.wait_for(to, || lumen.log().contains("custom message received"))
        .await
        .expect("lumend logged the custom message");
    assert!(lumen.log().contains("ty=32769 len=8"), "{}", lumen.log());

    // Custom message lumend → LDK.
    let msg = format!("8003{}", hex::encode(b"from lumen"));
    let sent = lumen.ok(
        "sendcustommsg",
        json!({"node_id": ldk.node_id.to_string(), "msg": msg}),
    );
    assert!(sent["status"].is_string());
    ldk.wait_for(to, || !ldk.received().is_empty())
        .await
        .expect("LDK got our custom message");
    assert_eq!(
        ldk.received()[0],
        (
            lumen_id,
            RawMessage {
                type_id: 32771,
                payload: b"from lumen".to_vec()
            }
        )
    );

    // LDK pings on each timer tick (about 1 s here) and drops a peer whose
    // pong is late: still connected after 3 s means pings are answered.
    tokio::time::sleep(Duration::from_secs(3)).await;
    assert!(
        ldk.peers.peer_by_node_id(&lumen_id).is_some(),
        "LDK kept the connection: pings answered"
    );
    assert!(ldk.disconnected().is_empty());

    // A disconnect on the LDK side shows in listpeers.
    ldk.peers.disconnect_by_node_id(lumen_id);
    ldk.wait_for(to, || {
        lumen.ok("listpeers", json!({}))["peers"]
            .as_array()
            .is_some_and(|p| p.is_empty())
    })
    .await
    .expect("lumend saw the disconnect");

    // lumend connects out to a listening LDK node.
    let ldk_in = LdkNode::start("ldk-in", [8; 32], true).await;
    let addr = ldk_in.listen_addr.expect("listening");
    let connected = lumen.ok(
        "connect",
        json!({"id": format!("{}@{addr}", ldk_in.node_id)}),
    );
    assert_eq!(connected["direction"], "out");
    assert_eq!(connected["address"]["port"], addr.port());
    ldk_in
        .wait_for(to, || ldk_in.inits().iter().any(|(id, _)| *id == lumen_id))
        .await
        .expect("LDK received our init");
    // And lumend disconnects it.
    assert_eq!(
        lumen.ok("disconnect", json!({"id": ldk_in.node_id.to_string()})),
        json!({})
    );
    ldk_in
        .wait_for(to, || ldk_in.disconnected().contains(&lumen_id))
        .await
        .expect("LDK saw our disconnect");
    let v = lumen.call(
        "sendcustommsg",
        json!({"node_id": ldk_in.node_id.to_string(), "msg": "8003"}),
    );
    assert_eq!(v["error"]["code"], -1, "{v}");
}
