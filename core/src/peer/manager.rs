//! The peer table and one task per connection.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use bitcoin::secp256k1::PublicKey;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{broadcast, mpsc, oneshot};

use super::session::{Action, PeerEvent, PeerSession};
use crate::signer::Signer;
use crate::store::{Batch, KeyCodec, Record, Store, Tree};
use crate::transport::{self, Connection};
use crate::wire::{ChainHash, Features};

/// How long a handshake plus `init` may take.
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(20);
/// Messages queued for one peer before senders wait.
pub const SEND_QUEUE: usize = 256;

/// Longest wait between reconnection attempts to a saved peer.
pub const MAX_RECONNECT_BACKOFF: Duration = Duration::from_secs(60);

/// A saved peer's node id (33 bytes, compressed).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SavedPeerId(pub PublicKey);

impl KeyCodec for SavedPeerId {
    fn encode_key(&self) -> Vec<u8> {
        self.0.serialize().to_vec()
    }
    fn decode_key(bytes: &[u8]) -> Result<Self, String> {
        PublicKey::from_slice(bytes)
            .map(SavedPeerId)
            .map_err(|e| e.to_string())
    }
}

/// Where to reach a saved peer. Record version 1: the address as UTF-8.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SavedPeerAddr(pub SocketAddr);

impl Record for SavedPeerAddr {
    const VERSION: u8 = 1;
    fn encode_body(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(self.0.to_string().as_bytes());
    }
    fn decode_body(version: u8, body: &[u8]) -> Result<Self, String> {
        if version != 1 {
            return Err(format!("unknown saved-peer record version {version}"));
        }
        let text = std::str::from_utf8(body).map_err(|e| e.to_string())?;
        text.parse()
            .map(SavedPeerAddr)
            .map_err(|e| format!("bad address {text:?}: {e}"))
    }
}

/// Peers we connected out to and keep: reconnected at start and after a drop,
/// until `disconnect` forgets them. Owned by the peer manager.
const SAVED_PEERS: Tree<SavedPeerId, SavedPeerAddr> = Tree::new("peers");

/// A connected peer, as `listpeers` and `connect` show it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PeerInfo {
    /// Node id.
    pub id: PublicKey,
    /// Remote socket address.
    pub addr: SocketAddr,
    /// Whether they connected to us.
    pub inbound: bool,
    /// Their `init` features.
    pub features: Features,
}

/// Why a peer operation failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PeerError {
    /// TCP, handshake or `init` failed.
    #[error("connection to {addr} failed: {reason}")]
    Connect {
        /// Where.
        addr: SocketAddr,
        /// Why.
        reason: String,
    },
    /// No such connected peer.
    #[error("peer {0} is not connected")]
    NotConnected(PublicKey),
    /// The message was refused.
    #[error("{0}")]
    BadMessage(String),
}

enum Command {
    Custom(u16, Vec<u8>, oneshot::Sender<Result<(), String>>),
    Disconnect,
}

struct Entry {
    info: PeerInfo,
    conn_id: u64,
    commands: mpsc::Sender<Command>,
}

/// A custom message from a peer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CustomMessage {
    /// Sender.
    pub peer: PublicKey,
    /// Type (≥ 32768).
    pub ty: u16,
    /// Payload.
    pub payload: Vec<u8>,
}

/// Peer-level notifications for the rest of the node (and plugins later).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PeerNotification {
    /// `init` exchanged.
    Connected(PeerInfo),
    /// The connection closed.
    Disconnected {
        /// Who.
        id: PublicKey,
        /// Why.
        reason: String,
    },
    /// A custom message arrived.
    Custom(CustomMessage),
}

/// Decides whether a peer that finished `init` may stay (the plugins'
/// `peer_connected` hook): `Err(why)` sends `why` as a warning and hangs up
/// before the peer is listed or announced.
pub type ConnectGate = Arc<
    dyn Fn(
            PeerInfo,
        )
            -> std::pin::Pin<Box<dyn std::future::Future<Output = Result<(), String>> + Send>>
        + Send
        + Sync,
>;

