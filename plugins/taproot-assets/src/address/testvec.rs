//! tapd's JSON test-vector shape for addresses (`address/mock.go`
//! `TestAddress`) and its conversion, with tapd's checks and error texts.

use std::collections::BTreeMap;

use serde::Deserialize;

use super::{Address, Network};
use crate::asset::testvec::decode_base64;
use crate::asset::{AssetId, SerializedKey};
use crate::encoding::{DecodeError, UnknownOddTypes};
use crate::tapscript::TapscriptPreimage;

const HEX_COMPRESSED_PUB_KEY_LEN: usize = 66;

/// Why a JSON test address does not convert.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AddressVectorError {
    /// No HRP.
    #[error("missing chain params HRP")]
    MissingHrp,
    /// HRP of no Taproot Assets network.
    #[error("invalid chain params HRP")]
    InvalidHrp,
    /// Neither asset ID nor group key.
    #[error("missing asset ID or group key")]
    MissingAssetIdOrGroupKey,
    /// No script key.
    #[error("missing script key")]
    MissingScriptKey,
    /// Script key hex not 66 characters.
    #[error("invalid script key length")]
    InvalidScriptKeyLength,
    /// No internal key.
    #[error("missing internal key")]
    MissingInternalKey,
    /// Internal key hex not 66 characters.
    #[error("invalid internal key length")]
    InvalidInternalKeyLength,
    /// Group key hex not 66 characters.
    #[error("invalid group key length")]
    InvalidGroupKeyLength,
    /// Bad hex.
    #[error("invalid hex in {0}")]
    InvalidHex(&'static str),
    /// Bad unknown-type entry.
    #[error("invalid unknown odd type {0:?}")]
    InvalidUnknownType(String),
    /// A value the binary decoder rejects.
    #[error(transparent)]
    Decode(#[from] DecodeError),
}

/// JSON address (tapd `TestAddress`).
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct TestAddress {
    /// Address version.
    pub version: u8,
    /// HRP.
    pub chain_params_hrp: String,
    /// Asset version.
    pub asset_version: u8,
    /// Hex asset ID.
    pub asset_id: String,
    /// Hex group key.
    pub group_key: String,
    /// Hex script key.
    pub script_key: String,
    /// Hex internal key.
    pub internal_key: String,
    /// Hex tapscript sibling preimage.
    pub tapscript_sibling: String,
    /// Amount.
    pub amount: u64,
    /// Courier URL.
    pub proof_courier_addr: String,
    /// Unknown odd records: decimal type → base64 value.
    pub unknown_odd_types: Option<BTreeMap<String, String>>,
}

fn hex_key(s: &str, field: &'static str) -> Result<SerializedKey, AddressVectorError> {
    let arr: [u8; 33] = hex::decode(s)
        .ok()
        .and_then(|v| v.try_into().ok())
        .ok_or(AddressVectorError::InvalidHex(field))?;
    Ok(SerializedKey::parse(arr, field)?)
}

impl TestAddress {
    /// Converts to an [`Address`], checking fields in tapd's order.
    pub fn to_address(&self) -> Result<Address, AddressVectorError> {
        if self.chain_params_hrp.is_empty() {
            return Err(AddressVectorError::MissingHrp);
        }
        let network =
            Network::from_hrp(&self.chain_params_hrp).ok_or(AddressVectorError::InvalidHrp)?;
        if self.asset_id.is_empty() && self.group_key.is_empty() {
            return Err(AddressVectorError::MissingAssetIdOrGroupKey);
        }
        if self.script_key.is_empty() {
            return Err(AddressVectorError::MissingScriptKey);
        }
        if self.script_key.len() != HEX_COMPRESSED_PUB_KEY_LEN {
            return Err(AddressVectorError::InvalidScriptKeyLength);
        }
        if self.internal_key.is_empty() {
            return Err(AddressVectorError::MissingInternalKey);
        }
        if self.internal_key.len() != HEX_COMPRESSED_PUB_KEY_LEN {
            return Err(AddressVectorError::InvalidInternalKeyLength);
        }
        if !self.group_key.is_empty() && self.group_key.len() != HEX_COMPRESSED_PUB_KEY_LEN {
            return Err(AddressVectorError::InvalidGroupKeyLength);
        }
        let asset_id = if self.asset_id.is_empty() {
            AssetId::default()
        } else {
            AssetId(
                hex::decode(&self.asset_id)
                    .ok()
                    .and_then(|v| v.try_into().ok())
                    .ok_or(AddressVectorError::InvalidHex("asset id"))?,
            )
        };
        let group_key = if self.group_key.is_empty() {
            None
        } else {
            Some(hex_key(&self.group_key, "group key")?)
        };
        let tapscript_sibling = if self.tapscript_sibling.is_empty() {
            None
        } else {
            let bytes = hex::decode(&self.tapscript_sibling)
                .map_err(|_| AddressVectorError::InvalidHex("tapscript sibling"))?;
            Some(TapscriptPreimage::decode(&bytes)?)
        };
        let mut unknown = UnknownOddTypes::new();
        for (k, v) in self.unknown_odd_types.iter().flatten() {
            let typ = k
                .parse::<u64>()
                .map_err(|_| AddressVectorError::InvalidUnknownType(k.clone()))?;
            let value =
                decode_base64(v).map_err(|_| AddressVectorError::InvalidUnknownType(k.clone()))?;
            unknown.insert(typ, value);
        }
        Ok(Address {
            network,
            version: self.version,
            asset_version: self.asset_version,
            asset_id,
            group_key,
            script_key: hex_key(&self.script_key, "script key")?,
            internal_key: hex_key(&self.internal_key, "internal key")?,
            tapscript_sibling,
            amount: self.amount,
            proof_courier_addr: if self.proof_courier_addr.is_empty() {
                None
            } else {
                Some(self.proof_courier_addr.clone())
            },
            unknown_odd_types: unknown,
        })
    }
}
