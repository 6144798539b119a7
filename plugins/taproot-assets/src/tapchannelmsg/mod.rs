//! Asset-channel blobs (tapd package `tapchannelmsg`): what tapd stores in
//! lnd per channel (OpenChannel), per commitment (Commitment) and per HTLC
//! (the HTLC custom records, see [`crate::rfqmsg::Htlc`]).
//!
//! Encoding is lnd's `tlv`: BigSize types and lengths, ascending types;
//! lists are a BigSize count then each element as BigSize-length-prefixed
//! bytes; HTLC maps are a BigSize count then (BigSize HTLC index,
//! length-prefixed element) pairs **in Go map order** — so entries are kept
//! in the order read, and re-encoding what was decoded gives the same
//! bytes. Optional records are `Option`s, written only when present.
//!
//! Proofs inside asset outputs are kept as raw `TAPP…` bytes.
//! TODO(proof): swap `Vec<u8>` for `proof::Proof` once it exists.

mod codec;

pub use codec::{
    AssetOutput, AuxLeaves, Commitment, HtlcAssetEntry, HtlcAuxLeaf, HtlcAuxLeafEntry, OpenChannel,
    TapLeaf,
};

/// Most asset outputs in one list (tapd `MaxNumOutputs`).
pub const MAX_NUM_OUTPUTS: u64 = 2048;
/// Most HTLCs in one map (lnd `input.MaxHTLCNumber`).
pub const MAX_NUM_HTLCS: u64 = 966;
