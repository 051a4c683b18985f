//! Revoked token ids (`jti`): a set shared by the JWT scheme and the principal cache,
//! loaded from a file and updatable while running.

use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, PoisonError, RwLock};

use ahash::AHashSet;

use super::files;
use super::ConfigError;

/// A shared, updatable set of revoked `jti` values. Clones share the set.
#[derive(Debug, Clone, Default)]
pub struct Revocations {
    inner: Arc<Inner>,
}

#[derive(Debug, Default)]
struct Inner {
    ids: RwLock<AHashSet<String>>,
    /// The set's size, read without the lock so an empty set costs one atomic load.
    count: AtomicUsize,
}

impl Revocations {
    /// An empty set.
    pub fn new() -> Revocations {
        Revocations::default()
    }

    /// A set holding `ids`.
    pub fn from_ids<I: IntoIterator<Item = S>, S: Into<String>>(ids: I) -> Revocations {
        let revocations = Revocations::new();
        revocations.replace(ids);
        revocations
    }

    /// Revokes one token id.
    pub fn revoke(&self, jti: impl Into<String>) {
        let mut ids = self
            .inner
            .ids
            .write()
            .unwrap_or_else(PoisonError::into_inner);
        ids.insert(jti.into());
        self.inner.count.store(ids.len(), Ordering::Release);
    }

    /// Replaces the whole set.
    pub fn replace<I: IntoIterator<Item = S>, S: Into<String>>(&self, ids: I) {
        self.inner
            .replace(ids.into_iter().map(Into::into).collect());
    }

    /// Whether `jti` is revoked.
    pub fn contains(&self, jti: &str) -> bool {
        if self.inner.count.load(Ordering::Acquire) == 0 {
            return false;
        }
        let ids = self
            .inner
            .ids
            .read()
            .unwrap_or_else(PoisonError::into_inner);
        ids.contains(jti)
    }

    /// How many ids are revoked.
    pub fn len(&self) -> usize {
        self.inner.count.load(Ordering::Acquire)
    }

    /// Whether no id is revoked.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Replaces the set with the ids of a revocation file: one `jti` a line; blank lines
    /// and lines starting with `#` are skipped.
    pub fn load_file(&self, path: &Path, key: &str) -> Result<(), ConfigError> {
        let text = files::read_capped(path, files::MAX_LIST_BYTES)
            .map_err(|error| ConfigError::new(key, error))?;
        self.replace(parse_list(&text));
        Ok(())
    }

    /// Reloads the set from `path` whenever the file changes, while the set lives (needs
    /// a tokio runtime). A file that cannot be read leaves the set as it was.
    pub fn watch_file(&self, path: &Path) {
        let file = path.to_path_buf();
        files::watch(
            path.to_path_buf(),
            Arc::downgrade(&self.inner),
            move |inner: &Inner| match files::read_capped(&file, files::MAX_LIST_BYTES) {
                Ok(text) => inner.replace(parse_list(&text).map(str::to_string).collect()),
                Err(error) => tracing::warn!(%error, "revocation file not reloaded"),
            },
        );
    }
}

impl Inner {
    fn replace(&self, fresh: AHashSet<String>) {
        let mut current = self.ids.write().unwrap_or_else(PoisonError::into_inner);
        self.count.store(fresh.len(), Ordering::Release);
        *current = fresh;
    }
}

/// The ids of a revocation file's text.
pub(crate) fn parse_list(text: &str) -> impl Iterator<Item = &str> {
    text.lines()
        .map(str::trim)
        .filter(|line| !line.is_empty() && !line.starts_with('#'))
}
