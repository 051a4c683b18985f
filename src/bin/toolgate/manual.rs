//! `toolgate completions SHELL` and `toolgate man`: generated from the command line's own
//! definition (clap), so they never drift from what the binary accepts.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap_complete::Shell;

use crate::check::fail;

/// Arguments of `toolgate completions`.
#[derive(Debug, clap::Args)]
pub struct CompletionsArgs {
    /// The shell to complete for.
    #[arg(value_enum)]
    shell: Shell,
}

/// Arguments of `toolgate man`.
#[derive(Debug, clap::Args)]
pub struct ManArgs {
    /// Write `toolgate.1` and one `toolgate-COMMAND.1` page per command into this
    /// directory (created if missing); without it, print `toolgate.1` alone.
    #[arg(long, value_name = "DIR")]
    output: Option<PathBuf>,
}

/// Prints the completion script for `args.shell` on standard output.
pub fn completions(args: &CompletionsArgs, mut command: clap::Command) -> ExitCode {
    let mut out = Vec::new();
    clap_complete::generate(args.shell, &mut command, "toolgate", &mut out);
    match std::io::stdout().lock().write_all(&out) {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => fail(&format!("cannot write the completion script: {error}")),
    }
}

/// Prints the main manual page, or writes every page into `args.output`.
pub fn man(args: &ManArgs, command: clap::Command) -> ExitCode {
    let mut command = command.version(env!("CARGO_PKG_VERSION"));
    command.build();
    match &args.output {
        None => {
            let written =
                page(&command, "toolgate").and_then(|out| std::io::stdout().lock().write_all(&out));
            match written {
                Ok(()) => ExitCode::SUCCESS,
                Err(error) => fail(&format!("cannot write the manual page: {error}")),
            }
        }
        Some(directory) => match write_pages(&command, directory) {
            Ok(count) => {
                eprintln!("wrote {count} manual pages into `{}`", directory.display());
                ExitCode::SUCCESS
            }
            Err(error) => fail(&format!(
                "cannot write the manual pages into `{}`: {error}",
                directory.display()
            )),
        },
    }
}

/// Writes `toolgate.1` and a page per command and nested command
/// (`toolgate-key-new.1`); how many pages were written.
fn write_pages(command: &clap::Command, directory: &Path) -> std::io::Result<usize> {
    std::fs::create_dir_all(directory)?;
    write_page(command, "toolgate", directory)
}

/// The page of `command` (built), titled `name`.
fn page(command: &clap::Command, name: &str) -> std::io::Result<Vec<u8>> {
    let mut out = Vec::new();
    clap_mangen::Man::new(command.clone().name(name.to_string())).render(&mut out)?;
    Ok(out)
}

fn write_page(command: &clap::Command, name: &str, directory: &Path) -> std::io::Result<usize> {
    std::fs::write(directory.join(format!("{name}.1")), page(command, name)?)?;
    let mut count = 1;
    for sub in command.get_subcommands() {
        if sub.get_name() == "help" {
            continue;
        }
        count += write_page(sub, &format!("{name}-{}", sub.get_name()), directory)?;
    }
    Ok(count)
}