/// The peer manager.
pub struct PeerManager {
    signer: Arc<Signer>,
    chain: ChainHash,
    /// Sent in every `init`; plugins loaded at startup may add bits before
    /// the node listens.
    ours: std::sync::RwLock<Features>,
    /// Even custom message types plugins declared (`custommessages`).
    custom_even:
        std::sync::RwLock<Option<tokio::sync::watch::Receiver<std::collections::BTreeSet<u16>>>>,
    /// Asked before a new peer is accepted.
    gate: std::sync::RwLock<Option<ConnectGate>>,
    peers: Mutex<HashMap<PublicKey, Entry>>,
    next_conn: AtomicU64,
    events: broadcast::Sender<PeerNotification>,
    bound: Mutex<Vec<SocketAddr>>,
    store: Option<Arc<Store>>,
    saved: Mutex<HashMap<PublicKey, SocketAddr>>,
}

impl PeerManager {
    /// A manager for `network`, using the signer's node key. With a store,
    /// outbound peers are saved there and reconnected; the saved set is read
    /// once here and kept in memory, since this manager is its only writer.
    pub fn new(
        signer: Arc<Signer>,
        network: bitcoin::Network,
        store: Option<Arc<Store>>,
    ) -> Arc<PeerManager> {
        let saved = match &store {
            None => HashMap::new(),
            Some(store) => match store.scan_prefix(&SAVED_PEERS, &[]) {
                Ok(rows) => rows
                    .into_iter()
                    .map(|(SavedPeerId(id), SavedPeerAddr(a))| (id, a))
                    .collect(),
                Err(e) => {
                    tracing::error!(error = %e, "cannot read saved peers");
                    HashMap::new()
                }
            },
        };
        let (events, _) = broadcast::channel(1024);
        Arc::new(PeerManager {
            signer,
            chain: ChainHash::for_network(network),
            ours: std::sync::RwLock::new(Features::our_init()),
            custom_even: std::sync::RwLock::new(None),
            gate: std::sync::RwLock::new(None),
            peers: Mutex::new(HashMap::new()),
            next_conn: AtomicU64::new(1),
            events,
            bound: Mutex::new(Vec::new()),
            store,
            saved: Mutex::new(saved),
        })
    }

    /// Saved peers.
    pub fn saved(&self) -> Vec<(PublicKey, SocketAddr)> {
        self.saved
            .lock()
            .map(|s| s.iter().map(|(id, a)| (*id, *a)).collect())
            .unwrap_or_default()
    }

    fn save(&self, id: PublicKey, addr: SocketAddr) {
        let Some(store) = &self.store else { return };
        let Ok(mut saved) = self.saved.lock() else {
            return;
        };
        if saved.get(&id) == Some(&addr) {
            return;
        }
        let mut b = Batch::default();
        b.put(&SAVED_PEERS, &SavedPeerId(id), &SavedPeerAddr(addr));
        match store.commit(b) {
            Ok(()) => {
                saved.insert(id, addr);
            }
            Err(e) => tracing::error!(peer = %id, error = %e, "cannot save peer"),
        }
    }

    fn forget(&self, id: &PublicKey) {
        let Some(store) = &self.store else { return };
        let Ok(mut saved) = self.saved.lock() else {
            return;
        };
        if saved.remove(id).is_none() {
            return;
        }
        let mut b = Batch::default();
        b.delete(&SAVED_PEERS, &SavedPeerId(*id));
        if let Err(e) = store.commit(b) {
            tracing::error!(peer = %id, error = %e, "cannot forget peer");
        }
    }

