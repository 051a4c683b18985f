//! A real identity provider on loopback (tests/idp: the npm package `oidc-provider`):
//! toolgate discovers it, validates its RS256, ES256 and EdDSA access tokens, survives a
//! key rotation, and keeps validating issued tokens once the provider is gone.
//!
//! Needs Node 20 and `npm ci --prefix tests/idp` (CI's `.ci/run` does it); without them
//! this test FAILS, it never passes silently.

use std::path::PathBuf;
use std::process::Stdio;

use serde_json::Value;
use tokio::io::{AsyncBufReadExt, AsyncReadExt, BufReader};
use tokio::process::{Child, Command};
use toolgate::credentials::jwt::decode_unverified;
use toolgate::credentials::{resolve, CredentialError, JwtConfig, JwtScheme};
use toolgate::{Action, Engine, Kind, Policy, Request};

const RESOURCE: &str = "https://mcp.example.test/mcp";
const CLIENTS: [(&str, &str); 3] = [
    ("client-rs256", "RS256"),
    ("client-es256", "ES256"),
    ("client-eddsa", "EdDSA"),
];
const POLICY: &str = r#"
scope "tools:read", "tools:write"
role developer
allow developer to call tools "github.*" if scope "tools:read"
"#;

struct Idp {
    child: Child,
    issuer: String,
    http: reqwest::Client,
}

impl Idp {
    async fn start() -> Idp {
        let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/idp");
        assert!(
            dir.join("node_modules/oidc-provider").is_dir(),
            "tests/idp/node_modules is missing: run `npm ci --prefix tests/idp` first \
             (the identity provider test needs Node 20 and the npm package oidc-provider)"
        );
        let mut child = Command::new("node")
            .arg("server.mjs")
            .current_dir(&dir)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .kill_on_drop(true)
            .spawn()
            .expect("`node` must be installed to run the identity provider test");
        let stdout = child.stdout.take().unwrap();
        let mut line = String::new();
        BufReader::new(stdout).read_line(&mut line).await.unwrap();
        if !line.starts_with("http://127.0.0.1:") {
            let mut stderr = String::new();
            let _ = child
                .stderr
                .take()
                .unwrap()
                .read_to_string(&mut stderr)
                .await;
            panic!("the identity provider did not start: {line:?}\n{stderr}");
        }
        Idp {
            child,
            issuer: line.trim().to_string(),
            http: reqwest::Client::new(),
        }
    }

    async fn post(&self, path: &str, form: String) -> Value {
        let response = self
            .http
            .post(format!("{}{path}", self.issuer))
            .header("content-type", "application/x-www-form-urlencoded")
            .body(form)
            .send()
            .await
            .unwrap();
        let status = response.status();
        let body: Value = response.json().await.unwrap();
        assert!(status.is_success(), "{path}: {status} {body}");
        body
    }

    async fn token(&self, client: &str, resource: &str) -> String {
        let form = format!(
            "grant_type=client_credentials&client_id={client}&client_secret=secret-{client}\
             &scope=tools:read&resource={resource}"
        );
        let body = self.post("/token", form).await;
        body["access_token"].as_str().unwrap().to_string()
    }

    async fn rotate(&self) {
        self.post("/admin/rotate", String::new()).await;
    }

    async fn stop(&mut self) {
        self.child.kill().await.unwrap();
    }
}

fn kid(token: &str) -> String {
    let decoded = decode_unverified(token).unwrap();
    decoded.header["kid"].as_str().unwrap().to_string()
}

async fn allowed(
    scheme: &JwtScheme,
    engine: &Engine,
    token: &str,
) -> Result<bool, CredentialError> {
    let identity = scheme.verify(token).await?;
    let principal = resolve(&identity, engine).unwrap();
    let request = Request::new(Kind::Tool, Action::Call, "github.create_issue").unwrap();
    Ok(engine.decide(&principal, &request).is_allowed())
}

#[tokio::test]
async fn tokens_from_a_real_identity_provider() {
    let mut idp = Idp::start().await;
    let mut jwt = JwtConfig::new(idp.issuer.clone());
    jwt.discovery = true;
    jwt.require_typ = true;
    jwt.min_refresh_seconds = 0;
    let scheme = jwt.scheme(RESOURCE).await.unwrap();
    let engine = Policy::from_text("idp.policy", POLICY)
        .unwrap()
        .into_engine();

    let mut issued = Vec::new();
    for (client, alg) in CLIENTS {
        let token = idp.token(client, RESOURCE).await;
        let header = decode_unverified(&token).unwrap().header;
        assert_eq!(header["alg"], alg);
        assert_eq!(header["typ"], "at+jwt");
        assert_eq!(allowed(&scheme, &engine, &token).await, Ok(true), "{alg}");
        issued.push(token);
    }
    let elsewhere = idp
        .token("client-rs256", "https://other.example.test/mcp")
        .await;
    assert_eq!(
        scheme.verify(&elsewhere).await.unwrap_err(),
        CredentialError::WrongAudience
    );

    idp.rotate().await;
    for (client, alg) in CLIENTS {
        let token = idp.token(client, RESOURCE).await;
        assert!(
            issued.iter().all(|old| kid(old) != kid(&token)),
            "{alg} signs with a new key"
        );
        assert_eq!(
            allowed(&scheme, &engine, &token).await,
            Ok(true),
            "{alg} after rotation"
        );
        issued.push(token);
    }

    idp.stop().await;
    let before = scheme.verifications();
    for token in &issued {
        assert_eq!(
            allowed(&scheme, &engine, token).await,
            Ok(true),
            "cached keys, provider gone"
        );
    }
    assert_eq!(
        scheme.verifications() - before,
        issued.len() as u64,
        "each was verified"
    );
    let unknown_kid = {
        use base64::Engine as _;
        let header = base64::engine::general_purpose::URL_SAFE_NO_PAD
            .encode(r#"{"alg":"RS256","typ":"at+jwt","kid":"rs256-9-unknown"}"#);
        let rest = issued[0].split_once('.').unwrap().1;
        format!("{header}.{rest}")
    };
    assert_eq!(
        scheme.verify(&unknown_kid).await.unwrap_err(),
        CredentialError::UnknownKey
    );
    assert_eq!(
        allowed(&scheme, &engine, &issued[0]).await,
        Ok(true),
        "the last good keys stay"
    );
}
