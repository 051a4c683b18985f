//! The gate's own cost per request, in process: the same trivial MCP handler called
//! directly and through [`GateLayer`], so the difference is what the layer adds (no
//! network, no proxy hop; `scripts/bench-gate.sh` measures those on the wire).
//!
//! Groups:
//! - `call/{direct,api_key,jwt}`: a `tools/call` POST answered by the handler; through
//!   the layer with an API key or a JWT already in the principal cache (the steady state
//!   of a client that keeps its token). The layer reads and inspects the JSON-RPC body,
//!   decides, puts the principal and decision in the request extensions, and hands the
//!   body on.
//! - `list/{direct,gated}/{tools}`: a `tools/list` whose answer names `tools` tools,
//!   directly and through the layer, which decides each tool for the caller and rewrites
//!   the answer without the ones it may not list.
//!
//! - `observed/{call,list/100}`: `call/api_key` and `list/gated/100` with the gate's
//!   metrics on (`GateLayer::with_metrics`) and its decision log written as JSON lines
//!   by `JsonLinesAudit` (to `io::sink()`, so the record is built, serialised and queued
//!   as in production, without a disk): against the unobserved figures, their cost;
//!   `observed/metrics_only/call` has the metrics alone.
//!
//! - `reading/{serde_json,one_way}`: the `tools/call` body parsed into a value by
//!   serde_json alone, and by the gate's one-pass check for member names a decoder could
//!   confuse (which also builds the value): the difference is that check's cost.
//!
//! Each iteration builds the request outside the measurement, then runs the service to
//! the end of the response body. The audit sink discards records (the cost of writing
//! them is the writer's). Run with `cargo bench --bench gate`.

// Benchmarks abort on setup failure by design.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::convert::Infallible;
use std::hint::black_box;
use std::net::SocketAddr;
use std::sync::Arc;

use axum::body::{Body, Bytes};
use axum::extract::ConnectInfo;
use criterion::{criterion_group, criterion_main, BatchSize, Criterion};
use http::{Request, Response};
use http_body_util::BodyExt;
use jsonwebtoken::{encode, Algorithm, EncodingKey, Header};
use serde_json::json;
use tower::{Layer, Service, ServiceExt};

use toolgate::credentials::api_key::{generate, KeyFile};
use toolgate::credentials::{ApiKeyScheme, Authenticator, Clock, JwtScheme, JwtSettings, KeySet};
use toolgate::gate::{
    AuditRecord, AuditSink, GateConfig, GateLayer, JsonLinesAudit, Metrics, MetricsConfig,
    PolicyHandle,
};
use toolgate::Policy;

const RESOURCE: &str = "http://127.0.0.1:8080/mcp";
const ISSUER: &str = "https://idp.example.com/";
const SECRET: &[u8] = b"a shared secret of thirty-two bytes or more, for benchmarks";
const POLICY: &str = r#"scope "tool:read", "tool:write"
role reader
role writer inherits reader
require scope "tool:read" to list tools "*"
allow reader to list tools "fs.*", "search.*"
allow reader to call tools "fs.read_*"
allow writer to call tools "fs.*"
deny anyone to call tools "db.drop_*"
"#;

/// Audit records dropped.
struct Discard;

impl AuditSink for Discard {
    fn record(&self, record: AuditRecord) {
        black_box(record);
    }
}

/// The handler: reads the body, answers a list with `tools` tools or a call with text.
#[derive(Clone)]
struct Handler {
    list: Bytes,
    call: Bytes,
}

impl Handler {
    fn new(tools: usize) -> Handler {
        let tools: Vec<_> = (0..tools)
            .map(|n| {
                let name = match n % 3 {
                    0 => format!("fs.read_{n}"),
                    1 => format!("db.query_{n}"),
                    _ => format!("search.web_{n}"),
                };
                json!({"name": name, "description": "a tool", "inputSchema": {"type": "object"}})
            })
            .collect();
        let list = json!({"jsonrpc": "2.0", "id": 1, "result": {"tools": tools}});
        let call = json!({"jsonrpc": "2.0", "id": 1, "result": {"content": [{"type": "text", "text": "ok"}]}});
        Handler {
            list: Bytes::from(list.to_string()),
            call: Bytes::from(call.to_string()),
        }
    }
}

impl Service<Request<Body>> for Handler {
    type Response = Response<Body>;
    type Error = Infallible;
    type Future = std::pin::Pin<
        Box<dyn std::future::Future<Output = Result<Response<Body>, Infallible>> + Send>,
    >;

