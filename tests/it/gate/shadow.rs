//! A shadow policy in `toolgate serve`: decided beside the policy in force, never
//! enforced. What the upstream executed follows the policy in force alone; every
//! disagreement is logged with both decisions and rules, and counted.

use std::time::{Duration, Instant};

use serde_json::Value;

use super::audit::tempdir;
use super::health::{key_file, post_call, upstream, RESOURCE};
use super::served::Running;
use super::support::{call, POLICY};

/// The policy in force, changed: `fs.read_file` denied, `shell.exec` allowed to readers.
fn next_policy() -> String {
    format!(
        "{POLICY}\ndeny anyone to call tools \"fs.read_file\"\nallow reader to call tools \"shell.exec\"\n"
    )
}

/// The logged disagreements: one JSON object per line of target `toolgate::shadow`.
fn disagreements(log: &str) -> Vec<Value> {
    log.lines()
        .filter(|line| line.contains("toolgate::shadow") && line.contains("\"enforced\""))
        .map(|line| {
            let start = line.find('{').unwrap();
            serde_json::from_str(&line[start..]).unwrap_or_else(|_| panic!("not JSON: {line}"))
        })
        .collect()
}

/// Waits (at most 20 s) until `log()` satisfies `done`.
async fn until(gate: &Running, what: &str, done: impl Fn(&str) -> bool) {
    let deadline = Instant::now() + Duration::from_secs(20);
    while !done(&gate.log()) {
        assert!(
            Instant::now() < deadline,
            "never {what}; stderr:\n{}",
            gate.log()
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_shadow_policy_is_decided_logged_and_counted_but_never_enforced() {
    let directory = tempdir();
    let key = key_file(&directory);
    let (upstream, recording) = upstream().await;
    std::fs::write(directory.join("gate.policy"), POLICY).unwrap();
    std::fs::write(directory.join("next.policy"), next_policy()).unwrap();
    let config = directory.join("toolgate.toml");
    std::fs::write(
        &config,
        format!(
            "policy = \"gate.policy\"\nshadow_policy = \"next.policy\"\nlisten = \"127.0.0.1:0\"\n\
             upstream = \"{upstream}\"\nresource = \"{RESOURCE}\"\n\n[api_keys]\nfile = \"keys.toml\"\n\n\
             [metrics]\nlisten = \"127.0.0.1:0\"\n"
        ),
    )
    .unwrap();
    let mut gate = Running::start(&config);

    let mut statuses = Vec::new();
    let mut ids = Vec::new();
    for (id, tool) in [(1, "fs.read_file"), (2, "shell.exec"), (3, "fs.read_dir")] {
        let response = post_call(&gate.url, Some(&key), id, tool).await;
        statuses.push(response.status().as_u16());
        ids.push(
            response.headers()["x-toolgate-decision-id"]
                .to_str()
                .unwrap()
                .to_string(),
        );
    }
    // Enforced: the policy in force allows fs.read_* and has no rule for shell.exec.
    assert_eq!(statuses, [200, 403, 200]);
    let executed: Vec<Value> = recording
        .seen()
        .into_iter()
        .map(|seen| seen.message)
        .collect();
    assert_eq!(
        executed,
        vec![call(1, "fs.read_file"), call(3, "fs.read_dir")]
    );

    until(&gate, "two disagreements logged", |log| {
        disagreements(log).len() == 2
    })
    .await;
    let logged = disagreements(&gate.log());
    let read = &logged[0];
    assert_eq!(read["name"], "fs.read_file");
    assert_eq!(read["method"], "tools/call");
    assert_eq!(read["request_id"], 1);
    assert_eq!(read["decision_id"], ids[0].as_str());
    assert_eq!(read["subject"], "reader-bot");
    assert_eq!(read["enforced"]["decision"], "allow");
    assert_eq!(
        read["enforced"]["rule"],
        format!("{}/gate.policy:9", directory.display())
    );
    assert_eq!(read["shadow"]["decision"], "deny");
    assert_eq!(read["shadow"]["reason"], "denied");
    assert_eq!(
        read["shadow"]["rule"],
        format!("{}/next.policy:19", directory.display())
    );
    assert_ne!(read["enforced"]["policy"], read["shadow"]["policy"]);
    let exec = &logged[1];
    assert_eq!(exec["name"], "shell.exec");
    assert_eq!(exec["decision_id"], ids[1].as_str());
    assert_eq!(exec["enforced"]["decision"], "deny");
    assert_eq!(exec["enforced"]["reason"], "no_rule");
    assert_eq!(exec["enforced"]["rule"], Value::Null);
    assert_eq!(exec["shadow"]["decision"], "allow");
    assert_eq!(
        exec["shadow"]["rule"],
        format!("{}/next.policy:20", directory.display())
    );

    let metrics = gate.metrics.clone().unwrap();
    let text = reqwest::get(&metrics).await.unwrap().text().await.unwrap();
    for (enforced, shadow, count) in [
        ("allow", "deny", 1),
        ("deny", "allow", 1),
        ("allow", "allow", 1),
        ("deny", "deny", 0),
    ] {
        let series = format!(
            "toolgate_shadow_decisions_total{{kind=\"tool\",action=\"call\",enforced=\"{enforced}\",shadow=\"{shadow}\"}} {count}\n"
        );
        assert!(text.contains(&series), "no {series} in\n{text}");
    }

    // The shadow policy reloads on SIGHUP like the policy in force: made equal to it,
    // the same calls disagree no more.
    std::fs::write(
        directory.join("next.policy"),
        format!("{POLICY}\n# the same\n"),
    )
    .unwrap();
    gate.signal("HUP");
    until(&gate, "the shadow policy reloaded", |log| {
        log.matches("policy reloaded").count() >= 1
    })
    .await;
    for (id, tool) in [(4, "fs.read_file"), (5, "shell.exec")] {
        post_call(&gate.url, Some(&key), id, tool).await;
    }
    let executed = recording.seen().len();
    assert_eq!(executed, 3, "shell.exec must still be refused");
    assert_eq!(disagreements(&gate.log()).len(), 2, "{}", gate.log());

    // At the end, the totals.
    gate.signal("TERM");
    assert!(gate.exit_within(Duration::from_secs(30)).await.success());
    let log = gate.log();
    assert!(
        log.contains("shadow policy: 5 decisions compared, 2 disagreements (1 allowed only by the policy in force, 1 only by the shadow policy)"),
        "{log}"
    );
}

#[test]
fn a_shadow_policy_that_does_not_load_stops_the_gate_and_fails_the_check() {
    let directory = tempdir();
    key_file(&directory);
    std::fs::write(directory.join("gate.policy"), POLICY).unwrap();
    std::fs::write(directory.join("next.policy"), "allow reader to\n").unwrap();
    let config = directory.join("toolgate.toml");
    std::fs::write(
        &config,
        format!(
            "policy = \"gate.policy\"\nshadow_policy = \"next.policy\"\nlisten = \"127.0.0.1:0\"\n\
             upstream = \"http://127.0.0.1:9/mcp\"\nresource = \"{RESOURCE}\"\n\n[api_keys]\nfile = \"keys.toml\"\n"
        ),
    )
    .unwrap();
    let (status, stderr) = super::served::refused_at_start(&config);
    assert_eq!(status, 1, "{stderr}");
    assert!(stderr.contains("next.policy` does not load"), "{stderr}");
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_toolgate"))
        .args(["serve", "--check", "--config"])
        .arg(&config)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("next.policy` does not load"), "{stderr}");

    std::fs::write(directory.join("next.policy"), next_policy()).unwrap();
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_toolgate"))
        .args(["serve", "--check", "--config"])
        .arg(&config)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(output.status.success(), "{stdout}");
    assert!(
        stdout.contains("  shadow    `") && stdout.contains("decided, never enforced"),
        "{stdout}"
    );
}
