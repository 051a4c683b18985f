//! The response paths, each against a scripted upstream: a service that answers with
//! exactly the bytes a test gives it, cut into the frames the test chooses, and records
//! what it received. The oracle is what the client received: its status, the exact bytes
//! (up to the end of the body or its first error), and no name the caller may not list
//! among them.
//!
//! The caller is the reader of [`POLICY`]: it may list the tool `fs.read_file`, the
//! prompt `review-code` and the resource `docs://readme`, and none of [`HIDDEN`].

use std::convert::Infallible;
use std::sync::{Arc, Mutex};

use axum::body::{Body, Bytes};
use http::{HeaderMap, Method, Request, Response, StatusCode};
use http_body_util::BodyExt;
use proptest::prelude::*;
use proptest::test_runner::{Config, TestRunner};
use serde_json::{json, Value};
use toolgate::gate::{GateConfig, GateLayer, TrafficLimits};
use tower::ServiceExt;

use super::support::{authenticator, policy_handle, post, rpc, POLICY, RESOURCE};

/// Names the reader may not list: two tools, a prompt, a resource.
const HIDDEN: [&str; 4] = [
    "db.drop_table",
    "shell.exec",
    "incident-report",
    "file:///etc/passwd",
];

/// A `tools/list` result with one listable tool between two hidden ones.
const TOOLS_LIST: &str = r#"{"jsonrpc":"2.0","id":1,"result":{"tools":[{"name":"db.drop_table"},{"name":"fs.read_file"},{"name":"shell.exec"}]}}"#;

/// [`TOOLS_LIST`] filtered for the reader, as the gate writes it.
const TOOLS_FILTERED: &str =
    r#"{"id":1,"jsonrpc":"2.0","result":{"tools":[{"name":"fs.read_file"}]}}"#;

const BOM: &[u8] = b"\xEF\xBB\xBF";

/// What the scripted upstream answers: a status, headers (repeated names allowed), and
/// the body as separate frames.
#[derive(Clone)]
struct Script {
    status: u16,
    headers: Vec<(&'static str, String)>,
    frames: Vec<Bytes>,
}

impl Script {
    /// `body` in one frame, as `content_type` (none if `None`), status 200.
    fn new(content_type: Option<&str>, body: impl AsRef<[u8]>) -> Script {
        Script::framed(content_type, vec![body.as_ref().to_vec()])
    }

    /// The body as `frames`.
    fn framed(content_type: Option<&str>, frames: Vec<Vec<u8>>) -> Script {
        Script {
            status: 200,
            headers: content_type
                .map(|kind| ("content-type", kind.to_string()))
                .into_iter()
                .collect(),
            frames: frames.into_iter().map(Bytes::from).collect(),
        }
    }

    /// An event stream, in one frame.
    fn events(body: impl AsRef<[u8]>) -> Script {
        Script::new(Some("text/event-stream"), body)
    }

    fn status(mut self, status: u16) -> Script {
        self.status = status;
        self
    }

    fn header(mut self, name: &'static str, value: &str) -> Script {
        self.headers.push((name, value.to_string()));
        self
    }
}

/// A request as the upstream received it.
#[derive(Debug)]
struct Received {
    method: Method,
    headers: HeaderMap,
    body: Bytes,
}

/// What the client received.
#[derive(Debug)]
struct Got {
    status: StatusCode,
    headers: HeaderMap,
    /// The body's bytes, up to its end or its first error.
    body: Vec<u8>,
    /// The error that ended the body, if one did.
    error: Option<String>,
}

impl Got {
    fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).to_string()
    }

    fn json(&self) -> Value {
        serde_json::from_slice(&self.body).unwrap_or_else(|_| panic!("not JSON: {}", self.text()))
    }

    /// No name the reader may not list, and no byte order mark, in what it received.
    fn assert_hides(&self) {
        let text = self.text();
        for name in HIDDEN {
            assert!(!text.contains(name), "`{name}` reached the client: {text}");
        }
    }

    /// A complete `200` body of exactly `expected`, no error.
    fn assert_exactly(&self, expected: &str) {
        assert_eq!(self.status, StatusCode::OK, "{}", self.text());
        assert_eq!(self.error, None, "{}", self.text());
        assert_eq!(self.text(), expected);
        self.assert_hides();
    }

    /// The gate's own `502`: a JSON-RPC error with `message`, nothing of the upstream's.
    fn assert_bad_gateway(&self, message: &str) {
        assert_eq!(self.status, StatusCode::BAD_GATEWAY, "{}", self.text());
        assert_eq!(self.error, None);
        assert_eq!(
            self.json(),
            json!({"jsonrpc": "2.0", "id": null, "error": {"code": -32004, "message": message}})
        );
        assert_eq!(self.headers["content-type"], "application/json");
        assert_eq!(self.headers["cache-control"], "private, no-store");
    }
}

