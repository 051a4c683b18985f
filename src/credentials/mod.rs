//! Credentials: from a request's headers to a verified [`Identity`], then to a
//! [`Principal`] resolved against one policy.
//!
//! Each way of presenting credentials is a [`Scheme`]: JWT access tokens
//! ([`JwtScheme`]), API keys ([`ApiKeyScheme`]), or an embedder's own. An
//! [`Authenticator`] tries its schemes in order; the first that recognises the request
//! decides, and every failure is a [`CredentialError`] that the gate turns into
//! `401 invalid_token`. Verified tokens are cached (compared by their full text, until
//! their `exp` or the cache's maximum age, and only while the keys that verified them are
//! unchanged), so a repeated token skips signature verification.

pub mod api_key;
mod cache;
mod clock;
mod config;
mod error;
mod files;
pub mod jwt;
pub mod keys;
mod presets;
mod revocation;

use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex, PoisonError};

use jiff::Timestamp;
use serde_json::Value;

use crate::check::ClaimsMap;
use crate::eval::Engine;
use crate::principal::{Principal, PrincipalError, PrincipalParts};

pub use api_key::ApiKeyScheme;
pub use cache::{CacheConfig, DEFAULT_CACHE_CAPACITY, DEFAULT_CACHE_MAX_AGE};
pub use clock::Clock;
pub use config::{ApiKeysConfig, CredentialsConfig, JwtConfig};
pub use error::{Claim, ConfigError, CredentialError};
pub use jwt::{install_crypto_provider, JwtScheme, JwtSettings, Keys};
pub use keys::{KeyError, KeySet, RemoteKeys, RemoteKeysConfig};
pub use presets::{ClaimsPreset, PresetName, PresetOptions};
pub use revocation::Revocations;

/// A boxed, sendable future, as [`Scheme::authenticate`] returns.
pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// What a verified credential says about its holder, before it meets a policy.
#[derive(Debug, Clone, PartialEq)]
pub enum Identity {
    /// A verified token's claims (its payload), resolved through the policy's claims map.
    Claims {
        /// The payload, a JSON object.
        claims: Value,
        /// The token's `exp`; nothing derived from it is used after this instant.
        expires_at: Option<Timestamp>,
    },
    /// Roles, scopes and client given directly: an API key's, or a custom scheme's.
    Parts {
        /// The parts.
        parts: PrincipalParts,
        /// When the credential stops being valid, if it does.
        expires_at: Option<Timestamp>,
    },
}

impl Identity {
    /// When the credential stops being valid, if it does.
    pub fn expires_at(&self) -> Option<Timestamp> {
        match self {
            Identity::Claims { expires_at, .. } | Identity::Parts { expires_at, .. } => *expires_at,
        }
    }
}

/// One way of presenting credentials.
///
/// `authenticate` returns `None` when the request carries nothing this scheme reads (so
/// the next scheme is tried), `Some(Err(_))` when it carries a credential of this scheme
/// that is not valid (the request is refused, no other scheme is tried).
///
/// A scheme whose verification is costly opts into the [`Authenticator`]'s cache with
/// [`Scheme::cache_key`]; the other two methods have defaults.
pub trait Scheme: Send + Sync {
    /// Looks at the request head.
    fn authenticate<'a>(
        &'a self,
        head: &'a http::request::Parts,
    ) -> BoxFuture<'a, Option<Result<Identity, CredentialError>>>;

    /// The credential this scheme would read, when its verified identities may be cached
    /// by it until their expiry: the whole credential, which alone decides the identity.
    /// The default, `None`, caches nothing.
    fn cache_key<'h>(&self, _head: &'h http::request::Parts) -> Option<&'h [u8]> {
        None
    }

    /// Whether a cached identity is still good (not revoked since it was verified).
    fn still_valid(&self, _identity: &Identity) -> bool {
        true
    }

    /// A number that changes whenever the keys this scheme verifies with change (a JWKS
    /// refresh that removed or replaced keys): an identity cached under another
    /// generation is verified again. The default, a constant, suits fixed keys.
    fn key_generation(&self) -> u64 {
        0
    }

    /// How many times this scheme fetched its keys, and how many of those fetches
    /// failed (for metrics). The default, none, suits fixed keys.
    fn key_fetches(&self) -> KeyFetches {
        KeyFetches::default()
    }
}

/// Key fetches by a scheme since it started (a remote JWKS: the first fetch, background
/// refreshes and refreshes for an unknown `kid`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct KeyFetches {
    /// Fetches started.
    pub started: u64,
    /// Fetches that failed (the keys stayed as they were).
    pub failed: u64,
}

/// What an [`Authenticator`] has done since it was made, for metrics.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct AuthenticatorStatistics {
    /// Credentials in the cache now.
    pub cached: u64,
    /// Requests whose credential was found in the cache (nothing verified).
    pub cache_hits: u64,
    /// Requests with a cacheable credential that was not in the cache (verified).
    pub cache_misses: u64,
    /// Key fetches of every scheme.
    pub key_fetches: KeyFetches,
}

