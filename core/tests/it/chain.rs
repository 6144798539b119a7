//! The embedded regtest chain, with real signed transactions: every
//! rejection reason Lightning cares about, and reorgs.

use bitcoin::absolute::LockTime;
use bitcoin::hashes::Hash;
use bitcoin::key::{Keypair, TapTweak};
use bitcoin::opcodes::all::{OP_CHECKSIG, OP_CSV, OP_DROP};
use bitcoin::script::Builder;
use bitcoin::secp256k1::{Message, Secp256k1, SecretKey};
use bitcoin::sighash::{EcdsaSighashType, Prevouts, SighashCache, TapSighashType};
use bitcoin::transaction::Version;
use bitcoin::{
    Amount, CompressedPublicKey, OutPoint, ScriptBuf, Sequence, Transaction, TxIn, TxOut, Witness,
    XOnlyPublicKey,
};
use lumen_core::chain::embedded::validate::TxReject;
use lumen_core::chain::embedded::{Chain, ChainEvent, block_subsidy};

const T0: u32 = 1_700_000_000;

/// A key the test controls (shared with `rejections`).
pub(crate) struct Key {
    pub(crate) secret: SecretKey,
    pub(crate) pubkey: CompressedPublicKey,
}

pub(crate) fn key(byte: u8) -> Key {
    let secp = Secp256k1::new();
    let secret = SecretKey::from_slice(&[byte; 32]).expect("key");
    let pubkey = CompressedPublicKey(secret.public_key(&secp));
    Key { secret, pubkey }
}

impl Key {
    pub(crate) fn p2wpkh(&self) -> ScriptBuf {
        ScriptBuf::new_p2wpkh(&self.pubkey.wpubkey_hash())
    }

    pub(crate) fn address(&self) -> bitcoin::Address {
        bitcoin::Address::p2wpkh(&self.pubkey, bitcoin::Network::Regtest)
    }
}

/// A transaction spending `prev` (value `value`) to `outputs`, unsigned.
pub(crate) fn spend(prev: OutPoint, outputs: Vec<TxOut>) -> Transaction {
    Transaction {
        version: Version::TWO,
        lock_time: LockTime::ZERO,
        input: vec![TxIn {
            previous_output: prev,
            sequence: Sequence::ENABLE_RBF_NO_LOCKTIME,
            ..Default::default()
        }],
        output: outputs,
    }
}

/// `k`'s SIGHASH_ALL signature over `sighash`.
pub(crate) fn ecdsa(sighash: [u8; 32], k: &Key) -> bitcoin::ecdsa::Signature {
    let sig = Secp256k1::new().sign_ecdsa(&Message::from_digest(sighash), &k.secret);
    bitcoin::ecdsa::Signature {
        signature: sig,
        sighash_type: EcdsaSighashType::All,
    }
}

fn sign_p2wpkh(tx: &mut Transaction, input: usize, k: &Key, value: Amount) {
    let sighash = SighashCache::new(&*tx)
        .p2wpkh_signature_hash(input, &k.p2wpkh(), value, EcdsaSighashType::All)
        .expect("sighash");
    tx.input[input].witness = Witness::p2wpkh(&ecdsa(sighash.to_byte_array(), k), &k.pubkey.0);
}

pub(crate) fn out(value: u64, script: ScriptBuf) -> TxOut {
    TxOut {
        value: Amount::from_sat(value),
        script_pubkey: script,
    }
}

/// A chain with 101 blocks mined to `miner`: exactly one mature coinbase.
fn funded_chain(miner: &Key) -> Chain {
    let mut chain = Chain::new(T0);
    let events = chain.mine(101, &miner.p2wpkh());
    assert_eq!(events.len(), 101);
    assert_eq!(chain.tip_height(), 101);
    chain
}

fn coinbase_outpoint(chain: &Chain, height: u32) -> OutPoint {
    let block = chain.block_at(height).expect("block");
    OutPoint::new(block.txdata[0].compute_txid(), 0)
}

