//! Rendering diagnostics: rustc-style text, JSON, and SARIF 2.1.0.

use std::io::IsTerminal;

use annotate_snippets::{AnnotationKind, Group, Level, Renderer, Snippet};
use serde::Serialize;
use serde_json::{json, Value};
use toolgate::unstable::diagnostic::{Code, Diagnostic, Severity};
use toolgate::unstable::source::{SourceId, Sources};

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

/// The JSON form `toolgate check --format json` prints.
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

/// A diagnostic in the JSON shape of `toolgate check --format json`.
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

/// The schema a SARIF log names: OASIS's SARIF 2.1.0 schema (errata 01), the one the
/// tests validate against (`tests/fixtures/sarif-schema-2.1.0.json`).
const SARIF_SCHEMA: &str =
    "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json";

/// The base of relative file names: the directory `toolgate` ran in, which code-scanning
/// services read as the root of the checked-out repository.
const SOURCE_ROOT: &str = "%SRCROOT%";

/// The diagnostics reference: each code's explanation and fix become its rule's help.
const DIAGNOSTICS_DOC: &str = include_str!("../../../docs/diagnostics.md");

/// One SARIF 2.1.0 log with one run over every policy checked.
///
/// Each code is a rule of the driver (with its explanation and fix from
/// `docs/diagnostics.md`); each diagnostic a result with its level, message, region (in
/// characters: `columnKind` is `unicodeCodePoints`) and a `primaryLocationLineHash` that
/// stays the same when the line moves, so code scanning tracks one alert across commits.
pub fn sarif(checked: &[(Sources, Vec<Diagnostic>)]) -> Value {
    let rules: Vec<Value> = Code::ALL.iter().map(|code| sarif_rule(*code)).collect();
    let mut occurrences = std::collections::HashMap::new();
    let results: Vec<Value> = checked
        .iter()
        .flat_map(|(sources, diagnostics)| diagnostics.iter().map(move |d| (sources, d)))
        .map(|(sources, diagnostic)| sarif_result(sources, diagnostic, &mut occurrences))
        .collect();
    let mut run = json!({
        "tool": {"driver": {
            "name": "toolgate",
            "version": env!("CARGO_PKG_VERSION"),
            "semanticVersion": env!("CARGO_PKG_VERSION"),
            "rules": rules,
        }},
        "columnKind": "unicodeCodePoints",
        "results": results,
    });
    if let Some(root) = source_root() {
        set_field(
            &mut run,
            "originalUriBaseIds",
            json!({ SOURCE_ROOT: {"uri": root} }),
        );
    }
    json!({"$schema": SARIF_SCHEMA, "version": "2.1.0", "runs": [run]})
}

fn sarif_rule(code: Code) -> Value {
    let documentation = Documentation::of(code);
    let reference = format!("`{code}` in toolgate's diagnostics reference, `docs/diagnostics.md`");
    let help_text = format!(
        "{}\n\nFix. {}\n\nSee {reference}.",
        documentation.explanation, documentation.fix
    );
    let help_markdown = match &documentation.entry {
        Some(entry) => format!("{entry}\n\nSee {reference}."),
        None => format!(
            "{}\n\n**Fix.** {}\n\nSee {reference}.",
            documentation.explanation, documentation.fix
        ),
    };
    json!({
        "id": code.as_str(),
        "name": rule_name(code.title()),
        "shortDescription": {"text": sentence_case(code.title())},
        "fullDescription": {
            "text": plain_text(&documentation.explanation),
            "markdown": documentation.explanation,
        },
        "help": {"text": plain_text(&help_text), "markdown": help_markdown},
        "defaultConfiguration": {"level": code.severity().as_str()},
        "properties": {"tags": ["policy", "authorization"], "precision": "very-high"},
    })
}

fn sarif_result(
    sources: &Sources,
    diagnostic: &Diagnostic,
    occurrences: &mut std::collections::HashMap<u64, u32>,
) -> Value {
    let location = sources.location(diagnostic.span);
    let line = sources
        .get(diagnostic.span.source)
        .line_text(location.start.line);
    let hash = line_hash(diagnostic.code, location.file, line);
    let occurrence = occurrences.entry(hash).or_insert(0);
    *occurrence += 1;
    let mut message = diagnostic.message.clone();
    if let Some(help) = &diagnostic.help {
        message.push_str("\nhelp: ");
        message.push_str(help);
    }
    let mut result = json!({
        "ruleId": diagnostic.code.as_str(),
        "level": diagnostic.severity().as_str(),
        "message": {"text": message},
        "locations": [physical_location(location)],
        "partialFingerprints": {"primaryLocationLineHash": format!("{hash:016x}:{occurrence}")},
    });
    if let Some(index) = Code::ALL.iter().position(|code| *code == diagnostic.code) {
        set_field(&mut result, "ruleIndex", json!(index));
    }
    if !diagnostic.labels.is_empty() {
        let related: Value = diagnostic
            .labels
            .iter()
            .enumerate()
            .map(|(id, label)| {
                let mut related = physical_location(sources.location(label.span));
                set_field(&mut related, "id", json!(id));
                set_field(&mut related, "message", json!({"text": label.message}));
                related
            })
            .collect();
        set_field(&mut result, "relatedLocations", related);
    }
    result
}

