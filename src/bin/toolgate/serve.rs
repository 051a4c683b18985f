//! `toolgate serve`: the standalone reverse proxy (docs/serve.md).

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use toolgate::gate::serve::{self, ServeConfig};

use crate::check::chain;

/// Arguments of `toolgate serve`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// The configuration file (TOML).
    #[arg(long, value_name = "FILE")]
    pub config: PathBuf,
    /// Check the configuration (keys, policy, key and secret files, addresses) and exit
    /// without serving: nothing is bound and remote keys are not fetched.
    #[arg(long)]
    pub check: bool,
}

/// Runs `toolgate serve`: exit status 0 after a clean shutdown, 1 when the configuration
/// or the policy does not work or serving fails. With `--check`: 0 when the
/// configuration works, 1 when it does not (every problem printed).
pub fn run(args: &Args) -> ExitCode {
    if args.check {
        return check(args);
    }
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
    let outcome = runtime.block_on(async {
        // Installed before anything else, so an early signal is not missed.
        let shutdown = serve::shutdown_signal();
        serve::serve(config, shutdown).await
    });
    // Tasks still running (connections closed after the grace period) are dropped.
    runtime.shutdown_timeout(Duration::from_secs(1));
    match outcome {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => fail(&error),
    }
}

/// `toolgate serve --check`: the summary on standard output, or every problem on
/// standard error (`toolgate: PROBLEM`, one each) and exit status 1.
fn check(args: &Args) -> ExitCode {
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(error) => return fail(&error),
    };
    let outcome = runtime.block_on(serve::check(&args.config));
    runtime.shutdown_timeout(Duration::from_secs(1));
    match outcome {
        Ok(lines) => {
            for line in lines {
                say!("{line}");
            }
            ExitCode::SUCCESS
        }
        Err(problems) => {
            for problem in &problems {
                eprintln!("toolgate: {}", chain(problem));
            }
            let count = problems.len();
            eprintln!(
                "toolgate: {}: {count} problem{} found",
                args.config.display(),
                if count == 1 { "" } else { "s" }
            );
            ExitCode::from(1)
        }
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
