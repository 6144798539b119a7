//! 33-byte compressed keys as tapd stores them.

use crate::encoding::DecodeError;

/// A compressed public key as 33 bytes. Either a valid secp256k1 point or
/// all zeros (tapd's "empty key", used in zero PrevIDs).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct SerializedKey(pub [u8; 33]);

impl SerializedKey {
    /// The all-zero "empty" key.
    pub const ZERO: SerializedKey = SerializedKey([0; 33]);

    /// Accepts the zero key or a valid compressed point.
    pub fn parse(bytes: [u8; 33], field: &'static str) -> Result<Self, DecodeError> {
        if bytes == [0; 33] || secp256k1::PublicKey::from_slice(&bytes).is_ok() {
            Ok(Self(bytes))
        } else {
            Err(DecodeError::InvalidPublicKey(field))
        }
    }

    /// True for the zero key.
    pub fn is_zero(&self) -> bool {
        self.0 == [0; 33]
    }

    /// The 32-byte x coordinate (BIP-340 form); zeros for the zero key.
    pub fn x_only(&self) -> [u8; 32] {
        let mut out = [0u8; 32];
        out.copy_from_slice(&self.0[1..]);
        out
    }

    /// As a secp256k1 key (`None` for the zero key).
    pub fn to_public_key(&self) -> Option<secp256k1::PublicKey> {
        secp256k1::PublicKey::from_slice(&self.0).ok()
    }
}
