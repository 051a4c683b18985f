//! Benchmarks of credential validation.
//!
//! Groups:
//! - `verify/{RS256,ES256,EdDSA,HS256}/{toolgate,jsonwebtoken}`: one token validated per
//!   iteration, by `JwtScheme::verify` (size cap, typed header checks, key by `kid`,
//!   signature, claims) and by raw `jsonwebtoken::decode::<serde_json::Value>` with an
//!   equivalent `Validation` (algorithm, `iss`, `aud`, `exp`, `nbf`, leeway) on the same
//!   token and the same parsed key. The overhead target is toolgate <= 1.1x raw.
//! - `overhead/{alg}` (printed, not a criterion benchmark): the same two measured in 41
//!   interleaved rounds, so that load from other processes falls on both alike; the
//!   median ratio toolgate / jsonwebtoken is printed.
//! - `cached_principal`: `Authenticator::principal` for a token already verified and
//!   resolved against the engine (the principal cache hit; target <= 200 ns).
//! - `cache_key/{ahash_full_token,ahash_tail_and_full_compare,sha256}`: ways to key the
//!   cache, on a typical RS256 token: a keyed hash of the whole token; a keyed hash of its
//!   length and last 32 bytes plus the full comparison a hit makes (what the cache does);
//!   a SHA-256 digest of it.
//!
//! Run with `cargo bench --bench credentials`; results land in `target/criterion/`.

// Benchmarks abort on setup failure by design.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::future::Future;
use std::hint::black_box;
use std::pin::pin;
use std::sync::Arc;
use std::task::{Context, Poll, Waker};
use std::time::{Duration, Instant};

use aws_lc_rs::encoding::{AsDer, Pkcs8V1Der};
use aws_lc_rs::rsa::KeySize;
use aws_lc_rs::signature::{
    EcdsaKeyPair, Ed25519KeyPair, KeyPair, RsaKeyPair, RsaPublicKeyComponents,
    ECDSA_P256_SHA256_FIXED_SIGNING,
};
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use base64::Engine as _;
use criterion::{criterion_group, criterion_main, Criterion};
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde_json::{json, Value};
use sha2::{Digest, Sha256};
use toolgate::credentials::{
    install_crypto_provider, Authenticator, JwtScheme, JwtSettings, KeySet, Keys,
};
use toolgate::Policy;

const ISSUER: &str = "https://idp.example.com/";
const RESOURCE: &str = "https://mcp.example.com/mcp";
const SECRET: &[u8] = b"an HS256 shared secret of 32+ bytes, for benches";

/// Polls a future that never waits (fixed keys) to completion.
fn ready<F: Future>(future: F) -> F::Output {
    let mut future = pin!(future);
    match future
        .as_mut()
        .poll(&mut Context::from_waker(Waker::noop()))
    {
        Poll::Ready(output) => output,
        Poll::Pending => panic!("the future waited"),
    }
}

fn b64(bytes: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(bytes)
}

/// A signing key, its public JWK and its `jsonwebtoken` decoding key.
struct Signer {
    algorithm: Algorithm,
    encoding: EncodingKey,
    jwk: Value,
}

