//! The state-transition rules (tapd `vm.Engine`).

use bitcoin::{Amount, TxOut};

use super::error::VmError;
use super::locktime::{self, LockTimeCheck};
use super::script;
use super::tx::{
    self, has_genesis_witness, has_genesis_witness_for_group, has_split_commitment_witness,
};
use crate::asset::{Asset, NUMS_KEY_BYTES, PrevId, TYPE_COLLECTIBLE, Witness};
use crate::commitment::split_commitment_key;

/// The only script version defined.
const SCRIPT_V0: u16 = 0;

/// The assets a transition spends, keyed by PrevID. Inserting an existing
/// PrevID replaces its asset (tapd uses a map).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct InputSet {
    entries: Vec<(PrevId, Asset)>,
}

impl InputSet {
    /// An empty set.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds or replaces the asset spent at `prev_id`.
    pub fn insert(&mut self, prev_id: PrevId, asset: Asset) {
        match self.entries.iter_mut().find(|(p, _)| *p == prev_id) {
            Some(slot) => slot.1 = asset,
            None => self.entries.push((prev_id, asset)),
        }
    }

    /// The asset spent at `prev_id`.
    pub fn get(&self, prev_id: &PrevId) -> Option<&Asset> {
        self.entries
            .iter()
            .find(|(p, _)| p == prev_id)
            .map(|(_, a)| a)
    }

    /// Number of inputs.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// True if there are no inputs.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }
}

/// A split output: the asset and the anchor output index it goes to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SplitAsset {
    /// The split asset, carrying the split-commitment witness.
    pub asset: Asset,
    /// Anchor output index (part of its split-tree key).
    pub output_index: u32,
}

/// Validates one state transition.
#[derive(Debug)]
pub struct Engine<'a> {
    new_asset: &'a Asset,
    splits: &'a [SplitAsset],
    inputs: &'a InputSet,
    lock: LockTimeCheck<'a>,
}

fn is_unspendable(asset: &Asset) -> bool {
    asset.amount == 0 && asset.script_key.0 == NUMS_KEY_BYTES
}

/// Same genesis, or (different ID but) same group key and same tag.
fn matches_prev_genesis(prev_id: &PrevId, new_asset: &Asset, prev: &Asset) -> bool {
    if prev_id.asset_id == prev.id() {
        return true;
    }
    match (&new_asset.group_key, &prev.group_key) {
        (Some(a), Some(b)) => a == b && new_asset.genesis.tag == prev.genesis.tag,
        _ => false,
    }
}

fn matches_asset_params(new_asset: &Asset, prev: &Asset, witness: &Witness) -> Result<(), VmError> {
    let prev_id = witness.prev_id.as_ref().ok_or(VmError::NoInputs)?;
    if prev_id.script_key != prev.script_key {
        return Err(VmError::ScriptKeyMismatch);
    }
    if !matches_prev_genesis(prev_id, new_asset, prev) {
        return Err(VmError::IdMismatch);
    }
    if new_asset.genesis.asset_type != prev.genesis.asset_type {
        return Err(VmError::TypeMismatch);
    }
    Ok(())
}

impl<'a> Engine<'a> {
    /// An engine for `new_asset` spending `inputs`, creating `splits`.
    pub fn new(
        new_asset: &'a Asset,
        splits: &'a [SplitAsset],
        inputs: &'a InputSet,
        lock: LockTimeCheck<'a>,
    ) -> Self {
        Self {
            new_asset,
            splits,
            inputs,
            lock,
        }
    }

    /// Runs every rule; `Ok` means the transition is valid.
    pub fn execute(&self) -> Result<(), VmError> {
        let new = self.new_asset;
        if has_genesis_witness(new) {
            // Plain genesis: nothing is spent. A grouped genesis needs its
            // group witness first.
            if !self.splits.is_empty() || !self.inputs.is_empty() || new.group_key.is_some() {
                return Err(VmError::InvalidGenesisStateTransition);
            }
            return Ok(());
        }
        let group_inputs;
        let inputs = if has_genesis_witness_for_group(new) {
            if !self.splits.is_empty() || !self.inputs.is_empty() {
                return Err(VmError::InvalidGenesisStateTransition);
            }
            // The group witness spends the asset itself.
            let mut set = InputSet::new();
            set.insert(PrevId::zero(), new.clone());
            group_inputs = set;
            &group_inputs
        } else {
            self.inputs
        };
        for split in self.splits {
            self.validate_split(split, inputs)?;
        }
        self.validate_state_transition(inputs)
    }

