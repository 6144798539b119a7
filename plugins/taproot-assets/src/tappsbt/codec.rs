//! vPSBT encode/decode.

use bitcoin::absolute::LockTime;
use bitcoin::transaction::Version;
use bitcoin::{Amount, OutPoint, ScriptBuf, Sequence, Transaction, TxIn, TxOut, Witness};

use super::kv::{Cursor, Map, write_map};
use super::{Anchor, Bip32Derivation, PsbtError, TaprootBip32Derivation, VInput, VOutput, VPacket};
use crate::address::{Address, Network};
use crate::asset::{Asset, PrevId};
use crate::encoding::{Reader, write_bigsize, write_var_bytes};
use crate::tapscript::TapscriptPreimage;

// Global key types.
const G_UNSIGNED_TX: u8 = 0x00;
const G_IS_VIRTUAL: u8 = 0x70;
const G_HRP: u8 = 0x71;
const G_VERSION: u8 = 0x72;

// Input key types.
const I_BIP32: u8 = 0x06;
const I_TR_BIP32: u8 = 0x16;
const I_TR_INTERNAL_KEY: u8 = 0x17;
const I_TR_MERKLE_ROOT: u8 = 0x18;
const I_PREV_ID: u8 = 0x70;
const I_ANCHOR_VALUE: u8 = 0x71;
const I_ANCHOR_PK_SCRIPT: u8 = 0x72;
const I_ANCHOR_SIGHASH: u8 = 0x73;
const I_ANCHOR_INTERNAL_KEY: u8 = 0x74;
const I_ANCHOR_MERKLE_ROOT: u8 = 0x75;
const I_ANCHOR_BIP32: u8 = 0x76;
const I_ANCHOR_TR_BIP32: u8 = 0x77;
const I_ANCHOR_SIBLING: u8 = 0x78;
const I_ASSET: u8 = 0x79;
const I_PROOF: u8 = 0x7a;

/// Standard input key types per BIP-174/371 that btcd writes before the
/// unknowns.
const INPUT_STANDARD: &[u8] = &[
    0x00, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08, 0x13, 0x14, 0x15, 0x16, 0x17, 0x18,
];

// Output key types.
const O_BIP32: u8 = 0x02;
const O_TR_INTERNAL_KEY: u8 = 0x05;
const O_TR_BIP32: u8 = 0x07;
const O_TYPE: u8 = 0x70;
const O_INTERACTIVE: u8 = 0x71;
const O_ANCHOR_INDEX: u8 = 0x72;
const O_ANCHOR_INTERNAL_KEY: u8 = 0x73;
const O_ANCHOR_BIP32: u8 = 0x74;
const O_ANCHOR_TR_BIP32: u8 = 0x75;
const O_ASSET: u8 = 0x76;
const O_SPLIT_ASSET: u8 = 0x77;
const O_ANCHOR_SIBLING: u8 = 0x78;
const O_ASSET_VERSION: u8 = 0x79;
const O_PROOF_DELIVERY: u8 = 0x7a;
const O_PROOF_SUFFIX: u8 = 0x7b;
const O_LOCK_TIME: u8 = 0x7c;
const O_RELATIVE_LOCK_TIME: u8 = 0x7d;
const O_ALT_LEAVES: u8 = 0x7e;
const O_ADDRESS: u8 = 0x7f;

/// Standard output key types.
const OUTPUT_STANDARD: &[u8] = &[0x00, 0x01, 0x02, 0x05, 0x06, 0x07];

/// Magic of a single proof.
const PROOF_MAGIC: &[u8; 4] = b"TAPP";
/// Most alt leaves in one output (DoS guard).
const MAX_ALT_LEAVES: u64 = 65_535;

fn embedded(field: &'static str, e: impl std::fmt::Display) -> PsbtError {
    PsbtError::Embedded {
        field,
        reason: e.to_string(),
    }
}

fn u64_be(value: &[u8], field: &'static str) -> Result<u64, PsbtError> {
    let arr: [u8; 8] = value
        .try_into()
        .map_err(|_| PsbtError::InvalidValue(field))?;
    Ok(u64::from_be_bytes(arr))
}

fn u8_value(value: &[u8], field: &'static str) -> Result<u8, PsbtError> {
    match value {
        [b] => Ok(*b),
        _ => Err(PsbtError::InvalidValue(field)),
    }
}

fn pub_key33(value: &[u8], field: &'static str) -> Result<[u8; 33], PsbtError> {
    secp256k1::PublicKey::from_slice(value).map_err(|_| PsbtError::InvalidValue(field))?;
    value.try_into().map_err(|_| PsbtError::InvalidValue(field))
}

