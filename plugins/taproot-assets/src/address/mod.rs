//! Taproot Asset addresses (tapd package `address`): a bech32m string whose
//! data part is a TLV stream.
//!
//! TLV types: 0 address version (u8), 2 asset version (u8), 4 asset ID (32,
//! omitted when all zeros), 5 group key (33), 6 script key (33), 8 internal
//! key (33), 9 tapscript sibling preimage, 10 amount (BigSize), 12 proof
//! courier URL. Address versions 0–2 are known.
//!
//! Not here yet: deriving the expected on-chain output key (needs
//! commitments) and the V2 unique script key derivation.

pub mod bech32m;
pub mod testvec;

use crate::asset::{AssetId, SerializedKey};
use crate::encoding::{
    DecodeError, StreamWriter, UnknownOddTypes, bigsize_bytes, decode_bigsize_value, expect_len,
    keep_unknown, parse_stream,
};
use crate::tapscript::TapscriptPreimage;

pub use bech32m::Bech32Error;

/// Highest address version this crate knows.
pub const MAX_KNOWN_VERSION: u8 = 2;

/// Which chain an address is for (by HRP).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Network {
    /// `tapbc`.
    Mainnet,
    /// `taptb`: testnet3, testnet4 and signet all share it.
    Testnet,
    /// `taprt`.
    Regtest,
    /// `tapsb`.
    Simnet,
}

impl Network {
    /// The bech32m human-readable part.
    pub fn hrp(self) -> &'static str {
        match self {
            Self::Mainnet => "tapbc",
            Self::Testnet => "taptb",
            Self::Regtest => "taprt",
            Self::Simnet => "tapsb",
        }
    }

    /// The network of a (lower-case) HRP.
    pub fn from_hrp(hrp: &str) -> Option<Self> {
        match hrp {
            "tapbc" => Some(Self::Mainnet),
            "taptb" => Some(Self::Testnet),
            "taprt" => Some(Self::Regtest),
            "tapsb" => Some(Self::Simnet),
            _ => None,
        }
    }
}

/// Why an address string does not decode.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AddressError {
    /// Not bech32m.
    #[error(transparent)]
    Bech32(#[from] Bech32Error),
    /// HRP of no Taproot Assets network.
    #[error("unsupported HRP {0:?}")]
    UnsupportedHrp(String),
    /// The TLV payload is malformed.
    #[error(transparent)]
    Decode(#[from] DecodeError),
    /// An address version above [`MAX_KNOWN_VERSION`].
    #[error("unknown address version {0}")]
    UnknownVersion(u8),
}

/// A decoded Taproot Asset address.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Address {
    /// Network (HRP).
    pub network: Network,
    /// Address version (TLV 0).
    pub version: u8,
    /// Asset version to create (TLV 2).
    pub asset_version: u8,
    /// Asset ID (TLV 4; zero = absent, e.g. V2 group-only addresses).
    pub asset_id: AssetId,
    /// Group key (TLV 5).
    pub group_key: Option<SerializedKey>,
    /// Script key (TLV 6; for V2 a raw key the real one derives from).
    pub script_key: SerializedKey,
    /// Internal key of the receiving output (TLV 8).
    pub internal_key: SerializedKey,
    /// Tapscript sibling of the commitment leaf (TLV 9).
    pub tapscript_sibling: Option<TapscriptPreimage>,
    /// Amount (TLV 10).
    pub amount: u64,
    /// Proof courier URL (TLV 12), kept as text.
    pub proof_courier_addr: Option<String>,
    /// Unknown odd records, re-emitted on encode.
    pub unknown_odd_types: UnknownOddTypes,
}

const T_VERSION: u64 = 0;
const T_ASSET_VERSION: u64 = 2;
const T_ASSET_ID: u64 = 4;
const T_GROUP_KEY: u64 = 5;
const T_SCRIPT_KEY: u64 = 6;
const T_INTERNAL_KEY: u64 = 8;
const T_SIBLING: u64 = 9;
const T_AMOUNT: u64 = 10;
const T_COURIER: u64 = 12;

fn key(value: &[u8], field: &'static str) -> Result<SerializedKey, DecodeError> {
    expect_len(field, value, 33)?;
    let mut arr = [0u8; 33];
    arr.copy_from_slice(value);
    SerializedKey::parse(arr, field)
}

