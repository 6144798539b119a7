//! BOLT 11 invoices: the spec's vectors through our decoder, decode
//! robustness, and `invoice`/`listinvoices`/`decode`/`delinvoice`/
//! `waitinvoice`/`waitanyinvoice` through a real `lumend` and `lumen-cli`,
//! with responses checked against Core Lightning's schemas.

use std::time::{Duration, Instant};

use bitcoin::hashes::{Hash, sha256};
use lumen_core::invoice::{DecodeError, decode};
use serde_json::{Value, json};

use lumen_tests::Validator;

use crate::support::{Node, cli, shared_dir, skip_or_fail};

fn load_vectors() -> Option<Value> {
    let Some(shared) = shared_dir() else {
        skip_or_fail("../shared not found (set LUMEN_SHARED_DIR): BOLT 11 vectors");
        return None;
    };
    let text = std::fs::read_to_string(shared.join("vectors/bolts/bolt11.json")).expect("read");
    Some(serde_json::from_str(&text).expect("json"))
}

/// The spec example that the 2025 reader rules (bolts PR #1243) turned
/// invalid: it carries `p`/`h`/`s`/`n` fields of the wrong length.
const NEWER_RULE_INVALID: &str = "features_8_14_99_with_ignorable_fields";

#[test]
fn bolt11_valid_vectors_decode_with_every_field() {
    let Some(v) = load_vectors() else { return };
    let valid = v["valid"].as_array().expect("valid");
    assert_eq!(valid.len(), 16);
    let mut checked = 0;
    for case in valid {
        let id = case["id"].as_str().expect("id");
        let text = case["invoice"].as_str().expect("invoice");
        if id == NEWER_RULE_INVALID {
            continue; // see bolt11_invalid_vectors_are_refused_with_reason
        }
        let d = decode(text).unwrap_or_else(|e| panic!("{id}: {e}"));
        let inv = &d.invoice;
        let j = d.to_cln_json();
        assert_eq!(j["currency"], case["network"], "{id}");
        assert_eq!(
            d.network_name(),
            if case["network"] == "bc" {
                "bitcoin"
            } else {
                "testnet"
            }
        );
        assert_eq!(
            inv.amount_milli_satoshis(),
            case["amount_msat"].as_u64(),
            "{id} amount"
        );
        assert_eq!(
            Some(inv.duration_since_epoch().as_secs()),
            case["timestamp"].as_u64(),
            "{id}"
        );
        assert_eq!(
            inv.payment_hash().to_string(),
            case["payment_hash"].as_str().expect("hash"),
            "{id}"
        );
        assert_eq!(
            hex::encode(inv.payment_secret().0),
            case["payment_secret"].as_str().expect("secret"),
            "{id}"
        );
        assert_eq!(j["description"], case["description"], "{id}");
        assert_eq!(j["description_hash"], case["description_hash"], "{id}");
        assert_eq!(
            d.expiry_secs(),
            case["expiry_seconds"].as_u64().unwrap_or(3600),
            "{id} expiry"
        );
        assert_eq!(
            inv.min_final_cltv_expiry_delta(),
            case["min_final_cltv_expiry_delta"].as_u64().unwrap_or(18),
            "{id} cltv"
        );
        assert_eq!(
            j["payment_metadata"], case["payment_metadata"],
            "{id} metadata"
        );
        // Features: the set bits and the hex.
        let le = inv.features().expect("features").le_flags().to_vec();
        let bits: Vec<u64> = (0..le.len() * 8)
            .filter(|b| le[b / 8] & (1 << (b % 8)) != 0)
            .map(|b| b as u64)
            .collect();
        let want_bits: Vec<u64> = case["feature_bits"]
            .as_array()
            .expect("bits")
            .iter()
            .map(|b| b.as_u64().expect("bit"))
            .collect();
        assert_eq!(bits, want_bits, "{id} feature bits");
        // CLN prints whole bytes; the vector prints the bitfield as an
        // integer: equal up to leading zeros.
        assert_eq!(
            j["features"]
                .as_str()
                .expect("features")
                .trim_start_matches('0'),
            case["features_hex"]
                .as_str()
                .expect("hex")
                .trim_start_matches('0'),
            "{id} features hex"
        );
        // Payee (recovered: no vector has an n field) and signature.
        assert_eq!(
            d.payee.to_string(),
            case["payee_pubkey"].as_str().expect("payee"),
            "{id} payee"
        );
        assert!(!d.payee_explicit, "{id}");
        let (rid, compact) = d.signature.serialize_compact();
        assert_eq!(
            hex::encode(compact),
            case["signature"].as_str().expect("sig"),
            "{id}"
        );
        assert_eq!(
            i64::from(rid.to_i32()),
            case["recovery_id"].as_i64().expect("rid"),
            "{id}"
        );
        assert_eq!(
            hex::encode(d.signing_hash),
            case["signing_hash"].as_str().expect("signing hash"),
            "{id}"
        );
        // Fallbacks: type, address and hash/program.
        let want_fb = case["fallbacks"].as_array().cloned().unwrap_or_default();
        let got_fb = j["fallbacks"].as_array().cloned().unwrap_or_default();
        assert_eq!(got_fb.len(), want_fb.len(), "{id} fallbacks");
        for (g, w) in got_fb.iter().zip(&want_fb) {
            assert_eq!(
                g["type"].as_str().map(str::to_lowercase),
                w["type"].as_str().map(str::to_string),
                "{id}"
            );
            assert_eq!(g["addr"], w["address"], "{id}");
            let payload = w["hash"].as_str().or(w["program"].as_str()).expect("hash");
            assert!(
                g["hex"].as_str().expect("hex").contains(payload),
                "{id}: {g} vs {w}"
            );
        }
        // Route hints hop by hop.
        let want_r = case["route_hints"].as_array().cloned().unwrap_or_default();
        let got_r = j["routes"].as_array().cloned().unwrap_or_default();
        assert_eq!(got_r.len(), want_r.len(), "{id} routes");
        for (g, w) in got_r.iter().zip(&want_r) {
            let (g, w) = (g.as_array().expect("hops"), w.as_array().expect("hops"));
            assert_eq!(g.len(), w.len(), "{id}");
            for (gh, wh) in g.iter().zip(w) {
                for k in [
                    "pubkey",
                    "short_channel_id",
                    "fee_base_msat",
                    "fee_proportional_millionths",
                    "cltv_expiry_delta",
                ] {
                    assert_eq!(gh[k], wh[k], "{id} route {k}");
                }
            }
        }
        checked += 1;
    }
    assert_eq!(checked, 15);
}

