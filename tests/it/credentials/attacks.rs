//! The RFC 8725 attack suite: each forged or broken token refused with the right error.

use jsonwebtoken::{Algorithm, EncodingKey};
use serde_json::{json, Value};
use toolgate::credentials::{
    Claim, CredentialError as E, Identity, JwtScheme, JwtSettings, KeySet, Keys, Revocations,
};

use super::support::*;

async fn check(token: &str) -> Result<Identity, E> {
    scheme().verify(token).await
}

async fn refused(token: &str) -> E {
    check(token).await.expect_err("the token must be refused")
}

fn with(changes: Value) -> Value {
    claims_with(changes)
}

#[tokio::test]
async fn good_tokens_of_each_algorithm_pass() {
    let ring = keyring();
    for key in [&ring.rsa, &ring.ec, &ring.ed] {
        let identity = check(&sign(key, &claims())).await.unwrap();
        let Identity::Claims { claims, expires_at } = identity else {
            panic!("a JWT gives claims");
        };
        assert_eq!(claims["sub"], "user-1", "{:?}", key.algorithm);
        assert_eq!(expires_at.unwrap().as_second(), NOW + 3600);
    }
}

#[tokio::test]
async fn alg_none_in_any_case_is_refused() {
    let payload = claims().to_string();
    for alg in ["none", "None", "NONE", "nOnE"] {
        let header = json!({"alg": alg, "typ": "JWT"}).to_string();
        assert_eq!(
            refused(&unsigned(&header, &payload, "")).await,
            E::AlgorithmNotAllowed,
            "{alg}"
        );
        let header = json!({"alg": alg, "kid": "rsa-1"}).to_string();
        assert_eq!(
            refused(&unsigned(&header, &payload, "")).await,
            E::AlgorithmNotAllowed,
            "{alg}"
        );
    }
}

#[tokio::test]
async fn hs256_signed_with_the_public_key_is_refused() {
    let ring = keyring();
    let secret = EncodingKey::from_secret(ring.rsa.public_pem.as_bytes());
    let payload = claims().to_string();
    for header in [
        json!({"alg": "HS256", "kid": "rsa-1"}),
        json!({"alg": "HS256"}),
    ] {
        let token = sign_raw(&header.to_string(), &payload, &secret, Algorithm::HS256);
        assert_eq!(refused(&token).await, E::AlgorithmNotAllowed, "{header}");
    }
}

