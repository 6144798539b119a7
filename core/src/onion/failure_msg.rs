//! BOLT 4 failure messages: the typed `failuremsg` a node puts in a failure
//! packet (code + data fields, "Failure Messages"), and what a forwarding
//! node returns when it cannot peel an onion ([`failure_for_peel_error`]).
//!
//! A packet whose version, key or HMAC is bad cannot carry an encrypted
//! error back (there is no shared secret to trust), so BOLT 2 has the node
//! answer `update_fail_malformed_htlc` with `sha256(onion)` and a `BADONION`
//! code instead; the previous hop turns that into `invalid_onion_*` inside a
//! normal failure packet. Every other failure is a [`FailureMessage`]
//! wrapped in a [`FailurePacket`](super::FailurePacket).

use bitcoin::hashes::{Hash, sha256};

use super::packet::PeelError;
use crate::wire::bigsize::BigSize;
use crate::wire::codec::{Reader, Writer};
use crate::wire::error::DecodeError;
use crate::wire::messages::channel::UpdateFailMalformedHtlc;
use crate::wire::types::{ChannelId, Sha256};

/// The onion was malformed (only with `update_fail_malformed_htlc`).
pub const BADONION: u16 = 0x8000;
/// Permanent failure (otherwise transient).
pub const PERM: u16 = 0x4000;
/// Node failure (otherwise channel).
pub const NODE: u16 = 0x2000;
/// A `channel_update` is enclosed.
pub const UPDATE: u16 = 0x1000;

/// BOLT 4 failure codes.
pub mod code {
    use super::{BADONION, NODE, PERM, UPDATE};
    /// `invalid_realm`.
    pub const INVALID_REALM: u16 = PERM | 1;
    /// `temporary_node_failure`.
    pub const TEMPORARY_NODE_FAILURE: u16 = NODE | 2;
    /// `permanent_node_failure`.
    pub const PERMANENT_NODE_FAILURE: u16 = PERM | NODE | 2;
    /// `required_node_feature_missing`.
    pub const REQUIRED_NODE_FEATURE_MISSING: u16 = PERM | NODE | 3;
    /// `invalid_onion_version`.
    pub const INVALID_ONION_VERSION: u16 = BADONION | PERM | 4;
    /// `invalid_onion_hmac`.
    pub const INVALID_ONION_HMAC: u16 = BADONION | PERM | 5;
    /// `invalid_onion_key`.
    pub const INVALID_ONION_KEY: u16 = BADONION | PERM | 6;
    /// `temporary_channel_failure`.
    pub const TEMPORARY_CHANNEL_FAILURE: u16 = UPDATE | 7;
    /// `permanent_channel_failure`.
    pub const PERMANENT_CHANNEL_FAILURE: u16 = PERM | 8;
    /// `required_channel_feature_missing`.
    pub const REQUIRED_CHANNEL_FEATURE_MISSING: u16 = PERM | 9;
    /// `unknown_next_peer`.
    pub const UNKNOWN_NEXT_PEER: u16 = PERM | 10;
    /// `amount_below_minimum`.
    pub const AMOUNT_BELOW_MINIMUM: u16 = UPDATE | 11;
    /// `fee_insufficient`.
    pub const FEE_INSUFFICIENT: u16 = UPDATE | 12;
    /// `incorrect_cltv_expiry`.
    pub const INCORRECT_CLTV_EXPIRY: u16 = UPDATE | 13;
    /// `expiry_too_soon`.
    pub const EXPIRY_TOO_SOON: u16 = UPDATE | 14;
    /// `incorrect_or_unknown_payment_details`.
    pub const INCORRECT_OR_UNKNOWN_PAYMENT_DETAILS: u16 = PERM | 15;
    /// `final_incorrect_cltv_expiry`.
    pub const FINAL_INCORRECT_CLTV_EXPIRY: u16 = 18;
    /// `final_incorrect_htlc_amount`.
    pub const FINAL_INCORRECT_HTLC_AMOUNT: u16 = 19;
    /// `channel_disabled`.
    pub const CHANNEL_DISABLED: u16 = UPDATE | 20;
    /// `expiry_too_far`.
    pub const EXPIRY_TOO_FAR: u16 = 21;
    /// `invalid_onion_payload`.
    pub const INVALID_ONION_PAYLOAD: u16 = PERM | 22;
    /// `mpp_timeout`.
    pub const MPP_TIMEOUT: u16 = 23;
    /// `invalid_onion_blinding`.
    pub const INVALID_ONION_BLINDING: u16 = BADONION | PERM | 24;
}

