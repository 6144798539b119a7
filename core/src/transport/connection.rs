//! tokio adapter for the transport: being written.
