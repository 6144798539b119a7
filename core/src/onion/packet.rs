//! The onion packet: construction by the sender and peeling at each hop
//! (BOLT 4 "Packet Construction", "Accepting and Forwarding a Payment").
//! Payment onions are 1366 bytes; onion messages may be larger (BOLT 4
//! suggests 1366 or 32834), so a packet carries its own payload length.

use bitcoin::secp256k1::{PublicKey, Scalar, Secp256k1, SecretKey, Signing, Verification};

use super::crypto::{
    KeyType, blinding_factor, ct_eq, derive_key, hmac_sha256, route_secrets, shared_secret,
    xor_stream,
};
use crate::wire::bigsize::BigSize;
use crate::wire::codec::{Reader, Writer};

/// Size of a payment onion's `hop_payloads`.
pub const HOP_PAYLOADS_LEN: usize = 1300;
/// The larger `hop_payloads` size BOLT 4 suggests for onion messages.
pub const LARGE_HOP_PAYLOADS_LEN: usize = 32768;
/// Largest packet accepted from the wire (an onion message's length is a
/// u16).
pub const MAX_PACKET_LEN: usize = u16::MAX as usize;
/// Size of a serialized packet: version, public key, payloads, HMAC.
pub const PACKET_LEN: usize = 1 + 33 + HOP_PAYLOADS_LEN + 32;
/// The only packet version.
pub const VERSION: u8 = 0;
const HMAC_LEN: usize = 32;

/// Why a packet could not be built.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BuildError {
    /// No hops, or hop keys and payloads of different lengths.
    #[error("route must have at least one hop and one payload per hop")]
    BadRoute,
    /// A payload was shorter than 2 bytes (lengths 0 and 1 are reserved).
    #[error("hop {0}: payload shorter than 2 bytes")]
    ShortPayload(usize),
    /// The payloads (with length prefixes and HMACs) exceed the packet's
    /// payload area (1300 bytes for payments), or the area is too large.
    #[error("payloads need {0} bytes, more than the packet holds")]
    TooLarge(usize),
    /// A blinding step produced an invalid key (negligible probability).
    #[error("key blinding failed")]
    Blinding,
}

/// Why a hop rejected a packet.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PeelError {
    /// The packet is not 1366 bytes.
    #[error("onion packet is {0} bytes, not 1366")]
    BadLength(usize),
    /// Unknown version byte (`invalid_onion_version`).
    #[error("unknown onion version {0}")]
    BadVersion(u8),
    /// The ephemeral key is not a valid point (`invalid_onion_key`).
    #[error("invalid onion ephemeral key")]
    BadPubkey,
    /// The HMAC does not match (`invalid_onion_hmac`).
    #[error("onion HMAC mismatch")]
    BadHmac,
    /// The decrypted payload is malformed (`invalid_onion_payload`).
    #[error("invalid hop payload: {0}")]
    BadPayload(&'static str),
}

/// A serialized-form onion packet.
#[derive(Clone, PartialEq, Eq)]
pub struct OnionPacket {
    /// Version byte (0).
    pub version: u8,
    /// Ephemeral public key for this hop.
    pub public_key: PublicKey,
    /// Obfuscated per-hop payloads (1300 bytes in payment onions).
    pub hop_payloads: Vec<u8>,
    /// HMAC over `hop_payloads || associated_data`.
    pub hmac: [u8; 32],
}

impl std::fmt::Debug for OnionPacket {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OnionPacket")
            .field("version", &self.version)
            .field("public_key", &self.public_key)
            .field("hmac", &hex::encode(self.hmac))
            .finish_non_exhaustive()
    }
}

/// What a hop learns by peeling a packet.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Peeled {
    /// The shared secret with the sender (keep it to wrap a failure).
    pub shared_secret: [u8; 32],
    /// This hop's payload bytes (TLV stream, without the length prefix).
    pub payload: Vec<u8>,
    /// Where the packet goes next.
    pub next: Next,
}

/// The packet for the next hop, or the end of the route.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Next {
    /// Forward this packet.
    Forward(OnionPacket),
    /// This hop is the final recipient.
    Final,
}

