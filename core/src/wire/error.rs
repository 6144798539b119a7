//! Typed errors of the wire codec.

use thiserror::Error;

/// Why bytes from a peer could not be decoded.
///
/// Every decoder in [`crate::wire`] returns one of these; none panics on input.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum DecodeError {
    /// No input at all where a value had to start (a BigSize read from zero bytes).
    #[error("no input")]
    Eof,
    /// The input ended inside a value.
    #[error("unexpected end of input")]
    UnexpectedEof,
    /// A BigSize was not minimally encoded.
    #[error("BigSize is not canonically encoded")]
    NonCanonicalBigSize,
    /// A truncated integer (tu16/tu32/tu64) had a leading zero byte or was too long.
    #[error("truncated integer is not minimally encoded")]
    NonMinimalTruncated,
    /// A TLV record of an even (required) type this namespace does not know.
    #[error("unknown even TLV type {0}")]
    UnknownEvenType(u64),
    /// TLV records were not in strictly ascending type order.
    #[error("TLV type {found} follows {previous}: not ascending")]
    NotAscending {
        /// Type of the previous record.
        previous: u64,
        /// Type of the offending record.
        found: u64,
    },
    /// The same TLV type appeared twice.
    #[error("duplicate TLV type {0}")]
    DuplicateType(u64),
    /// A known TLV record's value was shorter than its fields.
    #[error("TLV type {0}: value shorter than its fields")]
    TlvValueTooShort(u64),
    /// A known TLV record's value was longer than its fields.
    #[error("TLV type {0}: value longer than its fields")]
    TlvValueTooLong(u64),
    /// A `point` that is not a valid compressed secp256k1 public key.
    #[error("invalid point")]
    InvalidPoint,
    /// A `signature` that is not a valid 64-byte compact ECDSA signature.
    #[error("invalid signature")]
    InvalidSignature,
    /// A field holds a value the spec does not allow.
    #[error("invalid {field}: {reason}")]
    InvalidValue {
        /// The field.
        field: &'static str,
        /// What is wrong with it.
        reason: &'static str,
    },
    /// A message of an even (required) type we do not understand.
    #[error("unknown even message type {0}")]
    UnknownEvenMessage(u16),
    /// A message longer than the 65535 bytes the transport can carry.
    #[error("message of {0} bytes exceeds 65535")]
    Oversized(usize),
}

/// Why a value could not be encoded.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum EncodeError {
    /// A field or the whole message is longer than its length prefix allows.
    #[error("{what} is {len} bytes, more than {max}")]
    TooLong {
        /// The field (or `"message"`).
        what: &'static str,
        /// Its length.
        len: usize,
        /// The maximum.
        max: usize,
    },
    /// A TLV record that cannot be part of a valid stream.
    #[error("TLV type {ty}: {reason}")]
    InvalidTlv {
        /// The record type.
        ty: u64,
        /// What is wrong.
        reason: &'static str,
    },
    /// An even message type cannot be sent as an unknown (raw) message.
    #[error("cannot encode unknown even message type {0}")]
    InvalidMessageType(u16),
}
