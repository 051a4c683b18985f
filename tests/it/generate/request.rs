//! Random requests drawn from the shared pools.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use proptest::collection::vec;
use proptest::prelude::*;
use proptest::sample::{select, subsequence};
use serde_json::{json, Map, Value};

use super::policy::Aim;
use super::pools::{
    AKA_VALUES, ARG_SLOTS, ARG_STRINGS, BOUND_SCOPES, CLAIM_INTEGERS, CLAIM_PATHS, CLAIM_STRINGS,
    CLIENTS, CLIENT_PATHS, DATES, IPV4_ADDRESSES, IPV6_ADDRESSES, NAMES, ROLE_NAMES, ROLE_PATHS,
    SCOPES, SCOPE_PATHS, UNKNOWN_ROLE_VALUES,
};
use toolgate::{Action, Kind};

use crate::reference::syntax::{self, Atom, Body, Expr, Literal, Test};
use crate::reference::RefRequest;

/// A random request; often aimed at one of `targets`: of its kind, with a name made
/// from one of its patterns (sometimes with a character too many). `call` and `get`
/// carry random arguments, often aimed at the policy's `arg` atoms (`hints`); `list`
/// and `read` none (they take none).
///
/// With `bound` (the policy has a rule naming the step-up-bound scopes), tokens often
/// hold some of those scopes.
pub fn request(
    targets: Vec<Aim>,
    hints: Vec<ArgHint>,
    bound: bool,
) -> impl Strategy<Value = RefRequest> {
    (claims(bound), kind_action_and_name(targets), ip(), time()).prop_flat_map(
        move |(claims, (kind, action, name, aimed), ip, time)| {
            // Aimed at a rule that tests arguments: its atoms' hints; else any atom's.
            let hints = if aimed.is_empty() {
                hints.clone()
            } else {
                aimed
            };
            let arguments = match action {
                Action::Call | Action::Get => arguments(hints),
                Action::List | Action::Read => Just(None).boxed(),
            };
            (Just((claims, kind, action, name, ip, time)), arguments).prop_map(
                |((claims, kind, action, name, ip, time), arguments)| RefRequest {
                    claims,
                    kind,
                    action,
                    name,
                    ip,
                    time,
                    arguments,
                },
            )
        },
    )
}

/// What one `arg` atom of a policy tests: the keys a request may hold its path under
/// (a dotted path: as one top-level name, or nested), and values that make the atom
/// hold, nearly hold, or be unknown.
#[derive(Debug, Clone)]
pub struct ArgHint {
    /// Each way to hold the path, as keys from the top down.
    pub placements: Vec<Vec<String>>,
    /// Values worth trying there.
    pub values: Vec<Value>,
}

/// The hints of every `arg` atom of `text` (read with the reference parser, only to aim
/// requests).
pub fn argument_hints(text: &str) -> Vec<ArgHint> {
    let Ok(policy) = syntax::parse_text("hints.policy", text) else {
        return Vec::new();
    };
    let mut hints = Vec::new();
    for statement in &policy.statements {
        if let Body::Rule(rule) = &statement.body {
            if let Some(condition) = &rule.condition {
                collect_hints(&condition.expr, &mut hints);
            }
        }
    }
    hints
}

fn collect_hints(expr: &Expr, hints: &mut Vec<ArgHint>) {
    match expr {
        Expr::Or(children) | Expr::And(children) => {
            for child in children {
                collect_hints(child, hints);
            }
        }
        Expr::Not(inner) => collect_hints(inner, hints),
        Expr::Atom(Atom::Arg(path, test)) => hints.push(ArgHint {
            placements: placements(path),
            values: hint_values(test),
        }),
        Expr::Atom(_) => {}
    }
}

/// The keys a path names: a JSON Pointer's unescaped segments; a dotted path's whole
/// text and its `.`-split segments.
fn placements(path: &str) -> Vec<Vec<String>> {
    if let Some(pointer) = path.strip_prefix('/') {
        let keys = pointer
            .split('/')
            .map(|segment| segment.replace("~1", "/").replace("~0", "~"))
            .collect();
        return vec![keys];
    }
    let mut placements = vec![vec![path.to_owned()]];
    if path.contains('.') {
        placements.push(path.split('.').map(str::to_owned).collect());
    }
    placements
}