#[test]
fn blocks_are_valid_and_coinbases_mature() {
    let miner = key(1);
    let chain = funded_chain(&miner);
    for h in 1..=chain.tip_height() {
        let b = chain.block_at(h).expect("block");
        assert!(b.check_merkle_root(), "merkle root at {h}");
        assert!(
            b.header.validate_pow(b.header.target()).is_ok(),
            "pow at {h}"
        );
        // BIP34 as Bitcoin Core writes it: OP_1..OP_16 for small heights.
        if h <= 16 {
            assert_eq!(
                b.txdata[0].input[0].script_sig.as_bytes()[0],
                0x50 + h as u8,
                "bip34 at {h}"
            );
        } else {
            assert_eq!(b.bip34_block_height().expect("bip34"), u64::from(h));
        }
        assert_eq!(
            b.header.prev_blockhash,
            chain.block_at(h - 1).expect("prev").block_hash()
        );
        assert!(
            b.header.time > chain.median_time_past(h - 1),
            "time above MTP at {h}"
        );
    }
    assert_eq!(chain.utxos().len(), 101);
    // Consensus (spend height - coin height >= 100): in block 102, block 2's
    // coinbase is spendable and block 3's is not. (Wallets count one more:
    // after 101 blocks they show one mature coinbase.)
    let mut tx = spend(
        coinbase_outpoint(&chain, 3),
        vec![out(49_000_000, key(2).p2wpkh())],
    );
    sign_p2wpkh(&mut tx, 0, &miner, block_subsidy(3));
    assert!(
        matches!(
            chain.test_accept(&tx),
            Err(TxReject::ImmatureCoinbase {
                confirmations: 99,
                ..
            })
        ),
        "{:?}",
        chain.test_accept(&tx)
    );
    let mut tx = spend(
        coinbase_outpoint(&chain, 2),
        vec![out(49_000_000, key(2).p2wpkh())],
    );
    sign_p2wpkh(&mut tx, 0, &miner, block_subsidy(2));
    chain.test_accept(&tx).expect("mature coinbase spend");
}

#[test]
fn spend_confirm_fee_and_rejections() {
    let miner = key(1);
    let alice = key(2);
    let mut chain = funded_chain(&miner);
    let cb = coinbase_outpoint(&chain, 1);
    let value = block_subsidy(1);

    // Bad signature: signed by the wrong key.
    let mut bad = spend(cb, vec![out(value.to_sat() - 1_000, alice.p2wpkh())]);
    sign_p2wpkh(&mut bad, 0, &alice, value);
    assert!(matches!(
        chain.test_accept(&bad),
        Err(TxReject::Script { input: 0, .. })
    ));

    // Fee below the minimum relay fee (0 fee).
    let mut free = spend(cb, vec![out(value.to_sat(), alice.p2wpkh())]);
    sign_p2wpkh(&mut free, 0, &miner, value);
    assert!(matches!(
        chain.test_accept(&free),
        Err(TxReject::FeeTooLow { .. })
    ));

    // Dust output.
    let mut dusty = spend(
        cb,
        vec![
            out(value.to_sat() - 10_000, alice.p2wpkh()),
            out(100, alice.p2wpkh()),
        ],
    );
    sign_p2wpkh(&mut dusty, 0, &miner, value);
    assert!(matches!(
        chain.test_accept(&dusty),
        Err(TxReject::Dust { output: 1, .. })
    ));

    // Outputs above inputs.
    let mut greedy = spend(cb, vec![out(value.to_sat() + 1, alice.p2wpkh())]);
    sign_p2wpkh(&mut greedy, 0, &miner, value);
    assert!(matches!(
        chain.test_accept(&greedy),
        Err(TxReject::InputsBelowOutputs { .. })
    ));

    // A good spend: accepted, mined, fee to the miner, coins updated.
    let fee = 1_410u64;
    let mut good = spend(cb, vec![out(value.to_sat() - fee, alice.p2wpkh())]);
    sign_p2wpkh(&mut good, 0, &miner, value);
    let txid = chain.submit(good.clone()).expect("accepted");
    assert_eq!(chain.mempool().len(), 1);

    // Double spend against the mempool, then against the chain.
    let mut double = spend(cb, vec![out(value.to_sat() - 5_000, miner.p2wpkh())]);
    sign_p2wpkh(&mut double, 0, &miner, value);
    assert!(matches!(
        chain.test_accept(&double),
        Err(TxReject::MempoolConflict { .. })
    ));
    let events = chain.mine(1, &miner.p2wpkh());
    let ChainEvent::Connected { block, .. } = &events[0] else {
        panic!("connected")
    };
    assert_eq!(block.txdata.len(), 2);
    assert_eq!(
        block.txdata[0].output[0].value,
        block_subsidy(102) + Amount::from_sat(fee)
    );
    assert!(
        block.check_witness_commitment(),
        "segwit block needs a witness commitment"
    );
    assert!(chain.mempool().is_empty());
    assert!(matches!(
        chain.test_accept(&double),
        Err(TxReject::MissingOrSpent(_))
    ));
    assert!(chain.utxo(&cb).is_none());
    assert_eq!(
        chain
            .utxo(&OutPoint::new(txid, 0))
            .expect("new coin")
            .output
            .value
            .to_sat(),
        value.to_sat() - fee
    );
    assert!(matches!(
        chain.test_accept(&good),
        Err(TxReject::AlreadyKnown(_))
    ));
    // Reject reasons map to Bitcoin Core's strings.
    assert_eq!(
        chain.test_accept(&double).expect_err("spent").core_reason(),
        "bad-txns-inputs-missingorspent"
    );
}

