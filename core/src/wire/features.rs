//! BOLT 9 feature bits: the [`Features`] bit vector, named [`Feature`]s,
//! dependency checks and "unknown required bit" detection.

use std::fmt;

use super::codec::{Decode, Encode, Reader, Writer};
use super::error::DecodeError;
use super::tlv::TlvValue;

/// A named feature: a pair of bits, even = required, odd = optional.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Feature {
    /// 0/1 `option_data_loss_protect` (ASSUMED by the current spec).
    DataLossProtect,
    /// 3 `initial_routing_sync` (odd only; bit 2 is not assigned).
    InitialRoutingSync,
    /// 4/5 `option_upfront_shutdown_script`.
    UpfrontShutdownScript,
    /// 6/7 `gossip_queries` (ASSUMED by the current spec).
    GossipQueries,
    /// 8/9 `var_onion_optin` (ASSUMED by the current spec).
    VarOnionOptin,
    /// 10/11 `gossip_queries_ex`.
    GossipQueriesEx,
    /// 12/13 `option_static_remotekey` (ASSUMED by the current spec).
    StaticRemoteKey,
    /// 14/15 `payment_secret`.
    PaymentSecret,
    /// 16/17 `basic_mpp`.
    BasicMpp,
    /// 18/19 `option_support_large_channel`.
    LargeChannel,
    /// 22/23 `option_anchors_zero_fee_htlc_tx` (`option_anchors`).
    AnchorsZeroFeeHtlcTx,
    /// 24/25 `option_route_blinding`.
    RouteBlinding,
    /// 26/27 `option_shutdown_anysegwit`.
    ShutdownAnySegwit,
    /// 44/45 `option_channel_type`.
    ChannelType,
    /// 46/47 `option_scid_alias`.
    ScidAlias,
    /// 48/49 `option_payment_metadata` (invoices only).
    PaymentMetadata,
    /// 50/51 `option_zeroconf`.
    ZeroConf,
}

impl Feature {
    /// Every named feature.
    pub const ALL: &'static [Feature] = &[
        Feature::DataLossProtect,
        Feature::InitialRoutingSync,
        Feature::UpfrontShutdownScript,
        Feature::GossipQueries,
        Feature::VarOnionOptin,
        Feature::GossipQueriesEx,
        Feature::StaticRemoteKey,
        Feature::PaymentSecret,
        Feature::BasicMpp,
        Feature::LargeChannel,
        Feature::AnchorsZeroFeeHtlcTx,
        Feature::RouteBlinding,
        Feature::ShutdownAnySegwit,
        Feature::ChannelType,
        Feature::ScidAlias,
        Feature::PaymentMetadata,
        Feature::ZeroConf,
    ];

    /// The even (required) bit of the pair. For `initial_routing_sync`, whose
    /// only bit is 3, this is 2, which must never be set.
    pub const fn even_bit(self) -> usize {
        match self {
            Feature::DataLossProtect => 0,
            Feature::InitialRoutingSync => 2,
            Feature::UpfrontShutdownScript => 4,
            Feature::GossipQueries => 6,
            Feature::VarOnionOptin => 8,
            Feature::GossipQueriesEx => 10,
            Feature::StaticRemoteKey => 12,
            Feature::PaymentSecret => 14,
            Feature::BasicMpp => 16,
            Feature::LargeChannel => 18,
            Feature::AnchorsZeroFeeHtlcTx => 22,
            Feature::RouteBlinding => 24,
            Feature::ShutdownAnySegwit => 26,
            Feature::ChannelType => 44,
            Feature::ScidAlias => 46,
            Feature::PaymentMetadata => 48,
            Feature::ZeroConf => 50,
        }
    }

    /// The odd (optional) bit of the pair.
    pub const fn odd_bit(self) -> usize {
        self.even_bit() + 1
    }

    /// The spec's name.
    pub const fn name(self) -> &'static str {
        match self {
            Feature::DataLossProtect => "option_data_loss_protect",
            Feature::InitialRoutingSync => "initial_routing_sync",
            Feature::UpfrontShutdownScript => "option_upfront_shutdown_script",
            Feature::GossipQueries => "gossip_queries",
            Feature::VarOnionOptin => "var_onion_optin",
            Feature::GossipQueriesEx => "gossip_queries_ex",
            Feature::StaticRemoteKey => "option_static_remotekey",
            Feature::PaymentSecret => "payment_secret",
            Feature::BasicMpp => "basic_mpp",
            Feature::LargeChannel => "option_support_large_channel",
            Feature::AnchorsZeroFeeHtlcTx => "option_anchors_zero_fee_htlc_tx",
            Feature::RouteBlinding => "option_route_blinding",
            Feature::ShutdownAnySegwit => "option_shutdown_anysegwit",
            Feature::ChannelType => "option_channel_type",
            Feature::ScidAlias => "option_scid_alias",
            Feature::PaymentMetadata => "option_payment_metadata",
            Feature::ZeroConf => "option_zeroconf",
        }
    }

    /// The feature owning `bit`, if it is a named one.
    pub fn from_bit(bit: usize) -> Option<Feature> {
        Feature::ALL
            .iter()
            .copied()
            .find(|f| f.even_bit() == bit & !1)
    }

    /// Whether the current BOLT 9 marks this feature ASSUMED (every node
    /// supports it; it may be absent from a modern peer's vector).
    pub const fn is_assumed(self) -> bool {
        matches!(
            self,
            Feature::DataLossProtect
                | Feature::GossipQueries
                | Feature::VarOnionOptin
                | Feature::StaticRemoteKey
        )
    }
}

