//! The methods, each answering as Bitcoin Core does.

use std::str::FromStr;

use bitcoin::consensus::encode::{deserialize, serialize_hex};
use bitcoin::{Amount, BlockHash, OutPoint, Transaction, Txid};
use serde_json::{Value, json};

use super::json as shapes;
use super::{CoreError, codes};
use crate::chain::embedded::Chain;
use crate::chain::embedded::source::{EMBEDDED_FEE_RATE, EmbeddedChain};
use crate::chain::embedded::validate::TxReject;

/// Largest fee rate `sendrawtransaction` accepts by default: 0.10 BTC/kvB.
const DEFAULT_MAX_FEE_RATE_SAT_PER_VB: u64 = 10_000;

/// Parameter `idx` (positional) or `name` (named); `null` means absent.
fn arg<'a>(params: &'a Value, idx: usize, name: &str) -> Option<&'a Value> {
    match params {
        Value::Array(a) => a.get(idx),
        Value::Object(m) => m.get(name),
        _ => None,
    }
    .filter(|v| !v.is_null())
}

fn required<'a>(params: &'a Value, idx: usize, name: &str) -> Result<&'a Value, CoreError> {
    arg(params, idx, name).ok_or_else(|| {
        CoreError::new(
            codes::MISC_ERROR,
            format!("missing required parameter {name}"),
        )
    })
}

fn as_str<'a>(v: &'a Value, name: &str) -> Result<&'a str, CoreError> {
    v.as_str().ok_or_else(|| {
        CoreError::new(
            codes::TYPE_ERROR,
            format!(
                "JSON value of type {} for field {name} is not of expected type string",
                kind(v)
            ),
        )
    })
}

fn as_u64(v: &Value, name: &str) -> Result<u64, CoreError> {
    v.as_u64().ok_or_else(|| {
        CoreError::new(
            codes::TYPE_ERROR,
            format!(
                "JSON value of type {} for field {name} is not of expected type number",
                kind(v)
            ),
        )
    })
}

fn kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "bool",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

fn parse_hash<T: FromStr>(v: &Value, name: &str) -> Result<T, CoreError> {
    let s = as_str(v, name)?;
    if s.len() != 64 || !s.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(CoreError::new(
            codes::INVALID_PARAMETER,
            format!("{name} must be of length 64 (not {}, for '{s}')", s.len()),
        ));
    }
    s.parse().map_err(|_| {
        CoreError::new(
            codes::INVALID_PARAMETER,
            format!("{name} must be hexadecimal string (not '{s}')"),
        )
    })
}

fn verbosity(v: Option<&Value>, default: u64) -> u64 {
    match v {
        None => default,
        Some(Value::Bool(b)) => u64::from(*b),
        Some(Value::Number(n)) => n.as_u64().unwrap_or(default),
        _ => default,
    }
}

fn block_not_found() -> CoreError {
    CoreError::new(codes::INVALID_ADDRESS_OR_KEY, "Block not found")
}

fn decode_tx(v: &Value) -> Result<Transaction, CoreError> {
    let s = as_str(v, "hexstring")?;
    let bytes = hex::decode(s).map_err(|_| {
        CoreError::new(
            codes::DESERIALIZATION_ERROR,
            "TX decode failed. Make sure the tx has at least one input.",
        )
    })?;
    deserialize::<Transaction>(&bytes).map_err(|_| {
        CoreError::new(
            codes::DESERIALIZATION_ERROR,
            "TX decode failed. Make sure the tx has at least one input.",
        )
    })
}

