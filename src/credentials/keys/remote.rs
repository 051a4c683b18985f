//! Keys fetched from a JWKS URL: cached, refreshed in the background, refreshed on an
//! unknown `kid` at most once per interval, and kept when a fetch fails.

use std::net::IpAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError, RwLock, Weak};
use std::time::Duration;

use jiff::Timestamp;
use reqwest::Url;

use super::{KeyError, KeySet};
use crate::credentials::clock::Clock;

/// The default shortest wait between background refreshes
/// ([`RemoteKeysConfig::min_background_interval`]).
pub const DEFAULT_MIN_BACKGROUND_INTERVAL: Duration = Duration::from_secs(10);

/// The longest wait between background refreshes, whatever a server's
/// `Cache-Control: max-age` says.
pub const MAX_BACKGROUND_INTERVAL: Duration = Duration::from_secs(24 * 60 * 60);

/// The shortest wait between background refreshes whatever the configuration says, so
/// that a zero never makes a busy loop.
const BACKGROUND_FLOOR: Duration = Duration::from_millis(1);

/// How remote keys are fetched and kept fresh.
#[derive(Debug, Clone)]
pub struct RemoteKeysConfig {
    /// The JWKS URL: `https`, or `http` to a loopback host only.
    pub url: String,
    /// An unknown `kid` causes a fetch at most this often (default 30 s).
    pub min_refresh_interval: Duration,
    /// The background refresh interval when the server gives no `max-age` (default 5 min).
    pub refresh_interval: Duration,
    /// A fetch taking longer fails (default 5 s).
    pub fetch_timeout: Duration,
    /// A response body longer than this fails (default 512 KiB).
    pub max_response_bytes: usize,
    /// The shortest wait between two background refreshes, whatever the server's
    /// `max-age`, `refresh_interval` or `min_refresh_interval` say (default 10 s, see
    /// [`DEFAULT_MIN_BACKGROUND_INTERVAL`]; at least 1 ms). The longest is
    /// [`MAX_BACKGROUND_INTERVAL`] (or this, when it is longer). Tests lower it to see the
    /// background refresh act within a second.
    pub min_background_interval: Duration,
    /// The clock the refresh rate limit reads.
    pub clock: Clock,
}

impl RemoteKeysConfig {
    /// The defaults for `url`.
    pub fn new(url: impl Into<String>) -> RemoteKeysConfig {
        RemoteKeysConfig {
            url: url.into(),
            min_refresh_interval: Duration::from_secs(30),
            refresh_interval: Duration::from_secs(300),
            fetch_timeout: Duration::from_secs(5),
            max_response_bytes: 512 * 1024,
            min_background_interval: DEFAULT_MIN_BACKGROUND_INTERVAL,
            clock: Clock::system(),
        }
    }
}

/// A JWKS fetched from a URL and cached. Clones share the cache.
#[derive(Debug, Clone)]
pub struct RemoteKeys {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    url: Url,
    config: RemoteKeysConfig,
    fetcher: Fetcher,
    keys: RwLock<Arc<KeySet>>,
    /// The JWKS text the keys were parsed from, to tell a change.
    body: Mutex<String>,
    /// Bumped whenever fetched keys differ from those before.
    generation: AtomicU64,
    /// When a fetch was last started, for the unknown-`kid` rate limit.
    last_attempt: Mutex<Option<Timestamp>>,
    /// One fetch at a time.
    fetching: tokio::sync::Mutex<()>,
    fetches: AtomicU64,
    failures: AtomicU64,
}

