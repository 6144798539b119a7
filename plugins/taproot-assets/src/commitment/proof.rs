//! Commitment proofs (tapd `commitment.Proof`): the inner (asset) and outer
//! (Taproot Asset) MS-SMT proofs, their TLV encoding, and deriving the
//! TapCommitment root from an asset (inclusion) or a key (exclusion).

use super::{CommitmentError, asset_commitment_root, asset_keys, tap_commitment_leaf};
use crate::asset::Asset;
use crate::encoding::{
    DecodeError, StreamWriter, UnknownOddTypes, expect_len, keep_unknown, parse_stream,
};
use crate::mssmt::{self, Leaf, MAX_TREE_LEVELS, Node, bit_index};

// commitment.Proof TLV types.
const T_ASSET_PROOF: u64 = 1;
const T_TAPROOT_ASSET_PROOF: u64 = 2;
// AssetProof / TaprootAssetProof TLV types.
const T_VERSION: u64 = 0;
const T_TAP_KEY: u64 = 2;
const T_ASSET_MSSMT_PROOF: u64 = 4;
const T_TAP_MSSMT_PROOF: u64 = 2;

/// Proof of an asset (or its absence) inside an asset commitment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AssetProof {
    /// Inner MS-SMT proof.
    pub proof: mssmt::Proof,
    /// Asset commitment version.
    pub version: u8,
    /// The asset commitment's key in the outer tree.
    pub tap_key: [u8; 32],
    /// Unknown odd records, kept for re-encoding.
    pub unknown_odd_types: UnknownOddTypes,
}

/// Proof of an asset commitment (or its absence) inside a TapCommitment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TaprootAssetProof {
    /// Outer MS-SMT proof.
    pub proof: mssmt::Proof,
    /// TapCommitment version.
    pub version: u8,
    /// Unknown odd records, kept for re-encoding.
    pub unknown_odd_types: UnknownOddTypes,
}

/// A commitment proof: an optional asset proof plus the outer proof.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Proof {
    /// Inner proof; absent for an exclusion at the outer level.
    pub asset_proof: Option<AssetProof>,
    /// Outer proof.
    pub taproot_asset_proof: TaprootAssetProof,
    /// Unknown odd records, kept for re-encoding.
    pub unknown_odd_types: UnknownOddTypes,
}

fn decode_mssmt_proof(field: &'static str, v: &[u8]) -> Result<mssmt::Proof, DecodeError> {
    mssmt::CompressedProof::decode(v)?
        .decompress()
        .map_err(|_| DecodeError::InvalidValue {
            field,
            reason: "bitmap and node count disagree",
        })
}

fn decode_u8(field: &'static str, v: &[u8]) -> Result<u8, DecodeError> {
    expect_len(field, v, 1)?;
    Ok(v[0])
}

impl AssetProof {
    /// TLV stream: 0 version, 2 tap key, 4 compressed proof.
    pub fn encode(&self) -> Vec<u8> {
        let mut w = StreamWriter::new();
        w.record(T_VERSION, vec![self.version]);
        w.record(T_TAP_KEY, self.tap_key.to_vec());
        w.record(T_ASSET_MSSMT_PROOF, self.proof.compress().encode());
        w.unknown(&self.unknown_odd_types);
        w.finish()
    }

    /// Decodes the TLV stream.
    pub fn decode(bytes: &[u8]) -> Result<Self, DecodeError> {
        let (mut version, mut tap_key, mut proof) = (None, None, None);
        let mut unknown = UnknownOddTypes::new();
        for rec in parse_stream(bytes)? {
            match rec.typ {
                T_VERSION => version = Some(decode_u8("asset proof version", rec.value)?),
                T_TAP_KEY => {
                    expect_len("asset proof tap key", rec.value, 32)?;
                    let mut k = [0u8; 32];
                    k.copy_from_slice(rec.value);
                    tap_key = Some(k);
                }
                T_ASSET_MSSMT_PROOF => proof = Some(decode_mssmt_proof("asset proof", rec.value)?),
                _ => keep_unknown(&mut unknown, rec)?,
            }
        }
        Ok(Self {
            proof: proof.ok_or(DecodeError::MissingRecord("asset proof mssmt proof"))?,
            version: version.ok_or(DecodeError::MissingRecord("asset proof version"))?,
            tap_key: tap_key.ok_or(DecodeError::MissingRecord("asset proof tap key"))?,
            unknown_odd_types: unknown,
        })
    }
}

