//! Multi-node and interop tests. LDK (the `lightning` crate) runs here as a
//! real counterparty over real TCP.

mod ldk_interop;
mod ldk_peer;
mod lumend;
