//! `toolgate test`: run policy tests files and report each failed case.
//!
//! Every tests file given (or found in a directory, or beside a policy) is parsed, its
//! policy loaded, and its cases decided. Errors in a tests file or its policy stop that
//! file from running and count as a failure of the run; the other files still run.
//!
//! Each file's outcome is kept as a [`report::Suite`]; the human report is written file
//! by file as before, the JUnit XML ([`junit`]) and JSON ([`json`]) documents once at
//! the end. `--coverage` adds, per policy, the statements that decided no case and the
//! condition atoms that were not both true and false ([`testing::coverage`]).

mod json;
mod junit;
mod report;

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::{Duration, Instant};

use clap::ValueEnum;
use toolgate::unstable::source::{SourceId, Sources};
use toolgate::unstable::testing::{self, discover, CaseRunner, Summary, TestFile};
use toolgate::{Policy, PolicyError};

use crate::check::{chain, fail};
use crate::{render, render_tests};

pub use report::PolicyCoverage;
use report::{CaseRecord, ErrorRecord, NotRun, NotRunReason, Outcome, Suite};

/// Arguments of `toolgate test`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Tests files, policies (tested by the `.tests` file beside them), or directories
    /// (every `*.tests` file in them).
    #[arg(required = true)]
    paths: Vec<PathBuf>,
    /// Also list the cases that pass (human format).
    #[arg(long)]
    verbose: bool,
    /// Output format: text for people, JUnit XML or JSON for CI.
    #[arg(long, value_enum, default_value_t = Format::Human)]
    format: Format,
    /// After the run, list the statements that decided no case and the condition atoms
    /// that were not both true and false, per policy.
    #[arg(long)]
    coverage: bool,
    /// `--coverage`, and exit with status 1 when a statement decided no case or an atom
    /// was not both true and false.
    #[arg(long)]
    coverage_fail: bool,
}

/// Report formats of `toolgate test`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    /// Text: each file's counts and failures, then the total.
    Human,
    /// JUnit XML: one test suite per tests file, one test case per case.
    Junit,
    /// One JSON document with every case.
    Json,
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
    let human = args.format == Format::Human;
    let runner = Runner {
        colour: human && render::use_colour(render::stdout_is_terminal()),
        verbose: args.verbose,
        coverage: args.coverage || args.coverage_fail,
    };
    let started = Instant::now();
    let mut total = Summary::default();
    let mut not_run = 0;
    let mut suites: Vec<Suite> = Vec::new();
    let mut coverages: Vec<PolicyCoverage> = Vec::new();
    let mut out = std::io::stdout().lock();
    for file in &files {
        let suite = runner.file(file, &mut coverages);
        if human && write!(out, "{}", suite.human).is_err() {
            return ExitCode::from(2);
        }
        match &suite.outcome {
            Outcome::Ran(cases) => total.add(report::summary(cases)),
            Outcome::NotRun(_) => not_run += 1,
        }
        if !human {
            suites.push(suite);
        }
    }
    let time = started.elapsed();
    let uncovered =
        args.coverage_fail && coverages.iter().any(|policy| !policy.coverage.complete());
    let written = match args.format {
        Format::Human => {
            let mut end = String::new();
            for policy in &coverages {
                end.push_str(&render_tests::coverage(policy));
            }
            if uncovered {
                end.push_str(&render_tests::incomplete(&coverages));
            }
            if not_run > 0 {
                let files = if not_run == 1 { "file" } else { "files" };
                end.push_str(&format!("{not_run} tests {files} could not be run\n"));
            }
            end.push_str(&render_tests::summary(total));
            writeln!(out, "{end}")
        }
        Format::Junit => {
            let document = junit::document(&suites, &coverages, time, args.coverage_fail);
            out.write_all(document.as_bytes())
        }
        Format::Json => {
            let coverage = runner.coverage.then_some(&coverages[..]);
            serde_json::to_writer_pretty(&mut out, &json::document(&suites, coverage, total, time))
                .map_err(std::io::Error::from)
                .and_then(|()| writeln!(out))
        }
    };
    if written.and_then(|()| out.flush()).is_err() {
        return ExitCode::from(2);
    }
    if total.failed > 0 || not_run > 0 || uncovered {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    }
}

struct Runner {
    colour: bool,
    verbose: bool,
    coverage: bool,
}

