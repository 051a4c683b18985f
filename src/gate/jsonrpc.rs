//! MCP JSON-RPC messages as the gate sees them: what each asks for, and error bodies.
//!
//! Only what deciding needs is read: a message's `id`, its `method`, and the tool name or
//! resource URI in its `params`. Everything else passes to the server untouched.

use serde_json::{json, Map, Value};

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
    /// A use to decide: `tools/call`, `resources/read`, `prompts/get`, ...
    Use { kind: Kind, name: String },
    /// A list whose response is filtered.
    List { kind: Kind },
    /// Anything else: passes once the caller is authenticated.
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
}

fn malformed(code: i64, message: impl Into<String>) -> Malformed {
    Malformed {
        code,
        message: message.into(),
    }
}

/// Parses a POST body: one message, or (in revision 2025-03-26) a non-empty batch.
/// serde_json's recursion limit (128 levels) bounds nesting.
pub(crate) fn parse(bytes: &[u8]) -> Result<Body, Malformed> {
    let value: Value = serde_json::from_slice(bytes)
        .map_err(|error| malformed(PARSE_ERROR, format!("the body is not JSON: {error}")))?;
    match value {
        Value::Array(entries) => {
            if entries.is_empty() {
                return Err(malformed(INVALID_REQUEST, "the batch is empty"));
            }
            let messages = entries.iter().map(message).collect::<Result<Vec<_>, _>>()?;
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
            messages: vec![message(&value)?],
            batch: false,
        }),
    }
}

fn message(value: &Value) -> Result<Message, Malformed> {
    let Some(object) = value.as_object() else {
        return Err(malformed(
            INVALID_REQUEST,
            "a JSON-RPC message must be an object",
        ));
    };
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
    match object.get("method") {
        Some(Value::String(method)) => request(object, id, method),
        Some(_) => Err(malformed(INVALID_REQUEST, "`method` must be a string")),
        None if id.is_some() && (object.contains_key("result") || object.contains_key("error")) => {
            Ok(Message {
                id,
                method: None,
                header_name: None,
                operation: Operation::Other,
            })
        }
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
) -> Result<Message, Malformed> {
    let params = object.get("params");
    let operation = operation(method, params)?;
    Ok(Message {
        id,
        method: Some(method.to_string()),
        header_name: header_name(method, params),
        operation,
    })
}

/// The operation of a method: the name comes from `params` and must be a string.
fn operation(method: &str, params: Option<&Value>) -> Result<Operation, Malformed> {
    let used = |kind: Kind, field: &str| -> Result<Operation, Malformed> {
        match params.and_then(|params| params.get(field)) {
            Some(Value::String(name)) => Ok(Operation::Use {
                kind,
                name: name.clone(),
            }),
            _ => Err(malformed(
                INVALID_PARAMS,
                format!("`{method}` needs `params.{field}` as a string"),
            )),
        }
    };
    match method {
        "tools/call" => used(Kind::Tool, "name"),
        "resources/read" | "resources/subscribe" => used(Kind::Resource, "uri"),
        "prompts/get" => used(Kind::Prompt, "name"),
        "completion/complete" => completion(params),
        "tools/list" => Ok(Operation::List { kind: Kind::Tool }),
        "resources/list" => Ok(Operation::List {
            kind: Kind::Resource,
        }),
        "prompts/list" => Ok(Operation::List { kind: Kind::Prompt }),
        _ => Ok(Operation::Other),
    }
}

/// `completion/complete` for a prompt's argument is decided as getting that prompt.
fn completion(params: Option<&Value>) -> Result<Operation, Malformed> {
    let reference = params.and_then(|params| params.get("ref"));
    if reference
        .and_then(|r| r.get("type"))
        .and_then(Value::as_str)
        != Some("ref/prompt")
    {
        return Ok(Operation::Other);
    }
    match reference.and_then(|r| r.get("name")) {
        Some(Value::String(name)) => Ok(Operation::Use {
            kind: Kind::Prompt,
            name: name.clone(),
        }),
        _ => Err(malformed(
            INVALID_PARAMS,
            "`completion/complete` of a prompt needs `params.ref.name` as a string",
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

/// Two requests of a batch with one id could not be told apart in the responses.
fn distinct_ids(messages: &[Message]) -> Result<(), Malformed> {
    let requests = messages
        .iter()
        .filter(|message| message.method.is_some())
        .filter_map(|message| message.id.as_ref());
    let mut seen: Vec<&Value> = Vec::new();
    for id in requests {
        if seen.contains(&id) {
            return Err(malformed(
                INVALID_REQUEST,
                format!("the batch has two requests with id {id}"),
            ));
        }
        seen.push(id);
    }
    Ok(())
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