/// Sets `key` of a JSON object built here (indexing a `Value` would panic on a
/// non-object; these are all objects, and a non-object is left as it is).
fn set_field(value: &mut Value, key: &str, field: Value) {
    if let Value::Object(object) = value {
        object.insert(key.to_string(), field);
    }
}

fn physical_location(location: toolgate::unstable::source::Location<'_>) -> Value {
    json!({
        "physicalLocation": {
            "artifactLocation": artifact_location(location.file),
            "region": {
                "startLine": location.start.line,
                "startColumn": location.start.column,
                "endLine": location.end.line,
                "endColumn": location.end.column.max(1),
            }
        }
    })
}

/// A file as SARIF names it: a relative path against [`SOURCE_ROOT`], or a `file:` URI
/// for an absolute path; percent-encoded either way.
fn artifact_location(file: &str) -> Value {
    let slashed = slashed(file);
    if std::path::Path::new(file).is_absolute() {
        return json!({"uri": file_uri(&slashed)});
    }
    let mut relative = slashed.as_str();
    while let Some(rest) = relative.strip_prefix("./") {
        relative = rest;
    }
    let mut uri = encode_path(relative);
    // RFC 3986 4.2: a colon in the first segment would read as a scheme.
    if uri
        .split('/')
        .next()
        .is_some_and(|first| first.contains(':'))
    {
        uri.insert_str(0, "./");
    }
    json!({"uri": uri, "uriBaseId": SOURCE_ROOT})
}

/// The `file:` URI of the directory `toolgate` runs in, ending in `/`.
fn source_root() -> Option<String> {
    let directory = std::env::current_dir().ok()?;
    let mut uri = file_uri(&slashed(directory.to_str()?));
    if !uri.ends_with('/') {
        uri.push('/');
    }
    Some(uri)
}

/// A path with `/` separators (Windows' `\` turned into `/`; elsewhere `\` is a name's).
fn slashed(path: &str) -> String {
    if cfg!(windows) {
        path.replace('\\', "/")
    } else {
        path.to_string()
    }
}

/// `file:///a/b`, `file:///C:/a` or `file://server/share` for an absolute slashed path.
fn file_uri(slashed: &str) -> String {
    let prefix = if slashed.starts_with("//") {
        "file:"
    } else if slashed.starts_with('/') {
        "file://"
    } else {
        "file:///"
    };
    format!("{prefix}{}", encode_path(slashed))
}

/// Percent-encodes every byte of `path` that may not stand in a URI path as it is.
fn encode_path(path: &str) -> String {
    use std::fmt::Write;
    let mut encoded = String::with_capacity(path.len());
    for byte in path.bytes() {
        if byte.is_ascii_alphanumeric() || b"-._~/!$&'()*+,;=:@".contains(&byte) {
            encoded.push(char::from(byte));
        } else {
            let _ = write!(encoded, "%{byte:02X}");
        }
    }
    encoded
}

/// FNV-1a over the code, the file and the trimmed line text: the same wherever the line
/// moves to, and the same across builds and platforms.
fn line_hash(code: Code, file: &str, line: &str) -> u64 {
    let parts = [code.as_str(), file, line.trim()];
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for byte in parts.join("\0").bytes() {
        hash ^= u64::from(byte);
        hash = hash.wrapping_mul(0x0000_0100_0000_01b3);
    }
    hash
}

/// `syntax error` -> `SyntaxError`: SARIF's readable rule identifier.
fn rule_name(title: &str) -> String {
    title
        .split_whitespace()
        .flat_map(|word| {
            let mut characters = word.chars().filter(|c| c.is_ascii_alphanumeric());
            let first = characters.next().map(|c| c.to_ascii_uppercase());
            first.into_iter().chain(characters)
        })
        .collect()
}

/// `syntax error` -> `Syntax error`.
fn sentence_case(text: &str) -> String {
    let mut characters = text.chars();
    characters
        .next()
        .map(|first| first.to_uppercase().chain(characters).collect())
        .unwrap_or_default()
}