impl fmt::Display for Feature {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// Feature dependencies: `(feature, what it requires)`. Those whose
/// requirement is ASSUMED by the current spec are only enforced by
/// [`Features::check_dependencies_strict`].
pub const DEPENDENCIES: &[(Feature, Feature)] = &[
    (Feature::GossipQueriesEx, Feature::GossipQueries),
    (Feature::PaymentSecret, Feature::VarOnionOptin),
    (Feature::BasicMpp, Feature::PaymentSecret),
    (Feature::AnchorsZeroFeeHtlcTx, Feature::StaticRemoteKey),
    (Feature::ZeroConf, Feature::ScidAlias),
];

/// A feature vector that breaks a rule.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum FeatureError {
    /// `feature` is set but its dependency `requires` is not.
    #[error("{feature} is set but its dependency {requires} is not")]
    MissingDependency {
        /// The feature that is set.
        feature: Feature,
        /// The feature it depends on.
        requires: Feature,
    },
    /// The peer requires (even bit) a feature we do not support.
    #[error("unknown required feature bit {0}")]
    UnknownRequired(usize),
}

/// A feature bit vector. Stored normalised (no high zero bytes), so two
/// vectors with the same bits compare equal whatever their encoded length.
#[derive(Clone, PartialEq, Eq, Hash, Default)]
pub struct Features {
    /// Little-endian bytes: bit `i` is `le[i / 8] >> (i % 8)`.
    le: Vec<u8>,
}

impl Features {
    /// No bits set.
    pub fn empty() -> Features {
        Features::default()
    }

    /// From the wire's big-endian bytes (leading zero bytes are accepted).
    pub fn from_be_bytes(bytes: &[u8]) -> Features {
        let mut le: Vec<u8> = bytes.iter().rev().copied().collect();
        while le.last() == Some(&0) {
            le.pop();
        }
        Features { le }
    }

    /// The minimal big-endian encoding (no leading zero bytes).
    pub fn to_be_bytes(&self) -> Vec<u8> {
        self.le.iter().rev().copied().collect()
    }

    /// Whether `bit` is set.
    pub fn has_bit(&self, bit: usize) -> bool {
        self.le
            .get(bit / 8)
            .is_some_and(|b| b & (1 << (bit % 8)) != 0)
    }

