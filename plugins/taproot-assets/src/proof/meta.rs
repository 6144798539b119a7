//! Meta reveals (tapd `proof/meta.go`): the asset metadata whose hash is
//! the genesis meta hash.

use sha2::{Digest, Sha256};

use crate::asset::SerializedKey;
use crate::encoding::{
    DecodeError, Reader, StreamWriter, UnknownOddTypes, expect_len, keep_unknown, parse_stream,
    write_bigsize, write_var_bytes,
};

/// Opaque metadata.
pub const META_OPAQUE: u8 = 0;
/// JSON metadata (must parse).
pub const META_JSON: u8 = 1;
/// Largest allowed metadata, in bytes (1 MiB).
pub const META_DATA_MAX_SIZE: usize = 1024 * 1024;
/// Largest allowed decimal display.
pub const MAX_DECIMAL_DISPLAY: u32 = 12;
/// Most canonical universe URLs (DoS guard).
pub const MAX_CANONICAL_UNIVERSES: u64 = 16;

const T_TYPE: u64 = 0;
const T_DATA: u64 = 2;
const T_DECIMAL_DISPLAY: u64 = 5;
const T_UNIVERSE_COMMITMENTS: u64 = 7;
const T_CANONICAL_UNIVERSES: u64 = 9;
const T_DELEGATION_KEY: u64 = 11;

/// Why a decoded meta reveal is not acceptable.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MetaError {
    /// Type JSON but the data does not parse as JSON.
    #[error("meta reveal: invalid JSON")]
    InvalidJson,
    /// Data larger than [`META_DATA_MAX_SIZE`].
    #[error("meta reveal: data too large")]
    DataTooLarge,
    /// No data at all.
    #[error("meta reveal: data is empty")]
    DataMissing,
    /// Decimal display above [`MAX_DECIMAL_DISPLAY`].
    #[error("meta reveal: decimal display {0} is too large")]
    DecimalDisplayTooLarge(u32),
    /// Meta type this crate does not know.
    #[error("meta reveal: unknown meta type {0}")]
    UnknownType(u8),
}

/// A decoded meta reveal. Optional fields remember whether they were
/// present so that re-encoding is byte-exact.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct MetaReveal {
    /// Meta type ([`META_OPAQUE`], [`META_JSON`]).
    pub meta_type: u8,
    /// The metadata.
    pub data: Vec<u8>,
    /// Decimal display (TLV 5).
    pub decimal_display: Option<u32>,
    /// Universe commitments flag (TLV 7).
    pub universe_commitments: Option<bool>,
    /// Canonical universe URLs (TLV 9).
    pub canonical_universes: Option<Vec<String>>,
    /// Delegation key (TLV 11).
    pub delegation_key: Option<SerializedKey>,
    /// Unknown odd records.
    pub unknown_odd_types: UnknownOddTypes,
}

impl MetaReveal {
    /// The TLV stream.
    pub fn encode(&self) -> Vec<u8> {
        let mut w = StreamWriter::new();
        w.record(T_TYPE, vec![self.meta_type]);
        w.record(T_DATA, self.data.clone());
        if let Some(d) = self.decimal_display {
            w.record(T_DECIMAL_DISPLAY, d.to_be_bytes().to_vec());
        }
        if let Some(u) = self.universe_commitments {
            w.record(T_UNIVERSE_COMMITMENTS, vec![u8::from(u)]);
        }
        if let Some(urls) = &self.canonical_universes {
            let mut v = Vec::new();
            write_bigsize(&mut v, urls.len() as u64);
            for u in urls {
                write_var_bytes(&mut v, u.as_bytes());
            }
            w.record(T_CANONICAL_UNIVERSES, v);
        }
        if let Some(k) = &self.delegation_key {
            w.record(T_DELEGATION_KEY, k.0.to_vec());
        }
        w.unknown(&self.unknown_odd_types);
        w.finish()
    }

    /// SHA256 of the encoding: the genesis meta hash.
    pub fn meta_hash(&self) -> [u8; 32] {
        Sha256::digest(self.encode()).into()
    }

    /// Decodes the TLV stream (limits only; see [`validate`](Self::validate)).
    pub fn decode(bytes: &[u8]) -> Result<Self, DecodeError> {
        let mut m = MetaReveal::default();
        let mut seen_type = false;
        for rec in parse_stream(bytes)? {
            let v = rec.value;
            match rec.typ {
                T_TYPE => {
                    expect_len("meta type", v, 1)?;
                    m.meta_type = v[0];
                    seen_type = true;
                }
                T_DATA => {
                    if v.len() > META_DATA_MAX_SIZE {
                        return Err(DecodeError::LimitExceeded {
                            what: "meta data",
                            limit: META_DATA_MAX_SIZE as u64,
                        });
                    }
                    m.data = v.to_vec();
                }
                T_DECIMAL_DISPLAY => {
                    expect_len("decimal display", v, 4)?;
                    m.decimal_display = Some(u32::from_be_bytes([v[0], v[1], v[2], v[3]]));
                }
                T_UNIVERSE_COMMITMENTS => {
                    expect_len("universe commitments", v, 1)?;
                    m.universe_commitments = Some(match v[0] {
                        0 => false,
                        1 => true,
                        _ => {
                            return Err(DecodeError::InvalidValue {
                                field: "universe commitments",
                                reason: "boolean must be 0 or 1",
                            });
                        }
                    });
                }
                T_CANONICAL_UNIVERSES => {
                    let mut r = Reader::new(v);
                    let n = r.bigsize("canonical universe count")?;
                    if n > MAX_CANONICAL_UNIVERSES {
                        return Err(DecodeError::LimitExceeded {
                            what: "canonical universes",
                            limit: MAX_CANONICAL_UNIVERSES,
                        });
                    }
                    let mut urls = Vec::new();
                    for _ in 0..n {
                        let s = r.var_bytes("canonical universe url")?;
                        urls.push(String::from_utf8(s.to_vec()).map_err(|_| {
                            DecodeError::InvalidValue {
                                field: "canonical universe url",
                                reason: "not UTF-8",
                            }
                        })?);
                    }
                    r.finish("canonical universes")?;
                    m.canonical_universes = Some(urls);
                }
                T_DELEGATION_KEY => {
                    expect_len("delegation key", v, 33)?;
                    let mut k = [0u8; 33];
                    k.copy_from_slice(v);
                    m.delegation_key = Some(SerializedKey::parse(k, "delegation key")?);
                }
                _ => keep_unknown(&mut m.unknown_odd_types, rec)?,
            }
        }
        if !seen_type {
            return Err(DecodeError::MissingRecord("meta type"));
        }
        Ok(m)
    }

    /// tapd's semantic checks: known type, non-empty data within the size
    /// limit, valid JSON for JSON metadata, decimal display within range.
    pub fn validate(&self) -> Result<(), MetaError> {
        if self.data.is_empty() {
            return Err(MetaError::DataMissing);
        }
        if self.data.len() > META_DATA_MAX_SIZE {
            return Err(MetaError::DataTooLarge);
        }
        match self.meta_type {
            META_OPAQUE => {}
            META_JSON => {
                serde_json::from_slice::<serde_json::Value>(&self.data)
                    .map_err(|_| MetaError::InvalidJson)?;
            }
            t => return Err(MetaError::UnknownType(t)),
        }
        if let Some(d) = self.decimal_display
            && d > MAX_DECIMAL_DISPLAY
        {
            return Err(MetaError::DecimalDisplayTooLarge(d));
        }
        Ok(())
    }
}
