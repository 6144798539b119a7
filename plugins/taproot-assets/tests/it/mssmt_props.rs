//! Property tests for the MS-SMT and its proof decoding.

use std::collections::BTreeMap;

use lumen_plugin_taproot_assets::mssmt::{
    CompactedTree, CompressedProof, Leaf, MemoryCompactStore, MemoryStore, MsSmt, Node, NodeHash,
    Proof, empty_tree,
};
use proptest::prelude::*;

/// Recomputes the root of a model map from scratch (slow, obviously right):
/// recursive split on key bits.
fn model_root(entries: &[([u8; 32], Leaf)], depth: usize) -> Node {
    if entries.is_empty() {
        return empty_tree()[depth];
    }
    if depth == 256 {
        return entries[0].1.node();
    }
    let bit = |k: &[u8; 32]| (k[depth / 8] >> (depth % 8)) & 1;
    let (left, right): (Vec<_>, Vec<_>) = entries.iter().cloned().partition(|(k, _)| bit(k) == 0);
    Node::branch(
        &model_root(&left, depth + 1),
        &model_root(&right, depth + 1),
    )
    .unwrap()
}

#[derive(Debug, Clone)]
enum Op {
    Insert(u8, Vec<u8>, u32),
    Delete(u8),
}

/// Keys from a small set so that deletes and replacements hit; nearby
/// keys share long prefixes.
fn key_of(i: u8) -> [u8; 32] {
    let mut k = [0u8; 32];
    k[0] = i & 0x0f;
    k[31] = i >> 4;
    k
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        3 => (any::<u8>(), proptest::collection::vec(any::<u8>(), 0..8), any::<u32>())
            .prop_map(|(k, v, s)| Op::Insert(k, v, s)),
        1 => any::<u8>().prop_map(Op::Delete),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]

    #[test]
    fn tree_matches_model(ops in proptest::collection::vec(op(), 1..40)) {
        let mut tree = MsSmt::new(MemoryStore::new());
        let mut compact = CompactedTree::new(MemoryCompactStore::new());
        let mut model: BTreeMap<[u8; 32], Leaf> = BTreeMap::new();
        for op in &ops {
            match op {
                Op::Insert(k, v, s) => {
                    let leaf = Leaf::new(v.clone(), u64::from(*s));
                    tree.insert(key_of(*k), leaf.clone()).unwrap();
                    compact.insert(key_of(*k), leaf.clone()).unwrap();
                    if leaf.is_empty() { model.remove(&key_of(*k)); } else { model.insert(key_of(*k), leaf); }
                }
                Op::Delete(k) => {
                    tree.delete(key_of(*k)).unwrap();
                    compact.delete(key_of(*k)).unwrap();
                    model.remove(&key_of(*k));
                }
            }
        }
        let entries: Vec<_> = model.iter().map(|(k, l)| (*k, l.clone())).collect();
        let root = tree.root().unwrap();
        prop_assert_eq!(root, model_root(&entries, 0));
        prop_assert_eq!(compact.root().unwrap(), root);
        prop_assert_eq!(tree.store().leaf_count(), model.len());
        if model.is_empty() {
            prop_assert_eq!(tree.store().branch_count(), 0);
            prop_assert_eq!(compact.store().branch_count(), 0);
        }
        // Compaction never stores more branches than the full tree.
        prop_assert!(compact.store().branch_count() <= tree.store().branch_count());
        for i in 0..=255u8 {
            let key = key_of(i);
            let leaf = model.get(&key).cloned().unwrap_or_default();
            prop_assert_eq!(tree.get(&key).unwrap(), leaf.clone());
            prop_assert_eq!(compact.get(&key).unwrap(), leaf.clone());
            let proof = tree.merkle_proof(&key).unwrap();
            prop_assert_eq!(&compact.merkle_proof(&key).unwrap(), &proof);
            prop_assert!(proof.verify_inclusion(&root, &key, &leaf));
            // Compressed round trip.
            let bytes = proof.compress().encode();
            prop_assert_eq!(&Proof::from_compressed_bytes(&bytes).unwrap(), &proof);
            if !leaf.is_empty() {
                // A present key has no exclusion proof, and other values fail.
                prop_assert!(!proof.verify_exclusion(&root, &key));
                let other = Leaf::new(leaf.value.clone(), leaf.sum ^ 1);
                prop_assert!(!proof.verify_inclusion(&root, &key, &other));
            }
        }
    }

    #[test]
    fn tampered_proofs_fail(
        n in 1usize..12,
        pick in any::<prop::sample::Index>(),
        level in 0usize..256,
        flip in 0usize..40,
    ) {
        let mut tree = MsSmt::new(MemoryStore::new());
        for i in 0..n {
            tree.insert(key_of(i as u8 * 17), Leaf::new(vec![i as u8], 100 + i as u64)).unwrap();
        }
        let root = tree.root().unwrap();
        let key = key_of(pick.index(n) as u8 * 17);
        let leaf = tree.get(&key).unwrap();
        let mut proof = tree.merkle_proof(&key).unwrap();
        prop_assert!(proof.verify_inclusion(&root, &key, &leaf));
        let node = &mut proof.nodes[level];
        if flip < 32 {
            node.hash.0[flip] ^= 0x01;
        } else {
            node.sum = node.sum.wrapping_add(1 + flip as u64);
        }
        prop_assert!(!proof.verify_inclusion(&root, &key, &leaf));
        // Wrong key (another bit) does not verify either, unless the
        // sibling is symmetric — impossible with distinct non-empty leaves
        // only when the flipped bit lies on the path, so just check the
        // original proof against a different leaf value.
        let good = tree.merkle_proof(&key).unwrap();
        prop_assert!(!good.verify_inclusion(&root, &key, &Leaf::new(vec![0xee], leaf.sum)));
    }

    #[test]
    fn compressed_proof_decode_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..400)) {
        if let Ok(cp) = CompressedProof::decode(&bytes) {
            prop_assert_eq!(cp.encode(), bytes.clone());
            let _ = cp.decompress();
        }
        let _ = Proof::from_compressed_bytes(&bytes);
    }
}