    /// Keep saved peers connected: try each one that is not connected, with
    /// exponential backoff per peer (1 s doubling to [`MAX_RECONNECT_BACKOFF`]).
    pub fn spawn_reconnector(self: &Arc<Self>) -> tokio::task::JoinHandle<()> {
        let this = self.clone();
        tokio::spawn(async move {
            let mut state: HashMap<PublicKey, (Instant, Duration)> = HashMap::new();
            let in_flight: Arc<Mutex<std::collections::HashSet<PublicKey>>> = Arc::default();
            let mut ticker = tokio::time::interval(Duration::from_millis(500));
            loop {
                ticker.tick().await;
                let now = Instant::now();
                for (id, addr) in this.saved() {
                    if this.get(&id).is_some() {
                        state.remove(&id);
                        continue;
                    }
                    let busy = in_flight.lock().map(|s| s.contains(&id)).unwrap_or(true);
                    let (next, backoff) = state.entry(id).or_insert((now, Duration::from_secs(1)));
                    if busy || now < *next {
                        continue;
                    }
                    *next = now + *backoff;
                    *backoff = (*backoff * 2).min(MAX_RECONNECT_BACKOFF);
                    if let Ok(mut s) = in_flight.lock() {
                        s.insert(id);
                    }
                    let pm = this.clone();
                    let in_flight = in_flight.clone();
                    tokio::spawn(async move {
                        match pm.connect_inner(id, addr).await {
                            Ok(_) => tracing::info!(peer = %id, %addr, "reconnected to saved peer"),
                            Err(e) => {
                                tracing::info!(peer = %id, error = %e, "reconnect failed; will retry")
                            }
                        }
                        if let Ok(mut s) = in_flight.lock() {
                            s.remove(&id);
                        }
                    });
                }
            }
        })
    }

    /// The features we send in `init`.
    pub fn our_features(&self) -> Features {
        self.ours
            .read()
            .map(|f| f.clone())
            .unwrap_or_else(|e| e.into_inner().clone())
    }

    /// Ask `gate` about every peer that finishes `init` from now on.
    pub fn set_connect_gate(&self, gate: ConnectGate) {
        *self.gate.write().unwrap_or_else(|e| e.into_inner()) = Some(gate);
    }

    /// Follow `types` for the even custom message types new connections
    /// accept and may send (the plugins' `custommessages`; connections
    /// already up keep the set they started with).
    pub fn follow_custom_types(
        &self,
        types: tokio::sync::watch::Receiver<std::collections::BTreeSet<u16>>,
    ) {
        *self.custom_even.write().unwrap_or_else(|e| e.into_inner()) = Some(types);
    }

    /// The custom message types plugins declare now (see
    /// [`Self::follow_custom_types`]).
    pub fn custom_even(&self) -> std::collections::BTreeSet<u16> {
        self.custom_even
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .as_ref()
            .map(|rx| rx.borrow().clone())
            .unwrap_or_default()
    }

    /// Add `extra` to the features sent in `init` from now on (plugin
    /// feature bits, set before the node listens or connects).
    pub fn add_features(&self, extra: &Features) {
        let mut ours = self.ours.write().unwrap_or_else(|e| e.into_inner());
        *ours = ours.union(extra);
    }

    /// Peer events from now on.
    pub fn subscribe(&self) -> broadcast::Receiver<PeerNotification> {
        self.events.subscribe()
    }

    /// Addresses we listen on.
    pub fn bound(&self) -> Vec<SocketAddr> {
        self.bound.lock().map(|b| b.clone()).unwrap_or_default()
    }

    /// Accept peers on `addr`; returns the bound address.
    pub async fn listen(self: &Arc<Self>, addr: SocketAddr) -> std::io::Result<SocketAddr> {
        let listener = TcpListener::bind(addr).await?;
        let local = listener.local_addr()?;
        if let Ok(mut b) = self.bound.lock() {
            b.push(local);
        }
        let this = self.clone();
        tokio::spawn(async move {
            loop {
                match listener.accept().await {
                    Ok((stream, remote)) => {
                        let this = this.clone();
                        tokio::spawn(async move {
                            let _ = stream.set_nodelay(true);
                            match transport::accept_inbound(
                                stream,
                                this.signer.clone(),
                                CONNECT_TIMEOUT,
                            )
                            .await
                            {
                                Ok(conn) => this.run(conn, remote, true, None).await,
                                Err(e) => {
                                    tracing::info!(%remote, error = %e, "inbound handshake failed")
                                }
                            }
                        });
                    }
                    Err(e) => {
                        tracing::warn!(error = %e, "accept failed");
                        tokio::time::sleep(Duration::from_millis(100)).await;
                    }
                }
            }
        });
        Ok(local)
    }

