//! TLV encoding of assets, genesis, witnesses and split commitments.

use bitcoin::hashes::Hash as _;
use bitcoin::{OutPoint, Txid};

use super::{
    Asset, AssetId, Genesis, MAX_ASSET_NAME_LEN, MAX_NESTING, MAX_RECORD_SIZE, MAX_WITNESS_ITEMS,
    PrevId, SerializedKey, SplitCommitment, Witness,
};
use crate::encoding::{
    DecodeError, Reader, StreamWriter, UnknownOddTypes, bigsize_bytes, decode_bigsize_value,
    expect_len, keep_unknown, parse_stream, write_bigsize, write_var_bytes,
};
use crate::mssmt::{self, NodeHash};

// Asset TLV types.
const T_VERSION: u64 = 0;
const T_GENESIS: u64 = 2;
const T_TYPE: u64 = 4;
const T_AMOUNT: u64 = 6;
const T_LOCK_TIME: u64 = 7;
const T_RELATIVE_LOCK_TIME: u64 = 9;
const T_PREV_WITNESSES: u64 = 11;
const T_SPLIT_ROOT: u64 = 13;
const T_SCRIPT_VERSION: u64 = 14;
const T_SCRIPT_KEY: u64 = 16;
const T_GROUP_KEY: u64 = 17;

// Witness TLV types.
const W_PREV_ID: u64 = 1;
const W_TX_WITNESS: u64 = 3;
const W_SPLIT_COMMITMENT: u64 = 5;

/// Outpoint in TLV form: txid (internal byte order) ‖ u32 BE index.
pub(crate) fn write_outpoint(out: &mut Vec<u8>, op: &OutPoint) {
    out.extend_from_slice(op.txid.as_byte_array());
    out.extend_from_slice(&op.vout.to_be_bytes());
}

/// Reads an outpoint in TLV form.
pub(crate) fn read_outpoint(r: &mut Reader<'_>) -> Result<OutPoint, DecodeError> {
    let txid = Txid::from_byte_array(r.array("outpoint txid")?);
    let vout = r.u32_be("outpoint index")?;
    Ok(OutPoint::new(txid, vout))
}

fn read_key(r: &mut Reader<'_>, field: &'static str) -> Result<SerializedKey, DecodeError> {
    SerializedKey::parse(r.array(field)?, field)
}

fn key_value(value: &[u8], field: &'static str) -> Result<SerializedKey, DecodeError> {
    expect_len(field, value, 33)?;
    let mut r = Reader::new(value);
    read_key(&mut r, field)
}

impl Genesis {
    /// TLV value form: outpoint ‖ var-bytes tag ‖ meta hash ‖ u32 BE output
    /// index ‖ u8 type.
    pub fn encode(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(74 + self.tag.len());
        write_outpoint(&mut out, &self.first_prev_out);
        write_var_bytes(&mut out, &self.tag);
        out.extend_from_slice(&self.meta_hash);
        out.extend_from_slice(&self.output_index.to_be_bytes());
        out.push(self.asset_type);
        out
    }

    /// Reads the TLV value form from a reader.
    pub fn read(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        let first_prev_out = read_outpoint(r)?;
        let tag_len = r.bigsize("genesis tag length")?;
        if tag_len > MAX_ASSET_NAME_LEN as u64 {
            return Err(DecodeError::LimitExceeded {
                what: "genesis tag",
                limit: MAX_ASSET_NAME_LEN as u64,
            });
        }
        let tag = r.bytes(tag_len as usize, "genesis tag")?.to_vec();
        let meta_hash = r.array("genesis meta hash")?;
        let output_index = r.u32_be("genesis output index")?;
        let asset_type = r.u8("genesis type")?;
        Ok(Self {
            first_prev_out,
            tag,
            meta_hash,
            output_index,
            asset_type,
        })
    }

    /// Decodes exactly one genesis value.
    pub fn decode(bytes: &[u8]) -> Result<Self, DecodeError> {
        let mut r = Reader::new(bytes);
        let g = Self::read(&mut r)?;
        r.finish("genesis")?;
        Ok(g)
    }
}

impl PrevId {
    /// TLV value form: outpoint ‖ asset ID ‖ 33-byte script key (101 bytes).
    pub fn encode(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(101);
        write_outpoint(&mut out, &self.out_point);
        out.extend_from_slice(&self.asset_id.0);
        out.extend_from_slice(&self.script_key.0);
        out
    }

    /// Decodes the 101-byte TLV value form.
    pub fn decode(bytes: &[u8]) -> Result<Self, DecodeError> {
        expect_len("prev id", bytes, 101)?;
        let mut r = Reader::new(bytes);
        let out_point = read_outpoint(&mut r)?;
        let asset_id = AssetId(r.array("prev id asset id")?);
        let script_key = read_key(&mut r, "prev id script key")?;
        Ok(Self {
            out_point,
            asset_id,
            script_key,
        })
    }
}