fn signers() -> Vec<Signer> {
    let rsa = RsaKeyPair::generate(KeySize::Rsa2048).unwrap();
    let pkcs8: Pkcs8V1Der = rsa.as_der().unwrap();
    let pem = format!(
        "-----BEGIN PRIVATE KEY-----\n{}\n-----END PRIVATE KEY-----\n",
        STANDARD.encode(pkcs8.as_ref())
    );
    let components = RsaPublicKeyComponents::<Vec<u8>>::from(rsa.public_key());
    let ec = EcdsaKeyPair::generate(&ECDSA_P256_SHA256_FIXED_SIGNING).unwrap();
    let point = ec.public_key().as_ref().to_vec();
    let (x, y) = point[1..].split_at(32);
    let ed = Ed25519KeyPair::generate().unwrap();
    vec![
        Signer {
            algorithm: Algorithm::RS256,
            encoding: EncodingKey::from_rsa_pem(pem.as_bytes()).unwrap(),
            jwk: json!({"kty": "RSA", "kid": "RS256", "n": b64(&components.n), "e": b64(&components.e)}),
        },
        Signer {
            algorithm: Algorithm::ES256,
            encoding: EncodingKey::from_ec_der(ec.to_pkcs8v1().unwrap().as_ref()),
            jwk: json!({"kty": "EC", "kid": "ES256", "crv": "P-256", "x": b64(x), "y": b64(y)}),
        },
        Signer {
            algorithm: Algorithm::EdDSA,
            encoding: EncodingKey::from_ed_der(ed.to_pkcs8().unwrap().as_ref()),
            jwk: json!({"kty": "OKP", "kid": "EdDSA", "crv": "Ed25519", "x": b64(ed.public_key().as_ref())}),
        },
        Signer {
            algorithm: Algorithm::HS256,
            encoding: EncodingKey::from_secret(SECRET),
            jwk: Value::Null,
        },
    ]
}

/// A realistic access token payload, valid for an hour from now.
fn claims() -> Value {
    let now = jiff::Timestamp::now().as_second();
    json!({
        "iss": ISSUER, "aud": [RESOURCE, "https://other.example.com"], "sub": "auth0|5f7c8ec7c33c6c004bbafe82",
        "exp": now + 3600, "iat": now, "nbf": now, "jti": "8f1a2b3c-4d5e-6f70-8192-a3b4c5d6e7f8",
        "client_id": "mcp-client-7", "azp": "mcp-client-7", "scope": "tools:read tools:write files:read",
        "roles": ["developer", "viewer"], "email": "someone@example.com",
    })
}

fn token(signer: &Signer) -> String {
    let mut header = Header::new(signer.algorithm);
    header.kid = Some(format!("{:?}", signer.algorithm));
    header.typ = Some("at+jwt".into());
    jsonwebtoken::encode(&header, &claims(), &signer.encoding).unwrap()
}

fn scheme(signer: &Signer) -> JwtScheme {
    let mut settings = JwtSettings::new(ISSUER, RESOURCE);
    settings.algorithms = vec![signer.algorithm];
    let keys = if signer.algorithm == Algorithm::HS256 {
        KeySet::from_hmac_secret(SECRET)
    } else {
        KeySet::from_jwk_text(&json!({"keys": [signer.jwk]}).to_string()).unwrap()
    };
    JwtScheme::new(settings, Keys::from(keys))
}

fn raw_key(signer: &Signer) -> DecodingKey {
    if signer.algorithm == Algorithm::HS256 {
        return DecodingKey::from_secret(SECRET);
    }
    let jwk: jsonwebtoken::jwk::Jwk = serde_json::from_value(signer.jwk.clone()).unwrap();
    DecodingKey::from_jwk(&jwk).unwrap()
}

fn raw_validation(algorithm: Algorithm) -> Validation {
    let mut validation = Validation::new(algorithm);
    validation.set_issuer(&[ISSUER]);
    validation.set_audience(&[RESOURCE]);
    validation.set_required_spec_claims(&["exp", "iss", "aud"]);
    validation.validate_nbf = true;
    validation.leeway = 60;
    validation
}

fn verify(c: &mut Criterion) {
    install_crypto_provider();
    let mut group = c.benchmark_group("verify");
    for signer in signers() {
        let name = format!("{:?}", signer.algorithm);
        let token = token(&signer);
        let scheme = scheme(&signer);
        assert!(ready(scheme.verify(&token)).is_ok(), "{name}");
        group.bench_function(format!("{name}/toolgate"), |b| {
            b.iter(|| ready(scheme.verify(black_box(&token))).unwrap())
        });
        let key = raw_key(&signer);
        let validation = raw_validation(signer.algorithm);
        jsonwebtoken::decode::<Value>(&token, &key, &validation).unwrap();
        group.bench_function(format!("{name}/jsonwebtoken"), |b| {
            b.iter(|| jsonwebtoken::decode::<Value>(black_box(&token), &key, &validation).unwrap())
        });
    }
    group.finish();
}

