//! BOLT 1 setup and control messages: `init`, `error`, `warning`, `ping`, `pong`.

use super::wire_message;
use crate::wire::features::{FeatureError, Features};
use crate::wire::tlv::tlv_stream;
use crate::wire::types::{ChainHash, ChannelId};

tlv_stream! {
    /// `init_tlvs`.
    pub struct InitTlvs {
        /// 1 `networks`: the chains the sender is interested in.
        (1) networks: Vec<ChainHash>,
        /// 3 `remote_addr`: the peer's address as the sender sees it (a raw
        /// BOLT 7 address descriptor).
        (3) remote_addr: Vec<u8>,
    }
}

wire_message! {
    /// `init` (16): the first message on a connection.
    pub struct Init {
        /// Legacy `globalfeatures` (combine with `features` by OR).
        pub global_features: Features,
        /// `features`.
        pub features: Features,
        /// `init_tlvs`.
        pub tlvs: InitTlvs,
    }
}

impl Init {
    /// `globalfeatures | features`, the vector a receiver acts on.
    pub fn combined_features(&self) -> Features {
        self.global_features.union(&self.features)
    }

    /// BOLT 1/9 receiver checks of the peer's combined features against
    /// `ours` (the features we understand): no unknown required (even) bit,
    /// and every (non-assumed) dependency set. A failure means: send a
    /// `warning` and disconnect.
    pub fn check_features(&self, ours: &Features) -> Result<(), FeatureError> {
        let theirs = self.combined_features();
        theirs.check_unknown_required(ours)?;
        theirs.check_dependencies()
    }
}

wire_message! {
    /// `error` (17): the channel (or, with an all-zero id, every channel) failed.
    pub struct ErrorMessage {
        /// The failed channel, or all zeros for all channels.
        pub channel_id: ChannelId,
        /// Diagnostic data, usually ASCII.
        pub data: Vec<u8>,
    }
}

wire_message! {
    /// `warning` (1): something is off, but the connection stays up.
    pub struct Warning {
        /// The channel concerned, or all zeros.
        pub channel_id: ChannelId,
        /// Diagnostic data, usually ASCII.
        pub data: Vec<u8>,
    }
}

wire_message! {
    /// `ping` (18).
    pub struct Ping {
        /// How many bytes of `ignored` the `pong` should carry.
        pub num_pong_bytes: u16,
        /// Padding.
        pub ignored: Vec<u8>,
    }
}

wire_message! {
    /// `pong` (19).
    pub struct Pong {
        /// Padding (`num_pong_bytes` long).
        pub ignored: Vec<u8>,
    }
}
