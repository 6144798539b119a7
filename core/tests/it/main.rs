//! Integration tests for `lumend` and `lumen-cli`: real processes, real
//! sockets, real store files. One test binary, so linking happens once.

mod cln_schema;
mod daemon;
mod latency;
mod pyln;
mod rpc_errors;
mod support;