impl RemoteKeys {
    /// Fetches the keys once (an error if that fails), then keeps them fresh with a
    /// background task for as long as a clone lives. Needs a tokio runtime.
    pub async fn start(config: RemoteKeysConfig) -> Result<RemoteKeys, KeyError> {
        let url = checked_url(&config.url)?;
        let fetcher = Fetcher::new(config.fetch_timeout, config.max_response_bytes)?;
        let inner = Arc::new(Inner {
            url,
            fetcher,
            keys: RwLock::new(Arc::new(KeySet::new())),
            body: Mutex::new(String::new()),
            generation: AtomicU64::new(0),
            last_attempt: Mutex::new(None),
            fetching: tokio::sync::Mutex::new(()),
            fetches: AtomicU64::new(0),
            failures: AtomicU64::new(0),
            config,
        });
        let max_age = inner.fetch().await?;
        spawn_background(Arc::downgrade(&inner), Last::Fetched(max_age));
        Ok(RemoteKeys { inner })
    }

    /// The keys now in use.
    pub fn keys(&self) -> Arc<KeySet> {
        self.inner.current()
    }

    /// A number that changes whenever a fetch installs keys different from those before
    /// (the JWKS text changed); principals cached under another generation are verified
    /// again.
    pub fn generation(&self) -> u64 {
        self.inner.generation.load(Ordering::SeqCst)
    }

    /// How many fetches were started (successful or not).
    pub fn fetch_count(&self) -> u64 {
        self.inner.fetches.load(Ordering::Relaxed)
    }

    /// How many fetches failed (the keys stayed as they were).
    pub fn failed_fetch_count(&self) -> u64 {
        self.inner.failures.load(Ordering::Relaxed)
    }

    /// Fetches the keys now, whatever the rate limit; on failure the keys stay as they were.
    pub async fn refresh(&self) -> Result<(), KeyError> {
        let _one = self.inner.fetching.lock().await;
        self.inner.fetch().await.map(|_| ())
    }

    /// The keys after a refresh for an unknown `kid`, when the rate limit allows one;
    /// otherwise the keys as they are.
    pub(crate) async fn refreshed_for(&self, kid: &str) -> Arc<KeySet> {
        if !self.inner.may_refresh() {
            return self.inner.current();
        }
        let _one = self.inner.fetching.lock().await;
        let current = self.inner.current();
        if current.has_kid(kid) || !self.inner.may_refresh() {
            return current;
        }
        if let Err(error) = self.inner.fetch().await {
            tracing::warn!(url = %self.inner.url, %error, "key refresh failed; keeping the last good keys");
        }
        self.inner.current()
    }
}

impl Inner {
    fn current(&self) -> Arc<KeySet> {
        Arc::clone(&self.keys.read().unwrap_or_else(PoisonError::into_inner))
    }

    /// Whether the rate limit allows a fetch now (a clock gone backwards allows one).
    fn may_refresh(&self) -> bool {
        let last = *self
            .last_attempt
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        let Some(last) = last else {
            return true;
        };
        let elapsed = self.config.clock.now().duration_since(last);
        let minimum = self.config.min_refresh_interval;
        elapsed.is_negative() || elapsed.unsigned_abs() >= minimum
    }

    /// Fetches and installs the keys; returns the server's `max-age`, if any. A failure
    /// is counted.
    async fn fetch(&self) -> Result<Option<Duration>, KeyError> {
        let fetched = self.fetch_once().await;
        if fetched.is_err() {
            self.failures.fetch_add(1, Ordering::Relaxed);
        }
        fetched
    }

    async fn fetch_once(&self) -> Result<Option<Duration>, KeyError> {
        *self
            .last_attempt
            .lock()
            .unwrap_or_else(PoisonError::into_inner) = Some(self.config.clock.now());
        self.fetches.fetch_add(1, Ordering::Relaxed);
        let response = self.fetcher.get(&self.url).await?;
        let keys = KeySet::from_jwk_text(&response.body)
            .map_err(|error| KeyError::caused(format!("`{}`: {error}", self.url), error))?;
        let mut body = self.body.lock().unwrap_or_else(PoisonError::into_inner);
        if *body != response.body {
            *self.keys.write().unwrap_or_else(PoisonError::into_inner) = Arc::new(keys);
            // After the keys: a reader seeing the new generation verifies with new keys.
            self.generation.fetch_add(1, Ordering::SeqCst);
            *body = response.body;
        }
        Ok(response.max_age)
    }

