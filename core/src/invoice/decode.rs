//! Decoding and checking a BOLT 11 invoice string (pure).
//!
//! `lightning-invoice` parses the bech32 and checks field counts, features,
//! the signature and the amount. On top of it we apply the reader rules of
//! the current BOLT 11 text that it does not:
//!
//! - a `p`, `h`, `s` or `n` field of the wrong length makes the invoice fail
//!   (bolts PR #1243, 2025; older text said to skip such fields, which is why
//!   the spec's `features_8_14_99_with_ignorable_fields` example is listed
//!   as valid — we follow the newer rule and reject it);
//! - an even (required) feature bit we do not know makes it fail, and the
//!   error names the bits.
//!
//! Every failure has a stable [`DecodeError::reason`] code. Bad input is an
//! error, never a panic.

use bech32::Fe32;
use bech32::primitives::decode::{
    CharError, CheckedHrpstringError, ChecksumError, UncheckedHrpstringError,
};
use bitcoin::secp256k1::ecdsa::RecoverableSignature;
use bitcoin::secp256k1::{Message, PublicKey, Secp256k1, VerifyOnly};
use lightning_invoice::{
    Bolt11Invoice, Bolt11InvoiceDescriptionRef, Bolt11ParseError, Bolt11SemanticError, Fallback,
    RawTaggedField, SignedRawBolt11Invoice,
};
use serde_json::{Map, Value, json};

use crate::wire::ShortChannelId;

/// Longest string we try to decode (lightning-invoice's own bech32 limit).
pub const MAX_INVOICE_LEN: usize = 7089;

/// Feature bits of the `9` field we understand (BOLT 9, context `9`):
/// var_onion_optin (8/9), payment_secret (14/15), basic_mpp (16/17),
/// option_payment_metadata (48/49). A set even bit outside this list fails.
const KNOWN_FEATURE_BITS: &[usize] = &[8, 9, 14, 15, 16, 17, 48, 49];

/// A checked invoice.
#[derive(Debug, Clone)]
pub struct DecodedInvoice {
    /// The parsed invoice.
    pub invoice: Bolt11Invoice,
    /// The payee: the `n` field if present, else the key recovered from the
    /// signature.
    pub payee: PublicKey,
    /// Whether the payee came from an `n` field.
    pub payee_explicit: bool,
    /// Fields we skipped (unknown tags, unknown fallback versions): tag
    /// letter and bech32 data.
    pub extra: Vec<(char, String)>,
    /// The signature as transmitted (not normalised).
    pub signature: RecoverableSignature,
    /// SHA-256 of the signed data (hrp bytes || data part).
    pub signing_hash: [u8; 32],
}

