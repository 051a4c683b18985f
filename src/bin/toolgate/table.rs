//! `toolgate table`: to be written.

use std::process::ExitCode;

/// Arguments of `toolgate table`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Paths.
    paths: Vec<std::path::PathBuf>,
}

/// Runs `toolgate table`.
pub fn run(args: &Args) -> ExitCode {
    let _ = args;
    crate::check::fail("`toolgate table` is not available yet")
}