/// The reader's `tools/list` through a gate with `limits` in front of an upstream playing
/// `script`; checks that the upstream received that request once, as the client sent it.
async fn through_gate(script: Script, limits: TrafficLimits) -> Got {
    let received: Arc<Mutex<Vec<Received>>> = Arc::default();
    let record = Arc::clone(&received);
    let upstream = tower::service_fn(move |request: Request<Body>| {
        let script = script.clone();
        let record = Arc::clone(&record);
        async move {
            let (head, body) = request.into_parts();
            let body = body.collect().await.unwrap().to_bytes();
            record.lock().unwrap().push(Received {
                method: head.method,
                headers: head.headers,
                body,
            });
            let mut response = Response::builder().status(script.status);
            for (name, value) in &script.headers {
                response = response.header(*name, value.as_str());
            }
            let frames =
                futures_util::stream::iter(script.frames.into_iter().map(Ok::<Bytes, Infallible>));
            Ok::<_, Infallible>(response.body(Body::from_stream(frames)).unwrap())
        }
    });
    let layer = GateLayer::new(
        GateConfig::new(RESOURCE).unwrap().with_limits(limits),
        policy_handle(POLICY),
        authenticator(),
    );
    let request = rpc(1, "tools/list", json!({}));
    let response = tower::Layer::layer(&layer, upstream)
        .oneshot(post(Some("reader-token"), &request))
        .await
        .unwrap();
    let got = read(response).await;
    let received = std::mem::take(&mut *received.lock().unwrap());
    assert_eq!(received.len(), 1, "{received:?}");
    let first = &received[0];
    assert_eq!(first.method, Method::POST);
    assert_eq!(first.body, request.to_string());
    assert!(first.headers.get("accept-encoding").is_none());
    assert!(first.headers.get("authorization").is_some());
    got
}

/// The response as a client reads it: frame by frame, stopping at an error.
async fn read(response: Response<Body>) -> Got {
    let (parts, mut body) = response.into_parts();
    let mut bytes = Vec::new();
    let mut error = None;
    while let Some(frame) = body.frame().await {
        match frame {
            Ok(frame) => {
                if let Ok(data) = frame.into_data() {
                    bytes.extend_from_slice(&data);
                }
            }
            Err(failure) => {
                error = Some(failure.to_string());
                break;
            }
        }
    }
    Got {
        status: parts.status,
        headers: parts.headers,
        body: bytes,
        error,
    }
}

fn limit(bytes: usize) -> TrafficLimits {
    let mut limits = TrafficLimits::default();
    limits.max_response_bytes = bytes;
    limits
}

/// `text` cut into frames of `size` bytes.
fn chunks(text: &[u8], size: usize) -> Vec<Vec<u8>> {
    text.chunks(size).map(<[u8]>::to_vec).collect()
}

// A batch of responses inside one event.

#[tokio::test]
async fn a_batch_in_one_event_is_filtered() {
    let stream = concat!(
        "event: message\nid: 4\n",
        r#"data: [{"jsonrpc":"2.0","id":1,"result":{"tools":[{"name":"db.drop_table"},{"name":"fs.read_file"}]}},"#,
        r#"{"jsonrpc":"2.0","method":"notifications/progress","params":{}},"#,
        r#"{"jsonrpc":"2.0","id":2,"error":{"code":-1,"message":"m"}},"#,
        r#"{"jsonrpc":"2.0","id":3,"result":{"prompts":[{"name":"incident-report"},{"name":"review-code"}],"resources":[{"uri":"file:///etc/passwd"},{"uri":"docs://readme"}]}}]"#,
        "\n\n",
    );
    let expected = concat!(
        "event: message\nid: 4\n",
        r#"data: [{"id":1,"jsonrpc":"2.0","result":{"tools":[{"name":"fs.read_file"}]}},"#,
        r#"{"jsonrpc":"2.0","method":"notifications/progress","params":{}},"#,
        r#"{"error":{"code":-1,"message":"m"},"id":2,"jsonrpc":"2.0"},"#,
        r#"{"id":3,"jsonrpc":"2.0","result":{"prompts":[{"name":"review-code"}],"resources":[{"uri":"docs://readme"}]}}]"#,
        "\n\n",
    );
    through_gate(Script::events(stream), TrafficLimits::default())
        .await
        .assert_exactly(expected);
    // The same batch cut into frames of 7 bytes.
    let framed = Script::framed(Some("text/event-stream"), chunks(stream.as_bytes(), 7));
    through_gate(framed, TrafficLimits::default())
        .await
        .assert_exactly(expected);
}

