//! Timing paths of a running gate, `toolgate serve` (the built binary), in front of an
//! upstream that records every call it executes:
//!
//! - a key revoked with `toolgate key revoke`, and a `jti` added to the revocation file,
//!   are refused within the documented bound (docs/credentials.md, "Reloading the key and
//!   revocation files": 2.1 s for a file that did not become shorter), also for a token
//!   the gate had cached;
//! - `SIGHUP` puts a changed policy in force, and a broken one keeps the policy in force.
//!
//! Every assertion is on what the client received and what the upstream executed.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::body::Bytes;
use axum::routing;
use axum::Router;
use serde_json::{json, Value};

use super::served::Running;

use toolgate::credentials::api_key::{generate, KeyEntry, KeyFile};

/// The documented bound for a change that does not shorten a watched file.
const FILE_BOUND: Duration = Duration::from_millis(2100);
/// Room for a loaded two-core machine to run the watcher's timer and the test late.
const SLACK: Duration = Duration::from_millis(1400);

const RESOURCE: &str = "http://127.0.0.1:8080/mcp";
const ISSUER: &str = "https://idp.test/";
const SECRET: &str = "a shared secret of at least 32 bytes, for timing tests";

const READER_POLICY: &str = "role reader\nallow reader to call tools \"fs.read_file\"\n";

/// A fresh directory of its own.
fn tempdir() -> PathBuf {
    static NEXT: AtomicUsize = AtomicUsize::new(0);
    let path = std::env::temp_dir().join(format!(
        "toolgate-timing-{}-{}",
        std::process::id(),
        NEXT.fetch_add(1, Ordering::Relaxed)
    ));
    let _ = std::fs::remove_dir_all(&path);
    std::fs::create_dir_all(&path).unwrap();
    path
}

/// Replaces a file atomically: a temporary file renamed over it.
fn write_atomically(path: &Path, text: &str) {
    let temporary = path.with_extension("tmp");
    std::fs::write(&temporary, text).unwrap();
    std::fs::rename(&temporary, path).unwrap();
}

/// The calls the upstream executed: `(id, tool)`, in order.
#[derive(Clone, Default)]
struct Executed(Arc<Mutex<Vec<(i64, String)>>>);

impl Executed {
    fn all(&self) -> Vec<(i64, String)> {
        self.0.lock().unwrap().clone()
    }
}

/// Starts an MCP upstream on a loopback port that executes every `tools/call` it
/// receives (records it) and answers with the tool's name: its URL and its record.
async fn start_upstream() -> (String, Executed) {
    let executed = Executed::default();
    let record = executed.clone();
    let handler = move |body: Bytes| {
        let record = record.clone();
        async move {
            let message: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
            let id = message.get("id").cloned().unwrap_or(Value::Null);
            let tool = message
                .pointer("/params/name")
                .and_then(Value::as_str)
                .unwrap_or("")
                .to_string();
            if message.get("method").and_then(Value::as_str) == Some("tools/call") {
                let number = id.as_i64().unwrap_or(-1);
                record.0.lock().unwrap().push((number, tool.clone()));
            }
            axum::Json(json!({"jsonrpc": "2.0", "id": id, "result": {"executed": tool}}))
        }
    };
    let app = Router::new().route("/upstream/mcp", routing::post(handler));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (format!("http://{address}/upstream/mcp"), executed)
}

/// `toolgate serve` with a configuration written for the test.
struct Gate {
    running: Running,
    url: String,
}

impl Gate {
    /// Writes `toolgate.toml` (`settings` after the common keys) and the policy into
    /// `directory`, starts the gate and waits for its listening line.
    fn start(directory: &Path, upstream: &str, policy: &str, settings: &str) -> Gate {
        std::fs::write(directory.join("gate.policy"), policy).unwrap();
        let config = directory.join("toolgate.toml");
        let text = format!(
            "policy = \"gate.policy\"\nlisten = \"127.0.0.1:0\"\nupstream = \"{upstream}\"\n\
             resource = \"{RESOURCE}\"\n{settings}"
        );
        std::fs::write(&config, text).unwrap();
        let running = Running::start(&config);
        let url = running.url.clone();
        Gate { running, url }
    }

