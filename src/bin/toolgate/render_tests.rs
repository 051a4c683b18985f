//! Rendering `toolgate test` results: errors in tests files (rustc-style, like `check`),
//! failed cases with both decisions, the coverage of each policy, and the summary line.

use annotate_snippets::{AnnotationKind, Group, Level, Renderer, Snippet};
use toolgate::unstable::ast::Action;
use toolgate::unstable::eval::Decision;
use toolgate::unstable::source::Sources;
use toolgate::unstable::testing::{
    Case, CaseResult, ConditionCoverage, Expected, Mismatch, StatementCoverage, Summary, TestError,
    TestFile,
};
use toolgate::unstable::visible::visible;

use crate::test::PolicyCoverage;

/// rustc-style text for each error of a tests file, separated by blank lines.
pub fn errors(sources: &Sources, errors: &[TestError], colour: bool) -> String {
    let renderer = if colour {
        Renderer::styled()
    } else {
        Renderer::plain()
    };
    errors
        .iter()
        .map(|error| renderer.render(&report(sources, error)) + "\n\n")
        .collect()
}

fn report<'a>(sources: &'a Sources, error: &'a TestError) -> Vec<Group<'a>> {
    let file = sources.get(error.span.source);
    let mut primary = AnnotationKind::Primary.span(error.span.range());
    if let Some(label) = &error.label {
        primary = primary.label(label.as_str());
    }
    let title = Level::ERROR
        .primary_title(error.message.as_str())
        .id(error.code.as_str());
    let mut group = Group::with_title(title).element(
        Snippet::source(file.text())
            .path(file.name())
            .annotation(primary),
    );
    if let Some(help) = &error.help {
        group = group.element(Level::HELP.message(help.as_str()));
    }
    vec![group]
}

/// `N passed, N failed`.
pub fn summary(summary: Summary) -> String {
    format!("{} passed, {} failed", summary.passed, summary.failed)
}

/// The request of a case in words: `` `dev` calls tool `x` from 10.1.2.3 at ... ``.
pub fn request_words(file: &TestFile, case: &Case) -> String {
    let who = file
        .principals
        .get(case.principal)
        .map_or_else(|| "?".to_string(), |principal| principal.label());
    let verb = match case.request.action {
        Action::List => "lists",
        Action::Call => "calls",
        Action::Read => "reads",
        Action::Get => "gets",
    };
    let from = match case.request.ip {
        Some(ip) => format!("from {ip}"),
        None => "without an address".to_string(),
    };
    format!(
        "`{}` {verb} {} `{}` {from} at {}",
        visible(&who),
        case.request.kind.singular(),
        visible(&case.request.name),
        case.request.time
    )
}

/// What a case expects, in words: `deny, reason no_rule`.
pub fn expected_words(expected: &Expected) -> String {
    let mut words = expected.effect.keyword().to_string();
    if let Some(reason) = expected.reason {
        words.push_str(&format!(", reason {}", reason.as_str()));
    }
    if let Some(scopes) = &expected.missing_scopes {
        words.push_str(&missing_words(scopes.iter().map(String::as_str)));
    }
    if let Some(rule) = &expected.rule {
        words.push_str(&format!(", rule {rule}"));
    }
    words
}

/// A decision in words: `deny, reason insufficient_scope, missing "tool:write", rule ...`.
pub fn decision_words(decision: &Decision<'_>) -> String {
    let effect = if decision.is_allowed() {
        "allow"
    } else {
        "deny"
    };
    let mut words = format!("{effect}, reason {}", decision.reason.as_str());
    if !decision.missing_scopes.is_empty() {
        words.push_str(&missing_words(decision.missing_scopes.iter().copied()));
    }
    match decision.rule {
        Some(rule) => words.push_str(&format!(", rule {rule}")),
        None => words.push_str(", no rule"),
    }
    words
}

fn missing_words<'s>(scopes: impl Iterator<Item = &'s str>) -> String {
    let quoted: Vec<String> = scopes.map(|scope| format!("\"{scope}\"")).collect();
    if quoted.is_empty() {
        ", no missing scopes".to_string()
    } else {
        format!(", missing {}", quoted.join(", "))
    }
}

/// The case as written, its lines trimmed and joined by spaces.
pub fn case_text(tests: &Sources, case: &Case) -> String {
    let lines: Vec<&str> = tests.text(case.span).lines().map(str::trim).collect();
    lines.join(" ")
}

