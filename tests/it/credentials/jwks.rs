//! Remote keys against a loopback server: discovery, the unknown-`kid` refresh rate
//! limit, rotation, and the last good keys kept when a fetch fails.

use std::time::Duration;

use toolgate::credentials::{
    Authenticator, CredentialError as E, CredentialsConfig, JwtConfig, JwtScheme, Keys, RemoteKeys,
    RemoteKeysConfig,
};

use super::support::*;

async fn remote(server: &Server, clock: &TestClock) -> RemoteKeys {
    let mut config = RemoteKeysConfig::new(server.url("/keys"));
    config.clock = clock.clock();
    RemoteKeys::start(config).await.unwrap()
}

fn kid_token(kid: &str) -> String {
    let header = format!(r#"{{"alg":"RS256","kid":"{kid}"}}"#);
    sign_raw(
        &header,
        &claims().to_string(),
        &keyring().rsa.encoding,
        jsonwebtoken::Algorithm::RS256,
    )
}

#[tokio::test]
async fn unknown_kids_refresh_at_most_once_per_interval() {
    let server = Server::start().await;
    server.set("/keys", Reply::json(jwks(&[&keyring().rsa])));
    let clock = TestClock::new();
    let keys = remote(&server, &clock).await;
    let scheme = JwtScheme::new(settings(&clock), Keys::from(keys.clone()));
    assert_eq!(keys.fetch_count(), 1);
    for index in 0..25 {
        let error = scheme
            .verify(&kid_token(&format!("random-{index}")))
            .await
            .unwrap_err();
        assert_eq!(error, E::UnknownKey);
    }
    assert_eq!(
        keys.fetch_count(),
        1,
        "within the interval no kid causes a fetch"
    );
    clock.advance(31);
    for index in 0..25 {
        let error = scheme
            .verify(&kid_token(&format!("again-{index}")))
            .await
            .unwrap_err();
        assert_eq!(error, E::UnknownKey);
    }
    assert_eq!(keys.fetch_count(), 2, "one fetch per interval");
    assert_eq!(server.hits("/keys"), 2);
    assert!(scheme
        .verify(&sign(&keyring().rsa, &claims()))
        .await
        .is_ok());
    assert_eq!(keys.fetch_count(), 2, "a known kid never fetches");
}

#[tokio::test]
async fn rotation_is_picked_up_by_the_new_kid() {
    let ring = keyring();
    let server = Server::start().await;
    server.set("/keys", Reply::json(jwks(&[&ring.rsa])));
    let clock = TestClock::new();
    let keys = remote(&server, &clock).await;
    let scheme = JwtScheme::new(settings(&clock), Keys::from(keys.clone()));
    let rotated = sign(&ring.other_rsa, &claims());
    assert_eq!(scheme.verify(&rotated).await.unwrap_err(), E::UnknownKey);
    server.set("/keys", Reply::json(jwks(&[&ring.other_rsa, &ring.ec])));
    clock.advance(30);
    assert!(
        scheme.verify(&rotated).await.is_ok(),
        "the new kid is fetched"
    );
    assert!(scheme.verify(&sign(&ring.ec, &claims())).await.is_ok());
    let retired = sign(&ring.rsa, &claims());
    assert_eq!(scheme.verify(&retired).await.unwrap_err(), E::UnknownKey);
}

#[tokio::test]
async fn failed_or_garbage_fetches_keep_the_last_good_keys() {
    let ring = keyring();
    let server = Server::start().await;
    server.set("/keys", Reply::json(jwks(&[&ring.rsa])));
    let clock = TestClock::new();
    let keys = remote(&server, &clock).await;
    let scheme = JwtScheme::new(settings(&clock), Keys::from(keys.clone()));
    let token = sign(&ring.rsa, &claims());
    let failures = [
        Reply::json("<html>garbage</html>"),
        Reply::json(r#"{"keys": []}"#),
        Reply::json(r#"{"keys": [{"kty": "oct", "k": "c2VjcmV0"}]}"#),
        Reply::json(r#"{"keys": "nope"}"#),
        Reply {
            status: 500,
            body: "down".into(),
            headers: Vec::new(),
        },
        Reply::json(format!(
            r#"{{"keys": [], "pad": "{}"}}"#,
            "x".repeat(600 * 1024)
        )),
    ];
    for (index, reply) in failures.into_iter().enumerate() {
        server.set("/keys", reply);
        assert!(keys.refresh().await.is_err(), "failure {index} is reported");
        assert_eq!(keys.keys().len(), 1, "failure {index} keeps the keys");
        assert!(scheme.verify(&token).await.is_ok(), "failure {index}");
    }
    clock.advance(60);
    assert_eq!(
        scheme.verify(&kid_token("unknown")).await.unwrap_err(),
        E::UnknownKey
    );
    assert!(
        scheme.verify(&token).await.is_ok(),
        "still the last good keys"
    );
}

/// The credentials configuration of a JWT issuer found by discovery.
fn discovered(issuer: &str) -> CredentialsConfig {
    let mut jwt = JwtConfig::new(issuer);
    jwt.discovery = true;
    CredentialsConfig {
        resource: RESOURCE.into(),
        jwt: Some(jwt),
        api_keys: None,
    }
}

/// A token from `issuer` signed with `key`, valid for ten minutes of real time.
fn issued_by(key: &TestKey, issuer: &str) -> String {
    sign(
        key,
        &claims_with(serde_json::json!({"iss": issuer, "exp": now_plus(600)})),
    )
}

/// A server for the issuer `<server>/tenant` whose metadata, at `metadata_path`, names
/// a JWKS holding `key`.
async fn discoverable(metadata_path: &str, key: &TestKey) -> (Server, String) {
    let server = Server::start().await;
    let issuer = server.url("/tenant");
    let metadata = serde_json::json!({"issuer": issuer, "jwks_uri": server.url("/keys")});
    server.set(metadata_path, Reply::json(metadata.to_string()));
    server.set("/keys", Reply::json(jwks(&[key])));
    (server, issuer)
}

#[tokio::test]
async fn discovery_finds_the_jwks_by_openid_configuration() {
    let ring = keyring();
    let (_server, issuer) =
        discoverable("/tenant/.well-known/openid-configuration", &ring.ec).await;
    let authenticator = Authenticator::from_config(&discovered(&issuer))
        .await
        .unwrap();
    let token = issued_by(&ring.ec, &issuer);
    let identity = authenticator.identity(&bearer(&token)).await.unwrap();
    assert!(identity.expires_at().is_some());
}

/// A real "now" plus `seconds`, for configurations on the system clock.
fn now_plus(seconds: i64) -> i64 {
    jiff::Timestamp::now().as_second() + seconds
}

#[tokio::test]
async fn discovery_falls_back_to_rfc8414_and_checks_the_issuer() {
    let ring = keyring();
    let (server, issuer) =
        discoverable("/.well-known/oauth-authorization-server/tenant", &ring.ed).await;
    let authenticator = Authenticator::from_config(&discovered(&issuer))
        .await
        .unwrap();
    let token = issued_by(&ring.ed, &issuer);
    assert!(authenticator.identity(&bearer(&token)).await.is_ok());
    assert_eq!(server.hits("/tenant/.well-known/openid-configuration"), 1);

    // A metadata document naming another issuer is refused.
    server.set(
        "/other/.well-known/openid-configuration",
        Reply::json(
            serde_json::json!({"issuer": "https://evil.example", "jwks_uri": server.url("/keys")})
                .to_string(),
        ),
    );
    let error = Authenticator::from_config(&discovered(&server.url("/other")))
        .await
        .unwrap_err();
    assert_eq!(error.key(), "jwt.discovery");
    assert!(error.message().contains("evil.example"), "{error}");
}

#[tokio::test]
async fn plain_http_is_refused_except_to_loopback() {
    let mut jwt = JwtConfig::new(ISSUER);
    jwt.jwks_url = Some("http://idp.example.com/keys".into());
    let config = CredentialsConfig {
        resource: RESOURCE.into(),
        jwt: Some(jwt),
        api_keys: None,
    };
    let error = Authenticator::from_config(&config).await.unwrap_err();
    assert_eq!(error.key(), "jwt.jwks_url");
    assert!(error.message().contains("HTTPS"), "{error}");
}

#[tokio::test]
async fn fetches_time_out_and_are_size_capped() {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    let silent = tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((stream, _)) = listener.accept().await {
            held.push(stream);
        }
    });
    let mut config = RemoteKeysConfig::new(format!("http://{address}/keys"));
    config.fetch_timeout = Duration::from_millis(300);
    let error = RemoteKeys::start(config).await.unwrap_err();
    assert!(error.to_string().contains("failed"), "{error}");
    silent.abort();

    let server = Server::start().await;
    server.set(
        "/keys",
        Reply::json(jwks(&[&keyring().rsa, &keyring().ec, &keyring().ed])),
    );
    let mut config = RemoteKeysConfig::new(server.url("/keys"));
    config.max_response_bytes = 200;
    let error = RemoteKeys::start(config).await.unwrap_err();
    assert!(error.to_string().contains("over 200 bytes"), "{error}");
}

/// A JWKS server that answers the first fetch in full and every later one with headers
/// promising the whole document, half of it, and a closed connection.
async fn server_failing_mid_body(document: String) -> std::net::SocketAddr {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    tokio::spawn(async move {
        let mut served = 0;
        while let Ok((mut stream, _)) = listener.accept().await {
            let mut request = Vec::new();
            let mut buffer = [0u8; 1024];
            while !request.windows(4).any(|window| window == b"\r\n\r\n") {
                match stream.read(&mut buffer).await {
                    Ok(0) | Err(_) => break,
                    Ok(read) => request.extend_from_slice(&buffer[..read]),
                }
            }
            let body = if served == 0 {
                document.as_str()
            } else {
                &document[..document.len() / 2]
            };
            let head = format!(
                "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n",
                document.len()
            );
            let _ = stream.write_all(head.as_bytes()).await;
            let _ = stream.write_all(body.as_bytes()).await;
            let _ = stream.shutdown().await;
            served += 1;
        }
    });
    address
}

/// A fetch that fails mid-way (the connection closes halfway through the body) is an
/// error, the last good keys stay, and nothing half-read becomes a key.
#[tokio::test]
async fn a_fetch_cut_off_mid_body_keeps_the_last_good_keys() {
    let ring = keyring();
    let address = server_failing_mid_body(jwks(&[&ring.rsa, &ring.ec])).await;
    let clock = TestClock::new();
    let mut config = RemoteKeysConfig::new(format!("http://{address}/keys"));
    config.clock = clock.clock();
    config.fetch_timeout = Duration::from_secs(5);
    let keys = RemoteKeys::start(config).await.unwrap();
    assert_eq!(keys.keys().len(), 2);
    let scheme = JwtScheme::new(settings(&clock), Keys::from(keys.clone()));
    let token = sign(&ring.rsa, &claims());
    for attempt in 0..3 {
        assert!(keys.refresh().await.is_err(), "cut-off fetch {attempt}");
        assert_eq!(keys.keys().len(), 2, "cut-off fetch {attempt}");
        assert!(
            scheme.verify(&token).await.is_ok(),
            "cut-off fetch {attempt}"
        );
    }
    clock.advance(60);
    assert_eq!(
        scheme.verify(&kid_token("unknown")).await.unwrap_err(),
        E::UnknownKey
    );
}
