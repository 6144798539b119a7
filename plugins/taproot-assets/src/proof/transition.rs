//! Step 8 of proof verification: the state transition under the asset VM
//! (tapd `verifyAssetStateTransition`).
//!
//! The inputs are the assets the proof chain has already established: the
//! previous proof's asset (spent at the proof's `prev_out`) and the last
//! asset of each additional input file. A split asset is checked through
//! its split root: the root is the VM's new asset and the split is its one
//! split output. Lock times are judged at the proof's block height; input
//! confirmation heights come from the (already verified) proofs that
//! created the inputs, median times from the [`ChainView`].

use bitcoin::Txid;

use super::verify::{ChainView, VerifiedProof};
use crate::asset::{Asset, PrevId};
use crate::vm::tx::has_split_commitment_witness;
use crate::vm::{ChainLookup, Engine, InputSet, LockTimeCheck, SplitAsset, VmError};

/// Chain facts for lock times: confirmation heights of the inputs' anchor
/// transactions (proven by their proofs) and median times via the view.
struct ProofChain<'a> {
    inputs: &'a [&'a VerifiedProof],
    view: &'a dyn ChainView,
}

impl ChainLookup for ProofChain<'_> {
    fn tx_block_height(&self, txid: &Txid) -> Result<u32, String> {
        self.inputs
            .iter()
            .find(|v| v.outpoint.txid == *txid)
            .map(|v| v.block_height)
            .ok_or_else(|| format!("no proof confirms input tx {txid}"))
    }

    fn median_time_past(&self, height: u32) -> Result<i64, String> {
        self.view.median_time_past(height)
    }
}

fn prev_id_of(v: &VerifiedProof) -> PrevId {
    PrevId {
        out_point: v.outpoint,
        asset_id: v.asset.id(),
        script_key: v.asset.script_key,
    }
}

/// Runs the VM for `asset` (the proof's asset, anchored at `block_height`
/// in output `output_index`) spending `inputs`.
pub(crate) fn check_state_transition(
    asset: &Asset,
    output_index: u32,
    block_height: u32,
    inputs: &[&VerifiedProof],
    view: &dyn ChainView,
) -> Result<(), VmError> {
    let mut set = InputSet::new();
    for v in inputs {
        set.insert(prev_id_of(v), v.asset.clone());
    }
    let split_root = if has_split_commitment_witness(asset) {
        asset
            .prev_witnesses
            .first()
            .and_then(|w| w.split_commitment.as_ref())
            .map(|sc| &sc.root_asset)
    } else {
        None
    };
    let splits;
    let (new_asset, splits): (&Asset, &[SplitAsset]) = match split_root {
        Some(root) => {
            splits = [SplitAsset {
                asset: asset.clone(),
                output_index,
            }];
            (root, &splits)
        }
        None => (asset, &[]),
    };
    let chain = ProofChain { inputs, view };
    let lock = LockTimeCheck::At {
        height: block_height,
        chain: &chain,
    };
    Engine::new(new_asset, splits, &set, lock).execute()
}

#[cfg(test)]
mod tests {
    use bitcoin::OutPoint;
    use bitcoin::secp256k1::{PublicKey, Secp256k1, SecretKey};

    use super::*;
    use crate::asset::{Genesis, SerializedKey, Witness};
    use crate::proof::verify::HeaderPowOnly;

    fn key(byte: u8) -> SerializedKey {
        let sk = SecretKey::from_slice(&[byte; 32]).expect("valid key");
        SerializedKey(PublicKey::from_secret_key(&Secp256k1::new(), &sk).serialize())
    }

    fn genesis_asset(group_key: Option<SerializedKey>, tx_witness: Vec<Vec<u8>>) -> Asset {
        Asset {
            version: 0,
            genesis: Genesis {
                first_prev_out: OutPoint::null(),
                tag: b"lumen".to_vec(),
                meta_hash: [0; 32],
                output_index: 0,
                asset_type: 0,
            },
            amount: 1000,
            lock_time: 0,
            relative_lock_time: 0,
            prev_witnesses: vec![Witness {
                prev_id: Some(PrevId::zero()),
                tx_witness,
                ..Witness::default()
            }],
            split_commitment_root: None,
            script_version: 0,
            script_key: key(1),
            group_key,
            unknown_odd_types: Default::default(),
        }
    }

    /// Proof verification runs the VM on genesis proofs too (tapd does):
    /// a plain genesis passes, but a genesis claiming a group without a
    /// group witness, or with a forged one, is refused. Without this, a
    /// proof could mint into any group its verifier already knows.
    #[test]
    fn grouped_genesis_needs_a_valid_group_witness() {
        let plain = genesis_asset(None, Vec::new());
        assert_eq!(
            check_state_transition(&plain, 0, 100, &[], &HeaderPowOnly),
            Ok(())
        );
        let unsigned = genesis_asset(Some(key(2)), Vec::new());
        assert_eq!(
            check_state_transition(&unsigned, 0, 100, &[], &HeaderPowOnly),
            Err(VmError::InvalidGenesisStateTransition)
        );
        let forged = genesis_asset(Some(key(2)), vec![vec![7; 64]]);
        let err = check_state_transition(&forged, 0, 100, &[], &HeaderPowOnly);
        assert!(
            matches!(err, Err(VmError::InvalidTransferWitness(_))),
            "{err:?}"
        );
    }
}
