//! Fixtures: a test credential scheme, a small MCP handler, and request helpers.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use axum::body::{Body, Bytes};
use axum::extract::{ConnectInfo, Extension};
use axum::response::{IntoResponse, Response};
use axum::Router;
use http::{HeaderMap, Request, StatusCode};
use http_body_util::BodyExt;
use serde_json::{json, Value};
use tower::ServiceExt;

use toolgate::credentials::{Authenticator, BoxFuture, CredentialError, Identity, Scheme};
use toolgate::gate::{
    AuditRecord, AuditSink, Authorization, GateConfig, GateLayer, GateService, PolicyHandle,
};
use toolgate::{Policy, PrincipalParts};

pub const RESOURCE: &str = "http://127.0.0.1:8080/mcp";
pub const METADATA_URL: &str = "http://127.0.0.1:8080/.well-known/oauth-protected-resource/mcp";

pub const POLICY: &str = r#"scope "tool:read", "tool:write", "deploy:prod", "offline_access"

role reader
role writer inherits reader

require scope "tool:read" to list tools "*"
require scope "tool:write" to call tools "fs.write_*"

allow reader to call tools "fs.read_*"
allow writer to call tools "fs.*"
allow writer to call tools "deploy.production" if scope "deploy:prod"
allow anyone to list, read resources "docs://*"
allow reader to list, get prompts "review-*"

deny anyone to call tools "db.drop_*"
deny anyone to call tools "net.*" unless ip in [10.0.0.0/8]
allow anyone to call tools "net.*"
"#;

/// The tools, resources and prompts the test server offers.
pub const TOOLS: [&str; 6] = [
    "fs.read_file",
    "fs.write_file",
    "db.drop_table",
    "deploy.production",
    "shell.exec",
    "net.ping",
];
pub const RESOURCES: [&str; 2] = ["docs://readme", "file:///etc/passwd"];
pub const PROMPTS: [&str; 2] = ["review-code", "incident-report"];

/// Bearer tokens the test scheme knows, with what they stand for.
pub fn known_tokens() -> HashMap<&'static str, PrincipalParts> {
    let parts = |subject: &str, roles: &[&str], scopes: &[&str]| PrincipalParts {
        subject: Some(subject.to_string()),
        roles: roles.iter().map(|r| r.to_string()).collect(),
        scopes: scopes.iter().map(|s| s.to_string()).collect(),
        client: Some("test-client".to_string()),
    };
    HashMap::from([
        ("reader-token", parts("alice", &["reader"], &["tool:read"])),
        (
            "writer-token",
            parts("bob", &["writer"], &["tool:read", "tool:write"]),
        ),
        (
            "writer-read-only",
            parts("carol", &["writer"], &["tool:read"]),
        ),
        ("nobody-token", parts("dave", &[], &[])),
    ])
}

/// `Authorization: Bearer <token>` with a token of [`known_tokens`]; any other bearer
/// token is refused as malformed.
pub struct TestScheme {
    tokens: HashMap<&'static str, PrincipalParts>,
}

impl TestScheme {
    pub fn new() -> TestScheme {
        TestScheme {
            tokens: known_tokens(),
        }
    }
}

impl Scheme for TestScheme {
    fn authenticate<'a>(
        &'a self,
        head: &'a http::request::Parts,
    ) -> BoxFuture<'a, Option<Result<Identity, CredentialError>>> {
        Box::pin(async move {
            let value = head.headers.get("authorization")?.to_str().ok()?;
            let token = value.strip_prefix("Bearer ")?;
            Some(match self.tokens.get(token) {
                Some(parts) => Ok(Identity::Parts {
                    parts: parts.clone(),
                    expires_at: None,
                }),
                None => Err(CredentialError::Malformed),
            })
        })
    }
}

/// Audit records kept in memory.
#[derive(Default)]
pub struct MemoryAudit {
    pub records: Mutex<Vec<AuditRecord>>,
}

impl AuditSink for MemoryAudit {
    fn record(&self, record: AuditRecord) {
        self.records.lock().unwrap().push(record);
    }
}

impl MemoryAudit {
    pub fn take(&self) -> Vec<AuditRecord> {
        std::mem::take(&mut *self.records.lock().unwrap())
    }
}

pub fn policy_handle(text: &str) -> PolicyHandle {
    PolicyHandle::new(Policy::from_text("gate.policy", text).unwrap())
}

pub fn authenticator() -> Authenticator {
    Authenticator::new().with_scheme(TestScheme::new())
}

/// A gate in front of the echo server, with its audit records and the server's record
/// of what reached it.
pub struct Harness {
    pub service: GateService<Router>,
    pub audit: Arc<MemoryAudit>,
    pub upstream: Upstream,
}

impl Harness {
    pub fn new() -> Harness {
        Harness::with(GateConfig::new(RESOURCE).unwrap(), policy_handle(POLICY))
    }

