//! One self-contained HTML page: no external resource, the style and a small script
//! inline. The table has a sticky header row and first column; clicking a column's
//! header sorts the roles by that column (allow first, again for deny first), clicking
//! `role` restores policy order; two inputs filter roles and names. Each action of a
//! cell is a coloured badge whose title gives the verdict, the condition and the rules;
//! conditions are also listed, numbered, below the table.

use std::fmt::Write;

use super::{row_cells, Conditions, Header};
use crate::matrix::{Cell, Matrix, Verdict};
use crate::visible::visible;

const STYLE: &str = include_str!("page.css");
const SCRIPT: &str = include_str!("page.js");

/// The matrix as one HTML page.
pub fn html(matrix: &Matrix, header: &Header) -> String {
    let conditions = Conditions::of(matrix);
    let file_name = header
        .policy
        .rsplit(['/', '\\'])
        .next()
        .unwrap_or(&header.policy);
    let mut page = String::with_capacity(16 * 1024);
    let _ = write!(
        page,
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
         <title>Decision table: {}</title>\n<style>\n{STYLE}</style>\n</head>\n<body>\n",
        escape(file_name)
    );
    heading(&mut page, matrix, header);
    page.push_str("<main>\n<div class=\"scroll\">\n");
    table(&mut page, matrix, &conditions);
    page.push_str("</div>\n");
    condition_list(&mut page, matrix, &conditions);
    let _ = write!(
        page,
        "</main>\n<script>\n{SCRIPT}</script>\n</body>\n</html>\n"
    );
    page
}

fn heading(page: &mut String, matrix: &Matrix, header: &Header) {
    let use_action = matrix.kind.use_action().keyword();
    let plural = matrix.kind.plural();
    let _ = writeln!(
        page,
        "<header>\n<h1>Decision table of <code>{}</code></h1>",
        escape(&header.policy)
    );
    let digest = header
        .digest
        .as_deref()
        .map(|digest| {
            format!(
                "sha256 <code id=\"digest\">{}</code> &middot; ",
                escape(digest)
            )
        })
        .unwrap_or_default();
    let _ = writeln!(
        page,
        "<p class=\"meta\">{digest}{} roles &times; {} {plural} &middot; \
         each cell: <b>{use_action}</b>, then <b>list</b>, for a principal holding \
         exactly the row's role, whatever its scopes, claims, client, address and time</p>",
        matrix.roles.len(),
        matrix.names.len(),
    );
    let _ = writeln!(
        page,
        "<ul class=\"legend\">\
         <li><span class=\"v allow\">\u{2713}</span>allow: every such request is allowed</li>\
         <li><span class=\"v deny\">\u{2717}</span>deny: every such request is denied</li>\
         <li><span class=\"v conditional\">~N</span>conditional: condition N below \
         (also on hover)</li></ul>"
    );
    let _ = writeln!(
        page,
        "<div class=\"controls\">\
         <label>Roles <input id=\"role-filter\" type=\"search\" placeholder=\"filter roles\"></label>\
         <label>{} <input id=\"tool-filter\" type=\"search\" placeholder=\"filter {plural}\"></label>\
         <span id=\"shown\"></span></div>\n</header>",
        capitalised(plural)
    );
}

fn table(page: &mut String, matrix: &Matrix, conditions: &Conditions<'_>) {
    let _ = write!(
        page,
        "<table id=\"matrix\" data-plural=\"{}\">\n<thead><tr>\
         <th scope=\"col\"><button type=\"button\" title=\"policy order\">role</button></th>",
        matrix.kind.plural()
    );
    for name in &matrix.names {
        let _ = write!(
            page,
            "<th scope=\"col\" data-tool=\"{0}\"><button type=\"button\" \
             title=\"sort by {0}\">{1}</button></th>",
            escape(name),
            breakable(name)
        );
    }
    page.push_str("</tr></thead>\n<tbody>\n");
    for (index, row) in matrix.roles.iter().enumerate() {
        let inherited = row.inherited();
        let note = match (row.role, inherited.is_empty()) {
            (None, _) => "no role".to_string(),
            (Some(_), true) => String::new(),
            (Some(_), false) => format!("inherits {}", inherited.join(", ")),
        };
        let _ = write!(
            page,
            "<tr data-role=\"{0}\" data-order=\"{index}\"><th scope=\"row\">{0}\
             <span class=\"inherits\">{1}</span></th>",
            escape(&row.name),
            escape(&note)
        );
        for (name, using, listing) in row_cells(matrix, index) {
            let rank = verdict_rank(using.verdict) * 3 + verdict_rank(listing.verdict);
            let _ = write!(
                page,
                "<td data-tool=\"{}\" data-rank=\"{rank}\">",
                escape(name)
            );
            badge(page, using, conditions);
            badge(page, listing, conditions);
            page.push_str("</td>");
        }
        page.push_str("</tr>\n");
    }
    page.push_str("</tbody>\n</table>\n");
}

