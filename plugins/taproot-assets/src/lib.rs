//! Taproot Assets for Lumen, as a plugin.
//!
//! Not implemented yet: this crate only reserves its place in the workspace.
//! It will hold the tapd-compatible asset encoding, MS-SMT, proofs, minting,
//! transfers and asset channels, once the plugin system exists. The node does
//! not load it today.