#[tokio::test]
async fn a_batch_over_several_data_lines_becomes_one_filtered_line() {
    // CRLF line ends, `data:` without its space, the batch written over four lines, a
    // comment and a `retry` kept in place.
    let stream = concat!(
        ": batch\r\nretry: 10\r\ndata:[\r\n",
        r#"data:  {"jsonrpc":"2.0","id":7,"result":{"tools":[{"name":"shell.exec"},{"name":"fs.read_file"}]}},"#,
        "\r\n",
        r#"data: {"jsonrpc":"2.0","id":8,"result":{"resourceTemplates":[{"uriTemplate":"file:///etc/passwd"}]}}"#,
        "\r\ndata: ]\r\nid: 9\r\n\r\n",
        "data: {\"jsonrpc\":\"2.0\",\"method\":\"notifications/message\",\"params\":{}}\r\n\r\n",
    );
    let expected = concat!(
        ": batch\nretry: 10\n",
        r#"data: [{"id":7,"jsonrpc":"2.0","result":{"tools":[{"name":"fs.read_file"}]}},{"id":8,"jsonrpc":"2.0","result":{"resourceTemplates":[]}}]"#,
        "\nid: 9\n\n",
        "data: {\"jsonrpc\":\"2.0\",\"method\":\"notifications/message\",\"params\":{}}\r\n\r\n",
    );
    through_gate(Script::events(stream), TrafficLimits::default())
        .await
        .assert_exactly(expected);
}

#[tokio::test]
async fn a_batch_nested_in_a_batch_is_filtered_too() {
    // Not a JSON-RPC message any client should read; but if one flattens it, it must
    // find nothing it may not list.
    let stream = format!("data: [[{TOOLS_LIST}],{TOOLS_LIST}]\n\n");
    let expected = format!("data: [[{TOOLS_FILTERED}],{TOOLS_FILTERED}]\n\n");
    through_gate(Script::events(stream), TrafficLimits::default())
        .await
        .assert_exactly(&expected);
    let body = format!("[[{TOOLS_LIST}]]");
    let got = through_gate(
        Script::new(Some("application/json"), body),
        TrafficLimits::default(),
    )
    .await;
    got.assert_exactly(&format!("[[{TOOLS_FILTERED}]]"));
}

// `max_response_bytes`.

#[tokio::test]
async fn a_json_list_over_the_limit_is_502() {
    let size = TOOLS_LIST.len();
    let at_limit = through_gate(
        Script::new(Some("application/json"), TOOLS_LIST),
        limit(size),
    );
    at_limit.await.assert_exactly(TOOLS_FILTERED);
    let whole = vec![TOOLS_LIST.as_bytes().to_vec()];
    for frames in [whole, chunks(TOOLS_LIST.as_bytes(), 5)] {
        let got = through_gate(
            Script::framed(Some("application/json"), frames),
            limit(size - 1),
        )
        .await;
        got.assert_bad_gateway(&format!(
            "the response could not be read within {} bytes",
            size - 1
        ));
        got.assert_hides();
    }
}

/// A list event of exactly `size` bytes (padded with a description), with a hidden tool,
/// and the gate's rewriting of it.
fn large_event(size: usize) -> (String, String) {
    let event = |padding: &str| {
        format!(
            "data: {{\"jsonrpc\":\"2.0\",\"id\":2,\"result\":{{\"tools\":[{{\"name\":\"shell.exec\"}},{{\"name\":\"fs.read_file\",\"description\":\"{padding}\"}}]}}}}\n\n"
        )
    };
    let bare = event("").len();
    assert!(size >= bare, "{size} < {bare}");
    let padding = "x".repeat(size - bare);
    let filtered = format!(
        "data: {{\"id\":2,\"jsonrpc\":\"2.0\",\"result\":{{\"tools\":[{{\"description\":\"{padding}\",\"name\":\"fs.read_file\"}}]}}}}\n\n"
    );
    (event(&padding), filtered)
}

#[tokio::test]
async fn an_event_over_the_limit_ends_the_stream_with_an_error() {
    const LIMIT: usize = 300;
    let first = format!("id: 1\ndata: {TOOLS_LIST}\n\n");
    let last = "data: {\"jsonrpc\":\"2.0\",\"method\":\"notifications/message\",\"params\":{}}\n\n";
    let first_filtered = format!("id: 1\ndata: {TOOLS_FILTERED}\n\n");
    // One byte over the limit: the events before it pass, then the error; nothing of it
    // or after it, however the stream is cut.
    let (large, _) = large_event(LIMIT + 1);
    let stream = format!("{first}{large}{last}");
    let cuts = [
        vec![stream.clone().into_bytes()],
        chunks(stream.as_bytes(), 16),
        chunks(stream.as_bytes(), 1),
        vec![
            format!("{first}{}", &large[..LIMIT]).into_bytes(),
            format!("{}{last}", &large[LIMIT..]).into_bytes(),
        ],
        vec![
            first.clone().into_bytes(),
            format!("{large}{last}").into_bytes(),
        ],
        vec![
            format!("{first}{large}").into_bytes(),
            last.as_bytes().to_vec(),
        ],
    ];
    for frames in cuts {
        let got = through_gate(
            Script::framed(Some("text/event-stream"), frames),
            limit(LIMIT),
        )
        .await;
        assert_eq!(got.status, StatusCode::OK);
        assert_eq!(got.text(), first_filtered);
        let error = got.error.as_deref().unwrap_or_default();
        assert!(
            error.contains(&format!("a server-sent event exceeds {LIMIT} bytes")),
            "{error:?}"
        );
        assert!(!got.text().contains("xxx"), "{}", got.text());
        assert!(
            !got.text().contains("notifications/message"),
            "{}",
            got.text()
        );
        got.assert_hides();
    }
    // At the limit: filtered and passed.
    let (large, large_filtered) = large_event(LIMIT);
    let stream = format!("{first}{large}{last}");
    for frames in [
        vec![stream.clone().into_bytes()],
        chunks(stream.as_bytes(), 16),
    ] {
        let got = through_gate(
            Script::framed(Some("text/event-stream"), frames),
            limit(LIMIT),
        )
        .await;
        got.assert_exactly(&format!("{first_filtered}{large_filtered}{last}"));
    }
}

