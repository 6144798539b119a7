//! Proofs and proof files (tapd package `proof`).
//!
//! A [`Proof`] (`TAPP` ‖ TLV stream) shows where an asset lives: the
//! anchor transaction, its merkle proof against a block header, and
//! Taproot proofs that the anchor output commits to the asset and the
//! other outputs do not. A [`File`] (`TAPF`) chains an asset's proofs from
//! genesis with a running hash. [`verify`] checks them in tapd's order.

mod file;
mod group;
mod meta;
mod stxo;
mod taproot;
mod transition;
mod tx;
mod verify;

use bitcoin::block::Header;
use bitcoin::consensus::{deserialize, serialize};
use bitcoin::{OutPoint, Transaction};

pub use file::{FILE_MAGIC, File, HashedProof, MAX_FILE_PROOFS, MAX_FILE_SIZE, MAX_PROOF_SIZE};
pub use group::{GroupKeyReveal, GroupRevealError};
pub use meta::{
    MAX_DECIMAL_DISPLAY, META_DATA_MAX_SIZE, META_JSON, META_OPAQUE, MetaError, MetaReveal,
};
pub use stxo::{collect_stxo, stxo_asset, verify_stxo_set};
pub use taproot::{
    CommitmentProof, TaprootProof, TaprootProofError, TapscriptProof, p2tr_output_key,
};
pub use tx::{MERKLE_PROOF_MAX_NODES, TxMerkleProof};
pub use verify::{
    ChainView, HeaderPowOnly, MAX_INPUT_NESTING, VerifiedProof, VerifyError, verify_file,
    verify_proof,
};

use crate::asset::{Asset, Genesis, MAX_WITNESS_ITEMS, SerializedKey, Witness};
use crate::asset::{read_outpoint, write_outpoint};
use crate::encoding::{
    DecodeError, Reader, StreamWriter, UnknownOddTypes, expect_len, keep_unknown, parse_stream,
    write_bigsize, write_var_bytes,
};

/// Magic bytes of a single proof: "TAPP".
pub const PROOF_MAGIC: [u8; 4] = *b"TAPP";
/// Proof version 0.
pub const PROOF_V0: u32 = 0;
/// Proof version 1 (adds STXO proofs).
pub const PROOF_V1: u32 = 1;
/// Most exclusion proofs / additional inputs / alt leaves per proof (DoS
/// guard; an anchor tx cannot have more outputs than this anyway).
pub const MAX_LIST_ITEMS: u64 = 65_535;

/// An alt leaf in its compact transport form (TLVs 11, 14, 16 only).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AltLeaf {
    /// Witnesses (TLV 11).
    pub prev_witnesses: Vec<Witness>,
    /// Script version (TLV 14).
    pub script_version: u16,
    /// Script key (TLV 16).
    pub script_key: SerializedKey,
    /// Unknown odd records.
    pub unknown_odd_types: UnknownOddTypes,
}

impl AltLeaf {
    /// The compact TLV stream.
    pub fn encode(&self) -> Vec<u8> {
        let mut w = StreamWriter::new();
        if !self.prev_witnesses.is_empty() {
            let mut v = Vec::new();
            write_bigsize(&mut v, self.prev_witnesses.len() as u64);
            for wit in &self.prev_witnesses {
                write_var_bytes(&mut v, &wit.encode_stream(false));
            }
            w.record(11, v);
        }
        w.record(14, self.script_version.to_be_bytes().to_vec());
        w.record(16, self.script_key.0.to_vec());
        w.unknown(&self.unknown_odd_types);
        w.finish()
    }

    /// Decodes the compact TLV stream; other asset fields are refused.
    pub fn decode(bytes: &[u8]) -> Result<Self, DecodeError> {
        let (mut wits, mut sv, mut sk) = (Vec::new(), None, None);
        let mut unknown = UnknownOddTypes::new();
        for rec in parse_stream(bytes)? {
            let v = rec.value;
            match rec.typ {
                11 => {
                    let mut r = Reader::new(v);
                    let n = r.bigsize("alt leaf witness count")?;
                    if n > MAX_WITNESS_ITEMS {
                        return Err(DecodeError::LimitExceeded {
                            what: "alt leaf witnesses",
                            limit: MAX_WITNESS_ITEMS,
                        });
                    }
                    for _ in 0..n {
                        wits.push(Witness::decode(r.var_bytes("alt leaf witness")?)?);
                    }
                    r.finish("alt leaf witnesses")?;
                }
                14 => {
                    expect_len("alt leaf script version", v, 2)?;
                    sv = Some(u16::from_be_bytes([v[0], v[1]]));
                }
                16 => {
                    expect_len("alt leaf script key", v, 33)?;
                    let mut k = [0u8; 33];
                    k.copy_from_slice(v);
                    sk = Some(SerializedKey::parse(k, "alt leaf script key")?);
                }
                _ => keep_unknown(&mut unknown, rec)?,
            }
        }
        Ok(Self {
            prev_witnesses: wits,
            script_version: sv.ok_or(DecodeError::MissingRecord("alt leaf script version"))?,
            script_key: sk.ok_or(DecodeError::MissingRecord("alt leaf script key"))?,
            unknown_odd_types: unknown,
        })
    }
}

