//! `toolgate token inspect`: decodes an access token WITHOUT trusting it, shows its header
//! and claims, the principal a policy derives from it, and for a tool, the decision and
//! the scopes still missing (the seed's "inspect the access token payload and compare
//! the scopes"). The text form shows claim values and names through [`visible`]: a
//! control character in a token is a symbol on the screen, never sent to the terminal.

use std::io::Read;
use std::path::PathBuf;
use std::process::ExitCode;

use jiff::Timestamp;
use serde_json::{json, Map, Value};
use toolgate::credentials::jwt::{decode_unverified, Unverified};
use toolgate::credentials::{ClaimsPreset, PresetName, PresetOptions};
use toolgate::unstable::ast::{Action, Kind};
use toolgate::unstable::eval::{Engine, Request};
use toolgate::unstable::principal::PrincipalError;
use toolgate::unstable::visible::visible;
use toolgate::Policy;

use crate::check::{chain, fail};

/// `toolgate token` subcommands.
#[derive(Debug, clap::Subcommand)]
pub enum Command {
    /// Decode a token without verifying it; show what a policy makes of it.
    Inspect(InspectArgs),
}

/// Arguments of `toolgate token inspect`.
#[derive(Debug, clap::Args)]
pub struct InspectArgs {
    /// The token, or `-` to read it from standard input.
    token: String,
    /// A policy (file or directory) to derive the principal with.
    #[arg(long, value_name = "PATH")]
    policy: Option<PathBuf>,
    /// A tool to decide for (needs `--policy`).
    #[arg(long, value_name = "NAME", conflicts_with_all = ["resource", "prompt"])]
    tool: Option<String>,
    /// A resource URI to decide for (needs `--policy`).
    #[arg(long, value_name = "URI", conflicts_with = "prompt")]
    resource: Option<String>,
    /// A prompt to decide for (needs `--policy`).
    #[arg(long, value_name = "NAME")]
    prompt: Option<String>,
    /// The action: `list`, or the kind's use action (`call`, `read`, `get`; the default).
    #[arg(long, value_name = "ACTION")]
    action: Option<String>,
    /// The call's arguments, a JSON object, for the policy's `arg` conditions (with
    /// `call` or `get`).
    #[arg(long, value_name = "JSON")]
    arguments: Option<String>,
    /// A claims preset: auth0, entra, keycloak, okta or generic.
    #[arg(long, value_name = "NAME")]
    preset: Option<String>,
    /// Keycloak preset: the client whose roles count.
    #[arg(long, value_name = "CLIENT")]
    keycloak_client: Option<String>,
    /// The claim holding roles (Auth0's namespaced claim).
    #[arg(long, value_name = "CLAIM")]
    roles_claim: Option<String>,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Human)]
    format: Format,
}

/// Output formats of `toolgate token inspect`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    /// For people.
    Human,
    /// One JSON object.
    Json,
}

const WARNING: &str = "NOT VERIFIED: decoded without checking the signature, issuer, audience or expiry; nothing here is trusted";

/// Runs `toolgate token`.
pub fn run(command: Command) -> ExitCode {
    let Command::Inspect(args) = command;
    match inspect(&args) {
        Ok(report) => {
            match args.format {
                Format::Json => say!("{report}"),
                Format::Human => crate::write_stdout(format_args!("{}", human(&report))),
            }
            ExitCode::SUCCESS
        }
        Err(message) => fail(&message),
    }
}

fn read_token(argument: &str) -> Result<String, String> {
    if argument != "-" {
        return Ok(argument.trim().to_string());
    }
    let mut text = String::new();
    std::io::stdin()
        .take(1024 * 1024)
        .read_to_string(&mut text)
        .map_err(|error| format!("cannot read standard input: {error}"))?;
    Ok(text.trim().to_string())
}

/// The whole report as JSON; the human form is rendered from it.
fn inspect(args: &InspectArgs) -> Result<Value, String> {
    let token = read_token(&args.token)?;
    let token = token.strip_prefix("Bearer ").unwrap_or(&token).trim();
    let decoded = decode_unverified(token).map_err(|error| {
        format!("cannot decode the token: {error} (expected header.payload.signature in base64url)")
    })?;
    let now = Timestamp::now();
    let mut report = json!({
        "verified": false,
        "warning": WARNING,
        "header": decoded.header,
        "claims": decoded.claims,
        "times": times(&decoded, now),
    });
    let target = target(args)?;
    let arguments = arguments(args, target.as_ref().map(|(_, action)| *action))?;
    let Some(policy) = &args.policy else {
        if target.is_some() {
            return Err("`--tool`, `--resource` and `--prompt` need `--policy`".into());
        }
        return Ok(report);
    };
    let loaded = Policy::load(policy).map_err(|error| chain(&error))?;
    let preset = preset(args)?;
    let derived = derive(
        loaded.engine(),
        preset.as_ref(),
        &decoded.claims,
        target,
        arguments.as_ref(),
        now,
    )?;
    if let Some(object) = report.as_object_mut() {
        object.extend(derived);
    }
    Ok(report)
}