    /// Set `bit`.
    pub fn set_bit(&mut self, bit: usize) {
        let i = bit / 8;
        if self.le.len() <= i {
            self.le.resize(i + 1, 0);
        }
        self.le[i] |= 1 << (bit % 8);
    }

    /// Clear `bit`.
    pub fn clear_bit(&mut self, bit: usize) {
        if let Some(b) = self.le.get_mut(bit / 8) {
            *b &= !(1 << (bit % 8));
        }
        while self.le.last() == Some(&0) {
            self.le.pop();
        }
    }

    /// Set the optional (odd) bit of `f`.
    pub fn set_optional(&mut self, f: Feature) {
        self.set_bit(f.odd_bit());
    }

    /// Set the required (even) bit of `f`.
    pub fn set_required(&mut self, f: Feature) {
        self.set_bit(f.even_bit());
    }

    /// Builder form of [`Self::set_optional`].
    pub fn with_optional(mut self, f: Feature) -> Features {
        self.set_optional(f);
        self
    }

    /// Builder form of [`Self::set_required`].
    pub fn with_required(mut self, f: Feature) -> Features {
        self.set_required(f);
        self
    }

    /// Whether `f` is offered at all (either bit).
    pub fn supports(&self, f: Feature) -> bool {
        self.has_bit(f.even_bit()) || self.has_bit(f.odd_bit())
    }

    /// Whether `f` is required (its even bit).
    pub fn requires(&self, f: Feature) -> bool {
        self.has_bit(f.even_bit())
    }

    /// The set bits, ascending.
    pub fn bits(&self) -> impl Iterator<Item = usize> + '_ {
        (0..self.le.len() * 8).filter(|&b| self.has_bit(b))
    }

    /// Whether no bit is set.
    pub fn is_empty(&self) -> bool {
        self.le.is_empty()
    }

    /// Bitwise OR (how `init`'s `globalfeatures` and `features` combine).
    pub fn union(&self, other: &Features) -> Features {
        let n = self.le.len().max(other.le.len());
        let le = (0..n)
            .map(|i| self.le.get(i).copied().unwrap_or(0) | other.le.get(i).copied().unwrap_or(0))
            .collect();
        Features { le }
    }

    /// Features both sides offer (either bit on each side).
    pub fn negotiated(&self, other: &Features, f: Feature) -> bool {
        self.supports(f) && other.supports(f)
    }

    /// BOLT 9 dependency check as the current spec states it: a set feature
    /// whose dependency is missing is an error, except where the dependency
    /// is ASSUMED (a modern peer may leave assumed bits out).
    pub fn check_dependencies(&self) -> Result<(), FeatureError> {
        self.check_deps(false)
    }

    /// Every dependency in [`DEPENDENCIES`], assumed ones included. Our own
    /// advertised vectors pass this.
    pub fn check_dependencies_strict(&self) -> Result<(), FeatureError> {
        self.check_deps(true)
    }

    fn check_deps(&self, strict: bool) -> Result<(), FeatureError> {
        for &(feature, requires) in DEPENDENCIES {
            if !strict && requires.is_assumed() {
                continue;
            }
            if self.supports(feature) && !self.supports(requires) {
                return Err(FeatureError::MissingDependency { feature, requires });
            }
        }
        Ok(())
    }

    /// "It's OK to be odd": the first even bit set here whose pair is not
    /// in `ours` (the features we understand) is an error.
    pub fn check_unknown_required(&self, ours: &Features) -> Result<(), FeatureError> {
        match self
            .bits()
            .find(|&b| b % 2 == 0 && !ours.has_bit(b) && !ours.has_bit(b + 1))
        {
            Some(b) => Err(FeatureError::UnknownRequired(b)),
            None => Ok(()),
        }
    }

    /// What Lumen advertises in `init`: `option_data_loss_protect`,
    /// `gossip_queries`, `var_onion_optin`, `option_static_remotekey`,
    /// `payment_secret`, `basic_mpp`, `option_anchors_zero_fee_htlc_tx`,
    /// `option_shutdown_anysegwit`, `option_channel_type` — all optional.
    pub fn our_init() -> Features {
        let mut f = Features::empty();
        for feat in OUR_FEATURES {
            f.set_optional(*feat);
        }
        f
    }

    /// What Lumen advertises in `node_announcement` (the same set).
    pub fn our_node() -> Features {
        Features::our_init()
    }
}

