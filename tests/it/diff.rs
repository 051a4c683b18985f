//! `toolgate diff`: the command on small policy pairs (formats, exit statuses, witnesses
//! checked with `toolgate eval`), and a property test on random policies and mutated
//! copies: every reported witness is decided differently by the two engines, and every
//! random request the two decide differently (principal of one row, name among the
//! columns) falls in a reported cell.
//!
//! `TOOLGATE_PROPTEST_CASES` sets the number of random policies (default 48).

use proptest::prelude::*;
use proptest::test_runner::{Config as RunnerConfig, TestCaseError, TestRunner};
use serde_json::Value;
use toolgate::unstable::check::{self, CheckedPolicy};
use toolgate::unstable::diff::{self, Config, Diff, Side};
use toolgate::unstable::eval::{Engine, Request};
use toolgate::unstable::glob::Shape;
use toolgate::unstable::source::Sources;
use toolgate::{unstable::compile, unstable::parse, Effect, Kind, PrincipalParts};

use crate::cli::{toolgate, Scratch};
use crate::generate::{self, Flavour};
use crate::reference::RefRequest;

const OLD: &str = r#"role readonly
role developer inherits readonly
role admin inherits developer
network office = [10.0.0.0/8]

allow readonly to list tools "*"
allow developer to call tools "github.*"
allow admin to call tools "*"
"#;

/// Runs `toolgate diff` on two policy texts with extra arguments.
fn diff_of(name: &str, old: &str, new: &str, extra: &[&str]) -> crate::cli::Output {
    let scratch = Scratch::new(&format!("diff-{name}"));
    let old = scratch.file("old.policy", old);
    let new = scratch.file("new.policy", new);
    let mut args = vec!["diff", old.as_str(), new.as_str()];
    args.extend(extra);
    toolgate(&args, None)
}

/// The changes of a JSON diff.
fn changes(output: &crate::cli::Output) -> Vec<Value> {
    assert_eq!(output.status, 0, "{}", output.stderr);
    let document: Value = serde_json::from_str(&output.stdout).unwrap();
    document["changes"].as_array().unwrap().clone()
}

/// The change of `role`, `action` and `name`.
fn change<'c>(changes: &'c [Value], role: &str, action: &str, name: &str) -> &'c Value {
    changes
        .iter()
        .find(|change| {
            change["role"] == role && change["action"] == action && change["name"] == name
        })
        .unwrap_or_else(|| panic!("no change for {role} {action} {name}: {changes:#?}"))
}

/// `toolgate eval`'s decision of `request` under the policy text `policy`.
fn eval(policy: &str, request: &Value) -> Value {
    static COUNT: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
    let count = COUNT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let scratch = Scratch::new(&format!("diff-eval-{count}"));
    let path = scratch.file("p.policy", policy);
    let output = toolgate(
        &["eval", &path, "--request", "-"],
        Some(&request.to_string()),
    );
    serde_json::from_str(output.stdout.trim())
        .unwrap_or_else(|_| panic!("{} {}", output.stdout, output.stderr))
}

