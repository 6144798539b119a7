//! The Taproot Assets virtual machine (tapd packages `vm` and `tapscript`).
//!
//! A state transition (a new asset, the assets it spends and any split
//! assets) is mapped onto a one-input, one-output virtual Bitcoin
//! transaction ([`tx`]) and every asset witness is checked with the real
//! BIP-341/342 interpreter of libbitcoinconsensus ([`script`]). The asset
//! rules around it (genesis, splits, non-inflation, matching inputs, lock
//! times) live in [`engine`].
//!
//! Sans-I/O: the only chain access needed (for lock times) goes through the
//! [`ChainLookup`] trait.

mod engine;
mod error;
mod locktime;
pub mod script;
pub mod tx;

pub use engine::{Engine, InputSet, SplitAsset};
pub use error::VmError;
pub use locktime::{ChainLookup, FixedChain, LockTimeCheck};
