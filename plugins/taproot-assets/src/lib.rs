//! Taproot Assets for Lumen, as a plugin.
//!
//! First increment of a tapd-compatible protocol library. What exists:
//!
//! * [`encoding`]: BigSize and TLV streams with tapd's rules (strictly
//!   ascending types, unknown odd types kept and re-emitted, unknown even
//!   types rejected), with typed decode errors.
//! * [`mssmt`]: the merkle-sum sparse Merkle tree behind a small
//!   [`mssmt::TreeStore`] trait (in-memory store only), with inclusion and
//!   exclusion proofs and the compressed proof encoding.
//! * [`asset`]: the asset leaf (V0/V1; unknown versions parse): genesis and
//!   asset ID, PrevID, witnesses, split commitments, script and group keys
//!   (the tweaked group key only), TLV encode/decode, the MS-SMT leaf form,
//!   burn keys; plus tapd's JSON test-vector shapes.
//!
//! Not implemented yet: commitments, proofs and proof files, addresses, the
//! VM, vPSBTs, universe sync, minting, transfers and asset channels. The node
//! does not load this plugin today.

pub mod asset;
pub mod encoding;
pub mod mssmt;
