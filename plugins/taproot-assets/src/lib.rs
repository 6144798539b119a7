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
//!
//! Not implemented yet: deriving an address's on-chain output key, V2
//! unique script keys, group key reveals and group witnesses, asset and
//! TapCommitments, proofs and proof files, the VM, vPSBTs, universe sync,
//! minting, transfers and asset channels. The MS-SMT has no persistent
//! store. The node does not load this plugin today.

pub mod address;
pub mod asset;
pub mod commitment;
pub mod encoding;
pub mod mssmt;
pub mod proof;
pub mod tapscript;
