//! Any line through `eval`'s request parsing and a decision on the example policy:
//! never a panic; an invalid line is an error, never a decision. `arguments` (v1.1) are
//! read only with `call` and `get` and only as an object. On the policies of the
//! project's argument cases (`tests/cases/args*/`), every line is also decided by the
//! reference interpreter of the test tree (`tests/it/reference/`): the two must agree,
//! whatever arguments the line carries.
#![no_main]

#[allow(dead_code, clippy::all)]
#[path = "../../tests/it/reference/mod.rs"]
mod reference;

use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;
use toolgate::unstable::ast::Action;
use toolgate::unstable::eval::Engine;
use toolgate::unstable::wire;
use toolgate::unstable::source::Sources;
use toolgate::Policy;

const POLICY: &str = include_str!("../../policies/example.policy");

/// The policies of the argument cases, read as one policy of three files.
const ARGUMENT_POLICIES: [(&str, &str); 3] = [
    ("args.policy", include_str!("../../tests/cases/args/policy.policy")),
    ("args-listing.policy", include_str!("../../tests/cases/args-listing/policy.policy")),
    ("args-paths.policy", include_str!("../../tests/cases/args-paths/policy.policy")),
];

fn engine() -> &'static Engine {
    static ENGINE: OnceLock<Engine> = OnceLock::new();
    ENGINE.get_or_init(|| match Policy::from_text("example.policy", POLICY) {
        Ok(loaded) => loaded.into_engine(),
        Err(error) => panic!("the example policy must load: {error}"),
    })
}

/// The argument cases' policy: as the reference reads it, and its engine.
fn arguments_policy() -> &'static (reference::Policy, Engine) {
    static LOADED: OnceLock<(reference::Policy, Engine)> = OnceLock::new();
    LOADED.get_or_init(|| {
        let mut sources = Sources::new();
        for (name, text) in ARGUMENT_POLICIES {
            sources.add(name, text);
        }
        let policy = match reference::parse(&sources) {
            Ok(policy) => policy,
            Err(error) => panic!("the reference must read the argument cases' policies: {error}"),
        };
        match toolgate::LoadOptions::default().load_sources(sources) {
            Ok(loaded) => (policy, loaded.into_engine()),
            Err(error) => panic!("the argument cases' policies must load: {error}"),
        }
    })
}

fuzz_target!(|data: &[u8]| {
    let Ok(line) = std::str::from_utf8(data) else {
        return;
    };
    let Ok(parsed) = wire::parse_request(line) else {
        return;
    };
    assert!(
        parsed.arguments.is_none() || matches!(parsed.action, Action::Call | Action::Get),
        "arguments read with {:?}",
        parsed.action
    );
    let Ok(claims) = serde_json::from_str::<serde_json::Value>(parsed.claims.get()) else {
        return;
    };
    let request = parsed.request(jiff::Timestamp::UNIX_EPOCH);
    if let Ok(principal) = engine().principal(&claims) {
        let decision = engine().decide(&principal, &request);
        let mut out = Vec::new();
        wire::write_decision(&decision, &mut out).unwrap_or_default();
        assert!(out.ends_with(b"}\n"));
    }

    let (policy, engine) = arguments_policy();
    let reference_request = reference::RefRequest {
        claims: claims.clone(),
        kind: parsed.kind,
        action: parsed.action,
        name: parsed.name.to_string(),
        ip: parsed.ip,
        time: request.time,
        arguments: parsed.arguments.clone().map(serde_json::Value::Object),
    };
    let refused = reference::refuses(policy, &reference_request);
    let Ok(principal) = engine.principal(&claims) else {
        assert!(refused, "the engine refused {claims}");
        return;
    };
    assert!(!refused, "the engine accepted {claims}");
    let decision = engine.decide(&principal, &request);
    let expected = reference::decide_policy(policy, &reference_request);
    let got = (
        decision.is_allowed(),
        decision.reason.as_str(),
        decision.rule.map(|rule| rule.to_string()),
        decision.missing_scopes.iter().map(|s| s.to_string()).collect::<Vec<_>>(),
    );
    let want = (expected.allow, expected.reason, expected.rule.clone(), expected.missing_scopes.clone());
    assert_eq!(got, want, "line: {line}");
});
