//! What `toolgate test` found, kept as owned data for the JUnit XML and JSON reports: one
//! [`Suite`] per tests file, one [`CaseRecord`] per case, and the coverage of each policy.

use std::path::Path;
use std::time::Duration;

use serde_json::{Map, Value};
use toolgate::unstable::diagnostic::Diagnostic;
use toolgate::unstable::source::Sources;
use toolgate::unstable::testing::{CaseResult, Coverage, Mismatch, Summary, TestError, TestFile};

use crate::render_tests;

/// One tests file's outcome.
pub struct Suite {
    /// The tests file, as reached from the command's argument.
    pub name: String,
    /// The policy it tests, when found.
    pub policy: Option<String>,
    /// How long reading, loading and deciding took.
    pub time: Duration,
    /// When the file started to run.
    pub timestamp: jiff::Timestamp,
    /// Its cases, or why it did not run.
    pub outcome: Outcome,
    /// The human report of the file.
    pub human: String,
}

/// Whether a tests file ran.
pub enum Outcome {
    /// Its cases, in file order.
    Ran(Vec<CaseRecord>),
    /// It did not run.
    NotRun(NotRun),
}

/// Why a tests file did not run.
pub struct NotRun {
    /// The kind of reason.
    pub reason: NotRunReason,
    /// Every error, in order.
    pub errors: Vec<ErrorRecord>,
    /// The errors as the human report shows them, without colour.
    pub text: String,
}

/// The reasons a tests file does not run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NotRunReason {
    /// The tests file cannot be read.
    Unreadable,
    /// The tests file has errors (`T001`...).
    TestsErrors,
    /// The policy it names, or the one beside it, does not exist (`T006`).
    PolicyNotFound,
    /// The policy cannot be read or has errors (`E001`...).
    PolicyErrors,
}

impl NotRunReason {
    /// The stable name: `unreadable`, `tests_file_errors`, `policy_not_found`,
    /// `policy_errors`.
    pub fn as_str(self) -> &'static str {
        match self {
            NotRunReason::Unreadable => "unreadable",
            NotRunReason::TestsErrors => "tests_file_errors",
            NotRunReason::PolicyNotFound => "policy_not_found",
            NotRunReason::PolicyErrors => "policy_errors",
        }
    }

    /// The words after `not run, `.
    pub fn words(self) -> &'static str {
        match self {
            NotRunReason::Unreadable => "it cannot be read",
            NotRunReason::TestsErrors => "it has errors",
            NotRunReason::PolicyNotFound => "its policy was not found",
            NotRunReason::PolicyErrors => "its policy has errors",
        }
    }
}

/// An error that stopped a tests file: in the tests file (`T...`), in its policy
/// (`E...`), or a file that cannot be read (no code, no place).
#[derive(Debug, Clone, serde::Serialize)]
pub struct ErrorRecord {
    /// `T001`..., `E001`..., or `None` for a file that cannot be read.
    pub code: Option<&'static str>,
    /// What is wrong.
    pub message: String,
    /// The file, as reached from the command's argument.
    pub file: Option<String>,
    /// 1-based line where it starts.
    pub line: Option<u32>,
    /// 1-based character column where it starts.
    pub column: Option<u32>,
    /// Line where it ends.
    pub end_line: Option<u32>,
    /// Column where it ends (exclusive).
    pub end_column: Option<u32>,
    /// How to fix it.
    pub help: Option<String>,
}

impl ErrorRecord {
    /// An error that is only a message.
    pub fn message(message: String) -> ErrorRecord {
        ErrorRecord {
            code: None,
            message,
            file: None,
            line: None,
            column: None,
            end_line: None,
            end_column: None,
            help: None,
        }
    }

    /// An error of a tests file.
    pub fn test_error(sources: &Sources, error: &TestError) -> ErrorRecord {
        let location = sources.location(error.span);
        ErrorRecord {
            code: Some(error.code.as_str()),
            message: error.message.clone(),
            file: Some(location.file.to_string()),
            line: Some(location.start.line),
            column: Some(location.start.column),
            end_line: Some(location.end.line),
            end_column: Some(location.end.column),
            help: error.help.clone(),
        }
    }

    /// An error of a policy.
    pub fn diagnostic(sources: &Sources, diagnostic: &Diagnostic) -> ErrorRecord {
        let location = sources.location(diagnostic.span);
        ErrorRecord {
            code: Some(diagnostic.code.as_str()),
            message: diagnostic.message.clone(),
            file: Some(location.file.to_string()),
            line: Some(location.start.line),
            column: Some(location.start.column),
            end_line: Some(location.end.line),
            end_column: Some(location.end.column),
            help: diagnostic.help.clone(),
        }
    }