// Content types.

#[tokio::test]
async fn a_body_of_another_type_is_502_never_the_list() {
    let cases: [(Option<&str>, &str); 9] = [
        (Some("text/plain"), "text/plain"),
        (Some("application/x-foo"), "application/x-foo"),
        (None, "none"),
        (Some(""), ""),
        (Some("text/html; charset=utf-8"), "text/html"),
        (Some("application/json-seq"), "application/json-seq"),
        (Some("application/vnd.api+json"), "application/vnd.api+json"),
        (Some("application/x-ndjson"), "application/x-ndjson"),
        (Some("Text/Plain ; charset=utf-8"), "text/plain"),
    ];
    let event = format!("data: {TOOLS_LIST}\n\n");
    for (kind, named) in cases {
        for body in [TOOLS_LIST, event.as_str()] {
            for status in [200, 500] {
                let got = through_gate(
                    Script::new(kind, body).status(status),
                    TrafficLimits::default(),
                );
                let got = got.await;
                got.assert_bad_gateway(&format!("a response of type `{named}` cannot be filtered"));
                got.assert_hides();
            }
        }
    }
    // The first of two `Content-Type` headers is the one read: a second cannot make a
    // body of another type pass.
    let got = through_gate(
        Script::new(Some("text/plain"), TOOLS_LIST).header("content-type", "application/json"),
        TrafficLimits::default(),
    )
    .await;
    got.assert_bad_gateway("a response of type `text/plain` cannot be filtered");
    // Read as JSON, an event stream is not JSON: 502.
    let got = through_gate(
        Script::new(Some("application/json"), &event).header("content-type", "text/event-stream"),
        TrafficLimits::default(),
    )
    .await;
    assert_eq!(got.status, StatusCode::BAD_GATEWAY, "{}", got.text());
    let message = got.json()["error"]["message"].as_str().unwrap().to_string();
    assert!(
        message.starts_with("the response: the message is not JSON"),
        "{message}"
    );
    got.assert_hides();
    // Read as events, a JSON body is an unreadable event (or an incomplete one): nothing.
    for body in [TOOLS_LIST.to_string(), format!("{TOOLS_LIST}\n\n")] {
        let got = through_gate(
            Script::new(Some("text/event-stream"), body).header("content-type", "application/json"),
            TrafficLimits::default(),
        )
        .await;
        got.assert_exactly("");
    }
}

#[tokio::test]
async fn json_and_event_streams_are_recognised_in_any_case_with_parameters() {
    for kind in [
        "application/json",
        "Application/JSON; charset=UTF-8",
        "application/json ;charset=utf-8",
    ] {
        let got = through_gate(
            Script::new(Some(kind), TOOLS_LIST),
            TrafficLimits::default(),
        )
        .await;
        got.assert_exactly(TOOLS_FILTERED);
        assert_eq!(got.headers["cache-control"], "private, no-store");
    }
    for kind in ["TEXT/Event-Stream", "text/event-stream; charset=utf-8"] {
        let got = through_gate(
            Script::new(Some(kind), format!("data: {TOOLS_LIST}\n\n")),
            TrafficLimits::default(),
        )
        .await;
        got.assert_exactly(&format!("data: {TOOLS_FILTERED}\n\n"));
        assert_eq!(got.headers["content-type"], kind);
    }
}

#[tokio::test]
async fn an_empty_body_of_any_type_passes_as_it_is() {
    for kind in [Some("text/plain"), Some("application/x-foo"), None] {
        let got = through_gate(Script::new(kind, "").status(202), TrafficLimits::default()).await;
        assert_eq!(got.status, StatusCode::ACCEPTED);
        assert_eq!(got.error, None);
        assert!(got.body.is_empty(), "{}", got.text());
    }
}