/// A failure message with its data fields. `channel_update` fields hold the
/// enclosed message bytes as sent (opaque here).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FailureMessage {
    /// `invalid_realm`.
    InvalidRealm,
    /// `temporary_node_failure`.
    TemporaryNodeFailure,
    /// `permanent_node_failure`.
    PermanentNodeFailure,
    /// `required_node_feature_missing`.
    RequiredNodeFeatureMissing,
    /// `invalid_onion_version`.
    InvalidOnionVersion {
        /// SHA-256 of the onion as received.
        sha256_of_onion: [u8; 32],
    },
    /// `invalid_onion_hmac`.
    InvalidOnionHmac {
        /// SHA-256 of the onion as received.
        sha256_of_onion: [u8; 32],
    },
    /// `invalid_onion_key`.
    InvalidOnionKey {
        /// SHA-256 of the onion as received.
        sha256_of_onion: [u8; 32],
    },
    /// `temporary_channel_failure`.
    TemporaryChannelFailure {
        /// The outgoing channel's update.
        channel_update: Vec<u8>,
    },
    /// `permanent_channel_failure`.
    PermanentChannelFailure,
    /// `required_channel_feature_missing`.
    RequiredChannelFeatureMissing,
    /// `unknown_next_peer`.
    UnknownNextPeer,
    /// `amount_below_minimum`.
    AmountBelowMinimum {
        /// Amount of the incoming HTLC.
        htlc_msat: u64,
        /// The outgoing channel's update.
        channel_update: Vec<u8>,
    },
    /// `fee_insufficient`.
    FeeInsufficient {
        /// Amount of the incoming HTLC.
        htlc_msat: u64,
        /// The outgoing channel's update.
        channel_update: Vec<u8>,
    },
    /// `incorrect_cltv_expiry`.
    IncorrectCltvExpiry {
        /// The incoming HTLC's expiry.
        cltv_expiry: u32,
        /// The outgoing channel's update.
        channel_update: Vec<u8>,
    },
    /// `expiry_too_soon`.
    ExpiryTooSoon {
        /// The outgoing channel's update.
        channel_update: Vec<u8>,
    },
    /// `incorrect_or_unknown_payment_details`.
    IncorrectOrUnknownPaymentDetails {
        /// Amount of the incoming HTLC.
        htlc_msat: u64,
        /// Our block height.
        height: u32,
    },
    /// `final_incorrect_cltv_expiry`.
    FinalIncorrectCltvExpiry {
        /// The incoming HTLC's expiry.
        cltv_expiry: u32,
    },
    /// `final_incorrect_htlc_amount`.
    FinalIncorrectHtlcAmount {
        /// The incoming HTLC's amount.
        incoming_htlc_amt: u64,
    },
    /// `channel_disabled`.
    ChannelDisabled {
        /// `disabled_flags`.
        disabled_flags: u16,
        /// The outgoing channel's update.
        channel_update: Vec<u8>,
    },
    /// `expiry_too_far`.
    ExpiryTooFar,
    /// `invalid_onion_payload`.
    InvalidOnionPayload {
        /// The TLV type at fault (0 when it cannot be narrowed down).
        tlv_type: u64,
        /// Byte offset of that record in the decrypted payload.
        offset: u16,
    },
    /// `mpp_timeout`.
    MppTimeout,
    /// `invalid_onion_blinding`.
    InvalidOnionBlinding {
        /// SHA-256 of the onion as received.
        sha256_of_onion: [u8; 32],
    },
    /// A code we do not know, with its raw data.
    Unknown {
        /// The code.
        code: u16,
        /// Everything after it.
        data: Vec<u8>,
    },
}

