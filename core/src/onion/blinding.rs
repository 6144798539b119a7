//! Route blinding (BOLT 4 "Route Blinding"). Pure code: no I/O.
//!
//! The recipient builds a blinded path from a session key `e_0`: for each
//! hop `i`, with path key `E_i = e_i * G` and shared secret
//! `ss_i = SHA256(ECDH(e_i, N_i))`, it publishes the blinded node id
//! `B_i = HMAC("blinded_node_id", ss_i) * N_i` and the hop's
//! `encrypted_recipient_data`, sealed with ChaCha20-Poly1305 under
//! `rho_i = HMAC("rho", ss_i)` and a zero nonce. The next path key is
//! `E_{i+1} = SHA256(E_i || ss_i) * E_i`, unless the hop's data carries a
//! `next_path_key_override` (two paths joined together).
//!
//! A hop given `E_i` derives the same `ss_i` from its node key `k`,
//! decrypts its data and, for payments, peels the onion with its blinded
//! key `HMAC("blinded_node_id", ss_i) * k`.

use bitcoin::secp256k1::{PublicKey, Scalar, Secp256k1, SecretKey, Signing, Verification};
use chacha20poly1305::aead::Aead;
use chacha20poly1305::{ChaCha20Poly1305, KeyInit};

use super::crypto::{KeyType, blinding_factor, derive_key, hmac_sha256, shared_secret};
use super::packet::{OnionPacket, PeelError, Peeled};
use super::payload::HopPayload;
use crate::wire::codec::{Decode, Encode, Reader, Writer};
use crate::wire::error::DecodeError;
use crate::wire::features::Features;
use crate::wire::tlv::{TlvStream, TlvValue, tlv_stream};
use crate::wire::types::{ShortChannelId, Tu32, Tu64};

/// Why a blinding step failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BlindingError {
    /// A path must have at least one hop.
    #[error("blinded path needs at least one hop")]
    EmptyPath,
    /// A tweak produced an invalid key (negligible probability, or a
    /// hostile path key).
    #[error("key blinding failed")]
    Tweak,
    /// The plaintext is too long for the cipher.
    #[error("encrypted_recipient_data too long")]
    TooLong,
    /// The encrypted data did not authenticate under this hop's key.
    #[error("encrypted_recipient_data does not decrypt")]
    Decrypt,
    /// The decrypted data is not a valid `encrypted_data_tlv` stream.
    #[error("invalid encrypted_data_tlv: {0}")]
    BadData(DecodeError),
    /// The hop payload lacks a record a blinded hop needs.
    #[error("blinded hop payload lacks {0}")]
    MissingRecord(&'static str),
    /// The onion itself did not peel.
    #[error("onion: {0}")]
    Peel(PeelError),
}

/// `payment_relay`: what the hop charges and the delta it needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PaymentRelay {
    /// `cltv_expiry_delta` (`u16`).
    pub cltv_expiry_delta: u16,
    /// `fee_proportional_millionths` (`u32`).
    pub fee_proportional_millionths: u32,
    /// `fee_base_msat` (`tu32`).
    pub fee_base_msat: u32,
}

impl TlvValue for PaymentRelay {
    fn write_value(&self, w: &mut Writer) {
        self.cltv_expiry_delta.encode(w);
        self.fee_proportional_millionths.encode(w);
        Tu32(self.fee_base_msat).write_value(w);
    }
    fn read_value(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        Ok(PaymentRelay {
            cltv_expiry_delta: u16::decode(r)?,
            fee_proportional_millionths: u32::decode(r)?,
            fee_base_msat: Tu32::read_value(r)?.0,
        })
    }
}

/// `payment_constraints`: limits the recipient puts on the HTLC.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PaymentConstraints {
    /// `max_cltv_expiry` (`u32`).
    pub max_cltv_expiry: u32,
    /// `htlc_minimum_msat` (`tu64`).
    pub htlc_minimum_msat: u64,
}