#[test]
fn absolute_and_relative_timelocks() {
    let miner = key(1);
    let alice = key(2);
    let mut chain = funded_chain(&miner);
    let cb = coinbase_outpoint(&chain, 1);
    let value = block_subsidy(1);

    // nLockTime by height H: first allowed in block H + 1.
    let mut locked = spend(cb, vec![out(value.to_sat() - 2_000, alice.p2wpkh())]);
    locked.lock_time = LockTime::from_height(chain.tip_height() + 5).expect("height");
    sign_p2wpkh(&mut locked, 0, &miner, value);
    assert!(matches!(
        chain.test_accept(&locked),
        Err(TxReject::NonFinal(_))
    ));
    chain.mine(4, &miner.p2wpkh());
    assert!(
        matches!(chain.test_accept(&locked), Err(TxReject::NonFinal(_))),
        "next block is H: still one short"
    );
    chain.mine(1, &miner.p2wpkh());
    let parent = chain.submit(locked).expect("final now");
    chain.mine(1, &miner.p2wpkh());

    // nLockTime by time (BIP113: against median time past, not the clock).
    let coin = OutPoint::new(parent, 0);
    let coin_value = value - Amount::from_sat(2_000);
    let csv_key = key(3);
    let witness_script = Builder::new()
        .push_int(10)
        .push_opcode(OP_CSV)
        .push_opcode(OP_DROP)
        .push_slice(csv_key.pubkey.to_bytes())
        .push_opcode(OP_CHECKSIG)
        .into_script();
    let mut timed = spend(
        coin,
        vec![out(
            coin_value.to_sat() - 2_000,
            ScriptBuf::new_p2wsh(&witness_script.wscript_hash()),
        )],
    );
    let mtp = chain.median_time_past(chain.tip_height());
    timed.lock_time = LockTime::from_time(mtp + 3_600).expect("time");
    sign_p2wpkh(&mut timed, 0, &alice, coin_value);
    assert!(matches!(
        chain.test_accept(&timed),
        Err(TxReject::NonFinal(_))
    ));
    chain.set_time(mtp + 10_000);
    chain.mine(11, &miner.p2wpkh()); // move the median past the lock
    let csv_parent = chain.submit(timed).expect("time lock passed");
    chain.mine(1, &miner.p2wpkh());

    // CSV: the output needs 10 confirmations; it has 1.
    let csv_coin = OutPoint::new(csv_parent, 0);
    let csv_value = coin_value - Amount::from_sat(2_000);
    let make_csv_spend = |seq: u32| {
        let mut tx = spend(
            csv_coin,
            vec![out(csv_value.to_sat() - 2_000, alice.p2wpkh())],
        );
        tx.input[0].sequence = Sequence::from_consensus(seq);
        let secp = Secp256k1::new();
        let sighash = SighashCache::new(&tx)
            .p2wsh_signature_hash(0, &witness_script, csv_value, EcdsaSighashType::All)
            .expect("sighash");
        let sig = secp.sign_ecdsa(
            &Message::from_digest(sighash.to_byte_array()),
            &csv_key.secret,
        );
        let sig = bitcoin::ecdsa::Signature {
            signature: sig,
            sighash_type: EcdsaSighashType::All,
        };
        tx.input[0].witness = Witness::from_slice(&[sig.to_vec(), witness_script.to_bytes()]);
        tx
    };
    let early = make_csv_spend(10);
    assert!(matches!(
        chain.test_accept(&early),
        Err(TxReject::SequenceLock { input: 0 })
    ));
    // A smaller sequence passes BIP68 but fails OP_CSV in the script.
    let cheat = make_csv_spend(1);
    assert!(matches!(
        chain.test_accept(&cheat),
        Err(TxReject::Script { input: 0, .. })
    ));
    chain.mine(8, &miner.p2wpkh());
    assert!(
        matches!(
            chain.test_accept(&early),
            Err(TxReject::SequenceLock { .. })
        ),
        "9 confirmations: one short"
    );
    chain.mine(1, &miner.p2wpkh());
    chain.submit(early).expect("10 confirmations");
}

