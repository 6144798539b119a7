//! The `wire` module against the BOLT 1/7 test vectors in `shared/vectors`,
//! plus property tests: every message round-trips, and no input panics.

use std::path::PathBuf;

use bitcoin::ScriptBuf;
use bitcoin::Txid;
use bitcoin::hashes::Hash;
use bitcoin::secp256k1::{PublicKey, ecdsa::Signature};
use lumen_core::wire::messages::*;
use lumen_core::wire::{
    BigSize, ChainHash, ChannelId, DecodeError, Encode, Features, Message, Reader, Sha256,
    ShortChannelId, TlvRecord, TlvStream, TlvValue, Tu32, Tu64, Writer, tlv,
};
use proptest::prelude::*;
use serde_json::Value;

/// `shared/vectors/bolts`, or `None` (with a notice) when absent.
fn vectors_dir() -> Option<PathBuf> {
    let dir = crate::support::shared_dir().map(|d| d.join("vectors/bolts"));
    match dir {
        Some(d) if d.is_dir() => Some(d),
        _ => {
            eprintln!("NOTICE: shared/vectors/bolts not found (set LUMEN_SHARED_DIR): skipping");
            None
        }
    }
}

fn load(name: &str) -> Option<Value> {
    let path = vectors_dir()?.join(name);
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path:?}: {e}"));
    Some(serde_json::from_str(&text).expect("vector json"))
}

fn unhex(s: &str) -> Vec<u8> {
    hex::decode(s).expect("hex")
}

// ---------------------------------------------------------------- BigSize

#[test]
fn wire_vectors_bigsize() {
    let Some(v) = load("bigsize.json") else {
        return;
    };
    let decode = v["decode"].as_array().expect("decode");
    assert_eq!(decode.len(), 18);
    for case in decode {
        let name = case["name"].as_str().unwrap();
        let bytes = unhex(case["bytes"].as_str().unwrap());
        let mut r = Reader::new(&bytes);
        let got = BigSize::read(&mut r);
        if case["valid"].as_bool().unwrap() {
            assert_eq!(got, Ok(case["value"].as_u64().unwrap()), "{name}");
            assert!(r.is_empty(), "{name}: bytes left");
        } else {
            let want = match case["error_kind"].as_str().unwrap() {
                "non_canonical" => DecodeError::NonCanonicalBigSize,
                "unexpected_eof" => DecodeError::UnexpectedEof,
                "eof" => DecodeError::Eof,
                k => panic!("unknown error_kind {k}"),
            };
            assert_eq!(got, Err(want), "{name}");
        }
    }
    let encode = v["encode"].as_array().expect("encode");
    assert_eq!(encode.len(), 8);
    for case in encode {
        let value = case["value"].as_u64().unwrap();
        let bytes = BigSize(value).to_wire().unwrap();
        assert_eq!(
            hex::encode(bytes),
            case["bytes"].as_str().unwrap(),
            "{}",
            case["name"]
        );
    }
}

// ---------------------------------------------------------------- TLV

/// n1 type 3: `point`, `u64`, `u64`.
#[derive(Debug)]
struct Tlv3 {
    node_id: PublicKey,
    amount_msat_1: u64,
    amount_msat_2: u64,
}

impl TlvValue for Tlv3 {
    fn write_value(&self, w: &mut Writer) {
        w.write(&self.node_id);
        w.write(&self.amount_msat_1);
        w.write(&self.amount_msat_2);
    }
    fn read_value(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        Ok(Tlv3 {
            node_id: r.read()?,
            amount_msat_1: r.read()?,
            amount_msat_2: r.read()?,
        })
    }
}

/// Decode `bytes` in the spec's test namespace `ns`, giving `(type, fields)`
/// in the vector file's JSON shape.
fn decode_ns(ns: &str, bytes: &[u8]) -> Result<Vec<(u64, Value)>, DecodeError> {
    let known: &[u64] = match ns {
        "n1" => &[1, 2, 3, 254],
        "n2" => &[0, 11],
        _ => panic!("namespace {ns}"),
    };
    let stream = TlvStream::decode(bytes)?;
    stream.check_known(known)?;
    let mut out = Vec::new();
    for rec in stream.records() {
        let (ty, v) = (rec.ty, rec.value.as_slice());
        let fields = match (ns, ty) {
            ("n1", 1) | ("n2", 0) => {
                serde_json::json!({ "amount_msat": tlv::decode_value::<Tu64>(ty, v)?.0 })
            }
            ("n1", 2) => {
                let s: ShortChannelId = tlv::decode_value(ty, v)?;
                serde_json::json!({ "scid": {
                    "block_height": s.block(), "tx_index": s.tx_index(),
                    "output_index": s.output(), "u64": s.0,
                    "spec_text": s.to_string(),
                }})
            }
            ("n1", 3) => {
                let t: Tlv3 = tlv::decode_value(ty, v)?;
                serde_json::json!({
                    "node_id": t.node_id.to_string(),
                    "amount_msat_1": t.amount_msat_1,
                    "amount_msat_2": t.amount_msat_2,
                })
            }
            ("n1", 254) => serde_json::json!({ "cltv_delta": tlv::decode_value::<u16>(ty, v)? }),
            ("n2", 11) => {
                serde_json::json!({ "cltv_expiry": tlv::decode_value::<Tu32>(ty, v)?.0 })
            }
            _ => continue, // unknown odd: skipped
        };
        out.push((ty, fields));
    }
    Ok(out)
}