    fn poll_ready(
        &mut self,
        _: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Result<(), Infallible>> {
        std::task::Poll::Ready(Ok(()))
    }

    fn call(&mut self, request: Request<Body>) -> Self::Future {
        let handler = self.clone();
        Box::pin(async move {
            let body = request.into_body().collect().await.unwrap().to_bytes();
            let answer = if body.windows(10).any(|window| window == b"tools/list") {
                handler.list
            } else {
                handler.call
            };
            Ok(Response::builder()
                .header("content-type", "application/json")
                .body(Body::from(answer))
                .unwrap())
        })
    }
}

/// What a request carries.
struct Client {
    authorization: String,
}

impl Client {
    fn request(&self, body: &'static str) -> Request<Body> {
        let mut request = Request::post("/mcp")
            .header("content-type", "application/json")
            .header("accept", "application/json, text/event-stream")
            .header("authorization", &self.authorization)
            .body(Body::from(body))
            .unwrap();
        let peer: SocketAddr = "203.0.113.7:5000".parse().unwrap();
        request.extensions_mut().insert(ConnectInfo(peer));
        request
    }
}

const CALL: &str = r#"{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"fs.read_file","arguments":{"path":"/tmp/x"}}}"#;
const LIST: &str = r#"{"jsonrpc":"2.0","id":1,"method":"tools/list","params":{}}"#;

/// An API key for a reader, and the scheme that knows its digest.
fn api_key() -> (Client, ApiKeyScheme) {
    let (key, digest) = generate("bench").unwrap();
    let text = format!(
        "[[key]]\nid = \"bench\"\nsha256 = \"{digest}\"\nroles = [\"reader\"]\nscopes = [\"tool:read\"]\n"
    );
    let file = KeyFile::parse(&text).unwrap();
    let client = Client {
        authorization: format!("Bearer {key}"),
    };
    (client, ApiKeyScheme::new(&file, Clock::system()))
}

/// An HS256 token for a reader, and the scheme that verifies it.
fn jwt() -> (Client, JwtScheme) {
    let mut settings = JwtSettings::new(ISSUER, RESOURCE);
    settings.algorithms.push(Algorithm::HS256);
    let claims = json!({
        "iss": ISSUER, "aud": RESOURCE, "sub": "alice", "exp": 4_000_000_000u64,
        "roles": ["reader"], "scope": "tool:read",
    });
    let token = encode(
        &Header::new(Algorithm::HS256),
        &claims,
        &EncodingKey::from_secret(SECRET),
    )
    .unwrap();
    let client = Client {
        authorization: format!("Bearer {token}"),
    };
    (
        client,
        JwtScheme::new(settings, KeySet::from_hmac_secret(SECRET)),
    )
}

fn layer(authenticator: Authenticator) -> GateLayer {
    let policy = PolicyHandle::new(Policy::from_text("bench.policy", POLICY).unwrap());
    GateLayer::new(GateConfig::new(RESOURCE).unwrap(), policy, authenticator)
        .with_audit(Arc::new(Discard))
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .build()
        .unwrap()
}

/// Runs `service` on `request` to the end of the response body; the body's length.
async fn run<S>(service: S, request: Request<Body>) -> usize
where
    S: Service<Request<Body>, Response = Response<Body>, Error = Infallible>,
{
    let response = service.oneshot(request).await.unwrap();
    assert!(response.status().is_success(), "{}", response.status());
    response
        .into_body()
        .collect()
        .await
        .unwrap()
        .to_bytes()
        .len()
}

fn measure<S>(
    c: &mut Criterion,
    runtime: &tokio::runtime::Runtime,
    id: &str,
    service: S,
    client: &Client,
    body: &'static str,
) where
    S: Service<Request<Body>, Response = Response<Body>, Error = Infallible> + Clone,
{
    // A first request fills the principal cache and the name memo.
    runtime.block_on(run(service.clone(), client.request(body)));
    c.bench_function(id, |b| {
        b.iter_batched(
            || (service.clone(), client.request(body)),
            |(service, request)| runtime.block_on(run(service, request)),
            BatchSize::SmallInput,
        );
    });
}

fn call(c: &mut Criterion) {
    let runtime = runtime();
    let handler = Handler::new(3);
    let (key_client, key_scheme) = api_key();
    let (jwt_client, jwt_scheme) = jwt();
    measure(
        c,
        &runtime,
        "call/direct",
        handler.clone(),
        &key_client,
        CALL,
    );
    let gated = layer(Authenticator::new().with_scheme(key_scheme)).layer(handler.clone());
    measure(c, &runtime, "call/api_key", gated, &key_client, CALL);
    let gated = layer(Authenticator::new().with_scheme(jwt_scheme)).layer(handler);
    measure(c, &runtime, "call/jwt", gated, &jwt_client, CALL);
}

fn list(c: &mut Criterion) {
    let runtime = runtime();
    for tools in [10, 100] {
        let handler = Handler::new(tools);
        let (client, scheme) = api_key();
        let direct = format!("list/direct/{tools}");
        measure(c, &runtime, &direct, handler.clone(), &client, LIST);
        let gated = layer(Authenticator::new().with_scheme(scheme)).layer(handler);
        let id = format!("list/gated/{tools}");
        measure(c, &runtime, &id, gated, &client, LIST);
    }
}

/// The gate with metrics and a JSON-lines decision log (to nowhere).
fn observed_layer(authenticator: Authenticator) -> GateLayer {
    let audit = JsonLinesAudit::new(std::io::sink(), JsonLinesAudit::DEFAULT_CAPACITY).unwrap();
    layer(authenticator)
        .with_audit(Arc::new(audit))
        .with_metrics(Metrics::new(MetricsConfig::default()))
}

fn observed(c: &mut Criterion) {
    let runtime = runtime();
    let (client, scheme) = api_key();
    let gated = observed_layer(Authenticator::new().with_scheme(scheme)).layer(Handler::new(3));
    measure(c, &runtime, "observed/call", gated, &client, CALL);
    let (client, scheme) = api_key();
    let metered = layer(Authenticator::new().with_scheme(scheme))
        .with_metrics(Metrics::new(MetricsConfig::default()))
        .layer(Handler::new(3));
    measure(
        c,
        &runtime,
        "observed/metrics_only/call",
        metered,
        &client,
        CALL,
    );
    let (client, scheme) = api_key();
    let gated = observed_layer(Authenticator::new().with_scheme(scheme)).layer(Handler::new(100));
    measure(c, &runtime, "observed/list/100", gated, &client, LIST);
}

fn reading(c: &mut Criterion) {
    c.bench_function("reading/serde_json", |b| {
        b.iter(|| serde_json::from_slice::<serde_json::Value>(black_box(CALL.as_bytes())).is_ok())
    });
    c.bench_function("reading/one_way", |b| {
        b.iter(|| toolgate::gate::unstable::reads_one_way(black_box(CALL.as_bytes())))
    });
}

criterion_group!(benches, call, list, observed, reading);
criterion_main!(benches);
