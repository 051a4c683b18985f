//! A naive backtracking glob matcher for name patterns.
//!
//! The whole name must match. `*` matches any run of characters (also empty, also `.`
//! and `/`), `?` exactly one character, `\*` `\?` `\\` are literal, and a `\` before any
//! other character (or at the end) is a literal backslash. Case-sensitive; characters
//! are Unicode scalar values.

/// One element of a parsed pattern.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Token {
    /// `*`.
    AnyRun,
    /// `?`.
    AnyCharacter,
    /// Any other character, or an escaped one.
    Literal(char),
}

/// Whether `pattern` matches the whole of `name`.
pub fn matches(pattern: &str, name: &str) -> bool {
    let tokens = tokenize(pattern);
    let characters: Vec<char> = name.chars().collect();
    matches_tokens(&tokens, &characters)
}

/// Splits a pattern into tokens, resolving escapes.
fn tokenize(pattern: &str) -> Vec<Token> {
    let mut tokens = Vec::new();
    let mut characters = pattern.chars().peekable();
    while let Some(character) = characters.next() {
        let token = match character {
            '*' => Token::AnyRun,
            '?' => Token::AnyCharacter,
            '\\' => match characters.peek() {
                Some(&escaped @ ('*' | '?' | '\\')) => {
                    characters.next();
                    Token::Literal(escaped)
                }
                _ => Token::Literal('\\'),
            },
            other => Token::Literal(other),
        };
        tokens.push(token);
    }
    tokens
}

/// Backtracking match of `tokens` against all of `name`.
fn matches_tokens(tokens: &[Token], name: &[char]) -> bool {
    let Some((first, rest)) = tokens.split_first() else {
        return name.is_empty();
    };
    match first {
        Token::AnyRun => (0..=name.len()).any(|skipped| matches_tokens(rest, &name[skipped..])),
        Token::AnyCharacter => match name.split_first() {
            Some((_, remaining)) => matches_tokens(rest, remaining),
            None => false,
        },
        Token::Literal(expected) => match name.split_first() {
            Some((actual, remaining)) => actual == expected && matches_tokens(rest, remaining),
            None => false,
        },
    }
}

#[cfg(test)]
mod tests {
    use super::matches;

    #[test]
    fn literal_patterns_match_whole_names_only() {
        assert!(matches("exact", "exact"));
        assert!(!matches("exact", "exactly"));
        assert!(!matches("exact", "EXACT"));
        assert!(!matches("exact", "xexact"));
    }

    #[test]
    fn star_matches_any_run() {
        assert!(matches("*", ""));
        assert!(matches("*", "a.b/c"));
        assert!(matches("fs.*", "fs."));
        assert!(matches("fs.*", "fs.read/x.y"));
        assert!(!matches("fs.*", "fs"));
        assert!(matches("*_file", "read_file"));
        assert!(matches("pre*mid*suf", "premidsuf"));
        assert!(matches("pre*mid*suf", "pre-a-mid-b-suf"));
        assert!(!matches("pre*mid*suf", "presuf"));
        assert!(!matches("pre*mid*suf", "premidsufx"));
        assert!(matches("a*a*a", "aaa"));
        assert!(!matches("a*a*a", "aa"));
    }

    #[test]
    fn question_mark_matches_one_character() {
        assert!(matches("q?x", "qax"));
        assert!(matches("q?x", "q\u{e9}x"));
        assert!(!matches("q?x", "qx"));
        assert!(!matches("q?x", "qaax"));
        assert!(matches("???", "a.b"));
    }

    #[test]
    fn escapes_are_literal() {
        assert!(matches(r"lit\*star", "lit*star"));
        assert!(!matches(r"lit\*star", "litXstar"));
        assert!(matches(r"what\?", "what?"));
        assert!(!matches(r"what\?", "whatx"));
        assert!(matches(r"a\\b", r"a\b"));
        assert!(!matches(r"a\\b", r"a\\b"));
        assert!(matches(r"a\b", r"a\b"));
        assert!(matches(r"a\\*", r"a\anything"));
        assert!(matches(r"\**", "*x"));
        assert!(!matches(r"\**", "x*"));
    }
}