impl FailureMessage {
    /// The `failure_code`.
    pub fn code(&self) -> u16 {
        use FailureMessage::*;
        match self {
            InvalidRealm => code::INVALID_REALM,
            TemporaryNodeFailure => code::TEMPORARY_NODE_FAILURE,
            PermanentNodeFailure => code::PERMANENT_NODE_FAILURE,
            RequiredNodeFeatureMissing => code::REQUIRED_NODE_FEATURE_MISSING,
            InvalidOnionVersion { .. } => code::INVALID_ONION_VERSION,
            InvalidOnionHmac { .. } => code::INVALID_ONION_HMAC,
            InvalidOnionKey { .. } => code::INVALID_ONION_KEY,
            TemporaryChannelFailure { .. } => code::TEMPORARY_CHANNEL_FAILURE,
            PermanentChannelFailure => code::PERMANENT_CHANNEL_FAILURE,
            RequiredChannelFeatureMissing => code::REQUIRED_CHANNEL_FEATURE_MISSING,
            UnknownNextPeer => code::UNKNOWN_NEXT_PEER,
            AmountBelowMinimum { .. } => code::AMOUNT_BELOW_MINIMUM,
            FeeInsufficient { .. } => code::FEE_INSUFFICIENT,
            IncorrectCltvExpiry { .. } => code::INCORRECT_CLTV_EXPIRY,
            ExpiryTooSoon { .. } => code::EXPIRY_TOO_SOON,
            IncorrectOrUnknownPaymentDetails { .. } => code::INCORRECT_OR_UNKNOWN_PAYMENT_DETAILS,
            FinalIncorrectCltvExpiry { .. } => code::FINAL_INCORRECT_CLTV_EXPIRY,
            FinalIncorrectHtlcAmount { .. } => code::FINAL_INCORRECT_HTLC_AMOUNT,
            ChannelDisabled { .. } => code::CHANNEL_DISABLED,
            ExpiryTooFar => code::EXPIRY_TOO_FAR,
            InvalidOnionPayload { .. } => code::INVALID_ONION_PAYLOAD,
            MppTimeout => code::MPP_TIMEOUT,
            InvalidOnionBlinding { .. } => code::INVALID_ONION_BLINDING,
            Unknown { code, .. } => *code,
        }
    }

    /// The `failuremsg` bytes: code, then the data fields.
    pub fn encode(&self) -> Vec<u8> {
        use FailureMessage::*;
        let mut w = Writer::new();
        w.write(&self.code());
        match self {
            InvalidOnionVersion { sha256_of_onion }
            | InvalidOnionHmac { sha256_of_onion }
            | InvalidOnionKey { sha256_of_onion }
            | InvalidOnionBlinding { sha256_of_onion } => w.put(sha256_of_onion),
            TemporaryChannelFailure { channel_update } | ExpiryTooSoon { channel_update } => {
                w.write(channel_update)
            }
            AmountBelowMinimum {
                htlc_msat,
                channel_update,
            }
            | FeeInsufficient {
                htlc_msat,
                channel_update,
            } => {
                w.write(htlc_msat);
                w.write(channel_update);
            }
            IncorrectCltvExpiry {
                cltv_expiry,
                channel_update,
            } => {
                w.write(cltv_expiry);
                w.write(channel_update);
            }
            IncorrectOrUnknownPaymentDetails { htlc_msat, height } => {
                w.write(htlc_msat);
                w.write(height);
            }
            FinalIncorrectCltvExpiry { cltv_expiry } => w.write(cltv_expiry),
            FinalIncorrectHtlcAmount { incoming_htlc_amt } => w.write(incoming_htlc_amt),
            ChannelDisabled {
                disabled_flags,
                channel_update,
            } => {
                w.write(disabled_flags);
                w.write(channel_update);
            }
            InvalidOnionPayload { tlv_type, offset } => {
                BigSize::write(&mut w, *tlv_type);
                w.write(offset);
            }
            Unknown { data, .. } => w.put(data),
            InvalidRealm
            | TemporaryNodeFailure
            | PermanentNodeFailure
            | RequiredNodeFeatureMissing
            | PermanentChannelFailure
            | RequiredChannelFeatureMissing
            | UnknownNextPeer
            | ExpiryTooFar
            | MppTimeout => {}
        }
        // Only a channel_update over 65535 bytes could fail; such a message
        // cannot be built from the wire in the first place.
        w.finish().unwrap_or_default()
    }

