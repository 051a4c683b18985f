//! The shared conformance cases, run through the parser and the reference interpreter.
//!
//! Each case's `expect.rule` is a substring of the deciding statement's first line (or
//! null when no statement decides).

use serde_json::Value;
use toolgate::unstable::source::Sources;

use super::syntax::Policy;
use super::{decide_policy as decide, parse, RefDecision, RefRequest};
use toolgate::{Action, Kind};

/// The shared conformance directory.
const CONFORMANCE: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../shared/conformance");

/// Reads `DIR/policy.policy` and parses it with the reference parser; panics on a
/// syntax error.
fn load_policy(directory: &str) -> (Sources, Policy) {
    let path = format!("{CONFORMANCE}/{directory}/policy.policy");
    let sources = Sources::from_path(&path).unwrap();
    let policy = parse(&sources).unwrap_or_else(|error| panic!("{path}: {error}"));
    (sources, policy)
}

/// Reads `DIR/cases.jsonl`.
fn load_cases(directory: &str) -> Vec<Value> {
    let path = format!("{CONFORMANCE}/{directory}/cases.jsonl");
    std::fs::read_to_string(&path)
        .unwrap()
        .lines()
        .filter(|line| !line.trim().is_empty())
        .map(|line| serde_json::from_str(line).unwrap())
        .collect()
}

/// A request of the conformance format as a reference request.
pub fn request_from_json(request: &Value) -> RefRequest {
    let action = Action::from_keyword(request["action"].as_str().unwrap()).unwrap();
    let (kind, name) = Kind::ALL
        .iter()
        .find_map(|kind| {
            let name = request.get(kind.singular()).and_then(Value::as_str)?;
            Some((*kind, name.to_owned()))
        })
        .unwrap();
    RefRequest {
        claims: request["claims"].clone(),
        kind,
        action,
        name,
        ip: request
            .get("ip")
            .and_then(Value::as_str)
            .map(|ip| ip.parse().unwrap()),
        time: request["time"].as_str().unwrap().parse().unwrap(),
        arguments: request.get("arguments").filter(|a| !a.is_null()).cloned(),
    }
}

/// The text of the first line of the statement at `FILE:LINE`.
fn statement_line<'a>(sources: &'a Sources, rule: &str) -> &'a str {
    let (file, line) = rule.rsplit_once(':').unwrap();
    let (_, source) = sources
        .iter()
        .find(|(_, source)| source.name() == file)
        .unwrap();
    source.line_text(line.parse().unwrap())
}

/// Why `decision` does not meet `expect`, if it does not.
fn mismatch(sources: &Sources, decision: &RefDecision, expect: &Value) -> Option<String> {
    let mut problems = Vec::new();
    let expected_allow = expect["decision"] == "allow";
    if decision.allow != expected_allow {
        problems.push(format!(
            "allow {} expected {expected_allow}",
            decision.allow
        ));
    }
    if decision.reason != expect["reason"] {
        problems.push(format!(
            "reason {} expected {}",
            decision.reason, expect["reason"]
        ));
    }
    let expected_missing: Vec<String> =
        serde_json::from_value(expect["missing_scopes"].clone()).unwrap();
    if decision.missing_scopes != expected_missing {
        problems.push(format!(
            "missing {:?} expected {expected_missing:?}",
            decision.missing_scopes
        ));
    }
    match (&decision.rule, expect["rule"].as_str()) {
        (None, None) => {}
        (Some(rule), Some(expected)) => {
            let line = statement_line(sources, rule);
            if !line.contains(expected) {
                problems.push(format!("rule {rule} ({line}) expected {expected:?}"));
            }
        }
        (rule, expected) => problems.push(format!("rule {rule:?} expected {expected:?}")),
    }
    (!problems.is_empty()).then(|| problems.join("; "))
}

/// Runs every case of one conformance directory; panics listing every failing case.
fn run(directory: &str) {
    let (sources, policy) = load_policy(directory);
    let cases = load_cases(directory);
    assert!(!cases.is_empty(), "{directory}: no cases");
    let mut failures = Vec::new();
    for case in &cases {
        let request = request_from_json(&case["request"]);
        let decision = decide(&policy, &request);
        if let Some(problem) = mismatch(&sources, &decision, &case["expect"]) {
            failures.push(format!("{}: {problem}", case["note"]));
        }
    }
    assert!(
        failures.is_empty(),
        "{directory}: {} of {} cases fail:\n{}",
        failures.len(),
        cases.len(),
        failures.join("\n")
    );
}

#[test]
fn reference_passes_the_example_cases() {
    run("example");
}

#[test]
fn reference_passes_the_glob_cases() {
    run("globs");
}

#[test]
fn reference_passes_the_step_up_cases() {
    run("step-up");
}
