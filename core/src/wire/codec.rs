//! A byte-slice reader and a byte-vector writer, and the [`Encode`] /
//! [`Decode`] traits every wire type implements.

use super::error::{DecodeError, EncodeError};

/// Reads wire values from a byte slice, front to back.
#[derive(Debug, Clone)]
pub struct Reader<'a> {
    buf: &'a [u8],
}

impl<'a> Reader<'a> {
    /// A reader over `buf`.
    pub fn new(buf: &'a [u8]) -> Self {
        Reader { buf }
    }

    /// Bytes not read yet.
    pub fn remaining(&self) -> &'a [u8] {
        self.buf
    }

    /// Whether everything has been read.
    pub fn is_empty(&self) -> bool {
        self.buf.is_empty()
    }

    /// The next `n` bytes.
    pub fn read_bytes(&mut self, n: usize) -> Result<&'a [u8], DecodeError> {
        if self.buf.len() < n {
            return Err(DecodeError::UnexpectedEof);
        }
        let (head, tail) = self.buf.split_at(n);
        self.buf = tail;
        Ok(head)
    }

    /// The next `N` bytes as an array.
    pub fn read_array<const N: usize>(&mut self) -> Result<[u8; N], DecodeError> {
        let mut out = [0u8; N];
        out.copy_from_slice(self.read_bytes(N)?);
        Ok(out)
    }

    /// All remaining bytes.
    pub fn read_rest(&mut self) -> &'a [u8] {
        std::mem::take(&mut self.buf)
    }

    /// A `u16` length followed by that many bytes.
    pub fn read_u16_prefixed(&mut self) -> Result<&'a [u8], DecodeError> {
        let len = u16::decode(self)?;
        self.read_bytes(usize::from(len))
    }

    /// Decode one value of type `T`.
    pub fn read<T: Decode>(&mut self) -> Result<T, DecodeError> {
        T::decode(self)
    }
}

/// Writes wire values into a growing byte vector. Length overflows are
/// remembered and reported by [`Writer::finish`], so encoders stay simple.
#[derive(Debug, Default, Clone)]
pub struct Writer {
    buf: Vec<u8>,
    err: Option<EncodeError>,
}

impl Writer {
    /// An empty writer.
    pub fn new() -> Self {
        Self::default()
    }

    /// Append raw bytes.
    pub fn put(&mut self, bytes: &[u8]) {
        self.buf.extend_from_slice(bytes);
    }

    /// Append a `u16` length prefix and `bytes`; records an error if `bytes`
    /// is longer than 65535.
    pub fn put_u16_prefixed(&mut self, what: &'static str, bytes: &[u8]) {
        match u16::try_from(bytes.len()) {
            Ok(len) => {
                self.put(&len.to_be_bytes());
                self.put(bytes);
            }
            Err(_) => self.fail(EncodeError::TooLong {
                what,
                len: bytes.len(),
                max: usize::from(u16::MAX),
            }),
        }
    }

    /// Append an encodable value.
    pub fn write<T: Encode + ?Sized>(&mut self, value: &T) {
        value.encode(self);
    }

    /// Record an encoding error (the first one wins).
    pub fn fail(&mut self, err: EncodeError) {
        if self.err.is_none() {
            self.err = Some(err);
        }
    }

    /// Bytes written so far.
    pub fn len(&self) -> usize {
        self.buf.len()
    }

    /// Whether nothing was written.
    pub fn is_empty(&self) -> bool {
        self.buf.is_empty()
    }

    /// The bytes, or the first error recorded.
    pub fn finish(self) -> Result<Vec<u8>, EncodeError> {
        match self.err {
            Some(e) => Err(e),
            None => Ok(self.buf),
        }
    }
}

/// A value with a wire encoding.
pub trait Encode {
    /// Append the encoding of `self`.
    fn encode(&self, w: &mut Writer);

    /// The encoding of `self` on its own.
    fn to_wire(&self) -> Result<Vec<u8>, EncodeError> {
        let mut w = Writer::new();
        self.encode(&mut w);
        w.finish()
    }
}

/// A value that can be read from the wire.
pub trait Decode: Sized {
    /// Read one value from `r`.
    fn decode(r: &mut Reader<'_>) -> Result<Self, DecodeError>;
}

macro_rules! int_codec {
    ($($t:ty),*) => {$(
        impl Encode for $t {
            fn encode(&self, w: &mut Writer) {
                w.put(&self.to_be_bytes());
            }
        }
        impl Decode for $t {
            fn decode(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
                Ok(<$t>::from_be_bytes(r.read_array()?))
            }
        }
    )*};
}
// Unsigned and signed (big-endian two's complement, BOLT 1 s8..s64) integers.
int_codec!(u8, u16, u32, u64, i8, i16, i32, i64);

impl<const N: usize> Encode for [u8; N] {
    fn encode(&self, w: &mut Writer) {
        w.put(self);
    }
}

impl<const N: usize> Decode for [u8; N] {
    fn decode(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        r.read_array()
    }
}

/// In message bodies a `Vec<u8>` is a `u16` length followed by the bytes.
impl Encode for Vec<u8> {
    fn encode(&self, w: &mut Writer) {
        w.put_u16_prefixed("byte field", self);
    }
}

impl Decode for Vec<u8> {
    fn decode(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        Ok(r.read_u16_prefixed()?.to_vec())
    }
}
