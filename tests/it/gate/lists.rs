//! List responses filtered to what the caller may list, as JSON and as server-sent events.

use std::time::Duration;

use axum::body::Body;
use axum::response::IntoResponse;
use axum::routing;
use axum::Router;
use futures_util::StreamExt;
use http::StatusCode;
use http_body_util::BodyExt;
use serde_json::{json, Value};
use tower::ServiceExt;

use super::support::*;
use toolgate::gate::{GateConfig, GateLayer, ListAudit};

fn names(result: &Value, member: &str, field: &str) -> Vec<String> {
    result[member]
        .as_array()
        .unwrap_or_else(|| panic!("no `{member}` in {result}"))
        .iter()
        .map(|entry| entry[field].as_str().unwrap().to_string())
        .collect()
}

fn list(method: &str) -> Value {
    rpc(9, method, json!({}))
}

#[tokio::test]
async fn tools_list_shows_what_the_caller_may_call() {
    let harness = Harness::new();
    let reply = harness
        .send(post(Some("reader-token"), &list("tools/list")))
        .await;
    assert_eq!(reply.status, StatusCode::OK);
    assert_eq!(
        names(&reply.json()["result"], "tools", "name"),
        ["fs.read_file"]
    );
    assert_eq!(reply.header("cache-control"), "private, no-store");
    assert_eq!(reply.header("vary"), "Authorization, X-API-Key");
    harness
        .upstream
        .assert_executed(&[list("tools/list")], "the reader's list");

    let reply = harness
        .send(post(Some("writer-token"), &list("tools/list")))
        .await;
    assert_eq!(
        names(&reply.json()["result"], "tools", "name"),
        ["fs.read_file", "fs.write_file"]
    );
    // Without `tool:read` the list requirement is unmet: nothing is listed.
    let reply = harness
        .send(post(Some("nobody-token"), &list("tools/list")))
        .await;
    assert!(names(&reply.json()["result"], "tools", "name").is_empty());
    // The server listed everything to the gate: the client saw none of it.
    for tool in TOOLS {
        assert!(
            !String::from_utf8_lossy(&reply.body).contains(tool),
            "{tool}"
        );
    }
}

#[tokio::test]
async fn resources_and_prompts_are_filtered_too() {
    let harness = Harness::new();
    let reply = harness
        .send(post(Some("nobody-token"), &list("resources/list")))
        .await;
    assert_eq!(
        names(&reply.json()["result"], "resources", "uri"),
        ["docs://readme"]
    );
    let reply = harness
        .send(post(Some("reader-token"), &list("prompts/list")))
        .await;
    assert_eq!(
        names(&reply.json()["result"], "prompts", "name"),
        ["review-code"]
    );
}

fn sse(request: &mut http::Request<Body>) {
    request
        .headers_mut()
        .insert("x-test-sse", "1".parse().unwrap());
}

#[tokio::test]
async fn lists_in_event_streams_are_filtered_and_other_events_pass() {
    let harness = Harness::new();
    let mut request = post(Some("writer-token"), &list("tools/list"));
    sse(&mut request);
    let reply = harness.send(request).await;
    assert_eq!(reply.status, StatusCode::OK);
    assert_eq!(reply.header("content-type"), "text/event-stream");
    assert_eq!(reply.header("cache-control"), "private, no-store");
    let text = String::from_utf8(reply.body.to_vec()).unwrap();
    assert!(text.starts_with(": comment\n\nevent: message\ndata: {\"jsonrpc\":\"2.0\",\"method\":\"notifications/message\""), "{text}");
    assert!(text.contains("id: 7\nevent: message\ndata: {"), "{text}");
    let events = reply.events();
    assert_eq!(events.len(), 2);
    assert_eq!(
        names(&events[1]["result"], "tools", "name"),
        ["fs.read_file", "fs.write_file"]
    );
}

#[tokio::test]
async fn batched_lists_are_each_filtered() {
    let harness = Harness::new();
    let batch = json!([
        rpc(1, "tools/list", json!({})),
        rpc(2, "prompts/list", json!({})),
        rpc(3, "ping", json!({}))
    ]);
    for streamed in [false, true] {
        let mut request = post(Some("reader-token"), &batch);
        if streamed {
            sse(&mut request);
        }
        let reply = harness.send(request).await;
        let messages = if streamed {
            reply.events().into_iter().skip(1).collect()
        } else {
            reply.json().as_array().unwrap().clone()
        };
        assert_eq!(messages.len(), 3, "{streamed}");
        assert_eq!(
            names(&messages[0]["result"], "tools", "name"),
            ["fs.read_file"]
        );
        assert_eq!(
            names(&messages[1]["result"], "prompts", "name"),
            ["review-code"]
        );
        assert!(messages[2]["result"]["tools"].is_null());
        harness.upstream.assert_executed(
            batch.as_array().unwrap(),
            &format!("the batch, streamed: {streamed}"),
        );
    }
}

