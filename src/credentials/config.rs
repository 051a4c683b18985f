//! Configuration: the `[jwt]` and `[api_keys]` tables of `toolgate serve`'s TOML, and
//! building an [`Authenticator`] from them.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use jsonwebtoken::Algorithm;
use serde::Deserialize;

use super::api_key::ApiKeyScheme;
use super::cache::{CacheConfig, DEFAULT_CACHE_CAPACITY, DEFAULT_CACHE_MAX_AGE};
use super::files;
use super::jwt::{JwtScheme, JwtSettings, Keys, DEFAULT_MAX_TOKEN_BYTES};
use super::keys::{
    algorithm_from_name, discover_jwks_uri, Fetcher, KeySet, RemoteKeys, RemoteKeysConfig,
};
use super::presets::{ClaimsPreset, PresetName, PresetOptions};
use super::{Authenticator, Clock, ConfigError, Revocations};
use crate::claim_path::ClaimPath;

/// Everything credentials need from the configuration.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CredentialsConfig {
    /// This server's canonical resource URI: the audience tokens must carry.
    pub resource: String,
    /// JWT access tokens, if accepted.
    #[serde(default)]
    pub jwt: Option<JwtConfig>,
    /// API keys, if accepted.
    #[serde(default)]
    pub api_keys: Option<ApiKeysConfig>,
}

/// The `[jwt]` table. Exactly one key source: `jwks_file`, `jwk_file`, `jwks` (inline
/// JWKS text), `jwks_url`, `discovery = true` or `pem_file`; `hs256_secret_file` may stand
/// beside it or alone.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct JwtConfig {
    /// The `iss` tokens must carry, exactly.
    pub issuer: String,
    /// A JWKS (or single JWK) file.
    #[serde(default)]
    pub jwks_file: Option<PathBuf>,
    /// A single JWK (or JWKS) file.
    #[serde(default)]
    pub jwk_file: Option<PathBuf>,
    /// Inline JWKS text.
    #[serde(default)]
    pub jwks: Option<String>,
    /// A JWKS URL, fetched and cached.
    #[serde(default)]
    pub jwks_url: Option<String>,
    /// Find the JWKS URL by OpenID Connect / RFC 8414 discovery from the issuer.
    #[serde(default)]
    pub discovery: bool,
    /// A PEM public key or certificate file.
    #[serde(default)]
    pub pem_file: Option<PathBuf>,
    /// The algorithm allow-list (default RS256, ES256, EdDSA).
    #[serde(default = "default_algorithms")]
    pub algorithms: Vec<String>,
    /// Clock leeway for `exp`, `nbf` and `iat` (default 60).
    #[serde(default = "default_leeway")]
    pub leeway_seconds: u64,
    /// Claims preset: `generic`, `auth0`, `entra`, `keycloak` or `okta`.
    #[serde(default)]
    pub preset: Option<String>,
    /// The claim holding roles, replacing the preset's (Auth0's namespaced claim).
    #[serde(default)]
    pub roles_claim: Option<String>,
    /// Keycloak: the client whose `resource_access.<client>.roles` grant roles.
    #[serde(default)]
    pub keycloak_client: Option<String>,
    /// Require `typ: at+jwt` (default false: `at+jwt`, `JWT` or none accepted).
    #[serde(default)]
    pub require_typ: bool,
    /// The token size cap (default 16384).
    #[serde(default = "default_max_token_bytes")]
    pub max_token_bytes: usize,
    /// A file holding the HS256 shared secret (at least 32 bytes); needed for HS256.
    #[serde(default)]
    pub hs256_secret_file: Option<PathBuf>,
    /// A file of revoked `jti` values, one a line; reloaded when it changes.
    #[serde(default)]
    pub revoked_jti_file: Option<PathBuf>,
    /// Remote keys: an unknown `kid` refreshes at most this often (default 30).
    #[serde(default = "default_min_refresh")]
    pub min_refresh_seconds: u64,
    /// Remote keys: the background refresh interval without `max-age` (default 300).
    #[serde(default = "default_refresh")]
    pub refresh_seconds: u64,
    /// Remote keys: the fetch timeout (default 5).
    #[serde(default = "default_fetch_timeout")]
    pub fetch_timeout_seconds: u64,
    /// Remote keys: the largest response read (default 524288).
    #[serde(default = "default_max_jwks_bytes")]
    pub max_jwks_bytes: usize,
    /// The most verified tokens cached (default 10000; 0 turns the cache off).
    #[serde(default = "default_cache_size")]
    pub cache_size: usize,
    /// The longest a verified token is served from the cache before it is verified
    /// again (default 300; 0 turns the cache off).
    #[serde(default = "default_cache_max")]
    pub cache_max_seconds: u64,
    /// Refuse tokens whose `exp` is further than this from now (beyond the leeway) or
    /// from their `iat` (default: no limit).
    #[serde(default)]
    pub max_token_lifetime_seconds: Option<u64>,
    /// The clock (the system's; tests inject their own).
    #[serde(skip)]
    pub clock: Clock,
}

