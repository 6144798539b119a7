//! Invoice methods in Core Lightning's shapes: `invoice`, `listinvoices`,
//! `delinvoice`, `waitinvoice`, `waitanyinvoice`, `decode` (BOLT 11), and on
//! regtest the test helper `dev-payinvoice`.

use std::sync::Arc;
use std::time::Duration;

use bitcoin::hashes::{Hash, sha256};
use lumen_sdk::amount::Msat;
use lumen_sdk::error_codes as codes;
use serde_json::{Value, json};

use super::{Dispatcher, Method, ParamSpec, Params, RpcError, blocking};
use crate::config::Network;
use crate::invoice::registry::NewInvoice;
use crate::invoice::{
    DEFAULT_EXPIRY_SECS, DEFAULT_MIN_FINAL_CLTV_EXPIRY_DELTA, InvoiceDescription, InvoiceRegistry,
    InvoiceRequest, InvoiceStatus, RegistryError, build_invoice, decode, unix_now,
};
use crate::signer::Signer;

/// What the invoice methods need.
#[derive(Clone)]
pub struct InvoiceContext {
    /// The registry.
    pub registry: Arc<InvoiceRegistry>,
    /// Signs invoices with the node key.
    pub signer: Arc<Signer>,
    /// The node's network (invoices and fallbacks use it).
    pub network: Network,
}

fn registry_error(e: RegistryError) -> RpcError {
    match &e {
        RegistryError::DuplicateLabel(_) => {
            RpcError::new(codes::INVOICE_LABEL_ALREADY_EXISTS, e.to_string())
        }
        RegistryError::DuplicatePaymentHash(_) => {
            RpcError::new(codes::INVOICE_PREIMAGE_ALREADY_EXISTS, e.to_string())
        }
        RegistryError::NotFound => RpcError::new(codes::INVOICE_NOT_FOUND, e.to_string()),
        RegistryError::StatusMismatch { current, expected } => RpcError {
            code: codes::INVOICE_STATUS_UNEXPECTED,
            message: e.to_string(),
            data: Some(json!({
                "current_status": current.as_str(),
                "expected_status": expected.as_str(),
            })),
        },
        RegistryError::NoDescription => RpcError::new(codes::INVOICE_NO_DESCRIPTION, e.to_string()),
        RegistryError::AlreadyPaid | RegistryError::Expired | RegistryError::Underpaid { .. } => {
            RpcError::new(codes::LIGHTNINGD, e.to_string())
        }
        RegistryError::Store(_) | RegistryError::Poisoned => RpcError::internal(e.to_string()),
    }
}

fn store_error(e: crate::store::StoreError) -> RpcError {
    RpcError::internal(e.to_string())
}

/// A label: a string, or a number taken as its JSON text (as CLN does).
fn label_param(p: &Params, name: &str) -> Result<Option<String>, RpcError> {
    match p.get::<Value>(name)? {
        None => Ok(None),
        Some(Value::String(s)) => Ok(Some(s)),
        Some(Value::Number(n)) => Ok(Some(n.to_string())),
        Some(other) => Err(RpcError::invalid_param(
            name,
            format!("must be a string or an integer, got {other}"),
        )),
    }
}

fn hash_param(p: &Params, name: &str) -> Result<Option<[u8; 32]>, RpcError> {
    let Some(s) = p.get::<String>(name)? else {
        return Ok(None);
    };
    hex::decode(&s)
        .ok()
        .and_then(|v| <[u8; 32]>::try_from(v).ok())
        .map(Some)
        .ok_or_else(|| RpcError::invalid_param(name, "must be 64 hex digits"))
}

/// `amount_msat`: `"any"` or an amount (number, or string with msat/sat/btc).
fn amount_param(p: &Params) -> Result<Option<u64>, RpcError> {
    let v: Value = p.require("amount_msat")?;
    if v.as_str() == Some("any") {
        return Ok(None);
    }
    let m: Msat = serde_json::from_value(v.clone()).map_err(|e| {
        RpcError::invalid_param("amount_msat", format!("{e} (or \"any\"), got {v}"))
    })?;
    if m.0 == 0 {
        return Err(RpcError::invalid_param(
            "amount_msat",
            "must be positive (or \"any\")",
        ));
    }
    Ok(Some(m.0))
}

