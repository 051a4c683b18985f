//! Bad input: each gets a clear 4xx with a JSON-RPC error; batches; client addresses.

use axum::body::Body;
use http::StatusCode;
use serde_json::{json, Value};
use toolgate::gate::{ClientIpHeader, GateConfig, TrafficLimits};

use super::support::*;

#[tokio::test]
async fn malformed_json_is_400_parse_error() {
    let harness = Harness::new();
    let reply = harness
        .send(post_raw(Some("reader-token"), "{\"jsonrpc\": \"2.0\", "))
        .await;
    assert_eq!(reply.status, StatusCode::BAD_REQUEST);
    assert_eq!(reply.json()["error"]["code"], -32700);
    harness.upstream.assert_untouched("malformed JSON");
}

#[tokio::test]
async fn json_that_is_not_json_rpc_is_400_invalid_request() {
    let harness = Harness::new();
    for body in [
        json!(42),
        json!([]),
        json!({"id": 1, "method": "tools/call"}),
        json!({"jsonrpc": "2.0", "id": {"x": 1}, "method": "ping"}),
        json!({"jsonrpc": "2.0", "id": 1}),
    ] {
        let reply = harness.send(post(Some("reader-token"), &body)).await;
        assert_eq!(reply.status, StatusCode::BAD_REQUEST, "{body}");
        assert_eq!(reply.json()["error"]["code"], -32600, "{body}");
        harness.upstream.assert_untouched(&body.to_string());
    }
}

#[tokio::test]
async fn a_call_without_a_tool_name_is_400_invalid_params() {
    let harness = Harness::new();
    let body = rpc(1, "tools/call", json!({"name": 7}));
    let reply = harness.send(post(Some("writer-token"), &body)).await;
    assert_eq!(reply.status, StatusCode::BAD_REQUEST);
    assert_eq!(reply.json()["error"]["code"], -32602);
    harness
        .upstream
        .assert_untouched("a call without a tool name");
}

#[tokio::test]
async fn deep_nesting_is_refused_not_overflowing() {
    let harness = Harness::new();
    let depth = 100_000;
    let body = format!("{}{}", "[".repeat(depth), "]".repeat(depth));
    let reply = harness.send(post_raw(Some("reader-token"), body)).await;
    assert_eq!(reply.status, StatusCode::BAD_REQUEST);
    assert_eq!(reply.json()["error"]["code"], -32700);
    harness.upstream.assert_untouched("deep nesting");
}

#[tokio::test]
async fn an_oversized_body_is_413_with_or_without_a_length() {
    let harness = Harness::new();
    let padding = "x".repeat(1024 * 1024 + 1);
    let body = json!({"jsonrpc": "2.0", "id": 1, "method": "ping", "params": {"p": padding}});
    let mut request = post(Some("reader-token"), &body);
    let length = body.to_string().len().to_string();
    request
        .headers_mut()
        .insert("content-length", length.parse().unwrap());
    let reply = harness.send(request).await;
    assert_eq!(reply.status, StatusCode::PAYLOAD_TOO_LARGE);
    harness
        .upstream
        .assert_untouched("an oversized body with a length");
    // A streamed body without a length is cut at the limit too.
    let chunks = (0..2000).map(|_| Ok::<_, std::io::Error>(vec![b' '; 1024]));
    let stream = Body::from_stream(futures_util::stream::iter(chunks));
    let reply = harness.send(post_raw(Some("reader-token"), stream)).await;
    assert_eq!(reply.status, StatusCode::PAYLOAD_TOO_LARGE);
    assert_eq!(reply.json()["error"]["code"], -32600);
    harness
        .upstream
        .assert_untouched("an oversized body without a length");
}

#[tokio::test]
async fn the_body_limit_is_configurable() {
    let mut limits = TrafficLimits::default();
    limits.max_body_bytes = 64;
    let config = GateConfig::new(RESOURCE).unwrap().with_limits(limits);
    let harness = Harness::with(config, policy_handle(POLICY));
    let small = harness
        .send(post(Some("reader-token"), &rpc(1, "ping", json!({}))))
        .await;
    assert_eq!(small.status, StatusCode::OK);
    harness
        .upstream
        .assert_executed(&[rpc(1, "ping", json!({}))], "a small body");
    let large = rpc(1, "ping", json!({"padding": "x".repeat(64)}));
    let reply = harness.send(post(Some("reader-token"), &large)).await;
    assert_eq!(reply.status, StatusCode::PAYLOAD_TOO_LARGE);
    harness.upstream.assert_untouched("a body over the limit");
}

