//! Challenges and refusals: status codes, `WWW-Authenticate` text, JSON-RPC bodies.

use http::StatusCode;
use serde_json::json;
use toolgate::credentials::CredentialError;

use super::support::*;

#[tokio::test]
async fn no_credentials_get_the_metadata_and_every_scope() {
    let harness = Harness::new();
    let reply = harness.send(post(None, &call(1, "fs.read_file"))).await;
    assert_eq!(reply.status, StatusCode::UNAUTHORIZED);
    assert_eq!(
        reply.header("www-authenticate"),
        format!(
            "Bearer resource_metadata=\"{METADATA_URL}\", scope=\"tool:read tool:write deploy:prod\""
        )
    );
    assert_eq!(reply.json()["error"]["code"], -32001);
    assert!(harness.audit.take().is_empty());
}

#[tokio::test]
async fn every_method_needs_credentials() {
    let harness = Harness::new();
    let initialize = rpc(1, "initialize", json!({"protocolVersion": "2025-06-18"}));
    let reply = harness.send(post(None, &initialize)).await;
    assert_eq!(reply.status, StatusCode::UNAUTHORIZED);
    let get = http::Request::get("/mcp")
        .body(axum::body::Body::empty())
        .unwrap();
    assert_eq!(harness.send(get).await.status, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn a_refused_token_is_invalid_token_with_its_description() {
    let harness = Harness::new();
    let reply = harness
        .send(post(Some("forged-token"), &call(1, "fs.read_file")))
        .await;
    assert_eq!(reply.status, StatusCode::UNAUTHORIZED);
    let description = CredentialError::Malformed.description();
    assert_eq!(
        reply.header("www-authenticate"),
        format!(
            "Bearer error=\"invalid_token\", error_description=\"{description}\", resource_metadata=\"{METADATA_URL}\""
        )
    );
    assert!(!String::from_utf8_lossy(&reply.body).contains("forged-token"));
}

#[tokio::test]
async fn a_denied_call_is_403_naming_the_tool_and_reason_not_the_policy() {
    let harness = Harness::new();
    let reply = harness
        .send(post(Some("writer-token"), &call(4, "db.drop_table")))
        .await;
    assert_eq!(reply.status, StatusCode::FORBIDDEN);
    assert!(reply.headers.get("www-authenticate").is_none());
    let body = reply.json();
    assert_eq!(body["id"], 4);
    assert_eq!(body["error"]["code"], -32003);
    assert_eq!(body["error"]["data"]["name"], "db.drop_table");
    assert_eq!(body["error"]["data"]["reason"], "denied");
    let message = body["error"]["message"].as_str().unwrap();
    assert!(message.contains("`db.drop_table`"), "{message}");
    let text = String::from_utf8_lossy(&reply.body);
    assert!(!text.contains("gate.policy"), "{text}");
    assert!(!text.contains("deny anyone"), "{text}");
}

#[tokio::test]
async fn a_call_no_rule_allows_is_403_no_rule() {
    let harness = Harness::new();
    let reply = harness
        .send(post(Some("reader-token"), &call(2, "shell.exec")))
        .await;
    assert_eq!(reply.status, StatusCode::FORBIDDEN);
    assert_eq!(reply.json()["error"]["data"]["reason"], "no_rule");
}

#[tokio::test]
async fn a_missing_required_scope_is_challenged_with_every_scope_needed() {
    let harness = Harness::new();
    let reply = harness
        .send(post(Some("writer-read-only"), &call(3, "fs.write_file")))
        .await;
    assert_eq!(reply.status, StatusCode::FORBIDDEN);
    assert_eq!(
        reply.header("www-authenticate"),
        format!(
            "Bearer error=\"insufficient_scope\", scope=\"tool:write\", resource_metadata=\"{METADATA_URL}\""
        )
    );
    let body = reply.json();
    assert_eq!(body["error"]["data"]["reason"], "insufficient_scope");
    assert_eq!(
        body["error"]["data"]["missing_scopes"],
        json!(["tool:write"])
    );
}

#[tokio::test]
async fn step_up_is_challenged_with_the_scopes_the_rule_needs_only() {
    let harness = Harness::new();
    let reply = harness
        .send(post(Some("writer-token"), &call(5, "deploy.production")))
        .await;
    assert_eq!(reply.status, StatusCode::FORBIDDEN);
    assert_eq!(
        reply.header("www-authenticate"),
        format!(
            "Bearer error=\"insufficient_scope\", scope=\"deploy:prod\", resource_metadata=\"{METADATA_URL}\""
        )
    );
}

#[tokio::test]
async fn an_allowed_call_reaches_the_handler_with_the_decision() {
    let harness = Harness::new();
    let reply = harness
        .send(post(Some("reader-token"), &call(6, "fs.read_file")))
        .await;
    assert_eq!(reply.status, StatusCode::OK);
    let result = &reply.json()["result"];
    assert_eq!(result["subject"], "alice");
    assert_eq!(result["roles"], json!(["reader"]));
    assert_eq!(result["client_ip"], "203.0.113.7");
    assert_eq!(result["rules"], json!(["gate.policy:9"]));
    let policy = toolgate::Sources::from_text("gate.policy", POLICY).digest();
    assert_eq!(result["policy"], policy);
}

#[tokio::test]
async fn other_methods_pass_once_authenticated() {
    let harness = Harness::new();
    for method in ["initialize", "ping", "resources/templates/list"] {
        let reply = harness
            .send(post(Some("nobody-token"), &rpc(1, method, json!({}))))
            .await;
        assert_eq!(reply.status, StatusCode::OK, "{method}");
    }
    let notification = json!({"jsonrpc": "2.0", "method": "notifications/initialized"});
    let reply = harness
        .send(post(Some("nobody-token"), &notification))
        .await;
    assert_eq!(reply.status, StatusCode::OK);
    assert!(harness.audit.take().is_empty());
}

#[tokio::test]
async fn reading_a_resource_and_getting_a_prompt_are_decided() {
    let harness = Harness::new();
    let read = |uri: &str| rpc(1, "resources/read", json!({"uri": uri}));
    let reply = harness
        .send(post(Some("nobody-token"), &read("docs://readme")))
        .await;
    assert_eq!(reply.status, StatusCode::OK);
    let reply = harness
        .send(post(Some("writer-token"), &read("file:///etc/passwd")))
        .await;
    assert_eq!(reply.status, StatusCode::FORBIDDEN);
    assert_eq!(reply.json()["error"]["data"]["kind"], "resource");
    let get = |name: &str| rpc(2, "prompts/get", json!({"name": name}));
    let reply = harness
        .send(post(Some("reader-token"), &get("review-code")))
        .await;
    assert_eq!(reply.status, StatusCode::OK);
    let reply = harness
        .send(post(Some("reader-token"), &get("incident-report")))
        .await;
    assert_eq!(reply.status, StatusCode::FORBIDDEN);
    let complete = rpc(
        3,
        "completion/complete",
        json!({"ref": {"type": "ref/prompt", "name": "incident-report"}, "argument": {"name": "a", "value": ""}}),
    );
    let reply = harness.send(post(Some("reader-token"), &complete)).await;
    assert_eq!(reply.status, StatusCode::FORBIDDEN);
}
