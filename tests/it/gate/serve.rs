//! `toolgate serve`, the built binary, in front of a small loopback upstream that
//! records what reaches it.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::body::{Body, Bytes};
use axum::response::{IntoResponse, Response};
use axum::routing;
use axum::Router;
use futures_util::StreamExt;
use http::HeaderMap;
use serde_json::{json, Value};
use tokio::sync::Notify;

use super::audit::tempdir;
use super::served::{key_file, refused_at_start, Running};
use super::support::{call, rpc, POLICY};

/// What the upstream saw, and the signal that lets its event stream go on.
#[derive(Clone, Default)]
struct Recorder {
    requests: Arc<Mutex<Vec<(HeaderMap, Value)>>>,
    release: Arc<Notify>,
}

async fn upstream_handler(
    axum::extract::State(recorder): axum::extract::State<Recorder>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let message: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
    recorder
        .requests
        .lock()
        .unwrap()
        .push((headers.clone(), message.clone()));
    let id = message.get("id").cloned().unwrap_or(Value::Null);
    let name = message
        .pointer("/params/name")
        .and_then(Value::as_str)
        .unwrap_or("");
    if name == "fs.read_stream" {
        let release = recorder.release.clone();
        let first = json!({"jsonrpc": "2.0", "method": "notifications/progress", "params": {"progress": 1}});
        let last = json!({"jsonrpc": "2.0", "id": id, "result": {"content": []}});
        let events = futures_util::stream::once(async move { format!("data: {first}\n\n") })
            .chain(futures_util::stream::once(async move {
                release.notified().await;
                format!("data: {last}\n\n")
            }))
            .map(Ok::<_, std::io::Error>);
        return (
            [("content-type", "text/event-stream")],
            Body::from_stream(events),
        )
            .into_response();
    }
    if message.get("method").and_then(Value::as_str) == Some("tools/list") {
        let tools: Vec<Value> = ["fs.read_file", "db.drop_table", "shell.exec"]
            .iter()
            .map(|name| json!({"name": name}))
            .collect();
        return axum::Json(json!({"jsonrpc": "2.0", "id": id, "result": {"tools": tools}}))
            .into_response();
    }
    axum::Json(json!({"jsonrpc": "2.0", "id": id, "result": {"ok": true}})).into_response()
}