    /// Connect to `id` at `addr`; returns once `init` is exchanged. The peer
    /// is saved (with a store) and kept connected until `disconnect`.
    pub async fn connect(
        self: &Arc<Self>,
        id: PublicKey,
        addr: SocketAddr,
    ) -> Result<PeerInfo, PeerError> {
        let info = self.connect_inner(id, addr).await?;
        self.save(id, addr);
        Ok(info)
    }

    async fn connect_inner(
        self: &Arc<Self>,
        id: PublicKey,
        addr: SocketAddr,
    ) -> Result<PeerInfo, PeerError> {
        if let Some(info) = self.get(&id) {
            return Ok(info);
        }
        let fail = |reason: String| PeerError::Connect { addr, reason };
        let stream = tokio::time::timeout(CONNECT_TIMEOUT, TcpStream::connect(addr))
            .await
            .map_err(|_| fail("TCP connect timed out".into()))?
            .map_err(|e| fail(e.to_string()))?;
        let _ = stream.set_nodelay(true);
        let conn = transport::connect_outbound(stream, self.signer.clone(), id, CONNECT_TIMEOUT)
            .await
            .map_err(|e| fail(e.to_string()))?;
        let (ready_tx, ready_rx) = oneshot::channel();
        let this = self.clone();
        tokio::spawn(async move { this.run(conn, addr, false, Some(ready_tx)).await });
        match tokio::time::timeout(CONNECT_TIMEOUT, ready_rx).await {
            Ok(Ok(Ok(info))) => Ok(info),
            Ok(Ok(Err(reason))) => Err(fail(reason)),
            Ok(Err(_)) => Err(fail("connection closed before init".into())),
            Err(_) => Err(fail("no init from the peer in time".into())),
        }
    }

    /// A connected peer.
    pub fn get(&self, id: &PublicKey) -> Option<PeerInfo> {
        self.peers.lock().ok()?.get(id).map(|e| e.info.clone())
    }

    /// Every connected peer.
    pub fn list(&self) -> Vec<PeerInfo> {
        let mut v: Vec<PeerInfo> = self
            .peers
            .lock()
            .map(|p| p.values().map(|e| e.info.clone()).collect())
            .unwrap_or_default();
        v.sort_by_key(|p| p.id.serialize());
        v
    }

    fn commands(&self, id: &PublicKey) -> Result<mpsc::Sender<Command>, PeerError> {
        self.peers
            .lock()
            .ok()
            .and_then(|p| p.get(id).map(|e| e.commands.clone()))
            .ok_or(PeerError::NotConnected(*id))
    }

