//! BOLT 11 invoices: creating and signing ([`create`]), decoding and
//! checking ([`decode`]) — both pure — and the node's invoice registry in the
//! store ([`registry`]). The RPC layer is `crate::rpc::invoice`.
//!
//! Encoding and bech32 are `lightning-invoice`'s; this module adds the
//! reader rules it does not apply (see [`decode`]), the CLN JSON shapes and
//! the bookkeeping.

pub mod create;
pub mod decode;
pub mod registry;

pub use create::{CreateError, InvoiceDescription, InvoiceRequest, build_invoice};
pub use decode::{DecodeError, DecodedInvoice, decode};
pub use registry::{InvoiceRecord, InvoiceRegistry, InvoiceStatus, RegistryError};

/// Default `expiry` of invoices we create, in seconds: one week, as
/// Core Lightning's `invoice` command.
pub const DEFAULT_EXPIRY_SECS: u64 = 604_800;

/// Default `min_final_cltv_expiry_delta` of invoices we create: 18 blocks.
/// It is BOLT 11's default when the `c` field is absent and Core Lightning's
/// default `cltv-final`; we still write the `c` field explicitly so readers
/// never depend on the default.
pub const DEFAULT_MIN_FINAL_CLTV_EXPIRY_DELTA: u64 = 18;

/// The network name for a currency (simnet has no bitcoin network of its own).
pub fn currency_network_name(currency: &lightning_invoice::Currency) -> &'static str {
    use lightning_invoice::Currency;
    match currency {
        Currency::Bitcoin => "bitcoin",
        Currency::BitcoinTestnet => "testnet",
        Currency::Signet => "signet",
        Currency::Regtest => "regtest",
        Currency::Simnet => "simnet",
    }
}

/// The feature bits every invoice we create carries: var_onion_optin
/// (8) and payment_secret (14) required, basic_mpp (17) optional.
pub fn our_features() -> crate::wire::Features {
    let mut f = crate::wire::Features::empty();
    for bit in [8, 14, 17] {
        f.set_bit(bit);
    }
    f
}

/// 32 random bytes from the OS (preimages and payment secrets).
pub fn random_32() -> std::io::Result<[u8; 32]> {
    crate::secret::random_bytes::<32>()
}

/// Seconds since the Unix epoch (0 if the clock is before 1970).
pub fn unix_now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}
