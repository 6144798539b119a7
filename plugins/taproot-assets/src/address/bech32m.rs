//! Bech32m (BIP-350) without the 90-character limit, as tapd uses it
//! (`bech32.DecodeNoLimit`): addresses are 250+ characters.

const CHARSET: &[u8; 32] = b"qpzry9x8gf2tvdw0s3jn54khce6mua7l";
const BECH32M_CONST: u32 = 0x2bc8_30a3;

/// Why a string is not valid bech32m.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Bech32Error {
    /// No `1` separator, or empty HRP.
    #[error("invalid bech32m string: missing separator or human-readable part")]
    MissingSeparator,
    /// Mixed upper and lower case.
    #[error("invalid bech32m string: mixed case")]
    MixedCase,
    /// A character outside the bech32 alphabet or HRP range.
    #[error("invalid bech32m character")]
    InvalidChar,
    /// Fewer than six checksum characters.
    #[error("invalid bech32m string: too short")]
    TooShort,
    /// Checksum does not verify as bech32m.
    #[error("invalid bech32m checksum")]
    InvalidChecksum,
    /// 5-to-8 bit conversion left non-zero or over-long padding.
    #[error("invalid bech32m padding")]
    InvalidPadding,
}

fn polymod(values: impl Iterator<Item = u8>) -> u32 {
    const GEN: [u32; 5] = [
        0x3b6a_57b2,
        0x2650_8e6d,
        0x1ea1_19fa,
        0x3d42_33dd,
        0x2a14_62b3,
    ];
    let mut chk: u32 = 1;
    for v in values {
        let top = chk >> 25;
        chk = ((chk & 0x01ff_ffff) << 5) ^ u32::from(v);
        for (i, g) in GEN.iter().enumerate() {
            if (top >> i) & 1 == 1 {
                chk ^= g;
            }
        }
    }
    chk
}

fn hrp_expand(hrp: &[u8]) -> Vec<u8> {
    let mut out: Vec<u8> = hrp.iter().map(|c| c >> 5).collect();
    out.push(0);
    out.extend(hrp.iter().map(|c| c & 31));
    out
}

/// Encodes bytes under `hrp` (which must be lower-case ASCII).
pub fn encode(hrp: &str, data: &[u8]) -> String {
    // 8 -> 5 bits with padding.
    let mut five = Vec::with_capacity(data.len() * 8 / 5 + 1);
    let (mut acc, mut bits) = (0u32, 0u32);
    for b in data {
        acc = (acc << 8) | u32::from(*b);
        bits += 8;
        while bits >= 5 {
            bits -= 5;
            five.push(((acc >> bits) & 31) as u8);
        }
        acc &= (1 << bits) - 1;
    }
    if bits > 0 {
        five.push(((acc << (5 - bits)) & 31) as u8);
    }
    let mut values = hrp_expand(hrp.as_bytes());
    values.extend_from_slice(&five);
    values.extend_from_slice(&[0; 6]);
    let pm = polymod(values.into_iter()) ^ BECH32M_CONST;
    let mut s = String::with_capacity(hrp.len() + 1 + five.len() + 6);
    s.push_str(hrp);
    s.push('1');
    for v in five {
        s.push(char::from(CHARSET[usize::from(v)]));
    }
    for i in 0..6 {
        s.push(char::from(CHARSET[((pm >> (5 * (5 - i))) & 31) as usize]));
    }
    s
}

/// Decodes a bech32m string into (lower-case HRP, bytes).
pub fn decode(s: &str) -> Result<(String, Vec<u8>), Bech32Error> {
    let has_lower = s.bytes().any(|c| c.is_ascii_lowercase());
    let has_upper = s.bytes().any(|c| c.is_ascii_uppercase());
    if has_lower && has_upper {
        return Err(Bech32Error::MixedCase);
    }
    let s = s.to_ascii_lowercase();
    let sep = s.rfind('1').ok_or(Bech32Error::MissingSeparator)?;
    if sep == 0 {
        return Err(Bech32Error::MissingSeparator);
    }
    let (hrp, rest) = (&s[..sep], &s[sep + 1..]);
    if hrp.bytes().any(|c| !(33..=126).contains(&c)) {
        return Err(Bech32Error::InvalidChar);
    }
    if rest.len() < 6 {
        return Err(Bech32Error::TooShort);
    }
    let mut five = Vec::with_capacity(rest.len());
    for c in rest.bytes() {
        let v = CHARSET
            .iter()
            .position(|x| *x == c)
            .ok_or(Bech32Error::InvalidChar)?;
        five.push(v as u8);
    }
    let mut values = hrp_expand(hrp.as_bytes());
    values.extend_from_slice(&five);
    if polymod(values.into_iter()) != BECH32M_CONST {
        return Err(Bech32Error::InvalidChecksum);
    }
    five.truncate(five.len() - 6);
    // 5 -> 8 bits, no padding allowed beyond 4 zero bits.
    let mut out = Vec::with_capacity(five.len() * 5 / 8);
    let (mut acc, mut bits) = (0u32, 0u32);
    for v in five {
        acc = (acc << 5) | u32::from(v);
        bits += 5;
        if bits >= 8 {
            bits -= 8;
            out.push(((acc >> bits) & 0xff) as u8);
        }
        acc &= (1 << bits) - 1;
    }
    if bits >= 5 || acc != 0 {
        return Err(Bech32Error::InvalidPadding);
    }
    Ok((hrp.to_owned(), out))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bip350_valid_strings() {
        for s in [
            "A1LQFN3A",
            "a1lqfn3a",
            "abcdef1l7aum6echk45nj3s0wdvt2fg8x9yrzpqzd3ryx",
            "?1v759aa",
        ] {
            let lower = s.to_ascii_lowercase();
            let sep = lower.rfind('1').unwrap();
            // These have 5-bit payloads that need not be byte-aligned; only
            // the checksum is checked here.
            let mut values = hrp_expand(&lower.as_bytes()[..sep]);
            for c in lower[sep + 1..].bytes() {
                values.push(CHARSET.iter().position(|x| *x == c).unwrap() as u8);
            }
            assert_eq!(polymod(values.into_iter()), BECH32M_CONST, "{s}");
        }
    }

    #[test]
    fn roundtrip_and_rejects() {
        let data: Vec<u8> = (0..=255).collect();
        let s = encode("tapbc", &data);
        assert!(s.len() > 90);
        assert_eq!(decode(&s).unwrap(), ("tapbc".to_owned(), data));
        assert_eq!(decode(&s.to_ascii_uppercase()).unwrap().0, "tapbc");
        let mut bad = s.clone().into_bytes();
        let n = bad.len();
        bad[n - 1] = if bad[n - 1] == b'q' { b'p' } else { b'q' };
        assert_eq!(
            decode(std::str::from_utf8(&bad).unwrap()),
            Err(Bech32Error::InvalidChecksum)
        );
        assert_eq!(decode("noseparator"), Err(Bech32Error::MissingSeparator));
        assert_eq!(decode("Tapbc1QQ"), Err(Bech32Error::MixedCase));
    }
}