fn fallbacks_param(p: &Params, network: Network) -> Result<Vec<bitcoin::Address>, RpcError> {
    let list: Vec<String> = p.get("fallbacks")?.unwrap_or_default();
    list.iter()
        .map(|s| {
            let a = s
                .parse::<bitcoin::Address<bitcoin::address::NetworkUnchecked>>()
                .map_err(|e| {
                    RpcError::invalid_param("fallbacks", format!("'{s}' is not an address: {e}"))
                })?
                .require_network(network.to_bitcoin())
                .map_err(|_| {
                    RpcError::invalid_param(
                        "fallbacks",
                        format!("'{s}' is not an address for {network}"),
                    )
                })?;
            if crate::invoice::create::fallback_for(&a).is_none() {
                return Err(RpcError::invalid_param(
                    "fallbacks",
                    format!("'{s}' has no BOLT 11 fallback form"),
                ));
            }
            Ok(a)
        })
        .collect()
}

async fn invoice(ctx: InvoiceContext, p: Params) -> Result<Value, RpcError> {
    let amount_msat = amount_param(&p)?;
    let label = label_param(&p, "label")?
        .ok_or_else(|| RpcError::invalid_param("label", "missing required parameter"))?;
    let description = match p.get::<Value>("description")? {
        Some(Value::String(s)) => s,
        Some(Value::Number(n)) => n.to_string(),
        _ => return Err(RpcError::invalid_param("description", "must be a string")),
    };
    let expiry: u64 = p.get("expiry")?.unwrap_or(DEFAULT_EXPIRY_SECS);
    let fallbacks = fallbacks_param(&p, ctx.network)?;
    let preimage = match hash_param(&p, "preimage")? {
        Some(pre) => pre,
        None => crate::invoice::random_32()
            .map_err(|e| RpcError::internal(format!("no randomness: {e}")))?,
    };
    // No private channels exist yet: `true`/`false` change nothing, and any
    // named channel cannot be used.
    match p.get::<Value>("exposeprivatechannels")? {
        None | Some(Value::Bool(_)) => {}
        Some(Value::Array(a)) if a.is_empty() => {}
        Some(Value::Array(_)) | Some(Value::String(_)) => {
            return Err(RpcError::new(
                codes::INVOICE_HINTS_GAVE_NO_ROUTES,
                "None of the specified exposeprivatechannels were usable (this node has no private channels)",
            ));
        }
        Some(other) => {
            return Err(RpcError::invalid_param(
                "exposeprivatechannels",
                format!("must be a boolean or an array of short channel ids, got {other}"),
            ));
        }
    }
    let cltv: u64 = p
        .get("cltv")?
        .unwrap_or(DEFAULT_MIN_FINAL_CLTV_EXPIRY_DELTA);
    if cltv > u64::from(u16::MAX) {
        return Err(RpcError::invalid_param("cltv", "must be at most 65535"));
    }
    let deschashonly: bool = p.get("deschashonly")?.unwrap_or(false);
    let payment_hash = sha256::Hash::hash(&preimage).to_byte_array();
    if ctx
        .registry
        .get_by_hash(&payment_hash)
        .map_err(store_error)?
        .is_some()
    {
        return Err(RpcError::new(
            codes::INVOICE_PREIMAGE_ALREADY_EXISTS,
            "preimage already used",
        ));
    }
    if ctx
        .registry
        .get_by_label(&label)
        .map_err(store_error)?
        .is_some()
    {
        return Err(RpcError::new(
            codes::INVOICE_LABEL_ALREADY_EXISTS,
            format!("Duplicate label '{label}'"),
        ));
    }
    let payment_secret = crate::invoice::random_32()
        .map_err(|e| RpcError::internal(format!("no randomness: {e}")))?;
    let now = unix_now();
    let req = InvoiceRequest {
        currency: lightning_invoice::Currency::from(ctx.network.to_bitcoin()),
        amount_msat,
        description: if deschashonly {
            InvoiceDescription::Hash(sha256::Hash::hash(description.as_bytes()).to_byte_array())
        } else {
            InvoiceDescription::Text(description.clone())
        },
        expiry_secs: expiry,
        min_final_cltv_expiry_delta: cltv,
        payment_hash,
        payment_secret,
        fallbacks,
        route_hints: Vec::new(),
        payment_metadata: None,
        timestamp: now,
    };
    let signer = ctx.signer.clone();
    let inv = build_invoice(&req, |m| {
        signer.sign_recoverable_with_node_key(m.as_ref().to_owned())
    })
    .map_err(|e| match e {
        crate::invoice::CreateError::DescriptionTooLong(_) => {
            RpcError::invalid_param("description", e)
        }
        crate::invoice::CreateError::ExpiryTooLarge(_) => RpcError::invalid_param("expiry", e),
        crate::invoice::CreateError::BadAmount(_) => RpcError::invalid_param("amount_msat", e),
        other => RpcError::internal(other.to_string()),
    })?;
    let expires_at = now.saturating_add(expiry);
    let registry = ctx.registry.clone();
    let new = NewInvoice {
        label,
        bolt11: inv.to_string(),
        payment_hash,
        preimage,
        payment_secret,
        amount_msat,
        description: Some(description),
        created_at: now,
        expires_at,
    };
    let rec = blocking(move || registry.add(new).map_err(registry_error)).await?;
    Ok(json!({
        "bolt11": rec.bolt11,
        "payment_hash": rec.payment_hash,
        "payment_secret": rec.payment_secret,
        "expires_at": rec.expires_at,
        "created_index": rec.created_index,
        // True until channels exist: nothing can pay in.
        "warning_capacity": "Insufficient incoming channel capacity to pay invoice",
    }))
}

