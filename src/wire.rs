//! The JSON forms of requests and decisions that `toolgate eval` and standalone
//! deployments exchange (README, "The command"): parsing a request line, writing a decision line.

use std::borrow::Cow;
use std::io::Write;
use std::net::IpAddr;

use jiff::Timestamp;
use serde::Deserialize;
use serde_json::value::RawValue;
use serde_json::{Map, Value};

use crate::ast::{Action, Kind};
use crate::eval::Decision;

/// A request read from JSON, borrowing from the line.
#[derive(Debug)]
pub struct JsonRequest<'a> {
    /// The token's claims, as written (parse them, or use the text as a cache key).
    pub claims: &'a RawValue,
    /// Tool, resource or prompt.
    pub kind: Kind,
    /// The action, valid for the kind.
    pub action: Action,
    /// The name.
    pub name: Cow<'a, str>,
    /// The client address, if given.
    pub ip: Option<IpAddr>,
    /// The time, if given (callers default to now).
    pub time: Option<Timestamp>,
    /// The arguments of a `call` or `get`, if given (v1.1).
    pub arguments: Option<Map<String, Value>>,
}

/// A request line as `toolgate eval` takes it; unknown fields are refused.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawRequest<'a> {
    #[serde(borrow)]
    claims: Option<&'a RawValue>,
    #[serde(borrow)]
    action: Option<Cow<'a, str>>,
    #[serde(borrow)]
    tool: Option<Cow<'a, str>>,
    #[serde(borrow)]
    resource: Option<Cow<'a, str>>,
    #[serde(borrow)]
    prompt: Option<Cow<'a, str>>,
    #[serde(borrow)]
    ip: Option<Cow<'a, str>>,
    #[serde(borrow)]
    time: Option<Cow<'a, str>>,
    arguments: Option<Value>,
}

impl JsonRequest<'_> {
    /// The request to decide, made at `default_time` when the line gives no time.
    pub fn request(&self, default_time: Timestamp) -> crate::eval::Request<'_> {
        crate::eval::Request {
            kind: self.kind,
            action: self.action,
            name: &self.name,
            ip: self.ip,
            time: self.time.unwrap_or(default_time),
            arguments: self.arguments.as_ref(),
        }
    }
}

/// Parses one request line; the error is a message for the `{"error": ...}` line.
pub fn parse_request(line: &str) -> Result<JsonRequest<'_>, String> {
    if line.trim().is_empty() {
        return Err("blank line: expected a request object".to_string());
    }
    let mut raw: RawRequest<'_> = serde_json::from_str(line).map_err(|error| error.to_string())?;
    let given_arguments = raw.arguments.take();
    let (kind, name) = target(&raw)?;
    let action = action(&raw, kind)?;
    let ip = raw.ip.as_deref().map(parse_ip).transpose()?;
    let time = raw
        .time
        .as_deref()
        .map(|text| {
            text.parse::<Timestamp>()
                .map_err(|_| format!("`time` is not an RFC 3339 instant: `{text}`"))
        })
        .transpose()?;
    let arguments = match given_arguments {
        None => None,
        Some(_) if action == Action::List || action == Action::Read => {
            return Err(format!(
                "`arguments` are given with `call` or `get` only, not with `{}`",
                action.keyword()
            ))
        }
        Some(Value::Object(arguments)) => Some(arguments),
        Some(_) => return Err("`arguments` must be a JSON object".to_string()),
    };
    let claims = raw.claims.ok_or("`claims` is required")?;
    if !claims.get().trim_start().starts_with('{') {
        return Err("`claims` must be a JSON object".to_string());
    }
    Ok(JsonRequest {
        claims,
        kind,
        action,
        name: name.clone(),
        ip,
        time,
        arguments,
    })
}

fn target<'r, 'a>(raw: &'r RawRequest<'a>) -> Result<(Kind, &'r Cow<'a, str>), String> {
    let named = [
        (Kind::Tool, raw.tool.as_ref()),
        (Kind::Resource, raw.resource.as_ref()),
        (Kind::Prompt, raw.prompt.as_ref()),
    ];
    let mut given = named
        .into_iter()
        .filter_map(|(kind, name)| name.map(|name| (kind, name)));
    match (given.next(), given.next()) {
        (Some(found), None) => Ok(found),
        (None, _) => Err("give one of `tool`, `resource` or `prompt`".to_string()),
        (Some(_), Some(_)) => Err("give only one of `tool`, `resource` or `prompt`".to_string()),
    }
}

fn action(raw: &RawRequest<'_>, kind: Kind) -> Result<Action, String> {
    let word = raw.action.as_deref().ok_or("`action` is required")?;
    let action = Action::from_keyword(word).ok_or_else(|| {
        format!("unknown action `{word}`: expected `list`, `call`, `read` or `get`")
    })?;
    if kind.allows(action) {
        Ok(action)
    } else {
        Err(format!(
            "`{word}` is not an action on {}; they take `list` and `{}`",
            kind.plural(),
            kind.use_action().keyword()
        ))
    }
}

fn parse_ip(text: &str) -> Result<IpAddr, String> {
    text.parse()
        .map_err(|_| format!("`ip` is not an IPv4 or IPv6 address: `{text}`"))
}

/// `{"decision":..,"reason":..,"rule":..,"missing_scopes":[..]}` and a newline.
pub fn write_decision(decision: &Decision<'_>, out: &mut impl Write) -> std::io::Result<()> {
    let effect = if decision.is_allowed() {
        "allow"
    } else {
        "deny"
    };
    write!(
        out,
        "{{\"decision\":\"{effect}\",\"reason\":\"{}\",\"rule\":",
        decision.reason.as_str()
    )?;
    match decision.rule {
        Some(rule) => serde_json::to_writer(&mut *out, &rule.to_string())?,
        None => out.write_all(b"null")?,
    }
    out.write_all(b",\"missing_scopes\":")?;
    serde_json::to_writer(&mut *out, decision.missing_scopes.as_slice())?;
    out.write_all(b"}\n")
}