impl TlvValue for PaymentConstraints {
    fn write_value(&self, w: &mut Writer) {
        self.max_cltv_expiry.encode(w);
        Tu64(self.htlc_minimum_msat).write_value(w);
    }
    fn read_value(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        Ok(PaymentConstraints {
            max_cltv_expiry: u32::decode(r)?,
            htlc_minimum_msat: Tu64::read_value(r)?.0,
        })
    }
}

tlv_stream! {
    /// The `encrypted_data_tlv` stream a blinded hop decrypts.
    pub struct EncryptedData {
        /// `padding` (ignored; equalizes the data lengths).
        (1) padding: Vec<u8>,
        /// `short_channel_id` of the next channel.
        (2) short_channel_id: ShortChannelId,
        /// `next_node_id`.
        (4) next_node_id: PublicKey,
        /// `path_id` (final hop: the recipient's own check).
        (6) path_id: Vec<u8>,
        /// `next_path_key_override`: the next path key, when paths are joined.
        (8) next_path_key_override: PublicKey,
        /// `payment_relay`.
        (10) payment_relay: PaymentRelay,
        /// `payment_constraints`.
        (12) payment_constraints: PaymentConstraints,
        /// `allowed_features`.
        (14) allowed_features: Features,
    }
}

impl EncryptedData {
    /// Encode the TLV stream.
    pub fn to_bytes(&self) -> Result<Vec<u8>, crate::wire::error::EncodeError> {
        let mut w = Writer::new();
        self.encode(&mut w);
        w.finish()
    }

    /// Decode a TLV stream (unknown even types are an error).
    pub fn from_bytes(bytes: &[u8]) -> Result<EncryptedData, DecodeError> {
        EncryptedData::decode(&mut Reader::new(bytes))
    }
}

/// One hop of a blinded path, as published.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BlindedHop {
    /// `B_i`: the hop's blinded node id.
    pub blinded_node_id: PublicKey,
    /// The hop's sealed `encrypted_recipient_data`.
    pub encrypted_data: Vec<u8>,
}

/// The intermediate values the builder derives for one hop.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HopSecrets {
    /// `E_i`, the path key this hop receives.
    pub path_key: PublicKey,
    /// `ss_i`.
    pub shared_secret: [u8; 32],
    /// `rho_i`, the data encryption key.
    pub rho: [u8; 32],
    /// `HMAC("blinded_node_id", ss_i)`, the node id tweak.
    pub node_tweak: [u8; 32],
    /// `SHA256(E_i || ss_i)`, the path key tweak.
    pub path_tweak: [u8; 32],
    /// `e_{i+1}`, the next path private key (before any override).
    pub next_path_privkey: SecretKey,
}

/// A blinded path: the introduction node, its path key, and the hops.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BlindedPath {
    /// The introduction node's real id.
    pub first_node_id: PublicKey,
    /// `E_0`.
    pub first_path_key: PublicKey,
    /// The blinded hops, introduction node first.
    pub hops: Vec<BlindedHop>,
}

/// Tweak bytes as a scalar.
fn tweak_scalar(bytes: [u8; 32]) -> Result<Scalar, BlindingError> {
    Scalar::from_be_bytes(bytes).map_err(|_| BlindingError::Tweak)
}

/// `HMAC("blinded_node_id", ss)` as a scalar.
fn node_tweak(ss: &[u8; 32]) -> Result<Scalar, BlindingError> {
    tweak_scalar(hmac_sha256(b"blinded_node_id", &[ss]))
}

/// `SHA256(E || ss)` as a scalar.
fn path_tweak(path_key: &PublicKey, ss: &[u8; 32]) -> Result<Scalar, BlindingError> {
    tweak_scalar(blinding_factor(path_key, ss))
}

