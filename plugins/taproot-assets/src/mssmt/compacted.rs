//! Compacted MS-SMT (tapd `CompactedTree`): a subtree holding a single leaf
//! is stored as that leaf, placed at the highest depth where it is alone.
//! Roots and proofs are identical to the full tree's; storage is O(leaves)
//! instead of O(256 · leaves).

use std::collections::HashMap;

use super::MAX_TREE_LEVELS;
use super::node::{Leaf, Node, NodeHash, bit_index, empty_tree};
use super::proof::Proof;
use super::store::StoreError;
use super::tree::TreeError;

/// A child slot of a compacted branch.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Child {
    /// Empty subtree.
    Empty,
    /// A stored branch (by its node).
    Branch(Node),
    /// The only leaf of this subtree, with its key and its node hash as
    /// seen at the slot's depth.
    Leaf {
        /// Leaf key.
        key: [u8; 32],
        /// The leaf.
        leaf: Leaf,
        /// Hash and sum of the subtree holding only this leaf.
        node: Node,
    },
}

impl Child {
    fn node(&self, depth: usize) -> Node {
        match self {
            Child::Empty => empty_tree()[depth],
            Child::Branch(n) | Child::Leaf { node: n, .. } => *n,
        }
    }
}

/// Hash and sum of a subtree at `depth` holding only `leaf` at `key`.
fn compacted_node(key: &[u8; 32], leaf: &Leaf, depth: usize) -> Node {
    let empty = empty_tree();
    let mut cur = leaf.node();
    for level in (depth..MAX_TREE_LEVELS).rev() {
        let sib = &empty[level + 1];
        let (l, r) = if bit_index(level, key) == 0 {
            (&cur, sib)
        } else {
            (sib, &cur)
        };
        // The sibling sum is zero: cannot overflow.
        cur = Node::branch(l, r).unwrap_or(cur);
    }
    cur
}

fn leaf_child(key: [u8; 32], leaf: Leaf, depth: usize) -> Child {
    let node = compacted_node(&key, &leaf, depth);
    Child::Leaf { key, leaf, node }
}

/// Storage seam of a [`CompactedTree`]: branches by hash, reference
/// counted like [`TreeStore`](super::TreeStore) branches.
pub trait CompactStore {
    /// Current root child (`Child::Empty` for the empty tree).
    fn root(&self) -> Result<Child, StoreError>;
    /// Replaces the root.
    fn set_root(&mut self, root: Child) -> Result<(), StoreError>;
    /// Children of a stored branch.
    fn branch(&self, hash: &NodeHash) -> Result<Option<(Child, Child)>, StoreError>;
    /// Adds a reference to a branch.
    fn insert_branch(
        &mut self,
        hash: NodeHash,
        left: Child,
        right: Child,
    ) -> Result<(), StoreError>;
    /// Drops a reference to a branch.
    fn delete_branch(&mut self, hash: &NodeHash) -> Result<(), StoreError>;
}

/// In-memory [`CompactStore`].
#[derive(Debug, Clone)]
pub struct MemoryCompactStore {
    root: Child,
    branches: HashMap<NodeHash, (Child, Child, u64)>,
}

impl Default for MemoryCompactStore {
    fn default() -> Self {
        Self {
            root: Child::Empty,
            branches: HashMap::new(),
        }
    }
}

impl MemoryCompactStore {
    /// An empty store.
    pub fn new() -> Self {
        Self::default()
    }

    /// Number of distinct stored branches.
    pub fn branch_count(&self) -> usize {
        self.branches.len()
    }
}

impl CompactStore for MemoryCompactStore {
    fn root(&self) -> Result<Child, StoreError> {
        Ok(self.root.clone())
    }

    fn set_root(&mut self, root: Child) -> Result<(), StoreError> {
        self.root = root;
        Ok(())
    }

    fn branch(&self, hash: &NodeHash) -> Result<Option<(Child, Child)>, StoreError> {
        Ok(self
            .branches
            .get(hash)
            .map(|(l, r, _)| (l.clone(), r.clone())))
    }

    fn insert_branch(
        &mut self,
        hash: NodeHash,
        left: Child,
        right: Child,
    ) -> Result<(), StoreError> {
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
}

/// A compacted MS-SMT over a [`CompactStore`].
#[derive(Debug, Clone, Default)]
pub struct CompactedTree<S> {
    store: S,
}

impl<S: CompactStore> CompactedTree<S> {
    /// A tree over `store`.
    pub fn new(store: S) -> Self {
        Self { store }
    }

    /// The backing store.
    pub fn store(&self) -> &S {
        &self.store
    }

    /// Root node (hash and sum).
    pub fn root(&self) -> Result<Node, TreeError> {
        Ok(self.store.root()?.node(0))
    }

    fn children(&self, n: &Node) -> Result<(Child, Child), TreeError> {
        self.store
            .branch(&n.hash)?
            .ok_or(TreeError::MissingBranch(n.hash))
    }

    /// The leaf at `key` (the empty leaf when absent).
    pub fn get(&self, key: &[u8; 32]) -> Result<Leaf, TreeError> {
        let mut cur = self.store.root()?;
        let mut depth = 0;
        loop {
            match cur {
                Child::Empty => return Ok(Leaf::empty()),
                Child::Leaf { key: k, leaf, .. } => {
                    return Ok(if &k == key { leaf } else { Leaf::empty() });
                }
                Child::Branch(n) => {
                    let (l, r) = self.children(&n)?;
                    cur = if bit_index(depth, key) == 0 { l } else { r };
                    depth += 1;
                }
            }
        }
    }

