//! Taproot Assets for Lumen, as a plugin.
//!
//! First increment of a tapd-compatible protocol library. What exists:
//!
//! * [`encoding`]: BigSize and TLV streams with tapd's rules (strictly
//!   ascending types, unknown odd types kept and re-emitted, unknown even
//!   types rejected), with typed decode errors.
//! * [`mssmt`]: the merkle-sum sparse Merkle tree, full
//!   ([`mssmt::MsSmt`] over [`mssmt::TreeStore`]) and compacted
//!   ([`mssmt::CompactedTree`] over [`mssmt::CompactStore`]), in-memory
//!   stores only, with inclusion and exclusion proofs, the sum-overflow rule
//!   and the compressed proof encoding.
//! * [`asset`]: the asset leaf (V0/V1; unknown versions parse): genesis and
//!   asset ID, PrevID, witnesses, split commitments, script and group keys
//!   (the tweaked group key only), TLV encode/decode, the MS-SMT leaf form,
//!   burn keys; plus tapd's JSON test-vector shapes.
//! * [`address`]: tap addresses V0–V2 (TLV payload, bech32m without the
//!   90-character limit, HRPs per network); [`tapscript`] sibling preimages.
//! * [`commitment`]: AssetCommitment and TapCommitment (versions 0–2), the
//!   tapscript commitment leaf, siblings, the anchor output key and
//!   commitment proofs.
//! * [`proof`]: proofs and proof files (chained hashes), transaction merkle
//!   proofs, meta and group-key reveals, STXO proofs, and verification in
//!   tapd's order against a [`proof::ChainView`], including each proof's
//!   state transition under the [`vm`] (a grouped genesis' group witness
//!   included; ownership challenge witnesses are not checked yet).
//! * [`vm`]: virtual transactions and witness validation through
//!   libbitcoinconsensus with all spent outputs, plus tapd's transfer rules.
//! * [`tappsbt`]: virtual PSBTs; [`rfqmsg`]: RFQ wire messages and HTLC
//!   records; [`tapchannelmsg`]: asset-channel funding, commitment and HTLC
//!   blobs. Proofs inside vPSBTs and blobs are still kept as raw bytes.
//!
//! Not implemented yet: deriving an address's on-chain output key, V2
//! unique script keys, creating group witnesses, universe sync, minting, transfers
//! and asset channels. The MS-SMT has no persistent store. The node does not
//! load this plugin today.

pub mod address;
pub mod asset;
pub mod commitment;
pub mod encoding;
pub mod mssmt;
pub mod proof;
pub mod rfqmsg;
pub mod tapchannelmsg;
pub mod tappsbt;
pub mod tapscript;
pub mod vm;