#[test]
fn taproot_key_spend_and_tampered_signature() {
    let miner = key(1);
    let mut chain = funded_chain(&miner);
    let secp = Secp256k1::new();
    let keypair = Keypair::from_seckey_slice(&secp, &[7u8; 32]).expect("keypair");
    let (xonly, _) = XOnlyPublicKey::from_keypair(&keypair);
    let p2tr = ScriptBuf::new_p2tr(&secp, xonly, None);

    // Fund a taproot output.
    let cb = coinbase_outpoint(&chain, 1);
    let value = block_subsidy(1);
    let mut fund = spend(cb, vec![out(value.to_sat() - 2_000, p2tr.clone())]);
    sign_p2wpkh(&mut fund, 0, &miner, value);
    let fund_txid = chain.submit(fund.clone()).expect("fund");
    chain.mine(1, &miner.p2wpkh());

    let prevout = fund.output[0].clone();
    let mut tx = spend(
        OutPoint::new(fund_txid, 0),
        vec![out(prevout.value.to_sat() - 2_000, miner.p2wpkh())],
    );
    let sighash = SighashCache::new(&tx)
        .taproot_key_spend_signature_hash(0, &Prevouts::All(&[prevout]), TapSighashType::Default)
        .expect("sighash");
    let tweaked = keypair.tap_tweak(&secp, None);
    let sig = secp.sign_schnorr(
        &Message::from_digest(sighash.to_byte_array()),
        &tweaked.to_keypair(),
    );
    let mut tampered = tx.clone();
    let mut bytes = sig.as_ref().to_vec();
    bytes[10] ^= 1;
    tampered.input[0].witness = Witness::from_slice(&[bytes]);
    assert!(
        matches!(
            chain.test_accept(&tampered),
            Err(TxReject::Script { input: 0, .. })
        ),
        "tampered taproot signature must fail"
    );
    tx.input[0].witness = Witness::from_slice(&[sig.as_ref().to_vec()]);
    chain.submit(tx).expect("valid key-path spend");
}

#[test]
fn reorg_returns_transactions_and_restores_coins() {
    let miner = key(1);
    let alice = key(2);
    let mut chain = funded_chain(&miner);
    let cb = coinbase_outpoint(&chain, 1);
    let value = block_subsidy(1);
    let mut tx = spend(cb, vec![out(value.to_sat() - 2_000, alice.p2wpkh())]);
    sign_p2wpkh(&mut tx, 0, &miner, value);
    let txid = chain.submit(tx.clone()).expect("submit");
    chain.mine(1, &miner.p2wpkh());
    let mined_in = chain.tip_hash();
    chain.mine(1, &miner.p2wpkh());
    assert_eq!(chain.tip_height(), 103);

    // Two-block reorg: the transaction goes back to the mempool, the coin it
    // spent is unspent again, the coin it made is gone.
    let events = chain.invalidate(&mined_in).expect("invalidate");
    assert_eq!(events.len(), 2);
    assert!(
        events
            .iter()
            .all(|e| matches!(e, ChainEvent::Disconnected { .. }))
    );
    assert_eq!(chain.tip_height(), 101);
    assert!(chain.mempool().contains(&txid));
    assert!(chain.utxo(&cb).is_some());
    assert!(chain.utxo(&OutPoint::new(txid, 0)).is_none());
    assert_eq!(
        chain.transaction(&txid).expect("known").1,
        None,
        "unconfirmed after the reorg"
    );

    // A competing branch without it, then with it.
    chain
        .mine_with(&miner.p2wpkh(), Vec::new())
        .expect("empty block");
    chain
        .mine_with(&miner.p2wpkh(), Vec::new())
        .expect("empty block");
    assert!(chain.mempool().contains(&txid), "still waiting");
    chain.mine(1, &miner.p2wpkh());
    assert_eq!(chain.tip_height(), 104);
    assert_eq!(
        chain.transaction(&txid).expect("known").1,
        Some(chain.tip_hash())
    );
    assert!(chain.utxo(&cb).is_none());
    assert_ne!(chain.tip_hash(), mined_in);

    // A block with an invalid transaction is refused whole.
    let mut bad = spend(cb, vec![out(1_000, alice.p2wpkh())]);
    sign_p2wpkh(&mut bad, 0, &alice, value);
    assert!(chain.mine_with(&miner.p2wpkh(), vec![bad]).is_err());
    assert_eq!(chain.tip_height(), 104);
}

