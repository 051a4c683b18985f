//! Reload triggers: a watcher on the policy files, and `SIGHUP`.
//!
//! The watcher watches the directory holding the policy (the policy directory itself, or
//! a policy file's directory), so a file replaced by rename (as editors and deployment
//! tools do) is seen. Events are debounced: a reload starts once no event has arrived
//! for the debounce interval. Write policy files atomically (write a temporary file, then
//! rename it over the old one); a file caught half-written fails to load (and the policy
//! in force stays) or, rarely, loads as a shorter policy, until the next event.

use std::path::{Path, PathBuf};
use std::time::Duration;

use notify::{Event, RecursiveMode, Watcher};
use tokio::sync::mpsc;
use tokio::task::JoinHandle;

use super::policy::PolicyHandle;

/// How a watcher waits for a burst of file events to settle.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct WatchConfig {
    /// Quiet time after the last event before reloading. Default 200 ms.
    pub debounce: Duration,
}

impl Default for WatchConfig {
    fn default() -> WatchConfig {
        WatchConfig {
            debounce: Duration::from_millis(200),
        }
    }
}

impl WatchConfig {
    /// The same configuration with another debounce interval.
    pub fn with_debounce(mut self, debounce: Duration) -> WatchConfig {
        self.debounce = debounce;
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

impl std::error::Error for WatchError {}

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
        let (sender, receiver) = mpsc::channel::<()>(1);
        let watched = path.clone();
        let mut watcher = notify::recommended_watcher(move |event: notify::Result<Event>| {
            let relevant = match &event {
                Ok(event) => event
                    .paths
                    .iter()
                    .any(|changed| concerns(changed, &watched, is_directory)),
                Err(_) => true,
            };
            if relevant {
                let _ = sender.try_send(());
            }
        })
        .map_err(WatchError::Notify)?;
        watcher
            .watch(&directory, RecursiveMode::NonRecursive)
            .map_err(WatchError::Notify)?;
        tracing::info!(path = %path.display(), "watching the policy for changes");
        let handle = self.clone();
        let task = tokio::spawn(debounced_reloads(handle, receiver, config.debounce));
        Ok(PolicyWatcher {
            _watcher: watcher,
            task,
        })
    }

    /// Reloads the policy on every `SIGHUP`. Call from within a tokio runtime.
    #[cfg(unix)]
    pub fn reload_on_sighup(&self) -> std::io::Result<JoinHandle<()>> {
        use tokio::signal::unix::{signal, SignalKind};
        let mut hangups = signal(SignalKind::hangup())?;
        let handle = self.clone();
        Ok(tokio::spawn(async move {
            while hangups.recv().await.is_some() {
                tracing::info!("SIGHUP: reloading the policy");
                let _ = handle.reload().await;
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

/// Whether a changed path is the policy file, or a `.policy` file of the directory.
fn concerns(changed: &Path, policy: &Path, is_directory: bool) -> bool {
    if is_directory {
        changed
            .extension()
            .is_some_and(|extension| extension == "policy")
    } else {
        changed.file_name() == policy.file_name()
    }
}

async fn debounced_reloads(handle: PolicyHandle, mut events: mpsc::Receiver<()>, quiet: Duration) {
    while events.recv().await.is_some() {
        loop {
            match tokio::time::timeout(quiet, events.recv()).await {
                Ok(Some(())) => continue,
                Ok(None) => return,
                Err(_) => break,
            }
        }
        let _ = handle.reload().await;
    }
}
