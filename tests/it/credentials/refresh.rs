//! The background JWKS refresh, in real time at short intervals
//! (`RemoteKeysConfig::min_background_interval` lowered from 10 s): a key rotated at the
//! identity provider (a new `kid`, a compromised key replaced under its `kid`, a key
//! removed) is dropped by the refresh alone, also for cached tokens; `Cache-Control:
//! max-age` sets the interval within its bounds; a failed fetch keeps the last good keys
//! and the next is tried only after `min_refresh_interval` (docs/credentials.md, "Remote
//! keys").

use std::sync::Arc;
use std::time::{Duration, Instant};

use toolgate::credentials::{
    AuthError, Authenticator, CredentialError as E, JwtScheme, Keys, RemoteKeys, RemoteKeysConfig,
};
use toolgate::{Engine, Policy};

use super::support::*;

/// Room for a loaded two-core machine to run a timer late.
const SLACK: Duration = Duration::from_millis(1500);

fn engine() -> Engine {
    Policy::from_text(
        "p.policy",
        "role developer\nallow developer to call tools \"*\"\n",
    )
    .unwrap()
    .into_engine()
}

/// A JWKS reply with these extra headers (`cache-control`).
fn published(keys: &[&TestKey], headers: &[(&str, &str)]) -> Reply {
    let mut reply = Reply::json(jwks(keys));
    for (name, value) in headers {
        reply.headers.push((name.to_string(), value.to_string()));
    }
    reply
}

/// Remote keys from `server`'s `/keys`, with a background refresh at least every
/// `floor` (instead of 10 s); `configure` sets the rest. The rate limit of the
/// unknown-`kid` refresh reads `clock`, which the tests never move: only the background
/// task fetches after the start.
async fn start(
    server: &Server,
    clock: &TestClock,
    floor: Duration,
    configure: impl FnOnce(&mut RemoteKeysConfig),
) -> RemoteKeys {
    let mut config = RemoteKeysConfig::new(server.url("/keys"));
    config.clock = clock.clock();
    config.min_background_interval = floor;
    config.min_refresh_interval = Duration::from_secs(3600);
    configure(&mut config);
    RemoteKeys::start(config).await.unwrap()
}

