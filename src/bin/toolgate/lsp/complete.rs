//! Completion: the names declared in the policy where a name of their kind goes, and the
//! language's keywords where a statement or a condition goes.

use lsp_types::{
    CompletionItem, CompletionItemKind, CompletionParams, CompletionResponse, CompletionTextEdit,
    Position, Range, TextEdit,
};
use toolgate::unstable::ast::quote;
use toolgate::unstable::symbols::{expected_at, Expected, SymbolKind, KEYWORDS};

use super::workspace::Workspace;

/// `textDocument/completion`.
pub fn completion(
    workspace: &mut Workspace,
    params: &CompletionParams,
) -> Option<CompletionResponse> {
    let at = &params.text_document_position;
    let analysis = workspace.analysis_for(&at.text_document.uri)?;
    let (_, file) = analysis.file(&at.text_document.uri)?;
    let offset = file.text.offset(at.position)?;
    let text = file.text.as_str();
    let symbols = &analysis.symbols;
    let names = |kind: SymbolKind, item_kind: CompletionItemKind| {
        symbols
            .names(kind)
            .into_iter()
            .map(move |name| CompletionItem {
                label: name.to_string(),
                kind: Some(item_kind),
                detail: Some(kind.keyword().to_string()),
                ..CompletionItem::default()
            })
    };
    let keyword = |word: &str| CompletionItem {
        label: word.to_string(),
        kind: Some(CompletionItemKind::KEYWORD),
        ..CompletionItem::default()
    };
    let items: Vec<CompletionItem> = match expected_at(text, offset) {
        Expected::Role => names(SymbolKind::Role, CompletionItemKind::CLASS)
            .chain(std::iter::once(keyword("anyone")))
            .collect(),
        Expected::Network => names(SymbolKind::Network, CompletionItemKind::INTERFACE).collect(),
        Expected::Window => names(SymbolKind::Window, CompletionItemKind::EVENT).collect(),
        Expected::Scope => {
            // Replace the string typed so far, quotes included.
            let before = text.get(..offset).unwrap_or("");
            let quote_at = before.rfind('"').unwrap_or(offset);
            let typed = Range::new(file.text.position(quote_at), at.position);
            let closed = text.get(offset..).is_some_and(|rest| rest.starts_with('"'));
            let replaced = if closed {
                Range::new(
                    typed.start,
                    Position::new(at.position.line, at.position.character.saturating_add(1)),
                )
            } else {
                typed
            };
            symbols
                .names(SymbolKind::Scope)
                .into_iter()
                .map(|name| CompletionItem {
                    label: name.to_string(),
                    kind: Some(CompletionItemKind::CONSTANT),
                    detail: Some("scope".to_string()),
                    filter_text: Some(format!("\"{name}")),
                    text_edit: Some(CompletionTextEdit::Edit(TextEdit::new(
                        replaced,
                        quote(name),
                    ))),
                    ..CompletionItem::default()
                })
                .collect()
        }
        Expected::Nothing => Vec::new(),
        Expected::Anything => KEYWORDS
            .iter()
            .map(|word| keyword(word))
            .chain(names(SymbolKind::Role, CompletionItemKind::CLASS))
            .collect(),
    };
    Some(CompletionResponse::Array(items))
}