    /// The wait before the next background refresh: after a fetch, 90 % of the server's
    /// `max-age`, else `refresh_interval`; after a failed fetch, `min_refresh_interval`
    /// (the unknown-`kid` rate limit). Always between `min_background_interval` and
    /// [`MAX_BACKGROUND_INTERVAL`].
    fn background_interval(&self, last: Last) -> Duration {
        let wanted = match last {
            Last::Fetched(Some(age)) => age.min(MAX_BACKGROUND_INTERVAL * 2).mul_f64(0.9),
            Last::Fetched(None) => self.config.refresh_interval,
            Last::Failed => self.config.min_refresh_interval,
        };
        let floor = self.config.min_background_interval.max(BACKGROUND_FLOOR);
        wanted.min(MAX_BACKGROUND_INTERVAL).max(floor)
    }
}

/// How the last fetch went, for the background schedule.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Last {
    /// It installed keys (or found them unchanged); the server's `max-age`, if any.
    Fetched(Option<Duration>),
    /// It failed; the keys stayed.
    Failed,
}

fn spawn_background(inner: Weak<Inner>, first: Last) {
    let Ok(runtime) = tokio::runtime::Handle::try_current() else {
        return;
    };
    runtime.spawn(async move {
        let mut last = first;
        loop {
            let Some(interval) = inner.upgrade().map(|i| i.background_interval(last)) else {
                return;
            };
            tokio::time::sleep(interval).await;
            let Some(strong) = inner.upgrade() else {
                return;
            };
            let _one = strong.fetching.lock().await;
            last = match strong.fetch().await {
                Ok(age) => Last::Fetched(age),
                Err(error) => {
                    tracing::warn!(url = %strong.url, %error, "background key refresh failed; keeping the last good keys");
                    Last::Failed
                }
            };
        }
    });
}

/// A URL keys may be fetched from: `https`, or `http` to a loopback host.
pub(crate) fn checked_url(text: &str) -> Result<Url, KeyError> {
    let url = Url::parse(text)
        .map_err(|error| KeyError::caused(format!("`{text}` is not a URL: {error}"), error))?;
    match url.scheme() {
        "https" => Ok(url),
        "http" if is_loopback(&url) => Ok(url),
        "http" => Err(KeyError::new(format!(
            "`{text}` is plain HTTP; use HTTPS (plain HTTP is allowed to loopback hosts only)"
        ))),
        other => Err(KeyError::new(format!(
            "`{text}`: unsupported scheme `{other}`"
        ))),
    }
}

fn is_loopback(url: &Url) -> bool {
    let Some(host) = url.host_str() else {
        return false;
    };
    let bare = host
        .strip_prefix('[')
        .and_then(|host| host.strip_suffix(']'))
        .unwrap_or(host);
    match bare.parse::<IpAddr>() {
        Ok(address) => address.is_loopback(),
        Err(_) => bare.eq_ignore_ascii_case("localhost"),
    }
}

/// A fetched document.
pub(crate) struct Fetched {
    pub(crate) body: String,
    pub(crate) max_age: Option<Duration>,
}

/// An HTTP client with a timeout, a size cap and a redirect policy that keeps to HTTPS
/// (or loopback).
#[derive(Debug, Clone)]
pub(crate) struct Fetcher {
    client: reqwest::Client,
    max_bytes: usize,
}

impl Fetcher {
    pub(crate) fn new(timeout: Duration, max_bytes: usize) -> Result<Fetcher, KeyError> {
        let redirects = reqwest::redirect::Policy::custom(|attempt| {
            if attempt.previous().len() >= 3 {
                attempt.error("too many redirects")
            } else if checked_url(attempt.url().as_str()).is_err() {
                attempt.error("redirect to a URL that is neither HTTPS nor loopback")
            } else {
                attempt.follow()
            }
        });
        let client = reqwest::Client::builder()
            .timeout(timeout)
            .connect_timeout(timeout)
            .redirect(redirects)
            .user_agent(concat!("toolgate/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|error| {
                KeyError::caused(format!("cannot build an HTTP client: {error}"), error)
            })?;
        Ok(Fetcher { client, max_bytes })
    }

