//! Building the virtual transaction of a state transition (tapd
//! `tapscript/tx.go`, `asset/tx.go`).
//!
//! * one input whose prevout txid is SHA256(root hash ‖ u64 BE root sum)
//!   of an MS-SMT holding every spent asset's leaf under its PrevID hash;
//! * one output: `OP_1 <split root hash>` worth the split sum if the asset
//!   has a split root, else `OP_1 <root of a one-leaf MS-SMT holding the
//!   asset without witness stacks>` worth the amount.

use bitcoin::absolute::LockTime;
use bitcoin::hashes::Hash as _;
use bitcoin::script::{Builder, PushBytesBuf};
use bitcoin::transaction::Version;
use bitcoin::{Amount, OutPoint, ScriptBuf, Sequence, Transaction, TxIn, TxOut, Txid, Witness};
use sha2::{Digest, Sha256};

use super::engine::InputSet;
use super::error::VmError;
use crate::asset::{Asset, PrevId};
use crate::mssmt::{CompactedTree, MemoryCompactStore, Node};

/// `OP_1 <32 bytes>`: a segwit v1 output script over any 32-byte program
/// (for split roots and output trees it is a hash, never a valid key).
pub fn taproot_script(program: &[u8; 32]) -> ScriptBuf {
    let push = PushBytesBuf::from(*program);
    Builder::new()
        .push_opcode(bitcoin::opcodes::all::OP_PUSHNUM_1)
        .push_slice(push)
        .into_script()
}

/// The virtual input's prevout: SHA256(root hash ‖ u64 BE sum), index 0.
pub fn input_prevout(root: &Node) -> OutPoint {
    let mut h = Sha256::new();
    h.update(root.hash.0);
    h.update(root.sum.to_be_bytes());
    OutPoint::new(Txid::from_byte_array(h.finalize().into()), 0)
}

fn leaf_of(asset: &Asset) -> Result<crate::mssmt::Leaf, VmError> {
    asset
        .leaf()
        .map_err(|_| VmError::UnknownAssetVersion(asset.version))
}

fn insert(
    tree: &mut CompactedTree<MemoryCompactStore>,
    key: [u8; 32],
    asset: &Asset,
) -> Result<(), VmError> {
    tree.insert(key, leaf_of(asset)?)
        .map_err(|_| VmError::SumOverflow)
}

fn root(tree: &CompactedTree<MemoryCompactStore>) -> Result<Node, VmError> {
    tree.root().map_err(|_| VmError::SumOverflow)
}

/// The input tree of a transfer: each witness's PrevID hash → the spent
/// asset's leaf. Every supplied input must be consumed.
pub fn input_tree(new_asset: &Asset, inputs: &InputSet) -> Result<Node, VmError> {
    let mut tree = CompactedTree::new(MemoryCompactStore::new());
    let mut consumed: Vec<&PrevId> = Vec::new();
    for wit in &new_asset.prev_witnesses {
        let prev_id = wit.prev_id.as_ref().ok_or(VmError::NoInputs)?;
        let prev = inputs.get(prev_id).ok_or(VmError::NoInputs)?;
        insert(&mut tree, prev_id.hash(), prev)?;
        if !consumed.contains(&prev_id) {
            consumed.push(prev_id);
        }
    }
    if consumed.len() != inputs.len() {
        return Err(VmError::InputMismatch);
    }
    root(&tree)
}

/// The input tree of a grouped genesis: the asset itself (group witness
/// stack removed) under the zero PrevID.
pub fn genesis_input_tree(new_asset: &Asset) -> Result<Node, VmError> {
    let mut copy = new_asset.clone();
    if has_genesis_witness_for_group(new_asset)
        && let Some(w) = copy.prev_witnesses.first_mut()
    {
        w.tx_witness.clear();
    }
    let mut tree = CompactedTree::new(MemoryCompactStore::new());
    insert(&mut tree, PrevId::zero().hash(), &copy)?;
    root(&tree)
}

