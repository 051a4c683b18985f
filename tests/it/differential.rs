//! The compiled table against the reference interpreter, on random policies and
//! requests: every decision must agree (effect, reason, rule, missing scopes).
//!
//! The engine reads the policy with its own pipeline (pest grammar, parse, check,
//! compile); the reference interpreter reads the same text with its own
//! recursive-descent parser (`reference::syntax`), so a misreading of the text by either
//! shows up as a disagreement. Policies come in up to three files (rules naming roles,
//! scopes, networks and windows that another file defines), ranges include IPv4-mapped
//! ones, and some rules name enough scopes that the engine's step-up search reaches its
//! bound of 4096 tries: there the decision is only promised to be a deny (never an
//! allow), and the reference says when that may happen.
//!
//! Two generators run: every form mixed (`arg` atoms among them), and one weighted
//! towards `call`/`get` rules with conditions on arguments. `TOOLGATE_PROPTEST_CASES`
//! sets the number of generated policies each runs (default 10,000, each decided on
//! about twenty requests); e.g.
//! `TOOLGATE_PROPTEST_CASES=1000000 cargo test --release --test it differential`.

use std::sync::atomic::{AtomicUsize, Ordering};

use proptest::prelude::*;
use proptest::test_runner::{Config, TestRunner};
use toolgate::unstable::check::{self, Config as CheckConfig};
use toolgate::unstable::eval::{Engine, Request};
use toolgate::unstable::source::Sources;
use toolgate::{unstable::compile, unstable::parse};

use crate::generate;
use crate::reference::{self, RefDecision, RefRequest};

fn cases() -> u32 {
    std::env::var("TOOLGATE_PROPTEST_CASES")
        .ok()
        .and_then(|value| value.parse().ok())
        .unwrap_or(10_000)
}

/// What one run saw, to show that its forms were exercised.
#[derive(Default)]
struct Seen {
    /// Policies of more than one file.
    multi_file: AtomicUsize,
    /// Requests whose step-up search may reach the engine's bound.
    bounded: AtomicUsize,
    /// Of those, requests the engine answered `no_rule` (it did reach it).
    bounded_no_rule: AtomicUsize,
}

/// The engine's decision as the reference states one: (allow, reason, rule, missing).
type Outcome = (bool, String, Option<String>, Vec<String>);

