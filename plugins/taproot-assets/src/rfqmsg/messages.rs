//! Quote request, accept and reject.

use super::fields::{FixedPoint, RejectError, arr32, key33, u8_of, u64_of};
use super::{MAX_ORACLE_METADATA, MSG_TYPE_ACCEPT, MSG_TYPE_REJECT, MSG_TYPE_REQUEST, RfqId};
use crate::asset::{AssetId, SerializedKey};
use crate::encoding::{
    DecodeError, StreamWriter, UnknownOddTypes, expect_len, keep_unknown, parse_stream,
};

/// A quote request (custom message 52884).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Request {
    /// Data version (TLV 0).
    pub version: u8,
    /// Quote ID (TLV 2).
    pub id: RfqId,
    /// 0 unspecified, 1 pay invoice, 2 receive payment (TLV 4).
    pub transfer_type: Option<u8>,
    /// Expiry, Unix seconds (TLV 6).
    pub expiry: Option<u64>,
    /// Asset the requester pays in; all-zero = BTC (TLV 9).
    pub in_asset_id: Option<AssetId>,
    /// Group of the in-asset (TLV 11).
    pub in_asset_group_key: Option<SerializedKey>,
    /// Asset the requester receives; all-zero = BTC (TLV 13).
    pub out_asset_id: Option<AssetId>,
    /// Group of the out-asset (TLV 15).
    pub out_asset_group_key: Option<SerializedKey>,
    /// Most in-asset units (TLV 16).
    pub max_in_asset: Option<u64>,
    /// Suggested in-asset rate (TLV 19).
    pub in_asset_rate_hint: Option<FixedPoint>,
    /// Suggested out-asset rate (TLV 21).
    pub out_asset_rate_hint: Option<FixedPoint>,
    /// Least in-asset units to fill (TLV 23).
    pub min_in_asset: Option<u64>,
    /// Least out-asset units to fill (TLV 25).
    pub min_out_asset: Option<u64>,
    /// Opaque data for the price oracle, ≤ 32 KiB (TLV 27).
    pub oracle_metadata: Option<Vec<u8>>,
    /// Rate limit (TLV 29), kept raw.
    pub rate_limit: Option<Vec<u8>>,
    /// Execution policy (TLV 31).
    pub execution_policy: Option<u8>,
    /// Unknown odd records.
    pub unknown_odd_types: UnknownOddTypes,
}

/// A quote accept (custom message 52885).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Accept {
    /// Data version (TLV 0).
    pub version: u8,
    /// ID of the accepted request (TLV 2).
    pub id: RfqId,
    /// Expiry, Unix seconds (TLV 4).
    pub expiry: Option<u64>,
    /// Signature (TLV 6).
    pub signature: Option<[u8; 64]>,
    /// In-asset rate (TLV 8).
    pub in_asset_rate: Option<FixedPoint>,
    /// Out-asset rate (TLV 10).
    pub out_asset_rate: Option<FixedPoint>,
    /// Most in-asset units the quote holds for (TLV 11).
    pub max_in_asset: Option<u64>,
    /// Unknown odd records.
    pub unknown_odd_types: UnknownOddTypes,
}

/// A quote reject (custom message 52886).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reject {
    /// Data version (TLV 0).
    pub version: u8,
    /// ID of the rejected request (TLV 2).
    pub id: RfqId,
    /// Why (TLV 5).
    pub error: Option<RejectError>,
    /// Unknown odd records.
    pub unknown_odd_types: UnknownOddTypes,
}

/// Any RFQ message, by custom message type.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RfqMessage {
    /// 52884.
    Request(Request),
    /// 52885.
    Accept(Accept),
    /// 52886.
    Reject(Reject),
}

impl RfqMessage {
    /// Decodes the payload of custom message `msg_type`; `None` if the type
    /// is not an RFQ message.
    pub fn decode(msg_type: u16, payload: &[u8]) -> Option<Result<Self, DecodeError>> {
        Some(match msg_type {
            MSG_TYPE_REQUEST => Request::decode(payload).map(Self::Request),
            MSG_TYPE_ACCEPT => Accept::decode(payload).map(Self::Accept),
            MSG_TYPE_REJECT => Reject::decode(payload).map(Self::Reject),
            _ => return None,
        })
    }

