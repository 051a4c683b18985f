//! The MCP request body: read within limits, parsed, checked against the `Mcp-Method` /
//! `Mcp-Name` headers, and decided.

use base64::Engine as _;
use bytes::Bytes;
use http::header::{CONTENT_LENGTH, CONTENT_TYPE};
use http::{HeaderMap, StatusCode};
use http_body_util::{BodyExt, LengthLimitError, Limited};
use serde_json::{json, Value};

use super::caller::{Caller, Decided, Origin, Target};
use super::config::TrafficLimits;
use super::jsonrpc::{self, Body, Malformed, Message, Operation};
use super::responses::{self, GateResponse};
use crate::eval::Reason;

/// A body that passed: its bytes and the decisions taken.
pub(crate) struct Inspected {
    pub bytes: Bytes,
    pub decisions: Vec<Decided>,
}

/// Checks the content type and reads the body within the size and time limits.
pub(crate) async fn read_body<B>(
    headers: &HeaderMap,
    body: B,
    limits: &TrafficLimits,
) -> Result<Bytes, Box<GateResponse>>
where
    B: http_body::Body<Data = Bytes> + Send,
    B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    if !is_json(headers) {
        return Err(refuse(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            jsonrpc::INVALID_REQUEST,
            "an MCP request body must be `application/json`, with no parameter but `charset=utf-8`"
                .to_string(),
        ));
    }
    let too_large = || {
        refuse(
            StatusCode::PAYLOAD_TOO_LARGE,
            jsonrpc::INVALID_REQUEST,
            format!("the request body exceeds {} bytes", limits.max_body_bytes),
        )
    };
    let declared = headers
        .get(CONTENT_LENGTH)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.parse::<u64>().ok());
    if declared.is_some_and(|length| length > limits.max_body_bytes as u64) {
        return Err(too_large());
    }
    let reading = Limited::new(body, limits.max_body_bytes).collect();
    match tokio::time::timeout(limits.request_timeout, reading).await {
        Err(_) => Err(refuse(
            StatusCode::REQUEST_TIMEOUT,
            jsonrpc::INVALID_REQUEST,
            "the request body was not received in time".to_string(),
        )),
        Ok(Err(error)) if error.is::<LengthLimitError>() => Err(too_large()),
        Ok(Err(_)) => Err(refuse(
            StatusCode::BAD_REQUEST,
            jsonrpc::INVALID_REQUEST,
            "the request body could not be read".to_string(),
        )),
        Ok(Ok(collected)) => Ok(collected.to_bytes()),
    }
}

/// `application/json`, alone or with `charset=utf-8` (any case), and nothing else: a
/// body in another charset is read one way by the gate and another by the server.
fn is_json(headers: &HeaderMap) -> bool {
    let mut values = headers.get_all(CONTENT_TYPE).iter();
    let (Some(value), None) = (values.next(), values.next()) else {
        return false;
    };
    let Ok(text) = value.to_str() else {
        return false;
    };
    let mut parts = text.split(';');
    let essence_is_json = parts
        .next()
        .is_some_and(|essence| essence.trim().eq_ignore_ascii_case("application/json"));
    essence_is_json
        && parts.all(|parameter| {
            let parameter = parameter.trim();
            let Some((name, value)) = parameter.split_once('=') else {
                return false;
            };
            let value = value.trim();
            let value = value
                .strip_prefix('"')
                .and_then(|inner| inner.strip_suffix('"'))
                .unwrap_or(value);
            name.trim().eq_ignore_ascii_case("charset") && value.eq_ignore_ascii_case("utf-8")
        })
}

/// Reads the body of a `GET` or `DELETE`, which must be empty (`400` otherwise): a body
/// there is read by some servers and ignored by others.
pub(crate) async fn read_empty<B>(
    headers: &HeaderMap,
    body: B,
    limits: &TrafficLimits,
) -> Result<(), Box<GateResponse>>
where
    B: http_body::Body<Data = Bytes> + Send,
    B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    let refused = || {
        refuse(
            StatusCode::BAD_REQUEST,
            jsonrpc::INVALID_REQUEST,
            "a `GET` or `DELETE` request must not have a body".to_string(),
        )
    };
    let declared = headers
        .get(CONTENT_LENGTH)
        .map(|value| value.as_bytes() != b"0")
        .unwrap_or(false);
    if declared {
        return Err(refused());
    }
    if body.is_end_stream() {
        return Ok(());
    }
    let reading = Limited::new(body, limits.max_body_bytes).collect();
    match tokio::time::timeout(limits.request_timeout, reading).await {
        Ok(Ok(collected)) => {
            if collected.to_bytes().is_empty() {
                Ok(())
            } else {
                Err(refused())
            }
        }
        _ => Err(refused()),
    }
}

