//! tapd's JSON test-vector shapes for vPSBTs (`tappsbt/mock.go`
//! `TestVPacket` and friends) and their conversion into [`VPacket`].
//! Only the test-vector format lives here; it is not a wire format.

use serde::Deserialize;
use serde::de::IgnoredAny;

use super::{
    Anchor, Bip32Derivation, Map, PsbtError, TaprootBip32Derivation, VInput, VOutput, VPacket,
};
use crate::address::Network;
use crate::address::testvec::TestAddress;
use crate::asset::testvec::{TestAsset, TestPrevId};
use crate::asset::{AssetId, PrevId, SerializedKey};
use crate::tapscript::TapscriptPreimage;

/// JSON BIP-32 derivation (`pub_key` is 33 or 32 bytes hex).
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct TestDerivation {
    /// Hex key.
    pub pub_key: String,
    /// Fingerprint.
    pub fingerprint: u32,
    /// Path.
    pub bip32_path: Vec<u32>,
    /// Hex leaf hashes (taproot only).
    pub leaf_hashes: Option<Vec<String>>,
}

/// JSON anchor.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct TestAnchor {
    /// Value.
    pub value: u64,
    /// Hex pkScript.
    pub pk_script: String,
    /// Sighash type.
    pub sig_hash_type: u64,
    /// Hex internal key.
    pub internal_key: String,
    /// Hex merkle root.
    pub merkle_root: String,
    /// Hex sibling preimage.
    pub tapscript_sibling: String,
    /// Derivations.
    pub bip32_derivation: Option<Vec<TestDerivation>>,
    /// Taproot derivations.
    pub tr_bip32_derivation: Option<Vec<TestDerivation>>,
}

/// JSON virtual input.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct TestVInput {
    /// Derivations.
    pub bip32_derivation: Option<Vec<TestDerivation>>,
    /// Taproot derivations.
    pub tr_bip32_derivation: Option<Vec<TestDerivation>>,
    /// Hex x-only internal key.
    pub tr_internal_key: String,
    /// Hex merkle root.
    pub tr_merkle_root: String,
    /// PrevID.
    pub prev_id: TestPrevId,
    /// Anchor.
    pub anchor: TestAnchor,
    /// Asset.
    pub asset: Option<TestAsset>,
    /// The proof as a JSON object. Not converted here (no proof type in
    /// this crate yet): [`TestVPacket::to_packet`] leaves the proof unset.
    /// TODO(proof): convert once `proof::Proof` exists.
    pub proof: Option<IgnoredAny>,
}

/// JSON virtual output.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct TestVOutput {
    /// Amount.
    pub amount: u64,
    /// Output type.
    #[serde(rename = "type")]
    pub output_type: u8,
    /// Asset version.
    pub asset_version: u8,
    /// Interactive.
    pub interactive: bool,
    /// Anchor output index.
    pub anchor_output_index: u64,
    /// Hex anchor internal key.
    pub anchor_output_internal_key: String,
    /// Anchor derivations.
    pub anchor_output_bip32_derivation: Option<Vec<TestDerivation>>,
    /// Anchor taproot derivations.
    pub anchor_output_tr_bip32_derivation: Option<Vec<TestDerivation>>,
    /// Hex sibling preimage.
    pub anchor_output_tapscript_sibling: String,
    /// Asset.
    pub asset: Option<TestAsset>,
    /// Split asset.
    pub split_asset: Option<TestAsset>,
    /// Hex pkScript.
    pub pk_script: String,
    /// Derivations.
    pub bip32_derivation: Option<Vec<TestDerivation>>,
    /// Taproot derivations.
    pub tr_bip32_derivation: Option<Vec<TestDerivation>>,
    /// Hex x-only internal key.
    pub tr_internal_key: String,
    /// Hex merkle root.
    pub tr_merkle_root: String,
    /// Courier URL.
    pub proof_delivery_address: String,
    /// The proof suffix as a JSON object; left unset like input proofs.
    pub proof_suffix: Option<IgnoredAny>,
    /// Relative lock time.
    pub relative_lock_time: u64,
    /// Lock time.
    pub lock_time: u64,
    /// Alt leaves (alt-leaf assets).
    pub alt_leaves: Option<Vec<TestAsset>>,
    /// Address.
    pub address: Option<TestAddress>,
}