fn one_byte(value: &[u8], field: &'static str) -> Result<u8, DecodeError> {
    expect_len(field, value, 1)?;
    Ok(value[0])
}

impl Address {
    /// The TLV payload.
    pub fn encode_tlv(&self) -> Vec<u8> {
        let mut w = StreamWriter::new();
        w.record(T_VERSION, vec![self.version]);
        w.record(T_ASSET_VERSION, vec![self.asset_version]);
        if self.asset_id != AssetId::default() {
            w.record(T_ASSET_ID, self.asset_id.0.to_vec());
        }
        if let Some(gk) = &self.group_key {
            w.record(T_GROUP_KEY, gk.0.to_vec());
        }
        w.record(T_SCRIPT_KEY, self.script_key.0.to_vec());
        w.record(T_INTERNAL_KEY, self.internal_key.0.to_vec());
        if let Some(s) = &self.tapscript_sibling {
            w.record(T_SIBLING, s.encode());
        }
        w.record(T_AMOUNT, bigsize_bytes(self.amount));
        if let Some(c) = &self.proof_courier_addr {
            w.record(T_COURIER, c.as_bytes().to_vec());
        }
        w.unknown(&self.unknown_odd_types);
        w.finish()
    }

    /// The bech32m address string.
    pub fn encode(&self) -> String {
        bech32m::encode(self.network.hrp(), &self.encode_tlv())
    }

    /// Decodes the TLV payload for `network`.
    pub fn decode_tlv(network: Network, bytes: &[u8]) -> Result<Self, AddressError> {
        let mut version = None;
        let mut asset_version = None;
        let mut asset_id = AssetId::default();
        let mut group_key = None;
        let mut script_key = None;
        let mut internal_key = None;
        let mut tapscript_sibling = None;
        let mut amount = None;
        let mut proof_courier_addr = None;
        let mut unknown = UnknownOddTypes::new();
        for rec in parse_stream(bytes)? {
            let v = rec.value;
            match rec.typ {
                T_VERSION => version = Some(one_byte(v, "address version")?),
                T_ASSET_VERSION => asset_version = Some(one_byte(v, "asset version")?),
                T_ASSET_ID => {
                    expect_len("asset id", v, 32)?;
                    asset_id.0.copy_from_slice(v);
                }
                T_GROUP_KEY => group_key = Some(key(v, "group key")?),
                T_SCRIPT_KEY => script_key = Some(key(v, "script key")?),
                T_INTERNAL_KEY => internal_key = Some(key(v, "internal key")?),
                T_SIBLING => tapscript_sibling = Some(TapscriptPreimage::decode(v)?),
                T_AMOUNT => amount = Some(decode_bigsize_value("amount", v)?),
                T_COURIER => {
                    let s = std::str::from_utf8(v).map_err(|_| DecodeError::InvalidValue {
                        field: "proof courier address",
                        reason: "not UTF-8",
                    })?;
                    proof_courier_addr = Some(s.to_owned());
                }
                _ => keep_unknown(&mut unknown, rec)?,
            }
        }
        let version = version.ok_or(DecodeError::MissingRecord("address version"))?;
        if version > MAX_KNOWN_VERSION {
            return Err(AddressError::UnknownVersion(version));
        }
        Ok(Self {
            network,
            version,
            asset_version: asset_version.ok_or(DecodeError::MissingRecord("asset version"))?,
            asset_id,
            group_key,
            script_key: script_key.ok_or(DecodeError::MissingRecord("script key"))?,
            internal_key: internal_key.ok_or(DecodeError::MissingRecord("internal key"))?,
            tapscript_sibling,
            amount: amount.ok_or(DecodeError::MissingRecord("amount"))?,
            proof_courier_addr,
            unknown_odd_types: unknown,
        })
    }

    /// Decodes an address string (any known network).
    pub fn decode(s: &str) -> Result<Self, AddressError> {
        let (hrp, data) = bech32m::decode(s)?;
        let network = Network::from_hrp(&hrp).ok_or(AddressError::UnsupportedHrp(hrp))?;
        Self::decode_tlv(network, &data)
    }
}
