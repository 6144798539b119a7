//! Shared by the `lumen-store-bench` binary and the store's crash tests: the
//! trees the crash-test writer uses and the values it writes, derived from the
//! sequence number so a checker can verify every record without a log.
//!
//! The writer commits, for each sequence number `seq`, one batch holding
//! `RECORDS[seq] = record_value(seq)` and `HEAD["last"] = seq`. So in any
//! state the database may be in after a crash, if `HEAD["last"]` is `L` then
//! `RECORDS` holds exactly the keys `0..=L`, each with its derived value.

use super::Tree;

/// The records written by the crash-test writer, keyed by sequence number.
pub const RECORDS: Tree<u64, Vec<u8>> = Tree::new("bench.records");

/// The writer's last committed sequence number, under key [`HEAD_KEY`].
pub const HEAD: Tree<String, u64> = Tree::new("bench.head");

/// The key of the last sequence number in [`HEAD`].
pub const HEAD_KEY: &str = "last";

/// splitmix64: a tiny deterministic generator.
fn splitmix64(state: &mut u64) -> u64 {
    *state = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
    let mut z = *state;
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// `len` deterministic pseudo-random bytes seeded by `seed`.
pub fn bytes_for(seed: u64, len: usize) -> Vec<u8> {
    let mut state = seed;
    let mut out = Vec::with_capacity(len + 8);
    while out.len() < len {
        out.extend_from_slice(&splitmix64(&mut state).to_le_bytes());
    }
    out.truncate(len);
    out
}

/// The value the writer stores for `seq`: 16 to 527 bytes, all derived from
/// `seq`, starting with `seq` itself (big-endian).
pub fn record_value(seq: u64) -> Vec<u8> {
    let mut state = seq ^ 0x5EED;
    let len = 16 + (splitmix64(&mut state) % 512) as usize;
    let mut out = seq.to_be_bytes().to_vec();
    out.extend_from_slice(&bytes_for(seq, len - 8));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_are_deterministic_and_distinct() {
        assert_eq!(record_value(7), record_value(7));
        assert_ne!(record_value(7), record_value(8));
        for s in 0..100 {
            let v = record_value(s);
            assert!((16..=527).contains(&v.len()));
            assert_eq!(v[..8], s.to_be_bytes());
        }
        assert_eq!(bytes_for(1, 13).len(), 13);
    }
}
