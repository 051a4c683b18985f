//! The audit log: one JSON line per decision, with every field, never a token.

use std::io::Write;
use std::sync::mpsc;
use std::sync::{Arc, Mutex};

use http::StatusCode;
use serde_json::{json, Value};
use toolgate::gate::{AuditSink, GateConfig, GateLayer, JsonLinesAudit};
use tower::ServiceExt;

use super::support::*;

#[tokio::test]
async fn each_decision_is_one_record_with_every_field() {
    let harness = Harness::new();
    let mut request = post(Some("writer-token"), &call(41, "db.drop_table"));
    request
        .headers_mut()
        .insert("x-forwarded-for", "10.0.0.1".parse().unwrap());
    let denied = harness.send(request).await;
    assert_eq!(denied.status, StatusCode::FORBIDDEN);
    assert_eq!(denied.json()["id"], 41);
    harness.upstream.assert_untouched("the denied call");
    let mut forged = post(Some("writer-token"), &call(42, "fs.write_file"));
    forged
        .headers_mut()
        .insert("x-toolgate-decision-id", "forged".parse().unwrap());
    let allowed = harness.send(forged).await;
    assert_eq!(allowed.status, StatusCode::OK);
    assert_eq!(allowed.json()["result"]["subject"], "bob");
    let received = harness
        .upstream
        .assert_executed(&[call(42, "fs.write_file")], "the allowed call");
    // One decision id per request: on the response, sent upstream (the client's own
    // header of that name never), and in the request's audit records.
    let denied_id = denied.header("x-toolgate-decision-id").to_string();
    let allowed_id = allowed.header("x-toolgate-decision-id").to_string();
    assert_ne!(denied_id, allowed_id);
    assert_eq!(allowed_id.len(), 32, "{allowed_id}");
    let upstream_ids: Vec<&str> = received
        .headers
        .get_all("x-toolgate-decision-id")
        .iter()
        .map(|value| value.to_str().unwrap())
        .collect();
    assert_eq!(upstream_ids, [allowed_id.as_str()]);
    let records = harness.audit.take();
    assert_eq!(records.len(), 2);
    let policy = toolgate::Sources::from_text("gate.policy", POLICY).digest();
    let denied: Value = serde_json::from_str(&records[0].to_line()).unwrap();
    let time = denied["time"].as_str().unwrap();
    assert!(time.parse::<jiff::Timestamp>().is_ok(), "{time}");
    assert_eq!(
        denied,
        json!({
            "time": time,
            "decision_id": denied_id,
            "subject": "bob",
            "client": "test-client",
            "roles": ["reader", "writer"],
            "method": "tools/call",
            "action": "call",
            "kind": "tool",
            "name": "db.drop_table",
            "decision": "deny",
            "reason": "denied",
            "rule": "gate.policy:15",
            "missing_scopes": [],
            "policy": policy,
            "client_ip": "203.0.113.7",
            "request_id": 41,
        })
    );
    let allowed: Value = serde_json::from_str(&records[1].to_line()).unwrap();
    assert_eq!(allowed["decision"], "allow");
    assert_eq!(allowed["rule"], "gate.policy:10");
    assert_eq!(allowed["decision_id"], allowed_id.as_str());
}

#[tokio::test]
async fn records_are_written_as_json_lines_without_the_token() {
    let directory = tempdir();
    let path = directory.join("audit.jsonl");
    let sink = JsonLinesAudit::open(&path).unwrap();
    let layer = GateLayer::new(
        GateConfig::new(RESOURCE).unwrap(),
        policy_handle(POLICY),
        authenticator(),
    )
    .with_audit(Arc::new(sink.clone()));
    let upstream = Upstream::new();
    let service = tower::Layer::layer(&layer, upstream.router());
    for (id, tool, status) in [
        (1, "fs.read_file", StatusCode::OK),
        (2, "shell.exec", StatusCode::FORBIDDEN),
        (3, "fs.write_file", StatusCode::FORBIDDEN),
    ] {
        let reply = service
            .clone()
            .oneshot(post(Some("reader-token"), &call(id, tool)))
            .await
            .unwrap();
        assert_eq!(reply.status(), status, "{tool}");
    }
    // Only the allowed call reached the server, as sent.
    assert_eq!(upstream.executed(), [call(1, "fs.read_file")]);
    sink.flush();
    let text = std::fs::read_to_string(&path).unwrap();
    let lines: Vec<Value> = text
        .lines()
        .map(|line| serde_json::from_str(line).unwrap())
        .collect();
    let reasons: Vec<&str> = lines
        .iter()
        .map(|l| l["reason"].as_str().unwrap())
        .collect();
    assert_eq!(reasons, ["allowed", "no_rule", "insufficient_scope"]);
    assert_eq!(lines[2]["missing_scopes"], json!(["tool:write"]));
    assert_eq!(lines[1]["rule"], Value::Null);
    assert!(!text.contains("reader-token"));
    assert_eq!(sink.lost(), 0);
}

/// A writer whose first write waits for a signal.
struct HeldWriter {
    entered: mpsc::Sender<()>,
    release: mpsc::Receiver<()>,
    held: bool,
    out: Arc<Mutex<Vec<u8>>>,
}

impl Write for HeldWriter {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        if !self.held {
            self.held = true;
            self.entered.send(()).unwrap();
            self.release.recv().unwrap();
        }
        self.out.lock().unwrap().extend_from_slice(bytes);
        Ok(bytes.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[test]
fn a_full_queue_drops_and_counts_never_blocks() {
    let (entered, wait_entered) = mpsc::channel();
    let (release, wait_release) = mpsc::channel();
    let out = Arc::new(Mutex::new(Vec::new()));
    let writer = HeldWriter {
        entered,
        release: wait_release,
        held: false,
        out: Arc::clone(&out),
    };
    let sink = JsonLinesAudit::new(writer, 1).unwrap();
    let record = |name: &str| toolgate::gate::AuditRecord {
        time: jiff::Timestamp::UNIX_EPOCH,
        decision_id: "0".repeat(32),
        subject: None,
        client: None,
        roles: vec![],
        method: "tools/call".into(),
        action: "call",
        kind: "tool",
        name: name.into(),
        decision: "deny",
        reason: "no_rule",
        rule: None,
        missing_scopes: vec![],
        arguments: vec![],
        policy: "p".into(),
        client_ip: None,
        request_id: None,
    };
    sink.record(record("first"));
    wait_entered.recv().unwrap();
    sink.record(record("queued"));
    sink.record(record("dropped"));
    assert_eq!(sink.lost(), 1);
    release.send(()).unwrap();
    sink.flush();
    let text = String::from_utf8(out.lock().unwrap().clone()).unwrap();
    assert_eq!(text.lines().count(), 2);
    assert!(text.contains("\"first\"") && text.contains("\"queued\""));
    assert!(!text.contains("\"dropped\""));
}

pub fn tempdir() -> std::path::PathBuf {
    use std::sync::atomic::{AtomicUsize, Ordering};
    static NEXT: AtomicUsize = AtomicUsize::new(0);
    let path = std::env::temp_dir().join(format!(
        "toolgate-gate-{}-{}",
        std::process::id(),
        NEXT.fetch_add(1, Ordering::Relaxed)
    ));
    let _ = std::fs::remove_dir_all(&path);
    std::fs::create_dir_all(&path).unwrap();
    path
}
