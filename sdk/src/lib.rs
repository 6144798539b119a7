//! `lumen-sdk`: the contract between the Lumen node and everything that talks
//! to it — the CLI, tests, and (with the plugin issue) plugins.
//!
//! Today it holds the node API's request/response types, typed money amounts,
//! the stable JSON-RPC error codes and a typed jsonrpsee client trait. The
//! plugin ABI and both ends of the plugin protocol will live here too.

pub mod amount;
pub mod api;
pub mod error_codes;

pub use amount::{AmountParseError, Msat, Sat};
