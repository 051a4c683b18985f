//! Unit tests of the matrix on small policies: verdicts that need each dimension to be
//! exact, and the words of conditional cells.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use super::*;
use crate::{check, parse};

fn matrix_of(text: &str, names: &[&str], limit: usize) -> Matrix {
    let sources = Sources::from_text("t.policy", text);
    let parsed = parse::parse(&sources);
    assert!(parsed.diagnostics.is_empty(), "{:?}", parsed.diagnostics);
    let checked = check::check(&parsed.policy, &check::Config::default());
    let policy = checked.policy.expect("no errors");
    let names: Vec<String> = names.iter().map(|name| name.to_string()).collect();
    let config = Config {
        kind: Kind::Tool,
        limit,
    };
    build(&sources, &policy, &names, &config)
}

/// The `call` and `list` cells of `role` for the only name `t`.
fn cells(text: &str, role: &str) -> (Cell, Cell) {
    let matrix = matrix_of(text, &["t"], DEFAULT_LIMIT);
    let row = matrix
        .roles
        .iter()
        .position(|row| row.name == role)
        .unwrap();
    let call = matrix.cell(row, 0, Action::Call).unwrap().clone();
    let list = matrix.cell(row, 0, Action::List).unwrap().clone();
    (call, list)
}

fn call(text: &str) -> Cell {
    cells(text, "anyone").0
}

#[test]
fn unconditional_rules() {
    assert_eq!(
        call("allow anyone to call tools \"*\"").verdict,
        Verdict::Allow
    );
    assert_eq!(
        call("allow anyone to call tools \"x*\"").verdict,
        Verdict::Deny
    );
    let denied = "allow anyone to call tools \"*\"\ndeny anyone to call tools \"t\"";
    assert_eq!(call(denied).verdict, Verdict::Deny);
}

#[test]
fn role_atoms_are_fixed_by_the_row() {
    let text = "role admin\nrole user\nallow anyone to call tools \"*\" if role admin";
    assert_eq!(cells(text, "admin").0.verdict, Verdict::Allow);
    assert_eq!(cells(text, "user").0.verdict, Verdict::Deny);
    assert_eq!(cells(text, "anyone").0.verdict, Verdict::Deny);
    let inherited = "role user\nrole admin inherits user\nallow user to call tools \"*\"";
    assert_eq!(cells(inherited, "admin").0.verdict, Verdict::Allow);
}

#[test]
fn requirements_make_cells_conditional() {
    let text = "require scope \"w\" to call tools \"*\"\nallow anyone to call tools \"*\"";
    let cell = call(text);
    assert_eq!(cell.verdict, Verdict::Conditional);
    assert_eq!(cell.condition, "needs scope `w`");
    assert!(cell.exhaustive);
}

#[test]
fn scope_implication_is_respected() {
    // Holding `admin` means holding `read`: `not scope read` never holds with `admin`.
    let text = "scope \"admin\" implies \"read\"\n\
                allow anyone to call tools \"*\" if scope \"admin\" and not scope \"read\"";
    assert_eq!(call(text).verdict, Verdict::Deny);
    let needs = "scope \"admin\" implies \"read\"\n\
                 require scope \"read\", \"admin\" to call tools \"*\"\n\
                 allow anyone to call tools \"*\"";
    assert_eq!(call(needs).condition, "needs scope `admin`");
}

#[test]
fn addresses_present_or_absent() {
    let everywhere = "[0.0.0.0/0, ::/0]";
    // With an address it is in the range; without one the deny is unknown and fires.
    let deny = format!(
        "allow anyone to call tools \"*\"\ndeny anyone to call tools \"*\" if ip in {everywhere}"
    );
    assert_eq!(call(&deny).verdict, Verdict::Deny);
    let allow = format!("allow anyone to call tools \"*\" if ip in {everywhere}");
    let cell = call(&allow);
    assert_eq!(cell.verdict, Verdict::Conditional);
    assert_eq!(
        cell.condition,
        format!("if ip in {everywhere}; denied without an address")
    );
    // Nested ranges: inside the small one is inside the large one.
    let nested =
        "allow anyone to call tools \"*\" if ip in [10.1.0.0/16] and not ip in [10.0.0.0/8]";
    assert_eq!(call(nested).verdict, Verdict::Deny);
    let mapped = "allow anyone to call tools \"*\" if ip in [10.0.0.0/8] and not ip in [::ffff:10.0.0.0/104]";
    assert_eq!(call(mapped).verdict, Verdict::Deny);
}

