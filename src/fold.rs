//! Unicode simple case folding, the one way toolgate compares names "without regard to
//! case": the gate's member-name checks and the spellings of denied names
//! ([`crate::Engine::deny_spelled_like`]).

use std::borrow::Cow;

/// A name with Unicode simple case folding applied, character by character:
/// `Name` and `NAME` give `name`, `ſ` gives `s`, the Kelvin sign gives `k`. Names
/// that are already folded (all lowercase ASCII, the usual case) are borrowed.
pub(crate) fn fold(name: &str) -> Cow<'_, str> {
    if name
        .bytes()
        .all(|byte| byte.is_ascii() && !byte.is_ascii_uppercase())
    {
        return Cow::Borrowed(name);
    }
    Cow::Owned(name.chars().map(fold_char).collect())
}

/// One character's simple case fold: the lowercase of its uppercase, where both are one
/// character (so every member of a case orbit, such as `k`, `K` and the Kelvin sign,
/// folds to one character).
fn fold_char(character: char) -> char {
    if character.is_ascii() {
        return character.to_ascii_lowercase();
    }
    let upper = only(character.to_uppercase()).unwrap_or(character);
    only(upper.to_lowercase())
        .or_else(|| only(character.to_lowercase()))
        .unwrap_or(character)
}

/// The one character of a case mapping, if it maps to exactly one.
fn only(mut characters: impl Iterator<Item = char>) -> Option<char> {
    let first = characters.next()?;
    characters.next().is_none().then_some(first)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn folding_joins_every_member_of_a_case_orbit() {
        assert_eq!(fold("Name"), "name");
        assert_eq!(fold("PARAMS"), "params");
        assert_eq!(fold("param\u{17F}"), "params");
        assert_eq!(fold("\u{212A}ind"), "kind");
        assert_eq!(fold("\u{3A3}\u{3C2}"), "\u{3C3}\u{3C3}");
        assert_eq!(fold("stra\u{DF}e"), "stra\u{DF}e");
        assert_eq!(fold("\u{1E9E}"), "\u{DF}");
        assert!(matches!(fold("already_folded"), Cow::Borrowed(_)));
    }
}
