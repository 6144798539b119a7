//! `lumen-sdk`: the contract between the Lumen node and everything that talks
//! to it — the CLI, tests, and (with the plugin issue) plugins.
//!
//! Today it holds the node API's request/response types, typed money amounts,
//! the stable JSON-RPC error codes and a typed jsonrpsee client trait, and the
//! first increment of the plugin system: the in-process ABI ([`abi`]), the
//! host that loads plugins ([`host`]), the plugin-side builder ([`plugin`],
//! [`export_plugin!`]), the start-up message shapes ([`protocol`]) and the
//! hook payloads and results the node and plugins share ([`hooks`]).

pub mod amount;
pub mod api;
pub mod error_codes;

pub use amount::{AmountParseError, Msat, Sat};
pub mod abi;
pub mod hooks;
pub mod host;
pub mod plugin;
pub mod protocol;
