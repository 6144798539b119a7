//! Transaction validation with Bitcoin Core's consensus and relay rules, as
//! far as a regtest chain for Lightning needs them. Scripts are checked by
//! Bitcoin Core's own interpreter (`bitcoinconsensus`) with every spent
//! output passed, so taproot rules apply.

use std::collections::HashSet;

use bitcoin::absolute::LockTime;
use bitcoin::consensus::encode::serialize;
use bitcoin::{Amount, OutPoint, Sequence, Transaction, Weight};

use super::coins::{Coin, CoinView, MEMPOOL_HEIGHT};

/// Coinbase outputs may be spent this many blocks after their own.
pub const COINBASE_MATURITY: u32 = 100;
/// Largest standard transaction weight.
pub const MAX_STANDARD_TX_WEIGHT: Weight = Weight::from_wu(400_000);
/// Largest standard OP_RETURN output script (Core's `-datacarriersize` 83).
pub const MAX_OP_RETURN_RELAY: usize = 83;

/// Script flags for standard validation (Core's mandatory + taproot).
pub const SCRIPT_FLAGS: u32 =
    bitcoinconsensus::VERIFY_ALL_PRE_TAPROOT | bitcoinconsensus::VERIFY_TAPROOT;

/// Why a transaction was refused. Each maps to Bitcoin Core's reject reason
/// ([`TxReject::core_reason`]) for the RPC server.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TxReject {
    /// A coinbase cannot be relayed.
    #[error("coinbase transactions cannot be broadcast")]
    Coinbase,
    /// No inputs or no outputs.
    #[error("transaction has no {0}")]
    Empty(&'static str),
    /// The same outpoint spent twice within the transaction.
    #[error("input {0} is spent twice in the transaction")]
    DuplicateInput(OutPoint),
    /// An output value, or the total, is out of range.
    #[error("output values out of range")]
    OutputValueOutOfRange,
    /// Already in the mempool or the chain.
    #[error("transaction {0} is already known")]
    AlreadyKnown(bitcoin::Txid),
    /// An input does not exist or is already spent in the chain.
    #[error("input {0} does not exist or is already spent")]
    MissingOrSpent(OutPoint),
    /// An input is already spent by another unconfirmed transaction.
    #[error("input {outpoint} is already spent by unconfirmed {spent_by}")]
    MempoolConflict {
        /// The contested input.
        outpoint: OutPoint,
        /// The transaction already spending it.
        spent_by: bitcoin::Txid,
    },
    /// A coinbase output spent before 100 confirmations.
    #[error(
        "coinbase output {outpoint} has {confirmations} confirmations, needs {COINBASE_MATURITY}"
    )]
    ImmatureCoinbase {
        /// The input.
        outpoint: OutPoint,
        /// Its confirmations at the next block.
        confirmations: u32,
    },
    /// Outputs exceed inputs.
    #[error("outputs ({outputs}) exceed inputs ({inputs})")]
    InputsBelowOutputs {
        /// Sum of inputs.
        inputs: Amount,
        /// Sum of outputs.
        outputs: Amount,
    },
    /// The fee is below the minimum relay fee.
    #[error("fee {fee} is below the minimum relay fee {minimum} for {vsize} vbytes")]
    FeeTooLow {
        /// Paid.
        fee: Amount,
        /// Needed.
        minimum: Amount,
        /// Size.
        vsize: u64,
    },
    /// nLockTime is not reached (by height, or by median time past).
    #[error("lock time {0} is not reached")]
    NonFinal(LockTime),
    /// A BIP68 relative lock time is not reached.
    #[error("relative lock time of input {input} is not reached")]
    SequenceLock {
        /// The input index.
        input: usize,
    },
    /// A script or signature does not verify.
    #[error("input {input}: script verification failed ({detail})")]
    Script {
        /// The input index.
        input: usize,
        /// What the interpreter said.
        detail: String,
    },
    /// An output is below the dust threshold.
    #[error("output {output} of {value} is dust (threshold {threshold})")]
    Dust {
        /// The output index.
        output: usize,
        /// Its value.
        value: Amount,
        /// The smallest non-dust value for its script.
        threshold: Amount,
    },
    /// Breaks a standardness rule.
    #[error("non-standard: {0}")]
    NonStandard(String),
}

impl TxReject {
    /// Bitcoin Core's reject reason string for this failure.
    pub fn core_reason(&self) -> &'static str {
        match self {
            TxReject::Coinbase => "coinbase",
            TxReject::Empty("inputs") => "bad-txns-vin-empty",
            TxReject::Empty(_) => "bad-txns-vout-empty",
            TxReject::DuplicateInput(_) => "bad-txns-inputs-duplicate",
            TxReject::OutputValueOutOfRange => "bad-txns-vout-toolarge",
            TxReject::AlreadyKnown(_) => "txn-already-known",
            TxReject::MissingOrSpent(_) => "bad-txns-inputs-missingorspent",
            TxReject::MempoolConflict { .. } => "txn-mempool-conflict",
            TxReject::ImmatureCoinbase { .. } => "bad-txns-premature-spend-of-coinbase",
            TxReject::InputsBelowOutputs { .. } => "bad-txns-in-belowout",
            TxReject::FeeTooLow { .. } => "min relay fee not met",
            TxReject::NonFinal(_) => "non-final",
            TxReject::SequenceLock { .. } => "non-BIP68-final",
            TxReject::Script { .. } => "mandatory-script-verify-flag-failed",
            TxReject::Dust { .. } => "dust",
            TxReject::NonStandard(_) => "non-standard",
        }
    }
}

