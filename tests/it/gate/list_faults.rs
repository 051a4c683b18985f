//! The fail-closed audit of the list paths: whatever the service answers, the caller
//! never reads an entry it may not list. A response the gate cannot read one way is
//! `502` (JSON) or ends its stream (events); one it can read is filtered whatever its
//! id, status or member spelling. The oracle is the bytes the client receives.

use axum::body::Body;
use http::{Request, StatusCode};
use toolgate::gate::{GateConfig, GateLayer, TrafficLimits};
use tower::ServiceExt;

use super::support::*;

/// A response: its content type, extra headers and body.
type Case = (
    &'static str,
    &'static [(&'static str, &'static str)],
    &'static [u8],
);

/// The name the reader may not list (`db.*` is no rule of the reader's).
const HIDDEN: &str = "db.drop_table";

/// The reader's `tools/list` answered by a service that sends `body` as `content_type`
/// with `status` and `extra` headers, through a gate with `limits`.
async fn through_gate(
    status: u16,
    content_type: &str,
    extra: &[(&'static str, &'static str)],
    body: &'static [u8],
    limits: TrafficLimits,
) -> Reply {
    let content_type = content_type.to_string();
    let extra = extra.to_vec();
    let service = tower::service_fn(move |_request: Request<Body>| {
        let mut builder = http::Response::builder()
            .status(status)
            .header("content-type", content_type.as_str());
        for (name, value) in &extra {
            builder = builder.header(*name, *value);
        }
        let response = builder.body(Body::from(body)).unwrap();
        async move { Ok::<_, std::convert::Infallible>(response) }
    });
    let layer = GateLayer::new(
        GateConfig::new(RESOURCE).unwrap().with_limits(limits),
        policy_handle(POLICY),
        authenticator(),
    );
    let request = post(
        Some("reader-token"),
        &rpc(1, "tools/list", serde_json::json!({})),
    );
    let response = tower::Layer::layer(&layer, service)
        .oneshot(request)
        .await
        .unwrap();
    Reply::read(response).await
}

fn text(reply: &Reply) -> String {
    String::from_utf8_lossy(&reply.body).to_string()
}

#[tokio::test]
async fn json_lists_the_gate_cannot_read_one_way_are_502() {
    let cases: [Case; 5] = [
        (
            "application/json",
            &[],
            br#"{"jsonrpc":"2.0","id":1,"result":{"tools":[{"name":"fs.read_file"}],"tools":[{"name":"db.drop_table"}]}}"#,
        ),
        (
            "application/json",
            &[],
            br#"{"jsonrpc":"2.0","id":1,"result":{"tools":[{"name":"fs.read_file","Name":"db.drop_table"}]}}"#,
        ),
        (
            "application/json",
            &[],
            br#"{"jsonrpc":"2.0","id":1,"result":{"tools":[{"name":"db.drop_table","description":"\udcff"}]}}"#,
        ),
        (
            "application/json",
            &[("content-encoding", "gzip")],
            br#"{"jsonrpc":"2.0","id":1,"result":{"tools":[{"name":"db.drop_table"}]}}"#,
        ),
        (
            "text/plain",
            &[],
            br#"{"jsonrpc":"2.0","id":1,"result":{"tools":[{"name":"db.drop_table"}]}}"#,
        ),
    ];
    for (content_type, extra, body) in cases {
        let reply = through_gate(200, content_type, extra, body, TrafficLimits::default()).await;
        assert_eq!(reply.status, StatusCode::BAD_GATEWAY, "{}", text(&reply));
        assert!(!text(&reply).contains(HIDDEN), "{}", text(&reply));
    }
    // Over `max_response_bytes`: 502 too, never the list unread.
    let mut limits = TrafficLimits::default();
    limits.max_response_bytes = 16;
    let body = br#"{"jsonrpc":"2.0","id":1,"result":{"tools":[{"name":"db.drop_table"}]}}"#;
    let reply = through_gate(200, "application/json", &[], body, limits).await;
    assert_eq!(reply.status, StatusCode::BAD_GATEWAY);
    assert!(!text(&reply).contains(HIDDEN));
}

#[tokio::test]
async fn json_lists_are_filtered_whatever_their_id_status_or_spelling() {
    let cases: [(u16, &'static [u8]); 4] = [
        (200, br#"{"jsonrpc":"2.0","id":99,"result":{"tools":[{"name":"db.drop_table"},{"name":"fs.read_file"}]}}"#),
        (500, br#"{"jsonrpc":"2.0","id":1,"result":{"tools":[{"name":"db.drop_table"},{"name":"fs.read_file"}]}}"#),
        (200, br#"{"jsonrpc":"2.0","id":"1","Result":{"Tools":[{"name":"db.drop_table"},{"name":"fs.read_file"}]}}"#),
        (200, br#"[{"jsonrpc":"2.0","id":1,"result":{"tools":[{"name":"db.drop_table"},{"name":"fs.read_file"}]}},{"jsonrpc":"2.0","id":2,"result":{"resourceTemplates":[{"uriTemplate":"secret://{x}"}]}}]"#),
    ];
    for (status, body) in cases {
        let reply = through_gate(
            status,
            "application/json",
            &[],
            body,
            TrafficLimits::default(),
        )
        .await;
        assert_eq!(reply.status.as_u16(), status, "{}", text(&reply));
        let seen = text(&reply);
        assert!(seen.contains("fs.read_file"), "{seen}");
        assert!(!seen.contains(HIDDEN), "{seen}");
        assert!(!seen.contains("secret://"), "{seen}");
    }
}

#[tokio::test]
async fn an_unreadable_event_ends_the_stream_before_it() {
    let stream: &'static [u8] = b"\xEF\xBB\xBFevent: message\ndata: {\"jsonrpc\":\"2.0\",\"id\":1,\"result\":{\"tools\":[{\"name\":\"db.drop_table\"},{\"name\":\"fs.read_file\"}]}}\n\n\
data: [{\"jsonrpc\":\"2.0\",\"id\":2,\"result\":{\"tools\":[{\"name\":\"db.drop_table\"}]}}]\n\n\
data : {\"jsonrpc\":\"2.0\",\"id\":3,\"result\":{\"tools\":[{\"name\":\"db.drop_table\"}]}}\n\n\
data: {\"jsonrpc\":\"2.0\",\"id\":4,\"result\":{\"tools\":[{\"name\":\"after.the_end\"}]}}\n\n";
    let reply = through_gate(
        200,
        "text/event-stream",
        &[],
        stream,
        TrafficLimits::default(),
    )
    .await;
    assert_eq!(reply.status, StatusCode::OK);
    let seen = text(&reply);
    assert!(seen.contains("fs.read_file"), "{seen}");
    assert!(!seen.contains(HIDDEN), "{seen}");
    assert!(!seen.contains("after.the_end"), "{seen}");
    assert!(!seen.contains('\u{feff}'), "{seen}");
}