#[test]
fn bolt11_invalid_vectors_are_refused_with_reason() {
    let Some(v) = load_vectors() else { return };
    let invalid = v["invalid"].as_array().expect("invalid");
    assert_eq!(invalid.len(), 10);
    let mut reasons = Vec::new();
    for case in invalid {
        let id = case["id"].as_str().expect("id");
        let want = case["reason"].as_str().expect("reason");
        let err = decode(case["invoice"].as_str().expect("invoice"))
            .map(|_| ())
            .expect_err(id);
        // Our code for the vector's reason: the same word, except that a
        // high-S signature next to an n field is an `invalid_signature`.
        let expected = match want {
            "high_s_signature_with_n_field" => "invalid_signature",
            other => other,
        };
        assert_eq!(err.reason(), expected, "{id}: {err}");
        if let Some(bit) = case["detail"]["unknown_even_feature_bit"].as_u64() {
            assert_eq!(
                err,
                DecodeError::UnknownRequiredFeature(vec![bit as usize]),
                "{id}"
            );
        }
        reasons.push(format!("{id}: {err}"));
    }
    assert_eq!(reasons.len(), 10, "{reasons:?}");

    // SPEC CONFLICT (see the vectors' README): listed as valid, but bolts
    // PR #1243 requires failing on p/h/s/n fields of the wrong length. We
    // follow the newer rule.
    let case = v["valid"]
        .as_array()
        .expect("valid")
        .iter()
        .find(|c| c["id"] == NEWER_RULE_INVALID)
        .expect("case");
    let err = decode(case["invoice"].as_str().expect("invoice"))
        .map(|_| ())
        .expect_err("newer rule");
    assert_eq!(err.reason(), "wrong_length_field", "{err}");
}

