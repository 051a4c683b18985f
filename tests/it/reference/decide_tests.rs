//! The reference interpreter against small policies, one spec sentence at a time.

use serde_json::{json, Value};
use toolgate::ast::{Action, Kind};
use toolgate::source::Sources;

use super::{decide, RefDecision, RefRequest};

/// A request to call `name` with `claims`, no address, on a Thursday at 10:00 UTC.
fn call(name: &str, claims: Value) -> RefRequest {
    RefRequest {
        claims,
        kind: Kind::Tool,
        action: Action::Call,
        name: name.to_owned(),
        ip: None,
        time: "2026-11-26T10:00:00Z".parse().unwrap(),
    }
}

/// Decides `request` against the one-file policy `text` (which must parse cleanly).
fn decide_text(text: &str, request: &RefRequest) -> RefDecision {
    let sources = Sources::from_text("t.policy", text);
    let parsed = toolgate::parse::parse(&sources);
    assert!(parsed.diagnostics.is_empty(), "{:?}", parsed.diagnostics);
    decide(&sources, &parsed.policy, request)
}

/// `(reason, line of the deciding statement, missing scopes)`.
fn outcome(text: &str, request: &RefRequest) -> (&'static str, Option<u32>, Vec<String>) {
    let decision = decide_text(text, request);
    assert_eq!(decision.allow, decision.reason == "allowed");
    let line = decision.rule.map(|rule| {
        let (file, line) = rule.rsplit_once(':').unwrap();
        assert_eq!(file, "t.policy");
        line.parse().unwrap()
    });
    (decision.reason, line, decision.missing_scopes)
}

fn scopes(list: &[&str]) -> Vec<String> {
    list.iter().map(|scope| (*scope).to_owned()).collect()
}

#[test]
fn unknown_ip_fires_denies_and_blocks_allows() {
    let policy = "network office = [10.0.0.0/8]\n\
                  allow anyone to call tools \"a\" if ip in office\n\
                  allow anyone to call tools \"b\" if not ip in office\n\
                  allow anyone to call tools \"c\" if ip in office or true\n\
                  allow anyone to call tools \"d\" if ip in office and false\n\
                  deny anyone to call tools \"e\" unless ip in office\n\
                  allow anyone to call tools \"e\"\n\
                  deny anyone to call tools \"f\" if false and ip in office\n\
                  allow anyone to call tools \"f\"\n";
    let claims = json!({"sub": "u"});
    assert_eq!(outcome(policy, &call("a", claims.clone())).0, "no_rule");
    assert_eq!(outcome(policy, &call("b", claims.clone())).0, "no_rule");
    assert_eq!(
        outcome(policy, &call("c", claims.clone())),
        ("allowed", Some(4), vec![])
    );
    assert_eq!(outcome(policy, &call("d", claims.clone())).0, "no_rule");
    assert_eq!(
        outcome(policy, &call("e", claims.clone())),
        ("denied", Some(6), vec![])
    );
    assert_eq!(
        outcome(policy, &call("f", claims.clone())),
        ("allowed", Some(9), vec![])
    );
    let mut inside = call("e", claims.clone());
    inside.ip = Some("::ffff:10.1.2.3".parse().unwrap());
    assert_eq!(outcome(policy, &inside), ("allowed", Some(7), vec![]));
    inside.name = "b".to_owned();
    assert_eq!(outcome(policy, &inside).0, "no_rule");
    inside.ip = Some("192.0.2.1".parse().unwrap());
    assert_eq!(outcome(policy, &inside), ("allowed", Some(3), vec![]));
}

#[test]
fn requirements_report_every_missing_scope_and_the_first_unmet_rule() {
    let policy = "scope \"admin\" implies \"write\"\n\
                  require scope \"read\" to call tools \"x*\"\n\
                  require scope \"write\", \"delete\" to call tools \"*\"\n\
                  allow anyone to call tools \"*\"\n";
    assert_eq!(
        outcome(policy, &call("xy", json!({"scope": "read"}))),
        ("insufficient_scope", Some(3), scopes(&["delete", "write"]))
    );
    assert_eq!(
        outcome(policy, &call("xy", json!({}))),
        (
            "insufficient_scope",
            Some(2),
            scopes(&["delete", "read", "write"])
        )
    );
    assert_eq!(
        outcome(policy, &call("y", json!({"scp": ["admin", "delete"]}))),
        ("allowed", Some(4), vec![])
    );
}

