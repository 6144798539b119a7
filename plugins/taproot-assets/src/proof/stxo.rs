//! STXO ("spent transaction output") proofs of V1 transfer proofs.
//!
//! For every real input of a transfer, tapd commits an alt leaf whose
//! script key is the input PrevID's burn key. A V1 proof shows each marker
//! included in the output holding the asset (via the STXO proofs of the
//! inclusion proof) and absent from every other commitment output (via the
//! STXO proofs of its exclusion proof).

use bitcoin::hashes::Hash as _;
use bitcoin::{OutPoint, Txid};

use super::taproot::{CommitmentProof, TaprootProof, p2tr_output_key};
use crate::asset::{Asset, Genesis, PrevId, SerializedKey, burn_key};
use crate::encoding::UnknownOddTypes;

/// The STXO marker alt leaf of a spent input: a V0 asset with the empty
/// genesis, zero amount and the burn key (even Y) as script key.
pub fn stxo_asset(prev_id: &PrevId) -> Option<Asset> {
    let burn = burn_key(prev_id).ok()?;
    let mut key = [0u8; 33];
    key[0] = 0x02;
    key[1..].copy_from_slice(&burn.serialize());
    Some(Asset {
        version: 0,
        genesis: Genesis {
            first_prev_out: OutPoint::new(Txid::all_zeros(), 0),
            tag: Vec::new(),
            meta_hash: [0; 32],
            output_index: 0,
            asset_type: 0,
        },
        amount: 0,
        lock_time: 0,
        relative_lock_time: 0,
        prev_witnesses: Vec::new(),
        split_commitment_root: None,
        script_version: 0,
        script_key: SerializedKey(key),
        group_key: None,
        unknown_odd_types: UnknownOddTypes::new(),
    })
}

/// The STXO markers of `asset`'s real inputs (for a split, those of the
/// split root asset), keyed by their 33-byte script key.
pub fn collect_stxo(asset: &Asset) -> Result<Vec<(SerializedKey, Asset)>, String> {
    let witnesses = match asset
        .prev_witnesses
        .first()
        .and_then(|w| w.split_commitment.as_ref())
    {
        Some(sc) => &sc.root_asset.prev_witnesses,
        None => &asset.prev_witnesses,
    };
    let mut out: Vec<(SerializedKey, Asset)> = Vec::new();
    for w in witnesses {
        let Some(id) = &w.prev_id else { continue };
        if *id == PrevId::zero() {
            continue;
        }
        let a = stxo_asset(id).ok_or("cannot derive a burn key for an input")?;
        if !out.iter().any(|(k, _)| *k == a.script_key) {
            out.push((a.script_key, a));
        }
    }
    Ok(out)
}

/// The Taproot proof for one STXO entry: the base proof with its
/// commitment proof replaced, keeping the revealed sibling.
fn stxo_taproot_proof(
    base: &TaprootProof,
    cp: &CommitmentProof,
    p: &crate::commitment::Proof,
) -> TaprootProof {
    TaprootProof {
        output_index: base.output_index,
        internal_key: base.internal_key,
        commitment_proof: Some(CommitmentProof {
            proof: p.clone(),
            tapscript_sibling: cp.tapscript_sibling.clone(),
            stxo_proofs: Vec::new(),
        }),
        tapscript_proof: None,
        unknown_odd_types: base.unknown_odd_types.clone(),
    }
}

/// Checks the STXO proofs of one Taproot proof against the anchor output.
/// Each STXO proof must be for one of `stxos` and prove it included (if
/// `inclusion`) or excluded. For inclusion every marker must be proven;
/// for exclusion, like tapd, only the proofs present are checked.
pub fn verify_stxo_set(
    anchor_tx: &bitcoin::Transaction,
    base: &TaprootProof,
    stxos: &[(SerializedKey, Asset)],
    inclusion: bool,
) -> Result<(), String> {
    let cp = base
        .commitment_proof
        .as_ref()
        .ok_or("STXO proofs need a commitment proof")?;
    let out = anchor_tx
        .output
        .get(base.output_index as usize)
        .and_then(|o| p2tr_output_key(&o.script_pubkey))
        .ok_or_else(|| format!("output {} is not a P2TR output", base.output_index))?;
    for (key, proof) in &cp.stxo_proofs {
        let (_, stxo) = stxos
            .iter()
            .find(|(k, _)| k == key)
            .ok_or_else(|| format!("STXO proof for unknown key {}", hex::encode(key.0)))?;
        let tp = stxo_taproot_proof(base, cp, proof);
        let keys = if inclusion {
            tp.derive_by_asset_inclusion(stxo)
        } else {
            tp.derive_by_asset_exclusion(stxo)
        }
        .map_err(|e| e.to_string())?;
        if !keys.iter().any(|k| k.serialize() == out) {
            return Err(format!(
                "STXO {} proof does not match output {}",
                if inclusion { "inclusion" } else { "exclusion" },
                base.output_index
            ));
        }
    }
    if inclusion
        && let Some((k, _)) = stxos
            .iter()
            .find(|(k, _)| !cp.stxo_proofs.iter().any(|(s, _)| s == k))
    {
        return Err(format!("missing STXO proof for {}", hex::encode(k.0)));
    }
    Ok(())
}
