//! Merkle-sum sparse Merkle tree (MS-SMT), as in tapd's `mssmt` package.
//!
//! A depth-256 tree over 32-byte keys where every node carries a hash and a
//! `u64` sum. Leaf hash = SHA256(value ‖ u64 BE sum); branch hash =
//! SHA256(left ‖ right ‖ u64 BE (left.sum + right.sum)), and a sum that
//! overflows `u64` is an error. Path bit `d` of a key is
//! `(key[d / 8] >> (d % 8)) & 1` (least-significant bit first in each byte).

mod compacted;
mod node;
mod proof;
mod store;
mod tree;

pub use compacted::{Child, CompactStore, CompactedTree, MemoryCompactStore};
pub use node::{EMPTY_LEAF_HASH, EMPTY_ROOT_HASH, Leaf, Node, NodeHash, bit_index, empty_tree};
pub use proof::{CompressedProof, CompressedProofError, Proof, ProofError};
pub use store::{MemoryStore, StoreError, TreeStore};
pub use tree::{MsSmt, TreeError};

/// Number of levels below the root (and number of siblings in a proof).
pub const MAX_TREE_LEVELS: usize = 256;