#[test]
fn step_up_prefers_smaller_sets_then_earlier_rules_then_least_lists() {
    let policy = "allow anyone to call tools \"t\" if scope \"c\" and scope \"d\"\n\
                  allow anyone to call tools \"t\" if scope \"z\" or scope \"b\"\n\
                  allow anyone to call tools \"t\" if scope \"a\"\n";
    assert_eq!(
        outcome(policy, &call("t", json!({}))),
        ("insufficient_scope", Some(2), scopes(&["b"]))
    );
    assert_eq!(
        outcome(policy, &call("t", json!({"scope": "c"}))),
        ("insufficient_scope", Some(1), scopes(&["d"]))
    );
}

#[test]
fn step_up_uses_implications_and_only_named_scopes() {
    let policy = "scope \"admin\" implies \"read\", \"write\"\n\
                  allow anyone to call tools \"t\" if scope \"read\" and scope \"write\" and scope \"admin\"\n\
                  allow anyone to call tools \"u\" if role boss or scope \"x\"\n\
                  allow anyone to call tools \"v\" if not scope \"x\" and ip in [10.0.0.0/8]\n\
                  allow anyone to call tools \"w\" unless scope \"q\" and scope \"r\"\n\
                  role boss\n";
    assert_eq!(
        outcome(policy, &call("t", json!({"scope": "read"}))),
        ("insufficient_scope", Some(2), scopes(&["admin"]))
    );
    assert_eq!(
        outcome(policy, &call("u", json!({}))),
        ("insufficient_scope", Some(3), scopes(&["x"]))
    );
    assert_eq!(outcome(policy, &call("v", json!({}))).0, "no_rule");
    assert_eq!(
        outcome(policy, &call("w", json!({"scope": "q r"}))).0,
        "no_rule"
    );
}

#[test]
fn listing_follows_an_allowed_use_only() {
    let policy = "allow anyone to call tools \"a*\"\n\
                  allow anyone to call tools \"b\" if scope \"s\"\n\
                  deny anyone to call tools \"a2\"\n\
                  deny anyone to list tools \"a3\"\n";
    let mut request = call("a1", json!({}));
    request.action = Action::List;
    assert_eq!(outcome(policy, &request), ("allowed", Some(1), vec![]));
    request.name = "b".to_owned();
    assert_eq!(outcome(policy, &request), ("no_rule", None, vec![]));
    request.name = "a2".to_owned();
    assert_eq!(outcome(policy, &request), ("no_rule", None, vec![]));
    request.name = "a3".to_owned();
    assert_eq!(outcome(policy, &request), ("denied", Some(4), vec![]));
    request.kind = Kind::Resource;
    request.name = "a1".to_owned();
    assert_eq!(outcome(policy, &request), ("no_rule", None, vec![]));
}

#[test]
fn principals_follow_the_claims_map() {
    let policy = "claims {\n  roles from \"groups\", \"realm.roles\"\n  client from \"app.id\", \"azp\"\n}\n\
                  role base\n\
                  role dev inherits base aka \"devs\", \"base\"\n\
                  allow base to call tools \"base\"\n\
                  allow dev to call tools \"dev\"\n\
                  allow anyone to call tools \"cli\" if client \"cli\"\n\
                  allow anyone to call tools \"s\" if scope \"a\" and scope \"b\"\n";
    let allowed = |name: &str, claims: Value| outcome(policy, &call(name, claims)).0 == "allowed";
    assert!(allowed("base", json!({"groups": "base"})));
    assert!(
        allowed("dev", json!({"groups": "base"})),
        "aka names another role"
    );
    assert!(
        allowed("base", json!({"realm": {"roles": ["devs"]}})),
        "inherited"
    );
    assert!(
        !allowed("dev", json!({"roles": ["dev"]})),
        "the default path was replaced"
    );
    assert!(allowed(
        "dev",
        json!({"roles": ["x"], "groups": ["nobody", "dev"]})
    ));
    assert!(
        allowed("dev", json!({"groups": "x", "realm.roles": ["dev"]})),
        "top-level name first"
    );
    assert!(!allowed(
        "dev",
        json!({"realm.roles": 1, "realm": {"roles": "dev"}})
    ));
    assert!(
        allowed("cli", json!({"app": {"id": 7}, "azp": "cli"})),
        "first string"
    );
    assert!(!allowed("cli", json!({"app": {"id": "web"}, "azp": "cli"})));
    assert!(allowed("cli", json!({"client_id": "x", "app.id": "cli"})));
    assert!(allowed("s", json!({"scope": "\ta\r\nb ", "scp": []})));
    assert!(
        allowed("s", json!({"scope": "a", "scp": ["b"]})),
        "scope paths add up"
    );
    assert!(
        !allowed("s", json!({"scope": "a\u{a0}b"})),
        "only ASCII whitespace splits"
    );
    assert!(
        !allowed("s", json!({"scp": ["a b"]})),
        "array elements are not split"
    );
}

