//! Asset records of an HTLC (`update_add_htlc` custom records): 65536 asset
//! balances, 65538 the RFQ ID, 65540 available RFQ IDs (lnd-local).

use super::RfqId;
use super::fields::{arr32, u64_of};
use crate::asset::AssetId;
use crate::encoding::{
    DecodeError, Reader, StreamWriter, UnknownOddTypes, bigsize_bytes, keep_unknown, parse_stream,
    write_var_bytes,
};

/// Record type of the asset balances.
const T_BALANCES: u64 = 65536;
/// Record type of the RFQ ID.
const T_RFQ_ID: u64 = 65538;
/// Record type of the available RFQ IDs.
const T_AVAILABLE_RFQ_IDS: u64 = 65540;
/// Most balances in one HTLC (DoS guard).
pub const MAX_HTLC_BALANCES: u64 = 1024;

/// One asset amount carried by an HTLC: TLV {0 asset ID, 1 amount u64}.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AssetBalance {
    /// Asset ID.
    pub asset_id: AssetId,
    /// Units.
    pub amount: u64,
    /// Unknown odd records.
    pub unknown_odd_types: UnknownOddTypes,
}

/// The HTLC asset records.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Htlc {
    /// Asset balances (65536), if the record is present.
    pub balances: Option<Vec<AssetBalance>>,
    /// Quote the HTLC uses (65538).
    pub rfq_id: Option<RfqId>,
    /// Quotes the traffic shaper may use (65540; lnd-local, never sent to
    /// a peer), kept raw.
    pub available_rfq_ids: Option<Vec<u8>>,
    /// Every other custom record, raw. Custom records are a map, not a
    /// strict tapd stream, so even types here (lnd's 65544 no-op flag) are
    /// kept too.
    pub other_records: UnknownOddTypes,
}

impl AssetBalance {
    fn encode(&self) -> Vec<u8> {
        let mut w = StreamWriter::new();
        w.record(0, self.asset_id.0.to_vec());
        w.record(1, self.amount.to_be_bytes().to_vec());
        w.unknown(&self.unknown_odd_types);
        w.finish()
    }

    fn decode(bytes: &[u8]) -> Result<Self, DecodeError> {
        let mut asset_id = None;
        let mut amount = None;
        let mut unknown = UnknownOddTypes::new();
        for rec in parse_stream(bytes)? {
            match rec.typ {
                0 => asset_id = Some(AssetId(arr32(rec.value, "balance asset id")?)),
                1 => amount = Some(u64_of(rec.value, "balance amount")?),
                _ => keep_unknown(&mut unknown, rec)?,
            }
        }
        Ok(Self {
            asset_id: asset_id.ok_or(DecodeError::MissingRecord("balance asset id"))?,
            amount: amount.ok_or(DecodeError::MissingRecord("balance amount"))?,
            unknown_odd_types: unknown,
        })
    }
}

fn count(r: &mut Reader<'_>, what: &'static str) -> Result<u64, DecodeError> {
    let n = r.bigsize(what)?;
    if n > MAX_HTLC_BALANCES {
        return Err(DecodeError::LimitExceeded {
            what,
            limit: MAX_HTLC_BALANCES,
        });
    }
    Ok(n)
}

impl Htlc {
    /// Decodes the custom-records stream.
    pub fn decode(bytes: &[u8]) -> Result<Self, DecodeError> {
        let mut h = Htlc::default();
        for rec in parse_stream(bytes)? {
            match rec.typ {
                T_BALANCES => {
                    let mut r = Reader::new(rec.value);
                    let mut balances = Vec::new();
                    for _ in 0..count(&mut r, "htlc balances")? {
                        balances.push(AssetBalance::decode(r.var_bytes("htlc balance")?)?);
                    }
                    r.finish("htlc balances")?;
                    h.balances = Some(balances);
                }
                T_RFQ_ID => h.rfq_id = Some(RfqId(arr32(rec.value, "rfq id")?)),
                T_AVAILABLE_RFQ_IDS => h.available_rfq_ids = Some(rec.value.to_vec()),
                _ => {
                    h.other_records.insert(rec.typ, rec.value.to_vec());
                }
            }
        }
        Ok(h)
    }

    /// The custom-records stream.
    pub fn encode(&self) -> Vec<u8> {
        let mut w = StreamWriter::new();
        if let Some(balances) = &self.balances {
            let mut v = bigsize_bytes(balances.len() as u64);
            for b in balances {
                write_var_bytes(&mut v, &b.encode());
            }
            w.record(T_BALANCES, v);
        }
        if let Some(id) = &self.rfq_id {
            w.record(T_RFQ_ID, id.0.to_vec());
        }
        if let Some(ids) = &self.available_rfq_ids {
            w.record(T_AVAILABLE_RFQ_IDS, ids.clone());
        }
        w.unknown(&self.other_records);
        w.finish()
    }
}
