//! The API key file: TOML holding SHA-256 digests only, never a secret.
//!
//! ```toml
//! [[key]]
//! id = "ci-bot"
//! sha256 = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"
//! roles = ["deployer"]
//! scopes = ["tools:deploy"]
//! client = "ci"
//! created = "2026-01-01T00:00:00Z"
//! expires = "2027-01-01T00:00:00Z"   # optional
//! revoked = false                    # optional
//! ```

use std::fmt::Write as _;
use std::fs::{File, OpenOptions};
use std::io::Write as _;
use std::path::{Path, PathBuf};

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use jiff::Timestamp;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use super::{API_KEY_PREFIX, MAX_ID_BYTES};
use crate::credentials::files;

/// One key's entry.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct KeyEntry {
    /// The key id, also the principal's subject; part of the key itself.
    pub id: String,
    /// The SHA-256 of the whole key (`tgk_<id>_<secret>`), lowercase hex.
    pub sha256: String,
    /// Role names (or `aka` values) the key grants.
    #[serde(default)]
    pub roles: Vec<String>,
    /// Scopes the key holds.
    #[serde(default)]
    pub scopes: Vec<String>,
    /// The client id the key presents as.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client: Option<String>,
    /// When the key was made.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub created: Option<Timestamp>,
    /// From this instant on, the key is refused.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expires: Option<Timestamp>,
    /// A revoked key is refused.
    #[serde(default, skip_serializing_if = "is_false")]
    pub revoked: bool,
}

fn is_false(value: &bool) -> bool {
    !value
}

/// A whole key file.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct KeyFile {
    /// The keys, in file order.
    #[serde(default, rename = "key")]
    pub keys: Vec<KeyEntry>,
}

const HEADER: &str = "# toolgate API keys: SHA-256 digests only, never a secret.\n\
# Managed by `toolgate key new | list | revoke`; see docs/credentials.md.\n";

impl KeyFile {
    /// Parses key file text; every entry's id and digest are checked, ids are unique.
    pub fn parse(text: &str) -> Result<KeyFile, String> {
        let file: KeyFile = toml::from_str(text).map_err(|error| error.to_string())?;
        let mut seen = ahash::AHashSet::new();
        for entry in &file.keys {
            check_id(&entry.id)?;
            if digest_bytes(&entry.sha256).is_none() {
                return Err(format!(
                    "key `{}`: `sha256` must be 64 hexadecimal digits",
                    entry.id
                ));
            }
            if !seen.insert(entry.id.as_str()) {
                return Err(format!("key `{}` is listed twice", entry.id));
            }
        }
        Ok(file)
    }

    /// Reads and parses a key file.
    pub fn load(path: &Path) -> Result<KeyFile, String> {
        let text =
            files::read_capped(path, files::MAX_LIST_BYTES).map_err(|error| error.to_string())?;
        KeyFile::parse(&text).map_err(|error| format!("`{}`: {error}", path.display()))
    }

    /// The file's TOML text.
    pub fn to_text(&self) -> Result<String, String> {
        let body = toml::to_string(self).map_err(|error| error.to_string())?;
        Ok(format!("{HEADER}\n{body}"))
    }

    /// Writes the file atomically: into a new temporary file in the same directory,
    /// created exclusively under a random name (never a file or link already there),
    /// readable by its owner only (0600 on Unix), synced, then renamed over `path`.
    /// Callers changing an existing file hold its lock (see [`KeyFile::update`]).
    pub fn save(&self, path: &Path) -> Result<(), String> {
        let text = self.to_text()?;
        replace(path, text.as_bytes())
    }

    /// Reads the key file at `path`, lets `change` change it, and writes it back, all
    /// under an exclusive advisory lock on `<path>.lock` (created if missing, never
    /// written), so that concurrent changes wait for each other instead of losing one
    /// another's update. With `create`, a missing file reads as an empty one. Nothing is
    /// written when `change` fails.
    pub fn update<T>(
        path: &Path,
        create: bool,
        change: impl FnOnce(&mut KeyFile) -> Result<T, String>,
    ) -> Result<T, String> {
        let _lock = lock(path)?;
        let mut file = if create && !path.exists() {
            KeyFile::default()
        } else {
            KeyFile::load(path)?
        };
        let outcome = change(&mut file)?;
        file.save(path)?;
        Ok(outcome)
    }

    /// The entry with this id.
    pub fn get(&self, id: &str) -> Option<&KeyEntry> {
        self.keys.iter().find(|entry| entry.id == id)
    }
}

/// Tries at making a temporary file under a fresh random name before giving up.
const TEMPORARY_ATTEMPTS: usize = 16;

