//! OpenTelemetry traces and decision logs of `toolgate serve`, exported over OTLP/HTTP to
//! a receiver built on OpenTelemetry's official protobuf definitions
//! (`tests/e2e/python/otlp_receiver.py`, on the Python environment `scripts/test.sh` sets
//! up). What is asserted: the spans and log records the receiver read, what the client
//! received, and the `traceparent` the recording upstream received.

use std::io::{BufRead, BufReader};
use std::process::{Child, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use serde_json::Value;

use super::audit::tempdir;
use super::health::{key_file, upstream, write_config, Running};
use super::support::call;
use crate::external;

/// The receiver, killed on drop; its `span` lines arrive on a channel.
struct Receiver {
    child: Child,
    port: u16,
    lines: mpsc::Receiver<String>,
    spans: Vec<Value>,
    logs: Vec<Value>,
}

impl Drop for Receiver {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Receiver {
    fn start() -> Receiver {
        let script = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/tests/e2e/python/otlp_receiver.py"
        );
        let mut child = external::python()
            .arg(script)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .spawn()
            .unwrap();
        let stdout = child.stdout.take().unwrap();
        let (sender, lines) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if sender.send(line).is_err() {
                    break;
                }
            }
        });
        let first = lines.recv_timeout(Duration::from_secs(30)).expect(
            "the receiver did not start (is opentelemetry-proto installed? run scripts/test.sh)",
        );
        let port = first
            .strip_prefix("listening ")
            .and_then(|port| port.trim().parse().ok())
            .unwrap_or_else(|| panic!("unexpected first line: {first}"));
        Receiver {
            child,
            port,
            lines,
            spans: Vec::new(),
            logs: Vec::new(),
        }
    }

    /// Keeps a line's span or log record; panics on a body the receiver could not read.
    fn take(&mut self, line: &str) {
        assert!(
            !line.starts_with("invalid"),
            "the receiver refused an export: {line}"
        );
        if let Some(span) = line.strip_prefix("span ") {
            self.spans.push(serde_json::from_str(span).unwrap());
        } else if let Some(log) = line.strip_prefix("log ") {
            self.logs.push(serde_json::from_str(log).unwrap());
        }
    }

    /// Reads lines until `count` log records have arrived (at most 20 s).
    fn logs(&mut self, count: usize) -> Vec<Value> {
        let deadline = Instant::now() + Duration::from_secs(20);
        while self.logs.len() < count {
            let left = deadline.saturating_duration_since(Instant::now());
            let line = self
                .lines
                .recv_timeout(left)
                .unwrap_or_else(|_| panic!("{} of {count} log records arrived", self.logs.len()));
            self.take(&line);
        }
        self.logs.clone()
    }

    /// Reads lines until `count` spans of `trace` have arrived (at most 20 s); panics on
    /// a body the receiver could not read.
    fn trace(&mut self, trace: &str, count: usize) -> Vec<Value> {
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            let found: Vec<Value> = self
                .spans
                .iter()
                .filter(|span| span["trace_id"] == trace)
                .cloned()
                .collect();
            if found.len() >= count {
                return found;
            }
            let left = deadline.saturating_duration_since(Instant::now());
            let line = self.lines.recv_timeout(left).unwrap_or_else(|_| {
                panic!("{} of {count} spans of trace {trace} arrived", found.len())
            });
            assert!(
                !line.starts_with("invalid"),
                "the receiver refused an export: {line}"
            );
            if let Some(span) = line.strip_prefix("span ") {
                self.spans.push(serde_json::from_str(span).unwrap());
            }
        }
    }

    /// Every span read within `wait`.
    fn settle(&mut self, wait: Duration) {
        let deadline = Instant::now() + wait;
        while let Ok(line) = self
            .lines
            .recv_timeout(deadline.saturating_duration_since(Instant::now()))
        {
            assert!(
                !line.starts_with("invalid"),
                "the receiver refused an export: {line}"
            );
            if let Some(span) = line.strip_prefix("span ") {
                self.spans.push(serde_json::from_str(span).unwrap());
            }
        }
    }
}

async fn send(
    url: &str,
    key: &str,
    id: i64,
    tool: &str,
    traceparent: Option<&str>,
) -> reqwest::Response {
    let mut request = reqwest::Client::new()
        .post(url)
        .timeout(Duration::from_secs(60))
        .header("content-type", "application/json")
        .header("accept", "application/json, text/event-stream")
        .header("authorization", format!("Bearer {key}"))
        .body(call(id, tool).to_string());
    if let Some(traceparent) = traceparent {
        request = request.header("traceparent", traceparent);
    }
    request.send().await.unwrap()
}