/// Starts the upstream on a loopback port: its MCP URL and its recorder.
async fn start_upstream() -> (String, Recorder) {
    let recorder = Recorder::default();
    let app = Router::new()
        .route("/upstream/mcp", routing::post(upstream_handler))
        .with_state(recorder.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (format!("http://{address}/upstream/mcp"), recorder)
}

fn write_config(directory: &Path, upstream: &str, extra: &str) -> PathBuf {
    std::fs::write(directory.join("gate.policy"), POLICY).unwrap();
    let config = format!(
        "policy = \"gate.policy\"\nlisten = \"127.0.0.1:0\"\nupstream = \"{upstream}\"\n\
         resource = \"http://127.0.0.1:8080/mcp\"\n\n[api_keys]\nfile = \"keys.toml\"\n\n\
         [audit]\nfile = \"audit.jsonl\"\n{extra}"
    );
    let path = directory.join("toolgate.toml");
    std::fs::write(&path, config).unwrap();
    path
}

async fn post(url: &str, key: Option<&str>, body: &Value) -> reqwest::Response {
    let mut request = reqwest::Client::new()
        .post(url)
        .header("content-type", "application/json")
        .header("accept", "application/json, text/event-stream")
        .header("x-toolgate-subject", "mallory")
        .header("x-toolgate-roles", "admin")
        .body(body.to_string());
    if let Some(key) = key {
        request = request.header("authorization", format!("Bearer {key}"));
    }
    request.send().await.unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_allowed_call_is_proxied_with_the_principal_and_without_the_token() {
    let directory = tempdir();
    let key = key_file(&directory);
    let (upstream, recorder) = start_upstream().await;
    let served = Running::start(&write_config(&directory, &upstream, ""));

    let response = post(&served.url, Some(&key), &call(1, "fs.read_file")).await;
    assert_eq!(response.status(), 200);
    assert_eq!(
        response.json::<Value>().await.unwrap()["result"]["ok"],
        true
    );
    {
        let requests = recorder.requests.lock().unwrap();
        assert_eq!(requests.len(), 1);
        let (headers, message) = &requests[0];
        assert_eq!(*message, call(1, "fs.read_file"));
        assert_eq!(headers["x-toolgate-subject"], "reader-bot");
        assert_eq!(headers["x-toolgate-client"], "ci");
        assert_eq!(headers["x-toolgate-roles"], "reader");
        assert_eq!(headers.get_all("x-toolgate-subject").iter().count(), 1);
        assert!(headers.get("authorization").is_none());
        let all: String = headers
            .iter()
            .map(|(name, value)| format!("{name}: {value:?}\n"))
            .collect();
        assert!(!all.contains(&key), "{all}");
        // The client's own principal headers were replaced, not passed on beside them.
        assert!(!all.contains("mallory"), "{all}");
        assert!(!all.contains("admin"), "{all}");
    }

    // A denied call never reaches the upstream.
    let response = post(&served.url, Some(&key), &call(2, "db.drop_table")).await;
    assert_eq!(response.status(), 403);
    let denial = response.json::<Value>().await.unwrap();
    assert_eq!(denial["id"], 2);
    assert!(denial.get("result").is_none(), "{denial}");
    assert_eq!(recorder.requests.lock().unwrap().len(), 1);
    // Nor does a call without credentials.
    let response = post(&served.url, None, &call(3, "fs.read_file")).await;
    assert_eq!(response.status(), 401);
    let challenge = response.headers()["www-authenticate"].to_str().unwrap();
    assert!(
        challenge.contains(
            "resource_metadata=\"http://127.0.0.1:8080/.well-known/oauth-protected-resource/mcp\""
        ),
        "{challenge}"
    );
    assert_eq!(recorder.requests.lock().unwrap().len(), 1);

    // Lists come back filtered.
    let response = post(&served.url, Some(&key), &rpc(4, "tools/list", json!({}))).await;
    assert_eq!(response.headers()["cache-control"], "private, no-store");
    let tools = response.json::<Value>().await.unwrap()["result"]["tools"].clone();
    assert_eq!(tools, json!([{"name": "fs.read_file"}]));
    {
        let requests = recorder.requests.lock().unwrap();
        assert_eq!(requests.len(), 2);
        assert_eq!(requests[1].1, rpc(4, "tools/list", json!({})));
    }

    // Every decision is audited, without the key.
    let audit_path = directory.join("audit.jsonl");
    let mut audit = String::new();
    for _ in 0..1000 {
        audit = std::fs::read_to_string(&audit_path).unwrap_or_default();
        if audit.lines().count() >= 2 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let lines: Vec<Value> = audit
        .lines()
        .map(|line| serde_json::from_str(line).unwrap())
        .collect();
    assert_eq!(lines[0]["name"], "fs.read_file");
    assert_eq!(lines[1]["reason"], "denied");
    assert_eq!(lines[1]["subject"], "reader-bot");
    assert!(!audit.contains(&key));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn event_streams_pass_through_unbuffered() {
    let directory = tempdir();
    let key = key_file(&directory);
    let (upstream, recorder) = start_upstream().await;
    let served = Running::start(&write_config(&directory, &upstream, ""));
    let mut response = post(&served.url, Some(&key), &call(1, "fs.read_stream")).await;
    assert_eq!(response.status(), 200);
    assert_eq!(response.headers()["content-type"], "text/event-stream");
    // The first event arrives while the upstream still holds back the second.
    let first = tokio::time::timeout(Duration::from_secs(60), response.chunk())
        .await
        .expect("the first event arrives before the stream ends")
        .unwrap()
        .unwrap();
    let first = String::from_utf8(first.to_vec()).unwrap();
    assert!(first.contains("notifications/progress"), "{first}");
    assert!(!first.contains("\"result\""), "{first}");
    recorder.release.notify_one();
    let mut rest = String::new();
    while let Some(chunk) = response.chunk().await.unwrap() {
        rest.push_str(std::str::from_utf8(&chunk).unwrap());
    }
    assert!(rest.contains("\"result\""), "{rest}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn jwt_access_tokens_signed_with_a_shared_secret_are_accepted() {
    let directory = tempdir();
    key_file(&directory);
    let secret = "a shared secret of at least 32 bytes, for tests only";
    std::fs::write(directory.join("hs256.secret"), secret).unwrap();
    let (upstream, recorder) = start_upstream().await;
    let jwt = "\n[jwt]\nissuer = \"https://idp.test/\"\nhs256_secret_file = \"hs256.secret\"\nalgorithms = [\"HS256\"]\n";
    let served = Running::start(&write_config(&directory, &upstream, jwt));
    let now = jiff::Timestamp::now().as_second();
    let claims = json!({
        "iss": "https://idp.test/", "aud": "http://127.0.0.1:8080/mcp", "sub": "erin",
        "exp": now + 600, "iat": now, "roles": ["writer"], "scope": "tool:read tool:write",
        "azp": "web"
    });
    let token = jsonwebtoken::encode(
        &jsonwebtoken::Header::new(jsonwebtoken::Algorithm::HS256),
        &claims,
        &jsonwebtoken::EncodingKey::from_secret(secret.as_bytes()),
    )
    .unwrap();
    let response = post(&served.url, Some(&token), &call(1, "fs.write_file")).await;
    assert_eq!(response.status(), 200);
    {
        let requests = recorder.requests.lock().unwrap();
        assert_eq!(requests.len(), 1);
        let (headers, message) = &requests[0];
        assert_eq!(*message, call(1, "fs.write_file"));
        assert_eq!(headers["x-toolgate-subject"], "erin");
        assert_eq!(headers["x-toolgate-client"], "web");
        assert!(headers.get("authorization").is_none());
    }
    // A token for another audience is refused.
    let mut other = claims.clone();
    other["aud"] = json!("http://elsewhere.test/mcp");
    let forged = jsonwebtoken::encode(
        &jsonwebtoken::Header::new(jsonwebtoken::Algorithm::HS256),
        &other,
        &jsonwebtoken::EncodingKey::from_secret(secret.as_bytes()),
    )
    .unwrap();
    let response = post(&served.url, Some(&forged), &call(2, "fs.write_file")).await;
    assert_eq!(response.status(), 401);
    let challenge = response.headers()["www-authenticate"].to_str().unwrap();
    assert!(
        challenge.starts_with("Bearer error=\"invalid_token\""),
        "{challenge}"
    );
    assert_eq!(recorder.requests.lock().unwrap().len(), 1);
}

/// Runs `toolgate serve` on a configuration that must not start: its exit status and
/// standard error.
fn refused(directory: &Path, config: &str) -> (i32, String) {
    std::fs::write(directory.join("gate.policy"), POLICY).unwrap();
    let path = directory.join("toolgate.toml");
    std::fs::write(&path, config).unwrap();
    refused_at_start(&path)
}

#[test]
fn configuration_errors_name_the_key_and_stop_start_up() {
    let directory = tempdir();
    key_file(&directory);
    let base = "policy = \"gate.policy\"\nlisten = \"127.0.0.1:0\"\nupstream = \"http://127.0.0.1:9/mcp\"\nresource = \"http://127.0.0.1:8080/mcp\"\n";
    let keys = "\n[api_keys]\nfile = \"keys.toml\"\n";
    let cases = [
        (
            format!("{base}{keys}\n[jwt]\nissuer = \"x\"\nalgorithms = \"RS256\"\n"),
            "`jwt.algorithms`",
        ),
        (
            format!("{base}{keys}\n[jwt]\nissuer = \"x\"\nalgorithmz = []\n"),
            "`jwt.algorithmz`",
        ),
        (format!("{base}{keys}colour = \"blue\"\n"), "colour"),
        (base.to_string(), "`jwt`: no credentials configured"),
        (
            base.replace("http://127.0.0.1:9/mcp", "ftp://127.0.0.1/mcp") + keys,
            "`upstream`",
        ),
        (
            base.replace("127.0.0.1:0", "not an address") + keys,
            "`listen`",
        ),
        (
            format!("{base}{keys}\n[network]\ntrusted_proxies = [\"10.0.0.0/33\"]\n"),
            "`network.trusted_proxies`",
        ),
        (
            format!("{base}{keys}\n[limits]\nmax_body_bytes = 0\n"),
            "`limits.max_body_bytes`",
        ),
        (
            format!("{base}\n[api_keys]\nfile = \"missing.toml\"\n"),
            "`api_keys.file`",
        ),
    ];
    for (config, expected) in cases {
        let (status, stderr) = refused(&directory, &config);
        assert_ne!(status, 0, "{config}");
        assert!(stderr.contains("toolgate.toml: "), "{stderr}");
        assert!(stderr.contains(expected), "expected {expected} in {stderr}");
    }
}

#[test]
fn a_policy_that_does_not_load_stops_start_up_with_its_diagnostics() {
    let directory = tempdir();
    key_file(&directory);
    let config = "policy = \"broken.policy\"\nlisten = \"127.0.0.1:0\"\nupstream = \"http://127.0.0.1:9/mcp\"\nresource = \"http://127.0.0.1:8080/mcp\"\n[api_keys]\nfile = \"keys.toml\"\n";
    std::fs::write(
        directory.join("broken.policy"),
        "allow ghosts to call tools \"x\"\n",
    )
    .unwrap();
    let (status, stderr) = refused(&directory, config);
    assert_ne!(status, 0);
    assert!(stderr.contains("broken.policy:1:"), "{stderr}");
    assert!(stderr.contains("E003"), "{stderr}");
}

#[test]
fn the_example_configuration_is_valid() {
    use toolgate::gate::serve::{AuditTarget, ServeConfig};
    let examples = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples");
    let config = ServeConfig::from_file(&examples.join("toolgate.toml")).unwrap();
    assert_eq!(config.listen.port(), 8080);
    assert_eq!(config.gate.mcp_path, "/mcp");
    assert_eq!(config.gate.resource(), "http://127.0.0.1:8080/mcp");
    assert_eq!(config.policy, examples.join("../policies/example.policy"));
    assert!(config.policy.exists());
    assert_eq!(
        config.credentials.jwt.as_ref().unwrap().issuer,
        "https://idp.example.com/"
    );
    assert_eq!(
        config.audit,
        AuditTarget::File(examples.join("audit.jsonl"))
    );
    assert_eq!(
        config.gate.trusted_proxies,
        ["127.0.0.1/32".parse().unwrap()]
    );
    assert_eq!(config.watch, Some(Duration::from_millis(200)));
    let metrics = config.metrics.expect("the example serves metrics");
    assert_eq!(metrics.listen.to_string(), "127.0.0.1:9464");
    assert_eq!(metrics.path, "/metrics");
}

#[test]
fn the_readmes_production_configuration_is_valid() {
    use toolgate::gate::serve::{AuditTarget, ServeConfig};
    use toolgate::gate::AuditRotation;
    let readme =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("README.md")).unwrap();
    let start = readme
        .find("```toml\npolicy        = \"policies/\"")
        .expect("the block");
    let block = &readme[start + "```toml\n".len()..];
    let block = &block[..block.find("```").unwrap()];
    let config = ServeConfig::parse(block, "README.md", Path::new("/srv")).unwrap();
    assert_eq!(
        config.shadow_policy,
        Some(Path::new("/srv/policies-next/").to_path_buf())
    );
    assert_eq!(
        config.audit,
        AuditTarget::Rolling {
            path: "/var/log/toolgate/audit.jsonl".into(),
            rotation: AuditRotation::Daily,
            keep: 7,
        }
    );
    assert_eq!(config.metrics.unwrap().listen.to_string(), "10.0.0.5:9464");
}