// A stream ending mid-event.

#[tokio::test]
async fn an_incomplete_last_event_is_dropped() {
    let first = format!("data: {TOOLS_LIST}\n\n");
    let expected = format!("data: {TOOLS_FILTERED}\n\n");
    let notification = r#"{"jsonrpc":"2.0","method":"notifications/message","params":{}}"#;
    let tails = [
        format!("data: {TOOLS_LIST}"),
        format!("data: {TOOLS_LIST}\n"),
        format!("data: {TOOLS_LIST}\r\n"),
        format!("data: {TOOLS_LIST}\r"),
        format!("id: 2\r\ndata: {TOOLS_LIST}\r\n"),
        format!("data: {}", &TOOLS_LIST[..40]),
        format!("data: {notification}\n"),
        format!("data: {notification}\r"),
        "id: 5\nevent: message\n".to_string(),
        ": comment".to_string(),
        "data".to_string(),
        "id: 9\r".to_string(),
    ];
    for tail in tails {
        let stream = format!("{first}{tail}");
        for size in [stream.len(), 3, 1] {
            let frames = chunks(stream.as_bytes(), size);
            let got = through_gate(
                Script::framed(Some("text/event-stream"), frames),
                TrafficLimits::default(),
            )
            .await;
            assert_eq!(got.error, None, "{tail:?}");
            assert_eq!(got.text(), expected, "{tail:?} in frames of {size}");
            got.assert_hides();
        }
    }
}

#[tokio::test]
async fn a_last_event_ended_by_two_carriage_returns_is_complete() {
    // `\r` ends a line: `\r\r` is a line and a blank line, an event clients dispatch at
    // the end of the stream. The gate filters it and passes it.
    let notification = r#"{"jsonrpc":"2.0","method":"notifications/message","params":{}}"#;
    let cases = [
        (
            format!("data: {TOOLS_LIST}\r\r"),
            format!("data: {TOOLS_FILTERED}\n\n"),
        ),
        (
            format!("data: {notification}\r\r"),
            format!("data: {notification}\r\r"),
        ),
        (
            format!("id: 3\rdata: {TOOLS_LIST}\r\r"),
            format!("id: 3\ndata: {TOOLS_FILTERED}\n\n"),
        ),
        // A blank line after the last event: an empty event, passed as `\n` is.
        (
            format!("data: {TOOLS_LIST}\n\n\r"),
            format!("data: {TOOLS_FILTERED}\n\n\r"),
        ),
    ];
    for (stream, expected) in cases {
        for size in [stream.len(), 5, 1] {
            let frames = chunks(stream.as_bytes(), size);
            let got = through_gate(
                Script::framed(Some("text/event-stream"), frames),
                TrafficLimits::default(),
            )
            .await;
            got.assert_exactly(&expected);
        }
    }
}

// A list answered with `error`.

#[tokio::test]
async fn an_error_passes_as_it_is_and_a_result_beside_it_is_filtered() {
    let errors = [
        r#"{"jsonrpc":"2.0","id":1,"error":{"code":-32601,"message":"Method not found"}}"#,
        r#"{"jsonrpc":"2.0","id":1,"error":{"code":-32603,"message":"tools","data":{"tools":[{"name":"fs.read_file"}]}},"result":null}"#,
        r#"{"jsonrpc":"2.0","id":1,"error":{"code":-32603,"message":"tools"},"result":[{"name":"fs.read_file"}]}"#,
    ];
    for error in errors {
        for status in [200, 500] {
            let got = through_gate(
                Script::new(Some("application/json"), error).status(status),
                TrafficLimits::default(),
            )
            .await;
            assert_eq!(got.status.as_u16(), status);
            assert_eq!(got.error, None);
            assert_eq!(got.text(), error);
        }
        let event = format!("event: message\r\nid: 1\r\ndata: {error}\r\n\r\n");
        through_gate(Script::events(&event), TrafficLimits::default())
            .await
            .assert_exactly(&event);
    }
    // An `error` beside a `result` does not keep the list from being filtered.
    let both = r#"{"jsonrpc":"2.0","id":1,"error":{"code":-1,"message":"m"},"result":{"tools":[{"name":"db.drop_table"},{"name":"fs.read_file"}]}}"#;
    let filtered = r#"{"error":{"code":-1,"message":"m"},"id":1,"jsonrpc":"2.0","result":{"tools":[{"name":"fs.read_file"}]}}"#;
    through_gate(
        Script::new(Some("application/json"), both),
        TrafficLimits::default(),
    )
    .await
    .assert_exactly(filtered);
    through_gate(
        Script::events(format!("data: {both}\n\n")),
        TrafficLimits::default(),
    )
    .await
    .assert_exactly(&format!("data: {filtered}\n\n"));
}

// A leading byte order mark.

