//! Lumen SDK.
