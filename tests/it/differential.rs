//! The compiled table against the reference interpreter, on random policies and
//! requests: every decision must agree (effect, reason, rule, missing scopes).
//!
//! Two generators run: every form mixed (`arg` atoms among them), and one weighted
//! towards `call`/`get` rules with conditions on arguments. `TOOLGATE_PROPTEST_CASES`
//! sets the number of generated policies each runs (default 10,000, each decided on
//! about twenty requests); e.g.
//! `TOOLGATE_PROPTEST_CASES=1000000 cargo test --release --test it differential`.

use proptest::prelude::*;
use proptest::test_runner::{Config, TestRunner};
use toolgate::check::{self, Config as CheckConfig};
use toolgate::eval::{Engine, Request};
use toolgate::source::Sources;
use toolgate::{compile, parse};

use crate::generate;
use crate::reference::{self, RefRequest};

fn cases() -> u32 {
    std::env::var("TOOLGATE_PROPTEST_CASES")
        .ok()
        .and_then(|value| value.parse().ok())
        .unwrap_or(10_000)
}

fn compare(text: &str, requests: &[RefRequest]) -> Result<(), TestCaseError> {
    let sources = Sources::from_text("generated.policy", text);
    let parsed = parse::parse(&sources);
    prop_assert!(parsed.diagnostics.is_empty(), "{:?}", parsed.diagnostics);
    let checked = check::check(&parsed.policy, &CheckConfig::default());
    let policy = checked
        .policy
        .ok_or_else(|| TestCaseError::fail(format!("checker errors: {:?}", checked.diagnostics)))?;
    let engine = Engine::new(compile::compile(&sources, &policy));
    for request in requests {
        let refused = reference::refuses(&parsed.policy, request);
        let Ok(principal) = engine.principal(&request.claims) else {
            prop_assert!(refused, "the engine refused {}", request.claims);
            continue;
        };
        prop_assert!(!refused, "the engine accepted {}", request.claims);
        let expected = reference::decide(&sources, &parsed.policy, request);
        let decision = engine.decide(
            &principal,
            &Request {
                kind: request.kind,
                action: request.action,
                name: &request.name,
                ip: request.ip,
                time: request.time,
                arguments: request
                    .arguments
                    .as_ref()
                    .and_then(serde_json::Value::as_object),
            },
        );
        let got = (
            decision.is_allowed(),
            decision.reason.as_str(),
            decision.rule.map(|rule| rule.to_string()),
            decision
                .missing_scopes
                .iter()
                .map(|s| s.to_string())
                .collect::<Vec<_>>(),
        );
        let want = (
            expected.allow,
            expected.reason,
            expected.rule.clone(),
            expected.missing_scopes.clone(),
        );
        prop_assert_eq!(got, want, "policy:\n{}\nrequest: {:?}", text, request);
    }
    Ok(())
}

/// Runs `cases()` policies of `flavour` through [`compare`].
fn agree_on(flavour: generate::Flavour) {
    let mut runner = TestRunner::new(Config {
        cases: cases(),
        failure_persistence: None,
        // The generators' filters (a claims block with a line, a window with days or
        // hours) reject a few values per policy: proptest's default bound on all the
        // rejections of a run (65,536) would stop a run of a million policies.
        max_local_rejects: u32::MAX,
        ..Config::default()
    });
    let result = runner.run(&generate::case_with(flavour), |(text, requests)| {
        compare(&text, &requests)
    });
    if let Err(error) = result {
        panic!("{error}");
    }
}

#[test]
fn the_table_agrees_with_the_reference_interpreter() {
    agree_on(generate::Flavour::MIXED);
}

/// Mostly `call` and `get` rules with conditions on arguments, and requests with random
/// arguments (listings among them, which take the arguments that favour the caller).
#[test]
fn the_table_agrees_with_the_reference_interpreter_on_arguments() {
    agree_on(generate::Flavour::ARGUMENTS);
}

/// What `fuzz/fuzz_targets/eval_line.rs` checks beside the example policy, on every
/// committed seed of that target: on the policies of the argument cases
/// (`tests/cases/args*/`, read as one policy), the engine decides each valid line as the
/// reference interpreter does, whatever arguments it carries.
#[test]
fn eval_line_seeds_agree_on_the_argument_policies() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut sources = Sources::new();
    for (name, folder) in [
        ("args.policy", "args"),
        ("args-listing.policy", "args-listing"),
        ("args-paths.policy", "args-paths"),
    ] {
        let path = root.join("tests/cases").join(folder).join("policy.policy");
        sources.add(name, std::fs::read_to_string(path).unwrap());
    }
    let policy = parse::parse(&sources).policy;
    let engine = toolgate::load(sources.clone()).unwrap().engine;
    let mut seeds: Vec<_> = std::fs::read_dir(root.join("fuzz/corpus/seed-eval_line"))
        .unwrap()
        .map(|entry| entry.unwrap().path())
        .collect();
    seeds.sort();
    let (mut decided, mut with_arguments) = (0, 0);
    for seed in seeds {
        let bytes = std::fs::read(&seed).unwrap();
        let Ok(line) = std::str::from_utf8(&bytes) else {
            continue;
        };
        let Ok(parsed) = toolgate::eval::json::parse_request(line) else {
            continue;
        };
        assert!(
            parsed.arguments.is_none()
                || matches!(
                    parsed.action,
                    toolgate::Action::Call | toolgate::Action::Get
                ),
            "{seed:?}"
        );
        let claims: serde_json::Value = serde_json::from_str(parsed.claims.get()).unwrap();
        let request = parsed.request(jiff::Timestamp::UNIX_EPOCH);
        let reference_request = RefRequest {
            claims: claims.clone(),
            kind: parsed.kind,
            action: parsed.action,
            name: parsed.name.to_string(),
            ip: parsed.ip,
            time: request.time,
            arguments: parsed.arguments.clone().map(serde_json::Value::Object),
        };
        let refused = reference::refuses(&policy, &reference_request);
        let Ok(principal) = engine.principal(&claims) else {
            assert!(refused, "{seed:?}: the engine refused {claims}");
            continue;
        };
        assert!(!refused, "{seed:?}: the engine accepted {claims}");
        let decision = engine.decide(&principal, &request);
        let expected = reference::decide(&sources, &policy, &reference_request);
        let got = (
            decision.is_allowed(),
            decision.reason.as_str(),
            decision.rule.map(|rule| rule.to_string()),
            decision
                .missing_scopes
                .iter()
                .map(|s| s.to_string())
                .collect::<Vec<_>>(),
        );
        let want = (
            expected.allow,
            expected.reason,
            expected.rule.clone(),
            expected.missing_scopes.clone(),
        );
        assert_eq!(got, want, "{seed:?}: {line}");
        decided += 1;
        with_arguments += usize::from(parsed.arguments.is_some());
    }
    assert!(decided >= 200, "only {decided} seeds decided");
    assert!(
        with_arguments >= 100,
        "only {with_arguments} seeds with arguments"
    );
}
