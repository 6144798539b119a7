//! One peer connection's protocol logic after the BOLT 8 handshake, as a
//! pure state machine: message bytes and time in, actions out.
//!
//! - The first message each way is `init`. Anything else first, features we
//!   cannot work with, or no common network: `warning` (where useful) and
//!   disconnect.
//! - `ping` is answered with `pong` of the asked size (unless ≥ 65532, which
//!   means "do not answer"). We ping an idle peer every [`PING_INTERVAL`] and
//!   disconnect if its `pong` does not come within [`PONG_TIMEOUT`] or has the
//!   wrong size.
//! - `error` disconnects; `warning` is reported. Odd unknown messages are
//!   ignored and custom ones (≥ 32768) delivered; even unknown ones are a
//!   protocol violation.

use std::time::{Duration, Instant};

use crate::wire::messages::setup::{ErrorMessage, Init, InitTlvs, Ping, Pong, Warning};
use crate::wire::{ChainHash, ChannelId, DecodeError, Features, Message};

/// Ping an idle peer this often.
pub const PING_INTERVAL: Duration = Duration::from_secs(30);
/// How long a `pong` may take.
pub const PONG_TIMEOUT: Duration = Duration::from_secs(30);
/// `num_pong_bytes` at or above this asks for no reply.
const PONG_IGNORE_THRESHOLD: u16 = 65532;

/// What the session wants done.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Action {
    /// Send these message bytes (type + payload; the transport encrypts).
    Send(Vec<u8>),
    /// Close the connection.
    Disconnect(String),
    /// Tell the rest of the node.
    Event(PeerEvent),
}

/// Things the node learns from a peer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PeerEvent {
    /// `init` exchanged: the peer is usable.
    Ready {
        /// Their combined features.
        features: Features,
    },
    /// A custom message (type ≥ 32768).
    Custom {
        /// Message type.
        ty: u16,
        /// Payload after the type.
        payload: Vec<u8>,
    },
    /// The peer sent a `warning`.
    Warning(String),
    /// The peer sent an `error`.
    Error(String),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    AwaitingInit,
    Active,
    Closed,
}

/// The session state.
#[derive(Debug)]
pub struct PeerSession {
    phase: Phase,
    ours: Features,
    chain: ChainHash,
    their_features: Option<Features>,
    last_received: Instant,
    ping_sent: Option<(Instant, u16)>,
    next_pong_len: u16,
    /// Even custom types (≥ 32768) a plugin handles: received ones are
    /// delivered instead of ending the connection, and they may be sent.
    custom_even: std::collections::BTreeSet<u16>,
}

fn printable(data: &[u8]) -> String {
    String::from_utf8_lossy(data)
        .chars()
        .filter(|c| !c.is_control())
        .take(256)
        .collect()
}

fn encode(m: Message) -> Option<Vec<u8>> {
    // Our own messages are well-formed; a failure is a bug worth a log line.
    m.encode()
        .map_err(|e| tracing::error!(error = %e, "cannot encode our own message"))
        .ok()
}

impl PeerSession {
    /// A new connection: returns the session and our `init` to send.
    pub fn new(ours: Features, chain: ChainHash, now: Instant) -> (PeerSession, Action) {
        let init = Init {
            global_features: Features::empty(),
            features: ours.clone(),
            tlvs: InitTlvs {
                networks: Some(vec![chain]),
                ..InitTlvs::default()
            },
        };
        let s = PeerSession {
            phase: Phase::AwaitingInit,
            ours,
            chain,
            their_features: None,
            last_received: now,
            ping_sent: None,
            next_pong_len: 8,
            custom_even: std::collections::BTreeSet::new(),
        };
        let bytes = encode(Message::Init(init)).unwrap_or_default();
        (s, Action::Send(bytes))
    }

    /// Whether `init` has been exchanged.
    pub fn is_ready(&self) -> bool {
        self.phase == Phase::Active
    }

    /// The peer's features, once known.
    pub fn their_features(&self) -> Option<&Features> {
        self.their_features.as_ref()
    }

    fn fail(&mut self, reason: String, warn: bool) -> Vec<Action> {
        self.phase = Phase::Closed;
        let mut out = Vec::new();
        if warn {
            let w = Warning {
                channel_id: ChannelId::default(),
                data: reason.clone().into_bytes(),
            };
            if let Some(b) = encode(Message::Warning(w)) {
                out.push(Action::Send(b));
            }
        }
        out.push(Action::Disconnect(reason));
        out
    }

