//! Edits: formatting (`toolgate fmt`'s formatter) and the quick fixes that apply a
//! diagnostic's "did you mean `x`?".

use std::collections::HashMap;

use lsp_types::{
    CodeAction, CodeActionKind, CodeActionOrCommand, CodeActionParams, DocumentFormattingParams,
    TextEdit, WorkspaceEdit,
};
use toolgate::unstable::format;
use toolgate::unstable::symbols::suggested_replacement;

use super::diagnostics::convert;
use super::workspace::Workspace;

/// `textDocument/formatting`: one edit replacing the document with its canonical layout,
/// none when it is formatted already. A document with syntax errors is not formatted
/// (no edit, never a garbled file); neither is one that is not open.
pub fn formatting(
    workspace: &Workspace,
    params: &DocumentFormattingParams,
) -> Option<Vec<TextEdit>> {
    let text = workspace.document(&params.text_document.uri)?;
    let formatted = format::format(text.as_str()).ok()?;
    if formatted == text.as_str() {
        return Some(Vec::new());
    }
    Some(vec![TextEdit::new(text.whole(), formatted)])
}

/// `textDocument/codeAction`: for each diagnostic of the document in the range asked
/// about that suggests a name, a quick fix writing the name in place of the underlined
/// text.
pub fn code_actions(
    workspace: &mut Workspace,
    params: &CodeActionParams,
) -> Option<Vec<CodeActionOrCommand>> {
    let uri = &params.text_document.uri;
    let analysis = workspace.analysis_for(uri)?;
    let (index, file) = analysis.file(uri)?;
    let asked = (
        file.text.offset(params.range.start)?,
        file.text.offset(params.range.end)?,
    );
    let actions = analysis
        .diagnostics
        .iter()
        .filter(|d| d.span.source.0 as usize == index)
        .filter(|d| d.span.start as usize <= asked.1 && asked.0 <= d.span.end as usize)
        .filter_map(|diagnostic| {
            let underlined = file.text.as_str().get(diagnostic.span.range())?;
            let replacement = suggested_replacement(diagnostic, underlined)?;
            let edit = TextEdit::new(
                file.text.range(diagnostic.span.range()),
                replacement.clone(),
            );
            Some(CodeActionOrCommand::CodeAction(CodeAction {
                title: format!("Replace with `{replacement}`"),
                kind: Some(CodeActionKind::QUICKFIX),
                diagnostics: Some(vec![convert(analysis, diagnostic)]),
                edit: Some(WorkspaceEdit {
                    changes: Some(HashMap::from([(uri.clone(), vec![edit])])),
                    ..WorkspaceEdit::default()
                }),
                is_preferred: Some(true),
                ..CodeAction::default()
            }))
        })
        .collect();
    Some(actions)
}
