//! BOLT 2 channel messages: establishment (v1), normal operation, closing
//! and reestablishment.

use bitcoin::secp256k1::{PublicKey, ecdsa::Signature};
use bitcoin::{ScriptBuf, Txid};

use super::wire_message;
use crate::wire::codec::{Decode, Encode, Reader, Writer};
use crate::wire::error::DecodeError;
use crate::wire::features::Features;
use crate::wire::tlv::{TlvValue, tlv_stream};
use crate::wire::types::{ChainHash, ChannelId, Sha256, ShortChannelId};

/// Size of `onion_routing_packet` in `update_add_htlc`.
pub const ONION_PACKET_LEN: usize = 1366;

tlv_stream! {
    /// `open_channel_tlvs`.
    pub struct OpenChannelTlvs {
        /// 0 `upfront_shutdown_script` (may be empty: "no script").
        (0) upfront_shutdown_script: ScriptBuf,
        /// 1 `channel_type`.
        (1) channel_type: Features,
    }
}

tlv_stream! {
    /// `accept_channel_tlvs`.
    pub struct AcceptChannelTlvs {
        /// 0 `upfront_shutdown_script` (may be empty: "no script").
        (0) upfront_shutdown_script: ScriptBuf,
        /// 1 `channel_type`.
        (1) channel_type: Features,
    }
}

wire_message! {
    /// `open_channel` (32).
    pub struct OpenChannel {
        /// The chain the channel is on.
        pub chain_hash: ChainHash,
        /// Temporary id until the funding outpoint is known.
        pub temporary_channel_id: ChannelId,
        /// Channel capacity.
        pub funding_satoshis: u64,
        /// Amount given to the acceptor.
        pub push_msat: u64,
        /// Dust limit for the opener's outputs.
        pub dust_limit_satoshis: u64,
        /// Cap on outstanding HTLC value.
        pub max_htlc_value_in_flight_msat: u64,
        /// Reserve the acceptor must keep.
        pub channel_reserve_satoshis: u64,
        /// Smallest HTLC the opener accepts.
        pub htlc_minimum_msat: u64,
        /// Initial commitment feerate.
        pub feerate_per_kw: u32,
        /// Delay on the acceptor's to-self outputs.
        pub to_self_delay: u16,
        /// Cap on HTLCs offered to the opener.
        pub max_accepted_htlcs: u16,
        /// Funding key.
        pub funding_pubkey: PublicKey,
        /// Revocation basepoint.
        pub revocation_basepoint: PublicKey,
        /// Payment basepoint.
        pub payment_basepoint: PublicKey,
        /// Delayed payment basepoint.
        pub delayed_payment_basepoint: PublicKey,
        /// HTLC basepoint.
        pub htlc_basepoint: PublicKey,
        /// First per-commitment point.
        pub first_per_commitment_point: PublicKey,
        /// Bit 0: announce the channel.
        pub channel_flags: u8,
        /// `open_channel_tlvs`.
        pub tlvs: OpenChannelTlvs,
    }
}

wire_message! {
    /// `accept_channel` (33).
    pub struct AcceptChannel {
        /// The opener's temporary id.
        pub temporary_channel_id: ChannelId,
        /// Dust limit for the acceptor's outputs.
        pub dust_limit_satoshis: u64,
        /// Cap on outstanding HTLC value.
        pub max_htlc_value_in_flight_msat: u64,
        /// Reserve the opener must keep.
        pub channel_reserve_satoshis: u64,
        /// Smallest HTLC the acceptor accepts.
        pub htlc_minimum_msat: u64,
        /// Confirmations before `channel_ready`.
        pub minimum_depth: u32,
        /// Delay on the opener's to-self outputs.
        pub to_self_delay: u16,
        /// Cap on HTLCs offered to the acceptor.
        pub max_accepted_htlcs: u16,
        /// Funding key.
        pub funding_pubkey: PublicKey,
        /// Revocation basepoint.
        pub revocation_basepoint: PublicKey,
        /// Payment basepoint.
        pub payment_basepoint: PublicKey,
        /// Delayed payment basepoint.
        pub delayed_payment_basepoint: PublicKey,
        /// HTLC basepoint.
        pub htlc_basepoint: PublicKey,
        /// First per-commitment point.
        pub first_per_commitment_point: PublicKey,
        /// `accept_channel_tlvs`.
        pub tlvs: AcceptChannelTlvs,
    }
}

wire_message! {
    /// `funding_created` (34).
    pub struct FundingCreated {
        /// The opener's temporary id.
        pub temporary_channel_id: ChannelId,
        /// Funding transaction id.
        pub funding_txid: Txid,
        /// Funding output index.
        pub funding_output_index: u16,
        /// Signature of the acceptor's first commitment.
        pub signature: Signature,
    }
}

