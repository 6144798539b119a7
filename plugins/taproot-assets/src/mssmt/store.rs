//! The storage seam behind the MS-SMT, and an in-memory implementation.

use std::collections::HashMap;

use super::node::{Leaf, Node, NodeHash};

/// A storage backend failure.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StoreError {
    /// The backend itself failed (I/O, corruption, ...).
    #[error("tree store backend: {0}")]
    Backend(String),
}

/// Where an [`MsSmt`](super::MsSmt) keeps its nodes.
///
/// Branches are addressed by hash. Identical subtrees can sit at several
/// positions of the tree, so a store must count references:
/// [`insert_branch`](TreeStore::insert_branch) adds one,
/// [`delete_branch`](TreeStore::delete_branch) drops one and forgets the
/// branch at zero. Empty subtrees are never stored. Leaves are addressed by
/// their key.
pub trait TreeStore {
    /// Current root, `None` for the empty tree.
    fn root(&self) -> Result<Option<Node>, StoreError>;
    /// Replaces the root.
    fn set_root(&mut self, root: Node) -> Result<(), StoreError>;
    /// Children of the branch with this hash.
    fn branch(&self, hash: &NodeHash) -> Result<Option<(Node, Node)>, StoreError>;
    /// Adds a reference to a branch (storing it if new).
    fn insert_branch(&mut self, hash: NodeHash, left: Node, right: Node) -> Result<(), StoreError>;
    /// Drops a reference to a branch.
    fn delete_branch(&mut self, hash: &NodeHash) -> Result<(), StoreError>;
    /// The leaf stored under `key`.
    fn leaf(&self, key: &[u8; 32]) -> Result<Option<Leaf>, StoreError>;
    /// Stores a leaf under `key`.
    fn insert_leaf(&mut self, key: [u8; 32], leaf: Leaf) -> Result<(), StoreError>;
    /// Removes the leaf under `key`.
    fn delete_leaf(&mut self, key: &[u8; 32]) -> Result<(), StoreError>;
}

/// In-memory [`TreeStore`] (hash maps).
#[derive(Debug, Default, Clone)]
pub struct MemoryStore {
    root: Option<Node>,
    branches: HashMap<NodeHash, (Node, Node, u64)>,
    leaves: HashMap<[u8; 32], Leaf>,
}

impl MemoryStore {
    /// An empty store.
    pub fn new() -> Self {
        Self::default()
    }

    /// Number of distinct stored branches.
    pub fn branch_count(&self) -> usize {
        self.branches.len()
    }

    /// Number of stored leaves.
    pub fn leaf_count(&self) -> usize {
        self.leaves.len()
    }
}

impl TreeStore for MemoryStore {
    fn root(&self) -> Result<Option<Node>, StoreError> {
        Ok(self.root)
    }

    fn set_root(&mut self, root: Node) -> Result<(), StoreError> {
        self.root = Some(root);
        Ok(())
    }

    fn branch(&self, hash: &NodeHash) -> Result<Option<(Node, Node)>, StoreError> {
        Ok(self.branches.get(hash).map(|(l, r, _)| (*l, *r)))
    }

    fn insert_branch(&mut self, hash: NodeHash, left: Node, right: Node) -> Result<(), StoreError> {
        self.branches.entry(hash).or_insert((left, right, 0)).2 += 1;
        Ok(())
    }

    fn delete_branch(&mut self, hash: &NodeHash) -> Result<(), StoreError> {
        if let Some(entry) = self.branches.get_mut(hash) {
            entry.2 = entry.2.saturating_sub(1);
            if entry.2 == 0 {
                self.branches.remove(hash);
            }
        }
        Ok(())
    }

    fn leaf(&self, key: &[u8; 32]) -> Result<Option<Leaf>, StoreError> {
        Ok(self.leaves.get(key).cloned())
    }

    fn insert_leaf(&mut self, key: [u8; 32], leaf: Leaf) -> Result<(), StoreError> {
        self.leaves.insert(key, leaf);
        Ok(())
    }

    fn delete_leaf(&mut self, key: &[u8; 32]) -> Result<(), StoreError> {
        self.leaves.remove(key);
        Ok(())
    }
}
