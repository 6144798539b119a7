//! BIP-32 derivation values as PSBTs carry them.

use bitcoin::VarInt;
use bitcoin::consensus::{Decodable, Encodable};

use super::PsbtError;

/// A BIP-32 derivation of a 33-byte key (value: fingerprint ‖ path, all
/// u32 little-endian).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Bip32Derivation {
    /// Compressed public key (part of the PSBT key).
    pub pub_key: [u8; 33],
    /// Master key fingerprint, as the 4 bytes read little-endian.
    pub fingerprint: u32,
    /// Derivation path.
    pub path: Vec<u32>,
}

/// A taproot BIP-32 derivation of an x-only key (value: CompactSize leaf
/// hash count ‖ hashes ‖ fingerprint ‖ path).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TaprootBip32Derivation {
    /// x-only public key (part of the PSBT key).
    pub x_only: [u8; 32],
    /// Leaf hashes the key signs for.
    pub leaf_hashes: Vec<[u8; 32]>,
    /// Master key fingerprint, as the 4 bytes read little-endian.
    pub fingerprint: u32,
    /// Derivation path.
    pub path: Vec<u32>,
}

fn read_path(value: &[u8]) -> Result<(u32, Vec<u32>), PsbtError> {
    if value.len() < 4 || !value.len().is_multiple_of(4) {
        return Err(PsbtError::InvalidValue("bip32 derivation"));
    }
    let mut words = value
        .chunks_exact(4)
        .map(|c| u32::from_le_bytes([c[0], c[1], c[2], c[3]]));
    let fingerprint = words
        .next()
        .ok_or(PsbtError::InvalidValue("bip32 derivation"))?;
    Ok((fingerprint, words.collect()))
}

fn write_path(out: &mut Vec<u8>, fingerprint: u32, path: &[u32]) {
    out.extend_from_slice(&fingerprint.to_le_bytes());
    for p in path {
        out.extend_from_slice(&p.to_le_bytes());
    }
}

impl Bip32Derivation {
    /// Parses `key` (type byte ‖ compressed key) and value.
    pub fn decode(key: &[u8], value: &[u8]) -> Result<Self, PsbtError> {
        let pk = key
            .get(1..)
            .filter(|k| k.len() == 33)
            .ok_or(PsbtError::InvalidValue("bip32 derivation key length"))?;
        secp256k1::PublicKey::from_slice(pk)
            .map_err(|_| PsbtError::InvalidValue("bip32 derivation public key"))?;
        let mut pub_key = [0u8; 33];
        pub_key.copy_from_slice(pk);
        let (fingerprint, path) = read_path(value)?;
        Ok(Self {
            pub_key,
            fingerprint,
            path,
        })
    }

    /// The PSBT key under `typ` and the value.
    pub fn encode(&self, typ: u8) -> (Vec<u8>, Vec<u8>) {
        let mut key = vec![typ];
        key.extend_from_slice(&self.pub_key);
        let mut value = Vec::with_capacity(4 + 4 * self.path.len());
        write_path(&mut value, self.fingerprint, &self.path);
        (key, value)
    }
}

impl TaprootBip32Derivation {
    /// Parses `key` (type byte ‖ x-only key) and value.
    pub fn decode(key: &[u8], value: &[u8]) -> Result<Self, PsbtError> {
        let xk = key
            .get(1..)
            .filter(|k| k.len() == 32)
            .ok_or(PsbtError::InvalidValue(
                "taproot bip32 derivation key length",
            ))?;
        secp256k1::XOnlyPublicKey::from_slice(xk)
            .map_err(|_| PsbtError::InvalidValue("taproot bip32 derivation public key"))?;
        let mut x_only = [0u8; 32];
        x_only.copy_from_slice(xk);
        let mut slice = value;
        let count = VarInt::consensus_decode(&mut slice)
            .map_err(|_| PsbtError::InvalidValue("taproot bip32 derivation"))?
            .0;
        let hashes_len = count
            .checked_mul(32)
            .and_then(|n| usize::try_from(n).ok())
            .filter(|n| *n <= slice.len())
            .ok_or(PsbtError::InvalidValue("taproot bip32 derivation"))?;
        let (hashes, rest) = slice.split_at(hashes_len);
        let leaf_hashes = hashes
            .chunks_exact(32)
            .map(|c| {
                let mut h = [0u8; 32];
                h.copy_from_slice(c);
                h
            })
            .collect();
        let (fingerprint, path) = read_path(rest)?;
        Ok(Self {
            x_only,
            leaf_hashes,
            fingerprint,
            path,
        })
    }

    /// The PSBT key under `typ` and the value.
    pub fn encode(&self, typ: u8) -> (Vec<u8>, Vec<u8>) {
        let mut key = vec![typ];
        key.extend_from_slice(&self.x_only);
        let mut value = Vec::new();
        let _ = VarInt(self.leaf_hashes.len() as u64).consensus_encode(&mut value);
        for h in &self.leaf_hashes {
            value.extend_from_slice(h);
        }
        write_path(&mut value, self.fingerprint, &self.path);
        (key, value)
    }
}