wire_message! {
    /// `funding_signed` (35).
    pub struct FundingSigned {
        /// The (now final) channel id.
        pub channel_id: ChannelId,
        /// Signature of the opener's first commitment.
        pub signature: Signature,
    }
}

tlv_stream! {
    /// `channel_ready_tlvs`.
    pub struct ChannelReadyTlvs {
        /// 1 `short_channel_id`: an alias to use for routing.
        (1) short_channel_id: ShortChannelId,
    }
}

wire_message! {
    /// `channel_ready` (36).
    pub struct ChannelReady {
        /// The channel.
        pub channel_id: ChannelId,
        /// The second per-commitment point.
        pub second_per_commitment_point: PublicKey,
        /// `channel_ready_tlvs`.
        pub tlvs: ChannelReadyTlvs,
    }
}

wire_message! {
    /// `shutdown` (38).
    pub struct Shutdown {
        /// The channel.
        pub channel_id: ChannelId,
        /// Where the sender's funds go on close.
        pub scriptpubkey: ScriptBuf,
    }
}

/// `fee_range` of `closing_signed`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ClosingFeeRange {
    /// Lowest acceptable fee.
    pub min_fee_satoshis: u64,
    /// Highest acceptable fee.
    pub max_fee_satoshis: u64,
}

impl TlvValue for ClosingFeeRange {
    fn write_value(&self, w: &mut Writer) {
        w.write(&self.min_fee_satoshis);
        w.write(&self.max_fee_satoshis);
    }
    fn read_value(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        Ok(ClosingFeeRange {
            min_fee_satoshis: r.read()?,
            max_fee_satoshis: r.read()?,
        })
    }
}

tlv_stream! {
    /// `closing_signed_tlvs`.
    pub struct ClosingSignedTlvs {
        /// 1 `fee_range`.
        (1) fee_range: ClosingFeeRange,
    }
}

wire_message! {
    /// `closing_signed` (39).
    pub struct ClosingSigned {
        /// The channel.
        pub channel_id: ChannelId,
        /// Proposed closing fee.
        pub fee_satoshis: u64,
        /// Signature of the closing transaction.
        pub signature: Signature,
        /// `closing_signed_tlvs`.
        pub tlvs: ClosingSignedTlvs,
    }
}

/// The 1366-byte onion of `update_add_htlc`.
#[derive(Clone, PartialEq, Eq)]
pub struct OnionPacket(pub Box<[u8; ONION_PACKET_LEN]>);

impl std::fmt::Debug for OnionPacket {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "OnionPacket({}..)", hex::encode(&self.0[..8]))
    }
}

impl Encode for OnionPacket {
    fn encode(&self, w: &mut Writer) {
        w.put(&self.0[..]);
    }
}

impl Decode for OnionPacket {
    fn decode(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        Ok(OnionPacket(Box::new(r.read_array()?)))
    }
}

tlv_stream! {
    /// `update_add_htlc_tlvs`.
    pub struct UpdateAddHtlcTlvs {
        /// 0 `blinded_path`: the `path_key` (formerly `blinding_point`).
        (0) path_key: PublicKey,
    }
}

wire_message! {
    /// `update_add_htlc` (128).
    pub struct UpdateAddHtlc {
        /// The channel.
        pub channel_id: ChannelId,
        /// HTLC id (counts up from 0 per direction).
        pub id: u64,
        /// Amount.
        pub amount_msat: u64,
        /// Payment hash.
        pub payment_hash: Sha256,
        /// Absolute expiry height.
        pub cltv_expiry: u32,
        /// The onion for the next hop.
        pub onion_routing_packet: OnionPacket,
        /// `update_add_htlc_tlvs`.
        pub tlvs: UpdateAddHtlcTlvs,
    }
}

/// Length of `attribution_data`: 20 `u32` hold times and 210 `u32` truncated HMACs.
pub const ATTRIBUTION_DATA_LEN: usize = 20 * 4 + 210 * 4;

/// `attribution_data` of `update_fulfill_htlc` / `update_fail_htlc`
/// (attributable failures): hold times then truncated HMACs, kept raw.
#[derive(Clone, PartialEq, Eq)]
pub struct AttributionData(pub Box<[u8; ATTRIBUTION_DATA_LEN]>);

impl std::fmt::Debug for AttributionData {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "AttributionData({}..)", hex::encode(&self.0[..8]))
    }
}

impl TlvValue for AttributionData {
    fn write_value(&self, w: &mut Writer) {
        w.put(&self.0[..]);
    }
    fn read_value(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        Ok(AttributionData(Box::new(r.read_array()?)))
    }
}

