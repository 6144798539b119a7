//! The in-process plugin ABI: an `abi_stable` root module whose only job is
//! to exchange JSON-RPC 2.0 messages as strings, one sink each way.
//!
//! - The host calls [`PluginMod::start`] with a [`MessageSinkBox`] through
//!   which the plugin sends messages to the host; `start` returns the sink
//!   through which the host sends messages to the plugin.
//! - A sink is an `abi_stable` `#[sabi_trait]` object ([`MessageSink`]), so no
//!   raw pointers or `unsafe` are needed on either side; its `send` must not
//!   block (implementations enqueue) and must not panic (both SDK ends wrap
//!   their work in `catch_unwind`: a panic crossing this boundary aborts).
//! - [`ABI_VERSION`] is stored in the module and checked by the host at load,
//!   on top of abi_stable's own layout and crate-version checks.
//!
//! Nothing else crosses the boundary.

// abi_stable's derives expand to `unsafe` blocks; this module holds no
// hand-written `unsafe`.
#![allow(unsafe_code)]

use abi_stable::{
    StableAbi, declare_root_module_statics,
    library::RootModule,
    package_version_strings,
    sabi_types::VersionStrings,
    std_types::{RBox, RResult, RString},
};

/// Re-exports a plugin crate needs for the code [`crate::export_plugin!`]
/// expands to.
pub mod reexports {
    pub use abi_stable::{
        export_root_module,
        sabi_trait::TD_Opaque,
        std_types::{RResult, RString},
    };
}

/// Version of the message-exchange contract. Bumped on any change of meaning
/// (layout changes are caught by abi_stable itself).
pub const ABI_VERSION: u32 = 1;

mod sink {
    #![allow(missing_docs)]
    #![allow(non_camel_case_types)]
    #![allow(non_local_definitions)]
    use abi_stable::{sabi_trait, std_types::RString};

    /// One direction of the message pipe: `send` takes one JSON-RPC 2.0
    /// message (request, response or notification) as UTF-8 text. It must
    /// enqueue and return; it must not block or panic.
    #[sabi_trait]
    pub trait MessageSink: Send + Sync {
        /// Deliver one message.
        fn send(&self, message: RString);
    }
}

pub use sink::{MessageSink, MessageSink_TO};

/// An owned, FFI-safe message sink.
pub type MessageSinkBox = MessageSink_TO<'static, RBox<()>>;

/// Wrap any Rust [`MessageSink`] into the FFI-safe box that crosses the
/// boundary.
pub fn sink_box<S: MessageSink + 'static>(sink: S) -> MessageSinkBox {
    MessageSink_TO::from_value(sink, abi_stable::sabi_trait::TD_Opaque)
}

/// Signature of the plugin's start function: gets the host's sink, returns
/// the plugin's sink or an error message.
pub type StartFn = extern "C" fn(host: MessageSinkBox) -> RResult<MessageSinkBox, RString>;

/// The root module every plugin `cdylib` exports (use
/// [`crate::export_plugin!`]).
#[repr(C)]
#[derive(StableAbi)]
#[sabi(kind(Prefix(prefix_ref = PluginModRef)))]
#[sabi(missing_field(panic))]
pub struct PluginMod {
    /// The [`ABI_VERSION`] the plugin was built with.
    pub abi_version: u32,
    /// Start the plugin: see the module docs.
    #[sabi(last_prefix_field)]
    pub start: extern "C" fn(host: MessageSinkBox) -> RResult<MessageSinkBox, RString>,
}

impl RootModule for PluginModRef {
    declare_root_module_statics! {PluginModRef}
    const BASE_NAME: &'static str = "lumen_plugin";
    const NAME: &'static str = "lumen_plugin";
    const VERSION_STRINGS: VersionStrings = package_version_strings!();
}

/// Build the root module value for a plugin (used by
/// [`crate::export_plugin!`]).
pub fn plugin_module(start: StartFn) -> PluginModRef {
    use abi_stable::prefix_type::PrefixTypeTrait;
    PluginMod {
        abi_version: ABI_VERSION,
        start,
    }
    .leak_into_prefix()
}