#[test]
fn bolt11_high_s_signature_is_recovered_without_normalising() {
    let Some(v) = load_vectors() else { return };
    let case = v["valid"]
        .as_array()
        .expect("valid")
        .iter()
        .find(|c| c["id"] == "high_s_signature_recovery")
        .expect("case");
    let d = decode(case["invoice"].as_str().expect("invoice")).expect("accepted");
    assert_eq!(
        d.payee.to_string(),
        case["payee_pubkey"].as_str().expect("payee")
    );
    assert_ne!(
        d.payee.to_string(),
        case["signer_pubkey"].as_str().expect("signer")
    );
}

mod props {
    use super::*;
    use bech32::Fe32;
    use bech32::primitives::decode::CheckedHrpstring;
    use bech32::primitives::iter::Fe32IterExt;
    use lightning_invoice::Bolt11Bech32;
    use proptest::prelude::*;

    /// A spec invoice (P2PKH fallback and route hints: many field kinds).
    const BASE: &str = "lnbc20m1pvjluezsp5zyg3zyg3zyg3zyg3zyg3zyg3zyg3zyg3zyg3zyg3zyg3zyg3zygspp5qqqsyqcyq5rqwzqfqqqsyqcyq5rqwzqfqqqsyqcyq5rqwzqfqypqhp58yjmdan79s6qqdhdzgynm4zwqd5d7xmw5fk98klysy043l2ahrqsfpp3qjmp7lwpagxun9pygexvgpjdc4jdj85fr9yq20q82gphp2nflc7jtzrcazrra7wwgzxqc8u7754cdlpfrmccae92qgzqvzq2ps8pqqqqqqpqqqqq9qqqvpeuqafqxu92d8lr6fvg0r5gv0heeeqgcrqlnm6jhphu9y00rrhy4grqszsvpcgpy9qqqqqqgqqqqq7qqzq9qrsgqdfjcdk6w3ak5pca9hwfwfh63zrrz06wwfya0ydlzpgzxkn5xagsqz7x9j4jwe7yj7vaf2k9lqsdk45kts2fd0fkr28am0u4w95tt2nsq76cqw0";

    /// BASE with its data groups changed/cut/extended, re-checksummed so the
    /// decoder gets past bech32 into the field parsers.
    fn mutated(edits: &[(usize, u8)], cut: usize, append: &[u8]) -> String {
        let parsed = CheckedHrpstring::new::<Bolt11Bech32>(BASE).expect("base parses");
        let hrp = parsed.hrp();
        let mut data: Vec<Fe32> = parsed.fe32_iter::<&mut dyn Iterator<Item = u8>>().collect();
        for &(at, val) in edits {
            let i = at % data.len();
            data[i] = Fe32::try_from(val % 32).expect("fe32");
        }
        data.truncate(data.len().saturating_sub(cut % 200));
        data.extend(append.iter().map(|v| Fe32::try_from(v % 32).expect("fe32")));
        let body: String = data
            .into_iter()
            .with_checksum::<Bolt11Bech32>(&hrp)
            .chars()
            .collect();
        // `chars()` yields the whole string: hrp, separator, data, checksum.
        body
    }

    #[test]
    fn unmutated_base_round_trips() {
        assert_eq!(mutated(&[], 0, &[]), BASE);
        assert!(decode(BASE).is_ok());
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 2000, ..ProptestConfig::default() })]

        #[test]
        fn arbitrary_strings_never_panic(s in "\\PC{0,400}") {
            let _ = decode(&s);
        }

        #[test]
        fn bech32_alphabet_strings_never_panic(s in "ln(bc|tb|bcrt|tbs)[0-9]{0,6}[munpx]?1[qpzry9x8gf2tvdw0s3jn54khce6mua7l]{0,700}") {
            let _ = decode(&s);
        }

        #[test]
        fn rechecksummed_mutations_never_panic(
            edits in proptest::collection::vec((any::<usize>(), any::<u8>()), 0..6),
            cut in any::<usize>(),
            append in proptest::collection::vec(any::<u8>(), 0..40),
        ) {
            let s = mutated(&edits, cut, &append);
            if let Ok(d) = decode(&s) {
                // Whatever decodes also renders.
                let _ = d.to_cln_json();
            }
        }
    }
}