impl<S: Scheme + ?Sized> Scheme for Arc<S> {
    fn authenticate<'a>(
        &'a self,
        head: &'a http::request::Parts,
    ) -> BoxFuture<'a, Option<Result<Identity, CredentialError>>> {
        S::authenticate(self, head)
    }

    fn cache_key<'h>(&self, head: &'h http::request::Parts) -> Option<&'h [u8]> {
        S::cache_key(self, head)
    }

    fn still_valid(&self, identity: &Identity) -> bool {
        S::still_valid(self, identity)
    }

    fn key_generation(&self) -> u64 {
        S::key_generation(self)
    }

    fn key_fetches(&self) -> KeyFetches {
        S::key_fetches(self)
    }
}

/// Why a request has no principal.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AuthError {
    /// No scheme found credentials in the request (`401` without an error code).
    Missing,
    /// Credentials were presented and refused (`401 invalid_token`).
    Invalid(CredentialError),
}

/// A table id and its claims map completed by the preset.
type CompletedMap = (u64, Arc<ClaimsMap>);

/// Schemes tried in order, with a cache of verified credentials shared by clones.
#[derive(Clone, Default)]
pub struct Authenticator {
    schemes: Vec<Arc<dyn Scheme>>,
    cache: Arc<cache::PrincipalCache>,
    preset: Option<Arc<ClaimsPreset>>,
    /// The policy claims map completed by the preset, for the last table seen.
    completed: Arc<Mutex<Option<CompletedMap>>>,
    clock: Clock,
}

impl std::fmt::Debug for Authenticator {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Authenticator")
            .field("schemes", &self.schemes.len())
            .field("cached", &self.cache.len())
            .field("preset", &self.preset.as_ref().map(|preset| preset.name()))
            .finish()
    }
}

impl Authenticator {
    /// An authenticator with no schemes: every request is [`AuthError::Missing`].
    pub fn new() -> Authenticator {
        Authenticator::default()
    }

    /// Adds a scheme, tried after those added before it.
    pub fn with_scheme(mut self, scheme: impl Scheme + 'static) -> Authenticator {
        self.schemes.push(Arc::new(scheme));
        self
    }

    /// Resolves token claims through the policy's claims map completed by `preset`.
    pub fn with_claims_preset(mut self, preset: ClaimsPreset) -> Authenticator {
        self.preset = Some(Arc::new(preset));
        self.completed = Arc::default();
        self
    }

    /// Bounds the cache of verified credentials (a new, empty cache).
    pub fn with_cache(mut self, config: CacheConfig) -> Authenticator {
        self.cache = Arc::new(cache::PrincipalCache::new(config));
        self
    }

    /// The clock cached entries' expiry is checked against.
    pub fn with_clock(mut self, clock: Clock) -> Authenticator {
        self.clock = clock;
        self
    }

    /// How many verified credentials are cached.
    pub fn cached(&self) -> usize {
        self.cache.len()
    }

    /// The cache's size, hits and misses and the schemes' key fetches so far.
    pub fn statistics(&self) -> AuthenticatorStatistics {
        let (cache_hits, cache_misses) = self.cache.hits_and_misses();
        let key_fetches = self.schemes.iter().map(|scheme| scheme.key_fetches()).fold(
            KeyFetches::default(),
            |sum, fetches| KeyFetches {
                started: sum.started.saturating_add(fetches.started),
                failed: sum.failed.saturating_add(fetches.failed),
            },
        );
        AuthenticatorStatistics {
            cached: u64::try_from(self.cache.len()).unwrap_or(u64::MAX),
            cache_hits,
            cache_misses,
            key_fetches,
        }
    }

    /// The verified identity of a request.
    pub async fn identity(&self, head: &http::request::Parts) -> Result<Identity, AuthError> {
        for scheme in &self.schemes {
            let key = scheme.cache_key(head);
            let cached = key.and_then(|key| {
                self.read_cache(scheme, key, |entry| Identity::clone(&entry.identity))
            });
            if let Some(identity) = cached {
                return Ok(identity);
            }
            if let Some(outcome) = scheme.authenticate(head).await {
                return outcome.map_err(AuthError::Invalid);
            }
        }
        Err(AuthError::Missing)
    }

