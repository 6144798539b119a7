//! Multi-node and interop tests for Lumen.
//!
//! Empty for now: the LDK interop and multi-node scenarios arrive with the
//! peers and channels work. Single-daemon end-to-end tests live in
//! `core/tests/it`, where Cargo hands them the path of the real `lumend`.
