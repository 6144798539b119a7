//! What every [`ChainSource`] backend must do, as one suite: run against the
//! embedded chain here and against the Bitcoin Core client in `bitcoind.rs`.

use std::time::Duration;

use bitcoin::hashes::Hash;
use bitcoin::secp256k1::{Message, Secp256k1, SecretKey};
use bitcoin::sighash::{EcdsaSighashType, SighashCache};
use bitcoin::{
    Address, Amount, BlockHash, CompressedPublicKey, FeeRate, OutPoint, Sequence, Transaction,
    TxIn, TxOut, Txid, Witness,
};
use lumen_core::chain::{ChainNotification, ChainSource, ChainSourceError};
use tokio::runtime::Runtime;
use tokio::sync::broadcast;

/// A key the test controls and its regtest P2WPKH address.
pub struct Key {
    sk: SecretKey,
    pk: CompressedPublicKey,
    pub address: Address,
}

impl Key {
    pub fn new(byte: u8) -> Key {
        let sk = SecretKey::from_slice(&[byte; 32]).expect("key");
        let pk = CompressedPublicKey(sk.public_key(&Secp256k1::new()));
        let address = Address::p2wpkh(&pk, bitcoin::Network::Regtest);
        Key { sk, pk, address }
    }

    /// Spend `prev` (worth `value`, paid to this key) back to this key, minus `fee`.
    pub fn spend(&self, prev: OutPoint, value: Amount, fee: Amount) -> Transaction {
        let mut tx = Transaction {
            version: bitcoin::transaction::Version::TWO,
            lock_time: bitcoin::absolute::LockTime::ZERO,
            input: vec![TxIn {
                previous_output: prev,
                sequence: Sequence::ENABLE_RBF_NO_LOCKTIME,
                ..Default::default()
            }],
            output: vec![TxOut {
                value: value - fee,
                script_pubkey: self.address.script_pubkey(),
            }],
        };
        let sighash = SighashCache::new(&tx)
            .p2wpkh_signature_hash(
                0,
                &self.address.script_pubkey(),
                value,
                EcdsaSighashType::All,
            )
            .expect("sighash");
        let sig =
            Secp256k1::new().sign_ecdsa(&Message::from_digest(sighash.to_byte_array()), &self.sk);
        tx.input[0].witness = Witness::p2wpkh(
            &bitcoin::ecdsa::Signature {
                signature: sig,
                sighash_type: EcdsaSighashType::All,
            },
            &self.pk.0,
        );
        tx
    }
}

/// Changes the chain behind a source: the test's hand on the miner.
pub trait ChainDriver {
    /// Mine `n` blocks paying `to`; their hashes.
    fn mine(&self, n: u32, to: &Address) -> Vec<BlockHash>;
    /// Disconnect down to and including `hash`.
    fn invalidate(&self, hash: BlockHash);
}

/// The next `n` events, failing after `limit` without one.
pub fn events(
    rt: &Runtime,
    rx: &mut broadcast::Receiver<ChainNotification>,
    n: usize,
    limit: Duration,
) -> Vec<ChainNotification> {
    rt.block_on(async {
        let mut out = Vec::new();
        while out.len() < n {
            match tokio::time::timeout(limit, rx.recv()).await {
                Ok(Ok(e)) => out.push(e),
                other => panic!("after {out:?}: {other:?}"),
            }
        }
        out
    })
}

pub fn connected(height: u32, hash: BlockHash) -> ChainNotification {
    ChainNotification::Connected { height, hash }
}

pub fn disconnected(height: u32, hash: BlockHash) -> ChainNotification {
    ChainNotification::Disconnected { height, hash }
}

/// What the suite built, for backend-specific checks afterwards.
pub struct ContractRun {
    /// A confirmed coinbase spend and its child (both mined, reorged, re-mined).
    pub parent: Transaction,
    pub child: Transaction,
}

