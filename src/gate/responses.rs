//! The responses the gate answers itself: challenges, refusals and malformed requests.
//! Every body is a JSON-RPC error; no body names a rule or quotes the policy.

use axum::body::Body;
use http::header::{HeaderValue, CACHE_CONTROL, CONTENT_TYPE, VARY, WWW_AUTHENTICATE};
use http::{Response, StatusCode};
use serde_json::{json, Value};

use super::jsonrpc::{self, Malformed};
use crate::credentials::CredentialError;

/// A response of the gate.
pub(crate) type GateResponse = Response<Body>;

/// A JSON response with `status`.
pub(crate) fn json(status: StatusCode, value: &Value) -> GateResponse {
    let mut response = Response::new(Body::from(value.to_string()));
    *response.status_mut() = status;
    response
        .headers_mut()
        .insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
    response
}

/// A JSON-RPC error response with `status`.
pub(crate) fn error(
    status: StatusCode,
    id: Option<&Value>,
    code: i64,
    message: &str,
) -> GateResponse {
    json(status, &jsonrpc::error_body(id, code, message, None))
}

/// A malformed request: `status` (400, 413, 415, ...) and its JSON-RPC error.
pub(crate) fn malformed(status: StatusCode, malformed: &Malformed) -> GateResponse {
    error(
        status,
        malformed.id.as_ref(),
        malformed.code,
        &malformed.message,
    )
}

/// `401`: no credentials. The challenge names the metadata document and every scope.
pub(crate) fn unauthenticated(metadata_url: &str, scopes: &[String]) -> GateResponse {
    let scope = scopes.join(" ");
    let mut parameters = vec![("resource_metadata", metadata_url)];
    if !scope.is_empty() {
        parameters.push(("scope", &scope));
    }
    challenged(
        StatusCode::UNAUTHORIZED,
        &parameters,
        &jsonrpc::error_body(
            None,
            jsonrpc::UNAUTHENTICATED,
            "authentication required",
            None,
        ),
    )
}

/// `401 invalid_token`: credentials were presented and refused.
pub(crate) fn invalid_token(metadata_url: &str, refused: CredentialError) -> GateResponse {
    let description = refused.description();
    challenged(
        StatusCode::UNAUTHORIZED,
        &[
            ("error", "invalid_token"),
            ("error_description", description),
            ("resource_metadata", metadata_url),
        ],
        &jsonrpc::error_body(
            None,
            jsonrpc::UNAUTHENTICATED,
            &format!("invalid token: {description}"),
            None,
        ),
    )
}

/// `403 insufficient_scope`: the challenge lists every scope the operation needs.
pub(crate) fn insufficient_scope(
    metadata_url: &str,
    scopes: &[&str],
    body: &Value,
) -> GateResponse {
    let scope = scopes.join(" ");
    challenged(
        StatusCode::FORBIDDEN,
        &[
            ("error", "insufficient_scope"),
            ("scope", &scope),
            ("resource_metadata", metadata_url),
        ],
        body,
    )
}

/// `431`: the request's headers are too large.
pub(crate) fn headers_too_large(limit: usize) -> GateResponse {
    error(
        StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE,
        None,
        jsonrpc::INVALID_REQUEST,
        &format!("the request headers exceed {limit} bytes"),
    )
}

/// `405`: the MCP endpoint takes `GET`, `POST` and `DELETE`.
pub(crate) fn method_not_allowed() -> GateResponse {
    let mut response = error(
        StatusCode::METHOD_NOT_ALLOWED,
        None,
        jsonrpc::INVALID_REQUEST,
        "the MCP endpoint takes `GET`, `POST` and `DELETE`",
    );
    response.headers_mut().insert(
        http::header::ALLOW,
        HeaderValue::from_static("GET, POST, DELETE"),
    );
    response
}

/// `502` or `504`: the protected service failed or took too long.
pub(crate) fn upstream(status: StatusCode, message: &str) -> GateResponse {
    error(status, None, jsonrpc::UPSTREAM_ERROR, message)
}

fn challenged(status: StatusCode, parameters: &[(&str, &str)], body: &Value) -> GateResponse {
    let mut response = json(status, body);
    response
        .headers_mut()
        .insert(WWW_AUTHENTICATE, challenge(parameters));
    response
}

/// `Bearer name="value", ...`, each value a quoted-string; characters a header cannot
/// carry are dropped rather than failing the response.
pub(crate) fn challenge(parameters: &[(&str, &str)]) -> HeaderValue {
    let parameters: Vec<String> = parameters
        .iter()
        .map(|(name, value)| format!("{name}=\"{}\"", quoted(value)))
        .collect();
    let text = format!("Bearer {}", parameters.join(", "));
    HeaderValue::from_str(&text).unwrap_or_else(|_| HeaderValue::from_static("Bearer"))
}

fn quoted(value: &str) -> String {
    let mut text = String::with_capacity(value.len());
    for character in value.chars() {
        match character {
            '"' | '\\' => {
                text.push('\\');
                text.push(character);
            }
            ' '..='~' => text.push(character),
            _ => {}
        }
    }
    text
}

/// Marks a response as for this caller only.
pub(crate) fn mark_private(response: &mut GateResponse) {
    let headers = response.headers_mut();
    headers.insert(CACHE_CONTROL, HeaderValue::from_static("private, no-store"));
    headers.append(VARY, HeaderValue::from_static("Authorization, X-API-Key"));
}

/// The Protected Resource Metadata document (RFC 9728).
pub(crate) fn metadata(resource: &str, servers: &[String], scopes: &[String]) -> GateResponse {
    let document = json!({
        "resource": resource,
        "authorization_servers": servers,
        "scopes_supported": scopes,
        "bearer_methods_supported": ["header"],
    });
    let mut response = json(StatusCode::OK, &document);
    let headers = response.headers_mut();
    headers.insert(CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    headers.insert(
        http::header::ACCESS_CONTROL_ALLOW_ORIGIN,
        HeaderValue::from_static("*"),
    );
    response
}