/// Why an invoice string was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DecodeError {
    /// No `1` separating the human-readable part from the data.
    #[error("no '1' separator between prefix and data")]
    MissingSeparator,
    /// Upper and lower case mixed.
    #[error("mixes upper and lower case")]
    MixedCase,
    /// A character outside the bech32 alphabet.
    #[error("invalid character {0:?}")]
    InvalidCharacter(char),
    /// The bech32 checksum does not match.
    #[error("invalid bech32 checksum")]
    InvalidChecksum,
    /// Longer than any invoice can be.
    #[error("longer than {MAX_INVOICE_LEN} characters")]
    TooLong,
    /// The data part cannot hold a timestamp and a signature.
    #[error("data part too short")]
    TooShort,
    /// The prefix is not `ln` + a known currency.
    #[error("unknown currency prefix")]
    UnknownCurrency,
    /// The amount's multiplier is not one of m, u, n, p.
    #[error("invalid amount multiplier")]
    InvalidMultiplier,
    /// The human-readable part does not parse.
    #[error("malformed prefix: {0}")]
    MalformedPrefix(String),
    /// A `p` amount that is not a whole number of millisatoshis.
    #[error("amount is not a whole number of millisatoshis")]
    SubMillisatoshiAmount,
    /// A fixed-length field (`p`, `h`, `s`, `n`) with the wrong length.
    #[error("field '{tag}' has data length {len}, expected {expected}")]
    WrongLengthField {
        /// Field letter.
        tag: char,
        /// Its length in 5-bit groups.
        len: usize,
        /// The length BOLT 11 requires.
        expected: usize,
    },
    /// A mandatory field is missing.
    #[error("missing {0}")]
    MissingField(&'static str),
    /// A field that must appear once appears more often.
    #[error("more than one {0}")]
    DuplicateField(&'static str),
    /// No `s` field.
    #[error("missing payment secret (s field)")]
    MissingPaymentSecret,
    /// Required feature bits we do not know.
    #[error("unknown required feature bits {0:?}")]
    UnknownRequiredFeature(Vec<usize>),
    /// Features field absent or without payment_secret.
    #[error("features must include payment_secret")]
    BadFeatures,
    /// No public key can be recovered from the signature.
    #[error("signature is not recoverable")]
    UnrecoverableSignature,
    /// The signature does not verify against the `n` field (including a
    /// high-S signature, which BOLT 11 forbids with `n`).
    #[error("signature does not verify for the payee in the n field")]
    InvalidSignature,
    /// A field's content does not parse.
    #[error("malformed field: {0}")]
    Malformed(String),
}

impl DecodeError {
    /// A stable machine-readable code for the failure.
    pub fn reason(&self) -> &'static str {
        match self {
            DecodeError::MissingSeparator => "missing_separator",
            DecodeError::MixedCase => "mixed_case",
            DecodeError::InvalidCharacter(_) => "invalid_character",
            DecodeError::InvalidChecksum => "invalid_checksum",
            DecodeError::TooLong => "too_long",
            DecodeError::TooShort => "too_short",
            DecodeError::UnknownCurrency => "unknown_currency",
            DecodeError::InvalidMultiplier => "invalid_multiplier",
            DecodeError::MalformedPrefix(_) => "malformed_prefix",
            DecodeError::SubMillisatoshiAmount => "sub_millisatoshi_amount",
            DecodeError::WrongLengthField { .. } => "wrong_length_field",
            DecodeError::MissingField(_) => "missing_field",
            DecodeError::DuplicateField(_) => "duplicate_field",
            DecodeError::MissingPaymentSecret => "missing_payment_secret",
            DecodeError::UnknownRequiredFeature(_) => "unknown_required_feature",
            DecodeError::BadFeatures => "bad_features",
            DecodeError::UnrecoverableSignature => "unrecoverable_signature",
            DecodeError::InvalidSignature => "invalid_signature",
            DecodeError::Malformed(_) => "malformed_field",
        }
    }
}

fn from_bech32(e: &CheckedHrpstringError) -> DecodeError {
    use bech32::primitives::hrp::Error as HrpError;
    match e {
        CheckedHrpstringError::Parse(UncheckedHrpstringError::Char(c)) => match c {
            CharError::MissingSeparator => DecodeError::MissingSeparator,
            CharError::NothingAfterSeparator => DecodeError::TooShort,
            CharError::MixedCase => DecodeError::MixedCase,
            CharError::InvalidChar(ch) => DecodeError::InvalidCharacter(*ch),
            other => DecodeError::Malformed(other.to_string()),
        },
        CheckedHrpstringError::Parse(UncheckedHrpstringError::Hrp(h)) => match h {
            HrpError::MixedCase => DecodeError::MixedCase,
            other => DecodeError::MalformedPrefix(other.to_string()),
        },
        CheckedHrpstringError::Checksum(ChecksumError::CodeLength(_)) => DecodeError::TooLong,
        CheckedHrpstringError::Checksum(_) => DecodeError::InvalidChecksum,
        other => DecodeError::Malformed(other.to_string()),
    }
}