#[tokio::test]
async fn huge_headers_are_431() {
    let harness = Harness::new();
    let mut request = post(Some("reader-token"), &call(1, "fs.read_file"));
    for index in 0..40 {
        let name = http::HeaderName::try_from(format!("x-filler-{index}")).unwrap();
        request
            .headers_mut()
            .insert(name, "y".repeat(1000).parse().unwrap());
    }
    let reply = harness.send(request).await;
    assert_eq!(reply.status, StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE);
    assert_eq!(reply.json()["error"]["code"], -32600);
    harness.upstream.assert_untouched("huge headers");
}

#[tokio::test]
async fn a_wrong_content_type_is_415() {
    let harness = Harness::new();
    for content_type in [Some("text/plain"), Some("application/jsonx"), None] {
        let mut request = post(Some("reader-token"), &call(1, "fs.read_file"));
        request.headers_mut().remove("content-type");
        if let Some(content_type) = content_type {
            request
                .headers_mut()
                .insert("content-type", content_type.parse().unwrap());
        }
        let reply = harness.send(request).await;
        assert_eq!(
            reply.status,
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "{content_type:?}"
        );
        harness
            .upstream
            .assert_untouched(&format!("content type {content_type:?}"));
    }
    let mut request = post(Some("reader-token"), &call(1, "fs.read_file"));
    request.headers_mut().insert(
        "content-type",
        "application/json; charset=utf-8".parse().unwrap(),
    );
    assert_eq!(harness.send(request).await.status, StatusCode::OK);
    harness
        .upstream
        .assert_executed(&[call(1, "fs.read_file")], "JSON with a charset");
}

fn with_headers(body: &Value, headers: &[(&str, &str)]) -> http::Request<Body> {
    let mut request = post(Some("writer-token"), body);
    for (name, value) in headers {
        request.headers_mut().append(
            http::HeaderName::try_from(*name).unwrap(),
            value.parse().unwrap(),
        );
    }
    request
}

#[tokio::test]
async fn mcp_headers_must_match_the_body() {
    let harness = Harness::new();
    let body = call(1, "fs.read_file");
    let matching = with_headers(
        &body,
        &[("mcp-method", "tools/call"), ("mcp-name", "fs.read_file")],
    );
    assert_eq!(harness.send(matching).await.status, StatusCode::OK);
    harness
        .upstream
        .assert_executed(std::slice::from_ref(&body), "matching headers");
    // base64 form: "fs.read_file"
    let encoded = with_headers(&body, &[("mcp-name", "=?base64?ZnMucmVhZF9maWxl?=")]);
    assert_eq!(harness.send(encoded).await.status, StatusCode::OK);
    harness
        .upstream
        .assert_executed(std::slice::from_ref(&body), "a base64 header");
    for headers in [
        vec![("mcp-method", "tools/list")],
        vec![("mcp-name", "fs.write_file")],
        vec![("mcp-name", "fs.read_file"), ("mcp-name", "fs.read_file")],
        vec![("mcp-name", "=?base64?not base64?=")],
    ] {
        let reply = harness.send(with_headers(&body, &headers)).await;
        assert_eq!(reply.status, StatusCode::BAD_REQUEST, "{headers:?}");
        assert_eq!(reply.json()["error"]["code"], -32020, "{headers:?}");
        harness.upstream.assert_untouched(&format!("{headers:?}"));
    }
    // A header naming an allowed tool cannot smuggle a denied call.
    let smuggled = with_headers(&call(1, "db.drop_table"), &[("mcp-name", "fs.read_file")]);
    let reply = harness.send(smuggled).await;
    assert_eq!(reply.status, StatusCode::BAD_REQUEST);
    assert!(reply.json().get("result").is_none(), "{:?}", reply.json());
    harness
        .upstream
        .assert_untouched("a denied call under an allowed `mcp-name`");
}