fn rpc_err(node: &Node, method: &str, params: Value) -> Value {
    let resp = node.call(method, params.clone());
    resp.get("error")
        .cloned()
        .unwrap_or_else(|| panic!("{method} {params} unexpectedly succeeded: {resp}"))
}

#[test]
fn invoice_rpcs_through_lumend_and_lumen_cli() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let dir = tmp.path().join("n");
    let mut node = Node::start(&dir);
    let node_id = node.ok("getinfo", json!({}))["id"]
        .as_str()
        .expect("id")
        .to_string();

    // create → list → decode
    let created = node.ok(
        "invoice",
        json!({"amount_msat": 150_000, "label": "coffee", "description": "one flat white"}),
    );
    let bolt11 = created["bolt11"].as_str().expect("bolt11").to_string();
    assert!(bolt11.starts_with("lnbcrt1500n1"), "{bolt11}");
    assert_eq!(created["created_index"], 1);
    let listed = node.ok("listinvoices", json!({"label": "coffee"}));
    let inv = &listed["invoices"][0];
    assert_eq!(inv["bolt11"], created["bolt11"]);
    assert_eq!(inv["status"], "unpaid");
    assert_eq!(inv["amount_msat"], 150_000);
    assert_eq!(inv["description"], "one flat white");
    assert!(
        inv.get("payment_preimage").is_none(),
        "unpaid hides preimage"
    );
    let decoded = node.ok("decode", json!({"string": bolt11}));
    assert_eq!(decoded["type"], "bolt11 invoice");
    assert_eq!(decoded["valid"], true);
    assert_eq!(decoded["currency"], "bcrt");
    assert_eq!(decoded["payee"], node_id.as_str());
    assert_eq!(decoded["payment_hash"], created["payment_hash"]);
    assert_eq!(decoded["payment_secret"], created["payment_secret"]);
    assert_eq!(decoded["expiry"], 604_800);
    assert_eq!(decoded["min_final_cltv_expiry"], 18);
    assert_eq!(decoded["amount_msat"], 150_000);
    assert_eq!(
        decoded["created_at"].as_u64().expect("t") + 604_800,
        created["expires_at"].as_u64().expect("exp")
    );
    // var_onion_optin (8) and payment_secret (14) required, basic_mpp (17) optional.
    assert_eq!(decoded["features"], "024100");
    // getinfo tells the same (plugins see it in init's feature_set too).
    assert_eq!(
        node.ok("getinfo", json!({}))["our_features"]["invoice"],
        "024100"
    );

    // The same round trip through lumen-cli (positional parameters).
    let (code, out, err) = cli(&dir, &["invoice", "any", "cli-1", "tip jar", "3600"]);
    assert_eq!(code, 0, "{out}{err}");
    let c: Value = serde_json::from_str(&out).expect("cli json");
    let cli_bolt11 = c["bolt11"].as_str().expect("bolt11").to_string();
    let (code, out, err) = cli(&dir, &["listinvoices", "cli-1"]);
    assert_eq!(code, 0, "{out}{err}");
    let l: Value = serde_json::from_str(&out).expect("cli json");
    assert_eq!(l["invoices"][0]["bolt11"], cli_bolt11.as_str());
    assert!(l["invoices"][0].get("amount_msat").is_none());
    let (code, out, err) = cli(&dir, &["decode", &cli_bolt11]);
    assert_eq!(code, 0, "{out}{err}");
    let d: Value = serde_json::from_str(&out).expect("cli json");
    assert_eq!(d["payee"], node_id.as_str());
    assert_eq!(d["expiry"], 3600);
    assert_eq!(d["description"], "tip jar");
    let (code, _, _) = cli(&dir, &["decode", "lnbcrt1notaninvoice"]);
    assert_ne!(code, 0, "a bad invoice is an error through the CLI too");

    // Errors with their CLN codes.
    let e = rpc_err(
        &node,
        "invoice",
        json!({"amount_msat": 1, "label": "coffee", "description": "again"}),
    );
    assert_eq!(e["code"], 900, "{e}");
    let preimage = "11".repeat(32);
    node.ok(
        "invoice",
        json!({"amount_msat": "2sat", "label": 42, "description": "p", "preimage": preimage}),
    );
    let e = rpc_err(
        &node,
        "invoice",
        json!({"amount_msat": 1, "label": "other", "description": "p", "preimage": preimage}),
    );
    assert_eq!(e["code"], 901, "{e}");
    let by_int = node.ok("listinvoices", json!({"label": "42"}));
    assert_eq!(by_int["invoices"][0]["amount_msat"], 2000);
    let want_hash = hex::encode(sha256::Hash::hash(&[0x11; 32]).to_byte_array());
    assert_eq!(by_int["invoices"][0]["payment_hash"], want_hash.as_str());
    let e = rpc_err(&node, "decode", json!({"string": "lnbc1garbage"}));
    assert_eq!(e["code"], -32602, "{e}");
    assert!(
        e["message"]
            .as_str()
            .expect("msg")
            .contains("Invalid bolt11")
    );
    let e = rpc_err(
        &node,
        "invoice",
        json!({"amount_msat": 0, "label": "zero", "description": "x"}),
    );
    assert_eq!(e["code"], -32602, "{e}");
    let e = rpc_err(
        &node,
        "invoice",
        json!({"amount_msat": 5, "label": "fb", "description": "x", "fallbacks": ["1RustyRX2oai4EYYDpQGWvEL62BBGqN9T"]}),
    );
    assert_eq!(e["code"], -32602, "mainnet fallback on regtest: {e}");
    let e = rpc_err(
        &node,
        "delinvoice",
        json!({"label": "nope", "status": "unpaid"}),
    );
    assert_eq!(e["code"], 905, "{e}");
    let e = rpc_err(
        &node,
        "delinvoice",
        json!({"label": "coffee", "status": "paid"}),
    );
    assert_eq!(e["code"], 906, "{e}");
    assert_eq!(e["data"]["current_status"], "unpaid");
    assert_eq!(e["data"]["expected_status"], "paid");
    let e = rpc_err(&node, "waitanyinvoice", json!({"timeout": 0}));
    assert_eq!(e["code"], 904, "{e}");

    // A fallback on our network, and a description hash.
    let fb = node.ok(
        "invoice",
        json!({"amount_msat": 5, "label": "fb", "description": "x",
               "fallbacks": ["bcrt1qw508d6qejxtdg4y5r3zarvary0c5xw7kygt080"], "deschashonly": true}),
    );
    let d = node.ok("decode", json!({"string": fb["bolt11"]}));
    assert_eq!(d["fallbacks"][0]["type"], "P2WPKH");
    assert_eq!(
        d["fallbacks"][0]["addr"],
        "bcrt1qw508d6qejxtdg4y5r3zarvary0c5xw7kygt080"
    );
    assert_eq!(
        d["description_hash"],
        hex::encode(sha256::Hash::hash(b"x").to_byte_array())
    );

    // Expiry: a 1-second invoice shows as expired and cannot be waited on.
    node.ok(
        "invoice",
        json!({"amount_msat": 1000, "label": "short", "description": "soon gone", "expiry": 1}),
    );
    std::thread::sleep(Duration::from_millis(2100));
    let l = node.ok("listinvoices", json!({"label": "short"}));
    assert_eq!(l["invoices"][0]["status"], "expired");
    let e = rpc_err(&node, "waitinvoice", json!({"label": "short"}));
    assert_eq!(e["code"], 903, "{e}");
    let e = rpc_err(&node, "dev-payinvoice", json!({"label": "short"}));
    assert_eq!(e["code"], -1, "{e}");

    // Payment (dev-payinvoice drives the registry's mark_paid) wakes a
    // waitinvoice and a waitanyinvoice that are already waiting.
    let socket = node.socket();
    let s2 = socket.clone();
    let waiter = std::thread::spawn(move || {
        crate::support::unix_call(&s2, "waitinvoice", json!({"label": "coffee"}))
    });
    let s3 = socket.clone();
    let any_waiter = std::thread::spawn(move || {
        crate::support::unix_call(&s3, "waitanyinvoice", json!({"timeout": 30}))
    });
    std::thread::sleep(Duration::from_millis(300));
    assert!(!waiter.is_finished(), "waitinvoice returned before payment");
    let t = Instant::now();
    let e = rpc_err(
        &node,
        "dev-payinvoice",
        json!({"label": "coffee", "amount_msat": 149_999}),
    );
    assert_eq!(e["code"], -1, "underpayment refused: {e}");
    let paid = node.ok(
        "dev-payinvoice",
        json!({"label": "coffee", "amount_msat": 150_001}),
    );
    let w = waiter.join().expect("join").expect("waitinvoice");
    let wake = t.elapsed();
    let w = &w["result"];
    assert_eq!(w["status"], "paid", "{w}");
    assert_eq!(w["pay_index"], 1);
    assert_eq!(w["amount_received_msat"], 150_001);
    assert_eq!(
        hex::encode(
            sha256::Hash::hash(
                &hex::decode(w["payment_preimage"].as_str().expect("pre")).expect("hex")
            )
            .to_byte_array()
        ),
        created["payment_hash"].as_str().expect("hash")
    );
    assert_eq!(paid["pay_index"], 1);
    let a = any_waiter.join().expect("join").expect("waitanyinvoice");
    assert_eq!(a["result"]["label"], "coffee", "{a}");
    assert!(wake < Duration::from_secs(5), "woken after {wake:?}");
    // waitanyinvoice from the last index returns the next payment only.
    let e = rpc_err(
        &node,
        "waitanyinvoice",
        json!({"lastpay_index": 1, "timeout": 0}),
    );
    assert_eq!(e["code"], 904);
    node.ok(
        "dev-payinvoice",
        json!({"label": "cli-1", "amount_msat": 7}),
    );
    let next = node.ok("waitanyinvoice", json!({"lastpay_index": 1}));
    assert_eq!(next["label"], "cli-1");
    assert_eq!(next["pay_index"], 2);
    assert_eq!(next["updated_index"], 2);

    // Everything survives a restart; indexes keep counting.
    node.ok("stop", json!({}));
    node.wait_exit();
    node.restart();
    let all = node.ok("listinvoices", json!({}));
    let labels: Vec<&str> = all["invoices"]
        .as_array()
        .expect("list")
        .iter()
        .map(|i| i["label"].as_str().expect("label"))
        .collect();
    assert_eq!(labels, ["coffee", "cli-1", "42", "fb", "short"]);
    assert_eq!(all["invoices"][0]["status"], "paid");
    let w = node.ok("waitinvoice", json!({"label": "coffee"}));
    assert_eq!(w["pay_index"], 1);
    let del = node.ok("delinvoice", json!({"label": "coffee", "status": "paid"}));
    assert_eq!(del["status"], "paid");
    let again = node.ok(
        "invoice",
        json!({"amount_msat": 1, "label": "coffee", "description": "again"}),
    );
    assert_eq!(again["created_index"], 6, "indexes are not reused");
    let updated = node.ok("listinvoices", json!({"index": "updated", "start": 0}));
    assert_eq!(updated["invoices"].as_array().expect("list").len(), 1);

    // A pending waitanyinvoice does not hold up shutdown: it is ended with
    // the shutting-down code.
    let s4 = node.socket();
    let pending = std::thread::spawn(move || {
        crate::support::unix_call(&s4, "waitanyinvoice", json!({"lastpay_index": 100}))
    });
    std::thread::sleep(Duration::from_millis(300));
    let t = Instant::now();
    node.ok("stop", json!({}));
    node.wait_exit();
    let stopped = t.elapsed();
    let r = pending.join().expect("join").expect("reply before close");
    assert_eq!(r["error"]["code"], -5, "{r}");
    assert!(stopped < Duration::from_secs(10), "stop took {stopped:?}");
}