/// Seal `plain` under `rho` (ChaCha20-Poly1305, zero nonce, no AD).
pub fn encrypt_data(rho: &[u8; 32], plain: &[u8]) -> Result<Vec<u8>, BlindingError> {
    ChaCha20Poly1305::new(rho.into())
        .encrypt(&[0u8; 12].into(), plain)
        .map_err(|_| BlindingError::TooLong)
}

/// Open data sealed by [`encrypt_data`].
pub fn decrypt_data(rho: &[u8; 32], sealed: &[u8]) -> Result<Vec<u8>, BlindingError> {
    ChaCha20Poly1305::new(rho.into())
        .decrypt(&[0u8; 12].into(), sealed)
        .map_err(|_| BlindingError::Decrypt)
}

/// Build a blinded path over `hops` (real node id and the plaintext
/// `encrypted_data_tlv` bytes of each hop) from `session_key` (`e_0`).
/// Returns the path and each hop's derived values.
pub fn build_path<C: Signing + Verification>(
    secp: &Secp256k1<C>,
    session_key: &SecretKey,
    hops: &[(PublicKey, Vec<u8>)],
) -> Result<(BlindedPath, Vec<HopSecrets>), BlindingError> {
    let first_node_id = hops.first().ok_or(BlindingError::EmptyPath)?.0;
    let mut e = *session_key;
    let mut out = Vec::with_capacity(hops.len());
    let mut secrets = Vec::with_capacity(hops.len());
    for (node_id, data) in hops {
        let path_key = PublicKey::from_secret_key(secp, &e);
        let ss = shared_secret(node_id, &e);
        let rho = derive_key(KeyType::Rho, &ss);
        let node_tweak_bytes = hmac_sha256(b"blinded_node_id", &[&ss]);
        let path_tweak_bytes = blinding_factor(&path_key, &ss);
        let blinded_node_id = node_id
            .mul_tweak(secp, &tweak_scalar(node_tweak_bytes)?)
            .map_err(|_| BlindingError::Tweak)?;
        out.push(BlindedHop {
            blinded_node_id,
            encrypted_data: encrypt_data(&rho, data)?,
        });
        e = e
            .mul_tweak(&tweak_scalar(path_tweak_bytes)?)
            .map_err(|_| BlindingError::Tweak)?;
        secrets.push(HopSecrets {
            path_key,
            shared_secret: ss,
            rho,
            node_tweak: node_tweak_bytes,
            path_tweak: path_tweak_bytes,
            next_path_privkey: e,
        });
    }
    // `E_0 = e_0 * G`, already computed for the first hop.
    let first_path_key = secrets
        .first()
        .map(|s| s.path_key)
        .ok_or(BlindingError::EmptyPath)?;
    let path = BlindedPath {
        first_node_id,
        first_path_key,
        hops: out,
    };
    Ok((path, secrets))
}

/// What a hop learns from its path key and encrypted data.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unblinded {
    /// `ss_i`.
    pub shared_secret: [u8; 32],
    /// `HMAC("blinded_node_id", ss_i) * k`: the key the onion was built to.
    pub blinded_privkey: SecretKey,
    /// The decrypted `encrypted_data_tlv` bytes.
    pub data: Vec<u8>,
    /// The decoded data.
    pub tlvs: EncryptedData,
    /// `SHA256(E_i || ss_i) * E_i` (ignores any override).
    pub next_path_key: PublicKey,
}

impl Unblinded {
    /// The path key to hand the next hop: the override if the data has one.
    pub fn effective_next_path_key(&self) -> PublicKey {
        self.tlvs
            .next_path_key_override
            .unwrap_or(self.next_path_key)
    }
}

/// The values a hop derives from `path_key` and its node key, without
/// decrypting anything: `(ss, blinded privkey, next path key)`.
pub fn hop_keys<C: Verification>(
    secp: &Secp256k1<C>,
    node_key: &SecretKey,
    path_key: &PublicKey,
) -> Result<([u8; 32], SecretKey, PublicKey), BlindingError> {
    let ss = shared_secret(path_key, node_key);
    let blinded = node_key
        .mul_tweak(&node_tweak(&ss)?)
        .map_err(|_| BlindingError::Tweak)?;
    let next = path_key
        .mul_tweak(secp, &path_tweak(path_key, &ss)?)
        .map_err(|_| BlindingError::Tweak)?;
    Ok((ss, blinded, next))
}