impl TaprootAssetProof {
    /// TLV stream: 0 version, 2 compressed proof.
    pub fn encode(&self) -> Vec<u8> {
        let mut w = StreamWriter::new();
        w.record(T_VERSION, vec![self.version]);
        w.record(T_TAP_MSSMT_PROOF, self.proof.compress().encode());
        w.unknown(&self.unknown_odd_types);
        w.finish()
    }

    /// Decodes the TLV stream.
    pub fn decode(bytes: &[u8]) -> Result<Self, DecodeError> {
        let (mut version, mut proof) = (None, None);
        let mut unknown = UnknownOddTypes::new();
        for rec in parse_stream(bytes)? {
            match rec.typ {
                T_VERSION => version = Some(decode_u8("taproot asset proof version", rec.value)?),
                T_TAP_MSSMT_PROOF => {
                    proof = Some(decode_mssmt_proof("taproot asset proof", rec.value)?)
                }
                _ => keep_unknown(&mut unknown, rec)?,
            }
        }
        Ok(Self {
            proof: proof.ok_or(DecodeError::MissingRecord(
                "taproot asset proof mssmt proof",
            ))?,
            version: version.ok_or(DecodeError::MissingRecord("taproot asset proof version"))?,
            unknown_odd_types: unknown,
        })
    }
}

/// Walks `proof` up from `leaf` at `key` and returns the root's two
/// children and the root itself.
pub(crate) fn walk_with_children(
    proof: &mssmt::Proof,
    key: &[u8; 32],
    leaf: &Leaf,
) -> Result<(Node, Node, Node), CommitmentError> {
    if proof.nodes.len() != MAX_TREE_LEVELS {
        return Err(CommitmentError::Tree(format!(
            "invalid proof length {}",
            proof.nodes.len()
        )));
    }
    let overflow = || CommitmentError::Tree("integer overflow in proof walk".into());
    let mut cur = leaf.node();
    for (i, sibling) in proof.nodes.iter().enumerate().take(MAX_TREE_LEVELS - 1) {
        let depth = MAX_TREE_LEVELS - 1 - i;
        cur = if bit_index(depth, key) == 0 {
            Node::branch(&cur, sibling)
        } else {
            Node::branch(sibling, &cur)
        }
        .ok_or_else(overflow)?;
    }
    let top = proof.nodes[MAX_TREE_LEVELS - 1];
    let (l, r) = if bit_index(0, key) == 0 {
        (cur, top)
    } else {
        (top, cur)
    };
    let root = Node::branch(&l, &r).ok_or_else(overflow)?;
    Ok((l, r, root))
}

impl Proof {
    /// TLV stream: 1 asset proof (if any), 2 taproot asset proof.
    pub fn encode(&self) -> Vec<u8> {
        let mut w = StreamWriter::new();
        self.write_records(&mut w);
        w.unknown(&self.unknown_odd_types);
        w.finish()
    }

    /// Adds records 1 and 2 to a stream (the proof-level commitment proof
    /// extends the same stream).
    pub fn write_records(&self, w: &mut StreamWriter) {
        if let Some(ap) = &self.asset_proof {
            w.record(T_ASSET_PROOF, ap.encode());
        }
        w.record(T_TAPROOT_ASSET_PROOF, self.taproot_asset_proof.encode());
    }