#[test]
fn invoice_responses_validate_against_core_lightning_schemas() {
    let Some(v) = Validator::find() else {
        return;
    };
    // The validator must be able to fail on our methods too.
    assert!(
        v.check(
            "listinvoices",
            &json!({"invoices": [{"label": "x"}]}),
            false
        )
        .is_err()
    );
    let tmp = tempfile::tempdir().expect("tempdir");
    let node = Node::start(&tmp.path().join("n"));
    let mut checked = 0;
    let mut check = |method: &str, params: Value| -> Value {
        v.check(method, &params, true)
            .unwrap_or_else(|e| panic!("request: {e}"));
        let result = node.ok(method, params);
        v.check(method, &result, false)
            .unwrap_or_else(|e| panic!("response: {e}"));
        checked += 1;
        result
    };
    let a = check(
        "invoice",
        json!({"amount_msat": 1000, "label": "a", "description": "d"}),
    );
    check(
        "invoice",
        json!({"amount_msat": "any", "label": "b", "description": "d", "expiry": 1,
               "fallbacks": ["bcrt1qw508d6qejxtdg4y5r3zarvary0c5xw7kygt080"]}),
    );
    check(
        "invoice",
        json!({"amount_msat": "10sat", "label": "c", "description": "d"}),
    );
    std::thread::sleep(Duration::from_millis(2100));
    check("listinvoices", json!({}));
    check("decode", json!({"string": a["bolt11"]}));
    node.ok("dev-payinvoice", json!({"label": "a"}));
    check("waitinvoice", json!({"label": "a"}));
    check("waitanyinvoice", json!({}));
    check("listinvoices", json!({"label": "a"}));
    check("listinvoices", json!({"payment_hash": a["payment_hash"]}));
    check("listinvoices", json!({"invstring": a["bolt11"]}));
    check("delinvoice", json!({"label": "b", "status": "expired"}));
    check("delinvoice", json!({"label": "a", "status": "paid"}));
    check(
        "delinvoice",
        json!({"label": "c", "status": "unpaid", "desconly": true}),
    );
    // The spec's invoices (mainnet and testnet, fallbacks, route hints,
    // metadata) through the daemon's decode.
    if let Some(v) = load_vectors() {
        for case in v["valid"].as_array().expect("valid") {
            if case["id"] == NEWER_RULE_INVALID {
                continue;
            }
            check("decode", json!({"string": case["invoice"]}));
        }
    }
    assert_eq!(checked, 13 + 15);
}

