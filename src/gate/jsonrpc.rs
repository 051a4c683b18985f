//! MCP JSON-RPC messages as the gate sees them: what each asks for, and error bodies.
//!
//! Only what deciding needs is read: a message's `id`, its `method`, and the tool name or
//! resource URI in its `params`. Everything else passes to the server untouched.

use serde_json::{json, Map, Value};

use super::strict;
use crate::ast::Kind;

/// JSON-RPC: the body is not JSON.
pub(crate) const PARSE_ERROR: i64 = -32700;
/// JSON-RPC: the JSON is not a valid request.
pub(crate) const INVALID_REQUEST: i64 = -32600;
/// JSON-RPC: the parameters are not valid.
pub(crate) const INVALID_PARAMS: i64 = -32602;
/// MCP (SEP-2243): an `Mcp-Method` / `Mcp-Name` header disagrees with the body.
pub(crate) const HEADER_MISMATCH: i64 = -32020;
/// toolgate: the request carries no valid credentials.
pub(crate) const UNAUTHENTICATED: i64 = -32001;
/// toolgate: the policy does not allow the request.
pub(crate) const FORBIDDEN: i64 = -32003;
/// toolgate: the upstream server failed or took too long.
pub(crate) const UPSTREAM_ERROR: i64 = -32004;

/// The only MCP revision whose transport carries JSON-RPC batches.
pub(crate) const BATCH_REVISION: &str = "2025-03-26";

/// What one message asks for.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Operation {
    /// A use to decide: `tools/call`, `resources/read`, `prompts/get`, ... with the
    /// arguments of `tools/call` and `prompts/get` (`params.arguments`; absent is `{}`).
    Use {
        kind: Kind,
        name: String,
        arguments: Option<Map<String, Value>>,
    },
    /// Anything else: passes once the caller is authenticated (list responses are
    /// filtered by their shape, whatever request they answer).
    Other,
}

/// One JSON-RPC message of a body.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Message {
    /// The request id; `None` for notifications.
    pub id: Option<Value>,
    /// The method; `None` for responses (to the server's own requests).
    pub method: Option<String>,
    /// The name `Mcp-Name` must match, when the method has one.
    pub header_name: Option<String>,
    pub operation: Operation,
}

/// A request body, parsed.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Body {
    pub messages: Vec<Message>,
    pub batch: bool,
}

/// Why a body was refused: a JSON-RPC error code and a message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Malformed {
    pub code: i64,
    pub message: String,
    /// The id of the refused request, when it could be read (JSON-RPC 2.0, 5: the
    /// response to a request with invalid parameters carries its id).
    pub id: Option<Value>,
}

fn malformed(code: i64, message: impl Into<String>) -> Malformed {
    Malformed {
        code,
        message: message.into(),
        id: None,
    }
}

/// Parses a POST body: one message, or (in revision 2025-03-26) a non-empty batch of at
/// most `max_batch` messages. The body is read once, refusing what could be read two
/// ways ([`strict::read`]); serde_json's recursion limit (128 levels) bounds nesting.
pub(crate) fn parse(bytes: &[u8], max_batch: usize) -> Result<Body, Malformed> {
    let value = strict::read(bytes).map_err(|unreadable| {
        let code = if unreadable.ambiguous {
            INVALID_REQUEST
        } else {
            PARSE_ERROR
        };
        malformed(code, unreadable.message)
    })?;
    match value {
        Value::Array(entries) => {
            if entries.is_empty() {
                return Err(malformed(INVALID_REQUEST, "the batch is empty"));
            }
            if entries.len() > max_batch {
                return Err(malformed(
                    INVALID_REQUEST,
                    format!(
                        "the batch has {} messages, more than the {max_batch} allowed",
                        entries.len()
                    ),
                ));
            }
            let messages = entries
                .into_iter()
                .map(message)
                .collect::<Result<Vec<_>, _>>()?;
            distinct_ids(&messages)?;
            if messages
                .iter()
                .any(|message| message.method.as_deref() == Some("initialize"))
            {
                return Err(malformed(
                    INVALID_REQUEST,
                    "`initialize` must not be part of a batch",
                ));
            }
            Ok(Body {
                messages,
                batch: true,
            })
        }
        value => Ok(Body {
            messages: vec![message(value)?],
            batch: false,
        }),
    }
}

