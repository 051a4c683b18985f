//! `toolgate init`: to be written.

use std::process::ExitCode;

/// Arguments of `toolgate init`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Paths.
    paths: Vec<std::path::PathBuf>,
}

/// Runs `toolgate init`.
pub fn run(args: &Args) -> ExitCode {
    let _ = args;
    crate::check::fail("`toolgate init` is not available yet")
}