    /// The principal of a request, resolved against `engine`. A credential verified
    /// before (and not expired or revoked since) skips verification; its principal is
    /// reused while `engine`'s table is the one it was resolved by.
    pub async fn principal(
        &self,
        head: &http::request::Parts,
        engine: &Engine,
    ) -> Result<Arc<Principal>, AuthError> {
        for scheme in &self.schemes {
            let key = scheme.cache_key(head);
            let cached = key.and_then(|key| {
                self.read_cache(scheme, key, |entry| {
                    entry.principal(engine, |identity| self.resolve(identity, engine))
                })
            });
            if let Some(principal) = cached {
                self.cache.count_hit();
                return principal;
            }
            if key.is_some() {
                self.cache.count_miss();
            }
            // Read before verifying: keys changing meanwhile only cost a verification.
            let generation = scheme.key_generation();
            let Some(outcome) = scheme.authenticate(head).await else {
                continue;
            };
            let identity = outcome.map_err(AuthError::Invalid)?;
            let principal = Arc::new(self.resolve(&identity, engine)?);
            if let (Some(key), Some(expires_at)) = (key, identity.expires_at()) {
                let entry = cache::Entry::new(
                    key,
                    (scheme_id(scheme), generation),
                    Arc::new(identity),
                    expires_at,
                    Arc::clone(&principal),
                );
                self.cache.insert(entry, self.clock.now());
            }
            return Ok(principal);
        }
        Err(AuthError::Missing)
    }

    /// `read(entry)` for the cached, unexpired entry of `scheme` for `key`, if `scheme`
    /// says it is still valid and its keys are those that verified it; an entry no
    /// longer valid is dropped.
    fn read_cache<T>(
        &self,
        scheme: &Arc<dyn Scheme>,
        key: &[u8],
        read: impl FnOnce(&cache::Entry) -> T,
    ) -> Option<T> {
        let outcome = self
            .cache
            .read(key, scheme_id(scheme), self.clock.now(), |entry| {
                let keys_kept = entry.generation() == scheme.key_generation();
                (keys_kept && scheme.still_valid(&entry.identity)).then(|| read(entry))
            })?;
        if outcome.is_none() {
            self.cache.remove(key);
        }
        outcome
    }

    /// Resolves an identity against a policy, through the claims preset if there is one.
    pub fn resolve(&self, identity: &Identity, engine: &Engine) -> Result<Principal, AuthError> {
        let (Identity::Claims { claims, .. }, Some(preset)) = (identity, &self.preset) else {
            return resolve(identity, engine);
        };
        let map = self.completed_map(engine, preset);
        Principal::from_claims_with_map(engine.index(), &map, claims).map_err(refused)
    }

    fn completed_map(&self, engine: &Engine, preset: &ClaimsPreset) -> Arc<ClaimsMap> {
        let table = engine.index();
        let mut slot = self
            .completed
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        match slot.as_ref() {
            Some((id, map)) if *id == table.id => Arc::clone(map),
            _ => {
                let map = Arc::new(preset.apply(&table.claims));
                *slot = Some((table.id, Arc::clone(&map)));
                map
            }
        }
    }
}

/// A scheme's identity in the cache: its address.
fn scheme_id(scheme: &Arc<dyn Scheme>) -> usize {
    Arc::as_ptr(scheme).cast::<()>() as usize
}

/// Resolves an identity against a policy.
pub fn resolve(identity: &Identity, engine: &Engine) -> Result<Principal, AuthError> {
    match identity {
        Identity::Claims { claims, .. } => engine.principal(claims).map_err(refused),
        Identity::Parts { parts, .. } => Ok(engine.principal_from_parts(parts)),
    }
}

/// Claims that give no principal: refused (`401 invalid_token`).
fn refused(error: PrincipalError) -> AuthError {
    AuthError::Invalid(match error {
        PrincipalError::AmbiguousClaim(_) => CredentialError::AmbiguousClaim,
        PrincipalError::ClaimsNotObject => CredentialError::Malformed,
    })
}

/// The bearer credential of `Authorization: Bearer <credential>`: `None` without an
/// `Authorization` header or with another scheme; malformed when the header is repeated,
/// is not visible ASCII, or holds no credential.
pub fn bearer(head: &http::request::Parts) -> Option<Result<&str, CredentialError>> {
    Some(bearer_bytes(head)?.and_then(|bytes| {
        std::str::from_utf8(bytes)
            .ok()
            .filter(|text| text.bytes().all(|byte| byte.is_ascii_graphic()))
            .ok_or(CredentialError::Malformed)
    }))
}

/// [`bearer`] without the character check: the raw credential bytes.
pub(crate) fn bearer_bytes(head: &http::request::Parts) -> Option<Result<&[u8], CredentialError>> {
    let mut values = head.headers.get_all(http::header::AUTHORIZATION).iter();
    let value = values.next()?;
    if values.next().is_some() {
        return Some(Err(CredentialError::Malformed));
    }
    let bytes = value.as_bytes();
    let scheme_end = bytes
        .iter()
        .position(|byte| *byte == b' ')
        .unwrap_or(bytes.len());
    let (scheme, rest) = bytes.split_at(scheme_end);
    if !scheme.eq_ignore_ascii_case(b"bearer") {
        return None;
    }
    let credential = rest.trim_ascii();
    if credential.is_empty() {
        return Some(Err(CredentialError::Malformed));
    }
    Some(Ok(credential))
}