#[test]
fn windows_and_instants() {
    let always = "allow anyone to call tools \"*\" if time in [mon-fri] or time in [sat,sun]";
    assert_eq!(call(always).verdict, Verdict::Allow);
    let inside = "allow anyone to call tools \"*\"\n\
                  if time in [mon-fri 09:00-17:00] and not time in [mon-fri 08:00-18:00]";
    assert_eq!(call(inside).verdict, Verdict::Deny);
    // The same wall-clock hours in two zones overlap, but are not the same.
    let zones = "allow anyone to call tools \"*\"\n\
                 if time in [mon 09:00-10:00 tz \"Europe/Berlin\"]\n\
                 and not time in [mon 09:00-10:00 tz \"Europe/London\"]";
    assert_eq!(call(zones).verdict, Verdict::Conditional);
    let split = "allow anyone to call tools \"*\"\n\
                 if time before \"2027-01-01T00:00:00Z\" or time after \"2027-01-01T00:00:00Z\"";
    assert_eq!(call(split).verdict, Verdict::Allow);
    let never = "allow anyone to call tools \"*\"\n\
                 if time after \"2027-01-01T00:00:00Z\" and time before \"2026-01-01T00:00:00Z\"";
    assert_eq!(call(never).verdict, Verdict::Deny);
    let between = "allow anyone to call tools \"*\"\n\
                   if time after \"2026-01-01T00:00:00Z\" and time before \"2026-01-02T00:00:00Z\"\n\
                   and time in [sat]";
    // 1 January 2026 is a Thursday: no Saturday in between.
    assert_eq!(call(between).verdict, Verdict::Deny);
}

#[test]
fn claims_and_clients() {
    let both = "allow anyone to call tools \"*\" if claim \"a\" == 1 or claim \"a\" != 1";
    assert_eq!(call(both).verdict, Verdict::Allow);
    let two = "allow anyone to call tools \"*\" if claim \"a\" == 1 and claim \"a\" == 2";
    assert_eq!(call(two).verdict, Verdict::Deny);
    let missing =
        "allow anyone to call tools \"*\" if claim \"a\" exists or not claim \"a\" contains \"x\"";
    assert_eq!(call(missing).verdict, Verdict::Allow);
    let array = "allow anyone to call tools \"*\" if claim \"g\" contains \"x\" and claim \"g\" contains \"y\"";
    assert_eq!(call(array).verdict, Verdict::Conditional);
    let clients = "allow anyone to call tools \"*\" if client \"a\" and client \"b\"";
    assert_eq!(call(clients).verdict, Verdict::Deny);
}

#[test]
fn listing_follows_use_and_step_up_stops_it() {
    let follows = "role user\nallow user to call tools \"*\"";
    let (called, listed) = cells(follows, "user");
    assert_eq!(
        (called.verdict, listed.verdict),
        (Verdict::Allow, Verdict::Allow)
    );
    // Without `x`, listing ends in step-up (insufficient_scope), which does not follow use.
    let step_up =
        "allow anyone to list tools \"*\" if scope \"x\"\nallow anyone to call tools \"*\"";
    let (called, listed) = cells(step_up, "anyone");
    assert_eq!(called.verdict, Verdict::Allow);
    assert_eq!(listed.verdict, Verdict::Conditional);
    assert_eq!(listed.condition, "needs scope `x`");
}