    /// Accept and allow sending these even custom message types (the
    /// `custommessages` plugins declare); others stay fatal, as BOLT 1 says.
    pub fn with_custom_even(mut self, types: impl IntoIterator<Item = u16>) -> PeerSession {
        self.custom_even = types
            .into_iter()
            .filter(|t| Message::is_custom_type(*t) && t.is_multiple_of(2))
            .collect();
        self
    }

    /// A decrypted message arrived.
    pub fn on_message(&mut self, bytes: &[u8], now: Instant) -> Vec<Action> {
        if self.phase == Phase::Closed {
            return Vec::new();
        }
        self.last_received = now;
        let msg = match Message::decode(bytes) {
            Ok(m) => m,
            Err(DecodeError::UnknownEvenMessage(t)) => {
                if self.phase == Phase::Active && self.custom_even.contains(&t) {
                    let payload = bytes.get(2..).unwrap_or_default().to_vec();
                    return vec![Action::Event(PeerEvent::Custom { ty: t, payload })];
                }
                return self.fail(format!("unknown even message type {t}"), true);
            }
            Err(e) => return self.fail(format!("malformed message: {e}"), true),
        };
        match (self.phase, msg) {
            (Phase::AwaitingInit, Message::Init(init)) => self.on_init(init),
            (Phase::AwaitingInit, other) => {
                self.fail(format!("expected init, got {}", other.name()), true)
            }
            (Phase::Active, Message::Init(_)) => self.fail("init sent twice".into(), true),
            (Phase::Active, Message::Ping(p)) => {
                if p.num_pong_bytes >= PONG_IGNORE_THRESHOLD {
                    return Vec::new();
                }
                let pong = Pong {
                    ignored: vec![0; usize::from(p.num_pong_bytes)],
                };
                encode(Message::Pong(pong))
                    .map(Action::Send)
                    .into_iter()
                    .collect()
            }
            (Phase::Active, Message::Pong(p)) => match self.ping_sent.take() {
                Some((_, len)) if usize::from(len) == p.ignored.len() => Vec::new(),
                Some((_, len)) => self.fail(
                    format!("pong of {} bytes, asked for {len}", p.ignored.len()),
                    true,
                ),
                // An unsolicited pong is harmless.
                None => Vec::new(),
            },
            (Phase::Active, Message::Warning(w)) => {
                vec![Action::Event(PeerEvent::Warning(printable(&w.data)))]
            }
            (Phase::Active, Message::Error(e)) => {
                let text = printable(&e.data);
                self.phase = Phase::Closed;
                vec![
                    Action::Event(PeerEvent::Error(text.clone())),
                    Action::Disconnect(format!("peer sent error: {text}")),
                ]
            }
            (Phase::Active, Message::Unknown { ty, payload }) if Message::is_custom_type(ty) => {
                vec![Action::Event(PeerEvent::Custom { ty, payload })]
            }
            (Phase::Active, other) => {
                // Channel and gossip messages arrive with those subsystems.
                tracing::debug!(
                    message = other.name(),
                    "ignoring a message no subsystem handles yet"
                );
                Vec::new()
            }
            (Phase::Closed, _) => Vec::new(),
        }
    }

    fn on_init(&mut self, init: Init) -> Vec<Action> {
        if let Err(e) = init.check_features(&self.ours) {
            return self.fail(format!("incompatible features: {e}"), true);
        }
        if let Some(networks) = &init.tlvs.networks
            && !networks.is_empty()
            && !networks.contains(&self.chain)
        {
            return self.fail("no common network".into(), true);
        }
        let features = init.combined_features();
        self.their_features = Some(features.clone());
        self.phase = Phase::Active;
        vec![Action::Event(PeerEvent::Ready { features })]
    }

    /// Time passed: keepalive pings and their timeout.
    pub fn on_tick(&mut self, now: Instant) -> Vec<Action> {
        if self.phase != Phase::Active {
            return Vec::new();
        }
        if let Some((sent, _)) = self.ping_sent {
            if now.duration_since(sent) > PONG_TIMEOUT {
                return self.fail("ping timeout: no pong".into(), false);
            }
            return Vec::new();
        }
        if now.duration_since(self.last_received) >= PING_INTERVAL {
            let len = self.next_pong_len;
            // Vary the size a little so a stale pong cannot satisfy a new ping.
            self.next_pong_len = if self.next_pong_len >= 64 {
                8
            } else {
                self.next_pong_len + 8
            };
            self.ping_sent = Some((now, len));
            return encode(Message::Ping(Ping {
                num_pong_bytes: len,
                ignored: Vec::new(),
            }))
            .map(Action::Send)
            .into_iter()
            .collect();
        }
        Vec::new()
    }

