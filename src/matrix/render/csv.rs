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

/// The characters a spreadsheet reads, at the start of a cell, as the start of a
/// formula (OWASP's CSV injection list: `=`, `+`, `-`, `@`, tab and carriage return).
const FORMULA_STARTS: [char; 6] = ['=', '+', '-', '@', '\t', '\r'];

/// The field as one RFC 4180 cell that no spreadsheet runs as a formula.
///
/// A field starting with one of [`FORMULA_STARTS`] (tool names come from a server's
/// `tools/list`, possibly a third party's) is neutralised as OWASP advises: a single
/// quote `'` put before it and the whole cell in double quotes, so `=HYPERLINK(...)`
/// is written `"'=HYPERLINK(...)"` and shown as text. Otherwise the field is in double
/// quotes when it holds a comma, a semicolon (the separator of some locales), a quote,
/// a line break or leading or trailing space. Inner quotes are doubled either way.
fn quote(field: &str) -> String {
    let escaped = || field.replace('"', "\"\"");
    if field.starts_with(FORMULA_STARTS) {
        return format!("\"'{}\"", escaped());
    }
    let needs_quotes = field.contains([',', ';', '"', '\n', '\r'])
        || field.starts_with(' ')
        || field.ends_with(' ');
    if needs_quotes {
        format!("\"{}\"", escaped())
    } else {
        field.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::quote;

    #[test]
    fn formula_starts_are_neutralised() {
        assert_eq!(
            quote("=HYPERLINK(\"http://x\",\"y\")"),
            "\"'=HYPERLINK(\"\"http://x\"\",\"\"y\"\")\""
        );
        for field in ["+1", "-1", "@SUM(A1)", "\tx", "\rx"] {
            assert_eq!(quote(field), format!("\"'{field}\""));
        }
    }

    #[test]
    fn other_fields_follow_rfc_4180() {
        assert_eq!(quote("fs.read"), "fs.read");
        assert_eq!(quote("a,b"), "\"a,b\"");
        assert_eq!(quote("a;=1"), "\"a;=1\"");
        assert_eq!(quote("a\"b"), "\"a\"\"b\"");
        assert_eq!(quote("a\nb"), "\"a\nb\"");
        assert_eq!(quote(" a"), "\" a\"");
    }
}
