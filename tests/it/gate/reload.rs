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
    let policy = PolicyHandle::load(&path, toolgate::LoadOptions::default()).unwrap();
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
async fn a_reload_stays_within_the_limits_the_handle_was_loaded_with() {
    // Captured, as the other tests that log reload failures are (a callsite first hit
    // without a subscriber can stay silent for the tests that capture it).
    let (logs, _guard) = Captured::start();
    let directory = tempdir();
    let path = directory.join("gate.policy");
    std::fs::write(&path, VALID_A).unwrap();
    let options = toolgate::LoadOptions {
        limits: toolgate::Limits {
            statements: 1,
            ..toolgate::Limits::default()
        },
        ..toolgate::LoadOptions::default()
    };
    let policy = PolicyHandle::load(&path, options).unwrap();
    let first = policy.current().digest().to_string();
    // Two statements: within the default limits, over this handle's.
    let two = "allow anyone to call tools \"probe\"\nallow anyone to call tools \"other\"\n";
    assert!(toolgate::Policy::from_text("gate.policy", two).is_ok());
    write_atomically(&path, two);
    let error = policy.reload().await.unwrap_err();
    assert!(error.to_string().contains("error[E012]"), "{error}");
    assert!(error.to_string().contains("statements"), "{error}");
    assert_eq!(logs.lines("policy reload failed"), 1);
    assert_eq!(policy.current().digest(), first);
    // Within the limit again, the reload puts it in force.
    write_atomically(&path, VALID_B);
    let reloaded = policy.reload().await.unwrap();
    assert_ne!(reloaded.digest(), first);
}

