//! The policy in force, swapped atomically on reload.
//!
//! A request takes one snapshot ([`PolicyHandle::current`]) and uses it throughout, so a
//! reload never changes the policy under a request in flight. Loading happens on a
//! blocking thread, off the request path; a policy that fails to load is logged with
//! its diagnostics and the one in force stays. Files that hold exactly the policy in
//! force are not loaded again, and the same broken content is reported once.

use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};

use arc_swap::ArcSwap;
use sha2::{Digest as _, Sha256};

use crate::diagnostic::Diagnostic;
use crate::eval::Engine;
use crate::limits::Limits;
use crate::source::{LoadError, Sources};
use crate::{LoadOptions, Policy, PolicyError};

/// Never advertised in `scopes_supported` (RFC 9728 and the MCP specification).
const OFFLINE_ACCESS: &str = "offline_access";

/// The policy in force: a loaded [`Policy`]'s engine with its version (digest) and
/// what the gate derives from it once.
#[derive(Debug)]
pub struct ActivePolicy {
    engine: Engine,
    digest: String,
    scopes_supported: Vec<String>,
    /// What the files held: a reload reading the same skips loading.
    fingerprint: Fingerprint,
    /// The files' total length in bytes.
    bytes: usize,
    /// The member names the policy's `arg` conditions read, chain by chain, each with
    /// its case folding: what a call's arguments must spell exactly.
    argument_members: Vec<Vec<(String, String)>>,
}

impl ActivePolicy {
    /// The policy in force made of a loaded policy.
    pub fn new(loaded: Policy) -> ActivePolicy {
        let digest = loaded.sources().digest();
        let fingerprint = fingerprint_sources(loaded.sources());
        let bytes = total_bytes(loaded.sources());
        let scopes_supported = loaded
            .engine()
            .index()
            .scopes
            .names
            .iter()
            .filter(|name| &***name != OFFLINE_ACCESS)
            .map(|name| name.to_string())
            .collect();
        let mut argument_members: Vec<Vec<(String, String)>> = Vec::new();
        for path in loaded.engine().index().argument_paths() {
            for chain in path.member_chains() {
                let chain: Vec<(String, String)> = chain
                    .into_iter()
                    .map(|member| (member.to_string(), super::strict::fold(member).into_owned()))
                    .collect();
                if !argument_members.contains(&chain) {
                    argument_members.push(chain);
                }
            }
        }
        ActivePolicy {
            engine: loaded.into_engine(),
            digest,
            scopes_supported,
            fingerprint,
            bytes,
            argument_members,
        }
    }

    /// The member names the policy's `arg` conditions read, one chain per path form,
    /// each name with its case folding.
    pub(crate) fn argument_members(&self) -> &[Vec<(String, String)>] {
        &self.argument_members
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

    /// The policy files' total length in bytes.
    pub(crate) fn bytes(&self) -> usize {
        self.bytes
    }
}

/// A SHA-256 identifying what one reading of the policy files gave.
pub(crate) type Fingerprint = [u8; 32];

/// One reading of the policy files: their text, or why they could not be read.
#[derive(Debug)]
pub(crate) struct Reading {
    /// The files, or the read error.
    pub(crate) outcome: Result<Sources, LoadError>,
    /// File names and texts (or the error), hashed.
    pub(crate) fingerprint: Fingerprint,
}

impl Reading {
    fn new(outcome: Result<Sources, LoadError>) -> Reading {
        let fingerprint = match &outcome {
            Ok(sources) => fingerprint_sources(sources),
            Err(error) => {
                let mut hasher = Sha256::new();
                hasher.update(u64::MAX.to_le_bytes());
                hasher.update(error.to_string().as_bytes());
                hasher.finalize().into()
            }
        };
        Reading {
            outcome,
            fingerprint,
        }
    }