#[test]
fn a_role_gaining_a_tool_is_one_changed_cell_with_a_witness() {
    let new = OLD.replace(r#""github.*""#, r#""github.*", "fs.read""#);
    let tools = r#"{"tools":[{"name":"fs.read"},{"name":"github.search"}]}"#;
    let scratch = Scratch::new("diff-tools");
    let tools = scratch.file("tools.json", tools);
    let output = diff_of("gain", OLD, &new, &["--tools", &tools, "--format", "json"]);
    let changes = changes(&output);
    // Admin could call it already (`*`), readonly may not call it; listing follows use,
    // and readonly may list everything already.
    assert_eq!(changes.len(), 1, "{changes:#?}");
    let gained = change(&changes, "developer", "call", "fs.read");
    assert_eq!(gained["old"]["verdict"], "deny");
    assert_eq!(gained["new"]["verdict"], "allow");
    assert_eq!(
        gained["new"]["rules"][0],
        format!("{}:7", path_of(&output, "new"))
    );
    let request = &gained["witness"]["request"];
    assert_eq!(request["claims"]["roles"][0], "developer");
    assert_eq!(eval(OLD, request)["decision"], "deny");
    assert_eq!(eval(&new, request)["decision"], "allow");
    let human = diff_of("gain-human", OLD, &new, &["--tools", &tools]);
    assert!(human.stdout.contains("2 tools from"), "{}", human.stdout);
    assert!(human.stdout.contains("developer: call tool `fs.read`"));
}

/// The policy path the JSON document names for `side`.
fn path_of(output: &crate::cli::Output, side: &str) -> String {
    let document: Value = serde_json::from_str(&output.stdout).unwrap();
    document[side]["policy"].as_str().unwrap().to_string()
}

#[test]
fn a_deny_with_an_address_condition_makes_conditional_cells_with_real_witnesses() {
    let new = format!("{OLD}deny anyone to call tools \"github.delete\" unless ip in office\n");
    let output = diff_of("deny-ip", OLD, &new, &["--format", "json"]);
    let changes = changes(&output);
    for role in ["developer", "admin"] {
        let changed = change(&changes, role, "call", "github.delete");
        assert_eq!(changed["old"]["verdict"], "allow");
        assert_eq!(changed["new"]["verdict"], "conditional");
        let condition = changed["new"]["condition"].as_str().unwrap();
        assert!(condition.contains("unless ip in office"), "{condition}");
        assert_eq!(changed["exact"], true);
        let request = &changed["witness"]["request"];
        let (old_decision, new_decision) = (eval(OLD, request), eval(&new, request));
        assert_eq!(old_decision["decision"], "allow", "{request}");
        assert_eq!(new_decision["decision"], "deny", "{request}");
        assert_eq!(changed["witness"]["new"]["reason"], new_decision["reason"]);
        // Within the office the deny does not apply.
        let mut inside = request.clone();
        inside["ip"] = Value::from("10.1.2.3");
        assert_eq!(eval(&new, &inside)["decision"], "allow");
    }
    // Nobody else could call it before, nor can now.
    assert!(changes
        .iter()
        .all(|change| change["role"] == "developer" || change["role"] == "admin"));
}

#[test]
fn a_removed_role_is_a_row_whose_principal_the_new_policy_does_not_know() {
    let new = OLD
        .replace("role admin inherits developer\n", "")
        .replace("allow admin to call tools \"*\"\n", "");
    let output = diff_of("removed", OLD, &new, &["--format", "json"]);
    let document: Value = serde_json::from_str(&output.stdout).unwrap();
    let admin = document["rows"]
        .as_array()
        .unwrap()
        .iter()
        .find(|row| row["name"] == "admin")
        .unwrap();
    assert_eq!(admin["in_old"], true);
    assert_eq!(admin["in_new"], false);
    assert_eq!(admin["new_roles"], Value::Array(Vec::new()));
    let changes = changes(&output);
    let lost = change(&changes, "admin", "list", "github.example");
    assert_eq!(lost["pattern"], "github.*");
    assert_eq!(lost["new"]["verdict"], "deny");
    let request = &lost["witness"]["request"];
    assert_eq!(eval(OLD, request)["decision"], "allow");
    assert_eq!(eval(&new, request)["decision"], "deny");
    assert!(changes.iter().all(|change| change["role"] == "admin"));
    let human = diff_of("removed-human", OLD, &new, &[]);
    assert!(
        human.stdout.contains("admin (only in old)"),
        "{}",
        human.stdout
    );
    assert!(human.stdout.contains("derived from the policies' patterns"));
}

#[test]
fn no_change_is_one_line_and_status_0_even_with_exit_code() {
    let reordered =
        OLD.replace("network office = [10.0.0.0/8]\n", "") + "network office = [10.0.0.0/8]\n";
    for format in ["human", "markdown"] {
        let output = diff_of(
            "same",
            OLD,
            &reordered,
            &["--format", format, "--exit-code"],
        );
        assert_eq!(output.status, 0, "{}", output.stderr);
        assert_eq!(output.stdout.lines().count(), 1, "{}", output.stdout);
        assert!(output.stdout.contains("no changes"), "{}", output.stdout);
    }
    let output = diff_of("same-json", OLD, &reordered, &["--format", "json"]);
    let document: Value = serde_json::from_str(&output.stdout).unwrap();
    assert_eq!(document["changed"], false);
    assert_eq!(document["changes"], Value::Array(Vec::new()));
}

#[test]
fn exit_code_is_1_on_changes_only_when_asked() {
    let new = OLD.replace("allow admin", "deny admin");
    assert_eq!(diff_of("status", OLD, &new, &[]).status, 0);
    assert_eq!(
        diff_of("status-flag", OLD, &new, &["--exit-code"]).status,
        1
    );
    assert_eq!(
        diff_of(
            "status-json",
            OLD,
            &new,
            &["--exit-code", "--format", "json"]
        )
        .status,
        1
    );
}

#[test]
fn json_has_the_documented_fields() {
    let new = OLD.replace("allow admin", "deny admin");
    let output = diff_of("json", OLD, &new, &["--format", "json", "--kind", "tool"]);
    let document: Value = serde_json::from_str(&output.stdout).unwrap();
    for key in [
        "old",
        "new",
        "tools",
        "changed",
        "cells",
        "unsettled",
        "rows",
        "names",
        "changes",
    ] {
        assert!(document.get(key).is_some(), "no `{key}` in {document}");
    }
    assert!(document["old"]["sha256"].as_str().unwrap().len() == 64);
    assert_eq!(document["changed"], true);
    assert_eq!(document["names"].as_array().unwrap().len(), 1);
    assert_eq!(document["names"][0]["kind"], "tool");
    assert_eq!(document["names"][0]["derived"], true);
    let changes = document["changes"].as_array().unwrap();
    let first = &changes[0];
    for key in [
        "role", "kind", "action", "name", "pattern", "old", "new", "exact", "witness",
    ] {
        assert!(first.get(key).is_some(), "no `{key}` in {first}");
    }
    for key in ["verdict", "condition", "rules", "exhaustive"] {
        assert!(first["old"].get(key).is_some(), "no `{key}` in {first}");
    }
    for key in ["decision", "reason", "rule"] {
        assert!(first["witness"]["old"].get(key).is_some(), "{first}");
    }
    let lost = change(changes, "admin", "call", "example");
    assert_eq!(lost["pattern"], "*");
    assert_eq!(lost["old"]["verdict"], "allow");
    assert_eq!(lost["new"]["verdict"], "deny");
    assert_eq!(lost["witness"]["new"]["reason"], "denied");
}

#[test]
fn markdown_is_a_summary_line_then_a_table_per_kind_and_action() {
    let new = format!("{OLD}deny anyone to call tools \"github.delete\" unless ip in office\nallow developer to call tools \"x|y\"\n");
    let output = diff_of("markdown", OLD, &new, &["--format", "markdown"]);
    assert_eq!(output.status, 0, "{}", output.stderr);
    let lines: Vec<&str> = output.stdout.lines().collect();
    assert!(
        lines[0].starts_with("**toolgate diff**: "),
        "{}",
        output.stdout
    );
    assert!(
        lines[0].contains(" cells changed (roles: `admin`, `developer`)"),
        "{}",
        lines[0]
    );
    assert!(lines.contains(&"#### call tools"), "{}", output.stdout);
    let header = lines
        .iter()
        .position(|line| *line == "| role | name | old | new | witness |")
        .unwrap();
    assert_eq!(lines[header + 1], "|---|---|---|---|---|");
    let row = lines
        .iter()
        .find(|line| line.starts_with("| `developer` | `github.delete` |"))
        .unwrap();
    // Five cells: pipes inside cells are escaped.
    assert_eq!(row.matches(" | ").count(), 4, "{row}");
    assert!(row.contains("conditional"), "{row}");
    assert!(output.stdout.contains("`x\\|y`"), "{}", output.stdout);
    assert!(output
        .stdout
        .contains("<details><summary>What this compares</summary>"));
}

#[test]
fn an_invalid_new_policy_is_status_2_with_its_diagnostics() {
    let new = OLD.replace("allow admin", "allow admn");
    let output = diff_of("invalid", OLD, &new, &["--exit-code"]);
    assert_eq!(output.status, 2, "{}", output.stderr);
    assert!(output.stdout.is_empty(), "{}", output.stdout);
    assert!(
        output.stderr.contains("error[E003]: undefined role `admn`"),
        "{}",
        output.stderr
    );
    assert!(output.stderr.contains("new.policy"), "{}", output.stderr);
    let missing = toolgate(
        &["diff", "/nonexistent/old.policy", "/nonexistent/new.policy"],
        None,
    );
    assert_eq!(missing.status, 2);
    assert!(missing.stderr.starts_with("error: "), "{}", missing.stderr);
}

// The property test.

fn cases() -> u32 {
    std::env::var("TOOLGATE_PROPTEST_CASES")
        .ok()
        .and_then(|value| value.parse().ok())
        .unwrap_or(48)
}

/// How a policy is changed.
#[derive(Debug, Clone)]
enum Mutation {
    /// Remove the statement.
    Remove(usize),
    /// `allow` to `deny` or back (a requirement is removed).
    Flip(usize),
    /// Append a copy of the statement with its effect flipped.
    FlipCopy(usize),
    /// Declare a new role (with an `aka` that may be another role's) allowed everything.
    NewRole(&'static str),
}

fn mutation() -> impl Strategy<Value = Mutation> {
    prop_oneof![
        3 => any::<prop::sample::Index>().prop_map(|index| Mutation::Remove(index.index(1 << 16))),
        3 => any::<prop::sample::Index>().prop_map(|index| Mutation::Flip(index.index(1 << 16))),
        2 => any::<prop::sample::Index>().prop_map(|index| Mutation::FlipCopy(index.index(1 << 16))),
        1 => prop::sample::select(generate::pools::AKA_VALUES.to_vec()).prop_map(Mutation::NewRole),
    ]
}

/// A checked policy and its engine.
struct Loaded {
    sources: Sources,
    policy: CheckedPolicy,
    engine: Engine,
}

fn load(text: &str) -> Option<Loaded> {
    let mut sources = Sources::new();
    sources.add("p.policy", text);
    let parsed = parse::parse(&sources);
    if !parsed.diagnostics.is_empty() {
        return None;
    }
    let policy = check::check(&parsed.policy, &check::Config::default()).policy?;
    let engine = Engine::new(compile::compile(&sources, &policy));
    Some(Loaded {
        sources,
        policy,
        engine,
    })
}

/// `text` changed by `mutation` (statement indexes taken modulo the statements).
fn mutate(text: &str, policy: &CheckedPolicy, mutation: &Mutation) -> String {
    let spans: Vec<(usize, usize)> = policy
        .statements
        .iter()
        .map(|statement| (statement.span.start as usize, statement.span.end as usize))
        .collect();
    let pick = |index: usize| spans[index % spans.len()];
    match mutation {
        Mutation::Remove(index) => {
            let (start, end) = pick(*index);
            format!("{}{}", &text[..start], &text[end..])
        }
        Mutation::Flip(index) => {
            let (start, end) = pick(*index);
            format!(
                "{}{}{}",
                &text[..start],
                flipped(&text[start..end]),
                &text[end..]
            )
        }
        Mutation::FlipCopy(index) => {
            let (start, end) = pick(*index);
            format!("{text}\n{}\n", flipped(&text[start..end]))
        }
        Mutation::NewRole(aka) => {
            format!("{text}\nrole zz_new aka \"{aka}\"\nallow zz_new to list, call tools \"*\"\n")
        }
    }
}

/// A rule with its effect flipped; a requirement becomes nothing.
fn flipped(statement: &str) -> String {
    if let Some(rest) = statement.strip_prefix("allow") {
        format!("deny{rest}")
    } else if let Some(rest) = statement.strip_prefix("deny") {
        format!("allow{rest}")
    } else {
        String::new()
    }
}

/// How much one run exercised.
#[derive(Default, Debug)]
struct Tally {
    policies: usize,
    changes: usize,
    witnesses: usize,
    differing_requests: usize,
    differing_in_cells: usize,
}

fn decide(
    engine: &Engine,
    claims: &Value,
    request: &RefRequest,
    name: &str,
) -> Option<(bool, Vec<String>)> {
    let principal = engine.principal(claims).ok()?;
    let decision = engine.decide(
        &principal,
        &Request {
            kind: request.kind,
            action: request.action,
            name,
            ip: request.ip,
            time: request.time,
            arguments: request.arguments.as_ref().and_then(Value::as_object),
        },
    );
    let roles = principal
        .role_names(engine.index())
        .into_iter()
        .map(str::to_string)
        .collect();
    Some((decision.effect == Effect::Allow, roles))
}

fn check_pair(
    old_text: &str,
    mutation: &Mutation,
    requests: &[RefRequest],
    tally: &mut Tally,
) -> Result<(), TestCaseError> {
    let Some(old) = load(old_text) else {
        return Err(TestCaseError::reject("the generated policy has errors"));
    };
    let new_text = mutate(old_text, &old.policy, mutation);
    let Some(new) = load(&new_text) else {
        return Err(TestCaseError::reject("the mutated policy has errors"));
    };
    let result: Diff = diff::diff(
        Side {
            sources: &old.sources,
            policy: &old.policy,
        },
        Side {
            sources: &new.sources,
            policy: &new.policy,
        },
        &Config::default(),
    );
    tally.policies += 1;
    tally.changes += result.changes.len();
    let shown = || format!("old:\n{old_text}\nnew:\n{new_text}");
    // (a) every witness is decided differently by the two engines.
    for change in &result.changes {
        let Some(witness) = &change.witness else {
            continue;
        };
        tally.witnesses += 1;
        let request = RefRequest {
            claims: witness.claims.clone(),
            kind: change.kind,
            action: change.action,
            name: change.name.clone(),
            ip: witness.ip,
            time: witness.time,
            arguments: witness.arguments.clone().map(Value::Object),
        };
        let old_decision = decide(&old.engine, &witness.claims, &request, &change.name);
        let new_decision = decide(&new.engine, &witness.claims, &request, &change.name);
        let (Some((old_allowed, _)), Some((new_allowed, _))) = (old_decision, new_decision) else {
            return Err(TestCaseError::fail(format!(
                "a witness's claims were refused: {change:?}\n{}",
                shown()
            )));
        };
        prop_assert!(
            old_allowed != new_allowed,
            "the witness of {:?} is decided alike\n{}",
            change,
            shown()
        );
        prop_assert_eq!(old_allowed, witness.old.allowed);
    }
    // (b) every request decided differently, of a row's principal and a column's name,
    // falls in a reported cell. Rows and literal names are worked out here, not taken
    // from the diff: `anyone` and every role either policy declares, the principal
    // holding that role name (through the engines, whatever the claims map); each request
    // is also tried with every literal name of either policy and every name of the
    // diff's columns for its kind.
    let rows = expected_rows(&old, &new);
    for request in requests {
        let literal = literal_names(&old.policy, &new.policy, request.kind);
        let columns = result
            .columns
            .iter()
            .find(|columns| columns.kind == request.kind);
        let derived = columns
            .into_iter()
            .flat_map(|columns| columns.names.iter().map(|name| name.name.clone()));
        let mut names: Vec<String> = vec![request.name.clone()];
        names.extend(literal.iter().cloned());
        names.extend(derived);
        for name in &names {
            let old_decision = decide(&old.engine, &request.claims, request, name);
            let new_decision = decide(&new.engine, &request.claims, request, name);
            let (Some((old_allowed, old_roles)), Some((new_allowed, new_roles))) =
                (old_decision, new_decision)
            else {
                continue;
            };
            if old_allowed == new_allowed {
                continue;
            }
            let in_columns = literal.contains(name)
                || columns
                    .is_some_and(|columns| columns.names.iter().any(|column| &column.name == name));
            let matching: Vec<&str> = rows
                .iter()
                .filter(|(_, roles)| *roles == (old_roles.clone(), new_roles.clone()))
                .map(|(row, _)| row.as_str())
                .collect();
            if !in_columns || matching.is_empty() {
                continue;
            }
            tally.differing_requests += 1;
            let reported = result.changes.iter().any(|change| {
                matching.contains(&change.row.as_str())
                    && change.kind == request.kind
                    && change.action == request.action
                    && &change.name == name
            });
            prop_assert!(
                reported,
                "decided differently (old {}, new {}) but not reported: rows {:?}, {:?} {} {}\nrequest: {:?}\n{}",
                old_allowed,
                new_allowed,
                matching,
                request.kind,
                request.action.keyword(),
                name,
                request,
                shown()
            );
            tally.differing_in_cells += 1;
        }
    }
    Ok(())
}

/// The effective roles of a principal in the old and the new policy.
type RoleSets = (Vec<String>, Vec<String>);

/// `anyone` and every role name either policy declares, each with the effective roles
/// (old, new) of a principal granted that name alone.
fn expected_rows(old: &Loaded, new: &Loaded) -> Vec<(String, RoleSets)> {
    let roles = |engine: &Engine, name: Option<&String>| -> Vec<String> {
        let parts = PrincipalParts {
            roles: name.into_iter().cloned().collect(),
            ..PrincipalParts::default()
        };
        let principal = engine.principal_from_parts(&parts);
        principal
            .role_names(engine.index())
            .into_iter()
            .map(str::to_string)
            .collect()
    };
    let mut names: Vec<Option<String>> = vec![None];
    for role in old.policy.roles.iter().chain(&new.policy.roles) {
        names.push(Some(role.name.clone()));
    }
    names
        .iter()
        .map(|name| {
            let row = name.clone().unwrap_or_else(|| "anyone".to_string());
            (
                row,
                (
                    roles(&old.engine, name.as_ref()),
                    roles(&new.engine, name.as_ref()),
                ),
            )
        })
        .collect()
}

/// Every literal name of `kind` either policy's patterns name.
fn literal_names(old: &CheckedPolicy, new: &CheckedPolicy, kind: Kind) -> Vec<String> {
    let mut names = Vec::new();
    let statements = old.statements.iter().chain(&new.statements);
    for statement in statements.filter(|statement| statement.kind == kind) {
        for (glob, _) in &statement.patterns {
            if let Shape::Literal(name) = glob.shape() {
                if !names.contains(&name) {
                    names.push(name);
                }
            }
        }
    }
    names
}

#[test]
fn every_witness_is_real_and_every_difference_is_reported() {
    let mut runner = TestRunner::new(RunnerConfig {
        cases: cases(),
        failure_persistence: None,
        max_local_rejects: u32::MAX,
        max_global_rejects: u32::MAX,
        ..RunnerConfig::default()
    });
    let tally = std::cell::RefCell::new(Tally::default());
    let strategy = (generate::case_with(Flavour::MIXED), mutation());
    let result = runner.run(&strategy, |((text, requests), mutation)| {
        check_pair(&text, &mutation, &requests, &mut tally.borrow_mut())
    });
    if let Err(error) = result {
        panic!("{error}");
    }
    let tally = tally.into_inner();
    eprintln!("{tally:?}");
    if cases() >= 32 {
        assert!(tally.witnesses > 0, "no witness in {tally:?}");
        assert!(
            tally.differing_in_cells > 0,
            "no request decided differently: {tally:?}"
        );
    }
}