fn listinvoices(ctx: &InvoiceContext, p: &Params) -> Result<Value, RpcError> {
    let label = label_param(p, "label")?;
    let invstring: Option<String> = p.get("invstring")?;
    let hash = hash_param(p, "payment_hash")?;
    if p.get::<Value>("offer_id")?.is_some() {
        return Err(RpcError::invalid_param(
            "offer_id",
            "BOLT 12 offers are not supported yet",
        ));
    }
    let given = [label.is_some(), invstring.is_some(), hash.is_some()]
        .iter()
        .filter(|g| **g)
        .count();
    if given > 1 {
        return Err(RpcError::new(
            codes::INVALID_PARAMS,
            "Can only specify one of {label}, {invstring}, {payment_hash} or {offer_id}",
        ));
    }
    let index: Option<String> = p.get("index")?;
    let start: Option<u64> = p.get("start")?;
    let limit: Option<u32> = p.get("limit")?;
    if index.is_none() && (start.is_some() || limit.is_some()) {
        return Err(RpcError::invalid_param(
            "index",
            "required with start or limit",
        ));
    }
    let reg = &ctx.registry;
    let mut records = if let Some(l) = label {
        reg.get_by_label(&l)
            .map_err(store_error)?
            .into_iter()
            .collect()
    } else if let Some(h) = hash {
        reg.get_by_hash(&h)
            .map_err(store_error)?
            .into_iter()
            .collect()
    } else if let Some(s) = invstring {
        let d = decode(&s).map_err(|e| RpcError::invalid_param("invstring", e))?;
        let h = d.invoice.payment_hash().to_byte_array();
        reg.get_by_hash(&h)
            .map_err(store_error)?
            .into_iter()
            .filter(|r| r.bolt11 == d.invoice.to_string())
            .collect()
    } else {
        reg.list().map_err(store_error)?
    };
    match index.as_deref() {
        None | Some("created") => {
            if let Some(s) = start {
                records.retain(|r| r.created_index >= s);
            }
        }
        Some("updated") => {
            records.retain(|r| r.updated_index.is_some_and(|u| u >= start.unwrap_or(0)));
            records.sort_by_key(|r| r.updated_index);
        }
        Some(other) => {
            return Err(RpcError::invalid_param(
                "index",
                format!("must be \"created\" or \"updated\", got {other:?}"),
            ));
        }
    }
    if let Some(l) = limit {
        records.truncate(l as usize);
    }
    let now = unix_now();
    Ok(json!({
        "invoices": records.iter().map(|r| r.to_cln_json(now)).collect::<Vec<_>>()
    }))
}

