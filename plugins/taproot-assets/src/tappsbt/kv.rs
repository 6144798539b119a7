//! BIP-174 framing: magic, then key-value maps separated by 0x00, each key
//! and value prefixed by a CompactSize length.

use bitcoin::VarInt;
use bitcoin::consensus::{Decodable, Encodable};

use super::PsbtError;

/// `psbt` ‖ 0xff.
pub const MAGIC: [u8; 5] = *b"psbt\xff";
/// Longest key or value accepted (DoS guard; a proof is the largest value).
pub const MAX_ITEM_LEN: u64 = 128 * 1024 * 1024;

/// One map: key-value pairs in the order read (or to write).
pub type Map = Vec<(Vec<u8>, Vec<u8>)>;

/// A cursor over the serialized packet.
pub struct Cursor<'a> {
    buf: &'a [u8],
}

impl<'a> Cursor<'a> {
    /// After checking the magic.
    pub fn new(bytes: &'a [u8]) -> Result<Self, PsbtError> {
        match bytes.strip_prefix(&MAGIC[..]) {
            Some(rest) => Ok(Self { buf: rest }),
            None => Err(PsbtError::InvalidMagic),
        }
    }

    /// True once everything was read.
    pub fn is_empty(&self) -> bool {
        self.buf.is_empty()
    }

    fn compact_size(&mut self) -> Result<u64, PsbtError> {
        let mut slice = self.buf;
        let v = VarInt::consensus_decode(&mut slice).map_err(|_| PsbtError::Truncated)?;
        self.buf = slice;
        Ok(v.0)
    }

    fn take(&mut self, n: u64) -> Result<&'a [u8], PsbtError> {
        if n > MAX_ITEM_LEN {
            return Err(PsbtError::TooLarge);
        }
        let n = usize::try_from(n).map_err(|_| PsbtError::TooLarge)?;
        if self.buf.len() < n {
            return Err(PsbtError::Truncated);
        }
        let (head, tail) = self.buf.split_at(n);
        self.buf = tail;
        Ok(head)
    }

    /// Reads one map up to its 0x00 separator. Duplicate keys are an error
    /// (BIP-174).
    pub fn map(&mut self) -> Result<Map, PsbtError> {
        let mut out: Map = Vec::new();
        loop {
            let key_len = self.compact_size()?;
            if key_len == 0 {
                return Ok(out);
            }
            let key = self.take(key_len)?.to_vec();
            let val_len = self.compact_size()?;
            let value = self.take(val_len)?.to_vec();
            if out.iter().any(|(k, _)| *k == key) {
                return Err(PsbtError::DuplicateKey(hex::encode(&key)));
            }
            out.push((key, value));
        }
    }
}

fn write_compact_size(out: &mut Vec<u8>, n: usize) {
    // Writing to a Vec cannot fail.
    let _ = VarInt(n as u64).consensus_encode(out);
}

/// Appends one map and its separator.
pub fn write_map(out: &mut Vec<u8>, map: &Map) {
    for (k, v) in map {
        write_compact_size(out, k.len());
        out.extend_from_slice(k);
        write_compact_size(out, v.len());
        out.extend_from_slice(v);
    }
    out.push(0x00);
}
