//! Lightning messages: a 2-byte big-endian type followed by the payload
//! (BOLT 1 "Lightning Message Format"), and the [`Message`] enum over all
//! the types Lumen understands.
//!
//! Decoding follows BOLT 1's reader rules: bytes after a message's known
//! fields are ignored, except that for messages with a TLV extension they
//! are parsed as that TLV stream, and for the signed gossip messages
//! (`channel_announcement`, `node_announcement`, `channel_update`) they are
//! kept as [`ExcessData`] because the signature covers them. An unknown
//! odd type is kept as [`Message::Unknown`]; an unknown even type is
//! [`DecodeError::UnknownEvenMessage`].
//!
//! Encoding a [`Message::Unknown`] whose type is one we know produces bytes
//! that decode as that known message (or fail), not as `Unknown` again.

pub mod channel;
pub mod gossip;
pub mod setup;

use super::codec::{Encode, Reader, Writer};
use super::error::{DecodeError, EncodeError};

pub use channel::*;
pub use gossip::*;
pub use setup::*;

/// The largest message the transport can carry (type included).
pub const MAX_MESSAGE_LEN: usize = 65535;

/// Declare a message struct whose fields are encoded in order.
macro_rules! wire_message {
    (
        $(#[$m:meta])*
        pub struct $name:ident {
            $( $(#[$fm:meta])* pub $f:ident : $t:ty, )*
        }
    ) => {
        $(#[$m])*
        #[derive(Debug, Clone, PartialEq, Eq)]
        pub struct $name {
            $( $(#[$fm])* pub $f: $t, )*
        }

        impl $crate::wire::codec::Encode for $name {
            fn encode(&self, w: &mut $crate::wire::codec::Writer) {
                $( w.write(&self.$f); )*
            }
        }

        impl $crate::wire::codec::Decode for $name {
            fn decode(
                r: &mut $crate::wire::codec::Reader<'_>,
            ) -> Result<Self, $crate::wire::error::DecodeError> {
                Ok(Self { $( $f: r.read()?, )* })
            }
        }
    };
}
pub(crate) use wire_message;

macro_rules! messages {
    ($( $(#[$m:meta])* $variant:ident($t:ty) = $num:literal, $name:literal; )*) => {
        /// A decoded Lightning message.
        #[derive(Debug, Clone, PartialEq, Eq)]
        #[allow(clippy::large_enum_variant)]
        pub enum Message {
            $( $(#[$m])* $variant($t), )*
            /// A message of an odd type we do not understand (including
            /// custom messages, types 32768 and up), kept raw.
            Unknown {
                /// The message type (odd).
                ty: u16,
                /// The payload after the type.
                payload: Vec<u8>,
            },
        }

        /// Message type numbers.
        pub mod types {
            $( #[doc = concat!("`", stringify!($variant), "`.")]
               #[allow(non_upper_case_globals)]
               pub const $variant: u16 = $num; )*
        }

        impl Message {
            /// The 2-byte message type.
            pub fn msg_type(&self) -> u16 {
                match self {
                    $( Message::$variant(_) => $num, )*
                    Message::Unknown { ty, .. } => *ty,
                }
            }

            /// The spec's name of the message type (`"unknown"` for [`Message::Unknown`]).
            pub fn name(&self) -> &'static str {
                match self {
                    $( Message::$variant(_) => $name, )*
                    Message::Unknown { .. } => "unknown",
                }
            }

            fn decode_payload(ty: u16, r: &mut Reader<'_>) -> Result<Message, DecodeError> {
                Ok(match ty {
                    $( $num => Message::$variant(r.read()?), )*
                    t if t % 2 == 0 => return Err(DecodeError::UnknownEvenMessage(t)),
                    t => Message::Unknown { ty: t, payload: r.read_rest().to_vec() },
                })
            }

            fn encode_payload(&self, w: &mut Writer) {
                match self {
                    $( Message::$variant(m) => m.encode(w), )*
                    Message::Unknown { payload, .. } => w.put(payload),
                }
            }
        }

        $(
            impl From<$t> for Message {
                fn from(m: $t) -> Message {
                    Message::$variant(m)
                }
            }
        )*
    };
}

messages! {
    /// `warning` (1).
    Warning(Warning) = 1, "warning";
    /// `init` (16).
    Init(Init) = 16, "init";
    /// `error` (17).
    Error(ErrorMessage) = 17, "error";
    /// `ping` (18).
    Ping(Ping) = 18, "ping";
    /// `pong` (19).
    Pong(Pong) = 19, "pong";
    /// `open_channel` (32).
    OpenChannel(OpenChannel) = 32, "open_channel";
    /// `accept_channel` (33).
    AcceptChannel(AcceptChannel) = 33, "accept_channel";
    /// `funding_created` (34).
    FundingCreated(FundingCreated) = 34, "funding_created";
    /// `funding_signed` (35).
    FundingSigned(FundingSigned) = 35, "funding_signed";
    /// `channel_ready` (36).
    ChannelReady(ChannelReady) = 36, "channel_ready";
    /// `shutdown` (38).
    Shutdown(Shutdown) = 38, "shutdown";
    /// `closing_signed` (39).
    ClosingSigned(ClosingSigned) = 39, "closing_signed";
    /// `update_add_htlc` (128).
    UpdateAddHtlc(UpdateAddHtlc) = 128, "update_add_htlc";
    /// `update_fulfill_htlc` (130).
    UpdateFulfillHtlc(UpdateFulfillHtlc) = 130, "update_fulfill_htlc";
    /// `update_fail_htlc` (131).
    UpdateFailHtlc(UpdateFailHtlc) = 131, "update_fail_htlc";
    /// `commitment_signed` (132).
    CommitmentSigned(CommitmentSigned) = 132, "commitment_signed";
    /// `revoke_and_ack` (133).
    RevokeAndAck(RevokeAndAck) = 133, "revoke_and_ack";
    /// `update_fee` (134).
    UpdateFee(UpdateFee) = 134, "update_fee";
    /// `update_fail_malformed_htlc` (135).
    UpdateFailMalformedHtlc(UpdateFailMalformedHtlc) = 135, "update_fail_malformed_htlc";
    /// `channel_reestablish` (136).
    ChannelReestablish(ChannelReestablish) = 136, "channel_reestablish";
    /// `channel_announcement` (256).
    ChannelAnnouncement(ChannelAnnouncement) = 256, "channel_announcement";
    /// `node_announcement` (257).
    NodeAnnouncement(NodeAnnouncement) = 257, "node_announcement";
    /// `channel_update` (258).
    ChannelUpdate(ChannelUpdate) = 258, "channel_update";
    /// `announcement_signatures` (259).
    AnnouncementSignatures(AnnouncementSignatures) = 259, "announcement_signatures";
    /// `query_short_channel_ids` (261).
    QueryShortChannelIds(QueryShortChannelIds) = 261, "query_short_channel_ids";
    /// `reply_short_channel_ids_end` (262).
    ReplyShortChannelIdsEnd(ReplyShortChannelIdsEnd) = 262, "reply_short_channel_ids_end";
    /// `query_channel_range` (263).
    QueryChannelRange(QueryChannelRange) = 263, "query_channel_range";
    /// `reply_channel_range` (264).
    ReplyChannelRange(ReplyChannelRange) = 264, "reply_channel_range";
    /// `gossip_timestamp_filter` (265).
    GossipTimestampFilter(GossipTimestampFilter) = 265, "gossip_timestamp_filter";
}

impl Message {
    /// Decode a whole message (2-byte type, then payload), as handed over by
    /// the transport.
    pub fn decode(bytes: &[u8]) -> Result<Message, DecodeError> {
        if bytes.len() > MAX_MESSAGE_LEN {
            return Err(DecodeError::Oversized(bytes.len()));
        }
        let mut r = Reader::new(bytes);
        let ty: u16 = r.read()?;
        Message::decode_payload(ty, &mut r)
    }

    /// Encode the whole message (type, then payload). Fails if a field or
    /// the message does not fit its length limit, or if an `Unknown`
    /// message has an even type.
    pub fn encode(&self) -> Result<Vec<u8>, EncodeError> {
        let mut w = Writer::new();
        let ty = self.msg_type();
        if let Message::Unknown { ty, .. } = self
            && ty % 2 == 0
        {
            return Err(EncodeError::InvalidMessageType(*ty));
        }
        w.write(&ty);
        self.encode_payload(&mut w);
        let bytes = w.finish()?;
        if bytes.len() > MAX_MESSAGE_LEN {
            return Err(EncodeError::TooLong {
                what: "message",
                len: bytes.len(),
                max: MAX_MESSAGE_LEN,
            });
        }
        Ok(bytes)
    }

    /// Whether `ty` is a custom message type (32768 and up).
    pub fn is_custom_type(ty: u16) -> bool {
        ty >= 32768
    }
}
