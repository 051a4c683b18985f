//! `toolgate test --format json`: one JSON document with every tests file, every case
//! and, with `--coverage`, the coverage of each policy. The fields are described in
//! docs/testing.md ("JSON"); they are stable: new fields may be added, none renamed.

use std::time::Duration;

use serde::Serialize;
use serde_json::{Map, Value};
use toolgate::unstable::testing::Summary;

use super::report::{
    ActualRecord, CaseRecord, ErrorRecord, ExpectedRecord, Outcome, PolicyCoverage, Suite,
};

/// The version of the document's layout.
const VERSION: u32 = 1;

/// The whole report.
#[derive(Serialize)]
pub struct Document<'a> {
    version: u32,
    passed: usize,
    failed: usize,
    not_run: usize,
    time: f64,
    files: Vec<File<'a>>,
    coverage: Option<Vec<PolicyJson<'a>>>,
}

#[derive(Serialize)]
struct File<'a> {
    file: &'a str,
    policy: Option<&'a str>,
    status: &'static str,
    passed: usize,
    failed: usize,
    time: f64,
    timestamp: String,
    not_run: Option<NotRunJson<'a>>,
    cases: Vec<Case<'a>>,
}

#[derive(Serialize)]
struct NotRunJson<'a> {
    reason: &'static str,
    message: String,
    errors: &'a [ErrorRecord],
}

#[derive(Serialize)]
struct Case<'a> {
    name: String,
    file: &'a str,
    line: u32,
    column: u32,
    text: &'a str,
    description: &'a str,
    request: Request<'a>,
    expected: &'a ExpectedRecord,
    actual: &'a ActualRecord,
    passed: bool,
    mismatches: &'a [&'static str],
    error: Option<&'a str>,
    message: Option<String>,
    failure: Option<&'a str>,
    time: f64,
}

#[derive(Serialize)]
struct Request<'a> {
    principal: &'a str,
    kind: &'static str,
    action: &'static str,
    name: &'a str,
    ip: Option<&'a str>,
    time: &'a str,
    arguments: Option<&'a Map<String, Value>>,
}

#[derive(Serialize)]
struct PolicyJson<'a> {
    policy: &'a str,
    tests_files: &'a [String],
    cases: usize,
    complete: bool,
    statements: Vec<StatementJson<'a>>,
    conditions: Vec<ConditionJson<'a>>,
}

#[derive(Serialize)]
struct StatementJson<'a> {
    file: &'a str,
    line: u32,
    column: u32,
    text: &'a str,
    decided: usize,
    covered: bool,
}

#[derive(Serialize)]
struct ConditionJson<'a> {
    file: &'a str,
    line: u32,
    column: u32,
    text: &'a str,
    statement: StatementSite<'a>,
    #[serde(rename = "true")]
    true_cases: usize,
    #[serde(rename = "false")]
    false_cases: usize,
    #[serde(rename = "unknown")]
    unknown_cases: usize,
    covered: bool,
}

#[derive(Serialize)]
struct StatementSite<'a> {
    file: &'a str,
    line: u32,
}

/// The document of a run: its files, their totals, and the coverage when asked for.
pub fn document<'a>(
    suites: &'a [Suite],
    coverage: Option<&'a [PolicyCoverage]>,
    total: Summary,
    time: Duration,
) -> Document<'a> {
    let files: Vec<File<'a>> = suites.iter().map(file).collect();
    Document {
        version: VERSION,
        passed: total.passed,
        failed: total.failed,
        not_run: files.iter().filter(|file| file.not_run.is_some()).count(),
        time: time.as_secs_f64(),
        files,
        coverage: coverage.map(|policies| policies.iter().map(policy).collect()),
    }
}

fn file(suite: &Suite) -> File<'_> {
    let (status, cases, not_run) = match &suite.outcome {
        Outcome::Ran(records) => ("ran", records.iter().map(case).collect(), None),
        Outcome::NotRun(not_run) => (
            "not_run",
            Vec::new(),
            Some(NotRunJson {
                reason: not_run.reason.as_str(),
                message: format!("not run, {}", not_run.reason.words()),
                errors: &not_run.errors,
            }),
        ),
    };
    let passed = cases.iter().filter(|case: &&Case<'_>| case.passed).count();
    File {
        file: &suite.name,
        policy: suite.policy.as_deref(),
        status,
        passed,
        failed: cases.len() - passed,
        time: suite.time.as_secs_f64(),
        timestamp: suite.timestamp.to_string(),
        not_run,
        cases,
    }
}

fn case(record: &CaseRecord) -> Case<'_> {
    Case {
        name: record.name(),
        file: &record.file,
        line: record.line,
        column: record.column,
        text: &record.text,
        description: &record.description,
        request: Request {
            principal: &record.principal,
            kind: record.kind,
            action: record.action,
            name: &record.name,
            ip: record.ip.as_deref(),
            time: &record.time_of_request,
            arguments: record.arguments.as_ref(),
        },
        expected: &record.expected,
        actual: &record.actual,
        passed: record.passed(),
        mismatches: &record.mismatches,
        error: record.error.as_deref(),
        message: (!record.passed()).then(|| record.failure_message()),
        failure: record.failure.as_deref(),
        time: record.time.as_secs_f64(),
    }
}

fn policy(policy: &PolicyCoverage) -> PolicyJson<'_> {
    let coverage = &policy.coverage;
    PolicyJson {
        policy: &policy.policy,
        tests_files: &policy.tests_files,
        cases: coverage.cases,
        complete: coverage.complete(),
        statements: coverage
            .statements
            .iter()
            .map(|statement| StatementJson {
                file: &statement.file,
                line: statement.line,
                column: statement.column,
                text: &statement.text,
                decided: statement.decided,
                covered: statement.covered(),
            })
            .collect(),
        conditions: coverage
            .conditions
            .iter()
            .map(|condition| {
                let statement = coverage.statements.get(condition.statement);
                ConditionJson {
                    file: &condition.file,
                    line: condition.line,
                    column: condition.column,
                    text: &condition.text,
                    statement: StatementSite {
                        file: statement.map_or("", |statement| statement.file.as_str()),
                        line: statement.map_or(0, |statement| statement.line),
                    },
                    true_cases: condition.true_cases,
                    false_cases: condition.false_cases,
                    unknown_cases: condition.unknown_cases,
                    covered: condition.covered(),
                }
            })
            .collect(),
    }
}
