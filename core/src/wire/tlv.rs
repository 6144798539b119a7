//! TLV streams (BOLT 1 "Type-Length-Value Format").
//!
//! [`TlvStream::decode`] checks the stream's structure: canonical BigSize
//! types and lengths, lengths that fit the input, strictly ascending types.
//! A namespace then says which types it knows ([`TlvStream::check_known`]
//! rejects unknown even types), decodes the known values with
//! [`TlvStream::decode_known`] (a value must be exactly as long as its
//! fields), and keeps the unknown odd records ([`TlvStream::unknown`]) so
//! they can be re-emitted in order.

use super::bigsize::BigSize;
use super::codec::{Decode, Encode, Reader, Writer};
use super::error::{DecodeError, EncodeError};

/// One raw TLV record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TlvRecord {
    /// The record type.
    pub ty: u64,
    /// The raw value bytes.
    pub value: Vec<u8>,
}

impl TlvRecord {
    /// A record holding the encoding of `value`.
    pub fn from_value<T: TlvValue>(ty: u64, value: &T) -> Result<TlvRecord, EncodeError> {
        let mut w = Writer::new();
        value.write_value(&mut w);
        Ok(TlvRecord {
            ty,
            value: w.finish()?,
        })
    }
}

impl Encode for TlvRecord {
    fn encode(&self, w: &mut Writer) {
        BigSize::write(w, self.ty);
        BigSize::write(w, self.value.len() as u64);
        w.put(&self.value);
    }
}

/// The value of a known TLV record: it occupies the whole record value.
pub trait TlvValue: Sized {
    /// Append the value (without type or length).
    fn write_value(&self, w: &mut Writer);
    /// Read the value from the record's bytes. Bytes left over afterwards
    /// are an error ([`DecodeError::TlvValueTooLong`]).
    fn read_value(r: &mut Reader<'_>) -> Result<Self, DecodeError>;
}

/// Decode the whole value of record `ty` as a `T`, with BOLT 1's length
/// rules: too few bytes is [`DecodeError::TlvValueTooShort`], bytes left
/// over is [`DecodeError::TlvValueTooLong`].
pub fn decode_value<T: TlvValue>(ty: u64, bytes: &[u8]) -> Result<T, DecodeError> {
    let mut r = Reader::new(bytes);
    let v = T::read_value(&mut r).map_err(|e| match e {
        DecodeError::UnexpectedEof | DecodeError::Eof => DecodeError::TlvValueTooShort(ty),
        other => other,
    })?;
    if !r.is_empty() {
        return Err(DecodeError::TlvValueTooLong(ty));
    }
    Ok(v)
}

/// A structurally valid TLV stream: records in strictly ascending type order.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct TlvStream {
    records: Vec<TlvRecord>,
}

impl TlvStream {
    /// Parse a whole byte slice as a TLV stream.
    pub fn decode(bytes: &[u8]) -> Result<TlvStream, DecodeError> {
        let mut r = Reader::new(bytes);
        let mut records: Vec<TlvRecord> = Vec::new();
        loop {
            let ty = match BigSize::read(&mut r) {
                Err(DecodeError::Eof) => break,
                other => other?,
            };
            let len = match BigSize::read(&mut r) {
                Err(DecodeError::Eof) => return Err(DecodeError::UnexpectedEof),
                other => other?,
            };
            let len = usize::try_from(len).map_err(|_| DecodeError::UnexpectedEof)?;
            let value = r.read_bytes(len)?.to_vec();
            if let Some(prev) = records.last() {
                if ty == prev.ty {
                    return Err(DecodeError::DuplicateType(ty));
                }
                if ty < prev.ty {
                    return Err(DecodeError::NotAscending {
                        previous: prev.ty,
                        found: ty,
                    });
                }
            }
            records.push(TlvRecord { ty, value });
        }
        Ok(TlvStream { records })
    }

    /// Build a stream from records; they are sorted by type. Fails on a
    /// duplicate type.
    pub fn from_records(mut records: Vec<TlvRecord>) -> Result<TlvStream, EncodeError> {
        records.sort_by_key(|r| r.ty);
        if let Some(pair) = records.windows(2).find(|p| p[0].ty == p[1].ty) {
            return Err(EncodeError::InvalidTlv {
                ty: pair[0].ty,
                reason: "duplicate type",
            });
        }
        Ok(TlvStream { records })
    }

    /// The records, ascending by type.
    pub fn records(&self) -> &[TlvRecord] {
        &self.records
    }

