//! The on-chain wallet on a real `lumend` with the embedded regtest chain:
//! mining, withdraw, PSBT flow, reservations, reorgs, restarts and kills.

use std::str::FromStr;

use bitcoin::consensus::encode::deserialize_hex;
use bitcoin::{Amount, Transaction, TxOut};
use serde_json::{Value, json};

use lumen_tests::Validator;

use crate::support::Node;

const COINBASE_SAT: u64 = 5_000_000_000;

fn outputs(node: &Node) -> Vec<Value> {
    node.ok("listfunds", json!({}))["outputs"]
        .as_array()
        .expect("outputs")
        .clone()
}

fn sum_status(outs: &[Value], status: &str) -> u64 {
    outs.iter()
        .filter(|o| o["status"] == status)
        .map(|o| o["amount_msat"].as_u64().expect("msat") / 1000)
        .sum()
}

fn count_status(outs: &[Value], status: &str) -> usize {
    outs.iter().filter(|o| o["status"] == status).count()
}

fn find<'a>(outs: &'a [Value], txid: &str, vout: u64) -> Option<&'a Value> {
    outs.iter()
        .find(|o| o["txid"] == txid && o["output"].as_u64() == Some(vout))
}

fn mine(node: &Node, blocks: u32) -> Value {
    node.ok("dev-mine", json!({ "blocks": blocks }))
}

/// An address nobody here owns (so mined coinbases do not touch the wallet).
fn burn() -> String {
    bitcoin::Address::p2wsh(bitcoin::Script::new(), bitcoin::Network::Regtest).to_string()
}

fn tx_of(v: &Value) -> Transaction {
    deserialize_hex(v["tx"].as_str().expect("tx")).expect("tx decodes")
}

#[test]
fn mined_coinbase_matures_and_withdraw_pays_exactly() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let a = Node::start(&tmp.path().join("a"));
    let mined = mine(&a, 101);
    assert_eq!(mined["blockheight"], 101);
    let outs = outputs(&a);
    assert_eq!(outs.len(), 101, "{outs:?}");
    assert_eq!(count_status(&outs, "confirmed"), 1);
    assert_eq!(count_status(&outs, "immature"), 100);
    assert_eq!(sum_status(&outs, "confirmed"), COINBASE_SAT);
    for o in &outs {
        assert!(
            o["address"]
                .as_str()
                .expect("address")
                .starts_with("bcrt1p")
        );
        assert_eq!(o["reserved"], false);
    }
    let mature = outs
        .iter()
        .find(|o| o["status"] == "confirmed")
        .expect("mature");
    assert_eq!(mature["blockheight"], 1);

    // Withdraw to a second node's address at an explicit feerate.
    let b_dir = tmp.path().join("b");
    let mut b = Node::start(&b_dir);
    let b_addr = b.ok("newaddr", json!({"addresstype": "bech32"}))["bech32"]
        .as_str()
        .expect("bech32")
        .to_string();
    assert!(b_addr.starts_with("bcrt1q"));
    let amount = 12_345_678u64;
    let perkw = 1000u64;
    let w = a.ok(
        "withdraw",
        json!({"destination": b_addr, "satoshi": amount, "feerate": format!("{perkw}perkw")}),
    );
    let tx = tx_of(&w);
    assert_eq!(tx.compute_txid().to_string(), w["txid"]);
    assert_eq!(tx.input.len(), 1);
    let out_total: u64 = tx.output.iter().map(|o| o.value.to_sat()).sum();
    let fee = COINBASE_SAT - out_total;
    let weight = tx.weight().to_wu();
    // Fee is for the estimated weight; a real signature is never larger.
    let exact = (weight * perkw).div_ceil(1000);
    assert!(
        fee >= exact && fee <= exact + 2,
        "fee {fee} for weight {weight}"
    );
    let vsize = tx.vsize() as u64;
    assert!(
        fee.abs_diff(vsize * perkw * 4 / 1000) <= 4,
        "fee {fee} vsize {vsize}"
    );
    let dest = bitcoin::Address::from_str(&b_addr)
        .expect("addr")
        .assume_checked()
        .script_pubkey();
    let paid: Vec<&TxOut> = tx
        .output
        .iter()
        .filter(|o| o.script_pubkey == dest)
        .collect();
    assert_eq!(paid.len(), 1);
    assert_eq!(paid[0].value, Amount::from_sat(amount));
    let change_vout = tx
        .output
        .iter()
        .position(|o| o.script_pubkey != dest)
        .expect("change") as u64;
    let change = COINBASE_SAT - amount - fee;
    assert_eq!(tx.output[change_vout as usize].value.to_sat(), change);

    // The change shows unconfirmed, then confirmed; the coinbase is spent.
    let outs = outputs(&a);
    let c = find(&outs, w["txid"].as_str().expect("txid"), change_vout).expect("change listed");
    assert_eq!(c["status"], "unconfirmed");
    assert_eq!(c["amount_msat"].as_u64(), Some(change * 1000));
    assert!(find(&outs, mature["txid"].as_str().expect("txid"), 0).is_none());
    assert_eq!(sum_status(&outs, "confirmed"), 0);
    mine(&a, 1);
    let outs = outputs(&a);
    let c = find(&outs, w["txid"].as_str().expect("txid"), change_vout).expect("change listed");
    assert_eq!(c["status"], "confirmed");
    assert_eq!(c["blockheight"], 102);
    // Block 2's coinbase matured with block 102.
    assert_eq!(sum_status(&outs, "confirmed"), change + COINBASE_SAT);

    // Asking for more than there is: CLN's 301.
    let err = a.call(
        "withdraw",
        json!({"destination": b_addr, "satoshi": 10 * COINBASE_SAT}),
    );
    assert_eq!(err["error"]["code"], 301, "{err}");

    // The second node follows the first one's chain (copied while both are
    // stopped: nodes cannot share a chain until the bitcoind backend lands)
    // and finds the deposit in a block it never mined.
    let mut a = a;
    a.signal_and_wait(libc::SIGTERM);
    b.signal_and_wait(libc::SIGTERM);
    std::fs::copy(
        tmp.path().join("a/chain/blocks.dat"),
        b_dir.join("chain/blocks.dat"),
    )
    .expect("copy chain");
    b.restart();
    let outs = outputs(&b);
    assert_eq!(outs.len(), 1, "{outs:?}");
    assert_eq!(outs[0]["txid"], w["txid"]);
    assert_eq!(outs[0]["status"], "confirmed");
    assert_eq!(outs[0]["amount_msat"].as_u64(), Some(amount * 1000));
    assert_eq!(outs[0]["address"], b_addr);
}

