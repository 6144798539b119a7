//! Small helpers for handling secrets: fresh random tokens, and comparisons
//! that take the same time wherever the first difference is.

use bitcoin::secp256k1::rand::RngCore;
use bitcoin::secp256k1::rand::rngs::OsRng;

/// Fill `buf` from the OS random source.
fn fill_random(buf: &mut [u8]) -> std::io::Result<()> {
    OsRng
        .try_fill_bytes(buf)
        .map_err(|e| std::io::Error::other(e.to_string()))
}

/// `N` random bytes from the OS (keys, preimages, payment secrets).
pub fn random_bytes<const N: usize>() -> std::io::Result<[u8; N]> {
    let mut buf = [0u8; N];
    fill_random(&mut buf)?;
    Ok(buf)
}

/// `len` random bytes from the OS, hex-encoded (a cookie or password).
pub fn random_hex(len: usize) -> std::io::Result<String> {
    let mut buf = vec![0u8; len];
    fill_random(&mut buf)?;
    Ok(hex::encode(buf))
}

/// Equality that does not reveal where the first difference is.
pub fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_fresh_and_comparisons_exact() {
        let a = random_hex(32).expect("rng");
        let b = random_hex(32).expect("rng");
        assert_eq!(a.len(), 64);
        assert_ne!(a, b);
        assert!(constant_time_eq(a.as_bytes(), a.as_bytes()));
        assert!(!constant_time_eq(a.as_bytes(), b.as_bytes()));
        assert!(!constant_time_eq(b"ab", b"abc"));
    }

    #[test]
    fn random_bytes_are_fresh() {
        let a = random_bytes::<32>().expect("rng");
        let b = random_bytes::<32>().expect("rng");
        assert_ne!(a, b);
    }
}
