//! Go to definition, find references and hover, for roles, scopes, networks and windows,
//! across every file of the policy.

use lsp_types::{
    GotoDefinitionParams, GotoDefinitionResponse, Hover, HoverContents, HoverParams, Location,
    MarkupContent, MarkupKind, ReferenceParams, TextDocumentPositionParams,
};
use toolgate::unstable::explain::one_line;
use toolgate::unstable::source::SourceId;
use toolgate::unstable::symbols::{Facts, Occurrence};
use toolgate::Span;

use super::workspace::{Analysis, Workspace};

/// The analysis of the document a request is about and the name at its position.
fn symbol_at<'w>(
    workspace: &'w mut Workspace,
    at: &TextDocumentPositionParams,
) -> Option<(&'w Analysis, Occurrence)> {
    let analysis = workspace.analysis_for(&at.text_document.uri)?;
    let (index, file) = analysis.file(&at.text_document.uri)?;
    let offset = file.text.offset(at.position)?;
    let source = SourceId(u32::try_from(index).ok()?);
    let occurrence = analysis.symbols.at(source, offset)?.clone();
    Some((analysis, occurrence))
}

/// Where a span is, as the protocol says it.
fn location(analysis: &Analysis, span: Span) -> Option<Location> {
    let file = analysis.files.get(span.source.0 as usize)?;
    Some(Location::new(
        file.uri.clone(),
        file.text.range(span.range()),
    ))
}

/// `textDocument/definition`: where the name under the cursor is declared.
pub fn definition(
    workspace: &mut Workspace,
    params: &GotoDefinitionParams,
) -> Option<GotoDefinitionResponse> {
    let (analysis, occurrence) = symbol_at(workspace, &params.text_document_position_params)?;
    let locations: Vec<Location> = analysis
        .symbols
        .declarations(occurrence.kind, &occurrence.name)
        .into_iter()
        .filter_map(|span| location(analysis, span))
        .collect();
    (!locations.is_empty()).then_some(GotoDefinitionResponse::Array(locations))
}

/// `textDocument/references`: every place the name under the cursor is written.
pub fn references(workspace: &mut Workspace, params: &ReferenceParams) -> Option<Vec<Location>> {
    let (analysis, occurrence) = symbol_at(workspace, &params.text_document_position)?;
    let declarations = params.context.include_declaration;
    Some(
        analysis
            .symbols
            .references(occurrence.kind, &occurrence.name)
            .into_iter()
            .filter(|o| declarations || !o.declaration)
            .filter_map(|o| location(analysis, o.span))
            .collect(),
    )
}

/// `textDocument/hover`: what the name under the cursor is (Markdown).
pub fn hover(workspace: &mut Workspace, params: &HoverParams) -> Option<Hover> {
    let (analysis, occurrence) = symbol_at(workspace, &params.text_document_position_params)?;
    let facts = analysis.symbols.facts(occurrence.kind, &occurrence.name);
    let text = match facts {
        Some(facts) => describe(analysis, &facts),
        None => format!(
            "**{}** `{}`\n\nnot declared",
            occurrence.kind.keyword(),
            occurrence.name
        ),
    };
    let file = analysis.files.get(occurrence.span.source.0 as usize)?;
    Some(Hover {
        contents: HoverContents::Markup(MarkupContent {
            kind: MarkupKind::Markdown,
            value: text,
        }),
        range: Some(file.text.range(occurrence.span.range())),
    })
}

/// A statement on one line with where it is: `` `allow ...` (file:line) ``.
fn statement(analysis: &Analysis, span: Span) -> String {
    let location = analysis.sources.location(span);
    let name = std::path::Path::new(location.file)
        .file_name()
        .map_or_else(|| location.file.to_string(), |n| n.to_string_lossy().into());
    format!(
        "`{}` ({name}:{})",
        one_line(analysis.sources.text(span)),
        location.start.line
    )
}

fn quoted(names: &[String]) -> String {
    names
        .iter()
        .map(|name| format!("`{name}`"))
        .collect::<Vec<_>>()
        .join(", ")
}

fn describe(analysis: &Analysis, facts: &Facts) -> String {
    let mut lines = Vec::new();
    match facts {
        Facts::Role(role) => {
            lines.push(format!("**role** `{}`", role.name));
            lines.push(String::new());
            if role.parents.is_empty() {
                lines.push("inherits no role".to_string());
            } else {
                lines.push(format!("inherits {}", quoted(&role.parents)));
                let further: Vec<String> = role
                    .inherited
                    .iter()
                    .filter(|r| !role.parents.contains(r))
                    .cloned()
                    .collect();
                if !further.is_empty() {
                    lines.push(String::new());
                    lines.push(format!("and through them {}", quoted(&further)));
                }
            }
            if !role.aka.is_empty() {
                lines.push(String::new());
                let aka: Vec<String> = role.aka.iter().map(|a| format!("\"{a}\"")).collect();
                lines.push(format!("aka {}", quoted(&aka)));
            }
            lines.push(String::new());
            if role.rules.is_empty() {
                lines.push("no rule applies to it".to_string());
            } else {
                lines.push(
                    "**Effective permissions** (the rules that apply, in policy order):".into(),
                );
                lines.push(String::new());
                for grant in &role.rules {
                    let through = match &grant.through {
                        Some(name) if *name == role.name => String::new(),
                        Some(name) => format!(" (through `{name}`)"),
                        None => " (anyone)".to_string(),
                    };
                    lines.push(format!("- {}{through}", statement(analysis, grant.span)));
                }
            }
        }
        Facts::Scope(scope) => {
            let declared = if scope.declared {
                "declared"
            } else {
                "used but not declared"
            };
            lines.push(format!("**scope** `\"{}\"` ({declared})", scope.name));
            lines.push(String::new());
            if scope.implies.is_empty() {
                lines.push("implies no other scope".to_string());
            } else {
                lines.push(format!("implies {}", quoted(&scope.implies)));
            }
            if !scope.implied_by.is_empty() {
                lines.push(String::new());
                lines.push(format!("implied by {}", quoted(&scope.implied_by)));
            }
            if !scope.required_by.is_empty() {
                lines.push(String::new());
                lines.push("required by:".to_string());
                lines.push(String::new());
                for span in &scope.required_by {
                    lines.push(format!("- {}", statement(analysis, *span)));
                }
            }
        }
        Facts::Network(network) => {
            lines.push(format!("**network** `{}`", network.name));
            lines.push(String::new());
            lines.push(format!("ranges: {}", quoted(&network.ranges)));
        }
        Facts::Window(window) => {
            lines.push(format!("**window** `{}`", window.name));
            lines.push(String::new());
            lines.push(window.words.clone());
        }
    }
    lines.join("\n")
}
