//! The generators' contract: every policy parses and checks without errors, and the
//! reference interpreter decides every generated request consistently.

use proptest::prelude::*;
use toolgate::unstable::source::Sources;

use super::{case_with, policy_text_with, request, Flavour};
use crate::reference::{
    decide_policy as decide, Policy, RefDecision, ALLOWED, INSUFFICIENT_SCOPE, NO_RULE,
};

/// Parses and checks `text` with the engine; `Err` lists every error (code, line,
/// message). `Ok` holds the policy as the reference parser reads it.
fn load(text: &str) -> Result<Policy, String> {
    let sources = Sources::from_text("generated.policy", text);
    let parsed = toolgate::unstable::parse::parse(&sources);
    let checked = toolgate::unstable::check::check(
        &parsed.policy,
        &toolgate::unstable::check::Config::default(),
    );
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
        crate::reference::parse(&sources).map_err(|error| format!("reference parser: {error}"))
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

/// The same policy with its statements in reverse policy order.
fn reversed(policy: &Policy) -> Policy {
    let mut statements = policy.statements.clone();
    statements.reverse();
    Policy { statements }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn generated_policies_have_no_errors(
        text in prop_oneof![
            policy_text_with(Flavour::MIXED),
            policy_text_with(Flavour::V1),
            policy_text_with(Flavour::ARGUMENTS),
            policy_text_with(Flavour::MIXED.widened()),
        ]
    ) {
        if let Err(errors) = load(&text) {
            prop_assert!(false, "{errors}\n--- policy ---\n{text}");
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(128))]

    #[test]
    fn reference_decisions_are_well_formed_and_order_independent(
        (text, requests) in prop_oneof![case_with(Flavour::MIXED), case_with(Flavour::ARGUMENTS)]
    ) {
        let policy = load(&text).map_err(TestCaseError::fail)?;
        let reversed = reversed(&policy);
        for request in &requests {
            let decision = decide(&policy, request);
            assert_well_formed(&decision);
            let other = decide(&reversed, request);
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
        let policy = load(&text).map_err(TestCaseError::fail)?;
        assert_well_formed(&decide(&policy, &request));
    }
}

/// The generators exercise arguments: many policies test them, calls whose decision
/// their arguments change, listings that only the favourable substitution allows, and
/// every operator and path form.
#[test]
fn argument_conditions_decide_requests() {
    use proptest::strategy::ValueTree;
    use proptest::test_runner::TestRunner;
    use toolgate::unstable::ast::Action;

    let mut runner = TestRunner::deterministic();
    let strategy = case_with(Flavour::ARGUMENTS);
    let (mut policies, mut with_args, mut requests_seen) = (0, 0, 0);
    let (mut calls, mut changed, mut listings, mut listed_by_favour) = (0, 0, 0, 0);
    let mut forms = std::collections::BTreeSet::new();
    for _ in 0..300 {
        let (text, requests) = strategy.new_tree(&mut runner).unwrap().current();
        let policy = load(&text).unwrap();
        policies += 1;
        if text.contains("arg \"") {
            with_args += 1;
        }
        for operator in [
            "==", "!=", " in [", "contains", "matches", " < ", " <= ", " > ", " >= ", "exists",
            "arg \"/",
        ] {
            if text
                .lines()
                .any(|line| line.contains("arg \"") && line.contains(operator))
            {
                forms.insert(operator);
            }
        }
        for request in &requests {
            requests_seen += 1;
            let decision = decide(&policy, request);
            match request.action {
                Action::Call | Action::Get => {
                    calls += 1;
                    let without = crate::reference::RefRequest {
                        arguments: None,
                        ..request.clone()
                    };
                    if decide(&policy, &without) != decision {
                        changed += 1;
                    }
                }
                _ => {
                    listings += 1;
                    assert_eq!(request.arguments, None);
                    // A listing allowed by a rule with an `arg` atom (its first line, or
                    // the condition's own line).
                    let line = decision
                        .rule
                        .as_ref()
                        .and_then(|rule| rule.rsplit_once(':')?.1.parse::<usize>().ok());
                    let lines: Vec<&str> = text.lines().collect();
                    let tests_arguments = line.is_some_and(|line| {
                        lines
                            .iter()
                            .skip(line - 1)
                            .take(2)
                            .any(|line| line.contains("arg \""))
                    });
                    if decision.allow && tests_arguments {
                        listed_by_favour += 1;
                    }
                }
            }
        }
    }
    eprintln!(
        "{policies} policies, {with_args} with arg atoms; {requests_seen} requests: \
         {changed} of {calls} calls decided otherwise without their arguments, \
         {listed_by_favour} of {listings} listings and reads allowed by a rule testing \
         arguments; forms {forms:?}"
    );
    assert!(with_args * 4 >= policies * 3, "{with_args} of {policies}");
    assert!(changed * 25 >= calls, "{changed} of {calls}");
    assert!(
        listed_by_favour * 10 >= listings,
        "{listed_by_favour} of {listings}"
    );
    assert_eq!(forms.len(), 11, "{forms:?}");
}