    /// Inserts (or replaces) a leaf; the empty leaf deletes. Fails without
    /// changing anything if the root sum would overflow (every branch sum
    /// on the path is bounded by the root sum).
    pub fn insert(&mut self, key: [u8; 32], leaf: Leaf) -> Result<(), TreeError> {
        let old = self.get(&key)?;
        let root = self.root()?;
        root.sum
            .saturating_sub(old.sum)
            .checked_add(leaf.sum)
            .ok_or(TreeError::SumOverflow)?;
        let root_child = self.store.root()?;
        let new_root = self.insert_at(root_child, 0, key, leaf)?;
        self.store.set_root(new_root)?;
        Ok(())
    }

    /// Deletes the leaf at `key` (no-op if absent).
    pub fn delete(&mut self, key: [u8; 32]) -> Result<(), TreeError> {
        self.insert(key, Leaf::empty())
    }

    fn make_branch(&mut self, depth: usize, left: Child, right: Child) -> Result<Child, TreeError> {
        match (&left, &right) {
            (Child::Empty, Child::Empty) => return Ok(Child::Empty),
            (Child::Empty, Child::Leaf { key, leaf, .. })
            | (Child::Leaf { key, leaf, .. }, Child::Empty) => {
                return Ok(leaf_child(*key, leaf.clone(), depth));
            }
            _ => {}
        }
        let node = Node::branch(&left.node(depth + 1), &right.node(depth + 1))
            .ok_or(TreeError::SumOverflow)?;
        self.store.insert_branch(node.hash, left, right)?;
        Ok(Child::Branch(node))
    }

    /// Two distinct leaves below `depth`, as the subtree holding both.
    fn merge(
        &mut self,
        depth: usize,
        a: ([u8; 32], Leaf),
        b: ([u8; 32], Leaf),
    ) -> Result<Child, TreeError> {
        let (ba, bb) = (bit_index(depth, &a.0), bit_index(depth, &b.0));
        let (left, right) = if ba == bb {
            let child = self.merge(depth + 1, a, b)?;
            if ba == 0 {
                (child, Child::Empty)
            } else {
                (Child::Empty, child)
            }
        } else {
            let ca = leaf_child(a.0, a.1, depth + 1);
            let cb = leaf_child(b.0, b.1, depth + 1);
            if ba == 0 { (ca, cb) } else { (cb, ca) }
        };
        self.make_branch(depth, left, right)
    }

    fn insert_at(
        &mut self,
        slot: Child,
        depth: usize,
        key: [u8; 32],
        leaf: Leaf,
    ) -> Result<Child, TreeError> {
        match slot {
            Child::Empty => Ok(if leaf.is_empty() {
                Child::Empty
            } else {
                leaf_child(key, leaf, depth)
            }),
            Child::Leaf { key: k, .. } if k == key => Ok(if leaf.is_empty() {
                Child::Empty
            } else {
                leaf_child(key, leaf, depth)
            }),
            Child::Leaf {
                key: k,
                leaf: l,
                node,
            } => {
                if leaf.is_empty() {
                    return Ok(Child::Leaf {
                        key: k,
                        leaf: l,
                        node,
                    });
                }
                self.merge(depth, (key, leaf), (k, l))
            }
            Child::Branch(n) => {
                let (l, r) = self.children(&n)?;
                let (l, r) = if bit_index(depth, &key) == 0 {
                    (self.insert_at(l, depth + 1, key, leaf)?, r)
                } else {
                    (l, self.insert_at(r, depth + 1, key, leaf)?)
                };
                let new = self.make_branch(depth, l, r)?;
                self.store.delete_branch(&n.hash)?;
                Ok(new)
            }
        }
    }

    /// Merkle proof for `key` (inclusion if present, else exclusion); the
    /// same proof the full tree gives.
    pub fn merkle_proof(&self, key: &[u8; 32]) -> Result<Proof, TreeError> {
        let empty = empty_tree();
        // Siblings top-down: index = depth of the parent.
        let mut siblings = Vec::with_capacity(MAX_TREE_LEVELS);
        let mut cur = self.store.root()?;
        let mut depth = 0;
        while depth < MAX_TREE_LEVELS {
            match std::mem::replace(&mut cur, Child::Empty) {
                Child::Branch(n) => {
                    let (l, r) = self.children(&n)?;
                    let (next, sib) = if bit_index(depth, key) == 0 {
                        (l, r)
                    } else {
                        (r, l)
                    };
                    siblings.push(sib.node(depth + 1));
                    cur = next;
                    depth += 1;
                }
                Child::Empty => {
                    siblings.extend((depth..MAX_TREE_LEVELS).map(|lvl| empty[lvl + 1]));
                    depth = MAX_TREE_LEVELS;
                }
                Child::Leaf {
                    key: k, leaf: l, ..
                } => {
                    let mut diverged = &k == key;
                    for lvl in depth..MAX_TREE_LEVELS {
                        if !diverged && bit_index(lvl, key) != bit_index(lvl, &k) {
                            siblings.push(compacted_node(&k, &l, lvl + 1));
                            diverged = true;
                        } else {
                            siblings.push(empty[lvl + 1]);
                        }
                    }
                    depth = MAX_TREE_LEVELS;
                }
            }
        }
        siblings.reverse();
        Ok(Proof { nodes: siblings })
    }
}