#[tokio::test]
async fn forged_principal_and_connection_headers_never_reach_the_server() {
    let harness = Harness::new();
    let body = call(1, "fs.read_file");
    let forged = [
        ("x-toolgate-subject", "mallory"),
        ("x-toolgate-roles", "admin"),
        ("X_Toolgate_Roles", "admin"),
        ("x-toolgate_client", "forged-client"),
        ("connection", "x-hop-secret"),
        ("x-hop-secret", "hop"),
        ("te", "trailers"),
        ("upgrade", "h2c"),
        ("proxy-authorization", "Basic bWFsbG9yeTp4"),
        ("accept-encoding", "gzip"),
    ];
    let mut request = post(Some("reader-token"), &body);
    for (name, value) in forged {
        request.headers_mut().append(
            http::HeaderName::try_from(name).unwrap(),
            value.parse().unwrap(),
        );
    }
    let reply = harness.send(request).await;
    assert_eq!(reply.status, StatusCode::OK);
    // The server saw the gate's principal, not the forged one...
    assert_eq!(reply.json()["result"]["subject"], "alice");
    assert_eq!(reply.json()["result"]["roles"], json!(["reader"]));
    // ...and none of the forged or connection headers.
    let received = harness
        .upstream
        .assert_executed(&[body], "the call carrying forged headers");
    for (name, value) in forged {
        let name = name.to_ascii_lowercase();
        assert!(
            received.headers.get(&name).is_none(),
            "`{name}` reached the server: {:?}",
            received.headers
        );
        let all = format!("{:?}", received.headers);
        assert!(!all.contains(value), "`{value}` reached the server: {all}");
    }
}

#[tokio::test]
async fn a_batch_is_decided_entry_by_entry_and_refused_whole() {
    let harness = Harness::new();
    let allowed = json!([call(1, "fs.read_file"), call(2, "fs.write_file")]);
    let reply = harness.send(post(Some("writer-token"), &allowed)).await;
    assert_eq!(reply.status, StatusCode::OK);
    assert_eq!(reply.json().as_array().unwrap().len(), 2);
    harness.upstream.assert_executed(
        &[call(1, "fs.read_file"), call(2, "fs.write_file")],
        "an allowed batch",
    );

    let mixed = json!([call(1, "fs.read_file"), call(2, "db.drop_table"), {"jsonrpc": "2.0", "method": "notifications/initialized"}]);
    let reply = harness.send(post(Some("writer-token"), &mixed)).await;
    assert_eq!(reply.status, StatusCode::FORBIDDEN);
    let errors = reply.json();
    let errors = errors.as_array().unwrap();
    assert_eq!(errors.len(), 2);
    assert_eq!(errors[0]["id"], 1);
    assert!(errors[0]["error"]["message"]
        .as_str()
        .unwrap()
        .contains("not processed"));
    assert_eq!(errors[1]["id"], 2);
    assert_eq!(errors[1]["error"]["data"]["name"], "db.drop_table");
    assert!(errors.iter().all(|error| error.get("result").is_none()));
    // Refused whole: not even the allowed call or the notification was run.
    harness
        .upstream
        .assert_untouched("a batch with a denied entry");
}

#[tokio::test]
async fn a_batch_needing_scopes_is_challenged_with_all_of_them() {
    let harness = Harness::new();
    let batch = json!([call(1, "fs.write_file"), call(2, "fs.read_file")]);
    let reply = harness.send(post(Some("writer-read-only"), &batch)).await;
    assert_eq!(reply.status, StatusCode::FORBIDDEN);
    // The operation needs `tool:write` (held: `tool:read`, which it does not name).
    assert!(reply
        .header("www-authenticate")
        .contains("scope=\"tool:write\""));
    harness
        .upstream
        .assert_untouched("a batch needing a scope the token lacks");
}