type Target<'a> = (Kind, &'a str);

fn target(args: &InspectArgs) -> Result<Option<(Target<'_>, Action)>, String> {
    let named = [
        (Kind::Tool, args.tool.as_deref()),
        (Kind::Resource, args.resource.as_deref()),
        (Kind::Prompt, args.prompt.as_deref()),
    ];
    let Some((kind, name)) = named
        .into_iter()
        .find_map(|(kind, name)| name.map(|name| (kind, name)))
    else {
        return match &args.action {
            Some(_) => Err("`--action` needs `--tool`, `--resource` or `--prompt`".into()),
            None => Ok(None),
        };
    };
    let action = match &args.action {
        None => kind.use_action(),
        Some(word) => Action::from_keyword(word)
            .filter(|action| kind.allows(*action))
            .ok_or_else(|| {
                format!(
                    "`--action {word}`: {} take `list` and `{}`",
                    kind.plural(),
                    kind.use_action().keyword()
                )
            })?,
    };
    Ok(Some(((kind, name), action)))
}

/// `--arguments`: a JSON object, given with a `call` or `get` only.
fn arguments(
    args: &InspectArgs,
    action: Option<Action>,
) -> Result<Option<Map<String, Value>>, String> {
    let Some(text) = &args.arguments else {
        return Ok(None);
    };
    match action {
        None => return Err("`--arguments` needs `--tool` or `--prompt`".into()),
        Some(action @ (Action::List | Action::Read)) => {
            return Err(format!(
                "`--arguments` goes with `call` or `get`; `{}` requests carry no arguments",
                action.keyword()
            ))
        }
        Some(_) => {}
    }
    match serde_json::from_str::<Value>(text) {
        Ok(Value::Object(arguments)) => Ok(Some(arguments)),
        Ok(_) => Err("`--arguments` must be a JSON object".into()),
        Err(error) => Err(format!("`--arguments` is not JSON: {error}")),
    }
}

fn preset(args: &InspectArgs) -> Result<Option<ClaimsPreset>, String> {
    let options = PresetOptions {
        roles_claim: args.roles_claim.clone(),
        keycloak_client: args.keycloak_client.clone(),
    };
    let name = match &args.preset {
        Some(name) => PresetName::parse(name).ok_or_else(|| {
            format!("unknown preset `{name}`; use auth0, entra, keycloak, okta or generic")
        })?,
        None if options == PresetOptions::default() => return Ok(None),
        None => PresetName::Generic,
    };
    Ok(Some(ClaimsPreset::new(name, &options)))
}

