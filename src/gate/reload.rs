//! Reload triggers: a watcher on the policy files, and `SIGHUP`.
//!
//! The watcher watches the directory holding the policy (the policy directory itself, or
//! a policy file's directory), so a file replaced by rename (as editors and deployment
//! tools do) is seen. Only events that can change content count: creation, data
//! changes, renames and removals; reads (open, close) and metadata changes do not, so
//! the watcher's own reads never trigger another reload. Events are debounced: a reload
//! starts once no event has arrived for the debounce interval (and, on Linux, once every
//! writer that changed a policy file has closed it, waiting at most [`WRITER_HOLD`]).
//! Then the files are read until two readings [`WatchConfig::settle`] apart agree; a
//! policy that would shrink (fewer bytes than the one in force, or empty) must also read
//! the same after [`WatchConfig::shrink_settle`]. Files holding the policy in force are
//! not loaded again.

use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use notify::event::{AccessKind, AccessMode, CreateKind, ModifyKind};
use notify::{Event, EventKind, RecursiveMode, Watcher};
use tokio::sync::Notify;
use tokio::task::JoinHandle;

use super::policy::{PolicyHandle, Reading};

/// The longest a reload waits for a writer to close a policy file it changed.
const WRITER_HOLD: Duration = Duration::from_secs(2);

/// How many readings a reload makes before giving up on files that keep changing (the
/// next change event starts another reload).
const MAX_READINGS: usize = 40;

/// Whether the platform's watcher reports a writer closing a file (inotify does).
const REPORTS_CLOSE_WRITE: bool = cfg!(any(target_os = "linux", target_os = "android"));

/// How a watcher waits for a burst of file events to settle.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct WatchConfig {
    /// Quiet time after the last event before reloading. Default 200 ms.
    pub debounce: Duration,
    /// Two readings this far apart must give the same bytes before a policy loads.
    /// Default 50 ms.
    pub settle: Duration,
    /// A policy with fewer bytes than the one in force (or empty) must also read the same
    /// after this long before it loads. Default 1 s.
    pub shrink_settle: Duration,
}

impl Default for WatchConfig {
    fn default() -> WatchConfig {
        WatchConfig {
            debounce: Duration::from_millis(200),
            settle: Duration::from_millis(50),
            shrink_settle: Duration::from_secs(1),
        }
    }
}

impl WatchConfig {
    /// The same configuration with another debounce interval.
    pub fn with_debounce(mut self, debounce: Duration) -> WatchConfig {
        self.debounce = debounce;
        self
    }

    /// The same configuration with another interval between agreeing readings.
    pub fn with_settle(mut self, settle: Duration) -> WatchConfig {
        self.settle = settle;
        self
    }

    /// The same configuration with another confirmation time for a shrinking policy.
    pub fn with_shrink_settle(mut self, shrink_settle: Duration) -> WatchConfig {
        self.shrink_settle = shrink_settle;
        self
    }
}

/// Watches the policy files while it lives; dropping it stops the watching.
#[derive(Debug)]
pub struct PolicyWatcher {
    _watcher: notify::RecommendedWatcher,
    task: JoinHandle<()>,
}

impl Drop for PolicyWatcher {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// Why the policy files cannot be watched.
#[derive(Debug)]
pub enum WatchError {
    /// The policy was not loaded from a file.
    NoPath,
    /// The file system watcher failed.
    Notify(notify::Error),
}

impl std::fmt::Display for WatchError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            WatchError::NoPath => f.write_str("the policy was not loaded from a file"),
            WatchError::Notify(error) => write!(f, "cannot watch the policy files: {error}"),
        }
    }
}

impl std::error::Error for WatchError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            WatchError::NoPath => None,
            WatchError::Notify(error) => Some(error),
        }
    }
}

/// What the file events since the last reload said.
#[derive(Debug, Default)]
struct Activity {
    /// A policy file may have changed.
    changed: bool,
    /// Policy files changed by a writer that has not closed them yet.
    writing: HashSet<PathBuf>,
}

