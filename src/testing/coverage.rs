//! Coverage of a policy by the cases of tests files (`toolgate test --coverage`): which
//! statements decided a case, and which condition atoms were both true and false.
//!
//! Nothing here evaluates a condition: the deciding statement is the engine's (each
//! case's [`Decision::rule`](crate::eval::Decision::rule)), and the atoms' values are
//! those [`Explainer`] recorded while deciding the case again, the decision procedure's
//! own evaluation.
//!
//! The unit of condition coverage is the atom (`role admin`, `ip in office`, `arg "n" <=
//! 5`), not the whole condition: a condition such as `unless role admin and ip in office
//! and time in business_hours` can be both true and false over the cases while one of
//! its atoms never changes, and the atom names the case to add.

use ahash::AHashMap;

use super::run::{case_request, CaseResult, Mismatch};
use super::TestFile;
use crate::check::{Body, CheckedPolicy, Cond, CondKind};
use crate::eval::Truth;
use crate::explain::{
    one_line, ArgRead, ConditionExplanation, Explainer, Node, NodeKind, Reading, StatementBody,
    Status,
};
use crate::source::{Sources, Span};

/// What the cases of tests files exercised of one policy.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Coverage {
    /// How many cases were decided (a case whose claims give no principal is not).
    pub cases: usize,
    /// Every rule (`allow`, `deny`) and requirement (`require`), in policy order.
    pub statements: Vec<StatementCoverage>,
    /// Every atom of every condition, in policy order; the constants `true` and `false`
    /// are left out, as no case can make them change.
    pub conditions: Vec<ConditionCoverage>,
}

/// A statement and how many cases it decided.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StatementCoverage {
    /// Where it is: the file, as reached from the policy path given.
    pub file: String,
    /// The 1-based line of its first keyword (the line decisions report).
    pub line: u32,
    /// The 1-based character column of its first keyword.
    pub column: u32,
    /// Its text on one line, comments left out.
    pub text: String,
    /// How many cases it decided.
    pub decided: usize,
    span: Span,
}

impl StatementCoverage {
    /// Whether it decided a case.
    pub fn covered(&self) -> bool {
        self.decided > 0
    }
}

/// A condition atom and the values it took.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConditionCoverage {
    /// Where it is: the file, as reached from the policy path given.
    pub file: String,
    /// The 1-based line where it starts.
    pub line: u32,
    /// The 1-based character column where it starts.
    pub column: u32,
    /// Its text on one line.
    pub text: String,
    /// The index in [`Coverage::statements`] of the statement it belongs to.
    pub statement: usize,
    /// In how many cases it was true.
    pub true_cases: usize,
    /// In how many cases it was false.
    pub false_cases: usize,
    /// In how many cases it was unknown (the request lacked what it reads).
    pub unknown_cases: usize,
    span: Span,
}

impl ConditionCoverage {
    /// Whether it was true in a case and false in another.
    pub fn covered(&self) -> bool {
        self.true_cases > 0 && self.false_cases > 0
    }

    /// Whether it was evaluated at all.
    pub fn evaluated(&self) -> bool {
        self.true_cases + self.false_cases + self.unknown_cases > 0
    }
}

impl Coverage {
    /// The statements that decided no case.
    pub fn undecided(&self) -> impl Iterator<Item = &StatementCoverage> {
        self.statements
            .iter()
            .filter(|statement| !statement.covered())
    }

    /// The atoms that were not both true and false.
    pub fn not_both(&self) -> impl Iterator<Item = &ConditionCoverage> {
        self.conditions
            .iter()
            .filter(|condition| !condition.covered())
    }

    /// Whether every statement decided a case and every atom was both true and false.
    pub fn complete(&self) -> bool {
        self.undecided().next().is_none() && self.not_both().next().is_none()
    }

    /// Adds the counts of `other`, the coverage of the same policy by other cases (the
    /// policy perhaps reached by another path: file names are not compared). Returns
    /// `false`, adding nothing, when `other` is of another policy (its statements or
    /// atoms are not the same).
    pub fn merge(&mut self, other: &Coverage) -> bool {
        let same_statements = self.statements.len() == other.statements.len()
            && self
                .statements
                .iter()
                .zip(&other.statements)
                .all(|(a, b)| (a.span, &a.text) == (b.span, &b.text));
        let same_conditions = self.conditions.len() == other.conditions.len()
            && self
                .conditions
                .iter()
                .zip(&other.conditions)
                .all(|(a, b)| (a.span, &a.text) == (b.span, &b.text));
        if !same_statements || !same_conditions {
            return false;
        }
        self.cases += other.cases;
        for (mine, theirs) in self.statements.iter_mut().zip(&other.statements) {
            mine.decided += theirs.decided;
        }
        for (mine, theirs) in self.conditions.iter_mut().zip(&other.conditions) {
            mine.true_cases += theirs.true_cases;
            mine.false_cases += theirs.false_cases;
            mine.unknown_cases += theirs.unknown_cases;
        }
        true
    }
}