/// Values that make a test hold, and values just beside them.
fn hint_values(test: &Test) -> Vec<Value> {
    let mut values = Vec::new();
    match test {
        Test::Equals(value) | Test::NotEquals(value) | Test::Contains(value) => {
            let value = literal_json(value);
            values.push(json!([value.clone(), "other"]));
            values.extend(near(value));
        }
        Test::In(literals) => {
            for literal in literals {
                values.extend(near(literal_json(literal)));
            }
        }
        Test::Matches(glob) => {
            for fillers in [&["a"][..], &["..", "x"], &[""], &["docs/a.md", "/"]] {
                values.push(json!(instantiate(glob, fillers)));
            }
            values.push(json!(format!("{}x", instantiate(glob, &["b"]))));
            values.extend([json!(5), Value::Null, json!([instantiate(glob, &["a"])])]);
        }
        Test::Order(_, number) => {
            let bound = literal_json(&Literal::Number(number.clone()));
            values.extend(near(bound.clone()));
            if let Some(bound) = bound.as_f64() {
                for step in [0.5, -0.5, 0.001, -0.001, 1.0, -1.0] {
                    values.push(json!(bound + step));
                }
            }
        }
        Test::Exists => values.extend([Value::Null, json!(1), json!({})]),
    }
    values
}

/// The literal as JSON (an integer as an integer, a decimal as the double nearest it).
fn literal_json(literal: &Literal) -> Value {
    match literal {
        Literal::String(text) => json!(text),
        Literal::Number(text) => match text.parse::<i64>() {
            Ok(integer) => json!(integer),
            Err(_) => text
                .parse::<f64>()
                .map_or(Value::Null, |value| json!(value)),
        },
        Literal::Bool(value) => json!(value),
    }
}

/// `value`, and values of another type or form beside it: a number as a string and in
/// the other of integer and float form, a string with a character more, a boolean as a
/// string.
fn near(value: Value) -> Vec<Value> {
    let mut values = vec![value.clone()];
    match &value {
        Value::Number(number) => {
            values.push(json!(number.to_string()));
            if let Some(integer) = number.as_i64() {
                values.push(json!(integer as f64));
            } else if let Some(float) = number.as_f64() {
                if float.fract() == 0.0 && float.abs() < 1e15 {
                    values.push(json!(float as i64));
                }
            }
        }
        Value::String(text) => values.push(json!(format!("{text}x"))),
        Value::Bool(flag) => values.push(json!(flag.to_string())),
        _ => {}
    }
    values
}

/// A call's arguments: absent, `{}`, or an object with values of every JSON type at
/// pooled places (top-level names, nested objects, dotted names beside their nested
/// forms); with `hints`, often values at the places the policy's `arg` atoms read
/// (sometimes at both forms of a dotted path: ambiguous).
pub fn arguments(hints: Vec<ArgHint>) -> BoxedStrategy<Option<Value>> {
    let pooled = || {
        vec(
            (select(ARG_SLOTS.to_vec()), argument_value().boxed()),
            0..=7,
        )
    };
    let random = pooled().prop_map(|entries| {
        let mut arguments = Map::new();
        for (slot, value) in entries {
            insert_at(&mut arguments, slot, value);
        }
        Value::Object(arguments)
    });
    let plain = prop_oneof![
        1 => Just(None),
        1 => Just(Some(json!({}))),
        6 => random.prop_map(Some),
    ];
    if hints.is_empty() {
        return plain.boxed();
    }
    let aimed_entry = (
        select(hints),
        any::<proptest::sample::Index>(),
        any::<proptest::sample::Index>(),
        select(vec![false, false, false, false, false, true]),
    );
    let aimed = (pooled(), vec(aimed_entry, 1..=4)).prop_map(|(entries, aimed)| {
        let mut arguments = Map::new();
        for (slot, value) in entries {
            insert_at(&mut arguments, slot, value);
        }
        for (hint, value, placement, everywhere) in aimed {
            let value = value.get(&hint.values).clone();
            if everywhere {
                for keys in &hint.placements {
                    insert_at_owned(&mut arguments, keys, value.clone());
                }
            } else {
                let keys: &Vec<String> = placement.get(&hint.placements);
                insert_at_owned(&mut arguments, keys, value);
            }
        }
        Some(Value::Object(arguments))
    });
    prop_oneof![1 => plain, 2 => aimed].boxed()
}

/// [`insert_at`] with owned keys.
fn insert_at_owned(arguments: &mut Map<String, Value>, keys: &[String], value: Value) {
    let keys: Vec<&str> = keys.iter().map(String::as_str).collect();
    insert_at(arguments, &keys, value);
}

