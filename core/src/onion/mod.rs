//! BOLT 4 onion routing (Sphinx). Pure code: no I/O.
//!
//! - [`attribution`]: attribution data (hold times + truncated HMACs).
//! - [`blinding`]: route blinding (blinded paths, encrypted recipient data).
//! - [`crypto`]: shared secrets, blinding, key derivation, ChaCha20 streams.
//! - [`packet`]: the 1366-byte packet: [`OnionPacket::build`] at the sender,
//!   [`OnionPacket::peel`] at each hop.
//! - [`failure`]: failure packets: created at the erring hop, obfuscated
//!   on the way back, attributed at the origin ([`FailurePacket`]).
//! - [`payload`]: the hop payload TLV stream ([`HopPayload`]).
//! - [`failure_msg`]: typed failure messages (codes and data) and what a
//!   forwarding node returns for an onion it cannot peel.

pub mod attribution;
pub mod blinding;
pub mod crypto;
pub mod failure;
pub mod failure_msg;
pub mod packet;
pub mod payload;

pub use attribution::AttributionData;
pub use failure::{DecodedFailure, FailureError, FailurePacket};
pub use packet::{BuildError, Next, OnionPacket, PACKET_LEN, PeelError, Peeled};
pub use payload::{HopPayload, PayloadError, PaymentData, Preimage};
