//! The on-chain wallet's RPCs, with Core Lightning's names, parameters and
//! result shapes: `newaddr`, `listfunds`, `withdraw`, `fundpsbt`,
//! `utxopsbt`, `reserveinputs`, `unreserveinputs`, `signpsbt`, `sendpsbt`,
//! `feerates`.

use std::str::FromStr;
use std::sync::Arc;

use bitcoin::psbt::Psbt;
use bitcoin::{Address, OutPoint};
use lumen_sdk::amount::Sat;
use lumen_sdk::error_codes;
use serde::Deserialize;
use serde_json::{Value, json};

use super::{Dispatcher, Method, ParamSpec, Params, RpcError};
use crate::wallet::build::Request;
use crate::wallet::feerate::{FEERATE_FLOOR_PERKW, FeerateSpec, parse_feerate};
use crate::wallet::{AddrKind, DEFAULT_RESERVE_BLOCKS, Reservation, Wallet, WalletError};

fn wallet_err(e: WalletError) -> RpcError {
    match e {
        WalletError::Insufficient { .. } => {
            RpcError::new(error_codes::FUND_CANNOT_AFFORD, e.to_string())
        }
        WalletError::Dust(_) => RpcError::new(error_codes::FUND_OUTPUT_IS_DUST, e.to_string()),
        WalletError::AlreadyReserved(_) | WalletError::Invalid(_) => {
            RpcError::new(error_codes::WALLET_ERROR, e.to_string())
        }
        WalletError::Chain(crate::chain::ChainSourceError::Rejected { .. }) => {
            RpcError::new(error_codes::WALLET_ERROR, e.to_string())
        }
        other => RpcError::internal(other.to_string()),
    }
}

/// `satoshi`: `all`, or an amount as [`Sat`] reads it (a number, `<n>sat`,
/// `<n>000msat`, `<n.d>btc`; at most 21M BTC). `None` means all.
fn parse_sat(name: &str, v: &Value) -> Result<Option<u64>, RpcError> {
    if v == "all" {
        return Ok(None);
    }
    Sat::deserialize(v)
        .map(|s| Some(s.0))
        .map_err(|e| RpcError::invalid_param(name, format!("{v} is not an amount or all: {e}")))
}

fn parse_psbt(p: &Params) -> Result<Psbt, RpcError> {
    let text: String = p.require("psbt")?;
    Psbt::from_str(&text)
        .map_err(|e| RpcError::invalid_param("psbt", format!("not a base64 PSBT: {e}")))
}

fn psbt_outpoints(psbt: &Psbt) -> Vec<OutPoint> {
    psbt.unsigned_tx
        .input
        .iter()
        .map(|i| i.previous_output)
        .collect()
}

fn parse_utxos(p: &Params) -> Result<Option<Vec<OutPoint>>, RpcError> {
    let Some(list) = p.get::<Vec<String>>("utxos")? else {
        return Ok(None);
    };
    list.iter()
        .map(|s| {
            OutPoint::from_str(s).map_err(|e| {
                RpcError::invalid_param("utxos", format!("'{s}' is not txid:vout: {e}"))
            })
        })
        .collect::<Result<Vec<_>, _>>()
        .map(Some)
}

async fn feerate_param(w: &Wallet, p: &Params, default: FeerateSpec) -> Result<u32, RpcError> {
    let spec = match p.get::<Value>("feerate")? {
        None | Some(Value::Null) => default,
        Some(v) => parse_feerate(&v).map_err(|e| RpcError::invalid_param("feerate", e))?,
    };
    w.feerate_perkw(spec).await.map_err(wallet_err)
}

fn reservations_json(rs: &[Reservation]) -> Value {
    Value::Array(
        rs.iter()
            .map(|r| {
                let mut o = json!({
                    "txid": r.outpoint.txid.to_string(),
                    "vout": r.outpoint.vout,
                    "was_reserved": r.was_reserved,
                    "reserved": r.reserved,
                });
                if let Some(h) = r.reserved_to_block {
                    o["reserved_to_block"] = json!(h);
                }
                o
            })
            .collect(),
    )
}

