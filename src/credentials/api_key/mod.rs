//! API keys: `Authorization: Bearer tgk_<id>_<secret>` or `X-API-Key: tgk_<id>_<secret>`,
//! checked against a key file of SHA-256 digests in constant time.
//!
//! The format is made for secret scanners: `tgk_` + an id of 1 to 64 letters, digits and
//! `-` + `_` + 43 base64url characters (32 random bytes), matched by
//! `tgk_[A-Za-z0-9-]{1,64}_[A-Za-z0-9_-]{43}`.

mod file;

use std::path::{Path, PathBuf};
use std::sync::{Arc, PoisonError, RwLock};

use ahash::AHashMap;
use jiff::Timestamp;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

pub use file::{check_id, generate, hex_digest, KeyEntry, KeyFile};

use super::{bearer, files, BoxFuture, Clock, ConfigError, CredentialError, Identity, Scheme};
use crate::principal::PrincipalParts;

/// Every API key starts with this.
pub const API_KEY_PREFIX: &str = "tgk_";

/// The longest key id.
pub const MAX_ID_BYTES: usize = 64;

/// The length of a key's secret part: 32 bytes in base64url without padding.
pub const SECRET_CHARS: usize = 43;

/// The header an API key may also come in.
pub const API_KEY_HEADER: &str = "x-api-key";

/// One key, ready to check.
#[derive(Debug)]
struct Loaded {
    digest: [u8; 32],
    parts: PrincipalParts,
    expires: Option<Timestamp>,
    revoked: bool,
}

/// The keys by id.
type Index = AHashMap<String, Loaded>;

/// Checks API keys against a key file. Clones share the keys.
#[derive(Debug, Clone)]
pub struct ApiKeyScheme {
    keys: Arc<RwLock<Arc<Index>>>,
    path: Option<PathBuf>,
    clock: Clock,
}

impl ApiKeyScheme {
    /// A scheme holding the keys of `file`.
    pub fn new(file: &KeyFile, clock: Clock) -> ApiKeyScheme {
        ApiKeyScheme {
            keys: Arc::new(RwLock::new(Arc::new(table(file)))),
            path: None,
            clock,
        }
    }

    /// A scheme reading `path`; [`ApiKeyScheme::reload`] reads it again.
    pub fn from_file(path: &Path, clock: Clock) -> Result<ApiKeyScheme, ConfigError> {
        let file = KeyFile::load(path).map_err(|error| ConfigError::new("api_keys.file", error))?;
        Ok(ApiKeyScheme {
            path: Some(path.to_path_buf()),
            ..ApiKeyScheme::new(&file, clock)
        })
    }

    /// Reads the key file again; on an error the keys stay as they were.
    pub fn reload(&self) -> Result<(), ConfigError> {
        let Some(path) = &self.path else {
            return Ok(());
        };
        let file = KeyFile::load(path).map_err(|error| ConfigError::new("api_keys.file", error))?;
        *self.keys.write().unwrap_or_else(PoisonError::into_inner) = Arc::new(table(&file));
        Ok(())
    }

    /// Reloads the key file whenever its content changes, while this scheme lives (needs
    /// a tokio runtime; without one, nothing is watched). A file that cannot be read or
    /// parsed leaves the keys as they were, with a warning; a file whose modification time
    /// changed but not its content is not reloaded.
    pub fn watch(&self) {
        let Some(path) = self.path.clone() else {
            return;
        };
        let owner = Arc::downgrade(&self.keys);
        let shown = path.display().to_string();
        let reload = move |keys: &RwLock<Arc<Index>>, text: &str| {
            let file = KeyFile::parse(text).map_err(|error| format!("`{shown}`: {error}"))?;
            *keys.write().unwrap_or_else(PoisonError::into_inner) = Arc::new(table(&file));
            Ok(())
        };
        files::watch(path, "API key file", owner, reload);
    }

    /// Checks one presented key.
    pub fn check(&self, presented: &str) -> Result<Identity, CredentialError> {
        let (id, _secret) = split(presented).ok_or(CredentialError::UnknownApiKey)?;
        let keys = Arc::clone(&self.keys.read().unwrap_or_else(PoisonError::into_inner));
        let digest = Sha256::digest(presented.as_bytes());
        let Some(key) = keys.get(id) else {
            return Err(CredentialError::UnknownApiKey);
        };
        if !bool::from(key.digest.as_slice().ct_eq(digest.as_slice())) {
            return Err(CredentialError::UnknownApiKey);
        }
        if key.revoked {
            return Err(CredentialError::RevokedApiKey);
        }
        if key
            .expires
            .is_some_and(|expires| self.clock.now() >= expires)
        {
            return Err(CredentialError::ExpiredApiKey);
        }
        Ok(Identity::Parts {
            parts: key.parts.clone(),
            expires_at: key.expires,
        })
    }

    /// The key a request presents, if any.
    fn presented(head: &http::request::Parts) -> Option<Result<&str, CredentialError>> {
        if let Some(Ok(token)) = bearer(head) {
            if token.starts_with(API_KEY_PREFIX) {
                return Some(Ok(token));
            }
        }
        let mut values = head.headers.get_all(API_KEY_HEADER).iter();
        let value = values.next()?;
        if values.next().is_some() {
            return Some(Err(CredentialError::Malformed));
        }
        Some(
            value
                .to_str()
                .map(str::trim)
                .map_err(|_| CredentialError::Malformed),
        )
    }
}

/// `(id, secret)` of a well-formed key.
fn split(key: &str) -> Option<(&str, &str)> {
    let (id, secret) = key.strip_prefix(API_KEY_PREFIX)?.split_once('_')?;
    let secret_ok = secret.len() == SECRET_CHARS
        && secret
            .bytes()
            .all(|byte| byte.is_ascii_alphanumeric() || byte == b'-' || byte == b'_');
    (check_id(id).is_ok() && secret_ok).then_some((id, secret))
}

fn table(file: &KeyFile) -> Index {
    file.keys
        .iter()
        .filter_map(|entry| {
            let digest = file::digest_bytes(&entry.sha256)?;
            let parts = PrincipalParts {
                subject: Some(entry.id.clone()),
                roles: entry.roles.clone(),
                scopes: entry.scopes.clone(),
                client: entry.client.clone(),
            };
            let loaded = Loaded {
                digest,
                parts,
                expires: entry.expires,
                revoked: entry.revoked,
            };
            Some((entry.id.clone(), loaded))
        })
        .collect()
}

impl Scheme for ApiKeyScheme {
    fn authenticate<'a>(
        &'a self,
        head: &'a http::request::Parts,
    ) -> BoxFuture<'a, Option<Result<Identity, CredentialError>>> {
        let outcome = ApiKeyScheme::presented(head)
            .map(|presented| presented.and_then(|key| self.check(key)));
        Box::pin(std::future::ready(outcome))
    }
}
