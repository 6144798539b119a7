//! Virtual PSBTs (tapd package `tappsbt`): the BIP-174 packet that
//! describes an asset-level (virtual) transaction.
//!
//! The unsigned transaction is version 2 with one empty input per virtual
//! input and, per virtual output, `value = amount` and `script = P2TR(script
//! key)`. Taproot Assets data lives in plain PSBT key types 0x70.. of each
//! map, written after the standard fields in tapd's order.
//!
//! Byte compatibility: decoding then encoding a packet tapd wrote gives the
//! same bytes. Standard BIP-174 fields the vPSBT needs are typed, any other
//! standard field is kept raw and written back in key order (as btcd
//! does); fields unknown to both are kept and written after tapd's fields
//! (tapd itself drops them).
//!
//! Proofs (input 0x7a, output 0x7b) and alt leaves (output 0x7e) are kept
//! as raw bytes for now. TODO(proof): swap `Vec<u8>` for `proof::Proof`
//! and the alt-leaf list for `asset::AltLeaf` once those modules land.

mod codec;
mod derivation;
mod kv;
pub mod testvec;

use bitcoin::ScriptBuf;

pub use derivation::{Bip32Derivation, TaprootBip32Derivation};
pub use kv::Map;

use crate::address::{Address, Network};
use crate::asset::{Asset, PrevId};
use crate::tapscript::TapscriptPreimage;

/// vPacket version 0: commitments V0/V1.
pub const VERSION_V0: u8 = 0;
/// vPacket version 1: requires TapCommitment V2.
pub const VERSION_V1: u8 = 1;
/// Output type: a simple (non-split) output.
pub const OUTPUT_TYPE_SIMPLE: u8 = 0;
/// Output type: the split root.
pub const OUTPUT_TYPE_SPLIT_ROOT: u8 = 1;

/// Why a vPSBT does not decode or encode.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PsbtError {
    /// Not starting with `psbt\xff`.
    #[error("invalid PSBT magic bytes")]
    InvalidMagic,
    /// The input ended inside a map.
    #[error("unexpected end of PSBT")]
    Truncated,
    /// Bytes after the last output map.
    #[error("trailing bytes after PSBT")]
    TrailingBytes,
    /// A key or value longer than the DoS limit.
    #[error("PSBT item too large")]
    TooLarge,
    /// The same key twice in one map.
    #[error("duplicate PSBT key {0}")]
    DuplicateKey(String),
    /// No unsigned transaction, or one that does not parse.
    #[error("invalid unsigned transaction")]
    InvalidUnsignedTx,
    /// The is-virtual marker is absent or not 0x01.
    #[error("not a virtual transaction")]
    NotVirtual,
    /// No chain-params HRP.
    #[error("missing chain params HRP")]
    MissingHrp,
    /// An HRP of no known network.
    #[error("unknown chain params HRP {0:?}")]
    UnknownHrp(String),
    /// A field with a malformed value.
    #[error("invalid value for {0}")]
    InvalidValue(&'static str),
    /// An embedded asset, address or preimage failed to decode.
    #[error("{field}: {reason}")]
    Embedded {
        /// Which field.
        field: &'static str,
        /// The inner error.
        reason: String,
    },
    /// An output amount above `i64::MAX`.
    #[error("output amount exceeds maximum value")]
    AmountTooLarge,
}

/// Where an input's asset is anchored on chain.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Anchor {
    /// Anchor output value in satoshis (0x71).
    pub value: u64,
    /// Anchor output script (0x72; tapd does not check it).
    pub pk_script: Vec<u8>,
    /// Sighash type for the anchor input (0x73).
    pub sig_hash_type: u64,
    /// Anchor internal key, 33 bytes (0x74).
    pub internal_key: Option<[u8; 33]>,
    /// Anchor tapscript merkle root (0x75).
    pub merkle_root: Vec<u8>,
    /// BIP-32 derivations of the anchor key (0x76).
    pub bip32_derivation: Vec<Bip32Derivation>,
    /// Taproot BIP-32 derivations of the anchor key (0x77).
    pub tr_bip32_derivation: Vec<TaprootBip32Derivation>,
    /// Tapscript sibling preimage bytes (0x78; raw).
    pub tapscript_sibling: Vec<u8>,
}