async fn waitinvoice(ctx: InvoiceContext, p: Params) -> Result<Value, RpcError> {
    let label = label_param(&p, "label")?
        .ok_or_else(|| RpcError::invalid_param("label", "missing required parameter"))?;
    loop {
        let mut changes = ctx.registry.subscribe();
        if ctx.registry.is_closed() {
            return Err(RpcError::shutting_down());
        }
        let rec = ctx
            .registry
            .get_by_label(&label)
            .map_err(store_error)?
            .ok_or_else(|| RpcError::new(codes::LIGHTNINGD, "Unknown invoice (or deleted)"))?;
        let now = unix_now();
        match rec.status(now) {
            InvoiceStatus::Paid => return Ok(rec.to_cln_json(now)),
            InvoiceStatus::Expired => {
                return Err(RpcError {
                    code: codes::INVOICE_EXPIRED_DURING_WAIT,
                    message: "invoice expired during wait".into(),
                    data: Some(rec.to_cln_json(now)),
                });
            }
            InvoiceStatus::Unpaid => {
                let left = Duration::from_secs(rec.expires_at.saturating_sub(now));
                tokio::select! {
                    r = changes.changed() => {
                        if r.is_err() {
                            return Err(RpcError::internal("invoice registry closed"));
                        }
                    }
                    // Expiry is on whole seconds; a little slack avoids a
                    // busy loop at the boundary.
                    _ = tokio::time::sleep(left + Duration::from_millis(50)) => {}
                }
            }
        }
    }
}

async fn waitanyinvoice(ctx: InvoiceContext, p: Params) -> Result<Value, RpcError> {
    let last: u64 = p.get::<i64>("lastpay_index")?.map_or(Ok(0), |v| {
        u64::try_from(v)
            .map_err(|_| RpcError::invalid_param("lastpay_index", "must not be negative"))
    })?;
    let timeout: Option<u64> = p.get("timeout")?;
    let deadline = timeout.map(|t| tokio::time::Instant::now() + Duration::from_secs(t));
    loop {
        let mut changes = ctx.registry.subscribe();
        if ctx.registry.is_closed() {
            return Err(RpcError::shutting_down());
        }
        let registry = ctx.registry.clone();
        let found = blocking(move || registry.first_paid_after(last).map_err(store_error)).await?;
        if let Some(rec) = found {
            return Ok(rec.to_cln_json(unix_now()));
        }
        let timed_out = || RpcError::new(codes::INVOICE_WAIT_TIMED_OUT, "Timed out");
        match deadline {
            Some(d) if tokio::time::Instant::now() >= d => return Err(timed_out()),
            Some(d) => {
                tokio::select! {
                    r = changes.changed() => {
                        if r.is_err() {
                            return Err(RpcError::internal("invoice registry closed"));
                        }
                    }
                    _ = tokio::time::sleep_until(d) => return Err(timed_out()),
                }
            }
            None => {
                if changes.changed().await.is_err() {
                    return Err(RpcError::internal("invoice registry closed"));
                }
            }
        }
    }
}

async fn delinvoice(ctx: InvoiceContext, p: Params) -> Result<Value, RpcError> {
    let label = label_param(&p, "label")?
        .ok_or_else(|| RpcError::invalid_param("label", "missing required parameter"))?;
    let status: String = p.require("status")?;
    let expected: InvoiceStatus = status
        .parse()
        .map_err(|e: String| RpcError::invalid_param("status", e))?;
    let desconly: bool = p.get("desconly")?.unwrap_or(false);
    let now = unix_now();
    let registry = ctx.registry.clone();
    let rec = blocking(move || {
        registry
            .delete(&label, expected, desconly, now)
            .map_err(registry_error)
    })
    .await?;
    // The invoice as it was (with desconly: as it is now).
    let mut out = rec.to_cln_json(now);
    if desconly && let Some(o) = out.as_object_mut() {
        o.remove("description");
    }
    Ok(out)
}

