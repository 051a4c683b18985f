//! Random requests drawn from the shared pools.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use proptest::collection::vec;
use proptest::prelude::*;
use proptest::sample::{select, subsequence};
use serde_json::{json, Map, Value};
use toolgate::ast::{Action, Kind};

use super::policy::Aim;
use super::pools::{
    AKA_VALUES, CLAIM_INTEGERS, CLAIM_PATHS, CLAIM_STRINGS, CLIENTS, CLIENT_PATHS, DATES,
    IPV4_ADDRESSES, IPV6_ADDRESSES, NAMES, ROLE_NAMES, ROLE_PATHS, SCOPES, SCOPE_PATHS,
    UNKNOWN_ROLE_VALUES,
};
use crate::reference::RefRequest;

/// A random request; often aimed at one of `targets`: of its kind, with a name made
/// from one of its patterns (sometimes with a character too many).
pub fn request(targets: Vec<Aim>) -> impl Strategy<Value = RefRequest> {
    (claims(), kind_action_and_name(targets), ip(), time()).prop_map(
        |(claims, (kind, action, name), ip, time)| RefRequest {
            claims,
            kind,
            action,
            name,
            ip,
            time,
        },
    )
}

/// A kind, `list` or the kind's use action, and a name: aimed at a target or free.
fn kind_action_and_name(targets: Vec<Aim>) -> BoxedStrategy<(Kind, Action, String)> {
    let kinds = vec![
        Kind::Tool,
        Kind::Tool,
        Kind::Tool,
        Kind::Resource,
        Kind::Prompt,
    ];
    let free = (select(kinds), any::<bool>(), free_name())
        .prop_map(|(kind, list, name)| (kind, action(kind, list), name));
    if targets.is_empty() {
        return free.boxed();
    }
    let aimed = (select(targets), any::<bool>(), made_name_parts()).prop_map(
        |(target, list, (pattern_index, fillers, suffix))| {
            let pattern = target.patterns.iter().cycle().nth(pattern_index);
            let made = pattern.map_or_else(String::new, |pattern| instantiate(pattern, &fillers));
            let name = format!("{made}{suffix}");
            (target.kind, action(target.kind, list), name)
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
pub fn claims() -> impl Strategy<Value = Value> {
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
    )
        .prop_map(|(roles, scopes, clients, others)| {
            let mut claims = Map::new();
            claims.insert("sub".to_owned(), json!("u1"));
            let entries = roles.into_iter().chain(scopes).chain(clients).chain(others);
            for (path, value, placement) in entries {
                insert(&mut claims, path, value, placement);
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
