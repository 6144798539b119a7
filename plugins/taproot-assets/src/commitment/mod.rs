//! Asset and Taproot Asset commitments (tapd package `commitment`).
//!
//! Two nested MS-SMTs: an [`AssetCommitment`] holds every asset of one asset
//! ID (or one group) in an output, a [`TapCommitment`] holds one leaf per
//! asset commitment. The outer root becomes a 73-byte tapscript leaf
//! ([`tap_leaf_script`]) that, possibly next to a revealed sibling, is the
//! tapscript root of the anchor output. [`Proof`] carries the two merkle
//! proofs and derives the outer root back from an asset.

mod builder;
mod proof;

use bitcoin::hashes::Hash as _;
use bitcoin::key::{TapTweak as _, XOnlyPublicKey};
use bitcoin::taproot::{LeafVersion, TapLeafHash, TapNodeHash};
use sha2::{Digest, Sha256};

pub use builder::{AssetCommitment, TapCommitment};
pub(crate) use proof::ProofBuilder;
pub use proof::{AssetProof, Proof, TaprootAssetProof};

use crate::asset::{Asset, AssetId, SerializedKey};
use crate::mssmt::{self, Node};
use crate::tapscript::TapscriptPreimage;

/// TapCommitment version 0 (only V0 assets, legacy leaf).
pub const TAP_COMMITMENT_V0: u8 = 0;
/// TapCommitment version 1 (V0/V1 assets, legacy leaf).
pub const TAP_COMMITMENT_V1: u8 = 1;
/// TapCommitment version 2 (tagged leaf).
pub const TAP_COMMITMENT_V2: u8 = 2;

/// SHA256("taproot-assets"): the marker of legacy (V0/V1) leaves.
pub fn taproot_assets_marker() -> [u8; 32] {
    Sha256::digest(b"taproot-assets").into()
}

/// SHA256("taproot-assets:194243"): the prefix of V2 leaves.
pub fn taproot_assets_v2_tag() -> [u8; 32] {
    Sha256::digest(b"taproot-assets:194243").into()
}

/// Length of a TapCommitment leaf script.
pub const TAP_LEAF_SCRIPT_LEN: usize = 73;