/// Register the invoice methods (and `dev-payinvoice` on regtest).
pub fn register(dispatcher: &Dispatcher, ctx: InvoiceContext) -> Result<(), String> {
    let c = ctx.clone();
    dispatcher.register(Method::new(
        "invoice",
        &[
            ParamSpec::req("amount_msat"),
            ParamSpec::req("label"),
            ParamSpec::req("description"),
            ParamSpec::opt("expiry"),
            ParamSpec::opt("fallbacks"),
            ParamSpec::opt("preimage"),
            ParamSpec::opt("exposeprivatechannels"),
            ParamSpec::opt("cltv"),
            ParamSpec::opt("deschashonly"),
        ],
        "Create a BOLT 11 invoice for {amount_msat} (or \"any\") with a unique {label} and {description}; default expiry one week.",
        move |p| invoice(c.clone(), p),
    ))?;
    let c = ctx.clone();
    dispatcher.register(Method::new(
        "listinvoices",
        &[
            ParamSpec::opt("label"),
            ParamSpec::opt("invstring"),
            ParamSpec::opt("payment_hash"),
            ParamSpec::opt("offer_id"),
            ParamSpec::opt("index"),
            ParamSpec::opt("start"),
            ParamSpec::opt("limit"),
        ],
        "List invoices (or the one matching {label}, {invstring} or {payment_hash}).",
        move |p| {
            let c = c.clone();
            async move { blocking(move || listinvoices(&c, &p)).await }
        },
    ))?;
    let c = ctx.clone();
    dispatcher.register(Method::new(
        "delinvoice",
        &[
            ParamSpec::req("label"),
            ParamSpec::req("status"),
            ParamSpec::opt("desconly"),
        ],
        "Delete the invoice {label} if its status is {status} (or with {desconly} only its description).",
        move |p| delinvoice(c.clone(), p),
    ))?;
    let c = ctx.clone();
    dispatcher.register(Method::new(
        "waitinvoice",
        &[ParamSpec::req("label")],
        "Wait until the invoice {label} is paid (error 903 if it expires first).",
        move |p| waitinvoice(c.clone(), p),
    ))?;
    let c = ctx.clone();
    dispatcher.register(Method::new(
        "waitanyinvoice",
        &[ParamSpec::opt("lastpay_index"), ParamSpec::opt("timeout")],
        "Wait for the next invoice paid after {lastpay_index}, at most {timeout} seconds.",
        move |p| waitanyinvoice(c.clone(), p),
    ))?;
    dispatcher.register(Method::new(
        "decode",
        &[ParamSpec::req("string")],
        "Decode and check a BOLT 11 invoice {string}.",
        |p| async move {
            let s: String = p.require("string")?;
            let d = decode(s.trim()).map_err(|e| RpcError {
                code: codes::INVALID_PARAMS,
                message: format!("Invalid bolt11: {e}"),
                data: Some(json!({ "param": "string", "reason": e.reason() })),
            })?;
            Ok(d.to_cln_json())
        },
    ))?;
    if ctx.network == Network::Regtest {
        register_dev_pay(dispatcher, ctx)?;
    }
    Ok(())
}

/// `dev-payinvoice label [amount_msat]`: a regtest-only TEST HELPER that
/// marks an invoice paid as if its HTLCs had arrived (no channel, no money
/// moves), through the same `mark_paid` path the HTLC code will use. It lets
/// tests drive `waitinvoice`/`waitanyinvoice` through the daemon.
fn register_dev_pay(dispatcher: &Dispatcher, ctx: InvoiceContext) -> Result<(), String> {
    dispatcher.register(Method::new(
        "dev-payinvoice",
        &[ParamSpec::req("label"), ParamSpec::opt("amount_msat")],
        "Regtest test helper: mark invoice {label} paid with {amount_msat} (default: its amount) without any HTLC.",
        move |p| {
            let ctx = ctx.clone();
            async move {
                let label = label_param(&p, "label")?
                    .ok_or_else(|| RpcError::invalid_param("label", "missing required parameter"))?;
                let amount: Option<Msat> = p.get("amount_msat")?;
                let rec = ctx
                    .registry
                    .get_by_label(&label)
                    .map_err(store_error)?
                    .ok_or_else(|| RpcError::new(codes::INVOICE_NOT_FOUND, "Unknown invoice"))?;
                let amount = match (amount, rec.amount_msat) {
                    (Some(a), _) => a.0,
                    (None, Some(a)) => a,
                    (None, None) => {
                        return Err(RpcError::invalid_param(
                            "amount_msat",
                            "required for an \"any\" invoice",
                        ));
                    }
                };
                let hash: [u8; 32] = hex::decode(&rec.payment_hash)
                    .ok()
                    .and_then(|v| v.try_into().ok())
                    .ok_or_else(|| RpcError::internal("stored payment_hash is not 32 bytes"))?;
                let registry = ctx.registry.clone();
                let paid =
                    blocking(move || registry.mark_paid(&hash, amount, unix_now()).map_err(registry_error)).await?;
                Ok(paid.to_cln_json(unix_now()))
            }
        },
    ))
}
