//! The Lumen node library: everything `lumend` is made of.
//!
//! See `ARCHITECTURE.md` for the design; each module owns one thing:
//! [`config`] (settings), [`datadir`] (the directory and its lock),
//! [`signer`] (seed and keys), [`store`] (the database), [`datastore`]
//! (the key-value datastore RPCs), [`rpc`] (the control surface),
//! [`logging`], and [`node`] (start-up and shutdown).

pub mod chain;
pub mod config;
pub mod datadir;
pub mod datastore;
pub mod invoice;
pub mod logging;
pub mod node;
pub mod onion;
pub mod peer;
pub mod plugin;
pub mod rpc;
pub mod secret;
pub mod signer;
pub mod store;
pub mod transport;
pub mod wallet;
pub mod wire;
