//! Claim paths at the credentials layer (LANGUAGE.md v1.1): a shadowing top-level claim
//! refuses the token (401 `invalid_token` through the gate), a Keycloak client id with
//! dots is read through a JSON Pointer, and a `claim` atom on an ambiguous path is
//! unknown.

use std::sync::Arc;

use axum::body::Body;
use axum::routing;
use axum::Router;
use http::{Request, StatusCode};
use serde_json::{json, Value};
use toolgate::credentials::{
    AuthError, Authenticator, ClaimsPreset, CredentialError, JwtScheme, KeySet, Keys, PresetName,
    PresetOptions,
};
use toolgate::gate::{GateConfig, GateLayer, PolicyHandle};
use toolgate::{Action, Engine, Kind, Policy, Request as Decide};
use tower::ServiceExt;

use super::support::*;

const POLICY: &str = r#"
role user
role admin
allow user to call tools "notes.read"
allow admin to call tools "*"
"#;

fn engine(text: &str) -> Engine {
    Policy::from_text("paths.policy", text)
        .unwrap()
        .into_engine()
}

fn authenticator(preset: Option<ClaimsPreset>) -> (Arc<JwtScheme>, Authenticator) {
    let keys = KeySet::from_jwk_text(&jwks(&[&keyring().rsa])).unwrap();
    let scheme = Arc::new(JwtScheme::new(
        settings(&TestClock::new()),
        Keys::from(keys),
    ));
    let clock = TestClock::new();
    let mut authenticator = Authenticator::new()
        .with_clock(clock.clock())
        .with_scheme(Arc::clone(&scheme));
    if let Some(preset) = preset {
        authenticator = authenticator.with_claims_preset(preset);
    }
    (scheme, authenticator)
}

fn keycloak(client: Option<&str>) -> ClaimsPreset {
    let options = PresetOptions {
        keycloak_client: client.map(str::to_string),
        ..Default::default()
    };
    ClaimsPreset::new(PresetName::Keycloak, &options)
}

/// The issue's token: a top-level `realm_access.roles` naming admin beside the real
/// nested roles naming user.
fn shadowing_claims() -> Value {
    claims_with(json!({
        "roles": null,
        "realm_access.roles": ["admin"],
        "realm_access": {"roles": ["user"]},
    }))
}

fn may_call(engine: &Engine, principal: &toolgate::Principal, tool: &str) -> bool {
    let request = Decide::new(Kind::Tool, Action::Call, tool).unwrap();
    engine.decide(principal, &request).is_allowed()
}

#[tokio::test]
async fn a_shadowing_top_level_claim_refuses_the_token() {
    let engine = engine(POLICY);
    let (_, authenticator) = authenticator(Some(keycloak(None)));
    let head = bearer(&sign(&keyring().rsa, &shadowing_claims()));
    let refused = authenticator.principal(&head, &engine).await.unwrap_err();
    assert_eq!(refused, AuthError::Invalid(CredentialError::AmbiguousClaim));
    // The nested form alone is the user it says.
    let honest = claims_with(json!({"roles": null, "realm_access": {"roles": ["user"]}}));
    let principal = authenticator
        .principal(&bearer(&sign(&keyring().rsa, &honest)), &engine)
        .await
        .unwrap();
    assert_eq!(principal.role_names(engine.index()), ["user"]);
    assert!(!may_call(&engine, &principal, "db.drop"));
}

