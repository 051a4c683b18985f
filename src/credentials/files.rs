//! Reading configuration files with a size cap, and watching them for changes.
//!
//! A watched file is checked every [`WATCH_INTERVAL`]: when its modification time or
//! length changed, it is read until two readings [`SETTLE`] apart agree, and applied only
//! if its content differs from the content last seen (a `touch`, or a rewrite with the
//! same bytes, applies nothing). Content that fails to apply is reported once. Content
//! shorter than what was last applied (an emptied or half-written file) is applied only
//! when the next check reads it unchanged.

use std::path::{Path, PathBuf};
use std::sync::Weak;
use std::time::{Duration, SystemTime};

use sha2::{Digest as _, Sha256};

/// The largest key, JWKS or revocation file read (16 MiB).
pub(crate) const MAX_LIST_BYTES: u64 = 16 * 1024 * 1024;

/// How often watched files are checked for changes.
pub(crate) const WATCH_INTERVAL: Duration = Duration::from_secs(2);

/// Two readings of a changed file this far apart must agree before it is applied.
pub(crate) const SETTLE: Duration = Duration::from_millis(50);

/// How many readings a check makes before leaving a file that keeps changing to the next
/// check.
const MAX_READINGS: usize = 40;

/// Why [`read_capped`] failed; the text names the path.
#[derive(Debug)]
pub(crate) enum ReadError {
    /// The file could not be read (or is not UTF-8); the text ends with the operating
    /// system's message, the text of the source.
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    /// The file holds more than the limit.
    TooLarge { path: PathBuf, limit: u64 },
}

impl std::fmt::Display for ReadError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ReadError::Io { path, source } => {
                write!(f, "cannot read `{}`: {source}", path.display())
            }
            ReadError::TooLarge { path, limit } => {
                write!(f, "`{}` is larger than {limit} bytes", path.display())
            }
        }
    }
}

impl std::error::Error for ReadError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            ReadError::Io { source, .. } => Some(source),
            ReadError::TooLarge { .. } => None,
        }
    }
}

/// Reads a UTF-8 file of at most `limit` bytes.
pub(crate) fn read_capped(path: &Path, limit: u64) -> Result<String, ReadError> {
    let io = |source| ReadError::Io {
        path: path.to_path_buf(),
        source,
    };
    let metadata = std::fs::metadata(path).map_err(io)?;
    if metadata.len() > limit {
        return Err(ReadError::TooLarge {
            path: path.to_path_buf(),
            limit,
        });
    }
    std::fs::read_to_string(path).map_err(io)
}

/// A file's modification stamp: time and length.
fn stamp(path: &Path) -> Option<(SystemTime, u64)> {
    let metadata = std::fs::metadata(path).ok()?;
    Some((metadata.modified().ok()?, metadata.len()))
}

/// One reading of a watched file: its text, or why it could not be read.
type Reading = Result<String, String>;

async fn read(path: &Path) -> Reading {
    let path = path.to_path_buf();
    tokio::task::spawn_blocking(move || {
        read_capped(&path, MAX_LIST_BYTES).map_err(|error| error.to_string())
    })
    .await
    .unwrap_or_else(|error| Err(format!("the reading task failed: {error}")))
}

/// Reads until two readings `settle` apart agree; `None` if the file keeps changing.
async fn settled_read(path: &Path, settle: Duration) -> Option<Reading> {
    let mut previous = read(path).await;
    for _ in 0..MAX_READINGS {
        tokio::time::sleep(settle).await;
        let reading = read(path).await;
        if reading == previous {
            return Some(reading);
        }
        previous = reading;
    }
    None
}

fn digest(reading: &Reading) -> [u8; 32] {
    let mut hasher = Sha256::new();
    match reading {
        Ok(text) => {
            hasher.update([0]);
            hasher.update(text.as_bytes());
        }
        Err(error) => {
            hasher.update([1]);
            hasher.update(error.as_bytes());
        }
    }
    hasher.finalize().into()
}

/// How often a watched file is checked, and how far apart agreeing readings are.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Cadence {
    /// Between checks of the file's stamp.
    pub(crate) interval: Duration,
    /// Between two readings that must agree.
    pub(crate) settle: Duration,
}

impl Default for Cadence {
    fn default() -> Cadence {
        Cadence {
            interval: WATCH_INTERVAL,
            settle: SETTLE,
        }
    }
}

/// Calls `apply(owner, text)` whenever the content of the file at `path` changes,
/// checking every [`WATCH_INTERVAL`], for as long as `owner` lives. `what` names the file
/// in log lines. Without a tokio runtime nothing is watched.
pub(crate) fn watch<T: Send + Sync + 'static>(
    path: PathBuf,
    what: &'static str,
    owner: Weak<T>,
    apply: impl Fn(&T, &str) -> Result<(), String> + Send + 'static,
) {
    watch_with(path, what, Cadence::default(), owner, apply);
}

