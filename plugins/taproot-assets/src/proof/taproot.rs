//! Taproot proofs (tapd `proof/taproot.go`): how an anchor output commits
//! to (or provably does not commit to) an asset.

use bitcoin::key::XOnlyPublicKey;
use bitcoin::taproot::TapNodeHash;

use crate::asset::{Asset, SerializedKey};
use crate::commitment::{
    self, CommitmentError, TAP_COMMITMENT_V0, TAP_COMMITMENT_V1, anchor_output_key, asset_keys,
    commitment_output_key, sibling_hash,
};
use crate::encoding::{
    DecodeError, Reader, StreamWriter, UnknownOddTypes, expect_len, keep_unknown, parse_stream,
    write_bigsize, write_var_bytes,
};
use crate::mssmt::Node;
use crate::tapscript::TapscriptPreimage;

/// Most STXO proofs in one commitment proof (DoS guard).
pub const MAX_STXO_PROOFS: u64 = 65_535;

/// A commitment proof as carried in a Taproot proof: the commitment proof
/// (records 1, 2) plus the revealed tapscript sibling (5) and STXO proofs
/// (7, kept in the received order since tapd writes a map).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CommitmentProof {
    /// Records 1 and 2 (and unknown odd records of the whole stream).
    pub proof: commitment::Proof,
    /// Revealed sibling of the commitment leaf.
    pub tapscript_sibling: Option<TapscriptPreimage>,
    /// STXO proofs by 33-byte key, in stream order.
    pub stxo_proofs: Vec<(SerializedKey, commitment::Proof)>,
}

/// Proof that an output carries no TAP commitment at all.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct TapscriptProof {
    /// First revealed preimage (TLV 1).
    pub tap_preimage_1: Option<TapscriptPreimage>,
    /// Second revealed preimage (TLV 3).
    pub tap_preimage_2: Option<TapscriptPreimage>,
    /// BIP-86 output (no script tree), TLV 4.
    pub bip86: bool,
    /// Unknown odd records.
    pub unknown_odd_types: UnknownOddTypes,
}

/// A Taproot proof of one anchor output.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TaprootProof {
    /// Output index in the anchor transaction.
    pub output_index: u32,
    /// Internal key of the output.
    pub internal_key: SerializedKey,
    /// Commitment proof (exclusive with `tapscript_proof`).
    pub commitment_proof: Option<CommitmentProof>,
    /// Tapscript proof (exclusive with `commitment_proof`).
    pub tapscript_proof: Option<TapscriptProof>,
    /// Unknown odd records.
    pub unknown_odd_types: UnknownOddTypes,
}

