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

/// A hop payload that decodes but breaks BOLT 4's reader rules; the
/// erring node answers `invalid_onion_payload` with this `type`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum PayloadError {
    /// A required record is absent.
    #[error("payload lacks required TLV type {0}")]
    Missing(u64),
    /// A record is present where it must not be.
    #[error("payload has TLV type {0} where it is not allowed")]
    Unexpected(u64),
}

impl HopPayload {
    /// Check the records an unblinded hop needs: `amt_to_forward` and
    /// `outgoing_cltv_value` always; `short_channel_id` and no
    /// `payment_data` when forwarding; no `short_channel_id` at the final
    /// hop. Blinded payloads (`encrypted_recipient_data`) are not checked
    /// here.
    pub fn validate(&self, is_final: bool) -> Result<(), PayloadError> {
        if self.encrypted_recipient_data.is_some() {
            return Ok(());
        }
        if self.amt_to_forward.is_none() {
            return Err(PayloadError::Missing(2));
        }
        if self.outgoing_cltv_value.is_none() {
            return Err(PayloadError::Missing(4));
        }
        match (is_final, self.short_channel_id.is_some()) {
            (false, false) => return Err(PayloadError::Missing(6)),
            (true, true) => return Err(PayloadError::Unexpected(6)),
            _ => {}
        }
        if !is_final && self.payment_data.is_some() {
            return Err(PayloadError::Unexpected(8));
        }
        Ok(())
    }

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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reader_rules() {
        let fwd = HopPayload {
            amt_to_forward: Some(Tu64(1000)),
            outgoing_cltv_value: Some(Tu32(500)),
            short_channel_id: Some(ShortChannelId(7)),
            ..HopPayload::default()
        };
        assert_eq!(fwd.validate(false), Ok(()));
        assert_eq!(fwd.validate(true), Err(PayloadError::Unexpected(6)));
        let mut fin = fwd.clone();
        fin.short_channel_id = None;
        assert_eq!(fin.validate(true), Ok(()));
        assert_eq!(fin.validate(false), Err(PayloadError::Missing(6)));
        fin.amt_to_forward = None;
        assert_eq!(fin.validate(true), Err(PayloadError::Missing(2)));
        let round = HopPayload::from_bytes(&fwd.to_bytes().expect("encode")).expect("decode");
        assert_eq!(round, fwd);
    }

    #[test]
    fn unknown_even_rejected_odd_kept_keysend_known() {
        assert_eq!(
            HopPayload::from_bytes(&[0x0e, 0x00]),
            Err(DecodeError::UnknownEvenType(14))
        );
        let p = HopPayload::from_bytes(&[0x0f, 0x01, 0xaa]).expect("odd kept");
        assert_eq!(p.unknown.len(), 1);
        let ks = HopPayload {
            keysend_preimage: Some(Preimage([9; 32])),
            ..HopPayload::default()
        };
        let bytes = ks.to_bytes().expect("encode");
        assert_eq!(&bytes[..9], &[0xff, 0, 0, 0, 1, 0x46, 0xc6, 0x61, 0x6c]);
        assert_eq!(HopPayload::from_bytes(&bytes).expect("decode"), ks);
    }
}