/// [`watch`] at another cadence.
pub(crate) fn watch_with<T: Send + Sync + 'static>(
    path: PathBuf,
    what: &'static str,
    cadence: Cadence,
    owner: Weak<T>,
    apply: impl Fn(&T, &str) -> Result<(), String> + Send + 'static,
) {
    let Ok(runtime) = tokio::runtime::Handle::try_current() else {
        return;
    };
    runtime.spawn(async move {
        let mut seen = stamp(&path);
        let first = read(&path).await;
        let mut last = digest(&first);
        let mut applied_bytes = first.as_ref().map_or(0, String::len);
        let mut shrinking: Option<[u8; 32]> = None;
        loop {
            tokio::time::sleep(cadence.interval).await;
            if owner.strong_count() == 0 {
                return;
            }
            let now = stamp(&path);
            if now == seen && shrinking.is_none() {
                continue;
            }
            let Some(reading) = settled_read(&path, cadence.settle).await else {
                tracing::debug!(path = %path.display(), "{what} keeps changing; reading it at the next check");
                continue;
            };
            seen = now;
            let fresh = digest(&reading);
            if fresh == last {
                shrinking = None;
                tracing::debug!(path = %path.display(), "{what} unchanged; not reloaded");
                continue;
            }
            if let Ok(text) = &reading {
                if text.len() < applied_bytes && shrinking != Some(fresh) {
                    shrinking = Some(fresh);
                    tracing::debug!(path = %path.display(), "{what} shrank; reloading it if the next check reads the same");
                    continue;
                }
            }
            shrinking = None;
            last = fresh;
            let Some(owner) = owner.upgrade() else {
                return;
            };
            let outcome = reading.and_then(|text| {
                apply(&owner, &text)?;
                Ok(text.len())
            });
            match outcome {
                Ok(bytes) => {
                    applied_bytes = bytes;
                    tracing::info!(path = %path.display(), "{what} reloaded");
                }
                Err(error) => {
                    tracing::warn!(%error, "{what} not reloaded; the previous entries stay");
                }
            }
        }
    });
}

#[cfg(test)]
mod tests {
    use std::sync::{Arc, Mutex};

    use super::*;

    /// Records every text applied; texts holding `broken` fail.
    #[derive(Default)]
    struct Applied(Mutex<Vec<String>>);

    impl Applied {
        fn texts(&self) -> Vec<String> {
            self.0.lock().unwrap().clone()
        }
    }

    fn directory(name: &str) -> PathBuf {
        let path =
            std::env::temp_dir().join(format!("toolgate-files-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&path);
        std::fs::create_dir_all(&path).unwrap();
        path
    }

    fn touch(path: &Path, seconds_later: u64) {
        let file = std::fs::File::options().write(true).open(path).unwrap();
        let later = SystemTime::now() + Duration::from_secs(seconds_later);
        file.set_modified(later).unwrap();
    }

    async fn until(applied: &Applied, count: usize) {
        for _ in 0..400 {
            if applied.texts().len() >= count {
                return;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        panic!("only {:?} applied", applied.texts());
    }

    #[tokio::test]
    async fn only_changed_content_is_applied_and_a_failure_is_reported_once() {
        let directory = directory("changes");
        let path = directory.join("list.txt");
        std::fs::write(&path, "a\n").unwrap();
        let applied = Arc::new(Applied::default());
        let cadence = Cadence {
            interval: Duration::from_millis(20),
            settle: Duration::from_millis(5),
        };
        watch_with(
            path.clone(),
            "test file",
            cadence,
            Arc::downgrade(&applied),
            |applied: &Applied, text: &str| {
                applied.0.lock().unwrap().push(text.to_string());
                if text.contains("broken") {
                    Err("broken".to_string())
                } else {
                    Ok(())
                }
            },
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
        // A touch and a rewrite with the same bytes change the stamp, not the content.
        touch(&path, 5);
        tokio::time::sleep(Duration::from_millis(150)).await;
        std::fs::write(&path, "a\n").unwrap();
        tokio::time::sleep(Duration::from_millis(150)).await;
        assert_eq!(applied.texts(), Vec::<String>::new());
        std::fs::write(&path, "a\nb\n").unwrap();
        until(&applied, 1).await;
        std::fs::write(&path, "a\nb\nbroken\n").unwrap();
        until(&applied, 2).await;
        touch(&path, 10);
        tokio::time::sleep(Duration::from_millis(300)).await;
        assert_eq!(applied.texts(), ["a\nb\n", "a\nb\nbroken\n"]);
        // Shorter content is applied once the next check reads it unchanged.
        std::fs::write(&path, "c\n").unwrap();
        until(&applied, 3).await;
        tokio::time::sleep(Duration::from_millis(200)).await;
        assert_eq!(applied.texts(), ["a\nb\n", "a\nb\nbroken\n", "c\n"]);
        std::fs::remove_dir_all(&directory).unwrap();
    }
}