#[tokio::test]
async fn hs256_allowed_with_a_secret_still_never_uses_a_public_key() {
    let ring = keyring();
    let public = KeySet::from_jwk_text(&jwks(&[&ring.rsa])).unwrap();
    let keys = public.merged(&KeySet::from_hmac_secret(&[7u8; 32]));
    let mut settings = settings(&TestClock::new());
    settings.algorithms = vec![Algorithm::RS256, Algorithm::HS256];
    let scheme = JwtScheme::new(settings, Keys::from(keys));
    let forged = EncodingKey::from_secret(ring.rsa.public_pem.as_bytes());
    let payload = claims().to_string();
    let named = sign_raw(
        r#"{"alg":"HS256","kid":"rsa-1"}"#,
        &payload,
        &forged,
        Algorithm::HS256,
    );
    assert_eq!(
        scheme.verify(&named).await.unwrap_err(),
        E::AlgorithmNotAllowed
    );
    let unnamed = sign_raw(r#"{"alg":"HS256"}"#, &payload, &forged, Algorithm::HS256);
    assert_eq!(scheme.verify(&unnamed).await.unwrap_err(), E::BadSignature);
    let real = EncodingKey::from_secret(&[7u8; 32]);
    let good = sign_raw(r#"{"alg":"HS256"}"#, &payload, &real, Algorithm::HS256);
    assert!(scheme.verify(&good).await.is_ok());
}

#[tokio::test]
async fn algorithms_off_the_list_are_refused() {
    let ring = keyring();
    let payload = claims().to_string();
    let rs384 = sign_raw(
        r#"{"alg":"RS384","kid":"rsa-1"}"#,
        &payload,
        &ring.rsa.encoding,
        Algorithm::RS384,
    );
    assert_eq!(refused(&rs384).await, E::AlgorithmNotAllowed);
    let ps256 = sign_raw(
        r#"{"alg":"PS256","kid":"rsa-1"}"#,
        &payload,
        &ring.rsa.encoding,
        Algorithm::PS256,
    );
    assert_eq!(refused(&ps256).await, E::AlgorithmNotAllowed);
    for alg in ["HS999", "rs256", "", "RSA-OAEP"] {
        let header = json!({"alg": alg, "kid": "rsa-1"}).to_string();
        assert_eq!(
            refused(&unsigned(&header, &payload, "AAAA")).await,
            E::AlgorithmNotAllowed,
            "{alg}"
        );
    }
}

#[tokio::test]
async fn a_token_for_another_key_family_is_refused() {
    let ring = keyring();
    let payload = claims().to_string();
    // An ES256 signature presented under the Ed25519 key's kid.
    let token = sign_raw(
        r#"{"alg":"ES256","kid":"ed-1"}"#,
        &payload,
        &ring.ec.encoding,
        Algorithm::ES256,
    );
    assert_eq!(refused(&token).await, E::AlgorithmNotAllowed);
}

#[tokio::test]
async fn unknown_and_hostile_kids_are_unknown_keys() {
    let ring = keyring();
    assert_eq!(
        refused(&sign(&ring.other_rsa, &claims())).await,
        E::UnknownKey
    );
    let payload = claims().to_string();
    let long = "k".repeat(5000);
    for kid in [
        "../../../../etc/passwd",
        "/dev/null",
        "' OR '1'='1",
        "rsa-1' --",
        "http://127.0.0.1:1/jwks",
        "rsa-1\u{0}",
        "$(touch /tmp/pwned)",
        long.as_str(),
    ] {
        let header = json!({"alg": "RS256", "kid": kid}).to_string();
        let token = sign_raw(&header, &payload, &ring.rsa.encoding, Algorithm::RS256);
        assert_eq!(refused(&token).await, E::UnknownKey, "{kid:.40}");
    }
}

#[tokio::test]
async fn bad_signatures_are_refused() {
    let ring = keyring();
    // Signed by another key under a published kid.
    let header = r#"{"alg":"RS256","kid":"rsa-1"}"#;
    let wrong_key = sign_raw(
        header,
        &claims().to_string(),
        &ring.other_rsa.encoding,
        Algorithm::RS256,
    );
    assert_eq!(refused(&wrong_key).await, E::BadSignature);
    // A good token whose payload was changed.
    let good = sign(&ring.ec, &claims());
    let mut parts: Vec<String> = good.split('.').map(String::from).collect();
    let elevated = with(json!({"roles": ["admin"]})).to_string();
    parts[1] = base64_url(&elevated);
    assert_eq!(refused(&parts.join(".")).await, E::BadSignature);
    // An empty signature.
    assert_eq!(
        refused(&format!("{}.{}.", parts[0], parts[1])).await,
        E::BadSignature
    );
}

fn base64_url(text: &str) -> String {
    use base64::Engine as _;
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(text)
}

#[tokio::test]
async fn truncated_and_extra_segments_are_malformed() {
    let good = sign(&keyring().rsa, &claims());
    let parts: Vec<&str> = good.split('.').collect();
    for token in [
        String::new(),
        parts[0].to_string(),
        format!("{}.{}", parts[0], parts[1]),
        format!("{good}.{}", parts[2]),
        format!("{good}.x.y"),
        format!("..{}", parts[2]),
        "...".to_string(),
    ] {
        assert_eq!(refused(&token).await, E::Malformed, "{token:.60}");
    }
}

#[tokio::test]
async fn bad_base64_and_non_json_are_malformed() {
    let ring = keyring();
    let good = sign(&ring.rsa, &claims());
    let parts: Vec<&str> = good.split('.').collect();
    let bad_header = format!("{}*.{}.{}", parts[0], parts[1], parts[2]);
    assert_eq!(refused(&bad_header).await, E::Malformed);
    let padded = format!("{}=.{}.{}", parts[0], parts[1], parts[2]);
    assert_eq!(refused(&padded).await, E::Malformed);
    let bad_signature = format!("{}.{}.{}!", parts[0], parts[1], parts[2]);
    assert_eq!(refused(&bad_signature).await, E::Malformed);
    let text_header = unsigned("not json", &claims().to_string(), parts[2]);
    assert_eq!(refused(&text_header).await, E::Malformed);
    let header = r#"{"alg":"RS256","kid":"rsa-1"}"#;
    for payload in ["not json", "[1,2,3]", "\"a string\"", "{\"unterminated\": "] {
        let token = sign_raw(header, payload, &ring.rsa.encoding, Algorithm::RS256);
        assert_eq!(refused(&token).await, E::Malformed, "{payload}");
    }
    let duplicate = sign_raw(
        r#"{"alg":"RS256","kid":"rsa-1","alg":"none"}"#,
        &claims().to_string(),
        &ring.rsa.encoding,
        Algorithm::RS256,
    );
    assert_eq!(refused(&duplicate).await, E::Malformed);
    let alg_not_string = unsigned(r#"{"alg":256}"#, &claims().to_string(), parts[2]);
    assert_eq!(refused(&alg_not_string).await, E::Malformed);
}

#[tokio::test]
async fn expiry_honours_the_leeway() {
    let key = &keyring().rsa;
    assert_eq!(
        refused(&sign(key, &with(json!({"exp": NOW - 61})))).await,
        E::Expired
    );
    assert_eq!(
        refused(&sign(key, &with(json!({"exp": NOW - 60})))).await,
        E::Expired
    );
    assert!(check(&sign(key, &with(json!({"exp": NOW - 59}))))
        .await
        .is_ok());
    assert!(check(&sign(key, &with(json!({"exp": NOW - 1}))))
        .await
        .is_ok());
    assert!(check(&sign(key, &with(json!({"exp": (NOW as f64) + 0.5}))))
        .await
        .is_ok());
}

#[tokio::test]
async fn not_before_and_issued_at_honour_the_leeway() {
    let key = &keyring().ec;
    assert_eq!(
        refused(&sign(key, &with(json!({"nbf": NOW + 120})))).await,
        E::NotYetValid
    );
    assert!(check(&sign(key, &with(json!({"nbf": NOW + 30}))))
        .await
        .is_ok());
    assert_eq!(
        refused(&sign(key, &with(json!({"iat": NOW + 3600})))).await,
        E::IssuedInFuture
    );
    assert!(check(&sign(key, &with(json!({"iat": NOW + 30}))))
        .await
        .is_ok());
    assert!(check(&sign(key, &with(json!({"iat": null, "nbf": null}))))
        .await
        .is_ok());
}

#[tokio::test]
async fn audiences_are_compared_as_resource_uris() {
    let key = &keyring().ed;
    let audience = |aud: Value| sign(key, &with(json!({ "aud": aud })));
    assert_eq!(
        refused(&audience(json!("https://other.example.com/mcp"))).await,
        E::WrongAudience
    );
    assert_eq!(
        refused(&audience(json!(["https://a.example", "api://x"]))).await,
        E::WrongAudience
    );
    assert_eq!(refused(&audience(json!([]))).await, E::WrongAudience);
    assert_eq!(
        refused(&audience(json!("https://mcp.example.com/MCP"))).await,
        E::WrongAudience
    );
    assert_eq!(
        refused(&audience(json!("https://mcp.example.com"))).await,
        E::WrongAudience
    );
    assert_eq!(
        refused(&audience(json!(42))).await,
        E::InvalidClaim(Claim::Aud)
    );
    let missing = sign(key, &with(json!({"aud": null})));
    assert_eq!(refused(&missing).await, E::MissingClaim(Claim::Aud));
    for accepted in [
        json!(RESOURCE),
        json!("HTTPS://MCP.EXAMPLE.COM/mcp"),
        json!("https://Mcp.Example.com/mcp/"),
        json!(["https://other.example", "https://mcp.example.com/mcp/"]),
    ] {
        assert!(
            check(&audience(accepted.clone())).await.is_ok(),
            "{accepted}"
        );
    }
}

#[tokio::test]
async fn issuers_must_match_exactly() {
    let key = &keyring().rsa;
    assert_eq!(
        refused(&sign(
            key,
            &with(json!({"iss": "https://evil.example.com/"}))
        ))
        .await,
        E::WrongIssuer
    );
    assert_eq!(
        refused(&sign(key, &with(json!({"iss": "https://idp.example.com"})))).await,
        E::WrongIssuer
    );
    assert_eq!(
        refused(&sign(key, &with(json!({"iss": null})))).await,
        E::MissingClaim(Claim::Iss)
    );
    assert_eq!(
        refused(&sign(key, &with(json!({"iss": ["x"]})))).await,
        E::InvalidClaim(Claim::Iss)
    );
}

#[tokio::test]
async fn exp_is_required_and_numeric() {
    let key = &keyring().rsa;
    assert_eq!(
        refused(&sign(key, &with(json!({"exp": null})))).await,
        E::MissingClaim(Claim::Exp)
    );
    assert_eq!(
        refused(&sign(key, &with(json!({"exp": "tomorrow"})))).await,
        E::InvalidClaim(Claim::Exp)
    );
    assert_eq!(
        refused(&sign(key, &with(json!({"nbf": true})))).await,
        E::InvalidClaim(Claim::Nbf)
    );
}

#[tokio::test]
async fn oversize_tokens_are_refused_before_decoding() {
    let padding = "x".repeat(20 * 1024);
    let big = sign(&keyring().rsa, &with(json!({ "padding": padding })));
    assert_eq!(refused(&big).await, E::TooLarge);
    let garbage = "!".repeat(16 * 1024 + 1);
    assert_eq!(refused(&garbage).await, E::TooLarge);
    let just_under = "!".repeat(16 * 1024);
    assert_eq!(refused(&just_under).await, E::Malformed);
}

#[tokio::test]
async fn critical_headers_are_refused() {
    let key = &keyring().rsa;
    let payload = claims().to_string();
    for crit in [json!(["exp"]), json!(["b64"]), json!([]), json!(null)] {
        let header = json!({"alg": "RS256", "kid": "rsa-1", "crit": crit, "exp": 1}).to_string();
        let token = sign_raw(&header, &payload, &key.encoding, Algorithm::RS256);
        assert_eq!(refused(&token).await, E::CriticalHeader, "{crit}");
    }
}

#[tokio::test]
async fn key_urls_in_headers_are_never_followed() {
    let ring = keyring();
    let server = Server::start().await;
    server.set("/jwks", Reply::json(jwks(&[&ring.other_rsa])));
    server.set("/cert", Reply::json("{}"));
    let payload = claims().to_string();
    let headers = [
        (
            json!({"alg": "RS256", "kid": "rsa-2", "jku": server.url("/jwks")}),
            E::UnknownKey,
        ),
        (
            json!({"alg": "RS256", "kid": "rsa-2", "x5u": server.url("/cert")}),
            E::UnknownKey,
        ),
        (
            json!({"alg": "RS256", "kid": "rsa-2", "jwk": ring.other_rsa.jwk}),
            E::UnknownKey,
        ),
        (
            json!({"alg": "RS256", "kid": "rsa-2", "x5c": ["MIIB"]}),
            E::UnknownKey,
        ),
        // Without a kid the one RS256 key is used, never the one the URL offers.
        (
            json!({"alg": "RS256", "jku": server.url("/jwks")}),
            E::BadSignature,
        ),
    ];
    for (header, expected) in headers {
        let token = sign_raw(
            &header.to_string(),
            &payload,
            &ring.other_rsa.encoding,
            Algorithm::RS256,
        );
        assert_eq!(refused(&token).await, expected, "{header}");
    }
    assert_eq!(server.total_hits(), 0, "a header URL was fetched");
}

#[tokio::test]
async fn token_types() {
    let key = &keyring().rsa;
    let payload = claims().to_string();
    let typed = |typ: &str| {
        let header = json!({"alg": "RS256", "kid": "rsa-1", "typ": typ}).to_string();
        sign_raw(&header, &payload, &key.encoding, Algorithm::RS256)
    };
    assert!(check(&typed("JWT")).await.is_ok());
    assert!(check(&typed("application/AT+JWT")).await.is_ok());
    assert_eq!(refused(&typed("logout+jwt")).await, E::WrongType);
    assert_eq!(refused(&typed("id_token")).await, E::WrongType);
    let mut settings = settings(&TestClock::new());
    settings.require_typ = true;
    let keys = KeySet::from_jwk_text(&jwks(&[key])).unwrap();
    let strict = JwtScheme::new(settings, Keys::from(keys));
    assert_eq!(
        strict.verify(&typed("JWT")).await.unwrap_err(),
        E::WrongType
    );
    let untyped = sign_raw(
        r#"{"alg":"RS256","kid":"rsa-1"}"#,
        &payload,
        &key.encoding,
        Algorithm::RS256,
    );
    assert_eq!(strict.verify(&untyped).await.unwrap_err(), E::WrongType);
    assert!(strict.verify(&typed("at+jwt")).await.is_ok());
}

#[tokio::test]
async fn revoked_token_ids_are_refused() {
    let ring = keyring();
    let revocations = Revocations::from_ids(["jti-1"]);
    let mut settings: JwtSettings = settings(&TestClock::new());
    settings.revocations = revocations.clone();
    let keys = KeySet::from_jwk_text(&jwks(&[&ring.rsa])).unwrap();
    let scheme = JwtScheme::new(settings, Keys::from(keys));
    assert_eq!(
        scheme
            .verify(&sign(&ring.rsa, &claims()))
            .await
            .unwrap_err(),
        E::Revoked
    );
    let other = sign(&ring.rsa, &with(json!({"jti": "jti-2"})));
    assert!(scheme.verify(&other).await.is_ok());
    revocations.revoke("jti-2");
    assert_eq!(scheme.verify(&other).await.unwrap_err(), E::Revoked);
}

#[test]
fn errors_have_stable_codes_and_header_safe_descriptions() {
    let all = [
        E::Malformed,
        E::TooLarge,
        E::AlgorithmNotAllowed,
        E::CriticalHeader,
        E::WrongType,
        E::UnknownKey,
        E::KeysUnavailable,
        E::BadSignature,
        E::Expired,
        E::NotYetValid,
        E::IssuedInFuture,
        E::WrongIssuer,
        E::WrongAudience,
        E::MissingClaim(Claim::Exp),
        E::InvalidClaim(Claim::Aud),
        E::Revoked,
        E::UnknownApiKey,
        E::ExpiredApiKey,
        E::RevokedApiKey,
        E::Refused,
    ];
    let mut codes = std::collections::HashSet::new();
    for error in all {
        let description = error.description();
        assert!(
            !description.is_empty() && description.len() < 80,
            "{description}"
        );
        assert!(description
            .bytes()
            .all(|b| (b' '..=b'~').contains(&b) && b != b'"' && b != b'\\'));
        assert!(error
            .code()
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b == b'_'));
        codes.insert(error.code());
    }
    assert_eq!(codes.len(), all.len(), "codes are distinct");
}