fn badge(page: &mut String, cell: &Cell, conditions: &Conditions<'_>) {
    let action = cell.action.keyword();
    let mut title = format!("{action}: {}", cell.verdict.as_str());
    if !cell.condition.is_empty() {
        let _ = write!(title, " \u{2014} {}", cell.condition);
    }
    if !cell.rules.is_empty() {
        let _ = write!(title, "\nrules: {}", cell.rules.join(", "));
    }
    let class = cell.verdict.as_str();
    let _ = write!(
        page,
        "<span class=\"v {class}\" title=\"{}\">",
        escape(&title)
    );
    match (cell.verdict, conditions.number(cell)) {
        (Verdict::Conditional, Some(number)) => {
            let _ = write!(page, "<a href=\"#c{number}\">{action} ~{number}</a>");
        }
        (Verdict::Allow, _) => {
            let _ = write!(page, "{action} \u{2713}");
        }
        _ => {
            let _ = write!(page, "{action} \u{2717}");
        }
    }
    page.push_str("</span>");
}

fn condition_list(page: &mut String, matrix: &Matrix, conditions: &Conditions<'_>) {
    if conditions.texts.is_empty() {
        return;
    }
    page.push_str("<section id=\"conditions\">\n<h2>Conditions</h2>\n<ol>\n");
    for (index, text) in conditions.texts.iter().enumerate() {
        let number = index + 1;
        let cells: Vec<&Cell> = matrix
            .cells
            .iter()
            .filter(|cell| conditions.number(cell) == Some(number))
            .collect();
        let rules = grouped_rules(cells.iter().flat_map(|cell| &cell.rules));
        let count = if cells.len() == 1 {
            "1 cell".to_string()
        } else {
            format!("{} cells", cells.len())
        };
        let _ = writeln!(
            page,
            "<li id=\"c{number}\"><span class=\"n\">~{number}</span><div>{}\
             <span class=\"rules\">{count}; {}</span></div></li>",
            with_code(text),
            escape(&rules)
        );
    }
    page.push_str("</ol>\n</section>\n");
}

/// `FILE:LINE` rules as `FILE lines A, B` per file, lines ascending.
fn grouped_rules<'r>(rules: impl Iterator<Item = &'r String>) -> String {
    let mut by_file: Vec<(&str, Vec<u32>)> = Vec::new();
    for rule in rules {
        let Some((file, line)) = rule.rsplit_once(':') else {
            continue;
        };
        let Ok(line) = line.parse::<u32>() else {
            continue;
        };
        match by_file.iter_mut().find(|(name, _)| *name == file) {
            Some((_, lines)) => lines.push(line),
            None => by_file.push((file, vec![line])),
        }
    }
    let groups: Vec<String> = by_file
        .into_iter()
        .map(|(file, mut lines)| {
            lines.sort_unstable();
            lines.dedup();
            let numbers: Vec<String> = lines.iter().map(u32::to_string).collect();
            let noun = if numbers.len() == 1 { "line" } else { "lines" };
            format!("{file} {noun} {}", numbers.join(", "))
        })
        .collect();
    groups.join("; ")
}

fn verdict_rank(verdict: Verdict) -> u8 {
    match verdict {
        Verdict::Allow => 0,
        Verdict::Conditional => 1,
        Verdict::Deny => 2,
    }
}

/// The text escaped, with `` `quoted` `` parts set as code.
fn with_code(text: &str) -> String {
    text.split('`')
        .enumerate()
        .map(|(index, part)| {
            if index % 2 == 1 {
                format!("<code>{}</code>", escape(part))
            } else {
                escape(part)
            }
        })
        .collect()
}

/// The name escaped, with a line-break opportunity after each `.`, `_` and `/`.
fn breakable(name: &str) -> String {
    let mut out = String::new();
    for character in visible(name).chars() {
        out.push_str(&escape(character.encode_utf8(&mut [0; 4])));
        if matches!(character, '.' | '_' | '/') {
            out.push_str("<wbr>");
        }
    }
    out
}

fn capitalised(word: &str) -> String {
    let mut characters = word.chars();
    characters
        .next()
        .map(|first| first.to_uppercase().chain(characters).collect())
        .unwrap_or_default()
}

/// Text for HTML content and attribute values: line feeds (the page's own, in titles)
/// as `&#10;`, every other control or bidirectional formatting character as the
/// symbol [`visible`] shows it (a tool name cannot reorder the page's text).
fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for (index, line) in text.split('\n').enumerate() {
        if index > 0 {
            out.push_str("&#10;");
        }
        for character in visible(line).chars() {
            match character {
                '&' => out.push_str("&amp;"),
                '<' => out.push_str("&lt;"),
                '>' => out.push_str("&gt;"),
                '"' => out.push_str("&quot;"),
                '\'' => out.push_str("&#39;"),
                other => out.push(other),
            }
        }
    }
    out
}