/// Puts `value` under `keys`; intermediate non-objects are replaced by objects.
fn insert_at(arguments: &mut Map<String, Value>, keys: &[&str], value: Value) {
    let Some((last, parents)) = keys.split_last() else {
        return;
    };
    let mut current = arguments;
    for key in parents {
        let entry = current
            .entry((*key).to_owned())
            .or_insert_with(|| Value::Object(Map::new()));
        if !entry.is_object() {
            *entry = Value::Object(Map::new());
        }
        let Value::Object(object) = entry else {
            return;
        };
        current = object;
    }
    current.insert((*last).to_owned(), value);
}

/// An argument value: strings the pooled globs and literals meet or miss, numbers at and
/// around the pooled bounds (integers, decimals, `-0.0`, huge ones), booleans, `null`,
/// arrays and nested objects.
fn argument_value() -> impl Strategy<Value = Value> {
    let number = select(vec![
        json!(5),
        json!(5.0),
        json!(4.999),
        json!(5.5),
        json!(5.000_000_1),
        json!(31),
        json!(31.5),
        json!(31.0),
        json!(-1),
        json!(-1.0),
        json!(-0.5),
        json!(-0.0),
        json!(0),
        json!(1),
        json!(100),
        json!(1e300),
        json!(u64::MAX),
        json!(i64::MIN),
    ]);
    let text = prop_oneof![
        4 => select(ARG_STRINGS.to_vec()).prop_map(str::to_owned),
        2 => select(vec![
            "docs/b.md", "docs/ab.md", "docs/", "/data/", "/data", "a.pdf", "a.PDF", "pdf ",
            "*", "p*f", "\\", "../docs/a.md", "docs/sub/../../x", "x",
        ])
        .prop_map(str::to_owned),
    ];
    let scalar = prop_oneof![
        4 => text.prop_map(Value::String),
        4 => number,
        1 => any::<bool>().prop_map(Value::Bool),
        1 => Just(Value::Null),
    ];
    prop_oneof![
        8 => scalar.clone(),
        2 => vec(scalar.clone(), 0..=3).prop_map(Value::Array),
        1 => (select(vec!["limit", "tags", "flag", "z", "0"]), scalar)
            .prop_map(|(key, value)| json!({ key: value })),
    ]
}

/// A kind, `list` or the kind's use action, a name, and the hints of the rule aimed
/// at: aimed at a target or free (no hints).
fn kind_action_and_name(targets: Vec<Aim>) -> BoxedStrategy<(Kind, Action, String, Vec<ArgHint>)> {
    let kinds = vec![
        Kind::Tool,
        Kind::Tool,
        Kind::Tool,
        Kind::Resource,
        Kind::Prompt,
    ];
    let free = (select(kinds), any::<bool>(), free_name())
        .prop_map(|(kind, list, name)| (kind, action(kind, list), name, Vec::new()));
    if targets.is_empty() {
        return free.boxed();
    }
    let aimed = (select(targets), any::<bool>(), made_name_parts()).prop_map(
        |(target, list, (pattern_index, fillers, suffix))| {
            let pattern = target.patterns.iter().cycle().nth(pattern_index);
            let made = pattern.map_or_else(String::new, |pattern| instantiate(pattern, &fillers));
            let name = format!("{made}{suffix}");
            (target.kind, action(target.kind, list), name, target.hints)
        },
    );
    prop_oneof![2 => aimed, 1 => free].boxed()
}

/// `list`, or the kind's use action.
fn action(kind: Kind, list: bool) -> Action {
    if list {
        Action::List
    } else {
        kind.use_action()
    }
}

/// A pooled name, or a random one built from the characters patterns use.
fn free_name() -> impl Strategy<Value = String> {
    let piece = select(vec![
        "fs", "db", ".", "_", "a", "x", "q", "\u{e9}", "/", "*", "?", "\\", "report", "deploy",
    ]);
    let pooled = select(NAMES.to_vec()).prop_map(str::to_owned);
    let random = vec(piece, 1..=6).prop_map(|pieces| pieces.concat());
    prop_oneof![3 => pooled, 1 => random]
}

/// Which pattern of a target (modulo its count), the wildcard fillers, and a suffix
/// (mostly empty) that makes a near miss.
fn made_name_parts() -> impl Strategy<Value = (usize, Vec<&'static str>, &'static str)> {
    (
        0usize..3,
        vec(select(FILLERS.to_vec()), 8),
        select(vec!["", "", "", "", "", "x", "."]),
    )
}

/// What wildcards are replaced with when making a name from a pattern.
const FILLERS: [&str; 9] = ["", "x", "a.b", "_file", "/", "\u{e9}", "q", "read", "*"];