fn reason_matches(reason: &str, err: &DecodeError) -> bool {
    use DecodeError as E;
    match reason {
        "type_truncated" | "length_missing" | "length_truncated" | "value_missing"
        | "value_truncated" => *err == E::UnexpectedEof,
        "type_not_minimal" | "length_not_minimal" => *err == E::NonCanonicalBigSize,
        "unknown_even_type" => matches!(err, E::UnknownEvenType(_)),
        "length_exceeds_field_size" => matches!(err, E::TlvValueTooLong(_)),
        "length_below_field_size" => matches!(err, E::TlvValueTooShort(_)),
        "tu64_not_minimal" => *err == E::NonMinimalTruncated,
        "invalid_point" => *err == E::InvalidPoint,
        "records_out_of_order" => matches!(err, E::NotAscending { .. }),
        "duplicate_type" => matches!(err, E::DuplicateType(_)),
        r => panic!("unknown reason {r}"),
    }
}

#[test]
fn wire_vectors_tlv() {
    let Some(v) = load("tlv.json") else {
        return;
    };
    let cases = v["cases"].as_array().expect("cases");
    assert_eq!(cases.len(), 57);
    let (mut ok, mut failed, mut checks) = (0, 0, 0);
    // Per namespace: valid streams and failing streams, for the composition rules.
    let mut valid: Vec<(String, Vec<u8>)> = Vec::new();
    let mut invalid: Vec<(String, Vec<u8>)> = Vec::new();
    for case in cases {
        let stream = unhex(case["stream"].as_str().unwrap());
        for ns in case["namespaces"].as_array().unwrap() {
            let ns = ns.as_str().unwrap();
            let got = decode_ns(ns, &stream);
            checks += 1;
            if case["valid"].as_bool().unwrap() {
                let got = got.unwrap_or_else(|e| panic!("{ns} {}: {e}", case["stream"]));
                let want: Vec<(u64, Value)> = case["records"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|r| (r["type"].as_u64().unwrap(), r["fields"].clone()))
                    .collect();
                assert_eq!(got, want, "{ns} {}", case["stream"]);
                valid.push((ns.to_string(), stream.clone()));
            } else {
                let reason = case["reason"].as_str().unwrap();
                match got {
                    Ok(r) => panic!("{ns} {} ({reason}) decoded: {r:?}", case["stream"]),
                    Err(e) => assert!(
                        reason_matches(reason, &e),
                        "{ns} {}: want {reason}, got {e:?}",
                        case["stream"]
                    ),
                }
                invalid.push((ns.to_string(), stream.clone()));
            }
        }
        if case["valid"].as_bool().unwrap() {
            ok += 1;
        } else {
            failed += 1;
        }
    }
    assert_eq!((ok, failed), (19, 38));
    assert_eq!(checks, 77, "case x namespace decodes");

    // Composition: valid || failing must fail.
    let mut n = 0;
    for (ns, a) in &valid {
        for (ns2, b) in invalid.iter().filter(|(n2, _)| n2 == ns) {
            let joined = [a.as_slice(), b.as_slice()].concat();
            assert!(decode_ns(ns, &joined).is_err(), "{ns2}: {a:?} ++ {b:?}");
            n += 1;
        }
    }
    assert!(n > 500, "{n} composition checks");
    // Composition: valid || valid with all higher types must decode.
    let types = |ns: &str, b: &[u8]| -> Vec<u64> {
        let _ = ns;
        TlvStream::decode(b)
            .unwrap()
            .records()
            .iter()
            .map(|r| r.ty)
            .collect()
    };
    let mut m = 0;
    for (ns, a) in &valid {
        for (_, b) in valid.iter().filter(|(n2, _)| n2 == ns) {
            let (ta, tb) = (types(ns, a), types(ns, b));
            if ta.is_empty() || tb.is_empty() || ta.last() >= tb.first() {
                continue;
            }
            let joined = [a.as_slice(), b.as_slice()].concat();
            assert!(decode_ns(ns, &joined).is_ok(), "{ns}: {a:?} ++ {b:?}");
            m += 1;
        }
    }
    assert!(m > 20, "{m} ascending-append checks");
}

// ---------------------------------------------------------------- init extension

#[test]
fn wire_vectors_init_extension() {
    let Some(v) = load("bolt1_init_extension.json") else {
        return;
    };
    let cases = v["cases"].as_array().expect("cases");
    assert_eq!(cases.len(), 5);
    for case in cases {
        let hexmsg = case["message"].as_str().unwrap();
        let kind = case["kind"].as_str().unwrap();
        let got = Message::decode(&unhex(hexmsg));
        if case["valid"].as_bool().unwrap() {
            let Ok(Message::Init(init)) = &got else {
                panic!("{kind}: {got:?}");
            };
            assert!(init.combined_features().is_empty(), "{kind}");
            assert_eq!(init.tlvs.networks, None);
            // Unknown odd records are kept and re-emitted: byte-exact round trip.
            assert_eq!(
                hex::encode(got.unwrap().encode().unwrap()),
                hexmsg,
                "{kind}"
            );
        } else {
            let err = got.expect_err(kind);
            let ok = match kind {
                "extension_truncated" => err == DecodeError::UnexpectedEof,
                "unknown_even_record" => err == DecodeError::UnknownEvenType(0xca),
                "duplicate_record_type" => err == DecodeError::DuplicateType(0xc9),
                k => panic!("unknown kind {k}"),
            };
            assert!(ok, "{kind}: {err:?}");
        }
    }
}

// ---------------------------------------------------------------- signed integers

#[test]
fn wire_vectors_signed_integers() {
    let Some(v) = load("bolt1_signed_integers.json") else {
        return;
    };
    let cases = v["cases"].as_array().expect("cases");
    assert_eq!(cases.len(), 23);
    for case in cases {
        let value = case["value"].as_i64().unwrap();
        let bytes = unhex(case["bytes"].as_str().unwrap());
        let mut r = Reader::new(&bytes);
        let (enc, dec) = match case["width_bits"].as_u64().unwrap() {
            8 => (
                i8::try_from(value).unwrap().to_wire().unwrap(),
                i64::from(r.read::<i8>().unwrap()),
            ),
            16 => (
                i16::try_from(value).unwrap().to_wire().unwrap(),
                i64::from(r.read::<i16>().unwrap()),
            ),
            32 => (
                i32::try_from(value).unwrap().to_wire().unwrap(),
                i64::from(r.read::<i32>().unwrap()),
            ),
            64 => (value.to_wire().unwrap(), r.read::<i64>().unwrap()),
            w => panic!("width {w}"),
        };
        assert_eq!(enc, bytes, "encode {value}");
        assert_eq!(dec, value, "decode {}", case["bytes"]);
        assert!(r.is_empty());
    }
}

