//! The reference interpreter against small policies, one spec sentence at a time.

use super::condition::Truth;
use super::syntax::parse_text;
use super::{decide_policy as decide, RefDecision, RefRequest};
use serde_json::{json, Value};
use toolgate::{Action, Kind};

/// A request to call `name` with `claims`, no address, on a Thursday at 10:00 UTC.
fn call(name: &str, claims: Value) -> RefRequest {
    RefRequest {
        claims,
        kind: Kind::Tool,
        action: Action::Call,
        name: name.to_owned(),
        ip: None,
        time: "2026-11-26T10:00:00Z".parse().unwrap(),
        arguments: None,
    }
}

/// Decides `request` against the one-file policy `text` (which must parse cleanly).
fn decide_text(text: &str, request: &RefRequest) -> RefDecision {
    let policy = parse_text("t.policy", text).unwrap_or_else(|error| panic!("{error}"));
    decide(&policy, request)
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

/// A request to call `name` with `arguments` (`None`: absent).
fn call_with(name: &str, arguments: Option<Value>) -> RefRequest {
    RefRequest {
        arguments,
        ..call(name, json!({"sub": "u", "scope": "s"}))
    }
}

/// The truth of one condition on a call with `arguments`, read off decisions: an allow
/// rule holds only on true, a deny rule fires on true and on unknown.
fn truth(condition: &str, arguments: Value) -> Truth {
    let policy = format!(
        "allow anyone to call tools \"t\" if {condition}\n\
         deny anyone to call tools \"u\" if {condition}\n\
         allow anyone to call tools \"u\"\n"
    );
    let allowed =
        |name: &str| outcome(&policy, &call_with(name, Some(arguments.clone()))).0 == "allowed";
    match (allowed("t"), allowed("u")) {
        (true, false) => Truth::True,
        (false, true) => Truth::False,
        (false, false) => Truth::Unknown,
        (true, true) => panic!("{condition} both holds and fails on {arguments}"),
    }
}

/// Asserts the truth of `condition` on each of `cases` (arguments, expected truth).
fn assert_truths(condition: &str, cases: &[(Value, Truth)]) {
    for (arguments, expected) in cases {
        assert_eq!(
            truth(condition, arguments.clone()),
            *expected,
            "{condition} on {arguments}"
        );
    }
}

#[test]
fn arg_equality_compares_by_type_and_exact_value() {
    use Truth::{False, True};
    assert_truths(
        "arg \"n\" == 5",
        &[
            (json!({"n": 5}), True),
            (json!({"n": 5.0}), True),
            (json!({"n": -0.0}), False),
            (json!({"n": 4.999}), False),
            (json!({"n": 5.5}), False),
            (json!({"n": "5"}), False),
            (json!({"n": [5]}), False),
            (json!({"n": {"n": 5}}), False),
            (json!({"n": null}), False),
            (json!({"n": true}), False),
            (json!({}), False),
            (json!({"N": 5}), False),
        ],
    );
    assert_truths(
        "arg \"n\" == 5.0",
        &[
            (json!({"n": 5}), True),
            (json!({"n": 5.0}), True),
            (json!({"n": 5.000000000001}), False),
        ],
    );
    assert_truths(
        "arg \"z\" == 0",
        &[(json!({"z": -0.0}), True), (json!({"z": 0.0}), True)],
    );
    assert_truths(
        "arg \"b\" == true",
        &[
            (json!({"b": true}), True),
            (json!({"b": 1}), False),
            (json!({"b": "true"}), False),
        ],
    );
    assert_truths(
        "arg \"s\" == \"\"",
        &[
            (json!({"s": ""}), True),
            (json!({"s": null}), False),
            (json!({}), False),
        ],
    );
    // `!=` is `not ==`, except that nothing is unknown: missing and null are unequal.
    assert_truths(
        "arg \"n\" != 5",
        &[
            (json!({"n": 5.0}), False),
            (json!({"n": "5"}), True),
            (json!({"n": null}), True),
            (json!({}), True),
            (json!({"n": [5]}), True),
        ],
    );
}

#[test]
fn arg_in_holds_when_one_literal_is_equal() {
    use Truth::{False, True};
    assert_truths(
        "arg \"f\" in [\"pdf\", 7, 2.5, false]",
        &[
            (json!({"f": "pdf"}), True),
            (json!({"f": 7.0}), True),
            (json!({"f": 2.50}), True),
            (json!({"f": false}), True),
            (json!({"f": "PDF"}), False),
            (json!({"f": "7"}), False),
            (json!({"f": ["pdf"]}), False),
            (json!({"f": 0}), False),
            (json!({"f": null}), False),
            (json!({}), False),
        ],
    );
}

#[test]
fn arg_contains_looks_into_arrays_and_equals_strings() {
    use Truth::{False, True};
    assert_truths(
        "arg \"tags\" contains \"a\"",
        &[
            (json!({"tags": ["b", "a"]}), True),
            (json!({"tags": "a"}), True),
            (json!({"tags": "abc"}), False),
            (json!({"tags": [["a"]]}), False),
            (json!({"tags": {"a": "a"}}), False),
            (json!({"tags": []}), False),
            (json!({"tags": null}), False),
            (json!({"tags": 1}), False),
            (json!({}), False),
        ],
    );
    assert_truths(
        "arg \"ids\" contains 3",
        &[
            (json!({"ids": [1, 3.0]}), True),
            (json!({"ids": ["3"]}), False),
            (json!({"ids": 3}), False),
        ],
    );
}

#[test]
fn arg_matches_is_unknown_on_a_present_non_string() {
    use Truth::{False, True, Unknown};
    assert_truths(
        "arg \"p\" matches \"/data/*\"",
        &[
            (json!({"p": "/data/a.txt"}), True),
            (json!({"p": "/data/"}), True),
            (json!({"p": "/data/../etc/passwd"}), True),
            (json!({"p": "/Data/a"}), False),
            (json!({"p": "/data"}), False),
            (json!({"p": ""}), False),
            (json!({}), False),
            (json!({"p": null}), Unknown),
            (json!({"p": 5}), Unknown),
            (json!({"p": ["/data/a"]}), Unknown),
            (json!({"p": {"x": 1}}), Unknown),
            (json!({"p": false}), Unknown),
        ],
    );
    assert_truths(
        "arg \"p\" matches \"/data/*\" and not arg \"p\" matches \"*..*\"",
        &[
            (json!({"p": "/data/a.txt"}), True),
            (json!({"p": "/data/../etc/passwd"}), False),
            (json!({"p": 3}), Unknown),
            (json!({}), False),
        ],
    );
}

#[test]
fn arg_order_comparisons_are_exact_and_unknown_on_non_numbers() {
    use Truth::{False, True, Unknown};
    let at = |value: Value| json!({ "n": value });
    let cases = [
        (json!(4.999), [True, True, False, False]),
        (json!(5), [False, True, False, True]),
        (json!(5.0), [False, True, False, True]),
        (json!(5.5), [False, False, True, True]),
        (json!(-1), [True, True, False, False]),
        (json!(u64::MAX), [False, False, True, True]),
        (json!(1e300), [False, False, True, True]),
    ];
    for (operator, index) in [("<", 0), ("<=", 1), (">", 2), (">=", 3)] {
        for literal in ["5", "5.0", "5.00"] {
            let condition = format!("arg \"n\" {operator} {literal}");
            for (value, truths) in &cases {
                assert_truths(&condition, &[(at(value.clone()), truths[index])]);
            }
            assert_truths(
                &condition,
                &[
                    (json!({}), False),
                    (at(json!(null)), Unknown),
                    (at(json!("5")), Unknown),
                    (at(json!(true)), Unknown),
                    (at(json!([5])), Unknown),
                    (at(json!({"n": 5})), Unknown),
                ],
            );
        }
    }
    assert_truths(
        "arg \"days\" <= 31",
        &[(json!({"days": 31}), True), (json!({"days": 31.5}), False)],
    );
    assert_truths(
        "arg \"t\" > -0.5",
        &[
            (json!({"t": -0.5}), False),
            (json!({"t": -0.49}), True),
            (json!({"t": 0}), True),
        ],
    );
}

#[test]
fn arg_exists_holds_on_null_and_not_on_missing() {
    use Truth::{False, True};
    assert_truths(
        "arg \"a\" exists",
        &[
            (json!({"a": null}), True),
            (json!({"a": false}), True),
            (json!({"a": {}}), True),
            (json!({}), False),
            (json!({"A": 1}), False),
        ],
    );
}

#[test]
fn arg_paths_follow_the_claim_path_rules() {
    use Truth::{False, True, Unknown};
    let conditions = [
        "arg \"q.limit\" == 1",
        "arg \"q.limit\" != 1",
        "arg \"q.limit\" in [1]",
        "arg \"q.limit\" contains 1",
        "arg \"q.limit\" matches \"*\"",
        "arg \"q.limit\" < 2",
        "arg \"q.limit\" exists",
    ];
    // Held both as a top-level name and nested, whatever the values: unknown, on every
    // operator (`!=` and `exists` included).
    for condition in conditions {
        assert_truths(
            condition,
            &[
                (json!({"q.limit": 1, "q": {"limit": 1}}), Unknown),
                (json!({"q.limit": null, "q": {"limit": "x"}}), Unknown),
            ],
        );
    }
    assert_truths(
        "arg \"q.limit\" == 1",
        &[
            (json!({"q.limit": 1}), True),
            (json!({"q": {"limit": 1}}), True),
            (json!({"q.limit": 1, "q": {"other": 2}}), True),
            (json!({"q.limit": 2, "q": 1}), False),
            (json!({"q": [{"limit": 1}]}), False),
            (json!({"q": "limit"}), False),
        ],
    );
    // A JSON Pointer is never ambiguous, reads `~1` as `/` and `~0` as `~`.
    let both = json!({"q.limit": 1, "q": {"limit": 2}});
    assert_truths("arg \"/q.limit\" == 1", &[(both.clone(), True)]);
    assert_truths("arg \"/q/limit\" == 2", &[(both.clone(), True)]);
    assert_truths("arg \"/q/limit\" == 1", &[(both, False)]);
    assert_truths(
        "arg \"/a~1b/c~0d\" == \"x\"",
        &[
            (json!({"a/b": {"c~d": "x"}}), True),
            (json!({"a": {"b": {"c~d": "x"}}}), False),
            (json!({"a/b": {"c/d": "x"}}), False),
        ],
    );
    assert_truths("arg \"/\" == 0", &[(json!({"": 0}), True)]);
    // Array elements are not addressed, by either form.
    for condition in ["arg \"tags.0\" exists", "arg \"/tags/0\" exists"] {
        assert_truths(
            condition,
            &[
                (json!({"tags": ["a"]}), False),
                (json!({"tags": {"0": "a"}}), True),
            ],
        );
    }
    assert_truths(
        "arg \"/tags/0\" != \"a\"",
        &[(json!({"tags": ["a"]}), True)],
    );
}

#[test]
fn absent_arguments_are_an_empty_object() {
    let policy = "allow anyone to call tools \"ne\" if arg \"x\" != 1\n\
                  allow anyone to call tools \"ex\" if arg \"x\" exists\n\
                  deny anyone to call tools \"lt\" if arg \"x\" < 1\n\
                  allow anyone to call tools \"lt\"\n";
    for arguments in [None, Some(json!({}))] {
        let reason = |name: &str| outcome(policy, &call_with(name, arguments.clone())).0;
        assert_eq!(reason("ne"), "allowed");
        assert_eq!(reason("ex"), "no_rule");
        assert_eq!(reason("lt"), "allowed", "a missing argument is not unknown");
    }
}

#[test]
fn unless_on_arguments_in_allow_and_deny_rules() {
    let policy = "allow anyone to call tools \"a\" unless arg \"x\" == 1\n\
                  deny anyone to call tools \"d\" unless arg \"ro\" == true\n\
                  allow anyone to call tools \"d\"\n\
                  deny anyone to call tools \"m\" unless arg \"p\" matches \"docs/*\"\n\
                  allow anyone to call tools \"m\"\n";
    let reason =
        |name: &str, arguments: Value| outcome(policy, &call_with(name, Some(arguments))).0;
    assert_eq!(reason("a", json!({"x": 1})), "no_rule");
    assert_eq!(reason("a", json!({"x": 2})), "allowed");
    assert_eq!(reason("a", json!({})), "allowed");
    assert_truths(
        "not arg \"x.y\" == 1",
        &[(json!({"x.y": 2, "x": {"y": 2}}), Truth::Unknown)],
    );
    assert_eq!(reason("d", json!({"ro": true})), "allowed");
    assert_eq!(reason("d", json!({"ro": "true"})), "denied");
    assert_eq!(reason("d", json!({})), "denied");
    assert_eq!(reason("m", json!({"p": "docs/a"})), "allowed");
    assert_eq!(reason("m", json!({"p": "src/a"})), "denied");
    assert_eq!(
        reason("m", json!({})),
        "denied",
        "missing: matches is false"
    );
    assert_eq!(
        reason("m", json!({"p": null})),
        "denied",
        "not unknown is unknown: the deny fires"
    );
}

#[test]
fn step_up_with_argument_conditions() {
    let policy = "allow anyone to call tools \"s\" if scope \"w\" and arg \"n\" <= 10\n\
                  allow anyone to call tools \"o\" if scope \"w\" or arg \"force\" == true\n";
    let decide_call = |name: &str, arguments: Value| {
        let request = RefRequest {
            arguments: Some(arguments),
            ..call(name, json!({"sub": "u"}))
        };
        outcome(policy, &request)
    };
    assert_eq!(
        decide_call("s", json!({"n": 5})),
        ("insufficient_scope", Some(1), scopes(&["w"]))
    );
    assert_eq!(decide_call("s", json!({"n": 50})).0, "no_rule");
    assert_eq!(
        decide_call("s", json!({"n": "5"})).0,
        "no_rule",
        "unknown is never made true by a scope"
    );
    assert_eq!(decide_call("s", json!({})).0, "no_rule");
    assert_eq!(decide_call("o", json!({"force": true})).0, "allowed");
    assert_eq!(
        decide_call("o", json!({"force": false})),
        ("insufficient_scope", Some(2), scopes(&["w"]))
    );
}

/// `(reason, line)` of listing `name` (a tool, or a prompt) with `claims`.
fn listing(policy: &str, kind: Kind, name: &str, claims: Value) -> (&'static str, Option<u32>) {
    let request = RefRequest {
        kind,
        action: Action::List,
        ..call(name, claims)
    };
    let (reason, line, _) = outcome(policy, &request);
    (reason, line)
}

#[test]
fn listing_takes_the_argument_values_that_favour_the_caller() {
    let policy = "allow anyone to call tools \"a1\" if arg \"x\" == 1\n\
                  allow anyone to call tools \"a2\" if not arg \"x\" == 1\n\
                  allow anyone to call tools \"a3\" unless arg \"x\" == 1\n\
                  allow anyone to call tools \"a4\" if not not arg \"x\" == 1\n\
                  allow anyone to call tools \"a5\" unless not arg \"x\" matches \"*\"\n\
                  allow anyone to call tools \"a6\" if arg \"x\" == 1 and false\n\
                  allow anyone to call tools \"a7\" if arg \"x\" == 1 and not arg \"x\" == 1\n\
                  allow anyone to call tools \"a8\" unless not (arg \"x\" > 1 or not arg \"y\" exists)\n\
                  allow anyone to call tools \"d*\"\n\
                  deny anyone to call tools \"d1\" if arg \"x\" == 1\n\
                  deny anyone to call tools \"d2\" if not arg \"x\" == 1\n\
                  deny anyone to call tools \"d3\" unless arg \"x\" == 1\n\
                  deny anyone to call tools \"d4\" unless not not arg \"x\" < 0\n\
                  deny anyone to call tools \"d5\" if arg \"x\" == 1 or true\n\
                  deny anyone to call tools \"d6\" unless arg \"x\" == 1 and false\n\
                  deny anyone to call tools \"d7\" if arg \"x\" == 1 or scope \"s\"\n\
                  deny anyone to call tools \"d8\" if arg \"x\" matches \"*\" and ip in [10.0.0.0/8]\n\
                  allow anyone to get prompts \"p\" unless arg \"lang\" in [\"xx\"]\n";
    let claims = json!({"sub": "u"});
    let tool = |name: &str| listing(policy, Kind::Tool, name, claims.clone());
    for (name, line) in [
        ("a1", 1),
        ("a2", 2),
        ("a3", 3),
        ("a4", 4),
        ("a5", 5),
        ("a7", 7),
        ("a8", 8),
    ] {
        assert_eq!(tool(name), ("allowed", Some(line)), "{name}");
    }
    assert_eq!(tool("a6"), ("no_rule", None));
    for name in ["d1", "d2", "d3", "d4", "d7", "d8"] {
        assert_eq!(
            tool(name),
            ("allowed", Some(9)),
            "a deny only some arguments trigger: {name}"
        );
    }
    assert_eq!(tool("d5"), ("no_rule", None));
    assert_eq!(tool("d6"), ("no_rule", None));
    assert_eq!(
        listing(policy, Kind::Tool, "d7", json!({"scope": "s"})),
        ("no_rule", None),
        "the deny fires for every argument"
    );
    assert_eq!(
        listing(policy, Kind::Prompt, "p", claims.clone()),
        ("allowed", Some(18))
    );
    // The call itself is decided with its real arguments.
    let reason =
        |name: &str, arguments: Value| outcome(policy, &call_with(name, Some(arguments))).0;
    assert_eq!(reason("a7", json!({"x": 1})), "no_rule");
    assert_eq!(reason("a7", json!({})), "no_rule");
    assert_eq!(reason("d1", json!({"x": 1})), "denied");
    assert_eq!(
        reason("d8", json!({"x": "a"})),
        "denied",
        "no address: unknown"
    );
}

#[test]
fn listing_with_arguments_follows_use_only_after_no_rule() {
    let policy = "require scope \"r\" to list tools \"q\"\n\
                  allow anyone to call tools \"q\", \"l\", \"s\" if arg \"x\" == 1\n\
                  deny anyone to list tools \"l\"\n\
                  require scope \"w\" to call tools \"s\"\n\
                  allow anyone to call tools \"t\" if arg \"x\" == 1 and scope \"w\"\n";
    let claims = json!({"sub": "u"});
    let tool = |name: &str, claims: Value| listing(policy, Kind::Tool, name, claims);
    assert_eq!(tool("q", claims.clone()), ("insufficient_scope", Some(1)));
    assert_eq!(tool("q", json!({"scope": "r"})), ("allowed", Some(2)));
    assert_eq!(tool("l", claims.clone()), ("denied", Some(3)));
    assert_eq!(
        tool("s", claims.clone()),
        ("no_rule", None),
        "the use needs a scope: not an allow"
    );
    assert_eq!(tool("s", json!({"scope": "w"})), ("allowed", Some(2)));
    assert_eq!(tool("t", claims), ("no_rule", None));
    assert_eq!(tool("t", json!({"scope": "w"})), ("allowed", Some(5)));
}