fn from_parse(e: Bolt11ParseError) -> DecodeError {
    match e {
        Bolt11ParseError::Bech32Error(b) => from_bech32(&b),
        Bolt11ParseError::BadPrefix | Bolt11ParseError::UnknownCurrency => {
            DecodeError::UnknownCurrency
        }
        Bolt11ParseError::UnknownSiPrefix => DecodeError::InvalidMultiplier,
        Bolt11ParseError::MalformedHRP => DecodeError::MalformedPrefix("bad prefix".into()),
        Bolt11ParseError::ParseAmountError(e) => DecodeError::MalformedPrefix(e.to_string()),
        Bolt11ParseError::IntegerOverflowError => {
            DecodeError::MalformedPrefix("amount overflows".into())
        }
        Bolt11ParseError::TooShortDataPart => DecodeError::TooShort,
        Bolt11ParseError::MalformedSignature(_) => DecodeError::UnrecoverableSignature,
        other => DecodeError::Malformed(other.to_string()),
    }
}

fn from_semantic(e: Bolt11SemanticError, has_n_field: bool) -> DecodeError {
    match e {
        Bolt11SemanticError::NoPaymentHash => DecodeError::MissingField("payment hash (p field)"),
        Bolt11SemanticError::MultiplePaymentHashes => {
            DecodeError::DuplicateField("payment hash (p field)")
        }
        Bolt11SemanticError::NoDescription => {
            DecodeError::MissingField("description (d or h field)")
        }
        Bolt11SemanticError::MultipleDescriptions => {
            DecodeError::DuplicateField("description (d or h field)")
        }
        Bolt11SemanticError::NoPaymentSecret => DecodeError::MissingPaymentSecret,
        Bolt11SemanticError::MultiplePaymentSecrets => {
            DecodeError::DuplicateField("payment secret (s field)")
        }
        Bolt11SemanticError::InvalidFeatures => DecodeError::BadFeatures,
        Bolt11SemanticError::InvalidSignature if has_n_field => DecodeError::InvalidSignature,
        Bolt11SemanticError::InvalidSignature => DecodeError::UnrecoverableSignature,
        Bolt11SemanticError::ImpreciseAmount => DecodeError::SubMillisatoshiAmount,
    }
}

/// Required length of fixed-size fields, in 5-bit groups.
fn fixed_len(tag: char) -> Option<usize> {
    match tag {
        'p' | 'h' | 's' => Some(52),
        'n' => Some(53),
        _ => None,
    }
}

fn bech32_text(groups: &[Fe32]) -> String {
    groups.iter().map(|g| g.to_char()).collect()
}

/// Set bits of a little-endian feature bitfield.
fn set_bits(le: &[u8]) -> Vec<usize> {
    let mut out = Vec::new();
    for (i, byte) in le.iter().enumerate() {
        for b in 0..8 {
            if byte & (1 << b) != 0 {
                out.push(i * 8 + b);
            }
        }
    }
    out
}

/// A verification context made once (creating one costs tens of µs).
static SECP: std::sync::LazyLock<Secp256k1<VerifyOnly>> =
    std::sync::LazyLock::new(Secp256k1::verification_only);

/// The payee: with an `n` field, the signature must verify for it (ECDSA
/// verification refuses a high-S signature, as BOLT 11 requires there);
/// without, it is the key recovered from the signature as transmitted.
fn check_signature(
    sig: &RecoverableSignature,
    digest: [u8; 32],
    explicit: Option<PublicKey>,
) -> Result<PublicKey, DecodeError> {
    let msg = Message::from_digest(digest);
    match explicit {
        Some(pk) => SECP
            .verify_ecdsa(&msg, &sig.to_standard(), &pk)
            .map(|()| pk)
            .map_err(|_| DecodeError::InvalidSignature),
        None => SECP
            .recover_ecdsa(&msg, sig)
            .map_err(|_| DecodeError::UnrecoverableSignature),
    }
}

