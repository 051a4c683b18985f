//! The health endpoints of `toolgate serve` (the built binary): liveness, readiness that
//! follows the upstream and the signing keys, answered without credentials and never
//! forwarded. Every assertion is on what the client received and on what the recording
//! upstream (or the JWKS server, or a counting listener) saw.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::body::{Body, Bytes};
use axum::response::{IntoResponse, Response};
use axum::Router;
use futures_util::StreamExt;
use http::{HeaderMap, Method};
use serde_json::{json, Value};
use tokio::sync::watch;

use super::audit::tempdir;
pub use super::served::{key_file, refused_at_start, Running};
use super::support::{call, POLICY};

/// The resource (audience) every configuration here names.
pub const RESOURCE: &str = "http://127.0.0.1:8080/mcp";

/// One request as the upstream received it.
#[derive(Debug, Clone)]
pub struct Seen {
    pub method: Method,
    pub path: String,
    pub headers: HeaderMap,
    pub message: Value,
}

/// A loopback MCP upstream that records every HTTP request it receives. `tools/call` of
/// `fs.read_slow` answers, and `fs.read_stream` ends its event stream, only once the test
/// releases them.
#[derive(Clone)]
pub struct Recording {
    seen: Arc<Mutex<Vec<Seen>>>,
    release: Arc<watch::Sender<bool>>,
}

impl Recording {
    fn new() -> Recording {
        Recording {
            seen: Arc::default(),
            release: Arc::new(watch::channel(false).0),
        }
    }

    /// Every request received so far.
    pub fn seen(&self) -> Vec<Seen> {
        self.seen.lock().unwrap().clone()
    }

    /// Lets held calls and streams finish.
    pub fn release(&self) {
        self.release.send_replace(true);
    }

