//! Proof files (tapd `proof/file.go`): `TAPF` ‖ u32 BE version ‖ BigSize
//! count ‖ per proof: BigSize length ‖ proof bytes ‖ 32-byte chained hash,
//! where hash_i = SHA256(hash_{i-1} ‖ proof_i) and hash_{-1} = zeros.
//!
//! Proofs are kept as the exact bytes received: the hash chain covers them
//! and tapd writes some maps in random order, so re-encoding could change
//! them.

use sha2::{Digest, Sha256};

use super::Proof;
use crate::encoding::{DecodeError, Reader, write_bigsize, write_var_bytes};

/// Magic bytes of a proof file: "TAPF".
pub const FILE_MAGIC: [u8; 4] = *b"TAPF";
/// Most proofs in a file.
pub const MAX_FILE_PROOFS: u64 = 420_000;
/// Largest file, in bytes (500 MiB).
pub const MAX_FILE_SIZE: usize = 500 * 1024 * 1024;
/// Largest single proof in a file, in bytes (128 MiB).
pub const MAX_PROOF_SIZE: usize = 128 * 1024 * 1024;

/// One proof of a file with its chained hash.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HashedProof {
    /// The proof bytes (including `TAPP`).
    pub proof_bytes: Vec<u8>,
    /// SHA256(previous hash ‖ proof bytes).
    pub hash: [u8; 32],
}

/// A proof file: an asset's history, genesis first.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct File {
    /// File version (only 0 exists).
    pub version: u32,
    /// The proofs with their hashes.
    pub proofs: Vec<HashedProof>,
}

fn chain_hash(prev: &[u8; 32], proof: &[u8]) -> [u8; 32] {
    let mut h = Sha256::new();
    h.update(prev);
    h.update(proof);
    h.finalize().into()
}

impl File {
    /// A file from raw proofs, computing the hash chain.
    pub fn from_proofs(version: u32, proofs: Vec<Vec<u8>>) -> Self {
        let mut prev = [0u8; 32];
        let proofs = proofs
            .into_iter()
            .map(|proof_bytes| {
                prev = chain_hash(&prev, &proof_bytes);
                HashedProof {
                    proof_bytes,
                    hash: prev,
                }
            })
            .collect();
        Self { version, proofs }
    }

    /// Serialises the file.
    pub fn encode(&self) -> Vec<u8> {
        let mut out = FILE_MAGIC.to_vec();
        out.extend_from_slice(&self.version.to_be_bytes());
        write_bigsize(&mut out, self.proofs.len() as u64);
        for p in &self.proofs {
            write_var_bytes(&mut out, &p.proof_bytes);
            out.extend_from_slice(&p.hash);
        }
        out
    }

    /// Parses a file and checks its hash chain (proofs are not decoded).
    pub fn decode(bytes: &[u8]) -> Result<Self, DecodeError> {
        if bytes.len() > MAX_FILE_SIZE {
            return Err(DecodeError::LimitExceeded {
                what: "proof file size",
                limit: MAX_FILE_SIZE as u64,
            });
        }
        let mut r = Reader::new(bytes);
        if r.array::<4>("proof file magic")? != FILE_MAGIC {
            return Err(DecodeError::InvalidValue {
                field: "proof file magic",
                reason: "not a TAPF file",
            });
        }
        let version = r.u32_be("proof file version")?;
        if version != 0 {
            return Err(DecodeError::InvalidValue {
                field: "proof file version",
                reason: "unknown file version",
            });
        }
        let n = r.bigsize("proof count")?;
        if n > MAX_FILE_PROOFS {
            return Err(DecodeError::LimitExceeded {
                what: "proofs in file",
                limit: MAX_FILE_PROOFS,
            });
        }
        let mut prev = [0u8; 32];
        let mut proofs = Vec::new();
        for _ in 0..n {
            let len = r.bigsize("proof length")?;
            if len > MAX_PROOF_SIZE as u64 {
                return Err(DecodeError::LimitExceeded {
                    what: "proof in file",
                    limit: MAX_PROOF_SIZE as u64,
                });
            }
            let proof_bytes = r.bytes(len as usize, "proof bytes")?.to_vec();
            let hash: [u8; 32] = r.array("proof hash")?;
            let expected = chain_hash(&prev, &proof_bytes);
            if hash != expected {
                return Err(DecodeError::InvalidValue {
                    field: "proof file hash chain",
                    reason: "invalid proof file hash",
                });
            }
            prev = hash;
            proofs.push(HashedProof { proof_bytes, hash });
        }
        r.finish("proof file")?;
        Ok(Self { version, proofs })
    }

    /// Decodes proof `i`.
    pub fn proof(&self, i: usize) -> Option<Result<Proof, DecodeError>> {
        self.proofs.get(i).map(|p| Proof::decode(&p.proof_bytes))
    }

    /// Decodes every proof.
    pub fn decode_proofs(&self) -> Result<Vec<Proof>, DecodeError> {
        self.proofs
            .iter()
            .map(|p| Proof::decode(&p.proof_bytes))
            .collect()
    }
}
