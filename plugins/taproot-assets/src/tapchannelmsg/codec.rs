//! Types and codecs of the channel blobs.

use super::{MAX_NUM_HTLCS, MAX_NUM_OUTPUTS};
use crate::asset::{AssetId, SerializedKey};
use crate::encoding::{
    DecodeError, Reader, StreamWriter, UnknownOddTypes, bigsize_bytes, expect_len, keep_unknown,
    parse_stream, write_bigsize, write_var_bytes,
};

/// Magic of a single proof.
const PROOF_MAGIC: &[u8; 4] = b"TAPP";

/// One asset UTXO of a channel: TLV {0 asset ID, 1 amount (u64), 2 proof}.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AssetOutput {
    /// Asset ID.
    pub asset_id: AssetId,
    /// Units.
    pub amount: u64,
    /// Last transition proof, raw `TAPP…` bytes.
    /// TODO(proof): `proof::Proof`.
    pub proof: Vec<u8>,
    /// Unknown odd records.
    pub unknown_odd_types: UnknownOddTypes,
}

/// A tapscript leaf: u8 version ‖ BigSize script length ‖ var-bytes script
/// (tapd writes the length twice).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TapLeaf {
    /// Leaf version.
    pub version: u8,
    /// Script.
    pub script: Vec<u8>,
}

/// Aux leaves of one HTLC: TLV {0 aux leaf, 1 second-level leaf}.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct HtlcAuxLeaf {
    /// The HTLC output's aux leaf.
    pub aux_leaf: Option<TapLeaf>,
    /// The second-level HTLC output's aux leaf.
    pub second_level_leaf: Option<TapLeaf>,
    /// Unknown odd records.
    pub unknown_odd_types: UnknownOddTypes,
}

/// An entry of an HTLC aux-leaf map.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HtlcAuxLeafEntry {
    /// HTLC index.
    pub htlc_index: u64,
    /// Its leaves.
    pub leaves: HtlcAuxLeaf,
}

/// An entry of an HTLC asset map: the HTLC index and a TLV stream whose
/// record 0 is the asset-output list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HtlcAssetEntry {
    /// HTLC index.
    pub htlc_index: u64,
    /// Asset outputs the HTLC carries.
    pub outputs: Vec<AssetOutput>,
    /// Unknown odd records of the entry's stream.
    pub unknown_odd_types: UnknownOddTypes,
}

/// Aux leaves of a commitment: TLV {0 local, 1 remote, 2 outgoing HTLC
/// map, 3 incoming HTLC map}.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct AuxLeaves {
    /// to_local aux leaf.
    pub local: Option<TapLeaf>,
    /// to_remote aux leaf.
    pub remote: Option<TapLeaf>,
    /// Outgoing HTLC leaves, in the order written.
    pub outgoing_htlcs: Option<Vec<HtlcAuxLeafEntry>>,
    /// Incoming HTLC leaves, in the order written.
    pub incoming_htlcs: Option<Vec<HtlcAuxLeafEntry>>,
    /// Unknown odd records.
    pub unknown_odd_types: UnknownOddTypes,
}

/// The per-channel blob: TLV {0 funded assets, 1 decimal display, 2 group
/// key}.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OpenChannel {
    /// Asset outputs in the funding output.
    pub funded_assets: Vec<AssetOutput>,
    /// Decimal display of the asset.
    pub decimal_display: Option<u8>,
    /// Group key the channel was funded with.
    pub group_key: Option<SerializedKey>,
    /// Unknown odd records.
    pub unknown_odd_types: UnknownOddTypes,
}