fn refuse(status: StatusCode, code: i64, message: String) -> Box<GateResponse> {
    Box::new(responses::malformed(
        status,
        &Malformed {
            code,
            message,
            id: None,
        },
    ))
}

/// Parses and checks a body, then decides every use it asks for.
pub(crate) fn inspect(
    headers: &HeaderMap,
    bytes: Bytes,
    caller: &Caller,
    metadata_url: &str,
    max_batch: usize,
) -> Result<Inspected, Box<GateResponse>> {
    let bad =
        |malformed: Malformed| Box::new(responses::malformed(StatusCode::BAD_REQUEST, &malformed));
    let body = jsonrpc::parse(&bytes, max_batch).map_err(bad)?;
    check_batch(headers, &body).map_err(bad)?;
    check_headers(headers, &body).map_err(bad)?;
    check_arguments(&body, &caller.policy).map_err(bad)?;
    let decisions = decide(&body, caller);
    if decisions.iter().any(|(_, decided)| !decided.is_allowed()) {
        return Err(Box::new(refusal(&body, &decisions, metadata_url)));
    }
    Ok(Inspected {
        bytes,
        decisions: decisions.into_iter().map(|(_, decided)| decided).collect(),
    })
}

/// A call's arguments must spell the members the policy's `arg` conditions read exactly
/// as the policy does: `{"Cluster": "prod"}` reads as `cluster` to a case-insensitive
/// decoder (Go's `encoding/json` into a struct) and as nothing to the gate, so a deny on
/// `arg "cluster"` would not see what the server runs with.
fn check_arguments(body: &Body, policy: &super::policy::ActivePolicy) -> Result<(), Malformed> {
    let chains = policy.argument_members();
    if chains.is_empty() {
        return Ok(());
    }
    for message in &body.messages {
        let Operation::Use {
            arguments: Some(arguments),
            ..
        } = &message.operation
        else {
            continue;
        };
        for chain in chains {
            let mut object = Some(arguments);
            for (segment, folded) in chain {
                let Some(current) = object else { break };
                if let Some(name) = current
                    .keys()
                    .find(|name| *name != segment && super::strict::fold(name) == folded.as_str())
                {
                    return Err(Malformed {
                        code: jsonrpc::INVALID_PARAMS,
                        message: format!(
                            "argument member `{}` must be spelled `{segment}`, as the policy reads it",
                            name.escape_debug()
                        ),
                        id: message.id.clone(),
                    });
                }
                object = current.get(segment).and_then(serde_json::Value::as_object);
            }
        }
    }
    Ok(())
}

/// Batches exist in revision 2025-03-26 only (the revision assumed without a header).
fn check_batch(headers: &HeaderMap, body: &Body) -> Result<(), Malformed> {
    if !body.batch {
        return Ok(());
    }
    let version = single(headers, "mcp-protocol-version")?;
    match version {
        None => Ok(()),
        Some(version) if version == jsonrpc::BATCH_REVISION => Ok(()),
        Some(version) => Err(Malformed {
            code: jsonrpc::INVALID_REQUEST,
            message: format!("JSON-RPC batches are not part of MCP revision `{version}`"),
            id: None,
        }),
    }
}

/// `Mcp-Method` and `Mcp-Name`, when sent, must agree with the one message of the body.
fn check_headers(headers: &HeaderMap, body: &Body) -> Result<(), Malformed> {
    let method = single(headers, "mcp-method")?;
    let name = single(headers, "mcp-name")?;
    if method.is_none() && name.is_none() {
        return Ok(());
    }
    let mismatch = |message: String| Malformed {
        code: jsonrpc::HEADER_MISMATCH,
        message,
        id: None,
    };
    let [message] = body.messages.as_slice() else {
        return Err(mismatch(
            "`Mcp-Method` and `Mcp-Name` describe one message, not a batch".to_string(),
        ));
    };
    if let Some(method) = method {
        if message.method.as_deref() != Some(method) {
            return Err(mismatch(format!(
                "the `Mcp-Method` header `{method}` does not match the body"
            )));
        }
    }
    if let Some(raw) = name {
        let decoded = decode_header(raw)
            .ok_or_else(|| mismatch("the `Mcp-Name` header is not valid base64".to_string()))?;
        if message.header_name.as_deref() != Some(decoded.as_str()) {
            return Err(mismatch(format!(
                "the `Mcp-Name` header `{decoded}` does not match the body"
            )));
        }
    }
    Ok(())
}

