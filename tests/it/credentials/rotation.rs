//! Cached tokens and key rotation: a cached principal is tied to the keys that verified
//! it, lives at most the cache's maximum age, and absurd lifetimes are refused.

use std::sync::Arc;
use std::time::Duration;

use serde_json::json;
use toolgate::credentials::{
    AuthError, Authenticator, CacheConfig, CredentialError as E, CredentialsConfig, JwtConfig,
    JwtScheme, KeySet, Keys, RemoteKeys, RemoteKeysConfig,
};
use toolgate::{Engine, Policy};

use super::support::*;

fn engine() -> Engine {
    Policy::from_text(
        "p.policy",
        "role developer\nallow developer to call tools \"*\"\n",
    )
    .unwrap()
    .into_engine()
}

struct Remote {
    server: Server,
    keys: RemoteKeys,
    scheme: Arc<JwtScheme>,
    authenticator: Authenticator,
}

async fn remote(published: &[&TestKey]) -> Remote {
    let server = Server::start().await;
    server.set("/keys", Reply::json(jwks(published)));
    let clock = TestClock::new();
    let mut config = RemoteKeysConfig::new(server.url("/keys"));
    config.clock = clock.clock();
    let keys = RemoteKeys::start(config).await.unwrap();
    let scheme = Arc::new(JwtScheme::new(settings(&clock), Keys::from(keys.clone())));
    let authenticator = Authenticator::new()
        .with_clock(clock.clock())
        .with_scheme(Arc::clone(&scheme));
    Remote {
        server,
        keys,
        scheme,
        authenticator,
    }
}

/// The issue's finding: after a key leaves the JWKS and the keys refresh, a token the
/// gate had cached before must be refused like a fresh one.
#[tokio::test]
async fn a_cached_token_is_refused_once_its_key_leaves_the_jwks() {
    let ring = keyring();
    let remote = remote(&[&ring.rsa, &ring.ec]).await;
    let engine = engine();
    let compromised = bearer(&sign(&ring.rsa, &claims()));
    let kept = bearer(&sign(&ring.ec, &claims_with(json!({"jti": "kept"}))));
    for head in [&compromised, &kept] {
        remote.authenticator.principal(head, &engine).await.unwrap();
        remote.authenticator.principal(head, &engine).await.unwrap();
    }
    assert_eq!(remote.scheme.verifications(), 2, "both cached");

    remote.server.set("/keys", Reply::json(jwks(&[&ring.ec])));
    remote.keys.refresh().await.unwrap();
    let refused = remote.authenticator.principal(&compromised, &engine).await;
    assert_eq!(refused.unwrap_err(), AuthError::Invalid(E::UnknownKey));
    let identity = remote.authenticator.identity(&compromised).await;
    assert_eq!(identity.unwrap_err(), AuthError::Invalid(E::UnknownKey));

    // A token whose key stayed is verified once more, then cached again.
    let before = remote.scheme.verifications();
    remote
        .authenticator
        .principal(&kept, &engine)
        .await
        .unwrap();
    remote
        .authenticator
        .principal(&kept, &engine)
        .await
        .unwrap();
    assert_eq!(remote.scheme.verifications(), before + 1);
}

#[tokio::test]
async fn a_refresh_with_the_same_keys_keeps_the_cache() {
    let ring = keyring();
    let remote = remote(&[&ring.rsa]).await;
    let engine = engine();
    let head = bearer(&sign(&ring.rsa, &claims()));
    remote
        .authenticator
        .principal(&head, &engine)
        .await
        .unwrap();
    let generation = remote.keys.generation();
    remote.keys.refresh().await.unwrap();
    assert_eq!(remote.keys.generation(), generation, "same JWKS, same keys");
    remote
        .authenticator
        .principal(&head, &engine)
        .await
        .unwrap();
    assert_eq!(remote.scheme.verifications(), 1, "still cached");
    remote
        .server
        .set("/keys", Reply::json(jwks(&[&ring.rsa, &ring.ed])));
    remote.keys.refresh().await.unwrap();
    assert_ne!(remote.keys.generation(), generation, "a key was added");
    remote
        .authenticator
        .principal(&head, &engine)
        .await
        .unwrap();
    assert_eq!(remote.scheme.verifications(), 2, "verified again");
}

fn fixed(
    clock: &TestClock,
    change: impl FnOnce(&mut toolgate::credentials::JwtSettings),
) -> Arc<JwtScheme> {
    let mut settings = settings(clock);
    change(&mut settings);
    let keys = KeySet::from_jwk_text(&jwks(&[&keyring().rsa])).unwrap();
    Arc::new(JwtScheme::new(settings, Keys::from(keys)))
}