#[test]
fn fundpsbt_reservations_sign_and_send() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let a = Node::start(&tmp.path().join("a"));
    mine(&a, 102); // two mature coinbases
    let outs = outputs(&a);
    assert_eq!(sum_status(&outs, "confirmed"), 2 * COINBASE_SAT);

    // One p2tr output will be added: base + output weight.
    let startweight: u64 = 42 + 43 * 4;
    let f = a.ok(
        "fundpsbt",
        json!({"satoshi": 100_000, "feerate": "1000perkw", "startweight": startweight, "excess_as_change": true}),
    );
    assert_eq!(f["feerate_per_kw"], 1000);
    assert_eq!(f["excess_msat"], 0);
    // One p2tr input (164 weight units outside the witness, 66 in it) and
    // the p2tr change output (43 bytes).
    let weight = f["estimated_final_weight"].as_u64().expect("weight");
    assert_eq!(weight, startweight + 164 + 66 + 43 * 4);
    // min_witness_weight counts more witness (not reserved: reserve 0).
    let heavier = a.ok(
        "fundpsbt",
        json!({"satoshi": 100_000, "feerate": "1000perkw", "startweight": startweight,
               "excess_as_change": true, "min_witness_weight": 500, "reserve": 0}),
    );
    assert_eq!(heavier["estimated_final_weight"], weight - 66 + 500);
    assert!(heavier.get("reservations").is_none(), "{heavier}");
    let res = f["reservations"].as_array().expect("reservations");
    assert_eq!(res.len(), 1);
    assert_eq!(res[0]["reserved_to_block"], 102 + 72);
    let (txid, vout) = (
        res[0]["txid"].as_str().expect("txid").to_string(),
        res[0]["vout"].as_u64().expect("vout"),
    );
    let outs = outputs(&a);
    let r = find(&outs, &txid, vout).expect("listed");
    assert_eq!(r["reserved"], true);
    assert_eq!(r["reserved_to_block"], 174);
    // Reserved coins are not offered again, and reserving twice is refused.
    let psbt_text = f["psbt"].as_str().expect("psbt").to_string();
    let again = a.call("reserveinputs", json!({"psbt": psbt_text}));
    assert_eq!(again["error"]["code"], -1, "{again}");
    let ext = a.ok(
        "reserveinputs",
        json!({"psbt": psbt_text, "exclusive": false, "reserve": 10}),
    );
    assert_eq!(ext["reservations"][0]["was_reserved"], true);
    assert_eq!(ext["reservations"][0]["reserved_to_block"], 184);
    let un = a.ok(
        "unreserveinputs",
        json!({"psbt": psbt_text, "reserve": 200}),
    );
    assert_eq!(un["reservations"][0]["was_reserved"], true);
    assert_eq!(un["reservations"][0]["reserved"], false);
    assert_eq!(
        find(&outputs(&a), &txid, vout).expect("listed")["reserved"],
        false
    );
    let re = a.ok("reserveinputs", json!({"psbt": psbt_text}));
    assert_eq!(re["reservations"][0]["was_reserved"], false);
    assert_eq!(re["reservations"][0]["reserved_to_block"], 174);
    // The other mature coin is still free; a second fundpsbt takes it.
    let f2 = a.ok(
        "fundpsbt",
        json!({"satoshi": 100_000, "feerate": "urgent", "startweight": startweight}),
    );
    assert_eq!(f2["reservations"].as_array().map(|r| r.len()), Some(1));
    let p2 = bitcoin::psbt::Psbt::from_str(f2["psbt"].as_str().expect("psbt")).expect("psbt");
    assert_ne!(
        p2.unsigned_tx.input[0].previous_output.txid.to_string(),
        txid
    );
    // Nothing else is mature: CLN's 301.
    let none = a.call(
        "fundpsbt",
        json!({"satoshi": 100_000, "feerate": "normal", "startweight": startweight, "minconf": 1}),
    );
    assert_eq!(none["error"]["code"], 301, "{none}");
    a.ok("unreserveinputs", json!({"psbt": f2["psbt"]}));

    // Add the payment, sign, send.
    let dest_addr = a.ok("newaddr", json!({}))["p2tr"]
        .as_str()
        .expect("p2tr")
        .to_string();
    let dest = bitcoin::Address::from_str(&dest_addr)
        .expect("a")
        .assume_checked()
        .script_pubkey();
    let mut psbt = bitcoin::psbt::Psbt::from_str(&psbt_text).expect("psbt");
    psbt.unsigned_tx.output.push(TxOut {
        value: Amount::from_sat(100_000),
        script_pubkey: dest,
    });
    psbt.outputs.push(Default::default());
    let unsigned = a.call("sendpsbt", json!({"psbt": psbt.to_string()}));
    assert_eq!(unsigned["error"]["code"], -1, "{unsigned}");
    let signed = a.ok("signpsbt", json!({"psbt": psbt.to_string()}));
    let sent = a.ok("sendpsbt", json!({"psbt": signed["signed_psbt"]}));
    let tx = tx_of(&sent);
    let change_outnum = f["change_outnum"].as_u64().expect("change_outnum");
    let change = tx.output[change_outnum as usize].value.to_sat();
    let fee = COINBASE_SAT - change - 100_000;
    let est = f["estimated_final_weight"].as_u64().expect("weight");
    assert_eq!(
        fee,
        (est * 1000).div_ceil(1000),
        "fee pays the estimated weight at 1000perkw"
    );
    assert!(tx.weight().to_wu() <= est);
    mine(&a, 1);
    let outs = outputs(&a);
    let paid = find(&outs, sent["txid"].as_str().expect("txid"), 1).expect("paid output");
    assert_eq!(paid["status"], "confirmed");
    assert_eq!(paid["amount_msat"].as_u64(), Some(100_000_000));
    assert!(find(&outs, &txid, vout).is_none(), "spent input gone");
    assert!(outs.iter().all(|o| o["reserved"] == false));

    // utxopsbt on an explicit UTXO.
    let u = a.ok(
        "utxopsbt",
        json!({"satoshi": 1000, "feerate": "253perkw", "startweight": startweight,
               "utxos": [format!("{}:{}", sent["txid"].as_str().expect("txid"), 1)], "reserve": 0}),
    );
    let up = bitcoin::psbt::Psbt::from_str(u["psbt"].as_str().expect("psbt")).expect("psbt");
    assert_eq!(up.unsigned_tx.input.len(), 1);
    assert_eq!(up.unsigned_tx.input[0].previous_output.vout, 1);
    // excess: 100_000 - 1000 - fee(startweight + one p2tr input)
    let w = startweight + 230;
    assert_eq!(
        u["excess_msat"].as_u64(),
        Some((100_000 - 1000 - (w * 253).div_ceil(1000)) * 1000)
    );
}

