//! What the client reads of the protected service's response: every response on the MCP
//! endpoint, JSON or server-sent events, whatever its status and whatever request it
//! answers, filtered to what the caller may list ([`super::filter`]) and marked private.
//!
//! A response the gate cannot read one way is never passed on: a JSON body that is not
//! JSON (or holds two member names a decoder could confuse) is `502`, an unreadable event
//! ends its stream, a compressed body or one of another type is `502`. An empty body (a
//! `202 Accepted`, say) passes as it is.

use axum::body::Body;
use bytes::Bytes;
use http::header::{CONTENT_ENCODING, CONTENT_LENGTH, CONTENT_TYPE};
use http::{HeaderMap, Response, StatusCode};
use http_body::Body as _;
use http_body_util::{BodyExt, Limited};

use super::caller::Caller;
use super::config::TrafficLimits;
use super::filter::ListFilter;
use super::responses::{self, GateResponse};
use super::sse::SseFilter;
use super::strict;

/// Filters the response for `caller`.
pub(crate) async fn shape<ResponseBody>(
    response: Response<ResponseBody>,
    caller: Caller,
    limits: &TrafficLimits,
) -> GateResponse
where
    ResponseBody: http_body::Body<Data = Bytes> + Send + 'static,
    ResponseBody::Error: Into<axum::BoxError>,
{
    let (mut parts, body) = response.into_parts();
    let body = Body::new(body);
    if body.is_end_stream() {
        return Response::from_parts(parts, body);
    }
    let filter = ListFilter { caller };
    let mut response = match essence(&parts.headers).as_deref() {
        _ if is_encoded(&parts.headers) => responses::upstream(
            StatusCode::BAD_GATEWAY,
            "a compressed response cannot be filtered",
        ),
        Some("text/event-stream") => {
            parts.headers.remove(CONTENT_LENGTH);
            let filtered = SseFilter::new(body, filter, limits.max_response_bytes);
            Response::from_parts(parts, Body::new(filtered))
        }
        kind => match filtered_json(body, &filter, limits.max_response_bytes, kind).await {
            Ok(bytes) => {
                parts.headers.remove(CONTENT_LENGTH);
                Response::from_parts(parts, Body::from(bytes))
            }
            Err(message) => responses::upstream(StatusCode::BAD_GATEWAY, &message),
        },
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

/// The body read (within `limit` bytes) and filtered: the same bytes when it holds no
/// list, written anew when it does. A body of a type other than JSON must be empty.
async fn filtered_json(
    body: Body,
    filter: &ListFilter,
    limit: usize,
    kind: Option<&str>,
) -> Result<Bytes, String> {
    let bytes = Limited::new(body, limit)
        .collect()
        .await
        .map_err(|_| format!("the response could not be read within {limit} bytes"))?
        .to_bytes();
    if bytes.is_empty() {
        return Ok(bytes);
    }
    if kind != Some("application/json") {
        return Err(format!(
            "a response of type `{}` cannot be filtered",
            kind.unwrap_or("none")
        ));
    }
    let mut value =
        strict::read(&bytes).map_err(|unreadable| format!("the response: {unreadable}"))?;
    if filter.filter_body(&mut value) {
        return Ok(Bytes::from(value.to_string()));
    }
    Ok(bytes)
}
