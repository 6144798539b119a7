//! The Lumen node library.
pub mod store;