const OUR_FEATURES: &[Feature] = &[
    Feature::DataLossProtect,
    Feature::GossipQueries,
    Feature::VarOnionOptin,
    Feature::StaticRemoteKey,
    Feature::PaymentSecret,
    Feature::BasicMpp,
    Feature::AnchorsZeroFeeHtlcTx,
    Feature::ShutdownAnySegwit,
    Feature::ChannelType,
];

impl fmt::Debug for Features {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let bits: Vec<usize> = self.bits().collect();
        write!(f, "Features({bits:?})")
    }
}

impl fmt::Display for Features {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&hex::encode(self.to_be_bytes()))
    }
}

/// In message bodies features are a `u16` length then big-endian bytes.
impl Encode for Features {
    fn encode(&self, w: &mut Writer) {
        w.put_u16_prefixed("features", &self.to_be_bytes());
    }
}

impl Decode for Features {
    fn decode(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        Ok(Features::from_be_bytes(r.read_u16_prefixed()?))
    }
}

/// In a TLV record (`channel_type`) the features are the whole value.
impl TlvValue for Features {
    fn write_value(&self, w: &mut Writer) {
        w.put(&self.to_be_bytes());
    }
    fn read_value(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        Ok(Features::from_be_bytes(r.read_rest()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bits_and_bytes() {
        let mut f = Features::empty();
        f.set_bit(0);
        f.set_bit(9);
        assert_eq!(f.to_be_bytes(), vec![0x02, 0x01]);
        assert_eq!(Features::from_be_bytes(&[0, 0, 0x02, 0x01]), f);
        f.clear_bit(9);
        assert_eq!(f.to_be_bytes(), vec![0x01]);
        assert!(Features::from_be_bytes(&[0, 0]).is_empty());
    }

    #[test]
    fn ours_are_consistent() {
        let ours = Features::our_init();
        ours.check_dependencies_strict().unwrap();
        assert!(ours.supports(Feature::PaymentSecret) && !ours.requires(Feature::PaymentSecret));
        assert!(ours.bits().all(|b| b % 2 == 1));
    }

    #[test]
    fn dependencies() {
        let f = Features::empty().with_optional(Feature::BasicMpp);
        assert_eq!(
            f.check_dependencies(),
            Err(FeatureError::MissingDependency {
                feature: Feature::BasicMpp,
                requires: Feature::PaymentSecret
            })
        );
        let f = Features::empty().with_optional(Feature::PaymentSecret);
        assert!(f.check_dependencies().is_ok());
        assert!(f.check_dependencies_strict().is_err());
        let f = Features::empty().with_required(Feature::AnchorsZeroFeeHtlcTx);
        assert!(f.check_dependencies_strict().is_err());
        let f = Features::empty().with_optional(Feature::ZeroConf);
        assert!(f.check_dependencies().is_err());
    }

    #[test]
    fn unknown_required() {
        let ours = Features::our_init();
        // Required bits of features we support optionally are fine.
        let peer = Features::empty().with_required(Feature::VarOnionOptin);
        assert!(peer.check_unknown_required(&ours).is_ok());
        // Unknown odd bits are fine, unknown even bits are not.
        let mut peer = Features::empty();
        peer.set_bit(101);
        assert!(peer.check_unknown_required(&ours).is_ok());
        peer.set_bit(100);
        assert_eq!(
            peer.check_unknown_required(&ours),
            Err(FeatureError::UnknownRequired(100))
        );
    }
}
