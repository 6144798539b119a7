//! Building and signing a BOLT 11 invoice (pure: the signature comes from a
//! closure, so the node key stays in the signer).

use std::time::Duration;

use bitcoin::hashes::{Hash, sha256};
use bitcoin::secp256k1::Message;
use bitcoin::secp256k1::ecdsa::RecoverableSignature;
use lightning_invoice::{
    Bolt11Invoice, Bolt11InvoiceDescription, Currency, Description, Fallback, InvoiceBuilder,
    PaymentSecret, RouteHint, Sha256,
};

/// What the invoice says the payment is for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum InvoiceDescription {
    /// A `d` field: the text itself (at most 639 bytes of UTF-8).
    Text(String),
    /// An `h` field: SHA-256 of a description given out of band.
    Hash([u8; 32]),
}

/// Everything an invoice carries, decided by the caller.
#[derive(Debug, Clone)]
pub struct InvoiceRequest {
    /// Network of the invoice.
    pub currency: Currency,
    /// Amount asked for; `None` lets the payer choose.
    pub amount_msat: Option<u64>,
    /// Description or its hash.
    pub description: InvoiceDescription,
    /// Seconds after `timestamp` the invoice stays payable.
    pub expiry_secs: u64,
    /// `min_final_cltv_expiry_delta` (the `c` field), in blocks.
    pub min_final_cltv_expiry_delta: u64,
    /// SHA-256 of the preimage.
    pub payment_hash: [u8; 32],
    /// The `s` field the payer puts in the final onion payload.
    pub payment_secret: [u8; 32],
    /// On-chain fallback addresses, most preferred first (network-checked
    /// by the caller).
    pub fallbacks: Vec<bitcoin::Address>,
    /// Private route hints (`r` fields).
    pub route_hints: Vec<RouteHint>,
    /// Optional `m` field echoed back in the payer's onion.
    pub payment_metadata: Option<Vec<u8>>,
    /// Creation time, seconds since the Unix epoch.
    pub timestamp: u64,
}

/// Why an invoice could not be built.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CreateError {
    /// The amount is zero or too large to encode.
    #[error("amount must be between 1 msat and 21 million bitcoin, got {0} msat")]
    BadAmount(u64),
    /// The description does not fit in a `d` field.
    #[error("description is {0} bytes; BOLT 11 allows at most 639")]
    DescriptionTooLong(usize),
    /// `timestamp + expiry` does not fit.
    #[error("expiry of {0} seconds is too large")]
    ExpiryTooLarge(u64),
    /// A route hint has too many hops for one `r` field.
    #[error("a route hint has too many hops (at most 12 fit in one r field)")]
    RouteTooLong,
    /// Any other encoding limit.
    #[error("cannot encode the invoice: {0}")]
    Encoding(String),
}

/// Largest amount: 21 million bitcoin.
const MAX_AMOUNT_MSAT: u64 = 21_000_000 * 100_000_000 * 1000;
/// Largest `d` field.
const MAX_DESCRIPTION_LEN: usize = 639;

/// The `f` field for an address.
pub fn fallback_for(address: &bitcoin::Address) -> Option<Fallback> {
    use bitcoin::address::AddressData;
    match address.to_address_data() {
        AddressData::P2pkh { pubkey_hash } => Some(Fallback::PubKeyHash(pubkey_hash)),
        AddressData::P2sh { script_hash } => Some(Fallback::ScriptHash(script_hash)),
        AddressData::Segwit { witness_program } => Some(Fallback::SegWitProgram {
            version: witness_program.version(),
            program: witness_program.program().as_bytes().to_vec(),
        }),
        _ => None,
    }
}