fn x_only32(value: &[u8], field: &'static str) -> Result<[u8; 32], PsbtError> {
    secp256k1::XOnlyPublicKey::from_slice(value).map_err(|_| PsbtError::InvalidValue(field))?;
    value.try_into().map_err(|_| PsbtError::InvalidValue(field))
}

fn asset(value: &[u8], field: &'static str) -> Result<Option<Asset>, PsbtError> {
    if value.is_empty() {
        return Ok(None);
    }
    Asset::decode(value)
        .map(Some)
        .map_err(|e| embedded(field, e))
}

/// Keeps proof bytes after checking the single-proof magic.
fn proof(value: &[u8], field: &'static str) -> Result<Option<Vec<u8>>, PsbtError> {
    if value.is_empty() {
        return Ok(None);
    }
    if !value.starts_with(PROOF_MAGIC) {
        return Err(PsbtError::InvalidValue(field));
    }
    Ok(Some(value.to_vec()))
}

fn alt_leaves(value: &[u8]) -> Result<Option<Vec<Vec<u8>>>, PsbtError> {
    if value.is_empty() {
        return Ok(None);
    }
    let err = |e| embedded("alt leaves", e);
    let mut r = Reader::new(value);
    let count = r.bigsize("alt leaf count").map_err(err)?;
    if count > MAX_ALT_LEAVES {
        return Err(PsbtError::TooLarge);
    }
    let mut out = Vec::new();
    for _ in 0..count {
        let leaf = r.var_bytes("alt leaf").map_err(err)?;
        crate::encoding::parse_stream(leaf).map_err(err)?;
        out.push(leaf.to_vec());
    }
    r.finish("alt leaves").map_err(err)?;
    Ok(Some(out))
}

fn utf8(value: &[u8], field: &'static str) -> Result<String, PsbtError> {
    String::from_utf8(value.to_vec()).map_err(|_| PsbtError::InvalidValue(field))
}

/// First byte of a key (its type); keys are never empty.
fn key_type(key: &[u8]) -> u8 {
    key.first().copied().unwrap_or(0)
}

impl VPacket {
    /// Decodes a serialized vPSBT.
    pub fn decode(bytes: &[u8]) -> Result<Self, PsbtError> {
        let mut cur = Cursor::new(bytes)?;
        let global = cur.map()?;
        let mut tx: Option<Transaction> = None;
        let mut is_virtual = false;
        let mut hrp = None;
        let mut version = 0;
        let mut unknown = Map::new();
        for (k, v) in global {
            match (k.as_slice(), v.as_slice()) {
                ([G_UNSIGNED_TX], _) => {
                    tx = Some(
                        bitcoin::consensus::deserialize(&v)
                            .map_err(|_| PsbtError::InvalidUnsignedTx)?,
                    );
                }
                ([G_IS_VIRTUAL], val) => is_virtual = val == [0x01],
                ([G_HRP], val) => hrp = Some(utf8(val, "chain params HRP")?),
                ([G_VERSION], val) => version = u8_value(val, "vpacket version")?,
                _ => unknown.push((k, v)),
            }
        }
        let tx = tx.ok_or(PsbtError::InvalidUnsignedTx)?;
        if !is_virtual {
            return Err(PsbtError::NotVirtual);
        }
        let hrp = hrp.ok_or(PsbtError::MissingHrp)?;
        let network = Network::from_hrp(&hrp).ok_or(PsbtError::UnknownHrp(hrp))?;

        let mut inputs = Vec::with_capacity(tx.input.len());
        for _ in 0..tx.input.len() {
            inputs.push(VInput::decode(cur.map()?)?);
        }
        let mut outputs = Vec::with_capacity(tx.output.len());
        for txout in &tx.output {
            outputs.push(VOutput::decode(cur.map()?, txout, network)?);
        }
        if !cur.is_empty() {
            return Err(PsbtError::TrailingBytes);
        }
        Ok(Self {
            version,
            network,
            inputs,
            outputs,
            unknown,
        })
    }

    /// The unsigned transaction tapd writes: version 2, one empty input per
    /// virtual input, one output per virtual output.
    pub fn unsigned_tx(&self) -> Result<Transaction, PsbtError> {
        let mut output = Vec::with_capacity(self.outputs.len());
        for o in &self.outputs {
            if o.amount > i64::MAX as u64 {
                return Err(PsbtError::AmountTooLarge);
            }
            output.push(TxOut {
                value: Amount::from_sat(o.amount),
                script_pubkey: o.pk_script.clone(),
            });
        }
        let empty_in = TxIn {
            previous_output: OutPoint::null_zero(),
            script_sig: ScriptBuf::new(),
            sequence: Sequence(0),
            witness: Witness::new(),
        };
        Ok(Transaction {
            version: Version::TWO,
            lock_time: LockTime::ZERO,
            input: vec![empty_in; self.inputs.len()],
            output,
        })
    }