    fn log(&self) -> String {
        self.running.log()
    }

    /// Sends `tools/call` for `tool` with `id`, presenting `credential` as a bearer
    /// token: the status and the body.
    async fn call(&self, credential: &str, id: i64, tool: &str) -> (u16, String, Value) {
        let body = json!({"jsonrpc": "2.0", "id": id, "method": "tools/call",
                          "params": {"name": tool, "arguments": {}}});
        let response = reqwest::Client::new()
            .post(&self.url)
            .header("content-type", "application/json")
            .header("accept", "application/json, text/event-stream")
            .header("authorization", format!("Bearer {credential}"))
            .body(body.to_string())
            .send()
            .await
            .unwrap();
        let status = response.status().as_u16();
        let challenge = response
            .headers()
            .get("www-authenticate")
            .map(|value| value.to_str().unwrap().to_string())
            .unwrap_or_default();
        let body = response.json::<Value>().await.unwrap_or(Value::Null);
        (status, challenge, body)
    }

    /// Sends `SIGHUP` to the gate.
    fn hang_up(&self) {
        self.running.signal("HUP");
    }

    /// Waits until the gate's standard error holds `count` occurrences of `text`.
    async fn logged(&self, text: &str, count: usize, limit: Duration) {
        let start = Instant::now();
        while self.log().matches(text).count() < count {
            assert!(
                start.elapsed() < limit,
                "the gate did not log {text:?} {count} times within {limit:?}:\n{}",
                self.log()
            );
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    }
}

/// What one poll of a credential being revoked saw.
struct Revocation {
    /// How long after the change the gate first refused the credential.
    refused_after: Duration,
    /// The ids of the calls the gate answered with `200`.
    allowed: Vec<i64>,
}

/// Calls `fs.read_file` with `credential` until the gate refuses it with
/// `401 invalid_token` naming `description`, at most the documented bound plus slack
/// after `changed`; then three calls more, all refused. Ids start at `first_id`.
async fn until_refused(
    gate: &Gate,
    credential: &str,
    description: &str,
    changed: Instant,
    first_id: i64,
) -> Revocation {
    let mut allowed = Vec::new();
    let mut id = first_id;
    let refused_after = loop {
        let elapsed = changed.elapsed();
        let (status, challenge, body) = gate.call(credential, id, "fs.read_file").await;
        match status {
            200 => {
                assert_eq!(body["result"]["executed"], "fs.read_file", "{body}");
                allowed.push(id);
            }
            401 => {
                assert!(
                    challenge.contains("error=\"invalid_token\"")
                        && challenge.contains(description),
                    "{challenge}"
                );
                break elapsed;
            }
            other => panic!("status {other}: {body}"),
        }
        assert!(
            elapsed <= FILE_BOUND + SLACK,
            "still accepted {elapsed:?} after the change (bound {FILE_BOUND:?}); gate log:\n{}",
            gate.log()
        );
        id += 1;
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    eprintln!("{description}: refused {refused_after:?} after the change");
    for _ in 0..3 {
        id += 1;
        let (status, _, body) = gate.call(credential, id, "fs.read_file").await;
        assert_eq!(status, 401, "refused once, refused for good: {body}");
    }
    Revocation {
        refused_after,
        allowed,
    }
}

/// A key file holding one reader key; the key.
fn reader_key(path: &Path) -> String {
    let (key, sha256) = generate("reader-bot").unwrap();
    let entry = KeyEntry {
        id: "reader-bot".into(),
        sha256,
        roles: vec!["reader".into()],
        scopes: vec![],
        client: None,
        created: None,
        expires: None,
        revoked: false,
    };
    KeyFile { keys: vec![entry] }.save(path).unwrap();
    key
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_key_revoked_with_toolgate_key_revoke_is_refused_within_the_bound() {
    let directory = tempdir();
    let keys = directory.join("keys.toml");
    let key = reader_key(&keys);
    let (upstream, executed) = start_upstream().await;
    let gate = Gate::start(
        &directory,
        &upstream,
        READER_POLICY,
        "[api_keys]\nfile = \"keys.toml\"\n",
    );
    let (status, _, body) = gate.call(&key, 1, "fs.read_file").await;
    assert_eq!(
        (status, &body["result"]["executed"]),
        (200, &json!("fs.read_file"))
    );
    // Past the watcher's first reading of the file.
    tokio::time::sleep(Duration::from_millis(300)).await;

    let output = Command::new(env!("CARGO_BIN_EXE_toolgate"))
        .args(["key", "revoke", "--file"])
        .arg(&keys)
        .args(["--id", "reader-bot"])
        .output()
        .unwrap();
    let revoked = Instant::now();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(KeyFile::load(&keys).unwrap().keys[0].revoked);

    let seen = until_refused(&gate, &key, "revoked", revoked, 2).await;
    assert!(seen.refused_after <= FILE_BOUND + SLACK);
    // The upstream executed exactly the calls the client saw allowed, none after.
    let mut allowed = vec![1];
    allowed.extend(&seen.allowed);
    let expected: Vec<(i64, String)> = allowed
        .iter()
        .map(|id| (*id, "fs.read_file".to_string()))
        .collect();
    assert_eq!(executed.all(), expected);
    std::fs::remove_dir_all(&directory).unwrap();
}

/// An HS256 token for a reader with this `jti`, valid for ten minutes.
fn token(jti: &str) -> String {
    let now = jiff::Timestamp::now().as_second();
    let claims = json!({
        "iss": ISSUER, "aud": RESOURCE, "sub": "erin", "jti": jti,
        "exp": now + 600, "iat": now, "roles": ["reader"],
    });
    jsonwebtoken::encode(
        &jsonwebtoken::Header::new(jsonwebtoken::Algorithm::HS256),
        &claims,
        &jsonwebtoken::EncodingKey::from_secret(SECRET.as_bytes()),
    )
    .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_jti_added_to_the_revocation_file_is_refused_within_the_bound() {
    let directory = tempdir();
    std::fs::write(directory.join("hs256.secret"), SECRET).unwrap();
    let revoked_file = directory.join("revoked.txt");
    std::fs::write(&revoked_file, "# revoked tokens\nolder-token\n").unwrap();
    let (upstream, executed) = start_upstream().await;
    let settings = format!(
        "[jwt]\nissuer = \"{ISSUER}\"\nhs256_secret_file = \"hs256.secret\"\n\
         algorithms = [\"HS256\"]\nrevoked_jti_file = \"revoked.txt\"\n"
    );
    let gate = Gate::start(&directory, &upstream, READER_POLICY, &settings);
    let (doomed, kept) = (token("jti-doomed"), token("jti-kept"));
    // Both verified, then served from the principal cache.
    for (id, credential) in [(1, &doomed), (2, &kept), (3, &doomed), (4, &kept)] {
        let (status, _, body) = gate.call(credential, id, "fs.read_file").await;
        assert_eq!(status, 200, "{body}");
    }
    let (status, _, _) = gate.call(&token("older-token"), 5, "fs.read_file").await;
    assert_eq!(status, 401, "a jti listed at start-up");
    tokio::time::sleep(Duration::from_millis(300)).await;

    write_atomically(&revoked_file, "# revoked tokens\nolder-token\njti-doomed\n");
    let changed = Instant::now();
    let seen = until_refused(&gate, &doomed, "revoked", changed, 10).await;
    assert!(seen.refused_after <= FILE_BOUND + SLACK);
    let (status, _, body) = gate.call(&kept, 100, "fs.read_file").await;
    assert_eq!(status, 200, "another jti is still accepted: {body}");

    let mut allowed = vec![1, 2, 3, 4];
    allowed.extend(&seen.allowed);
    allowed.push(100);
    let expected: Vec<(i64, String)> = allowed
        .iter()
        .map(|id| (*id, "fs.read_file".to_string()))
        .collect();
    assert_eq!(executed.all(), expected);
    std::fs::remove_dir_all(&directory).unwrap();
}

/// The policy put in force by the first `SIGHUP`: writing, no longer reading.
const WRITER_POLICY: &str = "role reader\nallow reader to call tools \"fs.write_file\"\n";
/// Never valid (an undeclared role); were it loaded, `fs.read_file` would be allowed to
/// readers from line 2.
const BROKEN_POLICY: &str =
    "role reader\nallow reader to call tools \"fs.read_file\"\nallow ghosts to call tools \"x\"\n";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sighup_reloads_the_policy_and_a_broken_one_keeps_the_policy_in_force() {
    let directory = tempdir();
    let key = reader_key(&directory.join("keys.toml"));
    let (upstream, executed) = start_upstream().await;
    // Not watched: only SIGHUP reloads.
    let gate = Gate::start(
        &directory,
        &upstream,
        READER_POLICY,
        "[reload]\nwatch = false\n\n[api_keys]\nfile = \"keys.toml\"\n",
    );
    let policy = directory.join("gate.policy");
    let (gate, key) = (&gate, key.as_str());
    let expect = |id: i64, tool: &'static str, allowed: bool| async move {
        let (status, _, body) = gate.call(key, id, tool).await;
        if allowed {
            assert_eq!(status, 200, "{tool}: {body}");
            assert_eq!(body["result"]["executed"], tool);
        } else {
            assert_eq!(status, 403, "{tool}: {body}");
            assert!(body["result"].is_null(), "{body}");
        }
    };
    expect(1, "fs.read_file", true).await;
    expect(2, "fs.write_file", false).await;

    // A changed file alone changes nothing.
    write_atomically(&policy, WRITER_POLICY);
    tokio::time::sleep(Duration::from_millis(500)).await;
    expect(3, "fs.write_file", false).await;

    gate.hang_up();
    let hung_up = Instant::now();
    let mut id = 10;
    loop {
        let (status, _, body) = gate.call(key, id, "fs.write_file").await;
        if status == 200 {
            assert_eq!(body["result"]["executed"], "fs.write_file");
            break;
        }
        assert_eq!(status, 403, "{body}");
        assert!(
            hung_up.elapsed() < Duration::from_secs(3),
            "SIGHUP did not put the new policy in force; gate log:\n{}",
            gate.log()
        );
        id += 1;
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    expect(100, "fs.read_file", false).await;
    gate.logged("policy reloaded", 1, Duration::from_secs(3))
        .await;

    // A broken policy on SIGHUP: reported, and the policy in force stays.
    write_atomically(&policy, BROKEN_POLICY);
    gate.hang_up();
    gate.logged("policy reload failed", 1, Duration::from_secs(3))
        .await;
    assert!(gate.log().contains("gate.policy:3:"), "{}", gate.log());
    expect(101, "fs.write_file", true).await;
    expect(102, "fs.read_file", false).await;
    // A second SIGHUP on the same broken files: still the policy in force.
    gate.hang_up();
    gate.logged("SIGHUP: reloading the policy", 3, Duration::from_secs(3))
        .await;
    gate.logged("still fail to load", 1, Duration::from_secs(3))
        .await;
    expect(103, "fs.write_file", true).await;
    expect(104, "fs.read_file", false).await;

    // The upstream executed exactly the allowed calls.
    let executed: Vec<(i64, String)> = executed.all();
    let expected = [
        (1, "fs.read_file"),
        (id, "fs.write_file"),
        (101, "fs.write_file"),
        (103, "fs.write_file"),
    ]
    .map(|(id, tool)| (id, tool.to_string()));
    assert_eq!(executed, expected);
    std::fs::remove_dir_all(&directory).unwrap();
}
