//! The asset leaf (tapd package `asset`): genesis, asset ID, witnesses,
//! split commitments, group and script keys, and their TLV encoding.
//!
//! Decoding accepts asset versions this crate does not know (tapd's vectors
//! contain a version 2 asset); only [`Asset::leaf`] refuses them.

mod burn;
mod codec;
mod keys;
pub mod testvec;

use bitcoin::OutPoint;
use bitcoin::hashes::Hash as _;
use sha2::{Digest, Sha256};

pub use burn::{BurnKeyError, NUMS_KEY, NUMS_KEY_BYTES, burn_key};
pub use codec::decode_tx_witness;
pub(crate) use codec::{read_outpoint, write_outpoint};
pub use keys::SerializedKey;

use crate::encoding::UnknownOddTypes;
use crate::mssmt;

/// Longest allowed genesis tag (asset name), in bytes.
pub const MAX_ASSET_NAME_LEN: usize = 64;
/// Most witnesses per asset, and most items per witness stack.
pub const MAX_WITNESS_ITEMS: u64 = 65_535;
/// Longest witness stream, witness stack item or split-commitment record.
pub const MAX_RECORD_SIZE: usize = 65_535;
/// How deeply split commitments may nest root assets (DoS guard; tapd has
/// none, real assets nest once).
pub const MAX_NESTING: usize = 32;

/// Asset version 0.
pub const VERSION_V0: u8 = 0;
/// Asset version 1 ("segwit": leaves omit witness stacks).
pub const VERSION_V1: u8 = 1;
/// Normal (fungible) asset type.
pub const TYPE_NORMAL: u8 = 0;
/// Collectible asset type.
pub const TYPE_COLLECTIBLE: u8 = 1;

/// A 32-byte asset ID.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub struct AssetId(pub [u8; 32]);

/// Where and how an asset was born.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Genesis {
    /// First input of the minting transaction.
    pub first_prev_out: OutPoint,
    /// Asset name, raw bytes (tapd keeps it as a Go string, not checked
    /// for UTF-8), at most [`MAX_ASSET_NAME_LEN`] bytes.
    pub tag: Vec<u8>,
    /// SHA256 of the meta reveal.
    pub meta_hash: [u8; 32],
    /// Output index of the minting anchor.
    pub output_index: u32,
    /// Asset type ([`TYPE_NORMAL`], [`TYPE_COLLECTIBLE`]; others parse).
    pub asset_type: u8,
}

impl Genesis {
    /// Asset ID = SHA256(outpoint in wire form (txid ‖ u32 LE) ‖
    /// SHA256(tag) ‖ meta hash ‖ u32 BE output index ‖ u8 type).
    pub fn id(&self) -> AssetId {
        let mut h = Sha256::new();
        h.update(self.first_prev_out.txid.to_byte_array());
        h.update(self.first_prev_out.vout.to_le_bytes());
        h.update(Sha256::digest(&self.tag));
        h.update(self.meta_hash);
        h.update(self.output_index.to_be_bytes());
        h.update([self.asset_type]);
        AssetId(h.finalize().into())
    }
}

/// Identifies the asset UTXO a witness spends.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PrevId {
    /// Anchor outpoint of the input.
    pub out_point: OutPoint,
    /// Asset ID of the input.
    pub asset_id: AssetId,
    /// Script key of the input.
    pub script_key: SerializedKey,
}

impl PrevId {
    /// The all-zero PrevID used by genesis assets and split outputs.
    pub fn zero() -> Self {
        Self {
            out_point: OutPoint::new(bitcoin::Txid::all_zeros(), 0),
            asset_id: AssetId::default(),
            script_key: SerializedKey::ZERO,
        }
    }

    /// SHA256(outpoint wire form ‖ asset ID ‖ x-only script key): the key
    /// of this input in the VM's input tree.
    pub fn hash(&self) -> [u8; 32] {
        let mut h = Sha256::new();
        h.update(self.out_point.txid.to_byte_array());
        h.update(self.out_point.vout.to_le_bytes());
        h.update(self.asset_id.0);
        h.update(self.script_key.x_only());
        h.finalize().into()
    }
}

/// Split commitment carried by a split output's witness.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SplitCommitment {
    /// Proof of the split asset in the split tree.
    pub proof: mssmt::Proof,
    /// The root (change) asset, including its witnesses.
    pub root_asset: Box<Asset>,
}

/// One asset witness (element of the asset's TLV 11).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Witness {
    /// What is spent (TLV 1).
    pub prev_id: Option<PrevId>,
    /// Witness stack (TLV 3), omitted when empty.
    pub tx_witness: Vec<Vec<u8>>,
    /// Split commitment (TLV 5).
    pub split_commitment: Option<SplitCommitment>,
    /// Unknown odd records, re-emitted on encode.
    pub unknown_odd_types: UnknownOddTypes,
}

/// An asset leaf.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Asset {
    /// Asset version (TLV 0).
    pub version: u8,
    /// Genesis (TLV 2; TLV 4 repeats its type).
    pub genesis: Genesis,
    /// Amount (TLV 6).
    pub amount: u64,
    /// Absolute lock time (TLV 7, omitted when 0).
    pub lock_time: u64,
    /// Relative lock time (TLV 9, omitted when 0).
    pub relative_lock_time: u64,
    /// Witnesses (TLV 11, omitted when empty).
    pub prev_witnesses: Vec<Witness>,
    /// Root of the split tree (TLV 13).
    pub split_commitment_root: Option<mssmt::Node>,
    /// Script version (TLV 14).
    pub script_version: u16,
    /// Script key (TLV 16).
    pub script_key: SerializedKey,
    /// Tweaked group key (TLV 17).
    pub group_key: Option<SerializedKey>,
    /// Unknown odd records, re-emitted on encode.
    pub unknown_odd_types: UnknownOddTypes,
}

/// Errors that are not about bytes.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AssetError {
    /// The asset's version is not one this crate can commit to.
    #[error("asset: unknown asset version {0}")]
    UnknownVersion(u8),
}

impl Asset {
    /// Asset ID of the genesis.
    pub fn id(&self) -> AssetId {
        self.genesis.id()
    }

    /// The MS-SMT leaf of this asset: value = encoding (V1: witness stacks
    /// stripped), sum = amount.
    pub fn leaf(&self) -> Result<mssmt::Leaf, AssetError> {
        let value = match self.version {
            VERSION_V0 => self.encode(),
            VERSION_V1 => self.encode_no_witness(),
            v => return Err(AssetError::UnknownVersion(v)),
        };
        Ok(mssmt::Leaf::new(value, self.amount))
    }
}