#[tokio::test]
async fn a_json_list_after_a_byte_order_mark_is_502() {
    let body = [BOM, TOOLS_LIST.as_bytes()].concat();
    for kind in ["application/json", "application/json; charset=utf-8"] {
        let got = through_gate(Script::new(Some(kind), &body), TrafficLimits::default()).await;
        got.assert_bad_gateway("the response: the message starts with a byte order mark");
        got.assert_hides();
    }
}

#[tokio::test]
async fn a_byte_order_mark_before_a_stream_is_removed_and_its_list_filtered() {
    let notification =
        "data: {\"jsonrpc\":\"2.0\",\"method\":\"notifications/message\",\"params\":{}}\n\n";
    let cases = [
        (
            format!("data: {TOOLS_LIST}\n\n{notification}"),
            format!("data: {TOOLS_FILTERED}\n\n{notification}"),
        ),
        (
            format!(": hi\n\n{notification}"),
            format!(": hi\n\n{notification}"),
        ),
        (
            format!("event: message\r\ndata: {TOOLS_LIST}\r\n\r\n"),
            format!("event: message\ndata: {TOOLS_FILTERED}\n\n"),
        ),
    ];
    for (stream, expected) in cases {
        let stream = [BOM, stream.as_bytes()].concat();
        let cuts = [
            vec![stream.clone()],
            chunks(&stream, 1),
            chunks(&stream, 2),
            vec![b"\xEF".to_vec(), stream[1..].to_vec()],
            vec![
                Vec::new(),
                b"\xEF\xBB".to_vec(),
                Vec::new(),
                stream[2..].to_vec(),
            ],
            vec![BOM.to_vec(), stream[3..].to_vec()],
        ];
        for frames in cuts {
            let got = through_gate(
                Script::framed(Some("text/event-stream"), frames),
                TrafficLimits::default(),
            )
            .await;
            got.assert_exactly(&expected);
            assert!(!got.body.starts_with(b"\xEF"));
        }
    }
}

#[tokio::test]
async fn a_byte_order_mark_anywhere_else_ends_the_stream() {
    let first = format!("data: {TOOLS_LIST}\n\n");
    let list = format!("data: {TOOLS_LIST}\n\n");
    let cases: [(Vec<u8>, String); 4] = [
        // A second mark is part of the first field's name.
        ([BOM, BOM, list.as_bytes()].concat(), String::new()),
        // A mark before a later event.
        (
            [first.as_bytes(), BOM, list.as_bytes()].concat(),
            format!("data: {TOOLS_FILTERED}\n\n"),
        ),
        // A mark before the data.
        (
            [b"data: ".as_slice(), BOM, TOOLS_LIST.as_bytes(), b"\n\n"].concat(),
            String::new(),
        ),
        // The start of a mark, then something else: not UTF-8.
        (
            [b"\xEF\xBB".as_slice(), list.as_bytes()].concat(),
            String::new(),
        ),
    ];
    for (stream, expected) in cases {
        for size in [stream.len(), 1] {
            let got = through_gate(
                Script::framed(Some("text/event-stream"), chunks(&stream, size)),
                TrafficLimits::default(),
            )
            .await;
            got.assert_exactly(&expected);
        }
    }
}

// Any chunking of an event stream.

/// What a generated event carries.
#[derive(Debug, Clone)]
enum Payload {
    /// A list result (`LIST_POOLS[member]`, entries by index), alone or in a batch with
    /// a notification.
    List {
        member: usize,
        entries: Vec<usize>,
        id: u32,
        batch: bool,
    },
    Notification,
    /// A result with no list in it.
    Result {
        id: u32,
    },
    Error {
        id: u32,
    },
    /// No data: fields and comments only.
    Fields,
}

/// A generated event: field lines before and after its data, its data written on one
/// line or pretty over several, `data: ` or `data:`, and its line ends.
#[derive(Debug, Clone)]
struct Spec {
    before: Vec<&'static str>,
    payload: Payload,
    pretty: bool,
    spaced: bool,
    after: Vec<&'static str>,
    ending: &'static str,
}

#[derive(Debug, Clone)]
enum Item {
    Event(Spec),
    /// An event the gate cannot read one way (`UNREADABLE[index]`), with its line end.
    Unreadable(usize, &'static str),
}

/// A generated stream: a byte order mark or not, events, and an incomplete last event
/// (a prefix of an event that stops before its blank line).
#[derive(Debug, Clone)]
struct Stream {
    bom: bool,
    items: Vec<Item>,
    tail: Option<(Spec, prop::sample::Index)>,
}

/// The lists, the member naming their entries, and entries with whether the reader may
/// list them.
type Pool = (&'static str, &'static str, &'static [(&'static str, bool)]);