impl SplitCommitment {
    /// var-bytes(compressed proof) ‖ var-bytes(root asset encoding).
    pub fn encode(&self) -> Vec<u8> {
        let mut out = Vec::new();
        write_var_bytes(&mut out, &self.proof.compress().encode());
        write_var_bytes(&mut out, &self.root_asset.encode());
        out
    }

    fn decode_depth(bytes: &[u8], depth: usize) -> Result<Self, DecodeError> {
        if bytes.len() > MAX_RECORD_SIZE {
            return Err(DecodeError::LimitExceeded {
                what: "split commitment record",
                limit: MAX_RECORD_SIZE as u64,
            });
        }
        let mut r = Reader::new(bytes);
        let proof_bytes = r.var_bytes("split commitment proof")?;
        let compressed = mssmt::CompressedProof::decode(proof_bytes)?;
        let root_bytes = r.var_bytes("split commitment root asset")?;
        r.finish("split commitment")?;
        let root_asset = Asset::decode_depth(root_bytes, depth + 1)?;
        let proof = compressed
            .decompress()
            .map_err(|_| DecodeError::InvalidValue {
                field: "split commitment proof",
                reason: "bitmap and node count disagree",
            })?;
        Ok(Self {
            proof,
            root_asset: Box::new(root_asset),
        })
    }
}

impl Witness {
    /// The witness TLV stream. `strip_tx_witness` omits TLV 3 (used for V1
    /// leaves).
    pub fn encode_stream(&self, strip_tx_witness: bool) -> Vec<u8> {
        let mut w = StreamWriter::new();
        if let Some(prev_id) = &self.prev_id {
            w.record(W_PREV_ID, prev_id.encode());
        }
        if !strip_tx_witness && !self.tx_witness.is_empty() {
            let mut v = bigsize_bytes(self.tx_witness.len() as u64);
            for item in &self.tx_witness {
                write_var_bytes(&mut v, item);
            }
            w.record(W_TX_WITNESS, v);
        }
        if let Some(sc) = &self.split_commitment {
            w.record(W_SPLIT_COMMITMENT, sc.encode());
        }
        w.unknown(&self.unknown_odd_types);
        w.finish()
    }

    fn decode_depth(bytes: &[u8], depth: usize) -> Result<Self, DecodeError> {
        let mut wit = Witness::default();
        for rec in parse_stream(bytes)? {
            match rec.typ {
                W_PREV_ID => wit.prev_id = Some(PrevId::decode(rec.value)?),
                W_TX_WITNESS => wit.tx_witness = decode_tx_witness(rec.value)?,
                W_SPLIT_COMMITMENT => {
                    wit.split_commitment = Some(SplitCommitment::decode_depth(rec.value, depth)?)
                }
                _ => keep_unknown(&mut wit.unknown_odd_types, rec)?,
            }
        }
        Ok(wit)
    }

    /// Decodes one witness TLV stream.
    pub fn decode(bytes: &[u8]) -> Result<Self, DecodeError> {
        Self::decode_depth(bytes, 0)
    }
}

/// BigSize item count, then each item as var-bytes.
pub fn decode_tx_witness(bytes: &[u8]) -> Result<Vec<Vec<u8>>, DecodeError> {
    let mut r = Reader::new(bytes);
    let count = r.bigsize("witness item count")?;
    if count > MAX_WITNESS_ITEMS {
        return Err(DecodeError::LimitExceeded {
            what: "witness items",
            limit: MAX_WITNESS_ITEMS,
        });
    }
    let mut items = Vec::with_capacity((count as usize).min(r.remaining()));
    for _ in 0..count {
        let item = r.var_bytes("witness item")?;
        if item.len() > MAX_RECORD_SIZE {
            return Err(DecodeError::LimitExceeded {
                what: "witness item",
                limit: MAX_RECORD_SIZE as u64,
            });
        }
        items.push(item.to_vec());
    }
    r.finish("tx witness")?;
    Ok(items)
}

fn decode_prev_witnesses(bytes: &[u8], depth: usize) -> Result<Vec<Witness>, DecodeError> {
    let mut r = Reader::new(bytes);
    let count = r.bigsize("prev witness count")?;
    if count > MAX_WITNESS_ITEMS {
        return Err(DecodeError::LimitExceeded {
            what: "prev witnesses",
            limit: MAX_WITNESS_ITEMS,
        });
    }
    let mut out = Vec::with_capacity((count as usize).min(r.remaining()));
    for _ in 0..count {
        let stream = r.var_bytes("prev witness")?;
        if stream.len() > MAX_RECORD_SIZE {
            return Err(DecodeError::LimitExceeded {
                what: "prev witness stream",
                limit: MAX_RECORD_SIZE as u64,
            });
        }
        out.push(Witness::decode_depth(stream, depth)?);
    }
    r.finish("prev witnesses")?;
    Ok(out)
}

