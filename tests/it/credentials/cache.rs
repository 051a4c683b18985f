//! The principal cache: a hit skips verification, never outlives `exp`, honours
//! revocation, re-resolves for a new engine without verifying, and stays bounded.

use std::sync::Arc;

use serde_json::json;
use toolgate::credentials::{
    AuthError, Authenticator, CacheConfig, CredentialError, JwtScheme, KeySet, Keys, Revocations,
};
use toolgate::{Action, Engine, Kind, Policy, Request};

use super::support::*;

const POLICY: &str = r#"
role developer
allow developer to call tools "github.*"
"#;

fn engine(text: &str) -> Engine {
    Policy::from_text("test.policy", text)
        .unwrap()
        .into_engine()
}

struct Fixture {
    clock: TestClock,
    scheme: Arc<JwtScheme>,
    revocations: Revocations,
    authenticator: Authenticator,
}

fn fixture(capacity: usize) -> Fixture {
    let clock = TestClock::new();
    let revocations = Revocations::new();
    let mut settings = settings(&clock);
    settings.revocations = revocations.clone();
    let ring = keyring();
    let keys = KeySet::from_jwk_text(&jwks(&[&ring.rsa, &ring.ec])).unwrap();
    let scheme = Arc::new(JwtScheme::new(settings, Keys::from(keys)));
    let authenticator = Authenticator::new()
        .with_clock(clock.clock())
        .with_cache(CacheConfig {
            capacity,
            ..CacheConfig::default()
        })
        .with_scheme(Arc::clone(&scheme));
    Fixture {
        clock,
        scheme,
        revocations,
        authenticator,
    }
}

fn allowed(engine: &Engine, principal: &toolgate::Principal) -> bool {
    let request = Request::new(Kind::Tool, Action::Call, "github.create_issue").unwrap();
    engine.decide(principal, &request).is_allowed()
}

#[tokio::test]
async fn a_repeated_token_skips_verification() {
    let f = fixture(100);
    let engine = engine(POLICY);
    let head = bearer(&sign(&keyring().rsa, &claims()));
    let first = f.authenticator.principal(&head, &engine).await.unwrap();
    let second = f.authenticator.principal(&head, &engine).await.unwrap();
    assert_eq!(f.scheme.verifications(), 1);
    assert!(
        Arc::ptr_eq(&first, &second),
        "the cached principal is reused"
    );
    assert!(allowed(&engine, &second));
    let identity = f.authenticator.identity(&head).await.unwrap();
    assert_eq!(identity.expires_at().unwrap().as_second(), NOW + 3600);
    assert_eq!(
        f.scheme.verifications(),
        1,
        "identity() reads the cache too"
    );
    assert_eq!(f.authenticator.cached(), 1);
}

#[tokio::test]
async fn nothing_is_served_past_exp() {
    let f = fixture(100);
    let engine = engine(POLICY);
    let head = bearer(&sign(
        &keyring().rsa,
        &claims_with(json!({"exp": NOW + 100})),
    ));
    f.authenticator.principal(&head, &engine).await.unwrap();
    f.clock.set(NOW + 99);
    f.authenticator.principal(&head, &engine).await.unwrap();
    assert_eq!(f.scheme.verifications(), 1, "cached until exp");
    // At exp the cache no longer answers; within the leeway verification still passes.
    f.clock.set(NOW + 100);
    f.authenticator.principal(&head, &engine).await.unwrap();
    assert_eq!(f.scheme.verifications(), 2);
    f.authenticator.principal(&head, &engine).await.unwrap();
    assert_eq!(f.scheme.verifications(), 3, "never cached past exp");
    f.clock.set(NOW + 160);
    let refused = f.authenticator.principal(&head, &engine).await.unwrap_err();
    assert_eq!(refused, AuthError::Invalid(CredentialError::Expired));
}

#[tokio::test]
async fn revocation_reaches_cached_tokens() {
    let f = fixture(100);
    let engine = engine(POLICY);
    let head = bearer(&sign(&keyring().ec, &claims()));
    f.authenticator.principal(&head, &engine).await.unwrap();
    f.revocations.revoke("jti-1");
    let refused = f.authenticator.principal(&head, &engine).await.unwrap_err();
    assert_eq!(refused, AuthError::Invalid(CredentialError::Revoked));
    assert_eq!(f.authenticator.cached(), 0, "the revoked entry is dropped");
    let identity = f.authenticator.identity(&head).await;
    assert_eq!(identity, Err(AuthError::Invalid(CredentialError::Revoked)));
}

#[tokio::test]
async fn a_new_engine_re_resolves_without_verifying() {
    let f = fixture(100);
    let old = engine(POLICY);
    let head = bearer(&sign(&keyring().rsa, &claims()));
    let before = f.authenticator.principal(&head, &old).await.unwrap();
    assert!(allowed(&old, &before));
    let reloaded = engine("role developer\ndeny developer to call tools \"github.*\"\n");
    let after = f.authenticator.principal(&head, &reloaded).await.unwrap();
    assert_eq!(
        f.scheme.verifications(),
        1,
        "no signature verified for the new engine"
    );
    assert!(
        !allowed(&reloaded, &after),
        "resolved against the new policy"
    );
    assert!(
        !allowed(&reloaded, &before),
        "the old principal is not the new engine's"
    );
    let again = f.authenticator.principal(&head, &reloaded).await.unwrap();
    assert!(Arc::ptr_eq(&after, &again));
}

#[tokio::test]
async fn the_cache_is_bounded_and_can_be_off() {
    let f = fixture(3);
    let engine = engine(POLICY);
    for index in 0..10 {
        let token = sign(
            &keyring().ec,
            &claims_with(json!({"jti": format!("j{index}"), "exp": NOW + 100 + index})),
        );
        f.authenticator
            .principal(&bearer(&token), &engine)
            .await
            .unwrap();
        assert!(f.authenticator.cached() <= 3);
    }
    assert_eq!(f.scheme.verifications(), 10);
    let off = fixture(0);
    let head = bearer(&sign(&keyring().rsa, &claims()));
    off.authenticator.principal(&head, &engine).await.unwrap();
    off.authenticator.principal(&head, &engine).await.unwrap();
    assert_eq!(off.scheme.verifications(), 2);
    assert_eq!(off.authenticator.cached(), 0);
}

#[tokio::test]
async fn only_the_exact_token_hits() {
    let f = fixture(100);
    let engine = engine(POLICY);
    let token = sign(&keyring().rsa, &claims());
    f.authenticator
        .principal(&bearer(&token), &engine)
        .await
        .unwrap();
    // The same signature with a changed payload: verified, and refused.
    let mut parts: Vec<String> = token.split('.').map(String::from).collect();
    let elevated = claims_with(json!({"roles": ["admin"]})).to_string();
    parts[1] = base64::Engine::encode(&base64::engine::general_purpose::URL_SAFE_NO_PAD, elevated);
    let forged = parts.join(".");
    let refused = f
        .authenticator
        .principal(&bearer(&forged), &engine)
        .await
        .unwrap_err();
    assert_eq!(refused, AuthError::Invalid(CredentialError::BadSignature));
    assert_eq!(f.scheme.verifications(), 2);
}