// ---------------------------------------------------------------- BOLT 7 extended queries

#[test]
fn wire_vectors_extended_queries() {
    let Some(v) = load("bolt7/extended-queries.json") else {
        return;
    };
    let cases = v.as_array().expect("array");
    assert_eq!(cases.len(), 10);
    let scids = |m: &Value| -> Option<Vec<String>> {
        let s = &m["shortChannelIds"];
        (s["encoding"] == "UNCOMPRESSED").then(|| {
            s["array"]
                .as_array()
                .unwrap()
                .iter()
                .map(|x| x.as_str().unwrap().to_string())
                .collect()
        })
    };
    let as_strings = |ids: Vec<ShortChannelId>| ids.iter().map(|s| s.to_string()).collect();
    for case in cases {
        let hexmsg = case["hex"].as_str().unwrap();
        let m = &case["msg"];
        let msg = Message::decode(&unhex(hexmsg)).unwrap_or_else(|e| panic!("{hexmsg}: {e}"));
        assert_eq!(hex::encode(msg.encode().unwrap()), hexmsg, "round trip");
        let chain = m["chainHash"].as_str().unwrap();
        match (&msg, m["type"].as_str().unwrap()) {
            (Message::QueryChannelRange(q), "QueryChannelRange") => {
                assert_eq!(q.chain_hash.to_string(), chain);
                assert_eq!(u64::from(q.first_blocknum), m["firstBlockNum"]);
                assert_eq!(u64::from(q.number_of_blocks), m["numberOfBlocks"]);
                let want = m["tlvStream"]["records"]
                    .as_array()
                    .unwrap()
                    .first()
                    .map(|_| 3);
                assert_eq!(q.tlvs.query_option.map(|o| o.0), want);
            }
            (Message::ReplyChannelRange(r), "ReplyChannelRange") => {
                assert_eq!(r.chain_hash.to_string(), chain);
                assert_eq!(u64::from(r.first_blocknum), m["firstBlockNum"]);
                assert_eq!(u64::from(r.sync_complete), m["complete"]);
                if let Some(want) = scids(m) {
                    let got: Vec<String> =
                        as_strings(r.encoded_short_ids.decode_short_ids().unwrap());
                    assert_eq!(got, want);
                }
                if let Some(cs) = m["checksums"]["checksums"].as_array() {
                    let got = &r.tlvs.checksums.as_ref().expect("checksums").0;
                    assert_eq!(got.len(), cs.len());
                    for (g, w) in got.iter().zip(cs) {
                        assert_eq!(u64::from(g.checksum_node_id_1), w["checksum1"]);
                        assert_eq!(u64::from(g.checksum_node_id_2), w["checksum2"]);
                    }
                }
                assert_eq!(r.tlvs.timestamps.is_some(), m.get("timestamps").is_some());
            }
            (Message::QueryShortChannelIds(q), "QueryShortChannelIds") => {
                assert_eq!(q.chain_hash.to_string(), chain);
                if let Some(want) = scids(m) {
                    let got: Vec<String> =
                        as_strings(q.encoded_short_ids.decode_short_ids().unwrap());
                    assert_eq!(got, want);
                }
                let flags = m["tlvStream"]["records"].as_array().unwrap();
                assert_eq!(q.tlvs.query_flags.is_some(), !flags.is_empty());
            }
            (got, want) => panic!("{want}: decoded as {got:?}"),
        }
    }
}

// ---------------------------------------------------------------- framing rules

#[test]
fn wire_framing_rules() {
    // Unknown odd and custom types are kept; unknown even types are errors.
    assert_eq!(
        Message::decode(&[0x00, 0x03, 0xaa]),
        Ok(Message::Unknown {
            ty: 3,
            payload: vec![0xaa]
        })
    );
    assert_eq!(
        Message::decode(&[0x80, 0x01]),
        Ok(Message::Unknown {
            ty: 32769,
            payload: vec![]
        })
    );
    assert_eq!(
        Message::decode(&[0x00, 0x02]),
        Err(DecodeError::UnknownEvenMessage(2))
    );
    assert_eq!(
        Message::decode(&[0x80, 0x00]),
        Err(DecodeError::UnknownEvenMessage(32768))
    );
    assert_eq!(Message::decode(&[0x00]), Err(DecodeError::UnexpectedEof));
    assert!(
        Message::Unknown {
            ty: 4,
            payload: vec![]
        }
        .encode()
        .is_err()
    );

    // Extra bytes after a message without a TLV extension are ignored.
    let pong = Message::Pong(Pong {
        ignored: vec![1, 2],
    });
    let mut bytes = pong.encode().unwrap();
    bytes.extend_from_slice(&[0xff, 0xfe, 0x00]);
    assert_eq!(Message::decode(&bytes), Ok(pong));

    // `init` with networks: decodes and re-encodes.
    let init = Message::Init(Init {
        global_features: Features::empty(),
        features: Features::our_init(),
        tlvs: InitTlvs {
            networks: Some(vec![ChainHash::for_network(bitcoin::Network::Bitcoin)]),
            remote_addr: Some(vec![1, 127, 0, 0, 1, 0x26, 0x07]),
            unknown: vec![TlvRecord {
                ty: 0xc9,
                value: vec![0x2a],
            }],
        },
    });
    let bytes = init.encode().unwrap();
    assert_eq!(Message::decode(&bytes), Ok(init));
    // A `networks` value that is not a multiple of 32 bytes fails.
    let bad = [&[0x00, 0x10, 0, 0, 0, 0, 0x01, 0x1f][..], &[0u8; 31][..]].concat();
    assert_eq!(Message::decode(&bad), Err(DecodeError::TlvValueTooShort(1)));

    // Too long to send.
    let big = Message::Pong(Pong {
        ignored: vec![0; 65534],
    });
    assert!(big.encode().is_err());
    assert_eq!(
        Message::decode(&vec![0u8; 65536]),
        Err(DecodeError::Oversized(65536))
    );

    // Invalid points and signatures are rejected.
    let mut ready = Message::ChannelReady(ChannelReady {
        channel_id: ChannelId([7; 32]),
        second_per_commitment_point: pubkey_pool()[0],
        tlvs: Default::default(),
    })
    .encode()
    .unwrap();
    ready[2 + 32] = 0x05;
    assert_eq!(Message::decode(&ready), Err(DecodeError::InvalidPoint));
    let mut signed = Message::FundingSigned(FundingSigned {
        channel_id: ChannelId([7; 32]),
        signature: sig_from(&[0x11; 64]).unwrap(),
    })
    .encode()
    .unwrap();
    signed[2 + 32..].fill(0xff);
    assert_eq!(Message::decode(&signed), Err(DecodeError::InvalidSignature));
}