impl Asset {
    fn encode_inner(&self, strip_tx_witness: bool) -> Vec<u8> {
        let mut w = StreamWriter::new();
        w.record(T_VERSION, vec![self.version]);
        w.record(T_GENESIS, self.genesis.encode());
        w.record(T_TYPE, vec![self.genesis.asset_type]);
        w.record(T_AMOUNT, bigsize_bytes(self.amount));
        if self.lock_time > 0 {
            w.record(T_LOCK_TIME, bigsize_bytes(self.lock_time));
        }
        if self.relative_lock_time > 0 {
            w.record(T_RELATIVE_LOCK_TIME, bigsize_bytes(self.relative_lock_time));
        }
        if !self.prev_witnesses.is_empty() {
            let mut v = Vec::new();
            write_bigsize(&mut v, self.prev_witnesses.len() as u64);
            for wit in &self.prev_witnesses {
                write_var_bytes(&mut v, &wit.encode_stream(strip_tx_witness));
            }
            w.record(T_PREV_WITNESSES, v);
        }
        if let Some(root) = &self.split_commitment_root {
            let mut v = Vec::with_capacity(40);
            v.extend_from_slice(&root.hash.0);
            v.extend_from_slice(&root.sum.to_be_bytes());
            w.record(T_SPLIT_ROOT, v);
        }
        w.record(T_SCRIPT_VERSION, self.script_version.to_be_bytes().to_vec());
        w.record(T_SCRIPT_KEY, self.script_key.0.to_vec());
        if let Some(gk) = &self.group_key {
            w.record(T_GROUP_KEY, gk.0.to_vec());
        }
        w.unknown(&self.unknown_odd_types);
        w.finish()
    }

    /// The full asset TLV encoding (as in proofs and vPSBTs).
    pub fn encode(&self) -> Vec<u8> {
        self.encode_inner(false)
    }

    /// The encoding without witness stacks (TLV 3 of each witness), used
    /// for V1 MS-SMT leaves.
    pub fn encode_no_witness(&self) -> Vec<u8> {
        self.encode_inner(true)
    }

    /// Decodes an asset TLV stream.
    pub fn decode(bytes: &[u8]) -> Result<Self, DecodeError> {
        Self::decode_depth(bytes, 0)
    }

    fn decode_depth(bytes: &[u8], depth: usize) -> Result<Self, DecodeError> {
        if depth > MAX_NESTING {
            return Err(DecodeError::LimitExceeded {
                what: "split commitment nesting",
                limit: MAX_NESTING as u64,
            });
        }
        let mut version = None;
        let mut genesis: Option<Genesis> = None;
        let mut asset_type = None;
        let mut amount = None;
        let mut lock_time = 0;
        let mut relative_lock_time = 0;
        let mut prev_witnesses = Vec::new();
        let mut split_commitment_root = None;
        let mut script_version = None;
        let mut script_key = None;
        let mut group_key = None;
        let mut unknown = UnknownOddTypes::new();
        for rec in parse_stream(bytes)? {
            let v = rec.value;
            match rec.typ {
                T_VERSION => {
                    expect_len("asset version", v, 1)?;
                    version = Some(v[0]);
                }
                T_GENESIS => genesis = Some(Genesis::decode(v)?),
                T_TYPE => {
                    expect_len("asset type", v, 1)?;
                    asset_type = Some(v[0]);
                }
                T_AMOUNT => amount = Some(decode_bigsize_value("amount", v)?),
                T_LOCK_TIME => lock_time = decode_bigsize_value("lock time", v)?,
                T_RELATIVE_LOCK_TIME => {
                    relative_lock_time = decode_bigsize_value("relative lock time", v)?
                }
                T_PREV_WITNESSES => prev_witnesses = decode_prev_witnesses(v, depth)?,
                T_SPLIT_ROOT => {
                    expect_len("split commitment root", v, 40)?;
                    let mut r = Reader::new(v);
                    let hash = NodeHash(r.array("split root hash")?);
                    let sum = r.u64_be("split root sum")?;
                    split_commitment_root = Some(mssmt::Node { hash, sum });
                }
                T_SCRIPT_VERSION => {
                    expect_len("script version", v, 2)?;
                    script_version = Some(u16::from_be_bytes([v[0], v[1]]));
                }
                T_SCRIPT_KEY => script_key = Some(key_value(v, "script key")?),
                T_GROUP_KEY => group_key = Some(key_value(v, "group key")?),
                _ => keep_unknown(&mut unknown, rec)?,
            }
        }
        let mut genesis = genesis.ok_or(DecodeError::MissingRecord("genesis"))?;
        // TLV 4 and the genesis type are one field in tapd; TLV 4 comes
        // later in the stream and wins.
        genesis.asset_type = asset_type.ok_or(DecodeError::MissingRecord("asset type"))?;
        Ok(Asset {
            version: version.ok_or(DecodeError::MissingRecord("asset version"))?,
            genesis,
            amount: amount.ok_or(DecodeError::MissingRecord("amount"))?,
            lock_time,
            relative_lock_time,
            prev_witnesses,
            split_commitment_root,
            script_version: script_version.ok_or(DecodeError::MissingRecord("script version"))?,
            script_key: script_key.ok_or(DecodeError::MissingRecord("script key"))?,
            group_key,
            unknown_odd_types: unknown,
        })
    }
}
