//! Where `toolgate serve` writes its audit records: a file reopened on `SIGHUP` (after
//! `logrotate` moved it), a new file a day with old ones pruned, standard output. Each
//! record is matched to a request by the decision id the client received.

use std::path::Path;
use std::time::{Duration, Instant};

use serde_json::Value;

use super::audit::tempdir;
use super::health::{key_file, post_call, upstream, write_config};
use super::served::Running;

/// The records of a JSON-lines file (none if it does not exist).
fn records(path: &Path) -> Vec<Value> {
    std::fs::read_to_string(path)
        .unwrap_or_default()
        .lines()
        .map(|line| serde_json::from_str(line).unwrap_or_else(|_| panic!("not JSON: {line}")))
        .collect()
}

/// Waits (at most 20 s) until `path` holds `count` records: them.
async fn records_within(path: &Path, count: usize) -> Vec<Value> {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let found = records(path);
        if found.len() >= count {
            return found;
        }
        assert!(
            Instant::now() < deadline,
            "`{}` holds {found:?}, not {count} records",
            path.display()
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Calls `tool` with `key`: the decision id the client received.
async fn decided(gate: &Running, key: &str, id: i64, tool: &str) -> String {
    let response = post_call(&gate.url, Some(key), id, tool).await;
    response.headers()["x-toolgate-decision-id"]
        .to_str()
        .unwrap()
        .to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_audit_file_is_opened_again_on_sighup() {
    let directory = tempdir();
    let key = key_file(&directory);
    let (upstream, _recording) = upstream().await;
    let config = write_config(&directory, &upstream, "[audit]\nfile = \"audit.jsonl\"\n");
    let gate = Running::start(&config);
    let audit = directory.join("audit.jsonl");

    let first = decided(&gate, &key, 1, "fs.read_file").await;
    let before = records_within(&audit, 1).await;
    assert_eq!(before[0]["decision_id"], first.as_str());
    // logrotate: move the file away, then signal.
    let moved = directory.join("audit.jsonl.1");
    std::fs::rename(&audit, &moved).unwrap();
    gate.signal("HUP");
    let deadline = Instant::now() + Duration::from_secs(20);
    while !gate.log().contains("audit file opened again") {
        assert!(
            Instant::now() < deadline,
            "no reopen; stderr:\n{}",
            gate.log()
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let second = decided(&gate, &key, 2, "db.drop_table").await;
    let after = records_within(&audit, 1).await;
    assert_eq!(after.len(), 1, "{after:?}");
    assert_eq!(after[0]["decision_id"], second.as_str());
    assert_eq!(after[0]["decision"], "deny");
    let old: Vec<Value> = records(&moved);
    assert_eq!(
        old.len(),
        1,
        "the moved file got records after the reopen: {old:?}"
    );
    assert_eq!(old[0]["decision_id"], first.as_str());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rolling_audit_log_writes_todays_file_and_keeps_the_newest() {
    let directory = tempdir();
    let key = key_file(&directory);
    let (upstream, _recording) = upstream().await;
    let logs = directory.join("logs");
    std::fs::create_dir_all(&logs).unwrap();
    // Three files of past days: with `keep = 2`, only the newest one survives beside today's.
    for day in ["2026-01-01", "2026-01-02", "2026-01-03"] {
        std::fs::write(logs.join(format!("audit.{day}.jsonl")), "{}\n").unwrap();
    }
    let config = write_config(
        &directory,
        &upstream,
        "[audit]\nfile = \"logs/audit.jsonl\"\nrotate = \"daily\"\nkeep = 2\n",
    );
    let gate = Running::start(&config);
    let today = jiff::Timestamp::now().strftime("%Y-%m-%d").to_string();
    let id = decided(&gate, &key, 1, "fs.read_file").await;
    let written = records_within(&logs.join(format!("audit.{today}.jsonl")), 1).await;
    assert_eq!(written[0]["decision_id"], id.as_str());
    let mut names: Vec<String> = std::fs::read_dir(&logs)
        .unwrap()
        .map(|entry| entry.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    assert_eq!(
        names,
        [
            "audit.2026-01-03.jsonl".to_string(),
            format!("audit.{today}.jsonl")
        ]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn audit_records_can_go_to_standard_output() {
    let directory = tempdir();
    let key = key_file(&directory);
    let (upstream, _recording) = upstream().await;
    let config = write_config(&directory, &upstream, "[audit]\nstdout = true\n");
    let gate = Running::start(&config);
    let id = decided(&gate, &key, 7, "db.drop_table").await;
    let line = gate.next_line(Duration::from_secs(20));
    let record: Value = serde_json::from_str(&line).unwrap_or_else(|_| panic!("not JSON: {line}"));
    assert_eq!(record["decision_id"], id.as_str());
    assert_eq!(record["name"], "db.drop_table");
    assert_eq!(record["request_id"], 7);
    assert!(!line.contains(&key), "the key leaked: {line}");
}
