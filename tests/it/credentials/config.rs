//! Configuration: `[jwt]` and `[api_keys]` from TOML, key files, and impossible setups
//! refused with the key at fault.

use std::path::PathBuf;

use toolgate::credentials::{
    ApiKeysConfig, AuthError, Authenticator, ConfigError, CredentialError as E, CredentialsConfig,
    JwtConfig,
};
use toolgate::Policy;

use super::support::*;

fn temp_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("toolgate-config-{name}-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn config(jwt: JwtConfig) -> CredentialsConfig {
    CredentialsConfig {
        resource: RESOURCE.into(),
        jwt: Some(jwt),
        api_keys: None,
    }
}

fn jwt_at_now(change: impl FnOnce(&mut JwtConfig)) -> JwtConfig {
    let mut jwt = JwtConfig::new(ISSUER);
    jwt.clock = TestClock::new().clock();
    change(&mut jwt);
    jwt
}

async fn refused(jwt: JwtConfig) -> ConfigError {
    Authenticator::from_config(&config(jwt)).await.unwrap_err()
}

#[tokio::test]
async fn toml_tables_parse_and_work() {
    let ring = keyring();
    let dir = temp_dir("toml");
    let jwks_path = dir.join("jwks.json");
    std::fs::write(&jwks_path, jwks(&[&ring.rsa, &ring.ec])).unwrap();
    let text = format!(
        "resource = \"{RESOURCE}\"\n[jwt]\nissuer = \"{ISSUER}\"\njwks_file = {:?}\nalgorithms = [\"RS256\", \"ES256\"]\nleeway_seconds = 30\npreset = \"keycloak\"\nkeycloak_client = \"mcp\"\n",
        jwks_path.to_str().unwrap()
    );
    let mut parsed: CredentialsConfig = toml::from_str(&text).unwrap();
    parsed.jwt.as_mut().unwrap().clock = TestClock::new().clock();
    let authenticator = Authenticator::from_config(&parsed).await.unwrap();
    let engine = Policy::from_text("p.policy", "role ops\nallow ops to call tools \"*\"\n")
        .unwrap()
        .into_engine();
    let claims = claims_with(
        serde_json::json!({"resource_access": {"mcp": {"roles": ["ops"]}}, "roles": null}),
    );
    let principal = authenticator
        .principal(&bearer(&sign(&ring.ec, &claims)), &engine)
        .await
        .unwrap();
    assert_eq!(
        principal.role_names(engine.index()),
        ["ops"],
        "the keycloak preset applies"
    );
    let expired = claims_with(serde_json::json!({"exp": NOW - 31}));
    let refused = authenticator
        .principal(&bearer(&sign(&ring.rsa, &expired)), &engine)
        .await;
    assert_eq!(
        refused.unwrap_err(),
        AuthError::Invalid(E::Expired),
        "leeway_seconds = 30"
    );
    std::fs::remove_dir_all(&dir).unwrap();

    let unknown =
        format!("resource = \"{RESOURCE}\"\n[jwt]\nissuer = \"{ISSUER}\"\njwks_urll = \"x\"\n");
    let error = toml::from_str::<CredentialsConfig>(&unknown).unwrap_err();
    assert!(error.to_string().contains("jwks_urll"), "{error}");
}

