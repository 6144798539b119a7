//! Attribution data (attributable failures, bolts PR 1044): 920 bytes that
//! every hop on the return path extends with its hold time and truncated
//! HMACs, so the origin can tell which hop corrupted or delayed a failure
//! (or a success).
//!
//! Layout, before the per-hop `ammagext` obfuscation: 20 hold times (u32,
//! the newest hop first), then 20 blocks of 4-byte HMACs; block `i` holds
//! `20 - i` HMACs, and HMAC `j` of block `i` is the one hop `i` (counted
//! from the newest) computed assuming it is `20 - 1 - i - j` hops from the
//! node that started the data.

use super::crypto::{KeyType, derive_key, hmac_sha256, xor_stream};

/// Most hops attribution data covers.
pub const MAX_HOPS: usize = 20;
const HOLD_LEN: usize = 4;
const MAC_LEN: usize = 4;
const HOLDS_LEN: usize = MAX_HOPS * HOLD_LEN;
/// Size of attribution data.
pub const ATTRIBUTION_LEN: usize = HOLDS_LEN + MAX_HOPS * (MAX_HOPS + 1) / 2 * MAC_LEN;

/// Obfuscated attribution data as carried in `update_fail_htlc` /
/// `update_fulfill_htlc`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AttributionData(pub [u8; ATTRIBUTION_LEN]);

impl Default for AttributionData {
    fn default() -> Self {
        AttributionData([0u8; ATTRIBUTION_LEN])
    }
}

/// Offset of HMAC `j` of block `i`.
fn mac_at(i: usize, j: usize) -> usize {
    HOLDS_LEN + (MAX_HOPS * i - i * i.saturating_sub(1) / 2 + j) * MAC_LEN
}

fn mac(bytes: &[u8; ATTRIBUTION_LEN], i: usize, j: usize) -> &[u8] {
    let o = mac_at(i, j);
    &bytes[o..o + MAC_LEN]
}

/// The HMACs of the newest block for positions `MAX_HOPS - remaining ..
/// MAX_HOPS`. `older(j, p)` is HMAC `p` of the block `j + 1` hops older.
fn newest_block(
    um: &[u8; 32],
    packet: &[u8],
    holds: &[u8],
    remaining: usize,
    older: impl Fn(usize, usize) -> [u8; MAC_LEN],
) -> Vec<[u8; MAC_LEN]> {
    (MAX_HOPS - remaining..MAX_HOPS)
        .map(|p| {
            let y = MAX_HOPS - p;
            let olders: Vec<u8> = (0..y - 1).flat_map(|j| older(j, p)).collect();
            let full = hmac_sha256(um, &[packet, &holds[..y * HOLD_LEN], &olders]);
            let mut m = [0u8; MAC_LEN];
            m.copy_from_slice(&full[..MAC_LEN]);
            m
        })
        .collect()
}

fn take4(s: &[u8]) -> [u8; MAC_LEN] {
    let mut m = [0u8; MAC_LEN];
    m.copy_from_slice(s);
    m
}

impl AttributionData {
    /// Add this hop's layer. `previous` is what the next hop sent back
    /// (`None` at the erring node or the final recipient); `packet` is the
    /// failure packet as this hop received it, before its own obfuscation
    /// (`&[]` for a success); `hold_time` is in the units BOLT 4 defines.
    pub fn wrap(
        previous: Option<&AttributionData>,
        packet: &[u8],
        hold_time: u32,
        shared_secret: &[u8; 32],
    ) -> AttributionData {
        let zero = AttributionData::default();
        let prev = &previous.unwrap_or(&zero).0;
        let mut out = [0u8; ATTRIBUTION_LEN];
        out[..HOLD_LEN].copy_from_slice(&hold_time.to_be_bytes());
        out[HOLD_LEN..HOLDS_LEN].copy_from_slice(&prev[..HOLDS_LEN - HOLD_LEN]);
        // Older blocks: the previous block j loses its first HMAC and
        // becomes block j + 1.
        for j in 0..MAX_HOPS - 1 {
            for k in 1..MAX_HOPS - j {
                let o = mac_at(j + 1, k - 1);
                out[o..o + MAC_LEN].copy_from_slice(mac(prev, j, k));
            }
        }
        let um = derive_key(KeyType::Um, shared_secret);
        let holds = out[..HOLDS_LEN].to_vec();
        let block = newest_block(&um, packet, &holds, MAX_HOPS, |j, p| {
            take4(mac(&out, j + 1, p))
        });
        for (p, m) in block.iter().enumerate() {
            let o = mac_at(0, p);
            out[o..o + MAC_LEN].copy_from_slice(m);
        }
        xor_stream(&derive_key(KeyType::AmmagExt, shared_secret), &mut out);
        AttributionData(out)
    }