#[tokio::test]
async fn the_gate_answers_a_shadowing_token_with_401_invalid_token() {
    let policy = PolicyHandle::new(
        Policy::from_text(
            "paths.policy",
            &format!("claims {{\n  roles from \"realm_access.roles\"\n}}\n{POLICY}"),
        )
        .unwrap(),
    );
    let (_, authenticator) = authenticator(None);
    let inner = Router::new().route(
        "/mcp",
        routing::post(|| async { axum::Json(json!({"jsonrpc": "2.0", "id": 1, "result": {}})) }),
    );
    let layer = GateLayer::new(GateConfig::new(RESOURCE).unwrap(), policy, authenticator);
    let gate = tower::Layer::layer(&layer, inner);
    let send = |claims: Value| {
        let gate = gate.clone();
        async move {
            let body = json!({"jsonrpc": "2.0", "id": 1, "method": "tools/call",
                              "params": {"name": "db.drop", "arguments": {}}});
            let mut request = Request::post("/mcp")
                .header("content-type", "application/json")
                .header("accept", "application/json, text/event-stream")
                .header(
                    "authorization",
                    format!("Bearer {}", sign(&keyring().rsa, &claims)),
                )
                .body(Body::from(body.to_string()))
                .unwrap();
            let peer: std::net::SocketAddr = "203.0.113.7:5000".parse().unwrap();
            request
                .extensions_mut()
                .insert(axum::extract::ConnectInfo(peer));
            gate.oneshot(request).await.unwrap()
        }
    };
    let refused = send(shadowing_claims()).await;
    assert_eq!(refused.status(), StatusCode::UNAUTHORIZED);
    let challenge = refused.headers()["www-authenticate"].to_str().unwrap();
    assert!(challenge.contains("error=\"invalid_token\""), "{challenge}");
    assert!(
        challenge.contains(CredentialError::AmbiguousClaim.description()),
        "{challenge}"
    );
    // The same roles held once: an admin passes, so the refusal above is the shadowing.
    let admin = claims_with(json!({"roles": null, "realm_access": {"roles": ["admin"]}}));
    assert_eq!(send(admin).await.status(), StatusCode::OK);
}

#[tokio::test]
async fn a_keycloak_client_id_with_dots_is_read_through_a_pointer() {
    let policy = engine(POLICY);
    let (_, authenticator) = authenticator(Some(keycloak(Some("mcp.example.com"))));
    let claims = claims_with(json!({
        "roles": null,
        "resource_access": {"mcp.example.com": {"roles": ["admin"]}, "mcp": {"roles": ["user"]}},
    }));
    let principal = authenticator
        .principal(&bearer(&sign(&keyring().rsa, &claims)), &policy)
        .await
        .unwrap();
    assert_eq!(principal.role_names(policy.index()), ["admin"]);
    // In a policy's own claims block, the pointer reads the same key.
    let own = engine(&format!(
        "claims {{\n  roles from \"/resource_access/mcp.example.com/roles\"\n}}\n{POLICY}"
    ));
    let principal = own.principal(&claims).unwrap();
    assert_eq!(principal.role_names(own.index()), ["admin"]);
}

#[test]
fn a_claim_atom_on_an_ambiguous_path_is_unknown() {
    let engine = engine(
        r#"
deny anyone to call tools "notes.write" if claim "acct.locked" == true
allow anyone to call tools "notes.*" if claim "org.plan" == "pro"
"#,
    );
    let decide = |claims: Value, tool: &str| {
        let principal = engine.principal(&claims).unwrap();
        may_call(&engine, &principal, tool)
    };
    let pro = json!({"org": {"plan": "pro"}});
    assert!(decide(pro.clone(), "notes.write"), "nested form alone");
    assert!(
        decide(json!({"org.plan": "pro"}), "notes.read"),
        "top-level form alone"
    );
    // Both forms, even agreeing: unknown, so the allow does not hold...
    let both = json!({"org.plan": "pro", "org": {"plan": "pro"}});
    assert!(!decide(both, "notes.read"));
    // ...and a deny on an ambiguous path fires, whatever the values say.
    let shadowed = json!({"org": {"plan": "pro"}, "acct.locked": false, "acct": {"locked": true}});
    assert!(!decide(shadowed, "notes.write"), "deny fires on unknown");
    let unlocked = json!({"org": {"plan": "pro"}, "acct": {"locked": false}});
    assert!(decide(unlocked, "notes.write"));
}

#[test]
fn an_invalid_pointer_escape_is_a_syntax_error() {
    let error = Policy::from_text(
        "bad.policy",
        "allow anyone to call tools \"a\" if claim \"/a~2b\" exists\n",
    )
    .unwrap_err()
    .to_string();
    assert!(error.contains("E001"), "{error}");
    assert!(error.contains("`/a~2b`"), "{error}");
}