    /// Decodes a stream holding only records 1 and 2 (plus unknown odd).
    pub fn decode(bytes: &[u8]) -> Result<Self, DecodeError> {
        let mut builder = ProofBuilder::default();
        for rec in parse_stream(bytes)? {
            if !builder.accept(rec.typ, rec.value)? {
                keep_unknown(&mut builder.unknown, rec)?;
            }
        }
        builder.finish()
    }

    /// The TapCommitment root (hash, sum) and version implied by `asset`
    /// being included. A split commitment in the first witness is removed
    /// first, as tapd commits to split assets without it.
    pub fn derive_by_asset_inclusion(&self, asset: &Asset) -> Result<(Node, u8), CommitmentError> {
        let ap = self
            .asset_proof
            .as_ref()
            .ok_or(CommitmentError::MissingAssetProof)?;
        let mut stripped;
        let mut a = asset;
        if asset
            .prev_witnesses
            .first()
            .is_some_and(|w| w.split_commitment.is_some())
        {
            stripped = asset.clone();
            if let Some(w) = stripped.prev_witnesses.first_mut() {
                w.split_commitment = None;
            }
            a = &stripped;
        }
        let (ac_key, _) = asset_keys(a);
        let leaf = a.leaf()?;
        self.derive_from_inner(ap, &ac_key, &leaf)
    }

    /// The TapCommitment root implied by the asset commitment key (or, with
    /// no asset proof, the tap commitment key) being absent.
    pub fn derive_by_asset_exclusion(
        &self,
        asset_commitment_key: &[u8; 32],
        tap_commitment_key: &[u8; 32],
    ) -> Result<(Node, u8), CommitmentError> {
        match &self.asset_proof {
            Some(ap) => self.derive_from_inner(ap, asset_commitment_key, &Leaf::empty()),
            None => {
                let root = self
                    .taproot_asset_proof
                    .proof
                    .root(tap_commitment_key, &Leaf::empty())
                    .map_err(|e| CommitmentError::Tree(e.to_string()))?;
                Ok((root, self.taproot_asset_proof.version))
            }
        }
    }

    fn derive_from_inner(
        &self,
        ap: &AssetProof,
        key: &[u8; 32],
        leaf: &Leaf,
    ) -> Result<(Node, u8), CommitmentError> {
        let (l, r, inner_root) = walk_with_children(&ap.proof, key, leaf)?;
        let ac_root = asset_commitment_root(&ap.tap_key, &l, &r, inner_root.sum);
        let outer_leaf = tap_commitment_leaf(ap.version, &ac_root, inner_root.sum);
        let root = self
            .taproot_asset_proof
            .proof
            .root(&ap.tap_key, &outer_leaf)
            .map_err(|e| CommitmentError::Tree(e.to_string()))?;
        Ok((root, self.taproot_asset_proof.version))
    }
}

/// Collects records 1 and 2 while a larger stream is parsed.
#[derive(Debug, Default)]
pub(crate) struct ProofBuilder {
    asset_proof: Option<AssetProof>,
    taproot_asset_proof: Option<TaprootAssetProof>,
    pub(crate) unknown: UnknownOddTypes,
}

impl ProofBuilder {
    /// Takes record `typ` if it is 1 or 2; `Ok(false)` otherwise.
    pub(crate) fn accept(&mut self, typ: u64, value: &[u8]) -> Result<bool, DecodeError> {
        match typ {
            T_ASSET_PROOF => self.asset_proof = Some(AssetProof::decode(value)?),
            T_TAPROOT_ASSET_PROOF => {
                self.taproot_asset_proof = Some(TaprootAssetProof::decode(value)?)
            }
            _ => return Ok(false),
        }
        Ok(true)
    }

    /// The proof, if record 2 was seen.
    pub(crate) fn finish(self) -> Result<Proof, DecodeError> {
        Ok(Proof {
            asset_proof: self.asset_proof,
            taproot_asset_proof: self
                .taproot_asset_proof
                .ok_or(DecodeError::MissingRecord("taproot asset proof"))?,
            unknown_odd_types: self.unknown,
        })
    }
}