/// Decode and check `input` (an optional `lightning:` prefix is dropped).
pub fn decode(input: &str) -> Result<DecodedInvoice, DecodeError> {
    let s = input
        .strip_prefix("lightning:")
        .or_else(|| input.strip_prefix("LIGHTNING:"))
        .unwrap_or(input);
    if s.len() > MAX_INVOICE_LEN {
        return Err(DecodeError::TooLong);
    }
    let signed: SignedRawBolt11Invoice = s.parse().map_err(from_parse)?;
    let raw = signed.raw_invoice();
    let has_n = raw.payee_pub_key().is_some();
    // The signature first: nothing else in an unauthenticated invoice is
    // worth reporting. With `n` this is a verification (which refuses a
    // high-S signature); without, a recovery.
    let signature = signed.signature().0;
    let signing_hash = *signed.signable_hash();
    let payee = check_signature(&signature, signing_hash, raw.payee_pub_key().map(|p| p.0))?;
    let mut extra = Vec::new();
    for field in &raw.data.tagged_fields {
        if let RawTaggedField::UnknownSemantics(groups) = field {
            // The parser keeps the tag and the two length groups.
            let Some(tag) = groups.first().map(|g| g.to_char()) else {
                continue;
            };
            let data = groups.get(3..).unwrap_or_default();
            if let Some(expected) = fixed_len(tag) {
                return Err(DecodeError::WrongLengthField {
                    tag,
                    len: data.len(),
                    expected,
                });
            }
            extra.push((tag, bech32_text(data)));
        }
    }
    if let Some(features) = raw.features() {
        let unknown: Vec<usize> = set_bits(features.le_flags())
            .into_iter()
            .filter(|b| b % 2 == 0 && !KNOWN_FEATURE_BITS.contains(b))
            .collect();
        if !unknown.is_empty() {
            return Err(DecodeError::UnknownRequiredFeature(unknown));
        }
    }
    let invoice = Bolt11Invoice::from_signed(signed).map_err(|e| from_semantic(e, has_n))?;
    Ok(DecodedInvoice {
        invoice,
        payee,
        payee_explicit: has_n,
        extra,
        signature,
        signing_hash,
    })
}

/// Feature bitfield as big-endian hex without leading zero bytes, as
/// Core Lightning prints it.
pub fn features_hex(le: &[u8]) -> String {
    let mut be: Vec<u8> = le.iter().rev().copied().collect();
    while be.first() == Some(&0) {
        be.remove(0);
    }
    hex::encode(be)
}

/// The `f` field as Core Lightning's `decode` prints it.
fn fallback_json(f: &Fallback, network: bitcoin::Network) -> Value {
    use bitcoin::{Address, ScriptBuf, WitnessProgram, WitnessVersion};
    let (kind, script) = match f {
        Fallback::PubKeyHash(h) => (Some("P2PKH"), ScriptBuf::new_p2pkh(h)),
        Fallback::ScriptHash(h) => (Some("P2SH"), ScriptBuf::new_p2sh(h)),
        Fallback::SegWitProgram { version, program } => {
            let script = WitnessProgram::new(*version, program)
                .map(|wp| ScriptBuf::new_witness_program(&wp))
                .unwrap_or_default();
            let kind = match (version, program.len()) {
                (WitnessVersion::V0, 20) => Some("P2WPKH"),
                (WitnessVersion::V0, 32) => Some("P2WSH"),
                (WitnessVersion::V1, 32) => Some("P2TR"),
                _ => None,
            };
            (kind, script)
        }
    };
    let mut obj = Map::new();
    if let Some(k) = kind {
        obj.insert("type".into(), json!(k));
    }
    if let Ok(addr) = Address::from_script(&script, network) {
        obj.insert("addr".into(), json!(addr.to_string()));
    }
    obj.insert("hex".into(), json!(hex::encode(script.as_bytes())));
    Value::Object(obj)
}

