//! How far a statement can reach, and how deep its condition nests.
//!
//! Before a statement goes to the grammar, [`scan`] walks the tokens the grammar could
//! read for it, up to the first token no statement can continue with (the next
//! statement's keyword, an unmatched `)`). That bounds the text handed to pest, so a
//! syntax error costs time in proportion to its statement rather than to the rest of
//! the file. On the way it finds the first `(` or `not` that nests a condition deeper
//! than the limit ([`crate::limits::Limits::condition_depth`], at most 64): the grammar, like any recursive-descent parser, uses stack for
//! each level, so such a statement never reaches it.

use super::lexer::{Lexer, Token, TokenKind, STATEMENT_KEYWORDS};

/// What [`scan`] found about the statement starting at some offset.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Extent<'text> {
    /// The first token that nests the condition deeper than the limit, if any.
    pub too_deep: Option<Token<'text>>,
    /// Where the text the grammar may look at ends: one character past the first token
    /// the statement cannot take in (or the end of the file).
    pub end: usize,
}

/// Scans the statement starting at `start` (see the module docs); a condition may nest
/// `max_depth` levels.
pub(super) fn scan(text: &str, start: usize, max_depth: usize) -> Extent<'_> {
    let mut depth = Depth {
        max_depth,
        ..Depth::default()
    };
    let mut tokens = Lexer::new(text, start);
    let mut previous = tokens.next();
    for token in tokens {
        if depth.ends_statement(&token, previous.as_ref()) {
            return Extent {
                too_deep: None,
                end: past_next_char(text, token.end),
            };
        }
        if depth.step(&token) {
            return Extent {
                too_deep: Some(token),
                end: text.len(),
            };
        }
        previous = Some(token);
    }
    Extent {
        too_deep: None,
        end: text.len(),
    }
}

/// The offset just past the character at `offset` (the grammar reads one character
/// past the next statement's keyword, to see that the keyword is a whole word).
fn past_next_char(text: &str, offset: usize) -> usize {
    let next = text.get(offset..).and_then(|rest| rest.chars().next());
    offset + next.map_or(0, char::len_utf8)
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
    /// The deepest level allowed.
    max_depth: usize,
}

impl Depth {
    /// Whether the grammar cannot read `token` as part of this statement, so the
    /// statement ends before it at the latest.
    fn ends_statement(&self, token: &Token<'_>, previous: Option<&Token<'_>>) -> bool {
        let is_keyword = |word: &str| token.is_word(word);
        if token.is_word("scope") && previous.is_some_and(|word| word.is_word("require")) {
            return false;
        }
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
        self.level > self.max_depth
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
        scan(text, 0, 64).too_deep.map(|token| token.start)
    }

    fn end(text: &str) -> usize {
        scan(text, 0, 64).end
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
        assert!(scan(&text, 7, 64).too_deep.is_some());
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
    fn ends_just_past_the_next_statement_keyword() {
        assert_eq!(end("role a\nrole b inherits c\nrole d"), 12);
        assert_eq!(end("role a inherits b"), 17);
        assert_eq!(end("require\nscope \"x\" to call tools \"y\"\nallow x"), 42);
        assert_eq!(
            end("allow a to call tools \"x\" if role a and\nrole b\nrole c"),
            52
        );
        assert_eq!(end("allow a to call tools \"x\" if (true))\nx\nrole c"), 37);
        assert_eq!(end("scope \"role\" # role\nscope \"x\""), 26);
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
