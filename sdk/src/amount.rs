//! Typed money amounts and the amount syntax accepted on the RPC.
//!
//! Parameters accept what Core Lightning accepts: a bare integer (millisatoshi
//! for [`Msat`], satoshi for [`Sat`]), or a string with a unit:
//! `"1000msat"`, `"10sat"`, `"0.1btc"`. Results are always written as plain
//! integers, as Core Lightning has done since v23.05.

use std::fmt;
use std::str::FromStr;

use serde::de::{self, Visitor};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// Millisatoshis per satoshi.
pub const MSAT_PER_SAT: u64 = 1_000;
/// Satoshis per bitcoin.
pub const SAT_PER_BTC: u64 = 100_000_000;
/// The most bitcoin that can ever exist, in satoshi (21e6 BTC). Amounts above
/// it are refused rather than silently accepted.
pub const MAX_SAT: u64 = 21_000_000 * SAT_PER_BTC;

/// Why an amount string was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AmountParseError {
    /// Not `N`, `Nmsat`, `Nsat` or `N[.F]btc`.
    #[error(
        "'{0}' is not an amount: expected an integer, or a string like '1000msat', '10sat' or '0.1btc'"
    )]
    Syntax(String),
    /// More decimal places than the unit allows.
    #[error("'{0}' has more precision than the unit allows (btc: 11 decimals for msat, 8 for sat)")]
    Precision(String),
    /// A satoshi amount was given with a millisatoshi fraction.
    #[error("'{0}' is not a whole number of satoshi")]
    FractionalSat(String),
    /// Larger than 21 million bitcoin.
    #[error("'{0}' is more than 21 million bitcoin")]
    TooLarge(String),
}

/// An amount in millisatoshi.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Msat(pub u64);

/// An amount in satoshi.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Sat(pub u64);

impl Msat {
    /// The amount in millisatoshi.
    pub const fn to_msat(self) -> u64 {
        self.0
    }
}

impl Sat {
    /// The amount in satoshi.
    pub const fn to_sat(self) -> u64 {
        self.0
    }
    /// The same amount in millisatoshi.
    pub const fn to_msat(self) -> Msat {
        Msat(self.0 * MSAT_PER_SAT)
    }
}

/// Parses `digits[.fraction]` into an integer scaled by `10^scale`, refusing
/// more than `scale` decimals.
fn parse_scaled(whole: &str, original: &str, scale: u32) -> Result<u128, AmountParseError> {
    let syntax = || AmountParseError::Syntax(original.to_string());
    let (int_part, frac_part) = match whole.split_once('.') {
        Some((i, f)) => (i, Some(f)),
        None => (whole, None),
    };
    if int_part.is_empty() || !int_part.bytes().all(|b| b.is_ascii_digit()) {
        return Err(syntax());
    }
    let mut value: u128 = 0;
    for b in int_part.bytes() {
        value = value
            .checked_mul(10)
            .and_then(|v| v.checked_add(u128::from(b - b'0')))
            .ok_or_else(|| AmountParseError::TooLarge(original.to_string()))?;
    }
    let mut frac_value: u128 = 0;
    let mut frac_digits = 0u32;
    if let Some(f) = frac_part {
        if f.is_empty() || !f.bytes().all(|b| b.is_ascii_digit()) {
            return Err(syntax());
        }
        if f.len() as u32 > scale {
            return Err(AmountParseError::Precision(original.to_string()));
        }
        for b in f.bytes() {
            frac_value = frac_value * 10 + u128::from(b - b'0');
            frac_digits += 1;
        }
    }
    let factor = 10u128.pow(scale);
    let frac_scaled = frac_value * 10u128.pow(scale - frac_digits);
    value
        .checked_mul(factor)
        .and_then(|v| v.checked_add(frac_scaled))
        .ok_or_else(|| AmountParseError::TooLarge(original.to_string()))
}

impl FromStr for Msat {
    type Err = AmountParseError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let msat: u128 = if let Some(n) = s.strip_suffix("msat") {
            parse_scaled(n, s, 0)?
        } else if let Some(n) = s.strip_suffix("sat") {
            parse_scaled(n, s, 0)? * u128::from(MSAT_PER_SAT)
        } else if let Some(n) = s.strip_suffix("btc") {
            parse_scaled(n, s, 11)?
        } else {
            parse_scaled(s, s, 0)?
        };
        if msat > u128::from(MAX_SAT) * u128::from(MSAT_PER_SAT) {
            return Err(AmountParseError::TooLarge(s.to_string()));
        }
        Ok(Msat(msat as u64))
    }
}

impl FromStr for Sat {
    type Err = AmountParseError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let sat: u128 = if let Some(n) = s.strip_suffix("msat") {
            let msat = parse_scaled(n, s, 0)?;
            if msat % u128::from(MSAT_PER_SAT) != 0 {
                return Err(AmountParseError::FractionalSat(s.to_string()));
            }
            msat / u128::from(MSAT_PER_SAT)
        } else if let Some(n) = s.strip_suffix("sat") {
            parse_scaled(n, s, 0)?
        } else if let Some(n) = s.strip_suffix("btc") {
            parse_scaled(n, s, 8)?
        } else {
            parse_scaled(s, s, 0)?
        };
        if sat > u128::from(MAX_SAT) {
            return Err(AmountParseError::TooLarge(s.to_string()));
        }
        Ok(Sat(sat as u64))
    }
}

