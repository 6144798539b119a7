//! The signer: the node's seed and every key derived from it.
//!
//! On first start it creates a 24-word BIP39 mnemonic and stores it in
//! `<datadir>/seed` (mode 0600), or imports one with
//! `--restore-from-mnemonic-file`. Keys never leave this module; secrets are
//! never formatted into logs (`Debug` prints only the node id).
//!
//! Derivation: the BIP32 root is the BIP39 seed with an empty passphrase. The
//! node key is `m/1017'/<coin>'/6'/0/0` (coin 0 on mainnet, 1 elsewhere) —
//! LND's key-family layout, where family 6 is the node key — so a Lumen seed
//! names the same node id in tools that follow that layout.

use std::fmt;
use std::path::{Path, PathBuf};
use std::str::FromStr;

use bitcoin::bip32::{DerivationPath, Xpriv};
use bitcoin::secp256k1::{PublicKey, Secp256k1, SecretKey};

use crate::config::Network;
use crate::datadir::write_private;

/// File holding the mnemonic words inside the data dir.
pub const SEED_FILE: &str = "seed";

/// Why the signer could not start.
#[derive(Debug, thiserror::Error)]
pub enum SignerError {
    /// Reading or writing the seed file failed.
    #[error("seed file {path}: {reason}")]
    Io {
        /// File.
        path: PathBuf,
        /// Why.
        reason: String,
    },
    /// The mnemonic is not valid BIP39 English.
    #[error("mnemonic in {path} is not valid: {reason}")]
    BadMnemonic {
        /// File.
        path: PathBuf,
        /// Why (never includes the words).
        reason: String,
    },
    /// A restore was asked for but a seed already exists.
    #[error(
        "refusing --restore-from-mnemonic-file: {existing} already holds a seed; move it away first (it may control funds)"
    )]
    SeedExists {
        /// The existing seed file.
        existing: PathBuf,
    },
    /// The seed file has group/other permissions.
    #[error("seed file {path} is readable by others (mode {mode:o}); run: chmod 600 {path}")]
    Permissions {
        /// File.
        path: PathBuf,
        /// Its mode.
        mode: u32,
    },
    /// BIP32 derivation failed.
    #[error("key derivation: {0}")]
    Derivation(String),
}

/// Holder of the node's secrets.
pub struct Signer {
    /// The BIP32 root; only [`Signer::wallet_root_xprv`] hands it out.
    root: Xpriv,
    node_secret: SecretKey,
    node_id: PublicKey,
    /// Whether this start created the seed (so the user can be told to back it up).
    pub created: bool,
}

impl fmt::Debug for Signer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Signer")
            .field("node_id", &self.node_id)
            .finish_non_exhaustive()
    }
}

fn parse_mnemonic(words: &str, path: &Path) -> Result<bip39::Mnemonic, SignerError> {
    let normalized = words.split_whitespace().collect::<Vec<_>>().join(" ");
    bip39::Mnemonic::parse_in_normalized(bip39::Language::English, &normalized).map_err(|e| {
        SignerError::BadMnemonic {
            path: path.to_path_buf(),
            reason: e.to_string(),
        }
    })
}