#[test]
fn overflowing_proof_is_rejected() {
    let key = [0u8; 32];
    let mut nodes = empty_tree()[1..].iter().rev().copied().collect::<Vec<_>>();
    nodes[0] = Node {
        hash: NodeHash([7; 32]),
        sum: u64::MAX,
    };
    let proof = Proof { nodes };
    let leaf = Leaf::new(vec![1], 1);
    assert!(proof.root(&key, &leaf).is_err());
    let fake_root = Node {
        hash: NodeHash([0; 32]),
        sum: 0,
    };
    assert!(!proof.verify_inclusion(&fake_root, &key, &leaf));
}

#[test]
fn wrong_length_proof_is_rejected() {
    let proof = Proof {
        nodes: vec![empty_tree()[256]; 255],
    };
    assert!(proof.root(&[0; 32], &Leaf::empty()).is_err());
}

/// Compacted tree throughput; `LUMEN_MSSMT_BENCH_LEAVES` overrides the
/// 10,000 leaves (e.g. 1000000 in release).
#[test]
fn mssmt_compacted_throughput_10k() {
    use std::time::Instant;
    let n: u32 = std::env::var("LUMEN_MSSMT_BENCH_LEAVES")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(10_000);
    let profile = if cfg!(debug_assertions) {
        "debug"
    } else {
        "release"
    };
    let key = |i: u32| -> [u8; 32] {
        use sha2::{Digest, Sha256};
        Sha256::digest(i.to_be_bytes()).into()
    };
    let leaf = |i: u32| Leaf::new(i.to_be_bytes().to_vec(), u64::from(i) + 1);
    let mut tree = CompactedTree::new(MemoryCompactStore::new());
    let t = Instant::now();
    for i in 0..n {
        tree.insert(key(i), leaf(i)).unwrap();
    }
    let insert = t.elapsed();
    let root = tree.root().unwrap();
    let samples = n.min(2_000);
    let t = Instant::now();
    let proofs: Vec<_> = (0..samples)
        .map(|i| tree.merkle_proof(&key(i)).unwrap())
        .collect();
    let gen_t = t.elapsed();
    let t = Instant::now();
    for (i, p) in proofs.iter().enumerate() {
        assert!(p.verify_inclusion(&root, &key(i as u32), &leaf(i as u32)));
    }
    let ver_t = t.elapsed();
    println!(
        "MSSMT-compacted [{profile}] {n} leaves: insert {:.0}/s ({:?} total); proof gen {:.0}/s, verify {:.0}/s ({samples} samples); {} stored branches",
        f64::from(n) / insert.as_secs_f64(),
        insert,
        f64::from(samples) / gen_t.as_secs_f64(),
        f64::from(samples) / ver_t.as_secs_f64(),
        tree.store().branch_count()
    );
}