/// A single asset proof.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Proof {
    /// Proof version (TLV 0).
    pub version: u32,
    /// First input of the anchor transaction (TLV 2).
    pub prev_out: OutPoint,
    /// Header of the block with the anchor transaction (TLV 4).
    pub block_header: Header,
    /// The anchor transaction (TLV 6).
    pub anchor_tx: Transaction,
    /// Merkle proof of the anchor transaction (TLV 8).
    pub tx_merkle_proof: TxMerkleProof,
    /// The resulting asset (TLV 10).
    pub asset: Asset,
    /// Inclusion proof (TLV 12).
    pub inclusion_proof: TaprootProof,
    /// Exclusion proofs of the other outputs (TLV 13).
    pub exclusion_proofs: Vec<TaprootProof>,
    /// Proof of the split root asset (TLV 15).
    pub split_root_proof: Option<TaprootProof>,
    /// Meta reveal (TLV 17).
    pub meta_reveal: Option<MetaReveal>,
    /// Proof files of further inputs (TLV 19).
    pub additional_inputs: Vec<File>,
    /// Ownership challenge witness (TLV 21).
    pub challenge_witness: Option<Vec<Vec<u8>>>,
    /// Block height (TLV 22).
    pub block_height: u32,
    /// Genesis reveal (TLV 23).
    pub genesis_reveal: Option<Genesis>,
    /// Group key reveal (TLV 25).
    pub group_key_reveal: Option<GroupKeyReveal>,
    /// Alt leaves (TLV 27).
    pub alt_leaves: Vec<AltLeaf>,
    /// Unknown odd records.
    pub unknown_odd_types: UnknownOddTypes,
}

fn list<T>(
    v: &[u8],
    what: &'static str,
    mut item: impl FnMut(&[u8]) -> Result<T, DecodeError>,
) -> Result<Vec<T>, DecodeError> {
    let mut r = Reader::new(v);
    let n = r.bigsize(what)?;
    if n > MAX_LIST_ITEMS {
        return Err(DecodeError::LimitExceeded {
            what,
            limit: MAX_LIST_ITEMS,
        });
    }
    let mut out = Vec::new();
    for _ in 0..n {
        out.push(item(r.var_bytes(what)?)?);
    }
    r.finish(what)?;
    Ok(out)
}

fn write_list<T>(items: &[T], enc: impl Fn(&T) -> Vec<u8>) -> Vec<u8> {
    let mut v = Vec::new();
    write_bigsize(&mut v, items.len() as u64);
    for i in items {
        write_var_bytes(&mut v, &enc(i));
    }
    v
}

fn u32_value(field: &'static str, v: &[u8]) -> Result<u32, DecodeError> {
    expect_len(field, v, 4)?;
    Ok(u32::from_be_bytes([v[0], v[1], v[2], v[3]]))
}

impl Proof {
    /// `TAPP` ‖ TLV stream.
    pub fn encode(&self) -> Vec<u8> {
        let mut w = StreamWriter::new();
        w.record(0, self.version.to_be_bytes().to_vec());
        let mut op = Vec::with_capacity(36);
        write_outpoint(&mut op, &self.prev_out);
        w.record(2, op);
        w.record(4, serialize(&self.block_header));
        w.record(6, serialize(&self.anchor_tx));
        w.record(8, self.tx_merkle_proof.encode());
        w.record(10, self.asset.encode());
        w.record(12, self.inclusion_proof.encode());
        if !self.exclusion_proofs.is_empty() {
            w.record(13, write_list(&self.exclusion_proofs, TaprootProof::encode));
        }
        if let Some(p) = &self.split_root_proof {
            w.record(15, p.encode());
        }
        if let Some(m) = &self.meta_reveal {
            w.record(17, m.encode());
        }
        if !self.additional_inputs.is_empty() {
            w.record(19, write_list(&self.additional_inputs, File::encode));
        }
        if let Some(cw) = &self.challenge_witness {
            let mut v = Vec::new();
            write_bigsize(&mut v, cw.len() as u64);
            for item in cw {
                write_var_bytes(&mut v, item);
            }
            w.record(21, v);
        }
        w.record(22, self.block_height.to_be_bytes().to_vec());
        if let Some(g) = &self.genesis_reveal {
            w.record(23, g.encode());
        }
        if let Some(g) = &self.group_key_reveal {
            w.record(25, g.encode());
        }
        if !self.alt_leaves.is_empty() {
            w.record(27, write_list(&self.alt_leaves, AltLeaf::encode));
        }
        w.unknown(&self.unknown_odd_types);
        let mut out = PROOF_MAGIC.to_vec();
        out.extend_from_slice(&w.finish());
        out
    }