impl fmt::Display for Msat {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}msat", self.0)
    }
}

impl fmt::Display for Sat {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}sat", self.0)
    }
}

impl Serialize for Msat {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_u64(self.0)
    }
}

impl Serialize for Sat {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_u64(self.0)
    }
}

/// Accepts a JSON integer or an amount string; `T` decides the unit of a bare
/// integer and how strings are read.
struct AmountVisitor<T>(std::marker::PhantomData<T>);

impl<T> Visitor<'_> for AmountVisitor<T>
where
    T: FromStr<Err = AmountParseError> + From<u64>,
{
    type Value = T;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an amount: an integer, or a string like '1000msat', '10sat' or '0.1btc'")
    }

    fn visit_u64<E: de::Error>(self, v: u64) -> Result<T, E> {
        // A bare integer is checked against the same ceiling as strings.
        T::from_str(&v.to_string()).map_err(E::custom)
    }

    fn visit_i64<E: de::Error>(self, v: i64) -> Result<T, E> {
        u64::try_from(v)
            .map_err(|_| E::custom(format!("amount {v} is negative")))
            .and_then(|v| self.visit_u64(v))
    }

    fn visit_f64<E: de::Error>(self, v: f64) -> Result<T, E> {
        Err(E::custom(format!(
            "amount {v} is not an integer; write fractions as a string with a unit, e.g. '0.001btc'"
        )))
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<T, E> {
        T::from_str(v).map_err(E::custom)
    }
}

impl From<u64> for Msat {
    fn from(v: u64) -> Self {
        Msat(v)
    }
}

impl From<u64> for Sat {
    fn from(v: u64) -> Self {
        Sat(v)
    }
}

impl<'de> Deserialize<'de> for Msat {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(AmountVisitor::<Msat>(std::marker::PhantomData))
    }
}

impl<'de> Deserialize<'de> for Sat {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(AmountVisitor::<Sat>(std::marker::PhantomData))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn msat_forms() {
        assert_eq!("1000".parse::<Msat>(), Ok(Msat(1000)));
        assert_eq!("1000msat".parse::<Msat>(), Ok(Msat(1000)));
        assert_eq!("10sat".parse::<Msat>(), Ok(Msat(10_000)));
        assert_eq!("0.1btc".parse::<Msat>(), Ok(Msat(10_000_000_000)));
        assert_eq!("1btc".parse::<Msat>(), Ok(Msat(100_000_000_000)));
        assert_eq!("0.00000000001btc".parse::<Msat>(), Ok(Msat(1)));
        assert_eq!("21000000btc".parse::<Msat>(), Ok(Msat(MAX_SAT * 1000)));
    }

    #[test]
    fn sat_forms() {
        assert_eq!("10".parse::<Sat>(), Ok(Sat(10)));
        assert_eq!("10sat".parse::<Sat>(), Ok(Sat(10)));
        assert_eq!("10000msat".parse::<Sat>(), Ok(Sat(10)));
        assert_eq!("0.1btc".parse::<Sat>(), Ok(Sat(10_000_000)));
        assert!(matches!(
            "1001msat".parse::<Sat>(),
            Err(AmountParseError::FractionalSat(_))
        ));
        assert!(matches!(
            "0.000000001btc".parse::<Sat>(),
            Err(AmountParseError::Precision(_))
        ));
    }

    #[test]
    fn refusals() {
        for bad in [
            "", "msat", "1.5msat", "1.5sat", "-1", "1e3", "0x10", " 1", "1 sat", "1.btc", ".1btc",
            "1,000",
        ] {
            assert!(bad.parse::<Msat>().is_err(), "{bad:?} must be refused");
        }
        assert!(matches!(
            "21000000.00000000001btc".parse::<Msat>(),
            Err(AmountParseError::TooLarge(_))
        ));
        assert!(matches!(
            "99999999999999999999999999999999999999999".parse::<Msat>(),
            Err(AmountParseError::TooLarge(_))
        ));
    }

    #[test]
    fn json_forms() {
        let m: Msat = serde_json::from_str("1000").unwrap();
        assert_eq!(m, Msat(1000));
        let m: Msat = serde_json::from_str("\"0.1btc\"").unwrap();
        assert_eq!(m, Msat(10_000_000_000));
        assert!(serde_json::from_str::<Msat>("-5").is_err());
        assert!(serde_json::from_str::<Msat>("1.5").is_err());
        assert!(serde_json::from_str::<Msat>("true").is_err());
        assert_eq!(serde_json::to_string(&Msat(7)).unwrap(), "7");
    }

    proptest::proptest! {
        #[test]
        fn msat_string_roundtrip(v in 0u64..=MAX_SAT * 1000) {
            proptest::prop_assert_eq!(Msat(v).to_string().parse::<Msat>(), Ok(Msat(v)));
            proptest::prop_assert_eq!(v.to_string().parse::<Msat>(), Ok(Msat(v)));
        }

        #[test]
        fn arbitrary_strings_never_panic(s in ".{0,40}") {
            let _ = s.parse::<Msat>();
            let _ = s.parse::<Sat>();
        }
    }
}