fn own_bech32(node: &Node) -> String {
    node.ok("newaddr", json!({"addresstype": "bech32"}))["bech32"]
        .as_str()
        .expect("bech32")
        .to_string()
}

#[test]
fn reorg_returns_wallet_tx_to_mempool_then_reincludes_it() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let a = Node::start(&tmp.path().join("a"));
    mine(&a, 101);
    let to = own_bech32(&a);
    let w = a.ok(
        "withdraw",
        json!({"destination": to, "satoshi": 700_000_000u64, "feerate": "2000perkw"}),
    );
    let txid = w["txid"].as_str().expect("txid").to_string();
    let tx = tx_of(&w);
    let fee = COINBASE_SAT - tx.output.iter().map(|o| o.value.to_sat()).sum::<u64>();
    let mine_to_burn = |n: u32| a.ok("dev-mine", json!({"blocks": n, "address": burn()}));
    let check = |status: &str, height: Option<u64>, confirmed_sum: u64, immature: usize| {
        let outs = outputs(&a);
        for vout in 0..2 {
            let o =
                find(&outs, &txid, vout).unwrap_or_else(|| panic!("{txid}:{vout} lost: {outs:?}"));
            assert_eq!(o["status"], status, "{o}");
            assert_eq!(o.get("blockheight").and_then(|h| h.as_u64()), height);
        }
        let ours: u64 = outs
            .iter()
            .filter(|o| o["txid"] == txid.as_str())
            .map(|o| o["amount_msat"].as_u64().expect("msat") / 1000)
            .sum();
        assert_eq!(ours, COINBASE_SAT - fee);
        assert_eq!(sum_status(&outs, "confirmed"), confirmed_sum, "{outs:?}");
        assert_eq!(count_status(&outs, "immature"), immature);
        // Ours, the immature coinbases and the mature unspent ones.
        let mature = if status == "confirmed" {
            (confirmed_sum - (COINBASE_SAT - fee)) / COINBASE_SAT
        } else {
            confirmed_sum / COINBASE_SAT
        };
        assert_eq!(outs.len(), 2 + immature + mature as usize);
    };
    check("unconfirmed", None, 0, 100);

    // Confirm at 102, bury under 103: blocks 2 and 3's coinbases mature.
    let mined = mine_to_burn(2);
    let first = mined["blockhashes"][0].as_str().expect("hash").to_string();
    check(
        "confirmed",
        Some(102),
        2 * COINBASE_SAT + (COINBASE_SAT - fee),
        98,
    );

    // A 2-block reorg: 102 and 103 go; the tx is back in the mempool.
    let inv = a.ok("dev-invalidateblock", json!({"blockhash": first}));
    assert_eq!(inv["disconnected"], 2);
    assert_eq!(inv["blockheight"], 101);
    check("unconfirmed", None, 0, 100);

    // The new branch (3 blocks) re-includes it at 102.
    mine_to_burn(3);
    check(
        "confirmed",
        Some(102),
        3 * COINBASE_SAT + (COINBASE_SAT - fee),
        97,
    );
}