/// The members of a message the gate reads, at the top level.
const ENVELOPE: [&str; 6] = ["jsonrpc", "id", "method", "params", "result", "error"];
/// The members of `params` the gate reads.
const PARAMS: [&str; 4] = ["name", "uri", "ref", "arguments"];
/// The members of `params.ref` the gate reads.
const REFERENCE: [&str; 3] = ["type", "name", "uri"];

/// A member the gate reads must be spelled exactly: `Method` or `paramſ` alone is read
/// as `method` or `params` by case-insensitive decoders and not at all by the gate.
fn spelled_exactly(object: &Map<String, Value>, read: &[&str], at: &str) -> Result<(), Malformed> {
    for name in object.keys() {
        if let Some(expected) = read
            .iter()
            .find(|expected| strict::is_near_miss(name, expected))
        {
            return Err(malformed(
                INVALID_REQUEST,
                format!(
                    "{at}member `{}` must be spelled `{expected}`",
                    name.escape_debug()
                ),
            ));
        }
    }
    Ok(())
}

fn message(value: Value) -> Result<Message, Malformed> {
    let Value::Object(mut object) = value else {
        return Err(malformed(
            INVALID_REQUEST,
            "a JSON-RPC message must be an object",
        ));
    };
    spelled_exactly(&object, &ENVELOPE, "")?;
    if let Some(Value::Object(params)) = object.get("params") {
        spelled_exactly(params, &PARAMS, "`params` ")?;
        if let Some(Value::Object(reference)) = params.get("ref") {
            spelled_exactly(reference, &REFERENCE, "`params.ref` ")?;
        }
    }
    if object.get("jsonrpc").and_then(Value::as_str) != Some("2.0") {
        return Err(malformed(INVALID_REQUEST, "`jsonrpc` must be \"2.0\""));
    }
    let id = match object.get("id") {
        None => None,
        Some(id @ (Value::String(_) | Value::Number(_))) => Some(id.clone()),
        Some(_) => {
            return Err(malformed(
                INVALID_REQUEST,
                "`id` must be a string or a number",
            ))
        }
    };
    let answers = object.contains_key("result") || object.contains_key("error");
    // The arguments are moved out rather than copied: the gate forwards the body's
    // bytes, never this value.
    let arguments = object
        .get_mut("params")
        .and_then(Value::as_object_mut)
        .and_then(|params| params.remove("arguments"));
    match object.get("method") {
        Some(Value::String(_)) if answers => Err(malformed(
            INVALID_REQUEST,
            "a message is a request or a response, not both",
        )),
        Some(Value::String(method)) => request(&object, id.clone(), method, arguments)
            .map_err(|refused| Malformed { id, ..refused }),
        Some(_) => Err(malformed(INVALID_REQUEST, "`method` must be a string")),
        None if id.is_some() && answers => Ok(Message {
            id,
            method: None,
            header_name: None,
            operation: Operation::Other,
        }),
        None => Err(malformed(
            INVALID_REQUEST,
            "a message needs a `method`, or an `id` and a `result` or `error`",
        )),
    }
}

fn request(
    object: &Map<String, Value>,
    id: Option<Value>,
    method: &str,
    arguments: Option<Value>,
) -> Result<Message, Malformed> {
    let params = object.get("params");
    let operation = operation(method, params, arguments)?;
    Ok(Message {
        id,
        method: Some(method.to_string()),
        header_name: header_name(method, params),
        operation,
    })
}

/// The operation of a method: the name comes from `params` and must be a string.
fn operation(
    method: &str,
    params: Option<&Value>,
    arguments: Option<Value>,
) -> Result<Operation, Malformed> {
    let used = |kind: Kind, field: &str| -> Result<Operation, Malformed> {
        match params.and_then(|params| params.get(field)) {
            Some(Value::String(name)) => used_name(kind, name, method),
            _ => Err(malformed(
                INVALID_PARAMS,
                format!("`{method}` needs `params.{field}` as a string"),
            )),
        }
    };
    match method {
        "tools/call" => with_arguments(used(Kind::Tool, "name")?, method, arguments),
        "resources/read" | "resources/subscribe" => used(Kind::Resource, "uri"),
        "prompts/get" => with_arguments(used(Kind::Prompt, "name")?, method, arguments),
        "completion/complete" => completion(params),
        _ => Ok(Operation::Other),
    }
}

