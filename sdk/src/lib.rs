//! `lumen-sdk`: the contract between the Lumen node and everything that talks
//! to it — the CLI, tests, and (with the plugin issue) plugins.
//!
//! Today it holds the node API's request/response types, typed money amounts,
//! the stable JSON-RPC error codes and a typed jsonrpsee client trait, and the
//! first increment of the plugin system: the in-process ABI ([`abi`]), the
//! host that loads plugins ([`host`]), the plugin-side builder ([`plugin`],
//! [`export_plugin!`]) and the start-up message shapes ([`protocol`]),
//! typed hook payloads and results ([`hooks`]) and typed calls from a plugin
//! to the node ([`node_calls`]). `README.md` is the plugin author's guide.

pub mod amount;
pub mod api;
pub mod error_codes;

pub use amount::{AmountParseError, Msat, Sat};
pub mod abi;
pub mod hooks;
pub mod host;
pub mod node_calls;
mod pending;
pub mod plugin;
pub mod protocol;
pub mod spin;

/// The jsonrpsee this SDK is built on (its client error type, `RpcModule`,
/// `core::RpcResult`). A crate that uses the `#[rpc]` macros must also
/// depend on `jsonrpsee` itself, at the same version.
pub use jsonrpsee;

/// The README's code blocks, compiled and run as doctests.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
pub struct ReadmeDoctests;