#[tokio::test]
async fn batches_only_in_revision_2025_03_26() {
    let harness = Harness::new();
    let batch = json!([rpc(1, "ping", json!({})), rpc(2, "ping", json!({}))]);
    let old = with_headers(&batch, &[("mcp-protocol-version", "2025-03-26")]);
    assert_eq!(harness.send(old).await.status, StatusCode::OK);
    harness.upstream.assert_executed(
        &[rpc(1, "ping", json!({})), rpc(2, "ping", json!({}))],
        "a batch in 2025-03-26",
    );
    let new = with_headers(&batch, &[("mcp-protocol-version", "2025-06-18")]);
    let reply = harness.send(new).await;
    assert_eq!(reply.status, StatusCode::BAD_REQUEST);
    assert_eq!(reply.json()["error"]["code"], -32600);
    harness.upstream.assert_untouched("a batch in 2025-06-18");
    for bad in [
        json!([rpc(1, "ping", json!({})), rpc(1, "ping", json!({}))]),
        json!([rpc(1, "initialize", json!({}))]),
    ] {
        let reply = harness.send(post(Some("writer-token"), &bad)).await;
        assert_eq!(reply.status, StatusCode::BAD_REQUEST, "{bad}");
        harness.upstream.assert_untouched(&bad.to_string());
    }
    let headers = with_headers(&batch, &[("mcp-method", "ping")]);
    assert_eq!(harness.send(headers).await.status, StatusCode::BAD_REQUEST);
    harness
        .upstream
        .assert_untouched("a batch with an `mcp-method` header");
}

fn net_call(peer: &str, forwarded: &[(&str, &str)]) -> http::Request<Body> {
    let mut request = with_headers(&call(1, "net.ping"), forwarded);
    from(&mut request, peer);
    request
}

/// Sends `request` (a `net.ping` call): allowed (the server ran exactly that call, told
/// the client address `Some(ip)`) or, with `None`, denied (the server received nothing).
async fn decided(harness: &Harness, request: http::Request<Body>, allowed_from: Option<&str>) {
    let what = format!("{:?}", request.headers());
    let reply = harness.send(request).await;
    match allowed_from {
        Some(ip) => {
            assert_eq!(reply.status, StatusCode::OK, "{what}");
            assert_eq!(reply.json()["result"]["client_ip"], ip, "{what}");
            harness
                .upstream
                .assert_executed(&[call(1, "net.ping")], &what);
        }
        None => {
            assert_eq!(reply.status, StatusCode::FORBIDDEN, "{what}");
            assert!(reply.json().get("result").is_none(), "{what}");
            harness.upstream.assert_untouched(&what);
        }
    }
}

#[tokio::test]
async fn forwarded_addresses_only_from_trusted_proxies() {
    let config = GateConfig::new(RESOURCE).unwrap().with_trusted_proxies([
        "127.0.0.1/32".parse().unwrap(),
        "192.168.0.0/16".parse().unwrap(),
    ]);
    let harness = Harness::with(config, policy_handle(POLICY));

    // Direct from the office: allowed; from outside: denied.
    decided(&harness, net_call("10.1.2.3:1", &[]), Some("10.1.2.3")).await;
    decided(&harness, net_call("203.0.113.9:1", &[]), None).await;
    // An untrusted peer cannot claim an office address.
    let spoofed = net_call("203.0.113.9:1", &[("x-forwarded-for", "10.1.2.3")]);
    decided(&harness, spoofed, None).await;
    // A trusted proxy can; hops are walked right to left past trusted proxies.
    let proxied = net_call(
        "127.0.0.1:1",
        &[("x-forwarded-for", "10.1.2.3, 192.168.1.1")],
    );
    decided(&harness, proxied, Some("10.1.2.3")).await;
    // The client's own claim left of an untrusted hop is not believed.
    let forged = net_call(
        "127.0.0.1:1",
        &[("x-forwarded-for", "10.1.2.3, 203.0.113.9")],
    );
    decided(&harness, forged, None).await;
    // `Forwarded` is not the configured header: a client's own is not believed.
    let forwarded = net_call("127.0.0.1:1", &[("forwarded", "for=10.9.9.9;proto=https")]);
    decided(&harness, forwarded, None).await;
    // An unknown hop leaves the address unknown: the `unless ip in` deny holds.
    let unknown = net_call("127.0.0.1:1", &[("x-forwarded-for", "10.1.2.3, unknown")]);
    decided(&harness, unknown, None).await;
}