    /// GETs `url`; a status other than 200, a body over the cap or a timeout is an error.
    pub(crate) async fn get(&self, url: &Url) -> Result<Fetched, KeyError> {
        let failed = |error: &dyn std::fmt::Display| {
            KeyError::new(format!("fetching `{url}` failed: {error}"))
        };
        let broken = |error: reqwest::Error| {
            KeyError::caused(format!("fetching `{url}` failed: {error}"), error)
        };
        let mut response = self
            .client
            .get(url.clone())
            .header(http::header::ACCEPT, "application/json")
            .send()
            .await
            .map_err(broken)?;
        if response.status() != reqwest::StatusCode::OK {
            return Err(failed(&format!("status {}", response.status())));
        }
        let max_age = response
            .headers()
            .get(http::header::CACHE_CONTROL)
            .and_then(|value| value.to_str().ok())
            .and_then(max_age);
        let mut body = Vec::new();
        while let Some(chunk) = response.chunk().await.map_err(broken)? {
            if body.len() + chunk.len() > self.max_bytes {
                return Err(failed(&format!(
                    "the response is over {} bytes",
                    self.max_bytes
                )));
            }
            body.extend_from_slice(&chunk);
        }
        let body = String::from_utf8(body).map_err(|_| failed(&"the response is not UTF-8"))?;
        Ok(Fetched { body, max_age })
    }
}

/// The `max-age` of a `Cache-Control` value.
fn max_age(value: &str) -> Option<Duration> {
    value.split(',').find_map(|directive| {
        let (name, seconds) = directive.trim().split_once('=')?;
        if !name.trim().eq_ignore_ascii_case("max-age") {
            return None;
        }
        seconds
            .trim()
            .trim_matches('"')
            .parse()
            .ok()
            .map(Duration::from_secs)
    })
}

/// The JWKS URL of an issuer, by OpenID Connect discovery
/// (`{issuer}/.well-known/openid-configuration`), else RFC 8414
/// (`/.well-known/oauth-authorization-server` inserted before the issuer's path). The
/// document's `issuer` must be the configured issuer.
pub(crate) async fn discover_jwks_uri(fetcher: &Fetcher, issuer: &str) -> Result<String, KeyError> {
    let base = checked_url(issuer)?;
    let trimmed = issuer.trim_end_matches('/');
    let oidc = checked_url(&format!("{trimmed}/.well-known/openid-configuration"))?;
    let path = base.path().trim_end_matches('/');
    let mut rfc8414 = base.clone();
    rfc8414.set_path(&format!("/.well-known/oauth-authorization-server{path}"));
    let mut failures = Vec::new();
    for url in [oidc, rfc8414] {
        match metadata_jwks_uri(fetcher, &url, issuer).await {
            Ok(uri) => return Ok(uri),
            Err(error) => failures.push(error.to_string()),
        }
    }
    Err(KeyError::new(format!(
        "discovery failed: {}",
        failures.join("; ")
    )))
}