    /// A custom message to send: type ≥ 32768, odd unless a plugin
    /// declared the even type ([`Self::with_custom_even`]).
    pub fn custom(&self, ty: u16, payload: Vec<u8>) -> Result<Vec<u8>, String> {
        if !Message::is_custom_type(ty) || (ty.is_multiple_of(2) && !self.custom_even.contains(&ty))
        {
            return Err(format!(
                "custom message type {ty} must be at least 32768 and odd, or an even type a plugin declared"
            ));
        }
        if self.phase != Phase::Active {
            return Err("peer is not ready".into());
        }
        if ty.is_multiple_of(2) {
            // The codec refuses unknown even types by design; a declared
            // one is framed here: type, then payload.
            if payload.len() > usize::from(u16::MAX) - 2 {
                return Err(format!(
                    "custom message of {} bytes is too long",
                    payload.len()
                ));
            }
            let mut out = Vec::with_capacity(2 + payload.len());
            out.extend_from_slice(&ty.to_be_bytes());
            out.extend_from_slice(&payload);
            return Ok(out);
        }
        Message::Unknown { ty, payload }
            .encode()
            .map_err(|e| e.to_string())
    }

    /// A `warning` for all channels, then disconnect (no channel is
    /// failed: e.g. a plugin refused the peer).
    pub fn warning_and_close(&mut self, reason: &str) -> Vec<Action> {
        let w = Warning {
            channel_id: ChannelId::default(),
            data: reason.as_bytes().to_vec(),
        };
        self.close_with(Message::Warning(w), reason)
    }

    /// An `error` message for all channels, then disconnect.
    pub fn error_and_close(&mut self, reason: &str) -> Vec<Action> {
        let e = ErrorMessage {
            channel_id: ChannelId::default(),
            data: reason.as_bytes().to_vec(),
        };
        self.close_with(Message::Error(e), reason)
    }

