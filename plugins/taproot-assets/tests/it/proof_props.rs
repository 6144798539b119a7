//! Property tests: proof, proof-file and commitment-proof decoders never
//! panic on arbitrary or mutated bytes, decode∘encode is stable, and
//! commitments built from random assets prove and derive consistently.

use std::collections::BTreeSet;

use lumen_plugin_taproot_assets::asset::{Asset, Genesis, SerializedKey};
use lumen_plugin_taproot_assets::commitment::{self, TapCommitment, asset_keys};
use lumen_plugin_taproot_assets::encoding::UnknownOddTypes;
use lumen_plugin_taproot_assets::proof::{
    CommitmentProof, File, GroupKeyReveal, HeaderPowOnly, MetaReveal, Proof, TaprootProof,
    TapscriptProof, TxMerkleProof, verify_file, verify_proof,
};
use proptest::prelude::*;

use crate::common::vector_dir;

fn vector_bytes(rel: &str) -> Option<Vec<u8>> {
    let text = std::fs::read_to_string(vector_dir()?.join(rel)).ok()?;
    hex::decode(text.trim()).ok()
}

/// Decodes with every proof-level decoder; whatever decodes must survive
/// encode → decode unchanged.
fn check_all(bytes: &[u8]) -> Result<(), TestCaseError> {
    if let Ok(p) = Proof::decode(bytes) {
        let again = Proof::decode(&p.encode()).unwrap();
        prop_assert_eq!(&again, &p);
        let _ = verify_proof(&p, None, &BTreeSet::new(), &HeaderPowOnly);
    }
    if let Ok(f) = File::decode(bytes) {
        prop_assert_eq!(File::decode(&f.encode()).unwrap(), f.clone());
        let _ = verify_file(&f, &HeaderPowOnly);
    }
    if let Ok(c) = CommitmentProof::decode(bytes) {
        prop_assert_eq!(CommitmentProof::decode(&c.encode()).unwrap(), c);
    }
    if let Ok(c) = commitment::Proof::decode(bytes) {
        prop_assert_eq!(commitment::Proof::decode(&c.encode()).unwrap(), c);
    }
    if let Ok(t) = TaprootProof::decode(bytes) {
        prop_assert_eq!(TaprootProof::decode(&t.encode()).unwrap(), t);
    }
    if let Ok(t) = TapscriptProof::decode(bytes) {
        prop_assert_eq!(TapscriptProof::decode(&t.encode()).unwrap(), t);
    }
    if let Ok(m) = MetaReveal::decode(bytes) {
        prop_assert_eq!(MetaReveal::decode(&m.encode()).unwrap(), m.clone());
        let _ = m.validate();
    }
    if let Ok(g) = GroupKeyReveal::decode(bytes) {
        prop_assert_eq!(GroupKeyReveal::decode(&g.encode()).unwrap(), g);
    }
    if let Ok(t) = TxMerkleProof::decode(bytes) {
        prop_assert_eq!(TxMerkleProof::decode(&t.encode()).unwrap(), t);
    }
    Ok(())
}

fn key(seed: u8) -> SerializedKey {
    let secp = secp256k1::Secp256k1::new();
    let sk = secp256k1::SecretKey::from_slice(&[seed.max(1); 32]).unwrap();
    SerializedKey(secp256k1::PublicKey::from_secret_key(&secp, &sk).serialize())
}

fn asset(tag: u8, key_seed: u8, amount: u64, version: u8) -> Asset {
    Asset {
        version,
        genesis: Genesis {
            first_prev_out: bitcoin::OutPoint::null(),
            tag: vec![b'a' + tag % 3],
            meta_hash: [0; 32],
            output_index: 0,
            asset_type: 0,
        },
        amount,
        lock_time: 0,
        relative_lock_time: 0,
        prev_witnesses: vec![],
        split_commitment_root: None,
        script_version: 0,
        script_key: key(key_seed),
        group_key: None,
        unknown_odd_types: UnknownOddTypes::new(),
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..800)) {
        check_all(&bytes)?;
        // With the magic prefixes so that the TLV/file parsers are reached.
        let mut tapp = b"TAPP".to_vec();
        tapp.extend_from_slice(&bytes);
        check_all(&tapp)?;
        let mut tapf = b"TAPF\0\0\0\0".to_vec();
        tapf.extend_from_slice(&bytes);
        check_all(&tapf)?;
    }

    #[test]
    fn mutated_vectors_never_panic(
        which in 0usize..3,
        edits in proptest::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 1..5),
        cut in any::<prop::sample::Index>(),
        truncate in any::<bool>(),
    ) {
        let name = ["proof/proof.hex", "proof/ownership-proof.hex", "proof/proof-file.hex"][which];
        let Some(mut bytes) = vector_bytes(name) else { return Ok(()) };
        for (idx, b) in &edits {
            let i = idx.index(bytes.len());
            bytes[i] = *b;
        }
        if truncate {
            bytes.truncate(cut.index(bytes.len()));
        }
        check_all(&bytes)?;
    }

    #[test]
    fn commitments_prove_and_derive(
        specs in proptest::collection::vec((0u8..3, 1u8..40, 1u64..1_000_000, 0u8..2), 1..8),
        version in 1u8..3,
        probe in (0u8..4, 40u8..60),
    ) {
        // Distinct (tag, key) pairs only: duplicates are refused by design.
        let mut seen = BTreeSet::new();
        let assets: Vec<Asset> = specs
            .iter()
            .filter(|(t, k, _, _)| seen.insert((*t, *k)))
            .map(|(t, k, a, v)| asset(*t, *k, *a, *v))
            .collect();
        let tc = TapCommitment::from_assets(version, &assets).unwrap();
        let root = tc.root().unwrap();
        prop_assert_eq!(root.sum, assets.iter().map(|a| a.amount).sum::<u64>());
        let internal = key(200);
        let out_key = tc.output_key(&internal, None).unwrap();
        for a in &assets {
            let p = tc.prove(a).unwrap();
            let p = commitment::Proof::decode(&p.encode()).unwrap();
            let (r, v) = p.derive_by_asset_inclusion(a).unwrap();
            prop_assert_eq!((r, v), (root, version));
            prop_assert_eq!(commitment::commitment_output_key(v, &r, &internal, None).unwrap(), out_key);
        }
        // A key that is not committed: exclusion derives the same root and
        // inclusion does not.
        let absent = asset(probe.0, probe.1, 7, 0);
        let (ack, tck) = asset_keys(&absent);
        let p = tc.prove(&absent).unwrap();
        prop_assert_eq!(p.derive_by_asset_exclusion(&ack, &tck).unwrap().0, root);
        if p.asset_proof.is_some() {
            prop_assert_ne!(p.derive_by_asset_inclusion(&absent).unwrap().0, root);
        }
    }
}
