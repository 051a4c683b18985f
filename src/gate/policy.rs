//! The policy in force, swapped atomically on reload.
//!
//! A request takes one snapshot ([`PolicyHandle::current`]) and uses it throughout, so a
//! reload never changes the policy under a request in flight. Loading happens on a
//! blocking thread, off the request path; a policy that fails to load is logged with
//! its diagnostics and the one in force stays.

use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use arc_swap::ArcSwap;

use crate::diagnostic::Diagnostic;
use crate::eval::Engine;
use crate::load::{Loaded, PolicyError};
use crate::source::Sources;

/// Never advertised in `scopes_supported` (RFC 9728 and the MCP specification).
const OFFLINE_ACCESS: &str = "offline_access";

/// A compiled policy with its version.
#[derive(Debug)]
pub struct Policy {
    engine: Engine,
    digest: String,
    scopes_supported: Vec<String>,
}

impl Policy {
    /// The policy of a loaded set of files.
    pub fn new(loaded: Loaded) -> Policy {
        let digest = loaded.sources.digest();
        let scopes_supported = loaded
            .engine
            .table()
            .scopes
            .names
            .iter()
            .filter(|name| &***name != OFFLINE_ACCESS)
            .map(|name| name.to_string())
            .collect();
        Policy {
            engine: loaded.engine,
            digest,
            scopes_supported,
        }
    }

    /// The engine deciding with this policy.
    pub fn engine(&self) -> &Engine {
        &self.engine
    }

    /// The SHA-256 of the policy text, in hex: its version in the audit log.
    pub fn digest(&self) -> &str {
        &self.digest
    }

    /// The declared scopes, in declaration order, without `offline_access`.
    pub fn scopes_supported(&self) -> &[String] {
        &self.scopes_supported
    }
}

/// The policy in force, shared by every clone.
#[derive(Debug, Clone)]
pub struct PolicyHandle {
    shared: Arc<Shared>,
}

#[derive(Debug)]
struct Shared {
    current: ArcSwap<Policy>,
    path: Option<PathBuf>,
    /// Reloads run one at a time, so the last file content read is the last swapped in.
    reloading: tokio::sync::Mutex<()>,
}

/// Why a reload left the policy as it was.
#[derive(Debug)]
pub enum ReloadError {
    /// The handle was made from a policy in memory: there is no file to reload.
    NoPath,
    /// The files did not load.
    Policy(PolicyError),
    /// The loading thread failed.
    Task(String),
}

impl fmt::Display for ReloadError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ReloadError::NoPath => f.write_str("the policy was not loaded from a file"),
            ReloadError::Policy(error) => write!(f, "{error}"),
            ReloadError::Task(error) => write!(f, "the policy loading task failed: {error}"),
        }
    }
}

impl std::error::Error for ReloadError {}

impl PolicyHandle {
    /// A handle on a fixed policy (reload with [`PolicyHandle::replace`]).
    pub fn new(policy: Policy) -> PolicyHandle {
        PolicyHandle::with(policy, None)
    }

    /// Loads the policy file or directory at `path`; [`PolicyHandle::reload`] reads it
    /// again. Warnings are logged.
    pub fn load(path: impl Into<PathBuf>) -> Result<PolicyHandle, PolicyError> {
        let path = path.into();
        let loaded = Loaded::from_path(&path)?;
        log_warnings(&loaded);
        let policy = Policy::new(loaded);
        tracing::info!(policy = %policy.digest, path = %path.display(), "policy loaded");
        Ok(PolicyHandle::with(policy, Some(path)))
    }

    fn with(policy: Policy, path: Option<PathBuf>) -> PolicyHandle {
        PolicyHandle {
            shared: Arc::new(Shared {
                current: ArcSwap::from_pointee(policy),
                path,
                reloading: tokio::sync::Mutex::new(()),
            }),
        }
    }

    /// The policy file or directory, if the policy came from one.
    pub fn path(&self) -> Option<&Path> {
        self.shared.path.as_deref()
    }

    /// The policy in force now. Keep the snapshot for the whole request.
    pub fn current(&self) -> Arc<Policy> {
        self.shared.current.load_full()
    }

    /// Puts `policy` in force; requests in flight finish on the previous one.
    pub fn replace(&self, policy: Policy) {
        tracing::info!(policy = %policy.digest, "policy in force");
        self.shared.current.store(Arc::new(policy));
    }

    /// Reads the policy files again, off the request path, and puts the result in force
    /// if it loads. On failure the error is logged with its diagnostics and returned, and
    /// the previous policy stays in force.
    pub async fn reload(&self) -> Result<Arc<Policy>, ReloadError> {
        let Some(path) = self.shared.path.clone() else {
            return Err(ReloadError::NoPath);
        };
        let _one_at_a_time = self.shared.reloading.lock().await;
        let loading = tokio::task::spawn_blocking(move || Loaded::from_path(path));
        let outcome = match loading.await {
            Ok(Ok(loaded)) => Ok(loaded),
            Ok(Err(error)) => Err(ReloadError::Policy(error)),
            Err(error) => Err(ReloadError::Task(error.to_string())),
        };
        match outcome {
            Ok(loaded) => {
                log_warnings(&loaded);
                let policy = Arc::new(Policy::new(loaded));
                let previous = self.shared.current.swap(Arc::clone(&policy));
                tracing::info!(
                    policy = %policy.digest,
                    previous = %previous.digest,
                    "policy reloaded"
                );
                Ok(policy)
            }
            Err(error) => {
                let kept = self.current();
                tracing::error!(
                    policy = %kept.digest,
                    "policy reload failed, the policy in force stays:\n{error}"
                );
                Err(error)
            }
        }
    }
}

fn log_warnings(loaded: &Loaded) {
    for warning in &loaded.warnings {
        tracing::warn!("{}", plain(&loaded.sources, warning));
    }
}

/// `FILE:LINE:COLUMN: warning[CODE]: message`.
fn plain(sources: &Sources, diagnostic: &Diagnostic) -> String {
    format!(
        "{}: {}[{}]: {}",
        sources.location(diagnostic.span),
        if diagnostic.is_error() {
            "error"
        } else {
            "warning"
        },
        diagnostic.code,
        diagnostic.message
    )
}
