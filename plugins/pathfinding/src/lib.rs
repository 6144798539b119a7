//! Route finding for Lumen, as a plugin.
//!
//! Not implemented yet: this crate only reserves its place in the workspace.
//! It will hold the in-memory graph, mission control and the single-route and
//! multi-part solvers described in `ARCHITECTURE.md` §6, once the plugin
//! system (the SDK) and gossip exist. The node does not load it today.
