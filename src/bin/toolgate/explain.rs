//! `toolgate explain`: one decision for a person — the principal as derived, every
//! statement that matched, each condition atom's value and what it read, and why the
//! deciding statement won. `--format json` gives the same data for tools.
//!
//! Names, claim values and request fields come from whoever made the token and the
//! request: the text form shows each through [`visible`], so a control character is a
//! symbol on the screen, never an instruction to the terminal.

use std::fmt::Write as _;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::ValueEnum;
use jiff::Timestamp;
use serde_json::Value;
use toolgate::unstable::ast::ConditionMode;
use toolgate::unstable::eval::{Reason, Truth};
use toolgate::unstable::explain::{
    truth_word, Evaluation, Explainer, Explanation, Node, NodeKind, PrincipalFacts, StatementBody,
    StatementExplanation, Status, SubjectMatch,
};
use toolgate::unstable::visible::visible;
use toolgate::unstable::wire;

use toolgate::LoadOptions;

use crate::check::{fail, load_policy, Shown};
use crate::render;

/// Arguments of `toolgate explain`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// The policy file or directory.
    policy: PathBuf,
    /// One request as a JSON object, as `toolgate eval` takes it (`-` for standard input).
    #[arg(long, value_name = "FILE")]
    request: PathBuf,
    /// Output format.
    #[arg(long, value_enum, default_value_t = ExplainFormat::Human)]
    format: ExplainFormat,
}

/// Output formats of `toolgate explain`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum ExplainFormat {
    /// Plain text for people (colour only on a terminal).
    Human,
    /// The explanation as one JSON object.
    Json,
}

/// Runs `toolgate explain`: 0 for a valid request (whatever the decision), 1 for an
/// invalid request, 2 for a policy with errors or an unreadable file.
pub fn run(args: &Args) -> ExitCode {
    let policy = match load_policy(&args.policy, &LoadOptions::default(), Shown::Everything) {
        Ok(policy) => policy,
        Err(code) => return code,
    };
    let text = match read_request(&args.request) {
        Ok(text) => text,
        Err(message) => return fail(&message),
    };
    let explainer = Explainer::new(policy.sources(), policy.checked());
    let explanation = match explain(&explainer, text.trim()) {
        Ok(explanation) => explanation,
        Err(message) => return invalid(args.format, &message),
    };
    let written = match args.format {
        ExplainFormat::Human => {
            let colour = render::use_colour(render::stdout_is_terminal());
            write_out(human(&explanation, colour).as_bytes())
        }
        ExplainFormat::Json => serde_json::to_string_pretty(&explanation)
            .map_err(std::io::Error::other)
            .and_then(|text| write_out(format!("{text}\n").as_bytes())),
    };
    match written {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) if error.kind() == std::io::ErrorKind::BrokenPipe => ExitCode::SUCCESS,
        Err(error) => fail(&format!("i/o error: {error}")),
    }
}

fn read_request(path: &Path) -> Result<String, String> {
    let mut text = String::new();
    let read = if path.as_os_str() == "-" {
        std::io::stdin().lock().read_to_string(&mut text)
    } else {
        std::fs::File::open(path).and_then(|mut file| file.read_to_string(&mut text))
    };
    read.map_err(|error| format!("cannot read `{}`: {error}", path.display()))?;
    Ok(text)
}

fn explain(explainer: &Explainer<'_>, text: &str) -> Result<Explanation, String> {
    let parsed = wire::parse_request(text)?;
    let claims: Value =
        serde_json::from_str(parsed.claims.get()).map_err(|error| error.to_string())?;
    let request = parsed.request(Timestamp::now());
    explainer
        .explain(&claims, &request)
        .map_err(|error| error.to_string())
}

/// Reports an invalid request: `{"error": ...}` on standard output for JSON (as
/// `toolgate eval` does), `error: ...` on standard error otherwise; exit status 1.
fn invalid(format: ExplainFormat, message: &str) -> ExitCode {
    match format {
        ExplainFormat::Json => {
            let line = serde_json::json!({ "error": message });
            let _ = write_out(format!("{line}\n").as_bytes());
        }
        ExplainFormat::Human => eprintln!("error: invalid request: {}", visible(message)),
    }
    ExitCode::from(1)
}

fn write_out(bytes: &[u8]) -> std::io::Result<()> {
    let mut out = std::io::stdout().lock();
    out.write_all(bytes)?;
    out.flush()
}

/// ANSI styles, empty without colour.
struct Style {
    colour: bool,
}

impl Style {
    fn paint(&self, code: &str, text: &str) -> String {
        if self.colour {
            format!("\x1b[{code}m{text}\x1b[0m")
        } else {
            text.to_string()
        }
    }

    fn bold(&self, text: &str) -> String {
        self.paint("1", text)
    }

    fn truth(&self, value: Truth, text: &str) -> String {
        let code = match value {
            Truth::True => "32",
            Truth::False => "31",
            Truth::Unknown => "33",
        };
        self.paint(code, text)
    }
}

