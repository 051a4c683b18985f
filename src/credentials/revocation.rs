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

    /// Replaces the set with the ids of a revocation file: one `jti` a line, compared
    /// exactly (only the line ending, `\n` or `\r\n`, is removed: spaces are part of the
    /// id); empty lines and lines starting with `#` are skipped.
    pub fn load_file(&self, path: &Path, key: &str) -> Result<(), ConfigError> {
        let text = files::read_capped(path, files::MAX_LIST_BYTES)
            .map_err(|error| ConfigError::with_source(key, error.to_string(), error))?;
        self.replace(parse_list(&text));
        Ok(())
    }

    /// Reloads the set from `path` whenever the file's content changes, while the set
    /// lives (needs a tokio runtime), replacing ids revoked in memory. A file that cannot
    /// be read (or was deleted) leaves the set as it was, with a warning; a file whose
    /// modification time changed but not its content is not reloaded.
    pub fn watch_file(&self, path: &Path) {
        files::watch(
            path.to_path_buf(),
            "revocation file",
            Arc::downgrade(&self.inner),
            |inner: &Inner, text: &str| {
                inner.replace(parse_list(text).map(str::to_string).collect());
                Ok(())
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

/// The ids of a revocation file's text: each line without its line ending, exactly;
/// empty lines and `#` comments skipped.
pub(crate) fn parse_list(text: &str) -> impl Iterator<Item = &str> {
    text.lines()
        .filter(|line| !line.is_empty() && !line.starts_with('#'))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_compared_exactly() {
        let text = "# revoked\n  spaced  \nplain\r\n\ttabbed\n\nlast";
        let revocations = Revocations::from_ids(parse_list(text));
        for revoked in ["  spaced  ", "plain", "\ttabbed", "last"] {
            assert!(revocations.contains(revoked), "{revoked:?}");
        }
        for kept in ["spaced", "plain\r", "tabbed", "", "# revoked"] {
            assert!(!revocations.contains(kept), "{kept:?}");
        }
        assert_eq!(revocations.len(), 4);
    }
}
