//! The metrics endpoint of `toolgate serve`, scraped by a real Prometheus server (the
//! `prometheus` binary, installed by `scripts/test.sh`) and queried over its HTTP API.
//! The counts asserted are those of what the recording upstream executed and what the
//! client received.

use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use http::Method;
use serde_json::{json, Value};

use super::audit::tempdir;
use super::health::{key_file, post_call, upstream, write_config, Running};
use super::support::{call, POLICY};
use crate::external;

/// A Prometheus server scraping one target every 200 ms; killed on drop.
struct Prometheus {
    child: Child,
    base: String,
}

impl Drop for Prometheus {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Prometheus {
    /// Starts Prometheus in `directory`, scraping `target` (a `metrics on` URL).
    fn start(directory: &Path, target: &str) -> Prometheus {
        let rest = target.strip_prefix("http://").unwrap();
        let (authority, path) = rest.split_at(rest.find('/').unwrap());
        let config = format!(
            "global:\n  scrape_interval: 200ms\n  scrape_timeout: 150ms\n\
             scrape_configs:\n  - job_name: toolgate\n    metrics_path: {path}\n\
             \x20   static_configs:\n      - targets: ['{authority}']\n"
        );
        let file = directory.join("prometheus.yml");
        std::fs::write(&file, config).unwrap();
        // A free port for its web API (Prometheus does not report a port it chose).
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let log = std::fs::File::create(directory.join("prometheus.log")).unwrap();
        let child = Command::new(external::prometheus())
            .arg(format!("--config.file={}", file.display()))
            .arg(format!(
                "--storage.tsdb.path={}",
                directory.join("data").display()
            ))
            .arg(format!("--web.listen-address=127.0.0.1:{port}"))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .unwrap();
        Prometheus {
            child,
            base: format!("http://127.0.0.1:{port}"),
        }
    }

    /// The samples of an instant query (empty while Prometheus is starting).
    async fn query(&self, query: &str) -> Vec<Value> {
        let response = reqwest::Client::new()
            .get(format!(
                "{}/api/v1/query?query={}",
                self.base,
                escaped(query)
            ))
            .timeout(Duration::from_secs(5))
            .send()
            .await;
        let Ok(response) = response else {
            return Vec::new();
        };
        let Ok(body) = response.json::<Value>().await else {
            return Vec::new();
        };
        assert_ne!(body["status"], "error", "{query}: {body}");
        body.pointer("/data/result")
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default()
    }