/// The explanation as text for people.
fn human(explanation: &Explanation, colour: bool) -> String {
    let style = Style { colour };
    let mut out = String::new();
    let request = &explanation.request;
    let _ = writeln!(
        out,
        "{}   {} {} `{}`",
        style.bold("request"),
        request.action.keyword(),
        request.kind.singular(),
        visible(&request.name)
    );
    principal(&mut out, &explanation.principal, &style);
    let ip = request.ip.map_or_else(
        || "none (every `ip in` is unknown)".to_string(),
        |ip| ip.to_string(),
    );
    let arguments = match &request.arguments {
        Some(arguments) => format!(
            ", arguments {}",
            visible(&serde_json::Value::Object(arguments.clone()).to_string())
        ),
        None => String::new(),
    };
    let _ = writeln!(
        out,
        "{}   ip {ip}, time {}{arguments}\n",
        style.bold("context"),
        request.time
    );
    let _ = writeln!(
        out,
        "{}  {}",
        style.bold("decision"),
        decision(&explanation.decision, &style)
    );
    let _ = writeln!(
        out,
        "{}       {}",
        style.bold("why"),
        visible(&explanation.why)
    );
    if let Some(then) = &explanation.with_missing_scopes {
        let added: Vec<String> = explanation
            .decision
            .missing_scopes
            .iter()
            .map(|scope| format!("`{}`", visible(scope)))
            .collect();
        let _ = writeln!(
            out,
            "{}  {} → {}",
            style.bold("if added"),
            added.join(", "),
            decision(then, &style)
        );
    }
    let several = explanation.evaluations.len() > 1;
    for (number, evaluation) in explanation.evaluations.iter().enumerate() {
        out.push('\n');
        evaluation_text(&mut out, evaluation, number, several, &style);
    }
    out
}

fn principal(out: &mut String, principal: &PrincipalFacts, style: &Style) {
    let subject = principal.subject.as_ref().map_or_else(
        || "no sub".to_string(),
        |sub| format!("sub `{}`", visible(sub)),
    );
    let client = principal.client.as_ref().map_or_else(
        || "client none".to_string(),
        |client| {
            format!(
                "client `{}` (from `{}`)",
                visible(&client.value),
                visible(&client.path)
            )
        },
    );
    let _ = writeln!(out, "{} {subject}, {client}", style.bold("principal"));
    let mut roles: Vec<String> = principal
        .granted_roles
        .iter()
        .map(|granted| {
            let from: Vec<String> = granted
                .from
                .iter()
                .map(|source| {
                    if source.value == granted.role {
                        format!("`{}`", source.path)
                    } else {
                        format!("`{}` in `{}`", source.value, source.path)
                    }
                })
                .collect();
            format!("{} (from {})", granted.role, from.join(", "))
        })
        .collect();
    if !principal.inherited_roles.is_empty() {
        roles.push(format!(
            "{} (inherited)",
            principal.inherited_roles.join(", ")
        ));
    }
    let _ = writeln!(out, "          roles  {}", list_or_none(&roles));
    if !principal.ignored_role_values.is_empty() {
        let ignored: Vec<String> = principal
            .ignored_role_values
            .iter()
            .map(|source| format!("`{}` in `{}`", source.value, source.path))
            .collect();
        let _ = writeln!(
            out,
            "          ignored {} (no such role)",
            visible(&ignored.join(", "))
        );
    }
    let scopes: Vec<String> = principal
        .effective_scopes
        .iter()
        .map(|scope| match &scope.implied_by {
            Some(by) => format!("{} (implied by {by})", scope.scope),
            None => scope.scope.clone(),
        })
        .collect();
    let _ = writeln!(out, "          scopes {}", list_or_none(&scopes));
    let unknown: Vec<String> = principal
        .token_scopes
        .iter()
        .filter(|scope| !scope.known)
        .map(|scope| format!("`{}`", scope.source.value))
        .collect();
    if !unknown.is_empty() {
        let _ = writeln!(
            out,
            "          also in the token, unknown to the policy: {}",
            visible(&unknown.join(", "))
        );
    }
}

/// The items joined, shown through [`visible`]; `none` for no item.
fn list_or_none(items: &[String]) -> String {
    if items.is_empty() {
        "none".to_string()
    } else {
        visible(&items.join(", ")).into_owned()
    }
}

fn decision(outcome: &toolgate::unstable::explain::Outcome, style: &Style) -> String {
    let effect = outcome.effect.keyword();
    let painted = match outcome.effect {
        toolgate::Effect::Allow => style.paint("1;32", effect),
        toolgate::Effect::Deny => style.paint("1;31", effect),
    };
    let mut text = format!("{painted} ({})", outcome.reason.as_str());
    if let Some(rule) = &outcome.rule {
        let _ = write!(text, " by {}", visible(&rule.to_string()));
    }
    if outcome.reason == Reason::InsufficientScope {
        let missing = outcome.missing_scopes.join(", ");
        let _ = write!(text, ", missing {}", visible(&missing));
    }
    text
}

