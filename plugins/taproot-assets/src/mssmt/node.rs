//! Node hashes, leaves and the precomputed empty tree.

use std::sync::OnceLock;

use sha2::{Digest, Sha256};

use super::MAX_TREE_LEVELS;

/// A 32-byte MS-SMT node hash.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub struct NodeHash(pub [u8; 32]);

impl std::fmt::Display for NodeHash {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&hex::encode(self.0))
    }
}

/// Hash of the empty leaf (empty value, zero sum).
pub const EMPTY_LEAF_HASH: &str =
    "af5570f5a1810b7af78caf4bc70a660f0df51e42baf91d4de5b2328de0e83dfc";
/// Root hash of the empty tree.
pub const EMPTY_ROOT_HASH: &str =
    "b1e8e8f2dc3b266452988cfe169aa73be25405eeead02ab5dd6b3c6fd0ca8d67";

/// A computed node: its hash and sum. Enough to hash its parent.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Node {
    /// Node hash.
    pub hash: NodeHash,
    /// Sum of all leaves below.
    pub sum: u64,
}

impl Node {
    /// Parent of `left` and `right`; `None` if the sum overflows `u64`.
    pub fn branch(left: &Node, right: &Node) -> Option<Node> {
        let sum = left.sum.checked_add(right.sum)?;
        let mut h = Sha256::new();
        h.update(left.hash.0);
        h.update(right.hash.0);
        h.update(sum.to_be_bytes());
        Some(Node {
            hash: NodeHash(h.finalize().into()),
            sum,
        })
    }
}

/// A leaf: arbitrary value bytes and a sum.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Default)]
pub struct Leaf {
    /// Leaf value.
    pub value: Vec<u8>,
    /// Leaf sum.
    pub sum: u64,
}

impl Leaf {
    /// A new leaf.
    pub fn new(value: Vec<u8>, sum: u64) -> Self {
        Self { value, sum }
    }

    /// The empty leaf (what an absent key holds).
    pub fn empty() -> Self {
        Self::default()
    }

    /// True for the empty leaf.
    pub fn is_empty(&self) -> bool {
        self.value.is_empty() && self.sum == 0
    }

    /// SHA256(value ‖ u64 BE sum).
    pub fn hash(&self) -> NodeHash {
        let mut h = Sha256::new();
        h.update(&self.value);
        h.update(self.sum.to_be_bytes());
        NodeHash(h.finalize().into())
    }

    /// This leaf as a computed node.
    pub fn node(&self) -> Node {
        Node {
            hash: self.hash(),
            sum: self.sum,
        }
    }
}

/// Empty subtree nodes by depth: index 0 is the empty root, index 256 the
/// empty leaf.
pub fn empty_tree() -> &'static [Node; MAX_TREE_LEVELS + 1] {
    static EMPTY: OnceLock<[Node; MAX_TREE_LEVELS + 1]> = OnceLock::new();
    EMPTY.get_or_init(|| {
        let leaf = Leaf::empty().node();
        let mut nodes = [leaf; MAX_TREE_LEVELS + 1];
        for depth in (0..MAX_TREE_LEVELS).rev() {
            let child = nodes[depth + 1];
            // Sums are all zero: no overflow possible.
            nodes[depth] = Node::branch(&child, &child).unwrap_or(child);
        }
        nodes
    })
}

/// Bit `idx` of the key path: `(key[idx / 8] >> (idx % 8)) & 1` (0 for
/// `idx >= 256`).
pub fn bit_index(idx: usize, key: &[u8; 32]) -> u8 {
    key.get(idx / 8).map_or(0, |b| (b >> (idx % 8)) & 1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn empty_constants() {
        assert_eq!(hex::encode(Leaf::empty().hash().0), EMPTY_LEAF_HASH);
        assert_eq!(hex::encode(empty_tree()[0].hash.0), EMPTY_ROOT_HASH);
        assert_eq!(empty_tree()[256], Leaf::empty().node());
    }

    #[test]
    fn bit_order_is_lsb_first() {
        let mut key = [0u8; 32];
        key[0] = 0b0000_0010;
        key[1] = 0b1000_0000;
        assert_eq!(bit_index(0, &key), 0);
        assert_eq!(bit_index(1, &key), 1);
        assert_eq!(bit_index(15, &key), 1);
        assert_eq!(bit_index(8, &key), 0);
    }
}