    /// The custom message type.
    pub fn msg_type(&self) -> u16 {
        match self {
            Self::Request(_) => MSG_TYPE_REQUEST,
            Self::Accept(_) => MSG_TYPE_ACCEPT,
            Self::Reject(_) => MSG_TYPE_REJECT,
        }
    }

    /// The payload.
    pub fn encode(&self) -> Vec<u8> {
        match self {
            Self::Request(m) => m.encode(),
            Self::Accept(m) => m.encode(),
            Self::Reject(m) => m.encode(),
        }
    }
}

fn put<T>(w: &mut StreamWriter, typ: u64, v: &Option<T>, f: impl Fn(&T) -> Vec<u8>) {
    if let Some(v) = v {
        w.record(typ, f(v));
    }
}

fn be64(v: &u64) -> Vec<u8> {
    v.to_be_bytes().to_vec()
}

impl Request {
    /// Decodes a request payload.
    pub fn decode(bytes: &[u8]) -> Result<Self, DecodeError> {
        let mut version = None;
        let mut id = None;
        let mut m = Request {
            version: 0,
            id: RfqId::default(),
            transfer_type: None,
            expiry: None,
            in_asset_id: None,
            in_asset_group_key: None,
            out_asset_id: None,
            out_asset_group_key: None,
            max_in_asset: None,
            in_asset_rate_hint: None,
            out_asset_rate_hint: None,
            min_in_asset: None,
            min_out_asset: None,
            oracle_metadata: None,
            rate_limit: None,
            execution_policy: None,
            unknown_odd_types: UnknownOddTypes::new(),
        };
        for rec in parse_stream(bytes)? {
            let v = rec.value;
            match rec.typ {
                0 => version = Some(u8_of(v, "version")?),
                2 => id = Some(RfqId(arr32(v, "id")?)),
                4 => m.transfer_type = Some(u8_of(v, "transfer type")?),
                6 => m.expiry = Some(u64_of(v, "expiry")?),
                9 => m.in_asset_id = Some(AssetId(arr32(v, "in asset id")?)),
                11 => m.in_asset_group_key = Some(key33(v, "in asset group key")?),
                13 => m.out_asset_id = Some(AssetId(arr32(v, "out asset id")?)),
                15 => m.out_asset_group_key = Some(key33(v, "out asset group key")?),
                16 => m.max_in_asset = Some(u64_of(v, "max in asset")?),
                19 => m.in_asset_rate_hint = Some(FixedPoint::decode(v)?),
                21 => m.out_asset_rate_hint = Some(FixedPoint::decode(v)?),
                23 => m.min_in_asset = Some(u64_of(v, "min in asset")?),
                25 => m.min_out_asset = Some(u64_of(v, "min out asset")?),
                27 => {
                    if v.len() > MAX_ORACLE_METADATA {
                        return Err(DecodeError::LimitExceeded {
                            what: "oracle metadata",
                            limit: MAX_ORACLE_METADATA as u64,
                        });
                    }
                    m.oracle_metadata = Some(v.to_vec());
                }
                29 => m.rate_limit = Some(v.to_vec()),
                31 => m.execution_policy = Some(u8_of(v, "execution policy")?),
                _ => keep_unknown(&mut m.unknown_odd_types, rec)?,
            }
        }
        m.version = version.ok_or(DecodeError::MissingRecord("version"))?;
        m.id = id.ok_or(DecodeError::MissingRecord("id"))?;
        Ok(m)
    }