// ---------------------------------------------------------------- property tests

fn pubkey_pool() -> Vec<PublicKey> {
    (1u8..=255)
        .filter_map(|i| {
            let mut b = [0x02u8; 33];
            b[1..].fill(i);
            PublicKey::from_slice(&b).ok()
        })
        .take(16)
        .collect()
}

fn sig_from(b: &[u8; 64]) -> Option<Signature> {
    Signature::from_compact(b).ok()
}

fn arb_pubkey() -> impl Strategy<Value = PublicKey> {
    any::<[u8; 32]>().prop_filter_map("not a point", |x| {
        let mut b = [0x02u8; 33];
        b[1..].copy_from_slice(&x);
        PublicKey::from_slice(&b).ok()
    })
}

fn arb_sig() -> impl Strategy<Value = Signature> {
    (any::<[u8; 32]>(), any::<[u8; 32]>()).prop_filter_map("not a signature", |(mut r, mut s)| {
        // Keep r and s below the group order.
        r[0] &= 0x7f;
        s[0] &= 0x7f;
        sig_from(&[r, s].concat().try_into().ok()?)
    })
}

fn arb_b32() -> impl Strategy<Value = [u8; 32]> {
    any::<[u8; 32]>()
}
fn arb_cid() -> impl Strategy<Value = ChannelId> {
    arb_b32().prop_map(ChannelId)
}
fn arb_chain() -> impl Strategy<Value = ChainHash> {
    arb_b32().prop_map(ChainHash)
}
fn arb_txid() -> impl Strategy<Value = Txid> {
    arb_b32().prop_map(Txid::from_byte_array)
}
fn arb_bytes(max: usize) -> impl Strategy<Value = Vec<u8>> {
    proptest::collection::vec(any::<u8>(), 0..max)
}
fn arb_script() -> impl Strategy<Value = ScriptBuf> {
    arb_bytes(40).prop_map(ScriptBuf::from_bytes)
}
fn arb_features() -> impl Strategy<Value = Features> {
    proptest::collection::vec(0usize..80, 0..6).prop_map(|bits| {
        let mut f = Features::empty();
        for b in bits {
            f.set_bit(b);
        }
        f
    })
}
fn arb_scid() -> impl Strategy<Value = ShortChannelId> {
    any::<u64>().prop_map(ShortChannelId)
}
fn arb_encoded() -> impl Strategy<Value = Encoded> {
    (0u8..2, arb_bytes(48)).prop_map(|(encoding_type, data)| Encoded {
        encoding_type,
        data,
    })
}
/// Unknown odd TLV records with types above `above`, ascending.
fn arb_unknown(above: u64) -> impl Strategy<Value = Vec<TlvRecord>> {
    proptest::collection::btree_map(above..above + 100_000, arb_bytes(8), 0..3).prop_map(|m| {
        m.into_iter()
            .map(|(t, value)| TlvRecord { ty: t | 1, value })
            .fold(Vec::<TlvRecord>::new(), |mut v, r| {
                if v.last().is_none_or(|l| l.ty != r.ty) {
                    v.push(r);
                }
                v
            })
    })
}
fn arb_attr() -> impl Strategy<Value = AttributionData> {
    any::<u8>().prop_map(|b| AttributionData(Box::new([b; ATTRIBUTION_DATA_LEN])))
}
fn arb_funding_flags() -> impl Strategy<Value = FundingTxidFlags> {
    (arb_txid(), any::<u8>()).prop_map(|(txid, retransmit_flags)| FundingTxidFlags {
        txid,
        retransmit_flags,
    })
}
fn arb_points6() -> impl Strategy<Value = [PublicKey; 6]> {
    proptest::array::uniform6(arb_pubkey())
}

