//! Value encodings shared by RFQ records.

use crate::encoding::{DecodeError, Reader};

/// A fixed-point number: `coefficient / 10^scale`. The coefficient is an
/// unsigned big-endian integer of any length (tapd writes Go `big.Int`
/// bytes, minimal); the exact bytes are kept so re-encoding is exact.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct FixedPoint {
    /// Decimal scale.
    pub scale: u8,
    /// Big-endian coefficient bytes.
    pub coefficient: Vec<u8>,
}

impl FixedPoint {
    /// A value from a `u128` coefficient (minimal bytes).
    pub fn new(coefficient: u128, scale: u8) -> Self {
        let bytes = coefficient.to_be_bytes();
        let start = bytes.iter().position(|b| *b != 0).unwrap_or(bytes.len());
        Self {
            scale,
            coefficient: bytes[start..].to_vec(),
        }
    }

    /// The coefficient if it fits a `u128`.
    pub fn coefficient_u128(&self) -> Option<u128> {
        let significant: Vec<u8> = self
            .coefficient
            .iter()
            .copied()
            .skip_while(|b| *b == 0)
            .collect();
        if significant.len() > 16 {
            return None;
        }
        Some(
            significant
                .iter()
                .fold(0u128, |acc, b| (acc << 8) | u128::from(*b)),
        )
    }

    /// u8 scale ‖ coefficient bytes.
    pub fn encode(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(1 + self.coefficient.len());
        out.push(self.scale);
        out.extend_from_slice(&self.coefficient);
        out
    }

    /// Parses a record value.
    pub fn decode(value: &[u8]) -> Result<Self, DecodeError> {
        let (&scale, rest) = value
            .split_first()
            .ok_or(DecodeError::UnexpectedEof("fixed point scale"))?;
        Ok(Self {
            scale,
            coefficient: rest.to_vec(),
        })
    }
}

/// Why a peer rejected a quote: u8 code ‖ message bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RejectError {
    /// 0 unspecified, 1 oracle unavailable, 2 min fill not met, 3 price
    /// bound missed, 4 FOK not viable, 5 fill exceeds max.
    pub code: u8,
    /// Human-readable reason (raw bytes; tapd writes UTF-8).
    pub message: Vec<u8>,
}

impl RejectError {
    /// Unspecified.
    pub const UNSPECIFIED: u8 = 0;
    /// The price oracle is unavailable.
    pub const ORACLE_UNAVAILABLE: u8 = 1;

    /// u8 code ‖ message.
    pub fn encode(&self) -> Vec<u8> {
        let mut out = vec![self.code];
        out.extend_from_slice(&self.message);
        out
    }

    /// Parses a record value.
    pub fn decode(value: &[u8]) -> Result<Self, DecodeError> {
        let (&code, rest) = value
            .split_first()
            .ok_or(DecodeError::UnexpectedEof("reject error code"))?;
        Ok(Self {
            code,
            message: rest.to_vec(),
        })
    }
}

pub(crate) fn u8_of(value: &[u8], field: &'static str) -> Result<u8, DecodeError> {
    crate::encoding::expect_len(field, value, 1)?;
    Ok(value[0])
}

pub(crate) fn u64_of(value: &[u8], field: &'static str) -> Result<u64, DecodeError> {
    crate::encoding::expect_len(field, value, 8)?;
    Reader::new(value).u64_be(field)
}

pub(crate) fn arr32(value: &[u8], field: &'static str) -> Result<[u8; 32], DecodeError> {
    crate::encoding::expect_len(field, value, 32)?;
    Reader::new(value).array(field)
}

pub(crate) fn key33(
    value: &[u8],
    field: &'static str,
) -> Result<crate::asset::SerializedKey, DecodeError> {
    crate::encoding::expect_len(field, value, 33)?;
    crate::asset::SerializedKey::parse(Reader::new(value).array(field)?, field)
}
