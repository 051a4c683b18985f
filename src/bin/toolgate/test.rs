//! `toolgate test`: to be written.

use std::process::ExitCode;

/// Arguments of `toolgate test`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Paths.
    paths: Vec<std::path::PathBuf>,
}

/// Runs `toolgate test`.
pub fn run(args: &Args) -> ExitCode {
    let _ = args;
    crate::check::fail("`toolgate test` is not available yet")
}