type Snapshot = std::collections::BTreeSet<(String, u64, u64)>;

fn snapshot(node: &Node) -> Snapshot {
    outputs(node)
        .iter()
        .map(|o| {
            (
                o["txid"].as_str().expect("txid").to_string(),
                o["output"].as_u64().expect("vout"),
                o["amount_msat"].as_u64().expect("msat"),
            )
        })
        .collect()
}

#[test]
fn restart_and_sigkill_lose_no_utxo() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let mut a = Node::start(&tmp.path().join("a"));
    mine(&a, 101);
    let to = own_bech32(&a);
    a.ok("withdraw", json!({"destination": to, "satoshi": 1_000_000}));
    mine(&a, 1);
    let before = snapshot(&a);
    assert_eq!(before.len(), 102 + 1); // 102 coinbases − 1 spent + 2 outputs
    a.signal_and_wait(libc::SIGTERM);
    a.restart();
    assert_eq!(snapshot(&a), before, "clean restart");

    // Activity, then SIGKILL right after: a withdraw still in the mempool
    // and a 200-block catch-up the follower may be in the middle of.
    let to = own_bech32(&a);
    let w = a.ok(
        "withdraw",
        json!({"destination": to, "satoshi": 2_000_000, "minconf": 0}),
    );
    let expected = snapshot(&a);
    assert!(
        expected
            .iter()
            .any(|(t, _, _)| t == w["txid"].as_str().expect("txid"))
    );
    a.ok("dev-mine", json!({"blocks": 200, "address": burn()}));
    a.signal_and_wait(libc::SIGKILL);
    a.restart();
    let after = snapshot(&a);
    assert_eq!(after, expected, "SIGKILL lost or invented outputs");
    let outs = outputs(&a);
    // The withdraw was mined before the kill: confirmed now.
    for o in outs.iter().filter(|o| o["txid"] == w["txid"]) {
        assert_eq!(o["status"], "confirmed");
    }

    // SIGKILL with an unconfirmed withdraw: the embedded mempool does not
    // survive, so the wallet broadcasts it again on start.
    let to = own_bech32(&a);
    let w = a.ok("withdraw", json!({"destination": to, "satoshi": 3_000_000}));
    let expected = snapshot(&a);
    a.signal_and_wait(libc::SIGKILL);
    a.restart();
    assert_eq!(snapshot(&a), expected);
    mine(&a, 1);
    let outs = outputs(&a);
    let mine_outs: Vec<&Value> = outs.iter().filter(|o| o["txid"] == w["txid"]).collect();
    assert_eq!(mine_outs.len(), 2);
    assert!(mine_outs.iter().all(|o| o["status"] == "confirmed"));
}