type Fut = std::pin::Pin<Box<dyn std::future::Future<Output = Result<Value, RpcError>> + Send>>;

fn reg(
    d: &Dispatcher,
    w: &Arc<Wallet>,
    name: &str,
    params: &[ParamSpec],
    desc: &str,
    f: fn(Arc<Wallet>, Params) -> Fut,
) -> Result<(), String> {
    let w = w.clone();
    d.register(Method::new(name, params, desc, move |p| f(w.clone(), p)))
}

/// Register the wallet's methods.
pub fn register(d: &Dispatcher, w: Arc<Wallet>) -> Result<(), String> {
    reg(
        d,
        &w,
        "newaddr",
        &[ParamSpec::opt("addresstype")],
        "A new wallet address: {addresstype} p2tr (default), bech32 or all.",
        |w, p| Box::pin(newaddr(w, p)),
    )?;
    reg(
        d,
        &w,
        "listfunds",
        &[ParamSpec::opt("spent")],
        "The wallet's outputs (and, later, channels); spent ones too with {spent}.",
        |w, p| Box::pin(listfunds(w, p)),
    )?;
    reg(
        d,
        &w,
        "withdraw",
        &[
            ParamSpec::req("destination"),
            ParamSpec::req("satoshi"),
            ParamSpec::opt("feerate"),
            ParamSpec::opt("minconf"),
            ParamSpec::opt("utxos"),
        ],
        "Send {satoshi} (or all) to {destination} from the wallet.",
        |w, p| Box::pin(withdraw(w, p)),
    )?;
    reg(
        d,
        &w,
        "fundpsbt",
        &[
            ParamSpec::req("satoshi"),
            ParamSpec::req("feerate"),
            ParamSpec::req("startweight"),
            ParamSpec::opt("minconf"),
            ParamSpec::opt("reserve"),
            ParamSpec::opt("locktime"),
            ParamSpec::opt("min_witness_weight"),
            ParamSpec::opt("excess_as_change"),
            ParamSpec::opt("nonwrapped"),
            ParamSpec::opt("opening_anchor_channel"),
        ],
        "A PSBT with wallet inputs worth {satoshi} plus fees at {feerate} for {startweight}.",
        |w, p| Box::pin(fundpsbt(w, p, false)),
    )?;
    reg(
        d,
        &w,
        "utxopsbt",
        &[
            ParamSpec::req("satoshi"),
            ParamSpec::req("feerate"),
            ParamSpec::req("startweight"),
            ParamSpec::req("utxos"),
            ParamSpec::opt("reserve"),
            ParamSpec::opt("reservedok"),
            ParamSpec::opt("locktime"),
            ParamSpec::opt("min_witness_weight"),
            ParamSpec::opt("excess_as_change"),
            ParamSpec::opt("opening_anchor_channel"),
        ],
        "A PSBT spending exactly {utxos}, which must cover {satoshi} plus fees.",
        |w, p| Box::pin(fundpsbt(w, p, true)),
    )?;
    reg(
        d,
        &w,
        "reserveinputs",
        &[
            ParamSpec::req("psbt"),
            ParamSpec::opt("exclusive"),
            ParamSpec::opt("reserve"),
        ],
        "Reserve the wallet inputs of {psbt} for {reserve} blocks (default 72).",
        |w, p| Box::pin(reserveinputs(w, p)),
    )?;
    reg(
        d,
        &w,
        "unreserveinputs",
        &[ParamSpec::req("psbt"), ParamSpec::opt("reserve")],
        "Shorten the reservation of {psbt}'s wallet inputs by {reserve} blocks (default 72).",
        |w, p| Box::pin(unreserveinputs(w, p)),
    )?;
    reg(
        d,
        &w,
        "signpsbt",
        &[ParamSpec::req("psbt"), ParamSpec::opt("signonly")],
        "Sign the wallet's inputs of {psbt}.",
        |w, p| Box::pin(signpsbt(w, p)),
    )?;
    reg(
        d,
        &w,
        "sendpsbt",
        &[ParamSpec::req("psbt"), ParamSpec::opt("reserve")],
        "Finalize a signed {psbt}, extract and broadcast it.",
        |w, p| Box::pin(sendpsbt(w, p)),
    )?;
    reg(
        d,
        &w,
        "feerates",
        &[ParamSpec::req("style")],
        "Feerates in {style} perkw or perkb.",
        |w, p| Box::pin(feerates(w, p)),
    )?;
    Ok(())
}