impl Signer {
    /// Load the seed from the data dir, creating or importing it on first start.
    pub fn load_or_create(
        datadir: &Path,
        network: Network,
        restore_from: Option<&Path>,
    ) -> Result<Signer, SignerError> {
        use std::os::unix::fs::PermissionsExt;
        let path = datadir.join(SEED_FILE);
        let io = |e: std::io::Error| SignerError::Io {
            path: path.clone(),
            reason: e.to_string(),
        };
        let exists = path.try_exists().map_err(io)?;
        let (mnemonic, created) = match (exists, restore_from) {
            (true, Some(_)) => return Err(SignerError::SeedExists { existing: path }),
            (true, None) => {
                let mode = std::fs::metadata(&path).map_err(io)?.permissions().mode() & 0o777;
                if mode & 0o077 != 0 {
                    return Err(SignerError::Permissions { path, mode });
                }
                let words = std::fs::read_to_string(&path).map_err(io)?;
                (parse_mnemonic(&words, &path)?, false)
            }
            (false, Some(src)) => {
                let words = std::fs::read_to_string(src).map_err(|e| SignerError::Io {
                    path: src.to_path_buf(),
                    reason: e.to_string(),
                })?;
                let m = parse_mnemonic(&words, src)?;
                write_private(&path, format!("{m}\n").as_bytes()).map_err(io)?;
                (m, false)
            }
            (false, None) => {
                let m = bip39::Mnemonic::generate_in(bip39::Language::English, 24)
                    .map_err(|e| SignerError::Derivation(e.to_string()))?;
                write_private(&path, format!("{m}\n").as_bytes()).map_err(io)?;
                (m, true)
            }
        };
        let seed = mnemonic.to_seed("");
        Self::from_seed(&seed, network, created)
    }

    fn from_seed(seed: &[u8], network: Network, created: bool) -> Result<Signer, SignerError> {
        let secp = Secp256k1::new();
        let root = Xpriv::new_master(network.to_bitcoin(), seed)
            .map_err(|e| SignerError::Derivation(e.to_string()))?;
        let coin = if network == Network::Bitcoin { 0 } else { 1 };
        let path = DerivationPath::from_str(&format!("m/1017'/{coin}'/6'/0/0"))
            .map_err(|e| SignerError::Derivation(e.to_string()))?;
        let node = root
            .derive_priv(&secp, &path)
            .map_err(|e| SignerError::Derivation(e.to_string()))?;
        let node_secret = node.private_key;
        let node_id = PublicKey::from_secret_key(&secp, &node_secret);
        Ok(Signer {
            root,
            node_secret,
            node_id,
            created,
        })
    }

    /// The BIP32 root key, for the on-chain wallet's BIP84/BIP86 descriptors
    /// (the wallet derives `m/84'/coin'/0'` and `m/86'/coin'/0'` from it and
    /// needs the root's fingerprint in the key origins). Only the wallet calls
    /// this; never format the result.
    pub fn wallet_root_xprv(&self) -> Xpriv {
        self.root
    }

    /// The node id: the public node key.
    pub fn node_id(&self) -> PublicKey {
        self.node_id
    }

    /// ECDH with the node key: `SHA256(compressed(point · node_secret))`, as
    /// BOLT 8 uses it. The key itself never leaves the signer.
    pub fn ecdh_with_node_key(&self, point: &PublicKey) -> [u8; 32] {
        bitcoin::secp256k1::ecdh::SharedSecret::new(point, &self.node_secret).secret_bytes()
    }

    /// Sign a 32-byte digest with the node key (ECDSA, low-S).
    pub fn sign_with_node_key(&self, digest: [u8; 32]) -> bitcoin::secp256k1::ecdsa::Signature {
        let secp = Secp256k1::signing_only();
        secp.sign_ecdsa(
            &bitcoin::secp256k1::Message::from_digest(digest),
            &self.node_secret,
        )
    }

    /// Sign a 32-byte digest with the node key as a *recoverable* ECDSA
    /// signature (low-S), as BOLT 11 invoices need: the payer recovers the
    /// node id from it instead of carrying an `n` field.
    pub fn sign_recoverable_with_node_key(
        &self,
        digest: [u8; 32],
    ) -> bitcoin::secp256k1::ecdsa::RecoverableSignature {
        let secp = Secp256k1::signing_only();
        secp.sign_ecdsa_recoverable(
            &bitcoin::secp256k1::Message::from_digest(digest),
            &self.node_secret,
        )
    }
}

impl crate::transport::NodeKey for Signer {
    fn node_id(&self) -> PublicKey {
        self.node_id
    }

