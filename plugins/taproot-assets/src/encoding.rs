//! BigSize integers and TLV streams, following lnd's `tlv` package as used by
//! tapd.
//!
//! Rules enforced on decode:
//! * BigSize values must be minimally encoded;
//! * record types must be strictly ascending (no duplicates);
//! * a record's length may not run past the end of the stream;
//! * unknown **even** types are an error, unknown **odd** types are kept
//!   verbatim ([`UnknownOddTypes`]) so that re-encoding writes them back,
//!   sorted among the known records.
//!
//! Fixed-width integers inside values are big-endian.

use std::collections::BTreeMap;

/// Everything that can go wrong while decoding tapd bytes.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DecodeError {
    /// The input ended before a value was complete.
    #[error("unexpected end of input while reading {0}")]
    UnexpectedEof(&'static str),
    /// A BigSize was not minimally encoded.
    #[error("decoded bigsize is not canonical")]
    NonCanonicalBigSize,
    /// Record types were not strictly ascending.
    #[error("tlv stream is not canonical: type {got} after type {prev}")]
    StreamNotCanonical {
        /// Previous record type.
        prev: u64,
        /// Offending record type.
        got: u64,
    },
    /// An even (mandatory) type this decoder does not know.
    #[error("unknown even TLV type {0}")]
    UnknownEvenType(u64),
    /// A record with a fixed size had the wrong length.
    #[error("invalid length for {field}: expected {expected}, got {got}")]
    InvalidLength {
        /// Field name.
        field: &'static str,
        /// Expected length in bytes.
        expected: u64,
        /// Actual length in bytes.
        got: u64,
    },
    /// A value left unread bytes behind.
    #[error("{0}: trailing bytes after value")]
    TrailingBytes(&'static str),
    /// A mandatory record was absent.
    #[error("missing required record {0}")]
    MissingRecord(&'static str),
    /// A decoding limit (DoS guard) was exceeded.
    #[error("{what} exceeds limit of {limit}")]
    LimitExceeded {
        /// What was too large.
        what: &'static str,
        /// The limit.
        limit: u64,
    },
    /// A public key that does not parse.
    #[error("invalid public key in {0}")]
    InvalidPublicKey(&'static str),
    /// A value that is structurally fine but semantically invalid.
    #[error("invalid {field}: {reason}")]
    InvalidValue {
        /// Field name.
        field: &'static str,
        /// Why it is invalid.
        reason: &'static str,
    },
}

/// A byte cursor over a borrowed slice. Every read is bounds-checked.
#[derive(Debug, Clone)]
pub struct Reader<'a> {
    buf: &'a [u8],
}

impl<'a> Reader<'a> {
    /// Starts reading at the beginning of `buf`.
    pub fn new(buf: &'a [u8]) -> Self {
        Self { buf }
    }

    /// Bytes not yet consumed.
    pub fn remaining(&self) -> usize {
        self.buf.len()
    }

    /// True when everything has been consumed.
    pub fn is_empty(&self) -> bool {
        self.buf.is_empty()
    }

    /// Fails with [`DecodeError::TrailingBytes`] if input remains.
    pub fn finish(&self, what: &'static str) -> Result<(), DecodeError> {
        if self.buf.is_empty() {
            Ok(())
        } else {
            Err(DecodeError::TrailingBytes(what))
        }
    }

    /// Reads `n` bytes.
    pub fn bytes(&mut self, n: usize, what: &'static str) -> Result<&'a [u8], DecodeError> {
        if self.buf.len() < n {
            return Err(DecodeError::UnexpectedEof(what));
        }
        let (head, tail) = self.buf.split_at(n);
        self.buf = tail;
        Ok(head)
    }

    /// Reads a fixed-size array.
    pub fn array<const N: usize>(&mut self, what: &'static str) -> Result<[u8; N], DecodeError> {
        let mut out = [0u8; N];
        out.copy_from_slice(self.bytes(N, what)?);
        Ok(out)
    }

    /// Reads one byte.
    pub fn u8(&mut self, what: &'static str) -> Result<u8, DecodeError> {
        Ok(self.array::<1>(what)?[0])
    }

    /// Reads a big-endian u16.
    pub fn u16_be(&mut self, what: &'static str) -> Result<u16, DecodeError> {
        Ok(u16::from_be_bytes(self.array(what)?))
    }

    /// Reads a big-endian u32.
    pub fn u32_be(&mut self, what: &'static str) -> Result<u32, DecodeError> {
        Ok(u32::from_be_bytes(self.array(what)?))
    }

    /// Reads a big-endian u64.
    pub fn u64_be(&mut self, what: &'static str) -> Result<u64, DecodeError> {
        Ok(u64::from_be_bytes(self.array(what)?))
    }

    /// Reads a minimally encoded BigSize.
    pub fn bigsize(&mut self, what: &'static str) -> Result<u64, DecodeError> {
        let first = self.u8(what)?;
        let (value, min) = match first {
            0xfd => (u64::from(self.u16_be(what)?), 0xfd),
            0xfe => (u64::from(self.u32_be(what)?), 0x1_0000),
            0xff => (self.u64_be(what)?, 0x1_0000_0000),
            b => return Ok(u64::from(b)),
        };
        if value < min {
            return Err(DecodeError::NonCanonicalBigSize);
        }
        Ok(value)
    }

    /// Reads BigSize length-prefixed bytes ("inline var bytes").
    pub fn var_bytes(&mut self, what: &'static str) -> Result<&'a [u8], DecodeError> {
        let len = self.bigsize(what)?;
        let len = usize::try_from(len).map_err(|_| DecodeError::UnexpectedEof(what))?;
        self.bytes(len, what)
    }
}

/// Appends `value` as a BigSize.
pub fn write_bigsize(out: &mut Vec<u8>, value: u64) {
    match value {
        0..=0xfc => out.push(value as u8),
        0xfd..=0xffff => {
            out.push(0xfd);
            out.extend_from_slice(&(value as u16).to_be_bytes());
        }
        0x1_0000..=0xffff_ffff => {
            out.push(0xfe);
            out.extend_from_slice(&(value as u32).to_be_bytes());
        }
        _ => {
            out.push(0xff);
            out.extend_from_slice(&value.to_be_bytes());
        }
    }
}

/// The BigSize encoding of `value` as a fresh vector.
pub fn bigsize_bytes(value: u64) -> Vec<u8> {
    let mut out = Vec::with_capacity(9);
    write_bigsize(&mut out, value);
    out
}

/// Appends BigSize length-prefixed bytes.
pub fn write_var_bytes(out: &mut Vec<u8>, bytes: &[u8]) {
    write_bigsize(out, bytes.len() as u64);
    out.extend_from_slice(bytes);
}

/// One raw record of a TLV stream.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RawRecord<'a> {
    /// Record type.
    pub typ: u64,
    /// Record value bytes.
    pub value: &'a [u8],
}

/// Splits a TLV stream into records, checking BigSize canonicity, strict
/// ascending order and that every length fits in the input.
pub fn parse_stream(bytes: &[u8]) -> Result<Vec<RawRecord<'_>>, DecodeError> {
    let mut r = Reader::new(bytes);
    let mut records = Vec::new();
    let mut prev: Option<u64> = None;
    while !r.is_empty() {
        let typ = r.bigsize("tlv type")?;
        if let Some(p) = prev
            && typ <= p
        {
            return Err(DecodeError::StreamNotCanonical { prev: p, got: typ });
        }
        prev = Some(typ);
        let value = r.var_bytes("tlv value")?;
        records.push(RawRecord { typ, value });
    }
    Ok(records)
}

/// Unknown odd-typed records of a decoded object, kept to be re-emitted.
pub type UnknownOddTypes = BTreeMap<u64, Vec<u8>>;

/// Records an unknown type: kept if odd, an error if even.
pub fn keep_unknown(unknown: &mut UnknownOddTypes, rec: RawRecord<'_>) -> Result<(), DecodeError> {
    if rec.typ.is_multiple_of(2) {
        return Err(DecodeError::UnknownEvenType(rec.typ));
    }
    unknown.insert(rec.typ, rec.value.to_vec());
    Ok(())
}

/// Builds a TLV stream. Records may be added in any order; they are sorted by
/// type when the stream is written. Unknown odd records are merged in.
#[derive(Debug, Default, Clone)]
pub struct StreamWriter {
    records: Vec<(u64, Vec<u8>)>,
}

impl StreamWriter {
    /// An empty stream.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds one record.
    pub fn record(&mut self, typ: u64, value: Vec<u8>) -> &mut Self {
        self.records.push((typ, value));
        self
    }

    /// Adds previously preserved unknown odd records.
    pub fn unknown(&mut self, unknown: &UnknownOddTypes) -> &mut Self {
        for (typ, value) in unknown {
            self.records.push((*typ, value.clone()));
        }
        self
    }

    /// Writes the sorted stream.
    pub fn finish(mut self) -> Vec<u8> {
        self.records.sort_by_key(|(typ, _)| *typ);
        let mut out = Vec::new();
        for (typ, value) in &self.records {
            write_bigsize(&mut out, *typ);
            write_var_bytes(&mut out, value);
        }
        out
    }
}

/// Checks that a fixed-size record has exactly `expected` bytes.
pub fn expect_len(field: &'static str, value: &[u8], expected: usize) -> Result<(), DecodeError> {
    if value.len() != expected {
        return Err(DecodeError::InvalidLength {
            field,
            expected: expected as u64,
            got: value.len() as u64,
        });
    }
    Ok(())
}

/// Decodes a record value that is a single BigSize (and nothing else).
pub fn decode_bigsize_value(field: &'static str, value: &[u8]) -> Result<u64, DecodeError> {
    let mut r = Reader::new(value);
    let v = r.bigsize(field)?;
    r.finish(field)?;
    Ok(v)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bigsize_roundtrip_and_boundaries() {
        let cases: &[(u64, &str)] = &[
            (0, "00"),
            (0xfc, "fc"),
            (0xfd, "fd00fd"),
            (0xffff, "fdffff"),
            (0x10000, "fe00010000"),
            (0xffff_ffff, "feffffffff"),
            (0x1_0000_0000, "ff0000000100000000"),
            (u64::MAX, "ffffffffffffffffff"),
        ];
        for (v, h) in cases {
            assert_eq!(hex::encode(bigsize_bytes(*v)), *h);
            let bytes = hex::decode(h).unwrap();
            assert_eq!(Reader::new(&bytes).bigsize("t").unwrap(), *v);
        }
    }

    #[test]
    fn bigsize_rejects_non_canonical_and_short() {
        for h in [
            "fd00fc",
            "fe0000ffff",
            "ff00000000ffffffff",
            "fd00",
            "fe",
            "",
        ] {
            let bytes = hex::decode(h).unwrap();
            assert!(Reader::new(&bytes).bigsize("t").is_err(), "{h}");
        }
        let bytes = hex::decode("fd00fc").unwrap();
        assert_eq!(
            Reader::new(&bytes).bigsize("t"),
            Err(DecodeError::NonCanonicalBigSize)
        );
    }

    #[test]
    fn stream_order_and_unknowns() {
        // types 1, 3: fine
        let ok = hex::decode("0101aa0300").unwrap();
        assert_eq!(parse_stream(&ok).unwrap().len(), 2);
        // duplicate
        let dup = hex::decode("0101aa0100").unwrap();
        assert!(matches!(
            parse_stream(&dup),
            Err(DecodeError::StreamNotCanonical { .. })
        ));
        // descending
        let desc = hex::decode("0300 0101aa".replace(' ', "")).unwrap();
        assert!(parse_stream(&desc).is_err());
        // overlong length
        let long = hex::decode("0105aa").unwrap();
        assert!(matches!(
            parse_stream(&long),
            Err(DecodeError::UnexpectedEof(_))
        ));
        let mut unknown = UnknownOddTypes::new();
        assert!(
            keep_unknown(
                &mut unknown,
                RawRecord {
                    typ: 31337,
                    value: b"x"
                }
            )
            .is_ok()
        );
        assert_eq!(
            keep_unknown(
                &mut unknown,
                RawRecord {
                    typ: 4,
                    value: b"x"
                }
            ),
            Err(DecodeError::UnknownEvenType(4))
        );
    }

    #[test]
    fn writer_sorts_and_merges_unknowns() {
        let mut unknown = UnknownOddTypes::new();
        unknown.insert(3, vec![0xbb]);
        let mut w = StreamWriter::new();
        w.record(4, vec![0xcc]).record(0, vec![]).unknown(&unknown);
        assert_eq!(hex::encode(w.finish()), "00000301bb0401cc");
    }
}
