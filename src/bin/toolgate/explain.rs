//! `toolgate explain`: to be written.

use std::process::ExitCode;

/// Arguments of `toolgate explain`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Paths.
    paths: Vec<std::path::PathBuf>,
}

/// Runs `toolgate explain`.
pub fn run(args: &Args) -> ExitCode {
    let _ = args;
    crate::check::fail("`toolgate explain` is not available yet")
}