#[tokio::test]
async fn impossible_setups_name_the_key() {
    let inline = jwks(&[&keyring().rsa]);
    let cases: Vec<(JwtConfig, &str, &str)> = vec![
        (jwt_at_now(|_| {}), "jwt", "no key source"),
        (
            jwt_at_now(|j| {
                j.jwks = Some(inline.clone());
                j.algorithms = vec![]
            }),
            "jwt.algorithms",
            "empty",
        ),
        (
            jwt_at_now(|j| {
                j.jwks = Some(inline.clone());
                j.algorithms = vec!["RS999".into()]
            }),
            "jwt.algorithms",
            "unknown algorithm `RS999`",
        ),
        (
            jwt_at_now(|j| {
                j.jwks = Some(inline.clone());
                j.algorithms = vec!["none".into()]
            }),
            "jwt.algorithms",
            "never",
        ),
        (
            jwt_at_now(|j| {
                j.jwks = Some(inline.clone());
                j.algorithms = vec!["HS256".into()]
            }),
            "jwt.algorithms",
            "hs256_secret_file",
        ),
        (
            jwt_at_now(|j| {
                j.jwks = Some(inline.clone());
                j.jwks_url = Some("https://x".into())
            }),
            "jwt.jwks_url",
            "one key source",
        ),
        (
            jwt_at_now(|j| {
                j.jwks = Some(inline.clone());
                j.preset = Some("google".into())
            }),
            "jwt.preset",
            "unknown preset `google`",
        ),
        (
            jwt_at_now(|j| {
                j.jwks = Some(inline.clone());
                j.keycloak_client = Some("c".into())
            }),
            "jwt.keycloak_client",
            "keycloak",
        ),
        (
            jwt_at_now(|j| j.jwks = Some("{\"keys\": []}".into())),
            "jwt.jwks",
            "no usable",
        ),
        (
            jwt_at_now(|j| {
                j.jwks = Some(inline.clone());
                j.issuer = " ".into()
            }),
            "jwt.issuer",
            "empty",
        ),
        (
            jwt_at_now(|j| j.jwks_file = Some("/nonexistent/jwks.json".into())),
            "jwt.jwks_file",
            "cannot read",
        ),
    ];
    for (jwt, key, text) in cases {
        let error = refused(jwt).await;
        assert_eq!(error.key(), key, "{error}");
        assert!(error.message().contains(text), "{error}");
    }
    let error = refused(jwt_at_now(|j| {
        j.jwks = Some(inline.clone());
        j.algorithms = vec!["RS999".into()]
    }))
    .await;
    assert_eq!(
        error.to_string(),
        "`jwt.algorithms`: unknown algorithm `RS999`"
    );
    let none = CredentialsConfig {
        resource: RESOURCE.into(),
        jwt: None,
        api_keys: None,
    };
    assert_eq!(
        Authenticator::from_config(&none).await.unwrap_err().key(),
        "jwt"
    );
    let no_resource = CredentialsConfig {
        resource: String::new(),
        ..config(jwt_at_now(|j| j.jwks = Some(inline)))
    };
    assert_eq!(
        Authenticator::from_config(&no_resource)
            .await
            .unwrap_err()
            .key(),
        "resource"
    );
    let missing_keys = CredentialsConfig {
        resource: RESOURCE.into(),
        jwt: None,
        api_keys: Some(ApiKeysConfig {
            file: "/nonexistent/keys.toml".into(),
            clock: Default::default(),
        }),
    };
    assert_eq!(
        Authenticator::from_config(&missing_keys)
            .await
            .unwrap_err()
            .key(),
        "api_keys.file"
    );
}

#[tokio::test]
async fn pem_files_give_one_key_for_any_kid() {
    let ring = keyring();
    let dir = temp_dir("pem");
    for key in [&ring.rsa, &ring.ec, &ring.ed] {
        let path = dir.join("key.pem");
        std::fs::write(&path, &key.public_pem).unwrap();
        let authenticator = Authenticator::from_config(&config(jwt_at_now(|j| {
            j.pem_file = Some(path.clone());
        })))
        .await
        .unwrap();
        let token = sign(key, &claims());
        assert!(
            authenticator.identity(&bearer(&token)).await.is_ok(),
            "{:?}",
            key.algorithm
        );
        let stranger = sign(&ring.other_rsa, &claims());
        assert!(authenticator.identity(&bearer(&stranger)).await.is_err());
    }
    let private = dir.join("private.pem");
    std::fs::write(
        &private,
        "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n",
    )
    .unwrap();
    let error = refused(jwt_at_now(|j| j.pem_file = Some(private.clone()))).await;
    assert_eq!(error.key(), "jwt.pem_file");
    assert!(error.message().contains("private key"), "{error}");
    std::fs::remove_dir_all(&dir).unwrap();
}

#[tokio::test]
async fn shared_secrets_and_revocation_files() {
    let dir = temp_dir("secret");
    let secret = dir.join("secret");
    std::fs::write(&secret, "0123456789abcdef0123456789abcdef\n").unwrap();
    let revoked = dir.join("revoked.txt");
    std::fs::write(&revoked, "# revoked tokens\njti-1\n").unwrap();
    let jwt = jwt_at_now(|j| {
        j.hs256_secret_file = Some(secret.clone());
        j.algorithms = vec!["HS256".into()];
        j.revoked_jti_file = Some(revoked.clone());
    });
    let authenticator = Authenticator::from_config(&config(jwt)).await.unwrap();
    let key = jsonwebtoken::EncodingKey::from_secret(b"0123456789abcdef0123456789abcdef");
    let payload = claims_with(serde_json::json!({"jti": "jti-2"})).to_string();
    let good = sign_raw(
        r#"{"alg":"HS256","typ":"JWT"}"#,
        &payload,
        &key,
        jsonwebtoken::Algorithm::HS256,
    );
    assert!(authenticator.identity(&bearer(&good)).await.is_ok());
    let revoked_token = sign_raw(
        r#"{"alg":"HS256"}"#,
        &claims().to_string(),
        &key,
        jsonwebtoken::Algorithm::HS256,
    );
    assert_eq!(
        authenticator.identity(&bearer(&revoked_token)).await,
        Err(AuthError::Invalid(E::Revoked))
    );

    std::fs::write(&secret, "too short").unwrap();
    let error = refused(jwt_at_now(|j| {
        j.hs256_secret_file = Some(secret.clone());
        j.algorithms = vec!["HS256".into()];
    }))
    .await;
    assert_eq!(error.key(), "jwt.hs256_secret_file");
    std::fs::remove_dir_all(&dir).unwrap();
}