    /// The payload.
    pub fn encode(&self) -> Vec<u8> {
        let mut w = StreamWriter::new();
        w.record(0, vec![self.version]);
        w.record(2, self.id.0.to_vec());
        put(&mut w, 4, &self.transfer_type, |v| vec![*v]);
        put(&mut w, 6, &self.expiry, be64);
        put(&mut w, 9, &self.in_asset_id, |v| v.0.to_vec());
        put(&mut w, 11, &self.in_asset_group_key, |v| v.0.to_vec());
        put(&mut w, 13, &self.out_asset_id, |v| v.0.to_vec());
        put(&mut w, 15, &self.out_asset_group_key, |v| v.0.to_vec());
        put(&mut w, 16, &self.max_in_asset, be64);
        put(&mut w, 19, &self.in_asset_rate_hint, FixedPoint::encode);
        put(&mut w, 21, &self.out_asset_rate_hint, FixedPoint::encode);
        put(&mut w, 23, &self.min_in_asset, be64);
        put(&mut w, 25, &self.min_out_asset, be64);
        put(&mut w, 27, &self.oracle_metadata, Clone::clone);
        put(&mut w, 29, &self.rate_limit, Clone::clone);
        put(&mut w, 31, &self.execution_policy, |v| vec![*v]);
        w.unknown(&self.unknown_odd_types);
        w.finish()
    }
}

impl Accept {
    /// Decodes an accept payload.
    pub fn decode(bytes: &[u8]) -> Result<Self, DecodeError> {
        let mut version = None;
        let mut id = None;
        let mut m = Accept {
            version: 0,
            id: RfqId::default(),
            expiry: None,
            signature: None,
            in_asset_rate: None,
            out_asset_rate: None,
            max_in_asset: None,
            unknown_odd_types: UnknownOddTypes::new(),
        };
        for rec in parse_stream(bytes)? {
            let v = rec.value;
            match rec.typ {
                0 => version = Some(u8_of(v, "version")?),
                2 => id = Some(RfqId(arr32(v, "id")?)),
                4 => m.expiry = Some(u64_of(v, "expiry")?),
                6 => {
                    expect_len("signature", v, 64)?;
                    let mut sig = [0u8; 64];
                    sig.copy_from_slice(v);
                    m.signature = Some(sig);
                }
                8 => m.in_asset_rate = Some(FixedPoint::decode(v)?),
                10 => m.out_asset_rate = Some(FixedPoint::decode(v)?),
                11 => m.max_in_asset = Some(u64_of(v, "max in asset")?),
                _ => keep_unknown(&mut m.unknown_odd_types, rec)?,
            }
        }
        m.version = version.ok_or(DecodeError::MissingRecord("version"))?;
        m.id = id.ok_or(DecodeError::MissingRecord("id"))?;
        Ok(m)
    }

    /// The payload.
    pub fn encode(&self) -> Vec<u8> {
        let mut w = StreamWriter::new();
        w.record(0, vec![self.version]);
        w.record(2, self.id.0.to_vec());
        put(&mut w, 4, &self.expiry, be64);
        put(&mut w, 6, &self.signature, |s| s.to_vec());
        put(&mut w, 8, &self.in_asset_rate, FixedPoint::encode);
        put(&mut w, 10, &self.out_asset_rate, FixedPoint::encode);
        put(&mut w, 11, &self.max_in_asset, be64);
        w.unknown(&self.unknown_odd_types);
        w.finish()
    }
}

impl Reject {
    /// Decodes a reject payload.
    pub fn decode(bytes: &[u8]) -> Result<Self, DecodeError> {
        let mut version = None;
        let mut id = None;
        let mut error = None;
        let mut unknown = UnknownOddTypes::new();
        for rec in parse_stream(bytes)? {
            let v = rec.value;
            match rec.typ {
                0 => version = Some(u8_of(v, "version")?),
                2 => id = Some(RfqId(arr32(v, "id")?)),
                5 => error = Some(RejectError::decode(v)?),
                _ => keep_unknown(&mut unknown, rec)?,
            }
        }
        Ok(Reject {
            version: version.ok_or(DecodeError::MissingRecord("version"))?,
            id: id.ok_or(DecodeError::MissingRecord("id"))?,
            error,
            unknown_odd_types: unknown,
        })
    }

    /// The payload.
    pub fn encode(&self) -> Vec<u8> {
        let mut w = StreamWriter::new();
        w.record(0, vec![self.version]);
        w.record(2, self.id.0.to_vec());
        put(&mut w, 5, &self.error, RejectError::encode);
        w.unknown(&self.unknown_odd_types);
        w.finish()
    }
}
