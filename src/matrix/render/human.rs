//! The text grid: roles down, names across, each cell the use action's symbol and
//! `list`'s; one block per role when the grid is wider than the terminal. Conditions
//! are numbered and listed below. Names, roles, conditions and the policy path are
//! shown through [`visible`]: a control character in a server's tool name is printed
//! as a symbol, never sent to the terminal.

use std::fmt::Write;

use super::{row_cells, Conditions, Header};
use crate::matrix::{Cell, Matrix, Verdict};
use crate::visible::visible;

/// How the text is laid out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HumanConfig {
    /// Colour the symbols with ANSI escapes.
    pub colour: bool,
    /// The widest line the grid may take; past it, one block per role.
    pub width: usize,
}

impl Default for HumanConfig {
    fn default() -> HumanConfig {
        HumanConfig {
            colour: false,
            width: 100,
        }
    }
}

/// The matrix as text.
pub fn human(matrix: &Matrix, header: &Header, config: &HumanConfig) -> String {
    let conditions = Conditions::of(matrix);
    let painter = Painter {
        conditions: &conditions,
        colour: config.colour,
    };
    let use_action = matrix.kind.use_action().keyword();
    let mut out = String::new();
    let _ = writeln!(out, "decision table of {}", visible(&header.policy));
    if let Some(digest) = &header.digest {
        let _ = writeln!(out, "sha256 {}", visible(digest));
    }
    let _ = writeln!(
        out,
        "{} roles x {} {}; each cell: {use_action}, then list",
        matrix.roles.len(),
        matrix.names.len(),
        matrix.kind.plural()
    );
    let _ = writeln!(
        out,
        "legend: {} allow  {} deny  {} conditional (condition N below)\n",
        painter.paint(Verdict::Allow, "\u{2713}"),
        painter.paint(Verdict::Deny, "\u{2717}"),
        painter.paint(Verdict::Conditional, "~N"),
    );
    let grid = grid(matrix, &painter);
    if grid.width <= config.width {
        out.push_str(&grid.text);
    } else {
        out.push_str(&blocks(matrix, &painter));
    }
    if !conditions.texts.is_empty() {
        out.push_str("\nconditions\n");
        for (index, text) in conditions.texts.iter().enumerate() {
            let label = format!("~{}", index + 1);
            let _ = writeln!(out, "  {:<5} {}", label, visible(text));
        }
    }
    out
}

struct Painter<'c> {
    conditions: &'c Conditions<'c>,
    colour: bool,
}

impl Painter<'_> {
    /// The cell's symbol: `✓`, `✗` or `~N`.
    fn symbol(&self, cell: &Cell) -> String {
        match cell.verdict {
            Verdict::Allow => "\u{2713}".to_string(),
            Verdict::Deny => "\u{2717}".to_string(),
            Verdict::Conditional => format!("~{}", self.conditions.number(cell).unwrap_or(0)),
        }
    }

    /// The symbol padded to `width` characters, then coloured.
    fn padded(&self, cell: &Cell, width: usize) -> String {
        let symbol = self.symbol(cell);
        let padding = " ".repeat(width.saturating_sub(symbol.chars().count()));
        format!("{}{padding}", self.paint(cell.verdict, &symbol))
    }

    fn paint(&self, verdict: Verdict, text: &str) -> String {
        if !self.colour {
            return text.to_string();
        }
        let code = match verdict {
            Verdict::Allow => "32",
            Verdict::Deny => "31",
            Verdict::Conditional => "33",
        };
        format!("\u{1b}[{code}m{text}\u{1b}[0m")
    }
}

struct Grid {
    text: String,
    width: usize,
}

/// Roles down, names across; a column is as wide as its name or its widest pair.
fn grid(matrix: &Matrix, painter: &Painter<'_>) -> Grid {
    let role_width = matrix
        .roles
        .iter()
        .map(|row| visible(&row.name).chars().count())
        .max()
        .unwrap_or(0)
        .max(4);
    let symbol_width = |cell: &Cell| painter.symbol(cell).chars().count();
    let widths: Vec<usize> = matrix
        .names
        .iter()
        .enumerate()
        .map(|(index, name)| {
            let widest = (0..matrix.roles.len())
                .flat_map(|role| row_cells(matrix, role).nth(index))
                .map(|(_, using, listing)| symbol_width(using).max(3) + 1 + symbol_width(listing))
                .max()
                .unwrap_or(0);
            widest.max(visible(name).chars().count())
        })
        .collect();
    let mut text = format!("{:<role_width$}", "role");
    for (name, width) in matrix.names.iter().zip(&widths) {
        let _ = write!(text, "  {:<width$}", visible(name));
    }
    let line_width = text.chars().count();
    text = text.trim_end().to_string();
    text.push('\n');
    for (role, row) in matrix.roles.iter().enumerate() {
        let mut line = format!("{:<role_width$}", visible(&row.name));
        for ((_, using, listing), width) in row_cells(matrix, role).zip(&widths) {
            let first = symbol_width(using).max(3);
            let pair = format!(
                "{} {}",
                painter.padded(using, first),
                painter.padded(listing, width.saturating_sub(first + 1))
            );
            let _ = write!(line, "  {pair}");
        }
        text.push_str(line.trim_end());
        text.push('\n');
    }
    Grid {
        text,
        width: line_width,
    }
}

/// One block per role: its inherited roles, then a line per name.
fn blocks(matrix: &Matrix, painter: &Painter<'_>) -> String {
    let use_action = matrix.kind.use_action().keyword();
    let name_width = matrix
        .names
        .iter()
        .map(|name| visible(name).chars().count())
        .max()
        .unwrap_or(0);
    let mut out = String::new();
    for (role, row) in matrix.roles.iter().enumerate() {
        if role > 0 {
            out.push('\n');
        }
        let inherited = row.inherited();
        let role_name = visible(&row.name);
        let _ = match (row.role, inherited.is_empty()) {
            (None, _) => writeln!(out, "{role_name} (no role)"),
            (Some(_), true) => writeln!(out, "{role_name}"),
            (Some(_), false) => {
                let inherited = visible(&inherited.join(", ")).into_owned();
                writeln!(out, "{role_name} (inherits {inherited})")
            }
        };
        for (name, using, listing) in row_cells(matrix, role) {
            let line = format!(
                "  {:<name_width$}  {use_action} {}  list {}",
                visible(name),
                painter.padded(using, 4),
                painter.padded(listing, 0)
            );
            out.push_str(line.trim_end());
            out.push('\n');
        }
    }
    out
}
