//! tapd's JSON test-vector shapes for assets (`asset/mock.go` `TestAsset`
//! and friends) and their conversion into [`Asset`], with the same checks
//! and error texts as tapd's `ToAsset`.
//!
//! Only the test-vector format lives here; it is not a wire format.

use std::collections::BTreeMap;
use std::str::FromStr;

use bitcoin::OutPoint;
use serde::Deserialize;

use super::{Asset, AssetId, Genesis, PrevId, SerializedKey, SplitCommitment, Witness};
use crate::encoding::{DecodeError, UnknownOddTypes};
use crate::mssmt::{self, NodeHash, Proof};

/// Hex length of a compressed public key.
const HEX_COMPRESSED_PUB_KEY_LEN: usize = 66;

/// Why a JSON test asset does not convert.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum VectorError {
    /// No genesis outpoint or meta hash.
    #[error("missing genesis fields")]
    MissingGenesisFields,
    /// No script key.
    #[error("missing script key")]
    MissingScriptKey,
    /// Script key hex is not 66 characters.
    #[error("invalid script key length")]
    InvalidScriptKeyLength,
    /// A group key object without a key.
    #[error("missing group key")]
    MissingGroupKey,
    /// Group key hex is not 66 characters.
    #[error("invalid group key length")]
    InvalidGroupKeyLength,
    /// Bad hex in the named field.
    #[error("invalid hex in {0}")]
    InvalidHex(&'static str),
    /// An outpoint not of the form `txid:vout`.
    #[error("invalid outpoint {0:?}")]
    InvalidOutPoint(String),
    /// A decimal string that is not a `u64`, or a bad TLV type key.
    #[error("invalid number {0:?}")]
    InvalidNumber(String),
    /// Bad base64 in unknown odd types.
    #[error("invalid base64")]
    InvalidBase64,
    /// A value that fails the binary decoder's checks (keys, proofs).
    #[error(transparent)]
    Decode(#[from] DecodeError),
}

/// JSON `prev_id`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct TestPrevId {
    /// `txid:vout` (display hex).
    pub out_point: String,
    /// Hex asset ID.
    pub asset_id: String,
    /// Hex 33-byte script key.
    pub script_key: String,
}

/// JSON split commitment.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct TestSplitCommitment {
    /// Hex compressed proof.
    pub proof: String,
    /// The root asset.
    pub root_asset: Option<Box<TestAsset>>,
}

/// JSON witness.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct TestWitness {
    /// Spent input.
    pub prev_id: Option<TestPrevId>,
    /// Hex stack items.
    pub tx_witness: Option<Vec<String>>,
    /// Split commitment.
    pub split_commitment: Option<TestSplitCommitment>,
}

/// JSON MS-SMT node.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct TestNode {
    /// Hex hash.
    pub hash: String,
    /// Decimal sum.
    pub sum: String,
}

/// JSON group key.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct TestGroupKey {
    /// Hex 33-byte tweaked group key.
    pub group_key: Option<String>,
}

/// JSON asset (tapd `TestAsset`).
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct TestAsset {
    /// Asset version.
    pub version: u8,
    /// `txid:vout`.
    pub genesis_first_prev_out: String,
    /// Tag text.
    pub genesis_tag: String,
    /// Hex meta hash.
    pub genesis_meta_hash: String,
    /// Genesis output index.
    pub genesis_output_index: u32,
    /// Asset type.
    pub genesis_type: u8,
    /// Amount.
    pub amount: u64,
    /// Lock time.
    pub lock_time: u64,
    /// Relative lock time.
    pub relative_lock_time: u64,
    /// Witnesses.
    pub prev_witnesses: Option<Vec<TestWitness>>,
    /// Split root.
    pub split_commitment_root: Option<TestNode>,
    /// Script version.
    pub script_version: u16,
    /// Hex script key.
    pub script_key: String,
    /// Group key.
    pub group_key: Option<TestGroupKey>,
    /// Unknown odd records: decimal type → base64 value (Go's `[]byte`).
    pub unknown_odd_types: Option<BTreeMap<String, String>>,
}

fn parse_hex<const N: usize>(s: &str, field: &'static str) -> Result<[u8; N], VectorError> {
    hex::decode(s)
        .ok()
        .and_then(|v| v.try_into().ok())
        .ok_or(VectorError::InvalidHex(field))
}

fn parse_outpoint(s: &str) -> Result<OutPoint, VectorError> {
    OutPoint::from_str(s).map_err(|_| VectorError::InvalidOutPoint(s.to_owned()))
}

fn parse_key(s: &str, field: &'static str) -> Result<SerializedKey, VectorError> {
    Ok(SerializedKey::parse(parse_hex(s, field)?, field)?)
}

/// Standard base64 (with padding), as Go's `encoding/json` writes `[]byte`.
pub fn decode_base64(s: &str) -> Result<Vec<u8>, VectorError> {
    fn val(c: u8) -> Option<u32> {
        match c {
            b'A'..=b'Z' => Some(u32::from(c - b'A')),
            b'a'..=b'z' => Some(u32::from(c - b'a') + 26),
            b'0'..=b'9' => Some(u32::from(c - b'0') + 52),
            b'+' => Some(62),
            b'/' => Some(63),
            _ => None,
        }
    }
    let bytes = s.as_bytes();
    if !bytes.len().is_multiple_of(4) {
        return Err(VectorError::InvalidBase64);
    }
    let mut out = Vec::with_capacity(bytes.len() / 4 * 3);
    for chunk in bytes.chunks(4) {
        let pad = chunk.iter().rev().take_while(|c| **c == b'=').count();
        if pad > 2 {
            return Err(VectorError::InvalidBase64);
        }
        let mut acc = 0u32;
        for (i, c) in chunk.iter().enumerate() {
            let v = if i >= 4 - pad {
                0
            } else {
                val(*c).ok_or(VectorError::InvalidBase64)?
            };
            acc = (acc << 6) | v;
        }
        let three = [(acc >> 16) as u8, (acc >> 8) as u8, acc as u8];
        out.extend_from_slice(&three[..3 - pad]);
    }
    Ok(out)
}