#[test]
fn wallet_responses_validate_against_core_lightning_schemas() {
    let Some(v) = Validator::find() else {
        return;
    };
    // The validator must be able to fail on our methods too.
    assert!(
        v.check("listfunds", &json!({"outputs": []}), false)
            .is_err()
    );
    assert!(
        v.check("feerates", &json!({"perkw": {"floor": 253}}), false)
            .is_err()
    );

    let tmp = tempfile::tempdir().expect("tempdir");
    let a = Node::start(&tmp.path().join("a"));
    mine(&a, 103);
    let mut checked = 0;
    let mut check = |method: &str, params: Value| -> Value {
        v.check(method, &params, true)
            .unwrap_or_else(|e| panic!("request: {e}"));
        let result = a.ok(method, params);
        v.check(method, &result, false)
            .unwrap_or_else(|e| panic!("response: {e}"));
        checked += 1;
        result
    };
    check("newaddr", json!({}));
    check("newaddr", json!({"addresstype": "bech32"}));
    let addrs = check("newaddr", json!({"addresstype": "all"}));
    check("feerates", json!({"style": "perkw"}));
    check("feerates", json!({"style": "perkb"}));
    let w = check(
        "withdraw",
        json!({"destination": addrs["bech32"], "satoshi": "150000sat", "feerate": "slow", "minconf": 1}),
    );
    check("listfunds", json!({}));
    let startweight = 42 + 43 * 4;
    let f = check(
        "fundpsbt",
        json!({"satoshi": 200_000, "feerate": "normal", "startweight": startweight, "excess_as_change": true}),
    );
    check("unreserveinputs", json!({"psbt": f["psbt"]}));
    check(
        "reserveinputs",
        json!({"psbt": f["psbt"], "exclusive": false, "reserve": 5}),
    );
    check(
        "unreserveinputs",
        json!({"psbt": f["psbt"], "reserve": 100}),
    );
    let u = check(
        "utxopsbt",
        json!({"satoshi": "all", "feerate": "3000perkb", "startweight": startweight,
               "utxos": [format!("{}:0", w["txid"].as_str().expect("txid"))], "reserve": 0,
               "excess_as_change": true}),
    );
    let s = check("signpsbt", json!({"psbt": u["psbt"]}));
    check("sendpsbt", json!({"psbt": s["signed_psbt"]}));
    let l = check("listfunds", json!({"spent": true}));
    assert!(
        l["outputs"]
            .as_array()
            .expect("outputs")
            .iter()
            .any(|o| o["status"] == "spent")
    );
    assert_eq!(checked, 15);
}