    pub fn with(config: GateConfig, policy: PolicyHandle) -> Harness {
        let audit = Arc::new(MemoryAudit::default());
        let layer = GateLayer::new(config, policy, authenticator())
            .with_audit(Arc::clone(&audit) as Arc<dyn AuditSink>);
        let upstream = Upstream::new();
        Harness {
            service: tower::Layer::layer(&layer, upstream.router()),
            audit,
            upstream,
        }
    }

    pub async fn send(&self, request: Request<Body>) -> Reply {
        let response = self.service.clone().oneshot(request).await.unwrap();
        Reply::read(response).await
    }
}

/// A response, read whole.
#[derive(Debug)]
pub struct Reply {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: Bytes,
}

impl Reply {
    pub async fn read(response: Response) -> Reply {
        let (parts, body) = response.into_parts();
        Reply {
            status: parts.status,
            headers: parts.headers,
            body: body.collect().await.unwrap().to_bytes(),
        }
    }

    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.body)
            .unwrap_or_else(|_| panic!("not JSON: {}", String::from_utf8_lossy(&self.body)))
    }

    pub fn header(&self, name: &str) -> &str {
        self.headers
            .get(name)
            .unwrap_or_else(|| panic!("no `{name}` header in {:?}", self.headers))
            .to_str()
            .unwrap()
    }

    /// The JSON-RPC messages of an SSE body.
    pub fn events(&self) -> Vec<Value> {
        let text = std::str::from_utf8(&self.body).unwrap();
        text.split("\n\n")
            .filter_map(|event| {
                let data: Vec<&str> = event
                    .lines()
                    .filter_map(|line| line.strip_prefix("data:"))
                    .map(str::trim_start)
                    .collect();
                (!data.is_empty()).then(|| serde_json::from_str(&data.join("\n")).unwrap())
            })
            .collect()
    }
}

/// A JSON-RPC request.
pub fn rpc(id: i64, method: &str, params: Value) -> Value {
    json!({"jsonrpc": "2.0", "id": id, "method": method, "params": params})
}

pub fn call(id: i64, tool: &str) -> Value {
    rpc(id, "tools/call", json!({"name": tool, "arguments": {}}))
}

/// A POST of `body` to /mcp, from 203.0.113.7, with `token` if given.
pub fn post(token: Option<&str>, body: &Value) -> Request<Body> {
    post_raw(token, body.to_string())
}

pub fn post_raw(token: Option<&str>, body: impl Into<Body>) -> Request<Body> {
    let mut builder = Request::post("/mcp")
        .header("content-type", "application/json")
        .header("accept", "application/json, text/event-stream");
    if let Some(token) = token {
        builder = builder.header("authorization", format!("Bearer {token}"));
    }
    let mut request = builder.body(body.into()).unwrap();
    from(&mut request, "203.0.113.7:5000");
    request
}

pub fn from(request: &mut Request<Body>, peer: &str) {
    let peer: SocketAddr = peer.parse().unwrap();
    request.extensions_mut().insert(ConnectInfo(peer));
}

/// One HTTP request as the echo upstream received it, and what it executed of it.
#[derive(Debug, Clone)]
pub struct Received {
    pub method: http::Method,
    pub path: String,
    pub headers: HeaderMap,
    pub body: Bytes,
    /// The JSON-RPC messages it parsed and executed (answered, or took as notifications),
    /// in order, exactly as they arrived: none if it refused the request.
    pub executed: Vec<Value>,
}

/// The small MCP server behind the gate: answers lists with everything it has, calls
/// with what the gate told it, as JSON or (with `x-test-sse`) as server-sent events. It
/// records every request it receives (headers, body) and every message it executes: the
/// oracle of the gate tests, which must not trust the gate's own answer.
#[derive(Clone, Default)]
pub struct Upstream {
    record: Arc<Mutex<Vec<Received>>>,
}

impl Upstream {
    pub fn new() -> Upstream {
        Upstream::default()
    }

    /// The server, recording into this.
    pub fn router(&self) -> Router {
        let upstream = self.clone();
        Router::new().fallback(
            move |method: http::Method,
                  uri: http::Uri,
                  authorization: Option<Extension<Authorization>>,
                  principal: Option<Extension<Arc<toolgate::Principal>>>,
                  headers: HeaderMap,
                  body: Bytes| {
                let upstream = upstream.clone();
                async move {
                    let index = upstream.push(Received {
                        method: method.clone(),
                        path: uri.path().to_string(),
                        headers: headers.clone(),
                        body: body.clone(),
                        executed: Vec::new(),
                    });
                    if uri.path() != "/mcp" {
                        return StatusCode::NOT_FOUND.into_response();
                    }
                    if method != http::Method::POST {
                        return (StatusCode::METHOD_NOT_ALLOWED, [("allow", "POST")])
                            .into_response();
                    }
                    let (response, executed) = echo(authorization, principal, &headers, &body);
                    upstream.record.lock().unwrap()[index].executed = executed;
                    response
                }
            },
        )
    }

