//! Peer methods in Core Lightning's shapes: `connect`, `disconnect`,
//! `listpeers`, `sendcustommsg`.

use std::net::SocketAddr;
use std::str::FromStr;
use std::sync::Arc;

use bitcoin::secp256k1::PublicKey;
use lumen_sdk::error_codes as codes;
use serde_json::{Value, json};

use super::{Dispatcher, Method, ParamSpec, Params, RpcError};
use crate::peer::{PeerError, PeerInfo, PeerManager};

/// The port used when `connect` gets a host without one.
pub const DEFAULT_PORT: u16 = 9735;

fn address_json(addr: &SocketAddr) -> Value {
    let kind = if addr.is_ipv4() { "ipv4" } else { "ipv6" };
    json!({ "type": kind, "address": addr.ip().to_string(), "port": addr.port() })
}

fn peer_json(p: &PeerInfo) -> Value {
    json!({
        "id": p.id.to_string(),
        "connected": true,
        "num_channels": 0,
        "netaddr": [p.addr.to_string()],
        "features": hex::encode(p.features.to_be_bytes()),
    })
}

fn node_id(p: &Params, name: &str) -> Result<PublicKey, RpcError> {
    let s: String = p.require(name)?;
    PublicKey::from_str(&s).map_err(|_| {
        RpcError::invalid_param(
            name,
            format!("'{s}' is not a node id (33-byte compressed public key, hex)"),
        )
    })
}

fn peer_error(e: PeerError) -> RpcError {
    match e {
        PeerError::NotConnected(_) => RpcError::new(codes::PEER_NOT_CONNECTED, e.to_string()),
        PeerError::Connect { .. } => {
            RpcError::new(codes::CONNECT_ALL_ADDRESSES_FAILED, e.to_string())
        }
        PeerError::BadMessage(m) => RpcError::invalid_param("msg", m),
    }
}

/// Split `id[@host[:port]]` plus the separate `host`/`port` parameters.
async fn resolve(p: &Params) -> Result<(PublicKey, Option<SocketAddr>), RpcError> {
    let raw: String = p.require("id")?;
    let (id_text, at_host) = match raw.split_once('@') {
        Some((i, h)) => (i.to_string(), Some(h.to_string())),
        None => (raw.clone(), None),
    };
    let id = PublicKey::from_str(&id_text)
        .map_err(|_| RpcError::invalid_param("id", format!("'{id_text}' is not a node id")))?;
    let host: Option<String> = match (at_host, p.get::<String>("host")?) {
        (Some(_), Some(_)) => {
            return Err(RpcError::invalid_param(
                "host",
                "given twice (in id and as host)",
            ));
        }
        (a, b) => a.or(b),
    };
    let Some(host) = host else {
        return Ok((id, None));
    };
    let port_param: Option<u16> = p.get("port")?;
    // `host:port`, `[v6]:port`, or a bare host.
    let target = if let Ok(sa) = SocketAddr::from_str(&host) {
        sa.to_string()
    } else if host.contains(':') && !host.starts_with('[') && host.matches(':').count() > 1 {
        format!("[{host}]:{}", port_param.unwrap_or(DEFAULT_PORT))
    } else if host.contains(':') {
        host.clone()
    } else {
        format!("{host}:{}", port_param.unwrap_or(DEFAULT_PORT))
    };
    let addr = tokio::net::lookup_host(&target)
        .await
        .map_err(|e| RpcError::invalid_param("host", format!("cannot resolve '{host}': {e}")))?
        .next()
        .ok_or_else(|| RpcError::invalid_param("host", format!("'{host}' has no address")))?;
    Ok((id, Some(addr)))
}

