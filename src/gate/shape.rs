//! The protected service's response to a body with list requests: filtered to what the
//! caller may list and marked private. Responses to other bodies pass unchanged.

use axum::body::Body;
use bytes::Bytes;
use http::header::{CONTENT_ENCODING, CONTENT_LENGTH, CONTENT_TYPE};
use http::{HeaderMap, Response, StatusCode};
use http_body_util::{BodyExt, Limited};
use serde_json::Value;

use super::caller::Caller;
use super::config::Limits;
use super::filter::ListFilter;
use super::responses::{self, GateResponse};
use super::sse::SseFilter;
use crate::ast::Kind;

/// Filters the response to `lists` (each list request's id, kind and method).
pub(crate) async fn shape<ResponseBody>(
    response: Response<ResponseBody>,
    caller: Caller,
    lists: Vec<(Value, Kind, String)>,
    limits: &Limits,
) -> GateResponse
where
    ResponseBody: http_body::Body<Data = Bytes> + Send + 'static,
    ResponseBody::Error: Into<axum::BoxError>,
{
    let (mut parts, body) = response.into_parts();
    let body = Body::new(body);
    if lists.is_empty() {
        return Response::from_parts(parts, body);
    }
    let filter = ListFilter { caller, lists };
    let mut response = match essence(&parts.headers).as_deref() {
        _ if !parts.status.is_success() || parts.status == StatusCode::ACCEPTED => {
            Response::from_parts(parts, body)
        }
        _ if is_encoded(&parts.headers) => responses::upstream(
            StatusCode::BAD_GATEWAY,
            "a compressed list response cannot be filtered",
        ),
        Some("application/json") => {
            match filtered_json(body, &filter, limits.max_response_bytes).await {
                Ok(bytes) => {
                    parts.headers.remove(CONTENT_LENGTH);
                    Response::from_parts(parts, Body::from(bytes))
                }
                Err(message) => responses::upstream(StatusCode::BAD_GATEWAY, &message),
            }
        }
        Some("text/event-stream") => {
            parts.headers.remove(CONTENT_LENGTH);
            let filtered = SseFilter::new(body, filter, limits.max_response_bytes);
            Response::from_parts(parts, Body::new(filtered))
        }
        other => responses::upstream(
            StatusCode::BAD_GATEWAY,
            &format!(
                "a list response of type `{}` cannot be filtered",
                other.unwrap_or("none")
            ),
        ),
    };
    responses::mark_private(&mut response);
    response
}

/// Whether the body has a content coding other than `identity`.
fn is_encoded(headers: &HeaderMap) -> bool {
    headers
        .get_all(CONTENT_ENCODING)
        .iter()
        .any(|value| !value.as_bytes().eq_ignore_ascii_case(b"identity"))
}

/// The media type without parameters, lowercase.
fn essence(headers: &HeaderMap) -> Option<String> {
    let value = headers.get(CONTENT_TYPE)?.to_str().ok()?;
    let essence = value.split(';').next()?.trim();
    Some(essence.to_ascii_lowercase())
}

async fn filtered_json(body: Body, filter: &ListFilter, limit: usize) -> Result<Bytes, String> {
    let collected = Limited::new(body, limit)
        .collect()
        .await
        .map_err(|_| format!("the list response could not be read within {limit} bytes"))?;
    let mut value: Value = serde_json::from_slice(&collected.to_bytes())
        .map_err(|_| "the list response is not JSON".to_string())?;
    filter.filter_body(&mut value);
    Ok(Bytes::from(value.to_string()))
}
