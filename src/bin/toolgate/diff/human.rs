//! `toolgate diff --format human`: a header saying what was compared and how exactly,
//! then one block per changed cell.

use toolgate::unstable::diff::{Change, Diff};
use toolgate::unstable::visible::visible;

use super::{no_changes, outcomes_text, request_text, scope_notes, verdict_text, Header};

/// The whole text.
pub fn render(diff: &Diff, header: &Header) -> String {
    if diff.is_empty() {
        return no_changes(diff, header) + "\n";
    }
    let mut out = String::new();
    out.push_str(&format!(
        "diff of {} (old, sha256 {}) and {} (new, sha256 {})\n",
        visible(&header.old),
        header.old_digest,
        visible(&header.new),
        header.new_digest
    ));
    out.push_str(&format!("rows: {}\n", rows(diff)));
    for note in scope_notes(diff, header) {
        out.push_str(&format!("note: {note}\n"));
    }
    let cells = if diff.changes.len() == 1 {
        "cell"
    } else {
        "cells"
    };
    out.push_str(&format!(
        "{} changed {cells} of {} compared\n",
        diff.changes.len(),
        diff.cells
    ));
    for change in &diff.changes {
        out.push('\n');
        block(change, &mut out);
    }
    out
}

/// `anyone, admin, auditor (only in new)`.
fn rows(diff: &Diff) -> String {
    diff.rows
        .iter()
        .map(|row| {
            let name = visible(&row.name);
            match (row.in_old, row.in_new) {
                (true, false) => format!("{name} (only in old)"),
                (false, true) => format!("{name} (only in new)"),
                _ => name.into_owned(),
            }
        })
        .collect::<Vec<_>>()
        .join(", ")
}

fn block(change: &Change, out: &mut String) {
    let pattern = change
        .pattern
        .as_deref()
        .map(|pattern| format!(" (standing for `{}`)", visible(pattern)))
        .unwrap_or_default();
    out.push_str(&format!(
        "{}: {} {} `{}`{pattern}\n",
        visible(&change.row),
        change.action.keyword(),
        change.kind.singular(),
        visible(&change.name)
    ));
    for (label, side) in [("old", &change.old), ("new", &change.new)] {
        let rules = if side.rules.is_empty() {
            "no rule".to_string()
        } else {
            side.rules.join(", ")
        };
        out.push_str(&format!(
            "  {label}  {}  [{}]\n",
            visible(&verdict_text(side)),
            visible(&rules)
        ));
    }
    match &change.witness {
        Some(witness) => {
            out.push_str(&format!(
                "  witness: {}\n",
                visible(&outcomes_text(witness))
            ));
            out.push_str(&format!(
                "    {}\n",
                visible(&request_text(change, witness))
            ));
        }
        None if change.exact => out.push_str("  no witness found\n"),
        None => out.push_str(
            "  no witness found (the condition reads differently; the search could not try \
             every combination)\n",
        ),
    }
}