/// The per-commitment blob: TLV {0 local assets, 1 remote assets, 2
/// outgoing HTLC assets, 3 incoming HTLC assets, 4 aux leaves}.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Commitment {
    /// Local asset outputs.
    pub local_assets: Option<Vec<AssetOutput>>,
    /// Remote asset outputs.
    pub remote_assets: Option<Vec<AssetOutput>>,
    /// Outgoing HTLC assets, in the order written.
    pub outgoing_htlc_assets: Option<Vec<HtlcAssetEntry>>,
    /// Incoming HTLC assets, in the order written.
    pub incoming_htlc_assets: Option<Vec<HtlcAssetEntry>>,
    /// Aux leaves (length-prefixed inside the record).
    pub aux_leaves: Option<AuxLeaves>,
    /// Unknown odd records (the STXO flag, type 5, lands here).
    pub unknown_odd_types: UnknownOddTypes,
}

fn count(r: &mut Reader<'_>, what: &'static str, limit: u64) -> Result<u64, DecodeError> {
    let n = r.bigsize(what)?;
    if n > limit {
        return Err(DecodeError::LimitExceeded { what, limit });
    }
    Ok(n)
}

impl AssetOutput {
    /// The TLV stream.
    pub fn encode(&self) -> Vec<u8> {
        let mut w = StreamWriter::new();
        w.record(0, self.asset_id.0.to_vec());
        w.record(1, self.amount.to_be_bytes().to_vec());
        w.record(2, self.proof.clone());
        w.unknown(&self.unknown_odd_types);
        w.finish()
    }

    /// Decodes one asset output stream.
    pub fn decode(bytes: &[u8]) -> Result<Self, DecodeError> {
        let mut asset_id = None;
        let mut amount = None;
        let mut proof = None;
        let mut unknown = UnknownOddTypes::new();
        for rec in parse_stream(bytes)? {
            let v = rec.value;
            match rec.typ {
                0 => {
                    expect_len("asset output id", v, 32)?;
                    asset_id = Some(AssetId(Reader::new(v).array("asset output id")?));
                }
                1 => {
                    expect_len("asset output amount", v, 8)?;
                    amount = Some(Reader::new(v).u64_be("asset output amount")?);
                }
                2 => {
                    if !v.starts_with(PROOF_MAGIC) {
                        return Err(DecodeError::InvalidValue {
                            field: "asset output proof",
                            reason: "missing TAPP magic",
                        });
                    }
                    proof = Some(v.to_vec());
                }
                _ => keep_unknown(&mut unknown, rec)?,
            }
        }
        Ok(Self {
            asset_id: asset_id.ok_or(DecodeError::MissingRecord("asset output id"))?,
            amount: amount.ok_or(DecodeError::MissingRecord("asset output amount"))?,
            proof: proof.ok_or(DecodeError::MissingRecord("asset output proof"))?,
            unknown_odd_types: unknown,
        })
    }
}

fn encode_outputs(outputs: &[AssetOutput]) -> Vec<u8> {
    let mut v = bigsize_bytes(outputs.len() as u64);
    for o in outputs {
        write_var_bytes(&mut v, &o.encode());
    }
    v
}

fn decode_outputs(bytes: &[u8]) -> Result<Vec<AssetOutput>, DecodeError> {
    let mut r = Reader::new(bytes);
    let n = count(&mut r, "asset outputs", MAX_NUM_OUTPUTS)?;
    let mut out = Vec::new();
    for _ in 0..n {
        out.push(AssetOutput::decode(r.var_bytes("asset output")?)?);
    }
    r.finish("asset outputs")?;
    Ok(out)
}

impl TapLeaf {
    fn encode(&self) -> Vec<u8> {
        let mut v = vec![self.version];
        write_bigsize(&mut v, self.script.len() as u64);
        write_var_bytes(&mut v, &self.script);
        v
    }

    fn decode(bytes: &[u8]) -> Result<Self, DecodeError> {
        let mut r = Reader::new(bytes);
        let version = r.u8("leaf version")?;
        let declared = r.bigsize("leaf script length")?;
        let script = r.var_bytes("leaf script")?.to_vec();
        if declared != script.len() as u64 {
            return Err(DecodeError::InvalidValue {
                field: "tap leaf",
                reason: "script lengths disagree",
            });
        }
        r.finish("tap leaf")?;
        Ok(Self { version, script })
    }
}