fn arb_setup() -> BoxedStrategy<Message> {
    prop_oneof![
        (
            arb_features(),
            arb_features(),
            proptest::option::of(proptest::collection::vec(arb_chain(), 0..3)),
            proptest::option::of(arb_bytes(20)),
            arb_unknown(5)
        )
            .prop_map(|(g, f, networks, remote_addr, unknown)| {
                Message::from(Init {
                    global_features: g,
                    features: f,
                    tlvs: InitTlvs {
                        networks,
                        remote_addr,
                        unknown,
                    },
                })
            }),
        (arb_cid(), arb_bytes(100)).prop_map(|(channel_id, data)| ErrorMessage {
            channel_id,
            data
        }
        .into()),
        (arb_cid(), arb_bytes(100))
            .prop_map(|(channel_id, data)| Warning { channel_id, data }.into()),
        (any::<u16>(), arb_bytes(100)).prop_map(|(num_pong_bytes, ignored)| Ping {
            num_pong_bytes,
            ignored
        }
        .into()),
        arb_bytes(100).prop_map(|ignored| Pong { ignored }.into()),
        (any::<u16>(), arb_bytes(50)).prop_map(|(t, payload)| Message::Unknown {
            ty: if t < 0x8000 { (t | 1).max(3) } else { t | 1 },
            payload
        }),
    ]
    .prop_filter("a known odd type is not Unknown", |m| match m {
        Message::Unknown { ty, .. } => ![
            1, 17, 19, 33, 35, 39, 131, 133, 135, 257, 259, 261, 263, 265,
        ]
        .contains(ty),
        _ => true,
    })
    .boxed()
}

fn arb_open() -> BoxedStrategy<Message> {
    let open_tlvs = || {
        (
            proptest::option::of(arb_script()),
            proptest::option::of(arb_features()),
            arb_unknown(3),
        )
    };
    prop_oneof![
        (
            (
                arb_chain(),
                arb_cid(),
                any::<[u64; 6]>(),
                any::<u32>(),
                any::<u16>(),
                any::<u16>()
            ),
            arb_points6(),
            any::<u8>(),
            open_tlvs()
        )
            .prop_map(
                |((chain_hash, tcid, n, fr, d, m), p, flags, (s, ct, unknown))| {
                    OpenChannel {
                        chain_hash,
                        temporary_channel_id: tcid,
                        funding_satoshis: n[0],
                        push_msat: n[1],
                        dust_limit_satoshis: n[2],
                        max_htlc_value_in_flight_msat: n[3],
                        channel_reserve_satoshis: n[4],
                        htlc_minimum_msat: n[5],
                        feerate_per_kw: fr,
                        to_self_delay: d,
                        max_accepted_htlcs: m,
                        funding_pubkey: p[0],
                        revocation_basepoint: p[1],
                        payment_basepoint: p[2],
                        delayed_payment_basepoint: p[3],
                        htlc_basepoint: p[4],
                        first_per_commitment_point: p[5],
                        channel_flags: flags,
                        tlvs: OpenChannelTlvs {
                            upfront_shutdown_script: s,
                            channel_type: ct,
                            unknown,
                        },
                    }
                    .into()
                }
            ),
        (
            (
                arb_cid(),
                any::<[u64; 4]>(),
                any::<u32>(),
                any::<u16>(),
                any::<u16>()
            ),
            arb_points6(),
            open_tlvs()
        )
            .prop_map(|((tcid, n, depth, d, m), p, (s, ct, unknown))| {
                AcceptChannel {
                    temporary_channel_id: tcid,
                    dust_limit_satoshis: n[0],
                    max_htlc_value_in_flight_msat: n[1],
                    channel_reserve_satoshis: n[2],
                    htlc_minimum_msat: n[3],
                    minimum_depth: depth,
                    to_self_delay: d,
                    max_accepted_htlcs: m,
                    funding_pubkey: p[0],
                    revocation_basepoint: p[1],
                    payment_basepoint: p[2],
                    delayed_payment_basepoint: p[3],
                    htlc_basepoint: p[4],
                    first_per_commitment_point: p[5],
                    tlvs: AcceptChannelTlvs {
                        upfront_shutdown_script: s,
                        channel_type: ct,
                        unknown,
                    },
                }
                .into()
            }),
        (arb_cid(), arb_txid(), any::<u16>(), arb_sig()).prop_map(|(c, t, i, s)| {
            FundingCreated {
                temporary_channel_id: c,
                funding_txid: t,
                funding_output_index: i,
                signature: s,
            }
            .into()
        }),
        (arb_cid(), arb_sig()).prop_map(|(channel_id, signature)| FundingSigned {
            channel_id,
            signature
        }
        .into()),
        (
            arb_cid(),
            arb_pubkey(),
            proptest::option::of(arb_scid()),
            arb_unknown(3)
        )
            .prop_map(|(channel_id, p, short_channel_id, unknown)| {
                ChannelReady {
                    channel_id,
                    second_per_commitment_point: p,
                    tlvs: ChannelReadyTlvs {
                        short_channel_id,
                        unknown,
                    },
                }
                .into()
            }),
        (arb_cid(), arb_script()).prop_map(|(channel_id, scriptpubkey)| Shutdown {
            channel_id,
            scriptpubkey
        }
        .into()),
        (
            arb_cid(),
            any::<u64>(),
            arb_sig(),
            proptest::option::of(any::<(u64, u64)>()),
            arb_unknown(3)
        )
            .prop_map(|(channel_id, fee_satoshis, signature, range, unknown)| {
                ClosingSigned {
                    channel_id,
                    fee_satoshis,
                    signature,
                    tlvs: ClosingSignedTlvs {
                        fee_range: range.map(|(a, b)| ClosingFeeRange {
                            min_fee_satoshis: a,
                            max_fee_satoshis: b,
                        }),
                        unknown,
                    },
                }
                .into()
            }),
    ]
    .boxed()
}

