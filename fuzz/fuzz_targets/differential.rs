//! A structured policy and requests from the fuzzer's bytes, decided by the compiled
//! table and by the reference interpreter of the test tree: they must agree. Rules whose
//! actions are `call` or `get` alone test arguments too (`arg`, v1.1), and `call` and
//! `get` requests carry arguments built from the bytes.
#![no_main]

#[allow(dead_code, clippy::all)]
#[path = "../../tests/it/reference/mod.rs"]
mod reference;

use arbitrary::{Arbitrary, Result, Unstructured};
use libfuzzer_sys::fuzz_target;
use toolgate::unstable::ast::{Action, Kind};
use toolgate::unstable::eval::Request;
use toolgate::unstable::source::Sources;

const ROLES: [&str; 4] = ["r0", "r1", "r2", "r3"];
const SCOPES: [&str; 4] = ["s0", "s1", "s2", "s3"];
const NAMES: [&str; 8] = ["a", "a.b", "a.bc", "b.a", "ab", "x/y", "a*b", ""];
const PATTERNS: [&str; 10] = ["a", "a.*", "*.a", "*", "a?", "a*b", "?.*", "a\\*b", "x/*", "**"];
const TIMES: [&str; 6] = [
    "2026-03-29T00:30:00Z",
    "2026-03-29T01:30:00Z",
    "2026-10-25T00:30:00Z",
    "2026-10-25T01:30:00Z",
    "2026-11-27T22:30:00Z",
    "2026-11-28T08:59:59Z",
];
const ADDRESSES: [&str; 5] = ["10.1.2.3", "::ffff:10.1.2.3", "2001:db8::1", "8.8.8.8", "::1"];