    /// Serializes the packet.
    pub fn encode(&self) -> Result<Vec<u8>, PsbtError> {
        let tx = self.unsigned_tx()?;
        let mut out = super::kv::MAGIC.to_vec();
        let mut global: Map = vec![
            (vec![G_UNSIGNED_TX], bitcoin::consensus::serialize(&tx)),
            (vec![G_IS_VIRTUAL], vec![0x01]),
            (vec![G_HRP], self.network.hrp().as_bytes().to_vec()),
            (vec![G_VERSION], vec![self.version]),
        ];
        global.extend(self.unknown.iter().cloned());
        write_map(&mut out, &global);
        for i in &self.inputs {
            write_map(&mut out, &i.encode());
        }
        for o in &self.outputs {
            write_map(&mut out, &o.encode());
        }
        Ok(out)
    }
}

/// `OutPoint::null` is all-ones index; tapd's empty `wire.TxIn{}` has a zero
/// hash and zero index.
trait NullZero {
    fn null_zero() -> Self;
}

impl NullZero for OutPoint {
    fn null_zero() -> Self {
        OutPoint::new(
            bitcoin::Txid::from_raw_hash(bitcoin::hashes::Hash::all_zeros()),
            0,
        )
    }
}

impl VInput {
    fn decode(map: Map) -> Result<Self, PsbtError> {
        let mut input = VInput {
            prev_id: PrevId::zero(),
            anchor: Anchor::default(),
            asset: None,
            proof: None,
            bip32_derivation: Vec::new(),
            tr_bip32_derivation: Vec::new(),
            tr_internal_key: None,
            tr_merkle_root: None,
            other_standard: Map::new(),
            unknown: Map::new(),
        };
        for (k, v) in map {
            let typ = key_type(&k);
            let bare = k.len() == 1;
            match typ {
                // tapd skips its own fields when the value is empty.
                _ if bare && typ >= I_PREV_ID && v.is_empty() => {}
                I_BIP32 => input
                    .bip32_derivation
                    .push(Bip32Derivation::decode(&k, &v)?),
                I_TR_BIP32 => input
                    .tr_bip32_derivation
                    .push(TaprootBip32Derivation::decode(&k, &v)?),
                I_TR_INTERNAL_KEY if bare => {
                    input.tr_internal_key = Some(x_only32(&v, "taproot internal key")?)
                }
                I_TR_MERKLE_ROOT if bare => input.tr_merkle_root = Some(v),
                I_ANCHOR_BIP32 => input
                    .anchor
                    .bip32_derivation
                    .push(Bip32Derivation::decode(&k, &v)?),
                I_ANCHOR_TR_BIP32 => input
                    .anchor
                    .tr_bip32_derivation
                    .push(TaprootBip32Derivation::decode(&k, &v)?),
                _ if INPUT_STANDARD.contains(&typ) => input.other_standard.push((k, v)),
                _ if !bare => input.unknown.push((k, v)),
                I_PREV_ID => {
                    input.prev_id = PrevId::decode(&v).map_err(|e| embedded("prev id", e))?
                }
                I_ANCHOR_VALUE => input.anchor.value = u64_be(&v, "anchor value")?,
                I_ANCHOR_PK_SCRIPT => input.anchor.pk_script = v,
                I_ANCHOR_SIGHASH => input.anchor.sig_hash_type = u64_be(&v, "sighash type")?,
                I_ANCHOR_INTERNAL_KEY => {
                    input.anchor.internal_key = Some(pub_key33(&v, "anchor internal key")?)
                }
                I_ANCHOR_MERKLE_ROOT => input.anchor.merkle_root = v,
                I_ANCHOR_SIBLING => input.anchor.tapscript_sibling = v,
                I_ASSET => input.asset = asset(&v, "input asset")?,
                I_PROOF => input.proof = proof(&v, "input proof")?,
                _ => input.unknown.push((k, v)),
            }
        }
        // Written sorted by key (with the typed standard fields); kept sorted
        // so a decoded packet equals its own re-decoding.
        input.other_standard.sort_by(|a, b| a.0.cmp(&b.0));
        Ok(input)
    }

