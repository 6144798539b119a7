//! `lumend`: the Lumen node daemon.

use std::process::ExitCode;

use clap::Parser;
use lumen_core::config::{Cli, Config};

fn main() -> ExitCode {
    let cli = Cli::parse();
    let config = match Config::load(&cli) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("lumend: {e}");
            return ExitCode::from(2);
        }
    };
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(r) => r,
        Err(e) => {
            eprintln!("lumend: cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(lumen_core::node::run(config)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            // Logging may not be up yet (e.g. the data dir is locked): say it on stderr too.
            tracing::error!("{e:#}");
            eprintln!("lumend: {e:#}");
            ExitCode::FAILURE
        }
    }
}