/// Blocks per second mined and validated with 0, 100 and 1000 signed
/// transactions each. Prints the numbers; fails only if something is absurd.
#[test]
fn throughput_blocks_per_second() {
    use std::time::Instant;
    let miner = key(1);
    let mut chain = funded_chain(&miner);
    // Fan one coinbase out to 2000 coins for the miner to spend.
    let cb = coinbase_outpoint(&chain, 1);
    let value = block_subsidy(1);
    let per = (value.to_sat() - 200_000) / 2000;
    let mut fan = spend(cb, (0..2000).map(|_| out(per, miner.p2wpkh())).collect());
    sign_p2wpkh(&mut fan, 0, &miner, value);
    let fan_txid = chain.submit(fan).expect("fan out");
    chain.mine(1, &miner.p2wpkh());
    let mut next = 0u32;

    for (txs_per_block, blocks) in [(0usize, 200u32), (100, 5), (1000, 1)] {
        let mut elapsed = std::time::Duration::ZERO;
        for _ in 0..blocks {
            // Build and sign outside the timed part; time submit (validation)
            // plus mining (assembly, PoW, connection).
            let txs: Vec<Transaction> = (0..txs_per_block)
                .map(|_| {
                    let op = OutPoint::new(fan_txid, next);
                    next += 1;
                    let mut tx = spend(op, vec![out(per - 500, key(2).p2wpkh())]);
                    sign_p2wpkh(&mut tx, 0, &miner, Amount::from_sat(per));
                    tx
                })
                .collect();
            let t = Instant::now();
            for tx in txs {
                chain.submit(tx).expect("valid");
            }
            let events = chain.mine(1, &miner.p2wpkh());
            elapsed += t.elapsed();
            let ChainEvent::Connected { block, .. } = &events[0] else {
                panic!("connected")
            };
            assert_eq!(block.txdata.len(), txs_per_block + 1);
        }
        let per_sec = f64::from(blocks) / elapsed.as_secs_f64();
        println!(
            "embedded chain: {txs_per_block:>4} tx/block: {per_sec:>8.1} blocks/s ({:.2} ms/block)",
            1000.0 / per_sec
        );
        assert!(
            per_sec > 0.5,
            "{txs_per_block} tx/block: {per_sec} blocks/s"
        );
    }
}

