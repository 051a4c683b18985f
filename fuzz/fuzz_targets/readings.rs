//! The parser differential: any bytes as the body of a POST to the gate, with a content
//! type the first byte picks, through the public tower service in front of a server that
//! records what reaches it. Whenever the gate forwards a body, every way a server could
//! read it must lead to uses the policy allows: JSON read with the last duplicate member
//! winning (serde_json, JavaScript), the first winning, and member names matched
//! case-insensitively with Unicode case folding, last match winning (Go's
//! `encoding/json`). The oracle (`upstream_reading.rs`) reads the forwarded bytes
//! itself, with its own notion of a use (the MCP methods that run or read something),
//! never the gate's parser.
//! A body sent with a charset other than UTF-8 must never be forwarded at all.
#![no_main]

use std::sync::{Arc, Mutex};

use axum::body::Body;
use http::Request;
use http_body_util::BodyExt;
use libfuzzer_sys::fuzz_target;
use tower::{Layer, ServiceExt};
#[path = "gate_fixture.rs"]
mod gate_fixture;
#[path = "upstream_reading.rs"]
mod upstream_reading;
use gate_fixture::{fixture, server, Forwarded, CALLERS};
use upstream_reading::check_forwarded;

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
