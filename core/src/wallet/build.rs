//! Coin selection and transaction shape over the merged coin list (pure).
//!
//! Weights are the worst case once signed: a BIP86 key-path input is
//! 41 bytes × 4 + a 66-byte witness (count, length, 64-byte Schnorr
//! signature with the default sighash); a BIP84 input is 41 × 4 + a 109-byte
//! witness (count, 73-byte DER signature with sighash byte, 33-byte key).
//! Fees are `ceil(weight × feerate_perkw / 1000)`.

use bitcoin::absolute::LockTime;
use bitcoin::transaction::Version;
use bitcoin::{Amount, ScriptBuf, Sequence, Transaction, TxIn, TxOut, Witness};

use super::{AddrKind, Coin, WalletError};

/// Version, locktime (4 + 4 bytes), one-byte input and output counts, all
/// ×4, plus the segwit marker and flag (2).
pub const BASE_WEIGHT: u64 = (4 + 4 + 1 + 1) * 4 + 2;

/// Witness weight of one of our inputs once signed: item count, then
/// each item with its length.
fn witness_weight(kind: AddrKind) -> u64 {
    match kind {
        AddrKind::P2tr => 1 + 1 + 64,
        AddrKind::P2wpkh => 1 + 1 + 73 + 1 + 33,
    }
}

/// Signed weight of one of our inputs, counting at least
/// `min_witness_weight` for its witness (Core Lightning's
/// `min_witness_weight`, for callers that will spend it another way).
pub fn input_weight(kind: AddrKind, min_witness_weight: u64) -> u64 {
    (32 + 4 + 1 + 4) * 4 + witness_weight(kind).max(min_witness_weight)
}

/// Weight of an output paying `spk`.
pub fn output_weight(spk: &ScriptBuf) -> u64 {
    let len = spk.len() as u64;
    let varint = if len < 0xfd { 1 } else { 3 };
    (8 + varint + len) * 4
}

/// Fee for `weight` at `perkw`, rounded up.
pub fn fee_for(weight: u64, perkw: u32) -> u64 {
    (weight * u64::from(perkw)).div_ceil(1000)
}

/// What to fund.
#[derive(Debug, Clone)]
pub enum Request {
    /// `withdraw`: pay `amount` sat (everything when `None`) to `script`.
    Pay {
        /// Destination.
        script: ScriptBuf,
        /// Sat, or all.
        amount: Option<u64>,
    },
    /// `fundpsbt`/`utxopsbt`: inputs worth `amount` (all when `None`) plus
    /// fees for a transaction that weighs `startweight` before inputs.
    Inputs {
        /// Sat, or all.
        amount: Option<u64>,
        /// Weight before our inputs.
        startweight: u64,
        /// Put the excess in a change output.
        excess_as_change: bool,
        /// Count at least this much witness weight per input.
        min_witness_weight: u64,
    },
}

impl Request {
    /// Whether a change output may be added.
    pub fn wants_change(&self) -> bool {
        match self {
            Request::Pay { amount, .. } => amount.is_some(),
            Request::Inputs {
                excess_as_change, ..
            } => *excess_as_change,
        }
    }
}

/// The chosen shape.
#[derive(Debug, Clone)]
pub struct Plan {
    /// Inputs, in order.
    pub inputs: Vec<Coin>,
    /// Outputs, in order.
    pub outputs: Vec<TxOut>,
    /// Estimated signed weight.
    pub weight: u64,
    /// Fee paid, sat.
    pub fee: u64,
    /// Left for the caller (fundpsbt without change), sat.
    pub excess: u64,
    /// Our change output's index.
    pub change_outnum: Option<u32>,
}

