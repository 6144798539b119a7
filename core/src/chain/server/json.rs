//! Bitcoin Core's JSON shapes for blocks, headers and transactions.

use bitcoin::consensus::encode::serialize_hex;
use bitcoin::{Amount, Block, Network, Transaction, TxOut};
use serde_json::{Value, json};

use crate::chain::embedded::Chain;

/// Amounts in Core's JSON: BTC as a number with 8 decimals.
pub fn btc(amount: Amount) -> Value {
    // Core prints fixed 8 decimals; a JSON number with that value is what
    // clients parse.
    json!(amount.to_btc())
}

/// Core's name for an output script's type.
pub fn script_type(s: &bitcoin::Script) -> &'static str {
    if s.is_p2pkh() {
        "pubkeyhash"
    } else if s.is_p2sh() {
        "scripthash"
    } else if s.is_p2wpkh() {
        "witness_v0_keyhash"
    } else if s.is_p2wsh() {
        "witness_v0_scripthash"
    } else if s.is_p2tr() {
        "witness_v1_taproot"
    } else if s.as_bytes() == [0x51, 0x02, 0x4e, 0x73] {
        "anchor"
    } else if s.is_op_return() {
        "nulldata"
    } else if s.is_witness_program() {
        "witness_unknown"
    } else {
        "nonstandard"
    }
}

/// `scriptPubKey` object.
pub fn script_pubkey(s: &bitcoin::Script) -> Value {
    let mut v = json!({
        "asm": s.to_asm_string(),
        "hex": hex::encode(s.as_bytes()),
        "type": script_type(s),
    });
    if let (Ok(addr), Some(map)) = (
        bitcoin::Address::from_script(s, Network::Regtest),
        v.as_object_mut(),
    ) {
        map.insert("address".into(), json!(addr.to_string()));
    }
    v
}

/// One output.
pub fn txout(n: usize, o: &TxOut) -> Value {
    json!({ "value": btc(o.value), "n": n, "scriptPubKey": script_pubkey(&o.script_pubkey) })
}

/// A transaction as `decoderawtransaction` / verbose `getrawtransaction` print it.
pub fn transaction(tx: &Transaction) -> Value {
    let vin: Vec<Value> = tx
        .input
        .iter()
        .map(|i| {
            let mut v = if tx.is_coinbase() {
                json!({ "coinbase": hex::encode(i.script_sig.as_bytes()) })
            } else {
                json!({
                    "txid": i.previous_output.txid.to_string(),
                    "vout": i.previous_output.vout,
                    "scriptSig": { "asm": i.script_sig.to_asm_string(), "hex": hex::encode(i.script_sig.as_bytes()) },
                })
            };
            if let Some(map) = v.as_object_mut() {
                if !i.witness.is_empty() {
                    map.insert("txinwitness".into(), json!(i.witness.iter().map(hex::encode).collect::<Vec<_>>()));
                }
                map.insert("sequence".into(), json!(i.sequence.to_consensus_u32()));
            }
            v
        })
        .collect();
    json!({
        "txid": tx.compute_txid().to_string(),
        "hash": tx.compute_wtxid().to_string(),
        "version": tx.version.0,
        "size": tx.total_size(),
        "vsize": tx.vsize(),
        "weight": tx.weight().to_wu(),
        "locktime": tx.lock_time.to_consensus_u32(),
        "vin": vin,
        "vout": tx.output.iter().enumerate().map(|(n, o)| txout(n, o)).collect::<Vec<_>>(),
        "hex": serialize_hex(tx),
    })
}

/// Proof-of-work difficulty relative to the mainnet limit, as Core computes it.
pub fn difficulty(bits: bitcoin::CompactTarget) -> f64 {
    let bits = bits.to_consensus();
    let mut shift = (bits >> 24) & 0xff;
    let mut diff = f64::from(0x0000ffff) / f64::from(bits & 0x00ff_ffff);
    while shift < 29 {
        diff *= 256.0;
        shift += 1;
    }
    while shift > 29 {
        diff /= 256.0;
        shift -= 1;
    }
    diff
}

/// Cumulative work up to `height`, as 64 hex digits.
pub fn chainwork(chain: &Chain, height: u32) -> String {
    let work = chain
        .chain_work(height)
        .unwrap_or(bitcoin::Work::from_be_bytes([0; 32]));
    hex::encode(work.to_be_bytes())
}

/// A header object (`getblockheader` verbose, and the top of `getblock`).
pub fn header(chain: &Chain, block: &Block, height: u32) -> Value {
    let h = &block.header;
    let mut v = json!({
        "hash": block.block_hash().to_string(),
        "confirmations": chain.tip_height() - height + 1,
        "height": height,
        "version": h.version.to_consensus(),
        "versionHex": format!("{:08x}", h.version.to_consensus()),
        "merkleroot": h.merkle_root.to_string(),
        "time": h.time,
        "mediantime": chain.median_time_past(height),
        "nonce": h.nonce,
        "bits": format!("{:08x}", h.bits.to_consensus()),
        "difficulty": difficulty(h.bits),
        "chainwork": chainwork(chain, height),
        "nTx": block.txdata.len(),
    });
    if let Some(map) = v.as_object_mut() {
        if height > 0 {
            map.insert(
                "previousblockhash".into(),
                json!(h.prev_blockhash.to_string()),
            );
        }
        if let Some(next) = chain.block_at(height + 1) {
            map.insert("nextblockhash".into(), json!(next.block_hash().to_string()));
        }
    }
    v
}