/// Decrypt this hop's `encrypted_data` given the `path_key` it received.
pub fn unblind<C: Verification>(
    secp: &Secp256k1<C>,
    node_key: &SecretKey,
    path_key: &PublicKey,
    encrypted_data: &[u8],
) -> Result<Unblinded, BlindingError> {
    let keys = hop_keys(secp, node_key, path_key)?;
    unblind_with(keys, encrypted_data)
}

/// Decrypt `encrypted_data` with keys already derived by [`hop_keys`].
fn unblind_with(
    (ss, blinded_privkey, next_path_key): ([u8; 32], SecretKey, PublicKey),
    encrypted_data: &[u8],
) -> Result<Unblinded, BlindingError> {
    let data = decrypt_data(&derive_key(KeyType::Rho, &ss), encrypted_data)?;
    let tlvs = EncryptedData::from_bytes(&data).map_err(BlindingError::BadData)?;
    Ok(Unblinded {
        shared_secret: ss,
        blinded_privkey,
        data,
        tlvs,
        next_path_key,
    })
}

/// `onionmsg_tlv` type of `encrypted_recipient_data`.
pub const ONIONMSG_ENCRYPTED_DATA: u64 = 4;

/// An onion message's onion peeled at one hop.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PeeledMessage {
    /// The peeled onion (`onionmsg_tlv` payload and next packet).
    pub peeled: Peeled,
    /// The payload's records.
    pub payload: TlvStream,
    /// The hop's unblinded data.
    pub unblinded: Unblinded,
}

/// Peel an onion message's onion: every hop, the introduction node too,
/// is addressed by its blinded id, so the onion is peeled with the
/// blinded key derived from the message's `path_key`.
pub fn peel_message<C: Verification>(
    secp: &Secp256k1<C>,
    node_key: &SecretKey,
    path_key: &PublicKey,
    onion: &OnionPacket,
) -> Result<PeeledMessage, BlindingError> {
    let keys = hop_keys(secp, node_key, path_key)?;
    let peeled = onion
        .peel(secp, &keys.1, &[])
        .map_err(BlindingError::Peel)?;
    let payload = TlvStream::decode(&peeled.payload)
        .map_err(|_| BlindingError::Peel(PeelError::BadPayload("undecodable onionmsg_tlv")))?;
    let data = payload
        .get(ONIONMSG_ENCRYPTED_DATA)
        .ok_or(BlindingError::MissingRecord("encrypted_recipient_data"))?;
    let unblinded = unblind_with(keys, data)?;
    Ok(PeeledMessage {
        peeled,
        payload,
        unblinded,
    })
}

/// Decode a peeled payment onion's hop payload.
fn decode_hop_payload(bytes: &[u8]) -> Result<HopPayload, BlindingError> {
    HopPayload::from_bytes(bytes)
        .map_err(|_| BlindingError::Peel(PeelError::BadPayload("undecodable payload")))
}

/// A blinded payment onion peeled at one hop.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PeeledBlinded {
    /// The peeled onion (payload and next packet).
    pub peeled: Peeled,
    /// The decoded hop payload.
    pub payload: HopPayload,
    /// The hop's unblinded data.
    pub unblinded: Unblinded,
}