    /// Read a `failuremsg`. Trailing bytes (a TLV extension) are allowed; a
    /// known code with short data is an error; an unknown code is kept raw.
    pub fn decode(bytes: &[u8]) -> Result<FailureMessage, DecodeError> {
        use FailureMessage::*;
        let mut r = Reader::new(bytes);
        let c: u16 = r.read()?;
        let m = match c {
            code::INVALID_REALM => InvalidRealm,
            code::TEMPORARY_NODE_FAILURE => TemporaryNodeFailure,
            code::PERMANENT_NODE_FAILURE => PermanentNodeFailure,
            code::REQUIRED_NODE_FEATURE_MISSING => RequiredNodeFeatureMissing,
            code::INVALID_ONION_VERSION => InvalidOnionVersion {
                sha256_of_onion: r.read_array()?,
            },
            code::INVALID_ONION_HMAC => InvalidOnionHmac {
                sha256_of_onion: r.read_array()?,
            },
            code::INVALID_ONION_KEY => InvalidOnionKey {
                sha256_of_onion: r.read_array()?,
            },
            code::TEMPORARY_CHANNEL_FAILURE => TemporaryChannelFailure {
                channel_update: r.read()?,
            },
            code::PERMANENT_CHANNEL_FAILURE => PermanentChannelFailure,
            code::REQUIRED_CHANNEL_FEATURE_MISSING => RequiredChannelFeatureMissing,
            code::UNKNOWN_NEXT_PEER => UnknownNextPeer,
            code::AMOUNT_BELOW_MINIMUM => AmountBelowMinimum {
                htlc_msat: r.read()?,
                channel_update: r.read()?,
            },
            code::FEE_INSUFFICIENT => FeeInsufficient {
                htlc_msat: r.read()?,
                channel_update: r.read()?,
            },
            code::INCORRECT_CLTV_EXPIRY => IncorrectCltvExpiry {
                cltv_expiry: r.read()?,
                channel_update: r.read()?,
            },
            code::EXPIRY_TOO_SOON => ExpiryTooSoon {
                channel_update: r.read()?,
            },
            code::INCORRECT_OR_UNKNOWN_PAYMENT_DETAILS => IncorrectOrUnknownPaymentDetails {
                htlc_msat: r.read()?,
                height: r.read()?,
            },
            code::FINAL_INCORRECT_CLTV_EXPIRY => FinalIncorrectCltvExpiry {
                cltv_expiry: r.read()?,
            },
            code::FINAL_INCORRECT_HTLC_AMOUNT => FinalIncorrectHtlcAmount {
                incoming_htlc_amt: r.read()?,
            },
            code::CHANNEL_DISABLED => ChannelDisabled {
                disabled_flags: r.read()?,
                channel_update: r.read()?,
            },
            code::EXPIRY_TOO_FAR => ExpiryTooFar,
            code::INVALID_ONION_PAYLOAD => InvalidOnionPayload {
                tlv_type: BigSize::read(&mut r)?,
                offset: r.read()?,
            },
            code::MPP_TIMEOUT => MppTimeout,
            code::INVALID_ONION_BLINDING => InvalidOnionBlinding {
                sha256_of_onion: r.read_array()?,
            },
            other => Unknown {
                code: other,
                data: r.read_rest().to_vec(),
            },
        };
        Ok(m)
    }
}

/// What a forwarding node sends back for an HTLC it cannot process.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HtlcFailure {
    /// `update_fail_malformed_htlc`: the onion itself is unusable.
    Malformed {
        /// SHA-256 of the onion as received.
        sha256_of_onion: [u8; 32],
        /// A `BADONION` code.
        failure_code: u16,
    },
    /// `update_fail_htlc` with this message in a failure packet.
    Fail(FailureMessage),
}

impl HtlcFailure {
    /// The `update_fail_malformed_htlc` message for HTLC `id` on `channel_id`,
    /// if this is a malformed-onion failure.
    pub fn malformed_message(
        &self,
        channel_id: ChannelId,
        id: u64,
    ) -> Option<UpdateFailMalformedHtlc> {
        match self {
            HtlcFailure::Malformed {
                sha256_of_onion,
                failure_code,
            } => Some(UpdateFailMalformedHtlc {
                channel_id,
                id,
                sha256_of_onion: Sha256(*sha256_of_onion),
                failure_code: *failure_code,
            }),
            HtlcFailure::Fail(_) => None,
        }
    }
}