/// A virtual input.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VInput {
    /// The asset UTXO spent (0x70).
    pub prev_id: PrevId,
    /// Its anchor.
    pub anchor: Anchor,
    /// The spent asset (0x79).
    pub asset: Option<Asset>,
    /// Its proof, `TAPP…` bytes (0x7a). TODO(proof): `proof::Proof`.
    pub proof: Option<Vec<u8>>,
    /// BIP-32 derivations of the script key (PSBT 0x06).
    pub bip32_derivation: Vec<Bip32Derivation>,
    /// Taproot BIP-32 derivations of the script key (PSBT 0x16).
    pub tr_bip32_derivation: Vec<TaprootBip32Derivation>,
    /// Taproot internal key (PSBT 0x17).
    pub tr_internal_key: Option<[u8; 32]>,
    /// Taproot merkle root (PSBT 0x18).
    pub tr_merkle_root: Option<Vec<u8>>,
    /// Other standard BIP-174 fields, raw, sorted by key (as written).
    pub other_standard: Map,
    /// Fields no one here knows, raw, in the order read.
    pub unknown: Map,
}

/// A virtual output.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VOutput {
    /// Asset amount (the unsigned tx output value).
    pub amount: u64,
    /// `OP_1 <x-only script key>` (the unsigned tx output script).
    pub pk_script: ScriptBuf,
    /// Output type (0x70).
    pub output_type: u8,
    /// Interactive send (0x71).
    pub interactive: bool,
    /// Anchor output index (0x72, u64 BE on the wire).
    pub anchor_output_index: u64,
    /// Anchor internal key (0x73).
    pub anchor_output_internal_key: Option<[u8; 33]>,
    /// Anchor BIP-32 derivations (0x74).
    pub anchor_output_bip32_derivation: Vec<Bip32Derivation>,
    /// Anchor taproot BIP-32 derivations (0x75).
    pub anchor_output_tr_bip32_derivation: Vec<TaprootBip32Derivation>,
    /// The output asset (0x76).
    pub asset: Option<Asset>,
    /// The split asset (0x77).
    pub split_asset: Option<Asset>,
    /// Anchor tapscript sibling (0x78).
    pub anchor_output_tapscript_sibling: Option<TapscriptPreimage>,
    /// Asset version to create (0x79).
    pub asset_version: u8,
    /// Proof courier URL (0x7a).
    pub proof_delivery_address: Option<String>,
    /// Proof suffix, `TAPP…` bytes (0x7b). TODO(proof): `proof::Proof`.
    pub proof_suffix: Option<Vec<u8>>,
    /// Absolute lock time (0x7c). `None`: the field is absent (packets
    /// from tapd versions before lock times omit it; current tapd always
    /// writes it).
    pub lock_time: Option<u64>,
    /// Relative lock time (0x7d); `None` as for `lock_time`.
    pub relative_lock_time: Option<u64>,
    /// Alt leaves, each a compact alt-leaf TLV stream (0x7e).
    /// TODO(commitment): `asset::AltLeaf` once it exists.
    pub alt_leaves: Option<Vec<Vec<u8>>>,
    /// The address this output pays (0x7f).
    pub address: Option<Address>,
    /// BIP-32 derivations of the script key (PSBT 0x02).
    pub bip32_derivation: Vec<Bip32Derivation>,
    /// Taproot internal key (PSBT 0x05).
    pub tr_internal_key: Option<[u8; 32]>,
    /// Taproot BIP-32 derivations (PSBT 0x07).
    pub tr_bip32_derivation: Vec<TaprootBip32Derivation>,
    /// Other standard BIP-174 fields, raw, sorted by key (as written).
    pub other_standard: Map,
    /// Fields no one here knows, raw, in the order read.
    pub unknown: Map,
}

/// A virtual packet.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VPacket {
    /// Packet version (global 0x72).
    pub version: u8,
    /// Chain (global 0x71 HRP).
    pub network: Network,
    /// Inputs.
    pub inputs: Vec<VInput>,
    /// Outputs.
    pub outputs: Vec<VOutput>,
    /// Global fields other than the unsigned tx and tapd's three, raw.
    pub unknown: Map,
}