/// A failed case: where it is, the request, the case as written, both decisions, and
/// the text of the deciding rule.
pub fn failure(
    tests: &Sources,
    file: &TestFile,
    result: &CaseResult<'_, '_>,
    policy: &Sources,
    colour: bool,
) -> String {
    let location = tests.location(result.case.span);
    let marker = if colour {
        "\u{1b}[1;31mFAIL\u{1b}[0m"
    } else {
        "FAIL"
    };
    let case_text = case_text(tests, result.case);
    let mut text = format!(
        "{marker} {}:{}: {}\n     case      {case_text}\n     expected  {}\n",
        location.file,
        location.start.line,
        request_words(file, result.case),
        expected_words(&result.case.expected),
    );
    let principal_error = result
        .mismatches
        .iter()
        .find_map(|mismatch| match mismatch {
            Mismatch::Principal(message) => Some(message),
            _ => None,
        });
    match principal_error {
        Some(message) => {
            text.push_str(&format!("     actual    no principal: {message}\n"));
        }
        None => {
            text.push_str(&format!(
                "     actual    {}\n",
                decision_words(&result.actual)
            ));
            if let Some(rule) = result.actual.rule {
                let line = policy.get(rule.span.source).line_text(rule.line).trim();
                text.push_str(&format!("               {} | {line}\n", rule.line));
            }
        }
    }
    text
}

/// A case that passed, for `--verbose`.
pub fn passed(tests: &Sources, file: &TestFile, result: &CaseResult<'_, '_>) -> String {
    let location = tests.location(result.case.span);
    format!(
        "ok   {}:{}: {} -> {}\n",
        location.file,
        location.start.line,
        request_words(file, result.case),
        decision_words(&result.actual)
    )
}

/// The coverage of one policy: the statements that decided no case and the condition
/// atoms that were not both true and false, each on a line of its own.
pub fn coverage(policy: &PolicyCoverage) -> String {
    let coverage = &policy.coverage;
    let files = policy.tests_files.len();
    let mut text = format!(
        "coverage of {} by {} {} ({files} tests {}):\n",
        visible(&policy.policy),
        coverage.cases,
        if coverage.cases == 1 { "case" } else { "cases" },
        if files == 1 { "file" } else { "files" },
    );
    let undecided: Vec<&StatementCoverage> = coverage.undecided().collect();
    text.push_str(&format!(
        "  statements that decided no case: {} of {}\n",
        undecided.len(),
        coverage.statements.len()
    ));
    for statement in undecided {
        text.push_str(&format!("    {}\n", statement_line(statement)));
    }
    let not_both: Vec<&ConditionCoverage> = coverage.not_both().collect();
    text.push_str(&format!(
        "  condition atoms not both true and false: {} of {}\n",
        not_both.len(),
        coverage.conditions.len()
    ));
    for condition in not_both {
        text.push_str(&format!("    {}\n", condition_line(condition)));
    }
    text.push('\n');
    text
}

/// `FILE:LINE: statement text`.
pub fn statement_line(statement: &StatementCoverage) -> String {
    format!(
        "{}:{}: {}",
        visible(&statement.file),
        statement.line,
        visible(&statement.text)
    )
}

/// `FILE:LINE:COLUMN: atom text: true N, false N, unknown N` (or `never evaluated`).
pub fn condition_line(condition: &ConditionCoverage) -> String {
    format!(
        "{}:{}:{}: {}: {}",
        visible(&condition.file),
        condition.line,
        condition.column,
        visible(&condition.text),
        condition_values(condition)
    )
}

/// `true N, false N, unknown N`, or `never evaluated`.
pub fn condition_values(condition: &ConditionCoverage) -> String {
    if condition.evaluated() {
        format!(
            "true {}, false {}, unknown {}",
            condition.true_cases, condition.false_cases, condition.unknown_cases
        )
    } else {
        "never evaluated".to_string()
    }
}

/// The line `--coverage-fail` adds when something is not covered: `coverage is
/// incomplete: N statements decided no case, N condition atoms were not both true and
/// false`.
pub fn incomplete(policies: &[PolicyCoverage]) -> String {
    let statements: usize = policies
        .iter()
        .map(|policy| policy.coverage.undecided().count())
        .sum();
    let atoms: usize = policies
        .iter()
        .map(|policy| policy.coverage.not_both().count())
        .sum();
    format!(
        "coverage is incomplete: {statements} {} decided no case, {atoms} condition {} not \
         both true and false\n",
        if statements == 1 {
            "statement"
        } else {
            "statements"
        },
        if atoms == 1 { "atom was" } else { "atoms were" },
    )
}
