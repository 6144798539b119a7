//! BOLT 1/2/7/9 wire types and codecs. Pure code: bytes in, values out (and
//! back); no I/O, no panics on input.
//!
//! - [`bigsize`]: BigSize integers (canonical encoding enforced).
//! - [`codec`]: [`Reader`]/[`Writer`] and the [`Encode`]/[`Decode`] traits.
//! - [`tlv`]: TLV streams with BOLT 1's ordering and "it's OK to be odd" rules.
//! - [`types`]: fundamental types (`chain_hash`, `channel_id`, `sha256`,
//!   `short_channel_id`, truncated integers, points and signatures).
//! - [`features`]: BOLT 9 feature bits.
//! - [`address`]: BOLT 7 address descriptors.
//! - [`messages`]: every message and the [`Message`] enum.
//!
//! Entry points: [`Message::decode`] and [`Message::encode`].

pub mod address;
pub mod bigsize;
pub mod codec;
pub mod error;
pub mod features;
pub mod messages;
pub mod tlv;
pub mod types;

pub use address::NetAddress;
pub use bigsize::BigSize;
pub use codec::{Decode, Encode, Reader, Writer};
pub use error::{DecodeError, EncodeError};
pub use features::{Feature, FeatureError, Features};
pub use messages::Message;
pub use tlv::{TlvRecord, TlvStream, TlvValue};
pub use types::{ChainHash, ChannelId, Sha256, ShortChannelId, Tu16, Tu32, Tu64};