/// The virtual output of `asset`.
pub fn output(asset: &Asset) -> Result<TxOut, VmError> {
    if let Some(split_root) = &asset.split_commitment_root {
        return Ok(TxOut {
            value: Amount::from_sat(split_root.sum),
            script_pubkey: taproot_script(&split_root.hash.0),
        });
    }
    let mut h = Sha256::new();
    h.update(asset.group_key.map(|k| k.x_only()).unwrap_or([0; 32]));
    h.update(asset.id().0);
    h.update(asset.script_key.x_only());
    let key: [u8; 32] = h.finalize().into();
    let mut stripped = asset.clone();
    for w in &mut stripped.prev_witnesses {
        w.tx_witness.clear();
    }
    let mut tree = CompactedTree::new(MemoryCompactStore::new());
    insert(&mut tree, key, &stripped)?;
    let root = root(&tree)?;
    Ok(TxOut {
        value: Amount::from_sat(asset.amount),
        script_pubkey: taproot_script(&root.hash.0),
    })
}

/// The virtual transaction of `new_asset` spending `inputs`, and the sum of
/// its input tree (compared with the output value for non-inflation).
pub fn virtual_tx(new_asset: &Asset, inputs: &InputSet) -> Result<(Transaction, u64), VmError> {
    let root =
        if needs_genesis_witness_for_group(new_asset) || has_genesis_witness_for_group(new_asset) {
            genesis_input_tree(new_asset)?
        } else {
            input_tree(new_asset, inputs)?
        };
    let tx = Transaction {
        version: Version::TWO,
        lock_time: LockTime::ZERO,
        input: vec![TxIn {
            previous_output: input_prevout(&root),
            script_sig: ScriptBuf::new(),
            sequence: Sequence::MAX,
            witness: Witness::new(),
        }],
        output: vec![output(new_asset)?],
    };
    Ok((tx, root.sum))
}

/// A copy of `vtx` bound to input `index`: prevout index = `index`,
/// nLockTime and nSequence from the new asset's lock times (truncated to
/// 32 bits as tapd does), witness = `witness`.
pub fn with_input(
    vtx: &Transaction,
    lock_time: u64,
    relative_lock_time: u64,
    index: u32,
    witness: &[Vec<u8>],
) -> Transaction {
    let mut tx = vtx.clone();
    tx.lock_time = LockTime::from_consensus(lock_time as u32);
    if let Some(input) = tx.input.first_mut() {
        input.previous_output.vout = index;
        input.sequence = Sequence(relative_lock_time as u32);
        input.witness = Witness::from_slice(witness);
    }
    tx
}

/// One witness, zero PrevID, no stack, no split commitment.
pub fn has_genesis_witness(asset: &Asset) -> bool {
    match asset.prev_witnesses.as_slice() {
        [w] => {
            w.tx_witness.is_empty()
                && w.split_commitment.is_none()
                && w.prev_id.as_ref() == Some(&PrevId::zero())
        }
        _ => false,
    }
}

/// A grouped genesis asset without its group witness yet.
pub fn needs_genesis_witness_for_group(asset: &Asset) -> bool {
    has_genesis_witness(asset) && asset.group_key.is_some()
}

/// A grouped genesis asset carrying its group witness: one witness, zero
/// PrevID, a non-empty stack, no split commitment.
pub fn has_genesis_witness_for_group(asset: &Asset) -> bool {
    if asset.group_key.is_none() {
        return false;
    }
    match asset.prev_witnesses.as_slice() {
        [w] => {
            !w.tx_witness.is_empty()
                && w.split_commitment.is_none()
                && w.prev_id.as_ref() == Some(&PrevId::zero())
        }
        _ => false,
    }
}

/// One witness with a PrevID, no stack and a split commitment.
pub fn has_split_commitment_witness(asset: &Asset) -> bool {
    match asset.prev_witnesses.as_slice() {
        [w] => w.prev_id.is_some() && w.tx_witness.is_empty() && w.split_commitment.is_some(),
        _ => false,
    }
}
