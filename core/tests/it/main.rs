//! Integration tests for `lumend`, `lumen-cli` and the store: real
//! processes, real sockets, real database files. One test binary, so linking
//! happens once.

mod cln_schema;
mod daemon;
mod latency;
mod pyln;
mod rpc_errors;
mod store;
mod support;
mod wire;
