//! Tapscript sibling preimages (tapd `commitment.TapscriptPreimage`), as
//! carried in addresses, proofs and vPSBTs.
//!
//! Encoding: u8 type ‖ data. Type 0 (leaf): u8 leaf version ‖ CompactSize
//! script length ‖ script. Type 1 (branch): left hash ‖ right hash.

use bitcoin::consensus::{Decodable, Encodable};
use bitcoin::{VarInt, io::Cursor};

use crate::encoding::DecodeError;

/// A revealed tapscript sibling.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TapscriptPreimage {
    /// A single leaf.
    Leaf {
        /// Leaf version (0xc0 for tapscript).
        version: u8,
        /// Script bytes.
        script: Vec<u8>,
    },
    /// A branch given by its two child hashes (64 bytes).
    Branch([u8; 64]),
}

const TYPE_LEAF: u8 = 0;
const TYPE_BRANCH: u8 = 1;

impl TapscriptPreimage {
    /// Serialises as u8 type ‖ data.
    pub fn encode(&self) -> Vec<u8> {
        match self {
            Self::Leaf { version, script } => {
                let mut out = vec![TYPE_LEAF, *version];
                // Writing to a Vec cannot fail.
                let _ = VarInt(script.len() as u64).consensus_encode(&mut out);
                out.extend_from_slice(script);
                out
            }
            Self::Branch(b) => {
                let mut out = vec![TYPE_BRANCH];
                out.extend_from_slice(b);
                out
            }
        }
    }

    /// Parses exactly one preimage.
    pub fn decode(bytes: &[u8]) -> Result<Self, DecodeError> {
        let (&typ, rest) = bytes
            .split_first()
            .ok_or(DecodeError::UnexpectedEof("tapscript preimage type"))?;
        match typ {
            TYPE_LEAF => {
                let (&version, rest) = rest
                    .split_first()
                    .ok_or(DecodeError::UnexpectedEof("tapscript leaf version"))?;
                let mut cur = Cursor::new(rest);
                let len = VarInt::consensus_decode(&mut cur)
                    .map_err(|_| DecodeError::UnexpectedEof("tapscript leaf script length"))?
                    .0;
                let start = cur.position() as usize;
                let script = rest
                    .get(start..)
                    .ok_or(DecodeError::UnexpectedEof("tapscript leaf script"))?;
                if (script.len() as u64) < len {
                    return Err(DecodeError::UnexpectedEof("tapscript leaf script"));
                }
                if script.len() as u64 > len {
                    return Err(DecodeError::TrailingBytes("tapscript leaf"));
                }
                Ok(Self::Leaf {
                    version,
                    script: script.to_vec(),
                })
            }
            TYPE_BRANCH => {
                let arr: [u8; 64] = rest.try_into().map_err(|_| DecodeError::InvalidLength {
                    field: "tapscript branch preimage",
                    expected: 64,
                    got: rest.len() as u64,
                })?;
                Ok(Self::Branch(arr))
            }
            _ => Err(DecodeError::InvalidValue {
                field: "tapscript preimage",
                reason: "unknown preimage type",
            }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roundtrip_and_errors() {
        let leaf = hex::decode("00c0126e6f7420612076616c696420736372697074").unwrap();
        let p = TapscriptPreimage::decode(&leaf).unwrap();
        assert_eq!(p.encode(), leaf);
        let branch = [vec![1u8], vec![7u8; 64]].concat();
        assert_eq!(TapscriptPreimage::decode(&branch).unwrap().encode(), branch);
        assert!(TapscriptPreimage::decode(&[]).is_err());
        assert!(TapscriptPreimage::decode(&[1, 2]).is_err());
        assert!(TapscriptPreimage::decode(&[0, 0xc0, 5, 1]).is_err());
        assert!(TapscriptPreimage::decode(&[2]).is_err());
    }
}