#[tokio::test]
async fn embedded_chain_persists_notifies_and_survives_a_torn_log() {
    use lumen_core::chain::embedded::source::EmbeddedChain;
    use lumen_core::chain::{ChainNotification, ChainSource};
    use std::io::Write;

    let tmp = tempfile::tempdir().expect("tempdir");
    let path = tmp.path().join("blocks.dat");
    let miner = key(1);
    let (tip5, hash3) = {
        let chain = EmbeddedChain::open(&path, T0).expect("open");
        let mut events = chain.subscribe();
        let hashes = chain.mine(5, &miner.p2wpkh()).expect("mine");
        assert_eq!(hashes.len(), 5);
        for (n, h) in hashes.iter().enumerate() {
            let e = events.recv().await.expect("event");
            assert_eq!(
                e,
                ChainNotification::Connected {
                    height: n as u32 + 1,
                    hash: *h
                }
            );
        }
        assert_eq!(chain.tip().await.expect("tip"), (5, hashes[4]));
        assert_eq!(chain.block_hash(3).await.expect("hash"), Some(hashes[2]));
        let cb = chain
            .block(hashes[0])
            .await
            .expect("block")
            .expect("some")
            .txdata[0]
            .compute_txid();
        assert!(
            chain
                .utxo(OutPoint::new(cb, 0))
                .await
                .expect("utxo")
                .is_some()
        );
        (hashes[4], hashes[2])
    };

    // Reopen: same chain.
    {
        let chain = EmbeddedChain::open(&path, T0).expect("reopen");
        assert_eq!(chain.tip().await.expect("tip"), (5, tip5));
    }

    // A torn append (crash mid-write) is cut off on open.
    std::fs::OpenOptions::new()
        .append(true)
        .open(&path)
        .expect("open")
        .write_all(&[200, 1, 0, 0, 9, 9])
        .expect("write");
    let chain = EmbeddedChain::open(&path, T0).expect("reopen after tear");
    assert_eq!(chain.tip().await.expect("tip"), (5, tip5));

    // A reorg is durable too: invalidate 3..5, mine 1, reopen.
    let mut events = chain.subscribe();
    assert_eq!(chain.invalidate(&hash3).expect("invalidate"), 3);
    for height in [5, 4, 3] {
        assert!(
            matches!(events.recv().await.expect("event"), ChainNotification::Disconnected { height: h, .. } if h == height)
        );
    }
    let new_tip = chain.mine(1, &key(9).p2wpkh()).expect("mine")[0];
    drop(chain);
    let chain = EmbeddedChain::open(&path, T0).expect("reopen after reorg");
    assert_eq!(chain.tip().await.expect("tip"), (3, new_tip));

    // Broadcast goes through validation with Core's reject reasons.
    let bogus = spend(
        OutPoint::new(tip5.to_raw_hash().into(), 0),
        vec![out(10_000, miner.p2wpkh())],
    );
    let err = chain.broadcast(bogus).await.expect_err("missing input");
    assert!(
        err.to_string().contains("bad-txns-inputs-missingorspent"),
        "{err}"
    );
}

#[test]
fn cumulative_chain_work_follows_connects_and_reorgs() {
    let miner = key(1);
    let mut chain = funded_chain(&miner);
    let from_scratch = |c: &Chain, h: u32| {
        (0..=h).fold(bitcoin::Work::from_be_bytes([0; 32]), |w, i| {
            w + c.block_at(i).expect("block").header.work()
        })
    };
    for h in [0, 1, 50, 101] {
        assert_eq!(
            chain.chain_work(h),
            Some(from_scratch(&chain, h)),
            "height {h}"
        );
    }
    let fork = chain.block_at(90).expect("block").block_hash();
    chain.invalidate(&fork).expect("invalidate");
    assert_eq!(
        chain.chain_work(90),
        None,
        "disconnected heights have no work"
    );
    chain.mine(3, &key(2).p2wpkh());
    assert_eq!(chain.chain_work(92), Some(from_scratch(&chain, 92)));
    assert!(chain.chain_work(92) > chain.chain_work(91));
}

#[tokio::test]
async fn chain_source_lists_the_mempool_and_what_a_reorg_returns() {
    use lumen_core::chain::ChainSource;
    use lumen_core::chain::embedded::source::EmbeddedChain;

    let miner = key(1);
    let alice = key(2);
    let chain = EmbeddedChain::in_memory(T0);
    chain.mine(101, &miner.p2wpkh()).expect("mine");
    assert!(chain.mempool().await.expect("mempool").is_empty());

    let block1 = chain
        .block(chain.block_hash(1).await.expect("hash").expect("some"))
        .await
        .expect("block")
        .expect("some");
    let cb = OutPoint::new(block1.txdata[0].compute_txid(), 0);
    let value = block_subsidy(1);
    let mut tx = spend(cb, vec![out(value.to_sat() - 1_000, alice.p2wpkh())]);
    sign_p2wpkh(&mut tx, 0, &miner, value);
    chain.broadcast(tx.clone()).await.expect("broadcast");
    assert_eq!(chain.mempool().await.expect("mempool"), vec![tx.clone()]);

    let mined = chain.mine(1, &miner.p2wpkh()).expect("mine")[0];
    assert!(chain.mempool().await.expect("mempool").is_empty());
    chain.invalidate(&mined).expect("invalidate");
    assert_eq!(
        chain.mempool().await.expect("mempool"),
        vec![tx],
        "a disconnected block's transaction is back in the mempool"
    );
}