impl Runner {
    /// The outcome of one tests file, with its human report; adds its coverage of its
    /// policy to `coverages` when coverage is asked for.
    fn file(&self, path: &Path, coverages: &mut Vec<PolicyCoverage>) -> Suite {
        let started = Instant::now();
        let timestamp = jiff::Timestamp::now();
        let name = path.display().to_string();
        let suite = |policy: Option<&Path>, outcome: Outcome, human: String| Suite {
            name: name.clone(),
            policy: policy.map(|path| path.display().to_string()),
            time: started.elapsed(),
            timestamp,
            outcome,
            human,
        };
        let tests = match Sources::from_path(path) {
            Ok(sources) => sources,
            Err(error) => {
                let message = chain(&error);
                let human = format!("error: {message}\n\n");
                let not_run = NotRun {
                    reason: NotRunReason::Unreadable,
                    errors: vec![ErrorRecord::message(message.clone())],
                    text: format!("error: {message}\n"),
                };
                return suite(None, Outcome::NotRun(not_run), human);
            }
        };
        let source = SourceId(0);
        let parsed = testing::parse(&tests, source);
        if !parsed.errors.is_empty() {
            let human = render_tests::errors(&tests, &parsed.errors, self.colour)
                + &not_run(path, NotRunReason::TestsErrors);
            let not_run = NotRun {
                reason: NotRunReason::TestsErrors,
                errors: parsed
                    .errors
                    .iter()
                    .map(|error| ErrorRecord::test_error(&tests, error))
                    .collect(),
                text: render_tests::errors(&tests, &parsed.errors, false),
            };
            return suite(None, Outcome::NotRun(not_run), human);
        }
        let policy_path = match discover::policy_path(path, &parsed.file, source) {
            Ok(policy_path) => policy_path,
            Err(error) => {
                let errors = [error];
                let human = render_tests::errors(&tests, &errors, self.colour)
                    + &not_run(path, NotRunReason::PolicyNotFound);
                let not_run = NotRun {
                    reason: NotRunReason::PolicyNotFound,
                    errors: errors
                        .iter()
                        .map(|error| ErrorRecord::test_error(&tests, error))
                        .collect(),
                    text: render_tests::errors(&tests, &errors, false),
                };
                return suite(None, Outcome::NotRun(not_run), human);
            }
        };
        let policy = match self.load(&policy_path) {
            Ok(policy) => policy,
            Err(failed) => {
                let human = failed.human + &not_run(path, NotRunReason::PolicyErrors);
                let not_run = NotRun {
                    reason: NotRunReason::PolicyErrors,
                    errors: failed.errors,
                    text: failed.plain,
                };
                return suite(Some(&policy_path), Outcome::NotRun(not_run), human);
            }
        };
        let (human, cases, time) = self.cases(
            &tests,
            &parsed.file,
            &policy,
            &policy_path,
            started,
            coverages,
        );
        Suite {
            time,
            ..suite(Some(&policy_path), Outcome::Ran(cases), human)
        }
    }

    /// The policy, or the report of why it did not load.
    fn load(&self, path: &Path) -> Result<Policy, LoadFailure> {
        match Policy::load(path) {
            Ok(policy) => Ok(policy),
            Err(PolicyError::Read(error)) => {
                let message = chain(&error);
                Err(LoadFailure {
                    human: format!("error: {message}\n\n"),
                    plain: format!("error: {message}\n"),
                    errors: vec![ErrorRecord::message(message)],
                })
            }
            Err(PolicyError::Invalid {
                sources,
                diagnostics,
            }) => {
                let errors: Vec<_> = diagnostics.into_iter().filter(|d| d.is_error()).collect();
                Err(LoadFailure {
                    human: render::human(&sources, &errors, self.colour),
                    plain: render::human(&sources, &errors, false),
                    errors: errors
                        .iter()
                        .map(|diagnostic| ErrorRecord::diagnostic(&sources, diagnostic))
                        .collect(),
                })
            }
        }
    }

    /// Decides every case: the human report, a record of each case, and the time since
    /// `started` once the cases are decided (the coverage's explanations left out).
    fn cases(
        &self,
        tests: &Sources,
        file: &TestFile,
        policy: &Policy,
        policy_path: &Path,
        started: Instant,
        coverages: &mut Vec<PolicyCoverage>,
    ) -> (String, Vec<CaseRecord>, Duration) {
        let runner = CaseRunner::new(policy.engine(), file);
        let mut results = Vec::with_capacity(file.cases.len());
        let mut times: Vec<Duration> = Vec::with_capacity(file.cases.len());
        for case in &file.cases {
            let started = Instant::now();
            results.push(runner.case(case));
            times.push(started.elapsed());
        }
        let elapsed = started.elapsed();
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
                    policy.sources(),
                    self.colour,
                ));
            } else if self.verbose {
                report.push_str(&render_tests::passed(tests, file, result));
            }
        }
        report.push('\n');
        let records = results
            .iter()
            .zip(times)
            .map(|(result, time)| CaseRecord::new(tests, file, result, policy.sources(), time))
            .collect();
        if self.coverage {
            let coverage = testing::coverage(policy.sources(), policy.checked(), file, &results);
            report::add_coverage(
                coverages,
                policy_path,
                tests.get(SourceId(0)).name(),
                coverage,
            );
        }
        (report, records, elapsed)
    }
}

/// Why a policy did not load: the human report, the same without colour, and each error.
struct LoadFailure {
    human: String,
    plain: String,
    errors: Vec<ErrorRecord>,
}

fn not_run(path: &Path, reason: NotRunReason) -> String {
    format!("{}: not run, {}\n\n", path.display(), reason.words())
}
