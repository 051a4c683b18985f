//! JWT access tokens (`Authorization: Bearer <jwt>`), validated as docs/gate.md's
//! "Credentials" says: size cap first, then the header (algorithm allow-list, `crit`,
//! `typ`), the key by `kid`, the signature, and the claims.

mod audience;
mod claims;
mod header;
mod inspect;

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Once};
use std::time::Duration;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use jsonwebtoken::crypto::{aws_lc, CryptoProvider};
use jsonwebtoken::Algorithm;
use serde_json::{Map, Value};

use super::keys::{AlgorithmSet, KeySet, RemoteKeys, Selected};
use super::{
    bearer, bearer_bytes, BoxFuture, Clock, CredentialError, Identity, KeyFetches, Revocations,
    Scheme,
};
use crate::credentials::api_key::API_KEY_PREFIX;
use audience::Audience;

pub use inspect::{decode_unverified, Unverified};

/// The default token size cap: 16 KiB.
pub const DEFAULT_MAX_TOKEN_BYTES: usize = 16 * 1024;

/// The default clock leeway: 60 seconds.
pub const DEFAULT_LEEWAY: Duration = Duration::from_secs(60);

/// The default algorithm allow-list.
pub const DEFAULT_ALGORITHMS: [Algorithm; 3] =
    [Algorithm::RS256, Algorithm::ES256, Algorithm::EdDSA];

/// Installs `jsonwebtoken`'s aws-lc-rs provider as the process default, once. Verification
/// here never depends on it (it calls the aws-lc-rs provider directly); it is installed so
/// that other users of `jsonwebtoken` in the process (signing in tests, tools) never meet an
/// ambiguous provider when a second backend is enabled elsewhere.
pub fn install_crypto_provider() {
    static INSTALL: Once = Once::new();
    INSTALL.call_once(|| {
        // An error means a provider was installed before us; that one stays.
        let _ = CryptoProvider::install_default(&aws_lc::DEFAULT_PROVIDER);
    });
}

/// What a JWT must satisfy.
#[derive(Debug, Clone)]
pub struct JwtSettings {
    /// The `iss` every token must carry, exactly.
    pub issuer: String,
    /// This server's canonical resource URI, which `aud` must contain.
    pub audience: String,
    /// The algorithm allow-list.
    pub algorithms: Vec<Algorithm>,
    /// The clock leeway for `exp`, `nbf` and `iat`.
    pub leeway: Duration,
    /// Whether `typ` must be `at+jwt`.
    pub require_typ: bool,
    /// The token size cap, checked before any decoding.
    pub max_token_bytes: usize,
    /// The longest lifetime accepted: a token whose `exp` is further than this from now
    /// (beyond the leeway) or from its `iat` is refused. `None`: no limit.
    pub max_lifetime: Option<Duration>,
    /// Revoked `jti` values.
    pub revocations: Revocations,
    /// The clock.
    pub clock: Clock,
}

impl JwtSettings {
    /// The defaults for tokens from `issuer` for `audience`.
    pub fn new(issuer: impl Into<String>, audience: impl Into<String>) -> JwtSettings {
        JwtSettings {
            issuer: issuer.into(),
            audience: audience.into(),
            algorithms: DEFAULT_ALGORITHMS.to_vec(),
            leeway: DEFAULT_LEEWAY,
            require_typ: false,
            max_token_bytes: DEFAULT_MAX_TOKEN_BYTES,
            max_lifetime: None,
            revocations: Revocations::new(),
            clock: Clock::system(),
        }
    }
}

/// Where a [`JwtScheme`]'s keys come from.
#[derive(Debug, Clone)]
pub enum Keys {
    /// Keys given once (files, inline text).
    Fixed(Arc<KeySet>),
    /// A cached remote JWKS, possibly with fixed keys beside it (an HS256 secret).
    Remote(RemoteKeys, Arc<KeySet>),
}

