//! MS-SMT merkle proofs, their compressed encoding and verification.

use super::MAX_TREE_LEVELS;
use super::node::{Leaf, Node, NodeHash, bit_index, empty_tree};
use crate::encoding::{DecodeError, Reader};

/// Size of the compressed proof bitmap in bytes.
const BITMAP_LEN: usize = MAX_TREE_LEVELS / 8;

/// Errors when using a proof.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ProofError {
    /// The proof does not have exactly one sibling per level.
    #[error("mssmt: invalid proof length {0}")]
    InvalidLength(usize),
    /// A branch sum on the walk up overflows `u64`.
    #[error("mssmt: integer overflow in proof walk")]
    SumOverflow,
    /// The number of listed nodes disagrees with the bitmap.
    #[error("mssmt: invalid compressed proof: {nodes} nodes, {expected} expected")]
    InvalidCompressedProof {
        /// Nodes listed.
        nodes: usize,
        /// Clear bits in the bitmap.
        expected: usize,
    },
}

/// A full proof: 256 siblings, index 0 at the leaf level, index 255 just
/// below the root.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Proof {
    /// Sibling nodes, leaf level first.
    pub nodes: Vec<Node>,
}

impl Proof {
    /// The root obtained by walking up from `leaf` at `key`.
    pub fn root(&self, key: &[u8; 32], leaf: &Leaf) -> Result<Node, ProofError> {
        if self.nodes.len() != MAX_TREE_LEVELS {
            return Err(ProofError::InvalidLength(self.nodes.len()));
        }
        let mut cur = leaf.node();
        for (i, sibling) in self.nodes.iter().enumerate() {
            let depth = MAX_TREE_LEVELS - 1 - i;
            let (l, r) = if bit_index(depth, key) == 0 {
                (&cur, sibling)
            } else {
                (sibling, &cur)
            };
            cur = Node::branch(l, r).ok_or(ProofError::SumOverflow)?;
        }
        Ok(cur)
    }

    /// True if `leaf` at `key` reproduces `root` (hash and sum). A proof
    /// that is malformed or overflows never verifies.
    pub fn verify_inclusion(&self, root: &Node, key: &[u8; 32], leaf: &Leaf) -> bool {
        matches!(self.root(key, leaf), Ok(r) if r == *root)
    }

    /// True if the proof shows `key` is absent (holds the empty leaf).
    pub fn verify_exclusion(&self, root: &Node, key: &[u8; 32]) -> bool {
        self.verify_inclusion(root, key, &Leaf::empty())
    }

    /// Replaces empty-subtree siblings by bits. A sibling counts as empty
    /// only if its sum is zero too: a node with the empty hash and a
    /// nonzero sum (which no real tree has, but bytes can carry) stays
    /// explicit, so decoding and re-encoding never changes its sum.
    pub fn compress(&self) -> CompressedProof {
        let empty = empty_tree();
        let mut bits = [false; MAX_TREE_LEVELS];
        let mut nodes = Vec::new();
        for (i, node) in self.nodes.iter().enumerate().take(MAX_TREE_LEVELS) {
            let e = &empty[MAX_TREE_LEVELS - i];
            if node.hash == e.hash && node.sum == e.sum {
                bits[i] = true;
            } else {
                nodes.push(*node);
            }
        }
        CompressedProof { bits, nodes }
    }

    /// Decodes compressed proof bytes (no trailing bytes allowed) and
    /// decompresses them.
    pub fn from_compressed_bytes(bytes: &[u8]) -> Result<Proof, CompressedProofError> {
        let cp = CompressedProof::decode(bytes)?;
        Ok(cp.decompress()?)
    }
}

/// Either stage of reading a compressed proof failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CompressedProofError {
    /// The bytes are malformed.
    #[error(transparent)]
    Decode(#[from] DecodeError),
    /// The bytes parse but do not form a proof.
    #[error(transparent)]
    Proof(#[from] ProofError),
}

/// A proof with empty-subtree siblings replaced by bits.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CompressedProof {
    /// `bits[i]` set: sibling `i` is the empty subtree at its level.
    pub bits: [bool; MAX_TREE_LEVELS],
    /// The non-empty siblings, leaf level first.
    pub nodes: Vec<Node>,
}

impl CompressedProof {
    /// u16 BE node count ‖ nodes (32-byte hash ‖ u64 BE sum) ‖ 32-byte
    /// bitmap (LSB first within each byte).
    pub fn encode(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(2 + self.nodes.len() * 40 + BITMAP_LEN);
        out.extend_from_slice(&(self.nodes.len() as u16).to_be_bytes());
        for n in &self.nodes {
            out.extend_from_slice(&n.hash.0);
            out.extend_from_slice(&n.sum.to_be_bytes());
        }
        let mut bitmap = [0u8; BITMAP_LEN];
        for (i, bit) in self.bits.iter().enumerate() {
            if *bit {
                bitmap[i / 8] |= 1 << (i % 8);
            }
        }
        out.extend_from_slice(&bitmap);
        out
    }

    /// Parses the encoding of [`encode`](Self::encode); the whole input must
    /// be consumed.
    pub fn decode(bytes: &[u8]) -> Result<Self, DecodeError> {
        let mut r = Reader::new(bytes);
        if r.is_empty() {
            return Err(DecodeError::UnexpectedEof("compressed proof"));
        }
        let count = r.u16_be("compressed proof node count")?;
        let mut nodes = Vec::with_capacity(usize::from(count).min(MAX_TREE_LEVELS));
        for _ in 0..count {
            let hash = NodeHash(r.array("compressed proof node hash")?);
            let sum = r.u64_be("compressed proof node sum")?;
            nodes.push(Node { hash, sum });
        }
        let bitmap: [u8; BITMAP_LEN] = r.array("compressed proof bitmap")?;
        r.finish("compressed proof")?;
        let mut bits = [false; MAX_TREE_LEVELS];
        for (i, bit) in bits.iter_mut().enumerate() {
            *bit = (bitmap[i / 8] >> (i % 8)) & 1 == 1;
        }
        Ok(Self { bits, nodes })
    }

    /// Expands the bitmap back into a full proof.
    pub fn decompress(&self) -> Result<Proof, ProofError> {
        let expected = self.bits.iter().filter(|b| !**b).count();
        if expected != self.nodes.len() {
            return Err(ProofError::InvalidCompressedProof {
                nodes: self.nodes.len(),
                expected,
            });
        }
        let empty = empty_tree();
        let mut listed = self.nodes.iter();
        let mut nodes = Vec::with_capacity(MAX_TREE_LEVELS);
        for (i, bit) in self.bits.iter().enumerate() {
            let node = if *bit {
                empty[MAX_TREE_LEVELS - i]
            } else {
                *listed.next().ok_or(ProofError::InvalidCompressedProof {
                    nodes: self.nodes.len(),
                    expected,
                })?
            };
            nodes.push(node);
        }
        Ok(Proof { nodes })
    }
}