/// The `[api_keys]` table.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ApiKeysConfig {
    /// The key file (TOML, SHA-256 digests only); reloaded when it changes.
    pub file: PathBuf,
    /// The clock key expiries are checked against.
    #[serde(skip)]
    pub clock: Clock,
}

fn default_algorithms() -> Vec<String> {
    vec!["RS256".into(), "ES256".into(), "EdDSA".into()]
}
fn default_leeway() -> u64 {
    60
}
fn default_max_token_bytes() -> usize {
    DEFAULT_MAX_TOKEN_BYTES
}
fn default_min_refresh() -> u64 {
    30
}
fn default_refresh() -> u64 {
    300
}
fn default_fetch_timeout() -> u64 {
    5
}
fn default_max_jwks_bytes() -> usize {
    512 * 1024
}
fn default_cache_size() -> usize {
    DEFAULT_CACHE_CAPACITY
}
fn default_cache_max() -> u64 {
    DEFAULT_CACHE_MAX_AGE.as_secs()
}

impl JwtConfig {
    /// The defaults for tokens from `issuer`, with no key source yet.
    pub fn new(issuer: impl Into<String>) -> JwtConfig {
        JwtConfig {
            issuer: issuer.into(),
            jwks_file: None,
            jwk_file: None,
            jwks: None,
            jwks_url: None,
            discovery: false,
            pem_file: None,
            algorithms: default_algorithms(),
            leeway_seconds: default_leeway(),
            preset: None,
            roles_claim: None,
            keycloak_client: None,
            require_typ: false,
            max_token_bytes: default_max_token_bytes(),
            hs256_secret_file: None,
            revoked_jti_file: None,
            min_refresh_seconds: default_min_refresh(),
            refresh_seconds: default_refresh(),
            fetch_timeout_seconds: default_fetch_timeout(),
            max_jwks_bytes: default_max_jwks_bytes(),
            cache_size: default_cache_size(),
            cache_max_seconds: default_cache_max(),
            max_token_lifetime_seconds: None,
            clock: Clock::system(),
        }
    }

    /// The claims preset configured, if any.
    pub fn claims_preset(&self) -> Result<Option<ClaimsPreset>, ConfigError> {
        if let Some(claim) = &self.roles_claim {
            ClaimPath::parse(claim).map_err(|error| {
                ConfigError::with_source("jwt.roles_claim", error.to_string(), error)
            })?;
        }
        let options = PresetOptions {
            roles_claim: self.roles_claim.clone(),
            keycloak_client: self.keycloak_client.clone(),
        };
        let Some(name) = &self.preset else {
            if self.keycloak_client.is_some() {
                return Err(ConfigError::new(
                    "jwt.keycloak_client",
                    "needs `preset = \"keycloak\"`",
                ));
            }
            return Ok(self
                .roles_claim
                .is_some()
                .then(|| ClaimsPreset::new(PresetName::Generic, &options)));
        };
        let preset = PresetName::parse(name).ok_or_else(|| {
            ConfigError::new(
                "jwt.preset",
                format!("unknown preset `{name}`; use auth0, entra, keycloak, okta or generic"),
            )
        })?;
        if self.keycloak_client.is_some() && preset != PresetName::Keycloak {
            return Err(ConfigError::new(
                "jwt.keycloak_client",
                "needs `preset = \"keycloak\"`",
            ));
        }
        Ok(Some(ClaimsPreset::new(preset, &options)))
    }

