//! The real identity provider of tests/idp (the npm package `oidc-provider`) for the
//! end-to-end tests: started as a process, asked for client-credentials access tokens
//! (JWT, `typ: at+jwt`, `roles: ["developer"]`) for a resource.

use std::path::PathBuf;
use std::process::Command;

use serde_json::Value;

use super::process::Service;

/// The provider's clients, one per signing algorithm (secret: `secret-<client id>`).
pub const CLIENTS: [&str; 3] = ["client-rs256", "client-es256", "client-eddsa"];

/// A running identity provider, stopped on drop.
pub struct Idp {
    /// The process, stopped when this is dropped.
    _service: Service,
    /// Its issuer URL (no trailing slash).
    pub issuer: String,
}

impl Idp {
    /// Starts tests/idp/server.mjs on an ephemeral loopback port.
    pub fn start() -> Idp {
        let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/idp");
        assert!(
            dir.join("node_modules/oidc-provider").is_dir(),
            "tests/idp/node_modules is missing: run `npm ci --prefix tests/idp` first"
        );
        let mut command = Command::new("node");
        command.arg("server.mjs").current_dir(&dir);
        let service = Service::start("identity provider", command);
        let issuer = service.url.trim_end_matches('/').to_string();
        Idp {
            _service: service,
            issuer,
        }
    }

    /// An access token for `client` with `scope`, for `resource` (its audience).
    pub fn token(&self, client: &str, scope: &str, resource: &str) -> String {
        let form = [
            ("grant_type", "client_credentials"),
            ("client_id", client),
            ("client_secret", &format!("secret-{client}")),
            ("scope", scope),
            ("resource", resource),
        ];
        let body = form
            .iter()
            .map(|(name, value)| format!("{name}={}", encode(value)))
            .collect::<Vec<_>>()
            .join("&");
        let url = format!("{}/token", self.issuer);
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        let (status, answer) = runtime.block_on(async {
            let response = reqwest::Client::new()
                .post(&url)
                .header("content-type", "application/x-www-form-urlencoded")
                .body(body)
                .send()
                .await
                .unwrap();
            let status = response.status();
            (status, response.json::<Value>().await.unwrap())
        });
        assert!(
            status.is_success(),
            "token for `{client}`: {status} {answer}"
        );
        answer["access_token"].as_str().unwrap().to_string()
    }
}

/// `application/x-www-form-urlencoded` escaping of a value.
fn encode(value: &str) -> String {
    value
        .bytes()
        .map(|byte| match byte {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (byte as char).to_string()
            }
            b' ' => "+".to_string(),
            _ => format!("%{byte:02X}"),
        })
        .collect()
}
