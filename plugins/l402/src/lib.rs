//! L402 (macaroon + invoice) for Lumen, as a plugin.
//!
//! Not implemented yet: this crate only reserves its place in the workspace.
//! It will mint and verify L402 challenges compatibly with Aperture and run the
//! paying HTTP client and the reverse proxy, once the plugin system and
//! invoices exist. The node does not load it today.