fn arb_update() -> BoxedStrategy<Message> {
    prop_oneof![
        (
            (
                arb_cid(),
                any::<u64>(),
                any::<u64>(),
                arb_b32(),
                any::<u32>(),
                any::<u8>()
            ),
            proptest::option::of(arb_pubkey()),
            arb_unknown(1)
        )
            .prop_map(
                |((channel_id, id, amount_msat, h, cltv_expiry, o), path_key, unknown)| {
                    UpdateAddHtlc {
                        channel_id,
                        id,
                        amount_msat,
                        payment_hash: Sha256(h),
                        cltv_expiry,
                        onion_routing_packet: OnionPacket(Box::new([o; ONION_PACKET_LEN])),
                        tlvs: UpdateAddHtlcTlvs { path_key, unknown },
                    }
                    .into()
                }
            ),
        (
            arb_cid(),
            any::<u64>(),
            arb_b32(),
            proptest::option::of(arb_attr()),
            arb_unknown(3)
        )
            .prop_map(
                |(channel_id, id, payment_preimage, attribution_data, unknown)| {
                    UpdateFulfillHtlc {
                        channel_id,
                        id,
                        payment_preimage,
                        tlvs: UpdateFulfillHtlcTlvs {
                            attribution_data,
                            unknown,
                        },
                    }
                    .into()
                }
            ),
        (
            arb_cid(),
            any::<u64>(),
            arb_bytes(300),
            proptest::option::of(arb_attr()),
            arb_unknown(3)
        )
            .prop_map(|(channel_id, id, reason, attribution_data, unknown)| {
                UpdateFailHtlc {
                    channel_id,
                    id,
                    reason,
                    tlvs: UpdateFailHtlcTlvs {
                        attribution_data,
                        unknown,
                    },
                }
                .into()
            }),
        (arb_cid(), any::<u64>(), arb_b32(), any::<u16>()).prop_map(|(channel_id, id, h, c)| {
            UpdateFailMalformedHtlc {
                channel_id,
                id,
                sha256_of_onion: Sha256(h),
                failure_code: c,
            }
            .into()
        }),
        (
            arb_cid(),
            arb_sig(),
            proptest::collection::vec(arb_sig(), 0..4),
            proptest::option::of(arb_txid()),
            arb_unknown(3)
        )
            .prop_map(
                |(channel_id, signature, htlc_signatures, funding_txid, unknown)| {
                    CommitmentSigned {
                        channel_id,
                        signature,
                        htlc_signatures,
                        tlvs: CommitmentSignedTlvs {
                            funding_txid,
                            unknown,
                        },
                    }
                    .into()
                }
            ),
        (arb_cid(), arb_b32(), arb_pubkey()).prop_map(|(channel_id, s, p)| {
            RevokeAndAck {
                channel_id,
                per_commitment_secret: s,
                next_per_commitment_point: p,
            }
            .into()
        }),
        (arb_cid(), any::<u32>()).prop_map(|(channel_id, feerate_per_kw)| UpdateFee {
            channel_id,
            feerate_per_kw
        }
        .into()),
        (
            (
                arb_cid(),
                any::<u64>(),
                any::<u64>(),
                arb_b32(),
                arb_pubkey()
            ),
            proptest::option::of(arb_funding_flags()),
            proptest::option::of(arb_funding_flags()),
            arb_unknown(7)
        )
            .prop_map(
                |((channel_id, a, b, s, p), next_funding, locked, unknown)| {
                    ChannelReestablish {
                        channel_id,
                        next_commitment_number: a,
                        next_revocation_number: b,
                        your_last_per_commitment_secret: s,
                        my_current_per_commitment_point: p,
                        tlvs: ChannelReestablishTlvs {
                            next_funding,
                            my_current_funding_locked: locked,
                            unknown,
                        },
                    }
                    .into()
                }
            ),
    ]
    .boxed()
}

