//! Rendering diagnostics: rustc-style text, JSON, and SARIF 2.1.0.

use std::io::IsTerminal;

use annotate_snippets::{AnnotationKind, Group, Level, Renderer, Snippet};
use serde::Serialize;
use serde_json::{json, Value};
use toolgate::diagnostic::{Code, Diagnostic, Severity};
use toolgate::source::{SourceId, Sources};

/// Whether to colour output written to standard output or error.
pub fn use_colour(stream_is_terminal: bool) -> bool {
    stream_is_terminal && std::env::var_os("NO_COLOR").is_none_or(|value| value.is_empty())
}

/// Whether standard output is a terminal.
pub fn stdout_is_terminal() -> bool {
    std::io::stdout().is_terminal()
}

/// Whether standard error is a terminal.
pub fn stderr_is_terminal() -> bool {
    std::io::stderr().is_terminal()
}

/// rustc-style text for each diagnostic, separated by blank lines.
pub fn human(sources: &Sources, diagnostics: &[Diagnostic], colour: bool) -> String {
    let renderer = if colour {
        Renderer::styled()
    } else {
        Renderer::plain()
    };
    diagnostics
        .iter()
        .map(|diagnostic| renderer.render(&report(sources, diagnostic)) + "\n\n")
        .collect()
}

/// `2 errors, 1 warning` (or `no problems found`).
pub fn summary(diagnostics: &[Diagnostic]) -> String {
    let errors = diagnostics.iter().filter(|d| d.is_error()).count();
    let warnings = diagnostics.len() - errors;
    if diagnostics.is_empty() {
        return "no problems found".to_string();
    }
    format!(
        "{}, {}",
        plural(errors, "error"),
        plural(warnings, "warning")
    )
}

fn plural(count: usize, word: &str) -> String {
    if count == 1 {
        format!("1 {word}")
    } else {
        format!("{count} {word}s")
    }
}

fn report<'a>(sources: &'a Sources, diagnostic: &'a Diagnostic) -> Vec<Group<'a>> {
    let level = match diagnostic.severity() {
        Severity::Error => Level::ERROR,
        Severity::Warning => Level::WARNING,
    };
    let mut primary = AnnotationKind::Primary.span(diagnostic.span.range());
    if let Some(label) = &diagnostic.primary_label {
        primary = primary.label(label.as_str());
    }
    let mut by_file: Vec<(SourceId, Vec<annotate_snippets::Annotation<'a>>)> =
        vec![(diagnostic.span.source, vec![primary])];
    for label in &diagnostic.labels {
        let annotation = AnnotationKind::Context
            .span(label.span.range())
            .label(label.message.as_str());
        match by_file
            .iter_mut()
            .find(|(source, _)| *source == label.span.source)
        {
            Some((_, annotations)) => annotations.push(annotation),
            None => by_file.push((label.span.source, vec![annotation])),
        }
    }
    let title = level
        .primary_title(diagnostic.message.as_str())
        .id(diagnostic.code.as_str());
    let mut group = Group::with_title(title);
    for (source, annotations) in by_file {
        let file = sources.get(source);
        group = group.element(
            Snippet::source(file.text())
                .path(file.name())
                .annotations(annotations),
        );
    }
    if let Some(help) = &diagnostic.help {
        group = group.element(Level::HELP.message(help.as_str()));
    }
    vec![group]
}

/// The JSON form of CLI.md.
#[derive(Debug, Serialize)]
pub struct JsonDiagnostic<'a> {
    code: &'static str,
    severity: &'static str,
    message: &'a str,
    file: &'a str,
    line: u32,
    column: u32,
    end_line: u32,
    end_column: u32,
    help: Option<&'a str>,
}

/// A diagnostic in CLI.md's JSON shape.
pub fn json<'a>(sources: &'a Sources, diagnostic: &'a Diagnostic) -> JsonDiagnostic<'a> {
    let location = sources.location(diagnostic.span);
    JsonDiagnostic {
        code: diagnostic.code.as_str(),
        severity: diagnostic.severity().as_str(),
        message: &diagnostic.message,
        file: location.file,
        line: location.start.line,
        column: location.start.column,
        end_line: location.end.line,
        end_column: location.end.column,
        help: diagnostic.help.as_deref(),
    }
}

/// One SARIF 2.1.0 log with one run over every policy checked.
pub fn sarif(checked: &[(Sources, Vec<Diagnostic>)]) -> Value {
    let rules: Vec<Value> = Code::ALL.iter().map(|code| sarif_rule(*code)).collect();
    let results: Vec<Value> = checked
        .iter()
        .flat_map(|(sources, diagnostics)| {
            diagnostics
                .iter()
                .map(move |diagnostic| sarif_result(sources, diagnostic))
        })
        .collect();
    json!({
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "version": "2.1.0",
        "runs": [{
            "tool": {"driver": {
                "name": "toolgate",
                "version": env!("CARGO_PKG_VERSION"),
                "rules": rules,
            }},
            "results": results,
        }]
    })
}

fn sarif_rule(code: Code) -> Value {
    let level = match code.severity() {
        Severity::Error => "error",
        Severity::Warning => "warning",
    };
    json!({
        "id": code.as_str(),
        "name": code.title().replace(' ', "-"),
        "shortDescription": {"text": code.title()},
        "fullDescription": {"text": code.title()},
        "help": {"text": format!("see docs/diagnostics.md#{}", code.as_str().to_lowercase())},
        "defaultConfiguration": {"level": level},
    })
}

fn sarif_result(sources: &Sources, diagnostic: &Diagnostic) -> Value {
    let location = sources.location(diagnostic.span);
    let mut message = diagnostic.message.clone();
    if let Some(help) = &diagnostic.help {
        message.push_str("\nhelp: ");
        message.push_str(help);
    }
    json!({
        "ruleId": diagnostic.code.as_str(),
        "ruleIndex": Code::ALL.iter().position(|code| *code == diagnostic.code),
        "level": diagnostic.severity().as_str(),
        "message": {"text": message},
        "locations": [physical_location(location)],
        "relatedLocations": diagnostic.labels.iter().enumerate().map(|(id, label)| {
            let mut related = physical_location(sources.location(label.span));
            related["id"] = json!(id);
            related["message"] = json!({"text": label.message});
            related
        }).collect::<Vec<_>>(),
    })
}

fn physical_location(location: toolgate::source::Location<'_>) -> Value {
    json!({
        "physicalLocation": {
            "artifactLocation": {"uri": location.file.replace('\\', "/")},
            "region": {
                "startLine": location.start.line,
                "startColumn": location.start.column,
                "endLine": location.end.line,
                "endColumn": location.end.column.max(1),
            }
        }
    })
}
