//! Building asset and tap commitments from assets, and proving membership.

use std::collections::BTreeMap;

use bitcoin::key::XOnlyPublicKey;

use super::proof::walk_with_children;
use super::{
    AssetProof, CommitmentError, Proof, TAP_COMMITMENT_V0, TAP_COMMITMENT_V2, TaprootAssetProof,
    asset_commitment_root, asset_keys, commitment_output_key, tap_commitment_leaf, tap_leaf_script,
};
use crate::asset::{Asset, AssetId, SerializedKey};
use crate::encoding::UnknownOddTypes;
use crate::mssmt::{Leaf, MemoryStore, MsSmt, Node};
use crate::tapscript::TapscriptPreimage;

fn tree_err(e: impl std::fmt::Display) -> CommitmentError {
    CommitmentError::Tree(e.to_string())
}

/// The root's two children and the root of a tree (via a proof walk for
/// the all-zero key, whose leaf is whatever the tree holds there).
fn root_children(tree: &MsSmt<MemoryStore>) -> Result<(Node, Node, Node), CommitmentError> {
    let key = [0u8; 32];
    let leaf = tree.get(&key).map_err(tree_err)?;
    let proof = tree.merkle_proof(&key).map_err(tree_err)?;
    walk_with_children(&proof, &key, &leaf)
}

/// All assets of one asset ID (or one group) in one output.
#[derive(Debug, Clone)]
pub struct AssetCommitment {
    /// Highest asset version inside.
    pub version: u8,
    /// Key of this commitment in the outer tree.
    pub tap_key: [u8; 32],
    grouped: bool,
    assets: BTreeMap<[u8; 32], Asset>,
    tree: MsSmt<MemoryStore>,
}

impl AssetCommitment {
    /// Commits to `assets`, which must share type and group key (or asset
    /// ID if ungrouped) and have distinct asset commitment keys.
    pub fn new(assets: &[Asset]) -> Result<Self, CommitmentError> {
        let first = assets.first().ok_or(CommitmentError::Empty)?;
        let (_, tap_key) = asset_keys(first);
        let first_id: AssetId = first.id();
        let mut version = 0;
        let mut map = BTreeMap::new();
        let mut tree = MsSmt::new(MemoryStore::new());
        for a in assets {
            if a.genesis.asset_type != first.genesis.asset_type {
                return Err(CommitmentError::Mismatch("asset type"));
            }
            if a.group_key != first.group_key {
                return Err(CommitmentError::Mismatch("group key"));
            }
            if first.group_key.is_none() && a.id() != first_id {
                return Err(CommitmentError::Mismatch("asset id"));
            }
            let (key, _) = asset_keys(a);
            if map.contains_key(&key) {
                return Err(CommitmentError::DuplicateKey);
            }
            tree.insert(key, a.leaf()?).map_err(tree_err)?;
            map.insert(key, a.clone());
            version = version.max(a.version);
        }
        Ok(Self {
            version,
            tap_key,
            grouped: first.group_key.is_some(),
            assets: map,
            tree,
        })
    }

    /// The inner tree root.
    pub fn tree_root(&self) -> Result<Node, CommitmentError> {
        self.tree.root().map_err(tree_err)
    }

    /// The AC-root (see [`asset_commitment_root`]).
    pub fn root(&self) -> Result<[u8; 32], CommitmentError> {
        let (l, r, root) = root_children(&self.tree)?;
        Ok(asset_commitment_root(&self.tap_key, &l, &r, root.sum))
    }

    /// This commitment's leaf in the outer tree.
    pub fn tap_leaf(&self) -> Result<Leaf, CommitmentError> {
        let sum = self.tree_root()?.sum;
        Ok(tap_commitment_leaf(self.version, &self.root()?, sum))
    }

    /// The committed assets by asset commitment key.
    pub fn assets(&self) -> &BTreeMap<[u8; 32], Asset> {
        &self.assets
    }

    /// True if the assets carry a group key.
    pub fn is_grouped(&self) -> bool {
        self.grouped
    }
}

/// The outer tree over asset commitments, anchored in one output.
#[derive(Debug, Clone)]
pub struct TapCommitment {
    /// TapCommitment version (0, 1 or 2).
    pub version: u8,
    commitments: BTreeMap<[u8; 32], AssetCommitment>,
    tree: MsSmt<MemoryStore>,
}

impl TapCommitment {
    /// Commits to `commitments` at `version`. Version 0 only holds V0
    /// assets.
    pub fn new(version: u8, commitments: Vec<AssetCommitment>) -> Result<Self, CommitmentError> {
        if version > TAP_COMMITMENT_V2 {
            return Err(CommitmentError::InvalidVersion(version));
        }
        let mut map = BTreeMap::new();
        let mut tree = MsSmt::new(MemoryStore::new());
        for c in commitments {
            if version == TAP_COMMITMENT_V0 && c.version > 0 {
                return Err(CommitmentError::InvalidVersion(version));
            }
            if map.contains_key(&c.tap_key) {
                return Err(CommitmentError::DuplicateTapKey);
            }
            tree.insert(c.tap_key, c.tap_leaf()?).map_err(tree_err)?;
            map.insert(c.tap_key, c);
        }
        Ok(Self {
            version,
            commitments: map,
            tree,
        })
    }

    /// Groups `assets` into asset commitments and commits to them.
    pub fn from_assets(version: u8, assets: &[Asset]) -> Result<Self, CommitmentError> {
        let mut groups: BTreeMap<[u8; 32], Vec<Asset>> = BTreeMap::new();
        for a in assets {
            groups.entry(asset_keys(a).1).or_default().push(a.clone());
        }
        let acs = groups
            .values()
            .map(|g| AssetCommitment::new(g))
            .collect::<Result<Vec<_>, _>>()?;
        Self::new(version, acs)
    }

    /// The outer tree root.
    pub fn root(&self) -> Result<Node, CommitmentError> {
        self.tree.root().map_err(tree_err)
    }

    /// The 73-byte tapscript leaf script.
    pub fn tap_leaf_script(&self) -> Result<Vec<u8>, CommitmentError> {
        tap_leaf_script(self.version, &self.root()?)
    }

    /// The anchor output key for `internal_key` and an optional sibling.
    pub fn output_key(
        &self,
        internal_key: &SerializedKey,
        sibling: Option<&TapscriptPreimage>,
    ) -> Result<XOnlyPublicKey, CommitmentError> {
        commitment_output_key(self.version, &self.root()?, internal_key, sibling)
    }

    /// The asset commitments by tap key.
    pub fn commitments(&self) -> &BTreeMap<[u8; 32], AssetCommitment> {
        &self.commitments
    }

    /// A proof for `asset`'s keys: inclusion if committed, otherwise an
    /// exclusion at whichever level the asset is missing.
    pub fn prove(&self, asset: &Asset) -> Result<Proof, CommitmentError> {
        let (ac_key, tap_key) = asset_keys(asset);
        let outer = self.tree.merkle_proof(&tap_key).map_err(tree_err)?;
        let asset_proof = match self.commitments.get(&tap_key) {
            None => None,
            Some(ac) => Some(AssetProof {
                proof: ac.tree.merkle_proof(&ac_key).map_err(tree_err)?,
                version: ac.version,
                tap_key,
                unknown_odd_types: UnknownOddTypes::new(),
            }),
        };
        Ok(Proof {
            asset_proof,
            taproot_asset_proof: TaprootAssetProof {
                proof: outer,
                version: self.version,
                unknown_odd_types: UnknownOddTypes::new(),
            },
            unknown_odd_types: UnknownOddTypes::new(),
        })
    }
}
