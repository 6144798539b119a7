//! Proof verification in tapd's order (`proof/verifier.go`), sans I/O:
//! chain facts come from a [`ChainView`].
//!
//! Checked: version, header (via the view) and tx merkle proof, prev_out
//! chaining, inclusion, split root (its inclusion and the split asset's
//! split commitment proof), exclusion of every other P2TR output,
//! genesis and meta reveals, group key reveals, additional input files
//! (each verified and spent by the asset), and the state transition under
//! the asset VM ([`super::transition`]: witnesses, non-inflation, input
//! matching, splits, lock times) with the previous proof's asset and the
//! additional inputs' assets as inputs. A genesis goes through the VM too:
//! a plain one has nothing to check, a grouped one must carry a valid group
//! witness. **Not** checked: ownership challenge witnesses. STXO proofs are
//! checked for V1 transfer proofs (V0 proofs may carry them; like tapd,
//! they are ignored there).

use std::collections::BTreeSet;

use bitcoin::OutPoint;
use bitcoin::block::Header;

use super::meta::MetaError;
use super::stxo::{collect_stxo, verify_stxo_set};
use super::taproot::{TaprootProof, TaprootProofError, p2tr_output_key};
use super::transition::check_state_transition;
use super::{File, PROOF_V0, PROOF_V1, Proof};
use crate::asset::{Asset, AssetId, PrevId, SerializedKey, VERSION_V0, VERSION_V1};
use crate::commitment;
use crate::encoding::DecodeError;
use crate::vm::VmError;

/// What the verifier needs to know about the chain.
pub trait ChainView {
    /// Accepts `header` as part of the best chain at `height`.
    fn verify_header(&self, header: &Header, height: u32) -> Result<(), String>;

    /// True if `group_key` belongs to a group whose anchor is already
    /// known (needed for reissuance proofs without a group key reveal).
    fn is_known_group_key(&self, _group_key: &SerializedKey) -> bool {
        false
    }

    /// Median time past (Unix seconds) of the block at `height`; only
    /// asked for when a transfer uses a time-based lock.
    fn median_time_past(&self, height: u32) -> Result<i64, String> {
        Err(format!(
            "no median time for height {height} without a chain backend"
        ))
    }
}

/// A view without a chain: a header passes if its own proof of work meets
/// its own target. This is the "mock chain" for tapd's regtest vectors; a
/// node must use its real chain instead.
#[derive(Debug, Clone, Copy, Default)]
pub struct HeaderPowOnly;

impl ChainView for HeaderPowOnly {
    fn verify_header(&self, header: &Header, _height: u32) -> Result<(), String> {
        header
            .validate_pow(header.target())
            .map(|_| ())
            .map_err(|e| e.to_string())
    }
}