/// Sync time of a fresh wallet (restored from the seed) over a chain of
/// 1000+ blocks holding its coinbases and transactions. Measured on the
/// debug build; prints the number.
#[test]
fn fresh_wallet_syncs_1000_blocks_and_recovers_from_seed() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let a_dir = tmp.path().join("a");
    let mut a = Node::start(&a_dir);
    mine(&a, 101);
    for i in 0..18 {
        let to = if i % 2 == 0 {
            own_bech32(&a)
        } else {
            a.ok("newaddr", json!({}))["p2tr"]
                .as_str()
                .expect("p2tr")
                .to_string()
        };
        a.ok(
            "withdraw",
            json!({"destination": to, "satoshi": 1_000_000 + i}),
        );
        mine(&a, 50);
    }
    let expected = snapshot(&a);
    let height = a.ok("dev-mine", json!({"blocks": 1, "address": burn()}))["blockheight"]
        .as_u64()
        .expect("height");
    assert_eq!(height, 1002);
    a.signal_and_wait(libc::SIGTERM);

    // A new data dir with the same seed and a copy of the chain: the wallet
    // starts from genesis.
    let c_dir = tmp.path().join("c");
    std::fs::create_dir_all(c_dir.join("chain")).expect("mkdir");
    std::fs::copy(
        a_dir.join("chain/blocks.dat"),
        c_dir.join("chain/blocks.dat"),
    )
    .expect("copy");
    let words = tmp.path().join("words");
    std::fs::copy(a_dir.join("seed"), &words).expect("seed");
    let words_arg = words.to_str().expect("utf8").to_string();
    let c = Node::start_with(&c_dir, &["--restore-from-mnemonic-file", &words_arg]);
    // The catch-up runs in the background: RPC is up before it ends.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(120);
    let log = loop {
        let log = c.log();
        if log.contains("wallet synced") || std::time::Instant::now() > deadline {
            break log;
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
    };
    let line = log
        .lines()
        .find(|l| l.contains("wallet synced"))
        .unwrap_or_else(|| panic!("no sync line in log:\n{log}"));
    let sync_ms: u64 = line
        .split("sync_ms")
        .nth(1)
        .and_then(|rest| {
            rest.trim_start_matches(|ch: char| !ch.is_ascii_digit())
                .split(|ch: char| !ch.is_ascii_digit())
                .next()
                .and_then(|n| n.parse().ok())
        })
        .unwrap_or_else(|| panic!("no sync_ms in {line}"));
    eprintln!(
        "wallet sync: {height} blocks (1001 wallet coinbases, 18 wallet txs) in {sync_ms} ms \
         ({:.2} ms/block, debug build); node ready after {:?}",
        sync_ms as f64 / height as f64,
        c.ready_after
    );
    assert_eq!(
        snapshot(&c),
        expected,
        "the restored wallet sees the same coins"
    );
}

/// A seed restored with `--wallet-birthday H` scans from block H: a coin
/// in block H is found, one a block earlier is not; a birthday above the tip
/// stops the node with the reason.
#[test]
fn restore_with_a_wallet_birthday_scans_from_that_block() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let a_dir = tmp.path().join("a");
    let mut a = Node::start(&a_dir);
    a.ok("dev-mine", json!({"blocks": 150, "address": burn()}));
    let addr = a.ok("newaddr", json!({}))["p2tr"]
        .as_str()
        .expect("p2tr")
        .to_string();
    a.ok("dev-mine", json!({"blocks": 1, "address": addr})); // block 151
    a.ok("dev-mine", json!({"blocks": 10, "address": burn()})); // tip 161
    let words = tmp.path().join("words");
    std::fs::copy(a_dir.join("seed"), &words).expect("seed");
    let words_arg = words.to_str().expect("utf8").to_string();
    a.signal_and_wait(libc::SIGTERM);
    let new_dir = |name: &str| {
        let d = tmp.path().join(name);
        std::fs::create_dir_all(d.join("chain")).expect("mkdir");
        std::fs::copy(a_dir.join("chain/blocks.dat"), d.join("chain/blocks.dat")).expect("copy");
        d
    };
    for (birthday, found) in [("151", true), ("152", false)] {
        let node = Node::start_with(
            &new_dir(&format!("b{birthday}")),
            &[
                "--restore-from-mnemonic-file",
                &words_arg,
                "--wallet-birthday",
                birthday,
            ],
        );
        let outs = outputs(&node);
        assert_eq!(
            outs.len(),
            usize::from(found),
            "birthday {birthday}: {outs:?}"
        );
        if found {
            assert_eq!(outs[0]["blockheight"], 151);
            assert_eq!(outs[0]["status"], "immature");
        }
    }
    let out = std::process::Command::new(crate::support::bin("lumend"))
        .args(["--network", "regtest", "--datadir"])
        .arg(new_dir("late"))
        .args([
            "--rpc-bind",
            &format!("127.0.0.1:{}", crate::support::free_port()),
        ])
        .args([
            "--restore-from-mnemonic-file",
            &words_arg,
            "--wallet-birthday",
            "5000",
        ])
        .output()
        .expect("run lumend");
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("wallet birthday 5000 is above the chain tip 161"),
        "{err}"
    );
}