    fn encode(&self) -> Map {
        let mut standard: Map = Vec::new();
        standard.extend(self.bip32_derivation.iter().map(|d| d.encode(I_BIP32)));
        standard.extend(
            self.tr_bip32_derivation
                .iter()
                .map(|d| d.encode(I_TR_BIP32)),
        );
        if let Some(k) = &self.tr_internal_key {
            standard.push((vec![I_TR_INTERNAL_KEY], k.to_vec()));
        }
        if let Some(r) = &self.tr_merkle_root {
            standard.push((vec![I_TR_MERKLE_ROOT], r.clone()));
        }
        standard.extend(self.other_standard.iter().cloned());
        standard.sort_by(|a, b| a.0.cmp(&b.0));

        let a = &self.anchor;
        let mut m = standard;
        m.push((vec![I_PREV_ID], self.prev_id.encode()));
        m.push((vec![I_ANCHOR_VALUE], a.value.to_be_bytes().to_vec()));
        m.push((vec![I_ANCHOR_PK_SCRIPT], a.pk_script.clone()));
        m.push((
            vec![I_ANCHOR_SIGHASH],
            a.sig_hash_type.to_be_bytes().to_vec(),
        ));
        if let Some(k) = &a.internal_key {
            m.push((vec![I_ANCHOR_INTERNAL_KEY], k.to_vec()));
        }
        m.push((vec![I_ANCHOR_MERKLE_ROOT], a.merkle_root.clone()));
        m.extend(a.bip32_derivation.iter().map(|d| d.encode(I_ANCHOR_BIP32)));
        m.extend(
            a.tr_bip32_derivation
                .iter()
                .map(|d| d.encode(I_ANCHOR_TR_BIP32)),
        );
        m.push((vec![I_ANCHOR_SIBLING], a.tapscript_sibling.clone()));
        if let Some(asset) = &self.asset {
            m.push((vec![I_ASSET], asset.encode()));
        }
        if let Some(p) = &self.proof {
            m.push((vec![I_PROOF], p.clone()));
        }
        m.extend(self.unknown.iter().cloned());
        m
    }
}

impl VOutput {
    fn decode(map: Map, txout: &TxOut, network: Network) -> Result<Self, PsbtError> {
        let script = txout.script_pubkey.as_bytes();
        // tapd requires a P2TR script with a valid x-only key.
        if script.len() != 34 {
            return Err(PsbtError::InvalidValue("output pkScript length"));
        }
        x_only32(&script[2..], "output script key")?;
        let mut out = VOutput {
            amount: txout.value.to_sat(),
            pk_script: txout.script_pubkey.clone(),
            output_type: 0,
            interactive: false,
            anchor_output_index: 0,
            anchor_output_internal_key: None,
            anchor_output_bip32_derivation: Vec::new(),
            anchor_output_tr_bip32_derivation: Vec::new(),
            asset: None,
            split_asset: None,
            anchor_output_tapscript_sibling: None,
            asset_version: 0,
            proof_delivery_address: None,
            proof_suffix: None,
            lock_time: None,
            relative_lock_time: None,
            alt_leaves: None,
            address: None,
            bip32_derivation: Vec::new(),
            tr_internal_key: None,
            tr_bip32_derivation: Vec::new(),
            other_standard: Map::new(),
            unknown: Map::new(),
        };
        for (k, v) in map {
            let typ = key_type(&k);
            let bare = k.len() == 1;
            match typ {
                // tapd skips its own fields when the value is empty.
                _ if bare && typ >= O_TYPE && v.is_empty() => {}
                O_BIP32 => out.bip32_derivation.push(Bip32Derivation::decode(&k, &v)?),
                O_TR_BIP32 => out
                    .tr_bip32_derivation
                    .push(TaprootBip32Derivation::decode(&k, &v)?),
                O_TR_INTERNAL_KEY if bare => {
                    out.tr_internal_key = Some(x_only32(&v, "taproot internal key")?)
                }
                O_ANCHOR_BIP32 => out
                    .anchor_output_bip32_derivation
                    .push(Bip32Derivation::decode(&k, &v)?),
                O_ANCHOR_TR_BIP32 => out
                    .anchor_output_tr_bip32_derivation
                    .push(TaprootBip32Derivation::decode(&k, &v)?),
                _ if OUTPUT_STANDARD.contains(&typ) => out.other_standard.push((k, v)),
                _ if !bare => out.unknown.push((k, v)),
                O_TYPE => out.output_type = u8_value(&v, "output type")?,
                // tapd reads anything but 0x01 as false.
                O_INTERACTIVE => out.interactive = v == [0x01],
                O_ANCHOR_INDEX => out.anchor_output_index = u64_be(&v, "anchor output index")?,
                O_ANCHOR_INTERNAL_KEY => {
                    out.anchor_output_internal_key =
                        Some(pub_key33(&v, "anchor output internal key")?)
                }
                O_ASSET => out.asset = asset(&v, "output asset")?,
                O_SPLIT_ASSET => out.split_asset = asset(&v, "split asset")?,
                O_ANCHOR_SIBLING => {
                    out.anchor_output_tapscript_sibling = Some(
                        TapscriptPreimage::decode(&v)
                            .map_err(|e| embedded("anchor tapscript sibling", e))?,
                    )
                }
                O_ASSET_VERSION => out.asset_version = u8_value(&v, "asset version")?,
                O_PROOF_DELIVERY => {
                    out.proof_delivery_address = Some(utf8(&v, "proof delivery address")?)
                }
                O_PROOF_SUFFIX => out.proof_suffix = proof(&v, "proof suffix")?,
                O_LOCK_TIME => out.lock_time = Some(u64_be(&v, "lock time")?),
                O_RELATIVE_LOCK_TIME => {
                    out.relative_lock_time = Some(u64_be(&v, "relative lock time")?)
                }
                O_ALT_LEAVES => out.alt_leaves = alt_leaves(&v)?,
                O_ADDRESS => {
                    out.address =
                        Some(Address::decode_tlv(network, &v).map_err(|e| embedded("address", e))?)
                }
                _ => out.unknown.push((k, v)),
            }
        }
        // Written sorted by key (with the typed standard fields); kept sorted
        // so a decoded packet equals its own re-decoding.
        out.other_standard.sort_by(|a, b| a.0.cmp(&b.0));
        Ok(out)
    }