/// The chain context a transaction is checked against: the block it would
/// be mined in.
pub trait LockContext {
    /// Height of the next block.
    fn next_height(&self) -> u32;
    /// Median time past of the current tip (BIP113's clock for the next block).
    fn tip_mtp(&self) -> u32;
    /// Median time past of the block at `height` (for BIP68 time locks).
    fn mtp_at(&self, height: u32) -> u32;
}

/// A transaction that passed: its fee and virtual size.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Accepted {
    /// Inputs minus outputs.
    pub fee: Amount,
    /// Virtual size in vbytes.
    pub vsize: u64,
}

/// Context-free checks (Core's `CheckTransaction`).
pub fn check_shape(tx: &Transaction) -> Result<(), TxReject> {
    if tx.is_coinbase() {
        return Err(TxReject::Coinbase);
    }
    if tx.input.is_empty() {
        return Err(TxReject::Empty("inputs"));
    }
    if tx.output.is_empty() {
        return Err(TxReject::Empty("outputs"));
    }
    let mut seen = HashSet::new();
    for i in &tx.input {
        if !seen.insert(i.previous_output) {
            return Err(TxReject::DuplicateInput(i.previous_output));
        }
    }
    let mut total = Amount::ZERO;
    for o in &tx.output {
        if o.value > Amount::MAX_MONEY {
            return Err(TxReject::OutputValueOutOfRange);
        }
        total = total
            .checked_add(o.value)
            .ok_or(TxReject::OutputValueOutOfRange)?;
        if total > Amount::MAX_MONEY {
            return Err(TxReject::OutputValueOutOfRange);
        }
    }
    Ok(())
}

/// Relay policy: size, output script types, dust.
pub fn check_standard(tx: &Transaction) -> Result<(), TxReject> {
    if tx.weight() > MAX_STANDARD_TX_WEIGHT {
        return Err(TxReject::NonStandard(format!(
            "weight {} is over {MAX_STANDARD_TX_WEIGHT}",
            tx.weight()
        )));
    }
    if tx.version.0 < 1 || tx.version.0 > 3 {
        return Err(TxReject::NonStandard(format!("version {}", tx.version.0)));
    }
    for (n, o) in tx.output.iter().enumerate() {
        let s = &o.script_pubkey;
        if s.is_op_return() {
            if s.len() > MAX_OP_RETURN_RELAY {
                return Err(TxReject::NonStandard(format!(
                    "output {n}: OP_RETURN of {} bytes",
                    s.len()
                )));
            }
            continue;
        }
        let standard = s.is_p2pkh()
            || s.is_p2sh()
            || s.is_p2wpkh()
            || s.is_p2wsh()
            || s.is_p2tr()
            || is_pay_to_anchor(s);
        if !standard {
            return Err(TxReject::NonStandard(format!(
                "output {n}: script type is not standard"
            )));
        }
        let threshold = if is_pay_to_anchor(s) {
            Amount::ZERO
        } else {
            s.minimal_non_dust()
        };
        if o.value < threshold {
            return Err(TxReject::Dust {
                output: n,
                value: o.value,
                threshold,
            });
        }
    }
    Ok(())
}

/// `OP_1 <0x4e73>`: Bitcoin Core 28's pay-to-anchor output.
fn is_pay_to_anchor(s: &bitcoin::Script) -> bool {
    s.as_bytes() == [0x51, 0x02, 0x4e, 0x73]
}

/// Whether nLockTime allows the transaction in the next block (BIP113).
pub fn is_final(tx: &Transaction, ctx: &impl LockContext) -> bool {
    if tx.input.iter().all(|i| i.sequence == Sequence::MAX) {
        return true;
    }
    match tx.lock_time {
        LockTime::Blocks(h) => h.to_consensus_u32() < ctx.next_height(),
        LockTime::Seconds(t) => t.to_consensus_u32() < ctx.tip_mtp(),
    }
}

const SEQUENCE_DISABLE: u32 = 1 << 31;
const SEQUENCE_TYPE_TIME: u32 = 1 << 22;
const SEQUENCE_MASK: u32 = 0x0000_ffff;

