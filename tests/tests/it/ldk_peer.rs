//! An LDK node reduced to what peer-level interop needs: LDK's
//! `PeerManager` (BOLT 8 transport, `init`, ping/pong, errors) driven by
//! `lightning-net-tokio`, with a handler that records custom messages and can
//! send them. Channels and gossip are refused or ignored.
//!
//! The self-test below runs two of these against each other, so a failure in
//! an interop test with `lumend` is not a failure of the harness.

use std::collections::VecDeque;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use bitcoin::secp256k1::PublicKey;
use lightning::ln::msgs::{DecodeError, Init, LightningError};
use lightning::ln::peer_handler::{
    CustomMessageHandler, ErroringMessageHandler, IgnoringMessageHandler, MessageHandler,
    PeerManager,
};
use lightning::ln::wire::{CustomMessageReader, Type};
use lightning::sign::{KeysManager, NodeSigner, Recipient};
use lightning::types::features::{InitFeatures, NodeFeatures};
use lightning::util::logger::{Logger, Record};
use lightning::util::ser::{LengthLimitedRead, Writeable, Writer};
use lightning_net_tokio::SocketDescriptor;

/// A custom message as raw bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RawMessage {
    /// Message type (odd, ≥ 32768 for custom messages).
    pub type_id: u16,
    /// Payload after the type.
    pub payload: Vec<u8>,
}

impl Type for RawMessage {
    fn type_id(&self) -> u16 {
        self.type_id
    }
}

impl Writeable for RawMessage {
    fn write<W: Writer>(&self, w: &mut W) -> Result<(), lightning::io::Error> {
        w.write_all(&self.payload)
    }
}

/// Records custom messages and peer events; queues outgoing custom messages.
#[derive(Default)]
pub struct CustomHandler {
    received: Mutex<Vec<(PublicKey, RawMessage)>>,
    outgoing: Mutex<VecDeque<(PublicKey, RawMessage)>>,
    connected: Mutex<Vec<(PublicKey, Init)>>,
    disconnected: Mutex<Vec<PublicKey>>,
}

impl CustomMessageReader for CustomHandler {
    type CustomMessage = RawMessage;

    fn read<R: LengthLimitedRead>(
        &self,
        message_type: u16,
        buffer: &mut R,
    ) -> Result<Option<RawMessage>, DecodeError> {
        if message_type < 32768 {
            return Ok(None);
        }
        let len = usize::try_from(buffer.remaining_bytes())
            .map_err(|_| DecodeError::BadLengthDescriptor)?;
        let mut payload = vec![0u8; len];
        buffer
            .read_exact(&mut payload)
            .map_err(|_| DecodeError::ShortRead)?;
        Ok(Some(RawMessage {
            type_id: message_type,
            payload,
        }))
    }
}

impl CustomMessageHandler for CustomHandler {
    fn handle_custom_message(
        &self,
        msg: RawMessage,
        sender: PublicKey,
    ) -> Result<(), LightningError> {
        self.received.lock().expect("lock").push((sender, msg));
        Ok(())
    }

    fn get_and_clear_pending_msg(&self) -> Vec<(PublicKey, RawMessage)> {
        self.outgoing.lock().expect("lock").drain(..).collect()
    }

    fn peer_disconnected(&self, their_node_id: PublicKey) {
        self.disconnected.lock().expect("lock").push(their_node_id);
    }

    fn peer_connected(
        &self,
        their_node_id: PublicKey,
        msg: &Init,
        _inbound: bool,
    ) -> Result<(), ()> {
        self.connected
            .lock()
            .expect("lock")
            .push((their_node_id, msg.clone()));
        Ok(())
    }

    fn provided_node_features(&self) -> NodeFeatures {
        NodeFeatures::empty()
    }

    fn provided_init_features(&self, _their_node_id: PublicKey) -> InitFeatures {
        InitFeatures::empty()
    }
}