#[tokio::test]
async fn the_watcher_reloads_a_changed_file() {
    let directory = tempdir();
    let path = directory.join("gate.policy");
    std::fs::write(&path, VALID_A).unwrap();
    let policy = PolicyHandle::load(&path, toolgate::LoadOptions::default()).unwrap();
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
    let policy = PolicyHandle::load(&path, toolgate::LoadOptions::default()).unwrap();
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

/// The watcher as `toolgate serve` runs it, with a short debounce.
fn quick_watch() -> WatchConfig {
    WatchConfig::default().with_debounce(Duration::from_millis(50))
}

fn digest(text: &str) -> String {
    toolgate::Sources::from_text("x", text).digest()
}

/// Rewrites the file in place (truncate, write, close), as `echo > file` does.
fn write_in_place(path: &Path, text: &str) {
    std::fs::write(path, text).unwrap();
}

/// Waits (at most 5 s) until `wanted` is in force.
async fn until_in_force(policy: &PolicyHandle, wanted: &str) {
    for _ in 0..500 {
        if policy.current().digest() == wanted {
            return;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    panic!("`{wanted}` was not put in force");
}

/// A second, independent file watcher counting how often the policy file is opened:
/// every reading of the gate opens it.
struct Opens {
    count: Arc<AtomicUsize>,
    _watcher: notify::RecommendedWatcher,
}

impl Opens {
    fn watch(path: &Path) -> Opens {
        use notify::event::{AccessKind, EventKind};
        use notify::Watcher as _;
        let count = Arc::new(AtomicUsize::new(0));
        let seen = count.clone();
        let file = path.to_path_buf();
        let mut watcher =
            notify::recommended_watcher(move |event: notify::Result<notify::Event>| {
                if let Ok(event) = event {
                    let opened = matches!(event.kind, EventKind::Access(AccessKind::Open(_)));
                    if opened && event.paths.contains(&file) {
                        seen.fetch_add(1, Ordering::SeqCst);
                    }
                }
            })
            .unwrap();
        watcher
            .watch(path.parent().unwrap(), notify::RecursiveMode::NonRecursive)
            .unwrap();
        Opens {
            count,
            _watcher: watcher,
        }
    }

    fn count(&self) -> usize {
        self.count.load(Ordering::SeqCst)
    }
}

/// After one change and a settle time, nothing is reloaded, nor even read, for 3 s.
async fn one_change_then_quiet(write: fn(&Path, &str)) {
    let directory = tempdir();
    let path = directory.join("gate.policy");
    std::fs::write(&path, VALID_A).unwrap();
    let policy = PolicyHandle::load(&path, toolgate::LoadOptions::default()).unwrap();
    let _watcher = policy.watch(quick_watch()).unwrap();
    let opens = Opens::watch(&path);
    tokio::time::sleep(Duration::from_millis(100)).await;
    write(&path, VALID_B);
    until_in_force(&policy, &digest(VALID_B)).await;
    tokio::time::sleep(Duration::from_secs(1)).await;
    let in_force = policy.current();
    let opened = opens.count();
    assert!(opened > 0, "the observer saw no reading of the policy file");
    let start = std::time::Instant::now();
    while start.elapsed() < Duration::from_secs(3) {
        tokio::time::sleep(Duration::from_millis(20)).await;
        assert!(
            Arc::ptr_eq(&policy.current(), &in_force),
            "the policy was reloaded {:?} after the change settled, with nothing written",
            start.elapsed()
        );
    }
    assert_eq!(
        opens.count(),
        opened,
        "the policy file was read again with nothing written"
    );
    std::fs::remove_dir_all(&directory).unwrap();
}

#[tokio::test]
async fn after_a_rename_over_the_policy_nothing_is_reloaded_again() {
    one_change_then_quiet(write_atomically).await;
}

#[tokio::test]
async fn after_an_in_place_rewrite_nothing_is_reloaded_again() {
    one_change_then_quiet(write_in_place).await;
}

/// Log lines captured from the current thread (the test's runtime runs the watcher).
#[derive(Clone, Default)]
struct Captured(Arc<std::sync::Mutex<Vec<u8>>>);

impl std::io::Write for Captured {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(bytes);
        Ok(bytes.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl<'a> tracing_subscriber::fmt::MakeWriter<'a> for Captured {
    type Writer = Captured;
    fn make_writer(&'a self) -> Captured {
        self.clone()
    }
}

impl Captured {
    fn start() -> (Captured, tracing::subscriber::DefaultGuard) {
        let captured = Captured::default();
        let subscriber = tracing_subscriber::fmt()
            .with_writer(captured.clone())
            .with_ansi(false)
            .with_max_level(tracing::Level::INFO)
            .finish();
        (captured, tracing::subscriber::set_default(subscriber))
    }

    fn lines(&self, containing: &str) -> usize {
        let text = String::from_utf8_lossy(&self.0.lock().unwrap()).to_string();
        text.lines()
            .filter(|line| line.contains(containing))
            .count()
    }
}

#[tokio::test]
async fn a_broken_policy_is_reported_once_and_an_unchanged_one_not_reloaded() {
    let (logs, _guard) = Captured::start();
    let directory = tempdir();
    let path = directory.join("gate.policy");
    std::fs::write(&path, VALID_A).unwrap();
    let policy = PolicyHandle::load(&path, toolgate::LoadOptions::default()).unwrap();
    let _watcher = policy.watch(quick_watch()).unwrap();
    tokio::time::sleep(Duration::from_millis(100)).await;
    write_atomically(&path, INVALID);
    for _ in 0..500 {
        if logs.lines("policy reload failed") > 0 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    // The same broken content written again, in place and by rename.
    tokio::time::sleep(Duration::from_millis(300)).await;
    write_in_place(&path, INVALID);
    tokio::time::sleep(Duration::from_millis(500)).await;
    write_atomically(&path, INVALID);
    tokio::time::sleep(Duration::from_secs(2)).await;
    assert_eq!(logs.lines("policy reload failed"), 1);
    assert_eq!(policy.current().digest(), digest(VALID_A));
    // The policy in force written again: nothing to reload.
    write_in_place(&path, VALID_A);
    tokio::time::sleep(Duration::from_secs(1)).await;
    assert_eq!(logs.lines("policy reloaded"), 0);
    std::fs::remove_dir_all(&directory).unwrap();
}

#[tokio::test]
async fn an_explicit_reload_of_unchanged_files_keeps_the_policy_and_its_generation() {
    let directory = tempdir();
    let path = directory.join("gate.policy");
    std::fs::write(&path, VALID_A).unwrap();
    let policy = PolicyHandle::load(&path, toolgate::LoadOptions::default()).unwrap();
    let first = policy.current();
    assert_eq!(policy.generation(), 0);
    write_in_place(&path, VALID_A);
    let again = policy.reload().await.unwrap();
    assert!(Arc::ptr_eq(&first, &again));
    assert_eq!(policy.generation(), 0);
    write_atomically(&path, VALID_B);
    assert_eq!(policy.reload().await.unwrap().digest(), digest(VALID_B));
    assert_eq!(policy.generation(), 1);
    write_atomically(&path, INVALID);
    assert!(policy.reload().await.is_err());
    assert!(
        policy.reload().await.is_err(),
        "the same broken content fails again"
    );
    assert_eq!(policy.generation(), 1);
    std::fs::remove_dir_all(&directory).unwrap();
}

/// The policy in force before a slow rewrite.
const OLD: &str = "allow anyone to call tools \"probe\"\n";
/// Longer than the new policy's first line, shorter than the whole new policy.
const OLD_LONG: &str = "allow anyone to call tools \"probe\"\n# longer than the first line\n";
/// The new policy's first line, a valid policy on its own.
const NEW_FIRST: &str = "allow anyone to call tools \"probe\", \"first\"\n";
const NEW_REST: &str = "allow anyone to call tools \"second\"\n";

/// Rewrites the policy slowly in a thread, while polling the policy in force; every
/// digest seen must be `old`'s or the whole new policy's.
async fn slow_rewrite(old: &str, write: fn(&Path)) {
    let new = format!("{NEW_FIRST}{NEW_REST}");
    let directory = tempdir();
    let path = directory.join("gate.policy");
    std::fs::write(&path, old).unwrap();
    let policy = PolicyHandle::load(&path, toolgate::LoadOptions::default()).unwrap();
    let _watcher = policy.watch(quick_watch()).unwrap();
    tokio::time::sleep(Duration::from_millis(100)).await;
    let writer = {
        let path = path.clone();
        std::thread::spawn(move || write(&path))
    };
    let mut seen = std::collections::BTreeSet::new();
    let start = std::time::Instant::now();
    while start.elapsed() < Duration::from_secs(4) {
        seen.insert(policy.current().digest().to_string());
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
    writer.join().unwrap();
    let expected = std::collections::BTreeSet::from([digest(old), digest(&new)]);
    assert_eq!(
        seen,
        expected,
        "the partial policy ({}) must never be in force",
        digest(NEW_FIRST)
    );
    assert_eq!(policy.current().digest(), digest(&new));
    std::fs::remove_dir_all(&directory).unwrap();
}

/// One open file: half written, a pause, the rest.
fn slow_writer(path: &Path) {
    use std::io::Write as _;
    let mut file = std::fs::File::create(path).unwrap();
    file.write_all(NEW_FIRST.as_bytes()).unwrap();
    std::thread::sleep(Duration::from_millis(300));
    file.write_all(NEW_REST.as_bytes()).unwrap();
}

/// Two writes: the first half (file closed), a pause, the rest appended.
fn slow_appender(path: &Path) {
    use std::io::Write as _;
    std::fs::write(path, NEW_FIRST).unwrap();
    std::thread::sleep(Duration::from_millis(300));
    let mut file = std::fs::OpenOptions::new().append(true).open(path).unwrap();
    file.write_all(NEW_REST.as_bytes()).unwrap();
}

/// The half is longer than the policy in force: only waiting for the writer to close the
/// file keeps it out (inotify reports the close).
#[cfg(target_os = "linux")]
#[tokio::test]
async fn a_slow_writer_never_puts_its_first_half_in_force() {
    slow_rewrite(OLD, slow_writer).await;
}

/// The half is shorter than the policy in force: it must read the same a while later.
#[tokio::test]
async fn a_shorter_first_half_is_never_put_in_force() {
    slow_rewrite(OLD_LONG, slow_appender).await;
}
