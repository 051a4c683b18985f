//! CSV (RFC 4180): a header line, then one line per cell.

use super::row_cells;
use crate::matrix::Matrix;

/// `role,tool,action,cell,condition`, then one line per cell (RFC 4180 quoting; lines
/// end with a line feed). The second column is named after the matrix's kind (`tool`,
/// `resource`, `prompt`).
pub fn csv(matrix: &Matrix) -> String {
    let kind = matrix.kind.singular();
    let mut out = format!("role,{kind},action,cell,condition\n");
    for (role, row) in matrix.roles.iter().enumerate() {
        for (name, using, listing) in row_cells(matrix, role) {
            for cell in [using, listing] {
                let fields = [
                    row.name.as_str(),
                    name,
                    cell.action.keyword(),
                    cell.verdict.as_str(),
                    cell.condition.as_str(),
                ];
                let quoted: Vec<String> = fields.iter().map(|field| quote(field)).collect();
                out.push_str(&quoted.join(","));
                out.push('\n');
            }
        }
    }
    out
}

/// The field, in double quotes (inner quotes doubled) when it holds a comma, a quote,
/// a line break or leading or trailing space.
fn quote(field: &str) -> String {
    let needs_quotes =
        field.contains([',', '"', '\n', '\r']) || field.starts_with(' ') || field.ends_with(' ');
    if needs_quotes {
        format!("\"{}\"", field.replace('"', "\"\""))
    } else {
        field.to_string()
    }
}
