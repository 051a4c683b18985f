//! Unit tests of the tests-file parser and runner.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use super::*;
use crate::source::{SourceId, Sources};

fn parse_text(text: &str) -> Parsed {
    parse(&Sources::from_text("t.tests", text), SourceId(0))
}

/// `(code, start byte, end byte)` of each error.
fn error_spans(text: &str) -> Vec<(ErrorCode, u32, u32)> {
    parse_text(text)
        .errors
        .iter()
        .map(|error| (error.code, error.span.start, error.span.end))
        .collect()
}

const HEAD: &str = "at 2026-01-01T00:00:00Z\nprincipal p = {}\nas p\n";

#[test]
fn string_escapes() {
    let parsed = parse_text(&format!(
        "{HEAD}expect allow call tool \"a\\\"b\\\\c\\nd\\te\\u{{e9}}\\u{{1F600}}*?\"\n"
    ));
    assert_eq!(parsed.errors, []);
    assert_eq!(
        parsed.file.cases[0].request.name,
        "a\"b\\c\nd\te\u{e9}\u{1F600}*?"
    );
}

#[test]
fn bad_escapes_are_underlined() {
    let start = HEAD.len() as u32 + 24;
    for (escape, length) in [
        ("\\u{110000}", 10),
        ("\\u{}", 4),
        ("\\u{zz}", 6),
        ("\\u{1234567}", 11),
        ("\\u12", 2),
        ("\\*", 2),
    ] {
        let text = format!("{HEAD}expect allow call tool \"{escape}\"\n");
        assert_eq!(
            error_spans(&text),
            [(ErrorCode::T001, start, start + length)],
            "{escape}"
        );
    }
}

#[test]
fn windows_line_endings_and_comments() {
    let parsed = parse_text(
        "at 2026-01-01T00:00:00Z\r\n# only a comment\r\nprincipal p = {}  # trailing\r\n\r\n\
         expect deny call tool \"x\" as p reason no_rule # why\r\n",
    );
    assert_eq!(parsed.errors, []);
    assert_eq!(parsed.file.cases.len(), 1);
    assert_eq!(parsed.file.cases[0].expected.reason, Some(Reason::NoRule));
}

#[test]
fn the_case_span_ends_at_its_last_token() {
    let sources = Sources::from_text(
        "t.tests",
        format!("{HEAD}  expect deny call tool \"x\" reason no_rule   # comment\n"),
    );
    let parsed = parse(&sources, SourceId(0));
    let case = &parsed.file.cases[0];
    assert_eq!(
        sources.text(case.span),
        "expect deny call tool \"x\" reason no_rule"
    );
}

#[test]
fn statement_level_errors() {
    let text = "policy \"a.policy\"\npolicy \"b.policy\"\nat 2026-01-01T00:00:00Z junk\nprincipal 9x = {}\nprincipal p {}\n";
    let codes: Vec<ErrorCode> = parse_text(text).errors.iter().map(|e| e.code).collect();
    assert_eq!(
        codes,
        [
            ErrorCode::T003,
            ErrorCode::T001,
            ErrorCode::T001,
            ErrorCode::T001
        ]
    );
    let parsed = parse_text(text);
    assert_eq!(
        parsed.errors[1].message,
        "unexpected `junk` after the statement"
    );
    assert_eq!(
        parsed.errors[3].message,
        "expected `=` after the principal's name, found `{`"
    );
}

#[test]
fn missing_none_and_rule_forms() {
    let parsed = parse_text(&format!(
        "{HEAD}expect deny call tool \"x\" missing none rule 12\n\
         expect deny call tool \"x\" rule \"a/b.policy:3\" missing \"z\", \"a\", \"z\"\n"
    ));
    assert_eq!(parsed.errors, []);
    let cases = &parsed.file.cases;
    assert_eq!(cases[0].expected.missing_scopes, Some(vec![]));
    assert_eq!(cases[0].expected.rule, Some(RuleExpectation::Line(12)));
    assert_eq!(
        cases[1].expected.missing_scopes,
        Some(vec!["a".to_string(), "z".to_string()])
    );
    for bad in [
        "rule 0",
        "rule -1",
        "rule \":3\"",
        "rule \"a.policy:x\"",
        "rule +3",
    ] {
        let spans = error_spans(&format!("{HEAD}expect deny call tool \"x\" {bad}\n"));
        assert_eq!(spans.len(), 1, "{bad}");
        assert_eq!(spans[0].0, ErrorCode::T004, "{bad}");
    }
}

#[test]
fn inline_claims_must_be_objects() {
    let spans = error_spans(&format!(
        "{HEAD}as {{\"a\": 1}}\nexpect allow call tool \"x\" as {{]\n"
    ));
    assert_eq!(spans.len(), 1);
    assert_eq!(spans[0].0, ErrorCode::T004);
}

#[test]
fn a_foreign_principal_index_fails_closed() {
    let loaded =
        crate::Policy::from_text("p.policy", "role r\nallow r to call tools \"*\"\n").unwrap();
    let mut file = parse_text(&format!(
        "{HEAD}expect allow call tool \"x\" as {{\"roles\": \"r\"}}\n"
    ))
    .file;
    assert!(run(loaded.engine(), &file)[0].passed());
    file.cases[0].principal = 99;
    let results = run(loaded.engine(), &file);
    assert!(!results[0].passed());
    assert!(!results[0].actual.is_allowed());
    file.principals[1].claims = serde_json::json!([1]);
    file.cases[0].principal = 1;
    let results = run(loaded.engine(), &file);
    assert!(matches!(
        results[0].mismatches[..],
        [Mismatch::Principal(_)]
    ));
}