impl From<KeySet> for Keys {
    fn from(keys: KeySet) -> Keys {
        Keys::Fixed(Arc::new(keys))
    }
}

impl From<RemoteKeys> for Keys {
    fn from(keys: RemoteKeys) -> Keys {
        Keys::Remote(keys, Arc::new(KeySet::new()))
    }
}

/// Validates JWT access tokens.
#[derive(Debug)]
pub struct JwtScheme {
    settings: JwtSettings,
    audience: Audience,
    allowed: AlgorithmSet,
    leeway_seconds: i64,
    keys: Keys,
    verifications: AtomicU64,
}

/// The three segments of a compact JWS.
struct Segments<'t> {
    header: &'t str,
    payload: &'t str,
    signature: &'t str,
    /// `header.payload`, the signed bytes.
    signed: &'t str,
}

impl JwtScheme {
    /// A scheme checking tokens against `settings` with `keys`.
    pub fn new(settings: JwtSettings, keys: impl Into<Keys>) -> JwtScheme {
        install_crypto_provider();
        JwtScheme {
            audience: Audience::new(&settings.audience),
            allowed: AlgorithmSet::of(&settings.algorithms),
            leeway_seconds: i64::try_from(settings.leeway.as_secs()).unwrap_or(i64::MAX),
            keys: keys.into(),
            settings,
            verifications: AtomicU64::new(0),
        }
    }

    /// The settings.
    pub fn settings(&self) -> &JwtSettings {
        &self.settings
    }

    /// How many signatures this scheme has verified (successfully or not).
    pub fn verifications(&self) -> u64 {
        self.verifications.load(Ordering::Relaxed)
    }

    /// Validates a token; gives its claims and expiry.
    pub async fn verify(&self, token: &str) -> Result<Identity, CredentialError> {
        let segments = self.segments(token)?;
        let header_json = decode(segments.header)?;
        let rules = header::HeaderRules {
            allowed: self.allowed,
            require_typ: self.settings.require_typ,
        };
        let header = header::check(&header_json, &rules)?;
        let signature = decode(segments.signature)?;
        self.verify_signature(&header, segments.signed, signature)
            .await?;
        let payload = decode(segments.payload)?;
        let payload = std::str::from_utf8(&payload).map_err(|_| CredentialError::Malformed)?;
        let claims: Map<String, Value> =
            serde_json::from_str(payload).map_err(|_| CredentialError::Malformed)?;
        let rules = claims::ClaimRules {
            issuer: &self.settings.issuer,
            audience: &self.audience,
            leeway_seconds: self.leeway_seconds,
            max_lifetime_seconds: self
                .settings
                .max_lifetime
                .map(|max| i64::try_from(max.as_secs()).unwrap_or(i64::MAX)),
            revocations: &self.settings.revocations,
        };
        let expires_at = claims::check(&claims, &rules, self.settings.clock.now())?;
        Ok(Identity::Claims {
            claims: Value::Object(claims),
            expires_at: Some(expires_at),
        })
    }