fn evaluation_text(
    out: &mut String,
    evaluation: &Evaluation,
    number: usize,
    several: bool,
    style: &Style,
) {
    let action = evaluation.action.keyword();
    let heading = match (several, number) {
        (false, _) => "matching statements, in policy order".to_string(),
        (true, 0) => format!("matching statements for `{action}`, in policy order"),
        (true, _) => format!(
            "listing follows use: `{action}` on the same name, in policy order; {}",
            decision(&evaluation.decision, style)
        ),
    };
    let _ = writeln!(out, "{}", style.bold(&heading));
    if evaluation.statements.is_empty() {
        let _ = writeln!(out, "  none");
    }
    for statement in &evaluation.statements {
        statement_text(out, statement, style);
    }
}

fn statement_text(out: &mut String, statement: &StatementExplanation, style: &Style) {
    let header = visible(&format!("{}  {}", statement.site, statement.text)).into_owned();
    let header = if statement.decides {
        style.bold(&header)
    } else {
        header
    };
    let _ = writeln!(out, "  {header}");
    if statement.pattern_count > 1 {
        let _ = writeln!(
            out,
            "      name matched by \"{}\"",
            visible(&statement.pattern)
        );
    }
    match &statement.body {
        StatementBody::Require { scopes } => {
            let held: Vec<String> = scopes
                .iter()
                .map(|holding| holding.held.describe(&holding.scope))
                .collect();
            let line = match statement.status {
                Status::Met => format!("met: {}", held.join("; ")),
                _ => format!("unmet: {} → {}", held.join("; "), statement.note),
            };
            let _ = writeln!(out, "      {}", visible(&line));
        }
        StatementBody::Rule {
            subject, condition, ..
        } => {
            let subject_text = match subject {
                SubjectMatch::Anyone => None,
                SubjectMatch::Role { role } => Some(format!(
                    "subject: {} {}",
                    visible(role),
                    style.truth(Truth::True, "✓")
                )),
                SubjectMatch::NoRole { roles } => Some(format!(
                    "subject: {} {}",
                    visible(&roles.join(", ")),
                    style.truth(Truth::False, "✗")
                )),
            };
            let note = visible(&statement.note);
            match (subject.matched(), condition) {
                (false, _) => {
                    let subject_text = subject_text.unwrap_or_default();
                    let _ = writeln!(out, "      {subject_text} → {note}");
                }
                (true, None) => {
                    let prefix = subject_text.map_or_else(String::new, |s| format!("{s}   "));
                    let _ = writeln!(out, "      {prefix}no condition → {note}");
                }
                (true, Some(condition)) => {
                    if let Some(subject_text) = subject_text {
                        let _ = writeln!(out, "      {subject_text}");
                    }
                    let _ = writeln!(out, "      {}", visible(&condition.text));
                    tree(out, &condition.tree, style);
                    let unless = match condition.mode {
                        ConditionMode::Unless => ", `unless`",
                        ConditionMode::If => "",
                    };
                    let _ = writeln!(
                        out,
                        "      → condition {}{unless} → {note}",
                        style.truth(condition.value, truth_word(condition.value)),
                    );
                }
            }
        }
    }
}

/// A condition's nodes, one a line, aligned: text, value, and what each atom read.
fn tree(out: &mut String, root: &Node, style: &Style) {
    let mut lines: Vec<(usize, &Node)> = Vec::new();
    match &root.kind {
        NodeKind::And { of: items } | NodeKind::Or { of: items } => {
            items.iter().for_each(|item| flatten(item, 0, &mut lines))
        }
        _ => flatten(root, 0, &mut lines),
    }
    let width = lines
        .iter()
        .map(|(depth, node)| depth * 2 + visible(&node.text).chars().count())
        .max()
        .unwrap_or(0);
    let word_width = lines
        .iter()
        .map(|(_, node)| truth_word(node.value).len())
        .max()
        .unwrap_or(0);
    for (depth, node) in lines {
        let indent = depth * 2;
        let text = visible(&node.text);
        let pad = width.saturating_sub(indent + text.chars().count());
        let word = truth_word(node.value);
        let reading = match &node.kind {
            NodeKind::Atom(reading) => format!("({})", visible(&reading.describe())),
            NodeKind::Not { .. } => "(negation)".to_string(),
            NodeKind::And { .. } => "(all must hold)".to_string(),
            NodeKind::Or { .. } => "(one must hold)".to_string(),
        };
        let _ = writeln!(
            out,
            "        {}{}{}   {}{}  {reading}",
            " ".repeat(indent),
            text,
            " ".repeat(pad),
            style.truth(node.value, word),
            " ".repeat(word_width - word.len()),
        );
    }
}

fn flatten<'n>(node: &'n Node, depth: usize, into: &mut Vec<(usize, &'n Node)>) {
    into.push((depth, node));
    match &node.kind {
        NodeKind::Not { of } => flatten(of, depth + 1, into),
        NodeKind::And { of: items } | NodeKind::Or { of: items } => {
            items.iter().for_each(|item| flatten(item, depth + 1, into))
        }
        NodeKind::Atom(_) => {}
    }
}