fn pick<'a>(u: &mut Unstructured<'_>, items: &[&'a str]) -> Result<&'a str> {
    Ok(*u.choose(items)?)
}

/// Argument paths: top-level, dotted (also held as one top-level name: ambiguous),
/// JSON Pointers, and into an array (never addressed).
const ARG_PATHS: [&str; 8] = ["n", "s", "p", "q.x", "/q/x", "/q.x", "t.0", "/a~1b"];
/// Literals an argument is compared with.
const ARG_LITERALS: [&str; 12] = [
    "5", "5.0", "4.999", "-0.5", "0", "\"5\"", "\"docs/a\"", "\"\"", "true", "false", "\"..\"", "31.5",
];
/// Globs `matches` tests.
const ARG_GLOBS: [&str; 6] = ["docs/*", "*..*", "*", "?", "d*s/?", "\\*"];
/// Numbers the order comparisons test.
const ARG_NUMBERS: [&str; 6] = ["5", "5.0", "4.999", "-1", "0.5", "31"];

fn arg_atom(u: &mut Unstructured<'_>) -> Result<String> {
    let path = pick(u, &ARG_PATHS)?;
    let test = match u.int_in_range(0..=5)? {
        0 => format!("{} {}", pick(u, &["==", "!="])?, pick(u, &ARG_LITERALS)?),
        1 => {
            let count = u.int_in_range(1..=3)?;
            let literals = (0..count).map(|_| pick(u, &ARG_LITERALS)).collect::<Result<Vec<_>>>()?;
            format!("in [{}]", literals.join(", "))
        }
        2 => format!("contains {}", pick(u, &ARG_LITERALS)?),
        3 => format!("matches \"{}\"", pick(u, &ARG_GLOBS)?),
        4 => format!("{} {}", pick(u, &["<", "<=", ">", ">="])?, pick(u, &ARG_NUMBERS)?),
        _ => "exists".to_string(),
    };
    Ok(format!("arg \"{path}\" {test}"))
}

/// An atom; `arguments`: `arg` atoms allowed (the rule's actions are `call` or `get`
/// alone, else they would be E013).
fn atom(u: &mut Unstructured<'_>, arguments: bool) -> Result<String> {
    if arguments && u.ratio(1, 3)? {
        return arg_atom(u);
    }
    Ok(match u.int_in_range(0..=9)? {
        0 => format!("scope \"{}\"", pick(u, &SCOPES)?),
        1 => format!("role {}", pick(u, &ROLES)?),
        2 => "ip in net".to_string(),
        3 => format!("ip in [{}]", pick(u, &["10.0.0.0/8", "::/0", "8.8.8.8", "2001:db8::/32"])?),
        4 => "time in win".to_string(),
        5 => format!("time before \"{}\"", pick(u, &TIMES)?),
        6 => format!("time after \"{}\"", pick(u, &TIMES)?),
        7 => format!("claim \"c\" {} {}", pick(u, &["==", "!=", "contains"])?, pick(u, &["1", "\"x\"", "true", "-1", "1.0", "1.5"])?),
        8 => "claim \"n.k\" exists".to_string(),
        _ => pick(u, &["true", "false", "client \"app\""])?.to_string(),
    })
}

fn condition(u: &mut Unstructured<'_>, depth: u32, arguments: bool) -> Result<String> {
    if depth == 0 || u.ratio(1, 2)? {
        return atom(u, arguments);
    }
    Ok(match u.int_in_range(0..=2)? {
        0 => format!("not {}", condition(u, depth - 1, arguments)?),
        1 => format!("({} and {})", condition(u, depth - 1, arguments)?, condition(u, depth - 1, arguments)?),
        _ => format!("({} or {})", condition(u, depth - 1, arguments)?, condition(u, depth - 1, arguments)?),
    })
}

fn kind_and_actions(u: &mut Unstructured<'_>) -> Result<(&'static str, &'static str)> {
    let kind = *u.choose(&["tools", "resources", "prompts"])?;
    let usage = match kind {
        "tools" => "call",
        "resources" => "read",
        _ => "get",
    };
    let actions = *u.choose(&["list", "use", "both"])?;
    let actions = match actions {
        "list" => "list",
        "use" => usage,
        _ => if usage == "call" { "list, call" } else if usage == "read" { "read, list" } else { "get, list" },
    };
    Ok((kind, actions))
}

fn statement(u: &mut Unstructured<'_>) -> Result<String> {
    let (kind, actions) = kind_and_actions(u)?;
    let patterns = (0..u.int_in_range(1..=2)?)
        .map(|_| pick(u, &PATTERNS).map(|p| format!("\"{p}\"")))
        .collect::<Result<Vec<_>>>()?
        .join(", ");
    if u.ratio(1, 6)? {
        return Ok(format!("require scope \"{}\" to {actions} {kind} {patterns}", pick(u, &SCOPES)?));
    }
    let effect = pick(u, &["allow", "allow", "deny"])?;
    let subjects = if u.ratio(1, 3)? { "anyone".to_string() } else { pick(u, &ROLES)?.to_string() };
    let arguments = actions == "call" || actions == "get";
    let clause = match u.int_in_range(0..=2)? {
        0 => String::new(),
        1 => format!(" if {}", condition(u, 3, arguments)?),
        _ => format!(" unless {}", condition(u, 3, arguments)?),
    };
    Ok(format!("{effect} {subjects} to {actions} {kind} {patterns}{clause}"))
}

fn policy(u: &mut Unstructured<'_>) -> Result<String> {
    let mut lines = vec![
        format!("timezone \"{}\"", pick(u, &["Europe/Berlin", "America/New_York", "UTC"])?),
        "role r0 aka \"x\"".to_string(),
        "role r1 inherits r0".to_string(),
        format!("role r2 inherits {}", pick(u, &["r0", "r1"])?),
        "role r3 aka \"x\", \"y\"".to_string(),
        "scope \"s0\" implies \"s1\"".to_string(),
        "scope \"s1\", \"s2\", \"s3\"".to_string(),
        format!("network net = [{}]", pick(u, &["10.0.0.0/8", "::ffff:10.0.0.0/104", "2001:db8::/32, 8.8.8.8"])?),
        format!("window win = {}", pick(u, &["mon-fri 09:00-17:00", "fri 22:00-02:00", "sat,sun", "01:00-03:00 tz \"Europe/Berlin\""])?),
    ];
    for _ in 0..u.int_in_range(1..=8)? {
        lines.push(statement(u)?);
    }
    Ok(lines.join("\n") + "\n")
}

#[derive(Debug, Arbitrary)]
struct Facts {
    roles: Vec<u8>,
    scopes: Vec<u8>,
    claim: u8,
    nested: bool,
    client: bool,
    kind: u8,
    list: bool,
    name: u8,
    address: Option<u8>,
    time: u8,
    /// For `call` and `get`: `None` absent, else (place, value) pairs.
    arguments: Option<Vec<(u8, u8)>>,
}

/// Where arguments go: keys from the top down.
const ARG_SLOTS: [&[&str]; 9] = [
    &["n"], &["s"], &["p"], &["q", "x"], &["q.x"], &["q"], &["t"], &["a/b"], &["t", "0"],
];

/// Argument values: numbers at and around the literals, strings the globs meet or miss,
/// every other JSON type.
fn argument_value(index: u8) -> serde_json::Value {
    use serde_json::json;
    let values = [
        json!(5), json!(5.0), json!(4.999), json!(5.5), json!(-0.5), json!(-0.0), json!(31.5),
        json!(1e300), json!(u64::MAX), json!("5"), json!("docs/a"), json!("docs/../x"), json!(""),
        json!(".."), json!("*"), json!(null), json!(true), json!(false), json!([5, "docs/a"]),
        json!([]), json!({"x": 5}), json!({"0": "docs/a"}),
    ];
    values[index as usize % values.len()].clone()
}

/// Puts `value` under `keys`; intermediate non-objects become objects.
fn insert_at(arguments: &mut serde_json::Map<String, serde_json::Value>, keys: &[&str], value: serde_json::Value) {
    let Some((last, parents)) = keys.split_last() else { return };
    let mut current = arguments;
    for key in parents {
        let entry = current
            .entry(key.to_string())
            .or_insert_with(|| serde_json::Value::Object(serde_json::Map::new()));
        if !entry.is_object() {
            *entry = serde_json::Value::Object(serde_json::Map::new());
        }
        let serde_json::Value::Object(object) = entry else { return };
        current = object;
    }
    current.insert(last.to_string(), value);
}

/// The arguments of `facts`: each value under its keys.
fn arguments(facts: &Facts) -> Option<serde_json::Value> {
    let entries = facts.arguments.as_ref()?;
    let mut arguments = serde_json::Map::new();
    for (slot, value) in entries.iter().take(6) {
        insert_at(&mut arguments, ARG_SLOTS[*slot as usize % ARG_SLOTS.len()], argument_value(*value));
    }
    Some(serde_json::Value::Object(arguments))
}

fn request(facts: &Facts) -> reference::RefRequest {
    let roles: Vec<&str> = facts.roles.iter().take(3).map(|r| ["r0", "r1", "r2", "r3", "x", "y", "zz"][*r as usize % 7]).collect();
    let scopes: Vec<&str> = facts.scopes.iter().take(3).map(|s| SCOPES[*s as usize % 4]).collect();
    let claim = [serde_json::json!(1), serde_json::json!(1.0), serde_json::json!("x"), serde_json::json!(["x", 1]), serde_json::json!(true), serde_json::Value::Null, serde_json::json!(-1)][facts.claim as usize % 7].clone();
    let mut claims = serde_json::json!({"roles": roles, "scope": scopes.join(" "), "c": claim});
    if facts.nested {
        claims["n"] = serde_json::json!({"k": 0});
    }
    if facts.client {
        claims["client_id"] = serde_json::json!("app");
    }
    let kind = [Kind::Tool, Kind::Resource, Kind::Prompt][facts.kind as usize % 3];
    let action = if facts.list { Action::List } else { kind.use_action() };
    reference::RefRequest {
        claims,
        kind,
        action,
        name: NAMES[facts.name as usize % NAMES.len()].to_string(),
        ip: facts.address.map(|a| ADDRESSES[a as usize % ADDRESSES.len()].parse().unwrap_or(std::net::IpAddr::from([0, 0, 0, 0]))),
        time: TIMES[facts.time as usize % TIMES.len()].parse().unwrap_or(jiff::Timestamp::UNIX_EPOCH),
        arguments: match action {
            Action::Call | Action::Get => arguments(facts),
            Action::List | Action::Read => None,
        },
    }
}

/// The policy as the reference reads it. The reference follows the v1 spec, where a
/// range never matches across address families; the engine reads an IPv4-mapped range
/// as the IPv4 range it maps (docs/language.md, extension (a)), so the reference is
/// given that range. The replacement keeps every statement on its line.
fn for_reference(text: &str) -> String {
    text.replace("::ffff:10.0.0.0/104", "10.0.0.0/8")
}

fuzz_target!(|data: &[u8]| {
    let mut u = Unstructured::new(data);
    let Ok(text) = policy(&mut u) else { return };
    let Ok(requests) = Vec::<Facts>::arbitrary(&mut u) else { return };
    let sources = Sources::from_text("fuzz.policy", text.as_str());
    let parsed = toolgate::unstable::parse::parse(&sources);
    let reference_sources = Sources::from_text("fuzz.policy", for_reference(&text));
    let reference_policy = match reference::parse(&reference_sources) {
        Ok(policy) => policy,
        Err(error) => panic!("the reference must read every generated policy:\n{text}\n{error}"),
    };
    assert!(parsed.diagnostics.is_empty(), "{text}\n{:?}", parsed.diagnostics);
    let loaded = match toolgate::LoadOptions::default().load_sources(sources.clone()) {
        Ok(loaded) => loaded,
        Err(error) => panic!("generated policy must load:\n{text}\n{error}"),
    };
    for facts in requests.iter().take(16) {
        let request = request(facts);
        let expected = reference::decide_policy(&reference_policy, &request);
        let Ok(principal) = loaded.engine().principal(&request.claims) else { continue };
        let decision = loaded.engine().decide(&principal, &Request {
            kind: request.kind,
            action: request.action,
            name: &request.name,
            ip: request.ip,
            time: request.time,
            arguments: request.arguments.as_ref().and_then(serde_json::Value::as_object),
        });
        let got = (decision.is_allowed(), decision.reason.as_str(), decision.rule.map(|r| r.to_string()), decision.missing_scopes.iter().map(|s| s.to_string()).collect::<Vec<_>>());
        let want = (expected.allow, expected.reason, expected.rule.clone(), expected.missing_scopes.clone());
        assert_eq!(got, want, "policy:\n{text}\nrequest: {request:?}");
    }
});