/// JSON packet.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct TestVPacket {
    /// Inputs.
    pub inputs: Option<Vec<TestVInput>>,
    /// Outputs.
    pub outputs: Option<Vec<TestVOutput>>,
    /// Version.
    pub version: u8,
    /// HRP.
    pub chain_params_hrp: String,
}

fn bad(field: &'static str) -> PsbtError {
    PsbtError::InvalidValue(field)
}

fn hex_bytes(s: &str, field: &'static str) -> Result<Vec<u8>, PsbtError> {
    hex::decode(s).map_err(|_| bad(field))
}

fn opt_array<const N: usize>(s: &str, field: &'static str) -> Result<Option<[u8; N]>, PsbtError> {
    if s.is_empty() {
        return Ok(None);
    }
    hex_bytes(s, field)?
        .try_into()
        .map(Some)
        .map_err(|_| bad(field))
}

fn derivations(v: &Option<Vec<TestDerivation>>) -> Result<Vec<Bip32Derivation>, PsbtError> {
    v.iter()
        .flatten()
        .map(|d| {
            Ok(Bip32Derivation {
                pub_key: opt_array(&d.pub_key, "derivation key")?.ok_or(bad("derivation key"))?,
                fingerprint: d.fingerprint,
                path: d.bip32_path.clone(),
            })
        })
        .collect()
}

fn tr_derivations(
    v: &Option<Vec<TestDerivation>>,
) -> Result<Vec<TaprootBip32Derivation>, PsbtError> {
    v.iter()
        .flatten()
        .map(|d| {
            let leaf_hashes = d
                .leaf_hashes
                .iter()
                .flatten()
                .map(|h| opt_array(h, "leaf hash")?.ok_or(bad("leaf hash")))
                .collect::<Result<Vec<_>, _>>()?;
            Ok(TaprootBip32Derivation {
                x_only: opt_array(&d.pub_key, "derivation key")?.ok_or(bad("derivation key"))?,
                leaf_hashes,
                fingerprint: d.fingerprint,
                path: d.bip32_path.clone(),
            })
        })
        .collect()
}

fn test_asset(
    a: &Option<TestAsset>,
    field: &'static str,
) -> Result<Option<crate::asset::Asset>, PsbtError> {
    a.as_ref()
        .map(|t| {
            t.to_asset().map_err(|e| PsbtError::Embedded {
                field,
                reason: e.to_string(),
            })
        })
        .transpose()
}

fn opt_hex(s: &Option<String>, field: &'static str) -> Result<Option<Vec<u8>>, PsbtError> {
    s.as_deref()
        .filter(|s| !s.is_empty())
        .map(|s| hex_bytes(s, field))
        .transpose()
}

/// Compact alt-leaf encoding of a JSON alt leaf: TLV 14 (script version)
/// and 16 (script key); alt leaves in the vectors carry no witnesses.
fn alt_leaf(t: &TestAsset) -> Result<Vec<u8>, PsbtError> {
    if t.prev_witnesses.as_ref().is_some_and(|w| !w.is_empty()) {
        return Err(bad("alt leaf with witnesses (not supported here)"));
    }
    let key = hex_bytes(&t.script_key, "alt leaf script key")?;
    let mut w = crate::encoding::StreamWriter::new();
    w.record(14, t.script_version.to_be_bytes().to_vec());
    w.record(16, key);
    Ok(w.finish())
}