    /// Close the connection to `id` and stop reconnecting to it.
    pub async fn disconnect(&self, id: &PublicKey) -> Result<(), PeerError> {
        self.forget(id);
        let tx = self.commands(id)?;
        let _ = tx.send(Command::Disconnect).await;
        // Wait until the task has removed it, so `listpeers` agrees.
        for _ in 0..200 {
            if self.get(id).is_none() {
                return Ok(());
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        Ok(())
    }

    /// Queue a custom message (`type || payload`).
    pub async fn send_custom(
        &self,
        id: &PublicKey,
        ty: u16,
        payload: Vec<u8>,
    ) -> Result<(), PeerError> {
        let tx = self.commands(id)?;
        let (done_tx, done_rx) = oneshot::channel();
        tx.send(Command::Custom(ty, payload, done_tx))
            .await
            .map_err(|_| PeerError::NotConnected(*id))?;
        done_rx
            .await
            .map_err(|_| PeerError::NotConnected(*id))?
            .map_err(PeerError::BadMessage)
    }

    async fn run(
        self: Arc<Self>,
        mut conn: Connection<TcpStream>,
        addr: SocketAddr,
        inbound: bool,
        mut ready: Option<oneshot::Sender<Result<PeerInfo, String>>>,
    ) {
        let id = conn.remote_node_id();
        let conn_id = self.next_conn.fetch_add(1, Ordering::Relaxed);
        let (cmd_tx, mut cmd_rx) = mpsc::channel::<Command>(SEND_QUEUE);
        let (session, init) = PeerSession::new(self.our_features(), self.chain, Instant::now());
        let mut session = session.with_custom_even(self.custom_even());
        let mut ticker = tokio::time::interval(Duration::from_secs(1));
        let mut pending = vec![init];
        let reason = 'conn: loop {
            for action in pending.drain(..) {
                match action {
                    Action::Send(bytes) => {
                        if let Err(e) = conn.send(&bytes).await {
                            break 'conn format!("send failed: {e}");
                        }
                    }
                    Action::Disconnect(reason) => break 'conn reason,
                    Action::Event(PeerEvent::Ready { features }) => {
                        let info = PeerInfo {
                            id,
                            addr,
                            inbound,
                            features,
                        };
                        let gate = self
                            .gate
                            .read()
                            .map(|g| g.clone())
                            .unwrap_or_else(|e| e.into_inner().clone());
                        if let Some(gate) = gate
                            && let Err(why) = gate(info.clone()).await
                        {
                            for a in session.warning_and_close(&why) {
                                if let Action::Send(bytes) = a {
                                    let _ = conn.send(&bytes).await;
                                }
                            }
                            break 'conn format!("refused by a plugin: {why}");
                        }
                        let old = self.peers.lock().ok().and_then(|mut p| {
                            p.insert(
                                id,
                                Entry {
                                    info: info.clone(),
                                    conn_id,
                                    commands: cmd_tx.clone(),
                                },
                            )
                        });
                        if let Some(old) = old {
                            // A newer connection replaces the older one.
                            let _ = old.commands.try_send(Command::Disconnect);
                        }
                        tracing::info!(peer = %id, %addr, inbound, "peer connected");
                        let _ = self.events.send(PeerNotification::Connected(info.clone()));
                        if let Some(r) = ready.take() {
                            let _ = r.send(Ok(info));
                        }
                    }
                    Action::Event(PeerEvent::Custom { ty, payload }) => {
                        tracing::info!(peer = %id, ty, len = payload.len(), "custom message received");
                        let _ = self.events.send(PeerNotification::Custom(CustomMessage {
                            peer: id,
                            ty,
                            payload,
                        }));
                    }
                    Action::Event(PeerEvent::Warning(text)) => {
                        tracing::warn!(peer = %id, warning = %text, "peer warning")
                    }
                    Action::Event(PeerEvent::Error(text)) => {
                        tracing::warn!(peer = %id, error = %text, "peer error")
                    }
                }
            }
            tokio::select! {
                msg = conn.recv() => match msg {
                    Ok(Some(bytes)) => pending = session.on_message(&bytes, Instant::now()),
                    Ok(None) => break 'conn "closed by peer".to_string(),
                    Err(e) => break 'conn format!("transport: {e}"),
                },
                cmd = cmd_rx.recv() => match cmd {
                    Some(Command::Custom(ty, payload, done)) => match session.custom(ty, payload) {
                        Ok(bytes) => {
                            let sent = conn.send(&bytes).await.map_err(|e| e.to_string());
                            let failed = sent.is_err();
                            let _ = done.send(sent);
                            if failed {
                                break 'conn "send failed".to_string();
                            }
                        }
                        Err(e) => {
                            let _ = done.send(Err(e));
                        }
                    },
                    Some(Command::Disconnect) | None => break 'conn "disconnect requested".to_string(),
                },
                _ = ticker.tick() => pending = session.on_tick(Instant::now()),
            }
        };
        if let Some(r) = ready.take() {
            let _ = r.send(Err(reason.clone()));
        }
        let removed = self
            .peers
            .lock()
            .map(|mut p| {
                if p.get(&id).is_some_and(|e| e.conn_id == conn_id) {
                    p.remove(&id);
                    true
                } else {
                    false
                }
            })
            .unwrap_or(false);
        tracing::info!(peer = %id, %addr, %reason, "peer disconnected");
        if removed {
            let _ = self
                .events
                .send(PeerNotification::Disconnected { id, reason });
        }
    }
}
