//! Diagnostics as you type: the codes, messages and spans of `toolgate check`, published
//! for every file of the policy a changed document belongs to.

use lsp_types::notification::PublishDiagnostics;
use lsp_types::{
    Diagnostic as LspDiagnostic, DiagnosticRelatedInformation, DiagnosticSeverity, Location,
    NumberOrString, PublishDiagnosticsParams, Url,
};
use toolgate::{Diagnostic, Severity};

use super::workspace::{group_of, Analysis, Group};
use super::Server;

/// Analyses the policy `uri` belongs to again and publishes every file's diagnostics
/// (an empty list for a file without any, which clears what was shown).
pub fn publish(server: &mut Server<'_>, uri: &Url) {
    publish_group(server, &group_of(uri));
}

/// After `uri` closed: its policy is analysed again when another of its documents is
/// open; otherwise its files' diagnostics are cleared.
pub fn closed(server: &mut Server<'_>, uri: &Url) {
    let group = group_of(uri);
    if server.workspace.has_open(&group) {
        publish_group(server, &group);
    } else {
        for file in server.workspace.forget(&group) {
            server.notify::<PublishDiagnostics>(PublishDiagnosticsParams::new(
                file,
                Vec::new(),
                None,
            ));
        }
    }
}

fn publish_group(server: &mut Server<'_>, group: &Group) {
    let before = server.workspace.analysed_files(group);
    let analysis = server.workspace.analyse(group);
    let mut published: Vec<PublishDiagnosticsParams> = analysis
        .files
        .iter()
        .enumerate()
        .map(|(index, file)| {
            let diagnostics = analysis
                .diagnostics
                .iter()
                .filter(|d| d.span.source.0 as usize == index)
                .map(|d| convert(analysis, d))
                .collect();
            PublishDiagnosticsParams::new(file.uri.clone(), diagnostics, None)
        })
        .collect();
    // Files gone from the policy (deleted, renamed) lose what they showed.
    for uri in before {
        if !published.iter().any(|p| p.uri == uri) {
            published.push(PublishDiagnosticsParams::new(uri, Vec::new(), None));
        }
    }
    for params in published {
        server.notify::<PublishDiagnostics>(params);
    }
}

/// A library diagnostic as the protocol's: the code, the message (with the help on a
/// line of its own), the span as a range, the labels as related information.
pub fn convert(analysis: &Analysis, diagnostic: &Diagnostic) -> LspDiagnostic {
    let range = |span: toolgate::Span| {
        analysis
            .files
            .get(span.source.0 as usize)
            .map(|file| file.text.range(span.range()))
            .unwrap_or_default()
    };
    let mut message = diagnostic.message.clone();
    if let Some(help) = &diagnostic.help {
        message.push_str("\nhelp: ");
        message.push_str(help);
    }
    let related: Vec<DiagnosticRelatedInformation> = diagnostic
        .labels
        .iter()
        .filter_map(|label| {
            let file = analysis.files.get(label.span.source.0 as usize)?;
            Some(DiagnosticRelatedInformation {
                location: Location::new(file.uri.clone(), range(label.span)),
                message: label.message.clone(),
            })
        })
        .collect();
    LspDiagnostic {
        range: range(diagnostic.span),
        severity: Some(match diagnostic.severity() {
            Severity::Error => DiagnosticSeverity::ERROR,
            Severity::Warning => DiagnosticSeverity::WARNING,
        }),
        code: Some(NumberOrString::String(diagnostic.code.as_str().to_string())),
        source: Some("toolgate".to_string()),
        message,
        related_information: (!related.is_empty()).then_some(related),
        ..LspDiagnostic::default()
    }
}
