//! RFQ (request for quote) wire messages (tapd package `rfqmsg`): quote
//! request, accept and reject, sent as BOLT custom messages, and the asset
//! records carried in `update_add_htlc` custom records.
//!
//! Every payload is a TLV stream (tapd's rules: ascending types, unknown
//! even types rejected, unknown odd types kept and re-emitted). Fixed-size
//! integers are big-endian. Decoding then encoding gives back the same
//! bytes: optional records are `Option`s and only written when present.

mod fields;
mod htlc;
mod messages;

pub use fields::{FixedPoint, RejectError};
pub use htlc::{AssetBalance, Htlc, MAX_HTLC_BALANCES};
pub use messages::{Accept, Reject, Request, RfqMessage};

/// Custom message type of a quote request.
pub const MSG_TYPE_REQUEST: u16 = 52884;
/// Custom message type of a quote accept.
pub const MSG_TYPE_ACCEPT: u16 = 52885;
/// Custom message type of a quote reject.
pub const MSG_TYPE_REJECT: u16 = 52886;
/// Current message data version.
pub const DATA_VERSION: u8 = 1;
/// Longest oracle metadata (32 KiB).
pub const MAX_ORACLE_METADATA: usize = 32 * 1024;

/// The 32-byte quote ID.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub struct RfqId(pub [u8; 32]);

impl RfqId {
    /// The SCID alias the quote is routed under: the last 8 bytes as a
    /// big-endian u64.
    pub fn scid(&self) -> u64 {
        let mut b = [0u8; 8];
        b.copy_from_slice(&self.0[24..]);
        u64::from_be_bytes(b)
    }
}
