//! Returning errors (BOLT 4 "Returning Errors"): the erring node builds an
//! authenticated, padded failure packet; every hop on the way back
//! obfuscates it; the origin peels the layers and finds the erring hop.

use super::attribution::AttributionData;
use super::crypto::{KeyType, ct_eq, derive_key, hmac_sha256, xor_stream};

/// Legacy pad target: `failure_len + pad_len` = 256 (the older rule, and
/// the `onion-error-test.json` vector).
pub const LEGACY_PAD_TO: usize = 256;
/// Current pad target: `failure_len + pad_len` = 1024 (the newer rule of
/// the attributable-failures spec and the `onion_error.json` vector). The
/// newer rule wins: [`FailurePacket::create`] uses it.
pub const PAD_TO: usize = 1024;
/// The smallest `failure_len + pad_len` a reader accepts.
pub const MIN_PAD_TO: usize = 256;
/// The most hops the origin tries when attributing a failure.
pub const MAX_HOPS: usize = 20;

/// Why a failure could not be built or read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FailureError {
    /// The failure message does not fit a u16 length, or is under 2 bytes.
    #[error("failure message of {0} bytes: must be 2..=65535")]
    BadMessageLength(usize),
    /// No hop's `um` key authenticates the packet: it was corrupted or
    /// the route is wrong.
    #[error("no hop authenticates the failure packet")]
    Unattributable,
    /// The erring hop was found but its packet is malformed.
    #[error("hop {hop}: malformed failure packet: {reason}")]
    Malformed {
        /// Index of the hop whose HMAC matched.
        hop: usize,
        /// What is wrong.
        reason: &'static str,
    },
}

/// A return packet: `hmac || u16 failure_len || failuremsg || u16 pad_len || pad`,
/// as it travels (obfuscated after [`FailurePacket::obfuscate`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FailurePacket(pub Vec<u8>);

/// The failure the origin decoded, and who sent it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DecodedFailure {
    /// Index in the route (0 = first hop) of the erring node.
    pub hop: usize,
    /// `failure_code` (first two bytes of the message).
    pub code: u16,
    /// The whole failure message (code, data and any TLV stream).
    pub message: Vec<u8>,
}

impl FailurePacket {
    /// Build the unobfuscated packet at the erring node, padded to
    /// [`PAD_TO`] (or more if the message is longer).
    pub fn create_raw(shared_secret: &[u8; 32], message: &[u8]) -> Result<Self, FailureError> {
        Self::create_raw_padded(shared_secret, message, PAD_TO)
    }

    /// As [`Self::create_raw`] with an explicit `failure_len + pad_len`
    /// target (at least [`MIN_PAD_TO`] is enforced).
    pub fn create_raw_padded(
        shared_secret: &[u8; 32],
        message: &[u8],
        pad_to: usize,
    ) -> Result<Self, FailureError> {
        if message.len() < 2 || message.len() > usize::from(u16::MAX) {
            return Err(FailureError::BadMessageLength(message.len()));
        }
        let pad_len = pad_to.max(MIN_PAD_TO).saturating_sub(message.len());
        let pad_len = pad_len.min(usize::from(u16::MAX));
        let mut payload = Vec::with_capacity(4 + message.len() + pad_len);
        payload.extend_from_slice(&(message.len() as u16).to_be_bytes());
        payload.extend_from_slice(message);
        payload.extend_from_slice(&(pad_len as u16).to_be_bytes());
        payload.resize(payload.len() + pad_len, 0);
        let um = derive_key(KeyType::Um, shared_secret);
        let hmac = hmac_sha256(&um, &[&payload]);
        let mut out = Vec::with_capacity(32 + payload.len());
        out.extend_from_slice(&hmac);
        out.extend_from_slice(&payload);
        Ok(FailurePacket(out))
    }

    /// Build and obfuscate: what the erring node sends back.
    pub fn create(shared_secret: &[u8; 32], message: &[u8]) -> Result<Self, FailureError> {
        let mut p = Self::create_raw(shared_secret, message)?;
        p.obfuscate(shared_secret);
        Ok(p)
    }

    /// Apply this hop's `ammag` stream (each hop on the return path, and
    /// the erring node itself, does this once).
    pub fn obfuscate(&mut self, shared_secret: &[u8; 32]) {
        xor_stream(&derive_key(KeyType::Ammag, shared_secret), &mut self.0);
    }

    /// At the origin: peel the layers with each hop's shared secret (route
    /// order) until one hop's `um` HMAC matches; decode its message.
    pub fn decode(&self, shared_secrets: &[[u8; 32]]) -> Result<DecodedFailure, FailureError> {
        let mut buf = self.0.clone();
        if buf.len() < 32 + 4 {
            return Err(FailureError::Unattributable);
        }
        for (hop, ss) in shared_secrets.iter().enumerate().take(MAX_HOPS) {
            xor_stream(&derive_key(KeyType::Ammag, ss), &mut buf);
            let um = derive_key(KeyType::Um, ss);
            let mut got = [0u8; 32];
            got.copy_from_slice(&buf[..32]);
            if ct_eq(&hmac_sha256(&um, &[&buf[32..]]), &got) {
                return parse_payload(hop, &buf[32..]);
            }
        }
        Err(FailureError::Unattributable)
    }
}

impl FailurePacket {
    /// As [`Self::decode`], also unwrapping the attribution data hop by
    /// hop: returns the failure and the hold times of the hops whose
    /// attribution layers verify (all of them up to the erring hop when
    /// every hop behaved).
    pub fn decode_attributed(
        &self,
        shared_secrets: &[[u8; 32]],
        attribution: &AttributionData,
    ) -> Result<(DecodedFailure, Vec<u32>), FailureError> {
        let decoded = self.decode(shared_secrets)?;
        let n = shared_secrets.len().min(MAX_HOPS);
        let mut buf = self.0.clone();
        let mut cur = attribution.clone();
        let mut times = Vec::new();
        for (k, ss) in shared_secrets.iter().enumerate().take(decoded.hop + 1) {
            xor_stream(&derive_key(KeyType::Ammag, ss), &mut buf);
            match cur.unwrap_hop(&buf, ss, n - k) {
                Some((t, next)) => {
                    times.push(t);
                    cur = next;
                }
                None => break,
            }
        }
        Ok((decoded, times))
    }
}

fn parse_payload(hop: usize, p: &[u8]) -> Result<DecodedFailure, FailureError> {
    let bad = |reason| FailureError::Malformed { hop, reason };
    let failure_len = usize::from(u16::from_be_bytes([p[0], p[1]]));
    let rest = &p[2..];
    if failure_len < 2 || rest.len() < failure_len + 2 {
        return Err(bad("failure_len out of range"));
    }
    let message = rest[..failure_len].to_vec();
    let pad_len = usize::from(u16::from_be_bytes([
        rest[failure_len],
        rest[failure_len + 1],
    ]));
    if rest.len() != failure_len + 2 + pad_len {
        return Err(bad("pad_len does not match the packet"));
    }
    Ok(DecodedFailure {
        hop,
        code: u16::from_be_bytes([message[0], message[1]]),
        message,
    })
}
