//! The Protected Resource Metadata document, and what handlers find in extensions.

use axum::body::Body;
use http::StatusCode;
use serde_json::json;
use toolgate::gate::GateConfig;

use super::support::*;

fn get(path: &str) -> http::Request<Body> {
    http::Request::get(path).body(Body::empty()).unwrap()
}

#[tokio::test]
async fn metadata_is_served_at_both_paths_without_credentials() {
    let config = GateConfig::new(RESOURCE)
        .unwrap()
        .with_authorization_servers(["https://idp.example.com/"]);
    let harness = Harness::with(config, policy_handle(POLICY));
    for path in [
        "/.well-known/oauth-protected-resource",
        "/.well-known/oauth-protected-resource/mcp",
    ] {
        let reply = harness.send(get(path)).await;
        assert_eq!(reply.status, StatusCode::OK, "{path}");
        assert_eq!(reply.header("content-type"), "application/json");
        assert_eq!(
            reply.json(),
            json!({
                "resource": RESOURCE,
                "authorization_servers": ["https://idp.example.com/"],
                "scopes_supported": ["tool:read", "tool:write", "deploy:prod"],
                "bearer_methods_supported": ["header"],
            }),
            "{path}"
        );
    }
    // Another path under it is not the document, nor the MCP endpoint: refused.
    let other = harness
        .send(get("/.well-known/oauth-protected-resource/other"))
        .await;
    assert_eq!(other.status, StatusCode::NOT_FOUND);
    // The gate answered all of these itself.
    harness
        .upstream
        .assert_untouched("metadata requests without credentials");
}

#[tokio::test]
async fn a_resource_at_the_root_has_one_metadata_path() {
    let config = GateConfig::new("https://mcp.example.com").unwrap();
    assert_eq!(
        config.metadata_url(),
        "https://mcp.example.com/.well-known/oauth-protected-resource"
    );
    assert_eq!(config.mcp_path, "/");
    assert!(GateConfig::new("ftp://example.com/mcp").is_err());
    assert!(GateConfig::new("/mcp").is_err());
    assert!(GateConfig::new("http://example.com/mcp?x=1").is_err());
}

#[tokio::test]
async fn metadata_follows_the_policy_in_force() {
    let policy = policy_handle(POLICY);
    let harness = Harness::with(GateConfig::new(RESOURCE).unwrap(), policy.clone());
    policy.replace(toolgate::Policy::from_text("next.policy", "scope \"a:b\"\n").unwrap());
    let reply = harness
        .send(get("/.well-known/oauth-protected-resource/mcp"))
        .await;
    assert_eq!(reply.json()["scopes_supported"], json!(["a:b"]));
}
