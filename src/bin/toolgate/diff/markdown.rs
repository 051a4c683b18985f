//! `toolgate diff --format markdown`: a pull-request comment. A summary line, what was
//! compared and how exactly, then one table per kind and action, a row per changed cell.

use toolgate::unstable::diff::{CellSide, Change, Diff};
use toolgate::unstable::matrix::Verdict;
use toolgate::unstable::visible::visible;

use super::{no_changes, outcomes_text, request_text, scope_notes, Header};

/// The comment.
pub fn render(diff: &Diff, header: &Header) -> String {
    if diff.is_empty() {
        return format!("**toolgate diff**: {}\n", text(&no_changes(diff, header)));
    }
    let mut roles: Vec<&str> = diff.changes.iter().map(|c| c.row.as_str()).collect();
    roles.sort_unstable();
    roles.dedup();
    let mut out = format!(
        "**toolgate diff**: {} of {} cells changed (roles: {})\n\n",
        diff.changes.len(),
        diff.cells,
        roles
            .iter()
            .map(|role| code(role))
            .collect::<Vec<_>>()
            .join(", ")
    );
    out.push_str(&format!(
        "{} → {}\n\n",
        code(&header.old),
        code(&header.new)
    ));
    for (kind, action) in groups(diff) {
        out.push_str(&format!("#### {} {}\n\n", action.keyword(), kind.plural()));
        out.push_str("| role | name | old | new | witness |\n|---|---|---|---|---|\n");
        let rows = diff
            .changes
            .iter()
            .filter(|change| change.kind == kind && change.action == action);
        for change in rows {
            out.push_str(&row(change));
        }
        out.push('\n');
    }
    out.push_str("<details><summary>What this compares</summary>\n\n");
    for note in scope_notes(diff, header) {
        out.push_str(&format!("- {}\n", text(&note)));
    }
    out.push_str("\n</details>\n");
    out
}

/// The (kind, action) pairs with changes, in the order they first appear.
fn groups(diff: &Diff) -> Vec<(toolgate::Kind, toolgate::Action)> {
    let mut groups = Vec::new();
    for change in &diff.changes {
        let group = (change.kind, change.action);
        if !groups.contains(&group) {
            groups.push(group);
        }
    }
    groups
}

fn row(change: &Change) -> String {
    let mut name = code(&change.name);
    if let Some(pattern) = &change.pattern {
        name.push_str(&format!(" (for {})", code(pattern)));
    }
    let witness = match &change.witness {
        Some(witness) => format!(
            "{}<br>{}",
            text(&outcomes_text(witness)),
            code(&request_text(change, witness))
        ),
        None => "no witness found".to_string(),
    };
    format!(
        "| {} | {name} | {} | {} | {witness} |\n",
        code(&change.row),
        side(&change.old),
        side(&change.new)
    )
}

fn side(side: &CellSide) -> String {
    let symbol = match side.verdict {
        Verdict::Allow => "✅ allow",
        Verdict::Deny => "⛔ deny",
        Verdict::Conditional => "⚠️ conditional",
    };
    let mut cell = symbol.to_string();
    if side.verdict == Verdict::Conditional && !side.condition.is_empty() {
        cell.push_str(&format!(": {}", text(&side.condition)));
    }
    if !side.rules.is_empty() {
        let rules: Vec<String> = side.rules.iter().map(|rule| code(rule)).collect();
        cell.push_str(&format!("<br>{}", rules.join(" ")));
    }
    cell
}

/// Text for a table cell: control characters shown, Markdown and HTML kept literal.
fn text(value: &str) -> String {
    let mut out = String::new();
    for character in visible(value).chars() {
        match character {
            '|' => out.push_str("\\|"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '&' => out.push_str("&amp;"),
            '\\' | '`' | '*' | '_' | '[' | ']' | '#' => {
                out.push('\\');
                out.push(character);
            }
            other => out.push(other),
        }
    }
    out
}

/// An inline code span holding `value` literally (pipes escaped for the table).
fn code(value: &str) -> String {
    let shown = visible(value).replace('|', "\\|");
    let mut fence = String::from("`");
    while shown.contains(fence.as_str()) {
        fence.push('`');
    }
    let pad = if shown.starts_with('`') || shown.ends_with('`') {
        " "
    } else {
        ""
    };
    format!("{fence}{pad}{shown}{pad}{fence}")
}