    /// `FILE:LINE:COLUMN: CODE: message`, as much of it as is known.
    pub fn one_line(&self) -> String {
        let mut text = String::new();
        if let Some(file) = &self.file {
            text.push_str(file);
            for number in [self.line, self.column].into_iter().flatten() {
                text.push_str(&format!(":{number}"));
            }
            text.push_str(": ");
        }
        if let Some(code) = self.code {
            text.push_str(&format!("error[{code}]: "));
        }
        text.push_str(&self.message);
        text
    }
}

/// One case and its outcome.
pub struct CaseRecord {
    /// The tests file.
    pub file: String,
    /// 1-based line of `expect`.
    pub line: u32,
    /// 1-based character column of `expect`.
    pub column: u32,
    /// The case as written, on one line, runs of spaces outside strings made one.
    pub text: String,
    /// The request in words (`` `dev` calls tool `x` from 10.1.2.3 at ... ``).
    pub description: String,
    /// The principal's name, or its claims as compact JSON.
    pub principal: String,
    /// `tool`, `resource`, `prompt`.
    pub kind: &'static str,
    /// `list`, `call`, `read`, `get`.
    pub action: &'static str,
    /// The tool name, resource URI or prompt name.
    pub name: String,
    /// The client's address, if any.
    pub ip: Option<String>,
    /// The request's time, RFC 3339.
    pub time_of_request: String,
    /// The arguments given with `with`.
    pub arguments: Option<Map<String, Value>>,
    /// What the case expects.
    pub expected: ExpectedRecord,
    /// What the policy decided.
    pub actual: ActualRecord,
    /// The parts that differ: `effect`, `reason`, `missing_scopes`, `rule`, `principal`.
    pub mismatches: Vec<&'static str>,
    /// Why the claims gave no principal, when they did not.
    pub error: Option<String>,
    /// The failure as the human report shows it, without colour; `None` when it passed.
    pub failure: Option<String>,
    /// How long deciding it took.
    pub time: Duration,
    /// What the case expects, in the words of the human report.
    expected_words: String,
    /// What the policy decided, in the words of the human report.
    actual_words: String,
}

/// The expectation of a case; the parts it leaves out are `None`.
#[derive(Debug, Clone, serde::Serialize)]
pub struct ExpectedRecord {
    /// `allow` or `deny`.
    pub decision: &'static str,
    /// The reason.
    pub reason: Option<&'static str>,
    /// The missing scopes, sorted.
    pub missing_scopes: Option<Vec<String>>,
    /// `none`, `line 30` or `a.policy:30`.
    pub rule: Option<String>,
}

/// The decision of a case.
#[derive(Debug, Clone, serde::Serialize)]
pub struct ActualRecord {
    /// `allow` or `deny`.
    pub decision: &'static str,
    /// The reason.
    pub reason: &'static str,
    /// The deciding statement, `FILE:LINE`.
    pub rule: Option<String>,
    /// The text of the deciding statement's first line.
    pub rule_text: Option<String>,
    /// The missing scopes, sorted.
    pub missing_scopes: Vec<String>,
}

impl CaseRecord {
    /// The record of `result`, a case of `file` (whose text is in `tests`) decided by a
    /// policy whose text is in `policy`.
    pub fn new(
        tests: &Sources,
        file: &TestFile,
        result: &CaseResult<'_, '_>,
        policy: &Sources,
        time: Duration,
    ) -> CaseRecord {
        let case = result.case;
        let location = tests.location(case.span);
        let expected = &case.expected;
        let actual = &result.actual;
        let error = result
            .mismatches
            .iter()
            .find_map(|mismatch| match mismatch {
                Mismatch::Principal(message) => Some(message.clone()),
                _ => None,
            });
        CaseRecord {
            file: location.file.to_string(),
            line: location.start.line,
            column: location.start.column,
            text: compact(&render_tests::case_text(tests, case)),
            description: render_tests::request_words(file, case),
            principal: file
                .principals
                .get(case.principal)
                .map_or_else(|| "?".to_string(), |principal| principal.label()),
            kind: case.request.kind.singular(),
            action: case.request.action.keyword(),
            name: case.request.name.clone(),
            ip: case.request.ip.map(|ip| ip.to_string()),
            time_of_request: case.request.time.to_string(),
            arguments: case.request.arguments.clone(),
            expected: ExpectedRecord {
                decision: expected.effect.keyword(),
                reason: expected.reason.map(|reason| reason.as_str()),
                missing_scopes: expected.missing_scopes.clone(),
                rule: expected.rule.as_ref().map(ToString::to_string),
            },
            actual: ActualRecord {
                decision: actual.effect.keyword(),
                reason: actual.reason.as_str(),
                rule: actual.rule.map(ToString::to_string),
                rule_text: actual.rule.map(|rule| {
                    policy
                        .get(rule.span.source)
                        .line_text(rule.line)
                        .trim()
                        .to_string()
                }),
                missing_scopes: actual
                    .missing_scopes
                    .iter()
                    .map(|scope| scope.to_string())
                    .collect(),
            },
            mismatches: result.mismatches.iter().map(mismatch_name).collect(),
            failure: (!result.passed())
                .then(|| render_tests::failure(tests, file, result, policy, false)),
            time,
            expected_words: render_tests::expected_words(expected),
            actual_words: match &error {
                Some(message) => format!("no principal: {message}"),
                None => render_tests::decision_words(actual),
            },
            error,
        }
    }