/// What one event means for the policy.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Meaning {
    /// Content may have changed.
    Change,
    /// Content changed through a file a writer may still hold open.
    Written,
    /// A writer closed the file.
    Closed,
    /// Nothing for the policy: a read, or a metadata change.
    Nothing,
}

fn meaning(kind: &EventKind) -> Meaning {
    match kind {
        EventKind::Access(AccessKind::Close(AccessMode::Write)) => Meaning::Closed,
        EventKind::Access(_) | EventKind::Modify(ModifyKind::Metadata(_)) => Meaning::Nothing,
        EventKind::Modify(ModifyKind::Data(_)) | EventKind::Create(CreateKind::File) => {
            Meaning::Written
        }
        EventKind::Create(_)
        | EventKind::Modify(_)
        | EventKind::Remove(_)
        | EventKind::Any
        | EventKind::Other => Meaning::Change,
    }
}

impl Activity {
    fn record(&mut self, event: &notify::Result<Event>, policy: &Path, is_directory: bool) -> bool {
        let event = match event {
            Ok(event) => event,
            Err(_) => {
                self.changed = true;
                return true;
            }
        };
        let concerned = event
            .paths
            .iter()
            .filter(|changed| concerns(changed, policy, is_directory));
        let mut relevant = false;
        for changed in concerned {
            match meaning(&event.kind) {
                Meaning::Nothing => continue,
                Meaning::Change => {
                    self.changed = true;
                    self.writing.remove(changed);
                }
                Meaning::Written => {
                    self.changed = true;
                    if REPORTS_CLOSE_WRITE {
                        self.writing.insert(changed.clone());
                    }
                }
                Meaning::Closed => {
                    self.writing.remove(changed);
                }
            }
            relevant = true;
        }
        relevant
    }
}

/// The state shared by the notify callback and the reloading task.
#[derive(Debug, Default)]
struct Events {
    activity: Mutex<Activity>,
    wake: Notify,
}

impl Events {
    fn activity(&self) -> std::sync::MutexGuard<'_, Activity> {
        self.activity.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

impl PolicyHandle {
    /// Reloads the policy whenever its files change. Call from within a tokio runtime.
    pub fn watch(&self, config: WatchConfig) -> Result<PolicyWatcher, WatchError> {
        let path = self.path().ok_or(WatchError::NoPath)?.to_path_buf();
        let is_directory = path.is_dir();
        let directory = if is_directory {
            path.clone()
        } else {
            parent(&path)
        };
        let events = Arc::new(Events::default());
        let seen = Arc::clone(&events);
        let watched = path.clone();
        let mut watcher = notify::recommended_watcher(move |event: notify::Result<Event>| {
            let relevant = seen.activity().record(&event, &watched, is_directory);
            if relevant {
                seen.wake.notify_one();
            }
        })
        .map_err(WatchError::Notify)?;
        watcher
            .watch(&directory, RecursiveMode::NonRecursive)
            .map_err(WatchError::Notify)?;
        tracing::info!(path = %path.display(), "watching the policy for changes");
        let handle = self.clone();
        let task = tokio::spawn(debounced_reloads(handle, events, config));
        Ok(PolicyWatcher {
            _watcher: watcher,
            task,
        })
    }