/// Peel a payment onion at a hop inside a blinded route.
///
/// `path_key` is the key from `update_add_htlc` (`None` at the
/// introduction node, which finds it as `current_path_key` in its
/// payload). Inside the route the onion's ephemeral key was built to the
/// blinded node id, so the onion is peeled with the blinded private key;
/// the introduction node is addressed by its real id.
pub fn peel_blinded<C: Verification>(
    secp: &Secp256k1<C>,
    node_key: &SecretKey,
    path_key: Option<&PublicKey>,
    onion: &OnionPacket,
    associated_data: &[u8],
) -> Result<PeeledBlinded, BlindingError> {
    let (peeled, payload, keys, path_key) = match path_key {
        Some(pk) => {
            let keys = hop_keys(secp, node_key, pk)?;
            let peeled = onion
                .peel(secp, &keys.1, associated_data)
                .map_err(BlindingError::Peel)?;
            let payload = decode_hop_payload(&peeled.payload)?;
            (peeled, payload, Some(keys), *pk)
        }
        None => {
            let peeled = onion
                .peel(secp, node_key, associated_data)
                .map_err(BlindingError::Peel)?;
            let payload = decode_hop_payload(&peeled.payload)?;
            let pk = payload
                .current_blinding_point
                .ok_or(BlindingError::MissingRecord("current_path_key"))?;
            // Keys derived after the data check below, as before.
            (peeled, payload, None, pk)
        }
    };
    let data = payload
        .encrypted_recipient_data
        .as_ref()
        .ok_or(BlindingError::MissingRecord("encrypted_recipient_data"))?;
    let keys = match keys {
        Some(keys) => keys,
        None => hop_keys(secp, node_key, &path_key)?,
    };
    let unblinded = unblind_with(keys, data)?;
    Ok(PeeledBlinded {
        peeled,
        payload,
        unblinded,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn empty_path_and_bad_data_are_errors() {
        let secp = Secp256k1::new();
        let k = SecretKey::from_slice(&[7; 32]).expect("key");
        assert_eq!(
            build_path(&secp, &k, &[]).err(),
            Some(BlindingError::EmptyPath)
        );
        // Unknown even type (0x40) in the stream is rejected; odd is kept.
        assert!(EncryptedData::from_bytes(&[0x40, 0x00]).is_err());
        let d = EncryptedData::from_bytes(&[0x41, 0x01, 0xaa]).expect("odd ok");
        assert_eq!(d.unknown.len(), 1);
        // Truncated payment_relay is an error, not a panic.
        assert!(EncryptedData::from_bytes(&[0x0a, 0x02, 0x00, 0x01]).is_err());
        // Data that decrypts but is not a TLV stream is a typed error.
        let node = PublicKey::from_secret_key(&secp, &k);
        let (path, _) = build_path(&secp, &k, &[(node, vec![0x02, 0x05])]).expect("build");
        assert!(matches!(
            unblind(
                &secp,
                &k,
                &path.first_path_key,
                &path.hops[0].encrypted_data
            ),
            Err(BlindingError::BadData(_))
        ));
    }

    #[test]
    fn round_trip_one_hop() {
        let secp = Secp256k1::new();
        let session = SecretKey::from_slice(&[1; 32]).expect("key");
        let node_key = SecretKey::from_slice(&[9; 32]).expect("key");
        let node = PublicKey::from_secret_key(&secp, &node_key);
        let data = EncryptedData {
            path_id: Some(vec![1, 2, 3]),
            ..EncryptedData::default()
        };
        let bytes = data.to_bytes().expect("encode");
        let (path, secrets) = build_path(&secp, &session, &[(node, bytes.clone())]).expect("build");
        let un = unblind(
            &secp,
            &node_key,
            &path.first_path_key,
            &path.hops[0].encrypted_data,
        )
        .expect("unblind");
        assert_eq!(un.data, bytes);
        assert_eq!(un.tlvs, data);
        assert_eq!(un.shared_secret, secrets[0].shared_secret);
        assert_eq!(
            PublicKey::from_secret_key(&secp, &un.blinded_privkey),
            path.hops[0].blinded_node_id
        );
        assert_eq!(
            un.next_path_key,
            PublicKey::from_secret_key(&secp, &secrets[0].next_path_privkey)
        );
    }
}
