//! Hot reload: atomic swaps, failed loads keep the policy in force, reload under load.

use std::path::Path;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use http::StatusCode;
use toolgate::gate::{GateConfig, PolicyHandle, ReloadError, WatchConfig};

use super::audit::tempdir;
use super::support::*;

/// Two valid versions allowing `probe` from different lines.
const VALID_A: &str = "allow anyone to call tools \"probe\"\n";
const VALID_B: &str = "\n\nallow anyone to call tools \"probe\"\n";
/// Never valid: its error comes first, so no prefix of it is a valid policy that allows
/// `never`; if it ever loaded, `never` would be allowed and `probe` decided by line 7.
const INVALID: &str = "allow ghosts to call tools \"never\"\n\n\n\n\n\nallow anyone to call tools \"probe\", \"never\"\n";

/// Replaces the file atomically: a temporary file renamed over it.
fn write_atomically(path: &Path, text: &str) {
    let temporary = path.with_extension("tmp");
    std::fs::write(&temporary, text).unwrap();
    std::fs::rename(&temporary, path).unwrap();
}

#[tokio::test]
async fn a_valid_policy_is_swapped_in_and_an_invalid_one_leaves_it() {
    let directory = tempdir();
    let path = directory.join("gate.policy");
    std::fs::write(&path, VALID_A).unwrap();
    let policy = PolicyHandle::load(&path).unwrap();
    let first = policy.current();
    write_atomically(&path, VALID_B);
    let second = policy.reload().await.unwrap();
    assert_ne!(first.digest(), second.digest());
    assert_eq!(policy.current().digest(), second.digest());
    write_atomically(&path, INVALID);
    let error = policy.reload().await.unwrap_err();
    assert!(matches!(error, ReloadError::Policy(_)), "{error}");
    assert!(error.to_string().contains("gate.policy:1:"), "{error}");
    assert_eq!(policy.current().digest(), second.digest());
    // A request in flight keeps its snapshot.
    assert_eq!(
        first.digest(),
        toolgate::Sources::from_text("x", VALID_A).digest()
    );
}

#[tokio::test]
async fn the_watcher_reloads_a_changed_file() {
    let directory = tempdir();
    let path = directory.join("gate.policy");
    std::fs::write(&path, VALID_A).unwrap();
    let policy = PolicyHandle::load(&path).unwrap();
    let _watcher = policy
        .watch(WatchConfig::default().with_debounce(Duration::from_millis(20)))
        .unwrap();
    let wanted = toolgate::Sources::from_text("x", VALID_B).digest();
    write_atomically(&path, VALID_B);
    let mut waited = 0;
    while policy.current().digest() != wanted {
        assert!(waited < 3000, "the watcher did not reload the policy");
        tokio::time::sleep(Duration::from_millis(10)).await;
        waited += 1;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn reloads_under_load_fail_no_request_and_never_use_an_invalid_policy() {
    let directory = tempdir();
    let path = directory.join("gate.policy");
    std::fs::write(&path, VALID_A).unwrap();
    let policy = PolicyHandle::load(&path).unwrap();
    let _watcher = policy
        .watch(WatchConfig::default().with_debounce(Duration::from_millis(1)))
        .unwrap();
    let harness = Arc::new(Harness::with(
        GateConfig::new(RESOURCE).unwrap(),
        policy.clone(),
    ));
    let stop = Arc::new(AtomicBool::new(false));
    let sent = Arc::new(AtomicUsize::new(0));
    let mut clients = Vec::new();
    for client in 0..8 {
        let (harness, stop, sent) = (harness.clone(), stop.clone(), sent.clone());
        clients.push(tokio::spawn(async move {
            let mut failures = Vec::new();
            while !stop.load(Ordering::Relaxed) {
                let tool = if client % 2 == 0 { "probe" } else { "never" };
                let reply = harness
                    .send(post(Some("nobody-token"), &call(1, tool)))
                    .await;
                let expected = if tool == "probe" {
                    StatusCode::OK
                } else {
                    StatusCode::FORBIDDEN
                };
                if reply.status != expected {
                    failures.push(format!("{tool}: {}", reply.status));
                }
                sent.fetch_add(1, Ordering::Relaxed);
            }
            failures
        }));
    }
    let (mut swapped, mut refused) = (0, 0);
    let before = sent.load(Ordering::Relaxed);
    for round in 0..300 {
        let text = match round % 3 {
            0 => VALID_B,
            1 => INVALID,
            _ => VALID_A,
        };
        write_atomically(&path, text);
        match policy.reload().await {
            Ok(_) => swapped += 1,
            Err(_) => refused += 1,
        }
        tokio::task::yield_now().await;
    }
    let during = sent.load(Ordering::Relaxed) - before;
    stop.store(true, Ordering::Relaxed);
    let mut failures = Vec::new();
    for client in clients {
        failures.extend(client.await.unwrap());
    }
    assert_eq!(failures, Vec::<String>::new());
    assert!(
        during > 0,
        "no request was decided while the policy was rewritten"
    );
    assert_eq!((swapped, refused), (200, 100));
    let records = harness.audit.take();
    let valid = [
        toolgate::Sources::from_text("x", VALID_A).digest(),
        toolgate::Sources::from_text("x", VALID_B).digest(),
    ];
    for record in &records {
        assert!(valid.contains(&record.policy), "{record:?}");
        match record.name.as_str() {
            "probe" => {
                assert_eq!(record.decision, "allow");
                let rule = record.rule.as_deref().unwrap();
                assert!(rule.ends_with(":1") || rule.ends_with(":3"), "{rule}");
            }
            _ => assert_eq!(record.reason, "no_rule", "{record:?}"),
        }
    }
}