/// The one value of a header; two values, or one that is not text, is malformed.
fn single<'h>(headers: &'h HeaderMap, name: &str) -> Result<Option<&'h str>, Malformed> {
    let mut values = headers.get_all(name).iter();
    let Some(value) = values.next() else {
        return Ok(None);
    };
    let malformed = |why: &str| Malformed {
        code: jsonrpc::HEADER_MISMATCH,
        id: None,
        message: format!("the `{name}` header {why}"),
    };
    if values.next().is_some() {
        return Err(malformed("is repeated"));
    }
    value
        .to_str()
        .map(Some)
        .map_err(|_| malformed("is not visible ASCII"))
}

/// SEP-2243 values: plain, or `=?base64?...?=`.
fn decode_header(raw: &str) -> Option<String> {
    match raw
        .strip_prefix("=?base64?")
        .and_then(|inner| inner.strip_suffix("?="))
    {
        Some(inner) => {
            let bytes = base64::engine::general_purpose::STANDARD
                .decode(inner)
                .ok()?;
            String::from_utf8(bytes).ok()
        }
        None => Some(raw.to_string()),
    }
}

fn decide<'b>(body: &'b Body, caller: &Caller) -> Vec<(&'b Message, Decided)> {
    body.messages
        .iter()
        .filter_map(|message| match &message.operation {
            Operation::Use {
                kind,
                name,
                arguments,
            } => {
                let origin = Origin {
                    method: message.method.as_deref().unwrap_or(""),
                    id: message.id.as_ref(),
                };
                let target = Target {
                    kind: *kind,
                    action: kind.use_action(),
                    name,
                    arguments: arguments.as_ref(),
                };
                let decided = caller.decide(&target, &origin);
                Some((message, decided))
            }
            _ => None,
        })
        .collect()
}

/// The `403` for a body with a refused use. If every refusal is `insufficient_scope`,
/// the challenge names every scope the deciding statements need, held or missing, and
/// no other scope the token happens to hold (RFC 6750 3.1; MCP 2026-07-28, SEP-2350:
/// clients add them to what they hold).
fn refusal(body: &Body, decisions: &[(&Message, Decided)], metadata_url: &str) -> GateResponse {
    let errors: Vec<Value> = body
        .messages
        .iter()
        .filter(|message| message.method.is_some() && message.id.is_some())
        .map(|message| {
            let refused = decisions
                .iter()
                .find(|(decided_message, decided)| {
                    std::ptr::eq(*decided_message, message) && !decided.is_allowed()
                })
                .map(|(_, decided)| decided);
            message_error(message, refused)
        })
        .collect();
    let first_refused = decisions.iter().find(|(_, decided)| !decided.is_allowed());
    let response_body = match (body.batch, errors.is_empty()) {
        (true, false) => Value::Array(errors),
        _ => first_refused.map_or(Value::Null, |(message, decided)| {
            message_error(message, Some(decided))
        }),
    };
    let only_scopes = decisions
        .iter()
        .all(|(_, decided)| decided.is_allowed() || decided.reason == Reason::InsufficientScope);
    if !only_scopes {
        return responses::json(StatusCode::FORBIDDEN, &response_body);
    }
    let mut scopes: Vec<String> = Vec::new();
    for (_, decided) in decisions {
        scopes.extend(decided.required_scopes.iter().cloned());
    }
    scopes.sort_unstable();
    scopes.dedup();
    let scopes: Vec<&str> = scopes.iter().map(String::as_str).collect();
    responses::insufficient_scope(metadata_url, &scopes, &response_body)
}

/// The JSON-RPC error for one message of a refused body.
fn message_error(message: &Message, refused: Option<&Decided>) -> Value {
    let Some(decided) = refused else {
        return jsonrpc::error_body(
            message.id.as_ref(),
            jsonrpc::FORBIDDEN,
            "not processed: another request of the batch was refused",
            None,
        );
    };
    let because = match decided.reason {
        Reason::Denied => "a rule denies it".to_string(),
        Reason::InsufficientScope => format!(
            "the token lacks the scope{} {}",
            if decided.missing_scopes.len() == 1 {
                ""
            } else {
                "s"
            },
            decided
                .missing_scopes
                .iter()
                .map(|scope| format!("`{scope}`"))
                .collect::<Vec<_>>()
                .join(", ")
        ),
        Reason::NoRule | Reason::Allowed => "no rule allows it".to_string(),
    };
    let text = format!(
        "`{}` of {} `{}` is not allowed: {because}",
        message.method.as_deref().unwrap_or(""),
        decided.kind.singular(),
        decided.name,
    );
    let mut data = json!({
        "kind": decided.kind.singular(),
        "name": decided.name,
        "reason": decided.reason.as_str(),
    });
    if decided.reason == Reason::InsufficientScope {
        if let Some(object) = data.as_object_mut() {
            object.insert("missing_scopes".to_string(), json!(decided.missing_scopes));
        }
    }
    jsonrpc::error_body(message.id.as_ref(), jsonrpc::FORBIDDEN, &text, Some(data))
}
