//! `toolgate table`: the roles x tools decision matrix of a policy, for review.

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::ValueEnum;
use toolgate::unstable::matrix::{self, render, Config, Matrix};
use toolgate::unstable::source::Sources;

use toolgate::{LoadOptions, ToolList};

use crate::check::{chain, fail, load_policy, Shown};

/// Arguments of `toolgate table`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// The policy file or directory.
    policy: PathBuf,
    /// The server's `tools/list` result: the tools across the table, in its order.
    #[arg(long, value_name = "FILE", required = true)]
    tools: PathBuf,
    /// Output format.
    #[arg(long, value_enum, default_value_t = TableFormat::Human)]
    format: TableFormat,
    /// Write the table to FILE instead of standard output.
    #[arg(long, short, value_name = "FILE")]
    output: Option<PathBuf>,
}

/// The formats of `toolgate table`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum TableFormat {
    /// A text grid (one block per role when too wide), colour on a terminal.
    Human,
    /// `role,tool,action,cell,condition`, one line per cell.
    Csv,
    /// One JSON object with the roles, the tools and every cell.
    Json,
    /// One self-contained HTML page.
    Html,
}

/// Runs `toolgate table`.
pub fn run(args: &Args) -> ExitCode {
    let names = match tool_names(&args.tools) {
        Ok(names) => names,
        Err(message) => return fail(&message),
    };
    let policy = match load_policy(&args.policy, &LoadOptions::default(), Shown::Errors) {
        Ok(policy) => policy,
        Err(code) => return code,
    };
    let digest = digest(policy.sources());
    let matrix = matrix::build(
        policy.sources(),
        policy.checked(),
        &names,
        &Config::default(),
    );
    let header = render::Header {
        policy: args.policy.display().to_string(),
        digest: Some(digest),
    };
    let text = rendered(args, &matrix, &header);
    let written = match &args.output {
        Some(path) => std::fs::write(path, text.as_bytes())
            .map_err(|error| format!("cannot write `{}`: {error}", path.display())),
        None => {
            let mut out = std::io::stdout().lock();
            match out.write_all(text.as_bytes()).and_then(|()| out.flush()) {
                Err(error) if error.kind() != std::io::ErrorKind::BrokenPipe => {
                    Err(format!("cannot write the table: {error}"))
                }
                _ => Ok(()),
            }
        }
    };
    match written {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => fail(&message),
    }
}

fn rendered(args: &Args, matrix: &Matrix, header: &render::Header) -> String {
    match args.format {
        TableFormat::Human => {
            let terminal = args.output.is_none() && crate::render::stdout_is_terminal();
            let config = render::HumanConfig {
                colour: crate::render::use_colour(terminal),
                width: terminal_width(),
            };
            render::human(matrix, header, &config)
        }
        TableFormat::Csv => render::csv(matrix),
        TableFormat::Json => render::json(matrix, header) + "\n",
        TableFormat::Html => render::html(matrix, header),
    }
}

/// The tool names of a `tools/list` result, each once, in order.
pub fn tool_names(path: &std::path::Path) -> Result<Vec<String>, String> {
    let list = ToolList::read(path).map_err(|error| chain(&error))?;
    let mut names: Vec<String> = Vec::new();
    for tool in &list.manifest().tools {
        if !names.contains(&tool.name) {
            names.push(tool.name.clone());
        }
    }
    Ok(names)
}

/// The policy's digest (see [`Sources::digest`]).
pub fn digest(sources: &Sources) -> String {
    sources.digest()
}

/// `COLUMNS` when set, else 100.
fn terminal_width() -> usize {
    std::env::var("COLUMNS")
        .ok()
        .and_then(|columns| columns.trim().parse().ok())
        .filter(|columns: &usize| *columns >= 20)
        .unwrap_or(100)
}