#[tokio::test]
async fn only_the_configured_client_ip_header_is_read() {
    let config = GateConfig::new(RESOURCE)
        .unwrap()
        .with_trusted_proxies(["127.0.0.1/32".parse().unwrap()])
        .with_client_ip_header(ClientIpHeader::Forwarded);
    let harness = Harness::with(config, policy_handle(POLICY));
    let forwarded = net_call("127.0.0.1:1", &[("forwarded", "for=10.9.9.9;proto=https")]);
    decided(&harness, forwarded, Some("10.9.9.9")).await;
    // An IPv6 client written with a port.
    let v6 = net_call(
        "127.0.0.1:1",
        &[("forwarded", "for=\"[2001:db8::1]:4711\"")],
    );
    decided(&harness, v6, None).await;
    // `X-Forwarded-For` is now the header not read.
    let other = net_call("127.0.0.1:1", &[("x-forwarded-for", "10.1.2.3")]);
    decided(&harness, other, None).await;

    let config = GateConfig::new(RESOURCE)
        .unwrap()
        .with_trusted_proxies(["127.0.0.1/32".parse().unwrap()])
        .with_client_ip_header(ClientIpHeader::XRealIp);
    let harness = Harness::with(config, policy_handle(POLICY));
    let real = net_call("127.0.0.1:1", &[("x-real-ip", "10.1.2.3")]);
    decided(&harness, real, Some("10.1.2.3")).await;
    let forwarded = net_call("127.0.0.1:1", &[("x-forwarded-for", "10.1.2.3")]);
    decided(&harness, forwarded, None).await;
}

#[tokio::test]
async fn without_trusted_proxies_forwarded_headers_are_ignored() {
    let harness = Harness::new();
    let proxied = net_call("127.0.0.1:1", &[("x-forwarded-for", "10.1.2.3")]);
    decided(&harness, proxied, None).await;
    let records = harness.audit.take();
    assert_eq!(records[0].client_ip, Some("127.0.0.1".parse().unwrap()));
}

fn short_timeout() -> GateConfig {
    let mut limits = TrafficLimits::default();
    limits.request_timeout = std::time::Duration::from_millis(200);
    GateConfig::new(RESOURCE).unwrap().with_limits(limits)
}

#[tokio::test]
async fn a_client_too_slow_to_send_its_body_is_408() {
    use futures_util::StreamExt;
    let harness = Harness::with(short_timeout(), policy_handle(POLICY));
    let start =
        futures_util::stream::once(async { Ok::<_, std::io::Error>(b"{\"jsonrpc\"".to_vec()) });
    let stalled = start.chain(futures_util::stream::pending());
    let reply = harness
        .send(post_raw(Some("reader-token"), Body::from_stream(stalled)))
        .await;
    assert_eq!(reply.status, StatusCode::REQUEST_TIMEOUT);
    assert_eq!(reply.json()["error"]["code"], -32600);
    harness.upstream.assert_untouched("a stalled body");
    // The gate still answers.
    let reply = harness
        .send(post(Some("reader-token"), &call(1, "fs.read_file")))
        .await;
    assert_eq!(reply.status, StatusCode::OK);
    harness
        .upstream
        .assert_executed(&[call(1, "fs.read_file")], "the next call");
}

#[tokio::test]
async fn a_server_too_slow_to_answer_is_504() {
    let layer =
        toolgate::gate::GateLayer::new(short_timeout(), policy_handle(POLICY), authenticator());
    let silent = axum::Router::new().route(
        "/mcp",
        axum::routing::post(std::future::pending::<&'static str>),
    );
    let service = tower::Layer::layer(&layer, silent);
    let response = tower::ServiceExt::oneshot(
        service,
        post(Some("reader-token"), &call(1, "fs.read_file")),
    )
    .await
    .unwrap();
    let reply = Reply::read(response).await;
    assert_eq!(reply.status, StatusCode::GATEWAY_TIMEOUT);
    assert_eq!(reply.json()["error"]["code"], -32004);
}