/// The coverage of `policy` (whose text is in `sources`, and whose engine decided
/// `results`) by the cases of `file`.
///
/// A statement decided a case when it is the case's deciding rule. An atom takes, in a
/// case, the values [`Explainer`] records for it in every statement that matches the
/// request and whose subject covers the case's principal (a rule for other roles is not
/// evaluated for the principal, so its atoms are not counted). Every atom of such a
/// statement is counted, also one that did not change the condition's value (`b` in
/// `a and b` when `a` is false). An `arg` atom of a `list` case takes the value that
/// favours the caller, not one the case chose: it is not counted there. Cases whose
/// claims give no principal count for nothing. Failed cases count like passed ones.
pub fn coverage(
    sources: &Sources,
    policy: &CheckedPolicy,
    file: &TestFile,
    results: &[CaseResult<'_, '_>],
) -> Coverage {
    let mut coverage = empty(sources, policy);
    let statement_index: AHashMap<Span, usize> = coverage
        .statements
        .iter()
        .enumerate()
        .map(|(index, statement)| (statement.span, index))
        .collect();
    let atom_index: AHashMap<Span, usize> = coverage
        .conditions
        .iter()
        .enumerate()
        .map(|(index, condition)| (condition.span, index))
        .collect();
    let explainer = Explainer::new(sources, policy);
    for result in results {
        let resolved = !result
            .mismatches
            .iter()
            .any(|mismatch| matches!(mismatch, Mismatch::Principal(_)));
        let Some(principal) = file.principals.get(result.case.principal) else {
            continue;
        };
        if !resolved {
            continue;
        }
        let Ok(explanation) = explainer.explain(&principal.claims, &case_request(result.case))
        else {
            continue;
        };
        coverage.cases += 1;
        let deciding = result
            .actual
            .rule
            .and_then(|rule| statement_index.get(&rule.span));
        if let Some(statement) = deciding.and_then(|index| coverage.statements.get_mut(*index)) {
            statement.decided += 1;
        }
        // Each atom's values in this case, counted once per case.
        let mut values: Vec<(usize, Truth)> = Vec::new();
        for evaluation in &explanation.evaluations {
            for statement in &evaluation.statements {
                if statement.status == Status::NotForPrincipal {
                    continue;
                }
                let StatementBody::Rule {
                    condition: Some(explained),
                    ..
                } = &statement.body
                else {
                    continue;
                };
                let Some(Body::Rule {
                    condition: Some(cond),
                    ..
                }) = policy.statements.get(statement.index).map(|s| &s.body)
                else {
                    continue;
                };
                each_value(cond, explained, &mut |span, value| {
                    if let Some(&index) = atom_index.get(&span) {
                        if !values.contains(&(index, value)) {
                            values.push((index, value));
                        }
                    }
                });
            }
        }
        for (index, value) in values {
            if let Some(condition) = coverage.conditions.get_mut(index) {
                match value {
                    Truth::True => condition.true_cases += 1,
                    Truth::False => condition.false_cases += 1,
                    Truth::Unknown => condition.unknown_cases += 1,
                }
            }
        }
    }
    coverage
}

/// Every statement and atom of `policy`, none covered.
fn empty(sources: &Sources, policy: &CheckedPolicy) -> Coverage {
    let mut statements = Vec::new();
    let mut conditions = Vec::new();
    for (index, statement) in policy.statements.iter().enumerate() {
        let location = sources.location(statement.span);
        statements.push(StatementCoverage {
            file: location.file.to_string(),
            line: location.start.line,
            column: location.start.column,
            text: one_line(sources.text(statement.span)),
            decided: 0,
            span: statement.span,
        });
        if let Body::Rule {
            condition: Some(cond),
            ..
        } = &statement.body
        {
            each_atom(cond, &mut |atom| {
                let location = sources.location(atom.span);
                conditions.push(ConditionCoverage {
                    file: location.file.to_string(),
                    line: location.start.line,
                    column: location.start.column,
                    text: one_line(sources.text(atom.span)),
                    statement: index,
                    true_cases: 0,
                    false_cases: 0,
                    unknown_cases: 0,
                    span: atom.span,
                });
            });
        }
    }
    Coverage {
        cases: 0,
        statements,
        conditions,
    }
}

/// Calls `visit` with every atom of `cond` but the constants, in text order.
fn each_atom<'c>(cond: &'c Cond, visit: &mut impl FnMut(&'c Cond)) {
    match &cond.kind {
        CondKind::Not(inner) => each_atom(inner, visit),
        CondKind::And(items) | CondKind::Or(items) => {
            for item in items {
                each_atom(item, visit);
            }
        }
        CondKind::Const(_) => {}
        _ => visit(cond),
    }
}

/// Calls `seen` with the span and value of every atom of `cond` whose value the
/// explanation `explained` of the same condition recorded. An `unless` condition is
/// `not C` in the checked policy and `C` in the explanation.
fn each_value(cond: &Cond, explained: &ConditionExplanation, seen: &mut impl FnMut(Span, Truth)) {
    let cond = match (&cond.kind, explained.mode) {
        (CondKind::Not(inner), crate::ast::ConditionMode::Unless) => inner,
        _ => cond,
    };
    walk(cond, &explained.tree, seen);
}

fn walk(cond: &Cond, node: &Node, seen: &mut impl FnMut(Span, Truth)) {
    match (&cond.kind, &node.kind) {
        (CondKind::Not(inner), NodeKind::Not { of }) => walk(inner, of, seen),
        (CondKind::And(items), NodeKind::And { of })
        | (CondKind::Or(items), NodeKind::Or { of }) => {
            for (item, node) in items.iter().zip(of) {
                walk(item, node, seen);
            }
        }
        (_, NodeKind::Atom(reading)) => {
            let favoured = matches!(
                reading,
                Reading::Arg {
                    read: ArgRead::Favoured { .. },
                    ..
                }
            );
            if !favoured {
                seen(cond.span, node.value);
            }
        }
        _ => {}
    }
}