    fn ecdh(&self, point: &PublicKey) -> [u8; 32] {
        self.ecdh_with_node_key(point)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    // BIP39's first test mnemonic ("abandon" x11 + "about"); public, holds nothing.
    const TEST_WORDS: &str = "abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon about";

    #[test]
    fn creates_once_and_reloads_same_id() {
        let dir = tempfile::tempdir().expect("tempdir");
        let a = Signer::load_or_create(dir.path(), Network::Regtest, None).expect("create");
        assert!(a.created);
        let words = std::fs::read_to_string(dir.path().join(SEED_FILE)).expect("seed");
        assert_eq!(words.split_whitespace().count(), 24);
        let mode = std::fs::metadata(dir.path().join(SEED_FILE))
            .expect("meta")
            .permissions()
            .mode()
            & 0o777;
        assert_eq!(mode, 0o600);
        let b = Signer::load_or_create(dir.path(), Network::Regtest, None).expect("reload");
        assert!(!b.created);
        assert_eq!(a.node_id(), b.node_id());
        assert!(!format!("{a:?}").contains(words.split_whitespace().next().expect("word")));
    }

    #[test]
    fn restore_gives_deterministic_id_and_refuses_overwrite() {
        let dir = tempfile::tempdir().expect("tempdir");
        let src = dir.path().join("words.txt");
        std::fs::write(&src, format!("  {TEST_WORDS}\n")).expect("write");
        let data = dir.path().join("data");
        std::fs::create_dir(&data).expect("mkdir");
        let a = Signer::load_or_create(&data, Network::Regtest, Some(&src)).expect("restore");
        let other = tempfile::tempdir().expect("tempdir");
        let b =
            Signer::load_or_create(other.path(), Network::Regtest, Some(&src)).expect("restore 2");
        assert_eq!(a.node_id(), b.node_id());
        let main = tempfile::tempdir().expect("tempdir");
        let c = Signer::load_or_create(main.path(), Network::Bitcoin, Some(&src)).expect("mainnet");
        assert_ne!(a.node_id(), c.node_id(), "coin type separates mainnet keys");
        let e = Signer::load_or_create(&data, Network::Regtest, Some(&src)).expect_err("overwrite");
        assert!(matches!(e, SignerError::SeedExists { .. }));
    }

    #[test]
    fn node_key_ecdh_is_symmetric() {
        use crate::transport::NodeKey;
        let a_dir = tempfile::tempdir().expect("tempdir");
        let b_dir = tempfile::tempdir().expect("tempdir");
        let a = Signer::load_or_create(a_dir.path(), Network::Regtest, None).expect("a");
        let b = Signer::load_or_create(b_dir.path(), Network::Regtest, None).expect("b");
        assert_eq!(a.ecdh(&b.node_id()), b.ecdh(&a.node_id()));
        assert_ne!(a.ecdh(&b.node_id()), a.ecdh(&a.node_id()));
    }

    #[test]
    fn bad_mnemonic_and_loose_permissions_refused() {
        let dir = tempfile::tempdir().expect("tempdir");
        let src = dir.path().join("words.txt");
        std::fs::write(&src, "abandon abandon notaword").expect("write");
        let e = Signer::load_or_create(dir.path(), Network::Regtest, Some(&src)).expect_err("bad");
        assert!(matches!(e, SignerError::BadMnemonic { .. }));
        assert!(!e.to_string().contains("notaword") || e.to_string().contains("unknown word"));

        let d2 = tempfile::tempdir().expect("tempdir");
        Signer::load_or_create(d2.path(), Network::Regtest, None).expect("create");
        let seed = d2.path().join(SEED_FILE);
        std::fs::set_permissions(&seed, std::fs::Permissions::from_mode(0o644)).expect("chmod");
        let e = Signer::load_or_create(d2.path(), Network::Regtest, None).expect_err("perm");
        assert!(matches!(e, SignerError::Permissions { .. }));
    }
}
