//! The credential files the gate watches: revocation and API key files reload only when
//! their content changes; revocation ids are compared exactly.

use std::path::Path;
use std::time::{Duration, SystemTime};

use toolgate::credentials::api_key::{generate, KeyEntry, KeyFile};
use toolgate::credentials::{
    ApiKeyScheme, AuthError, Authenticator, Clock, CredentialError, CredentialsConfig, JwtConfig,
    Revocations,
};

use super::audit::tempdir;

/// Longer than two checks of a watched file (every 2 s).
const TWO_CHECKS: Duration = Duration::from_millis(4500);

/// Sets the file's modification time, leaving its content.
fn touch(path: &Path, seconds_later: u64) {
    let file = std::fs::File::options().write(true).open(path).unwrap();
    file.set_modified(SystemTime::now() + Duration::from_secs(seconds_later))
        .unwrap();
}

/// Waits (at most 7 s) until `done` holds.
async fn until(mut done: impl FnMut() -> bool, what: &str) {
    for _ in 0..700 {
        if done() {
            return;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    panic!("{what}");
}

#[tokio::test]
async fn a_revocation_file_rewritten_with_the_same_content_is_not_reloaded() {
    let directory = tempdir();
    let path = directory.join("revoked.txt");
    std::fs::write(&path, "jti-1\n").unwrap();
    let revocations = Revocations::new();
    revocations
        .load_file(&path, "jwt.revoked_jti_file")
        .unwrap();
    revocations.watch_file(&path);
    tokio::time::sleep(Duration::from_millis(300)).await;
    // Revoked in memory: a reload of the file would drop it.
    revocations.revoke("in-memory");
    std::fs::write(&path, "jti-1\n").unwrap();
    touch(&path, 5);
    tokio::time::sleep(TWO_CHECKS).await;
    assert!(
        revocations.contains("in-memory"),
        "the unchanged file was reloaded"
    );
    std::fs::write(&path, "jti-1\njti-2\n").unwrap();
    until(
        || revocations.contains("jti-2"),
        "the changed file was not reloaded",
    )
    .await;
    assert!(revocations.contains("jti-1"));
    assert!(!revocations.contains("in-memory"));
    // A deleted file keeps the list.
    std::fs::remove_file(&path).unwrap();
    tokio::time::sleep(TWO_CHECKS).await;
    assert_eq!(revocations.len(), 2);
    std::fs::remove_dir_all(&directory).unwrap();
}

fn key_file(id: &str) -> (KeyFile, String) {
    let (key, sha256) = generate(id).unwrap();
    let entry = KeyEntry {
        id: id.to_string(),
        sha256,
        roles: vec![],
        scopes: vec![],
        client: None,
        created: None,
        expires: None,
        revoked: false,
    };
    (KeyFile { keys: vec![entry] }, key)
}

#[tokio::test]
async fn a_broken_key_file_keeps_the_keys_and_a_fixed_one_replaces_them() {
    let directory = tempdir();
    let path = directory.join("keys.toml");
    let (first, first_key) = key_file("first");
    first.save(&path).unwrap();
    let scheme = ApiKeyScheme::from_file(&path, Clock::default()).unwrap();
    scheme.watch();
    tokio::time::sleep(Duration::from_millis(300)).await;
    std::fs::write(&path, "[[key]\nid = \"broken\"\n").unwrap();
    tokio::time::sleep(TWO_CHECKS).await;
    assert!(
        scheme.check(&first_key).is_ok(),
        "a broken file dropped the keys"
    );
    let (second, second_key) = key_file("second");
    second.save(&path).unwrap();
    until(
        || scheme.check(&second_key).is_ok(),
        "the fixed file was not reloaded",
    )
    .await;
    assert_eq!(
        scheme.check(&first_key).unwrap_err(),
        CredentialError::UnknownApiKey
    );
    std::fs::remove_dir_all(&directory).unwrap();
}

const RESOURCE: &str = "https://mcp.example.com/mcp";
const ISSUER: &str = "https://idp.example.com/";
const SECRET: &[u8] = b"0123456789abcdef0123456789abcdef";

fn token(jti: &str) -> http::request::Parts {
    let now = jiff::Timestamp::now().as_second();
    let claims = serde_json::json!({
        "iss": ISSUER, "aud": RESOURCE, "sub": "user-1", "jti": jti,
        "exp": now + 3600, "iat": now - 10,
    });
    let token = jsonwebtoken::encode(
        &jsonwebtoken::Header::new(jsonwebtoken::Algorithm::HS256),
        &claims,
        &jsonwebtoken::EncodingKey::from_secret(SECRET),
    )
    .unwrap();
    let request = http::Request::builder()
        .header("authorization", format!("Bearer {token}"))
        .body(())
        .unwrap();
    request.into_parts().0
}

#[tokio::test]
async fn a_jti_with_surrounding_spaces_is_revoked_by_its_exact_line_only() {
    let directory = tempdir();
    let secret = directory.join("secret");
    std::fs::write(&secret, SECRET).unwrap();
    let revoked = directory.join("revoked.txt");
    std::fs::write(&revoked, "# revoked\n  spaced  \ncrlf\r\n").unwrap();
    let mut jwt = JwtConfig::new(ISSUER);
    jwt.hs256_secret_file = Some(secret);
    jwt.algorithms = vec!["HS256".into()];
    jwt.revoked_jti_file = Some(revoked);
    let config = CredentialsConfig {
        resource: RESOURCE.into(),
        jwt: Some(jwt),
        api_keys: None,
    };
    let authenticator = Authenticator::from_config(&config).await.unwrap();
    let refused = Err(AuthError::Invalid(CredentialError::Revoked));
    assert_eq!(
        authenticator
            .identity(&token("  spaced  "))
            .await
            .map(|_| ()),
        refused
    );
    assert_eq!(
        authenticator.identity(&token("crlf")).await.map(|_| ()),
        refused
    );
    for kept in ["spaced", " spaced", "crlf\r", "# revoked"] {
        let outcome = authenticator.identity(&token(kept)).await;
        assert!(outcome.is_ok(), "{kept:?}: {outcome:?}");
    }
    std::fs::remove_dir_all(&directory).unwrap();
}