impl OnionPacket {
    /// Serialize (1366 bytes for a payment onion).
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut v = Vec::with_capacity(1 + 33 + self.hop_payloads.len() + HMAC_LEN);
        v.push(self.version);
        v.extend_from_slice(&self.public_key.serialize());
        v.extend_from_slice(&self.hop_payloads[..]);
        v.extend_from_slice(&self.hmac);
        v
    }

    /// Parse a payment onion (exactly 1366 bytes); checks length, version
    /// and public key.
    pub fn from_bytes(bytes: &[u8]) -> Result<OnionPacket, PeelError> {
        if bytes.len() != PACKET_LEN {
            return Err(PeelError::BadLength(bytes.len()));
        }
        Self::from_bytes_any_len(bytes)
    }

    /// Parse an onion message's packet: any length from a 1-byte payload
    /// area up to [`MAX_PACKET_LEN`].
    pub fn from_bytes_any_len(bytes: &[u8]) -> Result<OnionPacket, PeelError> {
        if bytes.len() < 1 + 33 + 1 + HMAC_LEN || bytes.len() > MAX_PACKET_LEN {
            return Err(PeelError::BadLength(bytes.len()));
        }
        if bytes[0] != VERSION {
            return Err(PeelError::BadVersion(bytes[0]));
        }
        let public_key = PublicKey::from_slice(&bytes[1..34]).map_err(|_| PeelError::BadPubkey)?;
        let end = bytes.len() - HMAC_LEN;
        let mut hmac = [0u8; 32];
        hmac.copy_from_slice(&bytes[end..]);
        Ok(OnionPacket {
            version: VERSION,
            public_key,
            hop_payloads: bytes[34..end].to_vec(),
            hmac,
        })
    }

    /// Build the packet for `hops` (node ids, in route order) carrying
    /// `payloads` (each hop's TLV bytes, without the length prefix).
    /// Returns the packet and each hop's shared secret (for failure
    /// attribution).
    pub fn build<C: Signing + Verification>(
        secp: &Secp256k1<C>,
        session_key: &SecretKey,
        hops: &[PublicKey],
        payloads: &[Vec<u8>],
        associated_data: &[u8],
    ) -> Result<(OnionPacket, Vec<[u8; 32]>), BuildError> {
        Self::build_sized(
            secp,
            session_key,
            hops,
            payloads,
            associated_data,
            HOP_PAYLOADS_LEN,
        )
    }

    /// [`Self::build`] with a `hop_payloads` area of `area` bytes (onion
    /// messages: [`HOP_PAYLOADS_LEN`] or [`LARGE_HOP_PAYLOADS_LEN`]).
    pub fn build_sized<C: Signing + Verification>(
        secp: &Secp256k1<C>,
        session_key: &SecretKey,
        hops: &[PublicKey],
        payloads: &[Vec<u8>],
        associated_data: &[u8],
        area: usize,
    ) -> Result<(OnionPacket, Vec<[u8; 32]>), BuildError> {
        if area > MAX_PACKET_LEN - (1 + 33 + HMAC_LEN) {
            return Err(BuildError::TooLarge(area));
        }
        if hops.is_empty() || hops.len() != payloads.len() {
            return Err(BuildError::BadRoute);
        }
        if let Some(i) = payloads.iter().position(|p| p.len() < 2) {
            return Err(BuildError::ShortPayload(i));
        }
        let framed: Vec<Vec<u8>> = payloads
            .iter()
            .map(|p| {
                let mut w = Writer::new();
                BigSize::write(&mut w, p.len() as u64);
                w.put(p);
                // BigSize writing cannot fail.
                w.finish().unwrap_or_default()
            })
            .collect();
        let total: usize = framed.iter().map(|f| f.len() + HMAC_LEN).sum();
        if total > area {
            return Err(BuildError::TooLarge(total));
        }
        let secrets = route_secrets(secp, session_key, hops).ok_or(BuildError::Blinding)?;
        let n = hops.len();

        // Filler: what the last n-1 hops' shifts push in from the right,
        // as the final hop will see it.
        let mut filler: Vec<u8> = Vec::new();
        for (i, f) in framed.iter().enumerate().take(n - 1) {
            let size = f.len() + HMAC_LEN;
            filler.extend(std::iter::repeat_n(0u8, size));
            let rho = derive_key(KeyType::Rho, &secrets[i].1);
            let mut s = vec![0u8; area + size];
            xor_stream(&rho, &mut s);
            let start = area - (filler.len() - size);
            for (b, k) in filler.iter_mut().zip(&s[start..]) {
                *b ^= k;
            }
        }

        let mut mix = vec![0u8; area];
        xor_stream(
            &derive_key(KeyType::Pad, &session_key.secret_bytes()),
            &mut mix,
        );
        let mut hmac = [0u8; 32];
        for i in (0..n).rev() {
            let f = &framed[i];
            let shift = f.len() + HMAC_LEN;
            mix.copy_within(0..area - shift, shift);
            mix[..f.len()].copy_from_slice(f);
            mix[f.len()..shift].copy_from_slice(&hmac);
            xor_stream(&derive_key(KeyType::Rho, &secrets[i].1), &mut mix);
            if i == n - 1 {
                mix[area - filler.len()..].copy_from_slice(&filler);
            }
            hmac = hmac_sha256(
                &derive_key(KeyType::Mu, &secrets[i].1),
                &[&mix, associated_data],
            );
        }
        let packet = OnionPacket {
            version: VERSION,
            public_key: secrets[0].0,
            hop_payloads: mix,
            hmac,
        };
        Ok((packet, secrets.into_iter().map(|(_, s)| s).collect()))
    }

    /// Peel one layer with this node's key: verify the HMAC, decrypt,
    /// read this hop's payload, and produce the next packet (or `Final`).
    pub fn peel<C: Verification>(
        &self,
        secp: &Secp256k1<C>,
        node_key: &SecretKey,
        associated_data: &[u8],
    ) -> Result<Peeled, PeelError> {
        if self.version != VERSION {
            return Err(PeelError::BadVersion(self.version));
        }
        let ss = shared_secret(&self.public_key, node_key);
        let mu = derive_key(KeyType::Mu, &ss);
        let expected = hmac_sha256(&mu, &[&self.hop_payloads[..], associated_data]);
        if !ct_eq(&expected, &self.hmac) {
            return Err(PeelError::BadHmac);
        }
        let area = self.hop_payloads.len();
        let mut buf = vec![0u8; 2 * area];
        buf[..area].copy_from_slice(&self.hop_payloads[..]);
        xor_stream(&derive_key(KeyType::Rho, &ss), &mut buf);

        let mut r = Reader::new(&buf[..area]);
        let len = BigSize::read(&mut r).map_err(|_| PeelError::BadPayload("bad length prefix"))?;
        if len < 2 {
            // 0 was the legacy format; 1 is reserved.
            return Err(PeelError::BadPayload("payload length 0 or 1"));
        }
        let prefix = area - r.remaining().len();
        let len = usize::try_from(len)
            .ok()
            .filter(|l| prefix + l + HMAC_LEN <= area)
            .ok_or(PeelError::BadPayload("payload longer than the packet"))?;
        let payload = buf[prefix..prefix + len].to_vec();
        let mut next_hmac = [0u8; 32];
        next_hmac.copy_from_slice(&buf[prefix + len..prefix + len + HMAC_LEN]);
        let shift = prefix + len + HMAC_LEN;

        let next = if next_hmac == [0u8; 32] {
            Next::Final
        } else {
            let b = blinding_factor(&self.public_key, &ss);
            let scalar = Scalar::from_be_bytes(b).map_err(|_| PeelError::BadPubkey)?;
            let public_key = self
                .public_key
                .mul_tweak(secp, &scalar)
                .map_err(|_| PeelError::BadPubkey)?;
            let hop_payloads = buf[shift..shift + area].to_vec();
            Next::Forward(OnionPacket {
                version: VERSION,
                public_key,
                hop_payloads,
                hmac: next_hmac,
            })
        };
        Ok(Peeled {
            shared_secret: ss,
            payload,
            next,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn setup() -> (Secp256k1<bitcoin::secp256k1::All>, SecretKey, OnionPacket) {
        let secp = Secp256k1::new();
        let node = SecretKey::from_slice(&[3; 32]).expect("key");
        let (p, _) = OnionPacket::build(
            &secp,
            &SecretKey::from_slice(&[1; 32]).expect("key"),
            &[PublicKey::from_secret_key(&secp, &node)],
            &[vec![2, 1, 7]],
            b"ad",
        )
        .expect("build");
        (secp, node, p)
    }

    #[test]
    fn typed_errors() {
        let (secp, node, p) = setup();
        let mut b = p.to_bytes();
        assert_eq!(
            OnionPacket::from_bytes(&b[1..]),
            Err(PeelError::BadLength(PACKET_LEN - 1))
        );
        b[0] = 1;
        assert_eq!(OnionPacket::from_bytes(&b), Err(PeelError::BadVersion(1)));
        b[0] = 0;
        b[1] = 0x05;
        assert_eq!(OnionPacket::from_bytes(&b), Err(PeelError::BadPubkey));
        let mut q = p.clone();
        q.hmac[0] ^= 1;
        assert_eq!(q.peel(&secp, &node, b"ad"), Err(PeelError::BadHmac));
        let peeled = p.peel(&secp, &node, b"ad").expect("peel");
        assert_eq!(peeled.payload, vec![2, 1, 7]);
        assert_eq!(peeled.next, Next::Final);
    }

    #[test]
    fn build_limits() {
        let secp = Secp256k1::new();
        let s = SecretKey::from_slice(&[1; 32]).expect("key");
        let pk = PublicKey::from_secret_key(&secp, &s);
        assert_eq!(
            OnionPacket::build(&secp, &s, &[], &[], &[]).err(),
            Some(BuildError::BadRoute)
        );
        assert_eq!(
            OnionPacket::build(&secp, &s, &[pk], &[vec![1]], &[]).err(),
            Some(BuildError::ShortPayload(0))
        );
        // 1300 - 3 (prefix) - 32 (hmac) = 1265 bytes fit exactly; one more does not.
        assert!(OnionPacket::build(&secp, &s, &[pk], &[vec![0; 1265]], &[]).is_ok());
        assert_eq!(
            OnionPacket::build(&secp, &s, &[pk], &[vec![0; 1266]], &[]).err(),
            Some(BuildError::TooLarge(1301))
        );
    }

    /// Onion messages may use the larger packet: 32768 bytes of payloads
    /// carry hop payloads a payment onion could not.
    #[test]
    fn large_onion_message_packets_build_and_peel() {
        let secp = Secp256k1::new();
        let keys: Vec<SecretKey> = (1..=3u8)
            .map(|i| SecretKey::from_slice(&[i; 32]).expect("key"))
            .collect();
        let ids: Vec<PublicKey> = keys
            .iter()
            .map(|k| PublicKey::from_secret_key(&secp, k))
            .collect();
        let payloads: Vec<Vec<u8>> = (0..3u8).map(|i| vec![i; 5000]).collect();
        let session = SecretKey::from_slice(&[9; 32]).expect("key");
        assert!(matches!(
            OnionPacket::build(&secp, &session, &ids, &payloads, &[]),
            Err(BuildError::TooLarge(_))
        ));
        let (p, _) = OnionPacket::build_sized(
            &secp,
            &session,
            &ids,
            &payloads,
            &[],
            LARGE_HOP_PAYLOADS_LEN,
        )
        .expect("fits in the large packet");
        let bytes = p.to_bytes();
        assert_eq!(bytes.len(), 32834);
        assert!(matches!(
            OnionPacket::from_bytes(&bytes),
            Err(PeelError::BadLength(32834))
        ));
        let mut packet = OnionPacket::from_bytes_any_len(&bytes).expect("any length");
        for (i, key) in keys.iter().enumerate() {
            let peeled = packet.peel(&secp, key, &[]).expect("peel");
            assert_eq!(peeled.payload, payloads[i]);
            match peeled.next {
                Next::Forward(next) => {
                    assert_eq!(next.to_bytes().len(), 32834);
                    packet = next;
                }
                Next::Final => assert_eq!(i, 2),
            }
        }
        // Too short, too long, and over u16 are refused.
        assert!(OnionPacket::from_bytes_any_len(&bytes[..66]).is_err());
        assert!(OnionPacket::from_bytes_any_len(&vec![0; MAX_PACKET_LEN + 1]).is_err());
        assert!(matches!(
            OnionPacket::build_sized(&secp, &session, &ids, &payloads, &[], MAX_PACKET_LEN),
            Err(BuildError::TooLarge(_))
        ));
    }

    #[test]
    fn bad_payload_length_is_typed() {
        // Forge validly authenticated packets whose decrypted payload
        // length is 0, overruns the packet, or is the reserved 1.
        let (secp, node, p) = setup();
        let ss = shared_secret(&p.public_key, &node);
        let rho = derive_key(KeyType::Rho, &ss);
        for first in [[0x00u8, 0x00, 0x00], [0xfd, 0x05, 0x00], [0x01, 0x00, 0x00]] {
            let mut plain = [0u8; HOP_PAYLOADS_LEN];
            plain[..3].copy_from_slice(&first);
            xor_stream(&rho, &mut plain);
            let hmac = hmac_sha256(&derive_key(KeyType::Mu, &ss), &[&plain, b"ad"]);
            let q = OnionPacket {
                version: VERSION,
                public_key: p.public_key,
                hop_payloads: plain.to_vec(),
                hmac,
            };
            assert!(matches!(
                q.peel(&secp, &node, b"ad"),
                Err(PeelError::BadPayload(_))
            ));
        }
    }
}
