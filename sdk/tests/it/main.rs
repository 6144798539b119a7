//! Integration tests: load the real `hello` example plugin (`.so`) and talk
//! to it through the SDK's host.

#![allow(clippy::unwrap_used)]

mod plugin_host;