/// Timing of invoice create+sign and decode; printed, not asserted. Run
/// with `--release -- --ignored` for meaningful numbers.
#[test]
#[ignore = "timing: run explicitly, in release"]
fn invoice_timing() {
    use bitcoin::secp256k1::{Secp256k1, SecretKey};
    use lumen_core::invoice::{InvoiceDescription, InvoiceRequest, build_invoice};
    let secp = Secp256k1::new();
    let key = SecretKey::from_slice(&[0x42; 32]).expect("key");
    let req = InvoiceRequest {
        currency: lightning_invoice::Currency::Regtest,
        amount_msat: Some(150_000),
        description: InvoiceDescription::Text("one flat white".into()),
        expiry_secs: 604_800,
        min_final_cltv_expiry_delta: 18,
        payment_hash: [7; 32],
        payment_secret: [9; 32],
        fallbacks: vec![],
        route_hints: vec![],
        payment_metadata: None,
        timestamp: 1_700_000_000,
    };
    let iters = 2000u32;
    let t = Instant::now();
    let mut last = String::new();
    for _ in 0..iters {
        last = build_invoice(&req, |m| secp.sign_ecdsa_recoverable(m, &key))
            .expect("build")
            .to_string();
    }
    let create_us = t.elapsed().as_secs_f64() * 1e6 / f64::from(iters);
    let t = Instant::now();
    for _ in 0..iters {
        decode(&last).expect("decode");
    }
    let decode_us = t.elapsed().as_secs_f64() * 1e6 / f64::from(iters);
    let profile = if cfg!(debug_assertions) {
        "debug"
    } else {
        "release"
    };
    println!(
        "invoice timing ({profile}, {iters} iterations): create+sign+encode {create_us:.1} µs; decode+verify {decode_us:.1} µs"
    );
}