#[tokio::test]
async fn hidden_entries_are_audited_by_default_and_all_when_asked() {
    let harness = Harness::new();
    harness
        .send(post(Some("reader-token"), &list("tools/list")))
        .await;
    let hidden: Vec<String> = harness.audit.take().into_iter().map(|r| r.name).collect();
    assert_eq!(hidden.len(), TOOLS.len() - 1);
    assert!(!hidden.contains(&"fs.read_file".to_string()));

    let config = GateConfig::new(RESOURCE)
        .unwrap()
        .with_list_audit(ListAudit::All);
    let harness = Harness::with(config, policy_handle(POLICY));
    harness
        .send(post(Some("reader-token"), &list("tools/list")))
        .await;
    let records = harness.audit.take();
    assert_eq!(records.len(), TOOLS.len());
    assert!(records.iter().all(|record| record.action == "list"));
}

/// A server that sends a list response in an event stream in two parts, with a pause
/// between them, and an event before them.
fn slow_stream_server(release: std::sync::Arc<tokio::sync::Notify>) -> Router {
    Router::new().route(
        "/mcp",
        routing::post(move || {
            let release = release.clone();
            async move {
                let first = futures_util::stream::once(async {
                    Ok::<_, std::io::Error>("data: {\"jsonrpc\":\"2.0\",\"method\":\"notifications/progress\",\"params\":{}}\n\n".to_string())
                });
                let tools = json!({"jsonrpc": "2.0", "id": 9, "result": {"tools": [{"name": "fs.read_file"}, {"name": "shell.exec"}]}}).to_string();
                let (head, tail) = tools.split_at(20);
                let (head, tail) = (format!("data: {head}"), format!("{tail}\n\n"));
                let rest = futures_util::stream::iter([head])
                    .chain(futures_util::stream::once(async move {
                        release.notified().await;
                        tail
                    }))
                    .map(Ok::<_, std::io::Error>);
                (
                    [("content-type", "text/event-stream")],
                    Body::from_stream(first.chain(rest)),
                )
                    .into_response()
            }
        }),
    )
}

#[tokio::test]
async fn event_streams_are_not_buffered() {
    let release = std::sync::Arc::new(tokio::sync::Notify::new());
    let layer = GateLayer::new(
        GateConfig::new(RESOURCE).unwrap(),
        policy_handle(POLICY),
        authenticator(),
    );
    let service = tower::Layer::layer(&layer, slow_stream_server(release.clone()));
    let response = service
        .oneshot(post(Some("reader-token"), &list("tools/list")))
        .await
        .unwrap();
    let mut body = response.into_body();
    // The first event arrives while the server still holds back the list's end.
    let frame = tokio::time::timeout(Duration::from_secs(30), body.frame())
        .await
        .expect("the first event is passed on before the stream ends")
        .unwrap()
        .unwrap();
    let first = String::from_utf8(frame.into_data().unwrap().to_vec()).unwrap();
    assert!(first.contains("notifications/progress"), "{first}");
    release.notify_one();
    let rest = body.collect().await.unwrap().to_bytes();
    let rest = String::from_utf8(rest.to_vec()).unwrap();
    assert!(rest.contains("fs.read_file"), "{rest}");
    assert!(!rest.contains("shell.exec"), "{rest}");
}

/// A server that compresses (or claims to) whenever the client accepts it, or always.
fn compressing_server(always: bool) -> Router {
    Router::new().route(
        "/mcp",
        routing::post(move |headers: http::HeaderMap| async move {
            let body =
                json!({"jsonrpc": "2.0", "id": 9, "result": {"tools": [{"name": "shell.exec"}]}});
            if always || headers.contains_key("accept-encoding") {
                (
                    [
                        ("content-type", "application/json"),
                        ("content-encoding", "gzip"),
                    ],
                    body.to_string(),
                )
                    .into_response()
            } else {
                axum::Json(body).into_response()
            }
        }),
    )
}

#[tokio::test]
async fn list_responses_are_never_compressed_past_the_filter() {
    for always in [false, true] {
        let layer = GateLayer::new(
            GateConfig::new(RESOURCE).unwrap(),
            policy_handle(POLICY),
            authenticator(),
        );
        let service = tower::Layer::layer(&layer, compressing_server(always));
        let mut request = post(Some("reader-token"), &list("tools/list"));
        request
            .headers_mut()
            .insert("accept-encoding", "gzip".parse().unwrap());
        let reply = Reply::read(service.oneshot(request).await.unwrap()).await;
        if always {
            assert_eq!(reply.status, StatusCode::BAD_GATEWAY);
        } else {
            assert_eq!(reply.status, StatusCode::OK);
            assert!(names(&reply.json()["result"], "tools", "name").is_empty());
        }
        assert!(!String::from_utf8_lossy(&reply.body).contains("shell.exec"));
    }
}

#[tokio::test]
async fn the_mcp_endpoint_takes_get_post_and_delete_only() {
    let harness = Harness::new();
    let mut request = post(Some("reader-token"), &list("tools/list"));
    *request.method_mut() = http::Method::PUT;
    let reply = harness.send(request).await;
    assert_eq!(reply.status, StatusCode::METHOD_NOT_ALLOWED);
    assert_eq!(reply.header("allow"), "GET, POST, DELETE");
    harness.upstream.assert_untouched("a PUT");
}
