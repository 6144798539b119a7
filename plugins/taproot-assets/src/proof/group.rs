//! Group key reveals (proof TLV 25): how a group anchor's tweaked group key
//! is derived.
//!
//! V0 is not TLV: raw key (33) ‖ optional tapscript root (32). V1 is a TLV
//! stream (0 leaf flavour, 2 internal key, 4 tapscript root, 7 custom
//! subtree root). Decoders pick by length (≤ 65 bytes: V0).

use bitcoin::hashes::Hash as _;
use bitcoin::key::TapTweak as _;
use bitcoin::secp256k1::Scalar;
use bitcoin::taproot::TapNodeHash;

use crate::asset::{AssetId, SerializedKey};
use crate::encoding::{
    DecodeError, Reader, StreamWriter, UnknownOddTypes, expect_len, keep_unknown, parse_stream,
};

/// A group key reveal.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum GroupKeyReveal {
    /// Version 0.
    V0 {
        /// The raw (untweaked) group key.
        raw_key: SerializedKey,
        /// Optional tapscript root.
        tapscript_root: Option<[u8; 32]>,
    },
    /// Version 1.
    V1 {
        /// Non-spendable leaf flavour (1 OP_RETURN, 2 Pedersen).
        version: u8,
        /// Internal key.
        internal_key: SerializedKey,
        /// Tapscript root (commits to the asset ID).
        tapscript_root: [u8; 32],
        /// Optional custom subtree root.
        custom_subtree_root: Option<[u8; 32]>,
        /// Unknown odd records.
        unknown_odd_types: UnknownOddTypes,
    },
}

/// Why a reveal does not produce the asset's group key.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum GroupRevealError {
    /// A key in the reveal is the zero key.
    #[error("group key reveal: invalid key")]
    InvalidKey,
    /// The tweak is not a valid scalar or the result is infinity.
    #[error("group key reveal: tweak failed")]
    Tweak,
}

fn key(v: &[u8], field: &'static str) -> Result<SerializedKey, DecodeError> {
    expect_len(field, v, 33)?;
    let mut k = [0u8; 33];
    k.copy_from_slice(v);
    SerializedKey::parse(k, field)
}

fn arr32(v: &[u8], field: &'static str) -> Result<[u8; 32], DecodeError> {
    expect_len(field, v, 32)?;
    let mut k = [0u8; 32];
    k.copy_from_slice(v);
    Ok(k)
}

impl GroupKeyReveal {
    /// The record value.
    pub fn encode(&self) -> Vec<u8> {
        match self {
            Self::V0 {
                raw_key,
                tapscript_root,
            } => {
                let mut out = raw_key.0.to_vec();
                if let Some(r) = tapscript_root {
                    out.extend_from_slice(r);
                }
                out
            }
            Self::V1 {
                version,
                internal_key,
                tapscript_root,
                custom_subtree_root,
                unknown_odd_types,
            } => {
                let mut w = StreamWriter::new();
                w.record(0, vec![*version]);
                w.record(2, internal_key.0.to_vec());
                w.record(4, tapscript_root.to_vec());
                if let Some(c) = custom_subtree_root {
                    w.record(7, c.to_vec());
                }
                w.unknown(unknown_odd_types);
                w.finish()
            }
        }
    }

    /// Decodes a record value.
    pub fn decode(bytes: &[u8]) -> Result<Self, DecodeError> {
        if bytes.len() <= 65 {
            let mut r = Reader::new(bytes);
            let raw_key = key(r.bytes(33, "group key reveal raw key")?, "group raw key")?;
            let tapscript_root = match r.remaining() {
                0 => None,
                32 => Some(r.array("group key reveal tapscript root")?),
                n => {
                    return Err(DecodeError::InvalidLength {
                        field: "group key reveal v0",
                        expected: 65,
                        got: 33 + n as u64,
                    });
                }
            };
            return Ok(Self::V0 {
                raw_key,
                tapscript_root,
            });
        }
        let (mut version, mut internal_key, mut root, mut custom) = (None, None, None, None);
        let mut unknown = UnknownOddTypes::new();
        for rec in parse_stream(bytes)? {
            match rec.typ {
                0 => {
                    expect_len("group key reveal version", rec.value, 1)?;
                    version = Some(rec.value[0]);
                }
                2 => internal_key = Some(key(rec.value, "group internal key")?),
                4 => root = Some(arr32(rec.value, "group tapscript root")?),
                7 => custom = Some(arr32(rec.value, "group custom subtree root")?),
                _ => keep_unknown(&mut unknown, rec)?,
            }
        }
        Ok(Self::V1 {
            version: version.ok_or(DecodeError::MissingRecord("group key reveal version"))?,
            internal_key: internal_key.ok_or(DecodeError::MissingRecord("group internal key"))?,
            tapscript_root: root.ok_or(DecodeError::MissingRecord("group tapscript root"))?,
            custom_subtree_root: custom,
            unknown_odd_types: unknown,
        })
    }

    /// The tweaked group key this reveal derives for the group anchor
    /// `asset_id`. V0: TapTweak(raw + id·G, root). V1: TapTweak(internal,
    /// root); that the V1 root really commits to the asset ID (its
    /// non-spendable leaf) is not checked here.
    pub fn group_key(&self, asset_id: &AssetId) -> Result<SerializedKey, GroupRevealError> {
        let secp = bitcoin::secp256k1::SECP256K1;
        let (internal, root) = match self {
            Self::V0 {
                raw_key,
                tapscript_root,
            } => {
                let raw = raw_key
                    .to_public_key()
                    .ok_or(GroupRevealError::InvalidKey)?;
                let tweak =
                    Scalar::from_be_bytes(asset_id.0).map_err(|_| GroupRevealError::Tweak)?;
                let internal = raw
                    .add_exp_tweak(secp, &tweak)
                    .map_err(|_| GroupRevealError::Tweak)?;
                (internal, *tapscript_root)
            }
            Self::V1 {
                internal_key,
                tapscript_root,
                ..
            } => (
                internal_key
                    .to_public_key()
                    .ok_or(GroupRevealError::InvalidKey)?,
                Some(*tapscript_root),
            ),
        };
        let (x, _) = internal.x_only_public_key();
        let (tweaked, parity) = x.tap_tweak(secp, root.map(TapNodeHash::from_byte_array));
        let full = tweaked.to_x_only_public_key().public_key(parity);
        Ok(SerializedKey(full.serialize()))
    }
}
