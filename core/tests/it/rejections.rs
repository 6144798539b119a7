//! The rejection matrix (issue #2): eight bad transactions, each built once
//! against a real `lumend` serving its embedded chain over Bitcoin Core's
//! RPC, rejected with Core's code and reason through `sendrawtransaction`,
//! through `testmempoolaccept`, and through [`ChainSource::broadcast`] of an
//! in-process embedded chain opened from a copy of the node's block log
//! (and through our Bitcoin Core client pointed at the node).
//! Each case also has a fixed variant that IS accepted, so the rejection is
//! shown to be for the stated reason and nothing else.

use bitcoin::absolute::LockTime;
use bitcoin::consensus::encode::serialize_hex;
use bitcoin::hashes::Hash;
use bitcoin::key::{Keypair, TapTweak};
use bitcoin::opcodes::all::{OP_CHECKSIG, OP_CSV, OP_DROP};
use bitcoin::script::Builder;
use bitcoin::secp256k1::{Message, Secp256k1};
use bitcoin::sighash::{EcdsaSighashType, Prevouts, SighashCache, TapSighashType};
use bitcoin::{
    Amount, Network, OutPoint, ScriptBuf, Sequence, Transaction, Txid, Witness, XOnlyPublicKey,
};
use lumen_core::chain::bitcoind::rpc::Auth;
use lumen_core::chain::bitcoind::{BitcoindChain, BitcoindConfig};
use lumen_core::chain::core_rpc::codes::{VERIFY_ERROR, VERIFY_REJECTED};
use lumen_core::chain::embedded::source::EmbeddedChain;
use lumen_core::chain::{ChainSource, ChainSourceError};
use serde_json::json;

use crate::chain::{Key, ecdsa, key, out, spend};
use crate::chain_server::CoreRpc;
use crate::support::{Node, free_port};

/// Depth of the CSV lock in the test script.
const CSV_DELAY: i64 = 10;

/// Sign input 0 as a P2WPKH spend of `owner`'s coin, with `signer`'s key.
fn sign_p2wpkh(mut tx: Transaction, owner: &Key, signer: &Key, value: Amount) -> Transaction {
    let sighash = SighashCache::new(&tx)
        .p2wpkh_signature_hash(0, &owner.p2wpkh(), value, EcdsaSighashType::All)
        .expect("sighash");
    tx.input[0].witness = Witness::p2wpkh(&ecdsa(sighash.to_byte_array(), signer), &owner.pubkey.0);
    tx
}

/// One row of the matrix: the bad transaction, the reason every API must
/// give, and a fixed variant that must be accepted.
struct Case {
    name: &'static str,
    bad: Transaction,
    code: i64,
    /// Core's reject reason (`sendrawtransaction` and `broadcast`).
    reason: &'static str,
    /// `testmempoolaccept`'s reject-reason (Core says `missing-inputs` there).
    test_reason: &'static str,
    fixed: Transaction,
}