async fn newaddr(w: Arc<Wallet>, p: Params) -> Result<Value, RpcError> {
    let kind: String = p.get("addresstype")?.unwrap_or_else(|| "p2tr".into());
    let mut out = json!({});
    let kinds: &[(AddrKind, &str)] = match kind.as_str() {
        "p2tr" => &[(AddrKind::P2tr, "p2tr")],
        "bech32" => &[(AddrKind::P2wpkh, "bech32")],
        "all" => &[(AddrKind::P2tr, "p2tr"), (AddrKind::P2wpkh, "bech32")],
        other => {
            return Err(RpcError::invalid_param(
                "addresstype",
                format!("'{other}' is not p2tr, bech32 or all"),
            ));
        }
    };
    for (k, name) in kinds {
        let a = w.new_address(*k).await.map_err(wallet_err)?;
        out[*name] = json!(a.to_string());
    }
    Ok(out)
}

async fn listfunds(w: Arc<Wallet>, p: Params) -> Result<Value, RpcError> {
    let spent: bool = p.get("spent")?.unwrap_or(false);
    let (coins, tip) = w.list_coins(spent).await.map_err(wallet_err)?;
    let outputs: Vec<Value> = coins
        .iter()
        .map(|c| {
            let mut o = json!({
                "txid": c.outpoint.txid.to_string(),
                "output": c.outpoint.vout,
                "amount_msat": c.txout.value.to_sat() * 1000,
                "scriptpubkey": hex::encode(c.txout.script_pubkey.as_bytes()),
                "status": c.status(tip).as_str(),
                "reserved": c.reserved_to.is_some(),
            });
            if let Ok(a) = Address::from_script(&c.txout.script_pubkey, w.network()) {
                o["address"] = json!(a.to_string());
            }
            if let Some(h) = c.height {
                o["blockheight"] = json!(h);
            }
            if let Some(h) = c.reserved_to {
                o["reserved_to_block"] = json!(h);
            }
            o
        })
        .collect();
    Ok(json!({ "outputs": outputs, "channels": [] }))
}

async fn withdraw(w: Arc<Wallet>, p: Params) -> Result<Value, RpcError> {
    let dest: String = p.require("destination")?;
    let address = Address::from_str(&dest)
        .map_err(|e| RpcError::invalid_param("destination", format!("'{dest}': {e}")))?
        .require_network(w.network())
        .map_err(|_| {
            RpcError::invalid_param("destination", format!("'{dest}' is for another network"))
        })?;
    let amount = parse_sat("satoshi", &p.require::<Value>("satoshi")?)?;
    let perkw = feerate_param(&w, &p, FeerateSpec::Blocks(12)).await?;
    let minconf: u32 = p.get("minconf")?.unwrap_or(1);
    let utxos = parse_utxos(&p)?;
    let req = Request::Pay {
        script: address.script_pubkey(),
        amount,
    };
    // Reserved while signing and broadcasting, so a concurrent withdraw or
    // fundpsbt picks other coins; released again if the send fails.
    let mut funded = w
        .fund(req, perkw, utxos, minconf, false, DEFAULT_RESERVE_BLOCKS)
        .await
        .map_err(wallet_err)?;
    let inputs = psbt_outpoints(&funded.psbt);
    let sent = async {
        w.sign(&mut funded.psbt).await?;
        let mut psbt = funded.psbt;
        let tx = w.finalize(&mut psbt).await?;
        let txid = w.broadcast(tx.clone()).await?;
        Ok::<_, WalletError>((psbt, tx, txid))
    }
    .await;
    let (psbt, tx, txid) = match sent {
        Ok(done) => done,
        Err(e) => {
            if let Err(un) = w.unreserve(&inputs, DEFAULT_RESERVE_BLOCKS).await {
                tracing::warn!(error = %un, "releasing a failed withdraw's inputs");
            }
            return Err(wallet_err(e));
        }
    };
    Ok(json!({
        "tx": bitcoin::consensus::encode::serialize_hex(&tx),
        "txid": txid.to_string(),
        "psbt": psbt.to_string(),
    }))
}

