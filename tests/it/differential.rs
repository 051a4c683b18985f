//! The compiled table against the reference interpreter, on random policies and
//! requests: every decision must agree (effect, reason, rule, missing scopes).
//!
//! `TOOLGATE_PROPTEST_CASES` sets the number of generated policies (default 10,000,
//! each decided on about twenty requests); e.g.
//! `TOOLGATE_PROPTEST_CASES=200000 cargo test --release --test it differential`.

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

#[test]
fn the_table_agrees_with_the_reference_interpreter() {
    let mut runner = TestRunner::new(Config {
        cases: cases(),
        failure_persistence: None,
        ..Config::default()
    });
    let result = runner.run(&generate::case(), |(text, requests)| {
        compare(&text, &requests)
    });
    if let Err(error) = result {
        panic!("{error}");
    }
}
