//! The server's side of the `jsonrpc` and `readings` targets: what a server behind the
//! gate does with the body it received, read with its own parser, never the gate's. JSON
//! is read three ways (the last duplicate member winning, as serde_json and JavaScript
//! do; the first winning; member names matched case-insensitively with Unicode case
//! folding, last match winning, as Go's `encoding/json` does), and a use is one of the
//! MCP methods that run or read something, from the MCP specification's method list.
//! [`check_forwarded`] asserts that every use of every reading is one the policy allows.
//! Included by both targets with `#[path]`.

use toolgate::Kind;

use crate::gate_fixture::{parts, Fixture};

/// A JSON value with every member kept, in order, duplicates included.
enum Json {
    Object(Vec<(String, Json)>),
    Array(Vec<Json>),
    String(String),
    Other,
}

/// How a server picks among members whose names collide.
#[derive(Clone, Copy, Debug)]
enum Reading {
    LastWins,
    FirstWins,
    Folded,
}

const READINGS: [Reading; 3] = [Reading::LastWins, Reading::FirstWins, Reading::Folded];

struct Members;

impl<'de> serde::de::Visitor<'de> for Members {
    type Value = Json;
    fn expecting(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter.write_str("JSON")
    }
    fn visit_bool<E>(self, _: bool) -> Result<Json, E> { Ok(Json::Other) }
    fn visit_i64<E>(self, _: i64) -> Result<Json, E> { Ok(Json::Other) }
    fn visit_u64<E>(self, _: u64) -> Result<Json, E> { Ok(Json::Other) }
    fn visit_f64<E>(self, _: f64) -> Result<Json, E> { Ok(Json::Other) }
    fn visit_unit<E>(self) -> Result<Json, E> { Ok(Json::Other) }
    fn visit_str<E>(self, value: &str) -> Result<Json, E> { Ok(Json::String(value.to_string())) }
    fn visit_seq<A: serde::de::SeqAccess<'de>>(self, mut seq: A) -> Result<Json, A::Error> {
        let mut items = Vec::new();
        while let Some(item) = seq.next_element::<Json>()? { items.push(item); }
        Ok(Json::Array(items))
    }
    fn visit_map<A: serde::de::MapAccess<'de>>(self, mut map: A) -> Result<Json, A::Error> {
        let mut members = Vec::new();
        while let Some((name, value)) = map.next_entry::<String, Json>()? { members.push((name, value)); }
        Ok(Json::Object(members))
    }
}

impl<'de> serde::Deserialize<'de> for Json {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Json, D::Error> {
        deserializer.deserialize_any(Members)
    }
}

/// Go's `strings.EqualFold`, near enough: every character's simple case fold.
fn fold(name: &str) -> String {
    name.chars().flat_map(char::to_uppercase).flat_map(char::to_lowercase).map(|c| if c == 'ſ' { 's' } else { c }).collect()
}

impl Json {
    fn get(&self, field: &str, reading: Reading) -> Option<&Json> {
        let Json::Object(members) = self else { return None };
        let mut matching = members.iter().filter(|(name, _)| match reading {
            Reading::Folded => fold(name) == fold(field),
            _ => name == field,
        });
        match reading {
            Reading::FirstWins => matching.next(),
            _ => matching.last(),
        }
        .map(|(_, value)| value)
    }
    fn text(&self) -> Option<&str> {
        match self { Json::String(text) => Some(text), _ => None }
    }
}

/// `params.arguments` as a server reading `message` this way sees it: strings as they
/// are, every other scalar as `null` (the fixture's `arg` conditions test strings only,
/// and on them a number and `null` decide alike), arrays and objects read the same way.
/// Read folded, member names are folded too: a server decoding into fields named as the
/// policy names them (in lowercase) takes `CLUSTER` for `cluster`.
fn arguments(message: &Json, reading: Reading) -> Option<serde_json::Map<String, serde_json::Value>> {
    fn value(json: &Json, reading: Reading) -> serde_json::Value {
        match json {
            Json::String(text) => serde_json::Value::String(text.clone()),
            Json::Other => serde_json::Value::Null,
            Json::Array(items) => serde_json::Value::Array(items.iter().map(|item| value(item, reading)).collect()),
            Json::Object(members) => {
                let mut object = serde_json::Map::new();
                for (name, _) in members {
                    if let Some(member) = json.get(name, reading) {
                        let key = match reading {
                            Reading::Folded => fold(name),
                            _ => name.clone(),
                        };
                        object.entry(key).or_insert_with(|| value(member, reading));
                    }
                }
                serde_json::Value::Object(object)
            }
        }
    }
    match value(message.get("params", reading)?.get("arguments", reading)?, reading) {
        serde_json::Value::Object(object) => Some(object),
        _ => None,
    }
}

/// Every use a server reading `message` this way performs: the MCP methods that run a
/// tool, read or subscribe to a resource, get a prompt or complete an argument of either
/// (from the MCP specification's method list, not from the gate's code), with the names
/// found by this reading.
fn uses(message: &Json, reading: Reading) -> Vec<(Kind, String)> {
    let Some(method) = message.get("method", reading).and_then(Json::text) else { return Vec::new() };
    let Some(params) = message.get("params", reading) else { return Vec::new() };
    let name = |field: &str| params.get(field, reading).and_then(Json::text).map(str::to_string);
    let mut found = Vec::new();
    match method {
        "tools/call" => found.extend(name("name").map(|name| (Kind::Tool, name))),
        "resources/read" | "resources/subscribe" => found.extend(name("uri").map(|uri| (Kind::Resource, uri))),
        "prompts/get" => found.extend(name("name").map(|name| (Kind::Prompt, name))),
        "completion/complete" => {
            if let Some(reference) = params.get("ref", reading) {
                match reference.get("type", reading).and_then(Json::text) {
                    Some("ref/prompt") => found.extend(reference.get("name", reading).and_then(Json::text).map(|name| (Kind::Prompt, name.to_string()))),
                    Some("ref/resource") => found.extend(reference.get("uri", reading).and_then(Json::text).map(|uri| (Kind::Resource, uri.to_string()))),
                    _ => {}
                }
            }
        }
        _ => {}
    }
    found
}

pub fn check_forwarded(fixture: &Fixture, caller: Option<&str>, sent: &[u8], got: &[u8]) {
    let caller = caller.unwrap_or_else(|| panic!("forwarded a request without credentials"));
    let value: Json = serde_json::from_slice(got).unwrap_or_else(|error| panic!("forwarded a body that is not JSON ({error}): {:?}", String::from_utf8_lossy(sent)));
    let principal = fixture.engine.principal_from_parts(&parts(caller).unwrap_or_default());
    let now = jiff::Timestamp::now();
    for reading in READINGS {
        let messages: Vec<&Json> = match &value {
            Json::Array(batch) => batch.iter().collect(),
            one => vec![one],
        };
        for message in messages {
            let arguments = arguments(message, reading);
            for (kind, name) in uses(message, reading) {
                let request = toolgate::Request { kind, action: kind.use_action(), name: &name, ip: None, time: now, arguments: arguments.as_ref() };
                let decision = fixture.engine.decide(&principal, &request);
                assert!(decision.is_allowed(), "read {reading:?}, the forwarded body lets {caller} use {kind:?} `{name}`, which the policy denies; body: {:?}", String::from_utf8_lossy(got));
            }
        }
    }
}
