//! BOLT 7 gossip messages: announcements, updates and gossip queries.

use bitcoin::secp256k1::{PublicKey, ecdsa::Signature};

use super::wire_message;
use crate::wire::bigsize::BigSize;
use crate::wire::codec::{Decode, Encode, Reader, Writer};
use crate::wire::error::{DecodeError, EncodeError};
use crate::wire::features::Features;
use crate::wire::tlv::{TlvValue, tlv_stream};
use crate::wire::types::{ChainHash, ChannelId, ShortChannelId};

/// Bytes after a gossip message's known fields. They are covered by the
/// message's signature, so they are kept and re-emitted verbatim.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ExcessData(pub Vec<u8>);

impl Encode for ExcessData {
    fn encode(&self, w: &mut Writer) {
        w.put(&self.0);
    }
}

impl Decode for ExcessData {
    /// Consumes all remaining input.
    fn decode(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        Ok(ExcessData(r.read_rest().to_vec()))
    }
}

/// The encoding of `msg` without its first `skip` bytes (the signatures):
/// what BOLT 7 double-SHA256es and signs.
fn signed_part<T: Encode>(msg: &T, skip: usize) -> Result<Vec<u8>, EncodeError> {
    let mut bytes = msg.to_wire()?;
    bytes.drain(..skip.min(bytes.len()));
    Ok(bytes)
}

wire_message! {
    /// `announcement_signatures` (259).
    pub struct AnnouncementSignatures {
        /// The channel.
        pub channel_id: ChannelId,
        /// Its short channel id.
        pub short_channel_id: ShortChannelId,
        /// Signature with the node key.
        pub node_signature: Signature,
        /// Signature with the funding key.
        pub bitcoin_signature: Signature,
    }
}

wire_message! {
    /// `channel_announcement` (256).
    pub struct ChannelAnnouncement {
        /// Signature by `node_id_1`.
        pub node_signature_1: Signature,
        /// Signature by `node_id_2`.
        pub node_signature_2: Signature,
        /// Signature by `bitcoin_key_1`.
        pub bitcoin_signature_1: Signature,
        /// Signature by `bitcoin_key_2`.
        pub bitcoin_signature_2: Signature,
        /// Channel features.
        pub features: Features,
        /// The chain.
        pub chain_hash: ChainHash,
        /// The channel.
        pub short_channel_id: ShortChannelId,
        /// The lexicographically lesser node id.
        pub node_id_1: PublicKey,
        /// The other node id.
        pub node_id_2: PublicKey,
        /// Funding key of `node_id_1`.
        pub bitcoin_key_1: PublicKey,
        /// Funding key of `node_id_2`.
        pub bitcoin_key_2: PublicKey,
        /// Unknown trailing bytes (signed).
        pub excess_data: ExcessData,
    }
}

impl ChannelAnnouncement {
    /// The bytes the four signatures sign (everything after them); hash
    /// them with double SHA-256.
    pub fn signed_bytes(&self) -> Result<Vec<u8>, EncodeError> {
        signed_part(self, 4 * 64)
    }
}

wire_message! {
    /// `node_announcement` (257).
    pub struct NodeAnnouncement {
        /// Signature by `node_id`.
        pub signature: Signature,
        /// Node features.
        pub features: Features,
        /// Unix time; later announcements replace earlier ones.
        pub timestamp: u32,
        /// The node.
        pub node_id: PublicKey,
        /// Colour.
        pub rgb_color: [u8; 3],
        /// Alias, zero-padded UTF-8.
        pub alias: [u8; 32],
        /// Address descriptors, raw (BOLT 7 `address descriptor`s
        /// concatenated; see [`crate::wire::NetAddress::parse_list`]).
        pub addresses: Vec<u8>,
        /// Unknown trailing bytes (signed).
        pub excess_data: ExcessData,
    }
}

impl NodeAnnouncement {
    /// The bytes `signature` signs (everything after it); hash them with
    /// double SHA-256.
    pub fn signed_bytes(&self) -> Result<Vec<u8>, EncodeError> {
        signed_part(self, 64)
    }
}

wire_message! {
    /// `channel_update` (258).
    pub struct ChannelUpdate {
        /// Signature by the originating node.
        pub signature: Signature,
        /// The chain.
        pub chain_hash: ChainHash,
        /// The channel.
        pub short_channel_id: ShortChannelId,
        /// Unix time; later updates replace earlier ones.
        pub timestamp: u32,
        /// Bit 0 `must_be_one`, bit 1 `dont_forward`.
        pub message_flags: u8,
        /// Bit 0 direction, bit 1 disabled.
        pub channel_flags: u8,
        /// CLTV delta this hop adds.
        pub cltv_expiry_delta: u16,
        /// Smallest HTLC forwarded.
        pub htlc_minimum_msat: u64,
        /// Base fee.
        pub fee_base_msat: u32,
        /// Proportional fee.
        pub fee_proportional_millionths: u32,
        /// Largest HTLC forwarded.
        pub htlc_maximum_msat: u64,
        /// Unknown trailing bytes (signed).
        pub excess_data: ExcessData,
    }
}

impl ChannelUpdate {
    /// The bytes `signature` signs (everything after it); hash them with
    /// double SHA-256.
    pub fn signed_bytes(&self) -> Result<Vec<u8>, EncodeError> {
        signed_part(self, 64)
    }
}

/// An encoding type byte followed by encoded data (the rest of the field):
/// `encoded_short_ids`, `encoded_query_flags`, `encoded_timestamps`.
/// Type 0 is uncompressed; type 1 (zlib) is deprecated and kept raw.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Encoded {
    /// The encoding type.
    pub encoding_type: u8,
    /// The encoded bytes.
    pub data: Vec<u8>,
}