async fn fundpsbt(w: Arc<Wallet>, p: Params, utxo_mode: bool) -> Result<Value, RpcError> {
    let amount = parse_sat("satoshi", &p.require::<Value>("satoshi")?)?;
    let perkw = feerate_param(&w, &p, FeerateSpec::Blocks(12)).await?;
    let startweight: u32 = p.require("startweight")?;
    let minconf: u32 = p.get("minconf")?.unwrap_or(1);
    let reserve: u32 = p.get("reserve")?.unwrap_or(DEFAULT_RESERVE_BLOCKS);
    let excess_as_change: bool = p.get("excess_as_change")?.unwrap_or(false);
    let min_witness_weight: u32 = p.get("min_witness_weight")?.unwrap_or(0);
    let reserved_ok: bool = if utxo_mode {
        p.get("reservedok")?.unwrap_or(false)
    } else {
        false
    };
    let utxos = if utxo_mode { parse_utxos(&p)? } else { None };
    let req = Request::Inputs {
        amount,
        startweight: u64::from(startweight),
        excess_as_change,
        min_witness_weight: u64::from(min_witness_weight),
    };
    let mut funded = w
        .fund(req, perkw, utxos, minconf, reserved_ok, reserve)
        .await
        .map_err(wallet_err)?;
    if let Some(lt) = p.get::<u32>("locktime")? {
        funded.psbt.unsigned_tx.lock_time = bitcoin::absolute::LockTime::from_consensus(lt);
    }
    let mut out = json!({
        "psbt": funded.psbt.to_string(),
        "feerate_per_kw": funded.feerate_perkw,
        "estimated_final_weight": funded.estimated_weight,
        "excess_msat": funded.excess_sat * 1000,
    });
    if let Some(n) = funded.change_outnum {
        out["change_outnum"] = json!(n);
    }
    if reserve > 0 {
        out["reservations"] = reservations_json(&funded.reservations);
    }
    Ok(out)
}

async fn reserveinputs(w: Arc<Wallet>, p: Params) -> Result<Value, RpcError> {
    let psbt = parse_psbt(&p)?;
    let exclusive: bool = p.get("exclusive")?.unwrap_or(true);
    let reserve: u32 = p.get("reserve")?.unwrap_or(DEFAULT_RESERVE_BLOCKS);
    let rs = w
        .reserve(&psbt_outpoints(&psbt), exclusive, reserve)
        .await
        .map_err(wallet_err)?;
    Ok(json!({ "reservations": reservations_json(&rs) }))
}

async fn unreserveinputs(w: Arc<Wallet>, p: Params) -> Result<Value, RpcError> {
    let psbt = parse_psbt(&p)?;
    let reserve: u32 = p.get("reserve")?.unwrap_or(DEFAULT_RESERVE_BLOCKS);
    let rs = w
        .unreserve(&psbt_outpoints(&psbt), reserve)
        .await
        .map_err(wallet_err)?;
    Ok(json!({ "reservations": reservations_json(&rs) }))
}