    fn validate_split(&self, split: &SplitAsset, inputs: &InputSet) -> Result<(), VmError> {
        let new = self.new_asset;
        if new.genesis.asset_type != split.asset.genesis.asset_type {
            return Err(VmError::InvalidSplitAssetType);
        }
        let Some(split_root) = &new.split_commitment_root else {
            return Err(VmError::NoSplitCommitment);
        };
        if !has_split_commitment_witness(&split.asset) {
            return Err(VmError::InvalidSplitCommitmentWitness);
        }
        // Splits carry a zero PrevID; they inherit the root's first input.
        let root_witness = new.prev_witnesses.first().ok_or(VmError::NoInputs)?;
        let root_prev_id = root_witness.prev_id.as_ref().ok_or(VmError::NoInputs)?;
        let prev = inputs.get(root_prev_id).ok_or(VmError::NoInputs)?;
        matches_asset_params(&split.asset, prev, root_witness)?;

        if new.amount == 0 && !is_unspendable(new) {
            return Err(VmError::InvalidRootAsset);
        }
        if split.asset.amount == 0 && !is_unspendable(&split.asset) {
            return Err(VmError::InvalidRootAsset);
        }

        let mut bare = split.asset.clone();
        let mut proof = None;
        if let Some(w) = bare.prev_witnesses.first_mut() {
            proof = w.split_commitment.take().map(|sc| sc.proof);
        }
        // Lock times never invalidate the split proof.
        bare.lock_time = new.lock_time;
        bare.relative_lock_time = new.relative_lock_time;
        let leaf = bare
            .leaf()
            .map_err(|_| VmError::UnknownAssetVersion(bare.version))?;
        let proof = proof.ok_or(VmError::InvalidSplitCommitmentWitness)?;
        let key = split_commitment_key(
            split.output_index,
            &split.asset.id(),
            &split.asset.script_key,
        );
        if !proof.verify_inclusion(split_root, &key, &leaf) {
            return Err(VmError::InvalidSplitCommitmentProof);
        }
        Ok(())
    }

    fn validate_state_transition(&self, inputs: &InputSet) -> Result<(), VmError> {
        let new = self.new_asset;
        if new.prev_witnesses.is_empty() {
            return Err(VmError::NoInputs);
        }
        if new.genesis.asset_type == TYPE_COLLECTIBLE && new.prev_witnesses.len() > 1 {
            return Err(VmError::InvalidTransferWitness(
                "collectible has more than one prev input".into(),
            ));
        }
        let (vtx, input_sum) = tx::virtual_tx(new, inputs)?;
        let output = vtx.output.first().map(|o| o.value.to_sat()).unwrap_or(0);
        if input_sum != output {
            return Err(VmError::AmountMismatch {
                inputs: input_sum,
                output,
            });
        }
        for (idx, witness) in new.prev_witnesses.iter().enumerate() {
            let prev_id = witness.prev_id.as_ref().ok_or(VmError::NoInputs)?;
            let prev = inputs.get(prev_id).ok_or(VmError::NoInputs)?;
            if let LockTimeCheck::At { height, chain } = self.lock {
                locktime::check(new, witness, height, chain)?;
            }
            if prev.script_version != SCRIPT_V0 {
                return Err(VmError::InvalidScriptVersion);
            }
            let index = u32::try_from(idx).map_err(|_| VmError::NoInputs)?;
            self.validate_witness_v0(&vtx, index, witness, prev)?;
        }
        Ok(())
    }

    fn validate_witness_v0(
        &self,
        vtx: &bitcoin::Transaction,
        index: u32,
        witness: &Witness,
        prev: &Asset,
    ) -> Result<(), VmError> {
        let new = self.new_asset;
        if witness.tx_witness.is_empty() {
            return Err(VmError::InvalidTransferWitness(
                "input has no witness".into(),
            ));
        }
        // A group witness spends `OP_1 <x-only group key>`; a transfer
        // witness spends the P2TR output of the input's script key.
        let program = if has_genesis_witness_for_group(new) {
            prev.group_key
                .ok_or(VmError::InvalidGenesisStateTransition)?
                .x_only()
        } else {
            matches_asset_params(new, prev, witness)?;
            prev.script_key.x_only()
        };
        let prevout = TxOut {
            value: Amount::from_sat(prev.amount),
            script_pubkey: tx::taproot_script(&program),
        };
        let bound = tx::with_input(
            vtx,
            new.lock_time,
            new.relative_lock_time,
            index,
            &witness.tx_witness,
        );
        script::verify_input(&bound, &prevout)
            .map_err(|e| VmError::InvalidTransferWitness(e.to_string()))
    }
}