/// SIGKILL at random moments while blocks paying the wallet are mined in a
/// loop: after each restart the wallet holds exactly one coinbase output per
/// block of the chain (none lost, none doubled).
#[test]
fn sigkill_during_mining_keeps_one_coinbase_per_block() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let mut a = Node::start(&tmp.path().join("a"));
    for round in 0..4u64 {
        let socket = a.socket();
        let miner = std::thread::spawn(move || {
            for _ in 0..50 {
                let r = crate::support::unix_call(&socket, "dev-mine", json!({"blocks": 7}));
                if !matches!(r, Ok(ref v) if v.get("result").is_some()) {
                    return;
                }
            }
        });
        std::thread::sleep(std::time::Duration::from_millis(150 + 97 * round));
        a.signal_and_wait(libc::SIGKILL);
        let _ = miner.join();
        a.restart();
        let tip = a.ok("getinfo", json!({}))["blockheight"]
            .as_u64()
            .expect("height");
        assert!(tip > 0, "round {round}: nothing mined");
        let outs = outputs(&a);
        let mut heights: Vec<u64> = outs
            .iter()
            .map(|o| o["blockheight"].as_u64().expect("confirmed"))
            .collect();
        heights.sort_unstable();
        let want: Vec<u64> = (1..=tip).collect();
        assert_eq!(heights, want, "round {round}: tip {tip}");
    }
}

/// A seed created now cannot have funds in older blocks: its wallet starts
/// at the chain tip (no scan), then follows the chain as usual.
#[test]
fn new_seed_wallet_starts_at_the_tip() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let a_dir = tmp.path().join("a");
    let mut a = Node::start(&a_dir);
    a.ok("dev-mine", json!({"blocks": 150, "address": burn()}));
    a.signal_and_wait(libc::SIGTERM);
    let d_dir = tmp.path().join("d");
    std::fs::create_dir_all(d_dir.join("chain")).expect("mkdir");
    std::fs::copy(
        a_dir.join("chain/blocks.dat"),
        d_dir.join("chain/blocks.dat"),
    )
    .expect("copy");
    let mut d = Node::start(&d_dir);
    let log = d.log();
    assert!(log.contains("the wallet starts at the chain tip"), "{log}");
    assert!(outputs(&d).is_empty());
    mine(&d, 2);
    let outs = outputs(&d);
    let mut heights: Vec<u64> = outs
        .iter()
        .map(|o| o["blockheight"].as_u64().expect("height"))
        .collect();
    heights.sort_unstable();
    assert_eq!(heights, vec![151, 152]);
    // Restarted (seed no longer new): still the same coins, no rescan needed.
    d.signal_and_wait(libc::SIGTERM);
    d.restart();
    assert_eq!(outputs(&d).len(), 2);
}

/// One transaction spending p2tr and p2wpkh coins together (the two bdk
/// wallets' inputs signed into one PSBT), via `withdraw all` and via
/// `utxopsbt` on a p2wpkh coin alone.
#[test]
fn spends_p2tr_and_p2wpkh_coins_together() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let a = Node::start(&tmp.path().join("a"));
    mine(&a, 101);
    let to = own_bech32(&a);
    let w = a.ok(
        "withdraw",
        json!({"destination": to, "satoshi": 100_000_000}),
    );
    let w2 = a.ok(
        "withdraw",
        json!({"destination": own_bech32(&a), "satoshi": 50_000_000, "minconf": 0}),
    );
    a.ok("dev-mine", json!({"blocks": 1, "address": burn()}));

    // utxopsbt on the second p2wpkh coin alone → signpsbt → sendpsbt.
    let w2_tx = tx_of(&w2);
    let vout = w2_tx
        .output
        .iter()
        .position(|o| o.script_pubkey.is_p2wpkh())
        .expect("p2wpkh output");
    let u = a.ok(
        "utxopsbt",
        json!({"satoshi": 10_000_000, "feerate": "1000perkw", "startweight": 42 + 43 * 4,
               "utxos": [format!("{}:{vout}", w2["txid"].as_str().expect("txid"))],
               "excess_as_change": true}),
    );
    let mut psbt = bitcoin::psbt::Psbt::from_str(u["psbt"].as_str().expect("psbt")).expect("psbt");
    psbt.unsigned_tx.output.push(TxOut {
        value: Amount::from_sat(10_000_000),
        script_pubkey: bitcoin::Address::from_str(&burn())
            .expect("a")
            .assume_checked()
            .script_pubkey(),
    });
    psbt.outputs.push(Default::default());
    let s = a.ok("signpsbt", json!({"psbt": psbt.to_string()}));
    let sent = a.ok("sendpsbt", json!({"psbt": s["signed_psbt"]}));
    assert_eq!(
        tx_of(&sent).input[0].witness.len(),
        2,
        "p2wpkh witness: sig + key"
    );

    // Everything confirmed and mature, across both script types, in one tx.
    let outs = outputs(&a);
    let spendable: u64 = outs
        .iter()
        .filter(|o| o["status"] == "confirmed")
        .map(|o| o["amount_msat"].as_u64().expect("msat") / 1000)
        .sum();
    let kinds: std::collections::BTreeSet<bool> = outs
        .iter()
        .filter(|o| o["status"] == "confirmed")
        .map(|o| o["address"].as_str().expect("addr").starts_with("bcrt1q"))
        .collect();
    assert_eq!(kinds.len(), 2, "both kinds confirmed: {outs:?}");
    let all = a.ok(
        "withdraw",
        json!({"destination": burn(), "satoshi": "all", "feerate": "1000perkw"}),
    );
    let tx = tx_of(&all);
    let witness_items: std::collections::BTreeSet<usize> =
        tx.input.iter().map(|i| i.witness.len()).collect();
    assert_eq!(
        witness_items,
        [1usize, 2].into_iter().collect(),
        "p2tr (1 item) and p2wpkh (2)"
    );
    assert_eq!(tx.output.len(), 1);
    let fee = spendable - tx.output[0].value.to_sat();
    let weight = tx.weight().to_wu();
    assert!(
        fee >= weight && fee <= weight + 4 * tx.input.len() as u64,
        "fee {fee} weight {weight}"
    );
    mine(&a, 1);
    // Left: the immature coinbases, block 3's that matured with block 103,
    // and the sendpsbt change (unconfirmed, so minconf 1 skipped it).
    let outs = outputs(&a);
    for o in outs.iter().filter(|o| o["status"] != "immature") {
        assert_eq!(o["status"], "confirmed");
        assert!(o["txid"] == sent["txid"] || o["blockheight"] == 3, "{o}");
    }
    assert_eq!(count_status(&outs, "confirmed"), 2);
    assert!(find(&outs, w["txid"].as_str().expect("txid"), 0).is_none());
}