    /// Whether the decision is the one expected.
    pub fn passed(&self) -> bool {
        self.mismatches.is_empty()
    }

    /// The name reports give the case: `FILE:LINE: the case as written`.
    pub fn name(&self) -> String {
        format!("{}:{}: {}", self.file, self.line, self.text)
    }

    /// The failure in one line: `expected deny, reason no_rule; actual allow, reason
    /// allowed, rule p.policy:5`.
    pub fn failure_message(&self) -> String {
        format!(
            "expected {}; actual {}",
            self.expected_words, self.actual_words
        )
    }
}

/// `text` with every run of whitespace outside double-quoted strings made one space.
fn compact(text: &str) -> String {
    let mut compacted = String::with_capacity(text.len());
    let mut in_string = false;
    let mut escaped = false;
    let mut space = false;
    for character in text.trim().chars() {
        if !in_string && character.is_whitespace() {
            space = true;
            continue;
        }
        if space {
            compacted.push(' ');
            space = false;
        }
        if in_string {
            in_string = escaped || character != '"';
            escaped = !escaped && character == '\\';
        } else if character == '"' {
            in_string = true;
        }
        compacted.push(character);
    }
    compacted
}

fn mismatch_name(mismatch: &Mismatch) -> &'static str {
    match mismatch {
        Mismatch::Effect => "effect",
        Mismatch::Reason => "reason",
        Mismatch::MissingScopes => "missing_scopes",
        Mismatch::Rule => "rule",
        Mismatch::Principal(_) => "principal",
    }
}

/// The counts of `cases`.
pub fn summary(cases: &[CaseRecord]) -> Summary {
    let passed = cases.iter().filter(|case| case.passed()).count();
    Summary {
        passed,
        failed: cases.len() - passed,
    }
}

/// The coverage of one policy by every tests file of the run that tests it.
pub struct PolicyCoverage {
    /// The policy as the first tests file reached it.
    pub policy: String,
    /// The policy's canonical path: the key that finds it again.
    key: std::path::PathBuf,
    /// The tests files, in the order they ran.
    pub tests_files: Vec<String>,
    /// What their cases exercised.
    pub coverage: Coverage,
}

/// Adds the coverage of the policy at `policy` by the tests file `tests_file` to the
/// coverage of that policy in `coverages` (or as a new entry).
pub fn add_coverage(
    coverages: &mut Vec<PolicyCoverage>,
    policy: &Path,
    tests_file: &str,
    coverage: Coverage,
) {
    let key = std::fs::canonicalize(policy).unwrap_or_else(|_| policy.to_path_buf());
    for entry in coverages.iter_mut().filter(|entry| entry.key == key) {
        if entry.coverage.merge(&coverage) {
            entry.tests_files.push(tests_file.to_string());
            return;
        }
    }
    coverages.push(PolicyCoverage {
        policy: policy.display().to_string(),
        key,
        tests_files: vec![tests_file.to_string()],
        coverage,
    });
}

#[cfg(test)]
mod tests {
    use super::compact;

    #[test]
    fn compact_keeps_strings() {
        assert_eq!(
            compact("expect  deny\tcall tool \"a  \\\"  b\"   reason  no_rule"),
            "expect deny call tool \"a  \\\"  b\" reason no_rule"
        );
        assert_eq!(
            compact(" with {\"k\":\n   \"v  w\"} "),
            "with {\"k\": \"v  w\"}"
        );
    }
}