const LIST_POOLS: [Pool; 4] = [
    (
        "tools",
        "name",
        &[
            ("fs.read_file", true),
            ("db.drop_table", false),
            ("shell.exec", false),
        ],
    ),
    (
        "prompts",
        "name",
        &[("review-code", true), ("incident-report", false)],
    ),
    (
        "resources",
        "uri",
        &[("docs://readme", true), ("file:///etc/passwd", false)],
    ),
    (
        "resourceTemplates",
        "uriTemplate",
        &[("docs://readme", true), ("file:///etc/passwd", false)],
    ),
];

/// Events the gate ends the stream before, each with a hidden name in it.
const UNREADABLE: [&str; 4] = [
    r#"data : {"jsonrpc":"2.0","id":1,"result":{"tools":[{"name":"db.drop_table"}]}}"#,
    r#"Data: {"jsonrpc":"2.0","id":1,"result":{"tools":[{"name":"db.drop_table"}]}}"#,
    r#"data: {"jsonrpc":"2.0","id":1,"result":{"tools":[{"name":"shell.exec"}]}"#,
    r#"data: {"jsonrpc":"2.0","id":1,"result":{"tools":[{"name":"shell.exec","Name":"x"}]}}"#,
];

fn notification() -> Value {
    json!({"jsonrpc": "2.0", "method": "notifications/message", "params": {"level": "info", "data": "tick"}})
}

/// The message of `payload`, and for a list, the message the reader must get instead.
fn message(payload: &Payload) -> Option<(Value, Option<Value>)> {
    match payload {
        Payload::Fields => None,
        Payload::Notification => Some((notification(), None)),
        Payload::Result { id } => Some((
            json!({"jsonrpc": "2.0", "id": id, "result": {"content": [{"type": "text", "text": "ok"}], "nextCursor": "c"}}),
            None,
        )),
        Payload::Error { id } => Some((
            json!({"jsonrpc": "2.0", "id": id, "error": {"code": -32603, "message": "failed"}}),
            None,
        )),
        Payload::List {
            member,
            entries,
            id,
            batch,
        } => {
            let (name, field, pool) = LIST_POOLS[*member];
            let chosen: Vec<(&str, bool)> = entries
                .iter()
                .map(|index| pool[index % pool.len()])
                .collect();
            let entry = |value: &str| {
                let mut entry = serde_json::Map::new();
                entry.insert(field.to_string(), json!(value));
                entry.insert("description".to_string(), json!("d"));
                Value::Object(entry)
            };
            let list = |kept: &dyn Fn(bool) -> bool| {
                let entries: Vec<Value> = chosen
                    .iter()
                    .filter(|(_, listable)| kept(*listable))
                    .map(|(value, _)| entry(value))
                    .collect();
                let mut result = serde_json::Map::new();
                result.insert(name.to_string(), Value::Array(entries));
                json!({"jsonrpc": "2.0", "id": id, "result": result})
            };
            let (original, filtered) = (list(&|_| true), list(&|listable| listable));
            Some(if *batch {
                (
                    json!([original, notification()]),
                    Some(json!([filtered, notification()])),
                )
            } else {
                (original, Some(filtered))
            })
        }
    }
}

/// An event's bytes as the upstream sends them, and as the reader must get them.
fn render(spec: &Spec) -> (String, String) {
    let message = message(&spec.payload);
    let prefix = if spec.spaced { "data: " } else { "data:" };
    let data: Vec<String> = message
        .as_ref()
        .map(|(original, _)| {
            let text = if spec.pretty {
                serde_json::to_string_pretty(original).unwrap()
            } else {
                original.to_string()
            };
            text.lines().map(|line| format!("{prefix}{line}")).collect()
        })
        .unwrap_or_default();
    let mut lines: Vec<String> = spec.before.iter().map(|line| line.to_string()).collect();
    lines.extend(data);
    lines.extend(spec.after.iter().map(|line| line.to_string()));
    if lines.is_empty() {
        lines.push(":".to_string());
    }
    let raw: String = lines
        .iter()
        .map(|line| format!("{line}{}", spec.ending))
        .chain([spec.ending.to_string()])
        .collect();
    let expected = match message {
        Some((_, Some(filtered))) => {
            let mut expected = String::new();
            for line in &spec.before {
                expected.push_str(&format!("{line}\n"));
            }
            expected.push_str(&format!("data: {filtered}\n"));
            for line in &spec.after {
                expected.push_str(&format!("{line}\n"));
            }
            expected.push('\n');
            expected
        }
        _ => raw.clone(),
    };
    (raw, expected)
}