    fn push(&self, received: Received) -> usize {
        let mut record = self.record.lock().unwrap();
        record.push(received);
        record.len() - 1
    }

    /// Every request received so far, in order.
    pub fn received(&self) -> Vec<Received> {
        self.record.lock().unwrap().clone()
    }

    /// Every message executed so far, in order, as it arrived.
    pub fn executed(&self) -> Vec<Value> {
        self.received()
            .into_iter()
            .flat_map(|received| received.executed)
            .collect()
    }

    /// The requests received since the last `take`, forgotten.
    pub fn take(&self) -> Vec<Received> {
        std::mem::take(&mut *self.record.lock().unwrap())
    }

    /// Panics unless no request at all reached the server since the last `take`.
    #[track_caller]
    pub fn assert_untouched(&self, what: &str) {
        let received = self.take();
        assert!(
            received.is_empty(),
            "{what}: a refused request reached the upstream: {:?}",
            received.iter().map(describe).collect::<Vec<_>>()
        );
    }

    /// Panics unless, since the last `take`, exactly one request reached the server and
    /// it executed exactly `expected`, as the client sent them; that request.
    #[track_caller]
    pub fn assert_executed(&self, expected: &[Value], what: &str) -> Received {
        let mut received = self.take();
        assert_eq!(
            received.len(),
            1,
            "{what}: expected one request upstream, got {:?}",
            received.iter().map(describe).collect::<Vec<_>>()
        );
        let received = received.remove(0);
        assert_eq!(received.executed, expected, "{what}: executed upstream");
        received
    }
}

fn describe(received: &Received) -> String {
    format!(
        "{} {} {}",
        received.method,
        received.path,
        String::from_utf8_lossy(&received.body)
    )
}

/// The echo server's answer to a POST of `body`, and the messages it executed.
fn echo(
    authorization: Option<Extension<Authorization>>,
    principal: Option<Extension<Arc<toolgate::Principal>>>,
    headers: &HeaderMap,
    body: &Bytes,
) -> (Response, Vec<Value>) {
    let Some(Extension(authorization)) = authorization else {
        return (
            (StatusCode::INTERNAL_SERVER_ERROR, "no authorization").into_response(),
            Vec::new(),
        );
    };
    if principal.is_none() {
        return (
            (StatusCode::INTERNAL_SERVER_ERROR, "no principal").into_response(),
            Vec::new(),
        );
    }
    let Ok(request) = serde_json::from_slice::<Value>(body) else {
        return (
            (StatusCode::BAD_REQUEST, "not JSON").into_response(),
            Vec::new(),
        );
    };
    let executed = match &request {
        Value::Array(batch) => batch.clone(),
        message => vec![message.clone()],
    };
    let answer = match &request {
        Value::Array(batch) => Value::Array(
            batch
                .iter()
                .filter(|message| message.get("id").is_some())
                .map(|message| answer(message, &authorization))
                .collect(),
        ),
        message => answer(message, &authorization),
    };
    if headers.contains_key("x-test-sse") {
        let messages = match answer {
            Value::Array(messages) => messages,
            message => vec![message],
        };
        let mut stream = String::from(": comment\n\nevent: message\ndata: {\"jsonrpc\":\"2.0\",\"method\":\"notifications/message\",\"params\":{}}\n\n");
        for message in messages {
            let text = serde_json::to_string_pretty(&message).unwrap();
            stream.push_str("id: 7\r\nevent: message\r\n");
            for line in text.lines() {
                stream.push_str(&format!("data: {line}\r\n"));
            }
            stream.push_str("\r\n");
        }
        return (
            ([("content-type", "text/event-stream")], stream).into_response(),
            executed,
        );
    }
    (axum::Json(answer).into_response(), executed)
}

fn answer(message: &Value, authorization: &Authorization) -> Value {
    let id = message.get("id").cloned().unwrap_or(Value::Null);
    let method = message.get("method").and_then(Value::as_str).unwrap_or("");
    let result = match method {
        "tools/list" => {
            json!({"tools": TOOLS.iter().map(|name| json!({"name": name, "inputSchema": {"type": "object"}})).collect::<Vec<_>>()})
        }
        "resources/list" => {
            json!({"resources": RESOURCES.iter().map(|uri| json!({"uri": uri, "name": uri})).collect::<Vec<_>>()})
        }
        "prompts/list" => {
            json!({"prompts": PROMPTS.iter().map(|name| json!({"name": name})).collect::<Vec<_>>()})
        }
        _ => json!({
            "subject": authorization.subject,
            "roles": authorization.roles,
            "client_ip": authorization.client_ip,
            "policy": authorization.policy,
            "rules": authorization.decisions.iter().map(|d| d.rule.clone()).collect::<Vec<_>>(),
        }),
    };
    json!({"jsonrpc": "2.0", "id": id, "result": result})
}
