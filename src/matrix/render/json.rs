//! JSON: the header, the roles, the names and an array of cells.

use std::collections::BTreeMap;

use serde::Serialize;

use super::{row_cells, Header};
use crate::matrix::Matrix;

#[derive(Serialize)]
struct Document<'m> {
    policy: &'m str,
    sha256: Option<&'m str>,
    kind: &'static str,
    roles: Vec<Role<'m>>,
    /// `tools` (the kind's plural): the names.
    #[serde(flatten)]
    names: BTreeMap<&'static str, &'m [String]>,
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
    /// `tool` (the kind's singular): the name.
    #[serde(flatten)]
    name: BTreeMap<&'static str, &'m str>,
    action: &'static str,
    cell: &'static str,
    condition: Option<&'m str>,
    rules: &'m [String],
    exhaustive: bool,
}

/// One JSON object: `policy`, `sha256`, `kind`, `roles` (each with its effective roles),
/// the names under the kind's plural (`tools`) and `cells`, each
/// `{"role", "tool", "action", "cell", "condition", "rules", "exhaustive"}` (the second
/// key is the kind's singular) with `condition` null unless the cell is conditional.
pub fn json(matrix: &Matrix, header: &Header) -> String {
    let singular = matrix.kind.singular();
    let mut cells = Vec::with_capacity(matrix.cells.len());
    for (role, row) in matrix.roles.iter().enumerate() {
        for (name, using, listing) in row_cells(matrix, role) {
            for cell in [using, listing] {
                cells.push(Cell {
                    role: &row.name,
                    name: BTreeMap::from([(singular, name)]),
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
        kind: singular,
        roles: matrix
            .roles
            .iter()
            .map(|row| Role {
                name: &row.name,
                effective_roles: &row.effective_roles,
            })
            .collect(),
        names: BTreeMap::from([(matrix.kind.plural(), matrix.names.as_slice())]),
        cells,
    };
    serde_json::to_string_pretty(&document).unwrap_or_else(|_| "{}".to_string())
}
