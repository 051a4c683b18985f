//! W009: an `arg` path that no tool the rule matches declares in its `inputSchema`
//! (docs/language.md, "Arguments"). Only tool rules are judged, only against listed tools
//! that declare an `inputSchema`; a rule matching none of those is not judged.

use super::manifest::Property;
use super::{Body, Cond, Statement, ToolManifest};
use crate::ast::Kind;
use crate::diagnostic::{did_you_mean, Code, Diagnostic};

/// The W009s of `statements` against the tools of `manifest`.
pub(super) fn undeclared_arguments(
    statements: &[Statement],
    manifest: &ToolManifest,
) -> Vec<Diagnostic> {
    let mut found = Vec::new();
    for statement in statements {
        let Body::Rule {
            condition: Some(condition),
            ..
        } = &statement.body
        else {
            continue;
        };
        if statement.kind != Kind::Tool {
            continue;
        }
        let declared: Vec<&[Property]> = manifest
            .tools
            .iter()
            .filter(|tool| {
                statement
                    .patterns
                    .iter()
                    .any(|(glob, _)| glob.is_match(&tool.name))
            })
            .filter_map(|tool| tool.properties.as_deref())
            .collect();
        if declared.is_empty() {
            continue;
        }
        condition.each_arg(|atom, test, _| {
            let path = &test.path;
            let names = candidates(path);
            let known = declared
                .iter()
                .any(|properties| properties.iter().any(|p| names.contains(&p.name.as_str())));
            if !known {
                found.push(diagnostic(atom, path, &declared));
            }
        });
    }
    found
}

/// The property names a path may name: the whole path, and its first `.` segment (for
/// a pointer, its first segment).
fn candidates(path: &crate::claim_path::ClaimPath) -> Vec<&str> {
    if path.is_pointer() {
        return vec![path.first_segment()];
    }
    let text = path.as_str();
    let first = text.split('.').next().unwrap_or(text);
    vec![text, first]
}

fn diagnostic(
    atom: &Cond,
    path: &crate::claim_path::ClaimPath,
    declared: &[&[Property]],
) -> Diagnostic {
    let mut properties: Vec<&str> = declared
        .iter()
        .flat_map(|properties| properties.iter().map(|property| property.name.as_str()))
        .collect();
    properties.sort_unstable();
    properties.dedup();
    let shown = candidates(path).last().copied().unwrap_or_default();
    let diagnostic = Diagnostic::new(
        Code::W009,
        atom.span,
        format!(
            "no tool this rule matches declares argument `{}`",
            path.as_str()
        ),
    );
    match did_you_mean(shown, properties.iter().copied()) {
        Some(suggestion) => diagnostic.with_help(suggestion),
        None if properties.is_empty() => {
            diagnostic.with_help("the matched tools' `inputSchema` declares no properties")
        }
        None => diagnostic.with_help(format!(
            "the matched tools declare {}",
            properties
                .iter()
                .map(|name| format!("`{name}`"))
                .collect::<Vec<_>>()
                .join(", ")
        )),
    }
}