    /// Decodes `TAPP` ‖ TLV stream.
    pub fn decode(bytes: &[u8]) -> Result<Self, DecodeError> {
        if bytes.len() > MAX_PROOF_SIZE {
            return Err(DecodeError::LimitExceeded {
                what: "proof size",
                limit: MAX_PROOF_SIZE as u64,
            });
        }
        let stream = match bytes.strip_prefix(&PROOF_MAGIC) {
            Some(s) => s,
            None => {
                return Err(DecodeError::InvalidValue {
                    field: "proof magic",
                    reason: "not a TAPP proof",
                });
            }
        };
        let mut version = None;
        let mut prev_out = None;
        let mut header = None;
        let mut tx = None;
        let mut merkle = None;
        let mut asset = None;
        let mut inclusion = None;
        let mut exclusion = Vec::new();
        let mut split_root = None;
        let mut meta = None;
        let mut additional = Vec::new();
        let mut challenge = None;
        let mut height = None;
        let mut genesis = None;
        let mut group = None;
        let mut alt = Vec::new();
        let mut unknown = UnknownOddTypes::new();
        for rec in parse_stream(stream)? {
            let v = rec.value;
            match rec.typ {
                0 => version = Some(u32_value("proof version", v)?),
                2 => {
                    expect_len("prev out", v, 36)?;
                    prev_out = Some(read_outpoint(&mut Reader::new(v))?);
                }
                4 => {
                    expect_len("block header", v, 80)?;
                    header =
                        Some(
                            deserialize::<Header>(v).map_err(|_| DecodeError::InvalidValue {
                                field: "block header",
                                reason: "malformed header",
                            })?,
                        );
                }
                6 => {
                    tx = Some(deserialize::<Transaction>(v).map_err(|_| {
                        DecodeError::InvalidValue {
                            field: "anchor tx",
                            reason: "malformed transaction",
                        }
                    })?)
                }
                8 => merkle = Some(TxMerkleProof::decode(v)?),
                10 => asset = Some(Asset::decode(v)?),
                12 => inclusion = Some(TaprootProof::decode(v)?),
                13 => exclusion = list(v, "exclusion proofs", TaprootProof::decode)?,
                15 => split_root = Some(TaprootProof::decode(v)?),
                17 => meta = Some(MetaReveal::decode(v)?),
                19 => additional = list(v, "additional inputs", File::decode)?,
                21 => challenge = Some(crate::asset::decode_tx_witness(v)?),
                22 => height = Some(u32_value("block height", v)?),
                23 => genesis = Some(Genesis::decode(v)?),
                25 => group = Some(GroupKeyReveal::decode(v)?),
                27 => alt = list(v, "alt leaves", AltLeaf::decode)?,
                _ => keep_unknown(&mut unknown, rec)?,
            }
        }
        Ok(Self {
            version: version.ok_or(DecodeError::MissingRecord("proof version"))?,
            prev_out: prev_out.ok_or(DecodeError::MissingRecord("prev out"))?,
            block_header: header.ok_or(DecodeError::MissingRecord("block header"))?,
            anchor_tx: tx.ok_or(DecodeError::MissingRecord("anchor tx"))?,
            tx_merkle_proof: merkle.ok_or(DecodeError::MissingRecord("tx merkle proof"))?,
            asset: asset.ok_or(DecodeError::MissingRecord("asset"))?,
            inclusion_proof: inclusion.ok_or(DecodeError::MissingRecord("inclusion proof"))?,
            exclusion_proofs: exclusion,
            split_root_proof: split_root,
            meta_reveal: meta,
            additional_inputs: additional,
            challenge_witness: challenge,
            block_height: height.ok_or(DecodeError::MissingRecord("block height"))?,
            genesis_reveal: genesis,
            group_key_reveal: group,
            alt_leaves: alt,
            unknown_odd_types: unknown,
        })
    }

    /// The outpoint the asset now lives at: anchor txid : inclusion index.
    pub fn outpoint(&self) -> OutPoint {
        OutPoint::new(
            self.anchor_tx.compute_txid(),
            self.inclusion_proof.output_index,
        )
    }
}
