//! The Noise primitives BOLT 8 is built from: SHA-256, HKDF with an empty
//! `info` producing two 32-byte keys, ChaCha20-Poly1305 with the Noise nonce
//! layout, and secp256k1 ECDH (SHA-256 of the compressed shared point).

use bitcoin::secp256k1::ecdh::SharedSecret;
use bitcoin::secp256k1::{All, PublicKey, Secp256k1, SecretKey};
use chacha20poly1305::aead::inout::InOutBuf;
use chacha20poly1305::{AeadInOut, ChaCha20Poly1305, Key, KeyInit, Nonce, Tag};
use hkdf::Hkdf;
use sha2::{Digest, Sha256};
use std::sync::OnceLock;

/// Length of a Poly1305 tag.
pub const MAC_LEN: usize = 16;

/// A 32-byte secret (chaining key or cipher key). Its `Debug` never shows the
/// bytes, and it is overwritten when dropped (best effort: no `zeroize`
/// dependency, so the compiler may elide the write).
#[derive(Clone)]
pub(crate) struct Secret32(pub(crate) [u8; 32]);

impl std::fmt::Debug for Secret32 {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Secret32(<redacted>)")
    }
}

impl Drop for Secret32 {
    fn drop(&mut self) {
        self.0.fill(0);
        std::hint::black_box(&self.0);
    }
}

/// One secp256k1 context for the whole process (creating one per handshake
/// costs more than the handshake's arithmetic).
pub(crate) fn secp() -> &'static Secp256k1<All> {
    static CTX: OnceLock<Secp256k1<All>> = OnceLock::new();
    CTX.get_or_init(Secp256k1::new)
}

/// `SHA-256(a || b)`.
pub(crate) fn sha256_concat(a: &[u8], b: &[u8]) -> [u8; 32] {
    let mut hasher = Sha256::new();
    hasher.update(a);
    hasher.update(b);
    hasher.finalize().into()
}

/// `HKDF(salt, ikm)` with an empty `info`, split into two 32-byte halves.
pub(crate) fn hkdf2(salt: &[u8; 32], ikm: &[u8]) -> (Secret32, Secret32) {
    let hk = Hkdf::<Sha256>::new(Some(salt), ikm);
    let mut okm = [0u8; 64];
    // 64 bytes is far below HKDF-SHA256's 255 * 32 limit: expand cannot fail.
    if hk.expand(&[], &mut okm).is_err() {
        unreachable!("HKDF-SHA256 can always produce 64 bytes");
    }
    let mut a = [0u8; 32];
    let mut b = [0u8; 32];
    a.copy_from_slice(&okm[..32]);
    b.copy_from_slice(&okm[32..]);
    okm.fill(0);
    (Secret32(a), Secret32(b))
}

/// `ECDH(point, key)`: SHA-256 of the compressed shared point, which is what
/// libsecp256k1's default ECDH hash computes.
pub(crate) fn ecdh(point: &PublicKey, key: &SecretKey) -> [u8; 32] {
    SharedSecret::new(point, key).secret_bytes()
}

/// The Noise nonce: 32 zero bits, then `n` as a little-endian u64.
fn nonce(n: u64) -> Nonce {
    let mut bytes = [0u8; 12];
    bytes[4..].copy_from_slice(&n.to_le_bytes());
    Nonce::from(bytes)
}

fn aead(key: &[u8; 32]) -> ChaCha20Poly1305 {
    ChaCha20Poly1305::new(&Key::from(*key))
}

/// Encrypt `buf` in place with `encryptWithAD(key, n, ad, buf)` and return the tag.
pub(crate) fn encrypt_in_place(key: &[u8; 32], n: u64, ad: &[u8], buf: &mut [u8]) -> [u8; MAC_LEN] {
    match aead(key).encrypt_inout_detached(&nonce(n), ad, InOutBuf::from(buf)) {
        Ok(tag) => tag.into(),
        // ChaCha20-Poly1305 only fails for inputs over 256 GiB.
        Err(_) => unreachable!("BOLT 8 messages are at most 65535 bytes"),
    }
}

/// Decrypt `buf` in place with `decryptWithAD(key, n, ad, buf || tag)`.
/// On a bad tag `buf` is left unspecified and `Err(())` is returned.
pub(crate) fn decrypt_in_place(
    key: &[u8; 32],
    n: u64,
    ad: &[u8],
    buf: &mut [u8],
    tag: &[u8; MAC_LEN],
) -> Result<(), ()> {
    let tag = Tag::from(*tag);
    aead(key)
        .decrypt_inout_detached(&nonce(n), ad, InOutBuf::from(buf), &tag)
        .map_err(|_| ())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nonce_layout_is_noise() {
        let n = nonce(0x0102_0304_0506_0708);
        assert_eq!(n.as_slice(), &[0, 0, 0, 0, 8, 7, 6, 5, 4, 3, 2, 1]);
    }

    #[test]
    fn aead_round_trip_and_tamper() {
        let key = [7u8; 32];
        let mut buf = *b"hello";
        let tag = encrypt_in_place(&key, 3, b"ad", &mut buf);
        let mut tampered = buf;
        tampered[0] ^= 1;
        assert!(decrypt_in_place(&key, 3, b"ad", &mut tampered, &tag).is_err());
        assert!(decrypt_in_place(&key, 4, b"ad", &mut buf.clone(), &tag).is_err());
        decrypt_in_place(&key, 3, b"ad", &mut buf, &tag).expect("authentic");
        assert_eq!(&buf, b"hello");
    }

    #[test]
    fn secret_debug_is_redacted() {
        let s = Secret32([0xab; 32]);
        assert!(!format!("{s:?}").contains("ab"));
    }
}