    fn segments<'t>(&self, token: &'t str) -> Result<Segments<'t>, CredentialError> {
        if token.len() > self.settings.max_token_bytes {
            return Err(CredentialError::TooLarge);
        }
        let (signed, signature) = token.rsplit_once('.').ok_or(CredentialError::Malformed)?;
        let (header, payload) = signed.split_once('.').ok_or(CredentialError::Malformed)?;
        if payload.contains('.') {
            return Err(CredentialError::Malformed);
        }
        Ok(Segments {
            header,
            payload,
            signature,
            signed,
        })
    }

    async fn verify_signature(
        &self,
        header: &header::Header,
        signed: &str,
        signature: Vec<u8>,
    ) -> Result<(), CredentialError> {
        let algorithm = header.algorithm;
        let Some(kid) = header.usable_kid() else {
            return Err(CredentialError::UnknownKey);
        };
        let keys = self.key_set(kid, algorithm).await;
        let key = match keys.select(kid, algorithm) {
            Selected::Key(key) => key,
            Selected::Unknown if keys.is_empty() => return Err(CredentialError::KeysUnavailable),
            Selected::Unknown => return Err(CredentialError::UnknownKey),
            Selected::WrongAlgorithm => return Err(CredentialError::AlgorithmNotAllowed),
        };
        self.verifications.fetch_add(1, Ordering::Relaxed);
        let verifier = (aws_lc::DEFAULT_PROVIDER.verifier_factory)(&algorithm, key.decoding())
            .map_err(|_| CredentialError::BadSignature)?;
        verifier
            .verify(signed.as_bytes(), &signature)
            .map_err(|_| CredentialError::BadSignature)
    }

    /// The keys to look in: fixed keys, or the remote set (refreshed, rate-limited, when
    /// the token's `kid` is unknown) merged with the fixed ones.
    async fn key_set(&self, kid: Option<&str>, algorithm: Algorithm) -> Arc<KeySet> {
        match &self.keys {
            Keys::Fixed(keys) => Arc::clone(keys),
            Keys::Remote(remote, fixed) => {
                let mut keys = remote.keys();
                if let Some(kid) = kid {
                    let known = keys.has_kid(kid) || fixed.has_kid(kid);
                    if !known && algorithm_is_public(algorithm) {
                        keys = remote.refreshed_for(kid).await;
                    }
                }
                if fixed.is_empty() {
                    keys
                } else {
                    Arc::new(KeySet::clone(&keys).merged(fixed))
                }
            }
        }
    }

    /// The bearer token this scheme would read: not an API key.
    fn token<'h>(
        &self,
        head: &'h http::request::Parts,
    ) -> Option<Result<&'h str, CredentialError>> {
        match bearer(head)? {
            Ok(token) if token.starts_with(API_KEY_PREFIX) => None,
            outcome => Some(outcome),
        }
    }
}

/// Whether an algorithm's keys are public keys (so may come from a remote JWKS).
fn algorithm_is_public(algorithm: Algorithm) -> bool {
    !matches!(
        algorithm,
        Algorithm::HS256 | Algorithm::HS384 | Algorithm::HS512
    )
}

/// base64url without padding, as JWS segments are.
fn decode(segment: &str) -> Result<Vec<u8>, CredentialError> {
    URL_SAFE_NO_PAD
        .decode(segment)
        .map_err(|_| CredentialError::Malformed)
}

impl Scheme for JwtScheme {
    fn authenticate<'a>(
        &'a self,
        head: &'a http::request::Parts,
    ) -> BoxFuture<'a, Option<Result<Identity, CredentialError>>> {
        Box::pin(async move {
            match self.token(head)? {
                Ok(token) => Some(self.verify(token).await),
                Err(error) => Some(Err(error)),
            }
        })
    }

    fn cache_key<'h>(&self, head: &'h http::request::Parts) -> Option<&'h [u8]> {
        bearer_bytes(head)?
            .ok()
            .filter(|token| !token.starts_with(API_KEY_PREFIX.as_bytes()))
    }

    fn key_generation(&self) -> u64 {
        match &self.keys {
            Keys::Fixed(_) => 0,
            Keys::Remote(remote, _) => remote.generation(),
        }
    }

    fn key_fetches(&self) -> KeyFetches {
        match &self.keys {
            Keys::Fixed(_) => KeyFetches::default(),
            Keys::Remote(remote, _) => KeyFetches {
                started: remote.fetch_count(),
                failed: remote.failed_fetch_count(),
            },
        }
    }

    fn still_valid(&self, identity: &Identity) -> bool {
        let revocations = &self.settings.revocations;
        if revocations.is_empty() {
            return true;
        }
        match identity {
            Identity::Claims { claims, .. } => !claims
                .get("jti")
                .and_then(Value::as_str)
                .is_some_and(|jti| revocations.contains(jti)),
            Identity::Parts { .. } => true,
        }
    }
}