    /// Waits (at most `bound`) until a request for `tool` has arrived.
    pub async fn arrived(&self, tool: &str, bound: Duration) {
        let deadline = Instant::now() + bound;
        loop {
            let arrived = self
                .seen()
                .iter()
                .any(|seen| seen.message.pointer("/params/name") == Some(&json!(tool)));
            if arrived {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "no `{tool}` call reached the upstream within {bound:?}"
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
}

async fn record(
    recording: Recording,
    method: Method,
    uri: http::Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let message: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
    recording.seen.lock().unwrap().push(Seen {
        method,
        path: uri.path().to_string(),
        headers,
        message: message.clone(),
    });
    let id = message.get("id").cloned().unwrap_or(Value::Null);
    let released = |recording: &Recording| {
        let mut release = recording.release.subscribe();
        async move {
            let _ = release.wait_for(|released| *released).await;
        }
    };
    match message.pointer("/params/name").and_then(Value::as_str) {
        Some("fs.read_slow") => {
            released(&recording).await;
            axum::Json(json!({"jsonrpc": "2.0", "id": id, "result": {"slow": "done"}}))
                .into_response()
        }
        Some("fs.read_stream") => {
            let wait = released(&recording);
            let first = json!({"jsonrpc": "2.0", "method": "notifications/progress", "params": {"progress": 1}});
            let last = json!({"jsonrpc": "2.0", "id": id, "result": {"stream": "done"}});
            let events = futures_util::stream::once(async move { format!("data: {first}\n\n") })
                .chain(futures_util::stream::once(async move {
                    wait.await;
                    format!("data: {last}\n\n")
                }))
                .map(Ok::<_, std::io::Error>);
            (
                [("content-type", "text/event-stream")],
                Body::from_stream(events),
            )
                .into_response()
        }
        _ => {
            axum::Json(json!({"jsonrpc": "2.0", "id": id, "result": {"ok": true}})).into_response()
        }
    }
}

/// The recording upstream as a router, and its record.
pub fn recording_router() -> (Router, Recording) {
    let recording = Recording::new();
    let kept = recording.clone();
    let app = Router::new().fallback(
        move |method: Method, uri: http::Uri, headers: HeaderMap, body: Bytes| {
            record(kept.clone(), method, uri, headers, body)
        },
    );
    (app, recording)
}

/// Serves the recording upstream on `listener`: its MCP URL and its record.
pub async fn upstream_on(listener: tokio::net::TcpListener) -> (String, Recording) {
    let (app, recording) = recording_router();
    let address = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (format!("http://{address}/upstream/mcp"), recording)
}

/// The recording upstream on a fresh loopback port.
pub async fn upstream() -> (String, Recording) {
    upstream_on(tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap()).await
}

/// Writes the policy and `toolgate.toml` into `directory`: API keys from `keys.toml`,
/// then `extra` (tables).
pub fn write_config(directory: &Path, upstream: &str, extra: &str) -> PathBuf {
    std::fs::write(directory.join("gate.policy"), POLICY).unwrap();
    let text = format!(
        "policy = \"gate.policy\"\nlisten = \"127.0.0.1:0\"\nupstream = \"{upstream}\"\n\
         resource = \"{RESOURCE}\"\n\n[api_keys]\nfile = \"keys.toml\"\n\n{extra}"
    );
    let path = directory.join("toolgate.toml");
    std::fs::write(&path, text).unwrap();
    path
}

impl Running {
    /// `GET` (or another method) of `path` without credentials: status, headers, body.
    pub async fn get(&self, method: Method, path: &str) -> (u16, HeaderMap, String) {
        let response = reqwest::Client::new()
            .request(method, format!("{}{path}", self.base))
            .timeout(Duration::from_secs(30))
            .send()
            .await
            .unwrap();
        let status = response.status().as_u16();
        let headers = response.headers().clone();
        let body = response.text().await.unwrap();
        (status, headers, body)
    }

    /// `/readyz` polled until it answers `expected` (at most `bound`): the last body.
    pub async fn ready_becomes(&self, expected: u16, bound: Duration) -> String {
        let deadline = Instant::now() + bound;
        loop {
            let (status, _, body) = self.get(Method::GET, "/readyz").await;
            if status == expected {
                return body;
            }
            assert!(
                Instant::now() < deadline,
                "/readyz still {status} {body} after {bound:?}; stderr:\n{}",
                self.log()
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
}

/// A `tools/call` of `tool` with `credential` as a bearer token.
pub async fn post_call(
    url: &str,
    credential: Option<&str>,
    id: i64,
    tool: &str,
) -> reqwest::Response {
    let mut request = reqwest::Client::new()
        .post(url)
        .timeout(Duration::from_secs(60))
        .header("content-type", "application/json")
        .header("accept", "application/json, text/event-stream")
        .body(call(id, tool).to_string());
    if let Some(credential) = credential {
        request = request.header("authorization", format!("Bearer {credential}"));
    }
    request.send().await.unwrap()
}

fn json_of(body: &str) -> Value {
    serde_json::from_str(body).unwrap_or_else(|_| panic!("not JSON: {body}"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn health_is_answered_without_credentials_and_never_forwarded() {
    let directory = tempdir();
    let key = key_file(&directory);
    let (upstream, recording) = upstream().await;
    let gate = Running::start(&write_config(&directory, &upstream, ""));

    let (status, headers, body) = gate.get(Method::GET, "/healthz").await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(json_of(&body), json!({"status": "live"}));
    assert_eq!(headers["content-type"], "application/json");
    assert_eq!(headers["cache-control"], "no-store");
    let (status, _, body) = gate.get(Method::GET, "/readyz").await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(json_of(&body), json!({"status": "ready"}));
    let (status, _, body) = gate.get(Method::HEAD, "/readyz").await;
    assert_eq!((status, body.as_str()), (200, ""));
    let (status, _, _) = gate.get(Method::HEAD, "/healthz").await;
    assert_eq!(status, 200);

    // A credential is not looked at, not even a bad one.
    let response = reqwest::Client::new()
        .get(format!("{}/healthz", gate.base))
        .header("authorization", "Bearer not-a-token")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);

    // GET and HEAD only.
    for method in [Method::POST, Method::PUT, Method::DELETE] {
        let (status, headers, _) = gate.get(method.clone(), "/readyz").await;
        assert_eq!(status, 405, "{method}");
        assert_eq!(headers["allow"], "GET, HEAD");
    }
    // Only the exact paths: anything else is the gate's, which knows no such path.
    let (status, _, _) = gate.get(Method::GET, "/healthz/").await;
    assert_eq!(status, 404);

    // The MCP path still demands credentials.
    let response = post_call(&gate.url, None, 1, "fs.read_file").await;
    assert_eq!(response.status(), 401);
    assert!(
        recording.seen().is_empty(),
        "health requests reached the upstream: {:?}",
        recording.seen()
    );

    // The recorder records: an allowed call reaches it, and only that.
    let response = post_call(&gate.url, Some(&key), 2, "fs.read_file").await;
    assert_eq!(response.status(), 200);
    let seen = recording.seen();
    assert_eq!(seen.len(), 1, "{seen:?}");
    assert_eq!(
        (&seen[0].method, seen[0].path.as_str()),
        (&Method::POST, "/upstream/mcp")
    );
    assert_eq!(seen[0].message, call(2, "fs.read_file"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn readiness_follows_the_upstream_and_names_nothing_but_the_check() {
    let directory = tempdir();
    key_file(&directory);
    // A port nobody listens on, for now.
    let address = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap();
    let upstream = format!("http://{address}/upstream/mcp");
    let gate = Running::start(&write_config(&directory, &upstream, ""));

    let (status, _, body) = gate.get(Method::GET, "/readyz").await;
    assert_eq!(status, 503, "{body}");
    assert_eq!(
        json_of(&body),
        json!({"status": "not ready", "failed": ["upstream"]})
    );
    assert!(!body.contains(&address.port().to_string()), "{body}");
    assert!(!body.contains("127.0.0.1"), "{body}");
    let (status, _, _) = gate.get(Method::GET, "/healthz").await;
    assert_eq!(status, 200, "live while not ready");

    let listener = tokio::net::TcpListener::bind(address)
        .await
        .unwrap_or_else(|error| panic!("the upstream's port {address} was taken: {error}"));
    let (_, recording) = upstream_on(listener).await;
    let body = gate.ready_becomes(200, Duration::from_secs(20)).await;
    assert_eq!(json_of(&body), json!({"status": "ready"}));
    assert!(
        recording.seen().is_empty(),
        "a readiness check sent the upstream a request: {:?}",
        recording.seen()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_probe_storm_connects_to_the_upstream_at_most_once_a_second() {
    let directory = tempdir();
    key_file(&directory);
    // The upstream: a listener that counts connections and closes them.
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    let connections = Arc::new(AtomicUsize::new(0));
    let counted = Arc::clone(&connections);
    tokio::spawn(async move {
        while let Ok((stream, _)) = listener.accept().await {
            counted.fetch_add(1, Ordering::SeqCst);
            drop(stream);
        }
    });
    let upstream = format!("http://{address}/upstream/mcp");
    let gate = Running::start(&write_config(&directory, &upstream, ""));

    let client = reqwest::Client::new();
    let started = Instant::now();
    let probes = (0..120).map(|_| {
        let client = client.clone();
        let url = format!("{}/readyz", gate.base);
        async move {
            client
                .get(url)
                .timeout(Duration::from_secs(30))
                .send()
                .await
                .unwrap()
                .status()
                .as_u16()
        }
    });
    let statuses = futures_util::future::join_all(probes).await;
    let elapsed = started.elapsed();
    assert!(statuses.iter().all(|status| *status == 200), "{statuses:?}");
    let opened = connections.load(Ordering::SeqCst);
    let intervals = elapsed.as_secs_f64().ceil() as usize + 1;
    assert!(opened >= 1, "the upstream was never checked");
    assert!(
        opened <= intervals,
        "{opened} upstream connections for 120 probes in {elapsed:?}"
    );
}

/// An Ed25519 signing key: the encoding key and its public JWK with `kid`.
fn signing_key(kid: &str) -> (jsonwebtoken::EncodingKey, Value) {
    use aws_lc_rs::signature::{Ed25519KeyPair, KeyPair};
    use base64::Engine as _;
    toolgate::credentials::install_crypto_provider();
    let pair = Ed25519KeyPair::generate().unwrap();
    let pkcs8 = pair.to_pkcs8().unwrap();
    let x = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(pair.public_key().as_ref());
    (
        jsonwebtoken::EncodingKey::from_ed_der(pkcs8.as_ref()),
        json!({"kty": "OKP", "crv": "Ed25519", "kid": kid, "x": x}),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn readiness_waits_for_the_signing_keys_and_so_do_requests() {
    let directory = tempdir();
    key_file(&directory);
    let (upstream, recording) = upstream().await;
    const KID: &str = "kid-7f3a9c";
    let (encoding, jwk) = signing_key(KID);
    // The identity provider's JWKS endpoint answers only once the test releases it.
    let (release, released) = watch::channel(false);
    let hits = Arc::new(AtomicUsize::new(0));
    let jwks = json!({"keys": [jwk]}).to_string();
    let counted = Arc::clone(&hits);
    let app = Router::new().route(
        "/jwks",
        axum::routing::get(move || {
            let mut released = released.clone();
            let jwks = jwks.clone();
            counted.fetch_add(1, Ordering::SeqCst);
            async move {
                let _ = released.wait_for(|released| *released).await;
                ([("content-type", "application/json")], jwks)
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let idp = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    let jwt = format!(
        "[jwt]\nissuer = \"https://idp.test/\"\njwks_url = \"http://{idp}/jwks\"\n\
         algorithms = [\"EdDSA\"]\nfetch_timeout_seconds = 60\n"
    );
    let gate = Running::start(&write_config(&directory, &upstream, &jwt));

    let (status, _, body) = gate.get(Method::GET, "/readyz").await;
    assert_eq!(status, 503, "{body}");
    assert_eq!(
        json_of(&body),
        json!({"status": "not ready", "failed": ["keys"]})
    );
    assert!(
        !body.contains(KID) && !body.contains(&idp.port().to_string()),
        "{body}"
    );
    let (status, _, _) = gate.get(Method::GET, "/healthz").await;
    assert_eq!(status, 200);
    let deadline = Instant::now() + Duration::from_secs(30);
    while hits.load(Ordering::SeqCst) == 0 {
        assert!(Instant::now() < deadline, "the keys were never fetched");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }

    let now = jiff::Timestamp::now().as_second();
    let claims = json!({
        "iss": "https://idp.test/", "aud": RESOURCE, "sub": "erin",
        "exp": now + 600, "iat": now, "roles": ["writer"], "scope": "tool:read tool:write",
    });
    let mut header = jsonwebtoken::Header::new(jsonwebtoken::Algorithm::EdDSA);
    header.kid = Some(KID.to_string());
    let token = jsonwebtoken::encode(&header, &claims, &encoding).unwrap();
    // Sent while the keys are not held: it waits for them rather than being refused.
    let early = {
        let url = gate.url.clone();
        let token = token.clone();
        tokio::spawn(async move {
            let response = post_call(&url, Some(&token), 1, "fs.write_file").await;
            (response.status().as_u16(), response.text().await.unwrap())
        })
    };
    let (status, _, body) = gate.get(Method::GET, "/readyz").await;
    assert_eq!(
        (status, json_of(&body)["failed"].clone()),
        (503, json!(["keys"]))
    );
    assert!(
        recording.seen().is_empty(),
        "nothing is forwarded without keys"
    );

    release.send_replace(true);
    gate.ready_becomes(200, Duration::from_secs(30)).await;
    let (status, body) = tokio::time::timeout(Duration::from_secs(60), early)
        .await
        .expect("the waiting request is answered")
        .unwrap();
    assert_eq!(status, 200, "{body}");
    let seen = recording.seen();
    assert_eq!(seen.len(), 1, "{seen:?}");
    assert_eq!(seen[0].headers["x-toolgate-subject"], "erin");
    assert_eq!(seen[0].message, call(1, "fs.write_file"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn health_paths_move_and_turn_off() {
    let (upstream, recording) = upstream().await;

    let directory = tempdir();
    key_file(&directory);
    let moved = "[health]\nlive_path = \"/ops/live\"\nready_path = \"/ops/ready\"\n";
    let gate = Running::start(&write_config(&directory, &upstream, moved));
    assert_eq!(gate.get(Method::GET, "/ops/live").await.0, 200);
    assert_eq!(gate.get(Method::GET, "/ops/ready").await.0, 200);
    assert_eq!(gate.get(Method::GET, "/healthz").await.0, 404);
    assert_eq!(gate.get(Method::GET, "/readyz").await.0, 404);
    drop(gate);

    let directory = tempdir();
    key_file(&directory);
    let off = "[health]\nenabled = false\n";
    let gate = Running::start(&write_config(&directory, &upstream, off));
    assert_eq!(gate.get(Method::GET, "/healthz").await.0, 404);
    assert_eq!(gate.get(Method::GET, "/readyz").await.0, 404);
    assert!(recording.seen().is_empty(), "{:?}", recording.seen());
}

#[test]
fn health_paths_inside_the_mcp_path_stop_start_up() {
    let directory = tempdir();
    key_file(&directory);
    for (health, expected) in [
        (
            "live_path = \"/mcp\"",
            "`health.live_path`: `/mcp` is inside the MCP path `/mcp`",
        ),
        (
            "ready_path = \"/mcp/ready\"",
            "`health.ready_path`: `/mcp/ready` is inside the MCP path",
        ),
        (
            "live_path = \"/same\"\nready_path = \"/same\"",
            "`health.ready_path`: `/same` is `health.live_path` too",
        ),
    ] {
        let config = write_config(
            &directory,
            "http://127.0.0.1:9/mcp",
            &format!("[health]\n{health}\n"),
        );
        let (status, stderr) = refused_at_start(&config);
        assert_eq!(status, 1, "{stderr}");
        assert!(stderr.contains(expected), "expected {expected} in {stderr}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_key_fetch_that_fails_stops_the_gate_having_forwarded_nothing() {
    let directory = tempdir();
    key_file(&directory);
    let (upstream, recording) = upstream().await;
    // Nobody serves the JWKS URL.
    let closed = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap();
    let jwt = format!(
        "[jwt]\nissuer = \"https://idp.test/\"\njwks_url = \"http://{closed}/jwks\"\n\
         fetch_timeout_seconds = 2\n"
    );
    let mut gate = Running::start(&write_config(&directory, &upstream, &jwt));
    let status = gate.exit_within(Duration::from_secs(60)).await;
    assert_eq!(status.code(), Some(1), "stderr:\n{}", gate.log());
    let log = gate.log();
    assert!(
        log.contains("toolgate: ") && log.contains("`jwt.jwks_url`: fetching"),
        "{log}"
    );
    assert!(recording.seen().is_empty(), "{:?}", recording.seen());
}