fn unknown_types(m: &Option<BTreeMap<String, String>>) -> Result<UnknownOddTypes, VectorError> {
    let mut out = UnknownOddTypes::new();
    for (k, v) in m.iter().flatten() {
        let typ = k
            .parse::<u64>()
            .map_err(|_| VectorError::InvalidNumber(k.clone()))?;
        out.insert(typ, decode_base64(v)?);
    }
    Ok(out)
}

impl TestWitness {
    /// Converts to a [`Witness`].
    pub fn to_witness(&self) -> Result<Witness, VectorError> {
        let prev_id = match &self.prev_id {
            None => None,
            Some(p) => Some(PrevId {
                out_point: parse_outpoint(&p.out_point)?,
                asset_id: AssetId(parse_hex(&p.asset_id, "prev id asset id")?),
                script_key: parse_key(&p.script_key, "prev id script key")?,
            }),
        };
        let tx_witness = self
            .tx_witness
            .iter()
            .flatten()
            .map(|h| hex::decode(h).map_err(|_| VectorError::InvalidHex("tx witness")))
            .collect::<Result<Vec<_>, _>>()?;
        let split_commitment = match &self.split_commitment {
            None => None,
            Some(sc) => {
                let bytes =
                    hex::decode(&sc.proof).map_err(|_| VectorError::InvalidHex("split proof"))?;
                let proof: Proof = mssmt::CompressedProof::decode(&bytes)?
                    .decompress()
                    .map_err(|_| DecodeError::InvalidValue {
                        field: "split commitment proof",
                        reason: "bitmap and node count disagree",
                    })?;
                let root = sc
                    .root_asset
                    .as_ref()
                    .ok_or(VectorError::MissingGenesisFields)?;
                Some(SplitCommitment {
                    proof,
                    root_asset: Box::new(root.to_asset()?),
                })
            }
        };
        Ok(Witness {
            prev_id,
            tx_witness,
            split_commitment,
            unknown_odd_types: UnknownOddTypes::new(),
        })
    }
}

impl TestAsset {
    /// Converts to an [`Asset`], checking fields in tapd's order.
    pub fn to_asset(&self) -> Result<Asset, VectorError> {
        if self.genesis_first_prev_out.is_empty() || self.genesis_meta_hash.is_empty() {
            return Err(VectorError::MissingGenesisFields);
        }
        if self.script_key.is_empty() {
            return Err(VectorError::MissingScriptKey);
        }
        if self.script_key.len() != HEX_COMPRESSED_PUB_KEY_LEN {
            return Err(VectorError::InvalidScriptKeyLength);
        }
        if let Some(gk) = &self.group_key {
            match gk.group_key.as_deref() {
                None | Some("") => return Err(VectorError::MissingGroupKey),
                Some(k) if k.len() != HEX_COMPRESSED_PUB_KEY_LEN => {
                    return Err(VectorError::InvalidGroupKeyLength);
                }
                Some(_) => {}
            }
        }
        let genesis = Genesis {
            first_prev_out: parse_outpoint(&self.genesis_first_prev_out)?,
            tag: self.genesis_tag.as_bytes().to_vec(),
            meta_hash: parse_hex(&self.genesis_meta_hash, "genesis meta hash")?,
            output_index: self.genesis_output_index,
            asset_type: self.genesis_type,
        };
        let prev_witnesses = self
            .prev_witnesses
            .iter()
            .flatten()
            .map(TestWitness::to_witness)
            .collect::<Result<Vec<_>, _>>()?;
        let split_commitment_root = match &self.split_commitment_root {
            None => None,
            Some(n) => Some(mssmt::Node {
                hash: NodeHash(parse_hex(&n.hash, "split root hash")?),
                sum: n
                    .sum
                    .parse()
                    .map_err(|_| VectorError::InvalidNumber(n.sum.clone()))?,
            }),
        };
        let group_key = match self.group_key.as_ref().and_then(|g| g.group_key.as_deref()) {
            None => None,
            Some(k) => Some(parse_key(k, "group key")?),
        };
        Ok(Asset {
            version: self.version,
            genesis,
            amount: self.amount,
            lock_time: self.lock_time,
            relative_lock_time: self.relative_lock_time,
            prev_witnesses,
            split_commitment_root,
            script_version: self.script_version,
            script_key: parse_key(&self.script_key, "script key")?,
            group_key,
            unknown_odd_types: unknown_types(&self.unknown_odd_types)?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base64_decodes() {
        assert_eq!(
            decode_base64("dGhlIGdyZWF0IHVua25vd24=").unwrap(),
            b"the great unknown"
        );
        assert_eq!(decode_base64("").unwrap(), b"");
        assert_eq!(decode_base64("YQ==").unwrap(), b"a");
        assert!(decode_base64("YQ=").is_err());
        assert!(decode_base64("Y===").is_err());
    }
}