/// Toolgate's verify time over raw `jsonwebtoken::decode`'s, measured in interleaved
/// rounds (so a busy machine slows both alike); prints the median ratio per algorithm.
fn overhead(_: &mut Criterion) {
    install_crypto_provider();
    for signer in signers() {
        let token = token(&signer);
        let scheme = scheme(&signer);
        let key = raw_key(&signer);
        let validation = raw_validation(signer.algorithm);
        let iterations = if signer.algorithm == Algorithm::HS256 {
            400
        } else {
            40
        };
        let time = |toolgate: bool| {
            let start = Instant::now();
            for _ in 0..iterations {
                if toolgate {
                    ready(scheme.verify(black_box(&token))).unwrap();
                } else {
                    jsonwebtoken::decode::<Value>(black_box(&token), &key, &validation).unwrap();
                }
            }
            start.elapsed().as_secs_f64()
        };
        let mut ratios: Vec<f64> = (0..41)
            .map(|round| {
                let (ours, raw) = if round % 2 == 0 {
                    (time(true), time(false))
                } else {
                    let raw = time(false);
                    (time(true), raw)
                };
                ours / raw
            })
            .collect();
        ratios.sort_by(f64::total_cmp);
        println!(
            "overhead/{:?}: toolgate / jsonwebtoken = {:.3} (median of 41 interleaved rounds)",
            signer.algorithm,
            ratios[ratios.len() / 2]
        );
    }
}

fn cached_principal(c: &mut Criterion) {
    install_crypto_provider();
    let signers = signers();
    let signer = &signers[0];
    let token = token(signer);
    let authenticator = Authenticator::new().with_scheme(scheme(signer));
    let engine = Policy::from_text(
        "bench.policy",
        "role developer\nscope \"tools:read\"\nallow developer to call tools \"github.*\"\n",
    )
    .unwrap()
    .into_engine();
    let head = http::Request::builder()
        .header("authorization", format!("Bearer {token}"))
        .header("content-type", "application/json")
        .header("accept", "application/json, text/event-stream")
        .header("mcp-session-id", "0f3c8a1e-5b7d-4e2a-9c6f-1a2b3c4d5e6f")
        .body(())
        .unwrap()
        .into_parts()
        .0;
    let first: Arc<toolgate::Principal> = ready(authenticator.principal(&head, &engine)).unwrap();
    let again = ready(authenticator.principal(&head, &engine)).unwrap();
    assert!(
        Arc::ptr_eq(&first, &again),
        "the second call is a cache hit"
    );
    c.bench_function("cached_principal", |b| {
        b.iter(|| ready(authenticator.principal(black_box(&head), &engine)).unwrap())
    });
}

fn cache_key(c: &mut Criterion) {
    let signers = signers();
    let token = token(&signers[0]);
    let copy = token.clone();
    let state = ahash::RandomState::new();
    let mut group = c.benchmark_group("cache_key");
    group.bench_function("ahash_full_token", |b| {
        b.iter(|| state.hash_one(black_box(token.as_bytes())))
    });
    group.bench_function("ahash_tail_and_full_compare", |b| {
        b.iter(|| {
            let bytes = black_box(token.as_bytes());
            let tail = &bytes[bytes.len() - 32..];
            (
                state.hash_one((bytes.len(), tail)),
                bytes == copy.as_bytes(),
            )
        })
    });
    group.bench_function("sha256", |b| {
        b.iter(|| Sha256::digest(black_box(token.as_bytes())))
    });
    group.finish();
}

criterion_group! {
    name = benches;
    config = Criterion::default()
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(2))
        .sample_size(30);
    targets = verify, overhead, cached_principal, cache_key
}
criterion_main!(benches);