    /// The allow-list, checked.
    fn algorithms(&self) -> Result<Vec<Algorithm>, ConfigError> {
        let key = "jwt.algorithms";
        if self.algorithms.is_empty() {
            return Err(ConfigError::new(
                key,
                "is empty; list at least one algorithm",
            ));
        }
        let mut algorithms = Vec::new();
        for name in &self.algorithms {
            if name.eq_ignore_ascii_case("none") {
                return Err(ConfigError::new(key, "`none` is never allowed"));
            }
            let algorithm = algorithm_from_name(name)
                .ok_or_else(|| ConfigError::new(key, format!("unknown algorithm `{name}`")))?;
            if matches!(algorithm, Algorithm::HS384 | Algorithm::HS512) {
                return Err(ConfigError::new(
                    key,
                    format!("`{name}` is not supported; shared secrets use HS256"),
                ));
            }
            if algorithm == Algorithm::HS256 && self.hs256_secret_file.is_none() {
                return Err(ConfigError::new(key, "HS256 needs `jwt.hs256_secret_file`"));
            }
            algorithms.push(algorithm);
        }
        if self.hs256_secret_file.is_some() && !algorithms.contains(&Algorithm::HS256) {
            return Err(ConfigError::new(
                "jwt.hs256_secret_file",
                "is set but HS256 is not in `jwt.algorithms`",
            ));
        }
        Ok(algorithms)
    }

    /// The settings, checked.
    fn settings(&self, resource: &str) -> Result<JwtSettings, ConfigError> {
        if self.issuer.trim().is_empty() {
            return Err(ConfigError::new("jwt.issuer", "must not be empty"));
        }
        if self.max_token_bytes == 0 || self.max_token_bytes > 1024 * 1024 {
            return Err(ConfigError::new(
                "jwt.max_token_bytes",
                "must be between 1 and 1048576",
            ));
        }
        if self.leeway_seconds > 3600 {
            return Err(ConfigError::new(
                "jwt.leeway_seconds",
                "must be at most 3600",
            ));
        }
        if self.max_token_lifetime_seconds == Some(0) {
            return Err(ConfigError::new(
                "jwt.max_token_lifetime_seconds",
                "must be at least 1 (leave it out for no limit)",
            ));
        }
        let revocations = Revocations::new();
        if let Some(path) = &self.revoked_jti_file {
            revocations.load_file(path, "jwt.revoked_jti_file")?;
        }
        Ok(JwtSettings {
            issuer: self.issuer.clone(),
            audience: resource.to_string(),
            algorithms: self.algorithms()?,
            leeway: Duration::from_secs(self.leeway_seconds),
            require_typ: self.require_typ,
            max_token_bytes: self.max_token_bytes,
            max_lifetime: self.max_token_lifetime_seconds.map(Duration::from_secs),
            revocations,
            clock: self.clock.clone(),
        })
    }