fn arb_gossip() -> BoxedStrategy<Message> {
    prop_oneof![
        (arb_cid(), arb_scid(), arb_sig(), arb_sig()).prop_map(|(channel_id, s, a, b)| {
            AnnouncementSignatures {
                channel_id,
                short_channel_id: s,
                node_signature: a,
                bitcoin_signature: b,
            }
            .into()
        }),
        (
            proptest::array::uniform4(arb_sig()),
            arb_features(),
            arb_chain(),
            arb_scid(),
            proptest::array::uniform4(arb_pubkey()),
            arb_bytes(20)
        )
            .prop_map(|(s, features, chain_hash, scid, p, extra)| {
                ChannelAnnouncement {
                    node_signature_1: s[0],
                    node_signature_2: s[1],
                    bitcoin_signature_1: s[2],
                    bitcoin_signature_2: s[3],
                    features,
                    chain_hash,
                    short_channel_id: scid,
                    node_id_1: p[0],
                    node_id_2: p[1],
                    bitcoin_key_1: p[2],
                    bitcoin_key_2: p[3],
                    excess_data: ExcessData(extra),
                }
                .into()
            }),
        (
            arb_sig(),
            arb_features(),
            any::<u32>(),
            arb_pubkey(),
            any::<[u8; 3]>(),
            arb_b32(),
            arb_bytes(40),
            arb_bytes(20)
        )
            .prop_map(
                |(signature, features, timestamp, node_id, rgb_color, alias, addresses, extra)| {
                    NodeAnnouncement {
                        signature,
                        features,
                        timestamp,
                        node_id,
                        rgb_color,
                        alias,
                        addresses,
                        excess_data: ExcessData(extra),
                    }
                    .into()
                }
            ),
        (
            (
                arb_sig(),
                arb_chain(),
                arb_scid(),
                any::<u32>(),
                any::<u8>(),
                any::<u8>()
            ),
            (
                any::<u16>(),
                any::<u64>(),
                any::<u32>(),
                any::<u32>(),
                any::<u64>()
            ),
            arb_bytes(20)
        )
            .prop_map(
                |((signature, chain_hash, scid, ts, mf, cf), (d, min, base, prop, max), extra)| {
                    ChannelUpdate {
                        signature,
                        chain_hash,
                        short_channel_id: scid,
                        timestamp: ts,
                        message_flags: mf,
                        channel_flags: cf,
                        cltv_expiry_delta: d,
                        htlc_minimum_msat: min,
                        fee_base_msat: base,
                        fee_proportional_millionths: prop,
                        htlc_maximum_msat: max,
                        excess_data: ExcessData(extra),
                    }
                    .into()
                }
            ),
        (
            arb_chain(),
            arb_encoded(),
            proptest::option::of(arb_encoded()),
            arb_unknown(3)
        )
            .prop_map(|(chain_hash, ids, query_flags, unknown)| {
                QueryShortChannelIds {
                    chain_hash,
                    encoded_short_ids: ids,
                    tlvs: QueryShortChannelIdsTlvs {
                        query_flags,
                        unknown,
                    },
                }
                .into()
            }),
        (arb_chain(), any::<u8>()).prop_map(|(chain_hash, full_information)| {
            ReplyShortChannelIdsEnd {
                chain_hash,
                full_information,
            }
            .into()
        }),
        (
            arb_chain(),
            any::<u32>(),
            any::<u32>(),
            proptest::option::of(any::<u64>()),
            arb_unknown(3)
        )
            .prop_map(|(chain_hash, a, b, opt, unknown)| {
                QueryChannelRange {
                    chain_hash,
                    first_blocknum: a,
                    number_of_blocks: b,
                    tlvs: QueryChannelRangeTlvs {
                        query_option: opt.map(BigSize),
                        unknown,
                    },
                }
                .into()
            }),
        (
            (
                arb_chain(),
                any::<u32>(),
                any::<u32>(),
                any::<u8>(),
                arb_encoded()
            ),
            proptest::option::of(arb_encoded()),
            proptest::option::of(proptest::collection::vec(any::<(u32, u32)>(), 0..4)),
            arb_unknown(5)
        )
            .prop_map(
                |((chain_hash, a, b, c, ids), timestamps, checksums, unknown)| {
                    ReplyChannelRange {
                        chain_hash,
                        first_blocknum: a,
                        number_of_blocks: b,
                        sync_complete: c,
                        encoded_short_ids: ids,
                        tlvs: ReplyChannelRangeTlvs {
                            timestamps,
                            checksums: checksums.map(|v| {
                                Checksums(
                                    v.into_iter()
                                        .map(|(x, y)| ChannelUpdateChecksums {
                                            checksum_node_id_1: x,
                                            checksum_node_id_2: y,
                                        })
                                        .collect(),
                                )
                            }),
                            unknown,
                        },
                    }
                    .into()
                }
            ),
        (arb_chain(), any::<u32>(), any::<u32>()).prop_map(|(chain_hash, a, b)| {
            GossipTimestampFilter {
                chain_hash,
                first_timestamp: a,
                timestamp_range: b,
            }
            .into()
        }),
    ]
    .boxed()
}

fn arb_message() -> BoxedStrategy<Message> {
    prop_oneof![arb_setup(), arb_open(), arb_update(), arb_gossip()].boxed()
}

const KNOWN_TYPES: &[u16] = &[
    1, 16, 17, 18, 19, 32, 33, 34, 35, 36, 38, 39, 128, 130, 131, 132, 133, 134, 135, 136, 256,
    257, 258, 259, 261, 262, 263, 264, 265,
];

proptest! {
    #![proptest_config(ProptestConfig { cases: 600, ..ProptestConfig::default() })]

    #[test]
    fn wire_prop_message_round_trip(msg in arb_message()) {
        let bytes = msg.encode().expect("encode");
        prop_assert_eq!(u16::from_be_bytes([bytes[0], bytes[1]]), msg.msg_type());
        let back = Message::decode(&bytes).expect("decode");
        prop_assert_eq!(&back, &msg);
        // Canonical: re-encoding gives the same bytes.
        prop_assert_eq!(back.encode().expect("re-encode"), bytes);
    }

    #[test]
    fn wire_prop_decode_arbitrary_never_panics(bytes in arb_bytes(400)) {
        let _ = Message::decode(&bytes);
        let _ = TlvStream::decode(&bytes);
    }

    #[test]
    fn wire_prop_decode_known_type_garbage(i in 0..KNOWN_TYPES.len(), body in arb_bytes(1600)) {
        let bytes = [&KNOWN_TYPES[i].to_be_bytes()[..], &body].concat();
        if let Ok(m) = Message::decode(&bytes) {
            // Whatever decodes re-encodes and decodes to the same value.
            let again = m.encode().expect("encode");
            prop_assert_eq!(Message::decode(&again).expect("decode"), m);
        }
    }

    #[test]
    fn wire_prop_mutated_messages(msg in arb_message(), cut in any::<prop::sample::Index>(),
                                 flip in any::<prop::sample::Index>(), x in 1u8..) {
        let bytes = msg.encode().expect("encode");
        let _ = Message::decode(&bytes[..cut.index(bytes.len() + 1)]);
        let mut m = bytes.clone();
        let i = flip.index(m.len());
        m[i] ^= x;
        let _ = Message::decode(&m);
    }
}

#[test]
fn wire_strategy_covers_every_message_type() {
    use proptest::strategy::ValueTree;
    use proptest::test_runner::TestRunner;
    let mut runner = TestRunner::deterministic();
    let strategy = arb_message();
    let mut seen = std::collections::BTreeSet::new();
    for _ in 0..3000 {
        let m = strategy.new_tree(&mut runner).expect("tree").current();
        seen.insert(m.msg_type());
    }
    for t in KNOWN_TYPES {
        assert!(seen.contains(t), "type {t} never generated");
    }
    assert!(
        seen.iter().any(|t| !KNOWN_TYPES.contains(t)),
        "no Unknown generated"
    );
}

