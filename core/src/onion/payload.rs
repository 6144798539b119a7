//! The hop payload (BOLT 4 `payload` TLV namespace).

use crate::wire::codec::{Decode, Encode, Reader, Writer};
use crate::wire::error::{DecodeError, EncodeError};
use crate::wire::tlv::{TlvValue, tlv_stream};
use crate::wire::types::{ShortChannelId, Tu32, Tu64};
use bitcoin::secp256k1::PublicKey;
use lumen_sdk::Msat;

/// `payment_data`: the payment secret and the total amount of the payment.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PaymentData {
    /// `payment_secret`.
    pub payment_secret: [u8; 32],
    /// `total_msat` (a `tu64`).
    pub total_msat: Msat,
}

impl TlvValue for PaymentData {
    fn write_value(&self, w: &mut Writer) {
        w.put(&self.payment_secret);
        Tu64(self.total_msat.0).write_value(w);
    }
    fn read_value(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        let payment_secret = r.read_array::<32>()?;
        let total = Tu64::read_value(r)?;
        Ok(PaymentData {
            payment_secret,
            total_msat: Msat(total.0),
        })
    }
}

tlv_stream! {
    /// One hop's payload. Unknown odd records are kept; an unknown even
    /// record fails the decode.
    pub struct HopPayload {
        /// `amt_to_forward` (msat, `tu64`).
        (2) amt_to_forward: Tu64,
        /// `outgoing_cltv_value` (`tu32`).
        (4) outgoing_cltv_value: Tu32,
        /// `short_channel_id` of the next channel (absent at the final hop).
        (6) short_channel_id: ShortChannelId,
        /// `payment_data` (final hop).
        (8) payment_data: PaymentData,
        /// `encrypted_recipient_data` (blinded routes; carried, not processed).
        (10) encrypted_recipient_data: Vec<u8>,
        /// `current_blinding_point` (blinded routes; carried, not processed).
        (12) current_blinding_point: PublicKey,
        /// `payment_metadata` (final hop).
        (16) payment_metadata: Vec<u8>,
        /// `total_amount_msat` (final hop of a blinded route, `tu64`).
        (18) total_amount_msat: Tu64,
        /// Keysend payment preimage.
        (5482373484) keysend_preimage: Preimage,
    }
}

/// A 32-byte payment preimage (the keysend record's value).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Preimage(pub [u8; 32]);

impl TlvValue for Preimage {
    fn write_value(&self, w: &mut Writer) {
        w.put(&self.0);
    }
    fn read_value(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        Ok(Preimage(r.read_array::<32>()?))
    }
}

impl HopPayload {
    /// The amount to forward, typed.
    pub fn amt_to_forward_msat(&self) -> Option<Msat> {
        self.amt_to_forward.map(|a| Msat(a.0))
    }

    /// Encode to the TLV bytes (without the BigSize length prefix).
    pub fn to_bytes(&self) -> Result<Vec<u8>, EncodeError> {
        let mut w = Writer::new();
        self.encode(&mut w);
        w.finish()
    }

    /// Decode TLV bytes (without the length prefix).
    pub fn from_bytes(bytes: &[u8]) -> Result<HopPayload, DecodeError> {
        HopPayload::decode(&mut Reader::new(bytes))
    }
}