/// Concurrent `fundpsbt` and `withdraw` calls each get their own coins: the
/// inputs are chosen and reserved under one wallet lock, so no call picks a
/// coin another has just taken (which would fail its reservation, or its
/// broadcast as a double spend).
#[test]
fn concurrent_funding_calls_never_share_inputs() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let a = Node::start(&tmp.path().join("a"));
    mine(&a, 106); // six mature coinbases
    let startweight: u64 = 42 + 43 * 4;
    let dest = a.ok("newaddr", json!({}))["p2tr"]
        .as_str()
        .expect("p2tr")
        .to_string();

    let (funded, withdrawn): (Vec<Value>, Vec<Value>) = std::thread::scope(|s| {
        let f: Vec<_> = (0..3)
            .map(|_| {
                s.spawn(|| {
                    a.call(
                        "fundpsbt",
                        json!({"satoshi": 100_000, "feerate": "1000perkw", "startweight": startweight}),
                    )
                })
            })
            .collect();
        let w: Vec<_> = (0..3)
            .map(|_| {
                let dest = dest.clone();
                let a = &a;
                s.spawn(move || {
                    a.call(
                        "withdraw",
                        json!({"destination": dest, "satoshi": 100_000, "feerate": "1000perkw"}),
                    )
                })
            })
            .collect();
        (
            f.into_iter().map(|h| h.join().expect("thread")).collect(),
            w.into_iter().map(|h| h.join().expect("thread")).collect(),
        )
    });

    let mut seen = std::collections::HashSet::new();
    for r in &funded {
        let res = r["result"]["reservations"]
            .as_array()
            .expect("fundpsbt result");
        assert_eq!(res.len(), 1, "{r}");
        let op = format!("{}:{}", res[0]["txid"], res[0]["vout"]);
        assert!(seen.insert(op.clone()), "{op} funded twice");
    }
    let mut txids = std::collections::HashSet::new();
    for r in &withdrawn {
        let hex = r["result"]["tx"].as_str().expect("withdraw result");
        let tx: Transaction = deserialize_hex(hex).expect("tx");
        assert!(txids.insert(tx.compute_txid()));
        for input in &tx.input {
            let op = format!(
                "\"{}\":{}",
                input.previous_output.txid, input.previous_output.vout
            );
            assert!(seen.insert(op.clone()), "{op} spent twice");
        }
    }
    // All three withdrawals reached the mempool and confirm.
    mine(&a, 1);
    let outs = outputs(&a);
    for txid in &txids {
        assert!(
            outs.iter()
                .any(|o| o["txid"] == txid.to_string() && o["status"] == "confirmed"),
            "{txid} not confirmed"
        );
    }
}
