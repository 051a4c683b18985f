//! `toolgate test`: run policy tests files and report each failed case.
//!
//! Every tests file given (or found in a directory, or beside a policy) is parsed, its
//! policy loaded, and its cases decided. Errors in a tests file or its policy stop that
//! file from running and count as a failure of the run; the other files still run.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use toolgate::compile;
use toolgate::eval::Engine;
use toolgate::source::{SourceId, Sources};
use toolgate::testing::{self, discover, Summary, TestFile};

use crate::check::{chain, check_policy, fail};
use crate::{render, render_tests};

/// Arguments of `toolgate test`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Tests files, policies (tested by the `.tests` file beside them), or directories
    /// (every `*.tests` file in them).
    #[arg(required = true)]
    paths: Vec<PathBuf>,
    /// Also list the cases that pass.
    #[arg(long)]
    verbose: bool,
}

/// Runs `toolgate test`.
pub fn run(args: &Args) -> ExitCode {
    let mut files: Vec<PathBuf> = Vec::new();
    for path in &args.paths {
        match discover::tests_files(path) {
            Ok(found) => {
                for file in found {
                    if !files.contains(&file) {
                        files.push(file);
                    }
                }
            }
            Err(error) => return fail(&chain(&error)),
        }
    }
    let runner = Runner {
        colour: render::use_colour(render::stdout_is_terminal()),
        verbose: args.verbose,
    };
    let mut total = Summary::default();
    let mut not_run = 0;
    let mut out = std::io::stdout().lock();
    for file in &files {
        let (report, outcome) = runner.file(file);
        if write!(out, "{report}").is_err() {
            return ExitCode::from(2);
        }
        match outcome {
            Some(summary) => total.add(summary),
            None => not_run += 1,
        }
    }
    let mut end = String::new();
    if not_run > 0 {
        let files = if not_run == 1 { "file" } else { "files" };
        end.push_str(&format!("{not_run} tests {files} could not be run\n"));
    }
    end.push_str(&render_tests::summary(total));
    if writeln!(out, "{end}").and_then(|()| out.flush()).is_err() {
        return ExitCode::from(2);
    }
    if total.failed > 0 || not_run > 0 {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    }
}

struct Runner {
    colour: bool,
    verbose: bool,
}

impl Runner {
    /// The report of one tests file, and its counts (`None`: it could not run).
    fn file(&self, path: &Path) -> (String, Option<Summary>) {
        let tests = match Sources::from_path(path) {
            Ok(sources) => sources,
            Err(error) => return (format!("error: {}\n\n", chain(&error)), None),
        };
        let source = SourceId(0);
        let parsed = testing::parse(&tests, source);
        if !parsed.errors.is_empty() {
            let report = render_tests::errors(&tests, &parsed.errors, self.colour);
            return (report + &not_run(path, "it has errors"), None);
        }
        let policy_path = match discover::policy_path(path, &parsed.file, source) {
            Ok(policy_path) => policy_path,
            Err(error) => {
                let report = render_tests::errors(&tests, &[error], self.colour);
                return (report + &not_run(path, "its policy was not found"), None);
            }
        };
        let (policy, engine) = match self.load(&policy_path) {
            Ok(loaded) => loaded,
            Err(report) => return (report + &not_run(path, "its policy has errors"), None),
        };
        self.cases(&tests, &parsed.file, &policy, &engine, &policy_path)
    }

    /// The policy's sources and engine, or the report of why it did not load.
    fn load(&self, path: &Path) -> Result<(Sources, Engine), String> {
        let mut sources =
            Sources::from_path(path).map_err(|error| format!("error: {}\n\n", chain(&error)))?;
        let (diagnostics, policy) = check_policy(&mut sources, None);
        match policy {
            Some(policy) => {
                let engine = Engine::new(compile::compile(&sources, &policy));
                Ok((sources, engine))
            }
            None => {
                let errors: Vec<_> = diagnostics.into_iter().filter(|d| d.is_error()).collect();
                Err(render::human(&sources, &errors, self.colour))
            }
        }
    }

    fn cases(
        &self,
        tests: &Sources,
        file: &TestFile,
        policy: &Sources,
        engine: &Engine,
        policy_path: &Path,
    ) -> (String, Option<Summary>) {
        let results = testing::run(engine, file);
        let summary = Summary::of(&results);
        let mut report = format!(
            "{} against {}: {}\n",
            tests.get(SourceId(0)).name(),
            policy_path.display(),
            render_tests::summary(summary)
        );
        for result in &results {
            if !result.passed() {
                report.push_str(&render_tests::failure(
                    tests,
                    file,
                    result,
                    policy,
                    self.colour,
                ));
            } else if self.verbose {
                report.push_str(&render_tests::passed(tests, file, result));
            }
        }
        report.push('\n');
        (report, Some(summary))
    }
}

fn not_run(path: &Path, why: &str) -> String {
    format!("{}: not run, {why}\n\n", path.display())
}