/// Everything that can go wrong building or deriving a commitment.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CommitmentError {
    /// An asset version that cannot become a leaf.
    #[error(transparent)]
    Asset(#[from] crate::asset::AssetError),
    /// No assets given.
    #[error("commitment: no assets")]
    Empty,
    /// Assets of one asset commitment disagree on ID/group or type.
    #[error("commitment: assets have mismatched {0}")]
    Mismatch(&'static str),
    /// Two assets map to the same asset commitment key.
    #[error("commitment: duplicate asset commitment key")]
    DuplicateKey,
    /// Two asset commitments map to the same tap commitment key.
    #[error("commitment: duplicate tap commitment key")]
    DuplicateTapKey,
    /// A TapCommitment version that does not exist or cannot hold the
    /// assets.
    #[error("commitment: invalid tap commitment version {0}")]
    InvalidVersion(u8),
    /// An MS-SMT operation failed (sum overflow, invalid proof).
    #[error("commitment: mssmt: {0}")]
    Tree(String),
    /// A sibling preimage that is itself a commitment or has a bad leaf
    /// version.
    #[error("commitment: invalid tapscript sibling: {0}")]
    InvalidSibling(&'static str),
    /// An internal key that is not a valid point.
    #[error("commitment: invalid internal key")]
    InvalidInternalKey,
    /// A split commitment that does not verify.
    #[error("commitment: invalid split commitment: {0}")]
    InvalidSplit(&'static str),
    /// A proof lacks the asset proof needed for inclusion.
    #[error("commitment: missing asset proof")]
    MissingAssetProof,
}

/// Key of an asset inside its asset commitment: SHA256(x-only script key)
/// for ungrouped assets, SHA256(asset ID ‖ x-only script key) for grouped
/// ones.
pub fn asset_commitment_key(id: &AssetId, script_key: &SerializedKey, grouped: bool) -> [u8; 32] {
    let mut h = Sha256::new();
    if grouped {
        h.update(id.0);
    }
    h.update(script_key.x_only());
    h.finalize().into()
}

/// Key of an asset's commitment inside the TapCommitment: the asset ID, or
/// SHA256(x-only group key) if grouped.
pub fn tap_commitment_key(id: &AssetId, group_key: Option<&SerializedKey>) -> [u8; 32] {
    match group_key {
        Some(gk) => Sha256::digest(gk.x_only()).into(),
        None => id.0,
    }
}

/// Both keys of an asset: (asset commitment key, tap commitment key).
pub fn asset_keys(asset: &Asset) -> ([u8; 32], [u8; 32]) {
    let id = asset.id();
    (
        asset_commitment_key(&id, &asset.script_key, asset.group_key.is_some()),
        tap_commitment_key(&id, asset.group_key.as_ref()),
    )
}

/// Key of a split asset in its split commitment tree: SHA256(u32 BE
/// anchor output index ‖ asset ID ‖ x-only script key).
pub fn split_commitment_key(
    output_index: u32,
    id: &AssetId,
    script_key: &SerializedKey,
) -> [u8; 32] {
    let mut h = Sha256::new();
    h.update(output_index.to_be_bytes());
    h.update(id.0);
    h.update(script_key.x_only());
    h.finalize().into()
}

/// Checks a split asset's split commitment: its proof, from the split
/// leaf (the asset without the split commitment, with the root's lock
/// times), must reach the root asset's split commitment root. `Ok(false)`
/// if the asset carries no split commitment.
pub fn verify_split_commitment(
    split_asset: &Asset,
    output_index: u32,
) -> Result<bool, CommitmentError> {
    let Some(sc) = split_asset
        .prev_witnesses
        .first()
        .and_then(|w| w.split_commitment.as_ref())
    else {
        return Ok(false);
    };
    let root = sc
        .root_asset
        .split_commitment_root
        .ok_or(CommitmentError::InvalidSplit(
            "root asset has no split commitment root",
        ))?;
    let mut leaf_asset = split_asset.clone();
    if let Some(w) = leaf_asset.prev_witnesses.first_mut() {
        w.split_commitment = None;
    }
    leaf_asset.lock_time = sc.root_asset.lock_time;
    leaf_asset.relative_lock_time = sc.root_asset.relative_lock_time;
    let key = split_commitment_key(output_index, &split_asset.id(), &split_asset.script_key);
    let derived = sc
        .proof
        .root(&key, &leaf_asset.leaf()?)
        .map_err(|e| CommitmentError::Tree(e.to_string()))?;
    if derived != root {
        return Err(CommitmentError::InvalidSplit(
            "split proof does not reach the root asset's split commitment root",
        ));
    }
    Ok(true)
}

/// The "AC-root": SHA256(tap key ‖ left child hash ‖ right child hash ‖
/// u64 BE sum) over the two children of the inner tree's root.
pub fn asset_commitment_root(tap_key: &[u8; 32], left: &Node, right: &Node, sum: u64) -> [u8; 32] {
    let mut h = Sha256::new();
    h.update(tap_key);
    h.update(left.hash.0);
    h.update(right.hash.0);
    h.update(sum.to_be_bytes());
    h.finalize().into()
}

/// The outer-tree leaf of an asset commitment: u8 version ‖ AC-root ‖ u64
/// BE sum, with the inner sum as leaf sum.
pub fn tap_commitment_leaf(version: u8, ac_root: &[u8; 32], sum: u64) -> mssmt::Leaf {
    let mut value = Vec::with_capacity(41);
    value.push(version);
    value.extend_from_slice(ac_root);
    value.extend_from_slice(&sum.to_be_bytes());
    mssmt::Leaf::new(value, sum)
}

/// The 73-byte tapscript leaf script of a TapCommitment with outer root
/// `root`. V0/V1: version ‖ marker ‖ root ‖ sum; V2: tag ‖ 2 ‖ root ‖ sum.
pub fn tap_leaf_script(version: u8, root: &Node) -> Result<Vec<u8>, CommitmentError> {
    let mut s = Vec::with_capacity(TAP_LEAF_SCRIPT_LEN);
    match version {
        TAP_COMMITMENT_V0 | TAP_COMMITMENT_V1 => {
            s.push(version);
            s.extend_from_slice(&taproot_assets_marker());
        }
        TAP_COMMITMENT_V2 => {
            s.extend_from_slice(&taproot_assets_v2_tag());
            s.push(version);
        }
        v => return Err(CommitmentError::InvalidVersion(v)),
    }
    s.extend_from_slice(&root.hash.0);
    s.extend_from_slice(&root.sum.to_be_bytes());
    Ok(s)
}

/// True if a tapscript leaf script is a Taproot Asset commitment (either
/// leaf layout).
pub fn is_tap_commitment_script(script: &[u8]) -> bool {
    if script.len() != TAP_LEAF_SCRIPT_LEN {
        return false;
    }
    let legacy = matches!(script[0], TAP_COMMITMENT_V0 | TAP_COMMITMENT_V1)
        && script[1..33] == taproot_assets_marker();
    legacy || script[..32] == taproot_assets_v2_tag()
}

/// TapLeaf hash of a tapscript (leaf version 0xc0) script.
pub fn tap_leaf_hash(script: &[u8]) -> TapNodeHash {
    TapNodeHash::from(TapLeafHash::from_script(
        bitcoin::Script::from_bytes(script),
        LeafVersion::TapScript,
    ))
}

/// Hash of a revealed tapscript sibling. A leaf that is itself a TAP
/// commitment is refused (one commitment per output).
pub fn sibling_hash(preimage: &TapscriptPreimage) -> Result<TapNodeHash, CommitmentError> {
    match preimage {
        TapscriptPreimage::Leaf { version, script } => {
            if is_tap_commitment_script(script) {
                return Err(CommitmentError::InvalidSibling(
                    "sibling is a taproot asset commitment",
                ));
            }
            let lv = LeafVersion::from_consensus(*version)
                .map_err(|_| CommitmentError::InvalidSibling("invalid leaf version"))?;
            Ok(TapNodeHash::from(TapLeafHash::from_script(
                bitcoin::Script::from_bytes(script),
                lv,
            )))
        }
        TapscriptPreimage::Branch(b) => {
            let mut l = [0u8; 32];
            let mut r = [0u8; 32];
            l.copy_from_slice(&b[..32]);
            r.copy_from_slice(&b[32..]);
            Ok(TapNodeHash::from_node_hashes(
                TapNodeHash::from_byte_array(l),
                TapNodeHash::from_byte_array(r),
            ))
        }
    }
}

/// Tapscript root: the commitment leaf hash, or TapBranch(leaf, sibling).
pub fn tapscript_root(leaf: TapNodeHash, sibling: Option<TapNodeHash>) -> TapNodeHash {
    match sibling {
        Some(s) => TapNodeHash::from_node_hashes(leaf, s),
        None => leaf,
    }
}

/// BIP-341 output key: TapTweak(internal key with even Y, root).
pub fn anchor_output_key(
    internal_key: &SerializedKey,
    root: Option<TapNodeHash>,
) -> Result<XOnlyPublicKey, CommitmentError> {
    let pk = internal_key
        .to_public_key()
        .ok_or(CommitmentError::InvalidInternalKey)?;
    let (x, _) = pk.x_only_public_key();
    // The global context: building one per call dominated verification.
    let (tweaked, _) = x.tap_tweak(bitcoin::secp256k1::SECP256K1, root);
    Ok(tweaked.to_x_only_public_key())
}

/// Output key of an anchor holding a TapCommitment with outer root `root`
/// at `version`, next to an optional sibling.
pub fn commitment_output_key(
    version: u8,
    root: &Node,
    internal_key: &SerializedKey,
    sibling: Option<&TapscriptPreimage>,
) -> Result<XOnlyPublicKey, CommitmentError> {
    let leaf = tap_leaf_hash(&tap_leaf_script(version, root)?);
    let sib = sibling.map(sibling_hash).transpose()?;
    anchor_output_key(internal_key, Some(tapscript_root(leaf, sib)))
}