    /// The files' total length in bytes; `None` when they could not be read.
    pub(crate) fn bytes(&self) -> Option<usize> {
        self.outcome.as_ref().ok().map(total_bytes)
    }
}

/// Names and texts in order, each prefixed by its length so that no two different
/// sets of files share a fingerprint.
fn fingerprint_sources(sources: &Sources) -> Fingerprint {
    let mut hasher = Sha256::new();
    for (_, file) in sources.iter() {
        for part in [file.name(), file.text()] {
            hasher.update((part.len() as u64).to_le_bytes());
            hasher.update(part.as_bytes());
        }
    }
    hasher.finalize().into()
}

fn total_bytes(sources: &Sources) -> usize {
    sources.iter().map(|(_, file)| file.text().len()).sum()
}

/// The policy in force, shared by every clone.
#[derive(Debug, Clone)]
pub struct PolicyHandle {
    shared: Arc<Shared>,
}

#[derive(Debug)]
struct Shared {
    current: ArcSwap<ActivePolicy>,
    path: Option<PathBuf>,
    /// How the policy is loaded, at start and on every reload.
    options: LoadOptions,
    /// Reloads run one at a time, so the last file content read is the last swapped in.
    reloading: tokio::sync::Mutex<()>,
    /// How many times another policy was put in force.
    generation: AtomicU64,
    /// How many reloads failed.
    failures: AtomicU64,
    /// The fingerprint of the last reading that failed to load, reported once.
    last_failure: Mutex<Option<Fingerprint>>,
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

impl std::error::Error for ReloadError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            ReloadError::Policy(error) => Some(error),
            ReloadError::NoPath | ReloadError::Task(_) => None,
        }
    }
}

/// What a reload did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Outcome {
    /// Another policy is in force.
    Replaced,
    /// The files hold the policy in force: nothing was loaded.
    Unchanged,
    /// The files failed to load; `reported` is false when the same content already
    /// failed and was reported.
    Failed { reported: bool },
}

impl PolicyHandle {
    /// A handle on a fixed policy (reload with [`PolicyHandle::replace`]).
    pub fn new(policy: Policy) -> PolicyHandle {
        PolicyHandle::with(ActivePolicy::new(policy), None, LoadOptions::default())
    }

    /// Loads the policy file or directory at `path` with `options`;
    /// [`PolicyHandle::reload`] reads it again with the same options. Warnings are
    /// logged.
    pub fn load(
        path: impl Into<PathBuf>,
        options: LoadOptions,
    ) -> Result<PolicyHandle, PolicyError> {
        let path = path.into();
        let loaded = options.load(&path)?;
        log_warnings(&loaded);
        let policy = ActivePolicy::new(loaded);
        tracing::info!(policy = %policy.digest, path = %path.display(), "policy loaded");
        Ok(PolicyHandle::with(policy, Some(path), options))
    }

    fn with(policy: ActivePolicy, path: Option<PathBuf>, options: LoadOptions) -> PolicyHandle {
        PolicyHandle {
            shared: Arc::new(Shared {
                current: ArcSwap::from_pointee(policy),
                path,
                options,
                reloading: tokio::sync::Mutex::new(()),
                generation: AtomicU64::new(0),
                failures: AtomicU64::new(0),
                last_failure: Mutex::new(None),
            }),
        }
    }

    /// The policy file or directory, if the policy came from one.
    pub fn path(&self) -> Option<&Path> {
        self.shared.path.as_deref()
    }

    /// The policy in force now. Keep the snapshot for the whole request.
    pub fn current(&self) -> Arc<ActivePolicy> {
        self.shared.current.load_full()
    }

    /// How many times another policy has been put in force since the handle was made
    /// (by a reload that loaded changed files, or by [`PolicyHandle::replace`]). A reload
    /// that finds the files unchanged, or fails, leaves it as it was.
    pub fn generation(&self) -> u64 {
        self.shared.generation.load(Ordering::Acquire)
    }

    /// How many reloads failed since the handle was made (the policy in force stayed).
    pub fn failed_reloads(&self) -> u64 {
        self.shared.failures.load(Ordering::Relaxed)
    }

    /// Puts `policy` in force; requests in flight finish on the previous one.
    pub fn replace(&self, policy: Policy) {
        let policy = ActivePolicy::new(policy);
        tracing::info!(policy = %policy.digest, "policy in force");
        self.shared.current.store(Arc::new(policy));
        self.shared.generation.fetch_add(1, Ordering::AcqRel);
    }

    /// Reads the policy files again (once), off the request path, and puts the result in
    /// force if it loads. Files holding exactly the policy in force are not loaded again:
    /// the policy in force is returned and nothing is logged above debug level. On
    /// failure the error is returned and logged with its diagnostics (once for the same
    /// content), and the previous policy stays in force.
    pub async fn reload(&self) -> Result<Arc<ActivePolicy>, ReloadError> {
        self.reload_outcome().await.0
    }