/// Markdown as plain text: no bold markers (links are already flattened).
fn plain_text(markdown: &str) -> String {
    markdown.replace("**", "")
}

/// A code's entry in `docs/diagnostics.md`, as Markdown with its links reduced to their
/// text (the reference's relative links lead nowhere from a code-scanning alert).
struct Documentation {
    /// What the code means, without the bold title that opens the paragraph.
    explanation: String,
    /// The paragraph after `**Fix.**`.
    fix: String,
    /// The whole entry: explanation, example, its output, fix and the fixed example.
    entry: Option<String>,
}

impl Documentation {
    /// The entry of `code`; its title and a pointer to the reference if it has none.
    fn of(code: Code) -> Documentation {
        let section = section_lines(DIAGNOSTICS_DOC, code.as_str());
        let paragraphs = prose_paragraphs(&section);
        let explanation = paragraphs
            .iter()
            .filter(|paragraph| !paragraph.starts_with("**Fix.**"))
            .find_map(|paragraph| paragraph.strip_prefix("**")?.split_once("**"))
            .map(|(_, rest)| rest.trim().to_string());
        let fix = paragraphs
            .iter()
            .find_map(|paragraph| paragraph.strip_prefix("**Fix.**"))
            .map(|rest| rest.trim().to_string());
        Documentation {
            explanation: explanation.unwrap_or_else(|| format!("{}.", sentence_case(code.title()))),
            fix: fix.unwrap_or_else(|| "see the code's entry in the reference.".to_string()),
            entry: Some(flatten_links(section.join("\n").trim())).filter(|e| !e.is_empty()),
        }
    }
}

/// The lines of the section headed `### CODE` in the reference, up to the next heading
/// (a `#` inside a code block is no heading).
fn section_lines<'a>(document: &'a str, code: &str) -> Vec<&'a str> {
    let heading = format!("### {code}");
    let mut lines = document
        .lines()
        .skip_while(|line| line.trim_end() != heading);
    lines.next();
    let mut section = Vec::new();
    let mut fenced = false;
    for line in lines {
        if line.starts_with("```") {
            fenced = !fenced;
        } else if !fenced && line.starts_with('#') {
            break;
        }
        section.push(line);
    }
    section
}

/// The prose paragraphs of a section (code blocks left out, links flattened, lines joined).
fn prose_paragraphs(section: &[&str]) -> Vec<String> {
    let mut paragraphs = Vec::new();
    let mut paragraph: Vec<&str> = Vec::new();
    let mut fenced = false;
    for line in section {
        if line.starts_with("```") {
            fenced = !fenced;
        } else if fenced {
            continue;
        } else if !line.trim().is_empty() {
            paragraph.push(line.trim());
            continue;
        }
        if !paragraph.is_empty() {
            paragraphs.push(flatten_links(&paragraph.join(" ")));
            paragraph.clear();
        }
    }
    if !paragraph.is_empty() {
        paragraphs.push(flatten_links(&paragraph.join(" ")));
    }
    paragraphs
}

/// `see the [statements](language.md#statements)` -> `see the statements`.
fn flatten_links(markdown: &str) -> String {
    let mut flat = String::with_capacity(markdown.len());
    let mut rest = markdown;
    while let Some((before, after)) = rest.split_once('[') {
        flat.push_str(before);
        let link = after
            .split_once("](")
            .filter(|(text, _)| !text.contains('['))
            .and_then(|(text, tail)| Some((text, tail.split_once(')')?.1)));
        match link {
            Some((text, tail)) => {
                flat.push_str(text);
                rest = tail;
            }
            None => {
                flat.push('[');
                rest = after;
            }
        }
    }
    flat.push_str(rest);
    flat
}

#[cfg(test)]
mod tests {
    use toolgate::unstable::visible::visible;

    /// The library's `visible` and annotate-snippets (which shows `check`'s source
    /// lines) follow one rule on every character source lines can hold: everything but
    /// tab, line feed and the C1 controls, which `visible` shows and source never does.
    #[test]
    fn visible_agrees_with_the_diagnostic_renderer() {
        let every = (0u32..0x3000)
            .filter_map(char::from_u32)
            .filter(|c| !matches!(c, '\t' | '\n' | '\u{80}'..='\u{9F}'));
        for character in every {
            let text = format!("a{character}b");
            assert_eq!(
                visible(&text),
                annotate_snippets::normalize_untrusted_str(&text),
                "U+{:04X}",
                u32::from(character)
            );
        }
    }
}