#[tokio::test]
async fn cached_tokens_are_verified_again_after_the_maximum_age() {
    let clock = TestClock::new();
    let scheme = fixed(&clock, |_| {});
    let authenticator = Authenticator::new()
        .with_clock(clock.clock())
        .with_scheme(Arc::clone(&scheme));
    let engine = engine();
    // Valid for a day; the default maximum age is five minutes.
    let head = bearer(&sign(
        &keyring().rsa,
        &claims_with(json!({"exp": NOW + 86_400})),
    ));
    authenticator.principal(&head, &engine).await.unwrap();
    clock.set(NOW + 299);
    authenticator.principal(&head, &engine).await.unwrap();
    assert_eq!(scheme.verifications(), 1, "cached within the maximum age");
    clock.set(NOW + 300);
    authenticator.principal(&head, &engine).await.unwrap();
    assert_eq!(
        scheme.verifications(),
        2,
        "verified again at the maximum age"
    );
    clock.set(NOW + 301);
    authenticator.principal(&head, &engine).await.unwrap();
    assert_eq!(scheme.verifications(), 2, "and cached again from then");

    let short = Authenticator::new()
        .with_clock(clock.clock())
        .with_cache(CacheConfig {
            max_age: Duration::from_secs(10),
            ..CacheConfig::default()
        })
        .with_scheme(Arc::clone(&scheme));
    short.principal(&head, &engine).await.unwrap();
    clock.advance(10);
    short.principal(&head, &engine).await.unwrap();
    assert_eq!(scheme.verifications(), 4, "a configured maximum age");
}

#[tokio::test]
async fn absurd_lifetimes_are_refused_when_a_maximum_is_set() {
    let clock = TestClock::new();
    let year_9999 = claims_with(json!({"exp": 253_402_300_799_i64}));
    let unlimited = fixed(&clock, |_| {});
    assert!(unlimited
        .verify(&sign(&keyring().rsa, &year_9999))
        .await
        .is_ok());

    let day = Duration::from_secs(86_400);
    let limited = fixed(&clock, |settings| settings.max_lifetime = Some(day));
    let verify = |claims: serde_json::Value| {
        let limited = Arc::clone(&limited);
        async move { limited.verify(&sign(&keyring().rsa, &claims)).await }
    };
    assert_eq!(verify(year_9999).await.unwrap_err(), E::LifetimeTooLong);
    assert!(verify(claims()).await.is_ok(), "an hour");
    // Within the leeway of a day from now: accepted (clock skew); beyond it: refused.
    let edge = json!({"exp": NOW + 86_400 + 60, "iat": null, "nbf": null});
    assert!(verify(claims_with(edge)).await.is_ok());
    let beyond = json!({"exp": NOW + 86_400 + 61, "iat": null});
    assert_eq!(
        verify(claims_with(beyond)).await.unwrap_err(),
        E::LifetimeTooLong
    );
    // Issued two days ago, valid for another hour: a lifetime over the maximum.
    let long_ago = json!({"iat": NOW - 2 * 86_400, "nbf": null});
    assert_eq!(
        verify(claims_with(long_ago)).await.unwrap_err(),
        E::LifetimeTooLong
    );
}

#[tokio::test]
async fn the_config_keys_reach_the_cache_and_the_validation() {
    let dir = std::env::temp_dir().join(format!("toolgate-rotation-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("jwks.json");
    std::fs::write(&path, jwks(&[&keyring().rsa])).unwrap();
    let from_toml = |extra: &str| {
        let text = format!(
            "resource = \"{RESOURCE}\"\n[jwt]\nissuer = \"{ISSUER}\"\njwks_file = {:?}\n{extra}",
            path.to_str().unwrap()
        );
        let mut parsed: CredentialsConfig = toml::from_str(&text).unwrap();
        parsed.jwt.as_mut().unwrap().clock = TestClock::new().clock();
        parsed
    };
    let engine = engine();
    let head = bearer(&sign(&keyring().rsa, &claims()));
    let far = bearer(&sign(
        &keyring().rsa,
        &claims_with(json!({"exp": NOW + 7200 + 61})),
    ));

    let limited = from_toml("cache_max_seconds = 20\nmax_token_lifetime_seconds = 7200\n");
    let authenticator = Authenticator::from_config(&limited).await.unwrap();
    let refused = authenticator.principal(&far, &engine).await;
    assert_eq!(refused.unwrap_err(), AuthError::Invalid(E::LifetimeTooLong));
    authenticator.principal(&head, &engine).await.unwrap();
    assert_eq!(authenticator.cached(), 1);

    let defaults = Authenticator::from_config(&from_toml("")).await.unwrap();
    assert!(
        defaults.principal(&far, &engine).await.is_ok(),
        "no limit by default"
    );
    let off = Authenticator::from_config(&from_toml("cache_max_seconds = 0\n"))
        .await
        .unwrap();
    off.principal(&head, &engine).await.unwrap();
    assert_eq!(off.cached(), 0, "a maximum age of 0 caches nothing");
    std::fs::remove_dir_all(&dir).unwrap();

    let mut zero = JwtConfig::new(ISSUER);
    zero.jwks = Some(jwks(&[&keyring().rsa]));
    zero.max_token_lifetime_seconds = Some(0);
    let config = CredentialsConfig {
        resource: RESOURCE.into(),
        jwt: Some(zero),
        api_keys: None,
    };
    let error = Authenticator::from_config(&config).await.unwrap_err();
    assert_eq!(error.key(), "jwt.max_token_lifetime_seconds");
}
