//! The `toolgate` command: check, evaluate and explain MCP authorization policies.

/// `println!` for standard output that never panics: when the reader has gone (`toolgate
/// ... | head`), the process ends quietly with status 141, as a program killed by SIGPIPE
/// does; any other write error ends it with status 2 and a message.
macro_rules! say {
    ($($argument:tt)*) => {
        $crate::write_stdout(format_args!("{}\n", format_args!($($argument)*)))
    };
}

mod check;
mod diff;
mod eval;
mod explain;
mod fmt;
mod init;
#[cfg(feature = "gate")]
mod key;
mod lsp;
mod manual;
mod render;
mod render_tests;
#[cfg(feature = "gate")]
mod serve;
mod table;
mod test;
#[cfg(feature = "gate")]
mod token;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{CommandFactory, Parser, Subcommand, ValueEnum};

/// Authorization for MCP servers: check policies and decide requests.
#[derive(Debug, Parser)]
#[command(name = "toolgate", version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Parse, resolve and lint policies, reporting every problem found.
    Check(CheckArgs),
    /// Decide requests given as JSON against a policy.
    Eval(EvalArgs),
    /// Explain one decision: every rule that matched and every condition's value.
    Explain(explain::Args),
    /// Rewrite policies in the canonical layout, keeping comments.
    Fmt(fmt::Args),
    /// Run policy test files (`*.tests`).
    Test(test::Args),
    /// The roles x tools decision matrix of a policy.
    Table(table::Args),
    /// What changes between two policies: each changed cell with a witness request.
    Diff(diff::Args),
    /// Write a starter policy for a server from its `tools/list` result.
    Init(init::Args),
    /// Run the language server for policy files (LSP over standard input and output).
    Lsp(lsp::Args),
    /// Create, list and revoke API keys in a key file.
    #[cfg(feature = "gate")]
    #[command(subcommand)]
    Key(key::Command),
    /// Look inside access tokens.
    #[cfg(feature = "gate")]
    #[command(subcommand)]
    Token(token::Command),
    /// Run the gate as a reverse proxy in front of an MCP server.
    #[cfg(feature = "gate")]
    Serve(serve::Args),
    /// Print a shell completion script (bash, zsh, fish, elvish, powershell).
    Completions(manual::CompletionsArgs),
    /// Write the manual pages (roff), one per command.
    Man(manual::ManArgs),
}

/// Arguments of `toolgate check`.
#[derive(Debug, clap::Args)]
struct CheckArgs {
    /// Policy files or directories of `.policy` files.
    #[arg(required = true)]
    paths: Vec<PathBuf>,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Human)]
    format: Format,
    /// An MCP `tools/list` result, enabling warnings W006 and W007.
    #[arg(long, value_name = "FILE")]
    tools: Option<PathBuf>,
    /// Exit with status 1 on warnings too.
    #[arg(long)]
    deny_warnings: bool,
}

/// Arguments of `toolgate eval`.
#[derive(Debug, clap::Args)]
struct EvalArgs {
    /// The policy file or directory.
    policy: PathBuf,
    /// One request as a JSON object (`-` for standard input).
    #[arg(
        long,
        value_name = "FILE",
        conflicts_with = "requests",
        required_unless_present = "requests"
    )]
    request: Option<PathBuf>,
    /// Requests as JSON Lines (`-` for standard input); one decision line each, in order.
    #[arg(long, value_name = "FILE")]
    requests: Option<PathBuf>,
    /// An MCP `tools/list` result: its names are indexed ahead of the first request.
    #[arg(long, value_name = "FILE")]
    tools: Option<PathBuf>,
}

/// Diagnostic output formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum Format {
    /// rustc-style text with the source and underlines.
    Human,
    /// One JSON array of diagnostics.
    Json,
    /// SARIF 2.1.0, for code-scanning services.
    Sarif,
}

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(error) => {
            let _ = error.print();
            return if error.use_stderr() {
                ExitCode::from(2)
            } else {
                ExitCode::SUCCESS
            };
        }
    };
    match cli.command {
        Command::Check(args) => check::run(&args),
        Command::Eval(args) => eval::run(&args),
        Command::Explain(args) => explain::run(&args),
        Command::Fmt(args) => fmt::run(&args),
        Command::Test(args) => test::run(&args),
        Command::Table(args) => table::run(&args),
        Command::Diff(args) => diff::run(&args),
        Command::Init(args) => init::run(&args),
        Command::Lsp(args) => lsp::run(&args),
        #[cfg(feature = "gate")]
        Command::Key(command) => key::run(command),
        #[cfg(feature = "gate")]
        Command::Token(command) => token::run(command),
        #[cfg(feature = "gate")]
        Command::Serve(args) => serve::run(&args),
        Command::Completions(args) => manual::completions(&args, Cli::command()),
        Command::Man(args) => manual::man(&args, Cli::command()),
    }
}

/// Writes to standard output; see [`say!`].
fn write_stdout(text: std::fmt::Arguments<'_>) {
    use std::io::Write as _;
    let mut out = std::io::stdout().lock();
    if let Err(error) = out.write_fmt(text).and_then(|()| out.flush()) {
        if error.kind() == std::io::ErrorKind::BrokenPipe {
            std::process::exit(141);
        }
        eprintln!("error: cannot write to standard output: {error}");
        std::process::exit(2);
    }
}