/// Prints LDK's log lines at debug level and above when `LDK_LOG` is set.
pub struct TestLogger(pub &'static str);

impl Logger for TestLogger {
    fn log(&self, record: Record) {
        if std::env::var_os("LDK_LOG").is_some() {
            eprintln!("[ldk {}] {:?} {}", self.0, record.level, record.args);
        }
    }
}

/// The concrete `PeerManager` type.
pub type LdkPeerManager = PeerManager<
    SocketDescriptor,
    Arc<ErroringMessageHandler>,
    Arc<IgnoringMessageHandler>,
    Arc<IgnoringMessageHandler>,
    Arc<TestLogger>,
    Arc<CustomHandler>,
    Arc<KeysManager>,
    Arc<IgnoringMessageHandler>,
>;

/// A running LDK peer.
pub struct LdkNode {
    /// LDK's peer manager.
    pub peers: Arc<LdkPeerManager>,
    /// Custom-message and event recorder.
    pub handler: Arc<CustomHandler>,
    /// Our node id.
    pub node_id: PublicKey,
    /// Where we accept connections, if listening.
    pub listen_addr: Option<SocketAddr>,
    tasks: Vec<tokio::task::JoinHandle<()>>,
}

impl Drop for LdkNode {
    fn drop(&mut self) {
        for t in &self.tasks {
            t.abort();
        }
    }
}

impl LdkNode {
    /// Start a node (with a listener on 127.0.0.1 when `listen`). Must run
    /// inside a tokio runtime.
    pub async fn start(name: &'static str, seed: [u8; 32], listen: bool) -> LdkNode {
        let now = SystemTime::now().duration_since(UNIX_EPOCH).expect("time");
        let keys = Arc::new(KeysManager::new(
            &seed,
            now.as_secs(),
            now.subsec_nanos(),
            true,
        ));
        let node_id = keys.get_node_id(Recipient::Node).expect("node id");
        let handler = Arc::new(CustomHandler::default());
        let peers = Arc::new(PeerManager::new(
            MessageHandler {
                chan_handler: Arc::new(ErroringMessageHandler::new()),
                route_handler: Arc::new(IgnoringMessageHandler {}),
                onion_message_handler: Arc::new(IgnoringMessageHandler {}),
                custom_message_handler: handler.clone(),
                send_only_message_handler: Arc::new(IgnoringMessageHandler {}),
            },
            now.as_secs() as u32,
            &seed,
            Arc::new(TestLogger(name)),
            keys,
        ));
        let mut tasks = Vec::new();
        // Drive queued messages and keepalive pings.
        let p = peers.clone();
        tasks.push(tokio::spawn(async move {
            let mut ticks = 0u32;
            loop {
                p.process_events();
                tokio::time::sleep(Duration::from_millis(20)).await;
                ticks += 1;
                if ticks.is_multiple_of(50) {
                    p.timer_tick_occurred();
                }
            }
        }));
        let mut listen_addr = None;
        if listen {
            let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
                .await
                .expect("bind");
            listen_addr = Some(listener.local_addr().expect("addr"));
            let p = peers.clone();
            tasks.push(tokio::spawn(async move {
                while let Ok((stream, _)) = listener.accept().await {
                    let std_stream = stream.into_std().expect("into_std");
                    tokio::spawn(lightning_net_tokio::setup_inbound(p.clone(), std_stream));
                }
            }));
        }
        LdkNode {
            peers,
            handler,
            node_id,
            listen_addr,
            tasks,
        }
    }

    /// Connect out to `node_id@addr`; returns once the handshake and `init` are done.
    pub async fn connect(&self, node_id: PublicKey, addr: SocketAddr) -> Result<(), String> {
        let fut = lightning_net_tokio::connect_outbound(self.peers.clone(), node_id, addr)
            .await
            .ok_or_else(|| format!("TCP connect to {addr} failed"))?;
        tokio::spawn(fut);
        self.wait_for(Duration::from_secs(10), || {
            self.peers.peer_by_node_id(&node_id).is_some()
        })
        .await
        .map_err(|_| format!("no init from {node_id} within 10 s"))
    }

    /// Queue a custom message to a peer.
    pub fn send_custom(&self, to: PublicKey, msg: RawMessage) {
        self.handler
            .outgoing
            .lock()
            .expect("lock")
            .push_back((to, msg));
        self.peers.process_events();
    }

    /// Custom messages received so far.
    pub fn received(&self) -> Vec<(PublicKey, RawMessage)> {
        self.handler.received.lock().expect("lock").clone()
    }

    /// `init` messages received so far, with the sender.
    pub fn inits(&self) -> Vec<(PublicKey, Init)> {
        self.handler.connected.lock().expect("lock").clone()
    }

    /// Peers that disconnected so far.
    pub fn disconnected(&self) -> Vec<PublicKey> {
        self.handler.disconnected.lock().expect("lock").clone()
    }

    /// Poll `cond` every 10 ms until it holds or `limit` passes.
    pub async fn wait_for(&self, limit: Duration, cond: impl Fn() -> bool) -> Result<(), ()> {
        let deadline = Instant::now() + limit;
        while !cond() {
            if Instant::now() > deadline {
                return Err(());
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        Ok(())
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn harness_self_test_two_ldk_peers() {
    let alice = LdkNode::start("alice", [1; 32], true).await;
    let bob = LdkNode::start("bob", [2; 32], false).await;
    bob.connect(alice.node_id, alice.listen_addr.expect("listening"))
        .await
        .expect("connect");

    // Both saw the other's init.
    let to = Duration::from_secs(5);
    alice
        .wait_for(to, || {
            alice.inits().iter().any(|(id, _)| *id == bob.node_id)
        })
        .await
        .expect("alice init");
    assert!(bob.inits().iter().any(|(id, _)| *id == alice.node_id));

    // A custom message each way.
    let ping = RawMessage {
        type_id: 32769,
        payload: b"hello alice".to_vec(),
    };
    bob.send_custom(alice.node_id, ping.clone());
    alice
        .wait_for(to, || !alice.received().is_empty())
        .await
        .expect("alice got it");
    assert_eq!(alice.received()[0], (bob.node_id, ping));
    let pong = RawMessage {
        type_id: 32771,
        payload: b"hello bob".to_vec(),
    };
    alice.send_custom(bob.node_id, pong.clone());
    bob.wait_for(to, || !bob.received().is_empty())
        .await
        .expect("bob got it");
    assert_eq!(bob.received()[0], (alice.node_id, pong));

    // A disconnect on one side shows on the other.
    bob.peers.disconnect_by_node_id(alice.node_id);
    alice
        .wait_for(to, || alice.disconnected().contains(&bob.node_id))
        .await
        .expect("alice saw the disconnect");
    assert!(alice.peers.peer_by_node_id(&bob.node_id).is_none());
}