async fn signpsbt(w: Arc<Wallet>, p: Params) -> Result<Value, RpcError> {
    let mut psbt = parse_psbt(&p)?;
    if p.get::<Vec<u32>>("signonly")?.is_some() {
        return Err(RpcError::invalid_param(
            "signonly",
            "not supported yet: every wallet input is signed",
        ));
    }
    let n = w.sign(&mut psbt).await.map_err(wallet_err)?;
    if n == 0 {
        return Err(RpcError::new(
            error_codes::WALLET_ERROR,
            "No wallet inputs to sign",
        ));
    }
    Ok(json!({ "signed_psbt": psbt.to_string() }))
}

async fn sendpsbt(w: Arc<Wallet>, p: Params) -> Result<Value, RpcError> {
    let mut psbt = parse_psbt(&p)?;
    let tx = w.finalize(&mut psbt).await.map_err(wallet_err)?;
    let txid = w.broadcast(tx.clone()).await.map_err(wallet_err)?;
    Ok(json!({
        "tx": bitcoin::consensus::encode::serialize_hex(&tx),
        "txid": txid.to_string(),
    }))
}

/// Typical weights CLN uses for its on-chain fee estimates.
const OPENING_WEIGHT: u64 = 702;
const MUTUAL_CLOSE_WEIGHT: u64 = 673;
const UNILATERAL_CLOSE_WEIGHT: u64 = 1112;
const UNILATERAL_CLOSE_NONANCHOR_WEIGHT: u64 = 598;
const HTLC_TIMEOUT_WEIGHT: u64 = 663;
const HTLC_SUCCESS_WEIGHT: u64 = 703;

async fn feerates(w: Arc<Wallet>, p: Params) -> Result<Value, RpcError> {
    let style: String = p.require("style")?;
    let perkb = match style.as_str() {
        "perkw" => false,
        "perkb" => true,
        other => {
            return Err(RpcError::invalid_param(
                "style",
                format!("'{other}' is not perkw or perkb"),
            ));
        }
    };
    // 1000 weight units are 250 vbytes: per-kb is four times per-kw.
    let conv = |kw: u32| if perkb { kw.saturating_mul(4) } else { kw };
    let rate = |b: u16| {
        let w = w.clone();
        async move {
            w.feerate_perkw(FeerateSpec::Blocks(b))
                .await
                .map_err(wallet_err)
        }
    };
    let urgent = rate(6).await?;
    let normal = rate(12).await?;
    let slow = rate(100).await?;
    let two = rate(2).await?;
    let mut estimates = Vec::new();
    for (blocks, r) in [(2u32, two), (6, urgent), (12, normal), (100, slow)] {
        estimates
            .push(json!({"blockcount": blocks, "feerate": conv(r), "smoothed_feerate": conv(r)}));
    }
    let body = json!({
        "opening": conv(normal),
        "mutual_close": conv(slow),
        "unilateral_close": conv(urgent),
        "unilateral_anchor_close": conv(urgent),
        "penalty": conv(normal),
        "min_acceptable": conv(FEERATE_FLOOR_PERKW),
        "max_acceptable": conv(urgent.saturating_mul(10)),
        "floor": conv(FEERATE_FLOOR_PERKW),
        "estimates": estimates,
    });
    let est = |kw: u32, weight: u64| u64::from(kw) * weight / 1000;
    Ok(json!({
        style: body,
        "onchain_fee_estimates": {
            "opening_channel_satoshis": est(normal, OPENING_WEIGHT),
            "mutual_close_satoshis": est(slow, MUTUAL_CLOSE_WEIGHT),
            "unilateral_close_satoshis": est(urgent, UNILATERAL_CLOSE_WEIGHT),
            "unilateral_close_nonanchor_satoshis": est(urgent, UNILATERAL_CLOSE_NONANCHOR_WEIGHT),
            "htlc_timeout_satoshis": est(normal, HTLC_TIMEOUT_WEIGHT),
            "htlc_success_satoshis": est(normal, HTLC_SUCCESS_WEIGHT),
        }
    }))
}
