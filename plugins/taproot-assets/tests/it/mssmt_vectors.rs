//! `mssmt/*.json` vectors.

use lumen_plugin_taproot_assets::mssmt::{
    CompactedTree, CompressedProof, Leaf, MemoryCompactStore, MemoryStore, MsSmt, NodeHash, Proof,
    TreeError,
};
use serde_json::Value;

use crate::common::{arr, hex32, load_json};

fn leaf_of(v: &Value) -> ([u8; 32], Leaf) {
    let key = hex32(v["key"].as_str().unwrap());
    let value = hex::decode(v["node"]["value"].as_str().unwrap()).unwrap();
    let sum: u64 = v["node"]["sum"].as_str().unwrap().parse().unwrap();
    (key, Leaf::new(value, sum))
}

fn keys(v: &Value) -> Vec<[u8; 32]> {
    arr(v).iter().map(|k| hex32(k.as_str().unwrap())).collect()
}

/// Inserts the listed keys in `all_tree_leaves` order.
fn insert_listed(
    tree: &mut MsSmt<MemoryStore>,
    all: &[([u8; 32], Leaf)],
    listed: &[[u8; 32]],
) -> Result<(), TreeError> {
    for (key, leaf) in all {
        if listed.contains(key) {
            tree.insert(*key, leaf.clone())?;
        }
    }
    Ok(())
}

fn check_proof_roundtrip(tree: &MsSmt<MemoryStore>, key: &[u8; 32], leaf: &Leaf) {
    let root = tree.root().unwrap();
    let proof = tree.merkle_proof(key).unwrap();
    assert!(proof.verify_inclusion(&root, key, leaf));
    let bytes = proof.compress().encode();
    let back = Proof::from_compressed_bytes(&bytes).unwrap();
    assert_eq!(back, proof);
    assert_eq!(CompressedProof::decode(&bytes).unwrap().encode(), bytes);
}

/// Runs one file; returns (valid, error) case counts.
fn run_file(name: &str) -> Option<(usize, usize)> {
    let v = load_json(&format!("mssmt/{name}"))?;
    let all: Vec<_> = arr(&v["all_tree_leaves"]).iter().map(leaf_of).collect();
    let mut valid = 0;
    for case in arr(&v["valid_test_cases"]) {
        let comment = case["comment"].as_str().unwrap_or("");
        let mut tree = MsSmt::new(MemoryStore::new());
        let inserted = keys(&case["inserted_leaves"]);
        insert_listed(&mut tree, &all, &inserted).unwrap();
        let deleted = keys(&case["deleted_leaves"]);
        for key in &deleted {
            tree.delete(*key).unwrap();
        }
        let replaced: Vec<_> = arr(&case["replaced_leaves"]).iter().map(leaf_of).collect();
        for (key, leaf) in &replaced {
            tree.insert(*key, leaf.clone()).unwrap();
        }
        let root = tree.root().unwrap();
        // The compacted tree, same operations, same root and proofs.
        let mut compact = CompactedTree::new(MemoryCompactStore::new());
        for (key, leaf) in &all {
            if inserted.contains(key) {
                compact.insert(*key, leaf.clone()).unwrap();
            }
        }
        for key in &deleted {
            compact.delete(*key).unwrap();
        }
        for (key, leaf) in &replaced {
            compact.insert(*key, leaf.clone()).unwrap();
        }
        assert_eq!(compact.root().unwrap(), root, "{name}: compacted");
        for key in inserted.iter().chain(&deleted) {
            assert_eq!(
                compact.merkle_proof(key).unwrap(),
                tree.merkle_proof(key).unwrap()
            );
        }
        assert_eq!(
            root.hash,
            NodeHash(hex32(case["root_hash"].as_str().unwrap())),
            "{name}: {comment}"
        );
        let sum: u64 = case["root_sum"].as_str().unwrap().parse().unwrap();
        assert_eq!(root.sum, sum, "{name}: {comment}");
        // The files we have carry no proofs; fail loudly if that changes
        // so the new data gets checked.
        assert!(
            arr(&case["inclusion_proofs"]).is_empty(),
            "{name}: new proof data"
        );
        assert!(
            arr(&case["exclusion_proofs"]).is_empty(),
            "{name}: new proof data"
        );
        // Our own proofs against the vector root.
        for key in &inserted {
            if deleted.contains(key) {
                continue;
            }
            let leaf = replaced
                .iter()
                .find(|(k, _)| k == key)
                .map(|(_, l)| l.clone())
                .or_else(|| all.iter().find(|(k, _)| k == key).map(|(_, l)| l.clone()))
                .unwrap();
            assert_eq!(tree.get(key).unwrap(), leaf);
            check_proof_roundtrip(&tree, key, &leaf);
        }
        for key in &deleted {
            assert!(tree.get(key).unwrap().is_empty());
            let proof = tree.merkle_proof(key).unwrap();
            assert!(proof.verify_exclusion(&root, key));
        }
        valid += 1;
    }
    let mut errors = 0;
    for case in arr(&v["error_test_cases"]) {
        let mut tree = MsSmt::new(MemoryStore::new());
        let inserted = keys(&case["inserted_leaves"]);
        let (last, first) = inserted.split_last().unwrap();
        insert_listed(&mut tree, &all, first).unwrap();
        let before = tree.root().unwrap();
        let leaf = all.iter().find(|(k, _)| k == last).unwrap().1.clone();
        let err = tree.insert(*last, leaf).unwrap_err();
        let want = case["error"].as_str().unwrap();
        assert!(err.to_string().contains(want), "{err} vs {want}");
        assert_eq!(
            tree.root().unwrap(),
            before,
            "failed insert changed the tree"
        );
        errors += 1;
    }
    Some((valid, errors))
}