impl DecodedInvoice {
    /// The invoice's network name (`bitcoin`, `testnet`, `signet`,
    /// `regtest`, or `simnet`).
    pub fn network_name(&self) -> &'static str {
        super::currency_network_name(&self.invoice.currency())
    }

    /// Seconds after `created_at` the invoice is payable (3600 when absent).
    pub fn expiry_secs(&self) -> u64 {
        self.invoice.expiry_time().as_secs()
    }

    /// The invoice as Core Lightning's `decode` shows a valid BOLT 11
    /// invoice.
    pub fn to_cln_json(&self) -> Value {
        let inv = &self.invoice;
        let mut o = Map::new();
        o.insert("type".into(), json!("bolt11 invoice"));
        o.insert("valid".into(), json!(true));
        o.insert("currency".into(), json!(inv.currency().to_string()));
        o.insert(
            "created_at".into(),
            json!(inv.duration_since_epoch().as_secs()),
        );
        o.insert("expiry".into(), json!(self.expiry_secs()));
        o.insert("payee".into(), json!(self.payee.to_string()));
        if let Some(a) = inv.amount_milli_satoshis() {
            o.insert("amount_msat".into(), json!(a));
        }
        o.insert("payment_hash".into(), json!(inv.payment_hash().to_string()));
        let sig = self.signature.to_standard();
        o.insert(
            "signature".into(),
            json!(hex::encode(sig.serialize_der().as_ref())),
        );
        match inv.description() {
            Bolt11InvoiceDescriptionRef::Direct(d) => {
                o.insert("description".into(), json!(d.as_inner().0.clone()));
            }
            Bolt11InvoiceDescriptionRef::Hash(h) => {
                o.insert("description_hash".into(), json!(h.0.to_string()));
            }
        }
        o.insert(
            "min_final_cltv_expiry".into(),
            json!(inv.min_final_cltv_expiry_delta()),
        );
        o.insert(
            "payment_secret".into(),
            json!(hex::encode(inv.payment_secret().0)),
        );
        if let Some(f) = inv.features() {
            o.insert("features".into(), json!(features_hex(f.le_flags())));
        }
        if let Some(m) = inv.payment_metadata() {
            o.insert("payment_metadata".into(), json!(hex::encode(m)));
        }
        let network = inv.network();
        let fallbacks: Vec<Value> = inv
            .fallbacks()
            .into_iter()
            .map(|f| fallback_json(f, network))
            .collect();
        if !fallbacks.is_empty() {
            o.insert("fallbacks".into(), Value::Array(fallbacks));
        }
        let routes: Vec<Value> = inv
            .route_hints()
            .into_iter()
            .map(|r| {
                Value::Array(
                    r.0.iter()
                        .map(|h| {
                            json!({
                                "pubkey": h.src_node_id.to_string(),
                                "short_channel_id": ShortChannelId(h.short_channel_id).to_string(),
                                "fee_base_msat": h.fees.base_msat,
                                "fee_proportional_millionths": h.fees.proportional_millionths,
                                "cltv_expiry_delta": h.cltv_expiry_delta,
                            })
                        })
                        .collect(),
                )
            })
            .collect();
        if !routes.is_empty() {
            o.insert("routes".into(), Value::Array(routes));
        }
        if !self.extra.is_empty() {
            o.insert(
                "extra".into(),
                Value::Array(
                    self.extra
                        .iter()
                        .map(|(t, d)| json!({"tag": t.to_string(), "data": d}))
                        .collect(),
                ),
            );
        }
        Value::Object(o)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn helpers() {
        assert_eq!(features_hex(&[0x00, 0x41]), "4100");
        assert_eq!(features_hex(&[0x00, 0x00]), "");
        assert_eq!(set_bits(&[0x00, 0x41]), vec![8, 14]);
        // Route hints print their scid with ShortChannelId's Display.
        assert_eq!(
            ShortChannelId(72_623_859_790_382_856).to_string(),
            "66051x263430x1800"
        );
    }

    #[test]
    fn garbage_is_an_error() {
        for s in [
            "",
            "1",
            "ln1",
            "lnbc1",
            "x".repeat(8000).as_str(),
            "lightning:",
        ] {
            assert!(decode(s).is_err(), "{s}");
        }
    }
}