/// Build the invoice and sign it with `sign` (which must return a recoverable
/// signature of the digest by the node key).
pub fn build_invoice(
    req: &InvoiceRequest,
    sign: impl FnOnce(&Message) -> RecoverableSignature,
) -> Result<Bolt11Invoice, CreateError> {
    if let Some(a) = req.amount_msat
        && (a == 0 || a > MAX_AMOUNT_MSAT)
    {
        return Err(CreateError::BadAmount(a));
    }
    if req.timestamp.checked_add(req.expiry_secs).is_none() || req.expiry_secs > u64::from(u32::MAX)
    {
        return Err(CreateError::ExpiryTooLarge(req.expiry_secs));
    }
    let description = match &req.description {
        InvoiceDescription::Text(t) => {
            if t.len() > MAX_DESCRIPTION_LEN {
                return Err(CreateError::DescriptionTooLong(t.len()));
            }
            Bolt11InvoiceDescription::Direct(
                Description::new(t.clone()).map_err(|e| CreateError::Encoding(e.to_string()))?,
            )
        }
        InvoiceDescription::Hash(h) => {
            Bolt11InvoiceDescription::Hash(Sha256(sha256::Hash::from_byte_array(*h)))
        }
    };
    if req.route_hints.iter().any(|r| r.0.len() > 12) {
        return Err(CreateError::RouteTooLong);
    }
    let mut builder = InvoiceBuilder::new(req.currency.clone())
        .invoice_description(description)
        .payment_hash(sha256::Hash::from_byte_array(req.payment_hash))
        .duration_since_epoch(Duration::from_secs(req.timestamp))
        .min_final_cltv_expiry_delta(req.min_final_cltv_expiry_delta)
        .payment_secret(PaymentSecret(req.payment_secret))
        .basic_mpp()
        .expiry_time(Duration::from_secs(req.expiry_secs));
    if let Some(a) = req.amount_msat {
        builder = builder.amount_milli_satoshis(a);
    }
    for address in &req.fallbacks {
        let f = fallback_for(address).ok_or_else(|| {
            CreateError::Encoding(format!("address {address} has no BOLT 11 fallback form"))
        })?;
        builder = builder.fallback(f);
    }
    for hint in &req.route_hints {
        builder = builder.private_route(hint.clone());
    }
    let built = match &req.payment_metadata {
        Some(m) => builder.payment_metadata(m.clone()).build_signed(sign),
        None => builder.build_signed(sign),
    };
    built.map_err(|e| CreateError::Encoding(e.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use bitcoin::secp256k1::{Secp256k1, SecretKey};

    fn request() -> InvoiceRequest {
        InvoiceRequest {
            currency: Currency::Regtest,
            amount_msat: Some(1_000),
            description: InvoiceDescription::Text("coffee".into()),
            expiry_secs: 60,
            min_final_cltv_expiry_delta: 18,
            payment_hash: [7; 32],
            payment_secret: [9; 32],
            fallbacks: vec![],
            route_hints: vec![],
            payment_metadata: None,
            timestamp: 1_700_000_000,
        }
    }

    fn signer(key: SecretKey) -> impl FnOnce(&Message) -> RecoverableSignature {
        move |m| Secp256k1::new().sign_ecdsa_recoverable(m, &key)
    }

    #[test]
    fn builds_and_decodes_back() {
        let key = SecretKey::from_slice(&[3; 32]).expect("key");
        let inv = build_invoice(&request(), signer(key)).expect("build");
        let text = inv.to_string();
        assert!(text.starts_with("lnbcrt10n1"), "{text}");
        let d = crate::invoice::decode(&text).expect("decode");
        assert_eq!(
            d.payee,
            bitcoin::secp256k1::PublicKey::from_secret_key(&Secp256k1::new(), &key)
        );
        assert_eq!(d.invoice.amount_milli_satoshis(), Some(1000));
        let f = d.invoice.features().expect("features");
        assert!(f.requires_payment_secret() && f.supports_basic_mpp());
        // What plugins are told our invoices carry is what they carry.
        assert_eq!(
            crate::wire::Features::from_be_bytes(
                &f.le_flags().iter().rev().copied().collect::<Vec<u8>>()
            ),
            crate::invoice::our_features()
        );
    }

    #[test]
    fn refuses_bad_inputs() {
        let key = SecretKey::from_slice(&[3; 32]).expect("key");
        let mut r = request();
        r.amount_msat = Some(0);
        assert_eq!(
            build_invoice(&r, signer(key)).expect_err("zero"),
            CreateError::BadAmount(0)
        );
        let mut r = request();
        r.description = InvoiceDescription::Text("x".repeat(640));
        assert_eq!(
            build_invoice(&r, signer(key)).expect_err("long"),
            CreateError::DescriptionTooLong(640)
        );
        let mut r = request();
        r.expiry_secs = u64::MAX;
        assert!(matches!(
            build_invoice(&r, signer(key)),
            Err(CreateError::ExpiryTooLarge(_))
        ));
    }
}
