//! The generators' contract: every policy parses and checks without errors, and the
//! reference interpreter decides every generated request consistently.

use proptest::prelude::*;
use toolgate::ast::Policy;
use toolgate::source::{Sources, Span};

use super::{case, policy_text, request};
use crate::reference::{decide, RefDecision, ALLOWED, INSUFFICIENT_SCOPE, NO_RULE};

/// Parses and checks `text`; `Err` lists every error (code, line, message).
fn load(text: &str) -> Result<(Sources, Policy), String> {
    let sources = Sources::from_text("generated.policy", text);
    let parsed = toolgate::parse::parse(&sources);
    let checked = toolgate::check::check(&parsed.policy, &toolgate::check::Config::default());
    let errors: Vec<String> = parsed
        .diagnostics
        .iter()
        .chain(
            checked
                .diagnostics
                .iter()
                .filter(|diagnostic| diagnostic.is_error()),
        )
        .map(|diagnostic| {
            let location = sources.location(diagnostic.span);
            format!(
                "{} line {}: {}",
                diagnostic.code, location.start.line, diagnostic.message
            )
        })
        .collect();
    if errors.is_empty() {
        Ok((sources, parsed.policy))
    } else {
        Err(errors.join("\n"))
    }
}

/// The invariants every decision keeps.
fn assert_well_formed(decision: &RefDecision) {
    assert_eq!(decision.allow, decision.reason == ALLOWED, "{decision:?}");
    assert_eq!(
        decision.rule.is_none(),
        decision.reason == NO_RULE,
        "{decision:?}"
    );
    assert_eq!(
        decision.missing_scopes.is_empty(),
        decision.reason != INSUFFICIENT_SCOPE,
        "{decision:?}"
    );
    let mut sorted = decision.missing_scopes.clone();
    sorted.sort();
    sorted.dedup();
    assert_eq!(sorted, decision.missing_scopes, "{decision:?}");
}

/// The same policy with its statements in reverse policy order (spans renumbered).
fn reversed(policy: &Policy) -> Policy {
    let count = policy.statements.len();
    let statements = policy
        .statements
        .iter()
        .enumerate()
        .map(|(index, statement)| {
            let mut statement = statement.clone();
            let start = count - index;
            statement.span = Span::new(statement.span.source, start, start);
            statement
        })
        .collect();
    Policy { statements }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn generated_policies_have_no_errors(text in policy_text()) {
        if let Err(errors) = load(&text) {
            prop_assert!(false, "{errors}\n--- policy ---\n{text}");
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(128))]

    #[test]
    fn reference_decisions_are_well_formed_and_order_independent(
        (text, requests) in case()
    ) {
        let (sources, policy) = load(&text).map_err(TestCaseError::fail)?;
        let reversed = reversed(&policy);
        for request in &requests {
            let decision = decide(&sources, &policy, request);
            assert_well_formed(&decision);
            let other = decide(&sources, &reversed, request);
            prop_assert_eq!(
                (decision.allow, decision.reason),
                (other.allow, other.reason),
                "{:?}\n--- policy ---\n{}", request, text
            );
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn free_requests_decide_against_the_spec_example(request in request()) {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../shared/conformance/example/policy.policy");
        let text = std::fs::read_to_string(path).unwrap();
        let (sources, policy) = load(&text).map_err(TestCaseError::fail)?;
        assert_well_formed(&decide(&sources, &policy, &request));
    }
}
