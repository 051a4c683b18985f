//! The nesting check that keeps deep conditions away from the recursive grammar.
//!
//! Parentheses and `not` nest conditions, and the grammar (like any recursive-descent
//! parser) uses stack for each level. Before a statement goes to the grammar, this
//! check walks the tokens the grammar could read for it and finds the first `(` or
//! `not` that opens a level beyond [`MAX_NESTING`].

use super::lexer::{Lexer, Token, TokenKind, STATEMENT_KEYWORDS};

/// The deepest nesting of `(` and `not` a condition may have.
pub(super) const MAX_NESTING: usize = 64;

/// The first token of the statement starting at `start` that nests its condition deeper
/// than [`MAX_NESTING`], if any.
pub(super) fn too_deep(text: &str, start: usize) -> Option<Token<'_>> {
    let mut depth = Depth::default();
    let mut previous: Option<Token<'_>> = None;
    for token in Lexer::new(text, start).skip(1) {
        if depth.ends_statement(&token, previous.as_ref()) {
            return None;
        }
        if depth.step(&token) {
            return Some(token);
        }
        previous = Some(token);
    }
    None
}

/// How deep a condition is nested at some token.
#[derive(Debug, Default)]
struct Depth {
    /// Whether `if` or `unless` has been seen: only conditions nest.
    in_condition: bool,
    /// For each open parenthesis, the `not`s waiting for it to close.
    open_groups: Vec<usize>,
    /// The `not`s waiting for their operand at the current level.
    pending_nots: usize,
    /// Open parentheses plus every waiting `not`.
    level: usize,
}

impl Depth {
    /// Whether the grammar cannot read `token` as part of this statement, so the
    /// statement ends before it at the latest.
    fn ends_statement(&self, token: &Token<'_>, previous: Option<&Token<'_>>) -> bool {
        let is_keyword = |word: &str| token.is_word(word);
        if token.is_word("role") || token.is_word("scope") {
            return !self.in_condition || (self.level == 0 && !continues(previous));
        }
        if token.kind == TokenKind::Symbol && token.text == ")" {
            return self.in_condition && self.open_groups.is_empty();
        }
        STATEMENT_KEYWORDS.into_iter().any(is_keyword)
    }

    /// Moves past `token`; true when it nests deeper than allowed.
    fn step(&mut self, token: &Token<'_>) -> bool {
        if token.is_word("if") || token.is_word("unless") {
            self.in_condition = true;
            return false;
        }
        if !self.in_condition {
            return false;
        }
        if token.is_word("not") {
            self.pending_nots += 1;
            self.level += 1;
        } else if token.kind == TokenKind::Symbol && token.text == "(" {
            self.open_groups.push(self.pending_nots);
            self.pending_nots = 0;
            self.level += 1;
        } else if token.kind == TokenKind::Symbol && token.text == ")" {
            let waiting = self.open_groups.pop().unwrap_or(0);
            self.level = self.level.saturating_sub(1 + waiting + self.pending_nots);
            self.pending_nots = 0;
        } else {
            self.level = self.level.saturating_sub(self.pending_nots);
            self.pending_nots = 0;
        }
        self.level > MAX_NESTING
    }
}

/// Whether a condition goes on after `previous` (so a `role` or `scope` atom may follow).
fn continues(previous: Option<&Token<'_>>) -> bool {
    previous.is_some_and(|token| {
        ["and", "or", "not", "if", "unless"]
            .into_iter()
            .any(|word| token.is_word(word))
            || (token.kind == TokenKind::Symbol && token.text == "(")
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn deep(text: &str) -> Option<usize> {
        too_deep(text, 0).map(|token| token.start)
    }

    #[test]
    fn counts_parentheses_and_nots() {
        let allowed = format!("allow a to call tools \"x\" if {}true", "(".repeat(64));
        assert_eq!(deep(&allowed), None);
        let nots = format!("allow a to call tools \"x\" if {}true", "not ".repeat(64));
        assert_eq!(deep(&nots), None);
        let mixed = format!("allow a to call tools \"x\" if {}true", "not (".repeat(33));
        assert_eq!(deep(&mixed), Some(29 + 32 * 5));
    }

    #[test]
    fn closed_levels_do_not_add_up() {
        let flat = format!(
            "deny a to call tools \"x\" if {}true",
            "(not true) and ".repeat(200)
        );
        assert_eq!(deep(&flat), None);
        let nots = format!(
            "deny a to call tools \"x\" if {}true",
            "not true or ".repeat(200)
        );
        assert_eq!(deep(&nots), None);
    }

    #[test]
    fn stops_at_the_next_statement() {
        let text = format!("role a\nallow a to call tools \"x\" if {}", "(".repeat(70));
        assert_eq!(deep(&text), None);
        assert!(too_deep(&text, 7).is_some());
        let after_atom = format!(
            "deny a to call tools \"x\" if role a\nrole b {}",
            "(".repeat(70)
        );
        assert_eq!(deep(&after_atom), None);
        let continued = format!(
            "deny a to call tools \"x\" if role a and\nrole b and {}",
            "(".repeat(70)
        );
        assert!(deep(&continued).is_some());
    }

    #[test]
    fn strings_and_comments_do_not_nest() {
        let text = format!(
            "allow a to call tools \"x\" if claim \"{}\" exists # {}",
            "(".repeat(100),
            "(".repeat(100)
        );
        assert_eq!(deep(&text), None);
    }
}