impl TestVPacket {
    /// Converts to a [`VPacket`] (tapd's checks: the HRP must be set).
    pub fn to_packet(&self) -> Result<VPacket, PsbtError> {
        if self.chain_params_hrp.is_empty() {
            return Err(PsbtError::MissingHrp);
        }
        let network = Network::from_hrp(&self.chain_params_hrp)
            .ok_or_else(|| PsbtError::UnknownHrp(self.chain_params_hrp.clone()))?;
        let mut inputs = Vec::new();
        for i in self.inputs.iter().flatten() {
            inputs.push(VInput {
                prev_id: PrevId {
                    out_point: i.prev_id.out_point.parse().map_err(|_| bad("prev id"))?,
                    asset_id: AssetId(
                        opt_array(&i.prev_id.asset_id, "asset id")?.ok_or(bad("asset id"))?,
                    ),
                    script_key: SerializedKey(
                        opt_array(&i.prev_id.script_key, "script key")?.ok_or(bad("script key"))?,
                    ),
                },
                anchor: Anchor {
                    value: i.anchor.value,
                    pk_script: hex_bytes(&i.anchor.pk_script, "anchor pk script")?,
                    sig_hash_type: i.anchor.sig_hash_type,
                    internal_key: opt_array(&i.anchor.internal_key, "anchor internal key")?,
                    merkle_root: hex_bytes(&i.anchor.merkle_root, "anchor merkle root")?,
                    bip32_derivation: derivations(&i.anchor.bip32_derivation)?,
                    tr_bip32_derivation: tr_derivations(&i.anchor.tr_bip32_derivation)?,
                    tapscript_sibling: hex_bytes(&i.anchor.tapscript_sibling, "anchor sibling")?,
                },
                asset: test_asset(&i.asset, "input asset")?,
                proof: None,
                bip32_derivation: derivations(&i.bip32_derivation)?,
                tr_bip32_derivation: tr_derivations(&i.tr_bip32_derivation)?,
                tr_internal_key: opt_array(&i.tr_internal_key, "tr internal key")?,
                tr_merkle_root: opt_hex(&Some(i.tr_merkle_root.clone()), "tr merkle root")?,
                other_standard: Map::new(),
                unknown: Map::new(),
            });
        }
        let mut outputs = Vec::new();
        for o in self.outputs.iter().flatten() {
            let sibling = if o.anchor_output_tapscript_sibling.is_empty() {
                None
            } else {
                let bytes = hex_bytes(&o.anchor_output_tapscript_sibling, "sibling")?;
                Some(TapscriptPreimage::decode(&bytes).map_err(|_| bad("sibling"))?)
            };
            let address = o
                .address
                .as_ref()
                .map(|a| {
                    a.to_address().map_err(|e| PsbtError::Embedded {
                        field: "address",
                        reason: e.to_string(),
                    })
                })
                .transpose()?;
            let alt_leaves = o
                .alt_leaves
                .as_ref()
                .map(|l| l.iter().map(alt_leaf).collect::<Result<Vec<_>, _>>())
                .transpose()?;
            outputs.push(VOutput {
                amount: o.amount,
                pk_script: hex_bytes(&o.pk_script, "pk script")?.into(),
                output_type: o.output_type,
                interactive: o.interactive,
                anchor_output_index: o.anchor_output_index,
                anchor_output_internal_key: opt_array(
                    &o.anchor_output_internal_key,
                    "anchor output internal key",
                )?,
                anchor_output_bip32_derivation: derivations(&o.anchor_output_bip32_derivation)?,
                anchor_output_tr_bip32_derivation: tr_derivations(
                    &o.anchor_output_tr_bip32_derivation,
                )?,
                asset: test_asset(&o.asset, "output asset")?,
                split_asset: test_asset(&o.split_asset, "split asset")?,
                anchor_output_tapscript_sibling: sibling,
                asset_version: o.asset_version,
                proof_delivery_address: Some(o.proof_delivery_address.clone())
                    .filter(|s| !s.is_empty()),
                proof_suffix: None,
                lock_time: Some(o.lock_time),
                relative_lock_time: Some(o.relative_lock_time),
                alt_leaves,
                address,
                bip32_derivation: derivations(&o.bip32_derivation)?,
                tr_internal_key: opt_array(&o.tr_internal_key, "tr internal key")?,
                tr_bip32_derivation: tr_derivations(&o.tr_bip32_derivation)?,
                other_standard: Map::new(),
                unknown: Map::new(),
            });
        }
        Ok(VPacket {
            version: self.version,
            network,
            inputs,
            outputs,
            unknown: Map::new(),
        })
    }
}
