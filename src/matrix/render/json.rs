//! JSON: the header, the roles, the names and an array of cells.

use serde::Serialize;

use super::{row_cells, Header};
use crate::matrix::Matrix;

#[derive(Serialize)]
struct Document<'m> {
    policy: &'m str,
    sha256: Option<&'m str>,
    kind: &'static str,
    roles: Vec<Role<'m>>,
    names: &'m [String],
    cells: Vec<Cell<'m>>,
}

#[derive(Serialize)]
struct Role<'m> {
    name: &'m str,
    effective_roles: &'m [String],
}

#[derive(Serialize)]
struct Cell<'m> {
    role: &'m str,
    name: &'m str,
    action: &'static str,
    cell: &'static str,
    condition: Option<&'m str>,
    rules: &'m [String],
    exhaustive: bool,
}

/// One JSON object: `policy`, `sha256`, `kind`, `roles` (each with its effective roles),
/// `names` (the columns) and `cells`, each `{"role","name","action","cell","condition",
/// "rules","exhaustive"}` with `condition` null unless the cell is conditional.
pub fn json(matrix: &Matrix, header: &Header) -> String {
    let kind = matrix.kind.singular();
    let mut cells = Vec::with_capacity(matrix.cells.len());
    for (role, row) in matrix.roles.iter().enumerate() {
        for (name, using, listing) in row_cells(matrix, role) {
            for cell in [using, listing] {
                cells.push(Cell {
                    role: &row.name,
                    name,
                    action: cell.action.keyword(),
                    cell: cell.verdict.as_str(),
                    condition: Some(cell.condition.as_str()).filter(|text| !text.is_empty()),
                    rules: &cell.rules,
                    exhaustive: cell.exhaustive,
                });
            }
        }
    }
    let document = Document {
        policy: &header.policy,
        sha256: header.digest.as_deref(),
        kind,
        roles: matrix
            .roles
            .iter()
            .map(|row| Role {
                name: &row.name,
                effective_roles: &row.effective_roles,
            })
            .collect(),
        names: &matrix.names,
        cells,
    };
    serde_json::to_string_pretty(&document).unwrap_or_else(|_| "{}".to_string())
}