#[test]
fn claims_compare_by_type_and_value() {
    let policy = "allow anyone to call tools \"eq\" if claim \"n\" == 42\n\
                  allow anyone to call tools \"ne\" if claim \"n\" != 42\n\
                  allow anyone to call tools \"has\" if claim \"list\" contains \"a\"\n\
                  allow anyone to call tools \"ex\" if claim \"a.b\" exists\n\
                  allow anyone to call tools \"bool\" if claim \"flag\" == true\n";
    let allowed = |name: &str, claims: Value| outcome(policy, &call(name, claims)).0 == "allowed";
    assert!(allowed("eq", json!({"n": 42.0})));
    assert!(!allowed("eq", json!({"n": "42"})));
    assert!(allowed("ne", json!({})), "a missing claim is unequal");
    assert!(allowed("ne", json!({"n": null})));
    assert!(!allowed("ne", json!({"n": 42})));
    assert!(allowed("has", json!({"list": ["b", "a"]})));
    assert!(allowed("has", json!({"list": "a"})));
    assert!(!allowed("has", json!({"list": "abc"})));
    assert!(allowed("ex", json!({"a": {"b": null}})));
    assert!(allowed("ex", json!({"a.b": 0})));
    assert!(!allowed("ex", json!({"a": {"c": 1}})));
    assert!(!allowed("ex", json!({"a": "b"})));
    assert!(!allowed("bool", json!({"flag": 1})));
    assert!(allowed("bool", json!({"flag": true})));
}

#[test]
fn times_and_windows() {
    let policy = "timezone \"America/New_York\"\n\
                  window late = fri 22:00-02:00\n\
                  allow anyone to call tools \"late\" if time in late\n\
                  allow anyone to call tools \"utc\" if time in [mon-sun 00:00-01:00 tz \"UTC\"]\n\
                  allow anyone to call tools \"before\" if time before \"2026-11-26T10:00:00Z\"\n\
                  allow anyone to call tools \"after\" if time after \"2026-11-26T11:00:00+01:00\"\n";
    let at = |name: &str, time: &str| {
        let mut request = call(name, json!({}));
        request.time = time.parse().unwrap();
        outcome(policy, &request).0 == "allowed"
    };
    // Friday 2026-11-27 22:00 in New York is 2026-11-28T03:00Z.
    assert!(at("late", "2026-11-28T03:00:00Z"));
    assert!(at("late", "2026-11-28T06:59:59Z"));
    assert!(!at("late", "2026-11-28T07:00:00Z"));
    assert!(!at("late", "2026-11-28T02:59:59Z"));
    assert!(
        !at("late", "2026-11-27T06:00:00Z"),
        "Thursday night is not Friday's"
    );
    assert!(at("utc", "2026-11-26T00:59:59Z"));
    assert!(!at("utc", "2026-11-26T01:00:00Z"));
    assert!(at("before", "2026-11-26T09:59:59Z"));
    assert!(!at("before", "2026-11-26T10:00:00Z"));
    assert!(at("after", "2026-11-26T10:00:00Z"));
    assert!(!at("after", "2026-11-26T09:59:59Z"));
}

#[test]
fn subjects_kinds_actions_and_patterns() {
    let policy = "role a\nrole b inherits a\nrole c\n\
                  allow c, b to get prompt \"p?\", \"lit\\*\"\n\
                  allow a to list, read resources \"file:///*\"\n";
    let request = |kind: Kind, action: Action, name: &str, roles: Value| RefRequest {
        kind,
        action,
        ..call(name, json!({ "roles": roles }))
    };
    let reason = |request: RefRequest| outcome(policy, &request).0;
    assert_eq!(
        reason(request(Kind::Prompt, Action::Get, "p1", json!("b"))),
        "allowed"
    );
    assert_eq!(
        reason(request(Kind::Prompt, Action::Get, "lit*", json!("c"))),
        "allowed"
    );
    assert_eq!(
        reason(request(Kind::Prompt, Action::Get, "litx", json!("c"))),
        "no_rule"
    );
    assert_eq!(
        reason(request(Kind::Prompt, Action::Get, "p1", json!("a"))),
        "no_rule"
    );
    assert_eq!(
        reason(request(Kind::Prompt, Action::Get, "p12", json!("c"))),
        "no_rule"
    );
    assert_eq!(
        reason(request(
            Kind::Resource,
            Action::Read,
            "file:///x/y",
            json!("b")
        )),
        "allowed"
    );
    assert_eq!(
        reason(request(Kind::Tool, Action::Call, "file:///x/y", json!("b"))),
        "no_rule"
    );
}
