//! Witness validation with libbitcoinconsensus (Bitcoin Core's consensus
//! interpreter, BIP-341/342 with all spent outputs supplied).
//!
//! tapd runs btcd with its *standard* flags; libbitcoinconsensus only
//! accepts consensus flags. The policy rules that matter for taproot
//! spends are checked here before the interpreter runs: unknown tapscript
//! leaf versions and `OP_SUCCESSx` opcodes are rejected. Not replicated:
//! the "upgradable public key type" policy (a CHECKSIG key that is neither
//! 0 nor 32 bytes succeeds here as in consensus).
//!
//! libbitcoinconsensus reports only pass/fail, so a script failure carries
//! no btcd-style reason.

use bitcoin::opcodes::{Class, ClassifyContext};
use bitcoin::script::{Instruction, Script};
use bitcoin::{Transaction, TxOut};

/// Tapscript leaf version 0xc0.
const TAPSCRIPT_LEAF_VERSION: u8 = 0xc0;
/// First byte of a taproot annex.
const ANNEX_TAG: u8 = 0x50;

/// Why a witness failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ScriptError {
    /// Rejected by the policy checks in this module.
    #[error("{0}")]
    Policy(&'static str),
    /// The consensus interpreter rejected the spend.
    #[error("script validation failed ({0})")]
    Consensus(String),
}

/// The tapscript leaf being spent, if the witness is a script-path spend:
/// (leaf version, script).
fn script_path(stack: &[Vec<u8>]) -> Option<(u8, &[u8])> {
    let mut items = stack;
    if items.len() >= 2 && items.last().and_then(|a| a.first()) == Some(&ANNEX_TAG) {
        items = &items[..items.len() - 1];
    }
    if items.len() < 2 {
        return None;
    }
    let control = items.last()?;
    let script = items.get(items.len() - 2)?;
    Some((*control.first()? & 0xfe, script.as_slice()))
}

/// Policy checks btcd's standard flags apply to a tapscript spend.
pub fn check_policy(stack: &[Vec<u8>]) -> Result<(), ScriptError> {
    let Some((leaf_version, script)) = script_path(stack) else {
        return Ok(());
    };
    if leaf_version != TAPSCRIPT_LEAF_VERSION {
        return Err(ScriptError::Policy(
            "script uses unknown tapscript leaf version (discouraged)",
        ));
    }
    for ins in Script::from_bytes(script).instructions() {
        match ins {
            Ok(Instruction::Op(op))
                if op.classify(ClassifyContext::TapScript) == Class::SuccessOp =>
            {
                return Err(ScriptError::Policy(
                    "script contains OP_SUCCESS (discouraged)",
                ));
            }
            Ok(_) => {}
            // A malformed push: OP_SUCCESS before it would have made the
            // script succeed, which was excluded above; the interpreter
            // rejects the rest.
            Err(_) => break,
        }
    }
    Ok(())
}

/// Verifies input 0 of `tx` spending `prevout` (the only spent output).
pub fn verify_input(tx: &Transaction, prevout: &TxOut) -> Result<(), ScriptError> {
    let stack: Vec<Vec<u8>> = tx
        .input
        .first()
        .map(|i| i.witness.iter().map(<[u8]>::to_vec).collect())
        .unwrap_or_default();
    check_policy(&stack)?;
    let tx_bytes = bitcoin::consensus::serialize(tx);
    let spk = prevout.script_pubkey.as_bytes();
    let utxo = bitcoinconsensus::Utxo {
        script_pubkey: spk.as_ptr(),
        script_pubkey_len: spk.len() as u32,
        value: prevout.value.to_sat() as i64,
    };
    let spent = [utxo];
    bitcoinconsensus::verify_with_flags(
        spk,
        prevout.value.to_sat(),
        &tx_bytes,
        Some(&spent),
        0,
        bitcoinconsensus::VERIFY_ALL_PRE_TAPROOT | bitcoinconsensus::VERIFY_TAPROOT,
    )
    .map_err(|e| ScriptError::Consensus(format!("{e:?}")))
}
