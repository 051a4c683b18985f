//! The dotted key at a place in a TOML document, to name it in errors.

use std::ops::Range;

use toml::de::{DeTable, DeValue};

/// The dotted path of the innermost key whose name or value covers byte `offset`;
/// empty when none does (or the text does not parse). Every table is searched, since a
/// `[table]` header's span need not cover the keys under it.
pub(crate) fn key_at(text: &str, offset: usize) -> String {
    let Ok(document) = DeTable::parse(text) else {
        return String::new();
    };
    let mut best: Vec<String> = Vec::new();
    walk(document.get_ref(), offset, &mut Vec::new(), &mut best);
    best.join(".")
}

fn covers(span: &Range<usize>, offset: usize) -> bool {
    span.start <= offset && offset < span.end.max(span.start.saturating_add(1))
}

fn walk(table: &DeTable<'_>, offset: usize, path: &mut Vec<String>, best: &mut Vec<String>) {
    for (key, value) in table.iter() {
        path.push(key.get_ref().to_string());
        let hit = covers(&key.span(), offset) || covers(&value.span(), offset);
        if hit && path.len() > best.len() {
            *best = path.clone();
        }
        if let DeValue::Table(inner) = value.get_ref() {
            walk(inner, offset, path, best);
        }
        path.pop();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_found_in_tables() {
        let text = "listen = 1\n[jwt]\nissuer = \"x\"\nalgorithms = \"RS256\"\n";
        let offset = text.find("\"RS256\"").unwrap_or(0);
        assert_eq!(key_at(text, offset), "jwt.algorithms");
        assert_eq!(key_at(text, 1), "listen");
    }
}
