//! Bitcoin merkle proofs of the anchor transaction (tapd `TxMerkleProof`).
//!
//! Encoding: BigSize node count ‖ nodes (32 bytes each, internal byte
//! order) ‖ ceil(n/8) bytes of bits, least-significant bit first. Bit set =
//! the running hash is the left child.

use bitcoin::hashes::{Hash as _, sha256d};
use bitcoin::{Transaction, TxMerkleNode, Txid};

use crate::encoding::{DecodeError, Reader, write_bigsize};

/// Most nodes a tx merkle proof may hold (tapd `MerkleProofMaxNodes`).
pub const MERKLE_PROOF_MAX_NODES: u64 = 15;

/// A merkle path from one transaction to the block's merkle root.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct TxMerkleProof {
    /// Sibling hashes, leaf level first.
    pub nodes: Vec<[u8; 32]>,
    /// Per node: true if the running hash is the left child.
    pub bits: Vec<bool>,
}

fn hash_pair(left: &[u8; 32], right: &[u8; 32]) -> [u8; 32] {
    let mut buf = [0u8; 64];
    buf[..32].copy_from_slice(left);
    buf[32..].copy_from_slice(right);
    sha256d::Hash::hash(&buf).to_byte_array()
}

impl TxMerkleProof {
    /// Builds the proof for `txids[index]` (Bitcoin's tree: an odd last
    /// node at a level is paired with itself). `None` if out of range.
    pub fn new(txids: &[Txid], index: usize) -> Option<Self> {
        if index >= txids.len() {
            return None;
        }
        let mut level: Vec<[u8; 32]> = txids.iter().map(|t| t.to_byte_array()).collect();
        let mut idx = index;
        let mut proof = Self::default();
        while level.len() > 1 {
            let is_left = idx.is_multiple_of(2);
            let sibling = if is_left {
                *level.get(idx + 1).unwrap_or(&level[idx])
            } else {
                level[idx - 1]
            };
            proof.nodes.push(sibling);
            proof.bits.push(is_left);
            level = level
                .chunks(2)
                .map(|c| hash_pair(&c[0], c.get(1).unwrap_or(&c[0])))
                .collect();
            idx /= 2;
        }
        Some(proof)
    }

    /// The root reached from `txid`.
    pub fn root(&self, txid: &Txid) -> TxMerkleNode {
        let mut cur = txid.to_byte_array();
        for (node, is_left) in self.nodes.iter().zip(&self.bits) {
            cur = if *is_left {
                hash_pair(&cur, node)
            } else {
                hash_pair(node, &cur)
            };
        }
        TxMerkleNode::from_byte_array(cur)
    }

    /// True if `tx` hashes up to `merkle_root`.
    pub fn verify(&self, tx: &Transaction, merkle_root: &TxMerkleNode) -> bool {
        self.nodes.len() == self.bits.len() && self.root(&tx.compute_txid()) == *merkle_root
    }

    /// The record value.
    pub fn encode(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(1 + 32 * self.nodes.len() + self.nodes.len().div_ceil(8));
        write_bigsize(&mut out, self.nodes.len() as u64);
        for n in &self.nodes {
            out.extend_from_slice(n);
        }
        let mut packed = vec![0u8; self.bits.len().div_ceil(8)];
        for (i, b) in self.bits.iter().enumerate() {
            if *b {
                packed[i / 8] |= 1 << (i % 8);
            }
        }
        out.extend_from_slice(&packed);
        out
    }

    /// Decodes a record value. Padding bits must be zero so that the
    /// encoding is canonical.
    pub fn decode(bytes: &[u8]) -> Result<Self, DecodeError> {
        let mut r = Reader::new(bytes);
        let n = r.bigsize("merkle proof node count")?;
        if n > MERKLE_PROOF_MAX_NODES {
            return Err(DecodeError::LimitExceeded {
                what: "tx merkle proof nodes",
                limit: MERKLE_PROOF_MAX_NODES,
            });
        }
        let n = n as usize;
        let mut nodes = Vec::with_capacity(n);
        for _ in 0..n {
            nodes.push(r.array("merkle proof node")?);
        }
        let packed = r.bytes(n.div_ceil(8), "merkle proof bits")?;
        r.finish("tx merkle proof")?;
        let mut bits = Vec::with_capacity(n);
        for i in 0..packed.len() * 8 {
            let set = (packed[i / 8] >> (i % 8)) & 1 == 1;
            if i < n {
                bits.push(set);
            } else if set {
                return Err(DecodeError::InvalidValue {
                    field: "tx merkle proof bits",
                    reason: "non-zero padding bits",
                });
            }
        }
        Ok(Self { nodes, bits })
    }
}
