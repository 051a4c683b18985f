//! The matrix for people and programs: a text grid, CSV, JSON and one HTML page.

mod csv;
mod html;
mod human;
mod json;

pub use csv::csv;
pub use html::html;
pub use human::{human, HumanConfig};
pub use json::json;

use super::{Cell, Matrix, Verdict};

/// What the renderings say about where the matrix comes from.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Header {
    /// The policy path as given.
    pub policy: String,
    /// The SHA-256 of the policy's text (its files concatenated in policy order), in
    /// hexadecimal.
    pub digest: Option<String>,
}

/// The distinct conditions of the conditional cells, numbered from 1 in cell order.
struct Conditions<'m> {
    texts: Vec<&'m str>,
}

impl<'m> Conditions<'m> {
    fn of(matrix: &'m Matrix) -> Conditions<'m> {
        let mut texts: Vec<&str> = Vec::new();
        for cell in &matrix.cells {
            if cell.verdict == Verdict::Conditional && !texts.contains(&cell.condition.as_str()) {
                texts.push(&cell.condition);
            }
        }
        Conditions { texts }
    }

    /// The number of a cell's condition (conditional cells only).
    fn number(&self, cell: &Cell) -> Option<usize> {
        if cell.verdict != Verdict::Conditional {
            return None;
        }
        self.texts
            .iter()
            .position(|text| *text == cell.condition)
            .map(|index| index + 1)
    }
}

/// The cells of a row: per name, the use action's cell and `list`'s.
fn row_cells(matrix: &Matrix, role: usize) -> impl Iterator<Item = (&str, &Cell, &Cell)> {
    let names = matrix.names.len();
    let cells = matrix.cells.get(role * names * 2..(role + 1) * names * 2);
    let pairs = cells.unwrap_or(&[]).chunks_exact(2);
    matrix
        .names
        .iter()
        .zip(pairs)
        .filter_map(|(name, pair)| match pair {
            [using, listing] => Some((name.as_str(), using, listing)),
            _ => None,
        })
}