    /// Reloads the policy on every `SIGHUP`. Call from within a tokio runtime.
    #[cfg(unix)]
    pub fn reload_on_sighup(&self) -> std::io::Result<JoinHandle<()>> {
        use super::policy::{Outcome, ReloadError};
        use tokio::signal::unix::{signal, SignalKind};
        let mut hangups = signal(SignalKind::hangup())?;
        let handle = self.clone();
        Ok(tokio::spawn(async move {
            while hangups.recv().await.is_some() {
                tracing::info!("SIGHUP: reloading the policy");
                match handle.reload_outcome().await {
                    (Err(ReloadError::NoPath), _) => {
                        tracing::warn!("SIGHUP: the policy was not loaded from a file");
                    }
                    (_, Outcome::Unchanged) => {
                        tracing::info!("SIGHUP: the policy files are unchanged");
                    }
                    (_, Outcome::Failed { reported: false }) => tracing::warn!(
                        "SIGHUP: the policy files still fail to load as reported before; \
                         the policy in force stays"
                    ),
                    (_, Outcome::Replaced | Outcome::Failed { reported: true }) => {}
                }
            }
        }))
    }
}

fn parent(path: &Path) -> PathBuf {
    match path.parent() {
        Some(parent) if !parent.as_os_str().is_empty() => parent.to_path_buf(),
        _ => PathBuf::from("."),
    }
}

/// Whether a changed path is the policy file, or a `.policy` file of the directory, or
/// the `..data` link through which Kubernetes swaps a mounted ConfigMap's files at once
/// (a change the files' own names never show). A reading that finds the files as they
/// were reloads nothing.
fn concerns(changed: &Path, policy: &Path, is_directory: bool) -> bool {
    if changed
        .file_name()
        .is_some_and(|name| name == KUBERNETES_DATA_LINK)
    {
        return true;
    }
    if is_directory {
        changed
            .extension()
            .is_some_and(|extension| extension == "policy")
    } else {
        changed.file_name() == policy.file_name()
    }
}

/// The link Kubernetes' atomic writer points at each new version of a mounted volume.
const KUBERNETES_DATA_LINK: &str = "..data";

async fn debounced_reloads(handle: PolicyHandle, events: Arc<Events>, config: WatchConfig) {
    loop {
        events.wake.notified().await;
        let burst = Instant::now();
        loop {
            let quiet = tokio::time::timeout(config.debounce, events.wake.notified())
                .await
                .is_err();
            if !quiet {
                continue;
            }
            let mut activity = events.activity();
            if activity.writing.is_empty() {
                break;
            }
            if burst.elapsed() >= WRITER_HOLD {
                tracing::debug!("a policy file is still open for writing; reading it anyway");
                activity.writing.clear();
                break;
            }
        }
        let changed = std::mem::take(&mut events.activity().changed);
        if changed {
            settled_reload(&handle, &config).await;
        }
    }
}

/// Reads the policy files until two readings agree (and, for a policy that would shrink,
/// until it reads the same after [`WatchConfig::shrink_settle`]), then reloads.
async fn settled_reload(handle: &PolicyHandle, config: &WatchConfig) {
    let Ok(mut previous) = handle.read().await else {
        return;
    };
    for _ in 0..MAX_READINGS {
        tokio::time::sleep(config.settle).await;
        let Ok(reading) = handle.read().await else {
            return;
        };
        if reading.fingerprint != previous.fingerprint {
            previous = reading;
            continue;
        }
        if shrinks(handle, &reading) {
            tracing::debug!("the policy files shrank; reading them again before reloading");
            tokio::time::sleep(config.shrink_settle).await;
            let Ok(later) = handle.read().await else {
                return;
            };
            if later.fingerprint != reading.fingerprint {
                previous = later;
                continue;
            }
        }
        match handle.reload_if(&reading.fingerprint).await {
            Ok(_) => return,
            Err(changed) => previous = changed,
        }
    }
    tracing::debug!("the policy files keep changing; waiting for the next change");
}

/// Whether a reading holds fewer bytes than the policy in force, or none.
fn shrinks(handle: &PolicyHandle, reading: &Reading) -> bool {
    reading
        .bytes()
        .is_some_and(|bytes| bytes == 0 || bytes < handle.current().bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_kubernetes_volume_swap_concerns_the_policy() {
        let policy = Path::new("/etc/toolgate/mcp.policy");
        assert!(concerns(
            Path::new("/etc/toolgate/mcp.policy"),
            policy,
            false
        ));
        assert!(concerns(Path::new("/etc/toolgate/..data"), policy, false));
        assert!(!concerns(
            Path::new("/etc/toolgate/other.toml"),
            policy,
            false
        ));
        assert!(!concerns(
            Path::new("/etc/toolgate/..2026_12_03"),
            policy,
            false
        ));
        let directory = Path::new("/policies");
        assert!(concerns(Path::new("/policies/a.policy"), directory, true));
        assert!(concerns(Path::new("/policies/..data"), directory, true));
        assert!(!concerns(Path::new("/policies/notes.md"), directory, true));
    }
}
