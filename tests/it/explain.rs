//! `toolgate explain`: the explanation's decision equals the engine's on every corpus
//! case and on generated policies; golden explanations; unknown atoms; exit statuses.

use proptest::test_runner::{Config, TestRunner};
use serde_json::{json, Value};
use toolgate::unstable::check::{self, CheckedPolicy};
use toolgate::unstable::eval::{Engine, Request, Truth};
use toolgate::unstable::explain::{
    Explainer, Explanation, NodeKind, Reading, StatementBody, Status,
};
use toolgate::unstable::source::Sources;
use toolgate::unstable::wire;
use toolgate::{unstable::compile, Reason};

use crate::cli::{toolgate, Scratch};
use crate::corpus::{case_dirs, decide_with_table, engine, Outcome};
use crate::generate;

const EXAMPLE: &str = "policies/example.policy";

/// Parses and checks a policy (panics on errors).
fn checked(sources: &Sources) -> CheckedPolicy {
    let parsed = toolgate::unstable::parse::parse(sources);
    assert!(parsed.diagnostics.is_empty(), "{:?}", parsed.diagnostics);
    let checked = check::check(&parsed.policy, &check::Config::default());
    checked.policy.expect("a policy without errors")
}

/// Explains a request given in the JSON form of `toolgate eval`.
fn explain(explainer: &Explainer<'_>, request: &Value) -> Explanation {
    let line = serde_json::to_string(request).unwrap();
    let parsed = wire::parse_request(&line).unwrap();
    let claims: Value = serde_json::from_str(parsed.claims.get()).unwrap();
    let request = parsed.request(parsed.time.expect("requests here carry a time"));
    explainer.explain(&claims, &request).unwrap()
}

fn outcome(explanation: &Explanation) -> Outcome {
    let decision = &explanation.decision;
    Outcome {
        decision: decision.effect.keyword().to_string(),
        reason: decision.reason.as_str().to_string(),
        rule: decision.rule.as_ref().map(ToString::to_string),
        missing_scopes: decision.missing_scopes.clone(),
    }
}

