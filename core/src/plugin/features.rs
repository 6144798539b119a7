//! Feature bits plugins add to the node's (`featurebits` in the manifest).
//!
//! As in Core Lightning: only plugins loaded at startup may set bits (a
//! peer already connected would never see a bit added later), and a bit
//! the node or an earlier plugin already sets is refused, so two owners
//! never claim one feature. `init` bits go into every `init` message.
//! `node`, `channel` and `invoice` bits are checked and kept (and shown in
//! later plugins' `init`), but nothing carries them yet: there are no
//! announcements, and invoices are built with `lightning-invoice`'s typed
//! feature setters. Loading a plugin that declares them logs a warning.

use lumen_sdk::api::OurFeatures;
use lumen_sdk::protocol::FeatureBits;
use serde_json::{Value, json};

use crate::wire::Features;

/// The node's feature sets, plugins' bits included.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FeatureSets {
    /// Sent in `init`.
    pub init: Features,
    /// For the node announcement.
    pub node: Features,
    /// For channel announcements.
    pub channel: Features,
    /// Set in invoices.
    pub invoice: Features,
}

impl FeatureSets {
    /// Read the node's own sets from `init`'s `feature_set` (hex strings;
    /// missing or unreadable ones are empty).
    pub fn from_feature_set(v: &Value) -> FeatureSets {
        let read = |k: &str| {
            v.get(k)
                .and_then(Value::as_str)
                .and_then(|h| hex::decode(h).ok())
                .map(|b| Features::from_be_bytes(&b))
                .unwrap_or_default()
        };
        FeatureSets {
            init: read("init"),
            node: read("node"),
            channel: read("channel"),
            invoice: read("invoice"),
        }
    }

    /// The node's own sets, before plugins: `init` as the peer manager
    /// sends it, no channel bits (nothing is announced yet).
    pub fn ours(init: Features) -> FeatureSets {
        FeatureSets {
            init,
            node: Features::our_node(),
            channel: Features::default(),
            invoice: crate::invoice::our_features(),
        }
    }

    /// As hex strings, `getinfo`'s `our_features`.
    pub fn to_our_features(&self) -> OurFeatures {
        OurFeatures {
            init: hex::encode(self.init.to_be_bytes()),
            node: hex::encode(self.node.to_be_bytes()),
            channel: hex::encode(self.channel.to_be_bytes()),
            invoice: hex::encode(self.invoice.to_be_bytes()),
        }
    }

    /// As `init`'s `feature_set` (the same hex strings).
    pub fn to_feature_set(&self) -> Value {
        serde_json::to_value(self.to_our_features()).unwrap_or_else(|_| json!({}))
    }

    /// Parse a manifest's bits and check them against these sets:
    /// readable hex, none already set, none from a plugin started at
    /// runtime. Returns the bits to add.
    pub fn check(&self, bits: &FeatureBits, startup: bool) -> Result<FeatureSets, String> {
        let mut add = FeatureSets::default();
        for (kind, text, ours, slot) in [
            ("init", &bits.init, &self.init, &mut add.init),
            ("node", &bits.node, &self.node, &mut add.node),
            ("channel", &bits.channel, &self.channel, &mut add.channel),
            ("invoice", &bits.invoice, &self.invoice, &mut add.invoice),
        ] {
            if text.is_empty() {
                continue;
            }
            let bytes =
                hex::decode(text).map_err(|_| format!("featurebits.{kind} '{text}' is not hex"))?;
            let f = Features::from_be_bytes(&bytes);
            if f.is_empty() {
                continue;
            }
            if !startup {
                return Err(
                    "featurebits are only accepted from plugins loaded at startup".to_string(),
                );
            }
            if let Some(bit) = f.bits().find(|&b| ours.has_bit(b)) {
                return Err(format!(
                    "featurebits.{kind}: bit {bit} is already set by the node or another plugin"
                ));
            }
            *slot = f;
        }
        Ok(add)
    }

    /// The kinds with bits set that the node does not send anywhere yet.
    pub fn unapplied(&self) -> Vec<&'static str> {
        [
            ("node", &self.node),
            ("channel", &self.channel),
            ("invoice", &self.invoice),
        ]
        .into_iter()
        .filter(|(_, f)| !f.is_empty())
        .map(|(k, _)| k)
        .collect()
    }

    /// Add `other`'s bits.
    pub fn add(&mut self, other: &FeatureSets) {
        self.init = self.init.union(&other.init);
        self.node = self.node.union(&other.node);
        self.channel = self.channel.union(&other.channel);
        self.invoice = self.invoice.union(&other.invoice);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bits(init: &str, invoice: &str) -> FeatureBits {
        FeatureBits {
            init: init.into(),
            invoice: invoice.into(),
            ..FeatureBits::default()
        }
    }

    #[test]
    fn plugin_bits_are_checked_and_added() {
        // The node sets bit 1 in init.
        let mut sets = FeatureSets::from_feature_set(&json!({"init": "02", "invoice": ""}));
        assert!(sets.init.has_bit(1));
        // Bit 103 (13 bytes big-endian, top bit of the first byte).
        let hex103 = format!("80{}", "00".repeat(12));
        let add = sets.check(&bits(&hex103, "0100"), true).expect("new bits");
        assert!(add.init.has_bit(103));
        assert!(add.invoice.has_bit(8));
        assert_eq!(add.unapplied(), ["invoice"]);
        sets.add(&add);
        assert!(sets.init.has_bit(103) && sets.init.has_bit(1));
        // A second claim on either bit is refused, as is a runtime plugin's.
        let again = sets.check(&bits(&hex103, ""), true).expect_err("taken");
        assert!(again.contains("bit 103"), "{again}");
        let node = sets.check(&bits("02", ""), true).expect_err("node's bit");
        assert!(node.contains("bit 1 "), "{node}");
        let late = sets.check(&bits("0800", ""), false).expect_err("runtime");
        assert!(late.contains("startup"), "{late}");
        assert!(sets.check(&bits("zz", ""), true).is_err());
        // No bits (or all-zero hex) is fine at any time.
        assert_eq!(
            sets.check(&bits("", "00"), false),
            Ok(FeatureSets::default())
        );
        // The set round-trips through init's feature_set.
        assert_eq!(FeatureSets::from_feature_set(&sets.to_feature_set()), sets);
    }
}
