//! BOLT 1 fundamental types: fixed hashes and ids, `point`, `signature`,
//! `short_channel_id`, truncated integers, scripts and txids.

use std::fmt;
use std::str::FromStr;

use bitcoin::hashes::Hash;
use bitcoin::secp256k1::{PublicKey, ecdsa::Signature};
use bitcoin::{ScriptBuf, Txid};

use super::bigsize::BigSize;
use super::codec::{Decode, Encode, Reader, Writer};
use super::error::DecodeError;
use super::tlv::TlvValue;

macro_rules! bytes32 {
    ($($(#[$m:meta])* $name:ident;)*) => {$(
        $(#[$m])*
        #[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
        pub struct $name(pub [u8; 32]);

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&hex::encode(self.0))
            }
        }
        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, "{}({})", stringify!($name), self)
            }
        }
        impl From<[u8; 32]> for $name {
            fn from(b: [u8; 32]) -> Self {
                $name(b)
            }
        }
        impl Encode for $name {
            fn encode(&self, w: &mut Writer) {
                w.put(&self.0);
            }
        }
        impl Decode for $name {
            fn decode(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
                Ok($name(r.read_array()?))
            }
        }
    )*};
}

bytes32! {
    /// `chain_hash`: the genesis block hash of a chain, in internal byte order.
    ChainHash;
    /// `channel_id`: 32 bytes identifying a channel (BOLT 2).
    ChannelId;
    /// `sha256`: a 32-byte SHA-256 digest (e.g. a payment hash).
    Sha256;
}

impl ChainHash {
    /// The chain hash of a bitcoin network (`Network::Bitcoin`, `Testnet`, `Signet`, `Regtest`...).
    pub fn for_network(network: bitcoin::Network) -> ChainHash {
        ChainHash(bitcoin::constants::ChainHash::using_genesis_block_const(network).to_bytes())
    }
}

/// `short_channel_id`: block height (3 bytes), transaction index (3 bytes)
/// and output index (2 bytes) packed into a `u64`.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct ShortChannelId(pub u64);

impl ShortChannelId {
    /// Pack the three parts; `None` if a part does not fit its width.
    pub fn new(block: u32, tx_index: u32, output: u16) -> Option<ShortChannelId> {
        if block > 0xff_ffff || tx_index > 0xff_ffff {
            return None;
        }
        Some(ShortChannelId(
            (u64::from(block) << 40) | (u64::from(tx_index) << 16) | u64::from(output),
        ))
    }

    /// The funding transaction's block height.
    pub fn block(self) -> u32 {
        (self.0 >> 40) as u32
    }

    /// The funding transaction's index in its block.
    pub fn tx_index(self) -> u32 {
        ((self.0 >> 16) & 0xff_ffff) as u32
    }

    /// The funding output's index.
    pub fn output(self) -> u16 {
        (self.0 & 0xffff) as u16
    }
}

impl fmt::Display for ShortChannelId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}x{}x{}", self.block(), self.tx_index(), self.output())
    }
}

impl fmt::Debug for ShortChannelId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "ShortChannelId({self})")
    }
}

/// Why a `BLOCKxTXxOUT` string is not a short channel id.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("not a short channel id (BLOCKxTXxOUT): {0:?}")]
pub struct ParseShortChannelIdError(pub String);

impl FromStr for ShortChannelId {
    type Err = ParseShortChannelIdError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let err = || ParseShortChannelIdError(s.to_string());
        let mut parts = s.split('x');
        let (Some(b), Some(t), Some(o), None) =
            (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return Err(err());
        };
        let digits = |p: &str| !p.is_empty() && p.bytes().all(|c| c.is_ascii_digit());
        if !(digits(b) && digits(t) && digits(o)) {
            return Err(err());
        }
        let block = b.parse().map_err(|_| err())?;
        let tx = t.parse().map_err(|_| err())?;
        let out = o.parse().map_err(|_| err())?;
        ShortChannelId::new(block, tx, out).ok_or_else(err)
    }
}

impl Encode for ShortChannelId {
    fn encode(&self, w: &mut Writer) {
        w.write(&self.0);
    }
}

impl Decode for ShortChannelId {
    fn decode(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        Ok(ShortChannelId(r.read()?))
    }
}

/// `point`: a compressed secp256k1 public key, validated on decode.
impl Encode for PublicKey {
    fn encode(&self, w: &mut Writer) {
        w.put(&self.serialize());
    }
}

impl Decode for PublicKey {
    fn decode(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        let bytes: [u8; 33] = r.read_array()?;
        PublicKey::from_slice(&bytes).map_err(|_| DecodeError::InvalidPoint)
    }
}

/// `signature`: a 64-byte compact ECDSA signature (r || s), validated on decode.
impl Encode for Signature {
    fn encode(&self, w: &mut Writer) {
        w.put(&self.serialize_compact());
    }
}

impl Decode for Signature {
    fn decode(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        let bytes: [u8; 64] = r.read_array()?;
        Signature::from_compact(&bytes).map_err(|_| DecodeError::InvalidSignature)
    }
}

