//! Burn keys: provably unspendable script keys bound to the burnt input.

use bitcoin::hashes::Hash as _;
use secp256k1::{Scalar, XOnlyPublicKey};
use sha2::{Digest, Sha256};

use super::PrevId;

/// tapd's NUMS point (try-and-increment from "taproot-assets").
pub const NUMS_KEY: &str = "027c79b9b26e463895eef5679d8558942c86c4ad2233adef01bc3e6d540b3653fe";

/// Why a burn key could not be derived.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BurnKeyError {
    /// The tweak is not a valid scalar or produced the point at infinity
    /// (negligible probability), or the NUMS constant did not parse.
    #[error("burn key: invalid tweak")]
    InvalidTweak,
}

fn tagged_hash(tag: &str, parts: &[&[u8]]) -> [u8; 32] {
    let tag_hash = Sha256::digest(tag.as_bytes());
    let mut h = Sha256::new();
    h.update(tag_hash);
    h.update(tag_hash);
    for p in parts {
        h.update(p);
    }
    h.finalize().into()
}

/// x coordinate of [`NUMS_KEY`].
const NUMS_X: [u8; 32] = [
    0x7c, 0x79, 0xb9, 0xb2, 0x6e, 0x46, 0x38, 0x95, 0xee, 0xf5, 0x67, 0x9d, 0x85, 0x58, 0x94, 0x2c,
    0x86, 0xc4, 0xad, 0x22, 0x33, 0xad, 0xef, 0x01, 0xbc, 0x3e, 0x6d, 0x54, 0x0b, 0x36, 0x53, 0xfe,
];

/// [`NUMS_KEY`] as compressed-key bytes (even y, then [`NUMS_X`]).
pub const NUMS_KEY_BYTES: [u8; 33] = {
    let mut k = [0x02; 33];
    let mut i = 0;
    while i < 32 {
        k[i + 1] = NUMS_X[i];
        i += 1;
    }
    k
};

/// The burn key of the first input `prev_id`: x-only of
/// TapTweak(NUMS, outpoint wire form ‖ asset ID ‖ x-only script key).
/// The 72-byte message cannot be mistaken for a 32-byte tapscript root.
pub fn burn_key(prev_id: &PrevId) -> Result<XOnlyPublicKey, BurnKeyError> {
    let nums = XOnlyPublicKey::from_slice(&NUMS_X).map_err(|_| BurnKeyError::InvalidTweak)?;
    let mut msg = Vec::with_capacity(72);
    msg.extend_from_slice(prev_id.out_point.txid.as_byte_array());
    msg.extend_from_slice(&prev_id.out_point.vout.to_le_bytes());
    msg.extend_from_slice(&prev_id.asset_id.0);
    msg.extend_from_slice(&prev_id.script_key.x_only());
    let tweak = tagged_hash("TapTweak", &[&nums.serialize(), &msg]);
    let scalar = Scalar::from_be_bytes(tweak).map_err(|_| BurnKeyError::InvalidTweak)?;
    let (tweaked, _parity) = nums
        .add_tweak(secp256k1::SECP256K1, &scalar)
        .map_err(|_| BurnKeyError::InvalidTweak)?;
    Ok(tweaked)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nums_key_bytes_match_the_hex() {
        assert_eq!(hex::encode(NUMS_KEY_BYTES), NUMS_KEY);
    }
}