    fn close_with(&mut self, last: Message, reason: &str) -> Vec<Action> {
        self.phase = Phase::Closed;
        let mut out: Vec<Action> = encode(last).map(Action::Send).into_iter().collect();
        out.push(Action::Disconnect(reason.to_string()));
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn regtest() -> ChainHash {
        ChainHash::for_network(bitcoin::Network::Regtest)
    }

    fn ready_pair(now: Instant) -> (PeerSession, PeerSession) {
        let (mut a, Action::Send(a_init)) = PeerSession::new(Features::our_init(), regtest(), now)
        else {
            panic!()
        };
        let (mut b, Action::Send(b_init)) = PeerSession::new(Features::our_init(), regtest(), now)
        else {
            panic!()
        };
        assert!(matches!(
            a.on_message(&b_init, now)[..],
            [Action::Event(PeerEvent::Ready { .. })]
        ));
        assert!(matches!(
            b.on_message(&a_init, now)[..],
            [Action::Event(PeerEvent::Ready { .. })]
        ));
        (a, b)
    }

    fn sent(actions: &[Action]) -> Vec<Vec<u8>> {
        actions
            .iter()
            .filter_map(|a| {
                if let Action::Send(b) = a {
                    Some(b.clone())
                } else {
                    None
                }
            })
            .collect()
    }

    #[test]
    fn init_ping_pong_custom() {
        let now = Instant::now();
        let (mut a, mut b) = ready_pair(now);
        // Idle: a pings, b answers with the asked size, a is satisfied.
        let later = now + PING_INTERVAL;
        let ping = sent(&a.on_tick(later));
        assert_eq!(ping.len(), 1);
        let pong = sent(&b.on_message(&ping[0], later));
        assert_eq!(pong.len(), 1);
        assert!(a.on_message(&pong[0], later).is_empty());
        assert!(
            a.on_tick(later + PONG_TIMEOUT * 2).len() == 1,
            "pings again later"
        );
        // Custom messages.
        let bytes = a.custom(32769, b"hi".to_vec()).expect("custom");
        assert_eq!(
            b.on_message(&bytes, later),
            vec![Action::Event(PeerEvent::Custom {
                ty: 32769,
                payload: b"hi".to_vec()
            })]
        );
        assert!(
            a.custom(32768, vec![]).is_err(),
            "even custom types are refused"
        );
        assert!(a.custom(100, vec![]).is_err());
    }

    #[test]
    fn declared_even_custom_types_are_delivered_and_sendable() {
        let now = Instant::now();
        let (a, Action::Send(a_init)) = PeerSession::new(Features::our_init(), regtest(), now)
        else {
            panic!("init first")
        };
        let mut a = a.with_custom_even([32768, 32770, 100, 32771]);
        let (mut b, Action::Send(b_init)) = PeerSession::new(Features::our_init(), regtest(), now)
        else {
            panic!("init first")
        };
        a.on_message(&b_init, now);
        b.on_message(&a_init, now);
        // Only even custom types are kept.
        assert_eq!(
            a.custom_even.iter().copied().collect::<Vec<_>>(),
            [32768, 32770]
        );
        // A sends a declared even type; B, which did not declare it, hangs up.
        let bytes = a.custom(32768, b"x".to_vec()).expect("declared even type");
        assert!(matches!(
            b.on_message(&bytes, now).last(),
            Some(Action::Disconnect(_))
        ));
        // The other way round: A receives 32770 as a custom message, and an
        // undeclared even type still ends the connection.
        let (b2, Action::Send(b2_init)) = PeerSession::new(Features::our_init(), regtest(), now)
        else {
            panic!("init first")
        };
        let mut b2 = b2.with_custom_even([32770]);
        b2.on_message(&a_init, now);
        let (a2, Action::Send(_)) = PeerSession::new(Features::our_init(), regtest(), now) else {
            panic!("init first")
        };
        let mut a2 = a2.with_custom_even([32770]);
        a2.on_message(&b2_init, now);
        let msg = b2.custom(32770, b"y".to_vec()).expect("declared");
        assert_eq!(
            a2.on_message(&msg, now),
            vec![Action::Event(PeerEvent::Custom {
                ty: 32770,
                payload: b"y".to_vec()
            })]
        );
        assert!(matches!(
            a2.on_message(&[0x80, 0x04, 1], now).last(),
            Some(Action::Disconnect(r)) if r.contains("even")
        ));
    }

    #[test]
    fn violations_disconnect() {
        let now = Instant::now();
        // Something other than init first.
        let (mut a, _) = PeerSession::new(Features::our_init(), regtest(), now);
        let ping = Message::Ping(Ping {
            num_pong_bytes: 1,
            ignored: vec![],
        })
        .encode()
        .expect("ping");
        assert!(
            matches!(a.on_message(&ping, now).last(), Some(Action::Disconnect(r)) if r.contains("expected init"))
        );
        // Wrong network.
        let (mut a, _) = PeerSession::new(Features::our_init(), regtest(), now);
        let (_, Action::Send(mainnet_init)) = PeerSession::new(
            Features::our_init(),
            ChainHash::for_network(bitcoin::Network::Bitcoin),
            now,
        ) else {
            panic!()
        };
        assert!(
            matches!(a.on_message(&mainnet_init, now).last(), Some(Action::Disconnect(r)) if r.contains("network"))
        );
        // Unknown even message; garbage.
        let (mut a, _) = ready_pair(now);
        assert!(
            matches!(a.on_message(&[0x00, 0x64, 1, 2], now).last(), Some(Action::Disconnect(r)) if r.contains("even"))
        );
        let (mut a, _) = ready_pair(now);
        assert!(matches!(
            a.on_message(&[0x00], now).last(),
            Some(Action::Disconnect(_))
        ));
        // Pong timeout.
        let (mut a, _) = ready_pair(now);
        assert_eq!(sent(&a.on_tick(now + PING_INTERVAL)).len(), 1);
        assert!(
            matches!(a.on_tick(now + PING_INTERVAL + PONG_TIMEOUT + Duration::from_secs(1)).last(), Some(Action::Disconnect(r)) if r.contains("timeout"))
        );
        // A required feature we do not know.
        let (mut a, _) = PeerSession::new(Features::our_init(), regtest(), now);
        let mut f = Features::our_init();
        f.set_bit(200);
        let (_, Action::Send(odd_init)) = PeerSession::new(f, regtest(), now) else {
            panic!()
        };
        assert!(
            matches!(a.on_message(&odd_init, now).last(), Some(Action::Disconnect(r)) if r.contains("features"))
        );
    }

    proptest::proptest! {
        #[test]
        fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..300)) {
            let now = Instant::now();
            let (mut fresh, _) = PeerSession::new(Features::our_init(), regtest(), now);
            let _ = fresh.on_message(&bytes, now);
            let (mut a, _) = ready_pair(now);
            let _ = a.on_message(&bytes, now);
        }
    }
}
