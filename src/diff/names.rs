//! The columns of a diff: names given, or derived from both policies' patterns.

use crate::ast::Kind;
use crate::check::CheckedPolicy;
use crate::glob::{Glob, Shape};

use super::Name;

/// Fillers tried for a `*` in a pattern's representative name, in order.
const FILLERS: [&str; 3] = ["example", "x", ""];

/// The literal names of `kind` the policies' patterns name, and one representative name
/// per other pattern, in policy order (old first), each once.
pub(crate) fn derived(policies: [&CheckedPolicy; 2], kind: Kind) -> Vec<Name> {
    let globs: Vec<&Glob> = policies
        .iter()
        .flat_map(|policy| &policy.statements)
        .filter(|statement| statement.kind == kind)
        .flat_map(|statement| statement.patterns.iter().map(|(glob, _)| glob))
        .collect();
    let mut names: Vec<Name> = Vec::new();
    for glob in &globs {
        if let Shape::Literal(name) = glob.shape() {
            if !names.iter().any(|known| known.name == name) {
                names.push(Name {
                    name,
                    pattern: None,
                });
            }
        }
    }
    for glob in &globs {
        if matches!(glob.shape(), Shape::Literal(_)) {
            continue;
        }
        let pattern = glob.as_str();
        if names
            .iter()
            .any(|known| known.pattern.as_deref() == Some(pattern))
        {
            continue;
        }
        if let Some(name) = representative(glob, &names) {
            names.push(Name {
                name,
                pattern: Some(pattern.to_string()),
            });
        }
    }
    names
}

/// A name `glob` matches that is not among `taken`: each `*` filled with a word, each
/// `?` with `x`, escapes resolved.
fn representative(glob: &Glob, taken: &[Name]) -> Option<String> {
    let candidates = FILLERS
        .iter()
        .map(|filler| fill_glob(glob.as_str(), filler));
    let matching: Vec<String> = candidates.filter(|name| glob.is_match(name)).collect();
    matching
        .iter()
        .find(|name| !taken.iter().any(|known| &known.name == *name))
        .or_else(|| matching.first())
        .cloned()
}

/// The pattern's text with `*` replaced by `filler`, `?` by `x`, and `\c` by `c`.
pub(crate) fn fill_glob(pattern: &str, filler: &str) -> String {
    let mut name = String::new();
    let mut characters = pattern.chars();
    while let Some(character) = characters.next() {
        match character {
            '\\' => name.extend(characters.next()),
            '*' => name.push_str(filler),
            '?' => name.push('x'),
            other => name.push(other),
        }
    }
    name
}

#[cfg(test)]
mod tests {
    use super::fill_glob;

    #[test]
    fn patterns_are_filled() {
        assert_eq!(fill_glob("fs.*", "example"), "fs.example");
        assert_eq!(fill_glob("a?b\\*c", "x"), "axb*c");
        assert_eq!(fill_glob("*", ""), "");
    }
}