impl HtlcAuxLeaf {
    fn encode(&self) -> Vec<u8> {
        let mut w = StreamWriter::new();
        if let Some(l) = &self.aux_leaf {
            w.record(0, l.encode());
        }
        if let Some(l) = &self.second_level_leaf {
            w.record(1, l.encode());
        }
        w.unknown(&self.unknown_odd_types);
        w.finish()
    }

    fn decode(bytes: &[u8]) -> Result<Self, DecodeError> {
        let mut h = HtlcAuxLeaf::default();
        for rec in parse_stream(bytes)? {
            match rec.typ {
                0 => h.aux_leaf = Some(TapLeaf::decode(rec.value)?),
                1 => h.second_level_leaf = Some(TapLeaf::decode(rec.value)?),
                _ => keep_unknown(&mut h.unknown_odd_types, rec)?,
            }
        }
        Ok(h)
    }
}

fn encode_leaf_map(entries: &[HtlcAuxLeafEntry]) -> Vec<u8> {
    let mut v = bigsize_bytes(entries.len() as u64);
    for e in entries {
        write_bigsize(&mut v, e.htlc_index);
        write_var_bytes(&mut v, &e.leaves.encode());
    }
    v
}

fn decode_leaf_map(bytes: &[u8]) -> Result<Vec<HtlcAuxLeafEntry>, DecodeError> {
    let mut r = Reader::new(bytes);
    let n = count(&mut r, "htlc aux leaves", MAX_NUM_HTLCS)?;
    let mut out = Vec::new();
    for _ in 0..n {
        let htlc_index = r.bigsize("htlc index")?;
        let leaves = HtlcAuxLeaf::decode(r.var_bytes("htlc aux leaf")?)?;
        out.push(HtlcAuxLeafEntry { htlc_index, leaves });
    }
    r.finish("htlc aux leaves")?;
    Ok(out)
}

fn encode_htlc_assets(entries: &[HtlcAssetEntry]) -> Vec<u8> {
    let mut v = bigsize_bytes(entries.len() as u64);
    for e in entries {
        write_bigsize(&mut v, e.htlc_index);
        let mut w = StreamWriter::new();
        w.record(0, encode_outputs(&e.outputs));
        w.unknown(&e.unknown_odd_types);
        write_var_bytes(&mut v, &w.finish());
    }
    v
}

fn decode_htlc_assets(bytes: &[u8]) -> Result<Vec<HtlcAssetEntry>, DecodeError> {
    let mut r = Reader::new(bytes);
    let n = count(&mut r, "htlc assets", MAX_NUM_HTLCS)?;
    let mut out = Vec::new();
    for _ in 0..n {
        let htlc_index = r.bigsize("htlc index")?;
        let stream = r.var_bytes("htlc asset list")?;
        let mut outputs = None;
        let mut unknown = UnknownOddTypes::new();
        for rec in parse_stream(stream)? {
            match rec.typ {
                0 => outputs = Some(decode_outputs(rec.value)?),
                _ => keep_unknown(&mut unknown, rec)?,
            }
        }
        // tapd always writes the list (type 0), even when empty; a list
        // without it would not re-encode to the bytes that were received.
        let outputs = outputs.ok_or(DecodeError::MissingRecord("htlc asset outputs"))?;
        out.push(HtlcAssetEntry {
            htlc_index,
            outputs,
            unknown_odd_types: unknown,
        });
    }
    r.finish("htlc assets")?;
    Ok(out)
}

impl AuxLeaves {
    /// The TLV stream (without the outer length prefix).
    pub fn encode(&self) -> Vec<u8> {
        let mut w = StreamWriter::new();
        if let Some(l) = &self.local {
            w.record(0, l.encode());
        }
        if let Some(l) = &self.remote {
            w.record(1, l.encode());
        }
        if let Some(m) = &self.outgoing_htlcs {
            w.record(2, encode_leaf_map(m));
        }
        if let Some(m) = &self.incoming_htlcs {
            w.record(3, encode_leaf_map(m));
        }
        w.unknown(&self.unknown_odd_types);
        w.finish()
    }

