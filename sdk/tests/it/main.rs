//! Integration tests: load the real example plugins (`.so`) and talk to
//! them through the SDK's host; check the hook shapes against Core
//! Lightning's schemas.

#![allow(clippy::unwrap_used)]

mod examples;
mod hook_schemas;
mod plugin_host;
mod runtime;
mod support;