/// The use with the call's `params.arguments`: an object, or absent; anything else
/// (`null` included) is refused, since the policy's `arg` conditions read it.
fn with_arguments(
    operation: Operation,
    method: &str,
    arguments: Option<Value>,
) -> Result<Operation, Malformed> {
    let Operation::Use { kind, name, .. } = operation else {
        return Ok(operation);
    };
    let arguments = match arguments {
        None => None,
        Some(Value::Object(arguments)) => Some(arguments),
        Some(_) => {
            return Err(malformed(
                INVALID_PARAMS,
                format!("`{method}` takes `params.arguments` as an object"),
            ))
        }
    };
    Ok(Operation::Use {
        kind,
        name,
        arguments,
    })
}

/// A use of `name`; a resource URI must have one spelling ([`uri::one_spelling`]).
fn used_name(kind: Kind, name: &str, method: &str) -> Result<Operation, Malformed> {
    if kind == Kind::Resource {
        super::uri::one_spelling(name).map_err(|why| {
            malformed(
                INVALID_PARAMS,
                format!(
                    "`{method}`: the resource URI `{}` {why}",
                    name.escape_debug()
                ),
            )
        })?;
    }
    Ok(Operation::Use {
        kind,
        name: name.to_string(),
        arguments: None,
    })
}

/// `completion/complete` is decided as getting the prompt (`ref/prompt`) or reading the
/// resource or resource template (`ref/resource`) whose argument it completes.
fn completion(params: Option<&Value>) -> Result<Operation, Malformed> {
    let reference = params.and_then(|params| params.get("ref"));
    let (kind, field) = match reference
        .and_then(|r| r.get("type"))
        .and_then(Value::as_str)
    {
        Some("ref/prompt") => (Kind::Prompt, "name"),
        Some("ref/resource") => (Kind::Resource, "uri"),
        _ => {
            return Err(malformed(
                INVALID_PARAMS,
                "`completion/complete` needs `params.ref.type`: `ref/prompt` or `ref/resource`",
            ))
        }
    };
    match reference.and_then(|r| r.get(field)) {
        Some(Value::String(name)) => used_name(kind, name, "completion/complete"),
        _ => Err(malformed(
            INVALID_PARAMS,
            format!("`completion/complete` needs `params.ref.{field}` as a string"),
        )),
    }
}

/// The value `Mcp-Name` carries for a method (SEP-2243), read from the body.
fn header_name(method: &str, params: Option<&Value>) -> Option<String> {
    let field = match method {
        "tools/call" | "prompts/get" => "name",
        "resources/read" | "resources/subscribe" | "resources/unsubscribe" => "uri",
        "tasks/get" | "tasks/update" | "tasks/cancel" => "taskId",
        _ => return None,
    };
    params?.get(field)?.as_str().map(str::to_string)
}

/// Two requests of a batch whose ids some server could take for one (`1`, `1.0` and
/// `"1"`: servers route by the id's text or number) could not be told apart in the
/// responses. Checked through a hash set: linear in the batch.
fn distinct_ids(messages: &[Message]) -> Result<(), Malformed> {
    let requests = messages
        .iter()
        .filter(|message| message.method.is_some())
        .filter_map(|message| message.id.as_ref());
    let mut seen: ahash::AHashSet<String> = ahash::AHashSet::with_capacity(messages.len());
    for id in requests {
        if !seen.insert(id_key(id)) {
            return Err(malformed(
                INVALID_REQUEST,
                format!("the batch has two requests with the id {id}"),
            ));
        }
    }
    Ok(())
}

/// An id as servers compare ids: a number by its value, a string by its text, and a
/// string holding a number as that number.
fn id_key(id: &Value) -> String {
    let number = match id {
        Value::Number(number) => number.as_f64(),
        Value::String(text) => text.trim().parse::<f64>().ok(),
        _ => None,
    };
    match (number, id) {
        (Some(number), _) => format!("{number}"),
        (None, Value::String(text)) => text.clone(),
        (None, other) => other.to_string(),
    }
}

/// A JSON-RPC error response.
pub(crate) fn error_body(
    id: Option<&Value>,
    code: i64,
    message: &str,
    data: Option<Value>,
) -> Value {
    let mut error = json!({ "code": code, "message": message });
    if let (Some(data), Some(object)) = (data, error.as_object_mut()) {
        object.insert("data".to_string(), data);
    }
    json!({
        "jsonrpc": "2.0",
        "id": id.cloned().unwrap_or(Value::Null),
        "error": error,
    })
}
