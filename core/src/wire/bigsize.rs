//! BigSize: BOLT 1's variable-length unsigned integer (big-endian, with
//! `0xfd`/`0xfe`/`0xff` prefixes), canonical encoding enforced.

use super::codec::{Decode, Encode, Reader, Writer};
use super::error::DecodeError;

/// A BigSize-encoded `u64`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct BigSize(pub u64);

impl BigSize {
    /// Number of bytes the encoding of `value` takes.
    pub fn encoded_len(value: u64) -> usize {
        match value {
            0..=0xfc => 1,
            0xfd..=0xffff => 3,
            0x1_0000..=0xffff_ffff => 5,
            _ => 9,
        }
    }

    /// Decode a BigSize from the front of `r`. Zero input bytes give
    /// [`DecodeError::Eof`]; input ending inside the value gives
    /// [`DecodeError::UnexpectedEof`].
    pub fn read(r: &mut Reader<'_>) -> Result<u64, DecodeError> {
        let first = match r.read_bytes(1) {
            Ok(b) => b[0],
            Err(_) => return Err(DecodeError::Eof),
        };
        let (value, min) = match first {
            0xff => (u64::from_be_bytes(r.read_array()?), 0x1_0000_0000),
            0xfe => (u64::from(u32::from_be_bytes(r.read_array()?)), 0x1_0000),
            0xfd => (u64::from(u16::from_be_bytes(r.read_array()?)), 0xfd),
            n => return Ok(u64::from(n)),
        };
        if value < min {
            return Err(DecodeError::NonCanonicalBigSize);
        }
        Ok(value)
    }

    /// Append the canonical encoding of `value`.
    pub fn write(w: &mut Writer, value: u64) {
        match value {
            0..=0xfc => w.put(&[value as u8]),
            0xfd..=0xffff => {
                w.put(&[0xfd]);
                w.put(&(value as u16).to_be_bytes());
            }
            0x1_0000..=0xffff_ffff => {
                w.put(&[0xfe]);
                w.put(&(value as u32).to_be_bytes());
            }
            _ => {
                w.put(&[0xff]);
                w.put(&value.to_be_bytes());
            }
        }
    }
}

impl Encode for BigSize {
    fn encode(&self, w: &mut Writer) {
        BigSize::write(w, self.0);
    }
}

impl Decode for BigSize {
    fn decode(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        match BigSize::read(r) {
            Err(DecodeError::Eof) => Err(DecodeError::UnexpectedEof),
            other => other.map(BigSize),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn boundaries_round_trip() {
        for v in [
            0u64,
            0xfc,
            0xfd,
            0xffff,
            0x1_0000,
            0xffff_ffff,
            0x1_0000_0000,
            u64::MAX,
        ] {
            let mut w = Writer::new();
            BigSize::write(&mut w, v);
            let bytes = w.finish().unwrap();
            assert_eq!(bytes.len(), BigSize::encoded_len(v));
            let mut r = Reader::new(&bytes);
            assert_eq!(BigSize::read(&mut r).unwrap(), v);
            assert!(r.is_empty());
        }
    }
}