#[tokio::test]
async fn every_rejection_through_every_api() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let port = free_port();
    let node = Node::start_with(
        tmp.path(),
        &["--chain-rpc-bind", &format!("127.0.0.1:{port}")],
    );
    let rpc = CoreRpc::from_cookie(port, &node.dir);
    let secp = Secp256k1::new();
    let miner = key(1);
    let alice = key(2);
    let subsidy = Amount::from_sat(50 * 100_000_000);

    // Fund test keys: 110 blocks to the miner, so coinbases 1..=11 are
    // mature for block 112 and block 13's is one confirmation short.
    let mine = |n: u32| {
        rpc.ok("generatetoaddress", json!([n, miner.address().to_string()]));
    };
    mine(110);
    let coinbase = |height: u32| {
        let hash = rpc.ok("getblockhash", json!([height]));
        let block = rpc.ok("getblock", json!([hash, 1]));
        let txid: Txid = block["tx"][0]
            .as_str()
            .expect("txid")
            .parse()
            .expect("txid");
        OutPoint::new(txid, 0)
    };
    let send = |tx: &Transaction| -> Result<Txid, (i64, String)> {
        rpc.call("sendrawtransaction", json!([serialize_hex(tx)]))
            .map(|v| v.as_str().expect("txid").parse().expect("txid"))
    };

    // Setup outputs the cases spend: a taproot key-path coin, a CSV-locked
    // P2WSH coin, and a coinbase already spent on chain.
    let keypair = Keypair::from_seckey_slice(&secp, &[7u8; 32]).expect("keypair");
    let (xonly, _) = XOnlyPublicKey::from_keypair(&keypair);
    let p2tr = ScriptBuf::new_p2tr(&secp, xonly, None);
    let csv_key = key(3);
    let csv_script = Builder::new()
        .push_int(CSV_DELAY)
        .push_opcode(OP_CSV)
        .push_opcode(OP_DROP)
        .push_slice(csv_key.pubkey.to_bytes())
        .push_opcode(OP_CHECKSIG)
        .into_script();
    let coin = 100_000_000u64;
    let fund = sign_p2wpkh(
        spend(
            coinbase(1),
            vec![
                out(coin, p2tr.clone()),
                out(coin, ScriptBuf::new_p2wsh(&csv_script.wscript_hash())),
                out(subsidy.to_sat() - 2 * coin - 2_000, miner.p2wpkh()),
            ],
        ),
        &miner,
        &miner,
        subsidy,
    );
    let fund_txid = send(&fund).expect("fund");
    let spent = sign_p2wpkh(
        spend(
            coinbase(2),
            vec![out(subsidy.to_sat() - 1_000, alice.p2wpkh())],
        ),
        &miner,
        &miner,
        subsidy,
    );
    let spent_txid = send(&spent).expect("spend");
    mine(1); // tip 111: both confirmed once
    assert_eq!(rpc.ok("getmempoolinfo", json!([]))["size"], 0);

    let p2wpkh = |prev: OutPoint, fee: u64, signer: &Key| {
        sign_p2wpkh(
            spend(prev, vec![out(subsidy.to_sat() - fee, alice.p2wpkh())]),
            &miner,
            signer,
            subsidy,
        )
    };
    let locked = |height: u32| {
        let mut tx = spend(
            coinbase(4),
            vec![out(subsidy.to_sat() - 1_000, alice.p2wpkh())],
        );
        tx.lock_time = LockTime::from_height(height).expect("height");
        sign_p2wpkh(tx, &miner, &miner, subsidy)
    };
    let csv_spend = {
        let mut tx = spend(
            OutPoint::new(fund_txid, 1),
            vec![out(coin - 1_000, alice.p2wpkh())],
        );
        tx.input[0].sequence = Sequence::from_consensus(CSV_DELAY as u32);
        let sighash = SighashCache::new(&tx)
            .p2wsh_signature_hash(
                0,
                &csv_script,
                Amount::from_sat(coin),
                EcdsaSighashType::All,
            )
            .expect("sighash");
        let sig = ecdsa(sighash.to_byte_array(), &csv_key);
        tx.input[0].witness = Witness::from_slice(&[sig.to_vec(), csv_script.to_bytes()]);
        tx
    };
    let (taproot_ok, taproot_tampered) = {
        let mut tx = spend(
            OutPoint::new(fund_txid, 0),
            vec![out(coin - 1_000, miner.p2wpkh())],
        );
        let sighash = SighashCache::new(&tx)
            .taproot_key_spend_signature_hash(
                0,
                &Prevouts::All(&[fund.output[0].clone()]),
                TapSighashType::Default,
            )
            .expect("sighash");
        let tweaked = keypair.tap_tweak(&secp, None);
        let sig = secp.sign_schnorr(
            &Message::from_digest(sighash.to_byte_array()),
            &tweaked.to_keypair(),
        );
        let mut bytes = sig.as_ref().to_vec();
        tx.input[0].witness = Witness::from_slice(&[bytes.clone()]);
        let good = tx.clone();
        bytes[10] ^= 1;
        tx.input[0].witness = Witness::from_slice(&[bytes]);
        (good, tx)
    };
    let dusty = |dust: u64| {
        sign_p2wpkh(
            spend(
                coinbase(5),
                vec![
                    out(subsidy.to_sat() - 10_000, miner.p2wpkh()),
                    out(dust, alice.p2wpkh()),
                ],
            ),
            &miner,
            &miner,
            subsidy,
        )
    };
    // nLockTime 115 is final from block 116 on; the next block is 112.
    let lock_height = 115;
    let locked_tx = locked(lock_height);
    let immature = p2wpkh(coinbase(13), 1_000, &miner);

    let cases = vec![
        Case {
            name: "bad signature",
            bad: p2wpkh(coinbase(3), 1_000, &alice),
            code: VERIFY_REJECTED,
            reason: "mandatory-script-verify-flag-failed",
            test_reason: "mandatory-script-verify-flag-failed",
            fixed: p2wpkh(coinbase(3), 1_000, &miner),
        },
        Case {
            name: "double spend",
            bad: p2wpkh(coinbase(2), 5_000, &miner),
            code: VERIFY_ERROR,
            reason: "bad-txns-inputs-missingorspent",
            test_reason: "missing-inputs",
            // The same payment from the coin the confirmed spend created.
            fixed: sign_p2wpkh(
                spend(
                    OutPoint::new(spent_txid, 0),
                    vec![out(subsidy.to_sat() - 5_000, miner.p2wpkh())],
                ),
                &alice,
                &alice,
                subsidy - Amount::from_sat(1_000),
            ),
        },
        Case {
            name: "immature coinbase spend",
            bad: immature.clone(),
            code: VERIFY_REJECTED,
            reason: "bad-txns-premature-spend-of-coinbase",
            test_reason: "bad-txns-premature-spend-of-coinbase",
            fixed: immature,
        },
        Case {
            name: "nLockTime not reached",
            bad: locked_tx.clone(),
            code: VERIFY_REJECTED,
            reason: "non-final",
            test_reason: "non-final",
            fixed: locked_tx,
        },
        Case {
            name: "CSV not reached",
            bad: csv_spend.clone(),
            code: VERIFY_REJECTED,
            reason: "non-BIP68-final",
            test_reason: "non-BIP68-final",
            fixed: csv_spend,
        },
        Case {
            name: "tampered taproot signature",
            bad: taproot_tampered,
            code: VERIFY_REJECTED,
            reason: "mandatory-script-verify-flag-failed",
            test_reason: "mandatory-script-verify-flag-failed",
            fixed: taproot_ok,
        },
        Case {
            // P2WPKH dust threshold at 3 sat/vB: 294 sat.
            name: "dust output",
            bad: dusty(293),
            code: VERIFY_REJECTED,
            reason: "dust",
            test_reason: "dust",
            fixed: dusty(294),
        },
        Case {
            // A 1-in-1-out P2WPKH spend is about 110 vB: 100 sat is below
            // 1 sat/vB, 110 is not.
            name: "fee below the minimum",
            bad: p2wpkh(coinbase(6), 100, &miner),
            code: VERIFY_REJECTED,
            reason: "min relay fee not met",
            test_reason: "min relay fee not met",
            fixed: p2wpkh(coinbase(6), 110, &miner),
        },
    ];

    // The in-process embedded chain: the node's own block log, copied.
    let copy = tmp.path().join("copy-blocks.dat");
    std::fs::copy(node.dir.join("chain/blocks.dat"), &copy).expect("copy block log");
    let now = u32::try_from(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .expect("clock")
            .as_secs(),
    )
    .expect("time");
    let local = EmbeddedChain::open(&copy, now).expect("open copy");
    assert_eq!(
        local.tip().await.expect("tip").1.to_string(),
        rpc.ok("getbestblockhash", json!([]))
            .as_str()
            .expect("hash"),
        "the in-process chain is the node's chain"
    );

    // Our own Bitcoin Core client against the node: Core's answer, parsed.
    let client = BitcoindChain::start(
        BitcoindConfig {
            url: format!("http://127.0.0.1:{port}"),
            auth: Auth::Cookie(node.dir.join("chain/.cookie")),
            poll: std::time::Duration::from_millis(100),
            fallback_feerate: None,
        },
        Network::Regtest,
    )
    .await
    .expect("client");

    println!("{:<28} {:>5}  reason", "case", "code");
    for case in &cases {
        let name = case.name;
        let hex = serialize_hex(&case.bad);

        // (a) sendrawtransaction: Core's code, message led by the reason.
        let (code, message) = send(&case.bad).expect_err(name);
        assert_eq!(code, case.code, "{name}: {message}");
        assert!(
            message == case.reason || message.starts_with(&format!("{} (", case.reason)),
            "{name}: {message}"
        );
        println!("{name:<28} {code:>5}  {message}");

        // (b) testmempoolaccept: not allowed, with the reason.
        let verdict = &rpc.ok("testmempoolaccept", json!([[hex]]))[0];
        assert_eq!(verdict["allowed"], false, "{name}: {verdict}");
        assert_eq!(
            verdict["txid"],
            case.bad.compute_txid().to_string(),
            "{name}"
        );
        assert_eq!(verdict["reject-reason"], case.test_reason, "{name}");

        // (c) ChainSource::broadcast in process: the same reason.
        match local.broadcast(case.bad.clone()).await {
            Err(ChainSourceError::Rejected { reason, detail }) => {
                assert_eq!(reason, case.reason, "{name}: {detail}")
            }
            other => panic!("{name}: {other:?}"),
        }
        // (d) ChainSource::broadcast through the Core client: the same reason.
        match client.broadcast(case.bad.clone()).await {
            Err(ChainSourceError::Rejected { reason, detail }) => {
                assert_eq!(reason, case.reason, "{name}: {detail}");
                assert!(detail.contains(&case.code.to_string()), "{name}: {detail}");
            }
            other => panic!("{name}: {other:?}"),
        }
    }
    assert_eq!(
        rpc.ok("getmempoolinfo", json!([]))["size"],
        0,
        "nothing bad got in"
    );
    assert!(local.mempool().await.expect("mempool").is_empty());

    // Nine more blocks: the CSV coin has its 10 confirmations, the lock
    // height is passed, block 13's coinbase is mature. Mined the same way on
    // both chains.
    mine(CSV_DELAY as u32 - 1);
    local
        .mine(CSV_DELAY as u32 - 1, &miner.p2wpkh())
        .expect("mine locally");
    for case in &cases {
        let name = case.name;
        let verdict = &rpc.ok("testmempoolaccept", json!([[serialize_hex(&case.fixed)]]))[0];
        assert_eq!(verdict["allowed"], true, "{name} fixed: {verdict}");
        let txid = case.fixed.compute_txid();
        assert_eq!(send(&case.fixed), Ok(txid), "{name} fixed");
        assert_eq!(
            local.broadcast(case.fixed.clone()).await,
            Ok(txid),
            "{name} fixed, in process"
        );
    }
    let pool = rpc.ok("getrawmempool", json!([]));
    assert_eq!(pool.as_array().expect("array").len(), cases.len());
    assert_eq!(local.mempool().await.expect("mempool").len(), cases.len());
    // The fee case sat right at the edge: 110 sat paid for at most 110 vB.
    let fee_fixed = &cases[7].fixed;
    assert!(fee_fixed.vsize() <= 110 && cases[7].bad.vsize() > 100);
}
