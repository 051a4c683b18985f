//! Running a tests file's cases against an engine.

use std::path::Path;

use smallvec::SmallVec;

use super::{Case, Expected, RuleExpectation, TestFile};
use crate::ast::Effect;
use crate::eval::{Decision, Engine, Reason, Request};
use crate::principal::Principal;

/// One case and the decision the engine gave.
#[derive(Debug, Clone, PartialEq)]
pub struct CaseResult<'c, 'e> {
    /// The case.
    pub case: &'c Case,
    /// The engine's decision.
    pub actual: Decision<'e>,
    /// Where the decision differs from the expectation; empty when the case passed.
    pub mismatches: Vec<Mismatch>,
}

impl CaseResult<'_, '_> {
    /// Whether the decision is the one expected.
    pub fn passed(&self) -> bool {
        self.mismatches.is_empty()
    }
}

/// A part of the decision that differs from what the case expects.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Mismatch {
    /// Allow where deny was expected, or the other way round.
    Effect,
    /// Another reason.
    Reason,
    /// Other missing scopes.
    MissingScopes,
    /// Another deciding rule (or none, or one where none was expected).
    Rule,
    /// The claims gave no principal (the case fails; the decision shown is a denial).
    Principal(String),
}

/// How many cases passed and failed.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Summary {
    /// Cases whose decision was the one expected.
    pub passed: usize,
    /// Cases whose decision was not.
    pub failed: usize,
}

impl Summary {
    /// The counts of `results`.
    pub fn of(results: &[CaseResult<'_, '_>]) -> Summary {
        let passed = results.iter().filter(|result| result.passed()).count();
        Summary {
            passed,
            failed: results.len() - passed,
        }
    }

    /// Adds another summary's counts.
    pub fn add(&mut self, other: Summary) {
        self.passed += other.passed;
        self.failed += other.failed;
    }
}

/// Decides every case of `file` with `engine`, in file order.
///
/// Each principal is resolved once. A case whose claims give no principal fails (its
/// decision is shown as a denial without a rule), never passes.
pub fn run<'c, 'e>(engine: &'e Engine, file: &'c TestFile) -> Vec<CaseResult<'c, 'e>> {
    let runner = CaseRunner::new(engine, file);
    file.cases.iter().map(|case| runner.case(case)).collect()
}

/// Decides the cases of one tests file one at a time (to time each, say), each
/// principal resolved once; [`run`] decides them all.
#[derive(Debug)]
pub struct CaseRunner<'e> {
    engine: &'e Engine,
    principals: Vec<Result<Principal, String>>,
}

impl<'e> CaseRunner<'e> {
    /// A runner of `file`'s cases with `engine`: resolves every principal of `file`.
    pub fn new(engine: &'e Engine, file: &TestFile) -> CaseRunner<'e> {
        let principals = file
            .principals
            .iter()
            .map(|principal| {
                engine
                    .principal(&principal.claims)
                    .map_err(|error| error.to_string())
            })
            .collect();
        CaseRunner { engine, principals }
    }

    /// Decides `case`, one of the cases of the file given to [`CaseRunner::new`]. A case
    /// whose claims give no principal fails, never passes.
    pub fn case<'c>(&self, case: &'c Case) -> CaseResult<'c, 'e> {
        match self.principals.get(case.principal) {
            Some(Ok(principal)) => decide(self.engine, principal, case),
            Some(Err(message)) => unresolved(case, message.clone()),
            None => unresolved(case, "the case's principal is not defined".to_string()),
        }
    }
}

fn decide<'c, 'e>(engine: &'e Engine, principal: &Principal, case: &'c Case) -> CaseResult<'c, 'e> {
    let request = case_request(case);
    let actual = engine.decide(principal, &request);
    let mismatches = compare(&case.expected, &actual);
    CaseResult {
        case,
        actual,
        mismatches,
    }
}

/// The engine's request of `case`.
pub(super) fn case_request(case: &Case) -> Request<'_> {
    Request {
        kind: case.request.kind,
        action: case.request.action,
        name: &case.request.name,
        ip: case.request.ip,
        time: case.request.time,
        arguments: case.request.arguments.as_ref(),
    }
}

fn unresolved<'c, 'e>(case: &'c Case, message: String) -> CaseResult<'c, 'e> {
    CaseResult {
        case,
        actual: Decision {
            effect: Effect::Deny,
            reason: Reason::NoRule,
            rule: None,
            missing_scopes: SmallVec::new(),
            required_scopes: SmallVec::new(),
        },
        mismatches: vec![Mismatch::Principal(message)],
    }
}

/// The parts of `actual` that differ from `expected`.
pub(super) fn compare(expected: &Expected, actual: &Decision<'_>) -> Vec<Mismatch> {
    let mut mismatches = Vec::new();
    if expected.effect != actual.effect {
        mismatches.push(Mismatch::Effect);
    }
    if expected
        .reason
        .is_some_and(|reason| reason != actual.reason)
    {
        mismatches.push(Mismatch::Reason);
    }
    if let Some(scopes) = &expected.missing_scopes {
        if !scopes
            .iter()
            .map(String::as_str)
            .eq(actual.missing_scopes.iter().copied())
        {
            mismatches.push(Mismatch::MissingScopes);
        }
    }
    if let Some(rule) = &expected.rule {
        if !rule_matches(rule, actual) {
            mismatches.push(Mismatch::Rule);
        }
    }
    mismatches
}

fn rule_matches(expected: &RuleExpectation, actual: &Decision<'_>) -> bool {
    match (expected, actual.rule) {
        (RuleExpectation::None, rule) => rule.is_none(),
        (RuleExpectation::Line(line), Some(site)) => site.line == *line,
        (RuleExpectation::Site { file, line }, Some(site)) => {
            site.line == *line && Path::new(&*site.file).ends_with(Path::new(file))
        }
        (_, None) => false,
    }
}