impl Encoded {
    /// Uncompressed (type 0) encoding of short channel ids.
    pub fn short_ids(ids: &[ShortChannelId]) -> Encoded {
        Encoded {
            encoding_type: 0,
            data: ids.iter().flat_map(|s| s.0.to_be_bytes()).collect(),
        }
    }

    /// The short channel ids of a type-0 encoding.
    pub fn decode_short_ids(&self) -> Result<Vec<ShortChannelId>, DecodeError> {
        if self.encoding_type != 0 {
            return Err(DecodeError::InvalidValue {
                field: "encoded_short_ids",
                reason: "unsupported encoding type",
            });
        }
        if !self.data.len().is_multiple_of(8) {
            return Err(DecodeError::InvalidValue {
                field: "encoded_short_ids",
                reason: "length not a multiple of 8",
            });
        }
        let mut r = Reader::new(&self.data);
        let mut out = Vec::with_capacity(self.data.len() / 8);
        while !r.is_empty() {
            out.push(r.read()?);
        }
        Ok(out)
    }
}

/// In message bodies: a `u16` length, then type and data.
impl crate::wire::codec::Encode for Encoded {
    fn encode(&self, w: &mut Writer) {
        let mut all = Vec::with_capacity(1 + self.data.len());
        all.push(self.encoding_type);
        all.extend_from_slice(&self.data);
        w.put_u16_prefixed("encoded field", &all);
    }
}

impl crate::wire::codec::Decode for Encoded {
    fn decode(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        let bytes = r.read_u16_prefixed()?;
        let mut inner = Reader::new(bytes);
        Encoded::read_value(&mut inner)
    }
}

/// In a TLV record: the whole value (at least the type byte).
impl TlvValue for Encoded {
    fn write_value(&self, w: &mut Writer) {
        w.put(&[self.encoding_type]);
        w.put(&self.data);
    }
    fn read_value(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        let encoding_type = r.read()?;
        Ok(Encoded {
            encoding_type,
            data: r.read_rest().to_vec(),
        })
    }
}

tlv_stream! {
    /// `query_short_channel_ids_tlvs`.
    pub struct QueryShortChannelIdsTlvs {
        /// 1 `query_flags`: per-id flags (BigSize each, after decoding).
        (1) query_flags: Encoded,
    }
}

wire_message! {
    /// `query_short_channel_ids` (261).
    pub struct QueryShortChannelIds {
        /// The chain.
        pub chain_hash: ChainHash,
        /// The ids asked about.
        pub encoded_short_ids: Encoded,
        /// `query_short_channel_ids_tlvs`.
        pub tlvs: QueryShortChannelIdsTlvs,
    }
}

wire_message! {
    /// `reply_short_channel_ids_end` (262).
    pub struct ReplyShortChannelIdsEnd {
        /// The chain.
        pub chain_hash: ChainHash,
        /// 1 if the replier had complete information.
        pub full_information: u8,
    }
}

tlv_stream! {
    /// `query_channel_range_tlvs`.
    pub struct QueryChannelRangeTlvs {
        /// 1 `query_option`: bit 0 timestamps, bit 1 checksums wanted.
        (1) query_option: BigSize,
    }
}

wire_message! {
    /// `query_channel_range` (263).
    pub struct QueryChannelRange {
        /// The chain.
        pub chain_hash: ChainHash,
        /// First block of the range.
        pub first_blocknum: u32,
        /// Number of blocks.
        pub number_of_blocks: u32,
        /// `query_channel_range_tlvs`.
        pub tlvs: QueryChannelRangeTlvs,
    }
}

/// Checksums of the two `channel_update`s of one channel.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ChannelUpdateChecksums {
    /// Checksum of the update from `node_id_1`.
    pub checksum_node_id_1: u32,
    /// Checksum of the update from `node_id_2`.
    pub checksum_node_id_2: u32,
}

/// `checksums_tlv`: one pair per replied short channel id.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Checksums(pub Vec<ChannelUpdateChecksums>);

impl TlvValue for Checksums {
    fn write_value(&self, w: &mut Writer) {
        for c in &self.0 {
            w.write(&c.checksum_node_id_1);
            w.write(&c.checksum_node_id_2);
        }
    }
    fn read_value(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        let mut out = Vec::new();
        while !r.is_empty() {
            out.push(ChannelUpdateChecksums {
                checksum_node_id_1: r.read()?,
                checksum_node_id_2: r.read()?,
            });
        }
        Ok(Checksums(out))
    }
}

tlv_stream! {
    /// `reply_channel_range_tlvs`.
    pub struct ReplyChannelRangeTlvs {
        /// 1 `timestamps_tlv`: encoded update timestamps per id.
        (1) timestamps: Encoded,
        /// 3 `checksums_tlv`.
        (3) checksums: Checksums,
    }
}

wire_message! {
    /// `reply_channel_range` (264).
    pub struct ReplyChannelRange {
        /// The chain.
        pub chain_hash: ChainHash,
        /// First block covered.
        pub first_blocknum: u32,
        /// Number of blocks covered.
        pub number_of_blocks: u32,
        /// 1 on the last reply.
        pub sync_complete: u8,
        /// The channels in the range.
        pub encoded_short_ids: Encoded,
        /// `reply_channel_range_tlvs`.
        pub tlvs: ReplyChannelRangeTlvs,
    }
}

wire_message! {
    /// `gossip_timestamp_filter` (265).
    pub struct GossipTimestampFilter {
        /// The chain.
        pub chain_hash: ChainHash,
        /// Earliest timestamp wanted.
        pub first_timestamp: u32,
        /// Width of the window.
        pub timestamp_range: u32,
    }
}