    /// The raw value of record `ty`, if present.
    pub fn get(&self, ty: u64) -> Option<&[u8]> {
        self.records
            .binary_search_by_key(&ty, |r| r.ty)
            .ok()
            .map(|i| self.records[i].value.as_slice())
    }

    /// Fail with [`DecodeError::UnknownEvenType`] if a record has an even
    /// type not in `known` ("it's OK to be odd").
    pub fn check_known(&self, known: &[u64]) -> Result<(), DecodeError> {
        match self
            .records
            .iter()
            .find(|r| r.ty % 2 == 0 && !known.contains(&r.ty))
        {
            Some(r) => Err(DecodeError::UnknownEvenType(r.ty)),
            None => Ok(()),
        }
    }

    /// Decode record `ty` as a `T` if present (see [`decode_value`]).
    pub fn decode_known<T: TlvValue>(&self, ty: u64) -> Result<Option<T>, DecodeError> {
        self.get(ty).map(|v| decode_value(ty, v)).transpose()
    }

    /// The records whose type is not in `known` (after [`Self::check_known`]
    /// these are all odd).
    pub fn unknown(&self, known: &[u64]) -> Vec<TlvRecord> {
        self.records
            .iter()
            .filter(|r| !known.contains(&r.ty))
            .cloned()
            .collect()
    }
}

impl Encode for TlvStream {
    fn encode(&self, w: &mut Writer) {
        for r in &self.records {
            r.encode(w);
        }
    }
}

impl Decode for TlvStream {
    /// Consumes all remaining input.
    fn decode(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        TlvStream::decode(r.read_rest())
    }
}

/// Encode known records plus kept unknown ones, in ascending order. Unknown
/// records must be odd, not of a known type, and not repeated.
pub(crate) fn write_stream(
    w: &mut Writer,
    known_types: &[u64],
    mut known: Vec<TlvRecord>,
    unknown: &[TlvRecord],
) {
    for u in unknown {
        if u.ty % 2 == 0 || known_types.contains(&u.ty) {
            w.fail(EncodeError::InvalidTlv {
                ty: u.ty,
                reason: "kept unknown record must be odd and not a known type",
            });
            return;
        }
    }
    known.extend(unknown.iter().cloned());
    match TlvStream::from_records(known) {
        Ok(s) => s.encode(w),
        Err(e) => w.fail(e),
    }
}

/// Encode `value` as record `ty` into `out`, recording errors in `w`.
pub(crate) fn push_record<T: TlvValue>(
    w: &mut Writer,
    out: &mut Vec<TlvRecord>,
    ty: u64,
    value: &T,
) {
    match TlvRecord::from_value(ty, value) {
        Ok(r) => out.push(r),
        Err(e) => w.fail(e),
    }
}

/// Declare a message's TLV extension: a struct of optional known records
/// plus the unknown odd records, with its [`Encode`]/[`Decode`].
macro_rules! tlv_stream {
    (
        $(#[$m:meta])*
        pub struct $name:ident {
            $( $(#[$fm:meta])* ($ty:literal) $f:ident : $t:ty, )*
        }
    ) => {
        $(#[$m])*
        #[derive(Debug, Clone, PartialEq, Eq, Default)]
        pub struct $name {
            $( $(#[$fm])* pub $f: Option<$t>, )*
            /// Records of unknown odd types, re-emitted in order on encode.
            pub unknown: Vec<$crate::wire::tlv::TlvRecord>,
        }

        impl $name {
            /// The TLV types this stream understands.
            pub const KNOWN: &'static [u64] = &[$($ty),*];
        }

        impl $crate::wire::codec::Encode for $name {
            fn encode(&self, w: &mut $crate::wire::codec::Writer) {
                #[allow(unused_mut)]
                let mut known = Vec::new();
                $( if let Some(v) = &self.$f {
                    $crate::wire::tlv::push_record(w, &mut known, $ty, v);
                } )*
                $crate::wire::tlv::write_stream(w, Self::KNOWN, known, &self.unknown);
            }
        }

        impl $crate::wire::codec::Decode for $name {
            fn decode(
                r: &mut $crate::wire::codec::Reader<'_>,
            ) -> Result<Self, $crate::wire::error::DecodeError> {
                let stream = $crate::wire::tlv::TlvStream::decode(r.read_rest())?;
                stream.check_known(Self::KNOWN)?;
                Ok(Self {
                    $( $f: stream.decode_known($ty)?, )*
                    unknown: stream.unknown(Self::KNOWN),
                })
            }
        }
    };
}
pub(crate) use tlv_stream;
