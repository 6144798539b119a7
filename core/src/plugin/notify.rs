//! Node events to plugins: peer connect/disconnect/custom messages (with the
//! `peer_connected` and `custommsg` hooks) and new blocks, in Core
//! Lightning's payload shapes.

use std::sync::Arc;

use lumen_sdk::hooks::{
    ConnectedPeer, CustomMsgPayload, Direction, PeerConnectedPayload, PeerConnectedResult,
};
use serde_json::{Value, json};
use tokio::sync::broadcast::error::RecvError;

use super::PluginManager;
use crate::chain::{ChainNotification, ChainSource};
use crate::peer::manager::{PeerInfo, PeerManager, PeerNotification};

/// `connect` payload.
pub fn connect_payload(info: &PeerInfo) -> Value {
    let kind = if info.addr.is_ipv4() { "ipv4" } else { "ipv6" };
    json!({
        "id": info.id.to_string(),
        "direction": if info.inbound { "in" } else { "out" },
        "address": {"type": kind, "address": info.addr.ip().to_string(), "port": info.addr.port()},
    })
}

/// `peer_connected` hook payload.
pub fn peer_connected_payload(info: &PeerInfo) -> Value {
    let payload = PeerConnectedPayload {
        peer: ConnectedPeer {
            id: info.id.to_string(),
            direction: if info.inbound {
                Direction::In
            } else {
                Direction::Out
            },
            addr: info.addr.to_string(),
            remote_addr: None,
            features: hex::encode(info.features.to_be_bytes()),
        },
    };
    serde_json::to_value(payload).unwrap_or(Value::Null)
}

/// Forward peer events: the `peer_connected` hook runs inside the
/// connection, before the peer is listed (a refusal fails `connect` and
/// nothing announces the peer); then `connect`; `disconnect`; `custommsg`
/// hook then notification. In order, one at a time.
pub fn spawn_peer_events(manager: Arc<PluginManager>, peers: Arc<PeerManager>) {
    let gate_manager = manager.clone();
    peers.set_connect_gate(Arc::new(move |info: PeerInfo| {
        let manager = gate_manager.clone();
        Box::pin(async move {
            let verdict = manager
                .call_hook("peer_connected", &peer_connected_payload(&info))
                .await;
            let Some((plugin, result)) = verdict else {
                return Ok(());
            };
            match serde_json::from_value::<PeerConnectedResult>(result.clone()) {
                Ok(PeerConnectedResult::Disconnect { error_message }) => {
                    let why = error_message.unwrap_or_else(|| format!("refused by {plugin}"));
                    tracing::info!(peer = %info.id, %plugin, why, "peer_connected hook: disconnect");
                    Err(why)
                }
                Ok(PeerConnectedResult::Continue) => Ok(()),
                Err(_) => {
                    tracing::warn!(%plugin, %result, "peer_connected hook: unknown result; continuing");
                    Ok(())
                }
            }
        })
    }));
    let mut rx = peers.subscribe();
    tokio::spawn(async move {
        loop {
            let ev = match rx.recv().await {
                Ok(ev) => ev,
                Err(RecvError::Lagged(n)) => {
                    tracing::warn!(missed = n, "plugin host lagged behind peer events");
                    continue;
                }
                Err(RecvError::Closed) => break,
            };
            match ev {
                PeerNotification::Connected(info) => {
                    manager.notify("connect", connect_payload(&info));
                }
                PeerNotification::Disconnected { id, .. } => {
                    manager.notify("disconnect", json!({"id": id.to_string()}));
                }
                PeerNotification::Custom(msg) => {
                    let mut bytes = msg.ty.to_be_bytes().to_vec();
                    bytes.extend_from_slice(&msg.payload);
                    let payload = serde_json::to_value(CustomMsgPayload {
                        peer_id: msg.peer.to_string(),
                        payload: hex::encode(bytes),
                    })
                    .unwrap_or(Value::Null);
                    if let Some((plugin, result)) = manager.call_hook("custommsg", &payload).await {
                        tracing::warn!(%plugin, %result, "custommsg hook: only continue is defined");
                    }
                    manager.notify("custommsg", payload);
                }
            }
        }
    });
}

/// Forward `block_added` for each newly connected block.
pub fn spawn_chain_events(manager: Arc<PluginManager>, chain: Arc<dyn ChainSource>) {
    let mut rx = chain.subscribe();
    tokio::spawn(async move {
        loop {
            match rx.recv().await {
                Ok(ChainNotification::Connected { height, hash }) => manager.notify(
                    "block_added",
                    json!({"hash": hash.to_string(), "height": height}),
                ),
                Ok(ChainNotification::Disconnected { .. }) => {}
                Err(RecvError::Lagged(n)) => {
                    tracing::warn!(missed = n, "plugin host lagged behind chain events");
                }
                Err(RecvError::Closed) => break,
            }
        }
    });
}