async fn metadata_jwks_uri(fetcher: &Fetcher, url: &Url, issuer: &str) -> Result<String, KeyError> {
    let fetched = fetcher.get(url).await?;
    let document: serde_json::Value = serde_json::from_str(&fetched.body)
        .map_err(|error| KeyError::caused(format!("`{url}` is not JSON: {error}"), error))?;
    let named = document.get("issuer").and_then(serde_json::Value::as_str);
    if named != Some(issuer) {
        return Err(KeyError::new(format!(
            "`{url}` names issuer `{}`, not `{issuer}`",
            named.unwrap_or("")
        )));
    }
    let uri = document
        .get("jwks_uri")
        .and_then(serde_json::Value::as_str)
        .ok_or_else(|| KeyError::new(format!("`{url}` has no `jwks_uri`")))?;
    checked_url(uri)?;
    Ok(uri.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn max_age_is_read_from_cache_control() {
        assert_eq!(
            max_age("public, max-age=600"),
            Some(Duration::from_secs(600))
        );
        assert_eq!(max_age("no-cache"), None);
        assert_eq!(max_age("max-age=abc"), None);
    }

    /// An `Inner` for schedule checks only: nothing is fetched.
    fn schedule(configure: impl FnOnce(&mut RemoteKeysConfig)) -> Inner {
        let mut config = RemoteKeysConfig::new("http://127.0.0.1:9/keys");
        configure(&mut config);
        Inner {
            url: checked_url(&config.url).unwrap(),
            fetcher: Fetcher::new(config.fetch_timeout, config.max_response_bytes).unwrap(),
            keys: RwLock::new(Arc::new(KeySet::new())),
            body: Mutex::new(String::new()),
            generation: AtomicU64::new(0),
            last_attempt: Mutex::new(None),
            fetching: tokio::sync::Mutex::new(()),
            fetches: AtomicU64::new(0),
            failures: AtomicU64::new(0),
            config,
        }
    }

    #[test]
    fn the_background_interval_follows_max_age_within_its_bounds() {
        let secs = Duration::from_secs;
        let defaults = schedule(|_| {});
        let interval = |last| defaults.background_interval(last);
        // 90 % of max-age; the configured interval without one.
        assert_eq!(interval(Last::Fetched(Some(secs(600)))), secs(540));
        assert_eq!(interval(Last::Fetched(None)), secs(300));
        // Bounded to 10 s .. 24 h, whatever the server says.
        assert_eq!(interval(Last::Fetched(Some(secs(0)))), secs(10));
        assert_eq!(interval(Last::Fetched(Some(secs(11)))), secs(10));
        assert_eq!(
            interval(Last::Fetched(Some(secs(2 * 86_400)))),
            secs(86_400)
        );
        assert_eq!(interval(Last::Fetched(Some(secs(u64::MAX)))), secs(86_400));
        // A failure retries after the unknown-kid rate limit, not sooner.
        assert_eq!(interval(Last::Failed), secs(30));

        let configured = schedule(|config| {
            config.refresh_interval = secs(1);
            config.min_refresh_interval = secs(100_000);
        });
        assert_eq!(
            configured.background_interval(Last::Fetched(None)),
            secs(10)
        );
        assert_eq!(configured.background_interval(Last::Failed), secs(86_400));

        let fast = schedule(|config| {
            config.min_background_interval = Duration::from_millis(200);
            config.refresh_interval = Duration::from_millis(300);
        });
        let interval = |last| fast.background_interval(last);
        assert_eq!(interval(Last::Fetched(None)), Duration::from_millis(300));
        assert_eq!(
            interval(Last::Fetched(Some(secs(0)))),
            Duration::from_millis(200)
        );
        assert_eq!(
            interval(Last::Fetched(Some(secs(1)))),
            Duration::from_millis(900)
        );
        let zero = schedule(|config| {
            config.min_background_interval = Duration::ZERO;
            config.refresh_interval = Duration::ZERO;
        });
        assert_eq!(
            zero.background_interval(Last::Fetched(None)),
            BACKGROUND_FLOOR
        );
        let long = schedule(|config| config.min_background_interval = secs(2 * 86_400));
        assert_eq!(long.background_interval(Last::Failed), secs(2 * 86_400));
    }

    #[test]
    fn plain_http_only_to_loopback() {
        assert!(checked_url("http://127.0.0.1:8080/jwks").is_ok());
        assert!(checked_url("http://127.3.4.5/jwks").is_ok());
        assert!(checked_url("http://[::1]:9/jwks").is_ok());
        assert!(checked_url("http://LocalHost/jwks").is_ok());
        assert!(checked_url("https://idp.example.com/jwks").is_ok());
        assert!(checked_url("http://idp.example.com/jwks").is_err());
        assert!(checked_url("http://10.0.0.1/jwks").is_err());
        assert!(checked_url("file:///etc/passwd").is_err());
    }
}