/// The stream's bytes, what the reader must get through a gate with `limit`, and whether
/// the stream must end with an error (an event, or the incomplete last one, over the
/// limit before the stream ended otherwise).
fn render_stream(stream: &Stream, limit: usize) -> (Vec<u8>, Vec<u8>, bool) {
    let mut raw = Vec::new();
    if stream.bom {
        raw.extend_from_slice(BOM);
    }
    let mut expected = String::new();
    let mut stopped = false;
    let mut fails = false;
    for item in &stream.items {
        let (event, passed) = match item {
            Item::Event(spec) => {
                let (event, passed) = render(spec);
                (event, Some(passed))
            }
            Item::Unreadable(index, ending) => {
                (format!("{}{ending}{ending}", UNREADABLE[*index]), None)
            }
        };
        raw.extend_from_slice(event.as_bytes());
        if stopped {
            continue;
        }
        match passed {
            _ if event.len() > limit => {
                fails = true;
                stopped = true;
            }
            Some(passed) => expected.push_str(&passed),
            None => stopped = true,
        }
    }
    if let Some((spec, index)) = &stream.tail {
        let (event, _) = render(spec);
        let incomplete = &event[..index.index(event.len() - spec.ending.len() + 1)];
        raw.extend_from_slice(incomplete.as_bytes());
        fails |= !stopped && incomplete.len() > limit;
    }
    (raw, expected.into_bytes(), fails)
}

fn spec() -> impl Strategy<Value = Spec> {
    let fields = || {
        prop::collection::vec(
            prop::sample::select(vec![
                ": comment",
                ":",
                "id: 7",
                "id:8",
                "event: message",
                "event:message",
                "retry: 100",
            ]),
            0..3,
        )
    };
    let payload = prop_oneof![
        3 => (0..4usize, prop::collection::vec(0..3usize, 0..5), 0..100u32, any::<bool>())
            .prop_map(|(member, entries, id, batch)| Payload::List { member, entries, id, batch }),
        1 => Just(Payload::Notification),
        1 => (0..100u32).prop_map(|id| Payload::Result { id }),
        1 => (0..100u32).prop_map(|id| Payload::Error { id }),
        1 => Just(Payload::Fields),
    ];
    (
        fields(),
        payload,
        any::<bool>(),
        any::<bool>(),
        fields(),
        prop::sample::select(vec!["\n", "\r\n", "\r"]),
    )
        .prop_map(|(before, payload, pretty, spaced, after, ending)| Spec {
            before,
            payload,
            pretty,
            spaced,
            after,
            ending,
        })
}

fn stream() -> impl Strategy<Value = Stream> {
    let item = prop_oneof![
        8 => spec().prop_map(Item::Event),
        1 => (0..UNREADABLE.len(), prop::sample::select(vec!["\n", "\r\n", "\r"]))
            .prop_map(|(index, ending)| Item::Unreadable(index, ending)),
    ];
    (
        any::<bool>(),
        prop::collection::vec(item, 0..8),
        prop::option::of((spec(), any::<prop::sample::Index>())),
    )
        .prop_map(|(bom, items, tail)| Stream { bom, items, tail })
}

/// `bytes` cut at `cuts` (positions, any order, repeats giving empty frames).
fn cut(bytes: &[u8], cuts: &[prop::sample::Index]) -> Vec<Vec<u8>> {
    let mut positions: Vec<usize> = cuts.iter().map(|cut| cut.index(bytes.len() + 1)).collect();
    positions.sort_unstable();
    let mut frames = Vec::new();
    let mut start = 0;
    for position in positions {
        frames.push(bytes[start..position].to_vec());
        start = position;
    }
    frames.push(bytes[start..].to_vec());
    frames
}

fn cases() -> u32 {
    std::env::var("TOOLGATE_SSE_CASES")
        .ok()
        .and_then(|value| value.parse().ok())
        .unwrap_or(256)
}

#[test]
fn any_chunking_of_a_stream_gives_the_bytes_of_the_whole_stream() {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let mut runner = TestRunner::new(Config {
        cases: cases(),
        failure_persistence: None,
        ..Config::default()
    });
    let limits = prop_oneof![
        Just(TrafficLimits::default().max_response_bytes),
        60..400usize
    ];
    let strategy = (
        stream(),
        prop::collection::vec(any::<prop::sample::Index>(), 0..24),
        limits,
    );
    let result = runner.run(&strategy, |(stream, cuts, max)| {
        let (raw, expected, fails) = render_stream(&stream, max);
        let whole = Script::framed(Some("text/event-stream"), vec![raw.clone()]);
        let whole = runtime.block_on(through_gate(whole, limit(max)));
        let frames = Script::framed(Some("text/event-stream"), cut(&raw, &cuts));
        let framed = runtime.block_on(through_gate(frames, limit(max)));
        for got in [&whole, &framed] {
            prop_assert_eq!(got.status, StatusCode::OK);
            prop_assert_eq!(got.text(), String::from_utf8_lossy(&expected));
            prop_assert_eq!(&got.body, &expected);
            prop_assert_eq!(got.error.is_some(), fails, "{:?}", got.error);
            for name in HIDDEN {
                prop_assert!(!got.text().contains(name), "{}", got.text());
            }
        }
        Ok(())
    });
    if let Err(error) = result {
        panic!("{error}");
    }
}
