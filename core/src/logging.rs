//! Logging: human-readable or JSON lines on stderr, and a copy in
//! `<datadir>/lumend.log`. `RUST_LOG`, when set, replaces the configured
//! filter. Nothing secret is ever logged: RPC parameters are not logged at
//! all, and the signer's `Debug` shows only the node id.

use std::fs::OpenOptions;
use std::os::unix::fs::OpenOptionsExt;
use std::path::Path;
use std::sync::Mutex;

use tracing_subscriber::EnvFilter;
use tracing_subscriber::fmt::writer::MakeWriterExt;

use crate::config::{LogConfig, LogFormat};

/// Log file name inside the data dir.
pub const LOG_FILE: &str = "lumend.log";

/// Install the global subscriber. Call once, before anything logs.
pub fn init(cfg: &LogConfig, datadir: &Path) -> std::io::Result<()> {
    let filter = match std::env::var("RUST_LOG") {
        Ok(v) if !v.is_empty() => EnvFilter::try_new(v).map_err(std::io::Error::other)?,
        _ => EnvFilter::try_new(&cfg.level).map_err(std::io::Error::other)?,
    };
    let file = if cfg.file {
        Some(
            OpenOptions::new()
                .create(true)
                .append(true)
                .mode(0o600)
                .open(datadir.join(LOG_FILE))?,
        )
    } else {
        None
    };
    let stderr = std::io::stderr;
    let result = match (cfg.format, file) {
        (LogFormat::Human, Some(f)) => tracing_subscriber::fmt()
            .with_env_filter(filter)
            .with_writer(stderr.and(Mutex::new(f)))
            .with_ansi(false)
            .try_init(),
        (LogFormat::Human, None) => tracing_subscriber::fmt()
            .with_env_filter(filter)
            .with_writer(stderr)
            .try_init(),
        (LogFormat::Json, Some(f)) => tracing_subscriber::fmt()
            .json()
            .with_env_filter(filter)
            .with_writer(stderr.and(Mutex::new(f)))
            .try_init(),
        (LogFormat::Json, None) => tracing_subscriber::fmt()
            .json()
            .with_env_filter(filter)
            .with_writer(stderr)
            .try_init(),
    };
    result.map_err(std::io::Error::other)
}
