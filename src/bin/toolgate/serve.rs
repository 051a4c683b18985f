//! `toolgate serve`: the standalone reverse proxy (docs/serve.md).

use std::path::PathBuf;
use std::process::ExitCode;

use toolgate::gate::serve::{self, ServeConfig};

use crate::check::chain;

/// Arguments of `toolgate serve`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// The configuration file (TOML).
    #[arg(long, value_name = "FILE")]
    pub config: PathBuf,
}

/// Runs `toolgate serve`: exit status 0 after a clean shutdown, 1 when the configuration
/// or the policy does not work or serving fails.
pub fn run(args: &Args) -> ExitCode {
    init_logging();
    let config = match ServeConfig::from_file(&args.config) {
        Ok(config) => config,
        Err(error) => return fail(&error),
    };
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(error) => return fail(&error),
    };
    match runtime.block_on(serve::serve(config, serve::shutdown_signal())) {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => fail(&error),
    }
}

/// Prints `toolgate: ERROR: CAUSE...` (see [`chain`]) and returns exit status 1.
fn fail(error: &dyn std::error::Error) -> ExitCode {
    eprintln!("toolgate: {}", chain(error));
    ExitCode::from(1)
}

/// Logs to standard error; `RUST_LOG` filters (default `info`).
fn init_logging() {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .try_init();
}