tlv_stream! {
    /// `update_fulfill_htlc_tlvs`.
    pub struct UpdateFulfillHtlcTlvs {
        /// 1 `attribution_data`.
        (1) attribution_data: AttributionData,
    }
}

wire_message! {
    /// `update_fulfill_htlc` (130).
    pub struct UpdateFulfillHtlc {
        /// The channel.
        pub channel_id: ChannelId,
        /// HTLC id.
        pub id: u64,
        /// The preimage of the payment hash.
        pub payment_preimage: [u8; 32],
        /// `update_fulfill_htlc_tlvs`.
        pub tlvs: UpdateFulfillHtlcTlvs,
    }
}

tlv_stream! {
    /// `update_fail_htlc_tlvs`.
    pub struct UpdateFailHtlcTlvs {
        /// 1 `attribution_data`.
        (1) attribution_data: AttributionData,
    }
}

wire_message! {
    /// `update_fail_htlc` (131).
    pub struct UpdateFailHtlc {
        /// The channel.
        pub channel_id: ChannelId,
        /// HTLC id.
        pub id: u64,
        /// The encrypted failure reason.
        pub reason: Vec<u8>,
        /// `update_fail_htlc_tlvs`.
        pub tlvs: UpdateFailHtlcTlvs,
    }
}

wire_message! {
    /// `update_fail_malformed_htlc` (135).
    pub struct UpdateFailMalformedHtlc {
        /// The channel.
        pub channel_id: ChannelId,
        /// HTLC id.
        pub id: u64,
        /// SHA-256 of the onion we could not parse.
        pub sha256_of_onion: Sha256,
        /// Failure code (must have the BADONION bit).
        pub failure_code: u16,
    }
}

tlv_stream! {
    /// `commitment_signed_tlvs`.
    pub struct CommitmentSignedTlvs {
        /// 1 `funding_txid`: which funding transaction this signs for (splicing).
        (1) funding_txid: Txid,
    }
}

wire_message! {
    /// `commitment_signed` (132).
    pub struct CommitmentSigned {
        /// The channel.
        pub channel_id: ChannelId,
        /// Signature of the commitment transaction.
        pub signature: Signature,
        /// One signature per non-dust HTLC output (`u16` count prefix).
        pub htlc_signatures: Vec<Signature>,
        /// `commitment_signed_tlvs`.
        pub tlvs: CommitmentSignedTlvs,
    }
}

wire_message! {
    /// `revoke_and_ack` (133).
    pub struct RevokeAndAck {
        /// The channel.
        pub channel_id: ChannelId,
        /// The secret revoking the previous commitment.
        pub per_commitment_secret: [u8; 32],
        /// The point for the commitment after next.
        pub next_per_commitment_point: PublicKey,
    }
}

wire_message! {
    /// `update_fee` (134).
    pub struct UpdateFee {
        /// The channel.
        pub channel_id: ChannelId,
        /// New commitment feerate.
        pub feerate_per_kw: u32,
    }
}

/// A txid and retransmit flags (`channel_reestablish`'s `next_funding` and
/// `my_current_funding_locked`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FundingTxidFlags {
    /// The funding transaction id.
    pub txid: Txid,
    /// Bit field of messages to retransmit.
    pub retransmit_flags: u8,
}

impl TlvValue for FundingTxidFlags {
    fn write_value(&self, w: &mut Writer) {
        w.write(&self.txid);
        w.write(&self.retransmit_flags);
    }
    fn read_value(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        Ok(FundingTxidFlags {
            txid: r.read()?,
            retransmit_flags: r.read()?,
        })
    }
}

tlv_stream! {
    /// `channel_reestablish_tlvs`.
    pub struct ChannelReestablishTlvs {
        /// 1 `next_funding`: an interactive funding whose signing was interrupted.
        (1) next_funding: FundingTxidFlags,
        /// 5 `my_current_funding_locked`: the last funding the sender locked.
        (5) my_current_funding_locked: FundingTxidFlags,
    }
}

wire_message! {
    /// `channel_reestablish` (136).
    pub struct ChannelReestablish {
        /// The channel.
        pub channel_id: ChannelId,
        /// Commitment number of the next `commitment_signed` the sender expects.
        pub next_commitment_number: u64,
        /// Commitment number of the next `revoke_and_ack` the sender expects.
        pub next_revocation_number: u64,
        /// The last per-commitment secret received (zeros if none).
        pub your_last_per_commitment_secret: [u8; 32],
        /// The sender's current per-commitment point.
        pub my_current_per_commitment_point: PublicKey,
        /// `channel_reestablish_tlvs`.
        pub tlvs: ChannelReestablishTlvs,
    }
}
