//! Sphinx key material (BOLT 4 "Shared Secret", "Key Generation",
//! "Pseudo Random Byte Stream", "Blinding Ephemeral Onion Keys").

use bitcoin::hashes::{Hash, HashEngine, Hmac, HmacEngine, sha256};
use bitcoin::secp256k1::ecdh::SharedSecret;
use bitcoin::secp256k1::{PublicKey, Scalar, Secp256k1, SecretKey, Signing, Verification};
use chacha20::ChaCha20;
use chacha20::cipher::{KeyIvInit, StreamCipher};

/// The kinds of key derived from a hop's shared secret.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyType {
    /// Obfuscates the routing information (`rho`).
    Rho,
    /// Authenticates the routing information (`mu`).
    Mu,
    /// Authenticates a failure message (`um`).
    Um,
    /// Obfuscates a failure message (`ammag`).
    Ammag,
    /// Obfuscates attribution data (`ammagext`).
    AmmagExt,
    /// Fills the initial packet with random-looking bytes (`pad`).
    Pad,
}

impl KeyType {
    fn label(self) -> &'static [u8] {
        match self {
            KeyType::Rho => b"rho",
            KeyType::Mu => b"mu",
            KeyType::Um => b"um",
            KeyType::Ammag => b"ammag",
            KeyType::AmmagExt => b"ammagext",
            KeyType::Pad => b"pad",
        }
    }
}

/// `HMAC-SHA256(key = key_type, msg = secret)`.
pub fn derive_key(key_type: KeyType, secret: &[u8; 32]) -> [u8; 32] {
    hmac_sha256(key_type.label(), &[secret])
}

/// HMAC-SHA256 of the concatenation of `parts`.
pub fn hmac_sha256(key: &[u8], parts: &[&[u8]]) -> [u8; 32] {
    let mut e = HmacEngine::<sha256::Hash>::new(key);
    for p in parts {
        e.input(p);
    }
    Hmac::<sha256::Hash>::from_engine(e).to_byte_array()
}

/// XOR the ChaCha20 stream of `key` (zero nonce, counter 0) onto `buf`.
pub fn xor_stream(key: &[u8; 32], buf: &mut [u8]) {
    let nonce = [0u8; 12];
    let mut c = ChaCha20::new(key.into(), (&nonce).into());
    c.apply_keystream(buf);
}

/// The first `len` bytes of the ChaCha20 stream of `key`.
pub fn stream(key: &[u8; 32], len: usize) -> Vec<u8> {
    let mut v = vec![0u8; len];
    xor_stream(key, &mut v);
    v
}

/// `SHA256(ECDH(secret, point))` over the compressed point.
pub fn shared_secret(point: &PublicKey, secret: &SecretKey) -> [u8; 32] {
    SharedSecret::new(point, secret).secret_bytes()
}

/// `SHA256(ephemeral_pubkey || shared_secret)`.
pub fn blinding_factor(ephemeral: &PublicKey, shared: &[u8; 32]) -> [u8; 32] {
    let mut e = sha256::Hash::engine();
    e.input(&ephemeral.serialize());
    e.input(shared);
    sha256::Hash::from_engine(e).to_byte_array()
}

/// Constant-time equality of two 32-byte MACs.
pub fn ct_eq(a: &[u8; 32], b: &[u8; 32]) -> bool {
    crate::secret::constant_time_eq(a, b)
}

/// The per-hop values the sender derives from its session key: hop `i`'s
/// ephemeral public key and shared secret. `None` if a blinding step lands
/// on an invalid scalar (probability ~2^-128).
pub fn route_secrets<C: Signing + Verification>(
    secp: &Secp256k1<C>,
    session_key: &SecretKey,
    hops: &[PublicKey],
) -> Option<Vec<(PublicKey, [u8; 32])>> {
    let mut out = Vec::with_capacity(hops.len());
    let mut e = *session_key;
    for hop in hops {
        let epk = PublicKey::from_secret_key(secp, &e);
        let ss = shared_secret(hop, &e);
        let b = blinding_factor(&epk, &ss);
        out.push((epk, ss));
        let scalar = Scalar::from_be_bytes(b).ok()?;
        e = e.mul_tweak(&scalar).ok()?;
    }
    Some(out)
}