/// Why a proof (or file) is invalid.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum VerifyError {
    /// Bytes do not decode.
    #[error("proof {index}: decode: {source}")]
    Decode {
        /// Proof index in the file.
        index: usize,
        /// Decoder error.
        source: DecodeError,
    },
    /// Unknown proof version.
    #[error("unknown proof version {0}")]
    UnknownVersion(u32),
    /// Unknown asset version.
    #[error("unknown asset version {0}")]
    UnknownAssetVersion(u8),
    /// The header is not accepted by the chain view.
    #[error("invalid block header: {0}")]
    InvalidHeader(String),
    /// The anchor tx is not under the header's merkle root.
    #[error("invalid tx merkle proof")]
    InvalidMerkleProof,
    /// prev_out is not what the previous proof ended at, or not spent by
    /// the anchor tx.
    #[error("prev out mismatch: {0}")]
    PrevOutMismatch(&'static str),
    /// The inclusion proof does not derive the anchor output key.
    #[error("invalid inclusion proof: {0}")]
    InvalidInclusionProof(String),
    /// The split root proof is missing or invalid.
    #[error("invalid split root proof: {0}")]
    InvalidSplitRootProof(String),
    /// An exclusion proof is missing or invalid.
    #[error("invalid exclusion proof: {0}")]
    InvalidExclusionProof(String),
    /// Genesis reveal missing, unexpected or not matching the asset ID.
    #[error("invalid genesis reveal: {0}")]
    InvalidGenesisReveal(&'static str),
    /// Meta reveal missing, unexpected, mismatched or invalid.
    #[error("invalid meta reveal: {0}")]
    InvalidMetaReveal(String),
    /// Group key reveal missing or not deriving the group key.
    #[error("invalid group key reveal: {0}")]
    InvalidGroupKeyReveal(String),
    /// An STXO proof of a V1 transfer proof is missing or invalid.
    #[error("invalid STXO proof: {0}")]
    InvalidStxoProof(String),
    /// The asset does not spend the previous proof's asset.
    #[error("asset does not spend the previous proof's outpoint")]
    MissingPrevInput,
    /// A proof feature this verifier does not implement.
    #[error("unsupported: {0}")]
    Unsupported(&'static str),
    /// An additional input file fails verification, nests too deeply, or
    /// is not spent by the asset.
    #[error("invalid additional input {index}: {reason}")]
    InvalidAdditionalInput {
        /// Index in the proof's additional inputs.
        index: usize,
        /// Why.
        reason: String,
    },
    /// The state transition is invalid under the asset VM.
    #[error("invalid state transition: {0}")]
    InvalidStateTransition(VmError),
    /// A proof file with no proofs.
    #[error("proof file is empty")]
    EmptyFile,
}

impl From<MetaError> for VerifyError {
    fn from(e: MetaError) -> Self {
        VerifyError::InvalidMetaReveal(e.to_string())
    }
}

/// What a verified proof established.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifiedProof {
    /// Where the asset now lives.
    pub outpoint: OutPoint,
    /// Height of the anchoring block.
    pub block_height: u32,
    /// The proven asset (the input of the next proof's state transition).
    pub asset: Asset,
}

impl VerifiedProof {
    /// Asset ID (hashes the genesis on every call).
    pub fn asset_id(&self) -> AssetId {
        self.asset.id()
    }

    /// Amount.
    pub fn amount(&self) -> u64 {
        self.asset.amount
    }

    /// Script key.
    pub fn script_key(&self) -> SerializedKey {
        self.asset.script_key
    }

    /// Group key, if grouped.
    pub fn group_key(&self) -> Option<SerializedKey> {
        self.asset.group_key
    }

    /// True for a genesis (minting) proof.
    pub fn is_genesis(&self) -> bool {
        is_genesis_asset(&self.asset)
    }
}

/// A genesis asset: one witness with the zero PrevID and no split
/// commitment.
pub fn is_genesis_asset(asset: &Asset) -> bool {
    matches!(asset.prev_witnesses.as_slice(),
        [w] if w.prev_id.as_ref().is_none_or(|p| *p == PrevId::zero()) && w.split_commitment.is_none())
}

fn key_matches(keys: &[bitcoin::key::XOnlyPublicKey], out: &[u8; 32]) -> bool {
    keys.iter().any(|k| k.serialize() == *out)
}

fn output_key(p: &Proof, idx: u32) -> Result<[u8; 32], String> {
    let out = p
        .anchor_tx
        .output
        .get(idx as usize)
        .ok_or_else(|| format!("output index {idx} out of range"))?;
    p2tr_output_key(&out.script_pubkey).ok_or_else(|| format!("output {idx} is not P2TR"))
}

fn check_inclusion(p: &Proof, tp: &TaprootProof, asset: &Asset) -> Result<(), String> {
    let out = output_key(p, tp.output_index)?;
    let keys = tp
        .derive_by_asset_inclusion(asset)
        .map_err(|e: TaprootProofError| e.to_string())?;
    if key_matches(&keys, &out) {
        Ok(())
    } else {
        Err(format!(
            "derived key does not match output {}",
            tp.output_index
        ))
    }
}

/// Verifies one proof. `prev` is what the previous proof in the file
/// established (`None` for the first proof); `known_groups` are group keys
/// anchored earlier in the same file.
pub fn verify_proof(
    p: &Proof,
    prev: Option<&VerifiedProof>,
    known_groups: &BTreeSet<SerializedKey>,
    chain: &dyn ChainView,
) -> Result<VerifiedProof, VerifyError> {
    check_proof_depth(p, prev, known_groups, chain, 0)?;
    Ok(VerifiedProof {
        outpoint: p.outpoint(),
        block_height: p.block_height,
        asset: p.asset.clone(),
    })
}

/// How deeply additional-input files may nest (DoS guard).
pub const MAX_INPUT_NESTING: usize = 8;

/// All checks of [`verify_proof`]; the caller builds the [`VerifiedProof`]
/// (moving the asset out when it owns the proof).
fn check_proof_depth(
    p: &Proof,
    prev: Option<&VerifiedProof>,
    known_groups: &BTreeSet<SerializedKey>,
    chain: &dyn ChainView,
    depth: usize,
) -> Result<(), VerifyError> {
    // 0. Versions.
    if p.version != PROOF_V0 && p.version != PROOF_V1 {
        return Err(VerifyError::UnknownVersion(p.version));
    }
    if p.asset.version != VERSION_V0 && p.asset.version != VERSION_V1 {
        return Err(VerifyError::UnknownAssetVersion(p.asset.version));
    }
    let genesis = is_genesis_asset(&p.asset);

    // 1. Header, merkle proof, prev_out chaining.
    chain
        .verify_header(&p.block_header, p.block_height)
        .map_err(VerifyError::InvalidHeader)?;
    if !p
        .tx_merkle_proof
        .verify(&p.anchor_tx, &p.block_header.merkle_root)
    {
        return Err(VerifyError::InvalidMerkleProof);
    }
    if !p
        .anchor_tx
        .input
        .iter()
        .any(|i| i.previous_output == p.prev_out)
    {
        return Err(VerifyError::PrevOutMismatch("not spent by the anchor tx"));
    }
    match prev {
        Some(prev) if prev.outpoint != p.prev_out => {
            return Err(VerifyError::PrevOutMismatch(
                "differs from the previous proof's outpoint",
            ));
        }
        None if genesis && p.prev_out != p.asset.genesis.first_prev_out => {
            return Err(VerifyError::PrevOutMismatch(
                "differs from the genesis first prev out",
            ));
        }
        _ => {}
    }

    // 2. Inclusion.
    check_inclusion(p, &p.inclusion_proof, &p.asset).map_err(VerifyError::InvalidInclusionProof)?;

    // 3. Split root.
    let split_root = p
        .asset
        .prev_witnesses
        .first()
        .and_then(|w| w.split_commitment.as_ref());
    if let Some(sc) = split_root {
        let srp = p
            .split_root_proof
            .as_ref()
            .ok_or_else(|| VerifyError::InvalidSplitRootProof("missing".into()))?;
        check_inclusion(p, srp, &sc.root_asset).map_err(VerifyError::InvalidSplitRootProof)?;
        // The VM (step 8) checks this proof again, but only for an asset of
        // the split shape (`has_split_commitment_witness`: one witness, a
        // PrevID, no stack); any other asset carrying a split commitment is
        // run as a plain transfer, so this check is its only one.
        commitment::verify_split_commitment(&p.asset, p.inclusion_proof.output_index)
            .map_err(|e| VerifyError::InvalidSplitRootProof(e.to_string()))?;
    }

    // 4. Exclusion for every other P2TR output.
    if p.version == PROOF_V1 && !genesis {
        // V1 transfer proofs: each input's STXO marker is included in the
        // asset's output and excluded from every other commitment output.
        let stxos = collect_stxo(&p.asset).map_err(VerifyError::InvalidStxoProof)?;
        verify_stxo_set(&p.anchor_tx, &p.inclusion_proof, &stxos, true)
            .map_err(VerifyError::InvalidStxoProof)?;
        for e in &p.exclusion_proofs {
            if e.commitment_proof.is_some() {
                verify_stxo_set(&p.anchor_tx, e, &stxos, false)
                    .map_err(VerifyError::InvalidStxoProof)?;
            }
        }
    }
    for (idx, out) in p.anchor_tx.output.iter().enumerate() {
        let idx = idx as u32;
        if idx == p.inclusion_proof.output_index || p2tr_output_key(&out.script_pubkey).is_none() {
            continue;
        }
        if !p.exclusion_proofs.iter().any(|e| e.output_index == idx) {
            return Err(VerifyError::InvalidExclusionProof(format!(
                "missing for output {idx}"
            )));
        }
    }
    // The asset's commitment keys (its ID and two hashes), once for all
    // exclusion proofs.
    if !p.exclusion_proofs.is_empty() {
        let (ac_key, tap_key) = commitment::asset_keys(&p.asset);
        for e in &p.exclusion_proofs {
            let out = output_key(p, e.output_index).map_err(VerifyError::InvalidExclusionProof)?;
            let keys = e
                .derive_by_keys_exclusion(&ac_key, &tap_key)
                .map_err(|err| VerifyError::InvalidExclusionProof(err.to_string()))?;
            if !key_matches(&keys, &out) {
                return Err(VerifyError::InvalidExclusionProof(format!(
                    "derived key does not match output {}",
                    e.output_index
                )));
            }
        }
    }

    // 5. Genesis and meta reveals.
    if genesis {
        let reveal = p
            .genesis_reveal
            .as_ref()
            .ok_or(VerifyError::InvalidGenesisReveal(
                "missing for genesis asset",
            ))?;
        if reveal.first_prev_out != p.prev_out {
            return Err(VerifyError::InvalidGenesisReveal("prev out mismatch"));
        }
        if reveal.output_index != p.inclusion_proof.output_index {
            return Err(VerifyError::InvalidGenesisReveal("output index mismatch"));
        }
        if reveal.id() != p.asset.id() {
            return Err(VerifyError::InvalidGenesisReveal("does not match asset id"));
        }
        match &p.meta_reveal {
            Some(m) => {
                m.validate()?;
                if m.meta_hash() != p.asset.genesis.meta_hash {
                    return Err(VerifyError::InvalidMetaReveal(
                        "meta hash does not match genesis".into(),
                    ));
                }
            }
            None if p.asset.genesis.meta_hash != [0u8; 32] => {
                return Err(VerifyError::InvalidMetaReveal(
                    "missing for non-zero meta hash".into(),
                ));
            }
            None => {}
        }
    } else {
        if p.genesis_reveal.is_some() {
            return Err(VerifyError::InvalidGenesisReveal("non-genesis asset"));
        }
        if p.meta_reveal.is_some() {
            return Err(VerifyError::InvalidMetaReveal("non-genesis asset".into()));
        }
        // The asset (or its split root) must spend the previous asset.
        if let Some(prev) = prev {
            let witnesses = match split_root {
                Some(sc) => &sc.root_asset.prev_witnesses,
                None => &p.asset.prev_witnesses,
            };
            if !witnesses.iter().any(|w| {
                w.prev_id
                    .as_ref()
                    .is_some_and(|id| id.out_point == prev.outpoint)
            }) {
                return Err(VerifyError::MissingPrevInput);
            }
        }
    }

    // Additional inputs: each file verifies on its own and ends at an
    // outpoint the asset (or its split root) spends.
    let mut inputs: Vec<VerifiedProof> = Vec::with_capacity(p.additional_inputs.len());
    let spent: Vec<OutPoint> = split_root
        .map_or(&p.asset.prev_witnesses, |sc| &sc.root_asset.prev_witnesses)
        .iter()
        .filter_map(|w| w.prev_id.as_ref().map(|id| id.out_point))
        .collect();
    for (index, file) in p.additional_inputs.iter().enumerate() {
        let bad = |reason: String| VerifyError::InvalidAdditionalInput { index, reason };
        if depth >= MAX_INPUT_NESTING {
            return Err(bad("additional inputs nest too deeply".into()));
        }
        let mut verified =
            verify_file_depth(file, chain, depth + 1).map_err(|e| bad(e.to_string()))?;
        let last = verified.pop().ok_or_else(|| bad("empty file".into()))?;
        if !spent.contains(&last.outpoint) {
            return Err(bad("its outpoint is not spent by the asset".into()));
        }
        inputs.push(last);
    }

    // 6. Group key.
    if let Some(gk) = &p.asset.group_key {
        match &p.group_key_reveal {
            Some(reveal) => {
                if !genesis {
                    return Err(VerifyError::InvalidGroupKeyReveal(
                        "non-genesis asset".into(),
                    ));
                }
                let derived = reveal
                    .group_key(&p.asset.id())
                    .map_err(|e| VerifyError::InvalidGroupKeyReveal(e.to_string()))?;
                if derived != *gk {
                    return Err(VerifyError::InvalidGroupKeyReveal(
                        "does not derive the asset's group key".into(),
                    ));
                }
            }
            None if genesis && !known_groups.contains(gk) && !chain.is_known_group_key(gk) => {
                return Err(VerifyError::InvalidGroupKeyReveal(
                    "missing for an unknown group".into(),
                ));
            }
            None => {}
        }
    }

    // 8. State transition under the VM. A genesis has no inputs: a plain
    // one passes, a grouped one must carry a valid group witness (the
    // witness spends the asset itself under the group key), as in tapd.
    let mut all: Vec<&VerifiedProof> = Vec::with_capacity(inputs.len() + 1);
    all.extend(prev);
    all.extend(inputs.iter());
    check_state_transition(
        &p.asset,
        p.inclusion_proof.output_index,
        p.block_height,
        &all,
        chain,
    )
    .map_err(VerifyError::InvalidStateTransition)?;
    Ok(())
}

/// Verifies every proof of a file in order (the hash chain was checked when
/// the file was decoded). Returns what each proof established.
pub fn verify_file(file: &File, chain: &dyn ChainView) -> Result<Vec<VerifiedProof>, VerifyError> {
    verify_file_depth(file, chain, 0)
}

fn verify_file_depth(
    file: &File,
    chain: &dyn ChainView,
    depth: usize,
) -> Result<Vec<VerifiedProof>, VerifyError> {
    if file.proofs.is_empty() {
        return Err(VerifyError::EmptyFile);
    }
    let mut out: Vec<VerifiedProof> = Vec::with_capacity(file.proofs.len());
    let mut groups = BTreeSet::new();
    for (index, hp) in file.proofs.iter().enumerate() {
        let p = Proof::decode(&hp.proof_bytes)
            .map_err(|source| VerifyError::Decode { index, source })?;
        check_proof_depth(&p, out.last(), &groups, chain, depth)?;
        // The decoded proof is ours: move its asset instead of cloning it.
        let v = VerifiedProof {
            outpoint: p.outpoint(),
            block_height: p.block_height,
            asset: p.asset,
        };
        if let Some(gk) = v.group_key() {
            groups.insert(gk);
        }
        out.push(v);
    }
    Ok(out)
}
