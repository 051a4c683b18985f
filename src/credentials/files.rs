//! Reading configuration files with a size cap, and watching them for changes.

use std::path::{Path, PathBuf};
use std::sync::Weak;
use std::time::{Duration, SystemTime};

/// The largest key, JWKS or revocation file read (16 MiB).
pub(crate) const MAX_LIST_BYTES: u64 = 16 * 1024 * 1024;

/// How often watched files are checked for changes.
pub(crate) const WATCH_INTERVAL: Duration = Duration::from_secs(2);

/// Reads a UTF-8 file of at most `limit` bytes; the error names the path.
pub(crate) fn read_capped(path: &Path, limit: u64) -> Result<String, String> {
    let shown = path.display();
    let metadata =
        std::fs::metadata(path).map_err(|error| format!("cannot read `{shown}`: {error}"))?;
    if metadata.len() > limit {
        return Err(format!("`{shown}` is larger than {limit} bytes"));
    }
    std::fs::read_to_string(path).map_err(|error| format!("cannot read `{shown}`: {error}"))
}

/// A file's modification stamp: time and length.
fn stamp(path: &Path) -> Option<(SystemTime, u64)> {
    let metadata = std::fs::metadata(path).ok()?;
    Some((metadata.modified().ok()?, metadata.len()))
}

/// Calls `reload(owner)` whenever the file at `path` changes, checking every
/// [`WATCH_INTERVAL`], for as long as `owner` lives. Without a tokio runtime nothing is
/// watched.
pub(crate) fn watch<T: Send + Sync + 'static>(
    path: PathBuf,
    owner: Weak<T>,
    reload: impl Fn(&T) + Send + 'static,
) {
    let Ok(runtime) = tokio::runtime::Handle::try_current() else {
        return;
    };
    runtime.spawn(async move {
        let mut last = stamp(&path);
        loop {
            tokio::time::sleep(WATCH_INTERVAL).await;
            let Some(owner) = owner.upgrade() else {
                return;
            };
            let current = stamp(&path);
            if current != last {
                last = current;
                reload(&owner);
            }
        }
    });
}