    /// At the origin: remove one hop's layer. `remaining` is the number of
    /// hops from this one to the end of the data (the route length minus
    /// this hop's index). Returns the hop's hold time and the data as the
    /// next hop produced it, or `None` if this hop's HMACs do not verify.
    pub fn unwrap_hop(
        &self,
        packet: &[u8],
        shared_secret: &[u8; 32],
        remaining: usize,
    ) -> Option<(u32, AttributionData)> {
        if remaining == 0 || remaining > MAX_HOPS {
            return None;
        }
        let mut b = self.0;
        xor_stream(&derive_key(KeyType::AmmagExt, shared_secret), &mut b);
        let um = derive_key(KeyType::Um, shared_secret);
        let expected = newest_block(&um, packet, &b[..HOLDS_LEN], remaining, |j, p| {
            take4(mac(&b, j + 1, p))
        });
        let first = MAX_HOPS - remaining;
        let ok = expected.iter().enumerate().fold(0u8, |acc, (k, m)| {
            acc | m
                .iter()
                .zip(mac(&b, 0, first + k))
                .fold(0, |a, (x, y)| a | (x ^ y))
        }) == 0;
        if !ok {
            return None;
        }
        let hold = u32::from_be_bytes([b[0], b[1], b[2], b[3]]);
        let mut next = [0u8; ATTRIBUTION_LEN];
        next[..HOLDS_LEN - HOLD_LEN].copy_from_slice(&b[HOLD_LEN..HOLDS_LEN]);
        for j in 0..MAX_HOPS - 1 {
            for k in 0..MAX_HOPS - j - 1 {
                let o = mac_at(j, k + 1);
                next[o..o + MAC_LEN].copy_from_slice(mac(&b, j + 1, k));
            }
        }
        Some((hold, AttributionData(next)))
    }

    /// At the origin of a successful payment: each hop's hold time, in
    /// route order, as far as the HMACs verify (a shorter result names the
    /// first hop whose layer is bad).
    pub fn hold_times(&self, shared_secrets: &[[u8; 32]]) -> Vec<u32> {
        let n = shared_secrets.len().min(MAX_HOPS);
        let mut out = Vec::with_capacity(n);
        let mut cur = self.clone();
        for (k, ss) in shared_secrets.iter().take(n).enumerate() {
            match cur.unwrap_hop(&[], ss, n - k) {
                Some((h, next)) => {
                    out.push(h);
                    cur = next;
                }
                None => break,
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn layout_covers_exactly_920_bytes() {
        assert_eq!(ATTRIBUTION_LEN, 920);
        assert_eq!(mac_at(0, 0), 80);
        assert_eq!(mac_at(1, 0), 80 + 20 * 4);
        assert_eq!(mac_at(MAX_HOPS - 1, 0) + MAC_LEN, ATTRIBUTION_LEN);
    }

    #[test]
    fn corrupted_hold_time_fails_that_hop() {
        let ss = [[1u8; 32], [2u8; 32], [3u8; 32]];
        let mut a: Option<AttributionData> = None;
        for (i, s) in ss.iter().enumerate().rev() {
            let mut w = AttributionData::wrap(a.as_ref(), &[], 10 + i as u32, s);
            if i == 1 {
                w.0[2] ^= 1;
            }
            a = Some(w);
        }
        let a = a.expect("data");
        assert_eq!(a.hold_times(&ss), vec![10]);
        assert_eq!(a.unwrap_hop(&[], &ss[0], 0), None);
        assert_eq!(a.unwrap_hop(&[], &ss[0], MAX_HOPS + 1), None);
    }
}
