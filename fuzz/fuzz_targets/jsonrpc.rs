//! Any bytes as the body of a POST to the gate's MCP endpoint, through the public tower
//! service (`GateLayer` in front of a server that records what reaches it): never a
//! panic, and never a bypass. Whatever the gate forwards must be JSON whose every use
//! (`tools/call`, `resources/read`, `resources/subscribe`, `prompts/get`, a prompt's
//! `completion/complete`) the engine allows for the caller; everything else is refused.
//!
//! The first byte picks the caller (a reader, a writer, someone with no role, nobody)
//! and whether `Mcp-Method` / `Mcp-Name` headers are sent.
#![no_main]

use std::sync::{Arc, Mutex};

use axum::body::Body;
use http::Request;
use http_body_util::BodyExt;
use libfuzzer_sys::fuzz_target;
use serde_json::Value;
use tower::{Layer, ServiceExt};
use toolgate::Kind;

#[path = "gate_fixture.rs"]
mod gate_fixture;
use gate_fixture::{fixture, parts, server, Fixture, Forwarded, CALLERS};

/// The uses a message asks for, as serde_json reads it (what an MCP server would see).
fn uses(message: &Value) -> Vec<(Kind, String)> {
    let params = &message["params"];
    let name = |field: &str| params[field].as_str().map(str::to_string);
    let found = match message["method"].as_str() {
        Some("tools/call") => name("name").map(|name| (Kind::Tool, name)),
        Some("resources/read" | "resources/subscribe") => name("uri").map(|uri| (Kind::Resource, uri)),
        Some("prompts/get") => name("name").map(|name| (Kind::Prompt, name)),
        Some("completion/complete") if params["ref"]["type"] == "ref/prompt" => {
            params["ref"]["name"].as_str().map(|name| (Kind::Prompt, name.to_string()))
        }
        _ => None,
    };
    found.into_iter().collect()
}

fn check_forwarded(fixture: &Fixture, caller: Option<&str>, sent: &[u8], got: &[u8]) {
    let caller = caller.unwrap_or_else(|| panic!("forwarded a request without credentials"));
    let value: Value = serde_json::from_slice(got).unwrap_or_else(|error| panic!("forwarded a body that is not JSON ({error}): {:?}", String::from_utf8_lossy(sent)));
    let messages = match &value {
        Value::Array(batch) => batch.iter().collect(),
        one => vec![one],
    };
    let principal = fixture.engine.principal_from_parts(&parts(caller).unwrap_or_default());
    let now = jiff::Timestamp::now();
    for message in messages {
        // The arguments as a server reads them: `params.arguments`, an object or `{}`.
        let arguments = message["params"]["arguments"].as_object();
        for (kind, name) in uses(message) {
            let request = toolgate::Request { kind, action: kind.use_action(), name: &name, ip: None, time: now, arguments };
            let decision = fixture.engine.decide(&principal, &request);
            assert!(decision.is_allowed(), "the gate let {caller} use {kind:?} `{name}`, which the policy denies ({:?}); body: {value}", decision.reason);
        }
    }
}

fuzz_target!(|data: &[u8]| {
    let Some((&choice, body)) = data.split_first() else { return };
    let fixture = fixture();
    let caller = CALLERS.get(usize::from(choice % 4)).map(|caller| caller.0);
    let mut builder = Request::post("/mcp")
        .header("content-type", "application/json")
        .header("accept", "application/json, text/event-stream");
    if let Some(caller) = caller {
        builder = builder.header("authorization", format!("Bearer {caller}"));
    }
    if choice & 0x10 != 0 {
        let guess: Value = serde_json::from_slice(body).unwrap_or(Value::Null);
        if let Some(method) = guess["method"].as_str().and_then(|method| http::HeaderValue::from_str(method).ok()) {
            builder = builder.header("mcp-method", method);
        }
        let name = guess["params"]["name"].as_str().or(guess["params"]["uri"].as_str());
        if let Some(name) = name.and_then(|name| http::HeaderValue::from_str(name).ok()) {
            builder = builder.header("mcp-name", name);
        }
    }
    let Ok(request) = builder.body(Body::from(body.to_vec())) else { return };
    let forwarded: Forwarded = Arc::new(Mutex::new(None));
    let service = fixture.layer.layer(server(Arc::clone(&forwarded)));
    let response = fixture.runtime.block_on(async move {
        let response = service.oneshot(request).await.unwrap_or_else(|never| match never {});
        let status = response.status();
        let _ = response.into_body().collect().await;
        status
    });
    let got = forwarded.lock().ok().and_then(|mut slot| slot.take());
    if let Some(got) = got {
        assert!(response.as_u16() != 401, "forwarded, then answered 401");
        check_forwarded(fixture, caller, body, &got);
    }
});
