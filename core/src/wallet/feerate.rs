//! Core Lightning's feerate parameter: `urgent|normal|slow|…`, `<n>blocks`,
//! `<n>perkw`, `<n>perkb` or a bare number (perkb, as CLN reads it).

use serde_json::Value;

/// The lowest feerate we use or accept, in sat per 1000 weight: CLN's
/// floor, 1 sat/vB rounded up so a 1000-weight transaction pays ≥ 250 sat.
pub const FEERATE_FLOOR_PERKW: u32 = 253;

/// A parsed feerate request: an explicit rate or a confirmation target.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FeerateSpec {
    /// Sat per 1000 weight units.
    PerKw(u32),
    /// Whatever the chain estimates for confirmation within this many blocks.
    Blocks(u16),
    /// The floor (`minimum`, `min_acceptable`).
    Minimum,
}

/// Blocks CLN aims for with each word.
fn word_target(word: &str) -> Option<FeerateSpec> {
    Some(match word {
        "urgent"
        | "unilateral_close"
        | "unilateral_anchor_close"
        | "htlc_resolution"
        | "penalty" => FeerateSpec::Blocks(6),
        "normal" | "opening" | "max_acceptable" => FeerateSpec::Blocks(12),
        "slow" | "mutual_close" | "delayed_to_us" => FeerateSpec::Blocks(100),
        "minimum" | "min_acceptable" => FeerateSpec::Minimum,
        _ => return None,
    })
}

/// Parse a feerate the way `lightningd` does; the error says why not.
pub fn parse_feerate(v: &Value) -> Result<FeerateSpec, String> {
    let perkb = |n: u64| -> Result<FeerateSpec, String> {
        let kw = u32::try_from(n / 4).map_err(|_| format!("feerate {n}perkb is too large"))?;
        Ok(FeerateSpec::PerKw(kw))
    };
    match v {
        Value::Number(n) => {
            let n = n
                .as_u64()
                .ok_or_else(|| format!("feerate {n} is not a whole non-negative number"))?;
            perkb(n)
        }
        Value::String(s) => {
            if let Some(spec) = word_target(s) {
                return Ok(spec);
            }
            let split = s.find(|c: char| !c.is_ascii_digit()).unwrap_or(s.len());
            let (num, suffix) = s.split_at(split);
            let n: u64 = num.parse().map_err(|_| {
                format!(
                    "'{s}' is not a feerate (urgent, normal, slow, <n>perkw, <n>perkb, <n>blocks)"
                )
            })?;
            match suffix {
                "" | "perkb" => perkb(n),
                "perkw" => u32::try_from(n)
                    .map(FeerateSpec::PerKw)
                    .map_err(|_| format!("feerate {s} is too large")),
                "blocks" => match u16::try_from(n) {
                    Ok(b) if b > 0 => Ok(FeerateSpec::Blocks(b)),
                    _ => Err(format!("'{s}': blocks must be 1..65535")),
                },
                _ => Err(format!(
                    "'{s}' is not a feerate (urgent, normal, slow, <n>perkw, <n>perkb, <n>blocks)"
                )),
            }
        }
        other => Err(format!("feerate must be a string or number, got {other}")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn parses_cln_spellings() {
        assert_eq!(parse_feerate(&json!("urgent")), Ok(FeerateSpec::Blocks(6)));
        assert_eq!(parse_feerate(&json!("normal")), Ok(FeerateSpec::Blocks(12)));
        assert_eq!(parse_feerate(&json!("slow")), Ok(FeerateSpec::Blocks(100)));
        assert_eq!(
            parse_feerate(&json!("1000perkw")),
            Ok(FeerateSpec::PerKw(1000))
        );
        assert_eq!(
            parse_feerate(&json!("4000perkb")),
            Ok(FeerateSpec::PerKw(1000))
        );
        assert_eq!(parse_feerate(&json!("4000")), Ok(FeerateSpec::PerKw(1000)));
        assert_eq!(parse_feerate(&json!(2000)), Ok(FeerateSpec::PerKw(500)));
        assert_eq!(parse_feerate(&json!("3blocks")), Ok(FeerateSpec::Blocks(3)));
        assert_eq!(parse_feerate(&json!("minimum")), Ok(FeerateSpec::Minimum));
        for bad in [
            json!("fast"),
            json!("12perkx"),
            json!("-5"),
            json!(1.5),
            json!("0blocks"),
            json!(null),
        ] {
            assert!(parse_feerate(&bad).is_err(), "{bad} accepted");
        }
    }
}
