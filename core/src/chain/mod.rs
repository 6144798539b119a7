//! The chain: where blocks and transactions come from.
//!
//! Today this holds the embedded regtest chain ([`embedded`]), a pure state
//! machine with Bitcoin Core's validation rules for what the node needs. The
//! `ChainSource` seam, the Bitcoin Core RPC backend and the chain server follow.

pub mod embedded;