/// Choose inputs (largest first unless `use_all`) and outputs.
pub fn plan(
    req: &Request,
    candidates: &[Coin],
    use_all: bool,
    perkw: u32,
    change: Option<ScriptBuf>,
) -> Result<Plan, WalletError> {
    let (start, amount, min_witness) = match req {
        Request::Pay { script, amount } => (BASE_WEIGHT + output_weight(script), *amount, 0),
        Request::Inputs {
            amount,
            startweight,
            min_witness_weight,
            ..
        } => (*startweight, *amount, *min_witness_weight),
    };
    let available: u64 = candidates.iter().map(|c| c.txout.value.to_sat()).sum();
    let mut sorted: Vec<Coin> = candidates.to_vec();
    if !use_all {
        sorted.sort_by_key(|c| std::cmp::Reverse(c.txout.value));
    }
    let mut inputs = Vec::new();
    let mut total = 0u64;
    let mut weight = start;
    let target = amount.unwrap_or(0);
    for c in sorted {
        let enough = !inputs.is_empty() && total >= target + fee_for(weight, perkw);
        if enough && amount.is_some() && !use_all {
            break;
        }
        total += c.txout.value.to_sat();
        weight += input_weight(c.kind, min_witness);
        inputs.push(c);
    }
    let fee = fee_for(weight, perkw);
    if inputs.is_empty() || total < target + fee {
        return Err(WalletError::Insufficient {
            needed: target + fee,
            available,
        });
    }
    let leftover = total - target - fee;
    let mut outputs = Vec::new();
    if let Request::Pay { script, .. } = req {
        let value = amount.unwrap_or(leftover);
        if Amount::from_sat(value) < script.minimal_non_dust() {
            return Err(WalletError::Dust(value));
        }
        outputs.push(TxOut {
            value: Amount::from_sat(value),
            script_pubkey: script.clone(),
        });
    }
    // `withdraw all` already put the leftover in its one output.
    let spare = match (req, amount) {
        (Request::Pay { .. }, None) => 0,
        _ => leftover,
    };
    let mut plan = Plan {
        inputs,
        outputs,
        weight,
        fee,
        excess: spare,
        change_outnum: None,
    };
    if let Some(spk) = change.filter(|_| req.wants_change()) {
        let w = output_weight(&spk);
        let cost = fee_for(weight + w, perkw) - fee;
        if spare > cost && Amount::from_sat(spare - cost) >= spk.minimal_non_dust() {
            plan.change_outnum = Some(plan.outputs.len() as u32);
            plan.outputs.push(TxOut {
                value: Amount::from_sat(spare - cost),
                script_pubkey: spk,
            });
            plan.weight += w;
            plan.fee += cost;
            plan.excess = 0;
        }
    }
    if matches!(req, Request::Pay { .. }) {
        // Whatever no output takes goes to the miners.
        plan.fee += plan.excess;
        plan.excess = 0;
    }
    Ok(plan)
}

/// The unsigned transaction for a plan, locktime at `tip` (anti fee sniping).
pub fn unsigned_tx(plan: &Plan, tip: u32) -> Transaction {
    Transaction {
        version: Version::TWO,
        lock_time: LockTime::from_height(tip).unwrap_or(LockTime::ZERO),
        input: plan
            .inputs
            .iter()
            .map(|c| TxIn {
                previous_output: c.outpoint,
                script_sig: ScriptBuf::new(),
                sequence: Sequence::ENABLE_RBF_NO_LOCKTIME,
                witness: Witness::new(),
            })
            .collect(),
        output: plan.outputs.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use bitcoin::hashes::Hash;
    use bitcoin::{OutPoint, Txid};

    fn coin(n: u8, sat: u64, kind: AddrKind) -> Coin {
        let spk = match kind {
            AddrKind::P2tr => ScriptBuf::from_bytes([&[0x51, 0x20][..], &[n; 32]].concat()),
            AddrKind::P2wpkh => ScriptBuf::from_bytes([&[0x00, 0x14][..], &[n; 20]].concat()),
        };
        Coin {
            outpoint: OutPoint::new(Txid::from_byte_array([n; 32]), 0),
            txout: TxOut {
                value: Amount::from_sat(sat),
                script_pubkey: spk,
            },
            kind,
            height: Some(1),
            coinbase: false,
            spent: false,
            reserved_to: None,
        }
    }

    #[test]
    fn pays_exact_change_and_fee() {
        let dest = coin(9, 0, AddrKind::P2wpkh).txout.script_pubkey;
        let change = coin(8, 0, AddrKind::P2tr).txout.script_pubkey;
        let coins = [
            coin(1, 100_000, AddrKind::P2tr),
            coin(2, 50_000, AddrKind::P2wpkh),
        ];
        let req = Request::Pay {
            script: dest.clone(),
            amount: Some(120_000),
        };
        let p = plan(&req, &coins, false, 1000, Some(change)).expect("plan");
        assert_eq!(p.inputs.len(), 2);
        let ins: u64 = 150_000;
        let outs: u64 = p.outputs.iter().map(|o| o.value.to_sat()).sum();
        assert_eq!(ins - outs, p.fee);
        assert_eq!(p.fee, fee_for(p.weight, 1000));
        assert_eq!(p.outputs[0].value.to_sat(), 120_000);
        assert_eq!(p.change_outnum, Some(1));
        let e = plan(
            &Request::Pay {
                script: dest,
                amount: Some(150_000),
            },
            &coins,
            false,
            1000,
            None,
        )
        .expect_err("too much");
        assert!(matches!(
            e,
            WalletError::Insufficient {
                available: 150_000,
                ..
            }
        ));
    }

    #[test]
    fn all_spends_everything_minus_fee() {
        let dest = coin(9, 0, AddrKind::P2tr).txout.script_pubkey;
        let coins = [
            coin(1, 10_000, AddrKind::P2tr),
            coin(2, 20_000, AddrKind::P2tr),
        ];
        let p = plan(
            &Request::Pay {
                script: dest,
                amount: None,
            },
            &coins,
            false,
            253,
            None,
        )
        .expect("plan");
        assert_eq!(p.outputs.len(), 1);
        assert_eq!(p.outputs[0].value.to_sat() + p.fee, 30_000);
        assert_eq!(p.weight, BASE_WEIGHT + 2 * 230 + 43 * 4);
    }
}