#[test]
fn mssmt_tree_replacement() {
    if let Some(counts) = run_file("mssmt_tree_replacement.json") {
        assert_eq!(counts, (1, 0));
    }
}

#[test]
fn mssmt_tree_deletion() {
    if let Some(counts) = run_file("mssmt_tree_deletion.json") {
        assert_eq!(counts, (1, 0));
    }
}

#[test]
fn mssmt_tree_error_cases() {
    if let Some(counts) = run_file("mssmt_tree_error_cases.json") {
        assert_eq!(counts, (1, 1));
    }
}

#[test]
fn mssmt_tree_proofs_file_is_absent() {
    // Upstream's 10,000-leaf proof file is not in the shared vectors (see
    // its README). If it ever appears, this test reminds us to wire it up.
    if let Some(dir) = crate::common::vector_dir() {
        let path = dir.join("mssmt/mssmt_tree_proofs.json");
        if path.exists() {
            panic!("mssmt_tree_proofs.json is now available: add a test for it");
        }
        println!("NOTICE: mssmt_tree_proofs.json not available, skipping");
    }
}

/// Every compressed MS-SMT proof inside tapd's proof vectors (asset and
/// TapCommitment levels, split commitments) decodes, decompresses to 256
/// siblings, and re-encodes byte for byte.
#[test]
fn compressed_proofs_in_proof_vectors_roundtrip() {
    let Some(v) = load_json("proof/proof_tlv_encoding_generated.json") else {
        return;
    };
    fn walk(v: &Value, parent: &str, found: &mut Vec<String>) {
        match v {
            Value::Object(map) => {
                for (k, child) in map {
                    if k == "proof"
                        && matches!(
                            parent,
                            "asset_proof" | "taproot_asset_proof" | "split_commitment"
                        )
                        && let Some(s) = child.as_str()
                    {
                        found.push(s.to_owned());
                    }
                    walk(child, k, found);
                }
            }
            Value::Array(items) => items.iter().for_each(|i| walk(i, parent, found)),
            _ => {}
        }
    }
    let mut found = Vec::new();
    walk(&v, "", &mut found);
    assert_eq!(found.len(), 28);
    for h in &found {
        let bytes = hex::decode(h).unwrap();
        let cp = CompressedProof::decode(&bytes).unwrap();
        assert_eq!(cp.encode(), bytes);
        let proof = cp.decompress().unwrap();
        assert_eq!(proof.nodes.len(), 256);
        assert_eq!(proof.compress().encode(), bytes);
    }
}