/// Run one method.
pub fn dispatch(chain: &EmbeddedChain, method: &str, params: Value) -> Result<Value, CoreError> {
    let read = |f: &dyn Fn(&Chain) -> Result<Value, CoreError>| {
        chain
            .with_chain(|c| f(c))
            .map_err(|e| CoreError::new(codes::MISC_ERROR, e.to_string()))?
    };
    match method {
        "getblockcount" => read(&|c| Ok(json!(c.tip_height()))),
        "getbestblockhash" => read(&|c| Ok(json!(c.tip_hash().to_string()))),
        "getblockchaininfo" => read(&|c| {
            let tip = c.tip_height();
            let block = c.block_at(tip).ok_or_else(block_not_found)?;
            Ok(json!({
                "chain": "regtest",
                "blocks": tip,
                "headers": tip,
                "bestblockhash": c.tip_hash().to_string(),
                "bits": format!("{:08x}", block.header.bits.to_consensus()),
                "target": format!("{:064x}", block.header.target()),
                "difficulty": shapes::difficulty(block.header.bits),
                "time": block.header.time,
                "mediantime": c.median_time_past(tip),
                "verificationprogress": 1,
                "initialblockdownload": false,
                "chainwork": shapes::chainwork(c, tip),
                "size_on_disk": 0,
                "pruned": false,
                "warnings": [],
            }))
        }),
        "getblockhash" => {
            let height = as_u64(required(&params, 0, "height")?, "height")?;
            read(&|c| {
                u32::try_from(height)
                    .ok()
                    .and_then(|h| c.block_at(h))
                    .map(|b| json!(b.block_hash().to_string()))
                    .ok_or_else(|| {
                        CoreError::new(codes::INVALID_PARAMETER, "Block height out of range")
                    })
            })
        }
        "getblockheader" => {
            let hash: BlockHash = parse_hash(required(&params, 0, "blockhash")?, "blockhash")?;
            let verbose = verbosity(arg(&params, 1, "verbose"), 1) != 0;
            read(&|c| {
                let height = c.height_of(&hash).ok_or_else(block_not_found)?;
                let block = c.block_at(height).ok_or_else(block_not_found)?;
                Ok(if verbose {
                    shapes::header(c, block, height)
                } else {
                    json!(serialize_hex(&block.header))
                })
            })
        }
        "getblock" => {
            let hash: BlockHash = parse_hash(required(&params, 0, "blockhash")?, "blockhash")?;
            let level = verbosity(arg(&params, 1, "verbosity"), 1);
            read(&|c| {
                let height = c.height_of(&hash).ok_or_else(block_not_found)?;
                let block = c.block_at(height).ok_or_else(block_not_found)?;
                if level == 0 {
                    return Ok(json!(serialize_hex(block)));
                }
                let mut v = shapes::header(c, block, height);
                let txs: Vec<Value> = if level == 1 {
                    block
                        .txdata
                        .iter()
                        .map(|t| json!(t.compute_txid().to_string()))
                        .collect()
                } else {
                    block.txdata.iter().map(shapes::transaction).collect()
                };
                if let Some(m) = v.as_object_mut() {
                    m.insert(
                        "strippedsize".into(),
                        json!((block.weight().to_wu() as usize - block.total_size()) / 3),
                    );
                    m.insert("size".into(), json!(block.total_size()));
                    m.insert("weight".into(), json!(block.weight().to_wu()));
                    m.insert("tx".into(), json!(txs));
                }
                Ok(v)
            })
        }
        "getrawtransaction" => {
            let txid: Txid = parse_hash(required(&params, 0, "txid")?, "txid")?;
            let verbose = verbosity(arg(&params, 1, "verbose"), 0) != 0;
            read(&|c| {
                let (tx, block) = c.transaction(&txid).ok_or_else(|| {
                    CoreError::new(
                        codes::INVALID_ADDRESS_OR_KEY,
                        "No such mempool or blockchain transaction. Use gettransaction for wallet transactions.",
                    )
                })?;
                if !verbose {
                    return Ok(json!(serialize_hex(&tx)));
                }
                let mut v = shapes::transaction(&tx);
                if let (Some(hash), Some(m)) = (block, v.as_object_mut()) {
                    let height = c.height_of(&hash).unwrap_or(0);
                    let time = c.block_at(height).map(|b| b.header.time).unwrap_or(0);
                    m.insert("blockhash".into(), json!(hash.to_string()));
                    m.insert("confirmations".into(), json!(c.tip_height() - height + 1));
                    m.insert("time".into(), json!(time));
                    m.insert("blocktime".into(), json!(time));
                }
                Ok(v)
            })
        }
        "sendrawtransaction" => {
            let tx = decode_tx(required(&params, 0, "hexstring")?)?;
            let txid = tx.compute_txid();
            let max_rate = match arg(&params, 1, "maxfeerate") {
                None => DEFAULT_MAX_FEE_RATE_SAT_PER_VB,
                // BTC/kvB to sat/vB.
                Some(v) => (v.as_f64().unwrap_or(0.1) * 100_000.0).round() as u64,
            };
            let accepted = chain
                .with_chain(|c| c.test_accept(&tx))
                .map_err(|e| CoreError::new(codes::MISC_ERROR, e.to_string()))?;
            match accepted {
                Ok(a) if max_rate > 0 && a.fee.to_sat() > max_rate.saturating_mul(a.vsize) => {
                    Err(CoreError::new(
                        codes::VERIFY_ERROR,
                        "Fee exceeds maximum configured by user (e.g. -maxtxfee, maxfeerate)",
                    ))
                }
                Ok(_) => chain
                    .submit(tx)
                    .map(|t| json!(t.to_string()))
                    .map_err(|e| CoreError::new(codes::VERIFY_REJECTED, e.to_string())),
                // Already in the mempool: Core answers with the txid.
                Err(TxReject::AlreadyKnown(_))
                    if chain
                        .with_chain(|c| c.mempool().contains(&txid))
                        .unwrap_or(false) =>
                {
                    Ok(json!(txid.to_string()))
                }
                Err(reject) => Err(send_error(chain, &txid, &reject)),
            }
        }
        "testmempoolaccept" => {
            let raws = required(&params, 0, "rawtxs")?
                .as_array()
                .ok_or_else(|| CoreError::new(codes::TYPE_ERROR, "rawtxs must be an array"))?;
            let mut out = Vec::new();
            for raw in raws {
                let tx = decode_tx(raw)?;
                let res = chain
                    .with_chain(|c| c.test_accept(&tx))
                    .map_err(|e| CoreError::new(codes::MISC_ERROR, e.to_string()))?;
                let mut v = json!({ "txid": tx.compute_txid().to_string(), "wtxid": tx.compute_wtxid().to_string() });
                if let Some(m) = v.as_object_mut() {
                    match res {
                        Ok(a) => {
                            m.insert("allowed".into(), json!(true));
                            m.insert("vsize".into(), json!(a.vsize));
                            let rate = Amount::from_sat(a.fee.to_sat() * 1000 / a.vsize.max(1));
                            m.insert(
                                "fees".into(),
                                json!({ "base": shapes::btc(a.fee), "effective-feerate": shapes::btc(rate), "effective-includes": [tx.compute_wtxid().to_string()] }),
                            );
                        }
                        Err(r) => {
                            m.insert("allowed".into(), json!(false));
                            let reason = if matches!(r, TxReject::MissingOrSpent(_)) {
                                "missing-inputs"
                            } else {
                                r.core_reason()
                            };
                            m.insert("reject-reason".into(), json!(reason));
                        }
                    }
                }
                out.push(v);
            }
            Ok(Value::Array(out))
        }
        "gettxout" => {
            let txid: Txid = parse_hash(required(&params, 0, "txid")?, "txid")?;
            let vout = u32::try_from(as_u64(required(&params, 1, "n")?, "n")?)
                .map_err(|_| CoreError::new(codes::INVALID_PARAMETER, "n out of range"))?;
            let include_mempool = arg(&params, 2, "include_mempool")
                .and_then(Value::as_bool)
                .unwrap_or(true);
            let op = OutPoint::new(txid, vout);
            read(&|c| {
                let best = c.tip_hash().to_string();
                if include_mempool && c.mempool().spender(&op).is_some() {
                    return Ok(Value::Null);
                }
                if let Some(coin) = c.utxo(&op) {
                    return Ok(json!({
                        "bestblock": best,
                        "confirmations": c.tip_height() - coin.height + 1,
                        "value": shapes::btc(coin.output.value),
                        "scriptPubKey": shapes::script_pubkey(&coin.output.script_pubkey),
                        "coinbase": coin.is_coinbase,
                    }));
                }
                if include_mempool
                    && let Some(o) = c
                        .mempool()
                        .get(&txid)
                        .and_then(|e| e.tx.output.get(vout as usize))
                {
                    return Ok(json!({
                        "bestblock": best,
                        "confirmations": 0,
                        "value": shapes::btc(o.value),
                        "scriptPubKey": shapes::script_pubkey(&o.script_pubkey),
                        "coinbase": false,
                    }));
                }
                Ok(Value::Null)
            })
        }
        "estimatesmartfee" => {
            let target = as_u64(required(&params, 0, "conf_target")?, "conf_target")?;
            let per_kvb = Amount::from_sat(EMBEDDED_FEE_RATE.to_sat_per_kwu() * 4);
            Ok(json!({ "feerate": shapes::btc(per_kvb), "blocks": target.clamp(1, 1008) }))
        }
        "getmempoolinfo" => read(&|c| {
            let m = c.mempool();
            let entries = m.in_order();
            let bytes: u64 = entries.iter().map(|e| e.vsize).sum();
            let fees: Amount = entries.iter().map(|e| e.fee).sum();
            Ok(json!({
                "loaded": true,
                "size": m.len(),
                "bytes": bytes,
                "usage": bytes,
                "total_fee": shapes::btc(fees),
                "maxmempool": 300_000_000,
                "mempoolminfee": 0.00001,
                "minrelaytxfee": 0.00001,
                "incrementalrelayfee": 0.00001,
                "unbroadcastcount": 0,
                "fullrbf": false,
            }))
        }),
        "getrawmempool" => {
            let verbose = verbosity(arg(&params, 0, "verbose"), 0) != 0;
            read(&|c| {
                let entries = c.mempool().in_order();
                if !verbose {
                    return Ok(json!(
                        entries
                            .iter()
                            .map(|e| e.tx.compute_txid().to_string())
                            .collect::<Vec<_>>()
                    ));
                }
                let mut m = serde_json::Map::new();
                for e in entries {
                    m.insert(
                        e.tx.compute_txid().to_string(),
                        json!({ "vsize": e.vsize, "weight": e.tx.weight().to_wu(), "fees": { "base": shapes::btc(e.fee) }, "wtxid": e.tx.compute_wtxid().to_string() }),
                    );
                }
                Ok(Value::Object(m))
            })
        }
        "generatetoaddress" => {
            let n = as_u64(required(&params, 0, "nblocks")?, "nblocks")?;
            let text = as_str(required(&params, 1, "address")?, "address")?;
            let address = bitcoin::Address::from_str(text)
                .ok()
                .and_then(|a| a.require_network(bitcoin::Network::Regtest).ok())
                .ok_or_else(|| {
                    CoreError::new(codes::INVALID_ADDRESS_OR_KEY, "Error: Invalid address")
                })?;
            let n = u32::try_from(n)
                .map_err(|_| CoreError::new(codes::INVALID_PARAMETER, "nblocks out of range"))?;
            let hashes = chain
                .mine(n, &address.script_pubkey())
                .map_err(|e| CoreError::new(codes::MISC_ERROR, e.to_string()))?;
            Ok(json!(
                hashes.iter().map(|h| h.to_string()).collect::<Vec<_>>()
            ))
        }
        "invalidateblock" => {
            let hash: bitcoin::BlockHash =
                parse_hash(required(&params, 0, "blockhash")?, "blockhash")?;
            chain.invalidate(&hash).map_err(|e| match e {
                crate::chain::embedded::source::EmbeddedError::Chain(
                    crate::chain::embedded::ChainError::UnknownBlock(_),
                ) => block_not_found(),
                other => CoreError::new(codes::MISC_ERROR, other.to_string()),
            })?;
            Ok(Value::Null)
        }
        "getnetworkinfo" => Ok(json!({
            "version": 280000,
            "subversion": concat!("/Lumen:", env!("CARGO_PKG_VERSION"), "(embedded regtest)/"),
            "protocolversion": 70016,
            "localservices": "0000000000000409",
            "localservicesnames": ["NETWORK", "WITNESS", "NETWORK_LIMITED"],
            "localrelay": true,
            "timeoffset": 0,
            "networkactive": true,
            "connections": 0,
            "connections_in": 0,
            "connections_out": 0,
            "networks": [],
            "relayfee": 0.00001,
            "incrementalfee": 0.00001,
            "localaddresses": [],
            "warnings": [],
        })),
        other => Err(CoreError::new(
            codes::METHOD_NOT_FOUND,
            format!("Method not found: {other}"),
        )),
    }
}

/// Core's `sendrawtransaction` error for a rejection.
fn send_error(chain: &EmbeddedChain, txid: &Txid, reject: &TxReject) -> CoreError {
    match reject {
        TxReject::AlreadyKnown(_) => {
            let confirmed = chain
                .with_chain(|c| c.transaction(txid).is_some_and(|(_, b)| b.is_some()))
                .unwrap_or(false);
            if confirmed {
                CoreError::new(
                    codes::VERIFY_ALREADY_IN_UTXO_SET,
                    "Transaction outputs already in utxo set",
                )
            } else {
                CoreError::new(codes::VERIFY_REJECTED, "txn-already-known")
            }
        }
        TxReject::MissingOrSpent(_) => {
            CoreError::new(codes::VERIFY_ERROR, "bad-txns-inputs-missingorspent")
        }
        other => CoreError::new(
            codes::VERIFY_REJECTED,
            format!("{} ({other})", other.core_reason()),
        ),
    }
}
