//! The parser differential: any bytes as the body of a POST to the gate, with a content
//! type the first byte picks, through the public tower service in front of a server that
//! records what reaches it. Whenever the gate forwards a body, every way a server could
//! read it must lead to uses the policy allows: JSON read with the last duplicate member
//! winning (serde_json, JavaScript), the first winning, and member names matched
//! case-insensitively with Unicode case folding, last match winning (Go's
//! `encoding/json`). The oracle reads the forwarded bytes itself, with its own notion of
//! a use (the MCP methods that run or read something), never the gate's parser.
//! A body sent with a charset other than UTF-8 must never be forwarded at all.
#![no_main]

use std::sync::{Arc, Mutex};

use axum::body::Body;
use http::Request;
use http_body_util::BodyExt;
use libfuzzer_sys::fuzz_target;
use tower::{Layer, ServiceExt};
use toolgate::Kind;

#[path = "gate_fixture.rs"]
mod gate_fixture;
use gate_fixture::{fixture, parts, server, Fixture, Forwarded, CALLERS};

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

fn check_forwarded(fixture: &Fixture, caller: Option<&str>, sent: &[u8], got: &[u8]) {
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

/// The content types the first byte picks from: only the first two may be forwarded.
const CONTENT_TYPES: [&str; 4] = [
    "application/json",
    "Application/JSON; Charset=\"UTF-8\"",
    "application/json; charset=utf-7",
    "application/json; charset=utf-16le",
];

fuzz_target!(|data: &[u8]| {
    let Some((&choice, body)) = data.split_first() else { return };
    let fixture = fixture();
    let caller = CALLERS.get(usize::from(choice % 4)).map(|caller| caller.0);
    let content_type = CONTENT_TYPES[usize::from((choice >> 2) % 4)];
    let mut builder = Request::post("/mcp")
        .header("content-type", content_type)
        .header("accept", "application/json, text/event-stream");
    if let Some(caller) = caller {
        builder = builder.header("authorization", format!("Bearer {caller}"));
    }
    let Ok(request) = builder.body(Body::from(body.to_vec())) else { return };
    let forwarded: Forwarded = Arc::new(Mutex::new(None));
    let service = fixture.layer.layer(server(Arc::clone(&forwarded)));
    fixture.runtime.block_on(async move {
        let response = service.oneshot(request).await.unwrap_or_else(|never| match never {});
        let _ = response.into_body().collect().await;
    });
    let got = forwarded.lock().ok().and_then(|mut slot| slot.take());
    if let Some(got) = got {
        assert!(!content_type.contains("utf-7") && !content_type.contains("utf-16"), "forwarded a body in {content_type}");
        check_forwarded(fixture, caller, body, &got);
    }
});