/// A name the glob `pattern` matches: `*` and `?` take the next filler (`?` its first
/// character, or `z`), escapes give their character.
pub fn instantiate(pattern: &str, fillers: &[&str]) -> String {
    let mut fillers = fillers.iter().cycle();
    let mut name = String::new();
    let mut characters = pattern.chars().peekable();
    while let Some(character) = characters.next() {
        match character {
            '*' => name.push_str(fillers.next().copied().unwrap_or("")),
            '?' => {
                let filler = fillers.next().copied().unwrap_or("");
                name.push(filler.chars().next().unwrap_or('z'));
            }
            '\\' => match characters.peek() {
                Some(&escaped @ ('*' | '?' | '\\')) => {
                    characters.next();
                    name.push(escaped);
                }
                _ => name.push('\\'),
            },
            other => name.push(other),
        }
    }
    name
}

/// Absent, IPv4, IPv6 or IPv4-mapped IPv6.
fn ip() -> impl Strategy<Value = Option<IpAddr>> {
    let v4 = || select(IPV4_ADDRESSES.to_vec()).prop_map(parse_v4);
    prop_oneof![
        2 => Just(None),
        3 => v4().prop_map(|address| Some(IpAddr::V4(address))),
        1 => any::<u32>().prop_map(|bits| Some(IpAddr::V4(Ipv4Addr::from(bits)))),
        2 => select(IPV6_ADDRESSES.to_vec()).prop_map(|text| Some(IpAddr::V6(parse_v6(text)))),
        2 => v4().prop_map(|address| Some(IpAddr::V6(address.to_ipv6_mapped()))),
    ]
}

/// A pooled IPv4 address (the pool holds only valid ones).
fn parse_v4(text: &str) -> Ipv4Addr {
    text.parse().unwrap_or(Ipv4Addr::UNSPECIFIED)
}

/// A pooled IPv6 address (the pool holds only valid ones).
fn parse_v6(text: &str) -> Ipv6Addr {
    text.parse().unwrap_or(Ipv6Addr::UNSPECIFIED)
}

/// A time on a pooled date, from 14 hours before to 38 hours after its UTC midnight, on
/// whole hours or a minute or second off them (window edges in every pooled zone).
fn time() -> impl Strategy<Value = jiff::Timestamp> {
    (
        select(DATES.to_vec()),
        -14i64..=38,
        select(vec![0i64, 0, 0, 30, 59, 1, 15, 14]),
        select(vec![0i64, 0, 59]),
    )
        .prop_map(|(date, hours, minutes, seconds)| {
            let midnight: jiff::Timestamp = format!("{date}T00:00:00Z")
                .parse()
                .unwrap_or(jiff::Timestamp::UNIX_EPOCH);
            let offset = hours * 3600 + minutes * 60 + seconds;
            jiff::Timestamp::from_second(midnight.as_second() + offset).unwrap_or(midnight)
        })
}

/// A claims object: roles, scopes and client at default and custom paths, and claims
/// conditions test, with values of every JSON type.
///
/// With `bound`, the token's scopes often include some of [`BOUND_SCOPES`].
pub fn claims(bound: bool) -> impl Strategy<Value = Value> {
    let bound_scopes = if bound {
        proptest::option::weighted(0.7, subsequence(BOUND_SCOPES.to_vec(), 0..=8)).boxed()
    } else {
        Just(None).boxed()
    };
    (
        vec((role_path(), role_value(), placement()), 1..=4),
        vec(
            (select(SCOPE_PATHS.to_vec()), scope_value(), placement()),
            0..=2,
        ),
        vec(
            (select(CLIENT_PATHS.to_vec()), client_value(), placement()),
            0..=2,
        ),
        vec(
            (select(CLAIM_PATHS.to_vec()), any_value(), placement()),
            0..=4,
        ),
        bound_scopes,
    )
        .prop_map(|(roles, scopes, clients, others, bound_scopes)| {
            let mut claims = Map::new();
            claims.insert("sub".to_owned(), json!("u1"));
            let entries = roles.into_iter().chain(scopes).chain(clients).chain(others);
            for (path, value, placement) in entries {
                insert(&mut claims, path, value, placement);
            }
            if let Some(bound_scopes) = bound_scopes {
                // At the default scope path, beside whatever scopes are already there.
                let held = claims.get("scope").and_then(Value::as_str).unwrap_or("");
                let joined = format!("{held} {}", bound_scopes.join(" "));
                claims.insert("scope".to_owned(), json!(joined));
            }
            Value::Object(claims)
        })
}

/// A role claim path, the default `roles` most often.
fn role_path() -> impl Strategy<Value = &'static str> {
    prop_oneof![2 => Just("roles"), 3 => select(ROLE_PATHS.to_vec())]
}