/// Register the peer methods.
pub fn register(dispatcher: &Dispatcher, peers: Arc<PeerManager>) -> Result<(), String> {
    let pm = peers.clone();
    dispatcher.register(Method::new(
        "connect",
        &[
            ParamSpec::req("id"),
            ParamSpec::opt("host"),
            ParamSpec::opt("port"),
        ],
        "Connect to {id} (as id@host:port, or with {host} and {port}).",
        move |p| {
            let pm = pm.clone();
            async move {
                let (id, addr) = resolve(&p).await?;
                let info = match (pm.get(&id), addr) {
                    (Some(info), _) => info,
                    (None, Some(addr)) => pm.connect(id, addr).await.map_err(peer_error)?,
                    (None, None) => {
                        return Err(RpcError::new(
                            codes::CONNECT_NO_KNOWN_ADDRESS,
                            format!("no address known for {id}: give id@host:port"),
                        ));
                    }
                };
                Ok(json!({
                    "id": info.id.to_string(),
                    "features": hex::encode(info.features.to_be_bytes()),
                    "direction": if info.inbound { "in" } else { "out" },
                    "address": address_json(&info.addr),
                }))
            }
        },
    ))?;

    let pm = peers.clone();
    dispatcher.register(Method::new(
        "disconnect",
        &[ParamSpec::req("id"), ParamSpec::opt("force")],
        "Close the connection to peer {id}.",
        move |p| {
            let pm = pm.clone();
            async move {
                let id = node_id(&p, "id")?;
                let _force: Option<bool> = p.get("force")?;
                pm.disconnect(&id).await.map_err(peer_error)?;
                Ok(json!({}))
            }
        },
    ))?;

    let pm = peers.clone();
    dispatcher.register(Method::new(
        "listpeers",
        &[ParamSpec::opt("id"), ParamSpec::opt("level")],
        "List connected peers, or just {id}.",
        move |p| {
            let pm = pm.clone();
            async move {
                let only = match p.get::<String>("id")? {
                    Some(_) => Some(node_id(&p, "id")?),
                    None => None,
                };
                if let Some(level) = p.get::<String>("level")?
                    && !["io", "trace", "debug", "info", "unusual"].contains(&level.as_str())
                {
                    return Err(RpcError::invalid_param(
                        "level",
                        format!("'{level}' is not io, trace, debug, info or unusual"),
                    ));
                }
                let peers: Vec<Value> = pm
                    .list()
                    .iter()
                    .filter(|i| only.is_none_or(|id| i.id == id))
                    .map(peer_json)
                    .collect();
                Ok(json!({ "peers": peers }))
            }
        },
    ))?;

    let pm = peers;
    dispatcher.register(Method::new(
        "sendcustommsg",
        &[ParamSpec::req("node_id"), ParamSpec::req("msg")],
        "Send {msg} (hex: 2-byte type >= 32768, odd unless a plugin declared it, then payload) to peer {node_id}.",
        move |p| {
            let pm = pm.clone();
            async move {
                let id = node_id(&p, "node_id")?;
                let text: String = p.require("msg")?;
                let bytes = hex::decode(&text)
                    .map_err(|e| RpcError::invalid_param("msg", format!("not hex: {e}")))?;
                if bytes.len() < 2 {
                    return Err(RpcError::invalid_param(
                        "msg",
                        "must start with a 2-byte message type",
                    ));
                }
                let ty = u16::from_be_bytes([bytes[0], bytes[1]]);
                if ty < 32768 {
                    return Err(RpcError::invalid_param(
                        "msg",
                        format!("type {ty} is not a custom type (at least 32768)"),
                    ));
                }
                if ty % 2 == 0 && !pm.custom_even().contains(&ty) {
                    return Err(RpcError::invalid_param(
                        "msg",
                        format!(
                            "type {ty} is even: peers hang up on unknown even types, so only \
                             types a plugin declares in its custommessages may be sent"
                        ),
                    ));
                }
                pm.send_custom(&id, ty, bytes[2..].to_vec())
                    .await
                    .map_err(peer_error)?;
                Ok(json!({ "status": "Message sent to the peer's connection for delivery" }))
            }
        },
    ))
}