/// The engine's and the reference's decisions on one request.
fn engine_outcome(
    engine: &Engine,
    principal: &toolgate::unstable::principal::Principal,
    request: &RefRequest,
) -> Outcome {
    let decision = engine.decide(
        principal,
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
    (
        decision.is_allowed(),
        decision.reason.as_str().to_owned(),
        decision.rule.map(|rule| rule.to_string()),
        decision
            .missing_scopes
            .iter()
            .map(|s| s.to_string())
            .collect(),
    )
}

/// The reference's decision in the same shape.
fn reference_outcome(decision: &RefDecision) -> Outcome {
    (
        decision.allow,
        decision.reason.to_owned(),
        decision.rule.clone(),
        decision.missing_scopes.clone(),
    )
}

/// Runs the engine's pipeline and the reference on the policy `files` and compares
/// every decision.
fn compare(
    files: &[(String, String)],
    requests: &[RefRequest],
    seen: &Seen,
) -> Result<(), TestCaseError> {
    let text = generate::listing(files);
    let mut sources = Sources::new();
    for (name, file_text) in files {
        sources.add(name.as_str(), file_text.as_str());
    }
    if files
        .iter()
        .filter(|(_, text)| !text.trim().is_empty())
        .count()
        > 1
    {
        seen.multi_file.fetch_add(1, Ordering::Relaxed);
    }
    let parsed = parse::parse(&sources);
    prop_assert!(
        parsed.diagnostics.is_empty(),
        "{:?}\n{}",
        parsed.diagnostics,
        text
    );
    let checked = check::check(&parsed.policy, &CheckConfig::default());
    let policy = checked.policy.ok_or_else(|| {
        TestCaseError::fail(format!("checker errors: {:?}\n{text}", checked.diagnostics))
    })?;
    let engine = Engine::new(compile::compile(&sources, &policy));
    let reference_policy = reference::parse(&sources)
        .map_err(|error| TestCaseError::fail(format!("reference parser: {error}\n{text}")))?;
    for request in requests {
        let refused = reference::refuses(&reference_policy, request);
        let Ok(principal) = engine.principal(&request.claims) else {
            prop_assert!(refused, "the engine refused {}\n{}", request.claims, text);
            continue;
        };
        prop_assert!(!refused, "the engine accepted {}\n{}", request.claims, text);
        let expected = reference::decide_policy(&reference_policy, request);
        let got = engine_outcome(&engine, &principal, request);
        if expected.step_up_bounded {
            // The bound's promise (docs/language.md, extension (f)): never an allow.
            seen.bounded.fetch_add(1, Ordering::Relaxed);
            if got.1 == reference::NO_RULE {
                seen.bounded_no_rule.fetch_add(1, Ordering::Relaxed);
            }
            prop_assert!(
                !got.0 && !expected.allow,
                "an allow where the step-up bound may be reached: {:?}\npolicy:\n{}\nrequest: {:?}",
                got,
                text,
                request
            );
            continue;
        }
        prop_assert_eq!(
            got,
            reference_outcome(&expected),
            "policy:\n{}\nrequest: {:?}",
            text,
            request
        );
    }
    Ok(())
}

/// Runs `cases()` policies of `flavour` through [`compare`].
fn agree_on(flavour: generate::Flavour) -> Seen {
    let mut runner = TestRunner::new(Config {
        cases: cases(),
        failure_persistence: None,
        // The generators' filters (a claims block with a line, a window with days or
        // hours) reject a few values per policy: proptest's default bound on all the
        // rejections of a run (65,536) would stop a run of a million policies.
        max_local_rejects: u32::MAX,
        ..Config::default()
    });
    let seen = Seen::default();
    let result = runner.run(&generate::case_files(flavour), |(files, requests)| {
        compare(&files, &requests, &seen)
    });
    if let Err(error) = result {
        panic!("{error}");
    }
    let (multi_file, bounded, bounded_no_rule) = (
        seen.multi_file.load(Ordering::Relaxed),
        seen.bounded.load(Ordering::Relaxed),
        seen.bounded_no_rule.load(Ordering::Relaxed),
    );
    eprintln!(
        "{} policies: {multi_file} of several files; {bounded} requests may reach the \
         step-up bound, {bounded_no_rule} of them answered no_rule by the engine",
        cases()
    );
    // With a few hundred policies or more, each form shows up.
    if cases() >= 500 {
        assert!(
            multi_file * 4 >= cases() as usize,
            "{multi_file} multi-file policies"
        );
        assert!(bounded_no_rule > 0, "the step-up bound was never reached");
    }
    seen
}

#[test]
fn the_table_agrees_with_the_reference_interpreter() {
    agree_on(generate::Flavour::MIXED.widened());
}

/// Mostly `call` and `get` rules with conditions on arguments, and requests with random
/// arguments (listings among them, which take the arguments that favour the caller).
#[test]
fn the_table_agrees_with_the_reference_interpreter_on_arguments() {
    agree_on(generate::Flavour::ARGUMENTS.widened());
}

/// The step-up bound on a fixed policy: twenty scopes all needed take far more than
/// 4096 tries, so the engine answers `no_rule` and the reference says the bound may be
/// reached; with all but three held, both find the same three.
#[test]
fn the_step_up_bound_is_never_an_allow() {
    let scopes: Vec<String> = (0..20).map(|index| format!("s{index:02}")).collect();
    let condition = scopes
        .iter()
        .map(|scope| format!("scope \"{scope}\""))
        .collect::<Vec<_>>()
        .join(" and ");
    let text = format!("allow anyone to call tools \"t\" if {condition}\n");
    let sources = Sources::from_text("bound.policy", text.as_str());
    let engine = toolgate::LoadOptions::default()
        .load_sources(sources.clone())
        .unwrap()
        .into_engine();
    let policy = reference::parse(&sources).unwrap();
    for (held, bounded) in [(0, true), (17, false)] {
        let claims = serde_json::json!({ "scope": scopes[..held].join(" ") });
        let request = RefRequest {
            claims: claims.clone(),
            kind: toolgate::Kind::Tool,
            action: toolgate::Action::Call,
            name: "t".to_owned(),
            ip: None,
            time: jiff::Timestamp::UNIX_EPOCH,
            arguments: None,
        };
        let principal = engine.principal(&claims).unwrap();
        let got = engine_outcome(&engine, &principal, &request);
        let expected = reference::decide_policy(&policy, &request);
        assert_eq!(expected.step_up_bounded, bounded, "{held} held");
        assert!(!got.0 && !expected.allow);
        if bounded {
            // The engine gives up (the answer would need 2^20 - 1 tries).
            assert_eq!(got.1, reference::NO_RULE);
        } else {
            assert_eq!(got, reference_outcome(&expected));
            assert_eq!(expected.missing_scopes, scopes[17..].to_vec());
        }
    }
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
    let policy = reference::parse(&sources).unwrap();
    let engine = toolgate::LoadOptions::default()
        .load_sources(sources.clone())
        .unwrap()
        .into_engine();
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
        let Ok(parsed) = toolgate::unstable::wire::parse_request(line) else {
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
        let expected = reference::decide_policy(&policy, &reference_request);
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