    /// Polls `query` (at most 60 s) until its one sample has `value`: the sample.
    async fn until(&self, query: &str, value: &str, directory: &Path) -> Value {
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            let samples = self.query(query).await;
            if let [sample] = samples.as_slice() {
                if sample["value"][1] == value {
                    return sample.clone();
                }
            }
            assert!(
                Instant::now() < deadline,
                "`{query}` is {samples:?}, never {value}; prometheus log:\n{}",
                std::fs::read_to_string(directory.join("prometheus.log")).unwrap_or_default()
            );
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }
}

/// `text` percent-encoded for a query string.
fn escaped(text: &str) -> String {
    text.bytes()
        .map(|byte| match byte {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                char::from(byte).to_string()
            }
            _ => format!("%{byte:02X}"),
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn prometheus_scrapes_decisions_failures_and_reloads() {
    let directory = tempdir();
    let key = key_file(&directory);
    let (upstream, recording) = upstream().await;
    let config = write_config(
        &directory,
        &upstream,
        "[metrics]\nlisten = \"127.0.0.1:0\"\n\n[audit]\nfile = \"audit.jsonl\"\n",
    );
    let gate = Running::start(&config);
    let target = gate.metrics.clone().expect("a `metrics on` line");
    assert!(target.ends_with("/metrics"), "{target}");
    assert!(
        !target.contains(&gate.address.port().to_string()),
        "metrics share the gate's port: {target}"
    );

    // Two calls allowed, one denied by a rule, one with no credential, one with a key
    // that does not exist.
    for (id, tool) in [
        (1, "fs.read_file"),
        (2, "fs.read_dir"),
        (3, "db.drop_table"),
    ] {
        let status = post_call(&gate.url, Some(&key), id, tool).await.status();
        let expected = if tool == "db.drop_table" { 403 } else { 200 };
        assert_eq!(status, expected, "{tool}");
    }
    assert_eq!(
        post_call(&gate.url, None, 4, "fs.read_file").await.status(),
        401
    );
    let forged = "tgk_nobody_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA";
    assert_eq!(
        post_call(&gate.url, Some(forged), 5, "fs.read_file")
            .await
            .status(),
        401
    );
    // What the upstream executed: the two allowed calls, and nothing else.
    let executed: Vec<Value> = recording
        .seen()
        .iter()
        .map(|seen| seen.message.clone())
        .collect();
    assert_eq!(
        executed,
        vec![call(1, "fs.read_file"), call(2, "fs.read_dir")]
    );

    // The endpoint itself: OpenMetrics text, no credential needed, nothing forwarded.
    let response = reqwest::get(&target).await.unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(
        response.headers()["content-type"],
        "application/openmetrics-text; version=1.0.0; charset=utf-8"
    );
    let text = response.text().await.unwrap();
    assert!(text.ends_with("# EOF\n"), "{text}");
    assert!(
        !text.contains("fs.read_file"),
        "a tool name without `names`: {text}"
    );
    let elsewhere = reqwest::get(target.replace("/metrics", "/other"))
        .await
        .unwrap();
    assert_eq!(elsewhere.status(), 404);
    assert_eq!(recording.seen().len(), 2, "a scrape reached the upstream");

    let prometheus = Prometheus::start(&directory, &target);
    prometheus
        .until("up{job=\"toolgate\"}", "1", &directory)
        .await;
    let allowed = "toolgate_decisions_total{kind=\"tool\",action=\"call\",reason=\"allowed\"}";
    prometheus.until(allowed, "2", &directory).await;
    let denied = "toolgate_decisions_total{kind=\"tool\",action=\"call\",decision=\"deny\",reason=\"denied\"}";
    prometheus.until(denied, "1", &directory).await;
    for reason in ["missing", "unknown_api_key"] {
        let query = format!("toolgate_authentication_failures_total{{reason=\"{reason}\"}}");
        prometheus.until(&query, "1", &directory).await;
    }
    prometheus
        .until("toolgate_responses_total{code=\"200\"}", "2", &directory)
        .await;
    prometheus
        .until("toolgate_responses_total{code=\"401\"}", "2", &directory)
        .await;
    prometheus
        .until("toolgate_upstream_seconds_count", "2", &directory)
        .await;
    prometheus
        .until("toolgate_authentication_seconds_count", "5", &directory)
        .await;

    // The digest in force is the one the audit log records.
    let audit = std::fs::read_to_string(directory.join("audit.jsonl")).unwrap();
    let first: Value = serde_json::from_str(audit.lines().next().unwrap()).unwrap();
    let digest = first["policy"].as_str().unwrap().to_string();
    let sample = prometheus.until("toolgate_policy", "1", &directory).await;
    assert_eq!(sample["metric"]["digest"], json!(digest));

    // A reload that fails, then one that puts another policy in force.
    let policy_file = directory.join("gate.policy");
    std::fs::write(&policy_file, "allow nobody to\n").unwrap();
    gate.signal("HUP");
    prometheus
        .until(
            "toolgate_policy_reloads_total{result=\"failed\"}",
            "1",
            &directory,
        )
        .await;
    std::fs::write(&policy_file, format!("{POLICY}\n# edited\n")).unwrap();
    gate.signal("HUP");
    prometheus
        .until(
            "toolgate_policy_reloads_total{result=\"replaced\"}",
            "1",
            &directory,
        )
        .await;
    let sample = prometheus.until("toolgate_policy", "1", &directory).await;
    assert_ne!(
        sample["metric"]["digest"],
        json!(digest),
        "the digest did not follow"
    );
    assert_eq!(recording.seen().len(), 2);
    let _ = gate.get(Method::GET, "/healthz").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn names_are_labels_only_when_configured_and_the_address_is_checked() {
    let directory = tempdir();
    let key = key_file(&directory);
    let (upstream, _recording) = upstream().await;
    let config = write_config(
        &directory,
        &upstream,
        "[metrics]\nlisten = \"127.0.0.1:0\"\npath = \"/ops/metrics\"\nnames = true\n",
    );
    let gate = Running::start(&config);
    let target = gate.metrics.clone().expect("a `metrics on` line");
    assert!(target.ends_with("/ops/metrics"), "{target}");
    assert_eq!(
        post_call(&gate.url, Some(&key), 1, "db.drop_table")
            .await
            .status(),
        403
    );
    let text = reqwest::get(&target).await.unwrap().text().await.unwrap();
    assert!(
        text.contains(
            "toolgate_decisions_by_name_total{kind=\"tool\",action=\"call\",decision=\"deny\",name=\"db.drop_table\"} 1\n"
        ),
        "{text}"
    );
    drop(gate);

    // An address that cannot be listened on stops the gate before it listens.
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let address = taken.local_addr().unwrap();
    let config = write_config(
        &directory,
        &upstream,
        &format!("[metrics]\nlisten = \"{address}\"\n"),
    );
    let (status, stderr) = super::served::refused_at_start(&config);
    assert_eq!(status, 1, "{stderr}");
    assert!(
        stderr.contains(&format!("`metrics.listen`: cannot listen on {address}")),
        "{stderr}"
    );
    let config = write_config(&directory, &upstream, "[metrics]\nlisten = \"nowhere\"\n");
    let (status, stderr) = super::served::refused_at_start(&config);
    assert_eq!(status, 1, "{stderr}");
    assert!(
        stderr.contains("`metrics.listen`: `nowhere` is not an address and port"),
        "{stderr}"
    );
}