/// The failure a forwarding node returns when peeling `onion` (the 1366
/// bytes as received in `update_add_htlc`) failed with `err`.
///
/// A bad version, key or HMAC (and a packet of the wrong size, which the
/// fixed-size wire field makes impossible from a peer) gives
/// `update_fail_malformed_htlc` with `sha256(onion)`; a payload that does not
/// parse gives `invalid_onion_payload` (type and offset 0: not narrowed down).
pub fn failure_for_peel_error(err: &PeelError, onion: &[u8]) -> HtlcFailure {
    let malformed = |failure_code| HtlcFailure::Malformed {
        sha256_of_onion: sha256::Hash::hash(onion).to_byte_array(),
        failure_code,
    };
    match err {
        PeelError::BadLength(_) | PeelError::BadVersion(_) => {
            malformed(code::INVALID_ONION_VERSION)
        }
        PeelError::BadPubkey => malformed(code::INVALID_ONION_KEY),
        PeelError::BadHmac => malformed(code::INVALID_ONION_HMAC),
        PeelError::BadPayload(_) => HtlcFailure::Fail(FailureMessage::InvalidOnionPayload {
            tlv_type: 0,
            offset: 0,
        }),
    }
}

/// The failure message the upstream node sends on (inside a normal failure
/// packet) after receiving `update_fail_malformed_htlc`. `None` if the code
/// lacks the `BADONION` bit: BOLT 2 says the channel must then be failed.
pub fn message_for_malformed(
    sha256_of_onion: [u8; 32],
    failure_code: u16,
) -> Option<FailureMessage> {
    if failure_code & BADONION == 0 {
        return None;
    }
    Some(match failure_code {
        code::INVALID_ONION_VERSION => FailureMessage::InvalidOnionVersion { sha256_of_onion },
        code::INVALID_ONION_HMAC => FailureMessage::InvalidOnionHmac { sha256_of_onion },
        code::INVALID_ONION_KEY => FailureMessage::InvalidOnionKey { sha256_of_onion },
        code::INVALID_ONION_BLINDING => FailureMessage::InvalidOnionBlinding { sha256_of_onion },
        other => FailureMessage::Unknown {
            code: other,
            data: sha256_of_onion.to_vec(),
        },
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use bitcoin::secp256k1::{PublicKey, Secp256k1, SecretKey};

    fn all_messages() -> Vec<FailureMessage> {
        use FailureMessage::*;
        let upd = vec![1, 2, 3, 4];
        vec![
            InvalidRealm,
            TemporaryNodeFailure,
            PermanentNodeFailure,
            RequiredNodeFeatureMissing,
            InvalidOnionVersion {
                sha256_of_onion: [1; 32],
            },
            InvalidOnionHmac {
                sha256_of_onion: [2; 32],
            },
            InvalidOnionKey {
                sha256_of_onion: [3; 32],
            },
            TemporaryChannelFailure {
                channel_update: upd.clone(),
            },
            PermanentChannelFailure,
            RequiredChannelFeatureMissing,
            UnknownNextPeer,
            AmountBelowMinimum {
                htlc_msat: 5,
                channel_update: upd.clone(),
            },
            FeeInsufficient {
                htlc_msat: 6,
                channel_update: upd.clone(),
            },
            IncorrectCltvExpiry {
                cltv_expiry: 7,
                channel_update: upd.clone(),
            },
            ExpiryTooSoon {
                channel_update: upd.clone(),
            },
            IncorrectOrUnknownPaymentDetails {
                htlc_msat: 8,
                height: 9,
            },
            FinalIncorrectCltvExpiry { cltv_expiry: 10 },
            FinalIncorrectHtlcAmount {
                incoming_htlc_amt: 11,
            },
            ChannelDisabled {
                disabled_flags: 12,
                channel_update: upd.clone(),
            },
            ExpiryTooFar,
            InvalidOnionPayload {
                tlv_type: 70_000,
                offset: 13,
            },
            MppTimeout,
            InvalidOnionBlinding {
                sha256_of_onion: [4; 32],
            },
            Unknown {
                code: 0x0fff,
                data: vec![9, 9],
            },
        ]
    }

    #[test]
    fn every_message_round_trips_with_its_code() {
        for m in all_messages() {
            let bytes = m.encode();
            assert_eq!(u16::from_be_bytes([bytes[0], bytes[1]]), m.code(), "{m:?}");
            assert_eq!(FailureMessage::decode(&bytes).expect("decode"), m);
            // Short data for a known code is an error, not a panic.
            if bytes.len() > 2 && !matches!(m, FailureMessage::Unknown { .. }) {
                assert!(
                    FailureMessage::decode(&bytes[..bytes.len() - 1]).is_err(),
                    "{m:?}"
                );
            }
        }
        // The spec's example encodings: incorrect_or_unknown_payment_details
        // is 0x400f, and its data is u64 htlc_msat then u32 height.
        let m = FailureMessage::IncorrectOrUnknownPaymentDetails {
            htlc_msat: 100,
            height: 800_000,
        };
        assert_eq!(hex::encode(m.encode()), "400f0000000000000064000c3500");
    }

    #[test]
    fn peel_errors_map_to_bolt4_failures() {
        let secp = Secp256k1::new();
        let hop = SecretKey::from_slice(&[0x11; 32]).expect("key");
        let wrong = SecretKey::from_slice(&[0x22; 32]).expect("key");
        let hops = [PublicKey::from_secret_key(&secp, &hop)];
        let session = SecretKey::from_slice(&[0x33; 32]).expect("key");
        let (packet, _) =
            super::super::OnionPacket::build(&secp, &session, &hops, &[vec![2, 2, 1, 0]], b"ad")
                .expect("build");
        let bytes = packet.to_bytes();
        let want_hash = sha256::Hash::hash(&bytes).to_byte_array();

        // Wrong key: the HMAC does not verify.
        let err = packet.peel(&secp, &wrong, b"ad").expect_err("hmac");
        let f = failure_for_peel_error(&err, &bytes);
        assert_eq!(
            f,
            HtlcFailure::Malformed {
                sha256_of_onion: want_hash,
                failure_code: code::INVALID_ONION_HMAC
            }
        );
        let msg = f
            .malformed_message(ChannelId([5; 32]), 9)
            .expect("malformed");
        assert_eq!(msg.failure_code & BADONION, BADONION);
        assert_eq!(msg.sha256_of_onion, Sha256(want_hash));
        // Upstream turns it into invalid_onion_hmac with the same hash.
        assert_eq!(
            message_for_malformed(want_hash, msg.failure_code),
            Some(FailureMessage::InvalidOnionHmac {
                sha256_of_onion: want_hash
            })
        );
        assert_eq!(message_for_malformed(want_hash, code::INVALID_REALM), None);

        // Version byte changed.
        let mut v = bytes.clone();
        v[0] = 1;
        let err = super::super::OnionPacket::from_bytes(&v)
            .and_then(|p| p.peel(&secp, &hop, b"ad"))
            .expect_err("version");
        assert_eq!(
            failure_for_peel_error(&err, &v),
            HtlcFailure::Malformed {
                sha256_of_onion: sha256::Hash::hash(&v).to_byte_array(),
                failure_code: code::INVALID_ONION_VERSION
            }
        );
        // Ephemeral key not on the curve.
        let mut k = bytes.clone();
        k[1] = 0x05;
        let err = super::super::OnionPacket::from_bytes(&k)
            .and_then(|p| p.peel(&secp, &hop, b"ad"))
            .expect_err("key");
        assert!(matches!(
            failure_for_peel_error(&err, &k),
            HtlcFailure::Malformed {
                failure_code: code::INVALID_ONION_KEY,
                ..
            }
        ));
        // A payload that does not parse is a normal (encrypted) failure.
        let f = failure_for_peel_error(&PeelError::BadPayload("x"), &bytes);
        assert_eq!(
            f,
            HtlcFailure::Fail(FailureMessage::InvalidOnionPayload {
                tlv_type: 0,
                offset: 0
            })
        );
        assert!(f.malformed_message(ChannelId([0; 32]), 0).is_none());
    }
}