/// Why a taproot proof does not derive a key.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TaprootProofError {
    /// Neither or both of commitment proof and tapscript proof.
    #[error("taproot proof must have exactly one of commitment proof and tapscript proof")]
    InvalidShape,
    /// A tapscript proof with an invalid combination of preimages.
    #[error("invalid tapscript proof: {0}")]
    InvalidTapscriptProof(&'static str),
    /// Deriving the commitment failed.
    #[error(transparent)]
    Commitment(#[from] CommitmentError),
}

impl CommitmentProof {
    /// The TLV stream.
    pub fn encode(&self) -> Vec<u8> {
        let mut w = StreamWriter::new();
        self.proof.write_records(&mut w);
        if let Some(s) = &self.tapscript_sibling {
            w.record(5, s.encode());
        }
        if !self.stxo_proofs.is_empty() {
            let mut v = Vec::new();
            write_bigsize(&mut v, self.stxo_proofs.len() as u64);
            for (k, p) in &self.stxo_proofs {
                v.extend_from_slice(&k.0);
                write_var_bytes(&mut v, &p.encode());
            }
            w.record(7, v);
        }
        w.unknown(&self.proof.unknown_odd_types);
        w.finish()
    }

    /// Decodes the TLV stream.
    pub fn decode(bytes: &[u8]) -> Result<Self, DecodeError> {
        let mut builder = commitment::ProofBuilder::default();
        let mut sibling = None;
        let mut stxo = Vec::new();
        for rec in parse_stream(bytes)? {
            if builder.accept(rec.typ, rec.value)? {
                continue;
            }
            match rec.typ {
                5 => sibling = Some(TapscriptPreimage::decode(rec.value)?),
                7 => stxo = decode_stxo(rec.value)?,
                _ => keep_unknown(&mut builder.unknown, rec)?,
            }
        }
        Ok(Self {
            proof: builder.finish()?,
            tapscript_sibling: sibling,
            stxo_proofs: stxo,
        })
    }
}

fn decode_stxo(v: &[u8]) -> Result<Vec<(SerializedKey, commitment::Proof)>, DecodeError> {
    let mut r = Reader::new(v);
    let n = r.bigsize("stxo proof count")?;
    if n > MAX_STXO_PROOFS {
        return Err(DecodeError::LimitExceeded {
            what: "stxo proofs",
            limit: MAX_STXO_PROOFS,
        });
    }
    let mut out = Vec::new();
    for _ in 0..n {
        let key = SerializedKey::parse(r.array("stxo key")?, "stxo key")?;
        let p = commitment::Proof::decode(r.var_bytes("stxo proof")?)?;
        if out.iter().any(|(k, _)| *k == key) {
            return Err(DecodeError::InvalidValue {
                field: "stxo proofs",
                reason: "duplicate key",
            });
        }
        out.push((key, p));
    }
    r.finish("stxo proofs")?;
    Ok(out)
}

impl TapscriptProof {
    /// The TLV stream.
    pub fn encode(&self) -> Vec<u8> {
        let mut w = StreamWriter::new();
        if let Some(p) = &self.tap_preimage_1 {
            w.record(1, p.encode());
        }
        if let Some(p) = &self.tap_preimage_2 {
            w.record(3, p.encode());
        }
        w.record(4, vec![u8::from(self.bip86)]);
        w.unknown(&self.unknown_odd_types);
        w.finish()
    }

    /// Decodes the TLV stream.
    pub fn decode(bytes: &[u8]) -> Result<Self, DecodeError> {
        let mut p = TapscriptProof::default();
        for rec in parse_stream(bytes)? {
            match rec.typ {
                1 => p.tap_preimage_1 = Some(TapscriptPreimage::decode(rec.value)?),
                3 => p.tap_preimage_2 = Some(TapscriptPreimage::decode(rec.value)?),
                4 => {
                    expect_len("bip86 flag", rec.value, 1)?;
                    p.bip86 = match rec.value[0] {
                        0 => false,
                        1 => true,
                        _ => {
                            return Err(DecodeError::InvalidValue {
                                field: "bip86 flag",
                                reason: "boolean must be 0 or 1",
                            });
                        }
                    };
                }
                _ => keep_unknown(&mut p.unknown_odd_types, rec)?,
            }
        }
        Ok(p)
    }

    /// The output key of an output whose revealed tree (depth 0/1) holds no
    /// commitment: BIP-86, a single leaf, or two children.
    pub fn derive_key(
        &self,
        internal: &SerializedKey,
    ) -> Result<XOnlyPublicKey, TaprootProofError> {
        let root = match (&self.tap_preimage_1, &self.tap_preimage_2, self.bip86) {
            (None, None, true) => None,
            (Some(_), _, true) | (_, Some(_), true) => {
                return Err(TaprootProofError::InvalidTapscriptProof(
                    "bip86 proof with preimages",
                ));
            }
            (Some(p1 @ TapscriptPreimage::Leaf { .. }), None, false) => Some(sibling_hash(p1)?),
            (Some(p1), Some(p2), false) => Some(TapNodeHash::from_node_hashes(
                sibling_hash(p1)?,
                sibling_hash(p2)?,
            )),
            _ => {
                return Err(TaprootProofError::InvalidTapscriptProof(
                    "invalid preimage combination",
                ));
            }
        };
        Ok(anchor_output_key(internal, root)?)
    }
}

impl TaprootProof {
    /// The TLV stream.
    pub fn encode(&self) -> Vec<u8> {
        let mut w = StreamWriter::new();
        w.record(0, self.output_index.to_be_bytes().to_vec());
        w.record(2, self.internal_key.0.to_vec());
        if let Some(c) = &self.commitment_proof {
            w.record(3, c.encode());
        }
        if let Some(t) = &self.tapscript_proof {
            w.record(5, t.encode());
        }
        w.unknown(&self.unknown_odd_types);
        w.finish()
    }

    /// Decodes the TLV stream.
    pub fn decode(bytes: &[u8]) -> Result<Self, DecodeError> {
        let (mut idx, mut key, mut cp, mut tp) = (None, None, None, None);
        let mut unknown = UnknownOddTypes::new();
        for rec in parse_stream(bytes)? {
            let v = rec.value;
            match rec.typ {
                0 => {
                    expect_len("taproot proof output index", v, 4)?;
                    idx = Some(u32::from_be_bytes([v[0], v[1], v[2], v[3]]));
                }
                2 => {
                    expect_len("taproot proof internal key", v, 33)?;
                    let mut k = [0u8; 33];
                    k.copy_from_slice(v);
                    key = Some(SerializedKey::parse(k, "taproot proof internal key")?);
                }
                3 => cp = Some(CommitmentProof::decode(v)?),
                5 => tp = Some(TapscriptProof::decode(v)?),
                _ => keep_unknown(&mut unknown, rec)?,
            }
        }
        Ok(Self {
            output_index: idx.ok_or(DecodeError::MissingRecord("taproot proof output index"))?,
            internal_key: key.ok_or(DecodeError::MissingRecord("taproot proof internal key"))?,
            commitment_proof: cp,
            tapscript_proof: tp,
            unknown_odd_types: unknown,
        })
    }

    /// Candidate output keys for a TapCommitment root at `version`: the
    /// stated version, plus the other legacy leaf for versions 0/1 (their
    /// leaves differ only in the version byte and a verifier cannot tell
    /// which one the sender used).
    fn commitment_keys(
        &self,
        cp: &CommitmentProof,
        root: &Node,
        version: u8,
    ) -> Result<Vec<XOnlyPublicKey>, TaprootProofError> {
        let sib = cp.tapscript_sibling.as_ref();
        let mut keys = vec![commitment_output_key(
            version,
            root,
            &self.internal_key,
            sib,
        )?];
        let alt = match version {
            TAP_COMMITMENT_V0 => Some(TAP_COMMITMENT_V1),
            TAP_COMMITMENT_V1 => Some(TAP_COMMITMENT_V0),
            _ => None,
        };
        if let Some(a) = alt {
            keys.push(commitment_output_key(a, root, &self.internal_key, sib)?);
        }
        Ok(keys)
    }

    /// Candidate output keys if this proves `asset` is included.
    pub fn derive_by_asset_inclusion(
        &self,
        asset: &Asset,
    ) -> Result<Vec<XOnlyPublicKey>, TaprootProofError> {
        let cp = match (&self.commitment_proof, &self.tapscript_proof) {
            (Some(cp), None) => cp,
            _ => return Err(TaprootProofError::InvalidShape),
        };
        let (root, version) = cp.proof.derive_by_asset_inclusion(asset)?;
        self.commitment_keys(cp, &root, version)
    }

    /// Candidate output keys if this proves `asset` is absent.
    pub fn derive_by_asset_exclusion(
        &self,
        asset: &Asset,
    ) -> Result<Vec<XOnlyPublicKey>, TaprootProofError> {
        let (ac_key, tap_key) = asset_keys(asset);
        self.derive_by_keys_exclusion(&ac_key, &tap_key)
    }

    /// [`Self::derive_by_asset_exclusion`] for an asset whose keys
    /// ([`asset_keys`]: asset commitment key, tap commitment key) the
    /// caller already has, e.g. to check several exclusion proofs.
    pub fn derive_by_keys_exclusion(
        &self,
        ac_key: &[u8; 32],
        tap_key: &[u8; 32],
    ) -> Result<Vec<XOnlyPublicKey>, TaprootProofError> {
        match (&self.commitment_proof, &self.tapscript_proof) {
            (Some(cp), None) => {
                let (root, version) = cp.proof.derive_by_asset_exclusion(ac_key, tap_key)?;
                self.commitment_keys(cp, &root, version)
            }
            (None, Some(tp)) => Ok(vec![tp.derive_key(&self.internal_key)?]),
            _ => Err(TaprootProofError::InvalidShape),
        }
    }
}

/// x-only key of a P2TR script, if it is one.
pub fn p2tr_output_key(script: &bitcoin::Script) -> Option<[u8; 32]> {
    let b = script.as_bytes();
    if b.len() == 34 && b[0] == 0x51 && b[1] == 0x20 {
        let mut k = [0u8; 32];
        k.copy_from_slice(&b[2..]);
        Some(k)
    } else {
        None
    }
}
