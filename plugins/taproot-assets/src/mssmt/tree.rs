//! The MS-SMT itself: insert, delete, get, root, proofs.

use super::MAX_TREE_LEVELS;
use super::node::{Leaf, Node, bit_index, empty_tree};
use super::proof::Proof;
use super::store::{StoreError, TreeStore};

/// Errors of tree operations.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TreeError {
    /// A branch sum would exceed `u64::MAX`; the tree is left unchanged.
    #[error("mssmt: integer overflow in branch sum")]
    SumOverflow,
    /// The store lacks a branch that the root implies.
    #[error("mssmt: store is missing branch {0}")]
    MissingBranch(super::NodeHash),
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// A merkle-sum sparse Merkle tree over a [`TreeStore`].
#[derive(Debug, Clone, Default)]
pub struct MsSmt<S> {
    store: S,
}

/// What a walk from the root to a leaf position saw.
struct Walk {
    /// Sibling at each step, top-down (index 0 = child level of the root).
    siblings: Vec<Node>,
    /// Node on the path at each depth 0..256 (index 0 = root).
    path: Vec<Node>,
}

impl<S: TreeStore> MsSmt<S> {
    /// A tree over `store` (which may already hold a tree).
    pub fn new(store: S) -> Self {
        Self { store }
    }

    /// The backing store.
    pub fn store(&self) -> &S {
        &self.store
    }

    /// Consumes the tree, returning the store.
    pub fn into_store(self) -> S {
        self.store
    }

    /// Root node (hash and sum).
    pub fn root(&self) -> Result<Node, TreeError> {
        Ok(self.store.root()?.unwrap_or(empty_tree()[0]))
    }

    fn walk(&self, key: &[u8; 32]) -> Result<Walk, TreeError> {
        let empty = empty_tree();
        let mut cur = self.root()?;
        let mut siblings = Vec::with_capacity(MAX_TREE_LEVELS);
        let mut path = Vec::with_capacity(MAX_TREE_LEVELS);
        for depth in 0..MAX_TREE_LEVELS {
            path.push(cur);
            let (left, right) = if cur.hash == empty[depth].hash {
                (empty[depth + 1], empty[depth + 1])
            } else {
                self.store
                    .branch(&cur.hash)?
                    .ok_or(TreeError::MissingBranch(cur.hash))?
            };
            if bit_index(depth, key) == 0 {
                siblings.push(right);
                cur = left;
            } else {
                siblings.push(left);
                cur = right;
            }
        }
        Ok(Walk { siblings, path })
    }

    /// The leaf at `key` (the empty leaf when absent).
    pub fn get(&self, key: &[u8; 32]) -> Result<Leaf, TreeError> {
        Ok(self.store.leaf(key)?.unwrap_or_default())
    }

    /// Inserts (or replaces) the leaf at `key`. Inserting the empty leaf
    /// deletes. Fails without changing anything if a sum overflows.
    pub fn insert(&mut self, key: [u8; 32], leaf: Leaf) -> Result<(), TreeError> {
        let empty = empty_tree();
        let walk = self.walk(&key)?;
        // Compute the new path bottom-up before touching the store.
        let mut new_path: Vec<(Node, Node, Node)> = Vec::with_capacity(MAX_TREE_LEVELS);
        let mut cur = leaf.node();
        for depth in (0..MAX_TREE_LEVELS).rev() {
            let sibling = &walk.siblings[depth];
            let (left, right) = if bit_index(depth, &key) == 0 {
                (cur, *sibling)
            } else {
                (*sibling, cur)
            };
            let parent = Node::branch(&left, &right).ok_or(TreeError::SumOverflow)?;
            new_path.push((parent, left, right));
            cur = parent;
        }
        // new_path is bottom-up: index i is the node at depth 255 - i.
        for (i, (parent, left, right)) in new_path.iter().enumerate() {
            let depth = MAX_TREE_LEVELS - 1 - i;
            if parent.hash != empty[depth].hash {
                self.store.insert_branch(parent.hash, *left, *right)?;
            }
        }
        for (depth, old) in walk.path.iter().enumerate() {
            if old.hash != empty[depth].hash {
                self.store.delete_branch(&old.hash)?;
            }
        }
        if leaf.is_empty() {
            self.store.delete_leaf(&key)?;
        } else {
            self.store.insert_leaf(key, leaf)?;
        }
        self.store.set_root(cur)?;
        Ok(())
    }

    /// Deletes the leaf at `key` (a no-op if absent).
    pub fn delete(&mut self, key: [u8; 32]) -> Result<(), TreeError> {
        self.insert(key, Leaf::empty())
    }

    /// Merkle proof for `key`: inclusion if present, exclusion otherwise.
    pub fn merkle_proof(&self, key: &[u8; 32]) -> Result<Proof, TreeError> {
        let walk = self.walk(key)?;
        let mut nodes = walk.siblings;
        nodes.reverse();
        Ok(Proof { nodes })
    }
}