/// Waits until `keys` started `count` fetches, at most `limit`: when the count was seen.
async fn fetches(keys: &RemoteKeys, count: u64, limit: Duration, what: &str) -> Instant {
    let start = Instant::now();
    loop {
        if keys.fetch_count() >= count {
            return Instant::now();
        }
        assert!(
            start.elapsed() < limit,
            "{what}: {} fetches after {:?}, waiting for {count}",
            keys.fetch_count(),
            start.elapsed()
        );
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}

/// Every fetch started reaches the identity provider (a fetch is counted as it starts,
/// the server counts it as it answers: give the last one a moment).
async fn all_fetches_reached(server: &Server, keys: &RemoteKeys) {
    let start = Instant::now();
    while server.hits("/keys") as u64 != keys.fetch_count() {
        assert!(
            start.elapsed() < SLACK,
            "{} fetches, {} requests served",
            keys.fetch_count(),
            server.hits("/keys")
        );
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rotation_at_the_identity_provider_is_applied_by_the_background_refresh() {
    let ring = keyring();
    // The EC key is compromised: the identity provider replaces it under the same `kid`,
    // removes the RSA key and adds an Ed25519 key under a new `kid`.
    let replacement = ec_key(&ring.ec.kid);
    let server = Server::start().await;
    server.set("/keys", published(&[&ring.rsa, &ring.ec], &[]));
    let clock = TestClock::new();
    let interval = Duration::from_millis(400);
    let keys = start(&server, &clock, Duration::from_millis(100), |config| {
        config.refresh_interval = interval;
    })
    .await;
    let scheme = Arc::new(JwtScheme::new(settings(&clock), Keys::from(keys.clone())));
    let authenticator = Authenticator::new()
        .with_clock(clock.clock())
        .with_scheme(Arc::clone(&scheme));
    let engine = engine();
    let removed = bearer(&sign(&ring.rsa, &claims()));
    let compromised = bearer(&sign(&ring.ec, &claims()));
    let replaced = bearer(&sign(&replacement, &claims()));
    let added = bearer(&sign(&ring.ed, &claims()));

    // Before the rotation: both published keys verify, and their tokens are cached.
    for head in [&removed, &compromised, &removed, &compromised] {
        authenticator.principal(head, &engine).await.unwrap();
    }
    assert_eq!(scheme.verifications(), 2, "both tokens cached");
    // The replacement has a known `kid` and the wrong key: no fetch can be caused.
    let refused = authenticator.principal(&replaced, &engine).await;
    assert_eq!(refused.unwrap_err(), AuthError::Invalid(E::BadSignature));
    let refused = authenticator.principal(&added, &engine).await;
    assert_eq!(refused.unwrap_err(), AuthError::Invalid(E::UnknownKey));
    let before = keys.fetch_count();

    server.set("/keys", published(&[&replacement, &ring.ed], &[]));
    let rotated = Instant::now();
    let mut elapsed;
    loop {
        elapsed = rotated.elapsed();
        if authenticator
            .principal(&compromised, &engine)
            .await
            .is_err()
        {
            break;
        }
        assert!(
            elapsed < interval + SLACK,
            "the compromised key still verifies (from the cache or not) {elapsed:?} after the \
             rotation; refresh every {interval:?}, {} fetches",
            keys.fetch_count()
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert!(keys.fetch_count() > before, "the background task fetched");
    all_fetches_reached(&server, &keys).await;
    let refused = authenticator.principal(&compromised, &engine).await;
    assert_eq!(
        refused.unwrap_err(),
        AuthError::Invalid(E::BadSignature),
        "the compromised key is gone though its kid stays"
    );
    let refused = authenticator.principal(&removed, &engine).await;
    assert_eq!(refused.unwrap_err(), AuthError::Invalid(E::UnknownKey));
    for (head, name) in [(&replaced, "the replacement"), (&added, "the new kid")] {
        let accepted = authenticator.principal(head, &engine).await;
        assert!(accepted.is_ok(), "{name}: {accepted:?}");
    }
    let installed = keys.keys();
    let mut kids: Vec<&str> = installed.kids().collect();
    kids.sort_unstable();
    assert_eq!(kids, [ring.ec.kid.as_str(), ring.ed.kid.as_str()]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn max_age_sets_the_background_interval_within_its_bounds() {
    let ring = keyring();
    let server = Server::start().await;
    server.set(
        "/keys",
        published(&[&ring.rsa], &[("cache-control", "public, max-age=1")]),
    );
    let clock = TestClock::new();
    let floor = Duration::from_millis(150);
    // Without `max-age` the keys would wait a minute: every early fetch is max-age's.
    let keys = start(&server, &clock, floor, |config| {
        config.refresh_interval = Duration::from_secs(60);
    })
    .await;
    let started = Instant::now();

    // `max-age=1`: the next fetch at 90 % of it.
    let wanted = Duration::from_millis(900);
    let second = fetches(&keys, 2, wanted + SLACK, "max-age=1").await;
    let waited = second - started;
    assert!(
        waited >= wanted - Duration::from_millis(50),
        "fetched after {waited:?}, before 90 % of max-age"
    );

    // `max-age=0`: the floor, not a fetch loop.
    server.set(
        "/keys",
        published(&[&ring.rsa], &[("cache-control", "max-age=0")]),
    );
    fetches(&keys, 3, wanted + SLACK, "the fetch reading max-age=0").await;
    let window = Duration::from_millis(1200);
    tokio::time::sleep(window).await;
    let in_window = keys.fetch_count() - 3;
    let most = (window.as_millis() / floor.as_millis()) as u64 + 1;
    assert!(
        (1..=most).contains(&in_window),
        "{in_window} fetches in {window:?} with max-age=0 and a floor of {floor:?} \
         (at most {most})"
    );

    // No `max-age` any more: once a fetch reads that, back to the configured minute.
    server.set("/keys", published(&[&ring.rsa], &[]));
    let quiet = Duration::from_millis(800);
    let changed = Instant::now();
    let (mut count, mut since) = (keys.fetch_count(), Instant::now());
    while since.elapsed() < quiet {
        assert!(
            changed.elapsed() < quiet + SLACK,
            "without max-age the fetches go on: {} fetches",
            keys.fetch_count()
        );
        tokio::time::sleep(Duration::from_millis(5)).await;
        if keys.fetch_count() != count {
            (count, since) = (keys.fetch_count(), Instant::now());
        }
    }
    all_fetches_reached(&server, &keys).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn max_age_zero_is_held_to_ten_seconds_by_default() {
    let server = Server::start().await;
    server.set(
        "/keys",
        published(&[&keyring().rsa], &[("cache-control", "max-age=0")]),
    );
    let mut config = RemoteKeysConfig::new(server.url("/keys"));
    config.refresh_interval = Duration::from_millis(1);
    let keys = RemoteKeys::start(config).await.unwrap();
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert_eq!(keys.fetch_count(), 1, "a fetch before the 10 s bound");
    assert_eq!(server.hits("/keys"), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn failed_fetches_back_off_and_keep_the_last_good_keys() {
    let ring = keyring();
    let server = Server::start().await;
    server.set("/keys", published(&[&ring.rsa], &[]));
    let clock = TestClock::new();
    let interval = Duration::from_millis(200);
    let back_off = Duration::from_millis(1500);
    let keys = start(&server, &clock, Duration::from_millis(50), |config| {
        config.refresh_interval = interval;
        config.min_refresh_interval = back_off;
    })
    .await;
    let scheme = JwtScheme::new(settings(&clock), Keys::from(keys.clone()));
    let good = sign(&ring.rsa, &claims());
    let rotated = sign(&ring.ed, &claims());
    assert!(scheme.verify(&good).await.is_ok());

    // The identity provider fails: each failed fetch is followed by a pause of
    // `min_refresh_interval`, not the normal interval.
    server.set(
        "/keys",
        Reply {
            status: 503,
            body: "down".into(),
            headers: Vec::new(),
        },
    );
    let first = fetches(&keys, 2, interval + SLACK, "the first failing fetch").await;
    let second = fetches(&keys, 3, back_off + SLACK, "the retry").await;
    let pause = second - first;
    assert!(
        pause >= back_off - Duration::from_millis(100),
        "retried {pause:?} after a failure; the back-off is {back_off:?}"
    );
    // Let the retry's request reach the server before its reply changes.
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(keys.fetch_count(), 3, "no fetch during the back-off");
    // Meanwhile the last good keys verify, and nothing else does.
    assert_eq!(keys.keys().len(), 1);
    assert!(scheme.verify(&good).await.is_ok(), "the last good keys");
    assert_eq!(scheme.verify(&rotated).await.unwrap_err(), E::UnknownKey);

    // The identity provider is back with rotated keys: picked up at the next retry.
    server.set("/keys", published(&[&ring.ed], &[]));
    let recovered = fetches(&keys, 4, back_off + SLACK, "the retry after recovery").await;
    let pause = recovered - second;
    assert!(
        pause >= back_off - Duration::from_millis(100),
        "retried {pause:?} after a failure; the back-off is {back_off:?}"
    );
    let mut accepted = scheme.verify(&rotated).await;
    while accepted.is_err() && recovered.elapsed() < SLACK {
        tokio::time::sleep(Duration::from_millis(10)).await;
        accepted = scheme.verify(&rotated).await;
    }
    assert!(accepted.is_ok(), "the recovered keys: {accepted:?}");
    assert_eq!(scheme.verify(&good).await.unwrap_err(), E::UnknownKey);

    // A success returns to the normal interval.
    let next = fetches(&keys, 5, interval + SLACK, "the fetch after a success").await;
    assert!(
        next - recovered < back_off - Duration::from_millis(100),
        "after a success the refresh waited {:?}, the back-off, not the interval",
        next - recovered
    );
    all_fetches_reached(&server, &keys).await;
}
