//! Integration tests for `lumend`, `lumen-cli`, the store, the chain and
//! the wire protocol: real processes, real sockets, real database files.
//! One test binary, so linking happens once.

mod bitcoind;
mod blinding;
mod chain;
mod chain_contract;
mod chain_server;
mod cln_schema;
mod daemon;
mod invoice;
mod latency;
mod onion;
mod peers;
mod plugins;
mod pyln;
mod rejections;
mod rpc_errors;
mod store;
mod support;
mod transport;
mod wallet;
mod wire;