async fn post(url: &str, key: &str, id: i64, tool: &str, traceparent: Option<&str>) -> u16 {
    send(url, key, id, tool, traceparent)
        .await
        .status()
        .as_u16()
}

fn named<'s>(spans: &'s [Value], name: &str) -> &'s Value {
    spans
        .iter()
        .find(|span| span["name"] == name)
        .unwrap_or_else(|| panic!("no `{name}` span in {spans:#?}"))
}

/// The upstream's `traceparent` for the call of `tool`.
fn upstream_traceparent(seen: &[super::health::Seen], tool: &str) -> Option<String> {
    seen.iter()
        .find(|seen| seen.message["params"]["name"] == tool)
        .unwrap_or_else(|| panic!("the upstream did not receive `{tool}`"))
        .headers
        .get("traceparent")
        .map(|value| value.to_str().unwrap().to_string())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_request_is_a_trace_the_upstream_continues() {
    let mut receiver = Receiver::start();
    let directory = tempdir();
    let key = key_file(&directory);
    let (upstream_url, recording) = upstream().await;
    let extra = format!(
        "[traces]\nendpoint = \"http://127.0.0.1:{}/v1/traces\"\nservice_name = \"gate-under-test\"\n",
        receiver.port
    );
    let config = write_config(&directory, &upstream_url, &extra);
    let gate = Running::start(&config);

    // 1. An allowed call continuing the client's trace.
    let client_trace = "4bf92f3577b34da6a3ce929d0e0e4736";
    let client_span = "00f067aa0ba902b7";
    let incoming = format!("00-{client_trace}-{client_span}-01");
    assert_eq!(
        post(&gate.url, &key, 1, "fs.read_file", Some(&incoming)).await,
        200
    );
    let spans = receiver.trace(client_trace, 4);
    assert_eq!(spans.len(), 4, "{spans:#?}");
    let root = named(&spans, "POST /mcp");
    assert_eq!(root["parent_span_id"], client_span);
    assert_eq!(root["kind"], 2, "a server span");
    assert_eq!(root["service"], "gate-under-test");
    assert_eq!(root["attributes"]["http.response.status_code"], 200);
    assert_eq!(root["attributes"]["http.request.method"], "POST");
    let decision_id = root["attributes"]["toolgate.decision_id"].as_str().unwrap();
    assert_eq!(decision_id.len(), 32);
    for name in [
        "toolgate.authenticate",
        "toolgate.decide",
        "toolgate.forward",
    ] {
        let child = named(&spans, name);
        assert_eq!(child["parent_span_id"], root["span_id"], "{name}");
        let (start, end) = (
            child["start"].as_u64().unwrap(),
            child["end"].as_u64().unwrap(),
        );
        assert!(
            root["start"].as_u64().unwrap() <= start && start <= end,
            "{name}"
        );
        assert!(end <= root["end"].as_u64().unwrap(), "{name}");
    }
    assert_eq!(
        named(&spans, "toolgate.authenticate")["attributes"]["toolgate.authentication"],
        "ok"
    );
    let decide = named(&spans, "toolgate.decide");
    assert_eq!(decide["attributes"]["toolgate.outcome"], "forwarded");
    assert_eq!(
        decide["attributes"]["toolgate.decisions"],
        serde_json::json!(["tool call fs.read_file"])
    );
    let rule = decide["attributes"]["toolgate.rules"][0].as_str().unwrap();
    assert!(rule.ends_with("/gate.policy:9"), "{rule}");
    let forward = named(&spans, "toolgate.forward");
    assert_eq!(forward["kind"], 3, "a client span");
    assert_eq!(forward["attributes"]["http.response.status_code"], 200);
    // The upstream continues the trace from the forward span.
    let seen = recording.seen();
    let sent = upstream_traceparent(&seen, "fs.read_file").expect("a traceparent upstream");
    assert_eq!(
        sent,
        format!(
            "00-{client_trace}-{}-01",
            forward["span_id"].as_str().unwrap()
        )
    );

    // 2. A denied call without a traceparent: a new trace, no forward span.
    assert_eq!(post(&gate.url, &key, 2, "db.drop_users", None).await, 403);
    receiver.settle(Duration::from_secs(3));
    let denied: Vec<Value> = receiver
        .spans
        .iter()
        .filter(|span| span["name"] == "toolgate.decide")
        .filter(|span| span["attributes"]["toolgate.outcome"] == "refused")
        .cloned()
        .collect();
    assert_eq!(denied.len(), 1, "{:#?}", receiver.spans);
    let trace = denied[0]["trace_id"].as_str().unwrap().to_string();
    assert_ne!(trace, client_trace);
    assert_eq!(denied[0]["attributes"]["http.response.status_code"], 403);
    let spans = receiver.trace(&trace, 3);
    assert_eq!(spans.len(), 3, "{spans:#?}");
    assert_eq!(named(&spans, "POST /mcp")["parent_span_id"], "");
    assert_eq!(
        named(&spans, "POST /mcp")["attributes"]["http.response.status_code"],
        403
    );
    assert!(spans.iter().all(|span| span["name"] != "toolgate.forward"));
    assert!(recording
        .seen()
        .iter()
        .all(|seen| seen.message["params"]["name"] != "db.drop_users"));

    // 3. A client trace that is not sampled: nothing recorded, the header passed on as
    //    it came. 4. A malformed one: a new trace, and the upstream gets a valid header.
    let unsampled_trace = "0af7651916cd43dd8448eb211c80319c";
    let unsampled = format!("00-{unsampled_trace}-b7ad6b7169203331-00");
    assert_eq!(
        post(&gate.url, &key, 3, "fs.read_notes", Some(&unsampled)).await,
        200
    );
    assert_eq!(
        post(&gate.url, &key, 4, "fs.read_more", Some("00-xyz-01")).await,
        200
    );
    receiver.settle(Duration::from_secs(3));
    assert!(
        receiver
            .spans
            .iter()
            .all(|span| span["trace_id"] != unsampled_trace),
        "an unsampled trace was recorded"
    );
    let seen = recording.seen();
    assert_eq!(
        upstream_traceparent(&seen, "fs.read_notes"),
        Some(unsampled)
    );
    let fresh = upstream_traceparent(&seen, "fs.read_more").expect("a traceparent upstream");
    let parts: Vec<&str> = fresh.split('-').collect();
    assert_eq!(parts.len(), 4, "{fresh}");
    assert_eq!((parts[0], parts[3]), ("00", "01"), "{fresh}");
    let forward = receiver
        .spans
        .iter()
        .find(|span| span["name"] == "toolgate.forward" && span["trace_id"] == parts[1])
        .unwrap_or_else(|| panic!("no forward span of trace {}", parts[1]));
    assert_eq!(forward["span_id"], parts[2]);
    drop(gate);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn refused_credentials_are_traced_and_a_bad_endpoint_is_refused() {
    let mut receiver = Receiver::start();
    let directory = tempdir();
    key_file(&directory);
    let (upstream_url, recording) = upstream().await;
    let extra = format!(
        "[traces]\nendpoint = \"http://127.0.0.1:{}/v1/traces\"\n",
        receiver.port
    );
    let config = write_config(&directory, &upstream_url, &extra);
    let gate = Running::start(&config);
    let trace = "11111111111111111111111111111111";
    let incoming = format!("00-{trace}-2222222222222222-01");
    assert_eq!(
        post(
            &gate.url,
            "tg_not_a_key",
            1,
            "fs.read_file",
            Some(&incoming)
        )
        .await,
        401
    );
    let spans = receiver.trace(trace, 2);
    assert_eq!(spans.len(), 2, "{spans:#?}");
    assert_eq!(
        named(&spans, "POST /mcp")["attributes"]["http.response.status_code"],
        401
    );
    assert_eq!(named(&spans, "POST /mcp")["service"], "toolgate");
    assert_eq!(
        named(&spans, "toolgate.authenticate")["attributes"]["toolgate.authentication"],
        "refused"
    );
    assert!(recording.seen().is_empty());
    drop(gate);

    // `--check` names the endpoint without contacting it.
    let checked = std::process::Command::new(env!("CARGO_BIN_EXE_toolgate"))
        .args(["serve", "--check", "--config"])
        .arg(&config)
        .output()
        .unwrap();
    let out = String::from_utf8_lossy(&checked.stdout);
    assert!(checked.status.success(), "{out}");
    let line = format!(
        "traces    OTLP to http://127.0.0.1:{}/v1/traces as `toolgate`",
        receiver.port
    );
    assert!(out.contains(&line), "{out}");

    let bad = write_config(
        &directory,
        &upstream_url,
        "[traces]\nendpoint = \"udp://127.0.0.1:4318\"\n",
    );
    let (code, log) = super::health::refused_at_start(&bad);
    assert_eq!(code, 1, "{log}");
    assert!(log.contains("traces.endpoint"), "{log}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn decision_logs_are_exported_as_otlp_log_records() {
    let mut receiver = Receiver::start();
    let directory = tempdir();
    let key = key_file(&directory);
    let (upstream_url, recording) = upstream().await;
    let extra = format!(
        "[audit]\notlp_endpoint = \"http://127.0.0.1:{}/v1/logs\"\nmask = [\"subject\", \"client_ip\"]\n",
        receiver.port
    );
    let config = write_config(&directory, &upstream_url, &extra);
    let checked = std::process::Command::new(env!("CARGO_BIN_EXE_toolgate"))
        .args(["serve", "--check", "--config"])
        .arg(&config)
        .output()
        .unwrap();
    let out = String::from_utf8_lossy(&checked.stdout);
    assert!(checked.status.success(), "{out}");
    assert!(
        out.contains("audit     OTLP logs to http://127.0.0.1:"),
        "{out}"
    );
    let gate = Running::start(&config);
    let mut ids = Vec::new();
    for (id, tool, status) in [(1, "fs.read_file", 200), (2, "db.drop_users", 403)] {
        let response = send(&gate.url, &key, id, tool, None).await;
        assert_eq!(response.status().as_u16(), status, "{tool}");
        let decision_id = response.headers()["x-toolgate-decision-id"]
            .to_str()
            .unwrap();
        ids.push(decision_id.to_string());
    }
    let logs = receiver.logs(2);
    assert_eq!(logs.len(), 2, "{logs:#?}");
    for (log, (decision_id, (decision, name))) in logs.iter().zip(
        ids.iter()
            .zip([("allow", "fs.read_file"), ("deny", "db.drop_users")]),
    ) {
        assert_eq!(log["scope"], "toolgate.audit");
        assert_eq!(log["service"], "toolgate");
        assert_eq!(log["event_name"], "toolgate.decision");
        assert_eq!(log["severity"], 9);
        let attributes = &log["attributes"];
        assert_eq!(attributes["toolgate.decision_id"], decision_id.as_str());
        assert_eq!(attributes["toolgate.decision"], decision);
        assert_eq!(attributes["toolgate.name"], name);
        assert_eq!(attributes["toolgate.kind"], "tool");
        assert_eq!(attributes["toolgate.action"], "call");
        // Masked: the subject reads `masked`, the address is left out.
        assert_eq!(attributes["enduser.id"], "masked");
        assert!(attributes.get("client.address").is_none(), "{attributes}");
        assert_eq!(attributes["toolgate.client"], "ci");
        assert_eq!(attributes["toolgate.roles"], serde_json::json!(["reader"]));
        // The body is the audit record's JSON line.
        let body: Value = serde_json::from_str(log["body"].as_str().unwrap()).unwrap();
        assert_eq!(body["decision_id"], decision_id.as_str());
        assert_eq!(body["decision"], decision);
        assert_eq!(body["name"], name);
        assert_eq!(body["subject"], "masked");
        assert_eq!(body["client_ip"], Value::Null);
        assert_eq!(attributes["toolgate.policy"], body["policy"]);
        assert!(log["time"].as_u64().unwrap() > 0);
    }
    let rule = logs[1]["attributes"]["toolgate.rule"].as_str().unwrap();
    assert!(rule.ends_with("/gate.policy:15"), "{rule}");
    // The upstream executed the allowed call only.
    let executed: Vec<Value> = recording
        .seen()
        .iter()
        .map(|seen| seen.message["params"]["name"].clone())
        .collect();
    assert_eq!(executed, ["fs.read_file"]);
    drop(gate);

    let both = write_config(
        &directory,
        &upstream_url,
        "[audit]\nstdout = true\notlp_endpoint = \"http://127.0.0.1:4318/v1/logs\"\n",
    );
    let (code, log) = super::health::refused_at_start(&both);
    assert_eq!(code, 1, "{log}");
    assert!(log.contains("audit.otlp_endpoint"), "{log}");
}