/// A count-prefixed (`u16`) list of signatures (`commitment_signed`).
impl Encode for Vec<Signature> {
    fn encode(&self, w: &mut Writer) {
        match u16::try_from(self.len()) {
            Ok(n) => {
                w.write(&n);
                for s in self {
                    w.write(s);
                }
            }
            Err(_) => w.fail(super::error::EncodeError::TooLong {
                what: "signature list",
                len: self.len(),
                max: usize::from(u16::MAX),
            }),
        }
    }
}

impl Decode for Vec<Signature> {
    fn decode(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        let n: u16 = r.read()?;
        // Check the length up front so a lying count cannot make us allocate.
        if r.remaining().len() < usize::from(n) * 64 {
            return Err(DecodeError::UnexpectedEof);
        }
        (0..n).map(|_| r.read()).collect()
    }
}

/// A `sha256` transaction id, in internal byte order.
impl Encode for Txid {
    fn encode(&self, w: &mut Writer) {
        w.put(self.as_byte_array());
    }
}

impl Decode for Txid {
    fn decode(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        Ok(Txid::from_byte_array(r.read_array()?))
    }
}

/// In message bodies a script is a `u16` length followed by its bytes.
impl Encode for ScriptBuf {
    fn encode(&self, w: &mut Writer) {
        w.put_u16_prefixed("script", self.as_bytes());
    }
}

impl Decode for ScriptBuf {
    fn decode(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        Ok(ScriptBuf::from_bytes(r.read_u16_prefixed()?.to_vec()))
    }
}

/// In a TLV record a script is the whole value.
impl TlvValue for ScriptBuf {
    fn write_value(&self, w: &mut Writer) {
        w.put(self.as_bytes());
    }
    fn read_value(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        Ok(ScriptBuf::from_bytes(r.read_rest().to_vec()))
    }
}

/// In a TLV record raw bytes are the whole value.
impl TlvValue for Vec<u8> {
    fn write_value(&self, w: &mut Writer) {
        w.put(self);
    }
    fn read_value(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        Ok(r.read_rest().to_vec())
    }
}

/// `chain_hash` lists (the `init` `networks` record): the whole value, a
/// multiple of 32 bytes.
impl TlvValue for Vec<ChainHash> {
    fn write_value(&self, w: &mut Writer) {
        for c in self {
            w.write(c);
        }
    }
    fn read_value(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        let mut out = Vec::new();
        while !r.is_empty() {
            out.push(r.read()?);
        }
        Ok(out)
    }
}

macro_rules! tlv_via_codec {
    ($($t:ty),*) => {$(
        impl TlvValue for $t {
            fn write_value(&self, w: &mut Writer) {
                self.encode(w);
            }
            fn read_value(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
                Self::decode(r)
            }
        }
    )*};
}
tlv_via_codec!(
    u8,
    u16,
    u32,
    u64,
    PublicKey,
    ShortChannelId,
    Txid,
    ChainHash,
    ChannelId,
    Sha256,
    BigSize
);

macro_rules! truncated {
    ($($(#[$m:meta])* $name:ident($t:ty);)*) => {$(
        $(#[$m])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
        pub struct $name(pub $t);

        impl $name {
            const MAX_LEN: usize = std::mem::size_of::<$t>();
        }

        /// Minimal big-endian: no leading zero bytes (zero is zero bytes).
        impl TlvValue for $name {
            fn write_value(&self, w: &mut Writer) {
                let bytes = self.0.to_be_bytes();
                let skip = (self.0.leading_zeros() / 8) as usize;
                w.put(&bytes[skip..]);
            }
            fn read_value(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
                // Read at most the full width; anything after is "too long".
                let n = r.remaining().len().min(Self::MAX_LEN);
                let bytes = r.read_bytes(n)?;
                if bytes.first() == Some(&0) {
                    return Err(DecodeError::NonMinimalTruncated);
                }
                let mut v: $t = 0;
                for b in bytes {
                    v = (v << 8) | <$t>::from(*b);
                }
                Ok($name(v))
            }
        }
    )*};
}

truncated! {
    /// `tu16`: a `u16` in 0..=2 bytes, minimally encoded (only as the last field of a TLV value).
    Tu16(u16);
    /// `tu32`: a `u32` in 0..=4 bytes, minimally encoded (only as the last field of a TLV value).
    Tu32(u32);
    /// `tu64`: a `u64` in 0..=8 bytes, minimally encoded (only as the last field of a TLV value).
    Tu64(u64);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scid_display_parse() {
        let s = ShortChannelId::new(539268, 845, 1).unwrap();
        assert_eq!(s.to_string(), "539268x845x1");
        assert_eq!("539268x845x1".parse::<ShortChannelId>().unwrap(), s);
        for bad in [
            "",
            "1x2",
            "1x2x3x4",
            "16777216x0x0",
            "1x-2x3",
            "1x2x65536",
            "ax1x2",
            "1x 2x3",
        ] {
            assert!(bad.parse::<ShortChannelId>().is_err(), "{bad}");
        }
    }

    #[test]
    fn truncated_round_trip() {
        for v in [0u64, 1, 255, 256, 65535, 1 << 40, u64::MAX] {
            let mut w = Writer::new();
            Tu64(v).write_value(&mut w);
            let b = w.finish().unwrap();
            assert_eq!(
                super::super::tlv::decode_value::<Tu64>(1, &b).unwrap(),
                Tu64(v)
            );
        }
    }
}
