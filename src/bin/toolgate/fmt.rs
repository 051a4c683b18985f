//! `toolgate fmt`: to be written.

use std::process::ExitCode;

/// Arguments of `toolgate fmt`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Paths.
    paths: Vec<std::path::PathBuf>,
}

/// Runs `toolgate fmt`.
pub fn run(args: &Args) -> ExitCode {
    let _ = args;
    crate::check::fail("`toolgate fmt` is not available yet")
}