    /// Decodes the TLV stream.
    pub fn decode(bytes: &[u8]) -> Result<Self, DecodeError> {
        let mut a = AuxLeaves::default();
        for rec in parse_stream(bytes)? {
            let v = rec.value;
            match rec.typ {
                0 => a.local = Some(TapLeaf::decode(v)?),
                1 => a.remote = Some(TapLeaf::decode(v)?),
                2 => a.outgoing_htlcs = Some(decode_leaf_map(v)?),
                3 => a.incoming_htlcs = Some(decode_leaf_map(v)?),
                _ => keep_unknown(&mut a.unknown_odd_types, rec)?,
            }
        }
        Ok(a)
    }
}

impl OpenChannel {
    /// The blob.
    pub fn encode(&self) -> Vec<u8> {
        let mut w = StreamWriter::new();
        w.record(0, encode_outputs(&self.funded_assets));
        if let Some(d) = self.decimal_display {
            w.record(1, vec![d]);
        }
        if let Some(k) = &self.group_key {
            w.record(2, k.0.to_vec());
        }
        w.unknown(&self.unknown_odd_types);
        w.finish()
    }

    /// Decodes the blob.
    pub fn decode(bytes: &[u8]) -> Result<Self, DecodeError> {
        let mut funded = None;
        let mut decimal_display = None;
        let mut group_key = None;
        let mut unknown = UnknownOddTypes::new();
        for rec in parse_stream(bytes)? {
            let v = rec.value;
            match rec.typ {
                0 => funded = Some(decode_outputs(v)?),
                1 => {
                    expect_len("decimal display", v, 1)?;
                    decimal_display = Some(v[0]);
                }
                2 => {
                    expect_len("group key", v, 33)?;
                    let key = Reader::new(v).array("group key")?;
                    group_key = Some(SerializedKey::parse(key, "group key")?);
                }
                _ => keep_unknown(&mut unknown, rec)?,
            }
        }
        Ok(Self {
            funded_assets: funded.ok_or(DecodeError::MissingRecord("funded assets"))?,
            decimal_display,
            group_key,
            unknown_odd_types: unknown,
        })
    }
}

impl Commitment {
    /// The blob.
    pub fn encode(&self) -> Vec<u8> {
        let mut w = StreamWriter::new();
        if let Some(l) = &self.local_assets {
            w.record(0, encode_outputs(l));
        }
        if let Some(l) = &self.remote_assets {
            w.record(1, encode_outputs(l));
        }
        if let Some(m) = &self.outgoing_htlc_assets {
            w.record(2, encode_htlc_assets(m));
        }
        if let Some(m) = &self.incoming_htlc_assets {
            w.record(3, encode_htlc_assets(m));
        }
        if let Some(a) = &self.aux_leaves {
            let mut v = Vec::new();
            write_var_bytes(&mut v, &a.encode());
            w.record(4, v);
        }
        w.unknown(&self.unknown_odd_types);
        w.finish()
    }

    /// Decodes the blob.
    pub fn decode(bytes: &[u8]) -> Result<Self, DecodeError> {
        let mut c = Commitment::default();
        for rec in parse_stream(bytes)? {
            let v = rec.value;
            match rec.typ {
                0 => c.local_assets = Some(decode_outputs(v)?),
                1 => c.remote_assets = Some(decode_outputs(v)?),
                2 => c.outgoing_htlc_assets = Some(decode_htlc_assets(v)?),
                3 => c.incoming_htlc_assets = Some(decode_htlc_assets(v)?),
                4 => {
                    let mut r = Reader::new(v);
                    let inner = r.var_bytes("aux leaves")?;
                    r.finish("aux leaves")?;
                    c.aux_leaves = Some(AuxLeaves::decode(inner)?);
                }
                _ => keep_unknown(&mut c.unknown_odd_types, rec)?,
            }
        }
        Ok(c)
    }
}