fn derive(
    engine: &Engine,
    preset: Option<&ClaimsPreset>,
    claims: &Value,
    target: Option<(Target<'_>, Action)>,
    arguments: Option<&Map<String, Value>>,
    now: Timestamp,
) -> Result<Map<String, Value>, String> {
    let principal = match preset {
        Some(preset) => preset.principal(engine, claims),
        None => engine.principal(claims),
    };
    let mut out = Map::new();
    let principal = match principal {
        Ok(principal) => principal,
        // The gate refuses such a token (401 `invalid_token`): say so instead of a
        // principal.
        Err(error @ PrincipalError::AmbiguousClaim(_)) => {
            out.insert("principal_error".into(), json!(error.to_string()));
            return Ok(out);
        }
        Err(error) => return Err(error.to_string()),
    };
    let table = engine.index();
    out.insert(
        "principal".into(),
        json!({
            "subject": principal.subject(),
            "client": principal.client(),
            "roles": principal.role_names(table),
            "scopes": principal.scope_names(table),
        }),
    );
    if let Some(((kind, name), action)) = target {
        let mut request = Request::new(kind, action, name)
            .map_err(|error| error.to_string())?
            .at(now);
        if let Some(arguments) = arguments {
            request = request.with_arguments(arguments);
        }
        let decision = engine.decide(&principal, &request);
        out.insert(
            "decision".into(),
            json!({
                kind.singular(): name,
                "action": action.keyword(),
                "decision": if decision.is_allowed() { "allow" } else { "deny" },
                "reason": decision.reason.as_str(),
                "rule": decision.rule.map(|rule| rule.to_string()),
                "missing_scopes": decision.missing_scopes.as_slice(),
            }),
        );
    }
    Ok(out)
}

/// `exp`, `nbf` and `iat` as instants, with seconds from now (negative: past).
fn times(decoded: &Unverified, now: Timestamp) -> Value {
    let mut out = Map::new();
    for claim in ["exp", "nbf", "iat"] {
        let Some(seconds) = decoded.claims.get(claim).and_then(Value::as_i64) else {
            continue;
        };
        let time = Timestamp::from_second(seconds).map(|t| t.to_string()).ok();
        out.insert(
            claim.into(),
            json!({ "time": time, "from_now_seconds": seconds.saturating_sub(now.as_second()) }),
        );
    }
    Value::Object(out)
}

fn human(report: &Value) -> String {
    let mut out = format!("!! {WARNING}\n\nheader\n");
    let pretty = |value: &Value| serde_json::to_string_pretty(value).unwrap_or_default();
    for line in pretty(&report["header"]).lines() {
        out.push_str(&format!("  {}\n", visible(line)));
    }
    out.push_str("\nclaims\n");
    for line in pretty(&report["claims"]).lines() {
        out.push_str(&format!("  {}\n", visible(line)));
    }
    if let Some(times) = report["times"].as_object().filter(|t| !t.is_empty()) {
        out.push_str("\ntimes\n");
        for (claim, value) in times {
            let time = value["time"].as_str().unwrap_or("out of range");
            let relative = relative(value["from_now_seconds"].as_i64().unwrap_or(0), claim);
            out.push_str(&format!("  {claim}  {time}  ({relative})\n"));
        }
    }
    if let Some(principal) = report.get("principal") {
        out.push_str("\nprincipal (as the policy derives it)\n");
        let text = |value: &Value| visible(value.as_str().unwrap_or("-")).into_owned();
        out.push_str(&format!("  subject  {}\n", text(&principal["subject"])));
        out.push_str(&format!("  client   {}\n", text(&principal["client"])));
        out.push_str(&format!("  roles    {}\n", list(&principal["roles"])));
        out.push_str(&format!("  scopes   {}\n", list(&principal["scopes"])));
    }
    if let Some(error) = report.get("principal_error").and_then(Value::as_str) {
        out.push_str(&format!("\nprincipal: REFUSED, {error}\n"));
    }
    if let Some(decision) = report.get("decision") {
        out.push_str(&decision_text(decision));
    }
    out
}

fn decision_text(decision: &Value) -> String {
    let text = |key: &str| visible(decision[key].as_str().unwrap_or("-")).into_owned();
    let (kind, name) = ["tool", "resource", "prompt"]
        .iter()
        .find_map(|kind| decision[*kind].as_str().map(|name| (*kind, name)))
        .unwrap_or(("tool", "-"));
    let mut out = format!(
        "\ndecision ({kind} `{}`, action `{}`)\n",
        visible(name),
        text("action")
    );
    out.push_str(&format!("  {}  {}", text("decision"), text("reason")));
    if let Some(rule) = decision["rule"].as_str() {
        out.push_str(&format!("  (rule {})", visible(rule)));
    }
    out.push('\n');
    let missing = list(&decision["missing_scopes"]);
    if missing != "-" {
        out.push_str(&format!("  missing scopes  {missing}\n"));
    }
    out
}

fn list(value: &Value) -> String {
    let items: Vec<&str> = value
        .as_array()
        .map(|items| items.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default();
    if items.is_empty() {
        "-".into()
    } else {
        visible(&items.join(", ")).into_owned()
    }
}

/// `in 5m 3s`, `4h 2m ago`; for `exp` in the past, `EXPIRED 3m ago`.
fn relative(seconds: i64, claim: &str) -> String {
    let magnitude = seconds.unsigned_abs();
    let (days, hours, minutes, secs) = (
        magnitude / 86_400,
        magnitude % 86_400 / 3_600,
        magnitude % 3_600 / 60,
        magnitude % 60,
    );
    let span = match (days, hours, minutes) {
        (0, 0, 0) => format!("{secs}s"),
        (0, 0, _) => format!("{minutes}m {secs}s"),
        (0, _, _) => format!("{hours}h {minutes}m"),
        _ => format!("{days}d {hours}h"),
    };
    match (seconds >= 0, claim) {
        (true, _) => format!("in {span}"),
        (false, "exp") => format!("EXPIRED {span} ago"),
        (false, _) => format!("{span} ago"),
    }
}