    /// [`PolicyHandle::reload`], telling what it did.
    pub(crate) async fn reload_outcome(&self) -> (Result<Arc<ActivePolicy>, ReloadError>, Outcome) {
        let Some(path) = self.shared.path.clone() else {
            self.count_failure();
            return (
                Err(ReloadError::NoPath),
                Outcome::Failed { reported: false },
            );
        };
        let _one_at_a_time = self.shared.reloading.lock().await;
        match read(path, self.shared.options.limits).await {
            Ok(reading) => self.apply(reading).await,
            Err(error) => {
                self.count_failure();
                failed_task(error)
            }
        }
    }

    /// Reads the policy files once, off the request path.
    pub(crate) async fn read(&self) -> Result<Reading, ReloadError> {
        let path = self.shared.path.clone().ok_or(ReloadError::NoPath)?;
        read(path, self.shared.options.limits).await
    }

    /// Reads the files once more, one reload at a time, and applies the reading if it is
    /// `expected`; otherwise returns the new reading, applying nothing.
    pub(crate) async fn reload_if(
        &self,
        expected: &Fingerprint,
    ) -> Result<(Result<Arc<ActivePolicy>, ReloadError>, Outcome), Reading> {
        let _one_at_a_time = self.shared.reloading.lock().await;
        let reading = match self.read().await {
            Ok(reading) => reading,
            Err(error) => {
                self.count_failure();
                return Ok(failed_task(error));
            }
        };
        if reading.fingerprint != *expected {
            return Err(reading);
        }
        Ok(self.apply(reading).await)
    }

    /// Loads a reading and puts it in force, unless it is the policy in force.
    async fn apply(&self, reading: Reading) -> (Result<Arc<ActivePolicy>, ReloadError>, Outcome) {
        let current = self.current();
        if reading.fingerprint == current.fingerprint {
            self.forget_failure();
            tracing::debug!(policy = %current.digest, "policy files unchanged; not reloaded");
            return (Ok(current), Outcome::Unchanged);
        }
        let fingerprint = reading.fingerprint;
        let options = self.shared.options.clone();
        let loading = tokio::task::spawn_blocking(move || match reading.outcome {
            Ok(sources) => options.load_sources(sources),
            Err(error) => Err(PolicyError::Read(error)),
        });
        let outcome = match loading.await {
            Ok(Ok(loaded)) => Ok(loaded),
            Ok(Err(error)) => Err(ReloadError::Policy(error)),
            Err(error) => Err(ReloadError::Task(error.to_string())),
        };
        match outcome {
            Ok(loaded) => {
                self.forget_failure();
                log_warnings(&loaded);
                let policy = Arc::new(ActivePolicy::new(loaded));
                let previous = self.shared.current.swap(Arc::clone(&policy));
                self.shared.generation.fetch_add(1, Ordering::AcqRel);
                tracing::info!(
                    policy = %policy.digest,
                    previous = %previous.digest,
                    "policy reloaded"
                );
                (Ok(policy), Outcome::Replaced)
            }
            Err(error) => {
                self.count_failure();
                let reported = self.remember_failure(fingerprint);
                if reported {
                    tracing::error!(
                        policy = %current.digest,
                        "policy reload failed, the policy in force stays:\n{error}"
                    );
                } else {
                    tracing::debug!(
                        policy = %current.digest,
                        "policy files still fail to load as reported; the policy in force stays"
                    );
                }
                (Err(error), Outcome::Failed { reported })
            }
        }
    }

    fn count_failure(&self) {
        self.shared.failures.fetch_add(1, Ordering::Relaxed);
    }

    /// Remembers a failed reading; whether it differs from the last failure.
    fn remember_failure(&self, fingerprint: Fingerprint) -> bool {
        let mut last = self
            .shared
            .last_failure
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        last.replace(fingerprint) != Some(fingerprint)
    }

    fn forget_failure(&self) {
        *self
            .shared
            .last_failure
            .lock()
            .unwrap_or_else(PoisonError::into_inner) = None;
    }
}

/// A reading that did not happen: logged.
fn failed_task(error: ReloadError) -> (Result<Arc<ActivePolicy>, ReloadError>, Outcome) {
    tracing::error!("policy reload failed, the policy in force stays: {error}");
    (Err(error), Outcome::Failed { reported: true })
}

async fn read(path: PathBuf, limits: Limits) -> Result<Reading, ReloadError> {
    tokio::task::spawn_blocking(move || Reading::new(Sources::from_path_with(path, &limits)))
        .await
        .map_err(|error| ReloadError::Task(error.to_string()))
}

fn log_warnings(loaded: &Policy) {
    for warning in loaded.warnings() {
        tracing::warn!("{}", plain(loaded.sources(), warning));
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
