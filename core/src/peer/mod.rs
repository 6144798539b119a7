//! Peers: connections, `init`, keepalive, errors and custom messages.
//!
//! [`session`] is the protocol logic as a pure state machine; [`manager`]
//! is the tokio layer around it: listeners, outbound connections over the
//! BOLT 8 [`crate::transport`], one task per peer with a bounded send queue,
//! and the peer table the RPCs read.

pub mod manager;
pub mod session;

pub use manager::{PeerError, PeerInfo, PeerManager};