    /// The key sources named, by configuration key.
    fn sources(&self) -> Vec<&'static str> {
        let named = [
            ("jwt.jwks_file", self.jwks_file.is_some()),
            ("jwt.jwk_file", self.jwk_file.is_some()),
            ("jwt.jwks", self.jwks.is_some()),
            ("jwt.jwks_url", self.jwks_url.is_some()),
            ("jwt.discovery", self.discovery),
            ("jwt.pem_file", self.pem_file.is_some()),
        ];
        named
            .into_iter()
            .filter(|(_, set)| *set)
            .map(|(key, _)| key)
            .collect()
    }

    /// Builds the scheme: settings checked, keys loaded (fetched, for remote keys).
    pub async fn scheme(&self, resource: &str) -> Result<JwtScheme, ConfigError> {
        let settings = self.settings(resource)?;
        let sources = self.sources();
        let secret = self.secret()?;
        let keys = match sources.as_slice() {
            [] if secret.is_some() => Keys::Fixed(Arc::new(KeySet::new())),
            [] => {
                return Err(ConfigError::new(
                    "jwt",
                    "no key source; set one of `jwks_file`, `jwk_file`, `jwks`, `jwks_url`, `discovery = true`, `pem_file`",
                ))
            }
            [source] => self.keys(source).await?,
            [first, second, ..] => {
                return Err(ConfigError::new(*second, format!("give one key source; `{first}` is set too")))
            }
        };
        let keys = match (keys, secret) {
            (keys, None) => keys,
            (Keys::Fixed(fixed), Some(secret)) => {
                Keys::Fixed(Arc::new(KeySet::clone(&fixed).merged(&secret)))
            }
            (Keys::Remote(remote, fixed), Some(secret)) => {
                Keys::Remote(remote, Arc::new(KeySet::clone(&fixed).merged(&secret)))
            }
        };
        if let Some(path) = &self.revoked_jti_file {
            settings.revocations.watch_file(path);
        }
        Ok(JwtScheme::new(settings, keys))
    }

    async fn keys(&self, source: &'static str) -> Result<Keys, ConfigError> {
        let fail = |error: super::keys::KeyError| {
            ConfigError::with_source(source, error.to_string(), error)
        };
        match source {
            "jwt.jwks_file" | "jwt.jwk_file" | "jwt.pem_file" => {
                let path = [&self.jwks_file, &self.jwk_file, &self.pem_file]
                    .into_iter()
                    .find_map(Option::as_ref)
                    .cloned()
                    .unwrap_or_default();
                let text = files::read_capped(&path, files::MAX_LIST_BYTES)
                    .map_err(|error| ConfigError::with_source(source, error.to_string(), error))?;
                let keys = if source == "jwt.pem_file" {
                    KeySet::from_pem(text.as_bytes())
                } else {
                    KeySet::from_jwk_text(&text)
                };
                keys.map(Keys::from).map_err(fail)
            }
            "jwt.jwks" => KeySet::from_jwk_text(self.jwks.as_deref().unwrap_or_default())
                .map(Keys::from)
                .map_err(fail),
            _ => self.remote_keys(source).await,
        }
    }

    async fn remote_keys(&self, source: &'static str) -> Result<Keys, ConfigError> {
        let fail = |error: super::keys::KeyError| {
            ConfigError::with_source(source, error.to_string(), error)
        };
        let timeout = Duration::from_secs(self.fetch_timeout_seconds.max(1));
        let url = match &self.jwks_url {
            Some(url) => url.clone(),
            None => {
                let fetcher = Fetcher::new(timeout, self.max_jwks_bytes).map_err(fail)?;
                discover_jwks_uri(&fetcher, &self.issuer)
                    .await
                    .map_err(fail)?
            }
        };
        let config = RemoteKeysConfig {
            min_refresh_interval: Duration::from_secs(self.min_refresh_seconds),
            refresh_interval: Duration::from_secs(self.refresh_seconds),
            fetch_timeout: timeout,
            max_response_bytes: self.max_jwks_bytes,
            clock: self.clock.clone(),
            ..RemoteKeysConfig::new(url)
        };
        let remote = RemoteKeys::start(config).await.map_err(fail)?;
        Ok(Keys::from(remote))
    }

    /// The HS256 secret, if configured.
    fn secret(&self) -> Result<Option<KeySet>, ConfigError> {
        let Some(path) = &self.hs256_secret_file else {
            return Ok(None);
        };
        let key = "jwt.hs256_secret_file";
        let bytes = std::fs::read(path).map_err(|error| {
            let message = format!("cannot read `{}`: {error}", path.display());
            ConfigError::with_source(key, message, error)
        })?;
        let secret = bytes.strip_suffix(b"\n").unwrap_or(&bytes);
        let secret = secret.strip_suffix(b"\r").unwrap_or(secret);
        if secret.len() < 32 {
            return Err(ConfigError::new(
                key,
                "the secret must be at least 32 bytes",
            ));
        }
        Ok(Some(KeySet::from_hmac_secret(secret)))
    }
}

impl Authenticator {
    /// An authenticator for a configuration: the JWT scheme (keys loaded, remote keys
    /// fetched once), then the API key scheme. A setup that cannot work is refused with
    /// the key at fault.
    pub async fn from_config(config: &CredentialsConfig) -> Result<Authenticator, ConfigError> {
        if config.resource.trim().is_empty() {
            return Err(ConfigError::new(
                "resource",
                "must be this server's canonical URI",
            ));
        }
        if config.jwt.is_none() && config.api_keys.is_none() {
            return Err(ConfigError::new(
                "jwt",
                "no credentials configured: add a `[jwt]` or `[api_keys]` table",
            ));
        }
        let mut authenticator = Authenticator::new();
        if let Some(jwt) = &config.jwt {
            let preset = jwt.claims_preset()?;
            let scheme = jwt.scheme(&config.resource).await?;
            authenticator = authenticator
                .with_clock(jwt.clock.clone())
                .with_cache(CacheConfig {
                    capacity: jwt.cache_size,
                    max_age: Duration::from_secs(jwt.cache_max_seconds),
                })
                .with_scheme(scheme);
            if let Some(preset) = preset {
                authenticator = authenticator.with_claims_preset(preset);
            }
        }
        if let Some(api_keys) = &config.api_keys {
            let scheme = ApiKeyScheme::from_file(&api_keys.file, api_keys.clock.clone())?;
            scheme.watch();
            authenticator = authenticator.with_scheme(scheme);
        }
        Ok(authenticator)
    }
}
