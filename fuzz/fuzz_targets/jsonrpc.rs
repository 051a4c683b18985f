//! Any bytes as the body of a POST to the gate's MCP endpoint, through the public tower
//! service (`GateLayer` in front of a server that records what reaches it): never a
//! panic, and never a bypass. Whatever the gate forwards must be JSON whose every use,
//! as the server behind the gate reads it (its own parser and its own list of the MCP
//! methods that run or read something, `upstream_reading.rs`, never the gate's method
//! table), the engine allows for the caller; everything else is refused.
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

#[path = "gate_fixture.rs"]
mod gate_fixture;
#[path = "upstream_reading.rs"]
mod upstream_reading;
use gate_fixture::{fixture, server, Forwarded, CALLERS};
use upstream_reading::check_forwarded;

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