#[test]
fn wire_tlv_encode_rules() {
    let base = || ChannelReady {
        channel_id: ChannelId([1; 32]),
        second_per_commitment_point: pubkey_pool()[1],
        tlvs: ChannelReadyTlvs {
            short_channel_id: Some(ShortChannelId::new(700_000, 12, 1).unwrap()),
            unknown: vec![],
        },
    };
    // Kept unknown records go out in type order, between known ones.
    let mut m = base();
    m.tlvs.unknown = vec![TlvRecord {
        ty: 0,
        value: vec![],
    }];
    assert!(Message::from(m).encode().is_err(), "even unknown record");
    let mut m = base();
    m.tlvs.unknown = vec![TlvRecord {
        ty: 1,
        value: vec![],
    }];
    assert!(
        Message::from(m).encode().is_err(),
        "unknown record with a known type"
    );
    let mut m = base();
    m.tlvs.unknown = vec![
        TlvRecord {
            ty: 5,
            value: vec![],
        },
        TlvRecord {
            ty: 5,
            value: vec![1],
        },
    ];
    assert!(
        Message::from(m).encode().is_err(),
        "duplicate unknown records"
    );
    let mut m = base();
    m.tlvs.unknown = vec![
        TlvRecord {
            ty: 7,
            value: vec![7],
        },
        TlvRecord {
            ty: 3,
            value: vec![3],
        },
    ];
    let bytes = Message::from(m.clone()).encode().unwrap();
    let tail = &bytes[bytes.len() - (2 + 8 + 3 + 3)..];
    assert_eq!(hex::encode(tail), "01080aae6000000c0001030103070107");
    let Message::ChannelReady(back) = Message::decode(&bytes).unwrap() else {
        panic!("not channel_ready");
    };
    assert_eq!(back.tlvs.unknown[0].ty, 3, "decoded in ascending order");
    // A known record of the wrong length fails; an odd unknown one of any length is fine.
    let mut bad = Message::from(base()).encode().unwrap();
    let n = bad.len();
    bad[n - 9] = 0x07;
    bad.truncate(n - 1);
    assert_eq!(Message::decode(&bad), Err(DecodeError::TlvValueTooShort(1)));
}

#[test]
fn wire_init_feature_checks() {
    use lumen_core::wire::{Feature, FeatureError, NetAddress};
    let ours = Features::our_init();
    let init = |features: Features| Init {
        global_features: Features::empty(),
        features,
        tlvs: InitTlvs::default(),
    };
    assert_eq!(init(ours.clone()).check_features(&ours), Ok(()));
    let mut f = ours.clone();
    f.set_bit(100);
    assert_eq!(
        init(f).check_features(&ours),
        Err(FeatureError::UnknownRequired(100))
    );
    let f = Features::empty().with_optional(Feature::BasicMpp);
    assert!(matches!(
        init(f).check_features(&ours),
        Err(FeatureError::MissingDependency { .. })
    ));
    // globalfeatures count too.
    let mut g = Features::empty();
    g.set_bit(60);
    let msg = Init {
        global_features: g,
        ..init(ours.clone())
    };
    assert_eq!(
        msg.check_features(&ours),
        Err(FeatureError::UnknownRequired(60))
    );
    // remote_addr holds one address descriptor.
    let addr = NetAddress::Ipv4(std::net::Ipv4Addr::new(10, 0, 0, 1), 9735);
    let bytes = NetAddress::encode_list(std::slice::from_ref(&addr)).unwrap();
    assert_eq!(NetAddress::parse_list(&bytes).unwrap(), vec![addr]);
}

#[test]
fn wire_gossip_excess_data_is_kept_and_signed() {
    let update = ChannelUpdate {
        signature: sig_from(&[0x22; 64]).unwrap(),
        chain_hash: ChainHash::for_network(bitcoin::Network::Regtest),
        short_channel_id: ShortChannelId::new(1, 2, 3).unwrap(),
        timestamp: 1_700_000_000,
        message_flags: 1,
        channel_flags: 0,
        cltv_expiry_delta: 144,
        htlc_minimum_msat: 1,
        fee_base_msat: 1000,
        fee_proportional_millionths: 1,
        htlc_maximum_msat: 990_000_000,
        excess_data: ExcessData(vec![]),
    };
    let plain = Message::from(update.clone()).encode().unwrap();
    assert_eq!(plain.len(), 2 + 136);
    // A newer peer appends fields: they survive decode, re-encode and signing.
    let mut extended = plain.clone();
    extended.extend_from_slice(&[0xde, 0xad]);
    let Message::ChannelUpdate(back) = Message::decode(&extended).unwrap() else {
        panic!("not channel_update");
    };
    assert_eq!(back.excess_data, ExcessData(vec![0xde, 0xad]));
    assert_eq!(Message::from(back.clone()).encode().unwrap(), extended);
    let signed = back.signed_bytes().unwrap();
    assert_eq!(signed, extended[2 + 64..]);
    assert_eq!(update.signed_bytes().unwrap(), plain[2 + 64..]);
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 300, ..ProptestConfig::default() })]

    /// A stream that decodes re-encodes to exactly its input (what the
    /// `tlv_stream_decode` fuzz target asserts), for structured and random input.
    #[test]
    fn wire_prop_tlv_stream_canonical(
        types in proptest::collection::btree_set(
            prop_oneof![0u64..300, any::<u64>()], 0..6),
        values in proptest::collection::vec(arb_bytes(300), 6),
        junk in arb_bytes(24),
    ) {
        let records: Vec<TlvRecord> = types
            .into_iter()
            .zip(values)
            .map(|(ty, value)| TlvRecord { ty, value })
            .collect();
        let stream = TlvStream::from_records(records.clone()).expect("unique types");
        let bytes = stream.to_wire().expect("encode");
        let back = TlvStream::decode(&bytes).expect("decode");
        prop_assert_eq!(back.records(), records.as_slice());
        if let Ok(s) = TlvStream::decode(&junk) {
            prop_assert_eq!(s.to_wire().expect("encode"), junk);
        }
    }
}
