//! `toolgate init`: write a starter policy and its tests from a server's tool list.

use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use toolgate::unstable::init::{self, Config};

use crate::check::{chain, fail};

/// Arguments of `toolgate init`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// The server's `tools/list` result (`{"tools":[...]}`), with MCP tool annotations.
    #[arg(long, value_name = "FILE")]
    tools: PathBuf,
    /// Writes PATH.policy and PATH.tests (a `.policy` or `.tests` ending is dropped).
    #[arg(long, value_name = "PATH", default_value = "toolgate")]
    output: PathBuf,
    /// Overwrite files that already exist.
    #[arg(long)]
    force: bool,
}

/// Runs `toolgate init`.
pub fn run(args: &Args) -> ExitCode {
    let manifest = match std::fs::read_to_string(&args.tools) {
        Ok(text) => text,
        Err(error) => {
            return fail(&format!("cannot read `{}`: {error}", args.tools.display()));
        }
    };
    let base = base_path(&args.output);
    let policy_path = with_ending(&base, ".policy");
    let tests_path = with_ending(&base, ".tests");
    if !args.force {
        let existing: Vec<String> = [&policy_path, &tests_path]
            .iter()
            .filter(|path| path.exists())
            .map(|path| format!("`{}`", path.display()))
            .collect();
        if !existing.is_empty() {
            return fail(&format!(
                "{} already {}; pass `--force` to overwrite, or choose another `--output`",
                existing.join(" and "),
                if existing.len() == 1 {
                    "exists"
                } else {
                    "exist"
                }
            ));
        }
    }
    let config = Config {
        manifest_path: args.tools.display().to_string(),
        policy_path: policy_path.display().to_string(),
        tests_path: tests_path.display().to_string(),
    };
    let starter = match init::starter(&manifest, &config) {
        Ok(starter) => starter,
        Err(error) => return fail(&format!("`{}`: {}", args.tools.display(), chain(&error))),
    };
    for (path, text) in [
        (&policy_path, &starter.policy),
        (&tests_path, &starter.tests),
    ] {
        if let Err(error) = std::fs::write(path, text) {
            return fail(&format!("cannot write `{}`: {error}", path.display()));
        }
    }
    say!(
        "wrote {}: {} in {}, roles {}",
        config.policy_path,
        plural(starter.tools, "tool"),
        plural(starter.groups, "group"),
        starter.roles.join(", ")
    );
    say!("wrote {}: {} cases", config.tests_path, starter.cases);
    say!(
        "next: toolgate check --deny-warnings {} --tools {}",
        config.policy_path,
        config.manifest_path
    );
    say!("      toolgate test {}", config.tests_path);
    ExitCode::SUCCESS
}

/// The output path without a `.policy` or `.tests` ending.
fn base_path(output: &Path) -> PathBuf {
    let ending = output.extension().and_then(|e| e.to_str());
    if matches!(ending, Some("policy" | "tests")) {
        output.with_extension("")
    } else {
        output.to_path_buf()
    }
}

/// `base` with `ending` appended (`server.v2` gives `server.v2.policy`).
fn with_ending(base: &Path, ending: &str) -> PathBuf {
    let mut path = OsString::from(base.as_os_str());
    path.push(ending);
    PathBuf::from(path)
}

fn plural(count: usize, word: &str) -> String {
    if count == 1 {
        format!("1 {word}")
    } else {
        format!("{count} {word}s")
    }
}