/// Holds the exclusive advisory lock of the key file at `path` until dropped.
fn lock(path: &Path) -> Result<File, String> {
    let mut name = path.as_os_str().to_owned();
    name.push(".lock");
    let lock_path = PathBuf::from(name);
    let mut options = OpenOptions::new();
    options.write(true).create(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let file = options
        .open(&lock_path)
        .map_err(|error| format!("cannot open the lock `{}`: {error}", lock_path.display()))?;
    file.lock()
        .map_err(|error| format!("cannot lock `{}`: {error}", lock_path.display()))?;
    Ok(file)
}

/// Replaces the file at `path` with `bytes` through an exclusively created temporary
/// file in the same directory; the temporary file is removed on failure.
fn replace(path: &Path, bytes: &[u8]) -> Result<(), String> {
    let shown = path.display();
    let file_name = path
        .file_name()
        .ok_or_else(|| format!("cannot write `{shown}`: not a file name"))?;
    let directory = path
        .parent()
        .filter(|parent| !parent.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let (temporary, mut file) = create_temporary(directory, &file_name.to_string_lossy())
        .map_err(|error| format!("cannot write `{shown}`: {error}"))?;
    let written = file
        .write_all(bytes)
        .and_then(|()| file.sync_all())
        .and_then(|()| std::fs::rename(&temporary, path));
    drop(file);
    if let Err(error) = written {
        let _ = std::fs::remove_file(&temporary);
        return Err(format!("cannot write `{shown}`: {error}"));
    }
    // The rename is durable once the directory is synced; where a directory cannot be
    // opened (or synced), the file is already in place.
    if let Ok(directory) = File::open(directory) {
        let _ = directory.sync_all();
    }
    Ok(())
}

/// A new file `.<name>.<random>.tmp` in `directory`, created exclusively (`O_EXCL`: an
/// existing file or symbolic link under that name is an error, never followed).
fn create_temporary(directory: &Path, name: &str) -> std::io::Result<(PathBuf, File)> {
    let mut last_error = None;
    for _ in 0..TEMPORARY_ATTEMPTS {
        let mut random = [0u8; 12];
        getrandom::fill(&mut random)
            .map_err(|error| std::io::Error::other(format!("no randomness: {error}")))?;
        let temporary = directory.join(format!(".{name}.{}.tmp", URL_SAFE_NO_PAD.encode(random)));
        let mut options = OpenOptions::new();
        options.write(true).create_new(true);
        #[cfg(unix)]
        std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
        match options.open(&temporary) {
            Ok(file) => return Ok((temporary, file)),
            Err(error) if error.kind() == std::io::ErrorKind::AlreadyExists => {
                last_error = Some(error);
            }
            Err(error) => return Err(error),
        }
    }
    Err(last_error.unwrap_or_else(|| std::io::Error::other("no temporary file name")))
}

/// Checks a key id: 1 to 64 ASCII letters, digits and `-`.
pub fn check_id(id: &str) -> Result<(), String> {
    let valid = !id.is_empty()
        && id.len() <= MAX_ID_BYTES
        && id
            .bytes()
            .all(|byte| byte.is_ascii_alphanumeric() || byte == b'-');
    if valid {
        Ok(())
    } else {
        Err(format!(
            "key id `{id}` must be 1 to {MAX_ID_BYTES} ASCII letters, digits and `-`"
        ))
    }
}

/// A new key for `id`: the secret to show once, and its digest to store.
pub fn generate(id: &str) -> Result<(String, String), String> {
    check_id(id)?;
    let mut random = [0u8; 32];
    getrandom::fill(&mut random).map_err(|error| format!("no randomness: {error}"))?;
    let secret = URL_SAFE_NO_PAD.encode(random);
    let key = format!("{API_KEY_PREFIX}{id}_{secret}");
    let digest = hex_digest(&key);
    Ok((key, digest))
}

/// The lowercase hex SHA-256 of a key.
pub fn hex_digest(key: &str) -> String {
    Sha256::digest(key.as_bytes())
        .iter()
        .fold(String::with_capacity(64), |mut text, byte| {
            let _ = write!(text, "{byte:02x}");
            text
        })
}

/// The 32 bytes of a hex digest.
pub(crate) fn digest_bytes(hex: &str) -> Option<[u8; 32]> {
    if hex.len() != 64 {
        return None;
    }
    let mut bytes = [0u8; 32];
    for (slot, pair) in bytes.iter_mut().zip(hex.as_bytes().chunks(2)) {
        let text = std::str::from_utf8(pair).ok()?;
        *slot = u8::from_str_radix(text, 16).ok()?;
    }
    Some(bytes)
}