#[test]
fn words_name_the_deciding_conditions() {
    let text = "role admin\n\
                network office = [10.0.0.0/8]\n\
                window business_hours = mon-fri 09:00-17:00\n\
                require scope \"tool:write\" to call tools \"*\"\n\
                allow admin to call tools \"*\"\n\
                deny anyone to call tools \"*\"\n  unless role admin and ip in office\n   and time in business_hours\n\
                deny anyone to call tools \"*\" if claim \"email_verified\" == false";
    let (cell, _) = cells(text, "admin");
    assert_eq!(
        cell.condition,
        "needs scope `tool:write`; unless ip in office and time in business_hours; \
         denied when claim `email_verified` == false; denied without an address"
    );
    assert_eq!(
        cell.rules,
        ["t.policy:4", "t.policy:5", "t.policy:6", "t.policy:9"]
    );
    let parenthesised = "allow anyone to call tools \"*\"\n\
                         deny anyone to call tools \"*\" if (( ip in [10.0.0.0/8] )) or client \"c\"";
    assert_eq!(
        call(parenthesised).condition,
        "denied when ip in [10.0.0.0/8] or client `c`; denied without an address"
    );
    let alternatives = "allow anyone to call tools \"*\" if client \"a\" and scope \"s\"\n\
                        allow anyone to call tools \"*\" if claim \"n\" == \"x\" or scope \"s\"";
    assert_eq!(
        call(alternatives).condition,
        "if (client `a` and scope `s`) or (claim `n` == \"x\" or scope `s`)"
    );
}

#[test]
fn past_the_limit_cells_are_conditional_unless_a_deny_always_fires() {
    let text = "allow anyone to call tools \"*\" if scope \"a\" or scope \"b\" or scope \"c\"";
    let matrix = matrix_of(text, &["t"], 4);
    let cell = matrix.cell(0, 0, Action::Call).unwrap();
    assert_eq!(cell.verdict, Verdict::Conditional);
    assert!(!cell.exhaustive);
    assert!(cell
        .condition
        .ends_with("(not decided exactly: more than 4 combinations)"));
    let denied = format!("{text}\ndeny anyone to call tools \"*\"");
    let matrix = matrix_of(&denied, &["t"], 4);
    assert_eq!(
        matrix.cell(0, 0, Action::Call).unwrap().verdict,
        Verdict::Deny
    );
}

#[test]
fn examples_are_written_as_claims() {
    let text = "role dev aka \"devs\"\nrole ops aka \"devs\"\n\
                allow dev to call tools \"*\" if claim \"tier\" == \"gold\" and client \"cli\"";
    let (cell, _) = cells(text, "dev");
    assert_eq!(cell.verdict, Verdict::Conditional);
    let allowed = cell.allow_example.unwrap();
    assert_eq!(
        allowed.claims,
        serde_json::json!({"roles": ["dev"], "tier": "gold", "client_id": "cli"})
    );
    assert!(cell.deny_example.is_some());
    let matrix = matrix_of(text, &["t"], DEFAULT_LIMIT);
    assert_eq!(matrix.roles[1].claim_value.as_deref(), Some("dev"));
}

#[test]
fn cells_that_depend_on_arguments_say_so() {
    let text = "role dev\nrole admin\n\
                allow dev to call tools \"t\" if arg \"replicas\" <= 5\n\
                allow admin to call tools \"t\"\n\
                deny anyone to call tools \"t\" if arg \"force\" == true and not role admin\n";
    let (call, list) = cells(text, "dev");
    assert_eq!(call.verdict, Verdict::Conditional);
    assert_eq!(
        call.condition,
        "depends on the arguments `replicas`, `force`; with arguments that favour the caller: allowed"
    );
    // Some arguments let a developer call it, so it is listed.
    assert_eq!(list.verdict, Verdict::Allow);
    // No argument changes an admin's or an anonymous caller's fate.
    assert_eq!(cells(text, "admin").0.verdict, Verdict::Allow);
    let (anyone_call, anyone_list) = cells(text, "anyone");
    assert_eq!(anyone_call.verdict, Verdict::Deny);
    assert_eq!(anyone_list.verdict, Verdict::Deny);
}

#[test]
fn a_deny_that_only_some_arguments_trigger_hides_nothing() {
    let text = "allow anyone to call tools \"t\"\ndeny anyone to call tools \"t\" unless arg \"safe\" == true\n";
    let (call, list) = cells(text, "anyone");
    assert_eq!(call.verdict, Verdict::Conditional);
    assert_eq!(list.verdict, Verdict::Allow);
    let always = "allow anyone to call tools \"t\" if arg \"n\" < 0 and arg \"n\" > 0\n";
    // The matrix over-approximates as listing does: each atom favours the caller alone.
    assert_eq!(cells(always, "anyone").1.verdict, Verdict::Allow);
}