/// The contract, on a source whose chain holds only genesis.
pub fn check_contract(
    rt: &Runtime,
    source: &dyn ChainSource,
    driver: &dyn ChainDriver,
) -> ContractRun {
    let key = Key::new(7);
    let wait = Duration::from_secs(30);
    assert_eq!(rt.block_on(source.tip()).expect("tip").0, 0);
    let mut rx = source.subscribe();

    // One Connected per mined block, lowest first; the tip follows.
    let mined = driver.mine(101, &key.address);
    let want: Vec<_> = mined
        .iter()
        .enumerate()
        .map(|(n, h)| connected(n as u32 + 1, *h))
        .collect();
    assert_eq!(events(rt, &mut rx, 101, wait), want);
    assert_eq!(rt.block_on(source.tip()).expect("tip"), (101, mined[100]));

    // Queries.
    assert_eq!(
        rt.block_on(source.block_hash(5)).expect("hash"),
        Some(mined[4])
    );
    assert_eq!(rt.block_on(source.block_hash(5000)).expect("hash"), None);
    let (h, header) = rt
        .block_on(source.header(mined[9]))
        .expect("header")
        .expect("known");
    assert_eq!((h, header.block_hash()), (10, mined[9]));
    assert_eq!(header.prev_blockhash, mined[8]);
    let unknown = BlockHash::from_byte_array([3; 32]);
    assert_eq!(rt.block_on(source.header(unknown)).expect("header"), None);
    assert_eq!(rt.block_on(source.block(unknown)).expect("block"), None);
    let block1 = rt
        .block_on(source.block(mined[0]))
        .expect("block")
        .expect("known");
    assert_eq!(block1.block_hash(), mined[0]);
    assert!(block1.check_merkle_root());
    let cb = OutPoint::new(block1.txdata[0].compute_txid(), 0);
    let coin = rt
        .block_on(source.utxo(cb))
        .expect("utxo")
        .expect("unspent");
    assert_eq!(coin.value, Amount::from_int_btc(50));
    assert_eq!(coin.script_pubkey, key.address.script_pubkey());
    assert_eq!(
        rt.block_on(source.utxo(OutPoint::new(cb.txid, 5)))
            .expect("utxo"),
        None
    );
    assert!(rt.block_on(source.fee_rate(6)).expect("fee") >= FeeRate::BROADCAST_MIN);

    // Broadcast a coinbase spend and its child; the mempool lists parents first.
    let parent = key.spend(cb, Amount::from_int_btc(50), Amount::from_sat(1_000));
    let child = key.spend(
        OutPoint::new(parent.compute_txid(), 0),
        parent.output[0].value,
        Amount::from_sat(1_000),
    );
    assert_eq!(
        rt.block_on(source.broadcast(parent.clone()))
            .expect("broadcast"),
        parent.compute_txid()
    );
    rt.block_on(source.broadcast(child.clone()))
        .expect("broadcast child");
    assert_eq!(
        rt.block_on(source.mempool()).expect("mempool"),
        vec![parent.clone(), child.clone()]
    );
    assert_eq!(
        rt.block_on(source.utxo(cb)).expect("utxo"),
        Some(coin),
        "utxo() is the confirmed set: a mempool spend does not hide it"
    );

    // Rejections carry Bitcoin Core's reasons.
    let conflict = key.spend(cb, Amount::from_int_btc(50), Amount::from_sat(5_000));
    match rt.block_on(source.broadcast(conflict)) {
        Err(ChainSourceError::Rejected { reason, .. }) => {
            assert_eq!(reason, "txn-mempool-conflict")
        }
        other => panic!("{other:?}"),
    }
    let orphan = key.spend(
        OutPoint::new(Txid::from_byte_array([8; 32]), 0),
        Amount::from_int_btc(1),
        Amount::from_sat(1_000),
    );
    match rt.block_on(source.broadcast(orphan)) {
        Err(ChainSourceError::Rejected { reason, .. }) => {
            assert_eq!(reason, "bad-txns-inputs-missingorspent")
        }
        other => panic!("{other:?}"),
    }

    // Confirm them.
    let confirmed = driver.mine(2, &key.address);
    assert_eq!(
        events(rt, &mut rx, 2, wait),
        vec![connected(102, confirmed[0]), connected(103, confirmed[1])]
    );
    assert_eq!(rt.block_on(source.utxo(cb)).expect("utxo"), None, "spent");
    assert!(rt.block_on(source.mempool()).expect("mempool").is_empty());

    // Reorg: invalidate both blocks (their transactions return to the
    // mempool), mine three on the old tip.
    driver.invalidate(confirmed[0]);
    assert_eq!(
        rt.block_on(source.mempool()).expect("mempool"),
        vec![parent.clone(), child.clone()],
        "a disconnected block's transactions are back in the mempool"
    );
    let new = driver.mine(3, &key.address);
    assert_ne!(new[0], confirmed[0]);
    assert_eq!(
        events(rt, &mut rx, 5, wait),
        vec![
            disconnected(103, confirmed[1]),
            disconnected(102, confirmed[0]),
            connected(102, new[0]),
            connected(103, new[1]),
            connected(104, new[2]),
        ],
        "a reorg is Disconnected tip first, then Connected lowest first"
    );
    assert_eq!(rt.block_on(source.tip()).expect("tip"), (104, new[2]));
    assert_eq!(
        rt.block_on(source.header(confirmed[0])).expect("header"),
        None,
        "stale blocks are not on the best chain"
    );
    assert_eq!(
        rt.block_on(source.block_hash(102)).expect("hash"),
        Some(new[0])
    );

    // A shorter chain: invalidate without mining; the tip goes down.
    driver.invalidate(new[2]);
    assert_eq!(
        events(rt, &mut rx, 1, wait),
        vec![disconnected(104, new[2])]
    );
    assert_eq!(rt.block_on(source.tip()).expect("tip"), (103, new[1]));
    ContractRun { parent, child }
}

/// The embedded chain, driven in process.
struct Embedded<'a>(&'a lumen_core::chain::embedded::source::EmbeddedChain);

impl ChainDriver for Embedded<'_> {
    fn mine(&self, n: u32, to: &Address) -> Vec<BlockHash> {
        self.0.mine(n, &to.script_pubkey()).expect("mine")
    }

    fn invalidate(&self, hash: BlockHash) {
        self.0.invalidate(&hash).expect("invalidate");
    }
}

#[test]
fn embedded_chain_meets_the_contract() {
    let rt = Runtime::new().expect("runtime");
    let chain = lumen_core::chain::embedded::source::EmbeddedChain::in_memory(1_700_000_000);
    check_contract(&rt, &chain, &Embedded(&chain));
}
