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
//!
//! Not implemented yet: commitments, proofs and proof files, addresses, the
//! VM, vPSBTs, universe sync, minting, transfers and asset channels. The node
//! does not load this plugin today.

pub mod encoding;
pub mod mssmt;