#[test]
fn explanations_decide_as_the_engine_on_every_corpus_case() {
    let mut total = 0;
    let mut failures = Vec::new();
    for case_dir in case_dirs() {
        let engine = engine(&case_dir);
        let sources = Sources::from_path(&case_dir.policy).unwrap();
        let policy = checked(&sources);
        let explainer = Explainer::new(&sources, &policy);
        for case in &case_dir.cases {
            total += 1;
            let want = decide_with_table(&engine, &case.request);
            let got = outcome(&explain(&explainer, &case.request));
            if got != want {
                failures.push(format!(
                    "{}: {}\n  engine  {want:?}\n  explain {got:?}",
                    case_dir.dir.display(),
                    case.note
                ));
            }
        }
    }
    assert!(total > 600, "only {total} cases");
    assert!(
        failures.is_empty(),
        "{} of {total} differ:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

#[test]
fn explanations_decide_as_the_engine_on_generated_policies() {
    let mut runner = TestRunner::new(Config {
        cases: 500,
        failure_persistence: None,
        ..Config::default()
    });
    let result = runner.run(&generate::case(), |(text, requests)| {
        let sources = Sources::from_text("generated.policy", &text);
        let policy = checked(&sources);
        let engine = Engine::new(compile::compile(&sources, &policy));
        let explainer = Explainer::new(&sources, &policy);
        for request in &requests {
            let request_ref = Request {
                kind: request.kind,
                action: request.action,
                name: &request.name,
                ip: request.ip,
                time: request.time,
                arguments: request.arguments.as_ref().and_then(|a| a.as_object()),
            };
            let explained = explainer.explain(&request.claims, &request_ref);
            let Ok(principal) = engine.principal(&request.claims) else {
                // A token the engine refuses (an ambiguous claims-map path) is refused
                // by the explainer too.
                proptest::prop_assert!(explained.is_err(), "{}", request.claims);
                continue;
            };
            let decision = engine.decide(&principal, &request_ref);
            let explained = explained.unwrap();
            let want = (
                decision.effect,
                decision.reason,
                decision.rule.map(ToString::to_string),
                decision
                    .missing_scopes
                    .iter()
                    .map(|s| s.to_string())
                    .collect::<Vec<_>>(),
            );
            let got = (
                explained.decision.effect,
                explained.decision.reason,
                explained.decision.rule.as_ref().map(ToString::to_string),
                explained.decision.missing_scopes.clone(),
            );
            proptest::prop_assert_eq!(got, want, "policy:\n{}\nrequest: {:?}", text, request);
        }
        Ok(())
    });
    if let Err(error) = result {
        panic!("{error}");
    }
}

/// `toolgate explain POLICY --request -` on `request`; exit status 0 expected.
fn explain_text(policy: &str, request: &Value) -> String {
    let output = toolgate(
        &["explain", policy, "--request", "-"],
        Some(&request.to_string()),
    );
    assert_eq!(output.status, 0, "{}", output.stderr);
    output.stdout
}

#[test]
fn golden_a_deny_by_unless() {
    let request = json!({"claims": {"sub": "a1", "realm_access": {"roles": ["mcp-admins"]},
        "scope": "tool:read tool:write"}, "action": "call", "tool": "db.drop_table",
        "ip": "10.9.9.9", "time": "2026-11-26T20:00:00Z"});
    let expected = r#"request   call tool `db.drop_table`
principal sub `a1`, client none
          roles  admin (from `mcp-admins` in `realm_access.roles`), developer, user, readonly (inherited)
          scopes tool:read, tool:write
context   ip 10.9.9.9, time 2026-11-26T20:00:00Z

decision  deny (denied) by policies/example.policy:30
why       a deny rule whose condition holds overrides every allow

matching statements, in policy order
  policies/example.policy:22  require scope "tool:write" to call tools "*"
      met: the token holds `tool:write`
  policies/example.policy:27  allow admin to call tools "*"
      subject: admin ✓   no condition → would allow, but a deny wins
  policies/example.policy:30  deny anyone to call tools "db.drop_*"
      unless role admin and ip in office and time in business_hours
        role admin               true   (effective roles include admin)
        ip in office             true   (10.9.9.9 is in 10.0.0.0/8)
        time in business_hours   false  (Thu 21:00 in Europe/Berlin; window mon-fri 09:00-17:00)
      → condition false, `unless` → the deny fires and decides
  policies/example.policy:32  deny anyone to call tools "*"
      if claim "email_verified" == false
        claim "email_verified" == false   false  (`email_verified` is missing)
      → condition false → the deny does not apply
"#;
    assert_eq!(explain_text(EXAMPLE, &request), expected);
}

#[test]
fn golden_insufficient_scope_from_a_requirement() {
    let request = json!({"claims": {"sub": "u1", "roles": "user", "scope": "tool:read"},
        "action": "call", "tool": "fs.read_file", "time": "2026-11-26T10:00:00Z"});
    let expected = r#"request   call tool `fs.read_file`
principal sub `u1`, client none
          roles  user (from `roles`), readonly (inherited)
          scopes tool:read
context   ip none (every `ip in` is unknown), time 2026-11-26T10:00:00Z

decision  deny (insufficient_scope) by policies/example.policy:22, missing tool:write
why       no deny fired, but the token lacks `tool:write` that a matching requirement needs; requirements are checked before any allow rule
if added  `tool:write` → allow (allowed) by policies/example.policy:25

matching statements, in policy order
  policies/example.policy:22  require scope "tool:write" to call tools "*"
      unmet: the token lacks `tool:write` → this decides (insufficient_scope)
  policies/example.policy:25  allow user to call tools "fs.read_*", "github.list_*"
      name matched by "fs.read_*"
      subject: user ✓   no condition → would allow, but a requirement is unmet
  policies/example.policy:26  allow developer to call tools "github.*", "fs.*", "logs.*"
      name matched by "fs.*"
      subject: developer ✗ → not for this principal
  policies/example.policy:27  allow admin to call tools "*"
      subject: admin ✗ → not for this principal
  policies/example.policy:32  deny anyone to call tools "*"
      if claim "email_verified" == false
        claim "email_verified" == false   false  (`email_verified` is missing)
      → condition false → the deny does not apply
"#;
    assert_eq!(explain_text(EXAMPLE, &request), expected);
}

const STEP_UP: &str = r#"scope "deploy:write", "deploy:approve", "deploy:admin"
role analyst
role operator inherits analyst

allow operator to call tools "deploy.*"
  if scope "deploy:write" and scope "deploy:approve"
allow operator to call tools "deploy.*" if scope "deploy:admin" or (ip in [10.0.0.0/8] and not client "ci")
deny anyone to call tools "deploy.prod" if time in [sat,sun]
"#;

/// Runs `explain` on a policy written to a scratch folder; paths shown relative to it.
fn explain_scratch(name: &str, policy: &str, request: &Value) -> String {
    let dir = Scratch::new(name);
    let path = dir.file("policy.policy", policy);
    let prefix = format!("{}{}", dir.0.display(), std::path::MAIN_SEPARATOR);
    explain_text(&path, request).replace(&prefix, "")
}

#[test]
fn golden_a_step_up() {
    let request = json!({"claims": {"sub": "op", "roles": ["operator"], "scope": "deploy:write",
        "azp": "ci"}, "action": "call", "tool": "deploy.prod", "time": "2026-11-26T10:00:00Z"});
    let expected = r#"request   call tool `deploy.prod`
principal sub `op`, client `ci` (from `azp`)
          roles  operator (from `roles`), analyst (inherited)
          scopes deploy:write
context   ip none (every `ip in` is unknown), time 2026-11-26T10:00:00Z

decision  deny (insufficient_scope) by policy.policy:5, missing deploy:approve
why       no allow rule holds now, but adding `deploy:approve` to the token would satisfy the allow rule at policy.policy:5; no smaller set of scopes would satisfy any (ties go to the earlier rule)
if added  `deploy:approve` → allow (allowed) by policy.policy:5

matching statements, in policy order
  policy.policy:5  allow operator to call tools "deploy.*"
      subject: operator ✓
      if scope "deploy:write" and scope "deploy:approve"
        scope "deploy:write"     true   (the token holds `deploy:write`)
        scope "deploy:approve"   false  (the token lacks `deploy:approve`)
      → condition false → does not hold; with `deploy:approve` added to the token it would (step-up)
  policy.policy:7  allow operator to call tools "deploy.*"
      subject: operator ✓
      if scope "deploy:admin" or (ip in [10.0.0.0/8] and not client "ci")
        scope "deploy:admin"                       false    (the token lacks `deploy:admin`)
        (ip in [10.0.0.0/8] and not client "ci")   false    (all must hold)
          ip in [10.0.0.0/8]                       unknown  (no address in the request)
          not client "ci"                          false    (negation)
            client "ci"                            true     (the client id is `ci`)
      → condition false → does not hold
  policy.policy:8  deny anyone to call tools "deploy.prod"
      if time in [sat,sun]
        time in [sat,sun]   false  (Thu 10:00 in UTC; window sat,sun, all day)
      → condition false → the deny does not apply
"#;
    assert_eq!(
        explain_scratch("explain-step-up", STEP_UP, &request),
        expected
    );
}

#[test]
fn golden_a_listing_that_followed_use() {
    let policy = r#"role viewer
allow viewer to list tools "t.listed"
allow viewer to call tools "t.*"
deny anyone to call tools "t.secret*"
"#;
    let request = json!({"claims": {"sub": "v", "roles": "viewer"}, "action": "list",
        "tool": "t.other", "time": "2026-11-26T10:00:00Z"});
    let expected = r#"request   list tool `t.other`
principal sub `v`, client none
          roles  viewer (from `roles`)
          scopes none
context   ip none (every `ip in` is unknown), time 2026-11-26T10:00:00Z

decision  allow (allowed) by policy.policy:3
why       listing found no rule of its own, and listing follows use: `call` on the same name is allowed at policy.policy:3

matching statements for `list`, in policy order
  none

listing follows use: `call` on the same name, in policy order; allow (allowed) by policy.policy:3
  policy.policy:3  allow viewer to call tools "t.*"
      subject: viewer ✓   no condition → allows: the first allow rule that holds
"#;
    assert_eq!(
        explain_scratch("explain-listing", policy, &request),
        expected
    );
}

/// The example policy explained by the library.
fn example_explanation(request: &Value) -> Explanation {
    let sources = Sources::from_path(EXAMPLE).unwrap();
    let policy = checked(&sources);
    explain(&Explainer::new(&sources, &policy), request)
}

#[test]
fn a_listing_in_the_example_follows_use_but_stays_no_rule() {
    let explanation = example_explanation(&json!({"claims": {"sub": "u1", "scope": "tool:read"},
        "action": "list", "tool": "fs.read_file", "time": "2026-11-26T10:00:00Z"}));
    assert_eq!(explanation.decision.reason, Reason::NoRule);
    assert_eq!(explanation.evaluations.len(), 2);
    let using = &explanation.evaluations[1];
    assert_eq!(using.action.keyword(), "call");
    assert_eq!(using.decision.reason, Reason::InsufficientScope);
    assert!(
        explanation.why.contains("stays `no_rule`"),
        "{}",
        explanation.why
    );
    assert!(explanation.with_missing_scopes.is_none());
}

#[test]
fn ip_atoms_are_unknown_without_an_address_and_the_deny_fails_closed() {
    let request = json!({"claims": {"sub": "a1", "roles": ["admin"], "scope": "tool:write"},
        "action": "call", "tool": "db.drop_table", "time": "2026-11-26T10:00:00Z"});
    let explanation = example_explanation(&request);
    assert_eq!(explanation.decision.reason, Reason::Denied);
    let deny = explanation.evaluations[0]
        .statements
        .iter()
        .find(|statement| statement.site.line == 30)
        .unwrap();
    assert_eq!(deny.status, Status::Fires);
    assert!(deny.decides);
    let StatementBody::Rule {
        condition: Some(condition),
        ..
    } = &deny.body
    else {
        panic!("a rule with a condition")
    };
    assert_eq!(condition.value, Truth::Unknown);
    assert_eq!(condition.applies, Truth::Unknown);
    let NodeKind::And { of } = &condition.tree.kind else {
        panic!("an `and`")
    };
    let ip = of.iter().find(|node| node.text == "ip in office").unwrap();
    assert_eq!(ip.value, Truth::Unknown);
    let NodeKind::Atom(reading) = &ip.kind else {
        panic!("an atom")
    };
    assert!(matches!(reading, Reading::Ip { address: None, .. }));
    assert!(explanation.why.contains("unknown"), "{}", explanation.why);

    let text = explain_text(EXAMPLE, &request);
    assert!(
        text.contains("ip in office             unknown  (no address in the request)"),
        "{text}"
    );
    assert!(
        text.contains("→ condition unknown, `unless` → the deny fires and decides"),
        "{text}"
    );
}

#[test]
fn implied_scopes_say_through_which_scope() {
    let request = json!({"claims": {"sub": "u", "roles": "user", "scp": ["tool:admin", "x:y"]},
        "action": "call", "tool": "fs.read_file", "time": "2026-11-26T10:00:00Z"});
    let text = explain_text(EXAMPLE, &request);
    assert!(
        text.contains("scopes tool:admin, tool:read (implied by tool:admin), tool:write (implied by tool:admin)"),
        "{text}"
    );
    assert!(
        text.contains("also in the token, unknown to the policy: `x:y`"),
        "{text}"
    );
    assert!(
        text.contains("met: the token holds `tool:write` through `tool:admin`"),
        "{text}"
    );
    assert!(text.contains("decision  allow (allowed) by policies/example.policy:25"));
}

#[test]
fn json_format_carries_the_decision_of_eval() {
    let request = json!({"claims": {"sub": "u1", "roles": "user", "scope": "tool:read"},
        "action": "call", "tool": "fs.read_file", "time": "2026-11-26T10:00:00Z"});
    let output = toolgate(
        &["explain", EXAMPLE, "--request", "-", "--format", "json"],
        Some(&request.to_string()),
    );
    assert_eq!(output.status, 0, "{}", output.stderr);
    let explained: Value = serde_json::from_str(&output.stdout).unwrap();
    let evaluated = toolgate(
        &["eval", EXAMPLE, "--request", "-"],
        Some(&request.to_string()),
    );
    let decision: Value = serde_json::from_str(&evaluated.stdout).unwrap();
    assert_eq!(explained["decision"], decision);
    assert_eq!(explained["with_missing_scopes"]["decision"], "allow");
    let statements = explained["evaluations"][0]["statements"]
        .as_array()
        .unwrap();
    assert_eq!(statements[0]["site"], "policies/example.policy:22");
    assert_eq!(statements[0]["status"], "unmet");
    assert_eq!(statements[0]["missing"], json!(["tool:write"]));
    assert_eq!(statements[0]["decides"], true);
    assert_eq!(statements[0]["scopes"][0]["held"], "missing");
}

#[test]
fn exit_statuses() {
    let dir = Scratch::new("explain-status");
    let valid =
        r#"{"claims":{"sub":"u"},"action":"get","prompt":"p","time":"2026-11-26T10:00:00Z"}"#;
    let run = |args: &[&str], stdin: &str| toolgate(args, Some(stdin));

    let denied = run(&["explain", EXAMPLE, "--request", "-"], valid);
    assert_eq!(
        denied.status, 0,
        "a valid request exits 0 whatever the decision"
    );
    assert!(
        denied.stdout.contains("decision  deny (no_rule)\n"),
        "{}",
        denied.stdout
    );
    assert!(
        denied
            .stdout
            .contains("no rule or requirement is about `get` on prompt `p`"),
        "{}",
        denied.stdout
    );

    let bad_action = r#"{"claims":{},"action":"read","tool":"x"}"#;
    let invalid = run(&["explain", EXAMPLE, "--request", "-"], bad_action);
    assert_eq!(invalid.status, 1);
    assert!(
        invalid.stderr.contains("`read` is not an action on tools"),
        "{}",
        invalid.stderr
    );
    let invalid_json = run(
        &["explain", EXAMPLE, "--request", "-", "--format", "json"],
        "{",
    );
    assert_eq!(invalid_json.status, 1);
    let error: Value = serde_json::from_str(&invalid_json.stdout).unwrap();
    assert!(error["error"].is_string());
    let not_object = r#"{"claims":[1],"action":"call","tool":"x"}"#;
    assert_eq!(
        run(&["explain", EXAMPLE, "--request", "-"], not_object).status,
        1
    );

    let broken = dir.file("broken.policy", "allow nobody to call tools \"x\"\n");
    let errors = run(&["explain", &broken, "--request", "-"], valid);
    assert_eq!(errors.status, 2);
    assert!(errors.stderr.contains("E003"), "{}", errors.stderr);
    assert!(errors.stdout.is_empty());

    let missing_policy = dir.0.join("missing.policy");
    let missing_policy = missing_policy.to_str().unwrap();
    assert_eq!(
        run(&["explain", missing_policy, "--request", "-"], valid).status,
        2
    );
    let missing_request = dir.0.join("missing.json");
    let missing_request = missing_request.to_str().unwrap();
    let unreadable = run(&["explain", EXAMPLE, "--request", missing_request], "");
    assert_eq!(unreadable.status, 2);
    assert!(
        unreadable.stderr.contains("cannot read"),
        "{}",
        unreadable.stderr
    );

    let from_file = dir.file("request.json", valid);
    assert_eq!(
        run(&["explain", EXAMPLE, "--request", &from_file], "").status,
        0
    );
}

#[test]
fn control_characters_from_the_token_and_the_request_are_shown_as_symbols() {
    let dir = Scratch::new("explain-controls");
    let policy = dir.file(
        "p.policy",
        "scope \"s\"\nrole user aka \"mcp-users\"\n\
         allow user to call tools \"*\" if claim \"team\" == \"red\"\n\
         deny anyone to call tools \"fs.*\" if claim \"team\" == \"x\"\n",
    );
    let request = json!({
        "claims": {
            "sub": "\u{1b}[2Jattacker",
            "roles": ["mcp-users", "\u{1b}]0;pwned\u{7}"],
            "scope": "s x\u{9b}31m \u{202e}z",
            "team": "red\u{9b}0m\u{202e}",
            "client_id": "c\u{1b}[8m",
        },
        "action": "call",
        "tool": "fs.\u{1b}[8mhidden\u{202e}txt.exe",
        "time": "2026-11-26T10:00:00Z",
    });
    let output = toolgate(
        &["explain", &policy, "--request", "-"],
        Some(&request.to_string()),
    );
    assert_eq!(output.status, 0, "{}", output.stderr);
    let text = output.stdout;
    for raw in ['\u{1b}', '\u{7}', '\u{9b}', '\u{202e}'] {
        assert!(!text.contains(raw), "raw {raw:?} in\n{text}");
    }
    assert!(
        text.contains("call tool `fs.\u{241b}[8mhidden\u{fffd}txt.exe`"),
        "{text}"
    );
    assert!(text.contains("sub `\u{241b}[2Jattacker`"), "{text}");
    assert!(text.contains("\u{241b}]0;pwned\u{2407}"), "{text}");

    let bad = json!({"claims": {}, "action": "call\u{1b}[2J", "tool": "x"});
    let invalid = toolgate(
        &["explain", &policy, "--request", "-"],
        Some(&bad.to_string()),
    );
    assert_eq!(invalid.status, 1);
    assert!(
        invalid.stderr.contains("error: invalid request"),
        "{}",
        invalid.stderr
    );
    assert!(!invalid.stderr.contains('\u{1b}'), "{}", invalid.stderr);
}

/// A claim atom on an ambiguous path is unknown and says why; a token with an ambiguous
/// claims-map path is refused, as the engine refuses it.
#[test]
fn ambiguous_claim_paths_are_unknown_or_refused() {
    let sources = Sources::from_text(
        "a.policy",
        "deny anyone to call tools \"notes.write\" if claim \"acct.locked\" == true\nallow anyone to call tools \"notes.*\"\n",
    );
    let policy = checked(&sources);
    let explainer = Explainer::new(&sources, &policy);
    let request = json!({"claims": {"sub": "u", "acct.locked": false, "acct": {"locked": false}},
        "action": "call", "tool": "notes.write", "time": "2026-11-26T10:00:00Z"});
    let explanation = explain(&explainer, &request);
    assert_eq!(explanation.decision.reason, Reason::Denied);
    let deny = &explanation.evaluations[0].statements[0];
    assert_eq!(deny.status, Status::Fires);
    let StatementBody::Rule {
        condition: Some(condition),
        ..
    } = &deny.body
    else {
        panic!("a rule with a condition")
    };
    assert_eq!(condition.value, Truth::Unknown);
    let NodeKind::Atom(reading) = &condition.tree.kind else {
        panic!("an atom")
    };
    assert!(
        matches!(
            reading,
            Reading::Claim {
                ambiguous: true,
                ..
            }
        ),
        "{reading:?}"
    );

    let refused = json!({"sub": "u", "roles.x": ["a"], "roles": {"x": ["b"]}});
    let sources = Sources::from_text(
        "b.policy",
        "claims {\n  roles from \"roles.x\"\n}\nrole a\n",
    );
    let policy = checked(&sources);
    let explainer = Explainer::new(&sources, &policy);
    let request = Request::new(toolgate::Kind::Tool, toolgate::Action::Call, "t").unwrap();
    let error = explainer.explain(&refused, &request).unwrap_err();
    assert!(error.to_string().contains("`roles.x`"), "{error}");
}

/// The `ip in` atoms' readings of the only rule of `explanation`, in order.
fn ip_readings(explanation: &Explanation) -> Vec<&Reading> {
    let rule = &explanation.evaluations[0].statements[0];
    let StatementBody::Rule {
        condition: Some(condition),
        ..
    } = &rule.body
    else {
        panic!("a rule with a condition")
    };
    let NodeKind::And { of } = &condition.tree.kind else {
        panic!("an `and`")
    };
    of.iter()
        .map(|node| match &node.kind {
            NodeKind::Atom(reading) => reading,
            other => panic!("an atom, not {other:?}"),
        })
        .collect()
}

#[test]
fn ip_atoms_show_the_ranges_as_written_of_named_and_inline_networks() {
    let policy = "network office = [10.0.0.1/8, ::ffff:192.168.0.0/112, 2001:db8::/32]\n\
        allow anyone to call tools \"t\" if ip in office and ip in [192.168.1.0/24, 2001:db8:0::1]\n";
    let sources = Sources::from_text("ranges.policy", policy);
    let policy = checked(&sources);
    let explainer = Explainer::new(&sources, &policy);
    let office = ["10.0.0.1/8", "::ffff:192.168.0.0/112", "2001:db8::/32"].map(String::from);
    let inline = ["192.168.1.0/24", "2001:db8:0::1"].map(String::from);
    let request = |ip: &str| {
        json!({"claims": {"sub": "u"}, "action": "call", "tool": "t", "ip": ip,
            "time": "2026-11-26T10:00:00Z"})
    };

    let explanation = explain(&explainer, &request("192.168.1.7"));
    assert_eq!(explanation.decision.reason, Reason::Allowed);
    let address = Some("192.168.1.7".parse().unwrap());
    assert_eq!(
        ip_readings(&explanation),
        [
            &Reading::Ip {
                address,
                range: Some("::ffff:192.168.0.0/112".to_string()),
                ranges: office.to_vec(),
            },
            &Reading::Ip {
                address,
                range: Some("192.168.1.0/24".to_string()),
                ranges: inline.to_vec(),
            },
        ]
    );

    let explanation = explain(&explainer, &request("::ffff:10.2.3.4"));
    assert_eq!(explanation.decision.reason, Reason::NoRule);
    let address = Some("::ffff:10.2.3.4".parse().unwrap());
    assert_eq!(
        ip_readings(&explanation),
        [
            &Reading::Ip {
                address,
                range: Some("10.0.0.1/8".to_string()),
                ranges: office.to_vec(),
            },
            &Reading::Ip {
                address,
                range: None,
                ranges: inline.to_vec(),
            },
        ]
    );

    let explanation = explain(&explainer, &request("2001:db8::1"));
    assert_eq!(explanation.decision.reason, Reason::Allowed);
    let readings = ip_readings(&explanation);
    assert!(
        matches!(readings[1], Reading::Ip { range: Some(range), .. } if range == "2001:db8:0::1"),
        "{readings:?}"
    );
}