/// BIP68: every input's relative lock is met in the next block.
fn check_sequence_locks(
    tx: &Transaction,
    coins: &[Coin],
    ctx: &impl LockContext,
) -> Result<(), TxReject> {
    if tx.version.0 < 2 {
        return Ok(());
    }
    let next = ctx.next_height();
    for (n, (input, coin)) in tx.input.iter().zip(coins).enumerate() {
        let seq = input.sequence.to_consensus_u32();
        if seq & SEQUENCE_DISABLE != 0 {
            continue;
        }
        // An unconfirmed parent counts as mined in the next block.
        let coin_height = if coin.height == MEMPOOL_HEIGHT {
            next
        } else {
            coin.height
        };
        let value = seq & SEQUENCE_MASK;
        let met = if seq & SEQUENCE_TYPE_TIME != 0 {
            let coin_time = ctx.mtp_at(coin_height.saturating_sub(1));
            let unlock = u64::from(coin_time) + (u64::from(value) << 9);
            // Core: the lock is met when unlock - 1 < tip MTP.
            unlock.saturating_sub(1) < u64::from(ctx.tip_mtp())
        } else {
            // Met when coin_height + value - 1 < next height.
            u64::from(coin_height) + u64::from(value) < u64::from(next) + 1
        };
        if !met {
            return Err(TxReject::SequenceLock { input: n });
        }
    }
    Ok(())
}

/// Relay policy applied on top of consensus when accepting to the mempool.
#[derive(Debug, Clone, Copy)]
pub struct Policy {
    /// Minimum relay fee, sat per 1000 vbytes.
    pub min_fee_per_kvb: u64,
}

/// Whether [`validate`] runs the script interpreter.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ScriptCheck {
    /// Verify every input's script.
    Verify,
    /// The scripts were verified against these very coins before (a
    /// mempool transaction being mined or re-checked after a block): a
    /// script's result depends only on the transaction and the outputs it
    /// spends, so it cannot have changed.
    AlreadyVerified,
}

/// Full contextual validation against `view` for the next block. With a
/// `policy` (mempool acceptance) relay rules apply too; without one
/// (a transaction inside a block) only consensus rules do.
pub fn validate(
    tx: &Transaction,
    view: &impl CoinView,
    ctx: &impl LockContext,
    policy: Option<Policy>,
    scripts: ScriptCheck,
) -> Result<Accepted, TxReject> {
    check_shape(tx)?;
    if policy.is_some() {
        check_standard(tx)?;
    }
    if !is_final(tx, ctx) {
        return Err(TxReject::NonFinal(tx.lock_time));
    }
    let next = ctx.next_height();
    let mut coins = Vec::with_capacity(tx.input.len());
    let mut inputs = Amount::ZERO;
    for i in &tx.input {
        let coin = view
            .coin(&i.previous_output)
            .ok_or(TxReject::MissingOrSpent(i.previous_output))?;
        if coin.is_coinbase {
            let confirmations = next.saturating_sub(coin.height);
            if confirmations < COINBASE_MATURITY {
                return Err(TxReject::ImmatureCoinbase {
                    outpoint: i.previous_output,
                    confirmations,
                });
            }
        }
        inputs = inputs
            .checked_add(coin.output.value)
            .ok_or(TxReject::OutputValueOutOfRange)?;
        coins.push(coin);
    }
    let outputs = tx.output.iter().map(|o| o.value).sum::<Amount>();
    let fee = inputs
        .checked_sub(outputs)
        .ok_or(TxReject::InputsBelowOutputs { inputs, outputs })?;
    let vsize = tx.vsize() as u64;
    if let Some(p) = policy {
        let minimum = Amount::from_sat((p.min_fee_per_kvb * vsize).div_ceil(1000));
        if fee < minimum {
            return Err(TxReject::FeeTooLow {
                fee,
                minimum,
                vsize,
            });
        }
    }
    check_sequence_locks(tx, &coins, ctx)?;
    if scripts == ScriptCheck::Verify {
        verify_scripts(tx, &coins)?;
    }
    Ok(Accepted { fee, vsize })
}

/// Run every input's script with all spent outputs (taproot needs them).
pub fn verify_scripts(tx: &Transaction, coins: &[Coin]) -> Result<(), TxReject> {
    let raw = serialize(tx);
    // `Utxo` holds raw pointers into these scripts: they outlive the calls.
    let scripts: Vec<&[u8]> = coins
        .iter()
        .map(|c| c.output.script_pubkey.as_bytes())
        .collect();
    let utxos: Vec<bitcoinconsensus::Utxo> = coins
        .iter()
        .zip(&scripts)
        .map(|(c, s)| bitcoinconsensus::Utxo {
            script_pubkey: s.as_ptr(),
            script_pubkey_len: s.len() as u32,
            value: c.output.value.to_sat() as i64,
        })
        .collect();
    for (n, coin) in coins.iter().enumerate() {
        bitcoinconsensus::verify_with_flags(
            scripts[n],
            coin.output.value.to_sat(),
            &raw,
            Some(&utxos),
            n,
            SCRIPT_FLAGS,
        )
        .map_err(|e| TxReject::Script {
            input: n,
            detail: match e {
                bitcoinconsensus::Error::ERR_SCRIPT => {
                    "script evaluated to false or a signature is invalid".into()
                }
                other => other.to_string(),
            },
        })?;
    }
    Ok(())
}