/// Where a dotted claim path's value goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Placement {
    /// Under the whole path as one top-level name.
    TopLevel,
    /// Through nested objects, split on `.`.
    Nested,
    /// Both, the top-level name holding the value and the nested path a decoy.
    Both,
}

/// Any placement.
fn placement() -> impl Strategy<Value = Placement> {
    select(vec![
        Placement::Nested,
        Placement::Nested,
        Placement::TopLevel,
        Placement::Both,
    ])
}

/// Puts `value` at `path`; intermediate non-objects are replaced by objects.
fn insert(claims: &mut Map<String, Value>, path: &str, value: Value, placement: Placement) {
    match placement {
        Placement::TopLevel => {
            claims.insert(path.to_owned(), value);
        }
        Placement::Nested => insert_nested(claims, path, value),
        Placement::Both => {
            insert_nested(claims, path, json!("decoy"));
            claims.insert(path.to_owned(), value);
        }
    }
}

/// Puts `value` at `path` split on `.`.
fn insert_nested(claims: &mut Map<String, Value>, path: &str, value: Value) {
    let segments: Vec<&str> = path.split('.').collect();
    let Some((last, parents)) = segments.split_last() else {
        return;
    };
    let mut current = claims;
    for segment in parents {
        let entry = current
            .entry((*segment).to_owned())
            .or_insert_with(|| Value::Object(Map::new()));
        if !entry.is_object() {
            *entry = Value::Object(Map::new());
        }
        let Value::Object(object) = entry else {
            return;
        };
        current = object;
    }
    current.insert((*last).to_owned(), value);
}

/// A role claim value: declared names, aka values, unknown values; a string, an array
/// (sometimes with non-strings), or a non-string.
fn role_value() -> impl Strategy<Value = Value> {
    let one = prop_oneof![
        5 => select(ROLE_NAMES.to_vec()),
        2 => select(AKA_VALUES.to_vec()),
        1 => select(UNKNOWN_ROLE_VALUES.to_vec()),
    ];
    prop_oneof![
        2 => one.clone().prop_map(|value| json!(value)),
        4 => vec(one.prop_map(|value| json!(value)), 1..=3).prop_map(Value::Array),
        1 => Just(json!([])),
        1 => Just(json!(["admin", 1, null, {"role": "admin"}])),
        1 => Just(json!(42)),
    ]
}

/// A scope claim value: a string with odd whitespace, an array, or a non-string.
fn scope_value() -> impl Strategy<Value = Value> {
    let scopes = || subsequence(SCOPES.to_vec(), 0..=4).prop_shuffle();
    let whitespace = select(vec![" ", " ", "  ", "\t", "\n", "\r\n", "\u{c}", "\u{a0}"]);
    prop_oneof![
        4 => (scopes(), whitespace, select(vec!["", " ", "\t"])).prop_map(
            |(scopes, between, around)| json!(format!("{around}{}{around}", scopes.join(between)))
        ),
        3 => scopes().prop_map(|scopes| json!(scopes)),
        1 => scopes().prop_map(|scopes| {
            let mut items: Vec<Value> = scopes.iter().map(|scope| json!(scope)).collect();
            items.push(json!(7));
            items.push(json!("tool:read tool:write"));
            Value::Array(items)
        }),
        1 => Just(json!(null)),
    ]
}

/// A client id, or a non-string that client lookup must skip.
fn client_value() -> impl Strategy<Value = Value> {
    prop_oneof![
        5 => select(CLIENTS.to_vec()).prop_map(|client| json!(client)),
        1 => Just(json!(7)),
        1 => Just(json!(["cli"])),
        1 => Just(json!(null)),
    ]
}

/// A value of any JSON type, mostly ones the pooled literals compare with.
fn any_value() -> impl Strategy<Value = Value> {
    let scalar = prop_oneof![
        3 => select(CLAIM_STRINGS.to_vec()).prop_map(|text| json!(text)),
        2 => select(CLAIM_INTEGERS.to_vec()).prop_map(|integer| json!(integer)),
        2 => select(CLAIM_INTEGERS.to_vec()).prop_map(|integer| json!(integer as f64)),
        1 => select(vec![json!(42.5), json!(-0.0), json!(1e300), json!(u64::MAX)]),
        2 => any::<bool>().prop_map(|value| json!(value)),
        1 => Just(Value::Null),
    ];
    prop_oneof![
        6 => scalar.clone(),
        2 => vec(scalar.clone(), 0..=3).prop_map(Value::Array),
        1 => scalar.prop_map(|value| json!({ "value": value })),
    ]
}