/// Throughput at 10,000 leaves. Prints numbers; the build profile is part
/// of the label (debug numbers are much lower than release).
#[test]
fn mssmt_throughput_10k() {
    use std::time::Instant;
    let n: u32 = std::env::var("LUMEN_MSSMT_BENCH_LEAVES")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(10_000);
    let profile = if cfg!(debug_assertions) {
        "debug"
    } else {
        "release"
    };
    let key = |i: u32| -> [u8; 32] {
        use sha2::{Digest, Sha256};
        Sha256::digest(i.to_be_bytes()).into()
    };
    let mut tree = MsSmt::new(MemoryStore::new());
    let t = Instant::now();
    for i in 0..n {
        tree.insert(
            key(i),
            Leaf::new(i.to_be_bytes().to_vec(), u64::from(i) + 1),
        )
        .unwrap();
    }
    let insert = t.elapsed();
    let root = tree.root().unwrap();
    let samples = n.min(2_000);
    let t = Instant::now();
    let proofs: Vec<_> = (0..samples)
        .map(|i| tree.merkle_proof(&key(i)).unwrap())
        .collect();
    let gen_t = t.elapsed();
    let t = Instant::now();
    for (i, p) in proofs.iter().enumerate() {
        let i = i as u32;
        assert!(p.verify_inclusion(
            &root,
            &key(i),
            &Leaf::new(i.to_be_bytes().to_vec(), u64::from(i) + 1)
        ));
    }
    let ver_t = t.elapsed();
    println!(
        "MSSMT [{profile}] {n} leaves: insert {:.0}/s ({:?} total); proof gen {:.0}/s, verify {:.0}/s ({samples} samples); {} stored branches",
        f64::from(n) / insert.as_secs_f64(),
        insert,
        f64::from(samples) / gen_t.as_secs_f64(),
        f64::from(samples) / ver_t.as_secs_f64(),
        tree.store().branch_count()
    );
}

/// Found by the `tap_asset_decode` and `tap_proof_decode` fuzz targets: a
/// sibling carrying the empty subtree's hash with a nonzero sum was
/// compressed as empty on encode, so its sum came back as 0. Such a node
/// stays explicit now and survives encode → decode.
#[test]
fn empty_hash_with_a_sum_is_not_compressed_away() {
    let mut nodes: Vec<Node> = (0..256).map(|i| empty_tree()[256 - i]).collect();
    let last = nodes.len() - 1;
    nodes[last].sum = 10;
    let proof = Proof { nodes };
    let compressed = proof.compress();
    assert_eq!(compressed.nodes.len(), 1);
    let back = CompressedProof::decode(&compressed.encode())
        .expect("decodes")
        .decompress()
        .expect("decompresses");
    assert_eq!(back, proof);
    // A truly empty sibling is still compressed to a bit.
    nodes = (0..256).map(|i| empty_tree()[256 - i]).collect();
    assert!(Proof { nodes }.compress().nodes.is_empty());
}