    fn encode(&self) -> Map {
        let mut standard: Map = Vec::new();
        standard.extend(self.bip32_derivation.iter().map(|d| d.encode(O_BIP32)));
        if let Some(k) = &self.tr_internal_key {
            standard.push((vec![O_TR_INTERNAL_KEY], k.to_vec()));
        }
        standard.extend(
            self.tr_bip32_derivation
                .iter()
                .map(|d| d.encode(O_TR_BIP32)),
        );
        standard.extend(self.other_standard.iter().cloned());
        standard.sort_by(|a, b| a.0.cmp(&b.0));

        let mut m = standard;
        m.push((vec![O_TYPE], vec![self.output_type]));
        m.push((vec![O_INTERACTIVE], vec![u8::from(self.interactive)]));
        m.push((
            vec![O_ANCHOR_INDEX],
            self.anchor_output_index.to_be_bytes().to_vec(),
        ));
        if let Some(k) = &self.anchor_output_internal_key {
            m.push((vec![O_ANCHOR_INTERNAL_KEY], k.to_vec()));
        }
        m.extend(
            self.anchor_output_bip32_derivation
                .iter()
                .map(|d| d.encode(O_ANCHOR_BIP32)),
        );
        m.extend(
            self.anchor_output_tr_bip32_derivation
                .iter()
                .map(|d| d.encode(O_ANCHOR_TR_BIP32)),
        );
        if let Some(a) = &self.asset {
            m.push((vec![O_ASSET], a.encode()));
        }
        if let Some(a) = &self.split_asset {
            m.push((vec![O_SPLIT_ASSET], a.encode()));
        }
        if let Some(s) = &self.anchor_output_tapscript_sibling {
            m.push((vec![O_ANCHOR_SIBLING], s.encode()));
        }
        m.push((vec![O_ASSET_VERSION], vec![self.asset_version]));
        if let Some(u) = &self.proof_delivery_address {
            m.push((vec![O_PROOF_DELIVERY], u.as_bytes().to_vec()));
        }
        if let Some(p) = &self.proof_suffix {
            m.push((vec![O_PROOF_SUFFIX], p.clone()));
        }
        if let Some(t) = self.lock_time {
            m.push((vec![O_LOCK_TIME], t.to_be_bytes().to_vec()));
        }
        if let Some(t) = self.relative_lock_time {
            m.push((vec![O_RELATIVE_LOCK_TIME], t.to_be_bytes().to_vec()));
        }
        if let Some(leaves) = &self.alt_leaves {
            let mut v = Vec::new();
            write_bigsize(&mut v, leaves.len() as u64);
            for leaf in leaves {
                write_var_bytes(&mut v, leaf);
            }
            m.push((vec![O_ALT_LEAVES], v));
        }
        if let Some(a) = &self.address {
            m.push((vec![O_ADDRESS], a.encode_tlv()));
        }
        m.extend(self.unknown.iter().cloned());
        m
    }
}
